/* images.c: image -> command resolution. */
#include "control/images.h"

#include <stdlib.h>
#include <string.h>

#include "model/doc.h"

#define SS_MOCK_IMAGE "seldonio/mock_classifier"

struct ss_image_map {
  json_t *images; /* pattern -> argv array */
  char *self_exe;
};

enum ss_err ss_image_map_load(const char *path, const char *self_exe,
                              struct ss_image_map **out, struct ss_error *err) {
  enum ss_err rc = SS_EOK;
  char *buf = NULL;
  size_t len = 0;
  struct ss_docs docs = {0};
  struct ss_image_map *m = calloc(1, sizeof *m);
  if (!m || !(m->self_exe = strdup(self_exe)) || !(m->images = json_object())) {
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    goto out;
  }
  if (path) {
    if ((rc = ss_read_file(path, &buf, &len, err)) || (rc = ss_docs_parse(buf, len, &docs, err)))
      goto out;
    json_t *images = docs.n ? json_object_get(docs.v[0]->root, "images") : NULL;
    if (!json_is_object(images)) {
      rc = ss_error_set(err, SS_EINVALID, 1, 1, "%s: expected a mapping \"images:\" of image "
                        "pattern to command", path);
      goto out;
    }
    const char *k;
    json_t *v;
    json_object_foreach(images, k, v) {
      bool ok = json_is_array(v) && json_array_size(v) > 0;
      size_t i;
      json_t *a;
      json_array_foreach(v, i, a) ok = ok && json_is_string(a);
      if (!ok) {
        struct ss_pos pos = {0, 0};
        char p[300];
        snprintf(p, sizeof p, "images[%s]", k);
        ss_doc_pos(docs.v[0], p, &pos);
        rc = ss_error_set(err, SS_EINVALID, pos.line, pos.col,
                          "%s: images[%s]: must be a non-empty list of strings (the command)",
                          path, k);
        goto out;
      }
      json_object_set(m->images, k, v);
    }
  }
  *out = m;
  m = NULL;
out:
  ss_docs_free(&docs);
  free(buf);
  ss_image_map_free(m);
  return rc;
}

void ss_image_map_free(struct ss_image_map *m) {
  if (!m)
    return;
  json_decref(m->images);
  free(m->self_exe);
  free(m);
}

static bool matches(const char *pattern, const char *image) {
  size_t n = strlen(pattern);
  if (n && pattern[n - 1] == '*')
    return strncmp(pattern, image, n - 1) == 0;
  return strcmp(pattern, image) == 0;
}

/* Images servescale serves itself: the mock classifier, Core 2's
 * multi-model server (a Server's pods run seldonio/mlserver), and Seldon's
 * SKLEARN_SERVER (model/sdep.c gives such a graph node a container of this
 * image, as Seldon's operator does) as model-server in Seldon's protocol,
 * which reads model_uri from the node's parameters. */
static const struct {
  const char *image, *subcommand, *flag; /* flag: NULL for none */
} builtins[] = {
    {SS_MOCK_IMAGE, "mock-classifier", NULL},
    {SS_MLSERVER_IMAGE, "model-server", NULL},
    {"seldonio/sklearnserver", "model-server", "--seldon"},
};

json_t *ss_image_map_resolve(const struct ss_image_map *m, const char *image) {
  if (!image)
    return NULL;
  const char *k;
  json_t *v;
  json_object_foreach(m->images, k, v) {
    if (matches(k, image))
      return json_deep_copy(v);
  }
  /* the built-in servers, with or without a registry or tag */
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
    const char *base = strstr(image, builtins[i].image);
    if (base && (base == image || base[-1] == '/')) {
      char c = base[strlen(builtins[i].image)];
      if ((c == '\0' || c == ':' || c == '@') && builtins[i].flag)
        return json_pack("[sss]", m->self_exe, builtins[i].subcommand, builtins[i].flag);
      if (c == '\0' || c == ':' || c == '@')
        return json_pack("[ss]", m->self_exe, builtins[i].subcommand);
    }
  }
  return NULL;
}
