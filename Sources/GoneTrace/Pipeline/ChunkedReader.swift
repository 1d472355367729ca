#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Line-aligned pieces of one big uncompressed line-shaped file, so that both cores work on a
/// single large input. Each piece starts at a line that starts an event (a time followed by a
/// space or tab: the line a `LineEventDecoder` opens an event with), so no event, continuation
/// line or inherited time crosses a boundary. A piece is decoded and recognized into its own
/// state with piece-local line numbers; the pieces are then shifted to file line numbers and
/// merged in file order, which gives exactly the state of one pass over the file.
enum ChunkedReader {
  /// Files at least this large are split (smaller ones are read whole, one per worker).
  static let minimumSplitBytes = 32 * 1024 * 1024
  /// Target piece size: small enough to balance two workers, large enough to amortize.
  static let pieceBytes = 16 * 1024 * 1024

  struct Plan: Sendable {
    var input: Input
    var index: Int
    var format: EnvelopeFormat
    var layout: LineLayout
    var size: Int64
    /// Piece start offsets; piece k is [starts[k], starts[k+1]) (the last one runs to the end).
    var starts: [Int64]
    /// The file planned, held open: pieces are read from it, and evidence read back from it.
    var source: SourceFile?
  }

  struct PieceResult: Sendable {
    var state = CorrelationState()
    var diagnostics: [Diagnostic] = []
    var timeRange: ClosedRange<EpochMillis>?
    var events = 0
    var unparsed = 0
    var lines = 0
    var content = ContentTally()
    var error: InputError?
    /// An event timed outside the bounds the piece was read with (see `read`).
    var outOfBounds = false
  }

  /// A plan when `input` is a regular, uncompressed, line-shaped file worth splitting.
  static func plan(_ input: Input, index: Int, options: AnalysisOptions) -> Plan? {
    guard options.threads > 1, let file = LineFile.opening(input, options: options) else { return nil }
    defer { close(file.fd) }
    guard file.size >= options.splitMinimumBytes else { return nil }
    var starts: [Int64] = [0]
    let nominal = nominalStarts(size: file.size, pieceBytes: Int64(max(1, options.splitPieceBytes)))
    for (k, from) in nominal.enumerated() {
      let limit = k + 1 < nominal.count ? nominal[k + 1] : file.size
      guard from > starts.last!, let s = eventStart(fd: file.fd, from: from, limit: limit, layout: file.layout)
      else { continue }
      if s > starts.last!, s < file.size { starts.append(s) }
    }
    guard starts.count > 1 else { return nil }
    return file.plan(input: input, index: index, starts: starts)
  }

  /// A regular, uncompressed, line-shaped file, open: what can be read in pieces.
  struct LineFile {
    var fd: Int32
    var size: Int64
    var format: EnvelopeFormat
    var layout: LineLayout

    /// Nil for anything else (standard input, gzip, JSON envelopes, a byte range of an
    /// incremental run, a forced format): those are read whole.
    static func opening(_ input: Input, options: AnalysisOptions) -> LineFile? {
      // Incremental runs (`--state`) read a byte range and keep events: they read each file whole.
      guard options.forcedFormat == nil, input.byteRange == nil, options.retainWindow == nil, let path = input.path
      else { return nil }
      let fd = open(path, O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else { return nil }
      var info = stat()
      var head = [UInt8](repeating: 0, count: EnvelopeDetector.headSize)
      let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
      guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, n >= 2,
        n == head.count || n == Int(info.st_size)
      else {
        close(fd)
        return nil
      }
      head.removeSubrange(n...)
      guard !(head[0] == GzipSource.gzipMagic.0 && head[1] == GzipSource.gzipMagic.1),
        let (format, layout) = head.withUnsafeBytes({ EnvelopeDetector.detect(head: $0, input: input) }),
        format.isLineShaped
      else {
        close(fd)
        return nil
      }
      return LineFile(fd: fd, size: Int64(info.st_size), format: format, layout: layout)
    }

    /// The plan reading pieces `starts` of this file (which it keeps open for evidence).
    func plan(input: Input, index: Int, starts: [Int64]) -> Plan {
      Plan(input: input, index: index, format: format, layout: layout, size: size, starts: starts,
        source: SourceFile.duplicating(fd, name: input.name))
    }
  }

