/* fdlimit.h: the process's descriptor limit. A daemon that holds a
 * connection per client raises its soft limit to the hard one at start, so
 * that the inherited 1024 of a login shell is not the number of clients it
 * can serve. */
#ifndef SS_COMMON_FDLIMIT_H
#define SS_COMMON_FDLIMIT_H

/* Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the soft
 * limit in force afterwards (-1 when it cannot be read). */
long ss_fd_limit_raise(void);

#endif
