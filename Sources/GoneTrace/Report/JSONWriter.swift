/// A small JSON writer that keeps keys in the documented order (JSONEncoder sorts or scrambles
/// them) and writes `null` for unknown values instead of omitting the key.
struct JSONWriter {
  private(set) var output = ""
  private var needsComma = [false]
  let pretty: Bool
  private var depth: Int { needsComma.count - 1 }

  init(pretty: Bool) { self.pretty = pretty }

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

  static func quoted(_ s: String) -> String {
    var out = "\""
    out.reserveCapacity(s.utf8.count + 2)
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7F {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }
}
