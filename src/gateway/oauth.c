/* oauth.c: client-credentials tokens for deployments that set oauth_key and
 * oauth_secret. Tokens are 32 random bytes in hex; only their SHA-256 is
 * kept, with the digest of the client they were issued to and their expiry,
 * in a hash table bounded per client and in all. It never logs and never
 * reads the clock or the deployments: the caller (route.c) passes the
 * client and the time and decides what a refusal means. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/internal.h"

#define DIGEST_LEN 32 /* SHA-256 */

/* Entries live in fixed-size chunks allocated as the table grows, named by
 * 1-based ids (0: none) so that growing never moves them and links stay
 * 32-bit. Both pools hold at most SS_GW_MAX_TOKENS: a client with no token
 * left is freed, so there are never more clients than tokens. */
#define CHUNK_BITS 12
#define CHUNK (1u << CHUNK_BITS)
#define N_CHUNKS ((SS_GW_MAX_TOKENS + CHUNK - 1) / CHUNK)

/* Buckets: a power of two above SS_GW_MAX_TOKENS, so chains stay short
 * (load below 0.77) without ever rehashing under the lock. */
#define N_BUCKETS (1u << 17)
_Static_assert(N_BUCKETS > SS_GW_MAX_TOKENS, "token table load must stay below 1");

/* Expired tokens reclaimed per issue, from the oldest: enough to drain them
 * faster than issues add, few enough to keep the lock short. Expired tokens
 * a check finds are reclaimed there too. */
#define REAP_PER_ISSUE 4

/* One issued token. `next` first: the pool's free list reuses it. */
struct tok {
  uint32_t next;          /* bucket chain */
  uint32_t client;
  uint32_t cprev, cnext;  /* its client's tokens, oldest first */
  uint32_t gprev, gnext;  /* all tokens, oldest first */
  int64_t expires_s;
  unsigned char digest[DIGEST_LEN]; /* SHA-256 of the token's hex */
};

/* One binding (deployment, uid, key, secret) that holds tokens. */
struct client {
  uint32_t next;          /* bucket chain */
  uint32_t head, tail;    /* its tokens, oldest first */
  uint32_t n;
  unsigned char bind[DIGEST_LEN];
};

struct pool {
  size_t size;            /* of one entry */
  uint32_t hw;            /* ids handed out so far */
  uint32_t free;          /* freed ids, linked through their `next` */
  void *chunk[N_CHUNKS];
};

struct ss__gw_oauth {
  pthread_mutex_t mu;
  EVP_MD *sha256_owned;   /* fetched once: an implicit fetch per hash locks */
  const EVP_MD *sha256;
  struct pool toks, clients;
  uint32_t *tok_buckets, *client_buckets; /* N_BUCKETS each */
  uint32_t ghead, gtail;  /* all tokens, oldest first */
  size_t n;
};

static void *pool_at(const struct pool *p, uint32_t id) {
  return (char *)p->chunk[(id - 1) >> CHUNK_BITS] + (size_t)((id - 1) & (CHUNK - 1)) * p->size;
}

/* A zeroed entry's id; 0 when out of memory or full. */
static uint32_t pool_get(struct pool *p) {
  uint32_t id = p->free;
  if (id) {
    void *e = pool_at(p, id);
    p->free = *(uint32_t *)e;
    memset(e, 0, p->size);
    return id;
  }
  if (p->hw == SS_GW_MAX_TOKENS)
    return 0;
  uint32_t c = p->hw >> CHUNK_BITS;
  if (!p->chunk[c] && !(p->chunk[c] = calloc(CHUNK, p->size)))
    return 0;
  return ++p->hw;
}

static void pool_put(struct pool *p, uint32_t id) {
  void *e = pool_at(p, id);
  OPENSSL_cleanse(e, p->size);
  *(uint32_t *)e = p->free;
  p->free = id;
}

static void pool_destroy(struct pool *p) {
  for (size_t i = 0; i < N_CHUNKS; i++) {
    if (p->chunk[i])
      OPENSSL_cleanse(p->chunk[i], CHUNK * p->size);
    free(p->chunk[i]);
  }
}

static struct tok *T(const struct ss__gw_oauth *o, uint32_t id) { return pool_at(&o->toks, id); }
static struct client *C(const struct ss__gw_oauth *o, uint32_t id) {
  return pool_at(&o->clients, id);
}

/* Digests are uniform (SHA-256), so their first bytes pick the bucket. */
static uint32_t bucket(const unsigned char d[DIGEST_LEN]) {
  uint32_t h;
  memcpy(&h, d, sizeof h);
  return h & (N_BUCKETS - 1);
}

