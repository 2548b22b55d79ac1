/* fuzz_model.c: libFuzzer target for the model's front door: the JSON and
 * YAML readers, decoding, validation and both writers. Any input must give
 * either resources or a clean error, never a crash, a leak or UB. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "model/emit.h"
#include "model/resource.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct ss_resource_set set = {0};
  struct ss_error err = {0};
  if (ss_resources_load((const char *)data, size, "fuzz", &set, &err) == SS_EOK) {
    for (size_t i = 0; i < set.n; i++) {
      /* writing must work on anything the reader accepted */
      char *y = ss_emit(set.v[i].obj, SS_FMT_YAML);
      char *j = ss_emit(set.v[i].obj, SS_FMT_JSON);
      if (!y || !j)
        abort();
      free(y);
      free(j);
    }
  }
  ss_resources_free(&set);
  return 0;
}
