/* patch.c: RFC 7386 merge patch and RFC 6902 JSON patch with RFC 6901
 * pointers. */
#include "api/patch.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

json_t *ss_merge_patch(const json_t *target, const json_t *patch) {
  if (!json_is_object(patch))
    return json_deep_copy(patch);
  json_t *out = json_is_object(target) ? json_deep_copy(target) : json_object();
  if (!out)
    return NULL;
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)patch, k, v) {
    if (json_is_null(v)) {
      json_object_del(out, k);
      continue;
    }
    json_t *merged = ss_merge_patch(json_object_get(out, k), v);
    if (!merged || json_object_set_new(out, k, merged)) {
      json_decref(out);
      return NULL;
    }
  }
  return out;
}

/* Decodes one reference token (~1 -> /, ~0 -> ~) of s[0..n) into buf. */
static bool unescape(const char *s, size_t n, char *buf, size_t size) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '~') {
      if (i + 1 >= n || (s[i + 1] != '0' && s[i + 1] != '1'))
        return false;
      c = s[++i] == '0' ? '~' : '/';
    }
    if (o + 1 >= size)
      return false;
    buf[o++] = c;
  }
  buf[o] = '\0';
  return true;
}

/* Array index token: digits without leading zeros, or "-" (one past the end). */
static bool array_index(const char *tok, size_t size, bool allow_end, size_t *out) {
  if (strcmp(tok, "-") == 0) {
    *out = size;
    return allow_end;
  }
  if (!*tok || (tok[0] == '0' && tok[1]) || strspn(tok, "0123456789") != strlen(tok) ||
      strlen(tok) > 9)
    return false;
  *out = (size_t)strtoul(tok, NULL, 10);
  return allow_end ? *out <= size : *out < size;
}

/* Resolves pointer to the parent container and the last token. */
static bool resolve_parent(json_t *root, const char *ptr, json_t **parent, char *last,
                           size_t lastsize) {
  if (ptr[0] != '/')
    return false;
  json_t *cur = root;
  const char *p = ptr + 1;
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (!unescape(p, n, last, lastsize))
      return false;
    if (!slash) {
      *parent = cur;
      return true;
    }
    if (json_is_object(cur)) {
      cur = json_object_get(cur, last);
    } else if (json_is_array(cur)) {
      size_t i;
      if (!array_index(last, json_array_size(cur), false, &i))
        return false;
      cur = json_array_get(cur, i);
    } else {
      return false;
    }
    if (!cur)
      return false;
    p = slash + 1;
  }
}

static json_t *get_ptr(json_t *root, const char *ptr) {
  if (!*ptr)
    return root;
  json_t *parent;
  char last[1024];
  if (!resolve_parent(root, ptr, &parent, last, sizeof last))
    return NULL;
  if (json_is_object(parent))
    return json_object_get(parent, last);
  size_t i;
  if (json_is_array(parent) && array_index(last, json_array_size(parent), false, &i))
    return json_array_get(parent, i);
  return NULL;
}

/* Removes the value at ptr; returns it (a new reference) or NULL. */
static json_t *remove_ptr(json_t *root, const char *ptr) {
  json_t *parent;
  char last[1024];
  if (!*ptr || !resolve_parent(root, ptr, &parent, last, sizeof last))
    return NULL;
  json_t *v = NULL;
  if (json_is_object(parent)) {
    v = json_incref(json_object_get(parent, last));
    if (v)
      json_object_del(parent, last);
  } else if (json_is_array(parent)) {
    size_t i;
    if (array_index(last, json_array_size(parent), false, &i)) {
      v = json_incref(json_array_get(parent, i));
      json_array_remove(parent, i);
    }
  }
  return v;
}

/* Adds value (taken) at ptr; *root may be replaced for the "" pointer. */
static bool add_ptr(json_t **root, const char *ptr, json_t *value, bool replace) {
  if (!*ptr) {
    json_decref(*root);
    *root = value;
    return true;
  }
  json_t *parent;
  char last[1024];
  bool ok = false;
  if (resolve_parent(*root, ptr, &parent, last, sizeof last)) {
    if (json_is_object(parent)) {
      if (!replace || json_object_get(parent, last))
        ok = json_object_set(parent, last, value) == 0;
    } else if (json_is_array(parent)) {
      size_t i;
      if (replace) {
        if (array_index(last, json_array_size(parent), false, &i))
          ok = json_array_set(parent, i, value) == 0;
      } else if (array_index(last, json_array_size(parent), true, &i)) {
        ok = json_array_insert(parent, i, value) == 0;
      }
    }
  }
  json_decref(value);
  return ok;
}

/* Counts the values of v, found at depth (collections around it), into
 * *nodes; false as soon as a collection would be nested deeper than
 * SS_DOC_MAX_DEPTH or *nodes passes SS_DOC_MAX_NODES. Recurses at most
 * SS_DOC_MAX_DEPTH deep. */
