/* test_protobuf.c: unit tests for src/api/protobuf.c: the bodies kubectl
 * 1.32 sends (captured from `kubectl create namespace`, `kubectl create
 * deployment`, `kubectl autoscale` with -v=9) decode to the JSON it would
 * have sent as JSON; a PodSpec and an autoscaling/v2 HPA built field by
 * field decode as Go's encoding/json writes them (zero values left out
 * unless the field is a pointer or has no omitempty, unknown fields
 * skipped by wire type); bad protobuf (no magic, truncated, bad varints,
 * lengths past the end, wrong wire types, too deep, too many values) is an
 * error naming the field and the byte, never a crash; kinds without a
 * table are 415 through the handlers' entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/internal.h"
#include "api/protobuf.h"

/* ---- kubectl's own bodies (kubectl 1.32.4, -v=9) ---- */

static const char KUBECTL_NAMESPACE[] =
    "\x6b\x38\x73\x00\x0a\x0f\x0a\x02\x76\x31\x12\x09\x4e\x61\x6d\x65\x73\x70\x61\x63\x65\x12"
    "\x1e\x0a\x16\x0a\x06\x73\x65\x6c\x64\x6f\x6e\x12\x00\x1a\x00\x22\x00\x2a\x00\x32\x00\x38"
    "\x00\x42\x00\x12\x00\x1a\x02\x0a\x00\x1a\x00\x22\x00";
static const char KUBECTL_DEPLOYMENT[] =
    "\x6b\x38\x73\x00\x0a\x15\x0a\x07\x61\x70\x70\x73\x2f\x76\x31\x12\x0a\x44\x65\x70\x6c\x6f"
    "\x79\x6d\x65\x6e\x74\x12\xd8\x01\x0a\x23\x0a\x03\x77\x65\x62\x12\x00\x1a\x04\x61\x70\x70"
    "\x73\x22\x00\x2a\x00\x32\x00\x38\x00\x42\x00\x5a\x0a\x0a\x03\x61\x70\x70\x12\x03\x77\x65"
    "\x62\x12\xa2\x01\x08\x02\x12\x0c\x0a\x0a\x0a\x03\x61\x70\x70\x12\x03\x77\x65\x62\x1a\x87"
    "\x01\x0a\x1c\x0a\x00\x12\x00\x1a\x00\x22\x00\x2a\x00\x32\x00\x38\x00\x42\x00\x5a\x0a\x0a"
    "\x03\x61\x70\x70\x12\x03\x77\x65\x62\x12\x67\x12\x49\x0a\x15\x6d\x6f\x63\x6b\x2d\x63\x6c"
    "\x61\x73\x73\x69\x66\x69\x65\x72\x2d\x67\x6a\x74\x72\x39\x12\x1c\x73\x65\x6c\x64\x6f\x6e"
    "\x69\x6f\x2f\x6d\x6f\x63\x6b\x5f\x63\x6c\x61\x73\x73\x69\x66\x69\x65\x72\x3a\x31\x2e\x30"
    "\x2a\x00\x42\x00\x6a\x00\x72\x00\x80\x01\x00\x88\x01\x00\x90\x01\x00\xa2\x01\x00\x1a\x00"
    "\x32\x00\x42\x00\x4a\x00\x52\x00\x58\x00\x60\x00\x68\x00\x82\x01\x00\x8a\x01\x00\x9a\x01"
    "\x00\xc2\x01\x00\x22\x02\x0a\x00\x28\x00\x38\x00\x1a\x0c\x08\x00\x10\x00\x18\x00\x20\x00"
    "\x28\x00\x38\x00\x1a\x00\x22\x00";
static const char KUBECTL_HPA_V1[] =
    "\x6b\x38\x73\x00\x0a\x29\x0a\x0e\x61\x75\x74\x6f\x73\x63\x61\x6c\x69\x6e\x67\x2f\x76\x31"
    "\x12\x17\x48\x6f\x72\x69\x7a\x6f\x6e\x74\x61\x6c\x50\x6f\x64\x41\x75\x74\x6f\x73\x63\x61"
    "\x6c\x65\x72\x12\x3f\x0a\x13\x0a\x03\x77\x65\x62\x12\x00\x1a\x00\x22\x00\x2a\x00\x32\x00"
    "\x38\x00\x42\x00\x12\x22\x0a\x1a\x0a\x0a\x44\x65\x70\x6c\x6f\x79\x6d\x65\x6e\x74\x12\x03"
    "\x77\x65\x62\x1a\x07\x61\x70\x70\x73\x2f\x76\x31\x10\x01\x18\x03\x20\x32\x1a\x04\x18\x00"
    "\x20\x00\x1a\x00\x22\x00";

