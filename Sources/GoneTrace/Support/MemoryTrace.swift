import CMalloc
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// For whoever profiles: with `GONETRACE_TRACE_MEMORY` set in the environment, each stage of a
/// run prints the time since start, its resident memory, the peak so far and the heap in use to
/// standard error.
public enum MemoryTrace {
  static let enabled = ProcessInfo.processInfo.environment["GONETRACE_TRACE_MEMORY"] != nil
  private static let start = ContinuousClock.now
  /// Bytes of heap in use, as the process's allocator counts them: glibc's unless the program
  /// brings its own (the executable links mimalloc and sets this once, before any work).
  public nonisolated(unsafe) static var heapInUse: () -> Int = { cmalloc_in_use() }

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
    let heap = heapInUse() / 1024
    func seconds(_ centiseconds: Int) -> String {
      "\(centiseconds / 100).\(centiseconds % 100 < 10 ? "0" : "")\(centiseconds % 100)"
    }
    let elapsed = Int((ContinuousClock.now - start) / .milliseconds(10))
    // The process's CPU time (all threads) beside the wall time: where it grows slower than
    // twice the wall time on two cores, a core sat idle.
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    let cpu = (Int(usage.ru_utime.tv_sec) + Int(usage.ru_stime.tv_sec)) * 100
      + (Int(usage.ru_utime.tv_usec) + Int(usage.ru_stime.tv_usec)) / 10_000
    var line = "memory \(stage()) at \(seconds(elapsed)) secs (cpu \(seconds(cpu))): "
      + "rss \(rss), peak \(peak), heap \(heap) kB\n"
    _ = line.withUTF8 { write(2, $0.baseAddress, $0.count) }
  }
}
