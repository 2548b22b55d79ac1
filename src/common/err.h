/* err.h: the project's error codes (one X-macro list) and the caller-owned
 * error detail that carries a human message next to a code. */
#ifndef SS_COMMON_ERR_H
#define SS_COMMON_ERR_H

#include <stddef.h>

/* name, message */
#define SS_ERR_LIST(X)                                                  \
  X(OK, "success")                                                      \
  X(NOMEM, "out of memory")                                             \
  X(IO, "input/output error")                                           \
  X(SYNTAX, "syntax error")                                             \
  X(LIMIT, "input exceeds a limit")                                     \
  X(INVALID, "invalid resource")                                        \
  X(NOTFOUND, "not found")                                              \
  X(EXISTS, "already exists")                                           \
  X(CONFLICT, "conflict")                                               \
  X(GONE, "resource version too old")                                   \
  X(USAGE, "bad usage")                                                 \
  X(UNSUPPORTED, "unsupported")                                         \
  X(INTERNAL, "internal error")

enum ss_err {
#define SS__ERR_ENUM(name, msg) SS_E##name,
  SS_ERR_LIST(SS__ERR_ENUM)
#undef SS__ERR_ENUM
  SS_E__COUNT
};

/* Name ("SYNTAX") and message ("syntax error") of a code; never NULL. */
const char *ss_err_name(enum ss_err e);
const char *ss_err_msg(enum ss_err e);

#define SS_ERROR_MSG_MAX 512

/* Detail for one failed call. The caller owns it (usually on its stack); a
 * callee fills it on failure and leaves it alone on success. */
struct ss_error {
  enum ss_err code;
  unsigned line, col; /* 1-based source position, 0 when unknown */
  char msg[SS_ERROR_MSG_MAX];
};

/* Set code, position and a printf-style message; returns code. */
enum ss_err ss_error_set(struct ss_error *err, enum ss_err code, unsigned line,
                         unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void ss_error_clear(struct ss_error *err);

#endif