  /// Where pieces should start, before moving each to the next event: every `pieceBytes`, and
  /// the last two to three pieces' worth cut in eight. The workers finish together only if the
  /// last pieces are short: a whole piece of a Lambda log takes a worker about 0.13 s, and one
  /// last piece of 1-2 `pieceBytes` (as the even split left) kept the other worker idle for a
  /// tenth of a second at the end of reading.
  static func nominalStarts(size: Int64, pieceBytes: Int64) -> [Int64] {
    var starts: [Int64] = []
    var at = pieceBytes
    while at <= size - 2 * pieceBytes {
      starts.append(at)
      at += pieceBytes
    }
    let tailStart = starts.last ?? 0
    let step = (size - tailStart) / 8
    if step > 0 { for k in 1..<8 { starts.append(tailStart + Int64(k) * step) } }
    return starts
  }

  /// The offset of the first line starting at or after `from` (and before `limit`) that opens an event.
  private static func eventStart(fd: Int32, from: Int64, limit: Int64, layout: LineLayout) -> Int64? {
    let window = 64 * 1024
    var buffer = [UInt8](repeating: 0, count: window)
    var offset = from - 1  // a line starts at `from` when the byte before it is a newline
    while offset < limit {
      let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
      guard n > 0 else { return nil }
      enum Step { case found(Int), resume(Int), stop }
      let step: Step = buffer.withUnsafeBytes { raw in
        let b = UnsafeRawBufferPointer(rebasing: raw[0..<n])
        var i = 0
        while let nl = Bytes.index(of: Bytes.newline, in: b, from: i, to: n) {
          let lineStart = nl + 1
          guard let lineEnd = Bytes.index(of: Bytes.newline, in: b, from: lineStart, to: n) else {
            if n < window {  // end of file; the last line has no newline
              return lineStart < n && LineEventDecoder.opensEvent(UnsafeRawBufferPointer(rebasing: b[lineStart..<n]))
                ? .found(lineStart) : .stop
            }
            return nl > 0 ? .resume(nl) : .stop  // look again from this line (unless it fills the window)
          }
          if LineEventDecoder.opensEvent(UnsafeRawBufferPointer(rebasing: b[lineStart..<lineEnd])) {
            return .found(lineStart)
          }
          i = lineStart
        }
        return .stop  // no newline in the window: a line too long to look across
      }
      switch step {
      case .found(let at): return offset + Int64(at)
      case .resume(let at): offset += Int64(at)
      case .stop: return nil
      }
    }
    return nil
  }