static bool within_limits(const json_t *v, size_t depth, size_t *nodes) {
  if (++*nodes > SS_DOC_MAX_NODES)
    return false;
  if (!json_is_object(v) && !json_is_array(v))
    return true;
  if (depth >= SS_DOC_MAX_DEPTH)
    return false;
  const char *k;
  json_t *x;
  size_t i;
  if (json_is_object(v)) {
    json_object_foreach((json_t *)v, k, x) {
      if (!within_limits(x, depth + 1, nodes))
        return false;
    }
  } else {
    json_array_foreach((json_t *)v, i, x) {
      if (!within_limits(x, depth + 1, nodes))
        return false;
    }
  }
  return true;
}

/* How many collections enclose the value a pointer names. */
static size_t pointer_depth(const char *ptr) {
  size_t n = 0;
  for (; *ptr; ptr++)
    n += *ptr == '/';
  return n;
}

enum ss_err ss_json_patch(const json_t *target, const json_t *patch, json_t **out,
                          struct ss_error *err) {
  enum ss_err rc = SS_EOK;
  json_t *doc = NULL;
  size_t nodes = 0; /* values in doc, counted as they are added (never less) */
  if (!json_is_array(patch))
    return ss_error_set(err, SS_EINVALID, 0, 0, "a JSON patch must be an array of operations");
  if (!within_limits(target, 0, &nodes))
    return ss_error_set(err, SS_ELIMIT, 0, 0,
                        "the object is nested deeper than %d or holds more than %d values",
                        SS_DOC_MAX_DEPTH, SS_DOC_MAX_NODES);
  if (!(doc = json_deep_copy(target)))
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  size_t i;
  json_t *op;
  json_array_foreach(patch, i, op) {
    const char *name = json_string_value(json_object_get(op, "op"));
    const char *path = json_string_value(json_object_get(op, "path"));
    const char *from = json_string_value(json_object_get(op, "from"));
    json_t *value = json_object_get(op, "value");
    if (!name || !path) {
      rc = ss_error_set(err, SS_EINVALID, 0, 0, "operation %zu: needs \"op\" and \"path\"", i);
      goto out;
    }
    bool ok;
    if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0) {
      if (!value) {
        rc = ss_error_set(err, SS_EINVALID, 0, 0, "operation %zu (%s): needs \"value\"", i,
                          name);
        goto out;
      }
      if (!within_limits(value, pointer_depth(path), &nodes))
        goto too_big;
      ok = add_ptr(&doc, path, json_deep_copy(value), name[0] == 'r');
    } else if (strcmp(name, "remove") == 0) {
      json_t *v = remove_ptr(doc, path);
      ok = v != NULL;
      json_decref(v);
    } else if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
      if (!from) {
        rc = ss_error_set(err, SS_EINVALID, 0, 0, "operation %zu (%s): needs \"from\"", i,
                          name);
        goto out;
      }
      size_t fl = strlen(from);
      if (name[0] == 'm' && strncmp(path, from, fl) == 0 && path[fl] == '/') {
        rc = ss_error_set(err, SS_EINVALID, 0, 0,
                          "operation %zu (move): cannot move a value into itself", i);
        goto out;
      }
      json_t *src = get_ptr(doc, from);
      size_t moved = 0; /* a move adds no value, but may nest them deeper */
      if (src && !within_limits(src, pointer_depth(path), name[0] == 'm' ? &moved : &nodes))
        goto too_big;
      json_t *v = name[0] == 'm' ? remove_ptr(doc, from) : json_deep_copy(src);
      ok = v && add_ptr(&doc, path, v, false);
    } else if (strcmp(name, "test") == 0) {
      json_t *cur = get_ptr(doc, path);
      if (!cur || !value || !json_equal(cur, value)) {
        rc = ss_error_set(err, SS_ECONFLICT, 0, 0, "operation %zu (test): %s does not match",
                          i, path);
        goto out;
      }
      ok = true;
    } else {
      rc = ss_error_set(err, SS_EINVALID, 0, 0, "operation %zu: unknown op \"%s\"", i, name);
      goto out;
    }
    if (!ok) {
      rc = ss_error_set(err, SS_EINVALID, 0, 0, "operation %zu (%s): path %s does not exist",
                        i, name, path);
      goto out;
    }
  }
  *out = doc;
  doc = NULL;
out:
  json_decref(doc);
  return rc;
too_big:
  rc = ss_error_set(err, SS_ELIMIT, 0, 0,
                    "operation %zu: the result would be nested deeper than %d or hold more "
                    "than %d values",
                    i, SS_DOC_MAX_DEPTH, SS_DOC_MAX_NODES);
  goto out;
}