/* ---- a small encoder for the cases built here ---- */

#define PB_CAP 4096

struct pb {
  uint8_t b[PB_CAP];
  size_t n;
};

static void put_byte(struct pb *w, uint8_t c) {
  assert_true(w->n < PB_CAP);
  w->b[w->n++] = c;
}

static void put_varint(struct pb *w, uint64_t v) {
  do {
    uint8_t c = v & 0x7f;
    v >>= 7;
    put_byte(w, (uint8_t)(c | (v ? 0x80 : 0)));
  } while (v);
}

static void put_key(struct pb *w, unsigned field, unsigned wire) {
  put_varint(w, (uint64_t)field << 3 | wire);
}

static void put_int(struct pb *w, unsigned field, int64_t v) {
  put_key(w, field, 0);
  put_varint(w, (uint64_t)v);
}

static void put_bytes(struct pb *w, unsigned field, const void *p, size_t n) {
  put_key(w, field, 2);
  put_varint(w, n);
  assert_true(w->n + n <= PB_CAP);
  memcpy(w->b + w->n, p, n);
  w->n += n;
}

static void put_str(struct pb *w, unsigned field, const char *s) {
  put_bytes(w, field, s, strlen(s));
}

static void put_msg(struct pb *w, unsigned field, const struct pb *m) {
  put_bytes(w, field, m->b, m->n);
}

/* a map<string, string> entry */
static void put_entry(struct pb *w, unsigned field, const char *k, const char *v) {
  struct pb e = {0};
  put_str(&e, 1, k);
  put_str(&e, 2, v);
  put_msg(w, field, &e);
}

/* a map<string, Quantity> entry */
static void put_qentry(struct pb *w, unsigned field, const char *k, const char *v) {
  struct pb e = {0}, q = {0};
  put_str(&q, 1, v);
  put_str(&e, 1, k);
  put_msg(&e, 2, &q);
  put_msg(w, field, &e);
}

/* an IntOrString, a number or a string */
static void put_intstr(struct pb *w, unsigned field, int n, const char *s) {
  struct pb e = {0};
  put_int(&e, 1, s ? 1 : 0);
  if (s)
    put_str(&e, 3, s);
  else
    put_int(&e, 2, n);
  put_msg(w, field, &e);
}

/* a Quantity */
static void put_quantity(struct pb *w, unsigned field, const char *s) {
  struct pb e = {0};
  put_str(&e, 1, s);
  put_msg(w, field, &e);
}

/* a whole body: magic, then runtime.Unknown {typeMeta, raw} */
static void put_body(struct pb *w, const char *av, const char *kind, const struct pb *raw) {
  struct pb tm = {0};
  memcpy(w->b, "k8s\0", 4);
  w->n = 4;
  put_str(&tm, 1, av);
  put_str(&tm, 2, kind);
  put_msg(w, 1, &tm);
  put_msg(w, 2, raw);
  put_str(w, 3, "");
  put_str(w, 4, "");
}

/* ---- checking ---- */

static void assert_decodes_to(const void *body, size_t len, const char *want_json) {
  struct ss_error err = {0};
  json_t *got = NULL;
  enum ss_err rc = ss_api_pb_decode(body, len, NULL, &got, &err);
  if (rc)
    fail_msg("decode failed: %s", err.msg);
  json_t *want = json_loads(want_json, 0, NULL);
  assert_non_null(want);
  if (!json_equal(got, want)) {
    char *g = json_dumps(got, JSON_COMPACT), *w = json_dumps(want, JSON_COMPACT);
    print_error("got  %s\nwant %s\n", g, w);
    free(g);
    free(w);
    fail();
  }
  json_decref(got);
  json_decref(want);
}

/* Decoding fails with code, and the message holds each of the NULL-ended
 * strings given. */
