/* k8s.h: rendering servescale's resources to the Kubernetes objects a cluster
 * runs them with (Deployments, Services, HorizontalPodAutoscalers, KEDA
 * ScaledObjects, a PodMonitor, the gateway). Pure: it builds JSON values and
 * leaves reading files and writing text to the caller (cli/cmd_render.c).
 * docs/kubernetes.md says what each object replaces and why it looks so. */
#ifndef SS_K8S_K8S_H
#define SS_K8S_K8S_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "model/resource.h"

/* The ports Seldon's Python wrapper listens on (PREDICTIVE_UNIT_HTTP_SERVICE_PORT
 * and PREDICTIVE_UNIT_METRICS_SERVICE_PORT defaults), which the built-in mock
 * classifier and Seldon's images follow. */
#define SS_K8S_MODEL_HTTP_PORT 9000
#define SS_K8S_MODEL_METRICS_PORT 6000
/* The gateway's port (data plane issue): predictions and /prometheus. */
#define SS_K8S_GATEWAY_PORT 8000
#define SS_K8S_GATEWAY_NAME "servescale-gateway"
#define SS_K8S_PODMONITOR_NAME "servescale"
/* The Prometheus of the seed (kube-prometheus-stack installed as
 * "seldon-monitoring" in namespace seldon-monitoring), used for KEDA
 * prometheus triggers that name no serverAddress. */
#define SS_K8S_DEFAULT_PROMETHEUS_URL \
  "http://seldon-monitoring-prometheus.seldon-monitoring.svc.cluster.local:9090"
#define SS_K8S_MANAGED_BY "servescale"

struct ss_render_opts {
  const char *gateway_image;  /* required */
  const char *prometheus_url; /* for triggers without serverAddress; required */
};

/* Renders every resource of set (SeldonDeployment, Model, Server) and
 * appends the objects to out, sorted by kind (in the order kubectl should
 * create them), namespace and name. Resources of other kinds are skipped.
 * Fails with SS_EINVALID when a resource has validation errors, SS_ECONFLICT
 * when two objects would share a kind, namespace and name. Borrows set;
 * out gains new references. */
enum ss_err ss_k8s_render(const struct ss_resource_set *set, const struct ss_render_opts *o,
                          json_t *out, struct ss_error *err);

/* The objects one SeldonDeployment (r, decoded without errors) runs on:
 * a Service per predictor, a Deployment per componentSpec container and
 * its HorizontalPodAutoscaler or ScaledObject, appended to objs in that
 * order. The same objects render prints and the SeldonDeployment
 * controller (src/control) stores, so what runs on one machine is what
 * runs on a cluster. prometheus_url fills triggers without serverAddress
 * (NULL leaves them without: servescale's embedded metrics answer them).
 * SS_ENOMEM is the only failure. */
enum ss_err ss_k8s_sdep_objects(const struct ss_resource *r, const char *prometheus_url,
                                json_t *objs);

/* ---- the pure conversions, exposed for tests ---- */

/* The Deployment name of container ci of a componentSpec: its replica set
 * name as servescale (and Seldon's operator) gives it: rs_name for a
 * single-container componentSpec, else rs_name-<container>. */
void ss_k8s_deployment_name(const struct ss_component_spec *c, size_t ci, char *buf,
                            size_t size);

/* spec.replicas of a rendered Deployment: componentSpec > predictor >
 * spec.replicas > 1; -1 when an HPA or a ScaledObject owns the count (the
 * field must then be left out, or every apply would reset the scaler). */
int32_t ss_k8s_replicas(const struct ss_sdep *s, const struct ss_predictor *p,
                        const struct ss_component_spec *c);

/* One autoscaling/v2 MetricSpec (the typed spec already holds the v2
 * meaning of a v2beta1 form). New reference, NULL on out of memory. */
json_t *ss_k8s_metric_v2(const struct ss_metric_spec *m);

/* The autoscaler object of a Deployment: an autoscaling/v2
 * HorizontalPodAutoscaler, a keda.sh/v1alpha1 ScaledObject, or NULL when
 * nothing scales it. Never both: a kedaSpec wins over an hpaSpec, as the
 * model decided. hpa_json and keda_json are the specs as written (the
 * hpaSpec, or the predictor's hpaSpecs entry c->hpa came from; the kedaSpec),
 * for the behavior and KEDA fields carried through. prometheus_url fills missing serverAddress; sdep
 * names the SeldonDeployment for the labels. */
json_t *ss_k8s_autoscaler(const struct ss_component_spec *c, const json_t *hpa_json,
                          const json_t *keda_json, const char *name, const char *ns,
                          const char *prometheus_url, const char *sdep);

#endif
