/// Turns the bytes of one input into events. One implementation per envelope; each takes
/// chunks at arbitrary boundaries and keeps what it needs across them.
protocol EnvelopeDecoder {
  mutating func feed<S: EventSink>(_ chunk: UnsafeRawBufferPointer, into sink: inout S)
  mutating func finish<S: EventSink>(into sink: inout S)
}

/// `aws logs filter-log-events` and `get-log-events` output: `{"events": [{…}, …], …}`, one page
/// or many appended (the CLI prints `NextToken` with `--max-items`, and users append the next
/// page with `>>`), or a bare array of events (`--query events`).
struct CLIJSONDecoder: EnvelopeDecoder {
  let input: Int
  let inputName: String
  private var splitter: JSONRecordSplitter
  private var message: [UInt8] = []
  private var streams = StreamNameTable()

  init(input: Int, inputName: String, maxRecordBytes: Int = ReaderLimits().maxRecordBytes) {
    self.input = input
    self.inputName = inputName
    splitter = JSONRecordSplitter(depthInObject: 3, depthInArray: 2, maxRecordBytes: maxRecordBytes)
  }

  mutating func feed<S: EventSink>(_ chunk: UnsafeRawBufferPointer, into sink: inout S) {
    var s = splitter  // a local: the closure below mutates self
    s.records(in: chunk, inputName: inputName, what: "event record", into: &sink) { bytes, line, sink in
      decode(bytes, line: line, &sink)
    }
    splitter = s
  }

  mutating func finish<S: EventSink>(into sink: inout S) {
    JSONEnvelopeChecks.finish(splitter, inputName: inputName, what: "event", into: &sink)
  }

  private mutating func decode<S: EventSink>(_ record: UnsafeRawBufferPointer, line: Int, _ sink: inout S) {
    var timestamp: EpochMillis?
    var hasMessage = false
    var stream: String?
    var eventId: UnsafeRawBufferPointer?
    var groupName: String?
    var isStreamEntry = false
    message.removeAll(keepingCapacity: true)
    let wellFormed = JSONReader.forEachMember(record) { key, value in
      if JSONReader.equals(key, "message"), value.kind == .string {
        Bytes.appendJSONUnescaped(value.bytes, to: &message)
        hasMessage = true
      } else if JSONReader.equals(key, "timestamp") {
        timestamp = Timestamp.parseEpoch(value.bytes)
      } else if JSONReader.equals(key, "logStreamName"), value.kind == .string {
        stream = streams.name(value.bytes)
      } else if JSONReader.equals(key, "eventId"), value.kind == .string {
        eventId = value.bytes
      } else if JSONReader.equals(key, "logGroupName"), value.kind == .string {
        groupName = JSONReader.string(value)
      } else if JSONReader.equals(key, "searchedCompletely") {
        isStreamEntry = true
      }
      return true
    }
    guard wellFormed else {
      sink.report(Diagnostic(input: inputName, line: line, severity: .error,
        message: "malformed event record; skipped"))
      return
    }
    // `searchedLogStreams` entries sit at the same depth and carry no message: metadata, not events.
    // Anything else without a message and a time is not an event of any shape we know: say so.
    guard hasMessage || timestamp != nil || isStreamEntry else {
      sink.report(Diagnostic(input: inputName, line: line, severity: .error,
        message: "record with neither \"timestamp\" nor \"message\" (not a log event); skipped"))
      return
    }
    guard hasMessage || timestamp != nil else { return }
    guard let timestamp, hasMessage else {
      sink.report(Diagnostic(input: inputName, line: line, severity: .error,
        message: hasMessage ? "event without a valid timestamp; skipped" : "event without a message; skipped"))
      return
    }
    message.withUnsafeBytes { bytes in
      sink.accept(RawEvent(timestamp: timestamp, hasOwnTime: true, group: groupName, stream: stream,
        message: Bytes.trimmedEnd(bytes), origin: Origin(input: input, line: line), eventId: eventId))
    }
  }
}

