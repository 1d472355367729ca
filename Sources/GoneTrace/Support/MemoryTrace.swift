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
    let centiseconds = (ContinuousClock.now - start) / .milliseconds(10)
    let elapsed = "\(Int(centiseconds) / 100).\(Int(centiseconds) % 100 < 10 ? "0" : "")\(Int(centiseconds) % 100) secs"
    // The process's CPU time (all threads) beside the wall time: where it grows slower than
    // twice the wall time on two cores, a core sat idle.
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let cpuCentiseconds = (Int(usage.ru_utime.tv_sec) + Int(usage.ru_stime.tv_sec)) * 100
      + (Int(usage.ru_utime.tv_usec) + Int(usage.ru_stime.tv_usec)) / 10_000
    let cpu = "\(cpuCentiseconds / 100).\(cpuCentiseconds % 100 < 10 ? "0" : "")\(cpuCentiseconds % 100)"
    var line = "memory \(stage()) at \(elapsed) (cpu \(cpu)): rss \(rss), peak \(peak), heap \(heap) kB\n"
    _ = line.withUTF8 { write(2, $0.baseAddress, $0.count) }
  }
}
