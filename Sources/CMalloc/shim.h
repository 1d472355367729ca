#ifndef CMALLOC_SHIM_H
#define CMALLOC_SHIM_H
#include <stdlib.h> /* defines __GLIBC__ on glibc */
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* Bytes in use by the program (small blocks and mmapped ones), or 0 off glibc. */
static inline size_t cmalloc_in_use(void) {
#ifdef __GLIBC__
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
#else
  return 0;
#endif
}

#endif
