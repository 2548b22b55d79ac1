/* jsonkind.h: what a JSON value is, in the words error messages use ("an
 * object", "an integer", "null", ...), for every reader that says what it
 * got instead of what it wanted. Pure. */
#ifndef SS_COMMON_JSONKIND_H
#define SS_COMMON_JSONKIND_H

#include <jansson.h>

/* "an object", "an array", "a string", "an integer", "a number" (a real),
 * "a boolean" or "null"; "a value" for anything else. */
const char *ss_json_kind(const json_t *v);

#endif
