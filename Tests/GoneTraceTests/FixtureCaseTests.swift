import Foundation
import Testing
@testable import GoneTrace

/// Fixtures/classify/<case>/: 1-3 logs and expected.json (the simulator's ground truth for the
/// case; SOURCES.md names each template's origin in log-formats.md). Each case must give exactly
/// the expected verdicts, one per failed call, none for the look-alikes.
@Suite struct FixtureCaseTests {
  struct Truth: Decodable {
    var time: String
    var connectionId: String?
    var cause: String
    var detail: String
    var newConnectionId: String?
  }

  static let root = Fixture.root.appendingPathComponent("classify")
  static let cases: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [])
    .filter { !$0.hasSuffix(".md") }.sorted()

  @Test func everyCauseAndDetailHasACase() {
    let causes = Set(Self.cases.map { $0.components(separatedBy: "--")[0] })
    for cause in ["pre-connect-post", "terminated-connection", "reconnect-with-old-id", "unknown", "negative"] {
      #expect(causes.contains(cause), "no fixture for \(cause)")
    }
    for detail in Detail.allCases where detail.cause != .reconnectWithOldId {
      #expect(Self.cases.contains { $0.contains("--\(detail.rawValue)--") }, "no fixture for \(detail.rawValue)")
    }
  }

  @Test(arguments: cases)
  func givesTheExpectedVerdicts(_ name: String) throws {
    let dir = Self.root.appendingPathComponent(name)
    let data = try Data(contentsOf: dir.appendingPathComponent("expected.json"))
    let expected = try JSONDecoder().decode([Truth].self, from: data)
    let logs = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != "expected.json" }.sorted()
    let analysis = Analyzer.run(paths: logs.map { dir.appendingPathComponent($0).path }, options: AnalysisOptions())
    #expect(analysis.inputErrors.isEmpty)
    let got = analysis.verdicts
    try #require(got.count == expected.count, "\(name): \(got.map { "\($0.cause.rawValue)/\($0.detail.rawValue) \($0.connectionId ?? "-")" })")
    for (v, t) in zip(got, expected.sorted { $0.time < $1.time }) {
      #expect(Timestamp.format(v.time) == t.time)
      #expect(v.connectionId == t.connectionId)
      #expect(v.cause.rawValue == t.cause)
      if t.cause == Cause.reconnectWithOldId.rawValue {
        #expect(v.newConnectionId == t.newConnectionId)
      } else {
        #expect(v.detail.rawValue == t.detail)
      }
    }
  }
}
