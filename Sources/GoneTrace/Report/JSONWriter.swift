/// A small JSON writer that keeps keys in the documented order (JSONEncoder sorts or scrambles
/// them) and writes `null` for unknown values instead of omitting the key.
struct JSONWriter {
  private(set) var output = ""
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
    guard let sink, output.utf8.count >= threshold else { return }
    sink(output)
    output = ""
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

  /// Adds the output of `init(itemsAt:first:)` writers, in order.
  mutating func append(items text: String) {
    guard !text.isEmpty else { return }
    output += text
    needsComma[needsComma.count - 1] = true
  }

  private mutating func separator() {
    if needsComma[needsComma.count - 1] { output += "," }
    needsComma[needsComma.count - 1] = true
    if pretty, depth > 0 { output += "\n" + String(repeating: "  ", count: depth) }
  }

  mutating func key(_ k: String) {
    separator()
    output += JSONWriter.quoted(k) + (pretty ? ": " : ":")
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
    output += "{"
    needsComma.append(false)
    body(&self)
    let hadMembers = needsComma.removeLast()
    if pretty, hadMembers { output += "\n" + String(repeating: "  ", count: depth) }
    output += "}"
  }

  mutating func array(_ body: (inout JSONWriter) -> Void) {
    valueStart()
    output += "["
    needsComma.append(false)
    body(&self)
    let hadMembers = needsComma.removeLast()
    if pretty, hadMembers { output += "\n" + String(repeating: "  ", count: depth) }
    output += "]"
  }

  mutating func string(_ s: String?) {
    valueStart()
    output += s.map(JSONWriter.quoted) ?? "null"
  }

  mutating func int(_ v: Int?) {
    valueStart()
    output += v.map(String.init) ?? "null"
  }

  mutating func int64(_ v: Int64?) {
    valueStart()
    output += v.map(String.init) ?? "null"
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

  /// JSON string literal. Works on UTF-8 bytes: most text needs no escape and is copied whole
  /// (escaping per scalar cost a third of a large report's time).
  static func quoted(_ s: String) -> String {
    var s = s
    return s.withUTF8 { bytes -> String in
      guard bytes.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }) else {
        return "\"" + String(decoding: bytes, as: UTF8.self) + "\""
      }
      var out: [UInt8] = [0x22]
      out.reserveCapacity(bytes.count + 16)
      let hex = Array("0123456789abcdef".utf8)
      for b in bytes {
        switch b {
        case 0x22: out += [0x5C, 0x22]
        case 0x5C: out += [0x5C, 0x5C]
        case 0x0A: out += [0x5C, UInt8(ascii: "n")]
        case 0x0D: out += [0x5C, UInt8(ascii: "r")]
        case 0x09: out += [0x5C, UInt8(ascii: "t")]
        case 0..<0x20, 0x7F: out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]]
        default: out.append(b)
        }
      }
      out.append(0x22)
      return String(decoding: out, as: UTF8.self)
    }
  }

}
