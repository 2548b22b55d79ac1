/* config.c: kubeconfig: which file, and what its current context says
 * (server, certificate authority, bearer token, namespace). Reading YAML is
 * the model's parser's job; client certificates and exec plugins are not
 * supported (servescale's daemon writes tokens). */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/internal.h"
#include "common/paths.h"
#include "model/doc.h"

/* A certificate bundle larger than this is not a kubeconfig's. */
#define SS_CLIENT_MAX_CA_BYTES ((size_t)1 << 20)

void ss_client_default_state_dir(char *buf, size_t size) { ss_default_state_dir(buf, size); }

const char *ss_client_config_path(const char *explicit_path, char *buf, size_t size) {
  if (explicit_path && *explicit_path) {
    snprintf(buf, size, "%s", explicit_path);
    return buf;
  }
  const char *e = getenv("KUBECONFIG");
  if (e && *e) {
    /* kubectl merges a ':'-separated list; we read the first file. */
    size_t n = strcspn(e, ":");
    snprintf(buf, size, "%.*s", (int)n, e);
    return buf;
  }
  char dir[1024];
  struct stat st;
  ss_client_default_state_dir(dir, sizeof dir);
  snprintf(buf, size, "%s/kubeconfig", dir);
  if (stat(buf, &st) == 0)
    return buf;
  const char *home = getenv("HOME");
  snprintf(buf, size, "%s/.kube/config", home && *home ? home : "");
  return buf;
}

void ss_client_config_free(struct ss_client_config *cfg) {
  if (!cfg)
    return;
  free(cfg->path);
  free(cfg->context);
  free(cfg->server);
  free(cfg->namespace_);
  free(cfg->token);
  free(cfg->ca);
  free(cfg->ca_file);
  memset(cfg, 0, sizeof *cfg);
}

/* The entry of a kubeconfig list (clusters, contexts, users) named name;
 * *index gets its position for error messages. */
static const json_t *named(const json_t *root, const char *list, const char *name,
                           size_t *index) {
  size_t i;
  json_t *it;
  json_array_foreach(json_object_get(root, list), i, it) {
    const char *n = json_string_value(json_object_get(it, "name"));
    if (n && strcmp(n, name) == 0) {
      *index = i;
      return it;
    }
  }
  return NULL;
}

static enum ss_err at(const struct ss_doc *doc, struct ss_client_error *err, enum ss_err code,
                      const char *path, const char *fmt, const char *arg) {
  struct ss_pos pos = {0, 0};
  ss__client_fail(err, code, fmt, arg);
  if (doc && ss_doc_pos(doc, path, &pos)) {
    err->line = pos.line;
    err->col = pos.col;
  }
  return code;
}

static char *dup_or_null(const json_t *v) {
  const char *s = json_string_value(v);
  return s && *s ? strdup(s) : NULL;
}

/* Decodes standard base64 (whitespace allowed, as YAML folds it). */
static enum ss_err base64_decode(const char *in, unsigned char **out, size_t *out_len) {
  size_t n = strlen(in), m = 0;
  enum ss_err rc = SS_ENOMEM;
  char *clean = malloc(n + 1);
  unsigned char *bin = NULL;
  if (!clean)
    goto out;
  for (size_t i = 0; i < n; i++)
    if (in[i] != ' ' && in[i] != '\n' && in[i] != '\r' && in[i] != '\t')
      clean[m++] = in[i];
  clean[m] = '\0';
  rc = SS_ESYNTAX;
  if (m == 0 || m % 4 != 0 || m / 4 * 3 > SS_CLIENT_MAX_CA_BYTES)
    goto out;
  rc = SS_ENOMEM;
  if (!(bin = malloc(m / 4 * 3 + 1)))
    goto out;
  rc = SS_ESYNTAX;
  int got = EVP_DecodeBlock(bin, (const unsigned char *)clean, (int)m);
  if (got < 0)
    goto out;
  /* EVP_DecodeBlock counts the padding as zero bytes. */
  size_t len = (size_t)got;
  for (size_t i = m; i > 0 && clean[i - 1] == '=' && len > 0; i--)
    len--;
  bin[len] = '\0';
  *out = bin;
  *out_len = len;
  bin = NULL;
  rc = SS_EOK;
out:
  free(clean);
  free(bin);
  return rc;
}