struct ss__gw_oauth *ss__gw_oauth_new(void) {
  struct ss__gw_oauth *o = calloc(1, sizeof *o);
  if (!o)
    return NULL;
  pthread_mutex_init(&o->mu, NULL);
  o->toks.size = sizeof(struct tok);
  o->clients.size = sizeof(struct client);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  o->sha256 = o->sha256_owned = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
  o->sha256 = EVP_sha256();
#endif
  o->tok_buckets = calloc(N_BUCKETS, sizeof *o->tok_buckets);
  o->client_buckets = calloc(N_BUCKETS, sizeof *o->client_buckets);
  if (!o->sha256 || !o->tok_buckets || !o->client_buckets) {
    ss__gw_oauth_free(o);
    return NULL;
  }
  return o;
}

void ss__gw_oauth_free(struct ss__gw_oauth *o) {
  if (!o)
    return;
  pool_destroy(&o->toks);
  pool_destroy(&o->clients);
  free(o->tok_buckets);
  free(o->client_buckets);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  EVP_MD_free(o->sha256_owned);
#endif
  pthread_mutex_destroy(&o->mu);
  free(o);
}

size_t ss__gw_oauth_count(struct ss__gw_oauth *o) {
  pthread_mutex_lock(&o->mu);
  size_t n = o->n;
  pthread_mutex_unlock(&o->mu);
  return n;
}

/* --- digests: outside the lock --- */

