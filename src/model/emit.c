/* emit.c: JSON through jansson, YAML through libyaml's emitter. Strings that
 * would read back as another type ("true", "0.5", "") are quoted. */
#include "model/emit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "model/yaml_resolve.h"

struct sbuf {
  char *p;
  size_t n, cap;
  bool nomem;
};

static int sbuf_write(void *data, unsigned char *buf, size_t size) {
  struct sbuf *b = data;
  if (b->n + size + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + size + 1)
      cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np) {
      b->nomem = true;
      return 0;
    }
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->n, buf, size);
  b->n += size;
  b->p[b->n] = '\0';
  return 1;
}

void ss_format_real(double d, char *buf, size_t size) {
  snprintf(buf, size, "%.15g", d);
  if (strtod(buf, NULL) != d)
    snprintf(buf, size, "%.17g", d);
  if (!strpbrk(buf, ".eEn")) /* keep it a real: 2 -> 2.0 */
    strncat(buf, ".0", size - strlen(buf) - 1);
}

static int scalar(yaml_emitter_t *e, const char *s, yaml_scalar_style_t style) {
  yaml_event_t ev;
  if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
                                    style))
    return 0;
  return yaml_emitter_emit(e, &ev);
}

static int emit_value(yaml_emitter_t *e, const json_t *v) {
  yaml_event_t ev;
  char num[64];
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    bool empty = json_object_size(v) == 0;
    if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                             empty ? YAML_FLOW_MAPPING_STYLE
                                                   : YAML_BLOCK_MAPPING_STYLE) ||
        !yaml_emitter_emit(e, &ev))
      return 0;
    const char *k;
    json_t *c;
    json_object_foreach((json_t *)v, k, c) {
      /* A plain "<<" key would read back as a merge key. */
      yaml_scalar_style_t ks =
          ss__yaml_resolve(k, strlen(k), NULL) == SS_YAML_STRING && strcmp(k, "<<") != 0
              ? YAML_ANY_SCALAR_STYLE
              : YAML_SINGLE_QUOTED_SCALAR_STYLE;
      if (!scalar(e, k, ks) || !emit_value(e, c))
        return 0;
    }
    return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
  }
  case JSON_ARRAY: {
    bool empty = json_array_size(v) == 0;
    if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                              empty ? YAML_FLOW_SEQUENCE_STYLE
                                                    : YAML_BLOCK_SEQUENCE_STYLE) ||
        !yaml_emitter_emit(e, &ev))
      return 0;
    size_t i;
    json_t *c;
    json_array_foreach(v, i, c) {
      if (!emit_value(e, c))
        return 0;
    }
    return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
  }
  case JSON_STRING: {
    const char *s = json_string_value(v);
    bool ambiguous = ss__yaml_resolve(s, strlen(s), NULL) != SS_YAML_STRING;
    return scalar(e, s, ambiguous ? YAML_SINGLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
  }
  case JSON_INTEGER:
    snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return scalar(e, num, YAML_PLAIN_SCALAR_STYLE);
  case JSON_REAL:
    ss_format_real(json_real_value(v), num, sizeof num);
    return scalar(e, num, YAML_PLAIN_SCALAR_STYLE);
  case JSON_TRUE:
    return scalar(e, "true", YAML_PLAIN_SCALAR_STYLE);
  case JSON_FALSE:
    return scalar(e, "false", YAML_PLAIN_SCALAR_STYLE);
  case JSON_NULL:
    return scalar(e, "null", YAML_PLAIN_SCALAR_STYLE);
  }
  return 0;
}

static char *emit_yaml(const json_t *v) {
  struct sbuf b = {0};
  yaml_emitter_t e;
  yaml_event_t ev;
  bool ok = false;
  if (!yaml_emitter_initialize(&e))
    return NULL;
  yaml_emitter_set_output(&e, sbuf_write, &b);
  yaml_emitter_set_unicode(&e, 1);
  yaml_emitter_set_width(&e, -1);
  yaml_emitter_set_indent(&e, 2);
  ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
       yaml_emitter_emit(&e, &ev) &&
       yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
       yaml_emitter_emit(&e, &ev) && emit_value(&e, v) &&
       yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&e, &ev) &&
       yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&e, &ev) &&
       yaml_emitter_flush(&e);
  yaml_emitter_delete(&e);
  if (!ok || b.nomem) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

char *ss_emit(const json_t *v, enum ss_format fmt) {
  if (fmt == SS_FMT_YAML)
    return emit_yaml(v);
  /* JSON_ENCODE_ANY: without it jansson refuses a scalar and returns NULL. */
  char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_INDENT(2) | JSON_REAL_PRECISION(17));
  if (!s)
    return NULL;
  size_t n = strlen(s);
  char *r = realloc(s, n + 2);
  if (!r) {
    free(s);
    return NULL;
  }
  r[n] = '\n';
  r[n + 1] = '\0';
  return r;
}
