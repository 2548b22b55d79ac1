/* owners.c: ownerReferences (owners.h). */
#include "model/owners.h"

json_t *ss_controller_ref(const json_t *obj) {
  const json_t *md = json_object_get(obj, "metadata");
  return json_pack("{s:O?, s:O?, s:O?, s:O?, s:b, s:b}", "apiVersion",
                   json_object_get(obj, "apiVersion"), "kind", json_object_get(obj, "kind"),
                   "name", json_object_get(md, "name"), "uid", json_object_get(md, "uid"),
                   "controller", 1, "blockOwnerDeletion", 1);
}

const char *ss_controller_uid(const json_t *obj, const char **kind) {
  size_t i;
  const json_t *r;
  json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i, r)
    if (json_is_true(json_object_get(r, "controller"))) {
      if (kind)
        *kind = json_string_value(json_object_get(r, "kind"));
      return json_string_value(json_object_get(r, "uid"));
    }
  return NULL;
}