static void assert_fails(const void *body, size_t len, const struct ss_api_pb_limits *lim,
                         enum ss_err code, ...) {
  struct ss_error err = {0};
  json_t *got = (json_t *)1;
  enum ss_err rc = ss_api_pb_decode(body, len, lim, &got, &err);
  assert_null(got);
  if (rc != code)
    fail_msg("code %s, want %s (%s)", ss_err_name(rc), ss_err_name(code), err.msg);
  va_list ap;
  va_start(ap, code);
  for (const char *s; (s = va_arg(ap, const char *));)
    if (!strstr(err.msg, s))
      fail_msg("\"%s\" not in \"%s\"", s, err.msg);
  va_end(ap);
}

/* ---- kubectl's bodies ---- */

static void test_kubectl_create_namespace(void **state) {
  (void)state;
  assert_decodes_to(KUBECTL_NAMESPACE, sizeof KUBECTL_NAMESPACE - 1,
                    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":"
                    "\"seldon\"},\"spec\":{},\"status\":{}}");
}

static void test_kubectl_create_deployment(void **state) {
  (void)state;
  /* what `kubectl create deployment web --image=... -n apps --replicas=2
   * -o json --dry-run=client` prints, but for creationTimestamp null */
  assert_decodes_to(
      KUBECTL_DEPLOYMENT, sizeof KUBECTL_DEPLOYMENT - 1,
      "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
      "\"namespace\":\"apps\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":2,"
      "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":"
      "{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"mock-classifier-gjtr9\","
      "\"image\":\"seldonio/mock_classifier:1.0\",\"resources\":{}}]}},\"strategy\":{}},"
      "\"status\":{}}");
}

static void test_kubectl_autoscale_sends_autoscaling_v1(void **state) {
  (void)state;
  assert_decodes_to(
      KUBECTL_HPA_V1, sizeof KUBECTL_HPA_V1 - 1,
      "{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"HorizontalPodAutoscaler\",\"metadata\":"
      "{\"name\":\"web\"},\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":"
      "\"web\",\"apiVersion\":\"apps/v1\"},\"minReplicas\":1,\"maxReplicas\":3,"
      "\"targetCPUUtilizationPercentage\":50},\"status\":{}}");
}

/* ---- built field by field ---- */

static void build_container(struct pb *c) {
  struct pb port = {0}, env = {0}, env2 = {0}, src = {0}, sel = {0}, res = {0}, probe = {0},
            http = {0}, hdr = {0}, live = {0}, exec = {0};
  put_str(c, 1, "classifier");
  put_str(c, 2, "seldonio/mock_classifier:1.0");
  put_str(c, 3, "python");
  put_str(c, 3, "-m");
  put_str(c, 4, "");     /* an empty argument is kept: it is an element */
  put_str(c, 4, "--x");
  put_str(&port, 1, "http");
  put_int(&port, 3, 9000);
  put_str(&port, 4, "TCP");
  put_int(&port, 2, 0);  /* hostPort 0: omitempty */
  put_msg(c, 6, &port);
  put_str(&env, 1, "A");
  put_str(&env, 2, "1");
  put_msg(c, 7, &env);
  struct pb ref = {0};
  put_str(&ref, 1, "cm");
  put_msg(&sel, 1, &ref);           /* LocalObjectReference, inline */
  put_str(&sel, 2, "key");
  put_msg(&src, 3, &sel);
  put_str(&env2, 1, "B");
  put_msg(&env2, 3, &src);
  put_msg(c, 7, &env2);
  put_qentry(&res, 1, "cpu", "500m");
  put_qentry(&res, 2, "memory", "64Mi");
  put_msg(c, 8, &res);
  put_str(&http, 1, "/ready");
  put_intstr(&http, 2, 9000, NULL);
  put_str(&http, 4, "HTTP");
  put_str(&hdr, 1, "X-A");
  put_str(&hdr, 2, "b");
  put_msg(&http, 5, &hdr);
  struct pb handler = {0};
  put_msg(&handler, 2, &http);
  put_msg(&probe, 1, &handler);     /* ProbeHandler, inline */
  put_int(&probe, 2, 0);            /* initialDelaySeconds 0: omitempty */
  put_int(&probe, 4, 5);
  put_int(&probe, 7, 0);            /* *int64: kept */
  put_msg(c, 11, &probe);
  put_str(&exec, 1, "true");
  struct pb handler2 = {0};
  put_msg(&handler2, 1, &exec);
  put_msg(&live, 1, &handler2);
  put_int(&live, 6, -1);            /* negative int32: ten bytes on the wire */
  put_msg(c, 10, &live);
  put_str(c, 14, "IfNotPresent");
}

