/* resource.c: stream -> resources: format detection, List expansion, kind
 * dispatch, namespace defaulting and diagnostic positions. */
#include "model/resource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/fields.h"

static const char *const sdep_versions[] = {"v1", "v1alpha2", "v1alpha3", NULL};

const char *ss_resource_name(const struct ss_resource *r) {
  json_t *n = json_object_get(json_object_get(r->obj, "metadata"), "name");
  return json_string_value(n);
}

const char *ss_resource_namespace(const struct ss_resource *r) {
  json_t *n = json_object_get(json_object_get(r->obj, "metadata"), "namespace");
  return json_string_value(n);
}

/* Splits "group/version"; returns whether group matches and which version. */
static bool api_version_is(const char *av, const char *group, const char **version) {
  size_t gl = strlen(group);
  if (strncmp(av, group, gl) != 0 || av[gl] != '/')
    return false;
  *version = av + gl + 1;
  return true;
}

static void resolve_positions(struct ss_resource *r) {
  char full[SS_PATH_MAX + 40];
  for (size_t i = 0; i < r->diags.n; i++) {
    struct ss_diag *dg = &r->diags.v[i];
    struct ss_pos pos;
    if (dg->line)
      continue;
    if (r->base[0])
      snprintf(full, sizeof full, "%s%s%s", r->base, dg->path[0] == '[' || !dg->path[0] ? "" : ".",
               dg->path);
    else
      snprintf(full, sizeof full, "%s", dg->path);
    if (ss_doc_pos(r->doc, full, &pos)) {
      dg->line = pos.line;
      dg->col = pos.col;
    }
  }
}

/* An HorizontalPodAutoscaler (autoscaling/v2) or a ScaledObject
 * (keda.sh/v1alpha1): the spec the autoscaler runs, checked as the API
 * server and KEDA's webhook check it. */
void ss__deployment_decode(struct ss__dec *d, json_t *obj); /* deployment.c */

static void decode_scaler(struct ss__dec *d, json_t *obj, const char *kind, const char *av,
                          struct ss_resource *r) {
  bool hpa = kind[0] == 'H';
  const char *want = hpa ? "autoscaling/v2" : "keda.sh/v1alpha1";
  if (strcmp(av, want) != 0) {
    ss__err(d, "apiVersion", "a %s's apiVersion must be %s, not \"%.100s\"", kind, want, av);
    return;
  }
  r->kind = hpa ? SS_KIND_HPA : SS_KIND_SCALEDOBJECT;
  ss__known_fields(d, obj, (const char *const[]){"apiVersion", "kind", "metadata", "spec",
                                                 "status", NULL});
  json_t *spec = ss__obj(d, obj, "spec", true);
  if (!spec)
    return;
  size_t s = ss_path_key(&d->path, "spec");
  if (hpa) {
    ss__hpa_decode(d, spec, true, &r->u.hpa);
    if (json_is_object(json_object_get(spec, "scaleTargetRef")) && !r->u.hpa.target_kind) {
      size_t s2 = ss_path_key(&d->path, "scaleTargetRef");
      ss__err(d, "kind", "required: the kind of the object to scale (Deployment, "
                         "SeldonDeployment)");
      ss_path_pop(&d->path, s2);
    }
  } else {
    ss__keda_decode(d, spec, true, &r->u.keda);
  }
  ss_path_pop(&d->path, s);
}

