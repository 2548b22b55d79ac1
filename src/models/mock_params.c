/* mock_params.c: the mock classifier's parameters as one table, read from
 * Seldon's PREDICTIVE_UNIT_PARAMETERS and from flags alike. Which source
 * wins (flags, after the environment) is the caller's choice. */
#include "models/models.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ten minutes covers any latency or CPU test; a value past it is a typo
 * (an extra zero) and an error, not a replica that never answers. */
#define DELAY_MAX_MS 600000.0
#define CPU_MAX_MS 600000.0
#define FAIL_AFTER_MAX 1e9
#define WORKERS_MAX 256.0 /* the servers' connection limit: more could never wait */
/* exp() of the difference stays finite well past this; any real threshold
 * is far inside it. */
#define THRESHOLD_ABS_MAX 1e12
/* Longest parameter name or value we echo in an error. */
#define ECHO_MAX 64

static const struct ss_mock_param_row table[] = {
    {"threshold", "threshold", SS_MOCK_PARAM_DOUBLE, -THRESHOLD_ABS_MAX, THRESHOLD_ABS_MAX,
     offsetof(struct ss_mock_params, threshold),
     "answer sigmoid(mean(row) - threshold) (default 0.5)"},
    {"delay_ms", "delay-ms", SS_MOCK_PARAM_INT, 0, DELAY_MAX_MS,
     offsetof(struct ss_mock_params, delay_ms), "sleep this many milliseconds in every prediction"},
    {"cpu_ms", "cpu-ms", SS_MOCK_PARAM_INT, 0, CPU_MAX_MS, offsetof(struct ss_mock_params, cpu_ms),
     "burn this many milliseconds of CPU in every prediction"},
    {"fail_after", "fail-after", SS_MOCK_PARAM_INT, 0, FAIL_AFTER_MAX,
     offsetof(struct ss_mock_params, fail_after),
     "exit with status 1 after this many predictions (0: never)"},
    {"workers", "workers", SS_MOCK_PARAM_INT, 0, WORKERS_MAX,
     offsetof(struct ss_mock_params, workers),
     "serve this many predictions at once, the others waiting in order (0: no limit)"},
};

#define N_ROWS (sizeof table / sizeof *table)

const struct ss_mock_param_row *ss_mock_param_table(size_t *n) {
  *n = N_ROWS;
  return table;
}

void ss_mock_params_default(struct ss_mock_params *p) {
  *p = (struct ss_mock_params){.threshold = SS_MOCK_THRESHOLD_DEFAULT};
}

static const struct ss_mock_param_row *find(const char *name) {
  for (size_t i = 0; i < N_ROWS; i++)
    if (strcmp(table[i].name, name) == 0)
      return &table[i];
  return NULL;
}

static enum ss_err set_row(struct ss_mock_params *p, const struct ss_mock_param_row *r,
                           const char *text, struct ss_error *err) {
  char *end = NULL;
  if (!text || !*text)
    return ss_error_set(err, SS_EINVALID, 0, 0, "%s: needs a value", r->name);
  errno = 0;
  if (r->kind == SS_MOCK_PARAM_INT) {
    long v = strtol(text, &end, 10);
    if (*end || errno)
      return ss_error_set(err, SS_EINVALID, 0, 0, "%s: \"%.*s\" is not an integer", r->name,
                          ECHO_MAX, text);
    if ((double)v < r->min || (double)v > r->max)
      return ss_error_set(err, SS_EINVALID, 0, 0, "%s: %ld is out of range [%.0f, %.0f]",
                          r->name, v, r->min, r->max);
    *(long *)((char *)p + r->offset) = v;
  } else {
    double v = strtod(text, &end);
    if (*end || errno || !isfinite(v))
      return ss_error_set(err, SS_EINVALID, 0, 0, "%s: \"%.*s\" is not a finite number",
                          r->name, ECHO_MAX, text);
    if (v < r->min || v > r->max)
      return ss_error_set(err, SS_EINVALID, 0, 0, "%s: %g is out of range [%g, %g]", r->name,
                          v, r->min, r->max);
    *(double *)((char *)p + r->offset) = v;
  }
  return SS_EOK;
}

