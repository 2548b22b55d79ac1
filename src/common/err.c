/* err.c: names and messages of enum ss_err, and struct ss_error helpers. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const err_names[] = {
#define SS__ERR_NAME(name, msg) #name,
    SS_ERR_LIST(SS__ERR_NAME)
#undef SS__ERR_NAME
};

static const char *const err_msgs[] = {
#define SS__ERR_MSG(name, msg) msg,
    SS_ERR_LIST(SS__ERR_MSG)
#undef SS__ERR_MSG
};

const char *ss_err_name(enum ss_err e) {
  if ((unsigned)e >= SS_E__COUNT)
    return "UNKNOWN";
  return err_names[e];
}

const char *ss_err_msg(enum ss_err e) {
  if ((unsigned)e >= SS_E__COUNT)
    return "unknown error";
  return err_msgs[e];
}

enum ss_err ss_error_set(struct ss_error *err, enum ss_err code, unsigned line,
                         unsigned col, const char *fmt, ...) {
  if (!err)
    return code;
  err->code = code;
  err->line = line;
  err->col = col;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return code;
}

void ss_error_clear(struct ss_error *err) {
  if (!err)
    return;
  memset(err, 0, sizeof *err);
}
