/* fuzz_protobuf.c: libFuzzer target for the protobuf body decoder
 * (src/api/protobuf.c) and the autoscaling/v1 conversions after it
 * (src/api/hpa_v1.c): any bytes decode to an object that dumps as JSON, or
 * fail with a code and a message, never a crash, a leak or UB; the
 * handlers' entry answers every failure with a 4xx or 5xx Status. The
 * corpus (tests/fuzz/corpus_protobuf) holds kubectl 1.32's own bodies and
 * built ones covering every table. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "api/hpa_v1.h"
#include "api/internal.h"
#include "api/protobuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The decoded object through both conversions, each dumped. */
static void convert(const json_t *obj) {
  json_t *v2 = ss_api_hpa_v1_to_v2(obj);
  json_t *v1 = v2 ? ss_api_hpa_v2_to_v1(v2) : NULL;
  char *s = v1 ? json_dumps(v1, JSON_COMPACT) : NULL;
  if (!v2 || !v1 || !s)
    abort();
  free(s);
  json_decref(v1);
  json_decref(v2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct ss_error err = {0};
  json_t *obj = NULL;
  enum ss_err rc = ss_api_pb_decode(data, size, NULL, &obj, &err);
  if (rc == SS_EOK) {
    char *s = json_dumps(obj, JSON_COMPACT);
    if (!json_is_object(obj) || !s)
      abort();
    free(s);
    convert(obj);
  } else if (obj || !err.msg[0]) {
    abort(); /* a failure leaves nothing and says why */
  }
  json_decref(obj);

  struct ss_api_resp resp = {0};
  obj = ss__api_pb_body((const char *)data, size, &resp);
  if ((rc == SS_EOK) != (obj != NULL) || (!obj && (resp.code < 400 || !resp.body)))
    abort();
  json_decref(obj);
  ss__api_resp_free(&resp);
  return 0;
}
