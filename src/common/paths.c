/* paths.c: the default state directory. */
#include "common/paths.h"

#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The first line of path into buf, trimmed; false when there is none. */
static bool first_line(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  bool ok = fgets(buf, (int)size, f) != NULL;
  fclose(f);
  if (ok)
    buf[strcspn(buf, "\r\n")] = '\0';
  return ok && buf[0];
}

const char *ss_gateway_url(const char *flag, const char *kubeconfig, char *buf, size_t size,
                           char *buf2, size_t size2) {
  const char *e = getenv("SERVESCALE_GATEWAY");
  if (flag && *flag) {
    snprintf(buf, size, "%s", flag);
    return "--gateway";
  }
  if (e && *e) {
    snprintf(buf, size, "%s", e);
    return "$SERVESCALE_GATEWAY";
  }
  const char *slash = kubeconfig ? strrchr(kubeconfig, '/') : NULL;
  if (slash) {
    snprintf(buf2, size2, "%.*s/%s", (int)(slash - kubeconfig), kubeconfig, SS_GATEWAY_FILE);
    if (first_line(buf2, buf, size))
      return buf2;
  }
  snprintf(buf, size, "%s", SS_DEFAULT_GATEWAY_URL);
  return "default";
}
