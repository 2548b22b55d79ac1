/* deployment.c: an apps/v1 Deployment checked as the API server checks
 * what servescale runs of it: a selector that matches the template's
 * labels, containers with a name and an image, replicas within range. */
#include <stdio.h>
#include <string.h>

#include "model/fields.h"
#include "model/replicas.h"
#include "model/resource.h"

/* spec.selector.matchLabels must all be in the template's labels (what
 * Kubernetes says as "`selector` does not match template `labels`"). */
static void check_selector(struct ss__dec *d, json_t *spec) {
  json_t *sel = ss__obj(d, spec, "selector", true);
  json_t *tmd = json_object_get(json_object_get(spec, "template"), "metadata");
  json_t *labels = json_object_get(tmd, "labels");
  if (!sel)
    return;
  json_t *ml = json_object_get(sel, "matchLabels");
  if (json_object_size(ml) == 0 && json_array_size(json_object_get(sel, "matchExpressions")) == 0) {
    ss__err(d, "selector", "empty selector is invalid for deployment");
    return;
  }
  const char *k;
  json_t *v;
  json_object_foreach(ml, k, v) {
    const char *have = json_string_value(json_object_get(labels, k));
    if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)) != 0) {
      size_t s = ss_path_key(&d->path, "template");
      ss__err(d, "metadata", "labels: `selector` does not match template `labels` (%.60s)", k);
      ss_path_pop(&d->path, s);
      return;
    }
  }
}

static void check_containers(struct ss__dec *d, json_t *pod) {
  json_t *cs = ss__arr(d, pod, "containers", true);
  if (cs && json_array_size(cs) == 0)
    ss__err(d, "containers", "Required value: at least one container");
  size_t s = ss_path_key(&d->path, "containers");
  size_t i;
  json_t *c;
  json_array_foreach(cs, i, c) {
    size_t s2 = ss_path_index(&d->path, i);
    const char *name = NULL, *image = NULL;
    if (!json_is_object(c))
      ss__err(d, NULL, "a container must be an object");
    else {
      ss__str(d, c, "name", true, &name);
      ss__str(d, c, "image", true, &image);
    }
    ss_path_pop(&d->path, s2);
  }
  ss_path_pop(&d->path, s);
}

void ss__deployment_decode(struct ss__dec *d, json_t *obj) {
  ss__known_fields(d, obj, (const char *const[]){"apiVersion", "kind", "metadata", "spec",
                                                 "status", NULL});
  json_t *spec = ss__obj(d, obj, "spec", true);
  if (!spec)
    return;
  size_t s = ss_path_key(&d->path, "spec");
  int32_t replicas;
  if (ss__int32(d, spec, "replicas", false, &replicas)) {
    if (replicas < 0)
      ss__err(d, "replicas", "must be greater than or equal to 0");
    else
      ss__replicas_within_limit(d, "replicas", replicas);
  }
  json_t *tmpl = ss__obj(d, spec, "template", true);
  if (tmpl) {
    size_t s2 = ss_path_key(&d->path, "template");
    json_t *pod = ss__obj(d, tmpl, "spec", true);
    if (pod) {
      size_t s3 = ss_path_key(&d->path, "spec");
      check_containers(d, pod);
      ss_path_pop(&d->path, s3);
    }
    ss_path_pop(&d->path, s2);
  }
  check_selector(d, spec);
  ss_path_pop(&d->path, s);
}
