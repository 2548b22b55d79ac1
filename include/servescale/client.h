/* servescale/client.h: the C client of servescale's control API, a
 * Kubernetes-style REST API (so the same calls work against a cluster that
 * runs Seldon's CRDs). It reads a kubeconfig, sends requests over HTTPS with
 * libcurl, and offers create/get/list/apply/delete/scale per kind, waits
 * built on list-then-watch (never polling), and a watch of an object's
 * events. It leaves printing and argument parsing to its callers (the CLI,
 * examples/client).
 *
 * Ownership: every json_t ** out-parameter receives a new reference the
 * caller must json_decref; every const json_t * parameter is borrowed.
 * Structs the caller passes in (config, options, errors) stay the caller's.
 * Every *_free accepts NULL.
 *
 * Threads: a struct ss_client may be used from several threads at once; each
 * request uses its own connection handle. */
#ifndef SERVESCALE_CLIENT_H
#define SERVESCALE_CLIENT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* enum ss_err: the project's one error list (SS_ENOTFOUND, SS_EEXISTS, ...). */
#include "common/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ---- */

#define SS_CLIENT_MSG_MAX 2048
#define SS_CLIENT_MAX_CAUSES 16

struct ss_client_cause {
  char field[256];   /* "spec.predictors[0].graph.name" */
  char message[512];
};

/* Detail of one failed call, owned by the caller (usually on its stack).
 * code says what failed: SS_ENOTFOUND (404), SS_EEXISTS (409 AlreadyExists),
 * SS_ECONFLICT (409 Conflict), SS_EGONE (410), SS_EINVALID (400, 422),
 * SS_ELIMIT (413), SS_EUSAGE (401, 403, a bad argument), SS_EIO (transport,
 * time-outs), SS_EINTERNAL (5xx), SS_ESYNTAX (a kubeconfig or answer that
 * does not parse). When the server answered with a Status, http, reason and
 * causes carry it as kubectl prints it. */
struct ss_client_error {
  enum ss_err code;
  long http;           /* HTTP status; 0 when no answer came */
  char reason[64];     /* Status.reason ("Invalid", "NotFound"); "" when none */
  char msg[SS_CLIENT_MSG_MAX];
  unsigned line, col;  /* kubeconfig position, 0 when unknown */
  size_t n_causes;
  struct ss_client_cause causes[SS_CLIENT_MAX_CAUSES];
};

/* ---- configuration (kubeconfig) ---- */

/* What one kubeconfig context says; all strings malloc'd and owned by the
 * struct (free with ss_client_config_free). */
struct ss_client_config {
  char *path;           /* the file read; NULL when parsed from memory */
  char *context;        /* the context used */
  char *server;         /* "https://127.0.0.1:8001" */
  char *namespace_;     /* the context's namespace; NULL when it names none */
  char *token;          /* bearer token; NULL for none */
  unsigned char *ca;    /* PEM bytes from certificate-authority-data; NULL if none */
  size_t ca_len;
  char *ca_file;        /* certificate-authority (a path); NULL if none */
  bool insecure;        /* insecure-skip-tls-verify */
};

/* Which kubeconfig the client reads: explicit when not NULL or empty, else
 * $KUBECONFIG (its first entry), else the daemon's default state dir's
 * kubeconfig when that file exists, else ~/.kube/config. Writes the path
 * into buf and returns buf. */
const char *ss_client_config_path(const char *explicit_path, char *buf, size_t size);

/* The daemon's default state directory: $SERVESCALE_STATE_DIR, else
 * $XDG_STATE_HOME/servescale, else ~/.local/state/servescale (the same rule
 * as `servescale serve`). */
void ss_client_default_state_dir(char *buf, size_t size);

/* Parses kubeconfig text (YAML or JSON). context NULL uses current-context.
 * Pure: touches no file (a certificate-authority path is only recorded). */
enum ss_err ss_client_config_parse(const char *buf, size_t len, const char *context,
                                   struct ss_client_config *out, struct ss_client_error *err);
/* Reads ss_client_config_path(explicit_path) and parses it. */
enum ss_err ss_client_config_load(const char *explicit_path, const char *context,
                                  struct ss_client_config *out, struct ss_client_error *err);
void ss_client_config_free(struct ss_client_config *cfg);

/* ---- the client ---- */

struct ss_client;

struct ss_client_options {
  int timeout_ms;                 /* per ordinary request; 0: 30 s */
  /* Called with each Warning header's text (the "299 - " part removed).
   * NULL: warnings are dropped. */
  void (*on_warning)(void *ctx, const char *text);
  void *warning_ctx;
};

/* A client for cfg (copied; cfg stays the caller's). opts may be NULL. */
enum ss_err ss_client_new(const struct ss_client_config *cfg, const struct ss_client_options *opts,
                          struct ss_client **out, struct ss_client_error *err);
void ss_client_free(struct ss_client *c);
/* The namespace to use when none is given: the context's, else "default". */
const char *ss_client_namespace(const struct ss_client *c);
const char *ss_client_server(const struct ss_client *c);

