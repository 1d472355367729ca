import Dispatch
import FoundationEssentials

/// Builds the text of a report's items (one per verdict) on several threads, a window at a time,
/// and hands it over in item order: the output is byte for byte what one thread writes, and no
/// more than a window of text is held at once.
enum ParallelRender {
  /// Renders items `0..<count` in batches of `batch`; `emit` receives each batch's text in order.
  static func write(
    count: Int, threads: Int, batch: Int = 256, render: @Sendable (Range<Int>) -> String, emit: (String) -> Void
  ) {
    let threads = max(1, threads)
    let window = batch * threads * 2
    let slots = Slots(count: threads * 2)
    var start = 0
    while start < count {
      let ranges = stride(from: start, to: min(count, start + window), by: batch).map { $0..<min($0 + batch, count) }
      if threads == 1 {
        for r in ranges { emit(render(r)) }
      } else {
        DispatchQueue.concurrentPerform(iterations: min(threads, ranges.count)) { t in
          for k in stride(from: t, to: ranges.count, by: threads) { slots.put(render(ranges[k]), at: k) }
        }
        for k in ranges.indices { emit(slots.take(k)) }
      }
      start += window
    }
  }

  /// One text per batch of the window, each written by one thread and read after all are done.
  private final class Slots: @unchecked Sendable {
    private var texts: [String]
    private let lock = Lock()
    init(count: Int) { texts = Array(repeating: "", count: count) }
    func put(_ text: String, at k: Int) { lock.withLock { texts[k] = text } }
    func take(_ k: Int) -> String { lock.withLock { defer { texts[k] = "" }; return texts[k] } }
  }
}
