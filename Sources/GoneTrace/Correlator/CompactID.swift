/// A request id held inline. A gigabyte of logs names hundreds of thousands of API Gateway
/// request ids (16 characters) and Lambda invocation ids (UUIDs) that the correlation state
/// keys on; as Strings each was a heap allocation and a byte-wise hash. Ids of 16 bytes or
/// fewer are kept as their bytes, canonical (lower-case) UUIDs as their 16-byte value, and any
/// other id as a String, so two ids are equal exactly when their strings are.
enum CompactID: Hashable, Sendable, Comparable {
  case short(UInt64, UInt64)
  case uuid(UInt64, UInt64)
  case other(String)

  init(_ s: String) {
    var s = s
    self = s.withUTF8 { u in
      if u.count <= 16, !u.contains(0) {
        var a: UInt64 = 0, b: UInt64 = 0
        for (i, c) in u.enumerated() {
          if i < 8 { a |= UInt64(c) << (8 * UInt64(i)) } else { b |= UInt64(c) << (8 * UInt64(i - 8)) }
        }
        return .short(a, b)
      }
      if u.count == 36, let (hi, lo) = CompactID.parseUUID(u) { return .uuid(hi, lo) }
      return .other(String(decoding: u, as: UTF8.self))
    }
  }

  /// The 128-bit value of a canonical lower-case UUID (8-4-4-4-12 hex digits), else nil.
  private static func parseUUID(_ u: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64)? {
    guard let v = Bytes.uuid(UnsafeRawBufferPointer(u)), !v.hasUpper else { return nil }
    return (v.hi, v.lo)
  }

  var string: String {
    switch self {
    case .short(let a, let b):
      var bytes: [UInt8] = []
      bytes.reserveCapacity(16)
      for i in 0..<16 {
        let c = UInt8(truncatingIfNeeded: (i < 8 ? a >> (8 * UInt64(i)) : b >> (8 * UInt64(i - 8))))
        if c == 0 { break }
        bytes.append(c)
      }
      return String(decoding: bytes, as: UTF8.self)
    case .uuid(let hi, let lo):
      let hex = Array("0123456789abcdef".utf8)
      var bytes: [UInt8] = []
      bytes.reserveCapacity(36)
      for d in 0..<32 {
        if d == 8 || d == 12 || d == 16 || d == 20 { bytes.append(UInt8(ascii: "-")) }
        let word = d < 16 ? hi : lo
        bytes.append(hex[Int((word >> (4 * UInt64(15 - d % 16))) & 15)])
      }
      return String(decoding: bytes, as: UTF8.self)
    case .other(let s): return s
    }
  }

  /// Orders as the strings do (used only to break ties deterministically).
  static func < (a: CompactID, b: CompactID) -> Bool { a.string < b.string }
}

/// A `CompactID` as plain bytes, for records kept in a `SpillLog`. An id held as a String has
/// no such form (the caller keeps it apart).
struct PackedID: BitwiseCopyable, Sendable {
  var a: UInt64
  var b: UInt64
  var isUUID: Bool

  init?(_ id: CompactID) {
    switch id {
    case .short(let a, let b): (self.a, self.b, isUUID) = (a, b, false)
    case .uuid(let a, let b): (self.a, self.b, isUUID) = (a, b, true)
    case .other: return nil
    }
  }

  var id: CompactID { isUUID ? .uuid(a, b) : .short(a, b) }
}
