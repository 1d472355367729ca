/// Decodes line-shaped envelopes: raw lines, S3 export chunks and `aws logs tail` output.
///
/// With `continuationLines`, a line that does not start with a time belongs to the event before
/// it (an exported Lambda message ending in `\n` leaves a blank line; `tail --format json`
/// pretty-prints over several lines). Without it, every line is an event, and a line with no
/// time of its own takes the time of the event before it.
struct LineEventDecoder: EnvelopeDecoder {
  let input: Int
  let inputName: String
  let layout: LineLayout
  let defaultStream: String?
  private var lines: LineAssembler
  private var lastTime: EpochMillis = 0
  private var sawOwnTime = false
  private var reportedMissingTime = false

  // The event being assembled when continuation lines may follow. A view into the chunk being
  // fed while it is one line (most events: nothing is copied), owned bytes once a continuation
  // line joins it or the chunk ends (the next line may arrive after the buffer is reused).
  private var pending: [UInt8] = []
  private var pendingView: UnsafeRawBufferPointer?
  private var chunk: UnsafeRawBufferPointer?
  private var pendingLine = 0
  private var pendingTime: EpochMillis = 0
  private var pendingStream = EventStream.input
  private var hasPending = false
  private var streams = StreamNameTable()
  private var times = ISO8601LineTimes()
  /// Where the bytes fed start in the input file, when they are the file's own (a regular
  /// uncompressed file): events read from one line of a chunk then carry their `fileOffset`.
  private let fileBase: Int64?
  /// Bytes fed before the current chunk.
  private var fed: Int64 = 0
  /// The pending event's `fileOffset` (kept when its view is copied: the bytes are the same).
  private var pendingOffset: Int64?

  init(input: Int, inputName: String, layout: LineLayout, stream: String?, maxLineBytes: Int, fileBase: Int64? = nil) {
    self.input = input
    self.inputName = inputName
    self.layout = layout
    defaultStream = stream
    lines = LineAssembler(maxLineBytes: maxLineBytes)
    self.fileBase = fileBase
  }

  mutating func feed<S: EventSink>(_ chunk: UnsafeRawBufferPointer, into sink: inout S) {
    var assembler = lines  // a local, so the closure may mutate self without overlapping access
    self.chunk = chunk
    assembler.feed(chunk) { line, number, cut in handle(line, number, cut, &sink) }
    lines = assembler
    ownPending()
    self.chunk = nil
    fed += Int64(chunk.count)
  }

  /// Where `message` starts in the file, when it lies in the chunk being fed (a line carried
  /// over from the chunk before lives in the assembler's buffer: it has none).
  @inline(__always)
  private func fileOffset(of message: UnsafeRawBufferPointer) -> Int64? {
    guard let fileBase, isInChunk(message) else { return nil }
    return fileBase + fed + Int64(message.baseAddress! - chunk!.baseAddress!)
  }

  /// Whether `message` is a view into the chunk being fed.
  @inline(__always)
  private func isInChunk(_ message: UnsafeRawBufferPointer) -> Bool {
    guard let chunk, let base = message.baseAddress, let start = chunk.baseAddress else { return false }
    return base >= start && base + message.count <= start + chunk.count
  }

  /// Copies a pending event that is still a view: its bytes are about to be reused.
  private mutating func ownPending() {
    guard let view = pendingView else { return }
    pending.removeAll(keepingCapacity: true)
    pending.append(contentsOf: view)
    pendingView = nil
  }

  mutating func finish<S: EventSink>(into sink: inout S) {
    var assembler = lines
    assembler.finish { line, number, cut in handle(line, number, cut, &sink) }
    lines = assembler
    flushPending(into: &sink)
  }

