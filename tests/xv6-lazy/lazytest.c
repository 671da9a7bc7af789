// lazytest: grows its heap by three pages with sbrk, then touches each page
// once. Under lazy allocation (lazy.patch) sbrk maps nothing: each first
// touch is a page fault that the kernel answers with a fresh frame, and the
// store runs again. The browser tests step over these lines one by one.
#include "types.h"
#include "user.h"

int
main(void)
{
  char *heap = sbrk(3 * 4096);

  heap[0] = 1;
  heap[4096] = 2;
  heap[8192] = 3;
  printf(1, "lazytest: %d %d %d\n", heap[0], heap[4096], heap[8192]);
  exit();
}
