/// Subscription-filter payloads: `{"messageType":"DATA_MESSAGE","logGroup":…,"logStream":…,
/// "logEvents":[{"id","timestamp","message"}]}`, one per file, concatenated without separators
/// (Firehose to S3), or wrapped in the `{"awslogs":{"data":"<base64 gzip>"}}` event a subscribed
/// Lambda receives. `CONTROL_MESSAGE` payloads are CloudWatch's reachability probes: skipped.
struct SubscriptionDecoder: EnvelopeDecoder {
  let input: Int
  let inputName: String
  private var splitter: JSONRecordSplitter
  private var message: [UInt8] = []
  private var record = 0
  private let maxRecordBytes: Int
  /// A payload inflates to at most ~1 MB in practice (CloudWatch batches); this bound only stops a bomb.
  private let maxInflated: Int
  /// True inside an `awslogs.data` payload: another `awslogs` there is not CloudWatch's shape, and
  /// following it would let a crafted input nest without end.
  private var isWrapped = false

  init(input: Int, inputName: String, maxRecordBytes: Int = ReaderLimits().maxRecordBytes,
    maxInflated: Int = ReaderLimits().maxInflatedPayload)
  {
    self.input = input
    self.inputName = inputName
    self.maxRecordBytes = maxRecordBytes
    self.maxInflated = maxInflated
    splitter = JSONRecordSplitter(depthInObject: 1, depthInArray: 1, maxRecordBytes: maxRecordBytes)
  }

  mutating func feed<S: EventSink>(_ chunk: UnsafeRawBufferPointer, into sink: inout S) {
    var s = splitter  // a local: the closure below mutates self
    s.records(in: chunk, inputName: inputName, what: "subscription payload", into: &sink) { bytes, line, sink in
      decodePayload(bytes, line: line, &sink)
    }
    splitter = s
  }

  mutating func finish<S: EventSink>(into sink: inout S) {
    JSONEnvelopeChecks.finish(splitter, inputName: inputName, what: "payload", into: &sink)
  }

  private mutating func decodePayload<S: EventSink>(_ payload: UnsafeRawBufferPointer, line: Int, _ sink: inout S) {
    var group: String?
    var stream: String?
    var messageType: String?
    var logEvents: UnsafeRawBufferPointer?
    var wrapped: UnsafeRawBufferPointer?
    let wellFormed = JSONReader.forEachMember(payload) { key, value in
      if JSONReader.equals(key, "logGroup") { group = JSONReader.string(value) }
      else if JSONReader.equals(key, "logStream") { stream = JSONReader.string(value) }
      else if JSONReader.equals(key, "messageType") { messageType = JSONReader.string(value) }
      else if JSONReader.equals(key, "logEvents"), value.kind == .array { logEvents = value.bytes }
      else if JSONReader.equals(key, "awslogs"), value.kind == .object {
        JSONReader.forEachMember(value.bytes) { k, v in
          if JSONReader.equals(k, "data"), v.kind == .string { wrapped = v.bytes }
          return true
        }
      }
      return true
    }
    guard wellFormed else {
      sink.report(Diagnostic(input: inputName, line: line, record: record + 1, severity: .error,
        message: "malformed subscription payload; skipped"))
      return
    }
    if let wrapped {
      guard !isWrapped else {
        sink.report(Diagnostic(input: inputName, line: line, record: record + 1, severity: .error,
          message: "awslogs.data inside awslogs.data (not a CloudWatch payload); skipped"))
        return
      }
      decodeWrapped(wrapped, line: line, &sink)
      return
    }
    if messageType == "CONTROL_MESSAGE" { return }
    guard let logEvents else {
      sink.report(Diagnostic(input: inputName, line: line, record: record + 1, severity: .error,
        message: "payload without logEvents (messageType \(messageType ?? "missing")); skipped"))
      return
    }
    let complete = JSONReader.forEachElement(logEvents) { element in
      record += 1
      var timestamp: EpochMillis?
      var hasMessage = false
      var eventId: UnsafeRawBufferPointer?
      message.removeAll(keepingCapacity: true)
      JSONReader.forEachMember(element.bytes) { key, value in
        if JSONReader.equals(key, "message"), value.kind == .string {
          Bytes.appendJSONUnescaped(value.bytes, to: &message)
          hasMessage = true
        } else if JSONReader.equals(key, "timestamp") {
          timestamp = Timestamp.parseEpoch(value.bytes)
        } else if JSONReader.equals(key, "id"), value.kind == .string {
          eventId = value.bytes
        }
        return true
      }
      guard let timestamp, hasMessage else {
        sink.report(Diagnostic(input: inputName, record: record, severity: .error,
          message: "log event without timestamp or message; skipped"))
        return true
      }
      message.withUnsafeBytes { bytes in
        sink.accept(RawEvent(timestamp: timestamp, hasOwnTime: true, group: group, stream: stream,
          message: Bytes.trimmedEnd(bytes), origin: Origin(input: input, record: record), eventId: eventId))
      }
      return true
    }
    if !complete {
      sink.report(Diagnostic(input: inputName, line: line, record: record + 1, severity: .error,
        message: "malformed logEvents array; the events after record \(record) in this payload were lost"))
    }
  }

