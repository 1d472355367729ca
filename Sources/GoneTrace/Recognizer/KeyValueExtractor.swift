#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Pulls values by key out of JSON-ish text: access-log rows, proxy events that execution logs
/// print, and events that Lambda functions print with `console.log` (Node's `util.inspect`:
/// unquoted keys, single quotes, `\r` line breaks) or `print` (Python dict repr). The text may be
/// cut (` [TRUNCATED]`), so it never needs a complete document: for each key it takes the first
/// occurrence, at any depth, whose value fits the field.
enum KeyValueExtractor {
  /// Calls `accept(rawValue)` for each occurrence of `key` as a key, in order, until it returns true.
  static func forEachValue(of key: [UInt8], in text: UnsafeRawBufferPointer, _ accept: (UnsafeRawBufferPointer) -> Bool) {
    var from = 0
    key.withUnsafeBytes { k in
      while let hit = Bytes.firstIndex(of: k, in: text, from: from) {
        from = hit + 1
        if withValueAfterKey(text, keyStart: hit, keyLength: k.count, accept) == true { return }
      }
    }
  }

  /// `body` of the value at a key occurrence found by `KeyTable.occurrences` (the same value
  /// `forEachValue` gives), or nil when the occurrence is not a key with a value.
  static func withValue<T>(in text: UnsafeRawBufferPointer, keyStart: Int, keyLength: Int,
    _ body: (UnsafeRawBufferPointer) -> T) -> T?
  {
    withValueAfterKey(text, keyStart: keyStart, keyLength: keyLength, body)
  }

  static func isIdentifier(_ b: UInt8) -> Bool {
    Bytes.isDigit(b) || (b | 0x20) &- 0x61 < 26 || b == UInt8(ascii: "_") || b == UInt8(ascii: "$")
  }

  /// Calls `body` with the raw value when the bytes at `keyStart` are a key (quoted or bare)
  /// followed by `:`. The value is the text itself wherever it can be (a JSON string with
  /// escapes is unescaped into a scratch buffer): no String is made for a value the caller rejects.
  private static func withValueAfterKey<T>(_ t: UnsafeRawBufferPointer, keyStart: Int, keyLength: Int,
    _ body: (UnsafeRawBufferPointer) -> T) -> T?
  {
    var quote: UInt8? = nil
    if keyStart > 0 {
      let before = t[keyStart - 1]
      if before == Bytes.quote || before == UInt8(ascii: "'") {
        quote = before
        // An escaped quote (`\"key\"`) is a key inside a string: a nested document.
        if keyStart > 1, t[keyStart - 2] == Bytes.backslash { return nil }
      } else if isIdentifier(before) {
        return nil
      }
    }
    var i = keyStart + keyLength
    if let quote {
      guard i < t.count, t[i] == quote else { return nil }
      i += 1
    } else if i < t.count, isIdentifier(t[i]) {
      return nil
    }
    while i < t.count, t[i] == Bytes.space || t[i] == Bytes.tab { i += 1 }
    guard i < t.count, t[i] == UInt8(ascii: ":") else { return nil }
    i += 1
    while i < t.count, t[i] == Bytes.space || t[i] == Bytes.tab || t[i] == Bytes.carriageReturn || t[i] == Bytes.newline {
      i += 1
    }
    guard i < t.count else { return nil }
    let open = t[i]
    if open == Bytes.quote || open == UInt8(ascii: "'") {
      // The closing quote: the first quote not escaped, found with `memchr` (values are user
      // agents and ids, tens of bytes; a byte at a time was a third of reading an access-log row).
      var j = i + 1
      var escaped = false
      while true {
        guard let close = Bytes.index(of: open, in: t, from: j, to: t.count) else {
          j = t.count
          break
        }
        guard let backslash = Bytes.index(of: Bytes.backslash, in: t, from: j, to: close) else {
          j = close
          break
        }
        escaped = true
        j = backslash + 2  // past the escaped byte, which may be this quote
      }
      // No closing quote: the line was cut inside the value (` [TRUNCATED]`, §1.2). A prefix of a
      // principal or an id is not that value, and as a client key it would join strangers.
      guard j < t.count else { return nil }
      let value = UnsafeRawBufferPointer(rebasing: t[(i + 1)..<j])
      guard open == Bytes.quote, escaped else { return body(value) }
      var out: [UInt8] = []
      Bytes.appendJSONUnescaped(value, to: &out)
      return out.withUnsafeBytes(body)
    }
    if open == UInt8(ascii: "{") || open == UInt8(ascii: "[") { return nil }  // a nested value: look deeper
    var j = i
    while j < t.count, t[j] != UInt8(ascii: ","), t[j] != UInt8(ascii: "}"), t[j] != UInt8(ascii: "]"),
      t[j] != Bytes.space, t[j] != Bytes.carriageReturn, t[j] != Bytes.newline, t[j] != Bytes.tab
    {
      j += 1
    }
    if isCutMarker(t, at: j) { return nil }  // `"connectedAt":17152 [TRUNCATED]`: a cut number
    let scalar = UnsafeRawBufferPointer(rebasing: t[i..<j])
    for absent in ["null", "undefined", "None"] as [StaticString]
    where scalar.count == absent.utf8CodeUnitCount && memcmp(scalar.baseAddress!, absent.utf8Start, scalar.count) == 0 {
      return nil
    }
    return body(scalar)
  }