enum ss_err ss_mock_params_set(struct ss_mock_params *p, const char *name, const char *text,
                               struct ss_error *err) {
  const struct ss_mock_param_row *rp = find(name);
  if (rp)
    return set_row(p, rp, text, err);
  char known[256] = "";
  size_t used = 0;
  for (size_t i = 0; i < N_ROWS && used < sizeof known; i++) {
    int n = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", table[i].name);
    if (n < 0)
      break;
    used += (size_t)n;
  }
  return ss_error_set(err, SS_ENOTFOUND, 0, 0, "unknown parameter \"%.*s\" (known: %s)",
                      ECHO_MAX, name, known);
}

/* Seldon's parameter types (the Parameter message's enum). */
static bool type_fits(const char *type, enum ss_mock_param_kind kind) {
  if (!type)
    return true;
  if (strcmp(type, "INT") == 0)
    return true;
  return kind == SS_MOCK_PARAM_DOUBLE &&
         (strcmp(type, "FLOAT") == 0 || strcmp(type, "DOUBLE") == 0);
}

enum ss_err ss_mock_params_from_seldon(struct ss_mock_params *p, const char *json,
                                       struct ss_error *err) {
  enum ss_err rc = SS_EOK;
  json_t *root = NULL;
  json_error_t jerr;
  struct ss_mock_params next = *p; /* all or nothing */
  char num[64];

  if (!json || !*json)
    goto out;
  root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) {
    rc = ss_error_set(err, SS_ESYNTAX, (unsigned)jerr.line, (unsigned)jerr.column,
                      "PREDICTIVE_UNIT_PARAMETERS: %s", jerr.text);
    goto out;
  }
  if (!json_is_array(root)) {
    rc = ss_error_set(err, SS_EINVALID, 0, 0,
                      "PREDICTIVE_UNIT_PARAMETERS: must be a JSON array of {name, value, type}");
    goto out;
  }
  size_t i;
  const json_t *item;
  json_array_foreach(root, i, item) {
    const json_t *name = json_object_get(item, "name");
    const json_t *value = json_object_get(item, "value");
    const json_t *type = json_object_get(item, "type");
    if (!json_is_object(item) || !json_is_string(name)) {
      rc = ss_error_set(err, SS_EINVALID, 0, 0,
                        "PREDICTIVE_UNIT_PARAMETERS[%zu]: must be an object with a string name",
                        i);
      goto out;
    }
    const struct ss_mock_param_row *rp = find(json_string_value(name));
    if (!rp) {
      rc = ss_mock_params_set(&next, json_string_value(name), "", err);
      goto out;
    }
    if (type && (!json_is_string(type) || !type_fits(json_string_value(type), rp->kind))) {
      rc = ss_error_set(err, SS_EINVALID, 0, 0,
                        "PREDICTIVE_UNIT_PARAMETERS[%zu] (%s): type must be %s", i,
                        rp->name, rp->kind == SS_MOCK_PARAM_INT ? "INT" : "FLOAT or DOUBLE");
      goto out;
    }
    /* Seldon's values are strings ("100"); a bare JSON number is taken too. */
    const char *text;
    if (json_is_string(value)) {
      text = json_string_value(value);
    } else if (json_is_integer(value)) {
      snprintf(num, sizeof num, "%lld", (long long)json_integer_value(value));
      text = num;
    } else if (json_is_real(value)) {
      snprintf(num, sizeof num, "%.17g", json_real_value(value));
      text = num;
    } else {
      rc = ss_error_set(err, SS_EINVALID, 0, 0,
                        "PREDICTIVE_UNIT_PARAMETERS[%zu] (%s): value must be a string or a "
                        "number",
                        i, rp->name);
      goto out;
    }
    rc = set_row(&next, rp, text, err);
    if (rc) {
      /* Say which source the bad value came from. */
      char msg[SS_ERROR_MSG_MAX];
      snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
      rc = ss_error_set(err, rc, 0, 0, "PREDICTIVE_UNIT_PARAMETERS: %s", msg);
      goto out;
    }
  }
  *p = next;

out:
  json_decref(root);
  return rc;
}
