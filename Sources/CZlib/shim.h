#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H
#include <zlib.h>

/* inflateInit2 is a macro (it passes the version and struct size); Swift needs a function. */
static inline int czlib_inflate_init_gzip(z_stream *stream) {
  /* 15 + 32: a 32 KiB window, and detect gzip or zlib headers automatically. */
  return inflateInit2(stream, 15 + 32);
}
#endif
