import Foundation
import Testing
@testable import GoneTrace

@Suite struct PatternTests {
  @Test func compileErrorNamesPatternAndOffset() {
    #expect(throws: PatternError.self) { try Pattern("(?<id>unclosed") }
    do {
      _ = try Pattern("ab(c")
      Issue.record("expected a compile error")
    } catch let error as PatternError {
      #expect(error.offset == 4)
      #expect(error.description.contains("/ab(c/"))
      #expect(error.description.contains("missing closing parenthesis"))
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }

  @Test func namedGroupsOverBytesWithoutStrings() throws {
    let p = try Pattern(#"Found stale connection, deleting (?<connectionId>\S+)"#)
    #expect(p.usesJIT)
    #expect(p.groupNumbers == ["connectionId": 1])
    let m = Matcher(p)
    let line = Array("2019-06-07T19:11:20.564Z\tc793869b\tINFO\tFound stale connection, deleting R1kmxc2VNjMCFIA=".utf8)
    let found = try line.withUnsafeBytes { try m.firstMatch(in: $0) }
    #expect(found)
    #expect(m.range(1).map { String(decoding: line[$0], as: UTF8.self) } == "R1kmxc2VNjMCFIA=")
  }

  @Test func emptySubjectAndNoMatch() throws {
    let m = Matcher(try Pattern("GoneException"))
    let empty: [UInt8] = []
    #expect(try empty.withUnsafeBytes { try m.firstMatch(in: $0) } == false)
    #expect(try Array("BadRequestException: Invalid connectionId".utf8).withUnsafeBytes { try m.firstMatch(in: $0) } == false)
  }

  @Test func catastrophicPatternHitsTheMatchLimitInsteadOfHanging() throws {
    let m = Matcher(try Pattern("^(a+)+$"))
    let hostile = Array(String(repeating: "a", count: 40_000).utf8) + [UInt8(ascii: "!")]
    do {
      _ = try hostile.withUnsafeBytes { try m.firstMatch(in: $0) }
      Issue.record("expected the match limit to stop the pattern")
    } catch let error as PatternError {
      #expect(Matcher.isLimitError(error))
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }
}

@Suite struct TimestampTests {
  @Test(arguments: [
    ("2020-07-02T11:34:31.881-04:00", 1_593_704_071_881 as Int64),
    ("2017-06-05T17:52:57.673Z", 1_496_685_177_673),
    ("2018-01-01T00:29:43.079060+00:00", 1_514_766_583_079),
    ("2018-01-01T00:29:43+00:00", 1_514_766_583_000),
    ("2018-01-01T00:29:43", 1_514_766_583_000),
    ("2024-05-19 06:10:35.743", 1_716_099_035_743),
    ("20/Jul/2023:23:29:25 +0000", 1_689_895_765_000),
    ("1705751708326", 1_705_751_708_326),
  ])
  func parses(_ text: String, _ expected: Int64) {
    #expect(Timestamp.parseAny(text) == expected)
  }

  @Test func lineTimesReadAsAFullParseDoes() {
    // Lines in log order: the reader reuses the minute of the line before while the first 16
    // bytes are unchanged. Each answer, including each refusal, must be the full parse's.
    let lines = [
      "2024-05-09T00:00:01.000Z (61TKXe7OZtMFjyQ=) Extended Request Id: 61TKXe7OZtMFjyQ=",
      "2024-05-09T00:00:01.017Z (61TKXe7OZtMFjyQ=) Starting execution for request: 61TKXe7OZtMFjyQ=",
      "2024-05-09T00:00:59.999Z same minute, last second",
      "2024-05-09T00:00:60Z a leap second",
      "2024-05-09T00:00:61Z not a second",
      "2024-05-09T00:00:6x not digits",
      "2024-05-09T00:00x01Z not a colon before the seconds",
      "2024-05-09T00:01:00.5Z the next minute",
      "2024-05-09T00:01:00.5+02:00 the same bytes up to the seconds, another zone",
      "2024-05-10T00:01:00.5Z the next day",
      "2020-07-02T11:34:31.881-04:00 (PDS1PEC4oAMFpyA=) Execution failed",
      "2024-05-19 06:10:35.743 Logs Insights",
      "2024-05-19 06:10:3",
    ]
    var reader = ISO8601LineTimes()
    for line in lines {
      let bytes = Array(line.utf8)
      let full = bytes.withUnsafeBytes { Timestamp.parseISO8601($0) }
      let read = bytes.withUnsafeBytes { reader.parse($0) }
      #expect(read?.0 == full?.0 && read?.1 == full?.1, "\(line)")
    }
    var check = ISO8601LineTimes()
    let day = Array("2024-05-09T00:00:01.000Z".utf8), nextDay = Array("2024-05-10T00:00:01.000Z".utf8)
    #expect(day.withUnsafeBytes { check.parse($0) }?.0 == 1_715_212_801_000)
    #expect(nextDay.withUnsafeBytes { check.parse($0) }?.0 == 1_715_299_201_000)
  }

  @Test func formatsUTCWithMilliseconds() {
    #expect(Timestamp.format(1_593_704_071_881) == "2020-07-02T15:34:31.881Z")
    #expect(Timestamp.format(0) == "1970-01-01T00:00:00.000Z")
  }

  @Test func formatsLikeFoundationAcrossTheRange() {
    // The digits are written in place for years 0...9999; Foundation is the independent reference.
    let iso = ISO8601DateFormatter()
    iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    iso.timeZone = TimeZone(identifier: "UTC")
    var rng = SystemRandomNumberGenerator()
    let edges: [Int64] = [-1, 1, 999, 86_399_999, 951_782_400_000, 253_402_300_799_999]
    for ms in edges + (0..<2_000).map({ _ in Int64.random(in: 0..<253_402_300_800_000, using: &rng) }) {
      let date = Date(timeIntervalSince1970: Double(ms) / 1000)
      #expect(Timestamp.format(ms) == iso.string(from: date), "\(ms)")
    }
    // Past year 9999 the general path pads the same way, with the year's five digits.
    #expect(Timestamp.format(253_402_300_800_000) == "10000-01-01T00:00:00.000Z")
  }

  @Test func rejectsOutOfRange() {
    #expect(Timestamp.parseAny("2024-13-01T00:00:00Z") == nil)
    #expect(Timestamp.parseAny("0000-01-01T00:00:00Z") == nil)
  }
}
