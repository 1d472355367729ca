// libFuzzer target: the envelope layer (detection, gzip layers, every decoder, chunk boundaries,
// caps), then the whole pipeline on what it decoded.
//
// Input: byte 0 picks the format (forced or detected), the layout and an S3-export stream name;
// byte 1 the read/chunk size (1-256 bytes); the rest is the input file.
import Foundation

nonisolated(unsafe) let envelopeRecognizer = Recognizer(rules: .builtin)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEnvelope(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  guard let data, size >= 2 else { return 0 }
  let control = data[0]
  let step = Int(data[1]) + 1
  let body = UnsafeRawBufferPointer(start: data + 2, count: size - 2)
  let formats = EnvelopeFormat.allCases
  let forced: EnvelopeFormat? = control & 0x80 != 0 ? formats[Int(control & 0x07) % formats.count] : nil
  let input = Input(name: "fuzz", path: nil, streamFromPath: control & 0x40 != 0 ? "stream" : nil)
  let limits = fuzzLimits(chunk: step * 3)

  // 1. As a file would be read: head, gzip layers, detection, decoder.
  var sink = RecognizingSink(recognizer: envelopeRecognizer, inputName: input.name, retainWindow: nil)
  var summaries: [InputSummary] = []
  if let s = try? EnvelopeReader.read(MemorySource(body, step: step), input: input, index: 0,
    forcedFormat: forced, limits: limits, into: &sink)
  {
    summaries.append(s)
  }

  // 2. One decoder fed directly in `step`-byte chunks (the head above is one chunk).
  let format = forced ?? formats[Int(control & 0x07) % formats.count]
  let layout = LineLayout(continuationLines: control & 0x10 != 0, streamAfterTime: control & 0x20 != 0)
  var decoder = EnvelopeReader.makeDecoder(format, layout: layout, input: input, index: 1, limits: limits)
  var i = 0
  while i < body.count {
    let n = min(step, body.count - i)
    decoder.feed(UnsafeRawBufferPointer(rebasing: body[i..<(i + n)]), into: &sink)
    i += n
  }
  decoder.finish(into: &sink)
  _ = envelopeRecognizer.takeDiagnostics()

  finishPipeline(sink, summaries: summaries)
  return 0
}