static void test_deployment_podspec_fields(void **state) {
  (void)state;
  struct pb md = {0}, sel = {0}, req = {0}, tmpl = {0}, tmd = {0}, pod = {0}, c = {0},
            strat = {0}, ru = {0}, spec = {0}, raw = {0}, body = {0};
  put_str(&md, 1, "web");
  put_entry(&md, 11, "app", "web");
  put_entry(&md, 12, "note", "x");
  put_int(&md, 7, 0);               /* generation 0: omitempty */
  put_entry(&sel, 1, "app", "web");
  put_str(&req, 1, "tier");
  put_str(&req, 2, "In");
  put_str(&req, 3, "front");
  put_msg(&sel, 2, &req);
  put_entry(&tmd, 11, "app", "web");
  build_container(&c);
  put_msg(&pod, 2, &c);
  put_int(&pod, 4, 30);
  put_entry(&pod, 7, "disk", "ssd");
  put_msg(&tmpl, 1, &tmd);
  put_msg(&tmpl, 2, &pod);
  put_intstr(&ru, 1, 0, "25%");
  put_intstr(&ru, 2, 1, NULL);
  put_str(&strat, 1, "RollingUpdate");
  put_msg(&strat, 2, &ru);
  put_int(&spec, 1, 0);             /* replicas 0: a pointer, kept */
  put_msg(&spec, 2, &sel);
  put_msg(&spec, 3, &tmpl);
  put_msg(&spec, 4, &strat);
  put_int(&spec, 5, 0);             /* minReadySeconds 0: omitempty */
  put_int(&spec, 7, 1);
  /* fields no table names, of every wire type: skipped */
  put_key(&spec, 99, 1);
  for (int i = 0; i < 8; i++)
    put_byte(&spec, 0xff);
  put_key(&spec, 98, 5);
  for (int i = 0; i < 4; i++)
    put_byte(&spec, 0xff);
  put_int(&spec, 97, 12345);
  put_str(&spec, 96, "\xff\xfe not UTF-8, never read");
  put_msg(&raw, 1, &md);
  put_msg(&raw, 2, &spec);
  put_body(&body, "apps/v1", "Deployment", &raw);
  assert_decodes_to(
      body.b, body.n,
      "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
      "\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"},\"annotations\":{\"note\":\"x\"}},"
      "\"spec\":{\"replicas\":0,"
      "\"selector\":{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"tier\","
      "\"operator\":\"In\",\"values\":[\"front\"]}]},"
      "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{"
      "\"name\":\"classifier\",\"image\":\"seldonio/mock_classifier:1.0\","
      "\"command\":[\"python\",\"-m\"],\"args\":[\"\",\"--x\"],"
      "\"ports\":[{\"name\":\"http\",\"containerPort\":9000,\"protocol\":\"TCP\"}],"
      "\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"valueFrom\":{"
      "\"configMapKeyRef\":{\"name\":\"cm\",\"key\":\"key\"}}}],"
      "\"resources\":{\"limits\":{\"cpu\":\"500m\"},\"requests\":{\"memory\":\"64Mi\"}},"
      "\"readinessProbe\":{\"httpGet\":{\"path\":\"/ready\",\"port\":9000,\"scheme\":\"HTTP\","
      "\"httpHeaders\":[{\"name\":\"X-A\",\"value\":\"b\"}]},\"periodSeconds\":5,"
      "\"terminationGracePeriodSeconds\":0},"
      "\"livenessProbe\":{\"exec\":{\"command\":[\"true\"]},\"failureThreshold\":-1},"
      "\"imagePullPolicy\":\"IfNotPresent\"}],"
      "\"terminationGracePeriodSeconds\":30,\"nodeSelector\":{\"disk\":\"ssd\"}}},"
      "\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":\"25%\","
      "\"maxSurge\":1}},\"paused\":true}}");
}

