/* meta.c: the metadata every rendered object shares (names, namespaces,
 * labels), and name shortening for objects Kubernetes names as DNS labels. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "k8s/internal.h"
#include "k8s/k8s.h"

json_t *ss__k8s_meta(const char *name, const char *ns, json_t *labels) {
  json_t *m = json_pack("{s:s}", "name", name);
  if (m && ns && ns[0])
    json_object_set_new(m, "namespace", json_string(ns));
  if (m && labels)
    json_object_set(m, "labels", labels);
  json_decref(labels);
  return m;
}

json_t *ss__k8s_sdep_labels(const char *sdep) {
  return json_pack("{s:s, s:s}", "app.kubernetes.io/managed-by", SS_K8S_MANAGED_BY,
                   SS_LABEL_SDEP_ID, sdep);
}

json_t *ss__k8s_copy_object(const json_t *v) {
  return json_is_object(v) ? json_deep_copy(v) : json_object();
}

void ss__k8s_dns_name(const char *full, char out[SS_K8S_NAME_MAX + 1]) {
  size_t n = strlen(full);
  if (n <= SS_K8S_NAME_MAX) {
    memcpy(out, full, n + 1);
    return;
  }
  /* Seldon's operator's rule for over-long names (see ss_rs_name). */
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_Digest(full, n, md, &mdlen, EVP_md5(), NULL);
  int k = snprintf(out, SS_K8S_NAME_MAX + 1, "seldon-");
  for (unsigned i = 0; i < mdlen && k + 2 <= SS_K8S_NAME_MAX; i++)
    k += snprintf(out + k, (size_t)(SS_K8S_NAME_MAX + 1 - k), "%02x", md[i]);
}
