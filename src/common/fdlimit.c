/* fdlimit.c: raising the descriptor limit (fdlimit.h). */
#include "common/fdlimit.h"

#include <sys/resource.h>

long ss_fd_limit_raise(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return -1;
  if (rl.rlim_cur < rl.rlim_max) {
    struct rlimit want = {rl.rlim_max, rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0)
      rl.rlim_cur = rl.rlim_max;
  }
  return rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur;
}
