/// What one input yielded.
public struct InputSummary: Sendable, Equatable {
  public var name: String
  /// Nil when the input could not be decoded at all.
  public var format: EnvelopeFormat?
  public var compressed: Bool
  public var events: Int
  /// Records or lines that could not be decoded, or were cut (each has a diagnostic).
  public var unparsed: Int
  public var bytes: Int64
}

/// Limits that keep memory bounded whatever the input.
public struct ReaderLimits: Sendable {
  public var maxLineBytes = 64 * 1024 * 1024
  /// The largest JSON record (an event, a result row, a subscription payload) buffered whole.
  /// CloudWatch caps an event at 1 MB and a subscription batch at about that: 64 MiB is generous.
  public var maxRecordBytes = 64 * 1024 * 1024
  /// The most an `{"awslogs":{"data":…}}` payload may inflate to (a gzip bomb stops there).
  public var maxInflatedPayload = 64 * 1024 * 1024
  /// Diagnostics kept per input; past it they are still counted (in `unparsed` and in one
  /// closing diagnostic), so a file of a billion bad lines cannot fill memory with messages.
  public var maxDiagnosticsPerInput = 1_000
  /// A gzip input stops with an error once it has inflated past `gzipBombFloor` bytes and to more
  /// than `maxGzipRatio` times the bytes of the file (one gzip layer cannot pass ~1032:1; real
  /// CloudWatch data compresses 10-30:1), so a bomb costs neither memory nor unbounded time.
  public var maxGzipRatio: Int64 = 1_000
  public var gzipBombFloor: Int64 = 1 << 30
  /// Bytes read (or inflated) at a time. Small enough that a chunk is still in the core's L2
  /// cache (2 MiB here) when it is scanned: with 4 MiB, each chunk was copied in by `pread`,
  /// evicted, and read back from memory, and two workers took 4.93 s of CPU on 1 GB of raw lines
  /// against 4.62 s with 256 KiB, as much as one worker (README, Performance).
  public var chunkBytes = 256 * 1024
  public init() {}
}

/// Opens an input, inflates it when it is gzip (by magic bytes, never by name, and again when the
/// inflated bytes are gzip too, as Firehose writes already-gzipped CloudWatch data), detects the
/// envelope and drives its decoder chunk by chunk.
public enum EnvelopeReader {
  private static let maxGzipNesting = 3

  public static func read<S: EventSink>(
    _ input: Input, index: Int, forcedFormat: EnvelopeFormat? = nil, limits: ReaderLimits = ReaderLimits(),
    progress: ProgressMeter? = nil, buffer: ReadBuffer? = nil, into sink: inout S
  ) throws(InputError) -> InputSummary {
    let file =
      if let path = input.path { try FileDescriptorSource(path: path, range: input.byteRange) } else { FileDescriptorSource(standardInput: ()) }
    file.progress = progress
    return try read(file, input: input, index: index, forcedFormat: forcedFormat, limits: limits, buffer: buffer,
      into: &sink)
  }

  /// The same, from any byte source (the fuzz targets feed memory).
  static func read<S: EventSink>(
    _ file: ByteSource, input: Input, index: Int, forcedFormat: EnvelopeFormat? = nil, limits: ReaderLimits = ReaderLimits(),
    buffer readBuffer: ReadBuffer? = nil, into sink: inout S
  ) throws(InputError) -> InputSummary {
    var source = file
    var gzipLayers: [GzipSource] = []
    var head = try readHead(source)
    while head.count >= 2, head[0] == GzipSource.gzipMagic.0, head[1] == GzipSource.gzipMagic.1,
      gzipLayers.count < maxGzipNesting
    {
      let gzip = GzipSource(PrefixedSource(prefix: head, rest: source), name: input.name,
        maxRatio: limits.maxGzipRatio, bombFloor: limits.gzipBombFloor)
      gzipLayers.append(gzip)
      source = gzip
      head = try readHead(source)
    }

    var counting = CountingSink(base: sink, inputName: input.name, maxDiagnostics: limits.maxDiagnosticsPerInput)
    defer {
      counting.reportSuppressed()
      sink = counting.base
    }
    var summary = InputSummary(name: input.name, format: nil, compressed: !gzipLayers.isEmpty,
      events: 0, unparsed: 0, bytes: 0)
    let forcedFormat = forcedFormat ?? input.format
    let detected: (EnvelopeFormat, LineLayout)? = head.withUnsafeBytes { bytes in
      if let forcedFormat { return (forcedFormat, forcedLayout(forcedFormat, head: bytes, input: input)) }
      return EnvelopeDetector.detect(head: bytes, input: input)
    }
    guard let (format, layout) = detected else {
      for layer in gzipLayers { counting.reportWarnings(of: layer, input: input.name, seen: 0) }
      if head.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
        counting.report(Diagnostic(input: input.name, severity: .warning, message: "empty input"))
        counting.reportSuppressed()
        summary.unparsed = counting.unparsed
        return summary
      }
      throw .unknownEnvelope(input: input.name)
    }
    summary.format = format
    // A regular file read as it is: its lines' evidence is read back from it, not copied. Only
    // line-shaped formats say where an event's text is in the file; the others would hold an
    // open file (of a limited number) for nothing.
    var fileBase: Int64?
    if gzipLayers.isEmpty, format.isLineShaped, let plain = file as? FileDescriptorSource, let start = plain.fileStart,
      let sourceFile = SourceFile.duplicating(plain.descriptor, name: input.name)
    {
      counting.eventsAreIn(sourceFile)
      fileBase = start
    }
    var decoder = makeDecoder(format, layout: layout, input: input, index: index, limits: limits, fileBase: fileBase)

