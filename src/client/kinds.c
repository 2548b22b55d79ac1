/* kinds.c: the kinds the client knows, as one table (name forms, group,
 * version, scope), and the REST paths built from them. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "client/internal.h"

/* The version each kind is spoken in; the API also serves SeldonDeployment
 * as v1alpha2 and v1alpha3 (accepted by ss_client_kind_of). */
static const struct ss_client_kind kinds[] = {
    {"SeldonDeployment", "machinelearning.seldon.io", "v1", "seldondeployments", "seldondeployment",
     "sdep", true, true},
    {"Model", "mlops.seldon.io", "v1alpha1", "models", "model", "mlm", true, true},
    {"Server", "mlops.seldon.io", "v1alpha1", "servers", "server", "mls", true, true},
    {"Namespace", "", "v1", "namespaces", "namespace", "ns", false, false},
    {"Event", "", "v1", "events", "event", "ev", true, false},
    {"Pod", "", "v1", "pods", "pod", "po", true, false},
    {"HorizontalPodAutoscaler", "autoscaling", "v2", "horizontalpodautoscalers",
     "horizontalpodautoscaler", "hpa", true, false},
    {"ScaledObject", "keda.sh", "v1alpha1", "scaledobjects", "scaledobject", "so", true, false},
    {"Deployment", "apps", "v1", "deployments", "deployment", "deploy", true, true},
    {"PodMonitor", "monitoring.coreos.com", "v1", "podmonitors", "podmonitor", "pmon", true,
     false},
    {"ServiceMonitor", "monitoring.coreos.com", "v1", "servicemonitors", "servicemonitor", "smon",
     true, false},
};

const struct ss_client_kind *ss_client_kind_find(const char *word) {
  if (!word || !*word)
    return NULL;
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
    const struct ss_client_kind *k = &kinds[i];
    if (strcasecmp(word, k->plural) == 0 || strcasecmp(word, k->singular) == 0 ||
        strcasecmp(word, k->short_name) == 0 || strcasecmp(word, k->kind) == 0)
      return k;
    /* "seldondeployments.machinelearning.seldon.io" and the singular form */
    size_t pl = strlen(k->plural), sl = strlen(k->singular);
    if (*k->group &&
        ((strncasecmp(word, k->plural, pl) == 0 && word[pl] == '.' &&
          strcasecmp(word + pl + 1, k->group) == 0) ||
         (strncasecmp(word, k->singular, sl) == 0 && word[sl] == '.' &&
          strcasecmp(word + sl + 1, k->group) == 0)))
      return k;
  }
  return NULL;
}

const struct ss_client_kind *ss_client_kind_of(const json_t *obj) {
  const char *av = json_string_value(json_object_get(obj, "apiVersion"));
  const char *kind = json_string_value(json_object_get(obj, "kind"));
  if (!av || !kind)
    return NULL;
  const char *slash = strrchr(av, '/');
  size_t gl = slash ? (size_t)(slash - av) : 0;
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
    const struct ss_client_kind *k = &kinds[i];
    if (strcmp(k->kind, kind) == 0 && strlen(k->group) == gl && strncmp(av, k->group, gl) == 0)
      return k;
  }
  return NULL;
}

const char *ss_client_kind_label(const struct ss_client_kind *k, char *buf, size_t size) {
  snprintf(buf, size, "%s%s%s", k->singular, *k->group ? "." : "", k->group);
  return buf;
}

bool ss_client_path(const struct ss_client_kind *k, const char *ns, const char *name,
                    const char *sub, char *buf, size_t size) {
  int n;
  char base[256];
  if (*k->group)
    snprintf(base, sizeof base, "/apis/%s/%s", k->group, k->version);
  else
    snprintf(base, sizeof base, "/api/%s", k->version);
  if (k->namespaced && ns && *ns)
    n = snprintf(buf, size, "%s/namespaces/%s/%s", base, ns, k->plural);
  else
    n = snprintf(buf, size, "%s/%s", base, k->plural);
  if (n < 0 || (size_t)n >= size)
    return false;
  if (name) {
    /* a name with '/' or '?' would address something else */
    if (!*name || strpbrk(name, "/?#%"))
      return false;
    n += snprintf(buf + n, size - (size_t)n, "/%s", name);
    if ((size_t)n >= size)
      return false;
    if (sub) {
      n += snprintf(buf + n, size - (size_t)n, "/%s", sub);
      if ((size_t)n >= size)
        return false;
    }
  }
  return true;
}
