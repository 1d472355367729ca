import Foundation
import Testing
@testable import GoneTrace

/// Real aws CLI v1 output captured against moto_server (Fixtures/cli/NOTES.md has the commands):
/// every decoded event must be one that was put, with its message byte for byte (less the
/// trailing white space gonetrace drops everywhere), its time, and its stream where the CLI prints one.
@Suite struct CapturedCLITests {
  struct Put: Decodable, Hashable {
    var logGroup: String
    var logStream: String
    var timestamp: Int64
    var message: String
  }

  static let cli = Fixture.root.appendingPathComponent("cli")
  static let puts: [Put] = {
    let data = try! Data(contentsOf: cli.appendingPathComponent("input-events.json"))
    return try! JSONDecoder().decode([Put].self, from: data)
  }()

  static func trimmed(_ s: String) -> String {
    var s = Substring(s)
    while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s = s.dropLast() }
    return String(s)
  }

  static let jsonOutputs: [String] = (try? FileManager.default.contentsOfDirectory(atPath: cli.path))?
    .filter { $0.hasSuffix(".json") && !["input-events.json", "captured-commands.json", "start-query.json"].contains($0) }
    .sorted() ?? []

  @Test(arguments: jsonOutputs)
  func decodesCapturedOutput(_ name: String) throws {
    let (sink, summary) = try decode(Self.cli.appendingPathComponent(name))
    #expect(summary.format == (name.hasPrefix("get-query-results") ? .insightsJSON : .cliJSON))
    #expect(sink.diagnostics.isEmpty, "\(sink.diagnostics)")
    let expected = Set(Self.puts.map { "\($0.timestamp)|\(Self.trimmed($0.message))" })
    for event in sink.events {
      #expect(expected.contains("\(event.timestamp)|\(event.message)"), "unexpected event \(event)")
      if let stream = event.stream { #expect(Self.puts.contains { $0.logStream == stream }) }
    }
    if name.contains("empty") || name.contains("past-end") || name.contains("no-match") {
      #expect(sink.events.isEmpty)
    } else {
      #expect(!sink.events.isEmpty)
    }
  }

  /// `--max-items 2` repeated with `--starting-token` and appended: every event of the group once.
  @Test func appendedMaxItemsPagesGiveEveryEventOnce() throws {
    let (sink, _) = try decode(Self.cli.appendingPathComponent("filter-log-events.max-items-2.all-pages.json"))
    let group = Self.puts.filter { $0.logGroup == "API-Gateway-Execution-Logs_k7x2m9q4ab/prod" }
    #expect(sink.events.map { "\($0.timestamp)|\($0.message)" }.sorted()
      == group.map { "\($0.timestamp)|\(Self.trimmed($0.message))" }.sorted())
  }

  /// The same events through stdin as through the path.
  @Test func standardInputGivesTheSameResultAsThePath() throws {
    for name in ["filter-log-events.lambda.default.json", "get-query-results.json", "get-log-events.lambda.json"] {
      let url = Self.cli.appendingPathComponent(name)
      let byPath = Fixture.gonetrace(["analyze", "--format", "json", url.path])
      let byStdin = Fixture.gonetrace(["analyze", "--format", "json"], stdin: try Data(contentsOf: url))
      #expect(byPath.status == byStdin.status)
      #expect(byPath.out.replacingOccurrences(of: url.path, with: "-") == byStdin.out, "\(name)")
    }
  }
}