    head.withUnsafeBytes { decoder.feed($0, into: &counting) }
    summary.bytes = Int64(head.count)
    if head.count == EnvelopeDetector.headSize {
      try (readBuffer ?? ReadBuffer(byteCount: limits.chunkBytes)).withBytes { (buffer) throws(InputError) in
        while true {
          let n = try source.read(into: buffer)
          if n == 0 { break }
          summary.bytes += Int64(n)
          decoder.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), into: &counting)
        }
      }
    }
    decoder.finish(into: &counting)
    // After the decoder, also for problems met while reading the head: they then name the last
    // event read before them.
    for layer in gzipLayers { counting.reportWarnings(of: layer, input: input.name, seen: 0) }
    counting.reportContent()
    counting.reportSuppressed()
    summary.events = counting.events
    summary.unparsed = counting.unparsed
    return summary
  }

  /// Reads up to `headSize` bytes (several reads for a pipe).
  private static func readHead(_ source: ByteSource) throws(InputError) -> [UInt8] {
    var head = [UInt8](repeating: 0, count: EnvelopeDetector.headSize)
    var filled = 0
    while filled < head.count {
      let n = try readInto(source, &head, from: filled)
      if n == 0 { break }
      filled += n
    }
    head.removeSubrange(filled...)
    return head
  }

  private static func readInto(_ source: ByteSource, _ head: inout [UInt8], from: Int) throws(InputError) -> Int {
    var result: Result<Int, InputError> = .success(0)
    head.withUnsafeMutableBytes { b in
      do throws(InputError) {
        result = .success(try source.read(into: UnsafeMutableRawBufferPointer(rebasing: b[from...])))
      } catch {
        result = .failure(error)
      }
    }
    return try result.get()
  }

  private static func forcedLayout(_ format: EnvelopeFormat, head: UnsafeRawBufferPointer, input: Input) -> LineLayout {
    switch format {
    case .s3Export: return LineLayout(continuationLines: true, streamAfterTime: false)
    case .tail:
      let detected = EnvelopeDetector.detect(head: head, input: input)?.1
      return LineLayout(continuationLines: true, streamAfterTime: detected?.streamAfterTime ?? true)
    case .lines:
      return EnvelopeDetector.detect(head: head, input: input)?.1
        ?? LineLayout(continuationLines: false, streamAfterTime: false)
    default: return LineLayout(continuationLines: false, streamAfterTime: false)
    }
  }

  static func makeDecoder(
    _ format: EnvelopeFormat, layout: LineLayout, input: Input, index: Int, limits: ReaderLimits, fileBase: Int64? = nil
  ) -> any EnvelopeDecoder {
    switch format {
    case .lines, .s3Export, .tail:
      return LineEventDecoder(input: index, inputName: input.name, layout: layout, stream: input.streamFromPath,
        maxLineBytes: limits.maxLineBytes, fileBase: fileBase)
    case .cliJSON: return CLIJSONDecoder(input: index, inputName: input.name, maxRecordBytes: limits.maxRecordBytes)
    case .subscription:
      return SubscriptionDecoder(input: index, inputName: input.name, maxRecordBytes: limits.maxRecordBytes,
        maxInflated: limits.maxInflatedPayload)
    case .insightsJSON: return InsightsJSONDecoder(input: index, inputName: input.name, maxRecordBytes: limits.maxRecordBytes)
    case .insightsCSV: return InsightsCSVDecoder(input: index, inputName: input.name, maxRowBytes: limits.maxLineBytes)
    }
  }
}

/// Counts what passes through, for the per-input summary, and bounds the diagnostics kept.
private struct CountingSink<Base: EventSink>: EventSink {
  var base: Base
  let inputName: String
  let maxDiagnostics: Int
  var events = 0
  var unparsed = 0
  var forwarded = 0
  var suppressed = 0
  /// Where the last event came from: gzip problems found after it name it.
  var lastLine: Int?
  var lastRecord: Int?
  var content = ContentTally()

  init(base: Base, inputName: String, maxDiagnostics: Int) {
    self.base = base
    self.inputName = inputName
    self.maxDiagnostics = maxDiagnostics
  }

  mutating func accept(_ event: RawEvent) {
    events += 1
    lastLine = event.origin.line ?? lastLine
    lastRecord = event.origin.record ?? lastRecord
    content.check(event)
    base.accept(event)
  }

  /// One warning per kind of unshowable content, at its first event (nothing was dropped).
  mutating func reportContent() {
    for d in content.diagnostics(input: inputName) { report(d) }
    content = ContentTally()
  }

  mutating func eventsAreIn(_ file: SourceFile) { base.eventsAreIn(file) }

  mutating func report(_ diagnostic: Diagnostic) {
    if diagnostic.severity == .error { unparsed += 1 }
    if forwarded < maxDiagnostics {
      forwarded += 1
      base.report(diagnostic)
    } else {
      suppressed += 1
    }
  }

  /// One closing diagnostic for those past the cap (they are counted in `unparsed` all the same).
  mutating func reportSuppressed() {
    guard suppressed > 0 else { return }
    base.report(Diagnostic(input: inputName, severity: .warning,
      message: "\(suppressed) more diagnostics for this input not listed (the first \(maxDiagnostics) are)"))
    suppressed = 0
  }

  /// Gzip problems, placed after the last event read before them.
  mutating func reportWarnings(of layer: GzipSource, input: String, seen: Int) {
    for problem in layer.problems.dropFirst(seen) {
      let place = lastLine.map { "; the last event read starts at line \($0)" }
        ?? lastRecord.map { "; the last event read is record \($0)" } ?? "; no event was read before it"
      report(Diagnostic(input: input, line: lastLine, record: lastLine == nil ? lastRecord : nil,
        severity: problem.lost ? .error : .warning, message: problem.message + place))
    }
  }
}
