import Dispatch

enum Parallel {
  /// Runs two jobs that share no data at once (one on another thread) when `threads` > 1, else
  /// one after the other; returns when both are done.
  static func run(threads: Int, _ first: () -> Void, and second: () -> Void) {
    guard threads > 1 else {
      first()
      second()
      return
    }
    // The jobs touch disjoint data (the caller's promise), so they need not be Sendable.
    withoutActuallyEscaping(first) { first in
      withoutActuallyEscaping(second) { second in
        nonisolated(unsafe) let jobs = (first, second)
        DispatchQueue.concurrentPerform(iterations: 2) { job in
          if job == 0 { jobs.0() } else { jobs.1() }
        }
      }
    }
  }
}
