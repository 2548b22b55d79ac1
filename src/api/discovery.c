/* discovery.c: what a Kubernetes client asks before anything else: /api,
 * /apis, /apis/{group}[/{version}], /version, and the OpenAPI documents
 * (/openapi/v3 with one document per group version, /openapi/v2 as JSON).
 * Everything is generated from the kinds table. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "api/schemas.h"

#ifndef SS_VERSION
#define SS_VERSION "0.1.0"
#endif

/* What /version reports; kubectl compares the minor version with its own. */
#define SS_K8S_MAJOR "1"
#define SS_K8S_MINOR "32"

static json_t *str_array(const char *const *v) {
  json_t *a = json_array();
  for (int i = 0; v[i]; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

static json_t *verbs_of(const struct ss_api_kind *k) {
  static const char *const rw[] = {"create", "delete", "get", "list", "patch", "update",
                                   "watch", NULL};
  static const char *const ro[] = {"get", "list", "watch", NULL};
  static const char *const pods[] = {"delete", "get", "list", "watch", NULL};
  return str_array(k->writable ? rw : k->source == SS_SRC_PODS ? pods : ro);
}

static json_t *resource_list(const char *group, const char *version) {
  json_t *res = json_array();
  for (size_t i = 0; i < ss_api_n_kinds; i++) {
    const struct ss_api_kind *k = &ss_api_kinds[i];
    if (strcmp(k->group, group) != 0 || !ss_api_kind_has_version(k, version))
      continue;
    json_t *r = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", k->plural, "singularName",
                          k->singular, "namespaced", k->namespaced, "kind", k->kind, "verbs",
                          verbs_of(k));
    json_t *sn = json_array();
    for (int s = 0; s < 3 && k->short_names[s]; s++)
      json_array_append_new(sn, json_string(k->short_names[s]));
    if (json_array_size(sn))
      json_object_set_new(r, "shortNames", sn);
    else
      json_decref(sn);
    if (k->in_all)
      json_object_set_new(r, "categories", json_pack("[s]", "all"));
    json_array_append_new(res, r);
    char sub[128];
    if (k->has_status) {
      snprintf(sub, sizeof sub, "%s/status", k->plural);
      json_array_append_new(res, json_pack("{s:s, s:s, s:b, s:s, s:[sss]}", "name", sub,
                                           "singularName", "", "namespaced", k->namespaced,
                                           "kind", k->kind, "verbs", "get", "patch", "update"));
    }
    if (k->has_scale) {
      snprintf(sub, sizeof sub, "%s/scale", k->plural);
      json_array_append_new(res, json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:[sss]}", "name",
                                           sub, "singularName", "", "namespaced",
                                           k->namespaced, "group", "autoscaling", "version",
                                           "v1", "kind", "Scale", "verbs", "get", "patch",
                                           "update"));
    }
    if (k->source == SS_SRC_PODS) {
      snprintf(sub, sizeof sub, "%s/log", k->plural);
      json_array_append_new(res, json_pack("{s:s, s:s, s:b, s:s, s:[s]}", "name", sub,
                                           "singularName", "", "namespaced", true, "kind",
                                           "Pod", "verbs", "get"));
    }
  }
  char gv[128];
  snprintf(gv, sizeof gv, "%s%s%s", group, *group ? "/" : "", version);
  return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                   "groupVersion", gv, "resources", res);
}

/* The API groups (not core), each once, in table order. */
static json_t *group_json(const char *group) {
  json_t *versions = json_array();
  const char *preferred = NULL;
  for (size_t i = 0; i < ss_api_n_kinds; i++) {
    const struct ss_api_kind *k = &ss_api_kinds[i];
    if (strcmp(k->group, group) != 0)
      continue;
    for (int v = 0; k->versions[v]; v++) {
      char gv[128];
      snprintf(gv, sizeof gv, "%s/%s", group, k->versions[v]);
      bool seen = false;
      size_t j;
      json_t *e;
      json_array_foreach(versions, j, e) seen =
          seen || strcmp(json_string_value(json_object_get(e, "version")), k->versions[v]) == 0;
      if (!seen)
        json_array_append_new(versions, json_pack("{s:s, s:s}", "groupVersion", gv, "version",
                                                  k->versions[v]));
    }
    if (!preferred)
      preferred = k->versions[0];
  }
  if (!preferred) {
    json_decref(versions);
    return NULL;
  }
  char gv[128];
  snprintf(gv, sizeof gv, "%s/%s", group, preferred);
  return json_pack("{s:s, s:s, s:s, s:o, s:{s:s, s:s}}", "kind", "APIGroup", "apiVersion", "v1",
                   "name", group, "versions", versions, "preferredVersion", "groupVersion", gv,
                   "version", preferred);
}

