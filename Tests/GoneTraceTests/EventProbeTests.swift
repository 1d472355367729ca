import Foundation
import Testing
@testable import GoneTrace

/// `EventProbe` finds where a file's events of a given time start by reading a few windows of
/// it. These tests check it against the plain answer: every line of the file, read whole.
@Suite struct EventProbeTests {
  /// A line-shaped file and every line in it that opens an event, with its offset and time.
  struct ProbedFile {
    var bytes: [UInt8]
    var events: [(offset: Int64, time: EpochMillis)]
  }

  /// Lines of a real Lambda log (samples/lambda-chat-message.log, from log-formats.md's Lambda
  /// text lines), retimed in order. Some lines are continuation lines (no time in front: a stack
  /// trace's, say) and do not open an event; some are long enough to make a window grow.
  static func makeFile(lines: Int, crlf: Bool, finalNewline: Bool, rng: inout some RandomNumberGenerator) -> ProbedFile {
    let sample = try! String(contentsOf: Fixture.repo.appendingPathComponent("samples/lambda-chat-message.log"), encoding: .utf8)
    let bodies = sample.split(separator: "\n").map { $0.drop(while: { $0 != " " }) }
    var bytes: [UInt8] = []
    var events: [(Int64, EpochMillis)] = []
    var time = ms("2024-05-09T10:00:00.000Z")
    for i in 0..<lines {
      var line: String
      let offset = Int64(bytes.count)
      switch Int.random(in: 0..<30, using: &rng) {
      case 0..<3: line = "    at " + bodies.randomElement(using: &rng)!
      case 3: line = Timestamp.format(time) + " " + String(repeating: "x", count: Int.random(in: 2_000...20_000, using: &rng))
      default: line = Timestamp.format(time) + bodies.randomElement(using: &rng)!
      }
      if !line.hasPrefix(" ") { events.append((offset, time)) }
      bytes += Array(line.utf8)
      if i < lines - 1 || finalNewline { bytes += crlf ? [0x0D, 0x0A] : [0x0A] }
      time += EpochMillis.random(in: 0...2_000, using: &rng)
    }
    return ProbedFile(bytes: bytes, events: events)
  }

  static func withProbe<T>(_ file: ProbedFile, _ body: (EventProbe) -> T) -> T {
    let url = Fixture.write(bytes: file.bytes, to: Fixture.directory().appendingPathComponent("probe.log"))
    let fd = open(url.path, O_RDONLY)
    defer { close(fd) }
    return body(EventProbe(fd: fd, size: Int64(file.bytes.count)))
  }

  @Test(arguments: [(false, true), (true, true), (false, false), (true, false)])
  func probesFindWhatReadingTheWholeFileFinds(crlf: Bool, finalNewline: Bool) {
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<5 {
      let file = Self.makeFile(lines: Int.random(in: 1...1_500, using: &rng), crlf: crlf, finalNewline: finalNewline, rng: &rng)
      let size = Int64(file.bytes.count)
      Self.withProbe(file) { probe in
        #expect(probe.lastEventTime() == file.events.last?.time)
        var starts: [Int64] = [0, 1, size - 1, size] + file.events.prefix(50).map(\.offset)
        starts += (0..<200).map { _ in Int64.random(in: 0...size, using: &rng) }
        for from in starts {
          let expected = file.events.first { $0.offset >= from }
          let found = probe.firstEvent(atOrAfter: from)
          #expect(found?.offset == expected?.offset && found?.time == expected?.time, "from \(from) of \(size)")
        }
        let (first, last) = (file.events.first?.time ?? 0, file.events.last?.time ?? 0)
        for _ in 0..<100 {
          let time = EpochMillis.random(in: (first - 1_000)...(last + 1_000), using: &rng)
          let from = Bool.random(using: &rng) ? 0 : Int64.random(in: 0...size, using: &rng)
          let expected = file.events.first { $0.offset >= from && $0.time >= time }?.offset ?? size
          #expect(probe.cut(at: time, from: from) == expected, "time \(time) from \(from) of \(size)")
        }
      }
    }
  }

  /// A line too long to look across is not: the probe reports no event rather than reading the
  /// file to find one (the file is then read whole, not cut).
  @Test func aLineTooLongToLookAcrossEndsTheSearch() {
    // samples/lambda-chat-message.log's START and END lines, retimed, around a line of 1 MB.
    let head = Array("2024-05-09T10:00:00.000Z START RequestId: fc553be8-0626-46ac-a2e3-8adc0c30810b Version: $LATEST\n".utf8)
    let long = Array(repeating: UInt8(ascii: "x"), count: EventProbe.maxLineBytes + 10) + [0x0A]
    let tail = Array("2024-05-09T10:00:05.000Z END RequestId: fc553be8-0626-46ac-a2e3-8adc0c30810b\n".utf8)
    let file = ProbedFile(bytes: head + long + tail, events: [])
    Self.withProbe(file) { probe in
      #expect(probe.firstEvent(atOrAfter: 0)?.offset == 0)
      #expect(probe.firstEvent(atOrAfter: 1) == nil)
      #expect(probe.firstEvent(atOrAfter: Int64(head.count + long.count))?.time == ms("2024-05-09T10:00:05.000Z"))
      #expect(probe.lastEventTime() == ms("2024-05-09T10:00:05.000Z"))
      #expect(probe.cut(at: ms("2024-05-09T10:00:01.000Z"), from: 0) == Int64(file.bytes.count))
    }
  }
}