enum ss_err ss_resource_decode(json_t *obj, const struct ss_doc *doc, const char *base,
                               const char *default_ns, struct ss_resource *r) {
  memset(r, 0, sizeof *r);
  ss_diags_init(&r->diags);
  r->obj = json_incref(obj);
  r->doc = doc;
  snprintf(r->base, sizeof r->base, "%s", base ? base : "");
  r->kind_name = "";
  if (!(r->arena = ss_arena_new()))
    return SS_ENOMEM;
  struct ss__dec d = {.arena = r->arena, .diags = &r->diags};
  if (!json_is_object(obj)) {
    ss__err(&d, NULL, "a resource must be an object");
    goto out;
  }
  const char *kind = NULL, *av = NULL, *version = NULL;
  ss__str(&d, obj, "kind", true, &kind);
  ss__str(&d, obj, "apiVersion", true, &av);
  if (kind)
    r->kind_name = kind;
  if (!kind || !av)
    goto out;
  json_t *md = json_object_get(obj, "metadata");
  if (default_ns && json_is_object(md) && !json_object_get(md, "namespace"))
    json_object_set_new(md, "namespace", json_string(default_ns));
  if (strcmp(kind, SS_SDEP_KIND) == 0) {
    if (!api_version_is(av, SS_SDEP_GROUP, &version)) {
      ss__err(&d, "apiVersion", "a SeldonDeployment's apiVersion must be %s/v1, v1alpha3 or "
                                "v1alpha2, not \"%.100s\"", SS_SDEP_GROUP, av);
      goto out;
    }
    bool ok = false;
    for (const char *const *v = sdep_versions; *v; v++)
      ok = ok || strcmp(*v, version) == 0;
    if (!ok) {
      ss__err(&d, "apiVersion", "unknown version \"%.100s\" of %s (use v1, v1alpha3 or v1alpha2)",
              version, SS_SDEP_GROUP);
      goto out;
    }
    r->kind = SS_KIND_SDEP;
    ss__known_fields(&d, obj, (const char *const[]){"apiVersion", "kind", "metadata", "spec",
                                                    "status", NULL});
    ss__sdep_decode(&d, obj, &r->u.sdep);
  } else if (strcmp(kind, "Model") == 0 || strcmp(kind, "Server") == 0) {
    if (!api_version_is(av, SS_CORE2_GROUP, &version) || strcmp(version, "v1alpha1") != 0) {
      ss__err(&d, "apiVersion", "a %s's apiVersion must be %s/v1alpha1, not \"%.100s\"", kind,
              SS_CORE2_GROUP, av);
      goto out;
    }
    ss__known_fields(&d, obj, (const char *const[]){"apiVersion", "kind", "metadata", "spec",
                                                    "status", NULL});
    if (kind[0] == 'M') {
      r->kind = SS_KIND_MODEL;
      ss__model_decode(&d, obj, &r->u.model);
    } else {
      r->kind = SS_KIND_SERVER;
      ss__server_decode(&d, obj, &r->u.server);
    }
  } else if (strcmp(kind, "Deployment") == 0 && strcmp(av, "apps/v1") == 0) {
    r->kind = SS_KIND_DEPLOYMENT;
    ss__deployment_decode(&d, obj);
  } else if (strcmp(kind, "HorizontalPodAutoscaler") == 0 || strcmp(kind, "ScaledObject") == 0) {
    decode_scaler(&d, obj, kind, av, r);
  } else {
    r->kind = SS_KIND_OTHER;
    ss__warn(&d, "kind",
             "%s (%s) is not a kind servescale runs (SeldonDeployment, Model, Server); not "
             "validated",
             kind, av);
  }
out:
  resolve_positions(r);
  return r->diags.nomem ? SS_ENOMEM : SS_EOK;
}

void ss_resource_free(struct ss_resource *r) {
  if (!r)
    return;
  json_decref(r->obj);
  ss_arena_free(r->arena);
  ss_diags_free(&r->diags);
  memset(r, 0, sizeof *r);
}

void ss_resources_free(struct ss_resource_set *set) {
  if (!set)
    return;
  for (size_t i = 0; i < set->n; i++)
    ss_resource_free(&set->v[i]);
  free(set->v);
  ss_docs_free(&set->docs);
  memset(set, 0, sizeof *set);
}

static enum ss_err push(struct ss_resource_set *set, json_t *obj, const struct ss_doc *doc,
                        const char *base, const char *ns) {
  struct ss_resource *v = realloc(set->v, (set->n + 1) * sizeof *v);
  if (!v)
    return SS_ENOMEM;
  set->v = v;
  enum ss_err rc = ss_resource_decode(obj, doc, base, ns, &set->v[set->n]);
  set->n++;
  return rc;
}

enum ss_err ss_resources_load(const char *buf, size_t len, const char *default_ns,
                              struct ss_resource_set *out, struct ss_error *err) {
  struct ss_resource_set set = {0};
  enum ss_err rc = ss_docs_parse(buf, len, &set.docs, err);
  if (rc)
    return rc;
  for (size_t i = 0; i < set.docs.n && !rc; i++) {
    struct ss_doc *doc = set.docs.v[i];
    json_t *root = doc->root;
    const char *kind = json_string_value(json_object_get(root, "kind"));
    json_t *items = json_object_get(root, "items");
    if (kind && strlen(kind) >= 4 && strcmp(kind + strlen(kind) - 4, "List") == 0 &&
        json_is_array(items)) {
      /* a v1 List (what "kubectl get -o yaml" prints): its items are the resources */
      size_t j;
      json_t *it;
      json_array_foreach(items, j, it) {
        char base[32];
        snprintf(base, sizeof base, "items[%zu]", j);
        if ((rc = push(&set, it, doc, base, default_ns)))
          break;
      }
    } else {
      rc = push(&set, root, doc, "", default_ns);
    }
  }
  if (rc) {
    ss_error_set(err, rc, 0, 0, "%s", ss_err_msg(rc));
    ss_resources_free(&set);
    return rc;
  }
  *out = set;
  return SS_EOK;
}
