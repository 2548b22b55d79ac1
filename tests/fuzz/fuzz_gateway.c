/* fuzz_gateway.c: libFuzzer target for what the gateway reads from a client
 * before any replica is involved: the HTTP/1.x request reader (http1.c) fed
 * in pieces of varying size, pipelined requests, the interim 100 Continue,
 * and on each whole request the Seldon path and HTTP Basic credentials.
 * Any input must end in a request or a clean error status, never a crash,
 * a leak or UB; the invariants below abort when broken. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway.h"
#include "gateway/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const struct ss__gw_req *q) {
  if (q->head_bytes > SS_GW_MAX_HEADER || q->body.n > SS_GW_MAX_BODY)
    abort(); /* a limit let through */
  const char *url = q->url.p ? q->url.p : "";
  struct ss__gw_route rt;
  if (ss__gw_route_parse(url, &rt) &&
      (strlen(rt.ns) >= sizeof rt.ns || strlen(rt.name) >= sizeof rt.name))
    abort();
  char model[64];
  const char *action;
  if (strncmp(url, "/v2/models/", 11) == 0 &&
      ss__gw_v2_path_parse(url + 11, model, sizeof model, &action) &&
      (strlen(model) >= sizeof model || !model[0] ||
       (*action && strcmp(action, "infer") != 0 && strcmp(action, "ready") != 0)))
    abort();
  char key[256], secret[256];
  if (ss__gw_basic_auth(q->auth, key, sizeof key, secret, sizeof secret) &&
      (strlen(key) >= sizeof key || strlen(secret) >= sizeof secret))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  /* the first byte chooses how the input is cut, as reads would cut it */
  size_t piece = (size_t)data[0] % 64 + 1;
  const char *in = (const char *)data + 1;
  size_t n = size - 1, off = 0, end = 0;
  struct ss__gw_req q;
  ss__gw_req_init(&q);
  int requests = 0;
  while (off < n && requests < 64) {
    if (end <= off)
      end = off + piece < n ? off + piece : n;
    size_t used = 0;
    enum ss__gw_req_state st = ss__gw_req_feed(&q, in + off, end - off, &used);
    if (used > end - off)
      abort();
    off += used;
    if (st == SS__GW_REQ_ERROR) {
      if (q.error_status < 400 || q.error_status > 505 || !q.error_reason)
        abort();
      break;
    }
    if (st == SS__GW_REQ_CONTINUE) {
      q.continue_sent = true;
      continue;
    }
    if (st == SS__GW_REQ_DONE) {
      check_request(&q);
      requests++;
      if (!ss__gw_req_keep_alive(&q))
        break;
      ss__gw_req_reset(&q);
      continue;
    }
    if (used == 0)
      end = off; /* took nothing of this piece: give it the next */
  }
  /* the credentials reader on its own, over the raw input */
  char val[SS_GW_MAX_AUTH + 8], key[64], secret[64];
  size_t vl = n < SS_GW_MAX_AUTH - 7 ? n : SS_GW_MAX_AUTH - 7;
  memcpy(val, "Basic ", 6);
  memcpy(val + 6, in, vl);
  val[6 + vl] = '\0';
  ss__gw_basic_auth(val, key, sizeof key, secret, sizeof secret);
  ss__gw_req_free(&q);
  return 0;
}