  /// `{"awslogs":{"data":"…"}}`: base64 of a gzipped payload, inflated chunk by chunk into a
  /// decoder of its own, so it is never held inflated (a bomb stops at `maxInflated`).
  private mutating func decodeWrapped<S: EventSink>(_ data: UnsafeRawBufferPointer, line: Int, _ sink: inout S) {
    guard let compressed = Base64.decode(data) else {
      sink.report(Diagnostic(input: inputName, line: line, severity: .error,
        message: "awslogs.data is not valid base64; skipped"))
      return
    }
    var inner = SubscriptionDecoder(input: input, inputName: inputName, maxRecordBytes: maxRecordBytes,
      maxInflated: maxInflated)
    inner.record = record
    inner.isWrapped = true
    // Lines inside the inflated data mean nothing to the reader: problems there name this line.
    // (Through a pointer: a copy of the sink would copy its correlation state on every write.)
    let name = inputName
    let limit = maxInflated
    withUnsafeMutablePointer(to: &sink) { pointer in
      var relabeling = LineRelabelingSink(base: pointer, line: line)
      if let problem = Inflate.stream(compressed, limit: limit, { chunk in inner.feed(chunk, into: &relabeling) }) {
        // The cut explains a payload left open: one diagnostic, not two.
        relabeling.report(Diagnostic(input: name, line: line, severity: .error, message: "awslogs.data: \(problem)"))
      } else {
        inner.finish(into: &relabeling)
      }
    }
    record = inner.record
  }
}

/// Passes events through to the sink it points at and gives every diagnostic the line of the
/// record they came from.
private struct LineRelabelingSink<Base: EventSink>: EventSink {
  let base: UnsafeMutablePointer<Base>
  let line: Int

  mutating func accept(_ event: RawEvent) { base.pointee.accept(event) }

  mutating func report(_ diagnostic: Diagnostic) {
    var d = diagnostic
    d.line = line
    base.pointee.report(d)
  }
}

enum Base64 {
  private static let table: [UInt8] = {
    var t = [UInt8](repeating: 0xFF, count: 256)
    for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
      t[Int(c)] = UInt8(i)
    }
    t[Int(UInt8(ascii: "-"))] = 62  // URL-safe alphabet too
    t[Int(UInt8(ascii: "_"))] = 63
    return t
  }()

  static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
    var out: [UInt8] = []
    out.reserveCapacity(text.count * 3 / 4)
    var acc: UInt32 = 0
    var bits = 0
    for c in text {
      if c == UInt8(ascii: "=") { break }
      if c == Bytes.backslash || c == Bytes.newline || c == Bytes.carriageReturn { continue }  // `\/`, wrapped lines
      let v = table[Int(c)]
      guard v != 0xFF else { return nil }
      acc = acc << 6 | UInt32(v)
      bits += 6
      if bits >= 8 {
        bits -= 8
        out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
      }
    }
    return out
  }
}

/// Inflates a gzip buffer (a subscription payload) chunk by chunk, stopping at `limit` bytes.
enum Inflate {
  /// Calls `body` with each inflated chunk; returns the problem that stopped it, if any.
  static func stream(
    _ compressed: [UInt8], limit: Int, _ body: (UnsafeRawBufferPointer) -> Void
  ) -> String? {
    guard !compressed.isEmpty else { return "empty gzip data" }
    let inflater = Inflater()
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    defer { chunk.deallocate() }
    var total = 0
    return compressed.withUnsafeBytes { input -> String? in
      inflater.setInput(input)
      while true {
        // Never more than the limit allows: the bytes past it are not even inflated.
        let room = min(chunk.count, limit - total)
        guard room > 0 else { return "inflates to more than \(limit / (1024 * 1024)) MiB (a gzip bomb?); cut there" }
        let (n, step) = inflater.inflate(into: UnsafeMutableRawBufferPointer(rebasing: chunk[0..<room]))
        total += n
        if n > 0 { body(UnsafeRawBufferPointer(rebasing: chunk[0..<n])) }
        switch step {
        case .memberEnd:
          let rest = inflater.pendingInput
          if rest.isEmpty { return nil }
          // Another member follows, or trailing junk: only a gzip header starts a member.
          if rest.count < 2 || rest[0] != GzipSource.gzipMagic.0 || rest[1] != GzipSource.gzipMagic.1 {
            return "\(rest.count) bytes after the gzip data ignored"
          }
          inflater.startMember()
        case .more:
          // igzip stops short of a full output only when the input ran out inside a member.
          if n < room { return "gzip data truncated; the events before the cut were read" }
        case .corrupt(let reason):
          return "corrupt gzip data (\(reason))"
        }
      }
    }
  }
}