enum ss_err ss_client_config_parse(const char *buf, size_t len, const char *context,
                                   struct ss_client_config *out, struct ss_client_error *err) {
  struct ss_docs docs = {0};
  struct ss_error perr = {0};
  struct ss_client_config cfg = {0};
  enum ss_err rc;
  char path[128];
  size_t ci = 0, ki = 0, ui = 0;
  if ((rc = ss_docs_parse(buf, len, &docs, &perr))) {
    ss__client_fail(err, rc, "kubeconfig: %s", perr.msg);
    err->line = perr.line;
    err->col = perr.col;
    goto out;
  }
  const struct ss_doc *doc = docs.n ? docs.v[0] : NULL;
  const json_t *root = doc ? doc->root : NULL;
  if (docs.n != 1 || !json_is_object(root)) {
    rc = ss__client_fail(err, SS_ESYNTAX, "kubeconfig: must be one mapping");
    goto out;
  }
  const char *ctx_name = context && *context ? context
                                             : json_string_value(json_object_get(root, "current-context"));
  if (!ctx_name || !*ctx_name) {
    rc = at(doc, err, SS_EUSAGE, "current-context", "kubeconfig: %s", "no current-context is set");
    goto out;
  }
  const json_t *ctx = named(root, "contexts", ctx_name, &ki);
  if (!ctx) {
    rc = at(doc, err, SS_ENOTFOUND, "contexts", "kubeconfig: context \"%s\" does not exist",
            ctx_name);
    goto out;
  }
  const json_t *cc = json_object_get(ctx, "context");
  const char *cluster_name = json_string_value(json_object_get(cc, "cluster"));
  const char *user_name = json_string_value(json_object_get(cc, "user"));
  const json_t *cluster = cluster_name ? named(root, "clusters", cluster_name, &ci) : NULL;
  if (!cluster) {
    snprintf(path, sizeof path, "contexts[%zu].context.cluster", ki);
    rc = at(doc, err, SS_ENOTFOUND, path, "kubeconfig: cluster \"%s\" does not exist",
            cluster_name ? cluster_name : "");
    goto out;
  }
  const json_t *cl = json_object_get(cluster, "cluster");
  const char *server = json_string_value(json_object_get(cl, "server"));
  if (!server || !*server) {
    snprintf(path, sizeof path, "clusters[%zu].cluster", ci);
    rc = at(doc, err, SS_EUSAGE, path, "kubeconfig: cluster \"%s\" has no server", cluster_name);
    goto out;
  }
  rc = SS_ENOMEM;
  if (!(cfg.context = strdup(ctx_name)) || !(cfg.server = strdup(server)))
    goto oom;
  /* A trailing '/' would double the one every path starts with. */
  for (size_t l = strlen(cfg.server); l > 0 && cfg.server[l - 1] == '/'; l--)
    cfg.server[l - 1] = '\0';
  cfg.namespace_ = dup_or_null(json_object_get(cc, "namespace"));
  cfg.ca_file = dup_or_null(json_object_get(cl, "certificate-authority"));
  cfg.insecure = json_is_true(json_object_get(cl, "insecure-skip-tls-verify"));
  const char *ca = json_string_value(json_object_get(cl, "certificate-authority-data"));
  if (ca && *ca) {
    rc = base64_decode(ca, &cfg.ca, &cfg.ca_len);
    if (rc == SS_ENOMEM)
      goto oom;
    if (rc) {
      snprintf(path, sizeof path, "clusters[%zu].cluster.certificate-authority-data", ci);
      rc = at(doc, err, SS_ESYNTAX, path, "kubeconfig: %s is not base64", "certificate-authority-data");
      goto out;
    }
  }
  if (user_name && *user_name) {
    const json_t *user = named(root, "users", user_name, &ui);
    if (!user) {
      snprintf(path, sizeof path, "contexts[%zu].context.user", ki);
      rc = at(doc, err, SS_ENOTFOUND, path, "kubeconfig: user \"%s\" does not exist", user_name);
      goto out;
    }
    cfg.token = dup_or_null(json_object_get(json_object_get(user, "user"), "token"));
  }
  *out = cfg;
  memset(&cfg, 0, sizeof cfg);
  rc = SS_EOK;
  goto out;
oom:
  rc = ss__client_fail(err, SS_ENOMEM, "out of memory");
out:
  ss_client_config_free(&cfg);
  ss_docs_free(&docs);
  return rc;
}

enum ss_err ss_client_config_load(const char *explicit_path, const char *context,
                                  struct ss_client_config *out, struct ss_client_error *err) {
  char path[4096];
  char *buf = NULL;
  size_t len = 0;
  struct ss_error rerr = {0};
  enum ss_err rc;
  ss_client_config_path(explicit_path, path, sizeof path);
  if ((rc = ss_read_file(path, &buf, &len, &rerr))) {
    ss__client_fail(err, rc, "cannot read kubeconfig %s: %s", path, rerr.msg);
    goto out;
  }
  if ((rc = ss_client_config_parse(buf, len, context, out, err))) {
    char inner[SS_CLIENT_MSG_MAX];
    snprintf(inner, sizeof inner, "%s", err->msg);
    if (err->line)
      snprintf(err->msg, sizeof err->msg, "%s:%u:%u: %s", path, err->line, err->col, inner);
    else
      snprintf(err->msg, sizeof err->msg, "%s: %s", path, inner);
    goto out;
  }
  if (!(out->path = strdup(path))) {
    ss_client_config_free(out);
    rc = ss__client_fail(err, SS_ENOMEM, "out of memory");
  }
out:
  free(buf);
  return rc;
}
