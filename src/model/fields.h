/* fields.h: typed reads of JSON fields during decoding. Each read reports a
 * wrong type or bad value as a diagnostic at the field's path and keeps
 * going, so one pass finds every error. Internal to src/model/. */
#ifndef SS_MODEL_FIELDS_H
#define SS_MODEL_FIELDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/diag.h"
#include "model/path.h"
#include "model/quantity.h"

struct ss__dec {
  struct ss_arena *arena;
  struct ss_diags *diags;
  struct ss_path path; /* path of the object being decoded */
};

/* Field getters: the field is obj[key]. Absent (or JSON null) returns false
 * silently unless required; present with a wrong type returns false and
 * records an error at path.key. */
bool ss__str(struct ss__dec *d, const json_t *obj, const char *key, bool required,
             const char **out);
bool ss__int(struct ss__dec *d, const json_t *obj, const char *key, bool required,
             int64_t *out);
bool ss__int32(struct ss__dec *d, const json_t *obj, const char *key, bool required,
               int32_t *out);
bool ss__bool(struct ss__dec *d, const json_t *obj, const char *key, bool *out);
bool ss__num(struct ss__dec *d, const json_t *obj, const char *key, double *out);
bool ss__qty(struct ss__dec *d, const json_t *obj, const char *key, bool required,
             struct ss_quantity *out);
/* obj[key] when it is an object / array; a wrong type is an error. */
json_t *ss__obj(struct ss__dec *d, const json_t *obj, const char *key, bool required);
json_t *ss__arr(struct ss__dec *d, const json_t *obj, const char *key, bool required);
/* A map of string to string (labels, annotations); errors on other values. */
json_t *ss__strmap(struct ss__dec *d, const json_t *obj, const char *key);

/* Records an error at path.key when replicas v exceed SS_MAX_REPLICAS;
 * false then. */
bool ss__replicas_within_limit(struct ss__dec *d, const char *key, int64_t v);

/* Warns about each key of obj that is not in known (NULL-terminated). */
void ss__known_fields(struct ss__dec *d, const json_t *obj, const char *const *known);

/* Diagnostics at path.key (key may be NULL for the current path). */
void ss__err(struct ss__dec *d, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ss__warn(struct ss__dec *d, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses a decimal string strictly ("10", "0.5", "-3"); false otherwise. */
bool ss__parse_double(const char *s, double *out);

#endif
