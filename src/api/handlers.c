/* handlers.c: routing and the verbs on resources: get, list (with label and
 * field selectors, and as a Table), watch, create, update, patch, delete,
 * and the status and scale subresources, with Kubernetes' status codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/apply.h"
#include "api/hpa_v1.h"
#include "api/internal.h"
#include "api/patch.h"
#include "api/protobuf.h"
#include "api/selector.h"
#include "common/clock.h"
#include "model/doc.h"
#include "model/names.h"
#include "model/quantity.h"
#include "model/replicas.h"
#include "model/resource.h"

#define SS_API_PATCH_RETRIES 5

struct route {
  const struct ss_api_kind *kind;
  char version[256];
  char ns[256];          /* "" when not in a namespace */
  char name[256];        /* "" for the collection */
  char sub[256];         /* "", "status", "scale", "log" */
};

static const char *group_label(const struct ss_api_kind *k, char *buf, size_t size) {
  /* "seldondeployments.machinelearning.seldon.io", or "pods" for core */
  snprintf(buf, size, "%s%s%s", k->plural, *k->group ? "." : "", k->group);
  return buf;
}

static void not_found(struct ss_api_resp *resp, const struct route *r) {
  char g[300];
  ss__api_status(resp, 404, "NotFound", "%s \"%s\" not found",
                 group_label(r->kind, g, sizeof g), r->name);
  json_object_set_new(resp->body, "details",
                      json_pack("{s:s, s:s, s:s}", "name", r->name, "group", r->kind->group,
                                "kind", r->kind->plural));
}

static void store_error(struct ss_api_resp *resp, const struct route *r, enum ss_err rc,
                        const struct ss_error *err, const char *name) {
  char g[300];
  group_label(r->kind, g, sizeof g);
  switch (rc) {
  case SS_ENOTFOUND:
    ss__api_status(resp, 404, "NotFound", "%s \"%s\" not found", g, name);
    break;
  case SS_EEXISTS:
    ss__api_status(resp, 409, "AlreadyExists", "%s \"%s\" already exists", g, name);
    break;
  case SS_ECONFLICT:
    ss__api_status(resp, 409, "Conflict",
                   "Operation cannot be fulfilled on %s \"%s\": the object has been modified; "
                   "please apply your changes to the latest version and try again",
                   g, name);
    break;
  case SS_EGONE:
    ss__api_status(resp, 410, "Expired", "too old resource version: %s", err->msg);
    break;
  default:
    ss__api_status(resp, 500, "InternalError", "%s", err->msg[0] ? err->msg : ss_err_msg(rc));
    return;
  }
  json_object_set_new(resp->body, "details",
                      json_pack("{s:s, s:s, s:s}", "name", name, "group", r->kind->group,
                                "kind", r->kind->plural));
}

/* ---- routing ---- */

int ss__api_split(const char *path, char segs[][SS_API_SEG_MAX], int max) {
  int n = 0;
  const char *p = path;
  while (*p == '/')
    p++;
  while (*p && n < max) {
    const char *e = strchr(p, '/');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l >= SS_API_SEG_MAX)
      return -1;
    memcpy(segs[n], p, l);
    segs[n][l] = '\0';
    n++;
    p = e ? e + 1 : p + l;
    while (*p == '/')
      p++;
  }
  return *p ? -1 : n;
}

/* Parses a resource path; false when it is not one. */
static bool route(const char *path, struct route *r) {
  char segs[10][SS_API_SEG_MAX];
  int n = ss__api_split(path, segs, 10);
  int i;
  const char *group;
  memset(r, 0, sizeof *r);
  if (n >= 3 && strcmp(segs[0], "api") == 0 && strcmp(segs[1], "v1") == 0) {
    group = "";
    snprintf(r->version, sizeof r->version, "v1");
    i = 2;
  } else if (n >= 4 && strcmp(segs[0], "apis") == 0) {
    group = segs[1];
    snprintf(r->version, sizeof r->version, "%s", segs[2]);
    i = 3;
  } else {
    return false;
  }
  int rest = n - i;
  if (strcmp(segs[i], "namespaces") == 0 && rest >= 3 && strcmp(segs[i + 2], "status") != 0 &&
      strcmp(segs[i + 2], "finalize") != 0) {
    snprintf(r->ns, sizeof r->ns, "%s", segs[i + 1]);
    i += 2;
    rest -= 2;
  }
  if (rest < 1 || rest > 3)
    return false;
  r->kind = ss_api_kind_find(group, segs[i]);
  if (!r->kind || !ss_api_kind_has_version(r->kind, r->version))
    return false;
  if (rest >= 2)
    snprintf(r->name, sizeof r->name, "%s", segs[i + 1]);
  if (rest == 3)
    snprintf(r->sub, sizeof r->sub, "%s", segs[i + 2]);
  if (r->kind->namespaced == false && r->ns[0])
    return false;
  return true;
}

void ss__api_set_version(json_t *obj, const struct ss_api_kind *k, const char *version) {
  char av[128];
  snprintf(av, sizeof av, "%s%s%s", k->group, *k->group ? "/" : "", version);
  json_object_set_new(obj, "apiVersion", json_string(av));
  json_object_set_new(obj, "kind", json_string(k->kind));
}

static struct ss_kind_ref ref_of(const struct ss_api_kind *k) {
  return (struct ss_kind_ref){k->group, k->plural};
}

/* ---- reading ---- */

static json_t *fetch_items(struct ss_api *api, const struct route *r, uint64_t *rv,
                           struct ss_error *err, enum ss_err *rc) {
  json_t *items = NULL;
  const char *ns = r->ns[0] ? r->ns : NULL;
  *rc = SS_EOK;
  if (r->kind->source == SS_SRC_PODS) {
    items = api->cfg.hooks.pods ? api->cfg.hooks.pods(api->cfg.hooks.ctx, ns) : json_array();
    *rv = ss_store_rv(api->cfg.store);
  } else {
    *rc = ss_store_list(api->cfg.store, ref_of(r->kind), r->kind->namespaced ? ns : NULL, &items,
                        rv, err);
  }
  return items;
}

static bool parse_selectors(const struct ss_api_req *req, struct ss_api_resp *resp,
                            struct ss_selector **label, struct ss_selector **field) {
  struct ss_error err = {0};
  *label = *field = NULL;
  if (ss_selector_parse(req->q_label, true, label, &err) ||
      ss_selector_parse(req->q_field, false, field, &err)) {
    ss_selector_free(*label);
    *label = NULL;
    ss__api_status(resp, 400, "BadRequest", "%s", err.msg);
    return false;
  }
  return true;
}