static void test_hpa_v2_metrics_and_behavior(void **state) {
  (void)state;
  struct pb md = {0}, ref = {0}, target = {0}, res = {0}, metric = {0}, pods = {0}, id = {0},
            t2 = {0}, m2 = {0}, pol = {0}, rules = {0}, beh = {0}, spec = {0}, raw = {0},
            ts = {0}, body = {0};
  put_str(&md, 1, "web");
  put_int(&ts, 1, 1700000000);
  put_msg(&md, 8, &ts);
  put_str(&ref, 1, "Deployment");
  put_str(&ref, 2, "web");
  put_str(&ref, 3, "apps/v1");
  put_str(&target, 1, "Utilization");
  put_int(&target, 4, 50);
  put_str(&res, 1, "cpu");
  put_msg(&res, 2, &target);
  put_str(&metric, 1, "Resource");
  put_msg(&metric, 4, &res);
  put_str(&id, 1, "rps");
  put_str(&t2, 1, "AverageValue");
  put_quantity(&t2, 3, "10");
  put_msg(&pods, 1, &id);
  put_msg(&pods, 2, &t2);
  put_str(&m2, 1, "Pods");
  put_msg(&m2, 3, &pods);
  put_str(&pol, 1, "Pods");
  put_int(&pol, 2, 4);
  put_int(&pol, 3, 15);
  put_int(&rules, 3, 0);            /* *int32: kept */
  put_msg(&rules, 2, &pol);
  put_msg(&beh, 1, &rules);
  put_msg(&spec, 1, &ref);
  put_int(&spec, 2, 1);
  put_int(&spec, 3, 3);
  put_msg(&spec, 4, &metric);
  put_msg(&spec, 4, &m2);
  put_msg(&spec, 5, &beh);
  put_msg(&raw, 1, &md);
  put_msg(&raw, 2, &spec);
  put_body(&body, "autoscaling/v2", "HorizontalPodAutoscaler", &raw);
  assert_decodes_to(
      body.b, body.n,
      "{\"apiVersion\":\"autoscaling/v2\",\"kind\":\"HorizontalPodAutoscaler\","
      "\"metadata\":{\"name\":\"web\",\"creationTimestamp\":\"2023-11-14T22:13:20Z\"},"
      "\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"web\",\"apiVersion\":"
      "\"apps/v1\"},\"minReplicas\":1,\"maxReplicas\":3,\"metrics\":[{\"type\":\"Resource\","
      "\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":\"Utilization\","
      "\"averageUtilization\":50}}},{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"rps\"},"
      "\"target\":{\"type\":\"AverageValue\",\"averageValue\":\"10\"}}}],"
      "\"behavior\":{\"scaleUp\":{\"stabilizationWindowSeconds\":0,\"policies\":[{\"type\":"
      "\"Pods\",\"value\":4,\"periodSeconds\":15}]}}}}");
}

static void test_last_value_wins_and_messages_merge(void **state) {
  (void)state;
  struct pb md1 = {0}, md2 = {0}, raw = {0}, body = {0};
  put_str(&md1, 1, "first");
  put_entry(&md1, 11, "a", "1");
  put_str(&md2, 1, "second");
  put_entry(&md2, 11, "b", "2");
  put_entry(&md2, 11, "a", "3");    /* a map key again: the last wins */
  put_msg(&raw, 1, &md1);
  put_msg(&raw, 1, &md2);           /* an embedded message again: merged */
  put_body(&body, "v1", "Namespace", &raw);
  assert_decodes_to(body.b, body.n,
                    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":"
                    "\"second\",\"labels\":{\"a\":\"3\",\"b\":\"2\"}}}");
}

static void test_a_number_where_a_repeated_string_goes(void **state) {
  (void)state;
  struct pb ns = {0}, spec = {0}, raw = {0}, body = {0};
  put_str(&ns, 1, "x");
  put_int(&spec, 1, 7);             /* finalizers: a varint where a string goes */
  put_msg(&raw, 1, &ns);
  put_msg(&raw, 2, &spec);
  put_body(&body, "v1", "Namespace", &raw);
  assert_fails(body.b, body.n, NULL, SS_ESYNTAX, "spec.finalizers",
               "wire type varint where length-delimited is expected", NULL);
}

/* ---- bad protobuf ---- */

static void test_magic_is_required(void **state) {
  (void)state;
  assert_fails("{}", 2, NULL, SS_ESYNTAX, "magic", NULL);
  assert_fails("k8s", 3, NULL, SS_ESYNTAX, "magic", NULL);
  assert_fails("k8s\1", 4, NULL, SS_ESYNTAX, "magic", NULL);
  assert_fails("k8s\0", 4, NULL, SS_ESYNTAX, "names no apiVersion", NULL);
}

