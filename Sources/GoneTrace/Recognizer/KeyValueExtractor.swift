/// Pulls values by key out of JSON-ish text: access-log rows, proxy events that execution logs
/// print, and events that Lambda functions print with `console.log` (Node's `util.inspect`:
/// unquoted keys, single quotes, `\r` line breaks) or `print` (Python dict repr). The text may be
/// cut (` [TRUNCATED]`), so it never needs a complete document: for each key it takes the first
/// occurrence, at any depth, whose value fits the field.
enum KeyValueExtractor {
  /// Calls `accept(rawValue)` for each occurrence of `key` as a key, in order, until it returns true.
  static func forEachValue(of key: [UInt8], in text: UnsafeRawBufferPointer, _ accept: (String) -> Bool) {
    var from = 0
    key.withUnsafeBytes { k in
      while let hit = Bytes.firstIndex(of: k, in: text, from: from) {
        from = hit + 1
        guard let value = valueAfterKey(text, keyStart: hit, keyLength: k.count) else { continue }
        if accept(value) { return }
      }
    }
  }

  private static func isIdentifier(_ b: UInt8) -> Bool {
    Bytes.isDigit(b) || (b | 0x20) &- 0x61 < 26 || b == UInt8(ascii: "_") || b == UInt8(ascii: "$")
  }

  /// The raw value when the bytes at `keyStart` are a key (quoted or bare) followed by `:`.
  private static func valueAfterKey(_ t: UnsafeRawBufferPointer, keyStart: Int, keyLength: Int) -> String? {
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
      var j = i + 1
      while j < t.count, t[j] != open {
        if t[j] == Bytes.backslash { j += 1 }
        j += 1
      }
      let body = UnsafeRawBufferPointer(rebasing: t[(i + 1)..<min(j, t.count)])
      if open == Bytes.quote {
        var out: [UInt8] = []
        Bytes.appendJSONUnescaped(body, to: &out)
        return String(decoding: out, as: UTF8.self)
      }
      return String(bytes: body)
    }
    if open == UInt8(ascii: "{") || open == UInt8(ascii: "[") { return nil }  // a nested value: look deeper
    var j = i
    while j < t.count, t[j] != UInt8(ascii: ","), t[j] != UInt8(ascii: "}"), t[j] != UInt8(ascii: "]"),
      t[j] != Bytes.space, t[j] != Bytes.carriageReturn, t[j] != Bytes.newline, t[j] != Bytes.tab
    {
      j += 1
    }
    let scalar = String(bytes: UnsafeRawBufferPointer(rebasing: t[i..<j]))
    return scalar == "null" || scalar == "undefined" || scalar == "None" ? nil : scalar
  }
}
