#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a stream of JSON text into records: the values found at a chosen nesting depth
/// (an event object inside `{"events": [ … ]}`, a row array inside `{"results": [ … ]}`, a whole
/// top-level payload). Works on arbitrary chunk boundaries and on several documents concatenated
/// with or without separators (pages appended by `>>`, Firehose records in one S3 object).
///
/// Inside strings it jumps from quote to quote with `memchr`, so the bulk of the bytes (the
/// messages) is skipped at memory speed; only the structure between strings is walked.
struct JSONRecordSplitter {
  /// Depth of records for a top-level value that opens with `{` or `[` (1 = the value itself).
  let depthInObject: Int
  let depthInArray: Int
  /// The largest record buffered across chunks; larger ones are dropped with a diagnostic.
  let maxRecordBytes: Int

  private var depth = 0
  private var recordDepth = 0
  private var inString = false
  private var backslashRun = 0  // trailing backslashes of the last chunk, inside a string
  private var inRecord = false
  private var recordStartLine = 0
  private var carry: [UInt8] = []
  private var carrying = false
  private var overflowed = false
  private(set) var line = 1
  /// Bytes outside any value that are not white space or separators (a file that only looks like JSON).
  private(set) var strayBytes = 0
  private(set) var firstStrayLine: Int?

  init(depthInObject: Int, depthInArray: Int, maxRecordBytes: Int = 256 * 1024 * 1024) {
    self.depthInObject = depthInObject
    self.depthInArray = depthInArray
    self.maxRecordBytes = maxRecordBytes
  }

  enum Event {
    case record(UnsafeRawBufferPointer, line: Int)
    case oversized(line: Int)
  }

  var isInsideValue: Bool { depth > 0 || inString }

  mutating func feed(_ chunk: UnsafeRawBufferPointer, _ body: (Event) -> Void) {
    let n = chunk.count
    var i = 0
    var recordStart = 0  // in this chunk, when the record began here
    while i < n {
      if inString {
        guard let q = Bytes.index(of: Bytes.quote, in: chunk, from: i, to: n) else {
          backslashRun = trailingBackslashes(chunk, from: i, to: n, carried: backslashRun)
          i = n
          break
        }
        let run = trailingBackslashes(chunk, from: i, to: q, carried: backslashRun)
        backslashRun = 0
        i = q + 1
        if run % 2 == 0 { inString = false }
        continue
      }
      let b = chunk[i]
      switch b {
      case Bytes.quote:
        inString = true
        backslashRun = 0
        if depth == 0 { noteStray(i) }
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        if depth == 0 { recordDepth = b == UInt8(ascii: "{") ? depthInObject : depthInArray }
        depth += 1
        if depth == recordDepth, !inRecord {
          inRecord = true
          recordStart = i
          recordStartLine = line
          carrying = false
          overflowed = false
        }
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        if depth == 0 {
          noteStray(i)
          break
        }
        if inRecord, depth == recordDepth {
          inRecord = false
          if overflowed {
            body(.oversized(line: recordStartLine))
          } else if carrying {
            append(UnsafeRawBufferPointer(rebasing: chunk[0...i]))
            if overflowed {
              body(.oversized(line: recordStartLine))
            } else {
              carry.withUnsafeBytes { body(.record($0, line: recordStartLine)) }
            }
          } else {
            body(.record(UnsafeRawBufferPointer(rebasing: chunk[recordStart...i]), line: recordStartLine))
          }
          carry.removeAll(keepingCapacity: carry.count <= 1 << 20)
          carrying = false
        }
        depth -= 1
      case Bytes.newline:
        line += 1
      case 0x20, 0x09, 0x0D, UInt8(ascii: ","), UInt8(ascii: ":"):
        break
      default:
        if depth == 0 { noteStray(i) }
      }
      i += 1
    }
    if inRecord {
      let from = carrying ? 0 : recordStart
      carrying = true
      append(UnsafeRawBufferPointer(rebasing: chunk[from..<n]))
    }
  }

  /// Feeds a chunk and hands each complete record to `body`; a record over the cap becomes a
  /// diagnostic naming the input, the line and what was lost.
  mutating func records<S: EventSink>(
    in chunk: UnsafeRawBufferPointer, inputName: String, what: String, into sink: inout S,
    _ body: (UnsafeRawBufferPointer, Int, inout S) -> Void
  ) {
    let capMiB = maxRecordBytes / (1024 * 1024)
    feed(chunk) { event in
      switch event {
      case .record(let bytes, let line): body(bytes, line, &sink)
      case .oversized(let line):
        sink.report(Diagnostic(input: inputName, line: line, severity: .error,
          message: "\(what) larger than \(capMiB) MiB; skipped"))
      }
    }
  }

  private mutating func noteStray(_ i: Int) {
    strayBytes += 1
    if firstStrayLine == nil { firstStrayLine = line }
  }