/* ---- generic requests ---- */

#define SS_CLIENT_MAX_WARNINGS 32

struct ss_client_response {
  long code;           /* HTTP status */
  json_t *body;        /* parsed JSON body, NULL when it was not JSON; owned */
  char *text;          /* the raw body, NUL-terminated; owned */
  size_t len;
  char *warnings[SS_CLIENT_MAX_WARNINGS]; /* Warning header texts; owned */
  size_t n_warnings;
};
void ss_client_response_free(struct ss_client_response *r);

/* One request: path starts with '/' and may carry a query ("?limit=1").
 * content_type and body may be NULL. Any answer that arrives is SS_EOK,
 * whatever its status code: out->code tells; transport failures are errors.
 * Warnings also go to the on_warning callback. */
enum ss_err ss_client_request(struct ss_client *c, const char *method, const char *path,
                              const char *content_type, const char *body, size_t len,
                              struct ss_client_response *out, struct ss_client_error *err);

/* Fills err from a non-2xx response (its Status, else the status line);
 * returns err->code. */
enum ss_err ss_client_error_from_response(const struct ss_client_response *r,
                                          struct ss_client_error *err);

/* ---- kinds ---- */

struct ss_client_kind {
  const char *kind;       /* "SeldonDeployment" */
  const char *group;      /* "machinelearning.seldon.io"; "" for core */
  const char *version;    /* "v1" */
  const char *plural;     /* "seldondeployments" */
  const char *singular;   /* "seldondeployment" */
  const char *short_name; /* "sdep" */
  bool namespaced;
  bool has_scale;
};

/* By any name kubectl accepts: plural, singular, short name, Kind, or
 * "plural.group" ("seldondeployments.machinelearning.seldon.io"). NULL when
 * unknown. */
const struct ss_client_kind *ss_client_kind_find(const char *word);
/* By an object's apiVersion and kind (any served version). */
const struct ss_client_kind *ss_client_kind_of(const json_t *obj);
/* "seldondeployment.machinelearning.seldon.io" or "pod": how kubectl names
 * a kind in "KIND/NAME created". */
const char *ss_client_kind_label(const struct ss_client_kind *k, char *buf, size_t size);
/* The REST path of a collection (name NULL), an object, or a subresource
 * (sub NULL for none). ns NULL on a namespaced kind: all namespaces. False
 * when it does not fit. */
bool ss_client_path(const struct ss_client_kind *k, const char *ns, const char *name,
                    const char *sub, char *buf, size_t size);

/* ---- per-kind verbs ---- */

/* ns NULL means ss_client_namespace(c) for the calls below, except list. */
enum ss_err ss_client_get(struct ss_client *c, const struct ss_client_kind *k, const char *ns,
                          const char *name, json_t **out, struct ss_client_error *err);
/* The List object (items, metadata.resourceVersion). ns NULL: all
 * namespaces. Selectors may be NULL. */
enum ss_err ss_client_list(struct ss_client *c, const struct ss_client_kind *k, const char *ns,
                           const char *label_selector, const char *field_selector, json_t **out,
                           struct ss_client_error *err);
/* obj's kind comes from its apiVersion and kind; its namespace from
 * metadata.namespace, else ns. out (may be NULL) gets the stored object. */
enum ss_err ss_client_create(struct ss_client *c, const json_t *obj, const char *ns,
                             json_t **out, struct ss_client_error *err);

enum ss_client_applied { SS_CLIENT_CREATED, SS_CLIENT_CONFIGURED, SS_CLIENT_UNCHANGED };
/* Creates obj, or when it exists replaces it (PUT with the stored
 * resourceVersion, keeping server-owned metadata and status); a conflict
 * with a concurrent writer is retried a few times. UNCHANGED when spec,
 * labels and annotations already equal obj's. On failure *what says which
 * step failed: CREATED (the create) or CONFIGURED (the update). */
enum ss_err ss_client_apply(struct ss_client *c, const json_t *obj, const char *ns,
                            enum ss_client_applied *what, json_t **out,
                            struct ss_client_error *err);
enum ss_err ss_client_delete(struct ss_client *c, const struct ss_client_kind *k, const char *ns,
                             const char *name, struct ss_client_error *err);
/* PATCH .../NAME/scale with {"spec":{"replicas":N}} (merge patch). */
enum ss_err ss_client_scale(struct ss_client *c, const struct ss_client_kind *k, const char *ns,
                            const char *name, long replicas, struct ss_client_error *err);
/* spec.replicas of the scale subresource (what runs when nothing else says). */
enum ss_err ss_client_get_scale(struct ss_client *c, const struct ss_client_kind *k,
                                const char *ns, const char *name, long *replicas,
                                struct ss_client_error *err);
/* A pod's log, malloc'd and NUL-terminated; the caller frees *text. */
enum ss_err ss_client_pod_log(struct ss_client *c, const char *ns, const char *pod, char **text,
                              size_t *len, struct ss_client_error *err);

