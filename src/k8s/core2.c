/* core2.c: Seldon Core 2's Model and Server on a cluster. They stay what
 * they are, mlops.seldon.io/v1alpha1 objects, because on a cluster Core 2's
 * own operator and scheduler do what servescale does locally (a Server's
 * StatefulSet with its agent, loading Models onto it, scaling both); a
 * StatefulSet rendered here could not load a Model without them. What
 * servescale adds is only the defaults it applied (replicas), made explicit,
 * and its managed-by label. docs/kubernetes.md says so too. */
#include <string.h>

#include "k8s/internal.h"
#include "k8s/k8s.h"
#include "model/resource.h"

/* The metadata fields a user writes; the rest (uid, resourceVersion,
 * managedFields, ...) belongs to the server that stored it. */
static const char *const kept_meta[] = {"name", "namespace", "labels", "annotations"};

json_t *ss__k8s_core2(const struct ss_resource *r) {
  json_t *obj = json_object();
  const json_t *meta = json_object_get(r->obj, "metadata");
  json_t *m = json_object();
  const char *k;
  json_t *v;
  json_object_foreach(r->obj, k, v) {
    if (strcmp(k, "status") != 0 && strcmp(k, "metadata") != 0)
      json_object_set_new(obj, k, json_deep_copy(v));
    else if (strcmp(k, "metadata") == 0)
      json_object_set(obj, k, m);
  }
  for (size_t i = 0; i < sizeof kept_meta / sizeof *kept_meta; i++) {
    const json_t *f = json_object_get(meta, kept_meta[i]);
    if (f)
      json_object_set_new(m, kept_meta[i], json_deep_copy(f));
  }
  json_t *labels = json_object_get(m, "labels");
  if (!json_is_object(labels)) {
    json_object_set_new(m, "labels", json_object());
    labels = json_object_get(m, "labels");
  }
  json_object_set_new(labels, "app.kubernetes.io/managed-by", json_string(SS_K8S_MANAGED_BY));
  json_decref(m);
  return obj;
}
