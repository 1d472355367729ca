import Foundation
import Testing
@testable import GoneTrace

/// The gzip layer on its own, at awkward buffer sizes: members ending mid-buffer, input arriving a
/// few bytes at a time, and every way a gzip file goes wrong after a good start. The data is
/// `samples/lambda-chat-message.log` (real Lambda log formats) gzipped by the system's `gzip`.
@Suite struct InflaterTests {
  static let text = Array(try! Data(contentsOf: HostileInputTests.samples.appendingPathComponent("lambda-chat-message.log")))
  /// Three members, as Firehose writes them: the text cut in three, each part gzipped alone.
  static let members: [[UInt8]] = {
    let cuts = [0, text.count / 3, text.count / 3 * 2 + 7, text.count]
    return (0..<3).map { Fixture.gzip(String(decoding: text[cuts[$0]..<cuts[$0 + 1]], as: UTF8.self)) }
  }()
  static let gzipped = Array(members.joined())

  /// Serves `bytes` at most `step` at a time.
  final class Trickle: ByteSource {
    let bytes: [UInt8]
    let step: Int
    var offset = 0
    init(_ bytes: [UInt8], step: Int) {
      self.bytes = bytes
      self.step = step
    }
    var problems: [SourceProblem] { [] }
    var rawBytesRead: Int64 { Int64(offset) }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
      let n = min(step, buffer.count, bytes.count - offset)
      bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
      offset += n
      return n
    }
  }

  /// Everything a `GzipSource` over `gz` delivers, read `outputStep` bytes at a time.
  static func inflate(_ gz: [UInt8], inputStep: Int, outputStep: Int) throws -> (bytes: [UInt8], problems: [SourceProblem]) {
    let source = GzipSource(Trickle(gz, step: inputStep), name: "test.gz")
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: outputStep)
    while true {
      let n = try buffer.withUnsafeMutableBytes { b throws(InputError) in try source.read(into: b) }
      if n == 0 { break }
      out += buffer[0..<n]
    }
    return (out, source.problems)
  }

  @Test(arguments: [(5, 7), (1, 4096), (256 * 1024, 1), (256 * 1024, 1 << 20)])
  func membersInflateToTheTextAtAnyBufferSizes(inputStep: Int, outputStep: Int) throws {
    let (bytes, problems) = try Self.inflate(Self.gzipped, inputStep: inputStep, outputStep: outputStep)
    #expect(bytes == Self.text)
    #expect(problems.isEmpty)
  }

  @Test func trailingZerosAreNamedButLoseNothing() throws {
    let (bytes, problems) = try Self.inflate(Self.gzipped + [UInt8](repeating: 0, count: 512), inputStep: 1000, outputStep: 4096)
    #expect(bytes == Self.text)
    #expect(problems == [SourceProblem(message: "512 bytes after the last gzip member ignored", lost: false)])
  }

  @Test func aWrongChecksumIsCorruptData() throws {
    var gz = Self.gzipped
    gz[gz.count - 6] ^= 0xFF  // the last member's CRC-32 (then 4 bytes of length)
    let (bytes, problems) = try Self.inflate(gz, inputStep: 4096, outputStep: 4096)
    #expect(bytes == Self.text, "the data itself inflated whole")
    #expect(problems.count == 1)
    #expect(problems.first?.lost == true)
    #expect(problems.first?.message.contains("corrupt gzip data after \(Self.text.count) inflated bytes (incorrect data check)") == true,
      "\(problems)")
  }

  @Test func aCutMemberIsTruncatedAfterWhatItGave() throws {
    let cut = Array(Self.gzipped.dropLast(Self.members[2].count / 2))
    let (bytes, problems) = try Self.inflate(cut, inputStep: 333, outputStep: 4096)
    #expect(bytes.count > Self.text.count * 2 / 3 && bytes.count < Self.text.count)
    #expect(bytes == Array(Self.text.prefix(bytes.count)))
    #expect(problems == [SourceProblem(message: "gzip stream truncated after \(bytes.count) inflated bytes; "
      + "events before the cut were read", lost: true)])
  }

  @Test func aSubscriptionPayloadStopsAtItsLimitAndNamesWhatFollows() {
    func inflate(_ gz: [UInt8], limit: Int) -> ([UInt8], String?) {
      var out: [UInt8] = []
      let problem = Inflate.stream(gz, limit: limit) { out += $0 }
      return (out, problem)
    }
    let whole = inflate(Self.gzipped, limit: Self.text.count)
    #expect(whole.0 == Self.text)
    #expect(whole.1 == nil, "exactly the limit is not over it")
    let over = inflate(Self.gzipped, limit: Self.text.count - 1)
    #expect(over.0 == Array(Self.text.dropLast()))
    #expect(over.1?.contains("a gzip bomb?") == true)
    let junk = inflate(Self.gzipped + Array("junk".utf8), limit: 1 << 26)
    #expect(junk.0 == Self.text)
    #expect(junk.1 == "4 bytes after the gzip data ignored")
    let cut = inflate(Array(Self.gzipped.dropLast(9)), limit: 1 << 26)
    #expect(cut.1 == "gzip data truncated; the events before the cut were read")
  }
}