static void test_every_truncation_is_an_error_not_a_crash(void **state) {
  (void)state;
  const struct {
    const char *b;
    size_t n;
  } bodies[] = {{KUBECTL_NAMESPACE, sizeof KUBECTL_NAMESPACE - 1},
                {KUBECTL_DEPLOYMENT, sizeof KUBECTL_DEPLOYMENT - 1},
                {KUBECTL_HPA_V1, sizeof KUBECTL_HPA_V1 - 1}};
  for (size_t k = 0; k < sizeof bodies / sizeof bodies[0]; k++) {
    for (size_t n = 0; n < bodies[k].n; n++) {
      /* a copy of exactly n bytes, so that ASan sees any read past it */
      char *cut = malloc(n ? n : 1);
      assert_non_null(cut);
      memcpy(cut, bodies[k].b, n);
      struct ss_error err = {0};
      json_t *out = NULL;
      enum ss_err rc = ss_api_pb_decode(cut, n, NULL, &out, &err);
      /* the last two fields (contentEncoding, contentType) are optional */
      if (rc == SS_EOK)
        assert_true(n >= bodies[k].n - 4);
      else
        assert_int_equal(rc, SS_ESYNTAX);
      json_decref(out);
      free(cut);
    }
  }
}

static void test_length_past_the_end_names_field_and_byte(void **state) {
  (void)state;
  struct pb md = {0}, raw = {0}, body = {0};
  put_str(&md, 1, "web");
  put_key(&md, 3, 2);
  put_varint(&md, 200);             /* a namespace of 200 bytes, none there */
  put_msg(&raw, 1, &md);
  put_body(&body, "v1", "Namespace", &raw);
  assert_fails(body.b, body.n, NULL, SS_ESYNTAX, "metadata.namespace", "length 200",
               "past the end", "(byte ", NULL);
  /* the envelope's own raw too long */
  struct pb env = {0};
  memcpy(env.b, "k8s\0", 4);
  env.n = 4;
  put_key(&env, 2, 2);
  put_varint(&env, 1000);
  assert_fails(env.b, env.n, NULL, SS_ESYNTAX, "raw", "length 1000", NULL);
  /* a length that does not fit in memory at all */
  env.n = 4;
  put_key(&env, 2, 2);
  put_varint(&env, UINT64_MAX);
  assert_fails(env.b, env.n, NULL, SS_ESYNTAX, "past the end", NULL);
}

static void test_bad_varints(void **state) {
  (void)state;
  struct pb w = {0};
  memcpy(w.b, "k8s\0", 4);
  w.n = 4;
  for (int i = 0; i < 10; i++)
    put_byte(&w, 0xff);             /* eleven bytes would be needed */
  put_byte(&w, 0x01);
  assert_fails(w.b, w.n, NULL, SS_ESYNTAX, "bad varint", "(byte 4)", NULL);
  w.n = 4;
  put_byte(&w, 0x80);               /* a key whose varint never ends */
  assert_fails(w.b, w.n, NULL, SS_ESYNTAX, "truncated varint", NULL);
  w.n = 4;
  put_byte(&w, 0x00);               /* field 0 */
  assert_fails(w.b, w.n, NULL, SS_ESYNTAX, "field number 0", NULL);
}

static void test_wire_types_that_do_not_fit(void **state) {
  (void)state;
  struct pb spec = {0}, raw = {0}, body = {0};
  put_str(&spec, 1, "2");           /* replicas as a string */
  put_msg(&raw, 2, &spec);
  put_body(&body, "apps/v1", "Deployment", &raw);
  assert_fails(body.b, body.n, NULL, SS_ESYNTAX, "spec.replicas",
               "length-delimited where varint is expected", NULL);
  struct pb g = {0}, raw2 = {0}, body2 = {0};
  put_key(&g, 50, 3);               /* a group start, even in an unknown field */
  put_msg(&raw2, 2, &g);
  put_body(&body2, "apps/v1", "Deployment", &raw2);
  assert_fails(body2.b, body2.n, NULL, SS_ESYNTAX, "group wire type 3", NULL);
  struct pb f = {0}, raw3 = {0}, body3 = {0};
  put_key(&f, 50, 1);               /* a fixed64 cut short */
  put_byte(&f, 1);
  put_msg(&raw3, 2, &f);
  put_body(&body3, "apps/v1", "Deployment", &raw3);
  assert_fails(body3.b, body3.n, NULL, SS_ESYNTAX, "truncated 8-byte field", NULL);
}