  private static let cutMarker: StaticString = " [TRUNCATED]"

  /// Whether `t` ends at `at` with API Gateway's mark of a cut line.
  static func isCutMarker(_ t: UnsafeRawBufferPointer, at: Int) -> Bool {
    let n = cutMarker.utf8CodeUnitCount
    return t.count - at == n && memcmp(t.baseAddress! + at, cutMarker.utf8Start, n) == 0
  }
}

/// Every key of a rule set, found in one pass. A key occurrence that `forEachValue` accepts is
/// always followed by an optional closing quote, spaces or tabs, and `:`; so walking back from
/// each `:` (found with `memchr`) finds every candidate, in text order, without a search per key.
/// Only for keys made of identifier bytes (`[A-Za-z0-9_$]`); rule sets with other keys use
/// `forEachValue`.
struct KeyTable: Sendable {
  let keys: [[UInt8]]
  // The keys back to back, and their ids grouped by length (`byLength[lengthStart[n]..<lengthStart[n + 1]]`
  // have length n): flat arrays, read through pointers taken once per message, because this
  // runs at every colon of every JSON line (an array of arrays retained and released the inner
  // array of each colon's length, and each key it compared).
  private let keyBytes: [UInt8]
  private let keyOffset: [Int]
  private let byLength: [Int]
  private let lengthStart: [Int]
  private let maxLength: Int
  let usable: Bool
  /// `KeyValueExtractor.isIdentifier` of each byte value: the walk back over each key is a
  /// load per byte, not four comparisons (it was half of finding the keys of a JSON line).
  /// Made once, never freed.
  nonisolated(unsafe) private static let identifierByte: UnsafePointer<Bool> = {
    let table = UnsafeMutablePointer<Bool>.allocate(capacity: 256)
    for b in 0...255 { table[b] = KeyValueExtractor.isIdentifier(UInt8(b)) }
    return UnsafePointer(table)
  }()

  init(keys: [[UInt8]]) {
    self.keys = keys
    maxLength = keys.map(\.count).max() ?? 0
    keyBytes = keys.flatMap { $0 }
    keyOffset = keys.reduce(into: [0]) { $0.append($0.last! + $1.count) }
    byLength = keys.indices.sorted { (keys[$0].count, $0) < (keys[$1].count, $1) }
    lengthStart = (0...(maxLength + 1)).map { n in keys.count { $0.count < n } }
    usable = keys.allSatisfy { !$0.isEmpty && $0.allSatisfy(KeyValueExtractor.isIdentifier) }
  }

  /// The length of key `id` (without retaining its bytes).
  func length(of id: Int) -> Int { keyOffset[id + 1] - keyOffset[id] }

  /// Appends (key id, key start) for every occurrence of a key placed as a key, in text order.
  func occurrences(in t: UnsafeRawBufferPointer, into out: inout [(key: Int, at: Int)]) {
    guard let base = t.baseAddress, !keys.isEmpty else { return }
    keyBytes.withUnsafeBytes { keyBytes in
      keyOffset.withUnsafeBufferPointer { keyOffset in
        byLength.withUnsafeBufferPointer { byLength in
          lengthStart.withUnsafeBufferPointer { lengthStart in
            let identifierByte = KeyTable.identifierByte
            let n = t.count
            var from = 0
            while from < n, let hit = memchr(base + from, Int32(UInt8(ascii: ":")), n - from) {
              let colon = base.distance(to: UnsafeRawPointer(hit))
              from = colon + 1
              var j = colon - 1
              while j >= 0, t[j] == Bytes.space || t[j] == Bytes.tab { j -= 1 }
              guard j >= 0 else { continue }
              var quote: UInt8? = nil
              if t[j] == Bytes.quote || t[j] == UInt8(ascii: "'") {
                quote = t[j]
                j -= 1
              }
              let end = j + 1
              while j >= 0, identifierByte[Int(t[j])] { j -= 1 }
              let start = j + 1
              let length = end - start
              guard length > 0, length <= maxLength, lengthStart[length] < lengthStart[length + 1] else { continue }
              if let quote {
                guard start > 0, t[start - 1] == quote else { continue }
              } else if start > 0, t[start - 1] == Bytes.quote || t[start - 1] == UInt8(ascii: "'") {
                continue
              }
              for c in lengthStart[length]..<lengthStart[length + 1] {
                let id = byLength[c]
                let k = keyBytes.baseAddress! + keyOffset[id]
                if k.load(as: UInt8.self) == t[start], memcmp(base + start, k, length) == 0 {
                  out.append((id, start))
                  break
                }
              }
            }
          }
        }
      }
    }
  }
}
