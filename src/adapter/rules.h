/* rules.h: prometheus-adapter's configuration and rule engine, pure.
 *
 * A configuration is what prometheus-adapter reads (its config.yaml, or the
 * ConfigMap manifest that wraps it under data."config.yaml"): `rules` for
 * the custom metrics API and `externalRules` for the external metrics API
 * (`resourceRules` is accepted and ignored: CPU and memory come from
 * servescale's own samples). Each rule does four things, as in the adapter:
 *   discovery   seriesQuery (a series selector) and seriesFilters (is /
 *               isNot regexes on the series name);
 *   association resources.overrides (label -> {group, resource}) and
 *               resources.template ("kube_<<.Group>>_<<.Resource>>"): which
 *               labels name Kubernetes objects;
 *   naming      name.matches (a regex, default ".*") and name.as ("$1",
 *               "${1}_per_second"; default $0 without capture groups, $1
 *               with one, required with more);
 *   querying    metricsQuery, a template over <<.Series>>,
 *               <<.LabelMatchers>>, <<.GroupBy>> and <<.GroupBySlice>>.
 * Regexes are POSIX extended (the adapter's are RE2: the common subset
 * reads the same). A bad rule is an error naming it ("rules[2].name.as: ...").
 *
 * Ownership: a config owns everything in it; results are the caller's. */
#ifndef SS_ADAPTER_RULES_H
#define SS_ADAPTER_RULES_H

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define SS_ADAPTER_NAME_MAX 254   /* a metric, label or resource name, with NUL */
#define SS_ADAPTER_QUERY_MAX 4096 /* a built query */
#define SS_ADAPTER_MAX_RULES 256

/* A Kubernetes group-resource, the resource plural and lower case ("pods",
 * "seldondeployments"); group "" for the core group. */
struct ss_adapter_gr {
  char group[SS_ADAPTER_NAME_MAX];
  char resource[SS_ADAPTER_NAME_MAX];
};

struct ss_adapter_override {
  char *label;
  struct ss_adapter_gr gr;
};

struct ss_adapter_filter {
  bool is; /* is: keep matching names; isNot: keep the others */
  regex_t re;
};

struct ss_adapter_rule {
  bool external;
  char *series_query;
  struct ss_adapter_filter *filters;
  size_t n_filters;
  struct ss_adapter_override *overrides;
  size_t n_overrides;
  bool has_template;
  regex_t template_re;      /* the template as a regex: a label it matches names a resource */
  int template_group;       /* capture index of <<.Group>> (0: none) */
  int template_resource;    /* capture index of <<.Resource>> */
  regex_t matches;
  bool has_matches;         /* matches compiled (it is, once parsed) */
  char *as;
  char *metrics_query;
  char where[48];           /* "rules[2]" or "externalRules[0]", for messages */
};

struct ss_adapter_config {
  struct ss_adapter_rule *rules;
  size_t n;
};

/* Parses a configuration (YAML or JSON; a ConfigMap manifest is unwrapped).
 * On error returns SS_EINVALID (or SS_ESYNTAX, SS_ENOMEM) with err naming
 * the rule and field. */
enum ss_err ss_adapter_config_parse(const char *buf, size_t len, struct ss_adapter_config **out,
                                    struct ss_error *err);
/* The rules used without --adapter-config: Seldon's metrics as
 * docs/autoscaling.md lists them. */
enum ss_err ss_adapter_config_default(struct ss_adapter_config **out, struct ss_error *err);
void ss_adapter_config_free(struct ss_adapter_config *c); /* accepts NULL */

/* The group-resource a resource word names ("pod", "pods", "Pod",
 * "deployment" with group "apps", "seldondeployment" ...): the plural, lower
 * case, and the group servescale serves it in when group is NULL or "". */
void ss_adapter_gr_of(const char *group, const char *resource, struct ss_adapter_gr *out);
/* Whether objects of gr live in a namespace (all but namespaces, nodes). */
bool ss_adapter_gr_namespaced(const struct ss_adapter_gr *gr);

/* ---- discovery and naming ---- */

/* The resource label name of series labels under rule r, for gr: the
 * override or template label that names gr; false when none does. */
bool ss_adapter_label_for(const struct ss_adapter_rule *r, const struct ss_adapter_gr *gr,
                          const json_t *labels, char *out, size_t size);

/* The API name of series name under r, or false when the rule's filters or
 * name.matches leave it out. */
bool ss_adapter_name(const struct ss_adapter_rule *r, const char *series, char *out,
                     size_t size);

/* Appends to metrics (a JSON object: "<resource>[.<group>]/<name>" or, for
 * external rules, "<name>" -> {"rule": i, "series": NAME, "resource": ...,
 * "group": ..., "namespaced": bool, "label": the label naming the resource,
 * "ns_label": the label naming namespaces or ""}) what the series (a JSON
 * array of label objects with __name__, as /api/v1/series answers) give
 * under rule i. The first rule to give a metric keeps it. */
void ss_adapter_discover(const struct ss_adapter_config *c, size_t i, const json_t *series,
                         json_t *metrics);

/* ---- querying ---- */

struct ss_adapter_request {
  const char *series;          /* the Prometheus metric name */
  const char *ns;              /* NULL: not namespaced (root or external without one) */
  const char *ns_label;        /* the label naming namespaces ("namespace") */
  const char *resource_label;  /* NULL for external metrics */
  const char *const *names;    /* the objects, joined with | in a =~ matcher */
  size_t n_names;
  const char *extra;           /* more matchers ("a=\"b\",c!=\"d\""), or NULL */
};

/* metricsQuery of r expanded for req into buf. SS_ELIMIT when it does not
 * fit; SS_EINVALID for an unknown template field (already refused at parse). */
enum ss_err ss_adapter_build_query(const struct ss_adapter_rule *r,
                                   const struct ss_adapter_request *req, char *buf, size_t size);

/* A label selector ("a=b,c!=d,e in (x,y)") as Prometheus matchers
 * ("a=\"b\",c!=\"d\",e=~\"x|y\"") into buf; false with why for a form
 * Prometheus cannot express or a bad selector. */
bool ss_adapter_selector_matchers(const char *selector, char *buf, size_t size, char *why,
                                  size_t why_size);

#endif
