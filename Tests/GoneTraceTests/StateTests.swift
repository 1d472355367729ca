import Foundation
import Testing
@testable import GoneTrace

/// `--state`: what a cron job relies on. (The three-part append test runs in Tests/e2e, where
/// the simulator writes the parts.)
@Suite struct StateTests {
  static func analyze(_ state: URL, _ paths: [String], _ extra: [String] = []) -> Fixture.RunResult {
    Fixture.gonetrace(["analyze", "--format", "json", "--state", state.path] + extra + paths, cwd: Fixture.repo)
  }

  /// A fresh directory with a state path and a copy of the samples' message log (returned too).
  static func sampleLogWithState() throws -> (state: URL, log: URL, sample: Data) {
    let dir = Fixture.directory()
    let log = dir.appendingPathComponent("lambda.log")
    let sample = try Data(contentsOf: Fixture.repo.appendingPathComponent("samples/lambda-chat-message.log"))
    try sample.write(to: log)
    return (dir.appendingPathComponent("state.json"), log, sample)
  }

  static func verdictCount(_ r: Fixture.RunResult) throws -> Int {
    let json = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
    return (json["verdicts"] as? [Any])?.count ?? -1
  }

  @Test func aSecondRunOverTheSameLogsReportsNothingAgain() throws {
    let state = Fixture.directory().appendingPathComponent("gonetrace.state")
    let first = Self.analyze(state, ["samples"])
    #expect(first.status == 1)
    #expect(try Self.verdictCount(first) == 29)
    let saved = try #require(try RunState.load(path: state.path))
    #expect(saved.totals.gone.total == 29)
    #expect(saved.cursors.count == 15)

    let second = Self.analyze(state, ["samples"])
    #expect(second.status == 0, "\(second.stderr)")
    #expect(try Self.verdictCount(second) == 0)
    let json = try #require(try JSONSerialization.jsonObject(with: second.stdout) as? [String: Any])
    let events = (json["inputs"] as? [[String: Any]] ?? []).reduce(0) { $0 + ($1["events"] as? Int ?? 0) }
    #expect(events == 0, "nothing new was read")
    // The Prometheus counters keep counting across runs instead of starting again.
    let prom = Fixture.gonetrace(["analyze", "--format", "prometheus", "--state", state.path, "samples"], cwd: Fixture.repo)
    #expect(prom.out.contains("gonetrace_gone_total{cause=\"terminated-connection\",detail=\"client-closed\"} 12\n"))
    #expect(prom.out.contains("gonetrace_runs_total 3\n"))
  }