  private mutating func append(_ bytes: UnsafeRawBufferPointer) {
    guard !overflowed else { return }
    if carry.count + bytes.count > maxRecordBytes {
      overflowed = true
      carry = []
    } else {
      carry.append(contentsOf: bytes)
    }
  }

  /// Backslashes immediately before `to` (continuing a run carried from the previous chunk when
  /// the run reaches `from`). An odd count escapes the quote at `to`.
  private func trailingBackslashes(_ b: UnsafeRawBufferPointer, from: Int, to: Int, carried: Int) -> Int {
    var k = 0
    var j = to - 1
    while j >= from, b[j] == Bytes.backslash {
      k += 1
      j -= 1
    }
    return j < from ? k + carried : k
  }
}

/// A JSON value's kind and extent inside a complete record.
struct JSONValue {
  enum Kind { case string, number, object, array, literal }
  var kind: Kind
  /// For strings: the bytes between the quotes, still escaped. Otherwise the whole value.
  var bytes: UnsafeRawBufferPointer
}

/// Reads members and elements of a complete JSON value in place. Tolerant: it never traps on
/// malformed input, it stops and reports `false`.
enum JSONReader {
  @inline(__always)
  private static func skipSpace(_ b: UnsafeRawBufferPointer, _ i: inout Int) {
    while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
  }

  /// Index just past the string starting at `b[i] == "`.
  private static func endOfString(_ b: UnsafeRawBufferPointer, _ i: Int) -> Int? {
    var j = i + 1
    while true {
      guard let q = Bytes.index(of: Bytes.quote, in: b, from: j, to: b.count) else { return nil }
      var k = q - 1
      var run = 0
      while k > i, b[k] == Bytes.backslash {
        run += 1
        k -= 1
      }
      if run % 2 == 0 { return q + 1 }
      j = q + 1
    }
  }

  /// Parses one value at `i`, advancing `i` past it.
  static func value(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> JSONValue? {
    skipSpace(b, &i)
    guard i < b.count else { return nil }
    let start = i
    switch b[i] {
    case Bytes.quote:
      guard let end = endOfString(b, i) else { return nil }
      i = end
      return JSONValue(kind: .string, bytes: UnsafeRawBufferPointer(rebasing: b[(start + 1)..<(end - 1)]))
    case UInt8(ascii: "{"), UInt8(ascii: "["):
      var depth = 0
      while i < b.count {
        let c = b[i]
        if c == Bytes.quote {
          guard let end = endOfString(b, i) else { return nil }
          i = end
          continue
        }
        if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { depth += 1 }
        if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
          depth -= 1
          if depth == 0 {
            i += 1
            return JSONValue(kind: b[start] == UInt8(ascii: "{") ? .object : .array,
              bytes: UnsafeRawBufferPointer(rebasing: b[start..<i]))
          }
        }
        i += 1
      }
      return nil
    default:
      while i < b.count, b[i] != UInt8(ascii: ","), b[i] != UInt8(ascii: "}"), b[i] != UInt8(ascii: "]"),
        b[i] != 0x20, b[i] != 0x0A, b[i] != 0x0D, b[i] != 0x09
      {
        i += 1
      }
      guard i > start else { return nil }
      let isNumber = Bytes.isDigit(b[start]) || b[start] == UInt8(ascii: "-")
      return JSONValue(kind: isNumber ? .number : .literal, bytes: UnsafeRawBufferPointer(rebasing: b[start..<i]))
    }
  }

