/* names.h: Kubernetes name rules (RFC 1123 labels and subdomains). */
#ifndef SS_MODEL_NAMES_H
#define SS_MODEL_NAMES_H

#include <stdbool.h>

#define SS_DNS1123_LABEL_MAX 63
#define SS_DNS1123_SUBDOMAIN_MAX 253

/* Each returns NULL when s is valid, else a static sentence saying why. */
const char *ss_dns1123_label(const char *s);
const char *ss_dns1123_subdomain(const char *s);

#endif
