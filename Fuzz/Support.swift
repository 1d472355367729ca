// Shared by the fuzz targets: compiled together with Sources/GoneTrace/**/*.swift into one module
// (see scripts/fuzz), so the targets reach the library's internal types.
import Foundation

/// Hands out bytes from memory, at most `step` per read, so chunk boundaries land everywhere.
final class MemorySource: ByteSource {
  private let data: UnsafeRawBufferPointer
  private let step: Int
  private var offset = 0
  var problems: [SourceProblem] { [] }
  var rawBytesRead: Int64 { Int64(offset) }

  init(_ data: UnsafeRawBufferPointer, step: Int) {
    self.data = data
    self.step = max(1, step)
  }

  func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
    let n = min(buffer.count, data.count - offset, step)
    guard n > 0 else { return 0 }
    buffer.baseAddress!.copyMemory(from: data.baseAddress! + offset, byteCount: n)
    offset += n
    return n
  }
}

/// Small caps, so the fuzzer reaches every "limit bit" path with small inputs.
func fuzzLimits(chunk: Int) -> ReaderLimits {
  var limits = ReaderLimits()
  limits.maxLineBytes = 4096
  limits.maxRecordBytes = 4096
  limits.maxInflatedPayload = 64 * 1024
  limits.gzipBombFloor = 1 << 20
  limits.maxDiagnosticsPerInput = 20
  limits.chunkBytes = max(1, chunk)
  return limits
}

/// Correlates, classifies and renders what a sink gathered: every stage after the decoders.
func finishPipeline(_ sink: RecognizingSink, summaries: [InputSummary]) {
  let correlation = sink.state.correlate(CorrelationOptions())
  let verdicts = Classifier().classify(correlation)
  let analysis = Analysis(inputs: summaries, diagnostics: sink.diagnostics, inputErrors: [],
    timelines: correlation.timelines, verdicts: verdicts, timeRange: sink.timeRange)
  // Every format, streamed ones included: reports read evidence back from the evidence file.
  let context = ReportContext(version: "fuzz", generatedAt: 0)
  for format in ReportFormat.allCases { _ = format.render(analysis, context) }
  for id in correlation.timelines.keys.prefix(2) { _ = TextReport.explain(id, analysis) }
}
