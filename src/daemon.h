/* daemon.h: `servescale serve`: wires the store, the control API, the
 * reconciler and the runtime into one process. */
#ifndef SS_DAEMON_H
#define SS_DAEMON_H

#include <stddef.h>

int ss_cmd_serve(int argc, char **argv);

/* The default state directory ($SERVESCALE_STATE_DIR, else
 * $XDG_STATE_HOME/servescale, else ~/.local/state/servescale) into buf. */
void ss_default_state_dir(char *buf, size_t size);

#endif
