import CMalloc

/// Process-wide allocator settings, applied once by the executable before any work.
public enum Allocator {
  /// Fixed glibc mmap and trim thresholds: large blocks (dictionary storage, read buffers) go
  /// back to the system when freed instead of staying in the heap (`shim.h` says why).
  public static func returnLargeBlocksToTheSystem() {
    cmalloc_fix_thresholds()
  }
}
