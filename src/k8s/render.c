/* render.c: walks a set of resources, asks workload.c, autoscale.c and
 * core2.c for their objects, and puts them in one stable order: by kind in
 * the order kubectl should create them (a Secret before the pods that
 * mount it, a Deployment before its autoscaler), then namespace, then name.
 * Two objects with the same kind, namespace and name are an error rather
 * than a silent overwrite at apply time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/internal.h"
#include "k8s/k8s.h"

/* Creation order, after Helm's install order for the kinds rendered here;
 * custom resources last, Servers before the Models that load onto them. */
static const char *const kind_order[] = {
    "Secret",       "Service",    "Deployment", "StatefulSet", "HorizontalPodAutoscaler",
    "ScaledObject", "PodMonitor", "Server",     "Model"};

static size_t kind_rank(const json_t *o) {
  const char *k = json_string_value(json_object_get(o, "kind"));
  for (size_t i = 0; k && i < sizeof kind_order / sizeof *kind_order; i++)
    if (strcmp(k, kind_order[i]) == 0)
      return i;
  return sizeof kind_order / sizeof *kind_order;
}

static const char *meta_str(const json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(json_object_get(o, "metadata"), key));
  return s ? s : "";
}

static int cmp_objects(const void *a, const void *b) {
  const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
  size_t rx = kind_rank(x), ry = kind_rank(y);
  if (rx != ry)
    return rx < ry ? -1 : 1;
  int c = strcmp(json_string_value(json_object_get(x, "kind")),
                 json_string_value(json_object_get(y, "kind")));
  if (c)
    return c;
  if ((c = strcmp(meta_str(x, "namespace"), meta_str(y, "namespace"))))
    return c;
  return strcmp(meta_str(x, "name"), meta_str(y, "name"));
}

static enum ss_err add(json_t *objs, json_t *o) {
  return o && json_array_append_new(objs, o) == 0 ? SS_EOK : SS_ENOMEM;
}

/* The hpaSpecs entry c->hpa was resolved from, else the componentSpec's own
 * hpaSpec, as written. */
static const json_t *hpa_json(const struct ss_predictor *p, const json_t *p_json,
                              const struct ss_component_spec *c, const json_t *cs_json) {
  if (c->hpa && p->hpa_specs && c->hpa >= p->hpa_specs && c->hpa < p->hpa_specs + p->n_hpa_specs)
    return json_array_get(json_object_get(p_json, "hpaSpecs"), (size_t)(c->hpa - p->hpa_specs));
  return json_object_get(cs_json, "hpaSpec");
}

enum ss_err ss_k8s_sdep_objects(const struct ss_resource *r, const char *prometheus_url,
                                json_t *objs) {
  const struct ss_sdep *s = &r->u.sdep;
  const char *ns = ss_resource_namespace(r);
  const json_t *preds = json_object_get(json_object_get(r->obj, "spec"), "predictors");
  enum ss_err rc = SS_EOK;
  for (size_t pi = 0; pi < s->n_predictors && !rc; pi++) {
    const struct ss_predictor *p = &s->predictors[pi];
    const json_t *p_json = json_array_get(preds, pi);
    rc = add(objs, ss__k8s_predictor_service(s, p, ns));
    for (size_t ci = 0; ci < p->n_components && !rc; ci++) {
      const struct ss_component_spec *c = &p->components[ci];
      const json_t *cs_json = json_array_get(json_object_get(p_json, "componentSpecs"), ci);
      for (size_t k = 0; k < c->n_containers && !rc; k++) {
        char name[SS_K8S_NAME_MAX + 1];
        ss_k8s_deployment_name(c, k, name, sizeof name);
        rc = add(objs, ss__k8s_deployment(s, p, c, k, cs_json, name, ns));
        if (rc || (!c->hpa && !c->keda))
          continue;
        rc = add(objs, ss_k8s_autoscaler(c, hpa_json(p, p_json, c, cs_json),
                                         json_object_get(cs_json, "kedaSpec"), name, ns,
                                         prometheus_url, s->name));
      }
    }
  }
  return rc;
}

/* The namespaces of the set's SeldonDeployments, each with its list of
 * them (for the gateway), in first-seen order; sorting comes later. */
static enum ss_err per_namespace(const struct ss_resource_set *set, json_t *by_ns) {
  for (size_t i = 0; i < set->n; i++) {
    const struct ss_resource *r = &set->v[i];
    if (r->kind != SS_KIND_SDEP)
      continue;
    const char *ns = ss_resource_namespace(r);
    ns = ns ? ns : "";
    json_t *list = json_object_get(by_ns, ns);
    if (!list) {
      if (json_object_set_new(by_ns, ns, json_array()))
        return SS_ENOMEM;
      list = json_object_get(by_ns, ns);
    }
    if (json_array_append(list, r->obj))
      return SS_ENOMEM;
  }
  return SS_EOK;
}

enum ss_err ss_k8s_render(const struct ss_resource_set *set, const struct ss_render_opts *o,
                          json_t *out, struct ss_error *err) {
  enum ss_err rc = SS_EOK;
  json_t *objs = json_array(), *by_ns = json_object();
  json_t **v = NULL;
  if (!objs || !by_ns) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < set->n; i++) {
    const struct ss_resource *r = &set->v[i];
    if (r->diags.errors) {
      const char *name = ss_resource_name(r);
      rc = ss_error_set(err, SS_EINVALID, 0, 0,
                        "%s \"%s\" has errors: run servescale validate for them",
                        r->kind_name[0] ? r->kind_name : "resource", name ? name : "");
      goto out;
    }
    if (r->kind == SS_KIND_SDEP)
      rc = ss_k8s_sdep_objects(r, o->prometheus_url, objs);
    else if (r->kind == SS_KIND_MODEL || r->kind == SS_KIND_SERVER)
      rc = add(objs, ss__k8s_core2(r));
    if (rc) {
      ss_error_set(err, rc, 0, 0, "out of memory");
      goto out;
    }
  }
  /* One gateway and one PodMonitor per namespace with SeldonDeployments. */
  if ((rc = per_namespace(set, by_ns))) {
    ss_error_set(err, rc, 0, 0, "out of memory");
    goto out;
  }
  const char *ns;
  json_t *list;
  json_object_foreach(by_ns, ns, list) {
    if ((rc = ss__k8s_gateway(ns, o->gateway_image, list, objs)) ||
        (rc = add(objs, ss__k8s_podmonitor(ns)))) {
      ss_error_set(err, rc, 0, 0, "out of memory");
      goto out;
    }
  }
  size_t n = json_array_size(objs);
  if (n && !(v = malloc(n * sizeof *v))) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++)
    v[i] = json_array_get(objs, i);
  if (n)
    qsort(v, n, sizeof *v, cmp_objects);
  for (size_t i = 0; i < n; i++) {
    if (i && cmp_objects(&v[i - 1], &v[i]) == 0) {
      rc = ss_error_set(err, SS_ECONFLICT, 0, 0,
                        "two resources render to %s \"%s\"%s%s: rename one of them",
                        json_string_value(json_object_get(v[i], "kind")), meta_str(v[i], "name"),
                        meta_str(v[i], "namespace")[0] ? " in namespace " : "",
                        meta_str(v[i], "namespace"));
      goto out;
    }
  }
  for (size_t i = 0; i < n; i++)
    if (json_array_append(out, v[i])) {
      rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
      goto out;
    }
out:
  free(v);
  json_decref(objs);
  json_decref(by_ns);
  return rc;
}
