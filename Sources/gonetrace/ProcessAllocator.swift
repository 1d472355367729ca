#if canImport(CMimalloc)
import CMimalloc
#endif
import FoundationEssentials
import GoneTrace

/// The executable's allocator is mimalloc (Debian `libmimalloc-dev`), as hl's is: linked in, it
/// serves every malloc and free of the process, the Swift runtime's included.
///
/// Why: with two workers, much of what one thread allocates is freed by another (a piece's
/// state merged into the run's, the calls classified on both cores). glibc then takes the
/// owning arena's lock for each such free, and with its mmap threshold fixed (needed to keep the
/// peak down) every large table was mapped and faulted in afresh. mimalloc frees to the owning
/// thread's heap without a lock and reuses freed pages. Measured on 1 GB of raw lines (README,
/// Performance): page faults 107 k -> 62 k, context switches 628 -> 159, system time
/// 0.63 -> 0.50 s. The peak is higher: freed pages are kept a while for reuse before they go
/// back to the system. Kept 10 ms instead of the default 25, they cost 130-131 MiB of peak
/// instead of 135-138 at the same speed (`MIMALLOC_DECOMMIT_DELAY`, or its older name
/// `MIMALLOC_RESET_DELAY`, in the environment still wins).
enum ProcessAllocator {
  static let decommitDelayMilliseconds = 10

  /// Checks mimalloc is the one linked, sets how long it keeps freed pages, and has memory
  /// traces count its heap.
  static func start() {
    #if canImport(CMimalloc)
    precondition(cmimalloc_version() > 0)
    let environment = ProcessInfo.processInfo.environment
    if environment["MIMALLOC_DECOMMIT_DELAY"] == nil, environment["MIMALLOC_RESET_DELAY"] == nil {
      cmimalloc_set_decommit_delay(decommitDelayMilliseconds)
    }
    MemoryTrace.heapInUse = { cmimalloc_committed() }
    #endif
  }
}
