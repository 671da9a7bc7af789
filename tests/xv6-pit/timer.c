// The 8254 programmable interval timer as xv6's clock: channel 0 in mode
// 2 (rate generator) at 100 Hz. Its output is ISA IRQ 0, which reaches the
// I/O APIC's pin 2 (pin 0 carries the 8259's output), so the tick arrives
// as vector T_IRQ0 + IRQ_PIT.

#include "types.h"
#include "defs.h"
#include "traps.h"
#include "x86.h"

#define IO_TIMER1       0x040           // channel 0's count
#define TIMER_MODE      (IO_TIMER1 + 3) // the control word
#define TIMER_FREQ      1193182         // the counters' input clock, Hz
#define TIMER_DIV(x)    ((TIMER_FREQ+(x)/2)/(x))
#define TIMER_SEL0      0x00            // channel 0
#define TIMER_RATEGEN   0x04            // mode 2, rate generator
#define TIMER_16BIT     0x30            // low byte, then high byte

void
timerinit(void)
{
  outb(TIMER_MODE, TIMER_SEL0 | TIMER_RATEGEN | TIMER_16BIT);
  outb(IO_TIMER1, TIMER_DIV(100) % 256);
  outb(IO_TIMER1, TIMER_DIV(100) / 256);
  ioapicenable(IRQ_PIT, 0);
}