static json_t *group_list(void) {
  json_t *groups = json_array();
  for (size_t i = 0; i < ss_api_n_kinds; i++) {
    const char *g = ss_api_kinds[i].group;
    if (!*g)
      continue;
    bool seen = false;
    for (size_t j = 0; j < i; j++)
      seen = seen || strcmp(ss_api_kinds[j].group, g) == 0;
    if (seen)
      continue;
    json_t *gj = group_json(g);
    json_object_del(gj, "kind");
    json_object_del(gj, "apiVersion");
    json_array_append_new(groups, gj);
  }
  return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups",
                   groups);
}

bool ss__api_discovery(struct ss_api *api, const struct ss_api_req *req,
                       struct ss_api_resp *resp) {
  const char *p = req->path;
  char group[128], version[64];
  if (strcmp(req->method, "GET") != 0)
    return false;
  if (strcmp(p, "/version") == 0 || strcmp(p, "/version/") == 0) {
    resp->body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major",
                           SS_K8S_MAJOR, "minor", SS_K8S_MINOR, "gitVersion",
                           "v" SS_K8S_MAJOR "." SS_K8S_MINOR ".0-servescale-" SS_VERSION,
                           "gitCommit", "", "gitTreeState", "clean", "buildDate", "",
                           "goVersion", "", "compiler", "gcc", "platform", "linux/amd64");
  } else if (strcmp(p, "/api") == 0 || strcmp(p, "/api/") == 0) {
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", api->port);
    resp->body = json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions",
                           "v1", "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0",
                           "serverAddress", addr);
  } else if (strcmp(p, "/api/v1") == 0 || strcmp(p, "/api/v1/") == 0) {
    resp->body = resource_list("", "v1");
  } else if (strcmp(p, "/apis") == 0 || strcmp(p, "/apis/") == 0) {
    resp->body = group_list();
  } else if (sscanf(p, "/apis/%127[^/]/%63[^/]", group, version) == 2 &&
             strlen(p) == strlen("/apis//") + strlen(group) + strlen(version)) {
    bool known = false;
    for (size_t i = 0; i < ss_api_n_kinds; i++)
      known = known || (strcmp(ss_api_kinds[i].group, group) == 0 &&
                        ss_api_kind_has_version(&ss_api_kinds[i], version));
    if (!known)
      return false;
    resp->body = resource_list(group, version);
  } else if (sscanf(p, "/apis/%127[^/]", group) == 1 &&
             strlen(p) == strlen("/apis/") + strlen(group)) {
    resp->body = group_json(group);
    if (!resp->body)
      return false;
  } else {
    return false;
  }
  resp->code = 200;
  return true;
}

/* ---- OpenAPI (the schemas are schemas.c's) ---- */

static json_t *gvk_ext(const struct ss_api_kind *k, const char *version) {
  return json_pack("{s:s, s:s, s:s}", "group", k->group, "version", version, "kind", k->kind);
}

static json_t *query_params(bool write) {
  json_t *a = json_array();
  json_array_append_new(a, json_pack("{s:s, s:s, s:{s:s}}", "name", "pretty", "in", "query",
                                     "schema", "type", "string"));
  if (write) {
    static const char *const names[] = {"dryRun", "fieldManager", "fieldValidation", NULL};
    for (int i = 0; names[i]; i++)
      json_array_append_new(a, json_pack("{s:s, s:s, s:{s:s}, s:b}", "name", names[i], "in",
                                         "query", "schema", "type", "string", "uniqueItems",
                                         true));
  } else {
    static const char *const names[] = {"labelSelector", "fieldSelector", "resourceVersion",
                                        "watch", "timeoutSeconds", "allowWatchBookmarks",
                                        NULL};
    for (int i = 0; names[i]; i++)
      json_array_append_new(a, json_pack("{s:s, s:s, s:{s:s}}", "name", names[i], "in",
                                         "query", "schema", "type", "string"));
  }
  return a;
}