  @Test func aCorruptStateIsRefusedUnlessReset() throws {
    let dir = Fixture.directory()
    let state = Fixture.write("{\"kind\": \"gonetrace-state\", \"version\": 1, \"cursors\": [", to: dir.appendingPathComponent("s.json"))
    let r = Self.analyze(state, ["samples"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("state file \(state.path) is corrupt"))
    #expect(r.stderr.contains("--reset-state"))
    #expect(r.out.isEmpty, "no report from a run that cannot continue")
    // Left as it was, for a person to look at.
    #expect(try String(contentsOf: state, encoding: .utf8).hasSuffix("\"cursors\": ["))

    let reset = Self.analyze(state, ["samples"], ["--reset-state"])
    #expect(reset.status == 1)
    #expect(try Self.verdictCount(reset) == 29)
    #expect(try RunState.load(path: state.path) != nil)
  }

  @Test func anOverlappingRunIsRefused() throws {
    let state = Fixture.directory().appendingPathComponent("state.json")
    let held = try StateLock(statePath: state.path)
    let r = Self.analyze(state, ["samples"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("in use by another gonetrace run"))
    withExtendedLifetime(held) {}
    #expect(!FileManager.default.fileExists(atPath: state.path))
  }

  @Test func aForeignFileIsNeverOverwritten() throws {
    let dir = Fixture.directory()
    for (name, text, says) in [
      ("other.json", "{\"hello\": \"world\"}", "is not a gonetrace state file (no \"kind\": \"gonetrace-state\" member)"),
      ("list.json", "[1, 2]", "is not a gonetrace state file (no \"kind\": \"gonetrace-state\" member)"),
      ("notes.txt", "my notes\n", "is not a gonetrace state file (it starts \"my notes \")"),
      ("future.json", "{\"kind\": \"gonetrace-state\", \"version\": 99}", "has version 99, newer than this gonetrace's 1"),
    ] {
      let file = Fixture.write(text, to: dir.appendingPathComponent(name))
      let r = Self.analyze(file, ["samples"])
      #expect(r.status == 2, "\(name)")
      #expect(r.stderr.contains(file.path + " " + says) || r.stderr.contains("state file \(file.path) " + says), "\(r.stderr)")
      #expect(try String(contentsOf: file, encoding: .utf8) == text)
    }
  }

  @Test func appendedLinesAreReadFromWhereTheLastRunStopped() throws {
    let dir = Fixture.directory()
    let state = dir.appendingPathComponent("state.json")
    let log = dir.appendingPathComponent("logs/lambda.log")
    let lines = try String(contentsOf: Fixture.repo.appendingPathComponent("samples/lambda-chat-message.log"), encoding: .utf8)
      .split(separator: "\n", omittingEmptySubsequences: false)
    // Half the file, then the rest; the last line of the first half is left unfinished.
    let half = lines.count / 2
    let first = lines[..<half].joined(separator: "\n") + "\n" + lines[half].prefix(10)
    Fixture.write(first, to: log)
    let r1 = Self.analyze(state, [log.path])
    let whole = Fixture.gonetrace(["analyze", "--format", "json", log.path])
    Fixture.write(lines.joined(separator: "\n"), to: log)
    let r2 = Self.analyze(state, [log.path])
    let all = Fixture.gonetrace(["analyze", "--format", "json", log.path])
    #expect(whole.status == r1.status)
    let v1 = try Self.verdictCount(r1), v2 = try Self.verdictCount(r2), vAll = try Self.verdictCount(all)
    #expect(v1 > 0 && v2 > 0)
    #expect(v1 + v2 == vAll)
    // Line numbers continue the file's: the second run's evidence points at the whole file's lines.
    let j2 = try #require(try JSONSerialization.jsonObject(with: r2.stdout) as? [String: Any])
    let jAll = try #require(try JSONSerialization.jsonObject(with: all.stdout) as? [String: Any])
    let lastTwo = (j2["verdicts"] as? [[String: Any]] ?? []).map { ($0["evidence"] as? [[String: Any]])?.first?["line"] as? Int }
    let lastAll = (jAll["verdicts"] as? [[String: Any]] ?? []).suffix(v2).map { ($0["evidence"] as? [[String: Any]])?.first?["line"] as? Int }
    #expect(lastTwo == Array(lastAll))
  }

  /// `aws logs filter-log-events --start-time (now - 20 min) >> f` every 15 minutes appends the
  /// overlap twice: the 410s in it were reported by the earlier run.
  @Test func anOverlappingFetchAppendedAgainReportsNothingTwice() throws {
    let (state, log, sample) = try Self.sampleLogWithState()
    let first = Self.analyze(state, [log.path])
    #expect(first.status == 1)
    try (sample + sample).write(to: log)
    let second = Self.analyze(state, [log.path])
    #expect(second.status == 0, "\(second.stderr)")
    #expect(try Self.verdictCount(second) == 0)
    #expect(second.stderr.contains("410s were reported by an earlier run"))
  }

  /// Nothing older than the 2-hour connection limit (+ skew) before the newest event is kept.
  @Test func stateKeepsOnlyTheTwoHourWindow() throws {
    let dir = Fixture.directory()
    let state = dir.appendingPathComponent("state.json")
    _ = Self.analyze(state, ["samples"])
    let before = try #require(try RunState.load(path: state.path))
    let kept = before.retained.reduce(0) { $0 + $1.events.count }
    #expect(kept > 100)
    // The samples end at 11:34; a Lambda START line (§2.1 format) at 14:00 moves the window.
    let later = Fixture.write("2024-05-09T14:00:00.000Z START RequestId: 8f5f1c2e-8c5b-4f3a-9c1d-2b7e6a1d0f00 Version: $LATEST\n",
      to: dir.appendingPathComponent("later.log"))
    _ = Self.analyze(state, ["samples", later.path])
    let after = try #require(try RunState.load(path: state.path))
    let cutoff = ms("2024-05-09T14:00:00Z") - IncrementalRun.connectionLifetime - 2000
    let times = after.retained.flatMap { $0.events.map(\.timestamp) }
    #expect(!times.isEmpty && times.allSatisfy { $0 >= cutoff })
    #expect(times.count < kept)
    #expect(after.reported.allSatisfy { $0.time >= cutoff })
  }

  @Test func aReplacedFileIsReadFromTheStart() throws {
    let (state, log, sample) = try Self.sampleLogWithState()
    #expect(Self.analyze(state, [log.path]).status == 1)
    // Rewritten in place with other content of the same size: the head hash tells.
    try Data(repeating: UInt8(ascii: "\n"), count: sample.count).write(to: log)
    let r = Self.analyze(state, [log.path])
    let json = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
    #expect((json["inputs"] as? [[String: Any]])?.first?["events"] as? Int == 0)
    let saved = try #require(try RunState.load(path: state.path))
    #expect(saved.cursors.first?.offset == Int64(sample.count))
  }

  /// The file form (`StateFile`) keeps every byte of every kept event, whatever it holds.
  @Test func aStateReadsBackAsItWasWritten() throws {
    var state = RunState(writtenBy: "test", savedAt: 1_715_212_800_000)
    state.newestEvent = 1_715_212_801_000
    state.cursors = [RunState.Cursor(name: "logs/exec.log", device: 1, inode: 2, offset: 3, lines: 4, headHash: 5,
      compressed: false, format: .lines)]
    state.reported = [RunState.Reported(key: "1715212801000|abc", time: 1_715_212_801_000)]
    state.totals.runs = 3
    // A line from log-formats.md (the execution log, §1.3, verbatim), one with quotes, backslashes, a tab
    // and non-ASCII text, one that is not UTF-8, one with a NUL, and an empty one.
    let messages: [[UInt8]] = [
      Array("(515f1e99-39db-11e9-9e96-01e5c04505b9) Extended Request Id: Vts2pH6ArPEFcuQ=".utf8),
      Array("{\"message\":\"Post failed: \\\"GoneException\\\"\\tés ✓\"}".utf8),
      [0x47, 0x6F, 0xFF, 0xFE, 0x6E, 0x65],
      [0x61, 0x00, 0x62],
      [],
    ]
    state.retained = [RunState.RetainedInput(name: "logs/exec.log", format: .lines, events: messages.enumerated().map { i, m in
      RetainedEvent(timestamp: 1_715_212_801_000 + Int64(i), hasOwnTime: i % 2 == 0, group: i == 1 ? "/aws/lambda/chat" : nil,
        stream: i == 1 ? "2024/05/09/[$LATEST]abc" : nil, message: m, origin: Origin(input: 0, line: i == 3 ? nil : i + 1,
          record: i == 3 ? 7 : nil), eventId: i == 1 ? Array("3859".utf8) : nil)
    })]
    let path = Fixture.directory().appendingPathComponent("state.json").path
    try state.save(path: path)
    let back = try #require(try RunState.load(path: path))
    #expect(back == state)
    // One event a line, so that a corrupt one can be named by its line.
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.split(separator: "\n").filter { $0.hasPrefix("{\"t\":") }.count == messages.count)
    #expect(text.contains("\"base64\":\"R2///m5l\""), "not UTF-8: base64")
    #expect(text.contains("\"base64\":\"YQBi\""), "a NUL: base64")
  }

  /// A state written by `Codable` (keys sorted, no line breaks, nil members left out)
  /// reads the same as one written by `StateFile`: the shape is version 1's either way.
  @Test func aStateWrittenByTheEarlierCoderStillReads() throws {
    let dir = Fixture.directory()
    // As JSONEncoder wrote it: nil members left out, "/" escaped. The message is the
    // execution-log line of log-formats.md §1.3, verbatim.
    let old = Fixture.write(
      #"{"cursors":[{"compressed":false,"device":9,"format":"lines","headHash":1,"inode":8,"lines":2,"name":"logs\/a.log","offset":120}],"#
        + #""kind":"gonetrace-state","newestEvent":1715212801000,"reported":[],"retained":[{"events":[{"group":"\/aws\/lambda\/chat","#
        + #""line":1,"own":true,"t":1715212801000,"#
        + #""text":"(515f1e99-39db-11e9-9e96-01e5c04505b9) Extended Request Id: Vts2pH6ArPEFcuQ="}],"#
        + #""format":"lines","name":"logs\/a.log"}],"savedAt":1715212900000,"totals":{"events":1,"gone":{"byDetail":{}},"#
        + #""runs":1,"unparsed":0},"version":1,"writtenBy":"0.1.0"}"#,
      to: dir.appendingPathComponent("old.json"))
    let state = try #require(try RunState.load(path: old.path))
    #expect(state.writtenBy == "0.1.0" && state.savedAt == 1_715_212_900_000 && state.newestEvent == 1_715_212_801_000)
    #expect(state.cursors.first?.offset == 120 && state.totals.runs == 1)
    let event = try #require(state.retained.first?.events.first)
    #expect(String(decoding: event.message, as: UTF8.self) == "(515f1e99-39db-11e9-9e96-01e5c04505b9) Extended Request Id: Vts2pH6ArPEFcuQ=")
    #expect(event.origin.line == 1 && event.origin.record == nil && event.hasOwnTime && event.group == "/aws/lambda/chat")
    #expect(state.retained.first?.name == "logs/a.log" && state.cursors.first?.name == "logs/a.log")
    let again = dir.appendingPathComponent("again.json").path
    try state.save(path: again)
    #expect(try RunState.load(path: again) == state)
  }

  /// A damaged event is refused with the line it is on.
  @Test func aDamagedEventIsNamedByItsLine() throws {
    var state = RunState(writtenBy: "test", savedAt: 0)
    state.retained = [RunState.RetainedInput(name: "a.log", format: .lines, events: (0..<3).map { i in
      RetainedEvent(timestamp: Int64(i), hasOwnTime: true, group: nil, stream: nil, message: Array("line \(i)".utf8),
        origin: Origin(input: 0, line: i + 1, record: nil), eventId: nil)
    })]
    let path = Fixture.directory().appendingPathComponent("state.json").path
    try state.save(path: path)
    var lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
    let target = try #require(lines.firstIndex { $0.hasPrefix("{\"t\":1,") })
    lines[target] = lines[target].replacingOccurrences(of: "\"t\":1,", with: "\"t\":1.5,")
    try lines.joined(separator: "\n").write(toFile: path, atomically: false, encoding: .utf8)
    #expect {
      _ = try RunState.load(path: path)
    } throws: { error in
      "\(error)".contains("is corrupt: line \(target + 1): \"t\" is not a whole number")
    }
  }