static void do_list(struct ss_api *api, const struct ss_api_req *req, const struct route *r,
                    struct ss_api_resp *resp) {
  struct ss_selector *label, *field;
  struct ss_error err = {0};
  enum ss_err rc;
  uint64_t rv = 0;
  bool watch, bookmarks;
  if (!ss__api_query_bool("watch", req->q_watch, &watch, resp) ||
      !ss__api_query_bool("allowWatchBookmarks", req->q_bookmarks, &bookmarks, resp))
    return;
  if (!parse_selectors(req, resp, &label, &field))
    return;
  if (watch) {
    /* Kubernetes: resourceVersion "" or "0" starts with the current objects
     * as ADDED events; a number resumes after it. */
    uint64_t from = 0;
    bool initial = !req->q_rv || !*req->q_rv || strcmp(req->q_rv, "0") == 0;
    if (!initial) {
      char *end;
      from = strtoull(req->q_rv, &end, 10);
      if (*end) {
        ss__api_status(resp, 400, "BadRequest", "invalid resourceVersion \"%s\"", req->q_rv);
        goto out;
      }
    }
    json_t *items = NULL;
    if (initial) {
      items = fetch_items(api, r, &from, &err, &rc);
      if (rc) {
        store_error(resp, r, rc, &err, "");
        goto out;
      }
    }
    if (r->kind->source == SS_SRC_PODS) {
      /* pods are the runtime's: polled and compared (server.c); what was
       * listed before the watch is what it compares with first */
      json_t *seen = json_object();
      json_t *now = items ? json_incref(items) : fetch_items(api, r, &from, &err, &rc);
      size_t i;
      json_t *it;
      json_array_foreach(now, i, it) json_object_set(
          seen, json_string_value(json_object_get(json_object_get(it, "metadata"), "name")), it);
      json_decref(now);
      resp->watch_poll = true;
      resp->watch_seen = seen;
      snprintf(resp->watch_ns, sizeof resp->watch_ns, "%s", r->ns);
    } else {
      rc = ss_store_watch(api->cfg.store, ref_of(r->kind), r->ns[0] ? r->ns : NULL, from,
                          &resp->watch, &err);
      if (rc) {
        json_decref(items);
        if (rc == SS_EGONE)
          ss__api_status(resp, 410, "Expired", "too old resource version: %s (%llu)", req->q_rv,
                         (unsigned long long)ss_store_rv(api->cfg.store));
        else
          store_error(resp, r, rc, &err, "");
        goto out;
      }
    }
    resp->code = 200;
    resp->watch_kind = r->kind;
    snprintf(resp->watch_version, sizeof resp->watch_version, "%s", r->version);
    resp->watch_label = label;
    resp->watch_field = field;
    label = field = NULL;
    resp->watch_bookmarks = bookmarks;
    resp->watch_table = ss__api_wants_table(req);
    resp->watch_timeout_s = req->q_timeout ? atoi(req->q_timeout) : 0;
    resp->watch_initial = items;
    goto out;
  }
  json_t *items = fetch_items(api, r, &rv, &err, &rc);
  if (rc) {
    store_error(resp, r, rc, &err, "");
    goto out;
  }
  json_t *kept = json_array();
  size_t i;
  json_t *it;
  json_array_foreach(items, i, it) {
    if (!ss_selector_matches(label, it) || !ss_selector_matches(field, it))
      continue;
    ss__api_set_version(it, r->kind, r->version);
    json_array_append(kept, it);
  }
  json_decref(items);
  char rvs[32];
  snprintf(rvs, sizeof rvs, "%llu", (unsigned long long)rv);
  if (ss__api_wants_table(req)) {
    resp->body = ss__api_table(r->kind, kept, rvs);
  } else {
    char av[128];
    snprintf(av, sizeof av, "%s%s%s", r->kind->group, *r->kind->group ? "/" : "", r->version);
    resp->body = json_pack("{s:s, s:s, s:{s:s}, s:o}", "apiVersion", av, "kind",
                           r->kind->list_kind, "metadata", "resourceVersion", rvs, "items",
                           kept);
  }
  resp->code = 200;
out:
  ss_selector_free(label);
  ss_selector_free(field);
}

static json_t *get_object(struct ss_api *api, const struct route *r, struct ss_api_resp *resp) {
  json_t *obj = NULL;
  struct ss_error err = {0};
  if (r->kind->source == SS_SRC_PODS) {
    json_t *items = api->cfg.hooks.pods ? api->cfg.hooks.pods(api->cfg.hooks.ctx, r->ns) : NULL;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
      const char *n = json_string_value(json_object_get(json_object_get(it, "metadata"), "name"));
      if (n && strcmp(n, r->name) == 0)
        obj = json_incref(it);
    }
    json_decref(items);
    if (!obj)
      not_found(resp, r);
    return obj;
  }
  enum ss_err rc = ss_store_get(api->cfg.store, ref_of(r->kind), r->ns, r->name, &obj, &err);
  if (rc) {
    store_error(resp, r, rc, &err, r->name);
    return NULL;
  }
  return obj;
}

/* ---- writing ---- */

/* DELETE of a pod: as on a cluster, its Deployment replaces it; the answer
 * is the pod as it was. */
static void do_delete_pod(struct ss_api *api, const struct route *r, struct ss_api_resp *resp) {
  json_t *pod = get_object(api, r, resp);
  if (!pod)
    return;
  if (!api->cfg.hooks.delete_pod ||
      api->cfg.hooks.delete_pod(api->cfg.hooks.ctx, r->ns, r->name) != 0) {
    json_decref(pod);
    not_found(resp, r);
    return;
  }
  ss__api_set_version(pod, r->kind, r->version);
  resp->code = 200;
  resp->body = pod;
  if (api->cfg.hooks.changed)
    api->cfg.hooks.changed(api->cfg.hooks.ctx);
}

/* Reads the request body (JSON or YAML, one document; or protobuf). */
static json_t *read_body(const struct ss_api_req *req, struct ss_api_resp *resp) {
  struct ss_docs docs = {0};
  struct ss_error err = {0};
  if (!req->body || req->body_len == 0) {
    ss__api_status(resp, 400, "BadRequest", "the request has no body");
    return NULL;
  }
  if (ss_api_pb_is_protobuf(req->content_type)) /* kubectl's built-in kinds */
    return ss__api_pb_body(req->body, req->body_len, resp);
  if (ss_docs_parse(req->body, req->body_len, &docs, &err)) {
    /* only size is 413; the other limits (depth, values, a long literal)
     * make a small body undecodable: 400 */
    if (err.code == SS_ELIMIT && req->body_len > SS_DOC_MAX_BYTES)
      ss__api_status(resp, 413, "RequestEntityTooLarge", "%s", err.msg);
    else if (err.line)
      ss__api_status(resp, 400, "BadRequest", "the body could not be decoded: line %u column %u: %s",
                     err.line, err.col, err.msg);
    else
      ss__api_status(resp, 400, "BadRequest", "the body could not be decoded: %s", err.msg);
    return NULL;
  }
  if (docs.n != 1 || !json_is_object(docs.v[0]->root)) {
    ss__api_status(resp, 400, "BadRequest", "the body must be exactly one object");
    ss_docs_free(&docs);
    return NULL;
  }
  json_t *obj = json_incref(docs.v[0]->root);
  ss_docs_free(&docs);
  return obj;
}

