import Dispatch

enum Parallel {
  /// Runs two jobs that share no data at once when `threads` > 1 (`first` on another thread,
  /// `second` on this one), else one after the other; returns when both are done.
  ///
  /// Which job runs where matters for memory: each thread allocates from its own malloc arena,
  /// and memory freed in one arena is not reused by another. With the correlator's jobs placed
  /// by `concurrentPerform`, a 1 GB run peaked at 143 MB instead of 130.
  static func run(threads: Int, _ first: () -> Void, and second: () -> Void) {
    guard threads > 1 else {
      first()
      second()
      return
    }
    // The jobs touch disjoint data (the caller's promise), so they need not be Sendable.
    withoutActuallyEscaping(first) { first in
      let job = Job(first)
      let done = DispatchSemaphore(value: 0)
      DispatchQueue.global().async {
        job.run()
        done.signal()
      }
      second()
      done.wait()
    }
  }

  /// Holds the other thread's job, and lets go of it once run: the closure must not outlive
  /// `run(threads:_:and:)` (the dispatched block itself may be freed later).
  private final class Job: @unchecked Sendable {
    private var body: (() -> Void)?
    init(_ body: @escaping () -> Void) { self.body = body }
    func run() {
      body?()
      body = nil
    }
  }
}
