import Synchronization

/// Counts bytes read and events decoded while a run is under way, for the progress line a
/// terminal user sees on long runs. Workers add in batches; a display thread reads.
public final class ProgressMeter: Sendable {
  private let bytesRead = Atomic<Int>(0)
  private let eventsRead = Atomic<Int>(0)
  /// The size of all file inputs, when known (standard input is not).
  public let totalBytes: Int?

  public init(totalBytes: Int?) { self.totalBytes = totalBytes }

  public var bytes: Int { bytesRead.load(ordering: .relaxed) }
  public var events: Int { eventsRead.load(ordering: .relaxed) }

  func add(bytes n: Int) { bytesRead.add(n, ordering: .relaxed) }
  func add(events n: Int) { eventsRead.add(n, ordering: .relaxed) }
}
