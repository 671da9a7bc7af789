#include "vmm.h"

// The compiler may call these for structure copies and clears.

// Both move whole words where the addresses allow (rep stosl and rep
// movsl): the VMM clears page tables and copies guest memory on its exits'
// paths, where a byte at a time would cost four times the instructions.
void *memset(void *dst, int c, uint n)
{
  if ((((uint)dst | n) & 3) == 0) {
    uint w = (c & 0xFF) * 0x01010101u, words = n / 4;
    void *d = dst;
    asm volatile("cld; rep stosl" : "+D"(d), "+c"(words) : "a"(w) : "memory");
    return dst;
  }
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
  } else if ((((uint)s | (uint)d | n) & 3) == 0) {
    uint words = n / 4;
    asm volatile("cld; rep movsl" : "+S"(s), "+D"(d), "+c"(words) : : "memory");
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
