/* adapter.h: the built-in prometheus-adapter. It answers the Kubernetes
 * custom and external metrics APIs from a rule set (rules.h), asking a
 * Prometheus server over HTTP, or, when none is given, servescale's own
 * metrics window through the embedded PromQL (promql.h). The HPA
 * controller (src/autoscale/loop.c) reads Pods, Object and External metrics
 * through it; the control API serves the same answers under
 * /apis/custom.metrics.k8s.io/v1beta1 and /apis/external.metrics.k8s.io/v1beta1.
 *
 * Ownership: the adapter owns its config; answers are new JSON the caller
 * owns. Threads: every call may run on any thread (the embedded source
 * takes the window's lock; an HTTP query has its own curl handle). */
#ifndef SS_ADAPTER_ADAPTER_H
#define SS_ADAPTER_ADAPTER_H

#include <jansson.h>
#include <stdint.h>

#include "adapter/rules.h"
#include "common/err.h"
#include "metrics/metrics.h"

/* How far back discovery looks for series on a Prometheus server
 * (prometheus-adapter's --metrics-max-age default is its relist interval;
 * an hour keeps metrics listed across a quiet spell). */
#define SS_ADAPTER_SERIES_AGE_S 3600
#define SS_ADAPTER_TIMEOUT_MS 5000

struct ss_adapter_source {
  const char *prometheus_url; /* NULL: the embedded window */
  struct ss_metrics *metrics; /* the window, for the embedded source */
};

struct ss_adapter;

/* Takes cfg (freed with the adapter, or here on failure). */
struct ss_adapter *ss_adapter_new(struct ss_adapter_config *cfg,
                                  const struct ss_adapter_source *src);
void ss_adapter_free(struct ss_adapter *a); /* accepts NULL */

/* The metrics the rules find now: an APIResourceList for the custom
 * (external false) or external metrics API. */
json_t *ss_adapter_discovery(struct ss_adapter *a, bool external, int64_t now_ms);

/* The value of metric for each object named (names; NULL with n 0: every
 * object the query returns) of group-resource gr in ns (NULL for a root
 * resource), its series narrowed by metric_selector (a label selector, may
 * be NULL): a MetricValueList (custom.metrics.k8s.io/v1beta1). Errors:
 * SS_ENOTFOUND (no rule gives that metric for that resource: "the server
 * could not find the metric ..."), SS_EINVALID (a bad selector), SS_EIO
 * (the query failed). */
enum ss_err ss_adapter_custom(struct ss_adapter *a, const struct ss_adapter_gr *gr,
                              const char *ns, const char *const *names, size_t n,
                              const char *metric, const char *metric_selector, int64_t now_ms,
                              json_t **out, struct ss_error *err);

/* An external metric in ns (its rule's namespace label, when it has one),
 * narrowed by selector: an ExternalMetricValueList
 * (external.metrics.k8s.io/v1beta1). Errors as ss_adapter_custom. */
enum ss_err ss_adapter_external(struct ss_adapter *a, const char *ns, const char *metric,
                                const char *selector, int64_t now_ms, json_t **out,
                                struct ss_error *err);

/* A LabelSelector object ({matchLabels, matchExpressions}) in its string
 * form ("a=b,c in (x,y)"), for the calls above. */
void ss_adapter_selector_string(const json_t *sel, char *buf, size_t size);

#endif
