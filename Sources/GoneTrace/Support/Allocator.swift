import CMalloc
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process-wide allocator settings, applied once by the executable before any work.
public enum Allocator {
  /// Fixed glibc mmap and trim thresholds: large blocks (dictionary storage, read buffers) go
  /// back to the system when freed instead of staying in the heap (`shim.h` says why).
  public static func returnLargeBlocksToTheSystem() {
    cmalloc_fix_thresholds()
  }
}

/// For whoever profiles: with `GONETRACE_TRACE_MEMORY` set in the environment, each stage of a
/// run prints the time since start, its resident memory, the peak so far and the heap in use to
/// standard error.
public enum MemoryTrace {
  static let enabled = ProcessInfo.processInfo.environment["GONETRACE_TRACE_MEMORY"] != nil
  private static let start = ContinuousClock.now

  public static func mark(_ stage: @autoclosure () -> String) {
    guard enabled else { return }
    var rss = "?", peak = "?"
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
      for line in status.split(separator: "\n") {
        // `VmRSS:	  123456 kB`: the value after the name's blanks.
        if line.hasPrefix("VmRSS:") { rss = String(line.dropFirst(6).drop(while: \.isWhitespace)) }
        if line.hasPrefix("VmHWM:") { peak = String(line.dropFirst(6).drop(while: \.isWhitespace)) }
      }
    }
    let heap = cmalloc_in_use() / 1024
    let centiseconds = (ContinuousClock.now - start) / .milliseconds(10)
    let elapsed = "\(Int(centiseconds) / 100).\(Int(centiseconds) % 100 < 10 ? "0" : "")\(Int(centiseconds) % 100) secs"
    var line = "memory \(stage()) at \(elapsed): rss \(rss), peak \(peak), heap \(heap) kB\n"
    _ = line.withUTF8 { write(2, $0.baseAddress, $0.count) }
  }
}