  /// Decodes and recognizes piece `k` of `plan`. With `timeBounds`, notes whether an event of
  /// its own time fell outside them (a piece cut by time from a file not in time order).
  static func read(_ plan: Plan, piece k: Int, recognizer: Recognizer, buffer readBuffer: ReadBuffer,
    options: AnalysisOptions, timeBounds: ClosedRange<EpochMillis>? = nil) -> PieceResult {
    var result = PieceResult()
    let start = plan.starts[k]
    let end = k + 1 < plan.starts.count ? plan.starts[k + 1] : plan.size
    guard let path = plan.input.path else { return result }
    // The planned file itself when it is held open (past `SourceFile.maxOpen`, its path again).
    let fd = plan.source?.fd ?? open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      result.error = .notReadable(path: path, reason: String(cString: strerror(errno)))
      return result
    }
    defer { if plan.source == nil { close(fd) } }
    var decoder = LineEventDecoder(input: plan.index, inputName: plan.input.name, layout: plan.layout,
      stream: plan.input.streamFromPath, maxLineBytes: options.limits.maxLineBytes,
      fileBase: plan.source == nil ? nil : start)
    var sink = PieceSink(base: RecognizingSink(recognizer: recognizer, inputName: plan.input.name,
      retainWindow: nil, progress: options.progress), timeBounds: timeBounds)
    sink.base.sourceFile = plan.source
    readBuffer.withBytes { buffer in
      var offset = start
      while offset < end {
        let want = Int(min(Int64(buffer.count), end - offset))
        let n = pread(fd, buffer.baseAddress, want, off_t(offset))
        if n < 0 {
          if errno == EINTR { continue }
          result.error = .readFailed(input: plan.input.name, reason: String(cString: strerror(errno)))
          break
        }
        if n == 0 { break }
        offset += Int64(n)
        options.progress?.add(bytes: n)
        decoder.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), into: &sink)
      }
    }
    decoder.finish(into: &sink)
    sink.base.diagnostics.append(contentsOf: recognizer.takeDiagnostics())
    result.lines = decoder.linesRead
    sink.base.state.inputRead()
    result.state = sink.base.state
    result.diagnostics = sink.base.diagnostics
    result.timeRange = sink.base.timeRange
    result.events = sink.events
    result.unparsed = sink.unparsed
    result.content = sink.content
    result.outOfBounds = sink.outOfBounds
    return result
  }

  /// Joins the pieces of one input as they finish, into the result of reading it whole. A
  /// piece's lines are shifted by the lines of the pieces before it, so it is folded in once
  /// those are: pieces finishing out of order wait, the rest are merged at once and freed (two
  /// workers finish pieces nearly in order, so only a piece or two is ever held apart).
  struct Join {
    let plan: Plan
    private var waiting: [Int: PieceResult] = [:]
    private var next = 0
    private var linesBefore = 0
    private var content = ContentTally()
    private var result = Analyzer.InputResult()

    init(_ plan: Plan) {
      self.plan = plan
      result.summary = InputSummary(name: plan.input.name, format: plan.format, compressed: false, events: 0,
        unparsed: 0, bytes: plan.size)
    }

    var isComplete: Bool { next == plan.starts.count }

    /// Takes piece `k`; hands the state of each piece now in order, at its file line numbers,
    /// to `merge` with its piece number.
    mutating func add(_ k: Int, _ piece: PieceResult, merge: (Int, CorrelationState) -> Void) {
      waiting[k] = piece
      while let piece = waiting.removeValue(forKey: next) {
        let k = next
        fold(piece, merge: { merge(k, $0) })
        next += 1
      }
    }

    private mutating func fold(_ piece: PieceResult, merge: (CorrelationState) -> Void) {
      var piece = piece
      content.append(piece.content, linesBefore: linesBefore)
      if linesBefore > 0 {
        piece.state.shiftLines(by: linesBefore)
        for i in piece.diagnostics.indices where piece.diagnostics[i].line != nil {
          piece.diagnostics[i].line! += linesBefore
        }
      }
      linesBefore += piece.lines
      merge(piece.state)
      result.diagnostics.append(contentsOf: piece.diagnostics)
      result.summary!.events += piece.events
      result.summary!.unparsed += piece.unparsed
      if let e = piece.error, result.error == nil { result.error = e }
      if let r = piece.timeRange {
        result.timeRange = result.timeRange.map { min($0.lowerBound, r.lowerBound)...max($0.upperBound, r.upperBound) } ?? r
      }
    }

    /// The input's result once every piece is in (its state already merged).
    func finished() -> Analyzer.InputResult {
      var r = result
      // As `EnvelopeReader` does: content warnings after the input's own diagnostics.
      r.diagnostics += content.diagnostics(input: plan.input.name)
      return r
    }
  }
}

/// Counts events and errors on the way to the recognizing sink (as `EnvelopeReader` does).
private struct PieceSink: EventSink {
  var base: RecognizingSink
  var events = 0
  var unparsed = 0
  var content = ContentTally()
  let timeBounds: ClosedRange<EpochMillis>?
  var outOfBounds = false

  mutating func accept(_ event: RawEvent) {
    events += 1
    content.check(event)
    if let timeBounds, event.hasOwnTime, !timeBounds.contains(event.timestamp) { outOfBounds = true }
    base.accept(event)
  }

  mutating func report(_ diagnostic: Diagnostic) {
    if diagnostic.severity == .error { unparsed += 1 }
    base.report(diagnostic)
  }
}
