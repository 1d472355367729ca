#ifndef CMIMALLOC_SHIM_H
#define CMIMALLOC_SHIM_H
#include <mimalloc.h>

/* Linked into the executable, mimalloc replaces malloc and free for the whole process (the
   Swift runtime's allocations included): its shared library comes before libc in the link
   order, so its symbols win. Referencing it keeps a linker with --as-needed from dropping it. */
static inline int cmimalloc_version(void) { return mi_version(); }

/* How long freed pages are kept for reuse before they are decommitted (given back). */
static inline void cmimalloc_set_decommit_delay(long milliseconds) {
  mi_option_set(mi_option_decommit_delay, milliseconds);
}

/* Bytes the allocator has committed from the system: the heap figure of a memory trace (glibc's
   mallinfo2 knows nothing of mimalloc's heap). */
static inline size_t cmimalloc_committed(void) {
  size_t elapsed, user, sys, rss, peak_rss, commit, peak_commit, faults;
  mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
  return commit;
}
#endif
