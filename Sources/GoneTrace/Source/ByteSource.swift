#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A stream of bytes: a file, stdin, or the inflated content of another stream.
/// `read` returns 0 at the end; problems that still leave earlier bytes usable (a truncated
/// gzip) are reported through `problems` instead of thrown, so the events before the cut survive.
protocol ByteSource: AnyObject {
  func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int
  /// Problems met so far that did not stop the stream from delivering what it had.
  var problems: [SourceProblem] { get }
  /// Bytes taken from the file or pipe itself so far (compressed bytes, for a gzip layer).
  var rawBytesRead: Int64 { get }
}

/// A problem a byte source met and got past.
struct SourceProblem: Equatable {
  var message: String
  /// True when content was lost (the input is counted as having unparsed data).
  var lost: Bool
}

/// `read(2)` on a file descriptor. Chunked reads into a reused buffer were the fastest input
/// strategy measured on this machine, and they work the same for pipes and files.
final class FileDescriptorSource: ByteSource {
  private let fd: Int32
  private let ownsDescriptor: Bool
  let name: String
  var problems: [SourceProblem] { [] }
  private(set) var rawBytesRead: Int64 = 0

  init(standardInput: ()) {
    fd = 0
    ownsDescriptor = false
    name = "-"
  }

  /// Bytes left to read when the source is a byte range of the file.
  private var remaining: Int64?
  private var start: Int64 = 0
  var progress: ProgressMeter?

  init(path: String, range: Range<Int64>? = nil) throws(InputError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      let reason = String(cString: strerror(errno))
      if errno == ENOENT { throw .notFound(path: path) }
      throw .notReadable(path: path, reason: reason)
    }
    self.fd = fd
    ownsDescriptor = true
    name = path
    start = range?.lowerBound ?? 0
    if let range {
      guard lseek(fd, off_t(range.lowerBound), SEEK_SET) >= 0 else {
        throw .readFailed(input: path, reason: String(cString: strerror(errno)))
      }
      remaining = range.upperBound - range.lowerBound
    }
  }

  deinit { if ownsDescriptor { close(fd) } }

  var descriptor: Int32 { fd }

  /// Where reading started in the file (nil for standard input, whose position is not known).
  var fileStart: Int64? { ownsDescriptor ? start : nil }

  func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
    let want = remaining.map { Int(min(Int64(buffer.count), $0)) } ?? buffer.count
    guard want > 0 else { return 0 }
    while true {
      let n = Glibc.read(fd, buffer.baseAddress, want)
      if n >= 0 {
        rawBytesRead += Int64(n)
        remaining = remaining.map { $0 - Int64(n) }
        progress?.add(bytes: n)
        return n
      }
      if errno == EINTR { continue }
      throw .readFailed(input: name, reason: String(cString: strerror(errno)))
    }
  }
}

/// Replays bytes already read (for format detection) before continuing with the source.
final class PrefixedSource: ByteSource {
  private var prefix: [UInt8]
  private var offset = 0
  private let rest: ByteSource
  var problems: [SourceProblem] { rest.problems }
  var rawBytesRead: Int64 { rest.rawBytesRead }

  init(prefix: [UInt8], rest: ByteSource) {
    self.prefix = prefix
    self.rest = rest
  }

  func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
    if offset < prefix.count {
      let n = min(buffer.count, prefix.count - offset)
      prefix.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
      offset += n
      if offset == prefix.count { prefix = [] ; offset = Int.max }
      return n
    }
    return try rest.read(into: buffer)
  }
}

/// Streaming gunzip (`Inflater`). Handles concatenated members (Firehose writes one gzip member
/// per record into the same S3 object, and `cat a.gz b.gz` does the same), and never holds more
/// than one input and one output buffer, so a gzip bomb costs time, not memory; and the time is
/// bounded too: past `bombFloor` bytes, output more than `maxRatio` times the file's own bytes
/// (deflate's own limit is about 1032:1 per layer, so only bombs and nested bombs get there) stops
/// the input with an error.
final class GzipSource: ByteSource {
  private let upstream: ByteSource
  private let name: String
  private let maxRatio: Int64
  private let bombFloor: Int64
  private let inflater = Inflater()
  private var input: UnsafeMutableRawBufferPointer
  private var upstreamDone = false
  private var inMember = false
  private var finished = false
  private(set) var problems: [SourceProblem] = []
  /// Bytes inflated so far (the position a corrupt member is reported at).
  private(set) var inflatedBytes: Int64 = 0
  var rawBytesRead: Int64 { upstream.rawBytesRead }

  static let gzipMagic: (UInt8, UInt8) = (0x1F, 0x8B)

  init(_ upstream: ByteSource, name: String, maxRatio: Int64 = 1_000, bombFloor: Int64 = 1 << 30) {
    self.upstream = upstream
    self.name = name
    self.maxRatio = maxRatio
    self.bombFloor = bombFloor
    input = .allocate(byteCount: 256 * 1024, alignment: 16)
  }

  deinit { input.deallocate() }

  private func refill() throws(InputError) -> Bool {
    guard !upstreamDone else { return false }
    let n = try upstream.read(into: input)
    if n == 0 {
      upstreamDone = true
      return false
    }
    inflater.setInput(UnsafeRawBufferPointer(rebasing: input[0..<n]))
    return true
  }

  func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
    guard !finished, buffer.count > 0 else { return 0 }
    var produced = 0
    while !finished, produced < buffer.count {
      if inflater.pendingInput.isEmpty, !(try refill()) {
        if inMember {
          problems.append(SourceProblem(message: "gzip stream truncated after \(inflatedBytes + Int64(produced)) "
            + "inflated bytes; events before the cut were read", lost: true))
        }
        finished = true
        break
      }
      if !inMember {
        // A new member must start with the gzip magic; anything else after a complete member
        // is trailing junk (zero padding from some uploaders). Report it, keep what we have.
        let next = inflater.pendingInput
        if next[0] != GzipSource.gzipMagic.0 || (next.count >= 2 && next[1] != GzipSource.gzipMagic.1) {
          problems.append(SourceProblem(message: "\(trailingByteCount()) bytes after the last gzip member ignored",
            lost: false))
          finished = true
          break
        }
        inMember = true
      }
      let (n, step) = inflater.inflate(into: UnsafeMutableRawBufferPointer(rebasing: buffer[produced...]))
      produced += n
      switch step {
      case .more: continue
      case .memberEnd:
        inMember = false
        inflater.startMember()
      case .corrupt(let reason):
        problems.append(SourceProblem(message: "corrupt gzip data after \(inflatedBytes + Int64(produced)) "
          + "inflated bytes (\(reason)); the rest of this input was skipped", lost: true))
        finished = true
      }
    }
    inflatedBytes += Int64(produced)
    if !finished, inflatedBytes > bombFloor, inflatedBytes / max(1, upstream.rawBytesRead) > maxRatio {
      problems.append(SourceProblem(message: "gzip data inflates to more than \(maxRatio) times its size "
        + "(\(inflatedBytes) bytes from \(upstream.rawBytesRead)): a gzip bomb? the rest of this input was skipped",
        lost: true))
      finished = true
    }
    return produced
  }

  private func trailingByteCount() -> Int {
    var count = inflater.pendingInput.count
    inflater.setInput(UnsafeRawBufferPointer(start: nil, count: 0))
    var scratch = [UInt8](repeating: 0, count: 64 * 1024)
    while let n = try? scratch.withUnsafeMutableBytes({ b throws(InputError) in try upstream.read(into: b) }), n > 0 {
      count += n
    }
    upstreamDone = true
    return count
  }
}
