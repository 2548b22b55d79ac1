/* paths.h: where servescale keeps its state by default; one rule for the
 * daemon, the CLI and the client library. */
#ifndef SS_COMMON_PATHS_H
#define SS_COMMON_PATHS_H

#include <stddef.h>

/* $SERVESCALE_STATE_DIR, else $XDG_STATE_HOME/servescale, else
 * ~/.local/state/servescale, into buf. */
void ss_default_state_dir(char *buf, size_t size);

/* Where the CLI finds the daemon's gateway: the daemon writes its URL
 * ("http://127.0.0.1:8000") to this file in its state directory, next to
 * the kubeconfig it writes. */
#define SS_GATEWAY_FILE "gateway"
#define SS_DEFAULT_GATEWAY_URL "http://127.0.0.1:8000"

/* The gateway URL into buf, by one rule: flag (may be NULL), else
 * $SERVESCALE_GATEWAY, else the SS_GATEWAY_FILE beside kubeconfig (the
 * kubeconfig in use; may be NULL), else SS_DEFAULT_GATEWAY_URL. Returns
 * where it came from ("--gateway", "$SERVESCALE_GATEWAY", the file's path
 * or "default"), for messages; static or buf2. */
const char *ss_gateway_url(const char *flag, const char *kubeconfig, char *buf, size_t size,
                           char *buf2, size_t size2);

#endif
