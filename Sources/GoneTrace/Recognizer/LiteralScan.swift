#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decides which prefilter literals a message contains with few passes over it. Each literal
/// gets an anchor byte: its rarest byte in log text. Literals whose anchor is rare are grouped
/// by anchor, and one `memchr` walk over the anchor's occurrences settles every literal of the
/// group (a `memcmp` at each occurrence); literals made only of common bytes are looked for by
/// two of their bytes at once (`Bytes.contains(_:_:pair:)`). The answer is exactly
/// `memmem(message, literal) != nil` for every literal.
struct LiteralScan: Sendable {
  struct Group: Sendable {
    let byte: UInt8
    /// Literal ids of the group.
    let members: [Int]
  }

  /// Per literal: its group, or -1 (searched for by `pairOf`).
  let groupOf: [Int]
  /// Per literal: offset of the anchor byte in the literal.
  let anchorOffset: [Int]
  let groups: [Group]
  /// Per literal not in a group: the two places in it that `Bytes.contains(_:_:pair:)` looks for.
  let pairOf: [(Int, Int)]

  init(literals: [[UInt8]]) {
    var groupOf = [Int](repeating: -1, count: literals.count)
    var anchorOffset = [Int](repeating: 0, count: literals.count)
    var byByte: [UInt8: Int] = [:]
    var groups: [(UInt8, [Int])] = []
    for (id, literal) in literals.enumerated() where !literal.isEmpty {
      var best = 0
      for (i, b) in literal.enumerated() where LiteralScan.rarity(b) < LiteralScan.rarity(literal[best]) { best = i }
      anchorOffset[id] = best
      guard LiteralScan.rarity(literal[best]) <= LiteralScan.rareEnough else { continue }
      let g = byByte[literal[best]] ?? {
        groups.append((literal[best], []))
        byByte[literal[best]] = groups.count - 1
        return groups.count - 1
      }()
      groups[g].1.append(id)
      groupOf[id] = g
    }
    self.groupOf = groupOf
    self.anchorOffset = anchorOffset
    pairOf = literals.map(LiteralScan.searchPair)
    self.groups = groups.map { Group(byte: $0.0, members: $0.1) }
  }

  static let rareEnough = 2

  /// The two places of `literal` to look for: its least common byte, and the least common at
  /// another place, as far from the first as ties allow (two bytes apart are less often both
  /// there by chance). A one-byte literal is looked for by itself twice.
  static func searchPair(_ literal: [UInt8]) -> (Int, Int) {
    guard literal.count > 1 else { return (0, 0) }
    let first = literal.indices.min { (rarity(literal[$0]), $0) < (rarity(literal[$1]), $1) }!
    let second = literal.indices.filter { $0 != first }.min {
      (rarity(literal[$0]), -abs($0 - first)) < (rarity(literal[$1]), -abs($1 - first))
    }!
    return (first, second)
  }

  /// How common a byte is in log text: 0 rare … 3 very common (a rough ranking; it only decides
  /// speed, never the answer).
  static func rarity(_ b: UInt8) -> Int {
    switch b {
    case UInt8(ascii: "a")...UInt8(ascii: "z"):
      return "qxzjkv".utf8.contains(b) ? 1 : 3
    case UInt8(ascii: "A")...UInt8(ascii: "Z"):
      return "QXZJKVYW".utf8.contains(b) ? 1 : 2
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return 3
    case 0x20, UInt8(ascii: "\""), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "-"), UInt8(ascii: "."),
      UInt8(ascii: "/"), UInt8(ascii: "="):
      return 3
    case UInt8(ascii: "_"), UInt8(ascii: "{"), UInt8(ascii: "}"): return 2
    default: return 0  // brackets, parentheses, tab, backquote, `;`, `@`, `%`, …
    }
  }

  /// Settles every literal of group `g` for message `m`: `state[id]` becomes 1 (absent) or 2 (present).
  @inline(__always)
  func scan(
    group g: Int, in m: UnsafeRawBufferPointer, literals: UnsafePointer<UnsafeRawBufferPointer>,
    state: UnsafeMutablePointer<UInt8>
  ) {
    let group = groups[g]
    for id in group.members { state[id] = 1 }
    guard let base = m.baseAddress else { return }
    var remaining = group.members.count
    var from = 0
    let n = m.count
    while from < n, let hit = memchr(base + from, Int32(group.byte), n - from) {
      let p = base.distance(to: UnsafeRawPointer(hit))
      for id in group.members where state[id] == 1 {
        let lit = literals[id]
        let start = p - anchorOffset[id]
        if start >= 0, start + lit.count <= n, memcmp(base + start, lit.baseAddress!, lit.count) == 0 {
          state[id] = 2
          remaining -= 1
        }
      }
      if remaining == 0 { return }
      from = p + 1
    }
  }
}
