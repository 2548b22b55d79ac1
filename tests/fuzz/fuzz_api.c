/* fuzz_api.c: libFuzzer target for the control API's request handling, in
 * process and without sockets: routing, the verbs, patches, scale, status,
 * selectors, tables and watches set-up, against a real store. Any request
 * must get an answer, never a crash, a leak or UB.
 *
 * An input is one or more requests, each ended by a line "%%" (or the
 * end of the input), so that a seed can create what it then patches; a
 * request's parts are on lines:
 *   METHOD\n PATH[?QUERY]\n CONTENT-TYPE\n ACCEPT\n BODY...
 * (a missing part is empty; an empty content type or accept is absent).
 * The query is split and percent-decoded as libmicrohttpd does for
 * server.c. The store is opened once per process in a temporary directory
 * and removed at exit; hooks do nothing. */
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ss_api api;
static char dir[64];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void cleanup(void) {
  ss_store_close(api.cfg.store);
  api.cfg.store = NULL;
  if (dir[0])
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void changed(void *ctx) { (void)ctx; }

static json_t *pods(void *ctx, const char *ns) {
  (void)ctx;
  (void)ns;
  return json_array();
}

static int pod_log(void *ctx, const char *ns, const char *pod, char *buf, size_t size) {
  (void)ctx;
  (void)ns;
  (void)pod;
  (void)buf;
  (void)size;
  return -1;
}

static void init(void) {
  struct ss_error err = {0};
  char path[128];
  snprintf(dir, sizeof dir, "/tmp/ss_fuzz_api.XXXXXX");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    abort();
  }
  snprintf(path, sizeof path, "%s/store.db", dir);
  if (ss_store_open(path, &api.cfg.store, &err)) {
    fprintf(stderr, "fuzz_api: %s\n", err.msg);
    abort();
  }
  api.cfg.hooks = (struct ss_api_hooks){.changed = changed, .pods = pods, .pod_log = pod_log};
  api.max_connections = SS_API_MAX_CONNECTIONS;
  api.handshake_timeout_s = SS_API_HANDSHAKE_TIMEOUT_S;
  api.idle_timeout_s = SS_API_IDLE_TIMEOUT_S;
  atexit(cleanup);
}

/* Next line of [*p, end) as a new NUL-terminated string; *p moves past it. */
static char *take_line(const char **p, const char *end) {
  const char *s = *p;
  const char *nl = memchr(s, '\n', (size_t)(end - s));
  const char *e = nl ? nl : end;
  char *out = strndup(s, (size_t)(e - s));
  *p = nl ? nl + 1 : end;
  return out;
}

static int hex(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Percent-decodes s in place; plus: '+' is a space (in a query). */
static void unescape(char *s, bool plus) {
  char *o = s;
  for (char *p = s; *p; p++) {
    int h, l;
    if (*p == '%' && (h = hex(p[1])) >= 0 && (l = hex(p[2])) >= 0) {
      *o++ = (char)(h * 16 + l);
      p += 2;
    } else {
      *o++ = plus && *p == '+' ? ' ' : *p;
    }
  }
  *o = '\0';
}

/* Fills the q_* fields from query (modified in place), as server.c's
 * arg() finds them: the first value of each key. */
static void parse_query(char *query, struct ss_api_req *req) {
  static const struct {
    const char *key;
    size_t off;
  } keys[] = {
      {"watch", offsetof(struct ss_api_req, q_watch)},
      {"resourceVersion", offsetof(struct ss_api_req, q_rv)},
      {"labelSelector", offsetof(struct ss_api_req, q_label)},
      {"fieldSelector", offsetof(struct ss_api_req, q_field)},
      {"timeoutSeconds", offsetof(struct ss_api_req, q_timeout)},
      {"allowWatchBookmarks", offsetof(struct ss_api_req, q_bookmarks)},
      {"dryRun", offsetof(struct ss_api_req, q_dryrun)},
      {"fieldValidation", offsetof(struct ss_api_req, q_field_validation)},
      {"container", offsetof(struct ss_api_req, q_container)},
      {"tailLines", offsetof(struct ss_api_req, q_tail)},
      {"follow", offsetof(struct ss_api_req, q_follow)},
      {"fieldManager", offsetof(struct ss_api_req, q_field_manager)},
      {"force", offsetof(struct ss_api_req, q_force)},
  };
  char *save = NULL;
  for (char *kv = strtok_r(query, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(kv, '=');
    char *value = kv + strlen(kv); /* "" inside the buffer: no value */
    if (eq) {
      *eq = '\0';
      value = eq + 1;
    }
    unescape(kv, true);
    unescape(value, true);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
      const char **field = (const char **)((char *)req + keys[i].off);
      if (strcmp(kv, keys[i].key) == 0 && !*field)
        *field = value;
    }
  }
}

#define SEP "\n%%\n"

static void one_request(const char *p, const char *end) {
  char *method = take_line(&p, end);
  char *target = take_line(&p, end);
  char *ctype = take_line(&p, end);
  char *accept = take_line(&p, end);
  /* the body as server.c hands it over: with a NUL after it */
  size_t body_len = (size_t)(end - p);
  char *body = malloc(body_len + 1);
  if (!method || !target || !ctype || !accept || !body)
    abort();
  memcpy(body, p, body_len);
  body[body_len] = '\0';

  struct ss_api_req req = {.method = method,
                           .path = target,
                           .body = body_len ? body : NULL,
                           .body_len = body_len,
                           .content_type = *ctype ? ctype : NULL,
                           .accept = *accept ? accept : NULL};
  char *q = strchr(target, '?');
  if (q) {
    *q = '\0';
    parse_query(q + 1, &req);
  }
  unescape(target, false); /* libmicrohttpd hands over the path decoded */

  /* the head's checks, which server.c makes before this */
  (void)ss__api_authorize(method, target, NULL, NULL);
  (void)ss__api_body_over(ctype, SS_API_MAX_BODY);

  struct ss_api_resp resp = {0};
  ss__api_handle(&api, &req, &resp);
  if (resp.code < 100 || resp.code > 599)
    abort(); /* every request gets an HTTP status */
  if (getenv("SS_FUZZ_API_VERBOSE")) {
    const char *msg = json_string_value(json_object_get(resp.body, "message"));
    fprintf(stderr, "%s %s -> %d %.300s\n", method, target, resp.code, msg ? msg : "");
  }
  if (resp.body) {
    char *s = json_dumps(resp.body, JSON_COMPACT); /* what server.c sends */
    if (!s)
      abort();
    free(s);
  }
  ss__api_resp_free(&resp);
  free(method);
  free(target);
  free(ctype);
  free(accept);
  free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!api.cfg.store)
    init();
  const char *p = (const char *)data, *end = p + size;
  while (p < end) {
    const char *sep = memmem(p, (size_t)(end - p), SEP, strlen(SEP));
    one_request(p, sep ? sep : end);
    p = sep ? sep + strlen(SEP) : end;
  }
  return 0;
}
