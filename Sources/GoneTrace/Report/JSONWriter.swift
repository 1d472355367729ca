/// A small JSON writer that keeps keys in the documented order (JSONEncoder sorts or scrambles
/// them) and writes `null` for unknown values instead of omitting the key.
struct JSONWriter {
  /// The text is built as UTF-8 bytes: a report is mostly copied evidence, and appending bytes
  /// costs a copy where appending Strings cost a String operation per piece.
  private var bytes: [UInt8] = []
  var output: String { String(decoding: bytes, as: UTF8.self) }
  private var needsComma = [false]
  let pretty: Bool
  private var depth: Int { needsComma.count - 1 }

  /// Receives the output in pieces as `drain` is called (a report of 100,000 verdicts is
  /// written as it is built, never held whole).
  private let sink: ((String) -> Void)?

  init(pretty: Bool, sink: ((String) -> Void)? = nil) {
    self.pretty = pretty
    self.sink = sink
  }

  /// Hands what is written so far to the sink once it is over `threshold` bytes.
  mutating func drain(over threshold: Int = 1 << 20) {
    guard let sink, bytes.count >= threshold else { return }
    sink(output)
    bytes.removeAll(keepingCapacity: true)
  }

  /// Where a writer is, for writers continuing its open array or object on other threads.
  struct Position: Sendable {
    fileprivate let pretty: Bool
    fileprivate let needsComma: [Bool]
  }

  var position: Position { Position(pretty: pretty, needsComma: needsComma) }

  /// A writer for items of the array or object open at `position`: its output is what the
  /// writer there would write for them (`first`: no item comes before them).
  init(itemsAt position: Position, first: Bool) {
    self.init(pretty: position.pretty)
    needsComma = position.needsComma
    needsComma[needsComma.count - 1] = !first
  }

  /// Adds the output of `init(itemsAt:first:)` writers, in order. With a sink, the text goes to
  /// it as it is, after what is written so far: it is already a String (built on another
  /// thread), and copying it in to read it out again cost the writing thread a pass over the
  /// report.
  mutating func append(items text: String) {
    guard !text.isEmpty else { return }
    if let sink {
      if !bytes.isEmpty {
        sink(output)
        bytes.removeAll(keepingCapacity: true)
      }
      sink(text)
    } else {
      write(text)
    }
    needsComma[needsComma.count - 1] = true
  }

  private mutating func write(_ s: String) {
    var s = s
    s.withUTF8 { bytes.append(contentsOf: $0) }
  }

  private mutating func write(_ s: StaticString) {
    bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
  }

  private mutating func newline() {
    bytes.append(0x0A)
    for _ in 0..<depth { write("  ") }
  }

  private mutating func separator() {
    if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
    needsComma[needsComma.count - 1] = true
    if pretty, depth > 0 { newline() }
  }

  mutating func key(_ k: String) {
    separator()
    JSONWriter.appendQuoted(k, to: &bytes)
    write(pretty ? ": " : ":")
    needsComma[needsComma.count - 1] = false
    pendingValueAfterKey = true
  }

  private var pendingValueAfterKey = false

  private mutating func valueStart() {
    if pendingValueAfterKey {
      pendingValueAfterKey = false
      needsComma[needsComma.count - 1] = true
    } else {
      separator()
    }
  }

  mutating func object(_ body: (inout JSONWriter) -> Void) {
    valueStart()
    bytes.append(UInt8(ascii: "{"))
    needsComma.append(false)
    body(&self)
    let hadMembers = needsComma.removeLast()
    if pretty, hadMembers { newline() }
    bytes.append(UInt8(ascii: "}"))
  }

  mutating func array(_ body: (inout JSONWriter) -> Void) {
    valueStart()
    bytes.append(UInt8(ascii: "["))
    needsComma.append(false)
    body(&self)
    let hadMembers = needsComma.removeLast()
    if pretty, hadMembers { newline() }
    bytes.append(UInt8(ascii: "]"))
  }

  mutating func string(_ s: String?) {
    valueStart()
    if let s { JSONWriter.appendQuoted(s, to: &bytes) } else { write("null") }
  }

  mutating func int(_ v: Int?) {
    valueStart()
    if let v { write(String(v)) } else { write("null") }
  }

  mutating func int64(_ v: Int64?) {
    valueStart()
    if let v { write(String(v)) } else { write("null") }
  }

  mutating func time(_ v: EpochMillis?) { string(v.map(Timestamp.format)) }

  mutating func field(_ k: String, _ s: String?) {
    key(k)
    string(s)
  }

  mutating func field(_ k: String, int v: Int?) {
    key(k)
    int(v)
  }

  mutating func field(_ k: String, time v: EpochMillis?) {
    key(k)
    time(v)
  }

  /// Bytes that need an escape in a JSON string: control characters, `"`, `\` and DEL.
  private static let needsEscape: [Bool] = (0..<256).map { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }

  /// Appends `s` as a JSON string literal. Works on UTF-8 bytes and copies the runs between
  /// escapes whole: evidence lines are JSON themselves, a quote every few bytes.
  private static func appendQuoted(_ s: String, to out: inout [UInt8]) {
    var s = s
    s.withUTF8 { b in
      out.append(0x22)
      let table = needsEscape
      var run = 0
      for i in 0..<b.count where table[Int(b[i])] {
        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[run..<i]))
        run = i + 1
        let c = b[i]
        out.append(0x5C)
        switch c {
        case 0x22, 0x5C: out.append(c)
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        default:
          let hex: StaticString = "0123456789abcdef"
          out.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hex.utf8Start[Int(c >> 4)], hex.utf8Start[Int(c & 15)]])
        }
      }
      out.append(contentsOf: UnsafeBufferPointer(rebasing: b[run..<b.count]))
      out.append(0x22)
    }
  }
}
