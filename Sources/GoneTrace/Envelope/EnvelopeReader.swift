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
  public var chunkBytes = 4 * 1024 * 1024
  public init() {}
}

/// Opens an input, inflates it when it is gzip (by magic bytes, never by name, and again when the
/// inflated bytes are gzip too, as Firehose writes already-gzipped CloudWatch data), detects the
/// envelope and drives its decoder chunk by chunk.
public enum EnvelopeReader {
  private static let maxGzipNesting = 3

  public static func read<S: EventSink>(
    _ input: Input, index: Int, forcedFormat: EnvelopeFormat? = nil, limits: ReaderLimits = ReaderLimits(),
    progress: ProgressMeter? = nil, into sink: inout S
  ) throws(InputError) -> InputSummary {
    let file =
      if let path = input.path { try FileDescriptorSource(path: path, range: input.byteRange) } else { FileDescriptorSource(standardInput: ()) }
    file.progress = progress
    var source: ByteSource = file
    var gzipLayers: [GzipSource] = []
    var head = try readHead(source)
    while head.count >= 2, head[0] == GzipSource.gzipMagic.0, head[1] == GzipSource.gzipMagic.1,
      gzipLayers.count < maxGzipNesting
    {
      let gzip = try GzipSource(PrefixedSource(prefix: head, rest: source), name: input.name)
      gzipLayers.append(gzip)
      source = gzip
      head = try readHead(source)
    }

    var counting = CountingSink(base: sink)
    defer { sink = counting.base }
    var summary = InputSummary(name: input.name, format: nil, compressed: !gzipLayers.isEmpty,
      events: 0, unparsed: 0, bytes: 0)
    let forcedFormat = forcedFormat ?? input.format
    let detected: (EnvelopeFormat, LineLayout)? = head.withUnsafeBytes { bytes in
      if let forcedFormat { return (forcedFormat, forcedLayout(forcedFormat, head: bytes, input: input)) }
      return EnvelopeDetector.detect(head: bytes, input: input)
    }
    for layer in gzipLayers { counting.reportWarnings(of: layer, input: input.name, seen: 0) }
    guard let (format, layout) = detected else {
      if head.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
        counting.report(Diagnostic(input: input.name, severity: .warning, message: "empty input"))
        summary.unparsed = counting.unparsed
        return summary
      }
      throw .unknownEnvelope(input: input.name)
    }
    summary.format = format
    var decoder = makeDecoder(format, layout: layout, input: input, index: index, limits: limits)

    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: limits.chunkBytes, alignment: 64)
    defer { buffer.deallocate() }
    // Warnings raised while reading the head were reported above; report only the later ones.
    let warningsSeen = gzipLayers.map { $0.warnings.count }
    head.withUnsafeBytes { decoder.feed($0, into: &counting) }
    summary.bytes = Int64(head.count)
    if head.count == EnvelopeDetector.headSize {
      while true {
        let n = try source.read(into: buffer)
        if n == 0 { break }
        summary.bytes += Int64(n)
        decoder.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), into: &counting)
      }
    }
    decoder.finish(into: &counting)
    for (i, layer) in gzipLayers.enumerated() {
      counting.reportWarnings(of: layer, input: input.name, seen: warningsSeen[i])
    }
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

  private static func makeDecoder(
    _ format: EnvelopeFormat, layout: LineLayout, input: Input, index: Int, limits: ReaderLimits
  ) -> any EnvelopeDecoder {
    switch format {
    case .lines, .s3Export, .tail:
      return LineEventDecoder(input: index, inputName: input.name, layout: layout, stream: input.streamFromPath,
        maxLineBytes: limits.maxLineBytes)
    case .cliJSON: return CLIJSONDecoder(input: index, inputName: input.name)
    case .subscription: return SubscriptionDecoder(input: index, inputName: input.name)
    case .insightsJSON: return InsightsJSONDecoder(input: index, inputName: input.name)
    case .insightsCSV: return InsightsCSVDecoder(input: index, inputName: input.name)
    }
  }
}

/// Counts what passes through, for the per-input summary.
private struct CountingSink<Base: EventSink>: EventSink {
  var base: Base
  var events = 0
  var unparsed = 0

  mutating func accept(_ event: RawEvent) {
    events += 1
    base.accept(event)
  }

  mutating func report(_ diagnostic: Diagnostic) {
    if diagnostic.severity == .error { unparsed += 1 }
    base.report(diagnostic)
  }

  mutating func reportWarnings(of layer: GzipSource, input: String, seen: Int) {
    for warning in layer.warnings.dropFirst(seen) {
      report(Diagnostic(input: input, severity: .warning, message: warning))
    }
  }
}