static bool hash_field(EVP_MD_CTX *ctx, const char *s) {
  size_t len = s ? strlen(s) : 0;
  unsigned char pre[8];
  for (int i = 0; i < 8; i++)
    pre[i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
  return EVP_DigestUpdate(ctx, pre, sizeof pre) == 1 && EVP_DigestUpdate(ctx, s, len) == 1;
}

/* The client's binding: every field length-prefixed, so that no shift of a
 * boundary ("ns","ab" against "nsa","b") gives the same digest. */
static bool bind_digest(const struct ss__gw_oauth *o, const struct ss__gw_oauth_client *cl,
                        unsigned char out[DIGEST_LEN]) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestInit_ex(ctx, o->sha256, NULL) == 1 &&
            hash_field(ctx, "servescale oauth client v1") && hash_field(ctx, cl->ns) &&
            hash_field(ctx, cl->name) && hash_field(ctx, cl->uid) && hash_field(ctx, cl->key) &&
            hash_field(ctx, cl->secret) && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

static bool token_digest(const struct ss__gw_oauth *o, const char *token, size_t len,
                         unsigned char out[DIGEST_LEN]) {
  return EVP_Digest(token, len, out, NULL, o->sha256, NULL) == 1;
}

/* --- the table: under the mutex, O(1) expected --- */

static uint32_t find_tok(const struct ss__gw_oauth *o, const unsigned char d[DIGEST_LEN]) {
  uint32_t id = o->tok_buckets[bucket(d)];
  while (id && CRYPTO_memcmp(T(o, id)->digest, d, DIGEST_LEN) != 0)
    id = T(o, id)->next;
  return id;
}

static uint32_t find_client(const struct ss__gw_oauth *o, const unsigned char b[DIGEST_LEN]) {
  uint32_t id = o->client_buckets[bucket(b)];
  while (id && CRYPTO_memcmp(C(o, id)->bind, b, DIGEST_LEN) != 0)
    id = C(o, id)->next;
  return id;
}

static void unchain(uint32_t *buckets, struct pool *p, uint32_t id,
                    const unsigned char d[DIGEST_LEN]) {
  uint32_t *link = &buckets[bucket(d)];
  while (*link != id)
    link = pool_at(p, *link); /* `next` is first in both entry types */
  *link = *(uint32_t *)pool_at(p, id);
}

/* Drops token id from its bucket, its client (freed when left empty) and
 * the global list. */
static void remove_tok(struct ss__gw_oauth *o, uint32_t id) {
  struct tok *t = T(o, id);
  unchain(o->tok_buckets, &o->toks, id, t->digest);
  struct client *c = C(o, t->client);
  if (t->cprev)
    T(o, t->cprev)->cnext = t->cnext;
  else
    c->head = t->cnext;
  if (t->cnext)
    T(o, t->cnext)->cprev = t->cprev;
  else
    c->tail = t->cprev;
  if (--c->n == 0) {
    unchain(o->client_buckets, &o->clients, t->client, c->bind);
    pool_put(&o->clients, t->client);
  }
  if (t->gprev)
    T(o, t->gprev)->gnext = t->gnext;
  else
    o->ghead = t->gnext;
  if (t->gnext)
    T(o, t->gnext)->gprev = t->gprev;
  else
    o->gtail = t->gprev;
  pool_put(&o->toks, id);
  o->n--;
}

/* Adds a token with digest d for binding b; false when out of memory. Room
 * is made first: the client's oldest past its cap, then the table's. */
static bool insert(struct ss__gw_oauth *o, const unsigned char d[DIGEST_LEN],
                   const unsigned char b[DIGEST_LEN], int64_t expires_s) {
  uint32_t cid = find_client(o, b);
  if (cid && C(o, cid)->n >= SS_GW_TOKENS_PER_CLIENT)
    remove_tok(o, C(o, cid)->head);
  if (o->n >= SS_GW_MAX_TOKENS)
    remove_tok(o, o->ghead);
  /* either removal may have freed the client */
  cid = find_client(o, b);
  bool new_client = !cid;
  if (new_client) {
    if (!(cid = pool_get(&o->clients)))
      return false;
    struct client *c = C(o, cid);
    memcpy(c->bind, b, DIGEST_LEN);
    c->next = o->client_buckets[bucket(b)];
    o->client_buckets[bucket(b)] = cid;
  }
  uint32_t id = pool_get(&o->toks);
  if (!id) {
    if (new_client) {
      unchain(o->client_buckets, &o->clients, cid, b);
      pool_put(&o->clients, cid);
    }
    return false;
  }
  struct tok *t = T(o, id);
  struct client *c = C(o, cid);
  memcpy(t->digest, d, DIGEST_LEN);
  t->expires_s = expires_s;
  t->client = cid;
  t->next = o->tok_buckets[bucket(d)];
  o->tok_buckets[bucket(d)] = id;
  t->cprev = c->tail;
  if (c->tail)
    T(o, c->tail)->cnext = id;
  else
    c->head = id;
  c->tail = id;
  c->n++;
  t->gprev = o->gtail;
  if (o->gtail)
    T(o, o->gtail)->gnext = id;
  else
    o->ghead = id;
  o->gtail = id;
  o->n++;
  return true;
}

bool ss__gw_oauth_issue(struct ss__gw_oauth *o, const struct ss__gw_oauth_client *cl,
                        int64_t now_s, char out[SS_GW_TOKEN_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char raw[SS_GW_TOKEN_LEN / 2], d[DIGEST_LEN], b[DIGEST_LEN];
  bool ok = false;
  if (RAND_bytes(raw, sizeof raw) != 1)
    goto out;
  for (size_t i = 0; i < sizeof raw; i++) {
    out[2 * i] = hex[raw[i] >> 4];
    out[2 * i + 1] = hex[raw[i] & 15];
  }
  out[SS_GW_TOKEN_LEN] = '\0';
  if (!token_digest(o, out, SS_GW_TOKEN_LEN, d) || !bind_digest(o, cl, b))
    goto out;
  pthread_mutex_lock(&o->mu);
  /* The global list is in issue order, so (with a steady clock) in expiry
   * order: its head is the first to reclaim. */
  for (int i = 0; i < REAP_PER_ISSUE && o->ghead && T(o, o->ghead)->expires_s <= now_s; i++)
    remove_tok(o, o->ghead);
  ok = insert(o, d, b, now_s + SS_GW_TOKEN_TTL_S);
  pthread_mutex_unlock(&o->mu);
out:
  OPENSSL_cleanse(raw, sizeof raw);
  OPENSSL_cleanse(b, sizeof b);
  if (!ok)
    OPENSSL_cleanse(out, SS_GW_TOKEN_LEN + 1);
  return ok;
}

bool ss__gw_oauth_check(struct ss__gw_oauth *o, const struct ss__gw_oauth_client *cl,
                        const char *token, size_t len, int64_t now_s) {
  unsigned char d[DIGEST_LEN], b[DIGEST_LEN];
  bool ok = false;
  if (!token || len != SS_GW_TOKEN_LEN || !token_digest(o, token, len, d) ||
      !bind_digest(o, cl, b))
    goto out;
  pthread_mutex_lock(&o->mu);
  uint32_t id = find_tok(o, d);
  if (id && T(o, id)->expires_s <= now_s) {
    remove_tok(o, id);
  } else if (id) {
    /* A token under another binding is refused but kept: each worker
     * checks against its own snapshot of the deployments, and one still on
     * the old secret must not destroy a token just issued under the new. */
    ok = CRYPTO_memcmp(C(o, T(o, id)->client)->bind, b, DIGEST_LEN) == 0;
  }
  pthread_mutex_unlock(&o->mu);
out:
  OPENSSL_cleanse(b, sizeof b);
  return ok;
}
