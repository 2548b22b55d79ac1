/* ops.c: the verbs on objects (get, list, create, apply, delete, scale, a
 * pod's log) as requests on the kind table's paths, with the server's Status
 * turned into a struct ss_client_error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"

/* Conflicts with a concurrent writer (the reconciler writes status) are
 * retried this many times, as kubectl apply does on a conflict. */
#define SS_CLIENT_APPLY_RETRIES 5

/* Sends body (may be NULL) and gives back the parsed JSON of a 2xx answer. */
static enum ss_err call(struct ss_client *c, const char *method, const char *path,
                        const char *content_type, const json_t *body, json_t **out,
                        struct ss_client_error *err) {
  struct ss_client_response r;
  char *text = NULL;
  enum ss_err rc;
  if (out)
    *out = NULL;
  if (body && !(text = json_dumps(body, JSON_COMPACT)))
    return ss__client_fail(err, SS_ENOMEM, "out of memory");
  rc = ss_client_request(c, method, path, content_type ? content_type : "application/json", text,
                         text ? strlen(text) : 0, &r, err);
  free(text);
  if (rc)
    return rc;
  if (r.code < 200 || r.code >= 300) {
    rc = ss_client_error_from_response(&r, err);
  } else if (out) {
    if (!r.body)
      rc = ss__client_fail(err, SS_ESYNTAX, "%s %s: the answer is not JSON", method, path);
    else
      *out = json_incref(r.body);
  }
  ss_client_response_free(&r);
  return rc;
}

static const char *ns_or_default(struct ss_client *c, const struct ss_client_kind *k,
                                 const char *ns) {
  if (!k->namespaced)
    return NULL;
  return ns && *ns ? ns : ss_client_namespace(c);
}

static enum ss_err path_of(const struct ss_client_kind *k, const char *ns, const char *name,
                           const char *sub, char *buf, size_t size, struct ss_client_error *err) {
  if (!ss_client_path(k, ns, name, sub, buf, size))
    return ss__client_fail(err, SS_EUSAGE, "invalid name \"%s\"", name ? name : "");
  return SS_EOK;
}

enum ss_err ss_client_get(struct ss_client *c, const struct ss_client_kind *k, const char *ns,
                          const char *name, json_t **out, struct ss_client_error *err) {
  char path[SS_CLIENT_PATH_MAX];
  enum ss_err rc = path_of(k, ns_or_default(c, k, ns), name, NULL, path, sizeof path, err);
  return rc ? rc : call(c, "GET", path, NULL, NULL, out, err);
}

enum ss_err ss_client_list(struct ss_client *c, const struct ss_client_kind *k, const char *ns,
                           const char *label_selector, const char *field_selector, json_t **out,
                           struct ss_client_error *err) {
  char path[SS_CLIENT_PATH_MAX], esc[768];
  enum ss_err rc = path_of(k, k->namespaced ? ns : NULL, NULL, NULL, path, sizeof path, err);
  if (rc)
    return rc;
  char sep = '?';
  size_t l = strlen(path);
  if (label_selector && *label_selector) {
    ss__client_escape(label_selector, esc, sizeof esc);
    l += (size_t)snprintf(path + l, sizeof path - l, "%clabelSelector=%s", sep, esc);
    sep = '&';
  }
  if (field_selector && *field_selector && l < sizeof path) {
    ss__client_escape(field_selector, esc, sizeof esc);
    l += (size_t)snprintf(path + l, sizeof path - l, "%cfieldSelector=%s", sep, esc);
  }
  if (l >= sizeof path)
    return ss__client_fail(err, SS_ELIMIT, "selectors too long");
  return call(c, "GET", path, NULL, NULL, out, err);
}