static json_t *op(const struct ss_api_kind *k, const char *version, const char *action,
                  const char *id, const char *ref, bool write, bool patch) {
  json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:{s:{s:s, s:{s:{s:{s:s}}}}}}", "operationId", id,
                        "x-kubernetes-action", action, "x-kubernetes-group-version-kind",
                        gvk_ext(k, version), "parameters", query_params(write), "responses",
                        "200", "description", "OK", "content", "application/json", "schema",
                        "$ref", ref);
  if (write) {
    json_t *content = json_object();
    if (patch) {
      static const char *const types[] = {"application/json-patch+json",
                                          "application/merge-patch+json", NULL};
      for (int i = 0; types[i]; i++)
        json_object_set_new(content, types[i],
                            json_pack("{s:{s:s}}", "schema", "type", "object"));
    } else {
      json_object_set_new(content, "application/json",
                          json_pack("{s:{s:s}}", "schema", "$ref", ref));
      json_object_set_new(content, "application/yaml",
                          json_pack("{s:{s:s}}", "schema", "$ref", ref));
    }
    json_object_set_new(o, "requestBody", json_pack("{s:o, s:b}", "content", content,
                                                    "required", true));
  }
  return o;
}

/* The kinds' schemas and what they reference (schemas.c); kubectl explain
 * reads them. Validation stays the server's (fieldValidation). */
static json_t *gv_document(const char *group, const char *version) {
  json_t *paths = json_object(), *schemas = ss_api_schemas_for(group, version);
  for (size_t i = 0; i < ss_api_n_kinds; i++) {
    const struct ss_api_kind *k = &ss_api_kinds[i];
    if (strcmp(k->group, group) != 0 || !ss_api_kind_has_version(k, version))
      continue;
    char name[256], ref[300], base[256], id[256];
    ss_api_schema_name(k, version, name, sizeof name);
    snprintf(ref, sizeof ref, "#/components/schemas/%s", name);
    if (*group)
      snprintf(base, sizeof base, "/apis/%s/%s%s/%s", group, version,
               k->namespaced ? "/namespaces/{namespace}" : "", k->plural);
    else
      snprintf(base, sizeof base, "/api/v1%s/%s", k->namespaced ? "/namespaces/{namespace}" : "",
               k->plural);
    json_t *coll = json_object(), *item = json_object();
    snprintf(id, sizeof id, "list%s", k->kind);
    json_object_set_new(coll, "get", op(k, version, "list", id, ref, false, false));
    if (k->writable) {
      snprintf(id, sizeof id, "create%s", k->kind);
      json_object_set_new(coll, "post", op(k, version, "post", id, ref, true, false));
      snprintf(id, sizeof id, "replace%s", k->kind);
      json_object_set_new(item, "put", op(k, version, "put", id, ref, true, false));
      snprintf(id, sizeof id, "patch%s", k->kind);
      json_object_set_new(item, "patch", op(k, version, "patch", id, ref, true, true));
      snprintf(id, sizeof id, "delete%s", k->kind);
      json_object_set_new(item, "delete", op(k, version, "delete", id, ref, true, false));
    }
    snprintf(id, sizeof id, "read%s", k->kind);
    json_object_set_new(item, "get", op(k, version, "get", id, ref, false, false));
    json_t *nsparam = json_pack("[{s:s, s:s, s:b, s:{s:s}}]", "name", "namespace", "in", "path",
                                "required", true, "schema", "type", "string");
    json_t *nameparam = json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", "name", "in", "path",
                                  "required", true, "schema", "type", "string");
    if (k->namespaced) {
      json_object_set(coll, "parameters", nsparam);
      json_t *ip = json_deep_copy(nsparam);
      json_array_append(ip, nameparam);
      json_object_set_new(item, "parameters", ip);
    } else {
      json_object_set_new(item, "parameters", json_pack("[O]", nameparam));
    }
    json_decref(nsparam);
    json_decref(nameparam);
    json_object_set_new(paths, base, coll);
    char ip[300];
    snprintf(ip, sizeof ip, "%s/{name}", base);
    if (k->has_status) {
      char sp[320];
      snprintf(sp, sizeof sp, "%s/status", ip);
      json_t *st = json_deep_copy(item);
      json_object_del(st, "delete");
      json_object_set_new(paths, sp, st);
    }
    json_object_set_new(paths, ip, item);
  }
  return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:o}}", "openapi", "3.0.0", "info", "title",
                   "servescale", "version", SS_VERSION, "paths", paths, "components", "schemas",
                   schemas);
}