static void test_strings_must_be_utf8_without_nul(void **state) {
  (void)state;
  struct pb md = {0}, raw = {0}, body = {0};
  put_bytes(&md, 1, "a\0b", 3);
  put_msg(&raw, 1, &md);
  put_body(&body, "v1", "Namespace", &raw);
  assert_fails(body.b, body.n, NULL, SS_ESYNTAX, "metadata.name", "NUL", NULL);
  struct pb md2 = {0}, raw2 = {0}, body2 = {0};
  put_str(&md2, 1, "\xc3\x28");
  put_msg(&raw2, 1, &md2);
  put_body(&body2, "v1", "Namespace", &raw2);
  assert_fails(body2.b, body2.n, NULL, SS_ESYNTAX, "metadata.name", "UTF-8", NULL);
}

static void test_impossible_values(void **state) {
  (void)state;
  struct pb ios = {0}, ru = {0}, strat = {0}, spec = {0}, raw = {0}, body = {0};
  put_int(&ios, 1, 7);
  put_msg(&ru, 1, &ios);
  put_msg(&strat, 2, &ru);
  put_msg(&spec, 4, &strat);
  put_msg(&raw, 2, &spec);
  put_body(&body, "apps/v1", "Deployment", &raw);
  assert_fails(body.b, body.n, NULL, SS_ESYNTAX, "spec.strategy.rollingUpdate.maxUnavailable",
               "IntOrString type 7", NULL);
  struct pb ts = {0}, md = {0}, raw2 = {0}, body2 = {0};
  put_int(&ts, 1, INT64_MAX);
  put_msg(&md, 8, &ts);
  put_msg(&raw2, 1, &md);
  put_body(&body2, "v1", "Namespace", &raw2);
  assert_fails(body2.b, body2.n, NULL, SS_ESYNTAX, "metadata.creationTimestamp",
               "outside years", NULL);
}

static void test_nesting_and_value_limits(void **state) {
  (void)state;
  struct ss_api_pb_limits shallow = {.max_depth = 3};
  assert_fails(KUBECTL_DEPLOYMENT, sizeof KUBECTL_DEPLOYMENT - 1, &shallow, SS_ELIMIT,
               "nested more than 3 deep", "spec.selector.matchLabels", NULL);
  struct ss_api_pb_limits few = {.max_values = 10};
  assert_fails(KUBECTL_DEPLOYMENT, sizeof KUBECTL_DEPLOYMENT - 1, &few, SS_ELIMIT,
               "more than 10 values", NULL);
  /* many repeated empty strings: bounded by the default limit */
  static struct {
    uint8_t b[3 * SS_API_PB_MAX_VALUES];
    size_t n;
  } big;
  struct pb head = {0};
  memcpy(big.b, "k8s\0", 4);
  big.n = 4;
  put_str(&head, 1, "v1");
  put_str(&head, 2, "Namespace");
  struct pb env = {0};
  put_msg(&env, 1, &head);
  memcpy(big.b + big.n, env.b, env.n);
  big.n += env.n;
  size_t n = SS_API_PB_MAX_VALUES + 10; /* finalizers "", each 2 bytes in spec */
  size_t spec_len = 2 * n, raw_len = 4 + spec_len; /* spec: a key, a 3-byte length */
  uint8_t *p = big.b + big.n;
  *p++ = 0x12; /* raw */
  *p++ = (uint8_t)(0x80 | (raw_len & 0x7f));
  *p++ = (uint8_t)(0x80 | ((raw_len >> 7) & 0x7f));
  *p++ = (uint8_t)(raw_len >> 14);
  *p++ = 0x12; /* spec */
  *p++ = (uint8_t)(0x80 | (spec_len & 0x7f));
  *p++ = (uint8_t)(0x80 | ((spec_len >> 7) & 0x7f));
  *p++ = (uint8_t)(spec_len >> 14);
  for (size_t i = 0; i < n; i++) {
    *p++ = 0x0a;
    *p++ = 0x00;
  }
  big.n = (size_t)(p - big.b);
  assert_true(big.n <= sizeof big.b);
  assert_fails(big.b, big.n, NULL, SS_ELIMIT, "more than 200000 values", NULL);
}

