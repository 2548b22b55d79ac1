/* paths.h: where servescale keeps its state by default; one rule for the
 * daemon, the CLI and the client library. */
#ifndef SS_COMMON_PATHS_H
#define SS_COMMON_PATHS_H

#include <stddef.h>

/* $SERVESCALE_STATE_DIR, else $XDG_STATE_HOME/servescale, else
 * ~/.local/state/servescale, into buf. */
void ss_default_state_dir(char *buf, size_t size);

#endif