  /// A state that is not strictly JSON, or lacks what a state holds, is refused with its line,
  /// never read in part: each of these was once read without a word (the members are found by a
  /// lenient reader made for log lines), and its events lost or altered.
  @Test func aStateDamagedAnywhereIsRefusedNotReadInPart() throws {
    var state = RunState(writtenBy: "test", savedAt: 0)
    state.retained = [RunState.RetainedInput(name: "a.log", format: .lines, events: (0..<3).map { i in
      RetainedEvent(timestamp: Int64(i), hasOwnTime: true, group: nil, stream: nil,
        message: Array("(515f1e99-39db-11e9-9e96-01e5c04505b9) Extended Request Id: Vts2pH6ArPEFcuQ=".utf8),
        origin: Origin(input: 0, line: i + 1, record: nil), eventId: nil)
    })]
    let dir = Fixture.directory()
    let path = dir.appendingPathComponent("state.json").path
    try state.save(path: path)
    let good = try String(contentsOfFile: path, encoding: .utf8)
    #expect(try RunState.load(path: path) == state)
    let lines = good.components(separatedBy: "\n")
    let second = try #require(lines.firstIndex { $0.hasPrefix("{\"t\":1,") }) + 1
    // (damage, what the message says)
    let cases: [(String, String)] = [
      (good + "}", "line \(lines.count): not valid JSON"),
      (good.replacingOccurrences(of: "\"},\n{\"t\":1,", with: "\"}\n{\"t\":1,"), "line \(second): not valid JSON"),
      (good.replacingOccurrences(of: "Extended Request Id", with: "Extended \\q Id"), "line 3: not valid JSON"),
      (good.replacingOccurrences(of: "\"own\":true", with: "\"own\":tru"), "line 3: not valid JSON"),
      (good.replacingOccurrences(of: "\"version\":1", with: "\"version\":\"2\""), "\"version\" is missing or not a whole number"),
      (good.replacingOccurrences(of: "\"format\":\"lines\"", with: "\"format\":5"), "line \(lines.count - 1): unknown format 5"),
      (good.replacingOccurrences(of: "\"own\":true,\"line\":1,", with: "\"own\":null,\"line\":1,"),
        "line 3: \"own\" is not true or false"),
    ]
    for (damaged, message) in cases {
      #expect(damaged != good)
      try damaged.write(toFile: path, atomically: false, encoding: .utf8)
      #expect(performing: { _ = try RunState.load(path: path) }, throws: { "\($0)".contains("is corrupt: \(message)") })
    }
    // A retained input whose events are missing: refused, not read as an input with none.
    let start = try #require(good.range(of: "{\"events\":["))
    let end = try #require(good.range(of: "],\"format\""))
    try good.replacingCharacters(in: start.lowerBound..<end.upperBound, with: "{\"format\"")
      .write(toFile: path, atomically: false, encoding: .utf8)
    #expect(performing: { _ = try RunState.load(path: path) }, throws: {
      "\($0)".contains("is corrupt: line 2: a retained input without \"events\"")
    })
  }
}
