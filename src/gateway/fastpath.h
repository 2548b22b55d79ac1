/* fastpath.h: the common case without a JSON tree. A predictor whose graph
 * is one MODEL node needs, of Seldon's executor, only: a valid JSON object
 * in, a puid in its meta, and the model's answer with the executor's meta
 * (puid, tags, routing, requestPath, metrics) put in. These functions do that
 * on the text, scanning without allocating; anything unusual (a request that
 * already has meta, an answer whose meta says more than its puid, an error)
 * goes the general way (graph.h), so the answers are the same either way.
 * Pure functions; internal to src/gateway/. */
#ifndef SS_GATEWAY_FASTPATH_H
#define SS_GATEWAY_FASTPATH_H

#include <stdbool.h>
#include <stddef.h>

#define SS__GW_SCAN_MAX_DEPTH 64

/* Scans s[0..n): -1 when it is not valid JSON, 1 when valid but not an
 * object, 0 for an object; then *meta_at and *meta_len give the span of its
 * top-level "meta" value (*meta_len 0 when there is none). */
int ss__gw_scan(const char *s, size_t n, size_t *meta_at, size_t *meta_len);

/* Whether the object text s[0..n) has no key but "puid" (e.g. {} or
 * {"puid":"..."}): then nothing in it needs merging. */
bool ss__gw_meta_trivial(const char *s, size_t n);

/* body (an object without meta) with "meta":{"puid":PUID} put first; a
 * malloc'd text, *out_len its length. */
char *ss__gw_fast_request(const char *body, size_t n, const char *puid, size_t *out_len);

/* The answer: the model's object body with its trivial meta (at meta_at,
 * meta_len; len 0: none) replaced by the executor's meta for node running
 * image. malloc'd; NULL when out of memory. */
char *ss__gw_fast_response(const char *body, size_t n, size_t meta_at, size_t meta_len,
                           const char *puid, const char *node, const char *image,
                           size_t *out_len);

#endif
