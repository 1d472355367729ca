/// Checks event bytes for what reports cannot show as they are: invalid UTF-8 (shown with U+FFFD)
/// and NUL bytes. Nothing is dropped for either: gonetrace matches bytes, so the event is
/// recognised all the same; the input just gets one warning naming the first such line.
enum ContentCheck {
  struct Findings {
    var invalidUTF8 = false
    var nul = false
  }

  private static let high: UInt64 = 0x8080_8080_8080_8080
  private static let ones: UInt64 = 0x0101_0101_0101_0101

  static func scan(_ b: UnsafeRawBufferPointer) -> Findings {
    var found = Findings()
    guard let base = b.baseAddress, !isPlainASCII(b) else { return found }
    let n = b.count
    var i = 0
    while i < n {
      // ASCII, 8 bytes at a time (the bulk of any log).
      while i + 8 <= n {
        let w = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        if w & high != 0 { break }
        if (w &- ones) & ~w & high != 0 { found.nul = true }
        i += 8
      }
      guard i < n else { break }
      let c = b[i]
      if c < 0x80 {
        if c == 0 { found.nul = true }
        i += 1
        continue
      }
      if found.invalidUTF8 {
        i += 1
        continue
      }
      guard let length = ContentCheck.sequenceLength(b, at: i) else {
        found.invalidUTF8 = true
        i += 1
        continue
      }
      i += length
    }
    return found
  }
}

extension ContentCheck {
  /// The length of the well-formed UTF-8 sequence starting at `b[i]` (a byte past ASCII), or nil
  /// when it is ill-formed: a stray continuation byte, an overlong form, a surrogate, a code point
  /// past U+10FFFF, or a sequence cut short.
  @inline(__always)
  static func sequenceLength(_ b: UnsafeRawBufferPointer, at i: Int) -> Int? {
    let length: Int
    var low: UInt8 = 0x80, top: UInt8 = 0xBF  // allowed range of the second byte
    switch b[i] {
    case 0xC2...0xDF: length = 2
    case 0xE0: length = 3; low = 0xA0  // no overlong forms
    case 0xE1...0xEC, 0xEE...0xEF: length = 3
    case 0xED: length = 3; top = 0x9F  // no surrogates
    case 0xF0: length = 4; low = 0x90
    case 0xF1...0xF3: length = 4
    case 0xF4: length = 4; top = 0x8F  // nothing past U+10FFFF
    default: return nil
    }
    guard i + length <= b.count, (low...top).contains(b[i + 1]) else { return nil }
    for k in 2..<length where b[i + k] & 0xC0 != 0x80 { return nil }
    return length
  }

  /// Whether `b` is ASCII without NUL, as nearly every log line is. A byte is NUL or past ASCII
  /// exactly when `byte | (byte &- 1)` has its high bit set, so sixteen bytes at a time are
  /// or-ed together with that and the high bits tested once at the end; the byte-wise scan above
  /// then runs only for the rare line that has something to report. (`SIMD16<UInt8>` compiles to
  /// SSE2 here: a third of the instructions of the eight-byte words this replaced, which were 8%
  /// of the work on a line no rule takes. `pointwiseMin` and `SIMD32` compile to calls and loops.)
  static func isPlainASCII(_ b: UnsafeRawBufferPointer) -> Bool {
    guard let base = b.baseAddress else { return true }
    let n = b.count
    let ones = SIMD16<UInt8>(repeating: 1)
    var bits = SIMD16<UInt8>(repeating: 0)
    @inline(__always) func add(_ v: SIMD16<UInt8>) { bits |= v | (v &- ones) }
    if n >= 16 {
      var i = 0
      while i + 32 <= n {
        add(base.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self))
        add(base.loadUnaligned(fromByteOffset: i + 16, as: SIMD16<UInt8>.self))
        i += 32
      }
      if i + 16 <= n { add(base.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)) }
      // The last sixteen bytes, overlapping what was read (read twice, they answer the same).
      add(base.loadUnaligned(fromByteOffset: n - 16, as: SIMD16<UInt8>.self))
    } else if n > 0 {
      // A short line, padded with a byte that is neither NUL nor past ASCII.
      var padded = SIMD16<UInt8>(repeating: 0x20)
      withUnsafeMutableBytes(of: &padded) { $0.copyMemory(from: b) }
      add(padded)
    }
    let words = unsafeBitCast(bits, to: (UInt64, UInt64).self)
    return (words.0 | words.1) & high == 0
  }
}

/// What `ContentCheck` found over one input: how many events, and the first of each kind. Big
/// files read in pieces tally per piece and merge, so they warn as one pass does.
struct ContentTally: Sendable, Equatable {
  var invalidUTF8 = 0, withNUL = 0
  var firstInvalidUTF8: Origin?, firstNUL: Origin?

  mutating func check(_ event: RawEvent) {
    let found = ContentCheck.scan(event.message)
    if found.invalidUTF8 {
      invalidUTF8 += 1
      if firstInvalidUTF8 == nil { firstInvalidUTF8 = event.origin }
    }
    if found.nul {
      withNUL += 1
      if firstNUL == nil { firstNUL = event.origin }
    }
  }

  /// Adds a later piece of the same input whose line numbers start after `linesBefore`.
  mutating func append(_ later: ContentTally, linesBefore: Int) {
    func shifted(_ o: Origin?) -> Origin? {
      o.map { var o = $0; o.line = o.line.map { $0 + linesBefore }; return o }
    }
    if firstInvalidUTF8 == nil { firstInvalidUTF8 = shifted(later.firstInvalidUTF8) }
    if firstNUL == nil { firstNUL = shifted(later.firstNUL) }
    invalidUTF8 += later.invalidUTF8
    withNUL += later.withNUL
  }

  func diagnostics(input: String) -> [Diagnostic] {
    var out: [Diagnostic] = []
    if let first = firstInvalidUTF8 {
      out.append(Diagnostic(input: input, line: first.line, record: first.record, severity: .warning,
        message: "\(invalidUTF8) event\(invalidUTF8 == 1 ? "" : "s") with invalid UTF-8 (the first here); "
          + "read as bytes, shown with U+FFFD"))
    }
    if let first = firstNUL {
      out.append(Diagnostic(input: input, line: first.line, record: first.record, severity: .warning,
        message: "\(withNUL) event\(withNUL == 1 ? "" : "s") with NUL bytes (the first here); read as bytes"))
    }
    return out
  }
}
