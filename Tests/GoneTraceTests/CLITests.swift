import Foundation
import Testing
@testable import GoneTrace

/// The executable's contract: stdin equals the path for every envelope, and exit statuses.
@Suite struct CLITests {
  /// The verdicts, summary and per-input event counts of a JSON report, without input names
  /// (stdin is called "-") and without the format name (an S3 export chunk is `s3-export` by its
  /// path and plain `lines` on stdin, with the same events).
  static func comparable(_ out: Data) throws -> String {
    var json = try #require(try JSONSerialization.jsonObject(with: out) as? [String: Any])
    json["inputs"] = (json["inputs"] as? [[String: Any]])?.map { ["events": $0["events"]!, "unparsed": $0["unparsed"]!] }
    var verdicts = json["verdicts"] as? [[String: Any]] ?? []
    for i in verdicts.indices {
      verdicts[i]["evidence"] = (verdicts[i]["evidence"] as? [[String: Any]])?.map { e in
        var e = e
        e["input"] = nil
        return e
      }
    }
    json["verdicts"] = verdicts
    json["diagnostics"] = (json["diagnostics"] as? [[String: Any]])?.map { d in
      var d = d
      d["input"] = nil
      return d
    }
    return String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self)
  }

  static func envelopeFiles() -> [URL] {
    let samples = Fixture.repo.appendingPathComponent("samples")
    var files: [URL] = []
    let walker = FileManager.default.enumerator(at: samples, includingPropertiesForKeys: nil)
    while let url = walker?.nextObject() as? URL {
      if !url.hasDirectoryPath, url.lastPathComponent != "aws-logs-write-test" { files.append(url) }
    }
    let dir = Fixture.directory()
    files.append(Fixture.write(bytes: Fixture.gzip(EnvelopeTests.payload("1", "(R1knPH17NjMFftw=) Extended Request Id: Vts2FFmArPEFh8g=")),
      to: dir.appendingPathComponent("subscription")))
    files.append(Fixture.write("@logStream,@timestamp,@message\ns1,2021-08-11 09:29:13.095,\"hello\"\n",
      to: dir.appendingPathComponent("insights.csv")))
    files.append(Fixture.root.appendingPathComponent("cli/get-query-results.json"))
    return files.sorted { $0.path < $1.path }
  }

  @Test func standardInputEqualsThePathForEveryEnvelope() throws {
    var formats = Set<String>()
    for url in Self.envelopeFiles() {
      let byPath = Fixture.gonetrace(["analyze", "--format", "json", url.path])
      let byStdin = Fixture.gonetrace(["analyze", "--format", "json"], stdin: try Data(contentsOf: url))
      #expect(byPath.status == byStdin.status, "\(url.lastPathComponent)")
      #expect(try Self.comparable(byPath.stdout) == Self.comparable(byStdin.stdout), "\(url.lastPathComponent)")
      let json = try JSONSerialization.jsonObject(with: byPath.stdout) as? [String: Any]
      if let f = (json?["inputs"] as? [[String: Any]])?.first?["format"] as? String { formats.insert(f) }
    }
    #expect(formats == Set(EnvelopeFormat.allCases.map(\.rawValue)))
  }

  /// Parallel decoding merges per-thread state; the report must not depend on it.
  @Test func oneThreadAndTheDefaultGiveIdenticalJSON() {
    let samples = Fixture.repo.appendingPathComponent("samples").path
    let one = Fixture.gonetrace(["analyze", "--format", "json", "--threads", "1", samples])
    let two = Fixture.gonetrace(["analyze", "--format", "json", samples])
    #expect(one.status == 1)
    #expect(one.out == two.out)
    #expect(one.out.contains("\"gone\": 29"))
  }

  @Test func exitStatuses() throws {
    let dir = Fixture.directory()
    // 0: logs without a 410 (§1.4 (0) VERIFIED-REAL lines).
    let clean = Fixture.write(EnvelopeTests.consoleCopy, to: dir.appendingPathComponent("clean.log"))
    #expect(Fixture.gonetrace(["analyze", clean.path]).status == 0)
    // 1: the samples have 410s.
    #expect(Fixture.gonetrace(["analyze", Fixture.repo.appendingPathComponent("samples").path]).status == 1)
    // 2: an input in no known shape, named on stderr.
    let notes = Fixture.write("Dear diary,\nnothing here.\n", to: dir.appendingPathComponent("notes.txt"))
    let unknown = Fixture.gonetrace(["analyze", clean.path, notes.path])
    #expect(unknown.status == 2)
    #expect(unknown.stderr.contains("\(notes.path): not a CloudWatch log in any known shape"))
    // 2: missing file, bad option.
    #expect(Fixture.gonetrace(["analyze", dir.appendingPathComponent("missing.log").path]).status == 2)
    #expect(Fixture.gonetrace(["analyze", "--no-such-option"]).status == 2)
  }

  @Test func truncatedGzipWarnsWithTheFileNameAndKeepsEarlierEvents() throws {
    let dir = Fixture.directory()
    let full = Fixture.gzip(String(repeating: EnvelopeTests.consoleCopy, count: 400))
    let cut = Fixture.write(bytes: Array(full.prefix(full.count - 40)), to: dir.appendingPathComponent("cut.gz"))
    let r = Fixture.gonetrace(["analyze", "--format", "json", cut.path])
    #expect(r.status == 0)
    let json = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
    let input = try #require((json["inputs"] as? [[String: Any]])?.first)
    #expect((input["events"] as? Int ?? 0) > 1000)
    let diagnostics = json["diagnostics"] as? [[String: Any]] ?? []
    #expect(diagnostics.contains { ($0["input"] as? String) == cut.path && ($0["message"] as? String)?.contains("truncated") == true })
  }
}

