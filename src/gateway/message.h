/* message.h: Seldon's JSON message (SeldonMessage, Feedback) as the graph
 * walk needs it: checking a message's shape, puids, meta merging, the
 * router's branch index, the AVERAGE_COMBINER mean, Seldon's status object
 * and a serializer that writes numbers as short as they read back.
 * No I/O and no global state; the walk itself is in graph.c. */
#ifndef SS_GATEWAY_MESSAGE_H
#define SS_GATEWAY_MESSAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Seldon's engine made puids of 130 random bits in base 32: 26 characters.
 * Ours are 26 characters of [a-z0-9] drawn from the exec's rng. */
#define SS_GW_PUID_LEN 26

/* The data forms of a SeldonMessage (its oneof data_oneof, and inside
 * DefaultData the oneof of ndarray and tensor). */
enum ss__gw_form {
  SS_GW_FORM_NONE,    /* no payload: allowed, a component decides */
  SS_GW_FORM_NDARRAY, /* data.ndarray (names optional) */
  SS_GW_FORM_TENSOR,  /* data.tensor {shape, values} (names optional) */
  SS_GW_FORM_NAMES,   /* data with names only */
  SS_GW_FORM_STRDATA,
  SS_GW_FORM_JSONDATA,
  SS_GW_FORM_BINDATA  /* base64 text */
};

/* Checks that msg is a SeldonMessage: an object with at most one of data,
 * strData, jsonData, binData, each of its type; data holding at most one of
 * ndarray and tensor, names an array of strings, a tensor's values numbers
 * whose count is the product of its shape; meta, when present, an object
 * with puid a string and tags and routing objects. On failure writes why
 * (a field path and what is wrong) and returns false. */
bool ss__gw_msg_check(const json_t *msg, enum ss__gw_form *form, char *why, size_t why_len);

/* Checks a Feedback: an object whose request, response and truth, when
 * present, are SeldonMessages and whose reward, when present, is a number. */
bool ss__gw_feedback_check(const json_t *fb, char *why, size_t why_len);

/* xorshift64* seeded through splitmix64, so that neighbouring seeds give
 * unrelated streams. */
uint64_t ss__gw_rng_seed(uint64_t seed);
uint64_t ss__gw_rng_next(uint64_t *state);
double ss__gw_rng_unit(uint64_t *state); /* uniform in [0, 1) */
void ss__gw_puid(uint64_t *state, char out[SS_GW_PUID_LEN + 1]);

/* msg.meta.puid when it is a non-empty string, else NULL (borrowed). */
const char *ss__gw_msg_puid(const json_t *msg);

/* A copy of msg that may be changed: the same object when nobody else holds
 * it, else a shallow copy whose meta is deep-copied (the walk only ever
 * changes meta). Takes ownership of msg; NULL when out of memory. */
json_t *ss__gw_msg_writable(json_t *msg);

/* dst.meta.tags gets every tag of src.meta.tags, src winning on a clash
 * (Seldon's engine: Meta.putAllTags). dst must be writable. -1 when out of
 * memory. */
int ss__gw_msg_merge_tags(json_t *dst, const json_t *src);

/* Moves the entries of msg.meta.metrics (writable) to the end of the array
 * into, and removes the key: the engine gathers every component's custom
 * metrics into the final answer only. */
int ss__gw_msg_take_metrics(json_t *msg, json_t *into);

/* Sets msg.meta.puid when it has none. msg must be writable. */
int ss__gw_msg_set_puid(json_t *msg, const char *puid);

/* The branch a router's answer names: the first number of data.ndarray
 * (any nesting), of data.tensor.values, or a bare number in jsonData.
 * False when there is none or it is not an integer. */
bool ss__gw_msg_branch(const json_t *msg, long long *branch);

/* AVERAGE_COMBINER: the element-wise mean of the numeric payloads (ndarray
 * or tensor) of msgs[0..n), which must have one shape. The result keeps the
 * first message's form, names and meta. NULL with why on failure. */
json_t *ss__gw_msg_average(json_t *const *msgs, size_t n, char *why, size_t why_len);

/* Whether body is Seldon's status object {"status": {...}} without data
 * (what a component answers with its error). */
bool ss__gw_is_status(const json_t *body);

/* Serializes v compactly; reals are written with the fewest digits that
 * read back to the same double (0.1, not 0.10000000000000001), as Python
 * and Go components write them. A malloc'd NUL-terminated text; NULL when
 * out of memory. */
char *ss__gw_dump(const json_t *v, size_t *len);

#endif
