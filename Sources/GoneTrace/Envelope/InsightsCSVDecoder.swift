/// The CSV the Logs Insights console exports: a header row naming the fields (`@timestamp`,
/// `@message`, `@logStream`, …, in the query's order), then RFC 4180 rows (`""` escapes a quote,
/// quoted fields may span lines).
struct InsightsCSVDecoder: EnvelopeDecoder {
  let input: Int
  let inputName: String
  private var columns: [String]?
  private var field: [UInt8] = []
  private var fields: [[UInt8]] = []
  private var inQuotes = false
  private var quotePending = false  // saw a quote inside quotes: either `""` or the closing one
  private var line = 1
  private var rowLine = 1
  private var timeColumn: Int?
  private var messageColumn: Int?
  private var streamColumn: Int?
  private var logColumn: Int?
  /// A row (all its fields) is buffered up to this many bytes; a longer one is skipped with a
  /// diagnostic, so memory stays bounded (a row of a million commas is a million fields).
  let maxRowBytes: Int
  private var rowBytes = 0
  private var rowOverflowed: Bool { rowBytes > maxRowBytes }

  init(input: Int, inputName: String, maxRowBytes: Int = ReaderLimits().maxLineBytes) {
    self.input = input
    self.inputName = inputName
    self.maxRowBytes = maxRowBytes
  }

  mutating func feed<S: EventSink>(_ chunk: UnsafeRawBufferPointer, into sink: inout S) {
    for b in chunk {
      if quotePending {
        quotePending = false
        if b == Bytes.quote {
          field.append(b)
          continue
        }
        inQuotes = false
      }
      if inQuotes {
        if b == Bytes.quote {
          quotePending = true
        } else {
          if b == Bytes.newline { line += 1 }
          rowBytes += 1
          if !rowOverflowed { field.append(b) }
        }
        continue
      }
      switch b {
      case Bytes.quote: inQuotes = true
      case UInt8(ascii: ","):
        rowBytes += 1
        if !rowOverflowed { fields.append(field) }
        field.removeAll(keepingCapacity: true)
      case Bytes.newline:
        endRow(&sink)
        line += 1
        rowLine = line
      case Bytes.carriageReturn: break
      default:
        rowBytes += 1
        if !rowOverflowed { field.append(b) }
      }
    }
  }

  mutating func finish<S: EventSink>(into sink: inout S) {
    if inQuotes && !quotePending {
      sink.report(Diagnostic(input: inputName, line: rowLine, severity: .error,
        message: "CSV ends inside a quoted field (file cut short?); the row there was lost"))
      return
    }
    if !field.isEmpty || !fields.isEmpty { endRow(&sink) }
  }

  private mutating func endRow<S: EventSink>(_ sink: inout S) {
    fields.append(field)
    field.removeAll(keepingCapacity: true)
    defer {
      fields.removeAll(keepingCapacity: fields.count < 4096)
      rowBytes = 0
    }
    if rowOverflowed {
      fields = []
      field = []
      sink.report(Diagnostic(input: inputName, line: rowLine, severity: .error,
        message: "CSV row longer than \(maxRowBytes / (1024 * 1024)) MiB; skipped"))
      return
    }
    if fields.count == 1, fields[0].isEmpty { return }  // blank line
    guard let columns else {
      let names = fields.map { String(decoding: $0, as: UTF8.self).trimmingSpaces }
      self.columns = names
      timeColumn = names.firstIndex(of: "@timestamp")
      messageColumn = names.firstIndex(of: "@message")
      streamColumn = names.firstIndex(of: "@logStream")
      logColumn = names.firstIndex(of: "@log")
      if timeColumn == nil || messageColumn == nil {
        sink.report(Diagnostic(input: inputName, line: rowLine, severity: .error,
          message: "CSV header lacks @timestamp or @message; no event can be read"))
      }
      return
    }
    guard let timeColumn, let messageColumn, fields.count == columns.count else {
      sink.report(Diagnostic(input: inputName, line: rowLine, severity: .error,
        message: "CSV row has \(fields.count) fields, header has \(columns.count); skipped"))
      return
    }
    guard let time = fields[timeColumn].withUnsafeBytes({ Timestamp.parseAny($0) }) else {
      sink.report(Diagnostic(input: inputName, line: rowLine, severity: .error,
        message: "unreadable @timestamp \"\(String(decoding: fields[timeColumn], as: UTF8.self))\"; row skipped"))
      return
    }
    let stream = streamColumn.map { String(decoding: fields[$0], as: UTF8.self) }
    let group = logColumn.map { col -> String in
      let s = String(decoding: fields[col], as: UTF8.self)
      return s.firstIndex(of: ":").map { String(s[s.index(after: $0)...]) } ?? s
    }
    let origin = Origin(input: input, line: rowLine)
    fields[messageColumn].withUnsafeBytes { bytes in
      sink.accept(RawEvent(timestamp: time, hasOwnTime: true, group: group, stream: stream,
        message: Bytes.trimmedEnd(bytes), origin: origin, eventId: nil))
    }
  }
}

extension String {
  var trimmingSpaces: String {
    var s = Substring(self)
    while let f = s.first, f == " " || f == "\u{FEFF}" { s = s.dropFirst() }
    while let l = s.last, l == " " { s = s.dropLast() }
    return String(s)
  }
}