static bool dry_run(const struct ss_api_req *req) {
  return req->q_dryrun && strcmp(req->q_dryrun, "All") == 0;
}

/* ---- managed fields (apply.h) ---- */

/* 422 for a request option, as the API server validates them
 * ("PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: ..."). */
static void options_invalid(struct ss_api_resp *resp, const char *opts, const char *field,
                            const char *reason, const char *msg) {
  ss__api_status(resp, 422, "Invalid", "%s.meta.k8s.io \"\" is invalid: %s: %s", opts, field, msg);
  json_object_set_new(resp->body, "details",
                      json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:s}]}", "name", "", "group",
                                "meta.k8s.io", "kind", opts, "causes", "reason", reason,
                                "message", msg, "field", field));
}

/* The write's field manager into buf: fieldManager, else the User-Agent's
 * (apply: required); false with the answer set when refused. */
static bool field_manager(const struct ss_api_req *req, const char *opts, bool apply, char *buf,
                          size_t size, struct ss_api_resp *resp) {
  char why[256];
  const char *fm = req->q_field_manager && *req->q_field_manager ? req->q_field_manager : NULL;
  if (apply && !fm) {
    options_invalid(resp, opts, "fieldManager", "FieldValueRequired",
                    "Required value: is required for apply patch");
    return false;
  }
  if (fm && ss_apply_check_manager(fm, why, sizeof why)) {
    options_invalid(resp, opts, "fieldManager", "FieldValueInvalid", why);
    return false;
  }
  if (fm)
    snprintf(buf, size, "%s", fm);
  else
    ss_apply_default_manager(req->user_agent, buf, size);
  return true;
}

static const char *group_version(const struct route *r, char *buf, size_t size) {
  snprintf(buf, size, "%s%s%s", r->kind->group, *r->kind->group ? "/" : "", r->version);
  return buf;
}

/* Records an ordinary write of next (over live, NULL for a create) as an
 * Update of manager in next's managedFields. */
static void track(const struct route *r, const json_t *live, json_t *next, const char *manager,
                  const char *sub) {
  char now[32], gv[128];
  ss_rfc3339_now(now, sizeof now);
  struct ss_apply_op op = {.manager = manager, .api_version = group_version(r, gv, sizeof gv),
                           .subresource = sub, .now = now, .reset_status = r->kind->has_status};
  ss_apply_record_update(live, next, &op);
}

/* An HPA's metric targets written as numbers ("averageValue: 3" in YAML)
 * become quantity strings, as the API server stores every
 * resource.Quantity: readers (the printer's "3/5 (avg)", clients'
 * Quantity types) see the text they see on a cluster. */
static void hpa_quantities_as_strings(const struct route *r, json_t *obj) {
  if (strcmp(r->kind->plural, "horizontalpodautoscalers") != 0)
    return;
  static const char *const sources[] = {"resource", "containerResource", "pods", "object",
                                        "external"};
  static const char *const keys[] = {"value", "averageValue"};
  size_t i;
  json_t *m;
  json_array_foreach(json_object_get(json_object_get(obj, "spec"), "metrics"), i, m) {
    for (size_t s = 0; s < sizeof sources / sizeof *sources; s++) {
      json_t *target = json_object_get(json_object_get(m, sources[s]), "target");
      for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        json_t *v = json_object_get(target, keys[k]);
        struct ss_quantity q;
        char text[32];
        if (json_is_number(v) && ss_quantity_from_json(v, &q, NULL)) {
          ss_quantity_format(q, text, sizeof text);
          json_object_set_new(target, keys[k], json_string(text));
        }
      }
    }
  }
}

/* Checks apiVersion, kind, name and namespace of a body against the path,
 * fills what is missing, and validates. True when it may be stored. */
static bool admit(struct ss_api *api, const struct ss_api_req *req, const struct route *r,
                  json_t *obj, const char *name, struct ss_api_resp *resp) {
  (void)api;
  const char *av = json_string_value(json_object_get(obj, "apiVersion"));
  const char *kind = json_string_value(json_object_get(obj, "kind"));
  char want[128];
  snprintf(want, sizeof want, "%s%s%s", r->kind->group, *r->kind->group ? "/" : "", r->version);
  if (kind && strcmp(kind, r->kind->kind) != 0) {
    ss__api_status(resp, 400, "BadRequest",
                   "the kind in the body (%s) does not match the path's (%s)", kind,
                   r->kind->kind);
    return false;
  }
  if (av) {
    const char *slash = strrchr(av, '/');
    size_t gl = slash ? (size_t)(slash - av) : 0;
    const char *ver = slash ? slash + 1 : av;
    if (strlen(r->kind->group) != gl || strncmp(av, r->kind->group, gl) != 0 ||
        !ss_api_kind_has_version(r->kind, ver)) {
      ss__api_status(resp, 400, "BadRequest",
                     "the API version in the data (%s) does not match the expected API version (%s)",
                     av, want);
      return false;
    }
  }
  ss__api_set_version(obj, r->kind, r->kind->versions[0]);
  json_t *md = json_object_get(obj, "metadata");
  if (!json_is_object(md)) {
    md = json_object();
    json_object_set_new(obj, "metadata", md);
  }
  const char *bname = json_string_value(json_object_get(md, "name"));
  if (name && bname && strcmp(name, bname) != 0) {
    ss__api_status(resp, 400, "BadRequest",
                   "the name of the object (%s) does not match the name on the URL (%s)", bname,
                   name);
    return false;
  }
  if (name && !bname)
    json_object_set_new(md, "name", json_string(name));
  if (r->kind->namespaced) {
    const char *bns = json_string_value(json_object_get(md, "namespace"));
    if (bns && strcmp(bns, r->ns) != 0) {
      ss__api_status(resp, 400, "BadRequest",
                     "the namespace of the provided object does not match the namespace sent on "
                     "the request");
      return false;
    }
    json_object_set_new(md, "namespace", json_string(r->ns));
  } else {
    json_object_del(md, "namespace");
  }
  bname = json_string_value(json_object_get(md, "name"));
  if (!bname && !json_is_string(json_object_get(md, "generateName"))) {
    ss__api_status(resp, 422, "Invalid", "%s.%s \"\" is invalid: metadata.name: Required value: name or generateName is required",
                   r->kind->kind, r->kind->group);
    return false;
  }
  if (!r->kind->validated) {
    const char *why = bname ? ss_dns1123_label(bname) : NULL;
    if (why) {
      ss__api_status(resp, 422, "Invalid", "%s \"%s\" is invalid: metadata.name: Invalid value: %s",
                     r->kind->kind, bname, why);
      return false;
    }
    return true;
  }
  struct ss_resource res;
  if (ss_resource_decode(obj, NULL, "", NULL, &res)) {
    ss_resource_free(&res);
    ss__api_status(resp, 500, "InternalError", "out of memory");
    return false;
  }
  bool strict = req->q_field_validation && strcmp(req->q_field_validation, "Strict") == 0;
  bool ignore = req->q_field_validation && strcmp(req->q_field_validation, "Ignore") == 0;
  json_t *causes = json_array();
  char summary[1536] = "";
  for (size_t i = 0; i < res.diags.n; i++) {
    const struct ss_diag *d = &res.diags.v[i];
    bool unknown = d->sev == SS_SEV_WARNING && strncmp(d->msg, "unknown field", 13) == 0;
    if (d->sev == SS_SEV_ERROR || (strict && unknown)) {
      json_array_append_new(causes, json_pack("{s:s, s:s, s:s}", "reason",
                                              unknown ? "FieldValueInvalid" : "FieldValueInvalid",
                                              "message", d->msg, "field", d->path));
      size_t l = strlen(summary);
      snprintf(summary + l, sizeof summary - l, "%s%s: %s", l ? ", " : "", d->path, d->msg);
    } else if (!ignore) {
      ss__api_add_warning(resp, "%s: %s", d->path, d->msg);
    }
  }
  ss_resource_free(&res);
  if (json_array_size(causes)) {
    ss__api_status(resp, 422, "Invalid", "%s.%s \"%s\" is invalid: [%s]", r->kind->kind,
                   r->kind->group, bname ? bname : "", summary);
    json_object_set_new(resp->body, "details",
                        json_pack("{s:s, s:s, s:s, s:o}", "name", bname ? bname : "", "group",
                                  r->kind->group, "kind", r->kind->kind, "causes", causes));
    return false;
  }
  json_decref(causes);
  hpa_quantities_as_strings(r, obj);
  return true;
}

