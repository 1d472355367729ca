/// How many 410s fell under each cause and detail: the figures every report leads with.
public struct GoneCounts: Sendable, Equatable, Codable {
  public private(set) var byDetail: [String: Int] = [:]
  public var total: Int { byDetail.values.reduce(0, +) }

  public init() {}

  public init(_ verdicts: VerdictList) {
    // Counted by case from the list's details: reading each verdict copied (or read back) all of it.
    var counts: [Detail: Int] = [:]
    for i in verdicts.indices { counts[verdicts.detail(at: i), default: 0] += 1 }
    for (detail, n) in counts { byDetail[detail.rawValue] = n }
  }

  public subscript(detail: Detail) -> Int { byDetail[detail.rawValue] ?? 0 }

  public subscript(cause: Cause) -> Int {
    Detail.allCases.filter { $0.cause == cause }.reduce(0) { $0 + self[$1] }
  }

  public static func + (a: GoneCounts, b: GoneCounts) -> GoneCounts {
    var sum = a
    for (k, v) in b.byDetail { sum.byDetail[k, default: 0] += v }
    return sum
  }
}