/// Problems every JSON envelope reports the same way at the end of an input.
enum JSONEnvelopeChecks {
  static func finish<S: EventSink>(
    _ splitter: JSONRecordSplitter, inputName: String, what: String, into sink: inout S
  ) {
    if splitter.isInsideValue {
      sink.report(Diagnostic(input: inputName, line: splitter.line, severity: .error,
        message: "JSON ends in the middle of a value (file cut short?); the \(what) being read there was lost"))
    }
    if splitter.strayBytes > 0 {
      sink.report(Diagnostic(input: inputName, line: splitter.firstStrayLine, severity: .error,
        message: "\(splitter.strayBytes) bytes outside any JSON value ignored"))
    }
  }
}

/// `aws logs get-query-results` output: rows of `{"field": …, "value": …}` cells.
struct InsightsJSONDecoder: EnvelopeDecoder {
  let input: Int
  let inputName: String
  private var splitter: JSONRecordSplitter
  private var message: [UInt8] = []
  private var streams = StreamNameTable()
  private var groups = StreamNameTable()

  init(input: Int, inputName: String, maxRecordBytes: Int = ReaderLimits().maxRecordBytes) {
    self.input = input
    self.inputName = inputName
    splitter = JSONRecordSplitter(depthInObject: 3, depthInArray: 2, maxRecordBytes: maxRecordBytes)
  }

  mutating func feed<S: EventSink>(_ chunk: UnsafeRawBufferPointer, into sink: inout S) {
    var s = splitter  // a local: the closure below mutates self
    s.records(in: chunk, inputName: inputName, what: "result row", into: &sink) { bytes, line, sink in
      decode(bytes, line: line, &sink)
    }
    splitter = s
  }

  mutating func finish<S: EventSink>(into sink: inout S) {
    JSONEnvelopeChecks.finish(splitter, inputName: inputName, what: "result row", into: &sink)
  }

  private mutating func decode<S: EventSink>(_ row: UnsafeRawBufferPointer, line: Int, _ sink: inout S) {
    var timestamp: EpochMillis?
    var hasMessage = false
    var stream: String?
    var group: String?
    message.removeAll(keepingCapacity: true)
    let wellFormed = JSONReader.forEachElement(row) { cell in
      guard cell.kind == .object else { return true }
      var field: UnsafeRawBufferPointer?
      var value: JSONValue?
      JSONReader.forEachMember(cell.bytes) { key, v in
        if JSONReader.equals(key, "field") { field = v.bytes } else if JSONReader.equals(key, "value") { value = v }
        return true
      }
      guard let field, let value else { return true }
      if JSONReader.equals(field, "@message") {
        Bytes.appendJSONUnescaped(value.bytes, to: &message)
        hasMessage = true
      } else if JSONReader.equals(field, "@timestamp") {
        // AWS prints `2024-05-19 06:10:35.743` (UTC); moto prints epoch milliseconds.
        timestamp = Timestamp.parseAny(value.bytes)
      } else if JSONReader.equals(field, "@logStream") {
        stream = streams.name(value.bytes)
      } else if JSONReader.equals(field, "@log") {
        // `123456789012:/aws/lambda/fn`: the group follows the account.
        let colon = Bytes.index(of: UInt8(ascii: ":"), in: value.bytes, from: 0, to: value.bytes.count)
        group = groups.name(UnsafeRawBufferPointer(rebasing: value.bytes[((colon ?? -1) + 1)...]))
      }
      return true
    }
    guard wellFormed else {
      sink.report(Diagnostic(input: inputName, line: line, severity: .error, message: "malformed result row; skipped"))
      return
    }
    guard hasMessage, let timestamp else {
      sink.report(Diagnostic(input: inputName, line: line, severity: .error,
        message: "result row without @timestamp and @message; skipped (include both fields in the query)"))
      return
    }
    message.withUnsafeBytes { bytes in
      sink.accept(RawEvent(timestamp: timestamp, hasOwnTime: true, group: group, stream: stream,
        message: Bytes.trimmedEnd(bytes), origin: Origin(input: input, line: line), eventId: nil))
    }
  }
}
