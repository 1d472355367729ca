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
  private let sink: ((UnsafeRawBufferPointer) -> Void)?

  init(pretty: Bool, sink: ((UnsafeRawBufferPointer) -> Void)? = nil) {
    self.pretty = pretty
    self.sink = sink
  }

  /// Hands what is written so far to the sink once it is over `threshold` bytes.
  mutating func drain(over threshold: Int = 1 << 20) {
    guard let sink, bytes.count >= threshold else { return }
    flush(to: sink)
  }

  /// Ends the text with a line break and hands what is left to the sink.
  mutating func finish() {
    bytes.append(0x0A)
    if let sink { flush(to: sink) }
  }

  private mutating func flush(to sink: (UnsafeRawBufferPointer) -> Void) {
    guard !bytes.isEmpty else { return }
    bytes.withUnsafeBytes(sink)
    bytes.removeAll(keepingCapacity: true)
  }

  /// Where a writer is, for writers continuing its open array or object on other threads.
  struct Position: Sendable {
    fileprivate let pretty: Bool
    fileprivate let needsComma: [Bool]
  }

  var position: Position { Position(pretty: pretty, needsComma: needsComma) }

  /// A writer for items of the array or object open at `position`: its output is what the
  /// writer there would write for them (`first`: no item comes before them). It writes after
  /// `buffer`'s bytes (a buffer kept for reuse); `takeBytes` hands them back.
  init(itemsAt position: Position, first: Bool, appendingTo buffer: [UInt8] = []) {
    self.init(pretty: position.pretty)
    bytes = buffer
    needsComma = position.needsComma
    needsComma[needsComma.count - 1] = !first
  }

  /// The bytes written so far, leaving the writer empty.
  mutating func takeBytes() -> [UInt8] {
    defer { bytes = [] }
    return bytes
  }

  /// Adds the output of `init(itemsAt:first:)` writers, in order. With a sink, the text goes to
  /// it as it is, after what is written so far: it was built on another thread, and copying it
  /// in to read it out again cost the writing thread a pass over the report.
  mutating func append(items text: UnsafeRawBufferPointer) {
    guard !text.isEmpty else { return }
    if let sink {
      flush(to: sink)
      sink(text)
    } else {
      bytes.append(contentsOf: text)
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
    bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * depth))
  }

  private mutating func separator() {
    if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
    needsComma[needsComma.count - 1] = true
    if pretty, depth > 0 { newline() }
  }

  /// A key written as it is: the report's own keys are plain ASCII names with nothing to
  /// escape (quoting each through the scratch buffer was a tenth of the JSON report's time).
  mutating func key(_ k: StaticString) {
    separator()
    bytes.append(0x22)
    write(k)
    write(pretty ? "\": " : "\":")
    afterKey()
  }

  /// A key that is data (a cause's or detail's name), quoted.
  mutating func key(named k: String) {
    separator()
    JSONWriter.appendQuoted(k, to: &bytes)
    write(pretty ? ": " : ":")
    afterKey()
  }

  private mutating func afterKey() {
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

  /// A time as `Timestamp.format` writes it, straight into the output (a report prints ten per
  /// verdict; each was a String allocated, quoted and freed).
  mutating func time(_ v: EpochMillis?) {
    guard let v else { return string(nil) }
    valueStart()
    let written = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 26) { scratch in
      scratch[0] = 0x22
      scratch[25] = 0x22
      guard Timestamp.write(v, to: scratch.baseAddress! + 1) else { return false }
      bytes.append(contentsOf: scratch)
      return true
    }
    if !written { JSONWriter.appendQuoted(Timestamp.format(v), to: &bytes) }
  }

  mutating func field(_ k: StaticString, _ s: String?) {
    key(k)
    string(s)
  }

  mutating func field(_ k: StaticString, int v: Int?) {
    key(k)
    int(v)
  }

  mutating func field(named k: String, int v: Int?) {
    key(named: k)
    int(v)
  }

  /// An evidence line, quoted from its bytes: a report is mostly these, and reading each into a
  /// String first cost a decoding pass and an allocation per line.
  mutating func field(_ k: StaticString, line: LineText) {
    key(k)
    valueStart()
    line.withBytes { b in
      if !JSONWriter.appendQuoted(b, validating: true, to: &bytes) {
        // Not UTF-8: decoded as `string` decodes it (ill-formed sequences become U+FFFD). Cut
        // lines end in ` …`: checking each sequence in place spares them the decoding.
        JSONWriter.appendQuoted(String(decoding: b, as: UTF8.self), to: &bytes)
      }
    }
  }

  mutating func field(_ k: StaticString, time v: EpochMillis?) {
    key(k)
    time(v)
  }

  /// Appends `s` as a JSON string literal.
  static func appendQuoted(_ s: String, to out: inout [UInt8]) {
    var s = s
    // A String is well-formed UTF-8: its bytes past ASCII are copied as they are.
    s.withUTF8 { _ = appendQuoted(UnsafeRawBufferPointer($0), validating: false, to: &out) }
  }

  /// Appends `b` as a JSON string literal; false (nothing appended) if `validating` and `b` is
  /// not well-formed UTF-8. The literal is built in a scratch buffer with room for the worst case
  /// (every byte a six-byte `\u00XX`) and appended once: appending each run between escapes cost
  /// more than escaping, and evidence lines are JSON themselves, a quote every few bytes.
  @discardableResult
  static func appendQuoted(_ b: UnsafeRawBufferPointer, validating: Bool, to out: inout [UInt8]) -> Bool {
    withUnsafeTemporaryAllocation(byteCount: 6 * b.count + 2, alignment: 8) { scratch in
      guard let length = quote(b, into: scratch, validating: validating) else { return false }
      out.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<length]))
      return true
    }
  }

  /// Writes `b` quoted and escaped into `out` and returns the length; with `validating`, nil at
  /// the first ill-formed UTF-8 sequence. Words of eight bytes that need nothing are copied whole.
  private static func quote(_ b: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer,
    validating: Bool) -> Int?
  {
    let dst = out.baseAddress!
    dst.storeBytes(of: 0x22, as: UInt8.self)
    var o = 1
    let n = b.count
    var i = 0
    while i < n {
      if i + 8 <= n {
        let word = b.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        if !mayNeedEscape(word) {
          (dst + o).storeBytes(of: word, as: UInt64.self)
          i += 8
          o += 8
          continue
        }
      }
      // The rest of this word (or of the tail) one byte at a time.
      let end = min(i + 8, n)
      while i < end {
        let c = b[i]
        i += 1
        if c >= 0x20, c < 0x7F, c != 0x22, c != 0x5C {
          dst.storeBytes(of: c, toByteOffset: o, as: UInt8.self)
          o += 1
          continue
        }
        if c >= 0x80 {
          guard validating else {  // a String's bytes: well-formed
            dst.storeBytes(of: c, toByteOffset: o, as: UInt8.self)
            o += 1
            continue
          }
          guard let length = ContentCheck.sequenceLength(b, at: i - 1) else { return nil }
          for k in 0..<length { dst.storeBytes(of: b[i - 1 + k], toByteOffset: o + k, as: UInt8.self) }
          o += length
          i += length - 1
          continue
        }
        let escape: (UInt8, UInt8)? = switch c {
        case 0x22, 0x5C: (0x5C, c)
        case 0x0A: (0x5C, UInt8(ascii: "n"))
        case 0x0D: (0x5C, UInt8(ascii: "r"))
        case 0x09: (0x5C, UInt8(ascii: "t"))
        default: nil
        }
        if let (first, second) = escape {
          dst.storeBytes(of: first, toByteOffset: o, as: UInt8.self)
          dst.storeBytes(of: second, toByteOffset: o + 1, as: UInt8.self)
          o += 2
        } else {
          // Other control characters and DEL: \u00XX.
          let hex: StaticString = "0123456789abcdef"
          for (k, byte) in [UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30, hex.utf8Start[Int(c >> 4)],
            hex.utf8Start[Int(c & 15)]].enumerated()
          {
            dst.storeBytes(of: byte, toByteOffset: o + k, as: UInt8.self)
          }
          o += 6
        }
      }
    }
    dst.storeBytes(of: 0x22, toByteOffset: o, as: UInt8.self)
    return o + 1
  }

  /// Whether any of the eight bytes of `w` may need more than copying: a control character,
  /// `"`, `\`, DEL or a byte past ASCII (the classic "has a byte less than / equal to" bit
  /// tricks; a false alarm only costs looking at the bytes one by one).
  @inline(__always)
  private static func mayNeedEscape(_ w: UInt64) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    func hasZeroByte(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
    let control = (w &- 0x20 &* ones) & ~w & highs
    let quote = hasZeroByte(w ^ (0x22 &* ones))
    let backslash = hasZeroByte(w ^ (0x5C &* ones))
    let delOrHigh = (w | (w &+ ones)) & highs
    return control | quote | backslash | delOrHigh != 0
  }
}
