// The VMM's console: COM1, polled. The guest's own writes to the same port
// pass through to it (trap.c), so the VMM's lines and the guest's share the
// one serial console; each of the VMM's lines starts with "vmm: ".

#include <stdarg.h>
#include "vmm.h"
#include "x86.h"

#define COM1 0x3F8

void console_init(void)
{
  // 9600 baud, 8 data bits, 1 stop bit, no parity, FIFO off, no
  // interrupts: the VMM polls the line status.
  outb(COM1 + 2, 0);
  outb(COM1 + 3, 0x80);  // divisor latch
  outb(COM1 + 0, 115200 / 9600);
  outb(COM1 + 1, 0);
  outb(COM1 + 3, 0x03);  // 8N1, latch closed
  outb(COM1 + 4, 0);
  outb(COM1 + 1, 0);
}

static void putc(int c)
{
  // Wait (a bounded while) for the transmitter to take a byte.
  for (int i = 0; i < 128 && !(inb(COM1 + 5) & 0x20); i++)
    ;
  outb(COM1 + 0, c);
}

static void puts(const char *s)
{
  while (*s)
    putc(*s++);
}

// An unsigned number in base 10 or 16, at least `width` digits, padded
// with zeros.
static void putnum(uint x, int base, int width)
{
  static const char digits[] = "0123456789abcdef";
  char buf[16];
  int i = 0;
  do {
    buf[i++] = digits[x % base];
    x /= base;
  } while (x != 0);
  while (i < width && i < (int)sizeof(buf))
    buf[i++] = '0';
  while (--i >= 0)
    putc(buf[i]);
}

// A small printf: %d %u %x %s %c, a zero-padded width (%08x), and %%.
static void vcprintf(const char *fmt, va_list ap)
{
  for (const char *p = fmt; *p; p++) {
    if (*p != '%') {
      putc(*p);
      continue;
    }
    p++;
    int width = 0;
    while (*p >= '0' && *p <= '9')
      width = width * 10 + (*p++ - '0');
    switch (*p) {
    case 'd': {
      int v = va_arg(ap, int);
      if (v < 0) {
        putc('-');
        v = -v;
      }
      putnum(v, 10, width);
      break;
    }
    case 'u':
      putnum(va_arg(ap, uint), 10, width);
      break;
    case 'x':
      putnum(va_arg(ap, uint), 16, width);
      break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      puts(s ? s : "(null)");
      break;
    }
    case 'c':
      putc(va_arg(ap, int));
      break;
    case '%':
      putc('%');
      break;
    case 0:
      return;
    default:
      putc('%');
      putc(*p);
    }
  }
}

void cprintf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vcprintf(fmt, ap);
  va_end(ap);
}

void panic(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  puts("vmm: panic: ");
  vcprintf(fmt, ap);
  va_end(ap);
  putc('\n');
  halt_forever();
}

// Stops the VMM: what the guest did next is past what it emulates, or
// breaks what it needs. The guest stays where it was.
void stop(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  puts("vmm: stopped: ");
  vcprintf(fmt, ap);
  va_end(ap);
  putc('\n');
  halt_forever();
}