/* The kind and the namespace obj goes to. */
static enum ss_err target(struct ss_client *c, const json_t *obj, const char *ns,
                          const struct ss_client_kind **k, const char **ons,
                          struct ss_client_error *err) {
  if (!json_is_object(obj))
    return ss__client_fail(err, SS_EUSAGE, "not an object");
  *k = ss_client_kind_of(obj);
  if (!*k) {
    const char *av = json_string_value(json_object_get(obj, "apiVersion"));
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    return ss__client_fail(err, SS_EUSAGE, "no kind \"%s\" is served in version \"%s\"",
                           kind ? kind : "", av ? av : "");
  }
  const char *mns = ss__client_ns(obj);
  *ons = ns_or_default(c, *k, mns && *mns ? mns : ns);
  return SS_EOK;
}

enum ss_err ss_client_create(struct ss_client *c, const json_t *obj, const char *ns,
                             json_t **out, struct ss_client_error *err) {
  const struct ss_client_kind *k;
  const char *ons;
  char path[SS_CLIENT_PATH_MAX];
  enum ss_err rc;
  if ((rc = target(c, obj, ns, &k, &ons, err)) ||
      (rc = path_of(k, ons, NULL, NULL, path, sizeof path, err)))
    return rc;
  return call(c, "POST", path, NULL, obj, out, err);
}

/* Missing and empty mean the same for labels and annotations. */
static bool same(const json_t *a, const json_t *b) {
  bool ea = !a || (json_is_object(a) && json_object_size(a) == 0);
  bool eb = !b || (json_is_object(b) && json_object_size(b) == 0);
  if (ea || eb)
    return ea && eb;
  return json_equal((json_t *)a, (json_t *)b);
}

static bool unchanged(const json_t *want, const json_t *cur) {
  const json_t *wm = json_object_get(want, "metadata"), *cm = json_object_get(cur, "metadata");
  return same(json_object_get(want, "spec"), json_object_get(cur, "spec")) &&
         same(json_object_get(wm, "labels"), json_object_get(cm, "labels")) &&
         same(json_object_get(wm, "annotations"), json_object_get(cm, "annotations"));
}

enum ss_err ss_client_apply(struct ss_client *c, const json_t *obj, const char *ns,
                            enum ss_client_applied *what, json_t **out,
                            struct ss_client_error *err) {
  const struct ss_client_kind *k;
  const char *ons;
  const char *name = ss__client_name(obj);
  char path[SS_CLIENT_PATH_MAX];
  json_t *cur = NULL, *next = NULL, *stored = NULL;
  enum ss_err rc;
  if ((rc = target(c, obj, ns, &k, &ons, err)))
    goto out;
  if (!name || !*name) {
    rc = ss__client_fail(err, SS_EUSAGE, "metadata.name is required to apply");
    goto out;
  }
  if ((rc = path_of(k, ons, NULL, NULL, path, sizeof path, err)))
    goto out;
  *what = SS_CLIENT_CREATED; /* on failure, what says which step failed */
  rc = call(c, "POST", path, NULL, obj, &stored, err);
  if (rc != SS_EEXISTS)
    goto out;
  *what = SS_CLIENT_CONFIGURED;
  if ((rc = path_of(k, ons, name, NULL, path, sizeof path, err)))
    goto out;
  for (int attempt = 0; attempt < SS_CLIENT_APPLY_RETRIES; attempt++) {
    json_decref(cur);
    json_decref(next);
    cur = next = NULL;
    if ((rc = call(c, "GET", path, NULL, NULL, &cur, err)))
      goto out;
    if (unchanged(obj, cur)) {
      *what = SS_CLIENT_UNCHANGED;
      stored = json_incref(cur);
      goto out;
    }
    if (!(next = json_deep_copy(obj))) {
      rc = ss__client_fail(err, SS_ENOMEM, "out of memory");
      goto out;
    }
    /* The update is made on top of the version read: its resourceVersion
     * (so a concurrent change is a Conflict, not lost) and what the server
     * owns (uid, creationTimestamp, generation, status). */
    json_t *md = json_object_get(next, "metadata"), *cm = json_object_get(cur, "metadata");
    static const char *const owned[] = {"resourceVersion", "uid", "creationTimestamp",
                                        "generation", NULL};
    for (int i = 0; owned[i]; i++)
      if (json_object_get(cm, owned[i]))
        json_object_set(md, owned[i], json_object_get(cm, owned[i]));
    if (k->namespaced)
      json_object_set_new(md, "namespace", json_string(ons));
    if (json_object_get(cur, "status"))
      json_object_set(next, "status", json_object_get(cur, "status"));
    rc = call(c, "PUT", path, NULL, next, &stored, err);
    if (rc != SS_ECONFLICT)
      break;
  }
out:
  if (out && rc == SS_EOK)
    *out = stored;
  else
    json_decref(stored);
  json_decref(cur);
  json_decref(next);
  return rc;
}

