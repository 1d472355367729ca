import Foundation
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

  /// A timeline's summaries (read for every connection and call, written as loops) against
  /// their plain definitions over the records, on random timelines: attempts with and without a
  /// status (2xx or not), times and `connectedAt` present or not, with and without activity.
  @Test(arguments: [1, 2, 3] as [UInt64])
  func timelineSummariesAreTheirDefinitions(seed: UInt64) {
    var random = SeededGenerator(seed: seed)
    func record() -> RequestRecord {
      var r = RequestRecord()
      r.status = [nil, 200, 204, 403, 500, 101].randomElement(using: &random)!
      r.requestedAt = Bool.random(using: &random) ? EpochMillis.random(in: 0...1_000, using: &random) : nil
      r.firstLoggedAt = EpochMillis.random(in: 0...1_000, using: &random)
      r.lastLoggedAt = r.firstLoggedAt + EpochMillis.random(in: 0...50, using: &random)
      r.connectedAt = Bool.random(using: &random) ? EpochMillis.random(in: 0...1_000, using: &random) : nil
      return r
    }
    for _ in 0..<2_000 {
      var t = ConnectionTimeline(connectionId: "x")
      t.connects = (0..<Int.random(in: 0...3, using: &random)).map { _ in record() }
      t.messages = (0..<Int.random(in: 0...2, using: &random)).map { _ in record() }
      t.disconnects = (0..<Int.random(in: 0...2, using: &random)).map { _ in record() }
      if Bool.random(using: &random) {
        var a = MessageActivity()
        a.absorb(EpochMillis.random(in: 0...1_000, using: &random), Evidence(origin: Origin(input: 0), time: 0, text: ""))
        t.activity = a
      }
      let requested = t.connects.map(\.time).min() ?? t.messages.compactMap(\.connectedAt).min()
        ?? t.disconnects.compactMap(\.connectedAt).min()
      let statuses = t.connects.compactMap(\.status)
      let succeeded: Bool? = statuses.contains { (200..<300).contains($0) } || !t.messages.isEmpty || t.activity != nil
        ? true : statuses.isEmpty ? nil : false
      let completed = t.connects.filter { $0.status.map { (200..<300).contains($0) } ?? true }.map(\.lastLoggedAt).max()
      #expect(t.connectRequestedAt == requested)
      #expect(t.connectSucceeded == succeeded)
      #expect(t.connectFailureStatus == statuses.filter { !(200..<300).contains($0) }.min())
      #expect(t.connectCompletedAt == completed)
      #expect(t.openedAt == (t.connects + t.messages + t.disconnects).compactMap(\.connectedAt).min() ?? requested)
      #expect(t.lastActivityAt == (t.messages.map(\.time) + (t.activity.map { [$0.last] } ?? [])).max() ?? completed ?? requested)
    }
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

  /// `updateEachValue` changes every value where it lies: each value's storage is held by the
  /// table alone while it is changed (`for i in values.indices` made the table copy itself,
  /// and every value with it, at the first write).
  @Test func updatingEachValueChangesThemInPlace() {
    final class Lines { var count = 0 }
    struct Entry { var lines = Lines(); var times: [Int] }
    var table: [String: Entry] = [:]
    for i in 0..<1_000 { table["c\(i)"] = Entry(times: [i % 7, i % 3, i]) }
    var shared = 0
    table.updateEachValue { entry in
      if !isKnownUniquelyReferenced(&entry.lines) { shared += 1 }
      entry.lines.count += 1
      entry.times.sort()
    }
    #expect(shared == 0)
    #expect(table.values.allSatisfy { $0.lines.count == 1 && $0.times == $0.times.sorted() })
    #expect(table.count == 1_000)
  }

  /// Whole inputs are merged into the run's state in the order the workers finish them, so the
  /// merge must commute: every order gives the same verdicts, down to each line's origin. The
  /// samples are read with a renamed copy beside them (a log exported twice): the copy's lines
  /// are the same events in other streams (a raw file is its own stream), which is where order
  /// used to show. An invocation seen in two streams was placed in the stream merged first, so
  /// the lines without a request id of the other one found no invocation (1 run in 40 of the
  /// CLI gave `"lambdaRequestId": null`); and of two copies of the line naming a call's target,
  /// the one merged first was its evidence.
  @Test func theOrderInputsAreMergedInNeverShows() throws {
    let samples = Fixture.repo.appendingPathComponent("samples")
    let copy = Fixture.directory()
    for name in try FileManager.default.contentsOfDirectory(atPath: samples.path).sorted() where name.contains("lambda") {
      try FileManager.default.copyItem(at: samples.appendingPathComponent(name), to: copy.appendingPathComponent("copy-" + name))
    }
    var diagnostics: [Diagnostic] = []
    var errors: [InputError] = []
    let inputs = InputResolver.resolve([samples.path, copy.path], diagnostics: &diagnostics, errors: &errors)
    #expect(errors.isEmpty)
    let options = AnalysisOptions()
    let states = inputs.enumerated().map { i, input in
      Analyzer.read(input, index: i, recognizer: Recognizer(rules: options.rules),
        buffer: ReadBuffer(byteCount: options.limits.chunkBytes), options: options).state
    }
    func verdicts(mergedIn order: [Int]) -> [String] {
      var state = CorrelationState()
      for i in order { state.merge(states[i]) }
      var correlation = state.correlate(options.correlation)
      return Classifier().classify(draining: &correlation).map { v in
        "\(v.time) \(v.connectionId ?? "-") \(v.lambdaRequestId ?? "-") \(v.detail) \(v.recordedBy?.origin.input ?? -1) "
          + v.evidence.map { "\($0.origin.input):\($0.origin.line ?? -1)" }.joined(separator: ",")
      }
    }
    let inOrder = verdicts(mergedIn: Array(states.indices))
    #expect(inOrder.count > 20)
    // No verdict lacks both its target and its invocation (the copy's echo line did, when the
    // copy's state was merged first).
    #expect(inOrder.allSatisfy { !$0.contains(" - - ") })
    #expect(verdicts(mergedIn: states.indices.reversed()) == inOrder)
    var random = SeededGenerator(seed: 5)
    for _ in 0..<4 {
      #expect(verdicts(mergedIn: states.indices.shuffled(using: &random)) == inOrder)
    }
  }

  /// Of two copies of the line naming a call's target (the same log read twice), the first copy
  /// is the evidence, in whichever order they were merged; before the call and after it.
  @Test(arguments: [-1_000, 9_000] as [EpochMillis])
  func theTargetLineReadTwiceIsShownAsItsFirstCopy(hintOffset: EpochMillis) {
    let text = "2024-05-09T10:02:00.080Z\t1c8df7d3-aaaa-46da-9778-518e6eca8125\tINFO\tposting to 65muq1QQBCMCkog="
    func hint(input: Int) -> CorrelationState.TargetHint {
      CorrelationState.TargetHint(connectionId: "65muq1QQBCMCkog=", lambda: nil, apigw: nil,
        evidence: Evidence(origin: Origin(input: input, line: 7), time: 50_000 + hintOffset, text: text), stream: 0)
    }
    for hints in [[hint(input: 1), hint(input: 3)], [hint(input: 3), hint(input: 1)]] {
      var call = GoneCall(time: 50_000, facts: [])
      CorrelationState.resolveTarget(&call, hints: hints, triggerOf: [:], skew: 2_000)
      #expect(call.target == "65muq1QQBCMCkog=")
      #expect(call.targetEvidence?.origin.input == 1)
    }
  }
}
