/* tls.h: the control API's certificate. Kubernetes clients send their
 * credentials only over TLS, so the API serves HTTPS with a self-signed
 * certificate for 127.0.0.1, ::1 and localhost, made on first start and kept
 * in the state directory; the kubeconfig carries it as the CA. */
#ifndef SS_API_TLS_H
#define SS_API_TLS_H

#include "common/err.h"

#define SS_TLS_CERT_DAYS 3650

/* Loads dir/api.crt and dir/api.key, creating them when absent. *cert and
 * *key are malloc'd PEM texts. */
enum ss_err ss_tls_ensure(const char *dir, char **cert, char **key, struct ss_error *err);

#endif
