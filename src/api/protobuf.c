/* protobuf.c: Kubernetes' protobuf request bodies decoded into JSON
 * through one schema table per kind (see protobuf.h); the handlers get the
 * object kubectl would have sent as JSON. Encoding is left to others: the
 * API answers in JSON, which kubectl accepts. */
#include "api/protobuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/internal.h"

/* ---- the schema tables, field numbers from k8s.io/api's generated.proto ---- */

enum pb_type {
  PB_STRING,
  PB_INT32,
  PB_INT64,
  PB_BOOL,
  PB_MSG,      /* a message: an object, kept when present even empty (a Go struct) */
  PB_MAP,      /* map<string, V>: repeated entries {1 key, 2 value}, table msg */
  PB_QUANTITY, /* resource.Quantity {1 string}: the string */
  PB_INTORSTR, /* intstr.IntOrString {1 type, 2 intVal, 3 strVal}: number or string */
  PB_TIME,     /* meta/v1 Time {1 seconds, 2 nanos}: RFC 3339, left out when zero */
  PB_RAW       /* runtime.Unknown's raw: the object's own message, kept aside */
};

enum {
  PB_REP = 1,   /* repeated: a JSON array */
  PB_KEEP = 2,  /* a pointer in Go, or no omitempty: kept when zero */
  PB_INLINE = 4 /* embedded with json:",inline": its fields go into the parent */
};

struct pb_msg;

struct pb_field {
  uint32_t num;
  const char *name;
  enum pb_type type;
  unsigned flags;
  const struct pb_msg *msg; /* PB_MSG, PB_MAP */
};

struct pb_msg {
  const struct pb_field *f;
  size_t n;
};

