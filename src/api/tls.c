/* tls.c: a self-signed ECDSA P-256 certificate with the loopback names as
 * subject alternative names, made with OpenSSL's libcrypto. */
#include "api/tls.h"

#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/doc.h"

static char *bio_text(BIO *b) {
  char *data;
  long n = BIO_get_mem_data(b, &data);
  char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (s) {
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
  }
  return s;
}

static int write_file(const char *path, const char *text, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return -1;
  size_t n = strlen(text), off = 0;
  while (off < n) {
    ssize_t w = write(fd, text + off, n - off);
    if (w <= 0) {
      close(fd);
      return -1;
    }
    off += (size_t)w;
  }
  return close(fd);
}

static enum ss_err make(char **cert, char **key, struct ss_error *err) {
  enum ss_err rc = SS_EINTERNAL;
  EVP_PKEY *pk = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
  X509_EXTENSION *ext = NULL;
  if (!pk || !x || !cb || !kb)
    goto out;
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
  if (!bn)
    goto out;
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  BN_free(bn);
  X509_set_version(x, 2);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), (long)SS_TLS_CERT_DAYS * 86400);
  X509_set_pubkey(x, pk);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"servescale", -1,
                             -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
  static const struct {
    int nid;
    const char *value;
  } exts[] = {{NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost"},
              {NID_basic_constraints, "critical,CA:TRUE"},
              {NID_key_usage, "critical,digitalSignature,keyCertSign"},
              {NID_ext_key_usage, "serverAuth"}};
  for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
    ext = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].nid, exts[i].value);
    if (!ext || !X509_add_ext(x, ext, -1))
      goto out;
    X509_EXTENSION_free(ext);
    ext = NULL;
  }
  if (!X509_sign(x, pk, EVP_sha256()) || !PEM_write_bio_X509(cb, x) ||
      !PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL))
    goto out;
  *cert = bio_text(cb);
  *key = bio_text(kb);
  rc = *cert && *key ? SS_EOK : SS_ENOMEM;
out:
  if (rc)
    ss_error_set(err, rc, 0, 0, "cannot make the API's TLS certificate");
  X509_EXTENSION_free(ext);
  EVP_PKEY_free(pk);
  X509_free(x);
  BIO_free(cb);
  BIO_free(kb);
  return rc;
}

enum ss_err ss_tls_ensure(const char *dir, char **cert, char **key, struct ss_error *err) {
  char cp[1100], kp[1100];
  size_t n;
  snprintf(cp, sizeof cp, "%s/api.crt", dir);
  snprintf(kp, sizeof kp, "%s/api.key", dir);
  *cert = *key = NULL;
  if (access(cp, R_OK) == 0 && access(kp, R_OK) == 0) {
    if (ss_read_file(cp, cert, &n, err) == SS_EOK && ss_read_file(kp, key, &n, err) == SS_EOK)
      return SS_EOK;
    free(*cert);
    free(*key);
    *cert = *key = NULL;
  }
  enum ss_err rc = make(cert, key, err);
  if (rc)
    return rc;
  if (write_file(kp, *key, 0600) || write_file(cp, *cert, 0644)) {
    free(*cert);
    free(*key);
    *cert = *key = NULL;
    return ss_error_set(err, SS_EIO, 0, 0, "cannot write %s or %s", cp, kp);
  }
  return SS_EOK;
}
