#include "vmm.h"

// The compiler may call these for structure copies and clears.

void *memset(void *dst, int c, uint n)
{
  uchar *d = dst;
  while (n-- > 0)
    *d++ = c;
  return dst;
}

void *memmove(void *dst, const void *src, uint n)
{
  const uchar *s = src;
  uchar *d = dst;
  if (s < d && s + n > d) {
    s += n;
    d += n;
    while (n-- > 0)
      *--d = *--s;
  } else {
    while (n-- > 0)
      *d++ = *s++;
  }
  return dst;
}

void *memcpy(void *dst, const void *src, uint n)
{
  return memmove(dst, src, n);
}

int strncmp(const char *p, const char *q, uint n)
{
  while (n > 0 && *p && *p == *q)
    n--, p++, q++;
  if (n == 0)
    return 0;
  return (uchar)*p - (uchar)*q;
}