#define PB_TABLE(name, ...)                                                                  \
  static const struct pb_field name##_f[] = {__VA_ARGS__};                                  \
  static const struct pb_msg name = {name##_f, sizeof name##_f / sizeof name##_f[0]}

/* status is the status subresource's: a body's is kept as an empty object */
static const struct pb_msg no_fields = {NULL, 0};

/* apimachinery: pkg/runtime, pkg/apis/meta/v1, pkg/api/resource, pkg/util/intstr */
PB_TABLE(type_meta, {1, "apiVersion", PB_STRING, 0, NULL}, {2, "kind", PB_STRING, 0, NULL});
PB_TABLE(unknown, {1, "typeMeta", PB_MSG, 0, &type_meta}, {2, "raw", PB_RAW, 0, NULL},
         {3, "contentEncoding", PB_STRING, 0, NULL}, {4, "contentType", PB_STRING, 0, NULL});
PB_TABLE(quantity, {1, "string", PB_STRING, PB_KEEP, NULL});
PB_TABLE(int_or_string, {1, "type", PB_INT64, PB_KEEP, NULL},
         {2, "intVal", PB_INT32, PB_KEEP, NULL}, {3, "strVal", PB_STRING, PB_KEEP, NULL});
PB_TABLE(timestamp, {1, "seconds", PB_INT64, PB_KEEP, NULL}, {2, "nanos", PB_INT32, PB_KEEP, NULL});
PB_TABLE(map_string, {1, "key", PB_STRING, PB_KEEP, NULL}, {2, "value", PB_STRING, PB_KEEP, NULL});
PB_TABLE(map_quantity, {1, "key", PB_STRING, PB_KEEP, NULL},
         {2, "value", PB_QUANTITY, PB_KEEP, NULL});
PB_TABLE(owner_reference, {1, "kind", PB_STRING, PB_KEEP, NULL},
         {3, "name", PB_STRING, PB_KEEP, NULL}, {4, "uid", PB_STRING, PB_KEEP, NULL},
         {5, "apiVersion", PB_STRING, PB_KEEP, NULL}, {6, "controller", PB_BOOL, PB_KEEP, NULL},
         {7, "blockOwnerDeletion", PB_BOOL, PB_KEEP, NULL});
/* 17 managedFields is the API server's bookkeeping: skipped */
PB_TABLE(object_meta, {1, "name", PB_STRING, 0, NULL}, {2, "generateName", PB_STRING, 0, NULL},
         {3, "namespace", PB_STRING, 0, NULL}, {4, "selfLink", PB_STRING, 0, NULL},
         {5, "uid", PB_STRING, 0, NULL}, {6, "resourceVersion", PB_STRING, 0, NULL},
         {7, "generation", PB_INT64, 0, NULL}, {8, "creationTimestamp", PB_TIME, 0, NULL},
         {9, "deletionTimestamp", PB_TIME, 0, NULL},
         {10, "deletionGracePeriodSeconds", PB_INT64, PB_KEEP, NULL},
         {11, "labels", PB_MAP, 0, &map_string}, {12, "annotations", PB_MAP, 0, &map_string},
         {13, "ownerReferences", PB_MSG, PB_REP, &owner_reference},
         {14, "finalizers", PB_STRING, PB_REP, NULL});
PB_TABLE(label_selector_requirement, {1, "key", PB_STRING, PB_KEEP, NULL},
         {2, "operator", PB_STRING, PB_KEEP, NULL}, {3, "values", PB_STRING, PB_REP, NULL});
PB_TABLE(label_selector, {1, "matchLabels", PB_MAP, 0, &map_string},
         {2, "matchExpressions", PB_MSG, PB_REP, &label_selector_requirement});

/* core/v1: the PodSpec's usual fields (volumes, affinity, tolerations,
 * security contexts, lifecycle hooks are skipped) */
PB_TABLE(local_object_reference, {1, "name", PB_STRING, 0, NULL});
PB_TABLE(key_selector, {1, "localObjectReference", PB_MSG, PB_INLINE, &local_object_reference},
         {2, "key", PB_STRING, PB_KEEP, NULL}, {3, "optional", PB_BOOL, PB_KEEP, NULL});
PB_TABLE(object_field_selector, {1, "apiVersion", PB_STRING, 0, NULL},
         {2, "fieldPath", PB_STRING, PB_KEEP, NULL});
PB_TABLE(resource_field_selector, {1, "containerName", PB_STRING, 0, NULL},
         {2, "resource", PB_STRING, PB_KEEP, NULL}, {3, "divisor", PB_QUANTITY, 0, NULL});
PB_TABLE(env_var_source, {1, "fieldRef", PB_MSG, 0, &object_field_selector},
         {2, "resourceFieldRef", PB_MSG, 0, &resource_field_selector},
         {3, "configMapKeyRef", PB_MSG, 0, &key_selector},
         {4, "secretKeyRef", PB_MSG, 0, &key_selector});
PB_TABLE(env_var, {1, "name", PB_STRING, PB_KEEP, NULL}, {2, "value", PB_STRING, 0, NULL},
         {3, "valueFrom", PB_MSG, 0, &env_var_source});
PB_TABLE(env_source, {1, "localObjectReference", PB_MSG, PB_INLINE, &local_object_reference},
         {2, "optional", PB_BOOL, PB_KEEP, NULL});
PB_TABLE(env_from_source, {1, "prefix", PB_STRING, 0, NULL},
         {2, "configMapRef", PB_MSG, 0, &env_source}, {3, "secretRef", PB_MSG, 0, &env_source});
PB_TABLE(container_port, {1, "name", PB_STRING, 0, NULL}, {2, "hostPort", PB_INT32, 0, NULL},
         {3, "containerPort", PB_INT32, PB_KEEP, NULL}, {4, "protocol", PB_STRING, 0, NULL},
         {5, "hostIP", PB_STRING, 0, NULL});
PB_TABLE(resource_claim, {1, "name", PB_STRING, PB_KEEP, NULL},
         {2, "request", PB_STRING, 0, NULL});
PB_TABLE(resource_requirements, {1, "limits", PB_MAP, 0, &map_quantity},
         {2, "requests", PB_MAP, 0, &map_quantity},
         {3, "claims", PB_MSG, PB_REP, &resource_claim});
PB_TABLE(volume_mount, {1, "name", PB_STRING, PB_KEEP, NULL},
         {2, "readOnly", PB_BOOL, 0, NULL}, {3, "mountPath", PB_STRING, PB_KEEP, NULL},
         {4, "subPath", PB_STRING, 0, NULL}, {5, "mountPropagation", PB_STRING, PB_KEEP, NULL},
         {6, "subPathExpr", PB_STRING, 0, NULL},
         {7, "recursiveReadOnly", PB_STRING, PB_KEEP, NULL});
PB_TABLE(exec_action, {1, "command", PB_STRING, PB_REP, NULL});
PB_TABLE(http_header, {1, "name", PB_STRING, PB_KEEP, NULL},
         {2, "value", PB_STRING, PB_KEEP, NULL});
PB_TABLE(http_get_action, {1, "path", PB_STRING, 0, NULL},
         {2, "port", PB_INTORSTR, 0, NULL}, {3, "host", PB_STRING, 0, NULL},
         {4, "scheme", PB_STRING, 0, NULL}, {5, "httpHeaders", PB_MSG, PB_REP, &http_header});
PB_TABLE(tcp_socket_action, {1, "port", PB_INTORSTR, 0, NULL},
         {2, "host", PB_STRING, 0, NULL});
PB_TABLE(grpc_action, {1, "port", PB_INT32, PB_KEEP, NULL},
         {2, "service", PB_STRING, PB_KEEP, NULL});
PB_TABLE(probe_handler, {1, "exec", PB_MSG, 0, &exec_action},
         {2, "httpGet", PB_MSG, 0, &http_get_action},
         {3, "tcpSocket", PB_MSG, 0, &tcp_socket_action}, {4, "grpc", PB_MSG, 0, &grpc_action});
PB_TABLE(probe, {1, "handler", PB_MSG, PB_INLINE, &probe_handler},
         {2, "initialDelaySeconds", PB_INT32, 0, NULL}, {3, "timeoutSeconds", PB_INT32, 0, NULL},
         {4, "periodSeconds", PB_INT32, 0, NULL}, {5, "successThreshold", PB_INT32, 0, NULL},
         {6, "failureThreshold", PB_INT32, 0, NULL},
         {7, "terminationGracePeriodSeconds", PB_INT64, PB_KEEP, NULL});
PB_TABLE(container, {1, "name", PB_STRING, PB_KEEP, NULL}, {2, "image", PB_STRING, 0, NULL},
         {3, "command", PB_STRING, PB_REP, NULL}, {4, "args", PB_STRING, PB_REP, NULL},
         {5, "workingDir", PB_STRING, 0, NULL},
         {6, "ports", PB_MSG, PB_REP, &container_port},
         {7, "env", PB_MSG, PB_REP, &env_var},
         {8, "resources", PB_MSG, 0, &resource_requirements},
         {9, "volumeMounts", PB_MSG, PB_REP, &volume_mount},
         {10, "livenessProbe", PB_MSG, 0, &probe}, {11, "readinessProbe", PB_MSG, 0, &probe},
         {13, "terminationMessagePath", PB_STRING, 0, NULL},
         {14, "imagePullPolicy", PB_STRING, 0, NULL}, {16, "stdin", PB_BOOL, 0, NULL},
         {17, "stdinOnce", PB_BOOL, 0, NULL}, {18, "tty", PB_BOOL, 0, NULL},
         {19, "envFrom", PB_MSG, PB_REP, &env_from_source},
         {20, "terminationMessagePolicy", PB_STRING, 0, NULL},
         {22, "startupProbe", PB_MSG, 0, &probe},
         {24, "restartPolicy", PB_STRING, PB_KEEP, NULL});
PB_TABLE(pod_spec, {2, "containers", PB_MSG, PB_REP, &container},
         {3, "restartPolicy", PB_STRING, 0, NULL},
         {4, "terminationGracePeriodSeconds", PB_INT64, PB_KEEP, NULL},
         {5, "activeDeadlineSeconds", PB_INT64, PB_KEEP, NULL},
         {6, "dnsPolicy", PB_STRING, 0, NULL}, {7, "nodeSelector", PB_MAP, 0, &map_string},
         {8, "serviceAccountName", PB_STRING, 0, NULL},
         {9, "serviceAccount", PB_STRING, 0, NULL}, {10, "nodeName", PB_STRING, 0, NULL},
         {11, "hostNetwork", PB_BOOL, 0, NULL},
         {15, "imagePullSecrets", PB_MSG, PB_REP, &local_object_reference},
         {16, "hostname", PB_STRING, 0, NULL}, {17, "subdomain", PB_STRING, 0, NULL},
         {19, "schedulerName", PB_STRING, 0, NULL},
         {20, "initContainers", PB_MSG, PB_REP, &container},
         {21, "automountServiceAccountToken", PB_BOOL, PB_KEEP, NULL},
         {24, "priorityClassName", PB_STRING, 0, NULL}, {25, "priority", PB_INT32, PB_KEEP, NULL},
         {30, "enableServiceLinks", PB_BOOL, PB_KEEP, NULL});
PB_TABLE(pod_template_spec, {1, "metadata", PB_MSG, 0, &object_meta},
         {2, "spec", PB_MSG, 0, &pod_spec});
PB_TABLE(namespace_spec, {1, "finalizers", PB_STRING, PB_REP, NULL});
PB_TABLE(namespace_status, {1, "phase", PB_STRING, 0, NULL});
PB_TABLE(namespace, {1, "metadata", PB_MSG, 0, &object_meta},
         {2, "spec", PB_MSG, 0, &namespace_spec}, {3, "status", PB_MSG, 0, &namespace_status});

/* apps/v1 */
PB_TABLE(rolling_update_deployment, {1, "maxUnavailable", PB_INTORSTR, 0, NULL},
         {2, "maxSurge", PB_INTORSTR, 0, NULL});
PB_TABLE(deployment_strategy, {1, "type", PB_STRING, 0, NULL},
         {2, "rollingUpdate", PB_MSG, 0, &rolling_update_deployment});
PB_TABLE(deployment_spec, {1, "replicas", PB_INT32, PB_KEEP, NULL},
         {2, "selector", PB_MSG, 0, &label_selector},
         {3, "template", PB_MSG, 0, &pod_template_spec},
         {4, "strategy", PB_MSG, 0, &deployment_strategy},
         {5, "minReadySeconds", PB_INT32, 0, NULL},
         {6, "revisionHistoryLimit", PB_INT32, PB_KEEP, NULL}, {7, "paused", PB_BOOL, 0, NULL},
         {9, "progressDeadlineSeconds", PB_INT32, PB_KEEP, NULL});
PB_TABLE(deployment, {1, "metadata", PB_MSG, 0, &object_meta},
         {2, "spec", PB_MSG, 0, &deployment_spec}, {3, "status", PB_MSG, 0, &no_fields});

/* autoscaling/v2 and v1 */
PB_TABLE(cross_version_object_reference, {1, "kind", PB_STRING, PB_KEEP, NULL},
         {2, "name", PB_STRING, PB_KEEP, NULL}, {3, "apiVersion", PB_STRING, 0, NULL});
PB_TABLE(metric_identifier, {1, "name", PB_STRING, PB_KEEP, NULL},
         {2, "selector", PB_MSG, 0, &label_selector});
PB_TABLE(metric_target, {1, "type", PB_STRING, PB_KEEP, NULL},
         {2, "value", PB_QUANTITY, 0, NULL}, {3, "averageValue", PB_QUANTITY, 0, NULL},
         {4, "averageUtilization", PB_INT32, PB_KEEP, NULL});
PB_TABLE(object_metric_source, {1, "describedObject", PB_MSG, 0, &cross_version_object_reference},
         {2, "target", PB_MSG, 0, &metric_target}, {3, "metric", PB_MSG, 0, &metric_identifier});
PB_TABLE(metric_and_target, {1, "metric", PB_MSG, 0, &metric_identifier},
         {2, "target", PB_MSG, 0, &metric_target}); /* PodsMetricSource, ExternalMetricSource */
PB_TABLE(resource_metric_source, {1, "name", PB_STRING, PB_KEEP, NULL},
         {2, "target", PB_MSG, 0, &metric_target});
PB_TABLE(container_resource_metric_source, {1, "name", PB_STRING, PB_KEEP, NULL},
         {2, "target", PB_MSG, 0, &metric_target}, {3, "container", PB_STRING, PB_KEEP, NULL});
PB_TABLE(metric_spec, {1, "type", PB_STRING, PB_KEEP, NULL},
         {2, "object", PB_MSG, 0, &object_metric_source},
         {3, "pods", PB_MSG, 0, &metric_and_target},
         {4, "resource", PB_MSG, 0, &resource_metric_source},
         {5, "external", PB_MSG, 0, &metric_and_target},
         {7, "containerResource", PB_MSG, 0, &container_resource_metric_source});
PB_TABLE(hpa_scaling_policy, {1, "type", PB_STRING, PB_KEEP, NULL},
         {2, "value", PB_INT32, PB_KEEP, NULL}, {3, "periodSeconds", PB_INT32, PB_KEEP, NULL});
PB_TABLE(hpa_scaling_rules, {1, "selectPolicy", PB_STRING, PB_KEEP, NULL},
         {2, "policies", PB_MSG, PB_REP, &hpa_scaling_policy},
         {3, "stabilizationWindowSeconds", PB_INT32, PB_KEEP, NULL},
         {4, "tolerance", PB_QUANTITY, 0, NULL});
PB_TABLE(hpa_behavior, {1, "scaleUp", PB_MSG, 0, &hpa_scaling_rules},
         {2, "scaleDown", PB_MSG, 0, &hpa_scaling_rules});
PB_TABLE(hpa_v2_spec, {1, "scaleTargetRef", PB_MSG, 0, &cross_version_object_reference},
         {2, "minReplicas", PB_INT32, PB_KEEP, NULL}, {3, "maxReplicas", PB_INT32, PB_KEEP, NULL},
         {4, "metrics", PB_MSG, PB_REP, &metric_spec},
         {5, "behavior", PB_MSG, 0, &hpa_behavior});
PB_TABLE(hpa_v2, {1, "metadata", PB_MSG, 0, &object_meta}, {2, "spec", PB_MSG, 0, &hpa_v2_spec},
         {3, "status", PB_MSG, 0, &no_fields});
PB_TABLE(hpa_v1_spec, {1, "scaleTargetRef", PB_MSG, 0, &cross_version_object_reference},
         {2, "minReplicas", PB_INT32, PB_KEEP, NULL}, {3, "maxReplicas", PB_INT32, PB_KEEP, NULL},
         {4, "targetCPUUtilizationPercentage", PB_INT32, PB_KEEP, NULL});
PB_TABLE(hpa_v1, {1, "metadata", PB_MSG, 0, &object_meta}, {2, "spec", PB_MSG, 0, &hpa_v1_spec},
         {3, "status", PB_MSG, 0, &no_fields});

/* The kinds with a table; any other is 415. */
static const struct pb_kind {
  const char *api_version, *kind;
  const struct pb_msg *msg;
} pb_kinds[] = {
    {"v1", "Namespace", &namespace},
    {"apps/v1", "Deployment", &deployment},
    {"autoscaling/v2", "HorizontalPodAutoscaler", &hpa_v2},
    {"autoscaling/v1", "HorizontalPodAutoscaler", &hpa_v1},
};

/* ---- reading the wire ---- */

#define PB_MAGIC "k8s\0"
#define PB_MAGIC_LEN 4
#define PB_MAX_FIELD_NUMBER 536870911u /* 2^29 - 1, protobuf's largest */

struct pb_dec {
  const uint8_t *base; /* the body, for byte offsets in messages */
  struct ss_api_pb_limits lim;
  size_t values;
  char path[512]; /* the JSON path of the field being read */
  size_t path_len;
  const uint8_t *raw; /* runtime.Unknown's raw, when seen */
  size_t raw_len;
  struct ss_error *err;
};

/* A view of the bytes of one message. */
struct pb_cur {
  const uint8_t *p, *end;
};

static enum ss_err fail(struct pb_dec *d, const uint8_t *at, enum ss_err code, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));

