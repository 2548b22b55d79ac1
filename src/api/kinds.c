/* kinds.c: the table of served kinds. */
#include "api/kinds.h"

#include <string.h>

const struct ss_api_kind ss_api_kinds[] = {
    {.group = "machinelearning.seldon.io",
     .versions = {"v1", "v1alpha3", "v1alpha2"},
     .plural = "seldondeployments",
     .singular = "seldondeployment",
     .kind = "SeldonDeployment",
     .list_kind = "SeldonDeploymentList",
     .short_names = {"sdep"},
     .namespaced = true,
     .has_status = true,
     .has_scale = true,
     .writable = true,
     .validated = true},
    {.group = "mlops.seldon.io",
     .versions = {"v1alpha1"},
     .plural = "models",
     .singular = "model",
     .kind = "Model",
     .list_kind = "ModelList",
     .short_names = {"mlm"},
     .namespaced = true,
     .has_status = true,
     .has_scale = true,
     .writable = true,
     .validated = true},
    {.group = "mlops.seldon.io",
     .versions = {"v1alpha1"},
     .plural = "servers",
     .singular = "server",
     .kind = "Server",
     .list_kind = "ServerList",
     .short_names = {"mls"},
     .namespaced = true,
     .has_status = true,
     .has_scale = true,
     .writable = true,
     .validated = true},
    {.group = "",
     .versions = {"v1"},
     .plural = "namespaces",
     .singular = "namespace",
     .kind = "Namespace",
     .list_kind = "NamespaceList",
     .short_names = {"ns"},
     .namespaced = false,
     .has_status = true,
     .writable = true},
    {.group = "",
     .versions = {"v1"},
     .plural = "events",
     .singular = "event",
     .kind = "Event",
     .list_kind = "EventList",
     .short_names = {"ev"},
     .namespaced = true},
    /* Autoscalers: the SeldonDeployment controller's (src/control/scalers.c)
     * and the users' own, aimed at anything with a /scale; their status is
     * the HPA and KEDA controllers' (src/autoscale/loop.c). */
    {.group = "autoscaling",
     .versions = {"v2"},
     .plural = "horizontalpodautoscalers",
     .singular = "horizontalpodautoscaler",
     .kind = "HorizontalPodAutoscaler",
     .list_kind = "HorizontalPodAutoscalerList",
     .short_names = {"hpa"},
     .namespaced = true,
     .has_status = true,
     .writable = true,
     .validated = true,
     .in_all = true},
    {.group = "keda.sh",
     .versions = {"v1alpha1"},
     .plural = "scaledobjects",
     .singular = "scaledobject",
     .kind = "ScaledObject",
     .list_kind = "ScaledObjectList",
     .short_names = {"so"},
     .namespaced = true,
     .has_status = true,
     .writable = true,
     .validated = true},
    /* The SeldonDeployment controller's Deployments (src/control/deployments.c),
     * one per componentSpec container, as Seldon's operator creates them,
     * and users' own (src/control/workloads.c runs them). */
    {.group = "apps",
     .versions = {"v1"},
     .plural = "deployments",
     .singular = "deployment",
     .kind = "Deployment",
     .list_kind = "DeploymentList",
     .short_names = {"deploy"},
     .namespaced = true,
     .has_status = true,
     .has_scale = true,
     .writable = true,
     .validated = true,
     .in_all = true},
    /* The Prometheus operator's scrape objects (the seed applies a
     * PodMonitor): stored as written; `servescale prometheus-config` reads
     * them as the operator does on a cluster. */
    {.group = "monitoring.coreos.com",
     .versions = {"v1"},
     .plural = "podmonitors",
     .singular = "podmonitor",
     .kind = "PodMonitor",
     .list_kind = "PodMonitorList",
     .short_names = {"pmon"},
     .namespaced = true,
     .writable = true},
    {.group = "monitoring.coreos.com",
     .versions = {"v1"},
     .plural = "servicemonitors",
     .singular = "servicemonitor",
     .kind = "ServiceMonitor",
     .list_kind = "ServiceMonitorList",
     .short_names = {"smon"},
     .namespaced = true,
     .writable = true},
    {.group = "",
     .versions = {"v1"},
     .plural = "pods",
     .singular = "pod",
     .kind = "Pod",
     .list_kind = "PodList",
     .short_names = {"po"},
     .namespaced = true,
     .in_all = true,
     .source = SS_SRC_PODS},
};

const size_t ss_api_n_kinds = sizeof ss_api_kinds / sizeof ss_api_kinds[0];

const struct ss_api_kind *ss_api_kind_find(const char *group, const char *plural) {
  for (size_t i = 0; i < ss_api_n_kinds; i++)
    if (strcmp(ss_api_kinds[i].group, group) == 0 && strcmp(ss_api_kinds[i].plural, plural) == 0)
      return &ss_api_kinds[i];
  return NULL;
}

bool ss_api_kind_has_version(const struct ss_api_kind *k, const char *v) {
  for (int i = 0; k->versions[i]; i++)
    if (strcmp(k->versions[i], v) == 0)
      return true;
  return false;
}