  /// Calls `body(key, value)` for each member of the object in `b`; `body` returns false to stop.
  /// Returns false when the object is malformed.
  @discardableResult
  static func forEachMember(
    _ b: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer, JSONValue) -> Bool
  ) -> Bool {
    var i = 0
    skipSpace(b, &i)
    guard i < b.count, b[i] == UInt8(ascii: "{") else { return false }
    i += 1
    while true {
      skipSpace(b, &i)
      guard i < b.count else { return false }
      if b[i] == UInt8(ascii: "}") { return true }
      guard b[i] == Bytes.quote, let keyEnd = endOfString(b, i) else { return false }
      let key = UnsafeRawBufferPointer(rebasing: b[(i + 1)..<(keyEnd - 1)])
      i = keyEnd
      skipSpace(b, &i)
      guard i < b.count, b[i] == UInt8(ascii: ":") else { return false }
      i += 1
      guard let v = value(b, &i) else { return false }
      if !body(key, v) { return true }
      skipSpace(b, &i)
      if i < b.count, b[i] == UInt8(ascii: ",") { i += 1 }
    }
  }

  /// Calls `body(element)` for each element of the array in `b`.
  @discardableResult
  static func forEachElement(_ b: UnsafeRawBufferPointer, _ body: (JSONValue) -> Bool) -> Bool {
    var i = 0
    skipSpace(b, &i)
    guard i < b.count, b[i] == UInt8(ascii: "[") else { return false }
    i += 1
    while true {
      skipSpace(b, &i)
      guard i < b.count else { return false }
      if b[i] == UInt8(ascii: "]") { return true }
      guard let v = value(b, &i) else { return false }
      if !body(v) { return true }
      skipSpace(b, &i)
      if i < b.count, b[i] == UInt8(ascii: ",") { i += 1 }
    }
  }

  /// Where `b` stops being one JSON value (RFC 8259) with only white space around it: the offset
  /// of the first byte that breaks the grammar (`b.count` when it ends too soon), nil when it is
  /// one. Strict, unlike the readers above (made for logs, where a bad line is skipped): a file
  /// gonetrace wrote itself and reads back whole, the state, must be refused when damaged, not
  /// half read. One pass, nothing allocated but the nesting.
  static func firstError(_ b: UnsafeRawBufferPointer) -> Int? {
    var i = 0
    var open: [UInt8] = []
    var expectingValue = true
    while true {
      skipSpace(b, &i)
      if expectingValue {
        guard i < b.count else { return i }
        let c = b[i]
        if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
          i += 1
          skipSpace(b, &i)
          if i < b.count, b[i] == closing(c) {
            i += 1
            expectingValue = false
          } else {
            open.append(c)
            if c == UInt8(ascii: "{") { guard memberKey(b, &i) else { return i } }
          }
          continue
        }
        guard scalar(b, &i) else { return i }
        expectingValue = false
      } else {
        guard let top = open.last else { return i == b.count ? nil : i }
        guard i < b.count else { return i }
        if b[i] == UInt8(ascii: ",") {
          i += 1
          if top == UInt8(ascii: "{") {
            skipSpace(b, &i)
            guard memberKey(b, &i) else { return i }
          }
          expectingValue = true
        } else if b[i] == closing(top) {
          open.removeLast()
          i += 1
        } else {
          return i
        }
      }
    }
  }

  private static func closing(_ opening: UInt8) -> UInt8 {
    opening == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
  }

  /// `"key" :`, leaving `i` before the member's value.
  private static func memberKey(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> Bool {
    guard i < b.count, b[i] == Bytes.quote, strictString(b, &i) else { return false }
    skipSpace(b, &i)
    guard i < b.count, b[i] == UInt8(ascii: ":") else { return false }
    i += 1
    return true
  }

  /// A string, number or literal at `i`, strictly; `i` is left past it, or at the byte at fault.
  private static func scalar(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> Bool {
    let c = b[i]
    if c == Bytes.quote { return strictString(b, &i) }
    for literal: StaticString in ["true", "false", "null"] where c == literal.utf8Start[0] {
      let n = literal.utf8CodeUnitCount
      guard i + n <= b.count, memcmp(b.baseAddress! + i, literal.utf8Start, n) == 0 else { return false }
      i += n
      return true
    }
    // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    func digits() -> Bool {
      let start = i
      while i < b.count, Bytes.isDigit(b[i]) { i += 1 }
      return i > start
    }
    if b[i] == UInt8(ascii: "-") { i += 1 }
    if i < b.count, b[i] == UInt8(ascii: "0") {
      i += 1
    } else {
      guard digits() else { return false }
    }
    if i < b.count, b[i] == UInt8(ascii: ".") {
      i += 1
      guard digits() else { return false }
    }
    if i < b.count, b[i] | 0x20 == UInt8(ascii: "e") {
      i += 1
      if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
      guard digits() else { return false }
    }
    return true
  }

  /// A string at `b[i] == "`: no raw control character, only the escapes JSON has.
  private static func strictString(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> Bool {
    i += 1
    while i < b.count {
      let c = b[i]
      if c == Bytes.quote {
        i += 1
        return true
      }
      if c < 0x20 { return false }
      if c == Bytes.backslash {
        i += 1
        guard i < b.count else { return false }
        switch b[i] {
        case Bytes.quote, Bytes.backslash, UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
          UInt8(ascii: "r"), UInt8(ascii: "t"):
          break
        case UInt8(ascii: "u"):
          guard i + 4 < b.count, (1...4).allSatisfy({ Bytes.isHex(b[i + $0]) }) else { return false }
          i += 4
        default: return false
        }
      }
      i += 1
    }
    return false
  }

  static func equals(_ key: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
    guard key.count == literal.utf8CodeUnitCount else { return false }
    return key.count == 0 || memcmp(key.baseAddress!, literal.utf8Start, key.count) == 0
  }

  static func string(_ v: JSONValue) -> String {
    var out: [UInt8] = []
    Bytes.appendJSONUnescaped(v.bytes, to: &out)
    return String(decoding: out, as: UTF8.self)
  }
}
