/* files.c: objects from JSON or YAML files, for clients that send what a
 * user wrote. Parsing is the model's reader's; validation is the server's. */
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"
#include "model/doc.h"

enum ss_err ss_client_read_objects(const char *file, json_t **out, struct ss_client_error *err) {
  char *buf = NULL;
  size_t len = 0;
  struct ss_docs docs = {0};
  struct ss_error perr = {0};
  json_t *all = json_array();
  enum ss_err rc = SS_ENOMEM;
  *out = NULL;
  if (!all) {
    ss__client_fail(err, rc, "out of memory");
    goto out;
  }
  if ((rc = ss_read_file(file, &buf, &len, &perr)) || (rc = ss_docs_parse(buf, len, &docs, &perr))) {
    ss__client_fail(err, rc, "%s", perr.msg);
    if (err) {
      err->line = perr.line;
      err->col = perr.col;
    }
    goto out;
  }
  for (size_t i = 0; i < docs.n; i++) {
    json_t *root = docs.v[i]->root;
    const char *kind = json_string_value(json_object_get(root, "kind"));
    json_t *items = json_object_get(root, "items");
    if (kind && strcmp(kind, "List") == 0 && json_is_array(items))
      json_array_extend(all, items);
    else if (json_is_object(root))
      json_array_append(all, root);
    else {
      rc = ss__client_fail(err, SS_EINVALID, "document %zu is not an object", i + 1);
      if (err) {
        err->line = docs.v[i]->start.line;
        err->col = docs.v[i]->start.col;
      }
      goto out;
    }
  }
  *out = all;
  all = NULL;
  rc = SS_EOK;
out:
  json_decref(all);
  ss_docs_free(&docs);
  free(buf);
  return rc;
}
