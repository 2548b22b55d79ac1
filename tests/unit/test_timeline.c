/* test_timeline.c: unit tests for src/timeline/svg.c: a timeline read from
 * outside is checked with errors naming the field, and the chart carries
 * every series, the target line and the events with their reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "timeline/timeline.h"

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))

static const char good[] =
    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"m\"},\"since\":1000,\"now\":61000,"
    "\"series\":{\"t\":[11000,16000,21000],\"requestRate\":[0,40.5,null],"
    "\"latencyP50\":[null,2.5,3],\"latencyP99\":[null,4.9,8],\"desiredReplicas\":[1,2,2],"
    "\"readyReplicas\":[1,1,2]},"
    "\"metrics\":[{\"autoscaler\":\"HorizontalPodAutoscaler/m-x\",\"metric\":\"cpu\","
    "\"target\":10,\"t\":[11000,16000],\"value\":[3,25]}],"
    "\"events\":[{\"t\":17000,\"type\":\"Normal\",\"reason\":\"SuccessfulRescale\","
    "\"message\":\"New size: 2; reason: cpu <above> target\"}]}";

static json_t *load(const char *text) {
  json_error_t je;
  json_t *j = json_loads(text, 0, &je);
  if (!j)
    fail_msg("bad test JSON: %s", je.text);
  return j;
}

static void test_good_timeline_draws_every_series_and_event(void **state) {
  (void)state;
  json_t *tl = load(good);
  struct ss_error err = {0};
  assert_int_equal(ss_timeline_check(tl, &err), SS_EOK);
  char *svg = ss_timeline_svg(tl);
  assert_non_null(svg);
  static const char *const want[] = {
      "<svg", "data-series=\"requestRate\"", "data-series=\"latencyP50\"",
      "data-series=\"latencyP99\"", "data-series=\"desiredReplicas\"",
      "data-series=\"readyReplicas\"", "data-series=\"metric\"", "data-series=\"target\"",
      "data-reason=\"SuccessfulRescale\"", "cpu &lt;above&gt; target", "</svg>"};
  for (size_t i = 0; i < N_ELEMS(want); i++)
    if (!strstr(svg, want[i]))
      fail_msg("the SVG lacks %s", want[i]);
  /* the null rate breaks the line: two points drawn, the third not */
  const char *rate = strstr(svg, "data-series=\"requestRate\"");
  const char *end = strstr(rate, "/>");
  size_t moves = 0, lines = 0;
  for (const char *p = rate; p < end; p++) {
    moves += *p == 'M';
    lines += *p == 'L';
  }
  assert_int_equal(moves, 1);
  assert_int_equal(lines, 1);
  free(svg);
  json_decref(tl);
}

struct bad_case {
  const char *from, *to; /* replace the first "from" in good by "to" */
  const char *field;     /* what the message must start with */
};

static const struct bad_case bad_cases[] = {
    {"\"name\":\"m\"", "\"name\":7", "metadata:"},
    {"\"since\":1000", "\"since\":\"x\"", "since:"},
    {"\"now\":61000", "\"now\":500", "now:"},
    {"\"t\":[11000,16000,21000]", "\"t\":[11000,\"a\",21000]", "series.t[1]:"},
    {"\"requestRate\":[0,40.5,null]", "\"requestRate\":[0,40.5]", "series.requestRate:"},
    {"\"latencyP99\":[null,4.9,8]", "\"latencyP99\":[null,\"4.9\",8]", "series.latencyP99[1]:"},
    {"\"readyReplicas\":[1,1,2]", "\"readyReplicas\":{}", "series.readyReplicas:"},
    {"\"target\":10", "\"target\":\"10\"", "metrics[0].target:"},
    {"\"value\":[3,25]", "\"value\":[3]", "metrics[0].value:"},
    {"\"metric\":\"cpu\"", "\"metric\":1", "metrics[0]:"},
    {"\"t\":17000", "\"t\":1.5", "events[0].t:"},
    {"\"reason\":\"SuccessfulRescale\"", "\"reason\":[]", "events[0]:"},
    {"\"events\":[", "\"events\":{\"x\":[", "events:"},
};

static void test_bad_timelines_name_the_field(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ELEMS(bad_cases); i++) {
    const struct bad_case *c = &bad_cases[i];
    char text[sizeof good + 64];
    const char *at = strstr(good, c->from);
    assert_non_null(at);
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - good), good, c->to, at + strlen(c->from));
    if (strcmp(c->field, "events:") == 0) /* keep it valid JSON */
      snprintf(text + strlen(text) - 1, 3, "}}");
    json_t *tl = load(text);
    struct ss_error err = {0};
    assert_int_equal(ss_timeline_check(tl, &err), SS_EINVALID);
    if (strncmp(err.msg, c->field, strlen(c->field)) != 0)
      fail_msg("case %zu: \"%s\" does not start with \"%s\"", i, err.msg, c->field);
    json_decref(tl);
  }
  struct ss_error err = {0};
  json_t *arr = json_array();
  assert_int_equal(ss_timeline_check(arr, &err), SS_EINVALID);
  json_decref(arr);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_timeline_draws_every_series_and_event),
      cmocka_unit_test(test_bad_timelines_name_the_field),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