static void changed(struct ss_api *api) {
  if (api->cfg.hooks.changed)
    api->cfg.hooks.changed(api->cfg.hooks.ctx);
}

/* Namespaces come into being when first used (a local convenience: a
 * cluster would answer NotFound). */
static void ensure_namespace(struct ss_api *api, const char *ns) {
  json_t *obj = NULL;
  struct ss_kind_ref k = {"", "namespaces"};
  if (!ns || !*ns || ss_store_get(api->cfg.store, k, "", ns, &obj, NULL) == SS_EOK) {
    json_decref(obj);
    return;
  }
  json_t *n = json_pack("{s:s, s:s, s:{s:s}, s:{}, s:{s:s}}", "apiVersion", "v1", "kind",
                        "Namespace", "metadata", "name", ns, "spec", "status", "phase", "Active");
  ss_store_create(api->cfg.store, k, n, NULL, NULL);
  json_decref(n);
}

/* Stores obj (admitted; borrowed) as a new object: 201, or the store's
 * error (SS_EEXISTS when the name is taken). */
static enum ss_err create_object(struct ss_api *api, const struct ss_api_req *req,
                                 const struct route *r, json_t *obj, struct ss_api_resp *resp) {
  struct ss_error err = {0};
  json_t *stored = NULL;
  if (r->kind->has_status && strcmp(r->kind->plural, "namespaces") != 0)
    json_object_del(obj, "status"); /* status is the status subresource's */
  if (strcmp(r->kind->plural, "namespaces") == 0)
    json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Active"));
  const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
  if (dry_run(req)) {
    resp->code = 201;
    resp->body = json_incref(obj);
    return SS_EOK;
  }
  if (r->kind->namespaced)
    ensure_namespace(api, r->ns);
  enum ss_err rc = ss_store_create(api->cfg.store, ref_of(r->kind), obj, &stored, &err);
  if (rc) {
    store_error(resp, r, rc, &err, name ? name : "");
    return rc;
  }
  ss__api_set_version(stored, r->kind, r->version);
  resp->code = 201;
  resp->body = stored;
  changed(api);
  return SS_EOK;
}

static void do_create(struct ss_api *api, const struct ss_api_req *req, const struct route *r,
                      struct ss_api_resp *resp) {
  char mgr[SS_APPLY_MAX_MANAGER + 1];
  if (!field_manager(req, "CreateOptions", false, mgr, sizeof mgr, resp))
    return;
  json_t *obj = read_body(req, resp);
  if (!obj)
    return;
  if (admit(api, req, r, obj, NULL, resp)) {
    track(r, NULL, obj, mgr, NULL);
    create_object(api, req, r, obj, resp);
  }
  json_decref(obj);
}

/* Stores obj (already admitted) as the new version of r->name. */
static enum ss_err put_object(struct ss_api *api, const struct ss_api_req *req,
                              const struct route *r, json_t *obj, struct ss_api_resp *resp) {
  struct ss_error err = {0};
  json_t *stored = NULL;
  if (dry_run(req)) {
    resp->code = 200;
    resp->body = json_incref(obj);
    return SS_EOK;
  }
  enum ss_err rc = ss_store_update(api->cfg.store, ref_of(r->kind), obj, &stored, &err);
  if (rc) {
    if (rc != SS_ECONFLICT)
      store_error(resp, r, rc, &err, r->name);
    return rc;
  }
  ss__api_set_version(stored, r->kind, r->version);
  resp->code = 200;
  resp->body = stored;
  changed(api);
  return SS_EOK;
}

static void do_update(struct ss_api *api, const struct ss_api_req *req, const struct route *r,
                      struct ss_api_resp *resp) {
  char mgr[SS_APPLY_MAX_MANAGER + 1];
  if (!field_manager(req, "UpdateOptions", false, mgr, sizeof mgr, resp))
    return;
  json_t *obj = read_body(req, resp);
  if (!obj)
    return;
  if (admit(api, req, r, obj, r->name, resp)) {
    json_t *live = NULL;
    if (ss_store_get(api->cfg.store, ref_of(r->kind), r->ns, r->name, &live, NULL) == SS_EOK)
      track(r, live, obj, mgr, NULL);
    json_decref(live);
    if (put_object(api, req, r, obj, resp) == SS_ECONFLICT) {
      struct ss_error err = {0};
      store_error(resp, r, SS_ECONFLICT, &err, r->name);
    }
  }
  json_decref(obj);
}

/* Applies the request's patch to cur; NULL (with resp set) on failure. */
static json_t *apply_patch(const struct ss_api_req *req, const json_t *cur,
                           struct ss_api_resp *resp) {
  const char *ct = req->content_type ? req->content_type : "";
  bool merge = strncmp(ct, "application/merge-patch+json", 28) == 0;
  bool jsonp = strncmp(ct, "application/json-patch+json", 27) == 0;
  if (!merge && !jsonp) {
    ss__api_status(resp, 415, "UnsupportedMediaType",
                   "the body of the request was in an unknown format - accepted media types "
                   "include: application/json-patch+json, application/merge-patch+json");
    return NULL;
  }
  /* the reader every body goes through, with its limits (nesting, size) */
  struct ss_docs docs = {0};
  struct ss_error perr = {0};
  if (ss_json_parse(req->body ? req->body : "", req->body_len, &docs, &perr)) {
    if (perr.line)
      ss__api_status(resp, 400, "BadRequest",
                     "the patch could not be decoded: line %u column %u: %s", perr.line,
                     perr.col, perr.msg);
    else
      ss__api_status(resp, 400, "BadRequest", "the patch could not be decoded: %s", perr.msg);
    return NULL;
  }
  if (docs.n != 1) {
    ss__api_status(resp, 400, "BadRequest", "the patch must be exactly one JSON value");
    ss_docs_free(&docs);
    return NULL;
  }
  json_t *patch = json_incref(docs.v[0]->root);
  ss_docs_free(&docs);
  json_t *out = NULL;
  if (merge) {
    if (!json_is_object(patch))
      ss__api_status(resp, 400, "BadRequest", "a merge patch must be a JSON object");
    else
      out = ss_merge_patch(cur, patch);
  } else {
    struct ss_error err = {0};
    enum ss_err rc = ss_json_patch(cur, patch, &out, &err);
    if (rc == SS_ECONFLICT)
      ss__api_status(resp, 422, "Invalid", "the server rejected our request due to an error in our request: %s",
                     err.msg);
    else if (rc)
      ss__api_status(resp, 422, "Invalid", "the patch could not be applied: %s", err.msg);
  }
  json_decref(patch);
  return out;
}