enum ss_err ss_client_delete(struct ss_client *c, const struct ss_client_kind *k, const char *ns,
                             const char *name, struct ss_client_error *err) {
  char path[SS_CLIENT_PATH_MAX];
  enum ss_err rc = path_of(k, ns_or_default(c, k, ns), name, NULL, path, sizeof path, err);
  return rc ? rc : call(c, "DELETE", path, NULL, NULL, NULL, err);
}

enum ss_err ss_client_scale(struct ss_client *c, const struct ss_client_kind *k, const char *ns,
                            const char *name, long replicas, struct ss_client_error *err) {
  char path[SS_CLIENT_PATH_MAX];
  enum ss_err rc;
  if (!k->has_scale)
    return ss__client_fail(err, SS_EUNSUPPORTED, "%s cannot be scaled", k->plural);
  if ((rc = path_of(k, ns_or_default(c, k, ns), name, "scale", path, sizeof path, err)))
    return rc;
  json_t *patch = json_pack("{s:{s:I}}", "spec", "replicas", (json_int_t)replicas);
  if (!patch)
    return ss__client_fail(err, SS_ENOMEM, "out of memory");
  rc = call(c, "PATCH", path, "application/merge-patch+json", patch, NULL, err);
  json_decref(patch);
  return rc;
}

enum ss_err ss_client_get_scale(struct ss_client *c, const struct ss_client_kind *k,
                                const char *ns, const char *name, long *replicas,
                                struct ss_client_error *err) {
  char path[SS_CLIENT_PATH_MAX];
  json_t *scale = NULL;
  enum ss_err rc;
  if (!k->has_scale)
    return ss__client_fail(err, SS_EUNSUPPORTED, "%s cannot be scaled", k->plural);
  if ((rc = path_of(k, ns_or_default(c, k, ns), name, "scale", path, sizeof path, err)) ||
      (rc = call(c, "GET", path, NULL, NULL, &scale, err)))
    return rc;
  json_t *r = json_object_get(json_object_get(scale, "spec"), "replicas");
  if (json_is_integer(r))
    *replicas = (long)json_integer_value(r);
  else
    rc = ss__client_fail(err, SS_ESYNTAX, "the scale of %s has no spec.replicas", name);
  json_decref(scale);
  return rc;
}

enum ss_err ss_client_pod_log(struct ss_client *c, const char *ns, const char *pod, char **text,
                              size_t *len, struct ss_client_error *err) {
  char path[SS_CLIENT_PATH_MAX];
  struct ss_client_response r;
  enum ss_err rc = path_of(ss_client_kind_find("pods"), ns && *ns ? ns : ss_client_namespace(c),
                           pod, "log", path, sizeof path, err);
  if (rc || (rc = ss_client_request(c, "GET", path, NULL, NULL, 0, &r, err)))
    return rc;
  if (r.code < 200 || r.code >= 300) {
    rc = ss_client_error_from_response(&r, err);
  } else {
    *text = r.text;
    *len = r.len;
    r.text = NULL;
  }
  ss_client_response_free(&r);
  return rc;
}