  private mutating func handle<S: EventSink>(
    _ rawLine: UnsafeRawBufferPointer, _ number: Int, _ cut: Bool, _ sink: inout S
  ) {
    if cut {
      sink.report(Diagnostic(input: inputName, line: number, severity: .error,
        message: "line longer than \(lines.maxLineBytes / (1024 * 1024)) MiB; the rest of it was dropped"))
    }
    var line = rawLine
    if let last = line.last, last == Bytes.carriageReturn {  // CRLF files
      line = UnsafeRawBufferPointer(rebasing: line[0..<(line.count - 1)])
    }
    if let first = line.first, first == 0 { line = skipNUL(line, number, &sink) }
    let start = EnvelopeDetector.skipANSI(line, from: 0)
    let body = UnsafeRawBufferPointer(rebasing: line[start...])

    if let (time, used) = times.parse(body) {
      var after = EnvelopeDetector.skipANSI(body, from: used)
      if after < body.count, body[after] == Bytes.space {
        after += 1
        var stream = EventStream.input
        if layout.streamAfterTime {
          after = EnvelopeDetector.skipANSI(body, from: after)
          let end = Bytes.index(of: Bytes.space, in: body, from: after, to: body.count) ?? body.count
          var nameEnd = end
          // The stream name is coloured too: drop its closing escape.
          if let esc = Bytes.index(of: 0x1B, in: body, from: after, to: end) { nameEnd = esc }
          stream = .named(streams.name(UnsafeRawBufferPointer(rebasing: body[after..<nameEnd])))
          after = min(end + 1, body.count)
        }
        startEvent(time: time, stream: stream,
          message: UnsafeRawBufferPointer(rebasing: body[after...]), line: number, &sink)
        return
      }
      if after < body.count, body[after] == Bytes.tab {
        // A Lambda runtime line (`<time>\t<requestId>\tINFO\t…`) pasted without CloudWatch's own
        // time: the runtime's time is the event's, and the line is the whole message.
        startEvent(time: time, stream: .input, message: body, line: number, &sink)
        return
      }
    }
    if layout.continuationLines, hasPending {
      if LineEventDecoder.looksTimed(body) {
        sink.report(Diagnostic(input: inputName, line: number, severity: .warning,
          message: "time out of range or malformed (years 1970-9999 are read); line kept as part of the event before it"))
      }
      ownPending()
      if !pending.isEmpty { pending.append(Bytes.newline) }
      pending.append(contentsOf: line)
      pendingOffset = nil  // no longer one span of the file
      return
    }
    let embedded = embeddedTime(body)
    if embedded == nil, LineEventDecoder.looksTimed(body) {
      sink.report(Diagnostic(input: inputName, line: number, severity: .warning,
        message: "time out of range or malformed (years 1970-9999 are read); the line takes the time before it"))
    }
    if embedded == nil, !sawOwnTime, !reportedMissingTime {
      reportedMissingTime = true
      sink.report(Diagnostic(input: inputName, line: number, severity: .warning,
        message: "lines carry no time; events before the first timed line are placed at "
          + "1970-01-01 and the rest take the time of the line before them"))
    }
    startEvent(time: embedded ?? lastTime, stream: .input, message: body, line: number, &sink,
      ownTime: embedded != nil)
  }

  /// Lines read so far (the last line number handed out).
  var linesRead: Int { lines.lineNumber }

  /// Whether `handle` opens a new event with this line (a time, then a space or a tab): a line a
  /// reader may start at without changing what the lines after it decode to.
  static func opensEvent(_ rawLine: UnsafeRawBufferPointer) -> Bool { eventTime(rawLine) != nil }

  /// The time of the event `rawLine` opens, nil when it opens none.
  static func eventTime(_ rawLine: UnsafeRawBufferPointer) -> EpochMillis? {
    var line = rawLine
    if let last = line.last, last == Bytes.carriageReturn {
      line = UnsafeRawBufferPointer(rebasing: line[0..<(line.count - 1)])
    }
    let start = EnvelopeDetector.skipANSI(line, from: 0)
    let body = UnsafeRawBufferPointer(rebasing: line[start...])
    guard let (time, used) = Timestamp.parseISO8601(body) else { return nil }
    let after = EnvelopeDetector.skipANSI(body, from: used)
    return after < body.count && (body[after] == Bytes.space || body[after] == Bytes.tab) ? time : nil
  }

  /// A zero-filled block (a writer that crashed mid-file) before a line: skipped, with a warning,
  /// so the line after it still starts an event.
  private func skipNUL<S: EventSink>(_ line: UnsafeRawBufferPointer, _ number: Int, _ sink: inout S) -> UnsafeRawBufferPointer {
    var i = 0
    while i < line.count, line[i] == 0 { i += 1 }
    sink.report(Diagnostic(input: inputName, line: number, severity: .warning,
      message: "line starts with \(i) NUL bytes (a zero-filled block?); skipped them"))
    return UnsafeRawBufferPointer(rebasing: line[i...])
  }

