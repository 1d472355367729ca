import Foundation
import Testing
@testable import GoneTrace

/// Every report format on the samples, against golden files; the exit-status contract; `-o`.
/// Re-record the goldens after an intended change with `GONETRACE_RECORD=1 swift test --filter ReportTests`.
@Suite struct ReportTests {

  @Test func jsonStringsEscapeEveryByteThatNeedsIt() throws {
    // Every ASCII byte, DEL, and multi-byte text, alone and in runs: the literal must parse back to the string.
    var texts = (0..<128).map { String(UnicodeScalar(UInt8($0))) }
    texts += ["", "plain", "{\"errorType\":\"GoneException\"}\\n", "tab\there\r\n", "é \u{1F600} \u{7F}\u{0}", String(repeating: "\"", count: 40)]
    for text in texts {
      var writer = JSONWriter(pretty: false)
      writer.string(text)
      let literal = writer.output
      let back = try JSONSerialization.jsonObject(with: Data("[\(literal)]".utf8)) as? [String]
      #expect(back == [text], "\(Array(text.utf8))")
      #expect(!literal.utf8.contains { $0 < 0x20 || $0 == 0x7F }, "no raw control byte in \(literal)")
    }
  }
  @Test func jsonStringsEscapeWhereverTheByteFallsInAWord() throws {
    // The writer copies clean eight-byte words whole: each byte that needs an escape, and a
    // multi-byte character, at every offset of the first two words and in the short tail.
    var texts: [String] = []
    let specials = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) } + ["\"", "\\", "\u{7F}", "é", "\u{1F600}"]
    for special in specials {
      for offset in 0..<19 {
        texts.append(String(repeating: "a", count: offset) + special + String(repeating: "b", count: 18 - offset))
      }
    }
    for text in texts {
      var writer = JSONWriter(pretty: false)
      writer.string(text)
      let back = try JSONSerialization.jsonObject(with: Data("[\(writer.output)]".utf8)) as? [String]
      #expect(back == [text], "\(Array(text.utf8))")
      #expect(!writer.output.utf8.contains { $0 < 0x20 || $0 == 0x7F }, "no raw control byte in \(writer.output)")
    }
  }

  /// Evidence is quoted from its stored bytes: the text is what reading it as a String gives,
  /// ill-formed UTF-8 repaired the same way, whether the line is in the store or inline.
  @Test func evidenceIsQuotedFromItsBytesAsItsStringWouldBe() throws {
    let store = TextStore(directory: Fixture.directory().path)
    var lines: [[UInt8]] = [
      Array("{\"message\":\"Forbidden\"}\ttab".utf8), Array("plain ascii line of some length".utf8),
      Array("caf\u{E9} \u{1F600} ok".utf8), [0x61, 0xFF, 0x62, 0xC3], Array(repeating: 0x22, count: 17), [],
      Array("a line cut by the evidence limit \u{2026}".utf8), Array("\u{10FFFF}\u{800}\u{7FF}\u{80}\"".utf8),
      [0xC0, 0xAF, 0x41], [0xED, 0xA0, 0x80, 0x41], [0xF4, 0x90, 0x80, 0x80], [0x41, 0xE2, 0x80], [0xE2, 0x80, 0x41],
      [0x80, 0x41], [0xF0, 0x9F, 0x98], [0xE0, 0x9F, 0xBF], [0x22, 0xC3, 0xA9, 0x5C, 0x0A, 0xF0, 0x9F, 0x98, 0x80],
    ]
    // And random mixes of ASCII, escapes and bytes past ASCII, around the 8-byte words the
    // writer copies whole (seeded: a failure repeats).
    var rng = SeededGenerator(seed: 18)
    let alphabet: [UInt8] = Array("abc {}:,".utf8) + [0x22, 0x5C, 0x0A, 0x09, 0x01, 0x7F] + [0x80, 0xA9, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]
    for _ in 0..<2_000 { lines.append((0..<Int.random(in: 0...40, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }) }
    for bytes in lines {
      for text in [bytes.withUnsafeBytes { store.append($0) }, LineText(String(decoding: bytes, as: UTF8.self))] {
        var fromBytes = JSONWriter(pretty: false)
        fromBytes.object { $0.field("text", line: text) }
        var fromString = JSONWriter(pretty: false)
        fromString.object { $0.field("text", text.string) }
        // Bytes, not Strings: reading the output as a String would repair it again.
        #expect(fromBytes.takeBytes() == fromString.takeBytes(), "\(bytes)")
      }
    }
  }

  static let golden = Fixture.root.appendingPathComponent("golden")
  /// A fixed "now" makes the report stamps reproducible.
  static let now = "2026-01-01T00:00:00Z"

  static func render(_ format: ReportFormat, _ extra: [String] = []) -> Fixture.RunResult {
    Fixture.gonetrace(["analyze", "samples", "--format", format.rawValue, "--now", now, "--color", "never"] + extra,
      cwd: Fixture.repo)
  }

  static func fileName(_ format: ReportFormat) -> String {
    let ext: [ReportFormat: String] = [.text: "txt", .json: "json", .jsonl: "jsonl", .csv: "csv", .markdown: "md",
      .html: "html", .prometheus: "prom"]
    return "samples." + ext[format]!
  }

  @Test(arguments: ReportFormat.allCases)
  func goldenReport(_ format: ReportFormat) throws {
    let r = Self.render(format)
    #expect(r.status == 1, "\(r.stderr)")
    let url = Self.golden.appendingPathComponent(Self.fileName(format))
    if ProcessInfo.processInfo.environment["GONETRACE_RECORD"] == "1" {
      try r.stdout.write(to: url)
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(r.out == expected, "\(format) differs from \(url.lastPathComponent); re-record with GONETRACE_RECORD=1 if intended")
  }

  /// The JSON reports build the verdicts' text on several threads, a window of batches at a
  /// time: the bytes are those of one thread, across batch and window boundaries (the samples'
  /// verdicts repeated past two windows), pretty or compact, and for JSON Lines.
  @Test func jsonReportsAreTheSameOnAnyNumberOfThreads() {
    var a = Analyzer.run(paths: [Fixture.repo.appendingPathComponent("samples").path], options: AnalysisOptions())
    #expect(a.verdicts.count == 29)
    a.verdicts = VerdictList(Array(repeatElement(a.verdicts, count: 100).joined()))
    var one = ReportContext(version: "test", generatedAt: 0)
    one.threads = 1
    var three = one
    three.threads = 3
    for pretty in [true, false] {
      let serial = JSONReport.render(a, version: "test", pretty: pretty, threads: 1)
      #expect(JSONReport.render(a, version: "test", pretty: pretty, threads: 3) == serial)
      #expect((try? JSONSerialization.jsonObject(with: Data(serial.utf8))) != nil)
    }
    #expect(ReportFormat.jsonl.render(a, three) == ReportFormat.jsonl.render(a, one))
    var texts: [String] = []
    ParallelRender.write(count: 1_000, threads: 3, batch: 7) { range, buffer in
      buffer += range.map { "\($0);" }.joined().utf8
    } emit: {
      texts.append(String(decoding: $0, as: UTF8.self))
    }
    #expect(texts.joined() == (0..<1_000).map { "\($0);" }.joined())
  }

  /// Verdicts written to a temporary store (as a windowed run keeps them) read back as they
  /// were: every field, evidence lines included, so every report is the same.
  @Test func spilledVerdictsReportWhatWasDecided() {
    let a = Analyzer.run(paths: [Fixture.repo.appendingPathComponent("samples").path], options: AnalysisOptions())
    #expect(a.verdicts.count == 29)
    var spilled = a
    spilled.verdicts = VerdictList.spilling()
    spilled.verdicts.append(contentsOf: a.verdicts)
    let context = ReportContext(version: "test", generatedAt: 0)
    for format in ReportFormat.allCases {
      #expect(format.render(spilled, context) == format.render(a, context), "\(format)")
    }
    #expect(spilled.verdicts.indices.map { spilled.verdicts.detail(at: $0) } == a.verdicts.map(\.detail))
    let closed = spilled.verdicts.filtered { $0.detail == .clientClosed }
    #expect(closed.count == a.verdicts.filter { $0.detail == .clientClosed }.count)
    #expect(closed.count > 0 && closed.allSatisfy { $0.detail == .clientClosed })
  }

  /// The three machine formats say the same thing: same verdicts in the same order.
  @Test func jsonJSONLinesAndCSVAgree() throws {
    let json = try #require(try JSONSerialization.jsonObject(with: Self.render(.json).stdout) as? [String: Any])
    let verdicts = try #require(json["verdicts"] as? [[String: Any]])
    #expect(verdicts.count == 29)

    let lines = Self.render(.jsonl).out.split(separator: "\n")
    let records = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    let types = records.map { $0["type"] as? String ?? "?" }
    #expect(types.last == "summary")
    #expect(types.filter { $0 == "summary" }.count == 1)
    #expect(types.filter { $0 == "input" }.count == (json["inputs"] as? [Any])?.count)
    // Records come grouped: inputs, verdicts, diagnostics, summary.
    let order = ["input": 0, "verdict": 1, "diagnostic": 2, "summary": 3]
    #expect(types.map { order[$0]! } == types.map { order[$0]! }.sorted())
    let jsonlVerdicts = records.filter { $0["type"] as? String == "verdict" }
    #expect(jsonlVerdicts.map { $0["connectionId"] as? String } == verdicts.map { $0["connectionId"] as? String })
    #expect(jsonlVerdicts.map { $0["detail"] as? String } == verdicts.map { $0["detail"] as? String })
    #expect((records.last?["gone"] as? Int) == 29)

    let csv = try CSV.parse(Self.render(.csv).out)
    #expect(csv.first == CSVReport.header)
    let rows = csv.dropFirst()
    #expect(rows.count == 29)
    let detailColumn = try #require(CSVReport.header.firstIndex(of: "detail"))
    #expect(rows.map { $0[detailColumn] } == verdicts.map { $0["detail"] as? String ?? "" })
  }

  @Test func colourOnlyWhenAskedOrOnATerminal() {
    let always = Self.render(.text, ["--color", "always"])
    #expect(always.out.contains("\u{1B}["))
    // Not a terminal (a pipe): plain, even with NO_COLOR unset.
    let auto = Fixture.gonetrace(["analyze", "samples", "--color", "auto"], cwd: Fixture.repo)
    #expect(!auto.out.contains("\u{1B}["))
    #expect(auto.out.contains("By cause"))
    // --color always beats NO_COLOR, as the option is the more specific request.
    let forced = Fixture.gonetrace(["analyze", "samples", "--now", Self.now, "--color", "always"], cwd: Fixture.repo,
      environment: ["NO_COLOR": "1"])
    #expect(forced.out.contains("\u{1B}["))
    #expect(forced.out.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
      == Self.render(.text).out)
  }

  @Test func outputFileTakesItsFormatFromTheExtension() throws {
    let dir = Fixture.directory()
    for format in ReportFormat.allCases {
      let target = dir.appendingPathComponent(Self.fileName(format))
      let r = Fixture.gonetrace(["analyze", "samples", "--now", Self.now, "-o", target.path], cwd: Fixture.repo)
      #expect(r.status == 1)
      #expect(r.out.isEmpty)
      #expect(try Data(contentsOf: target) == Self.render(format).stdout, "\(format)")
    }
    // No temporary file is left beside the report.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).count == ReportFormat.allCases.count)
    let unknown = Fixture.gonetrace(["analyze", "samples", "-o", dir.appendingPathComponent("report.xyz").path],
      cwd: Fixture.repo)
    #expect(unknown.status == 2)
    #expect(unknown.stderr.contains("give --format"))
  }

  /// The extension is the last component's (what `NSString.pathExtension` gave).
  @Test func theFormatOfAFileNameIsItsLastComponentsExtension() {
    #expect(ReportFormat(fileName: "out/REPORT.Html") == .html)
    #expect(ReportFormat(fileName: "reports.json/today.csv") == .csv)
    #expect(ReportFormat(fileName: "reports.json/today") == nil, "a directory's extension is not the file's")
    #expect(ReportFormat(fileName: "/tmp/.json") == nil, "a dot file has no extension")
    #expect(ReportFormat(fileName: "weekly.2024.md") == .markdown)
  }

  /// Evidence lines are flattened byte by byte: the `\r` of a `\r\n` (one `Character` to Swift) too.
  @Test func lineBreaksInEvidenceAreFlattenedWhereverTheyAre() {
    #expect("a\r\nb\rc\nd".replacingAll("\r", with: "⏎").replacingAll("\n", with: "⏎") == "a⏎⏎b⏎c⏎d")
    #expect("say \"hé\"".replacingAll("\"", with: "\"\"") == "say \"\"hé\"\"")
    #expect("no match: é".replacingAll("|", with: "\\|") == "no match: é")
  }

  @Test func htmlIsSelfContained() {
    let html = Self.render(.html).out
    for external in ["src=\"http", "href=\"http", "@import", "url(", "<link "] {
      #expect(!html.contains(external), "\(external)")
    }
    #expect(html.contains("<svg class=\"timeline\""))
    #expect(html.components(separatedBy: "<tbody data-time=").count - 1 == 29)
  }

  @Test func prometheusHasEverySeriesAndTheRunStamp() {
    let prom = Self.render(.prometheus).out
    for detail in Detail.allCases {
      #expect(prom.contains("gonetrace_gone_total{cause=\"\(detail.cause.rawValue)\",detail=\"\(detail.rawValue)\"} "))
    }
    #expect(prom.contains("gonetrace_last_run_timestamp_seconds 1767225600\n"))
    #expect(prom.contains("gonetrace_events_read_total 578\n"))
  }

  // MARK: exit statuses and thresholds

  @Test func thresholdsSetTheExitStatus() {
    func status(_ extra: [String]) -> Int32 {
      Fixture.gonetrace(["analyze", "samples", "--format", "json"] + extra, cwd: Fixture.repo).status
    }
    #expect(status([]) == 1)
    #expect(status(["--max-gone", "29"]) == 0)
    #expect(status(["--max-gone", "28"]) == 1)
    // 5 pre-connect-post in the samples.
    #expect(status(["--fail-on", "pre-connect-post", "--max-gone", "5"]) == 0)
    #expect(status(["--fail-on", "pre-connect-post", "--max-gone", "4"]) == 1)
    #expect(status(["--fail-on", "idle-timeout"]) == 1)
    #expect(status(["--fail-on", "reconnect-with-old-id,idle-timeout", "--max-gone", "3"]) == 0)
    #expect(status(["--fail-on", "no-such-cause"]) == 2)
    #expect(status(["--max-gone", "-1"]) == 2)
  }

  @Test func sinceAndUntilLimitTheReportedVerdicts() throws {
    func gone(_ extra: [String]) throws -> [String] {
      let r = Fixture.gonetrace(["analyze", "samples", "--format", "json", "--now", "2024-05-09T12:00:00Z"] + extra,
        cwd: Fixture.repo)
      let json = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
      return (json["verdicts"] as? [[String: Any]] ?? []).map { $0["time"] as! String }
    }
    let all = try gone([])
    let late = try gone(["--since", "2024-05-09T11:00:00Z"])
    #expect(late == all.filter { $0 >= "2024-05-09T11:00:00" })
    #expect(!late.isEmpty && late.count < all.count)
    // Relative: an hour before --now is 11:00.
    #expect(try gone(["--since", "1h"]) == late)
    #expect(try gone(["--since", "30m", "--until", "2024-05-09T11:45:00Z"]) == all.filter { $0 >= "2024-05-09T11:30" && $0 <= "2024-05-09T11:45" })
    #expect(try gone(["--until", "2024-05-09"]) == [])
    let bad = Fixture.gonetrace(["analyze", "samples", "--since", "yesterday"], cwd: Fixture.repo)
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("'yesterday' is not a time"))
  }

  @Test func strictTurnsDiagnosticsIntoExitTwo() throws {
    let dir = Fixture.directory()
    let log = Fixture.write(EnvelopeTests.consoleCopy, to: dir.appendingPathComponent("clean.log"))
    let cut = Fixture.gzip(String(repeating: EnvelopeTests.consoleCopy, count: 50))
    _ = Fixture.write(bytes: Array(cut.prefix(cut.count - 30)), to: dir.appendingPathComponent("cut.gz"))
    #expect(Fixture.gonetrace(["analyze", log.path]).status == 0)
    #expect(Fixture.gonetrace(["analyze", "--strict", log.path]).status == 0)
    let lenient = Fixture.gonetrace(["analyze", "--format", "json", dir.path])
    #expect(lenient.status == 0)
    #expect(lenient.stderr.contains("cut.gz"))
    let strict = Fixture.gonetrace(["analyze", "--strict", dir.path])
    #expect(strict.status == 2)
    #expect(strict.stderr.contains("--strict"))
  }
}

/// RFC 4180 parsing for the tests, written from the RFC, independent of the writer.
enum CSV {
  struct Malformed: Error {}

  static func parse(_ text: String) throws -> [[String]] {
    var rows: [[String]] = [], row: [String] = [], field = ""
    var quoted = false, i = text.unicodeScalars.startIndex
    let s = text.unicodeScalars
    while i < s.endIndex {
      let c = s[i]
      if quoted {
        if c == "\"" {
          let next = s.index(after: i)
          if next < s.endIndex, s[next] == "\"" {
            field.unicodeScalars.append("\"")
            i = next
          } else {
            quoted = false
          }
        } else {
          field.unicodeScalars.append(c)
        }
      } else if c == "\"" {
        guard field.isEmpty else { throw Malformed() }
        quoted = true
      } else if c == "," {
        row.append(field)
        field = ""
      } else if c == "\r" {
        let next = s.index(after: i)
        guard next < s.endIndex, s[next] == "\n" else { throw Malformed() }
        row.append(field)
        rows.append(row)
        row = []
        field = ""
        i = next
      } else {
        field.unicodeScalars.append(c)
      }
      i = s.index(after: i)
    }
    guard !quoted, field.isEmpty, row.isEmpty else { throw Malformed() }
    return rows
  }
}
