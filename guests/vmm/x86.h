// Small wrappers for the instructions C cannot say.

static inline unsigned char inb(unsigned short port)
{
  unsigned char v;
  asm volatile("inb %1,%0" : "=a"(v) : "d"(port));
  return v;
}

static inline unsigned short inw(unsigned short port)
{
  unsigned short v;
  asm volatile("inw %1,%0" : "=a"(v) : "d"(port));
  return v;
}

static inline unsigned int inl(unsigned short port)
{
  unsigned int v;
  asm volatile("inl %1,%0" : "=a"(v) : "d"(port));
  return v;
}

static inline void outb(unsigned short port, unsigned char v)
{
  asm volatile("outb %0,%1" : : "a"(v), "d"(port));
}

static inline void outw(unsigned short port, unsigned short v)
{
  asm volatile("outw %0,%1" : : "a"(v), "d"(port));
}

static inline void outl(unsigned short port, unsigned int v)
{
  asm volatile("outl %0,%1" : : "a"(v), "d"(port));
}

struct dtr {
  unsigned short limit;
  unsigned int base;
} __attribute__((packed));

static inline void lgdt(void *base, unsigned short size)
{
  struct dtr d = { size - 1, (unsigned int)base };
  asm volatile("lgdt %0" : : "m"(d));
}

static inline void lidt(void *base, unsigned short size)
{
  struct dtr d = { size - 1, (unsigned int)base };
  asm volatile("lidt %0" : : "m"(d));
}

static inline void ltr(unsigned short sel)
{
  asm volatile("ltr %0" : : "r"(sel));
}

static inline void lcr3(unsigned int v)
{
  asm volatile("movl %0,%%cr3" : : "r"(v));
}

static inline unsigned int rcr2(void)
{
  unsigned int v;
  asm volatile("movl %%cr2,%0" : "=r"(v));
  return v;
}

__attribute__((noreturn)) static inline void halt_forever(void)
{
  for (;;)
    asm volatile("cli; hlt");
}

static inline void invlpg(unsigned int va)
{
  asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

// The time-stamp counter's low word (osviz counts steps in it).
static inline unsigned int rdtsc_lo(void)
{
  unsigned int lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return lo;
}
