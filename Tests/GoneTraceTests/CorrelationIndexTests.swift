import Testing
@testable import GoneTrace

/// The lookups that keep correlating a day of logs linear, each checked against the plain
/// definition it replaces, on random inputs.
@Suite struct CorrelationIndexTests {
  /// `InvocationWindows.latestOpen` against its definition: of the windows open at `t`
  /// (start ≤ t ≤ end), the latest started (by start, then id); with a preference, the latest
  /// preferred one when more than one is open and any is preferred.
  @Test(arguments: [1, 2, 3, 4] as [UInt64])
  func latestOpenInvocationIsTheOneTheDefinitionPicks(seed: UInt64) {
    var random = SeededGenerator(seed: seed)
    var all: [(stream: CorrelationState.StreamID, window: InvocationWindows.Window)] = []
    for n in 0..<400 {
      let start = EpochMillis.random(in: 0..<10_000, using: &random)
      // Most invocations are short; some never logged their END (open to the end of the logs).
      let end = Int.random(in: 0..<10, using: &random) == 0 ? EpochMillis.max : start + .random(in: 0..<300, using: &random)
      all.append((CorrelationState.StreamID.random(in: 0..<3, using: &random),
        .init(start: start, end: end, id: CompactID(String(format: "%08x-0000-4000-8000-%012x", n, n)))))
    }
    let windows = InvocationWindows(all)
    let preferred = Set(all.indices.filter { $0 % 3 == 0 }.map { all[$0].window.id })
    func expected(_ stream: CorrelationState.StreamID, _ t: EpochMillis, prefers: ((CompactID) -> Bool)?) -> CompactID? {
      var open = all.filter { $0.stream == stream && $0.window.start <= t && t <= $0.window.end }.map(\.window)
      if open.count > 1, let prefers, case let p = open.filter({ prefers($0.id) }), !p.isEmpty { open = p }
      return open.max { ($0.start, $0.id) < ($1.start, $1.id) }?.id
    }
    var found = 0
    for _ in 0..<2_000 {
      let stream = CorrelationState.StreamID.random(in: 0..<4, using: &random)  // 3: a stream without invocations
      let t = EpochMillis.random(in: -100..<10_500, using: &random)
      let answer = windows.latestOpen(in: stream, at: t)
      #expect(answer == expected(stream, t, prefers: nil))
      #expect(windows.latestOpen(in: stream, at: t, prefers: preferred.contains)
        == expected(stream, t, prefers: preferred.contains))
      if answer != nil { found += 1 }
    }
    #expect(found > 500)  // the times asked hit open invocations, not only gaps
  }

  /// `sort(byKey:)` moves elements to where `sorted` puts them, ties kept in their order.
  @Test func sortingByKeyGivesTheOrderOfSorted() {
    var random = SeededGenerator(seed: 9)
    for count in [0, 1, 2, 7, 100, 1_000] {
      let values = (0..<count).map { i in (key: Int.random(in: 0..<20, using: &random), text: "line \(i)") }
      var moved = values
      moved.sort(byKey: \.key) { $0.key < $1.key }
      #expect(moved.map(\.text) == values.sorted { $0.key < $1.key }.map(\.text))
    }
  }
}