/* Admission's defaults (the model's decoder fills them in place). */
static void admission_defaults(json_t *obj, void *ctx) {
  const struct route *r = ctx;
  struct ss_resource res;
  if (!r->kind->validated)
    return;
  ss_resource_decode(obj, NULL, "", NULL, &res);
  ss_resource_free(&res);
}

/* One server-side apply of cfg over live (NULL: absent, cfg creates it);
 * true when the store moved underneath and the caller should try again. */
static bool apply_once(struct ss_api *api, const struct ss_api_req *req, const struct route *r,
                       const json_t *live, const json_t *cfg, bool force,
                       struct ss_api_resp *resp) {
  char now[32], gv[128];
  ss_rfc3339_now(now, sizeof now);
  struct ss_apply_op op = {.manager = req->q_field_manager,
                           .api_version = group_version(r, gv, sizeof gv), .now = now,
                           .force = force, .reset_status = r->kind->has_status,
                           .defaults = admission_defaults, .ctx = (void *)r};
  json_t *obj = NULL, *conflicts = NULL;
  struct ss_error err = {0};
  bool retry = false;
  enum ss_err rc = ss_apply(live, cfg, &op, &obj, &conflicts, &err);
  if (rc == SS_ECONFLICT) {
    json_decref(resp->body);
    resp->code = 409;
    resp->body = ss_apply_conflict_status(conflicts);
  } else if (rc == SS_EUSAGE) {
    ss__api_status(resp, 400, "BadRequest", "%s", err.msg);
  } else if (rc) {
    ss__api_status(resp, rc == SS_EINVALID ? 422 : 500, rc == SS_EINVALID ? "Invalid" : "InternalError",
                   "%s.%s \"%s\" is invalid: %s", r->kind->kind, r->kind->group, r->name, err.msg);
  } else if (admit(api, req, r, obj, r->name, resp)) {
    bool pinned = json_object_get(json_object_get(cfg, "metadata"), "resourceVersion") != NULL;
    rc = live ? put_object(api, req, r, obj, resp) : create_object(api, req, r, obj, resp);
    retry = (rc == SS_ECONFLICT && !pinned) || rc == SS_EEXISTS;
    if (rc == SS_ECONFLICT && pinned)
      store_error(resp, r, SS_ECONFLICT, &err, r->name);
  }
  json_decref(obj);
  json_decref(conflicts);
  return retry;
}

static bool is_apply(const struct ss_api_req *req) {
  return req->content_type && strncmp(req->content_type, "application/apply-patch+yaml", 28) == 0;
}

/* PATCH application/apply-patch+yaml: server-side apply (apply.h), which
 * creates the object when it is absent. */
static void do_apply(struct ss_api *api, const struct ss_api_req *req, const struct route *r,
                     struct ss_api_resp *resp) {
  char mgr[SS_APPLY_MAX_MANAGER + 1], gv[128];
  bool force;
  if (!field_manager(req, "PatchOptions", true, mgr, sizeof mgr, resp) ||
      !ss__api_query_bool("force", req->q_force, &force, resp))
    return;
  json_t *cfg = read_body(req, resp);
  if (!cfg)
    return;
  const char *av = json_string_value(json_object_get(cfg, "apiVersion"));
  if (!av || strcmp(av, group_version(r, gv, sizeof gv)) != 0) {
    ss__api_status(resp, 400, "BadRequest", "Incorrect version specified in apply patch. "
                   "Specified patch version: %s, expected: %s", av ? av : "", gv);
    goto out;
  }
  if (!json_is_string(json_object_get(cfg, "kind"))) {
    ss__api_status(resp, 400, "BadRequest", "Object 'Kind' is missing in the apply patch");
    goto out;
  }
  for (int attempt = 0; attempt < SS_API_PATCH_RETRIES; attempt++) {
    json_t *live = NULL;
    struct ss_error err = {0};
    enum ss_err rc = ss_store_get(api->cfg.store, ref_of(r->kind), r->ns, r->name, &live, &err);
    if (rc && rc != SS_ENOTFOUND) {
      store_error(resp, r, rc, &err, r->name);
      goto out;
    }
    if (live)
      ss__api_set_version(live, r->kind, r->version);
    bool retry = apply_once(api, req, r, live, cfg, force, resp);
    json_decref(live);
    if (!retry)
      goto out;
  }
  struct ss_error err = {0};
  store_error(resp, r, SS_ECONFLICT, &err, r->name);
out:
  json_decref(cfg);
}

static void do_patch(struct ss_api *api, const struct ss_api_req *req, const struct route *r,
                     struct ss_api_resp *resp) {
  char mgr[SS_APPLY_MAX_MANAGER + 1];
  if (is_apply(req)) {
    do_apply(api, req, r, resp);
    return;
  }
  if (req->q_force) {
    options_invalid(resp, "PatchOptions", "force", "FieldValueForbidden",
                    "Forbidden: may not be specified for non-apply patch");
    return;
  }
  if (!field_manager(req, "PatchOptions", false, mgr, sizeof mgr, resp))
    return;
  for (int attempt = 0; attempt < SS_API_PATCH_RETRIES; attempt++) {
    json_t *cur = get_object(api, r, resp);
    if (!cur)
      return;
    const char *cur_rv =
        json_string_value(json_object_get(json_object_get(cur, "metadata"), "resourceVersion"));
    char rv[32];
    snprintf(rv, sizeof rv, "%s", cur_rv ? cur_rv : "");
    ss__api_set_version(cur, r->kind, r->version);
    json_t *obj = apply_patch(req, cur, resp);
    if (!obj) {
      json_decref(cur);
      return;
    }
    const char *prv =
        json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
    bool pinned = prv && strcmp(prv, rv) != 0; /* the patch itself set a resourceVersion */
    enum ss_err rc = SS_EOK;
    if (admit(api, req, r, obj, r->name, resp)) {
      track(r, cur, obj, mgr, NULL);
      rc = put_object(api, req, r, obj, resp);
    }
    json_decref(cur);
    json_decref(obj);
    if (rc != SS_ECONFLICT)
      return;
    if (pinned) {
      struct ss_error err = {0};
      store_error(resp, r, SS_ECONFLICT, &err, r->name);
      return;
    }
  }
  struct ss_error err = {0};
  store_error(resp, r, SS_ECONFLICT, &err, r->name);
}