/// Big files are read in line-aligned pieces on several workers, and calls assembled and
/// classified in shares; forcing tiny pieces and shares on the samples and every fixture case
/// must give the report of one pass.
@Test func piecesOfFilesGiveTheReportOfOnePass() throws {
  let fixtures = Fixture.repo.appendingPathComponent("Tests/GoneTraceTests/Fixtures/classify").path
  let samples = Fixture.repo.appendingPathComponent("samples").path
  // A copy of a Lambda log with invalid UTF-8 and NUL bytes in two lines: warned once per input.
  var broken = try Data(contentsOf: URL(fileURLWithPath: samples + "/lambda-chat-message.log"))
  broken.insert(contentsOf: [0xC3, 0x28], at: broken.count / 3)
  broken.insert(contentsOf: [0x00], at: 2 * broken.count / 3)
  let brokenDir = Fixture.directory()
  try broken.write(to: brokenDir.appendingPathComponent("lambda-broken.log"))
  for paths in [[samples], [fixtures], [samples, fixtures], [brokenDir.path]] {
    var one = AnalysisOptions()
    one.threads = 1
    var split = AnalysisOptions()
    split.threads = 2
    split.splitMinimumBytes = 1
    split.minimumShare = 1
    for piece in [300, 2_000, 9_000] {
      split.splitPieceBytes = piece
      let connect = samples + "/lambda-chat-connect.log"
      if piece < 5_000 {  // the connect log (14 KB) is split
        let plan = try #require(ChunkedReader.plan(Input(name: connect, path: connect), index: 0, options: split))
        #expect(plan.starts.count > 1)
      }
      let a = Analyzer.run(paths: paths, options: one)
      let b = Analyzer.run(paths: paths, options: split)
      #expect(JSONReport.render(a, version: "t") == JSONReport.render(b, version: "t"))
      #expect(a.diagnostics == b.diagnostics)
      #expect(a.inputs == b.inputs)
    }
  }

}

/// A split file's pieces are `pieceBytes` long but for its last two to three pieces' worth, cut
/// in eight: the workers then finish reading within a short piece of each other.
@Test func piecesShrinkTowardTheEndOfAFile() {
  for (size, piece): (Int64, Int64) in [(1_600, 16), (1_000_003, 16_384), (48, 16), (33, 16), (34 << 20, 16 << 20)] {
    let starts = ChunkedReader.nominalStarts(size: size, pieceBytes: piece)
    let bounds = [0] + starts + [size]
    let lengths = zip(bounds, bounds.dropFirst()).map { $1 - $0 }
    #expect(lengths.allSatisfy { $0 > 0 }, "\(size), \(piece): \(lengths)")
    #expect(lengths.count >= 8)
    #expect(lengths.dropLast(8).allSatisfy { $0 == piece }, "\(size), \(piece): \(lengths)")
    // The tail (2 to 3 pieces, or the whole file when shorter) in eight near-equal parts.
    let tail = lengths.suffix(8)
    #expect(tail.reduce(0, +) < 3 * piece)
    #expect(tail.max()! - tail.min()! < 8, "\(size), \(piece): \(lengths)")
  }
}

/// A path that cannot be opened is listed among the inputs, but evidence still names the file
/// it came from (evidence points at inputs by position; the unreadable one is listed last).
@Test func anUnreadablePathDoesNotShiftEvidenceNames() throws {
  func evidenceInputs(_ paths: [String]) throws -> [String] {
    let r = Fixture.gonetrace(["analyze", "--format", "json"] + paths, cwd: Fixture.repo)
    let json = try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
    return (json["verdicts"] as? [[String: Any]] ?? []).flatMap { v in
      (v["evidence"] as? [[String: Any]] ?? []).map { $0["input"] as? String ?? "nil" }
    }
  }
  let clean = try evidenceInputs(["samples"])
  #expect(!clean.isEmpty)
  #expect(try evidenceInputs(["no-such-file.log", "samples"]) == clean)
}

/// A report only counts the connections, so they are let go of once the 410s are classified;
/// `explain` asks to keep them. The count, the verdicts and the report are the same either way.
@Test func connectionsAreCountedWhetherOrNotTheirTimelinesAreKept() {
  let samples = Fixture.repo.appendingPathComponent("samples").path
  var keeping = AnalysisOptions()
  keeping.keepsTimelines = true
  let kept = Analyzer.run(paths: [samples], options: keeping)
  let dropped = Analyzer.run(paths: [samples], options: AnalysisOptions())
  #expect(kept.timelines.count > 10)
  #expect(kept.connectionsSeen == kept.timelines.count)
  #expect(dropped.timelines.isEmpty)
  #expect(dropped.connectionsSeen == kept.connectionsSeen)
  #expect(JSONReport.render(kept, version: "t") == JSONReport.render(dropped, version: "t"))
  // `explain` of a connection a verdict names shows its timeline, not "no lifecycle event".
  let id = kept.verdicts.compactMap { $0.connection != nil ? $0.connectionId : nil }.first!
  #expect(TextReport.explain(id, kept).hasPrefix("Connection \(id)"))
}
