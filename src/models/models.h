/* models.h: built-in model servers that speak the Seldon protocol. The
 * image seldonio/mock_classifier:<any tag> maps to `servescale
 * mock-classifier`; the pure parts (the answer, the parameters) are here so
 * that tests reach them without sockets. */
#ifndef SS_MODELS_MODELS_H
#define SS_MODELS_MODELS_H

#include <jansson.h>

#include "common/err.h"

/* The `servescale mock-classifier` subcommand (argv[0] is its name). Returns
 * the process exit code: 0 after a clean stop (SIGTERM, SIGINT), 1 on a
 * failure or after --fail-after requests, 2 on bad usage or parameters. */
int ss_mock_classifier_main(int argc, char **argv);

/* The `servescale model-server` subcommand (model_server.c): the
 * multi-model V2 server of Core 2 Servers, or with --seldon one sklearn
 * model over Seldon's protocol. Exit codes as ss_mock_classifier_main's. */
int ss_model_server_main(int argc, char **argv);

/* ---- the answer (mock_predict.c) ---- */

/* Seldon's mock classifier's default threshold. */
#define SS_MOCK_THRESHOLD_DEFAULT 0.5

/* Answers one Seldon message as Seldon's mock classifier does: the input
 * must be 2-D, data.ndarray [[...], ...] or data.tensor {shape: [r, c],
 * values}, all numbers, at least one row and one column; each row gets
 * [sigmoid(mean(row) - threshold)] under names ["proba"], in the form the
 * input came in. meta carries the request's meta.puid, if any.
 *
 * Borrows request. On success *response is a new reference the caller owns
 * and returns SS_EOK; on bad data returns SS_EINVALID with the reason in err
 * (for Seldon's MICROSERVICE_BAD_DATA); SS_ENOMEM when out of memory.
 * *response is NULL on failure. */
enum ss_err ss_mock_predict(const json_t *request, double threshold, json_t **response,
                            struct ss_error *err);

/* ---- the parameters (mock_params.c) ---- */

struct ss_mock_params {
  double threshold; /* the answer is sigmoid(mean(row) - threshold) */
  long delay_ms;    /* sleep this long in every prediction (latency tests) */
  long cpu_ms;      /* burn this much thread CPU in every prediction (CPU tests) */
  long fail_after;  /* exit 1 after this many predictions (fault tests); 0: never */
  long workers;     /* predictions served at once, the rest queued in order; 0: no limit */
};

/* One row of the parameter table, shared by Seldon's parameters and the
 * flags (--delay-ms sets delay_ms). */
enum ss_mock_param_kind { SS_MOCK_PARAM_INT, SS_MOCK_PARAM_DOUBLE };
struct ss_mock_param_row {
  const char *name; /* Seldon parameter name: "delay_ms" */
  const char *flag; /* long option: "delay-ms" */
  enum ss_mock_param_kind kind;
  double min, max;
  size_t offset; /* of a long (INT) or a double (DOUBLE) in struct ss_mock_params */
  const char *help;
};

/* The table; *n gets its length. */
const struct ss_mock_param_row *ss_mock_param_table(size_t *n);

/* Seldon's defaults: threshold 0.5, no delay, no CPU burn, never fail. */
void ss_mock_params_default(struct ss_mock_params *p);

/* Sets parameter name from its text value (a flag's argument or a Seldon
 * parameter's "value"). SS_ENOTFOUND for an unknown name, SS_EINVALID for
 * a value that does not parse or is out of bounds; err says which. p is left
 * unchanged on failure. */
enum ss_err ss_mock_params_set(struct ss_mock_params *p, const char *name, const char *text,
                               struct ss_error *err);

/* Applies Seldon's PREDICTIVE_UNIT_PARAMETERS: a JSON array of
 * {"name", "value", "type"} where value is a string (or a number) and type
 * one of INT, FLOAT, DOUBLE, STRING, BOOL. Rejects unknown names, so that a
 * misspelt "treshold" is an error and not a silent default. Applies all or
 * nothing. NULL or "" is an empty list. */
enum ss_err ss_mock_params_from_seldon(struct ss_mock_params *p, const char *json,
                                       struct ss_error *err);

#endif
