/* core2.c: decoding and validation of Core 2 Models and Servers. */
#include "model/core2.h"

#include <string.h>

#include "model/fields.h"
#include "model/names.h"

static void decode_meta(struct ss__dec *d, json_t *root, const char **name, const char **ns) {
  json_t *md = ss__obj(d, root, "metadata", true);
  if (!md)
    return;
  size_t s = ss_path_key(&d->path, "metadata");
  const char *why;
  if (ss__str(d, md, "name", true, name) && (why = ss_dns1123_label(*name)))
    ss__err(d, "name", "invalid name \"%.100s\": %s", *name, why);
  if (ss__str(d, md, "namespace", false, ns) && (why = ss_dns1123_label(*ns)))
    ss__err(d, "namespace", "invalid name \"%.100s\": %s", *ns, why);
  ss__strmap(d, md, "labels");
  ss__strmap(d, md, "annotations");
  ss_path_pop(&d->path, s);
}

/* replicas, minReplicas, maxReplicas with their cross-checks. */
static void decode_bounds(struct ss__dec *d, json_t *spec, int32_t *replicas, int32_t *min,
                          int32_t *max) {
  *min = *max = -1;
  bool have_r = ss__int32(d, spec, "replicas", false, replicas);
  if (have_r && *replicas < 0)
    ss__err(d, "replicas", "must not be negative");
  else if (have_r)
    ss__replicas_within_limit(d, "replicas", *replicas);
  if (ss__int32(d, spec, "minReplicas", false, min) &&
      (*min < 0 || !ss__replicas_within_limit(d, "minReplicas", *min))) {
    if (*min < 0)
      ss__err(d, "minReplicas", "must not be negative");
    *min = -1;
  }
  if (ss__int32(d, spec, "maxReplicas", false, max) &&
      (*max < 1 || !ss__replicas_within_limit(d, "maxReplicas", *max))) {
    if (*max < 1)
      ss__err(d, "maxReplicas", "must be at least 1");
    *max = -1;
  }
  if (*min >= 0 && *max >= 0 && *min > *max)
    ss__err(d, "maxReplicas", "must be greater than or equal to minReplicas (%d)", *min);
  if (!have_r) {
    *replicas = *min > SS_CORE2_DEFAULT_REPLICAS ? *min : SS_CORE2_DEFAULT_REPLICAS;
    json_object_set_new(spec, "replicas", json_integer(*replicas));
  } else if (*replicas >= 0) {
    if (*min >= 0 && *replicas < *min)
      ss__err(d, "replicas", "must be at least minReplicas (%d)", *min);
    if (*max >= 0 && *replicas > *max)
      ss__err(d, "replicas", "must be at most maxReplicas (%d)", *max);
  }
}

void ss__model_decode(struct ss__dec *d, json_t *root, struct ss_model *out) {
  memset(out, 0, sizeof *out);
  decode_meta(d, root, &out->name, &out->namespace_);
  json_t *spec = ss__obj(d, root, "spec", true);
  if (!spec)
    return;
  size_t s = ss_path_key(&d->path, "spec");
  ss__known_fields(d, spec,
                   (const char *const[]){"storageUri", "artifactVersion", "schemaUri",
                                         "requirements", "memory", "server", "preloaded",
                                         "dedicated", "replicas", "minReplicas", "maxReplicas",
                                         "parameters", "explainer", "llm", "dataset", "logger",
                                         "secretName", NULL});
  if (ss__str(d, spec, "storageUri", true, &out->storage_uri) && !*out->storage_uri)
    ss__err(d, "storageUri", "must not be empty");
  ss__str(d, spec, "server", false, &out->server);
  json_t *req = ss__arr(d, spec, "requirements", false);
  if (req) {
    out->requirements = req;
    size_t s2 = ss_path_key(&d->path, "requirements");
    size_t i;
    json_t *v;
    json_array_foreach(req, i, v) {
      if (!json_is_string(v)) {
        size_t s3 = ss_path_index(&d->path, i);
        ss__err(d, NULL, "must be a string");
        ss_path_pop(&d->path, s3);
      }
    }
    ss_path_pop(&d->path, s2);
  }
  if (ss__qty(d, spec, "memory", false, &out->memory)) {
    if (out->memory.milli <= 0)
      ss__err(d, "memory", "must be greater than 0");
    else
      out->has_memory = true;
  }
  decode_bounds(d, spec, &out->replicas, &out->min_replicas, &out->max_replicas);
  ss_path_pop(&d->path, s);
}

void ss__server_decode(struct ss__dec *d, json_t *root, struct ss_server *out) {
  memset(out, 0, sizeof *out);
  decode_meta(d, root, &out->name, &out->namespace_);
  json_t *spec = ss__obj(d, root, "spec", true);
  if (!spec)
    return;
  size_t s = ss_path_key(&d->path, "spec");
  ss__known_fields(d, spec,
                   (const char *const[]){"serverConfig", "replicas", "minReplicas",
                                         "maxReplicas", "podSpec", "extraCapabilities",
                                         "capabilities", "disableAutoUpdate",
                                         "statefulSetPersistentVolumeClaimRetentionPolicy",
                                         NULL});
  if (ss__str(d, spec, "serverConfig", true, &out->server_config) && !*out->server_config)
    ss__err(d, "serverConfig", "must not be empty");
  out->pod_spec = ss__obj(d, spec, "podSpec", false);
  decode_bounds(d, spec, &out->replicas, &out->min_replicas, &out->max_replicas);
  ss_path_pop(&d->path, s);
}
