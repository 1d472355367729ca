#ifndef CPCRE2_SHIM_H
#define CPCRE2_SHIM_H

/* pcre2.h refuses to compile without a code unit width, and a define passed through
   cSettings does not reach Swift clients: it has to be set here. */
#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stddef.h>

/* PCRE2_UNSET is a cast expression Swift does not import; it arrives as -1. */
static inline PCRE2_SIZE cpcre2_unset(void) { return PCRE2_UNSET; }

/* GNU extensions that Swift's Glibc module does not expose. */
extern void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen);
extern void *memrchr(const void *s, int c, size_t n);

#endif
