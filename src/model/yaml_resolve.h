/* yaml_resolve.h: how a plain YAML scalar is typed (YAML 1.2 core schema);
 * shared by the reader and by the writer, which quotes a string whenever
 * writing it plain would read back as something else. */
#ifndef SS_MODEL_YAML_RESOLVE_H
#define SS_MODEL_YAML_RESOLVE_H

#include <jansson.h>
#include <stddef.h>

enum ss_yaml_kind {
  SS_YAML_NULL,
  SS_YAML_BOOL,
  SS_YAML_INT,
  SS_YAML_FLOAT,
  SS_YAML_STRING,
  SS_YAML_NONFINITE /* .inf, .nan or out of range: JSON cannot hold it */
};

/* Types s[0..n); when out is not NULL stores a new value there (NULL when
 * out of memory, nothing for SS_YAML_NONFINITE). */
enum ss_yaml_kind ss__yaml_resolve(const char *s, size_t n, json_t **out);

#endif
