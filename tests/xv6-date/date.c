// date: prints the time the CMOS real-time clock reads, through the date
// system call that date.patch adds (the classic xv6 homework).
#include "types.h"
#include "user.h"
#include "date.h"

int
main(int argc, char *argv[])
{
  struct rtcdate r;

  if(date(&r) < 0){
    printf(2, "date: the system call failed\n");
    exit();
  }
  printf(1, "%d-%d-%d %d:%d:%d UTC\n", r.year, r.month, r.day, r.hour, r.minute, r.second);
  exit();
}