static enum ss_err fail(struct pb_dec *d, const uint8_t *at, enum ss_err code, const char *fmt,
                        ...) {
  char why[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return ss_error_set(d->err, code, 0, 0, "protobuf: %s%s%s (byte %zu)", d->path,
                      d->path_len ? ": " : "", why, (size_t)(at - d->base));
}

/* Appends ".name" (or "name" at the start) to the path; returns the length
 * to restore. A path too long for the buffer is cut. */
static size_t path_key(struct pb_dec *d, const char *name) {
  size_t old = d->path_len;
  int n = snprintf(d->path + old, sizeof d->path - old, "%s%s", old ? "." : "", name);
  d->path_len = n < 0 ? old : old + (size_t)n;
  if (d->path_len >= sizeof d->path)
    d->path_len = sizeof d->path - 1;
  return old;
}

static size_t path_index(struct pb_dec *d, size_t i) {
  size_t old = d->path_len;
  int n = snprintf(d->path + old, sizeof d->path - old, "[%zu]", i);
  d->path_len = n < 0 ? old : old + (size_t)n;
  if (d->path_len >= sizeof d->path)
    d->path_len = sizeof d->path - 1;
  return old;
}

static void path_pop(struct pb_dec *d, size_t len) {
  d->path_len = len;
  d->path[len] = '\0';
}

static enum ss_err get_varint(struct pb_dec *d, struct pb_cur *c, uint64_t *v) {
  uint64_t r = 0;
  const uint8_t *start = c->p;
  for (unsigned i = 0; i < 10; i++) {
    if (c->p >= c->end)
      return fail(d, start, SS_ESYNTAX, "truncated varint");
    uint8_t b = *c->p++;
    if (i == 9 && b > 1)
      return fail(d, start, SS_ESYNTAX, "bad varint: longer than 64 bits");
    r |= (uint64_t)(b & 0x7f) << (7 * i);
    if (b < 0x80) {
      *v = r;
      return SS_EOK;
    }
  }
  return fail(d, start, SS_ESYNTAX, "bad varint: longer than 64 bits"); /* not reached */
}

/* A length-delimited value: its bytes as *sub; c moves past them. */
static enum ss_err get_bytes(struct pb_dec *d, struct pb_cur *c, struct pb_cur *sub) {
  const uint8_t *at = c->p;
  uint64_t len;
  enum ss_err rc = get_varint(d, c, &len);
  if (rc)
    return rc;
  size_t left = (size_t)(c->end - c->p);
  if (len > left)
    return fail(d, at, SS_ESYNTAX, "length %llu runs past the end of its message (%zu bytes left)",
                (unsigned long long)len, left);
  sub->p = c->p;
  sub->end = c->p + len;
  c->p += len;
  return SS_EOK;
}

/* Skips one value of a field no table names. */
static enum ss_err skip(struct pb_dec *d, struct pb_cur *c, unsigned wire, const uint8_t *at) {
  uint64_t v;
  struct pb_cur sub;
  size_t need = wire == 1 ? 8 : 4;
  switch (wire) {
  case 0:
    return get_varint(d, c, &v);
  case 2:
    return get_bytes(d, c, &sub);
  case 1:
  case 5:
    if ((size_t)(c->end - c->p) < need)
      return fail(d, at, SS_ESYNTAX, "truncated %zu-byte field", need);
    c->p += need;
    return SS_EOK;
  case 3:
  case 4:
    return fail(d, at, SS_ESYNTAX, "group wire type %u (Kubernetes' messages have none)", wire);
  default:
    return fail(d, at, SS_ESYNTAX, "invalid wire type %u", wire);
  }
}

/* ---- values ---- */

/* Counts a new value against the limit; NULL v is out of memory. */
static enum ss_err counted(struct pb_dec *d, json_t *v, const uint8_t *at) {
  if (!v)
    return fail(d, at, SS_ENOMEM, "out of memory");
  if (++d->values > d->lim.max_values)
    return fail(d, at, SS_ELIMIT, "more than %zu values", d->lim.max_values);
  return SS_EOK;
}

static enum ss_err make_string(struct pb_dec *d, struct pb_cur s, const uint8_t *at,
                               json_t **out) {
  size_t len = (size_t)(s.end - s.p);
  *out = NULL;
  if (len > SS_API_PB_MAX_STRING)
    return fail(d, at, SS_ELIMIT, "a string of %zu bytes, over the limit of %zu", len,
                (size_t)SS_API_PB_MAX_STRING);
  if (memchr(s.p, '\0', len))
    return fail(d, at, SS_ESYNTAX, "the string holds a NUL byte");
  *out = json_stringn((const char *)s.p, len);
  if (!*out)
    return fail(d, at, SS_ESYNTAX, "the string is not valid UTF-8");
  return counted(d, *out, at);
}

static enum ss_err make_scalar(struct pb_dec *d, enum pb_type t, uint64_t v, const uint8_t *at,
                               json_t **out) {
  if (t == PB_INT32)
    *out = json_integer((int32_t)(uint32_t)v); /* Go's int32(v): sign-extended on the wire */
  else if (t == PB_INT64)
    *out = json_integer((json_int_t)(int64_t)v);
  else
    *out = json_boolean(v != 0);
  return counted(d, *out, at);
}

static bool is_zero(const json_t *v) {
  return (json_is_string(v) && json_string_length(v) == 0) ||
         (json_is_integer(v) && json_integer_value(v) == 0) || json_is_false(v);
}

/* Puts v (owned; NULL: nothing) as f's value in obj: appended when
 * repeated; else it replaces an earlier one (the last wins, as in
 * protobuf), and a zero value Go would omit removes it. */
static enum ss_err place(struct pb_dec *d, const struct pb_field *f, json_t *obj, json_t *v,
                         const uint8_t *at) {
  if ((f->flags & PB_REP) && !v)
    return SS_EOK;
  if (f->flags & PB_REP) {
    json_t *arr = json_object_get(obj, f->name);
    if (!json_is_array(arr)) {
      enum ss_err rc = counted(d, arr = json_array(), at);
      if (rc || json_object_set_new(obj, f->name, arr)) {
        json_decref(v);
        return rc ? rc : fail(d, at, SS_ENOMEM, "out of memory");
      }
    }
    return json_array_append_new(arr, v) ? fail(d, at, SS_ENOMEM, "out of memory") : SS_EOK;
  }
  if (!v || (!(f->flags & PB_KEEP) && is_zero(v))) {
    json_decref(v);
    json_object_del(obj, f->name);
    return SS_EOK;
  }
  return json_object_set_new(obj, f->name, v) ? fail(d, at, SS_ENOMEM, "out of memory") : SS_EOK;
}

static enum ss_err decode_msg(struct pb_dec *d, const struct pb_msg *m, struct pb_cur c,
                              json_t *obj, unsigned depth);

/* A message decoded into a new object (for the types made from one). */
static enum ss_err decode_new(struct pb_dec *d, const struct pb_msg *m, struct pb_cur s,
                              unsigned depth, const uint8_t *at, json_t **out) {
  enum ss_err rc = counted(d, *out = json_object(), at);
  if (!rc)
    rc = decode_msg(d, m, s, *out, depth);
  if (rc) {
    json_decref(*out);
    *out = NULL;
  }
  return rc;
}

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the years RFC 3339 writes */
#define PB_MIN_SECONDS (-62135596800LL)
#define PB_MAX_SECONDS 253402300799LL

static enum ss_err make_time(struct pb_dec *d, const json_t *ts, const uint8_t *at,
                             json_t **out) {
  json_int_t s = json_integer_value(json_object_get(ts, "seconds"));
  json_int_t ns = json_integer_value(json_object_get(ts, "nanos"));
  struct tm tm;
  char buf[32];
  *out = NULL;
  if (s == 0 && ns == 0)
    return SS_EOK; /* the zero Time: Go writes null */
  if (s < PB_MIN_SECONDS || s > PB_MAX_SECONDS)
    return fail(d, at, SS_ESYNTAX, "time %lld seconds is outside years 1-9999", (long long)s);
  time_t t = (time_t)s;
  if (!gmtime_r(&t, &tm))
    return fail(d, at, SS_ESYNTAX, "time %lld seconds cannot be written", (long long)s);
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return counted(d, *out = json_string(buf), at);
}

static enum ss_err make_int_or_string(struct pb_dec *d, const json_t *ios, const uint8_t *at,
                                      json_t **out) {
  json_int_t type = json_integer_value(json_object_get(ios, "type"));
  *out = NULL;
  if (type == 0)
    *out = json_integer(json_integer_value(json_object_get(ios, "intVal")));
  else if (type == 1)
    *out = json_deep_copy(json_object_get(ios, "strVal"));
  else
    return fail(d, at, SS_ESYNTAX, "IntOrString type %lld is neither 0 (int) nor 1 (string)",
                (long long)type);
  if (!*out) /* type 1 without strVal: Go writes "" */
    *out = json_string("");
  return counted(d, *out, at);
}

/* A value of one of the types made from a small message (Quantity,
 * IntOrString, Time): *out, or NULL when it is left out. */
static enum ss_err make_special(struct pb_dec *d, enum pb_type t, struct pb_cur s,
                                unsigned depth, const uint8_t *at, json_t **out) {
  const struct pb_msg *m = t == PB_QUANTITY ? &quantity : t == PB_INTORSTR ? &int_or_string
                                                                            : &timestamp;
  json_t *tmp = NULL;
  enum ss_err rc = decode_new(d, m, s, depth, at, &tmp);
  *out = NULL;
  if (!rc && t == PB_QUANTITY) {
    *out = json_object_get(tmp, "string");
    *out = *out ? json_incref(*out) : json_string("0"); /* Go's zero Quantity */
    rc = counted(d, *out, at);
  } else if (!rc && t == PB_INTORSTR) {
    rc = make_int_or_string(d, tmp, at, out);
  } else if (!rc) {
    rc = make_time(d, tmp, at, out);
  }
  json_decref(tmp);
  return rc;
}

/* One map entry {1 key, 2 value} set in the object obj[f->name]. */
static enum ss_err map_entry(struct pb_dec *d, const struct pb_field *f, struct pb_cur s,
                             json_t *obj, unsigned depth, const uint8_t *at) {
  json_t *entry = NULL;
  enum ss_err rc = decode_new(d, f->msg, s, depth, at, &entry);
  if (rc)
    return rc;
  json_t *map = json_object_get(obj, f->name);
  if (!json_is_object(map)) {
    rc = counted(d, map = json_object(), at);
    if (rc || json_object_set_new(obj, f->name, map))
      rc = rc ? rc : fail(d, at, SS_ENOMEM, "out of memory");
  }
  const char *key = json_string_value(json_object_get(entry, "key"));
  json_t *value = json_object_get(entry, "value");
  bool is_quantity = f->msg == &map_quantity;
  if (!rc && json_object_set_new(map, key ? key : "",
                                 value ? json_incref(value) : json_string(is_quantity ? "0" : "")))
    rc = fail(d, at, SS_ENOMEM, "out of memory");
  json_decref(entry);
  return rc;
}

/* A nested message: into obj itself (inline), a new array element, or
 * the object already there (protobuf merges a repeated message field). */
static enum ss_err nested(struct pb_dec *d, const struct pb_field *f, struct pb_cur s,
                          json_t *obj, unsigned depth, const uint8_t *at) {
  if (f->flags & PB_INLINE)
    return decode_msg(d, f->msg, s, obj, depth);
  if (f->flags & PB_REP) {
    json_t *arr = json_object_get(obj, f->name);
    size_t mark = path_index(d, json_is_array(arr) ? json_array_size(arr) : 0);
    json_t *v = NULL;
    enum ss_err rc = decode_new(d, f->msg, s, depth, at, &v);
    path_pop(d, mark);
    return rc ? rc : place(d, f, obj, v, at);
  }
  json_t *cur = json_object_get(obj, f->name);
  if (json_is_object(cur))
    return decode_msg(d, f->msg, s, cur, depth);
  json_t *v = NULL;
  enum ss_err rc = decode_new(d, f->msg, s, depth, at, &v);
  if (rc)
    return rc;
  return json_object_set_new(obj, f->name, v) ? fail(d, at, SS_ENOMEM, "out of memory") : SS_EOK;
}

static bool is_varint_type(enum pb_type t) {
  return t == PB_INT32 || t == PB_INT64 || t == PB_BOOL;
}

/* A length-delimited value of field f. */
static enum ss_err delimited(struct pb_dec *d, const struct pb_field *f, struct pb_cur *c,
                             json_t *obj, unsigned depth, const uint8_t *at) {
  struct pb_cur s;
  json_t *v = NULL;
  enum ss_err rc = get_bytes(d, c, &s);
  if (rc)
    return rc;
  switch (f->type) {
  case PB_STRING:
    rc = make_string(d, s, at, &v);
    break;
  case PB_MSG:
    return nested(d, f, s, obj, depth + 1, at);
  case PB_MAP:
    return map_entry(d, f, s, obj, depth + 1, at);
  case PB_RAW:
    d->raw = s.p;
    d->raw_len = (size_t)(s.end - s.p);
    return SS_EOK;
  default:
    rc = make_special(d, f->type, s, depth + 1, at, &v);
    break;
  }
  if (rc) {
    json_decref(v);
    return rc;
  }
  return place(d, f, obj, v, at);
}

static const char *wire_name(unsigned wire) {
  static const char *const names[] = {"varint", "fixed64", "length-delimited", "group start",
                                      "group end", "fixed32", "invalid 6", "invalid 7"};
  return names[wire & 7];
}

/* One value of field f, whose key (at at) said wire type wire. */
static enum ss_err decode_field(struct pb_dec *d, const struct pb_field *f, unsigned wire,
                                struct pb_cur *c, json_t *obj, unsigned depth,
                                const uint8_t *at) {
  bool varint = is_varint_type(f->type);
  size_t mark = (f->flags & PB_INLINE) ? d->path_len : path_key(d, f->name);
  enum ss_err rc;
  if (varint != (wire == 0) || (!varint && wire != 2)) {
    rc = fail(d, at, SS_ESYNTAX, "wire type %s where %s is expected", wire_name(wire),
              wire_name(varint ? 0 : 2));
  } else if (varint) {
    uint64_t v;
    json_t *j = NULL;
    rc = get_varint(d, c, &v);
    if (!rc)
      rc = make_scalar(d, f->type, v, at, &j);
    if (!rc)
      rc = place(d, f, obj, j, at);
    else
      json_decref(j);
  } else {
    rc = delimited(d, f, c, obj, depth, at);
  }
  path_pop(d, mark);
  return rc;
}

static const struct pb_field *find_field(const struct pb_msg *m, uint64_t num) {
  for (size_t i = 0; i < m->n; i++)
    if (m->f[i].num == num)
      return &m->f[i];
  return NULL;
}

/* Decodes the message in c with table m into obj (fields merged into what
 * it holds). On failure the path names the field that failed. */
static enum ss_err decode_msg(struct pb_dec *d, const struct pb_msg *m, struct pb_cur c,
                              json_t *obj, unsigned depth) {
  if (depth > d->lim.max_depth)
    return fail(d, c.p, SS_ELIMIT, "messages nested more than %u deep", d->lim.max_depth);
  while (c.p < c.end) {
    const uint8_t *at = c.p;
    uint64_t key;
    enum ss_err rc = get_varint(d, &c, &key);
    if (rc)
      return rc;
    uint64_t num = key >> 3;
    unsigned wire = (unsigned)(key & 7);
    if (num == 0 || num > PB_MAX_FIELD_NUMBER)
      return fail(d, at, SS_ESYNTAX, "field number %llu out of range",
                  (unsigned long long)num);
    const struct pb_field *f = find_field(m, num);
    rc = f ? decode_field(d, f, wire, &c, obj, depth, at) : skip(d, &c, wire, at);
    if (rc)
      return rc;
  }
  return SS_EOK;
}

/* ---- the body ---- */

static const struct pb_kind *find_kind(const char *api_version, const char *kind) {
  for (size_t i = 0; i < sizeof pb_kinds / sizeof pb_kinds[0]; i++)
    if (strcmp(pb_kinds[i].api_version, api_version) == 0 && strcmp(pb_kinds[i].kind, kind) == 0)
      return &pb_kinds[i];
  return NULL;
}

/* The runtime.Unknown around the object: its kind's table and raw. */
static enum ss_err read_envelope(struct pb_dec *d, struct pb_cur c, const struct pb_kind **k) {
  json_t *env = json_object();
  enum ss_err rc = counted(d, env, c.p);
  if (!rc)
    rc = decode_msg(d, &unknown, c, env, 1);
  if (rc)
    goto out;
  json_t *tm = json_object_get(env, "typeMeta");
  const char *av = json_string_value(json_object_get(tm, "apiVersion"));
  const char *kind = json_string_value(json_object_get(tm, "kind"));
  const char *enc = json_string_value(json_object_get(env, "contentEncoding"));
  if (!av || !kind) {
    rc = fail(d, c.p, SS_ESYNTAX, "the envelope (runtime.Unknown) names no %s",
              av ? "kind" : "apiVersion");
  } else if (enc) {
    rc = ss_error_set(d->err, SS_EUNSUPPORTED, 0, 0, "%s %s with contentEncoding %.64s", av,
                      kind, enc);
  } else if (!(*k = find_kind(av, kind))) {
    rc = ss_error_set(d->err, SS_EUNSUPPORTED, 0, 0, "%.128s %.128s", av, kind);
  } else if (!d->raw) {
    rc = fail(d, c.p, SS_ESYNTAX, "the envelope (runtime.Unknown) holds no object (raw)");
  }
out:
  json_decref(env);
  return rc;
}

enum ss_err ss_api_pb_decode(const void *body, size_t len, const struct ss_api_pb_limits *lim,
                             json_t **out, struct ss_error *err) {
  struct pb_dec d = {.base = body, .err = err};
  const struct pb_kind *k = NULL;
  json_t *obj = NULL;
  enum ss_err rc;
  *out = NULL;
  d.lim.max_depth = lim && lim->max_depth ? lim->max_depth : SS_API_PB_MAX_DEPTH;
  d.lim.max_values = lim && lim->max_values ? lim->max_values : SS_API_PB_MAX_VALUES;
  if (len > SS_API_PB_MAX_BYTES)
    return ss_error_set(err, SS_ELIMIT, 0, 0, "the body is %zu bytes, over the limit of %zu",
                        len, (size_t)SS_API_PB_MAX_BYTES);
  if (len < PB_MAGIC_LEN || memcmp(body, PB_MAGIC, PB_MAGIC_LEN) != 0)
    return fail(&d, d.base, SS_ESYNTAX, "the body does not start with the magic \"k8s\\0\"");
  struct pb_cur c = {d.base + PB_MAGIC_LEN, d.base + len};
  rc = read_envelope(&d, c, &k);
  if (rc)
    return rc;
  obj = json_pack("{s:s, s:s}", "apiVersion", k->api_version, "kind", k->kind);
  rc = counted(&d, obj, d.raw);
  if (!rc)
    rc = decode_msg(&d, k->msg, (struct pb_cur){d.raw, d.raw + d.raw_len}, obj, 1);
  if (rc) {
    json_decref(obj);
    return rc;
  }
  *out = obj;
  return SS_EOK;
}

bool ss_api_pb_is_protobuf(const char *content_type) {
  size_t n = strlen(SS_API_PB_MEDIA_TYPE);
  if (!content_type)
    return false;
  while (*content_type == ' ' || *content_type == '\t')
    content_type++;
  if (strncasecmp(content_type, SS_API_PB_MEDIA_TYPE, n) != 0)
    return false;
  const char *rest = content_type + n;
  while (*rest == ' ' || *rest == '\t')
    rest++;
  return *rest == '\0' || *rest == ';';
}

json_t *ss__api_pb_body(const char *body, size_t len, struct ss_api_resp *resp) {
  struct ss_error err = {0};
  json_t *obj = NULL;
  switch (ss_api_pb_decode(body, len, NULL, &obj, &err)) {
  case SS_EOK:
    return obj;
  case SS_EUNSUPPORTED:
    ss__api_status(resp, 415, "UnsupportedMediaType",
                   "the protobuf encoding of %s is not supported here: send it as JSON "
                   "(Content-Type: application/json)",
                   err.msg);
    return NULL;
  case SS_ENOMEM:
    ss__api_status(resp, 500, "InternalError", "%s", err.msg);
    return NULL;
  default:
    if (err.code == SS_ELIMIT && len > SS_API_PB_MAX_BYTES)
      ss__api_status(resp, 413, "RequestEntityTooLarge", "%s", err.msg);
    else
      ss__api_status(resp, 400, "BadRequest", "the body could not be decoded: %s", err.msg);
    return NULL;
  }
}
