/* selector.h: Kubernetes label selectors (k=v, k!=v, k in (a,b), k notin
 * (a,b), k, !k) and field selectors (a.b.c=v, a.b.c!=v) over objects. */
#ifndef SS_API_SELECTOR_H
#define SS_API_SELECTOR_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"

struct ss_selector;

/* Parses a labelSelector (labels=true) or fieldSelector; NULL or "" selects
 * everything. SS_EINVALID with a message on a malformed selector. */
enum ss_err ss_selector_parse(const char *text, bool labels, struct ss_selector **out,
                              struct ss_error *err);
bool ss_selector_matches(const struct ss_selector *s, const json_t *obj);
void ss_selector_free(struct ss_selector *s);

#endif
