// Sleeps ten ticks of the clock and says how many passed: it returns only
// if the clock ticks.

#include "types.h"
#include "user.h"

int
main(void)
{
  int before = uptime();
  sleep(10);
  printf(1, "pitsleep: %d ticks\n", uptime() - before);
  exit();
}
