/* daemon.h: `servescale serve`: wires the store, the control API, the
 * reconciler and the runtime into one process. */
#ifndef SS_DAEMON_H
#define SS_DAEMON_H

#include <stddef.h>

int ss_cmd_serve(int argc, char **argv);


#endif