static void do_delete(struct ss_api *api, const struct ss_api_req *req, const struct route *r,
                      struct ss_api_resp *resp) {
  struct ss_error err = {0};
  json_t *gone = NULL;
  /* kubectl delete --cascade=orphan: what the object owns would be left
   * running with no owner; servescale always collects it */
  json_t *opts = req->body_len ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
  const char *policy = json_string_value(json_object_get(opts, "propagationPolicy"));
  bool orphan = (policy && strcmp(policy, "Orphan") == 0) ||
                json_is_true(json_object_get(opts, "orphanDependents"));
  json_decref(opts);
  if (orphan) {
    ss__api_status(resp, 422, "Invalid",
                   "propagationPolicy Orphan is not supported: deleting a %s deletes what it owns "
                   "(use --cascade=background or foreground)", r->kind->kind);
    return;
  }
  if (dry_run(req)) {
    json_t *cur = get_object(api, r, resp);
    if (cur) {
      resp->code = 200;
      resp->body = cur;
    }
    return;
  }
  enum ss_err rc = ss_store_delete(api->cfg.store, ref_of(r->kind), r->ns, r->name, &gone, &err);
  if (rc) {
    store_error(resp, r, rc, &err, r->name);
    return;
  }
  if (strcmp(r->kind->plural, "namespaces") == 0) {
    /* deleting a namespace deletes what is in it */
    for (size_t i = 0; i < ss_api_n_kinds; i++) {
      const struct ss_api_kind *k = &ss_api_kinds[i];
      json_t *items = NULL;
      uint64_t rv;
      if (!k->namespaced || k->source != SS_SRC_STORE ||
          ss_store_list(api->cfg.store, ref_of(k), r->name, &items, &rv, NULL))
        continue;
      size_t j;
      json_t *it;
      json_array_foreach(items, j, it) {
        const char *n = json_string_value(json_object_get(json_object_get(it, "metadata"), "name"));
        if (n)
          ss_store_delete(api->cfg.store, ref_of(k), r->name, n, NULL, NULL);
      }
      json_decref(items);
    }
  }
  ss__api_set_version(gone, r->kind, r->version);
  resp->code = 200;
  resp->body = gone;
  changed(api);
}

/* ---- subresources ---- */

