/* oauth.c: client-credentials tokens for deployments that set oauth_key and
 * oauth_secret. Tokens are 32 random bytes in hex, kept with their
 * deployment and expiry; they are compared in constant time and never
 * logged. */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/internal.h"

struct token {
  char value[65];
  char ns[64], name[64];
  int64_t expires_s;
};

struct ss__gw_oauth {
  pthread_mutex_t mu;
  struct token *v;
  size_t n, cap;
};

struct ss__gw_oauth *ss__gw_oauth_new(void) {
  struct ss__gw_oauth *o = calloc(1, sizeof *o);
  if (o)
    pthread_mutex_init(&o->mu, NULL);
  return o;
}

void ss__gw_oauth_free(struct ss__gw_oauth *o) {
  if (!o)
    return;
  OPENSSL_cleanse(o->v, o->cap * sizeof *o->v);
  free(o->v);
  pthread_mutex_destroy(&o->mu);
  free(o);
}

/* Drops expired tokens; under the mutex. */
static void sweep(struct ss__gw_oauth *o, int64_t now_s) {
  for (size_t i = 0; i < o->n;) {
    if (o->v[i].expires_s <= now_s)
      o->v[i] = o->v[--o->n];
    else
      i++;
  }
}

bool ss__gw_oauth_issue(struct ss__gw_oauth *o, const char *ns, const char *name, int64_t now_s,
                        char out[65]) {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return false;
  for (size_t i = 0; i < sizeof raw; i++)
    snprintf(out + 2 * i, 3, "%02x", raw[i]);
  OPENSSL_cleanse(raw, sizeof raw);
  bool ok = false;
  pthread_mutex_lock(&o->mu);
  sweep(o, now_s);
  if (o->n == o->cap && o->cap < SS_GW_MAX_TOKENS) {
    size_t cap = o->cap ? o->cap * 2 : 64;
    struct token *v = realloc(o->v, cap * sizeof *v);
    if (v) {
      o->v = v;
      o->cap = cap;
    }
  }
  if (o->n < o->cap) {
    struct token *t = &o->v[o->n++];
    memcpy(t->value, out, 65);
    snprintf(t->ns, sizeof t->ns, "%s", ns);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->expires_s = now_s + SS_GW_TOKEN_TTL_S;
    ok = true;
  }
  pthread_mutex_unlock(&o->mu);
  return ok;
}

bool ss__gw_oauth_check(struct ss__gw_oauth *o, const char *ns, const char *name,
                        const char *token, int64_t now_s) {
  if (!token || strlen(token) != 64)
    return false;
  bool ok = false;
  pthread_mutex_lock(&o->mu);
  /* every token is compared, match or not, so timing says nothing */
  for (size_t i = 0; i < o->n; i++) {
    bool same = CRYPTO_memcmp(o->v[i].value, token, 64) == 0;
    bool here = strcmp(o->v[i].ns, ns) == 0 && strcmp(o->v[i].name, name) == 0;
    ok |= same && here && o->v[i].expires_s > now_s;
  }
  pthread_mutex_unlock(&o->mu);
  return ok;
}
