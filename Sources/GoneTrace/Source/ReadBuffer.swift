/// The bytes one worker reads its inputs into, allocated once per worker instead of once per
/// input or piece. A buffer this large is mapped fresh on each allocation when the allocator
/// returns large blocks to the system (glibc with a fixed mmap threshold, as gonetrace ran
/// before it linked mimalloc), so a 4 MiB buffer per 16 MiB piece cost a thousand page faults:
/// a third of a two-worker run's faults.
public final class ReadBuffer: @unchecked Sendable {
  private let storage: UnsafeMutableRawBufferPointer

  public init(byteCount: Int) {
    storage = .allocate(byteCount: max(1, byteCount), alignment: 64)
  }

  deinit { storage.deallocate() }

  /// The bytes, only for the length of `body`: they are freed with the buffer, which the
  /// optimizer may release right after its last use.
  func withBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
    defer { withExtendedLifetime(self) {} }
    return try body(storage)
  }
}
