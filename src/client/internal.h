/* internal.h: what the client's files share: the client object, the curl
 * handle set-up, the streaming reader watches use, and small helpers. */
#ifndef SS_CLIENT_INTERNAL_H
#define SS_CLIENT_INTERNAL_H

#include <stdint.h>

#include "servescale/client.h"

#define SS_CLIENT_DEFAULT_TIMEOUT_MS 30000
#define SS_CLIENT_CONNECT_TIMEOUT_MS 10000
/* An answer larger than a List of many 3 MiB objects is refused. */
#define SS_CLIENT_MAX_BODY ((size_t)64 << 20)
/* One watch line holds one object: the API's request limit (3 MiB) and room. */
#define SS_CLIENT_MAX_LINE ((size_t)8 << 20)
#define SS_CLIENT_PATH_MAX 2048

struct ss_client {
  struct ss_client_config cfg; /* deep copy, owned */
  struct ss_client_options opts;
};

/* Milliseconds on a monotonic clock. */
int64_t ss__client_now_ms(void);

/* Records a formatted message with code; returns code. */
enum ss_err ss__client_fail(struct ss_client_error *err, enum ss_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* How a stream ended. */
enum ss__stream_end {
  SS__STREAM_EOF,      /* the server ended it */
  SS__STREAM_STOPPED,  /* the line callback asked to stop */
  SS__STREAM_CANCELLED,
  SS__STREAM_DEADLINE,
};

/* Called per newline-terminated line of a streaming answer (line is
 * NUL-terminated, borrowed); false stops. */
typedef bool (*ss__line_fn)(void *ctx, char *line, size_t len);

/* GETs path and feeds its lines to fn until the stream ends, fn stops it,
 * cancel is set, or deadline_ms (monotonic; 0 none) passes. A non-2xx
 * answer is read whole into err (Status) and returned as its code. */
enum ss_err ss__client_stream(struct ss_client *c, const char *path, int64_t deadline_ms,
                              atomic_bool *cancel, ss__line_fn fn, void *ctx,
                              enum ss__stream_end *end, struct ss_client_error *err);

/* "a=b" query values escaped for a URL, into buf. */
void ss__client_escape(const char *in, char *buf, size_t size);

/* metadata.resourceVersion (or ""), and metadata.name / namespace. */
const char *ss__client_rv(const json_t *obj);
const char *ss__client_name(const json_t *obj);
const char *ss__client_ns(const json_t *obj);

#endif
