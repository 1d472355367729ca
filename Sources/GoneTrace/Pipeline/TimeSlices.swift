#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a long run is cut in time (see `WindowedPass`): slices of log time, read once each;
/// cores of `coreSlices` slices, whose 410s are decided together; and `marginSlices` slices of
/// logs either side of a core, which is what deciding them may read.
public struct TimeSlicing: Sendable, Equatable {
  public var sliceMillis: EpochMillis
  public var coreSlices: Int
  public var marginSlices: Int

  /// Slices of 30 minutes, cores of 6 hours, margins of 2 h 30 min: a connection lives at most
  /// 2 hours, and the farthest a verdict's evidence was measured to reach from its call is
  /// 2 h 18 min back and 211 s forward (docs/streaming-correlator.md, sessions 19 and 23: 2 h 20
  /// gave the whole run's verdicts on every corpus, 1 h 20 did not). The rest of the margin
  /// covers lines a file holds up to `disorderMillis` out of time order.
  public static let standard = TimeSlicing(sliceMillis: 30 * 60_000, coreSlices: 12, marginSlices: 5)

  /// How far out of time order an event of a file may be (its time against the slice it was
  /// cut into) before the run stops cutting and reads everything at once.
  public static let disorderMillis: EpochMillis = 5 * 60_000

  public init(sliceMillis: EpochMillis, coreSlices: Int, marginSlices: Int) {
    self.sliceMillis = max(1, sliceMillis)
    self.coreSlices = max(1, coreSlices)
    self.marginSlices = max(0, marginSlices)
  }

  /// Whether logs spanning `slices` slices gain from windows: when a window (a core and its
  /// margins) holds them all, it is the whole run.
  func pays(slices: Int) -> Bool { slices > coreSlices + 2 * marginSlices }
}

/// Finds, in a line-shaped file in time order, where events of a given time start: the
/// boundaries a file is cut at so that every file's piece k holds the same stretch of time.
/// Reads small windows (a binary search reads about 20 of 4 KB per boundary), not the file.
struct EventProbe {
  let fd: Int32
  let size: Int64
  /// A line longer than this is not looked across: the file is not cut (read whole instead).
  static let maxLineBytes = 1 << 20
  private static let window = 4096

  /// The first line starting at or after `from` that opens an event (see
  /// `LineEventDecoder.opensEvent`), with its time; nil when none does before the end, or a line
  /// is too long to look across.
  func firstEvent(atOrAfter from: Int64) -> (offset: Int64, time: EpochMillis)? {
    guard from < size else { return nil }
    var lineStart = from
    var windowBytes = Self.window
    if from > 0 {
      // `from` starts a line only when the byte before it is a newline: find the next start.
      guard let nl = scanForNewline(from: from - 1, windowBytes: &windowBytes) else { return nil }
      lineStart = nl + 1
    }
    while lineStart < size {
      guard let (line, next) = readLine(at: lineStart, windowBytes: &windowBytes) else { return nil }
      if let time = line.withUnsafeBytes({ LineEventDecoder.eventTime($0) }) { return (lineStart, time) }
      lineStart = next
    }
    return nil
  }

  /// The time of the last line that opens an event, looking back from the end.
  func lastEventTime() -> EpochMillis? {
    var back = Int64(64 * 1024)
    while true {
      let from = max(0, size - back)
      var best: EpochMillis?
      var at = from
      while let found = firstEvent(atOrAfter: at) {
        best = found.time
        at = found.offset + 1
      }
      if best != nil || from == 0 || back >= Int64(Self.maxLineBytes) * 4 { return best }
      back *= 4
    }
  }

  /// The offset where events timed `time` or later start: the first event line at or after
  /// `lowerBound` whose time is at least `time` (the file's size when none is). In a file out of
  /// time order this is somewhere; reading checks the times (`ChunkedReader.read`'s bounds).
  func cut(at time: EpochMillis, from lowerBound: Int64) -> Int64 {
    var lo = lowerBound, hi = size
    // Invariant: the first event at or after `hi` is timed `time` or later (or there is none);
    // the first event at or after `lo` may not be. Binary search down to a few windows, then step.
    while hi - lo > Int64(4 * Self.window) {
      let mid = lo + (hi - lo) / 2
      if let e = firstEvent(atOrAfter: mid), e.time < time { lo = e.offset + 1 } else { hi = mid }
    }
    var at = lo
    while let e = firstEvent(atOrAfter: at) {
      if e.time >= time { return e.offset }
      at = e.offset + 1
    }
    return size
  }

  /// The offset of the first newline at or after `from`.
  private func scanForNewline(from: Int64, windowBytes: inout Int) -> Int64? {
    var at = from
    var buffer = [UInt8](repeating: 0, count: windowBytes)
    while at < size, at - from <= Int64(Self.maxLineBytes) {
      let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(at)) }
      guard n > 0 else { return nil }
      if let i = buffer.withUnsafeBytes({ Bytes.index(of: Bytes.newline, in: $0, from: 0, to: n) }) {
        return at + Int64(i)
      }
      at += Int64(n)
    }
    return nil
  }

  /// The line starting at `start` (without its newline) and where the next one starts.
  private func readLine(at start: Int64, windowBytes: inout Int) -> ([UInt8], Int64)? {
    while true {
      let want = Int(min(Int64(windowBytes), size - start))
      var buffer = [UInt8](repeating: 0, count: want)
      let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
      guard n > 0 else { return nil }
      if let i = buffer.withUnsafeBytes({ Bytes.index(of: Bytes.newline, in: $0, from: 0, to: n) }) {
        buffer.removeSubrange(i...)
        return (buffer, start + Int64(i) + 1)
      }
      if start + Int64(n) >= size {  // the last line, without a newline
        buffer.removeSubrange(n...)
        return (buffer, size)
      }
      guard windowBytes < Self.maxLineBytes else { return nil }
      windowBytes *= 4
    }
  }
}
