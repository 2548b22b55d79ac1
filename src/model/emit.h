/* emit.h: writing values as JSON or YAML text (kubectl's output shapes). */
#ifndef SS_MODEL_EMIT_H
#define SS_MODEL_EMIT_H

#include <jansson.h>
#include <stdio.h>

enum ss_format { SS_FMT_YAML, SS_FMT_JSON };

/* A malloc'd NUL-terminated rendering of v (JSON indented by 2, or a YAML
 * document without the leading "---"); NULL when out of memory. */
char *ss_emit(const json_t *v, enum ss_format fmt);
/* Formats a real the way both writers do: shortest text that reads back to
 * the same double, always with a '.' or an exponent. */
void ss_format_real(double d, char *buf, size_t size);

#endif
