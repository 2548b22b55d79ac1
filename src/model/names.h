/* names.h: Kubernetes name rules (RFC 1123 labels and subdomains). */
#ifndef SS_MODEL_NAMES_H
#define SS_MODEL_NAMES_H

#include <stdbool.h>

#define SS_DNS1123_LABEL_MAX 63
#define SS_DNS1123_SUBDOMAIN_MAX 253

/* Buffers for what admission checks against these rules, with the NUL:
 * a namespace, or the name of a SeldonDeployment, a Model, a Server or any
 * object the API stores (a label: ss_dns1123_label), and of a container. */
#define SS_NAME_LEN (SS_DNS1123_LABEL_MAX + 1)
/* A container image reference as kept for labels and pods. */
#define SS_IMAGE_LEN 256

/* Each returns NULL when s is valid, else a static sentence saying why. */
const char *ss_dns1123_label(const char *s);
const char *ss_dns1123_subdomain(const char *s);

#endif