static void do_status(struct ss_api *api, const struct ss_api_req *req, const struct route *r,
                      struct ss_api_resp *resp) {
  if (strcmp(req->method, "GET") == 0) {
    json_t *obj = get_object(api, r, resp);
    if (obj) {
      ss__api_set_version(obj, r->kind, r->version);
      resp->code = 200;
      resp->body = obj;
    }
    return;
  }
  json_t *obj = NULL;
  if (strcmp(req->method, "PUT") == 0) {
    obj = read_body(req, resp);
  } else if (strcmp(req->method, "PATCH") == 0) {
    json_t *cur = get_object(api, r, resp);
    if (cur)
      obj = apply_patch(req, cur, resp);
    json_decref(cur);
  } else {
    ss__api_status(resp, 405, "MethodNotAllowed", "%s is not allowed on status", req->method);
    return;
  }
  if (!obj)
    return;
  json_t *status = json_object_get(obj, "status");
  json_t *none = status ? NULL : json_object(); /* no status: an empty one */
  const char *rv =
      json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
  struct ss_error err = {0};
  json_t *stored = NULL;
  enum ss_err rc = ss_store_update_status(api->cfg.store, ref_of(r->kind), r->ns, r->name,
                                          status ? status : none, rv, &stored, &err);
  json_decref(none);
  if (rc) {
    store_error(resp, r, rc, &err, r->name);
  } else {
    ss__api_set_version(stored, r->kind, r->version);
    resp->code = 200;
    resp->body = stored;
  }
  json_decref(obj);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "k=v,k2=v2" of a LabelSelector's matchLabels, in key order. */
static void match_labels(const json_t *sel, char *buf, size_t size) {
  const json_t *ml = json_object_get(sel, "matchLabels");
  const char **keys = calloc(json_object_size(ml) + 1, sizeof *keys);
  size_t n = 0, used = 0;
  const char *key;
  json_t *v;
  buf[0] = '\0';
  if (!keys)
    return;
  json_object_foreach((json_t *)ml, key, v) keys[n++] = key;
  qsort(keys, n, sizeof *keys, cmp_str);
  for (size_t i = 0; i < n && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%s=%s", i ? "," : "", keys[i],
                             json_string_value(json_object_get(ml, keys[i])) ? json_string_value(json_object_get(ml, keys[i])) : "");
  free(keys);
}

static json_t *scale_of(const json_t *obj, const struct ss_api_kind *k) {
  json_t *md = json_object_get(obj, "metadata");
  json_t *status = json_object_get(obj, "status");
  json_t *sr = json_object_get(status, "replicas");
  char selector[300];
  if (strcmp(k->plural, "deployments") == 0) /* its own selector, as kubectl reads it */
    match_labels(json_object_get(json_object_get(obj, "spec"), "selector"), selector,
                 sizeof selector);
  else
    snprintf(selector, sizeof selector, "%s=%s",
             strcmp(k->plural, "models") == 0    ? SS_CORE2_LABEL_MODEL
             : strcmp(k->plural, "servers") == 0 ? SS_CORE2_LABEL_SERVER
                                                 : SS_LABEL_SDEP_ID,
             json_string_value(json_object_get(md, "name")));
  json_t *meta = json_object();
  static const char *const keep[] = {"name", "namespace", "uid", "resourceVersion",
                                     "creationTimestamp", NULL};
  for (int i = 0; keep[i]; i++) {
    json_t *v = json_object_get(md, keep[i]);
    if (v)
      json_object_set(meta, keep[i], v);
  }
  return json_pack("{s:s, s:s, s:o, s:{s:I}, s:{s:I, s:s}}", "kind", "Scale", "apiVersion",
                   "autoscaling/v1", "metadata", meta, "spec", "replicas",
                   (json_int_t)ss_sdep_scale_replicas(obj), "status", "replicas",
                   json_is_integer(sr) ? json_integer_value(sr) : (json_int_t)0, "selector",
                   selector);
}

/* A SeldonDeployment's scale (spec.replicas) sizes only the componentSpecs
 * that set no count of their own and have no autoscaler: Seldon's
 * precedence, kept. Where it moves nothing, the client is told (a Warning
 * header, which kubectl prints) and so is `describe` (an event). */
static void scale_unheeded(struct ss_api *api, const json_t *obj, struct ss_api_resp *resp) {
  size_t pi, ci;
  const json_t *p, *cs;
  json_array_foreach(json_object_get(json_object_get(obj, "spec"), "predictors"), pi, p) {
    const char *pname = json_string_value(json_object_get(p, "name"));
    const json_t *pr = json_object_get(p, "replicas");
    json_array_foreach(json_object_get(p, "componentSpecs"), ci, cs) {
      char why[256] = "";
      if (json_object_get(cs, "kedaSpec") || json_object_get(cs, "hpaSpec") ||
          json_array_size(json_object_get(p, "hpaSpecs")))
        snprintf(why, sizeof why, "its autoscaler sets its replicas");
      else if (json_is_integer(json_object_get(cs, "replicas")))
        snprintf(why, sizeof why, "componentSpecs[%zu].replicas (%lld) wins", ci,
                 (long long)json_integer_value(json_object_get(cs, "replicas")));
      else if (json_is_integer(pr))
        snprintf(why, sizeof why, "the predictor's replicas (%lld) win",
                 (long long)json_integer_value(pr));
      if (!why[0])
        continue;
      char msg[512];
      snprintf(msg, sizeof msg,
               "spec.replicas does not size predictor %s componentSpecs[%zu]: %s, as in "
               "Seldon", pname ? pname : "?", ci, why);
      ss__api_add_warning(resp, "%s", msg);
      ss_store_event(api->cfg.store, obj, "Normal", "ScaleNotApplied", msg, NULL);
    }
  }
}

static void do_scale(struct ss_api *api, const struct ss_api_req *req, const struct route *r,
                     struct ss_api_resp *resp) {
  char mgr[SS_APPLY_MAX_MANAGER + 1];
  if (strcmp(req->method, "GET") != 0 &&
      !field_manager(req, strcmp(req->method, "PUT") == 0 ? "UpdateOptions" : "PatchOptions",
                     false, mgr, sizeof mgr, resp))
    return;
  for (int attempt = 0; attempt < SS_API_PATCH_RETRIES; attempt++) {
    json_t *cur = get_object(api, r, resp);
    if (!cur)
      return;
    json_t *scale = scale_of(cur, r->kind), *next = NULL;
    if (strcmp(req->method, "GET") == 0) {
      resp->code = 200;
      resp->body = scale;
      json_decref(cur);
      return;
    }
    if (strcmp(req->method, "PUT") == 0)
      next = read_body(req, resp);
    else if (strcmp(req->method, "PATCH") == 0)
      next = apply_patch(req, scale, resp);
    else
      ss__api_status(resp, 405, "MethodNotAllowed", "%s is not allowed on scale", req->method);
    json_decref(scale);
    json_t *rj = json_object_get(json_object_get(next, "spec"), "replicas");
    if (next && !r->kind->validated && json_is_integer(rj) &&
        json_integer_value(rj) > SS_MAX_REPLICAS) {
      /* what the model checks for its own kinds, for the others */
      ss__api_status(resp, 422, "Invalid", "Scale.autoscaling \"%s\" is invalid: spec.replicas: "
                     "Invalid value: %lld: must be at most %d, the replicas one replica set may "
                     "have", r->name, (long long)json_integer_value(rj), SS_MAX_REPLICAS);
      json_decref(next);
      next = NULL;
    }
    if (next && (!json_is_integer(rj) || json_integer_value(rj) < 0)) {
      ss__api_status(resp, 422, "Invalid", "Scale.autoscaling \"%s\" is invalid: spec.replicas: "
                     "Invalid value: must be a non-negative integer", r->name);
      json_decref(next);
      next = NULL;
    }
    if (!next) {
      json_decref(cur);
      return;
    }
    const char *want_rv =
        json_string_value(json_object_get(json_object_get(next, "metadata"), "resourceVersion"));
    const char *cur_rv =
        json_string_value(json_object_get(json_object_get(cur, "metadata"), "resourceVersion"));
    if (strcmp(req->method, "PUT") == 0 && want_rv && *want_rv && cur_rv &&
        strcmp(want_rv, cur_rv) != 0) {
      struct ss_error err = {0};
      store_error(resp, r, SS_ECONFLICT, &err, r->name);
      json_decref(next);
      json_decref(cur);
      return;
    }
    json_t *spec = json_object_get(cur, "spec");
    if (!json_is_object(spec)) {
      spec = json_object();
      json_object_set_new(cur, "spec", spec);
    }
    json_t *before = json_deep_copy(cur);
    json_object_set(spec, "replicas", rj);
    json_decref(next);
    track(r, before, cur, mgr, "scale");
    json_decref(before);
    /* the object as it would be stored passes the same validation as a
     * create or an update (replicas that fit 32 bits and the replica
     * limit among it); what is stored is not the client's to warn about */
    struct ss_api_req vreq = *req;
    vreq.q_field_validation = "Ignore";
    if (!admit(api, &vreq, r, cur, r->name, resp)) {
      json_decref(cur);
      return;
    }
    struct ss_error err = {0};
    json_t *stored = NULL;
    enum ss_err rc = dry_run(req) ? SS_EOK
                                  : ss_store_update(api->cfg.store, ref_of(r->kind), cur, &stored,
                                                    &err);
    if (rc == SS_ECONFLICT) {
      json_decref(cur);
      continue;
    }
    if (rc) {
      store_error(resp, r, rc, &err, r->name);
    } else {
      resp->code = 200;
      resp->body = scale_of(stored ? stored : cur, r->kind);
      if (strcmp(r->kind->plural, "seldondeployments") == 0)
        scale_unheeded(api, stored ? stored : cur, resp);
      if (stored)
        changed(api);
    }
    json_decref(stored);
    json_decref(cur);
    return;
  }
  struct ss_error err = {0};
  store_error(resp, r, SS_ECONFLICT, &err, r->name);
}

static void do_log(struct ss_api *api, const struct ss_api_req *req, const struct route *r,
                   struct ss_api_resp *resp) {
  char path[4096];
  if (!api->cfg.hooks.pod_log ||
      api->cfg.hooks.pod_log(api->cfg.hooks.ctx, r->ns, r->name, path, sizeof path) != 0) {
    not_found(resp, r);
    return;
  }
  bool follow;
  if (!ss__api_query_bool("follow", req->q_follow, &follow, resp))
    return;
  long tail = -1;
  if (req->q_tail) {
    char *end;
    tail = strtol(req->q_tail, &end, 10);
    if (*end || !*req->q_tail || tail < 0) {
      ss__api_status(resp, 400, "BadRequest", "tailLines: must be a non-negative integer, not "
                     "\"%.32s\"", req->q_tail);
      return;
    }
  }
  resp->code = 200;
  resp->file = strdup(path);
  resp->file_tail = tail;
  resp->file_follow = follow;
  resp->content_type = "text/plain";
}

void ss__api_handle(struct ss_api *api, const struct ss_api_req *req,
                    struct ss_api_resp *resp) {
  struct route r;
  const char *m = req->method;
  if (strcmp(req->path, "/healthz") == 0 || strcmp(req->path, "/readyz") == 0 ||
      strcmp(req->path, "/livez") == 0) {
    resp->code = 200;
    resp->text = strdup("ok");
    resp->content_type = "text/plain";
    return;
  }
  if (ss__api_discovery(api, req, resp) || ss__api_openapi(api, req, resp) ||
      ss__api_metrics(api, req, resp) || ss__api_timeline(api, req, resp) ||
      ss__api_requests(api, req, resp))
    return;
  if (ss__api_hpa_v1(api, req, resp)) /* kubectl autoscale's autoscaling/v1 */
    return;
  if (!route(req->path, &r)) {
    ss__api_status(resp, 404, "NotFound", "the server could not find the requested resource");
    return;
  }
  if (r.kind->namespaced && r.name[0] && !r.ns[0]) {
    ss__api_status(resp, 404, "NotFound", "the server could not find the requested resource");
    return;
  }
  if (r.sub[0]) {
    if (strcmp(r.sub, "status") == 0 && r.kind->has_status && r.kind->writable)
      do_status(api, req, &r, resp);
    else if (strcmp(r.sub, "scale") == 0 && r.kind->has_scale)
      do_scale(api, req, &r, resp);
    else if (strcmp(r.sub, "log") == 0 && r.kind->source == SS_SRC_PODS && strcmp(m, "GET") == 0)
      do_log(api, req, &r, resp);
    else
      ss__api_status(resp, 404, "NotFound", "the server could not find the requested resource");
    return;
  }
  bool write = strcmp(m, "GET") != 0;
  if (r.kind->source == SS_SRC_PODS && r.name[0] && strcmp(m, "DELETE") == 0) {
    do_delete_pod(api, &r, resp);
    return;
  }
  if (write && !r.kind->writable) {
    ss__api_status(resp, 405, "MethodNotAllowed", "%s are read-only here", r.kind->plural);
    return;
  }
  if (!r.name[0]) {
    if (strcmp(m, "GET") == 0)
      do_list(api, req, &r, resp);
    else if (strcmp(m, "POST") == 0 && (r.ns[0] || !r.kind->namespaced))
      do_create(api, req, &r, resp);
    else
      ss__api_status(resp, 405, "MethodNotAllowed", "%s is not allowed here", m);
    return;
  }
  if (strcmp(m, "GET") == 0) {
    json_t *obj = get_object(api, &r, resp);
    if (obj) {
      ss__api_set_version(obj, r.kind, r.version);
      resp->code = 200;
      resp->body = ss__api_wants_table(req) ? ss__api_table(r.kind, json_pack("[o]", obj), "")
                                            : obj;
    }
  } else if (strcmp(m, "PUT") == 0) {
    do_update(api, req, &r, resp);
  } else if (strcmp(m, "PATCH") == 0) {
    do_patch(api, req, &r, resp);
  } else if (strcmp(m, "DELETE") == 0) {
    do_delete(api, req, &r, resp);
  } else {
    ss__api_status(resp, 405, "MethodNotAllowed", "%s is not allowed here", m);
  }
}

/* ---- in-process apply (the daemon's -f) ---- */

static const struct ss_api_kind *kind_of(const json_t *obj, const char **version) {
  const char *av = json_string_value(json_object_get(obj, "apiVersion"));
  const char *kind = json_string_value(json_object_get(obj, "kind"));
  if (!av || !kind)
    return NULL;
  const char *slash = strrchr(av, '/');
  *version = slash ? slash + 1 : av;
  size_t gl = slash ? (size_t)(slash - av) : 0;
  for (size_t i = 0; i < ss_api_n_kinds; i++) {
    const struct ss_api_kind *k = &ss_api_kinds[i];
    if (strcmp(k->kind, kind) == 0 && strlen(k->group) == gl && strncmp(k->group, av, gl) == 0)
      return k;
  }
  return NULL;
}

int ss_api_apply(struct ss_api *api, const char *buf, size_t len, const char *ns, char *report,
                 size_t report_size) {
  struct ss_docs docs = {0};
  struct ss_error err = {0};
  int failed = 0;
  size_t used = 0;
  report[0] = '\0';
#define REPORT(...)                                                                      \
  do {                                                                                   \
    if (used < report_size)                                                              \
      used += (size_t)snprintf(report + used, report_size - used, __VA_ARGS__);          \
  } while (0)
  if (ss_docs_parse(buf, len, &docs, &err)) {
    REPORT("line %u column %u: %s\n", err.line, err.col, err.msg);
    return 1;
  }
  for (size_t i = 0; i < docs.n; i++) {
    json_t *obj = docs.v[i]->root;
    const char *version = NULL;
    const struct ss_api_kind *k = kind_of(obj, &version);
    if (!k || !k->writable || k->source != SS_SRC_STORE) {
      REPORT("document %zu: skipped: not a kind the API stores\n", i + 1);
      continue;
    }
    json_t *md = json_object_get(obj, "metadata");
    const char *name = json_string_value(json_object_get(md, "name"));
    const char *ons = json_string_value(json_object_get(md, "namespace"));
    struct route r = {.kind = k};
    snprintf(r.version, sizeof r.version, "%s", version);
    snprintf(r.ns, sizeof r.ns, "%s", k->namespaced ? (ons ? ons : ns ? ns : "default") : "");
    snprintf(r.name, sizeof r.name, "%s", name ? name : "");
    char *body = json_dumps(obj, JSON_COMPACT);
    struct ss_api_req req = {.body = body, .body_len = body ? strlen(body) : 0,
                             .user_agent = "servescale"};
    struct ss_api_resp resp = {0};
    json_t *cur = NULL;
    bool exists = name && ss_store_get(api->cfg.store, ref_of(k), r.ns, name, &cur, NULL) == SS_EOK;
    if (exists) {
      /* an update on top of what is stored: the stored resourceVersion */
      json_t *copy = json_deep_copy(obj);
      json_t *cmd = json_object_get(copy, "metadata");
      json_object_set(cmd, "resourceVersion",
                      json_object_get(json_object_get(cur, "metadata"), "resourceVersion"));
      free(body);
      body = json_dumps(copy, JSON_COMPACT);
      json_decref(copy);
      req.method = "PUT";
      req.body = body;
      req.body_len = body ? strlen(body) : 0;
      do_update(api, &req, &r, &resp);
    } else {
      req.method = "POST";
      do_create(api, &req, &r, &resp);
    }
    json_decref(cur);
    free(body);
    if (resp.code >= 200 && resp.code < 300) {
      REPORT("%s/%s %s\n", k->singular, name ? name : "", exists ? "configured" : "created");
    } else {
      failed++;
      REPORT("%s/%s: %s\n", k->singular, name ? name : "",
             json_string_value(json_object_get(resp.body, "message")));
    }
    for (int w = 0; w < resp.n_warnings; w++) {
      REPORT("Warning: %s\n", resp.warnings[w]);
      free(resp.warnings[w]);
    }
    json_decref(resp.body);
    free(resp.text);
  }
#undef REPORT
  ss_docs_free(&docs);
  return failed;
}
