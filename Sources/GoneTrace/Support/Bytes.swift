#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
internal import CPCRE2

/// Byte-level helpers used on the hot path. Everything here works on raw buffers so that
/// no `String` is built for a line unless it ends up in a report.
enum Bytes {
  static let newline: UInt8 = 0x0A
  static let carriageReturn: UInt8 = 0x0D
  static let tab: UInt8 = 0x09
  static let space: UInt8 = 0x20
  static let quote: UInt8 = 0x22
  static let backslash: UInt8 = 0x5C

  /// Index of the first `byte` in `buffer[from..<to]`, via `memchr` (SIMD in glibc).
  @inline(__always)
  static func index(
    of byte: UInt8, in buffer: UnsafeRawBufferPointer, from: Int, to: Int
  ) -> Int? {
    guard from < to, let base = buffer.baseAddress else { return nil }
    guard let hit = memchr(base + from, Int32(byte), to - from) else { return nil }
    return base.distance(to: UnsafeRawPointer(hit))
  }

  /// Whether `needle` occurs in `haystack`; `memmem` is a two-way search with a SIMD first-byte skip.
  @inline(__always)
  static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer) -> Bool {
    firstIndex(of: needle, in: haystack, from: 0) != nil
  }

  /// Whether `needle` occurs in `haystack`, for the short haystacks of log lines: sixteen
  /// starting places at a time are tested for two of the needle's bytes (at `pair.0` and `pair.1`,
  /// two uncommon ones), and only the places where both are found are compared whole. The answer
  /// is `contains`'s; on lines of a few hundred bytes it costs less than half of `memmem`, whose
  /// two-way setup per call was a quarter of the work on a Lambda application line (W. Muła's
  /// "SIMD-friendly algorithms for substring searching", the generic variant).
  static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer, pair: (Int, Int)) -> Bool {
    let k = needle.count, n = haystack.count
    guard k > 0, n >= k, let base = haystack.baseAddress, let nb = needle.baseAddress else { return false }
    let (i1, i2) = pair
    let b1 = nb.load(fromByteOffset: i1, as: UInt8.self), b2 = nb.load(fromByteOffset: i2, as: UInt8.self)
    let last = n - k  // the last place the needle can start
    guard last >= 15 else {
      for s in 0...last where base.load(fromByteOffset: s + i1, as: UInt8.self) == b1
        && base.load(fromByteOffset: s + i2, as: UInt8.self) == b2 && memcmp(base + s, nb, k) == 0
      {
        return true
      }
      return false
    }
    let v1 = SIMD16<UInt8>(repeating: b1), v2 = SIMD16<UInt8>(repeating: b2)
    // Places s..<s + 16; the block's loads end at s + 15 + (k - 1) <= n - 1. The last block
    // overlaps the one before it rather than reading past the end.
    var s = 0
    while true {
      let found = (base.loadUnaligned(fromByteOffset: s + i1, as: SIMD16<UInt8>.self) .== v1)
        .& (base.loadUnaligned(fromByteOffset: s + i2, as: SIMD16<UInt8>.self) .== v2)
      let lanes = unsafeBitCast(found, to: (UInt64, UInt64).self)  // 0xFF per place found
      if lanes.0 | lanes.1 != 0 {
        var low = lanes.0, high = lanes.1
        while low != 0 {
          if memcmp(base + s + low.trailingZeroBitCount / 8, nb, k) == 0 { return true }
          low &= ~(0xFF << UInt64(low.trailingZeroBitCount & ~7))
        }
        while high != 0 {
          if memcmp(base + s + 8 + high.trailingZeroBitCount / 8, nb, k) == 0 { return true }
          high &= ~(0xFF << UInt64(high.trailingZeroBitCount & ~7))
        }
      }
      if s == last - 15 { return false }
      s = min(s + 16, last - 15)
    }
  }

  @inline(__always)
  static func firstIndex(
    of needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer, from: Int
  ) -> Int? {
    guard needle.count > 0, haystack.count - from >= needle.count,
      let base = haystack.baseAddress, let n = needle.baseAddress
    else { return nil }
    guard let hit = memmem(base + from, haystack.count - from, n, needle.count) else { return nil }
    return base.distance(to: UnsafeRawPointer(hit))
  }

  @inline(__always)
  static func hasPrefix(
    _ buffer: UnsafeRawBufferPointer, _ prefix: UnsafeRawBufferPointer, at offset: Int = 0
  ) -> Bool {
    guard offset >= 0, buffer.count - offset >= prefix.count else { return false }
    guard prefix.count > 0 else { return true }
    // The first byte rejects nearly every candidate without a call (a dozen anchored rules are
    // tried on every execution-log line).
    guard buffer[offset] == prefix[0] else { return false }
    return memcmp(buffer.baseAddress! + offset, prefix.baseAddress!, prefix.count) == 0
  }

  /// Trailing ASCII white space (space, tab, CR, LF) is not part of a CloudWatch message for our
  /// purposes: `aws logs tail` strips it, S3 exports turn a final `\n` into a blank line, and
  /// the JSON envelopes keep it. Dropping it everywhere makes the same event equal in every envelope.
  @inline(__always)
  static func trimmedEnd(_ buffer: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
    var end = buffer.count
    while end > 0 {
      let b = buffer[end - 1]
      if b == space || b == tab || b == newline || b == carriageReturn { end -= 1 } else { break }
    }
    return UnsafeRawBufferPointer(rebasing: buffer[0..<end])
  }

  @inline(__always)
  static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

  @inline(__always)
  static func isHex(_ b: UInt8) -> Bool {
    isDigit(b) || (b | 0x20) &- 0x61 < 6
  }

  /// The 128-bit value of a UUID (8-4-4-4-12 hex digits, either case), and whether it has an
  /// upper-case digit; nil for anything else. Every Lambda line names one, so the digits are
  /// checked without a branch per byte.
  static func uuid(_ u: UnsafeRawBufferPointer) -> (hi: UInt64, lo: UInt64, hasUpper: Bool)? {
    guard u.count == 36, u[8] == 0x2D, u[13] == 0x2D, u[18] == 0x2D, u[23] == 0x2D else { return nil }
    // One table load per digit: its value, 0x10 set for an upper-case one, 0x80 for a non-digit.
    let p = u.baseAddress!.assumingMemoryBound(to: UInt8.self)
    return hexTable.withUnsafeBufferPointer { t in
      var flags: UInt8 = 0
      @inline(__always) func digits(_ from: Int, _ count: Int, into acc: inout UInt64) {
        for i in from..<from + count {
          let v = t[Int(p[i])]
          flags |= v
          acc = acc << 4 | UInt64(v & 0x0F)
        }
      }
      var hi: UInt64 = 0, lo: UInt64 = 0
      digits(0, 8, into: &hi)
      digits(9, 4, into: &hi)
      digits(14, 4, into: &hi)
      digits(19, 4, into: &lo)
      digits(24, 12, into: &lo)
      return flags & 0x80 != 0 ? nil : (hi, lo, flags & 0x10 != 0)
    }
  }

  private static let hexTable: [UInt8] = (0..<256).map { c in
    switch UInt8(c) {
    case 0x30...0x39: UInt8(c - 0x30)
    case 0x61...0x66: UInt8(c - 0x61 + 10)
    case 0x41...0x46: UInt8(c - 0x41 + 10) | 0x10
    default: 0x80
    }
  }

  /// Parses an unsigned decimal integer occupying the whole of `buffer`.
  static func parseInt(_ buffer: UnsafeRawBufferPointer) -> Int64? {
    guard !buffer.isEmpty, buffer.count <= 18 else { return nil }
    var value: Int64 = 0
    for b in buffer {
      guard isDigit(b) else { return nil }
      value = value * 10 + Int64(b &- 0x30)
    }
    return value
  }

  /// Decodes `%XX` escapes (connection ids appear as `R0oXAdfD0kwCH6w%3D` in `@connections` URLs).
  static func percentDecoded(_ text: String) -> String {
    var probe = text
    guard probe.withUTF8({ Bytes.index(of: 0x25, in: UnsafeRawBufferPointer($0), from: 0, to: $0.count) != nil })
    else { return text }
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count)
    let bytes = Array(text.utf8)
    var i = 0
    while i < bytes.count {
      if bytes[i] == 0x25, i + 2 < bytes.count, isHex(bytes[i + 1]), isHex(bytes[i + 2]) {
        out.append(hexValue(bytes[i + 1]) << 4 | hexValue(bytes[i + 2]))
        i += 3
      } else {
        out.append(bytes[i])
        i += 1
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  @inline(__always)
  static func hexValue(_ b: UInt8) -> UInt8 {
    isDigit(b) ? b &- 0x30 : (b | 0x20) &- 0x61 &+ 10
  }

  /// Appends the decoded content of a JSON string body (the bytes between the quotes) to `out`.
  /// Invalid escapes are kept literally rather than rejected: a log tool must not drop an event
  /// because one escape in it is odd.
  static func appendJSONUnescaped(_ body: UnsafeRawBufferPointer, to out: inout [UInt8]) {
    var i = 0
    let n = body.count
    // Fast path: copy runs without a backslash in one go.
    while i < n {
      guard let slash = index(of: backslash, in: body, from: i, to: n) else {
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[i..<n]))
        return
      }
      if slash > i { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[i..<slash])) }
      i = slash + 1
      guard i < n else {
        out.append(backslash)
        return
      }
      let e = body[i]
      i += 1
      switch e {
      case 0x6E: out.append(newline)  // n
      case 0x72: out.append(carriageReturn)  // r
      case 0x74: out.append(tab)  // t
      case 0x62: out.append(0x08)
      case 0x66: out.append(0x0C)
      case 0x75:  // u
        guard i + 4 <= n, (0..<4).allSatisfy({ isHex(body[i + $0]) }) else {
          out.append(backslash)
          out.append(e)
          continue
        }
        var scalar = UInt32(0)
        for k in 0..<4 { scalar = scalar << 4 | UInt32(hexValue(body[i + k])) }
        i += 4
        if (0xD800..<0xDC00).contains(scalar), i + 6 <= n, body[i] == backslash, body[i + 1] == 0x75,
          (0..<4).allSatisfy({ isHex(body[i + 2 + $0]) })
        {
          var low = UInt32(0)
          for k in 0..<4 { low = low << 4 | UInt32(hexValue(body[i + 2 + k])) }
          if (0xDC00..<0xE000).contains(low) {
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            i += 6
          }
        }
        appendUTF8(scalar, to: &out)
      default: out.append(e)  // \" \\ \/ and anything unexpected
      }
    }
  }

  static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
    let value = Unicode.Scalar(scalar) ?? "\u{FFFD}"
    out.append(contentsOf: Array(String(Character(value)).utf8))
  }
}

extension String {
  /// A `String` from bytes that may not be valid UTF-8 (invalid sequences become U+FFFD).
  init(bytes: UnsafeRawBufferPointer) {
    self = String(decoding: bytes, as: UTF8.self)
  }
}

/// Compile-time byte literals, so a hot-path comparison is a `memcmp` against static storage.
struct ByteLiteral: Sendable {
  let bytes: [UInt8]
  init(_ text: String) { bytes = Array(text.utf8) }
  @inline(__always)
  func withBuffer<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
    bytes.withUnsafeBytes(body)
  }
}