  /// `dddd-dd-ddTdd:dd:dd`-shaped, whatever the values: a time that did not parse.
  static func looksTimed(_ b: UnsafeRawBufferPointer) -> Bool {
    guard b.count >= 19, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[13] == UInt8(ascii: ":"),
      b[16] == UInt8(ascii: ":")
    else { return false }
    for i in [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18] where !Bytes.isDigit(b[i]) { return false }
    return true
  }

  /// Times inside messages that have none in front: Python's `[LEVEL]\t<time>\t…` and the Lambda
  /// JSON log format's leading `"time"`/`"timestamp"` field.
  private func embeddedTime(_ b: UnsafeRawBufferPointer) -> EpochMillis? {
    if b.count > 30, b[0] == UInt8(ascii: "["),
      let close = Bytes.index(of: UInt8(ascii: "]"), in: b, from: 1, to: min(b.count, 12)),
      close + 1 < b.count, b[close + 1] == Bytes.tab
    {
      return Timestamp.parseISO8601(UnsafeRawBufferPointer(rebasing: b[(close + 2)...]))?.0
    }
    for key in LineEventDecoder.jsonTimeKeys {
      if key.withBuffer({ Bytes.hasPrefix(b, $0) }) {
        return Timestamp.parseISO8601(UnsafeRawBufferPointer(rebasing: b[key.bytes.count...]))?.0
      }
    }
    return nil
  }

  private static let jsonTimeKeys = [ByteLiteral("{\"time\":\""), ByteLiteral("{\"timestamp\":\"")]

  private mutating func startEvent<S: EventSink>(
    time: EpochMillis, stream: EventStream, message: UnsafeRawBufferPointer, line: Int,
    _ sink: inout S, ownTime: Bool = true
  ) {
    if ownTime {
      lastTime = time
      sawOwnTime = true
    }
    if layout.continuationLines {
      flushPending(into: &sink)
      // A line of the chunk stays valid until the chunk is done; the one line carried over
      // from the chunk before lives in the assembler's buffer and is copied at once.
      if isInChunk(message) {
        pendingView = message
        pendingOffset = fileOffset(of: message)
      } else {
        pendingOffset = nil
        pendingView = nil
        pending.removeAll(keepingCapacity: true)
        pending.append(contentsOf: message)
      }
      pendingLine = line
      pendingTime = time
      pendingStream = stream
      hasPending = true
    } else {
      sink.accept(RawEvent(timestamp: time, hasOwnTime: ownTime, group: nil, stream: name(of: stream),
        message: Bytes.trimmedEnd(message), origin: Origin(input: input, line: line), eventId: nil,
        fileOffset: fileOffset(of: message)))
    }
  }

  private mutating func flushPending<S: EventSink>(into sink: inout S) {
    guard hasPending else { return }
    hasPending = false
    let (time, line, offset) = (pendingTime, pendingLine, pendingOffset)
    let stream = name(of: pendingStream)
    func accept(_ bytes: UnsafeRawBufferPointer) {
      sink.accept(RawEvent(timestamp: time, hasOwnTime: true, group: nil, stream: stream,
        message: Bytes.trimmedEnd(bytes), origin: Origin(input: input, line: line), eventId: nil, fileOffset: offset))
    }
    if let view = pendingView {
      pendingView = nil
      accept(view)
    } else {
      pending.withUnsafeBytes(accept)
    }
  }
}

/// The stream an event was written to: the input's own (`defaultStream`), else one its line names.
/// The input's is not copied from line to line: each copy of the name retained and released it,
/// three times a line.
enum EventStream {
  case input
  case named(String)
}

extension LineEventDecoder {
  @inline(__always)
  fileprivate func name(of stream: EventStream) -> String? {
    switch stream {
    case .input: defaultStream
    case .named(let name): name
    }
  }
}

/// Interns stream names so that an input with millions of events holds each name once.
struct StreamNameTable {
  private var names: [[UInt8]: String] = [:]
  private var last: (bytes: [UInt8], name: String)?

  mutating func name(_ bytes: UnsafeRawBufferPointer) -> String {
    if let last, last.bytes.count == bytes.count, last.bytes.withUnsafeBytes({ $0.elementsEqual(bytes) }) {
      return last.name
    }
    let key = [UInt8](bytes)
    let name = names[key] ?? String(bytes: bytes)
    if names.count < 100_000 { names[key] = name }
    last = (key, name)
    return name
  }
}