/* The hash a document's URL carries, of what is served (kubectl caches
 * documents by URL): FNV-1a 64 of its compact JSON, as server.c sends it. */
#define SS_OPENAPI_HASH_SIZE 17
static void doc_hash(const char *group, const char *version, char out[SS_OPENAPI_HASH_SIZE]) {
  json_t *doc = gv_document(group, version);
  char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
  uint64_t h = 14695981039346656037u; /* FNV-1a 64 offset basis and prime */
  for (const char *c = s ? s : ""; *c; c++)
    h = (h ^ (unsigned char)*c) * 1099511628211u;
  snprintf(out, SS_OPENAPI_HASH_SIZE, "%016llX", (unsigned long long)h);
  free(s);
  json_decref(doc);
}

/* /openapi/v3: each document's URL. The documents are functions of the
 * kinds table and schemas.c, fixed while the process runs, so the list
 * (and its hashes) is built once. */
static json_t *v3_root;
static pthread_once_t v3_root_once = PTHREAD_ONCE_INIT;

static void build_v3_root(void) {
  json_t *paths = json_object();
  for (size_t i = 0; i < ss_api_n_kinds; i++) {
    const struct ss_api_kind *k = &ss_api_kinds[i];
    for (int v = 0; k->versions[v]; v++) {
      char key[160], url[240], hash[SS_OPENAPI_HASH_SIZE];
      if (*k->group)
        snprintf(key, sizeof key, "apis/%s/%s", k->group, k->versions[v]);
      else
        snprintf(key, sizeof key, "api/%s", k->versions[v]);
      doc_hash(k->group, k->versions[v], hash);
      snprintf(url, sizeof url, "/openapi/v3/%s?hash=%s", key, hash);
      json_object_set_new(paths, key, json_pack("{s:s}", "serverRelativeURL", url));
    }
  }
  v3_root = json_pack("{s:o*}", "paths", paths);
}

bool ss__api_openapi(struct ss_api *api, const struct ss_api_req *req,
                     struct ss_api_resp *resp) {
  (void)api;
  const char *p = req->path;
  if (strcmp(req->method, "GET") != 0 || strncmp(p, "/openapi/", 9) != 0)
    return false;
  if (strcmp(p, "/openapi/v3") == 0 || strcmp(p, "/openapi/v3/") == 0) {
    pthread_once(&v3_root_once, build_v3_root);
    resp->body = json_deep_copy(v3_root);
  } else if (strncmp(p, "/openapi/v3/apis/", 17) == 0 || strncmp(p, "/openapi/v3/api/", 16) == 0) {
    char group[128] = "", version[64] = "";
    if (p[12] == 'a' && p[15] == 's') {
      if (sscanf(p + 17, "%127[^/]/%63[^/?]", group, version) != 2)
        return false;
    } else if (sscanf(p + 16, "%63[^/?]", version) != 1) {
      return false;
    }
    json_t *doc = gv_document(group, version);
    if (!json_object_size(json_object_get(doc, "paths"))) {
      json_decref(doc);
      return false;
    }
    resp->body = doc;
  } else if (strcmp(p, "/openapi/v2") == 0) {
    if (req->accept && strstr(req->accept, "protobuf") && !strstr(req->accept, "application/json")) {
      /* kubectl asks for the gnostic protobuf form. A Document holding only
       * swagger "2.0" (field 1) says "no schemas here": kubectl then skips
       * client-side validation of these kinds, and 1.27+ validates on the
       * server (fieldValidation, advertised in /openapi/v3) instead. */
      static const char doc[] = {0x0a, 0x03, '2', '.', '0'};
      resp->text = malloc(sizeof doc);
      if (resp->text)
        memcpy(resp->text, doc, sizeof doc);
      resp->text_len = resp->text ? sizeof doc : 0;
      resp->content_type = "application/octet-stream";
      resp->code = 200;
      return true;
    }
    /* The same schemas as /openapi/v3, in Swagger 2.0 form. */
    resp->body = json_pack("{s:s, s:{s:s, s:s}, s:o, s:o*}", "swagger", "2.0", "info", "title",
                           "servescale", "version", SS_VERSION, "paths", json_object(),
                           "definitions", ss_api_schemas_v2());
  } else {
    return false;
  }
  resp->code = 200;
  return true;
}
