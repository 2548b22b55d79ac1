/* paths.c: the default state directory. */
#include "common/paths.h"

#include <stdio.h>
#include <stdlib.h>

void ss_default_state_dir(char *buf, size_t size) {
  const char *e = getenv("SERVESCALE_STATE_DIR");
  if (e && *e) {
    snprintf(buf, size, "%s", e);
    return;
  }
  e = getenv("XDG_STATE_HOME");
  if (e && *e) {
    snprintf(buf, size, "%s/servescale", e);
    return;
  }
  e = getenv("HOME");
  snprintf(buf, size, "%s/.local/state/servescale", e && *e ? e : "/tmp");
}