/* ---- watch ---- */

/* Called with "ADDED" for each object of a (re)list, "SYNCED" (obj NULL)
 * once a list has been delivered, "RELISTED" (obj NULL) before a relist
 * after 410 Gone (state built from earlier events is stale), then
 * "ADDED"/"MODIFIED"/"DELETED" as they happen. obj is borrowed. Return
 * false to stop watching (the watch then returns SS_EOK). */
typedef bool (*ss_client_watch_fn)(void *ctx, const char *type, const json_t *obj);

struct ss_client_watch_opts {
  const char *label_selector;  /* may be NULL */
  const char *field_selector;  /* may be NULL */
  int timeout_ms;              /* > 0: give up after this long (SS_EIO, "timed out") */
  atomic_bool *cancel;         /* may be NULL; when it becomes true the watch returns SS_EOK */
  /* ss_client_watch_events only: the events of the object with this uid
   * (may be NULL: any object of that name, an earlier deleted one's too) */
  const char *uid;
};

/* List, then watch from the list's resourceVersion; a stream the server
 * ends is resumed from the last version seen, a 410 Gone relists. Bounded by
 * timeout_ms and by a cap on reconnections. ns NULL: all namespaces. */
enum ss_err ss_client_watch(struct ss_client *c, const struct ss_client_kind *k, const char *ns,
                            const struct ss_client_watch_opts *opts, ss_client_watch_fn fn,
                            void *ctx, struct ss_client_error *err);

/* Each event about the object called name in ns (fieldSelector
 * involvedObject.name), the existing ones first, each once (a later count
 * comes again as a new version). fn returns false to stop. */
typedef bool (*ss_client_event_fn)(void *ctx, const json_t *event);
enum ss_err ss_client_watch_events(struct ss_client *c, const char *ns, const char *name,
                                   const struct ss_client_watch_opts *opts, ss_client_event_fn fn,
                                   void *ctx, struct ss_client_error *err);

/* ---- waits ---- */

enum ss_client_wait_for {
  SS_CLIENT_WAIT_CONDITION, /* status.conditions[type=condition].status == value ("True") */
  SS_CLIENT_WAIT_JSONPATH,  /* jsonpath's value == value (value NULL: present and not false/empty) */
  SS_CLIENT_WAIT_DELETE,    /* the object is gone (or never was) */
  SS_CLIENT_WAIT_REPLICAS,  /* runs replicas ready replicas (-1: what its spec asks) */
};

struct ss_client_wait {
  enum ss_client_wait_for what;
  const char *condition;  /* CONDITION: "Ready" */
  const char *jsonpath;   /* JSONPATH: "{.status.replicas}" */
  const char *value;      /* CONDITION: default "True"; JSONPATH: as text */
  long replicas;          /* REPLICAS: the count, or -1 */
  int timeout_ms;         /* > 0 required: waits always end */
  /* Called with each version seen (may be NULL, obj NULL once deleted). */
  void (*progress)(void *ctx, const json_t *obj);
  void *ctx;
  atomic_bool *cancel;    /* may be NULL */
};

/* Waits until obj satisfies w, by list then watch. last (may be NULL) gets
 * the object as last seen (NULL when deleted). A time-out is SS_EIO with
 * msg "timed out waiting for the condition on KIND/NAME". */
enum ss_err ss_client_wait(struct ss_client *c, const struct ss_client_kind *k, const char *ns,
                           const char *name, const struct ss_client_wait *w, json_t **last,
                           struct ss_client_error *err);
/* The predicate of a wait over one version of the object (NULL: absent). */
bool ss_client_wait_met(const struct ss_client_wait *w, const json_t *obj);

/* Sum of status.deploymentStatus[*].desiredReplicas, -1 when unknown. */
long ss_client_desired_replicas(const json_t *obj);

/* ---- files ---- */

/* Reads the objects in a JSON or YAML file ("-": standard input), every
 * document, the items of a List flattened, into a new array (*out). Only
 * parsing: no defaults, no validation (the server validates). A syntax
 * error is SS_ESYNTAX with err->line and err->col. */
enum ss_err ss_client_read_objects(const char *file, json_t **out, struct ss_client_error *err);

/* ---- jsonpath-lite ---- */

/* Evaluates a kubectl-style path over obj: "{.status.replicas}",
 * ".status.conditions[0].type", "{.metadata.labels['app.kubernetes.io/name']}",
 * "{.status.conditions[?(@.type==\"Ready\")].status}" (first match).
 * *out is borrowed from obj, NULL when nothing is there. SS_ESYNTAX for a
 * bad expression. */
enum ss_err ss_client_jsonpath(const json_t *obj, const char *expr, const json_t **out,
                               struct ss_client_error *err);
/* A value as kubectl's jsonpath prints it (strings bare, numbers, true,
 * compact JSON for objects and arrays); malloc'd, NULL if out of memory. */
char *ss_client_json_text(const json_t *v);

#ifdef __cplusplus
}
#endif

#endif
