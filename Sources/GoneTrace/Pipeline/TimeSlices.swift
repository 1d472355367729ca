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
  /// The state one pass over the whole run may hold (bytes, as `CorrelationState.estimatedBytes`
  /// counts them): a run whose first hours, scaled by bytes, say its state fits is read in one
  /// pass, not in windows. One pass peaks at about 1.4 times the estimate (the 1 GB corpus:
  /// estimated 85 MiB, peaks of 110–130 MiB), so 96 MiB keeps it under the 150 MB a run may take
  /// (docs/streaming-correlator.md, "Session 28").
  public var wholeRunBudget = 96 << 20

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
/// Reads small windows, not the file: a boundary is a binary search of about 17 reads of 4 KB
/// and one read of 16 KB stepped through line by line. (Reading a window per line, as this first
/// did, took 71,000 reads and 0.14 s, before any reading could start, to cut the 13 files of a
/// gigabyte into 70 slices.)
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
    var found: (Int64, EpochMillis)?
    forEachEvent(from: from, readBytes: Self.window) { offset, time in
      found = (offset, time)
      return false
    }
    return found
  }

  /// The time of the last line that opens an event, looking back from the end.
  func lastEventTime() -> EpochMillis? {
    var back = Int64(64 * 1024)
    while true {
      let from = max(0, size - back)
      var best: EpochMillis?
      forEachEvent(from: from, readBytes: Int(min(back, 1 << 20))) { _, time in
        best = time
        return true
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
    var cut = size
    forEachEvent(from: lo, readBytes: 4 * Self.window) { offset, t in
      guard t >= time else { return true }
      cut = offset
      return false
    }
    return cut
  }

  /// Calls `body` with the offset and time of every line that opens an event, in file order,
  /// from the first line starting at or after `from`, until `body` returns false, the file ends,
  /// a read fails or a line is longer than `maxLineBytes`. Reads `readBytes` at a time (more
  /// only for a line that does not fit).
  private func forEachEvent(from: Int64, readBytes: Int, _ body: (Int64, EpochMillis) -> Bool) {
    guard from < size else { return }
    // `from` starts a line only when the byte before it is a newline: start reading there.
    var base = max(0, from - 1)  // the file offset of buffer[0]
    var skippingToLineStart = from > 0
    var buffer = [UInt8](repeating: 0, count: max(16, readBytes))
    var count = 0  // bytes of buffer read
    var line = 0  // where the line being looked at starts in buffer
    while true {
      let finished = buffer.withUnsafeBytes { raw -> Bool in
        while let nl = Bytes.index(of: Bytes.newline, in: raw, from: line, to: count) {
          defer { line = nl + 1 }
          if skippingToLineStart {
            skippingToLineStart = false
          } else if let t = LineEventDecoder.eventTime(UnsafeRawBufferPointer(rebasing: raw[line..<nl])),
            !body(base + Int64(line), t)
          {
            return true
          }
        }
        guard base + Int64(count) >= size else { return false }
        // The end: the last line, without a newline.
        if !skippingToLineStart, line < count,
          let t = LineEventDecoder.eventTime(UnsafeRawBufferPointer(rebasing: raw[line..<count]))
        {
          _ = body(base + Int64(line), t)
        }
        return true
      }
      if finished { return }
      // Keep the unfinished line (nothing while skipping to a line start), at the front of the
      // buffer, and read after it.
      let lookedFrom = skippingToLineStart ? max(0, from - 1) : base + Int64(line)
      guard base + Int64(count) - lookedFrom < Int64(Self.maxLineBytes) else { return }
      let kept = skippingToLineStart ? 0 : count - line
      if kept == buffer.count {
        buffer += [UInt8](repeating: 0, count: 3 * buffer.count)
      }
      buffer.withUnsafeMutableBytes { raw in
        raw.baseAddress!.copyMemory(from: raw.baseAddress! + (count - kept), byteCount: kept)
      }
      base += Int64(count - kept)
      count = kept
      line = 0
      let n = buffer.withUnsafeMutableBytes { raw in
        pread(fd, raw.baseAddress! + count, raw.count - count, off_t(base) + off_t(count))
      }
      guard n > 0 else { return }
      count += n
    }
  }
}