static void test_kinds_without_a_table_and_encodings(void **state) {
  (void)state;
  struct pb raw = {0}, body = {0};
  put_body(&body, "apps/v1", "ReplicaSet", &raw);
  assert_fails(body.b, body.n, NULL, SS_EUNSUPPORTED, "apps/v1 ReplicaSet", NULL);
  /* gzip'd raw */
  struct pb tm = {0}, env = {0};
  memcpy(env.b, "k8s\0", 4);
  env.n = 4;
  put_str(&tm, 1, "v1");
  put_str(&tm, 2, "Namespace");
  put_msg(&env, 1, &tm);
  put_msg(&env, 2, &raw);
  put_str(&env, 3, "gzip");
  assert_fails(env.b, env.n, NULL, SS_EUNSUPPORTED, "contentEncoding gzip", NULL);
  /* no raw */
  env.n = 4;
  put_msg(&env, 1, &tm);
  assert_fails(env.b, env.n, NULL, SS_ESYNTAX, "no object (raw)", NULL);
}

/* ---- the handlers' entry ---- */

static void test_body_answers(void **state) {
  (void)state;
  struct ss_api_resp resp = {0};
  json_t *obj = ss__api_pb_body(KUBECTL_NAMESPACE, sizeof KUBECTL_NAMESPACE - 1, &resp);
  assert_non_null(obj);
  assert_null(resp.body);
  json_decref(obj);

  struct pb raw = {0}, body = {0};
  put_body(&body, "v1", "ConfigMap", &raw);
  assert_null(ss__api_pb_body((const char *)body.b, body.n, &resp));
  assert_int_equal(resp.code, 415);
  const char *msg = json_string_value(json_object_get(resp.body, "message"));
  assert_non_null(strstr(msg, "v1 ConfigMap"));
  assert_non_null(strstr(msg, "send it as JSON"));
  assert_string_equal(json_string_value(json_object_get(resp.body, "reason")),
                      "UnsupportedMediaType");
  ss__api_resp_free(&resp);

  assert_null(ss__api_pb_body(KUBECTL_DEPLOYMENT, 40, &resp));
  assert_int_equal(resp.code, 400);
  msg = json_string_value(json_object_get(resp.body, "message"));
  assert_non_null(strstr(msg, "the body could not be decoded: protobuf: "));
  ss__api_resp_free(&resp);
}

static void test_media_type(void **state) {
  (void)state;
  assert_true(ss_api_pb_is_protobuf("application/vnd.kubernetes.protobuf"));
  assert_true(ss_api_pb_is_protobuf("Application/VND.Kubernetes.Protobuf; charset=x"));
  assert_true(ss_api_pb_is_protobuf(" application/vnd.kubernetes.protobuf "));
  assert_false(ss_api_pb_is_protobuf("application/vnd.kubernetes.protobufx"));
  assert_false(ss_api_pb_is_protobuf("application/json"));
  assert_false(ss_api_pb_is_protobuf(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kubectl_create_namespace),
      cmocka_unit_test(test_kubectl_create_deployment),
      cmocka_unit_test(test_kubectl_autoscale_sends_autoscaling_v1),
      cmocka_unit_test(test_deployment_podspec_fields),
      cmocka_unit_test(test_hpa_v2_metrics_and_behavior),
      cmocka_unit_test(test_last_value_wins_and_messages_merge),
      cmocka_unit_test(test_a_number_where_a_repeated_string_goes),
      cmocka_unit_test(test_magic_is_required),
      cmocka_unit_test(test_every_truncation_is_an_error_not_a_crash),
      cmocka_unit_test(test_length_past_the_end_names_field_and_byte),
      cmocka_unit_test(test_bad_varints),
      cmocka_unit_test(test_wire_types_that_do_not_fit),
      cmocka_unit_test(test_strings_must_be_utf8_without_nul),
      cmocka_unit_test(test_impossible_values),
      cmocka_unit_test(test_nesting_and_value_limits),
      cmocka_unit_test(test_kinds_without_a_table_and_encodings),
      cmocka_unit_test(test_body_answers),
      cmocka_unit_test(test_media_type),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
