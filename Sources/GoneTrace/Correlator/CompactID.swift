/// A request id held inline. A gigabyte of logs names hundreds of thousands of API Gateway
/// request ids (16 characters) and Lambda invocation ids (UUIDs) that the correlation state
/// keys on; as Strings each was a heap allocation and a byte-wise hash. Ids of 16 bytes or
/// fewer are kept as their bytes, canonical (lower-case) UUIDs as their 16-byte value, and any
/// other id by its number in `OtherIDs`, so two ids are equal exactly when their strings are.
/// Plain bytes either way: facts and records holding three of them are copied and dropped
/// without reference counting (with a String case, every copy of a fact went through a switch
/// per id).
enum CompactID: Hashable, Sendable, Comparable, BitwiseCopyable {
  case short(UInt64, UInt64)
  case uuid(UInt64, UInt64)
  case other(UInt32)

  init(_ s: String) {
    var s = s
    self = s.withUTF8 { CompactID(bytes: UnsafeRawBufferPointer($0)) }
  }

  /// The id whose string is these bytes (decoded as UTF-8, as `String(bytes:)` does).
  init(bytes u: UnsafeRawBufferPointer) {
    if u.count <= 16, !u.contains(0), !u.contains(where: { $0 >= 0x80 }) {
      // Padded with zeros, which no id holds: the length is where they start.
      var word = (UInt64(0), UInt64(0))
      withUnsafeMutableBytes(of: &word) { $0.copyMemory(from: u) }
      self = .short(UInt64(littleEndian: word.0), UInt64(littleEndian: word.1))
    } else if u.count == 36, let v = Bytes.uuid(u), !v.hasUpper {
      self = .uuid(v.hi, v.lo)
    } else {
      self = .other(OtherIDs.shared.number(String(bytes: u)))
    }
  }

  var string: String {
    switch self {
    case .short(let a, let b):
      let word = (a.littleEndian, b.littleEndian)
      return withUnsafeBytes(of: word) { raw in
        String(bytes: UnsafeRawBufferPointer(rebasing: raw[0..<(raw.firstIndex(of: 0) ?? 16)]))
      }
    case .uuid(let hi, let lo):
      let hex: StaticString = "0123456789abcdef"
      return String(unsafeUninitializedCapacity: 36) { out in
        var o = 0
        for d in 0..<32 {
          if d == 8 || d == 12 || d == 16 || d == 20 {
            out[o] = UInt8(ascii: "-")
            o += 1
          }
          let word = d < 16 ? hi : lo
          out[o] = hex.utf8Start[Int((word >> (4 * UInt64(15 - d % 16))) & 15)]
          o += 1
        }
        return o
      }
    case .other(let n): return OtherIDs.shared.string(n)
    }
  }

  /// Orders as the strings do (ties between records are broken by it), without making them:
  /// a short id's bytes compared as big-endian words are its characters in order (the zero
  /// padding sorts a prefix first), and a canonical UUID's hex digits are its value's.
  static func < (a: CompactID, b: CompactID) -> Bool {
    switch (a, b) {
    case (.short(let a0, let a1), .short(let b0, let b1)): (a0.byteSwapped, a1.byteSwapped) < (b0.byteSwapped, b1.byteSwapped)
    case (.uuid(let a0, let a1), .uuid(let b0, let b1)): (a0, a1) < (b0, b1)
    default: a.string < b.string
    }
  }

  // The state looks ids up several times per fact (links, recent messages, invocations, message
  // activity): seeding a SipHash `Hasher` for each was a tenth of reading an execution log. Two
  // words are mixed with the table's per-process seed instead (a 128-bit multiply, as wyhash does).
  func hash(into hasher: inout Hasher) {
    switch self {
    case .short(let a, let b): hasher.combine(CompactID.mix(a, b, 0))
    case .uuid(let a, let b): hasher.combine(CompactID.mix(a, b, 1))
    case .other(let n): hasher.combine(n)
    }
  }

  func _rawHashValue(seed: Int) -> Int {
    switch self {
    case .short(let a, let b): Int(truncatingIfNeeded: CompactID.mix(a, b, UInt64(UInt(bitPattern: seed))))
    case .uuid(let a, let b): Int(truncatingIfNeeded: CompactID.mix(a, b, ~UInt64(UInt(bitPattern: seed))))
    case .other(let n): Int(truncatingIfNeeded: CompactID.mix(UInt64(n), 0x6F74_6865_72, UInt64(UInt(bitPattern: seed))))
    }
  }

  @inline(__always)
  private static func mix(_ a: UInt64, _ b: UInt64, _ seed: UInt64) -> UInt64 {
    let x = (a ^ seed ^ 0xA076_1D64_78BD_642F).multipliedFullWidth(by: b ^ 0xE703_7ED1_A0B4_28DB)
    let y = (x.high ^ x.low).multipliedFullWidth(by: 0x8EBC_6AF0_9C88_C6E3 ^ seed)
    return y.high ^ y.low
  }
}

/// The ids that fit neither inline form (longer than 16 bytes and not a canonical UUID: a
/// hand-written log, a custom authorizer's id), numbered once per process. Rare, so a lock is
/// cheap; they are never freed (a run names few).
final class OtherIDs: @unchecked Sendable {
  static let shared = OtherIDs()
  private var strings: [String] = []
  private var numbers: [String: UInt32] = [:]
  private let lock = Lock()

  func number(_ s: String) -> UInt32 {
    lock.withLock {
      if let n = numbers[s] { return n }
      let n = UInt32(strings.count)
      strings.append(s)
      numbers[s] = n
      return n
    }
  }

  func string(_ n: UInt32) -> String { lock.withLock { strings[Int(n)] } }
}

/// A `CompactID` as plain bytes, for records kept in a `SpillLog`. An id numbered in `OtherIDs`
/// has no such form (the caller keeps it apart).
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

/// The ids seen lately, remembered in a direct-mapped table: an id takes the slot its hash
/// picks, evicting whatever was there. For sets that may forget (an id forgotten costs only a
/// line kept that need not be) and are asked about ids seen a few lines earlier: a lookup is
/// one load and compare, where a `Set` insert per request line was several percent of reading
/// an execution log (hashing, probing, and clearing it whole when full). Ids that do not pack
/// (`CompactID.other`) are never remembered.
struct RecentIDs: Sendable {
  private var slots: [PackedID?]
  private let mask: Int

  /// `capacity`: a power of two.
  init(capacity: Int = 1 << 14) {
    precondition(capacity > 0 && capacity & (capacity - 1) == 0)
    slots = []
    mask = capacity - 1
  }

  mutating func insert(_ id: CompactID) {
    guard let packed = PackedID(id) else { return }
    // Allocated on first use: a state is made per input and per piece, most never see a message.
    if slots.isEmpty { slots = Array(repeating: nil, count: mask + 1) }
    slots[RecentIDs.slot(packed) & mask] = packed
  }

  func contains(_ id: CompactID) -> Bool {
    guard !slots.isEmpty, let packed = PackedID(id), let held = slots[RecentIDs.slot(packed) & mask] else { return false }
    return held.a == packed.a && held.b == packed.b && held.isUUID == packed.isUUID
  }

  @inline(__always)
  private static func slot(_ p: PackedID) -> Int {
    let x = (p.a ^ 0xA076_1D64_78BD_642F).multipliedFullWidth(by: p.b ^ 0xE703_7ED1_A0B4_28DB)
    return Int(truncatingIfNeeded: x.high ^ x.low)
  }
}
