// libFuzzer target: the recognizers (built-in rules, key extraction, the connection-id shape),
// the byte parsers they lean on (timestamps, JSON reader, base64 + inflate), then correlation and
// classification of the facts. Each input line is one event message, one second after the last.
import Foundation

nonisolated(unsafe) let lineRecognizer = Recognizer(rules: .builtin)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecognizer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  guard let data, size >= 1 else { return 0 }
  let bytes = UnsafeRawBufferPointer(start: data, count: size)

  // Whole-input parsers.
  _ = Timestamp.parseAny(bytes)
  _ = Timestamp.parseISO8601(bytes)
  _ = Timestamp.parseCLF(bytes)
  _ = Timestamp.parseEpoch(bytes)
  JSONReader.forEachMember(bytes) { key, value in
    _ = JSONReader.string(value)
    _ = Timestamp.parseEpoch(value.bytes)
    return key.count < 1000
  }
  JSONReader.forEachElement(bytes) { _ in true }
  var i = 0
  _ = JSONReader.value(bytes, &i)
  if let decoded = Base64.decode(bytes) {
    _ = Inflate.stream(decoded, limit: 64 * 1024) { _ in }
  }
  _ = Inflate.stream([UInt8](bytes), limit: 64 * 1024) { _ in }
  KeyValueExtractor.forEachValue(of: Array("connectionId".utf8), in: bytes) { _ in false }

  // Each line an event, through the recognizer into the correlator.
  var sink = RecognizingSink(recognizer: lineRecognizer, inputName: "fuzz", retainWindow: nil)
  var start = 0
  var line = 0
  let streams = ["a", "b", nil]
  while start <= bytes.count {
    let end = Bytes.index(of: Bytes.newline, in: bytes, from: start, to: bytes.count) ?? bytes.count
    line += 1
    let message = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    let time = Timestamp.parseISO8601(message)?.0 ?? (1_715_248_800_000 + EpochMillis(line) * 1000)
    sink.accept(RawEvent(timestamp: time, hasOwnTime: true, group: nil, stream: streams[line % 3],
      message: message, origin: Origin(input: line % 2, line: line), eventId: nil))
    start = end + 1
  }
  _ = lineRecognizer.takeDiagnostics()
  finishPipeline(sink, summaries: [])
  return 0
}
