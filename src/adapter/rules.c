/* rules.c: prometheus-adapter's configuration and rule engine (rules.h). */
#include "adapter/rules.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/doc.h"

/* ---- group-resources ---- */

static const struct {
  const char *singular, *plural, *group;
} known[] = {
    {"pod", "pods", ""},
    {"namespace", "namespaces", ""},
    {"node", "nodes", ""},
    {"service", "services", ""},
    {"deployment", "deployments", "apps"},
    {"replicaset", "replicasets", "apps"},
    {"statefulset", "statefulsets", "apps"},
    {"seldondeployment", "seldondeployments", "machinelearning.seldon.io"},
    {"model", "models", "mlops.seldon.io"},
    {"server", "servers", "mlops.seldon.io"},
};

void ss_adapter_gr_of(const char *group, const char *resource, struct ss_adapter_gr *out) {
  char low[SS_ADAPTER_NAME_MAX];
  size_t n = 0;
  for (const char *p = resource ? resource : ""; *p && n + 1 < sizeof low; p++)
    low[n++] = (char)tolower((unsigned char)*p);
  low[n] = '\0';
  snprintf(out->group, sizeof out->group, "%s", group ? group : "");
  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    if (strcmp(low, known[i].singular) == 0 || strcmp(low, known[i].plural) == 0) {
      snprintf(out->resource, sizeof out->resource, "%s", known[i].plural);
      if (!group || !*group)
        snprintf(out->group, sizeof out->group, "%s", known[i].group);
      return;
    }
  /* another resource: its plural as English makes it, as the REST mapper guesses */
  bool plural = n && low[n - 1] == 's';
  snprintf(out->resource, sizeof out->resource, "%s%s", low, plural || !n ? "" : "s");
}

bool ss_adapter_gr_namespaced(const struct ss_adapter_gr *gr) {
  return !(gr->group[0] == '\0' &&
           (strcmp(gr->resource, "namespaces") == 0 || strcmp(gr->resource, "nodes") == 0));
}

static bool gr_equal(const struct ss_adapter_gr *a, const struct ss_adapter_gr *b) {
  return strcmp(a->group, b->group) == 0 && strcmp(a->resource, b->resource) == 0;
}

/* ---- parsing ---- */

static enum ss_err fail(struct ss_error *err, const char *where, const char *field,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum ss_err fail(struct ss_error *err, const char *where, const char *field,
                        const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return ss_error_set(err, SS_EINVALID, 0, 0, "adapter config: %s%s%s: %s", where,
                      field && *field ? "." : "", field ? field : "", msg);
}

static enum ss_err compile(regex_t *re, const char *pattern, struct ss_error *err,
                           const char *where, const char *field) {
  int rc = regcomp(re, pattern, REG_EXTENDED);
  if (rc == 0)
    return SS_EOK;
  char why[200];
  regerror(rc, re, why, sizeof why);
  return fail(err, where, field, "invalid regex \"%.100s\": %s", pattern, why);
}

static const char *str_of(const json_t *o, const char *key) {
  return json_string_value(json_object_get(o, key));
}

/* A regex for a resources.template: <<.Group>> and <<.Resource>> capture,
 * the rest literal. */
static enum ss_err compile_template(struct ss_adapter_rule *r, const char *t,
                                    struct ss_error *err) {
  char re[1024];
  size_t n = 0;
  int group = 0;
  re[n++] = '^';
  for (const char *p = t; *p && n + 8 < sizeof re;) {
    if (strncmp(p, "<<.Group>>", 10) == 0 || strncmp(p, "<<.Resource>>", 13) == 0) {
      bool g = p[3] == 'G';
      (g ? &r->template_group : &r->template_resource)[0] = ++group;
      memcpy(re + n, "(.*)", 4);
      n += 4;
      p += g ? 10 : 13;
      continue;
    }
    if (strncmp(p, "<<", 2) == 0)
      return fail(err, r->where, "resources.template",
                  "unknown field in \"%.100s\" (use <<.Group>> and <<.Resource>>)", t);
    if (strchr("\\.+*?()|[]{}^$", *p))
      re[n++] = '\\';
    re[n++] = *p++;
  }
  re[n++] = '$';
  re[n] = '\0';
  if (!r->template_resource)
    return fail(err, r->where, "resources.template", "\"%.100s\" has no <<.Resource>>", t);
  enum ss_err rc = compile(&r->template_re, re, err, r->where, "resources.template");
  r->has_template = rc == SS_EOK;
  return rc;
}

static enum ss_err parse_resources(struct ss_adapter_rule *r, const json_t *res,
                                   struct ss_error *err) {
  if (res && !json_is_object(res))
    return fail(err, r->where, "resources", "must be an object");
  const json_t *ov = json_object_get(res, "overrides");
  if (ov && !json_is_object(ov))
    return fail(err, r->where, "resources.overrides", "must be an object (label: {resource})");
  r->overrides = calloc(json_object_size(ov) + 1, sizeof *r->overrides);
  if (!r->overrides)
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  const char *label;
  const json_t *v;
  json_object_foreach((json_t *)ov, label, v) {
    const char *resource = str_of(v, "resource");
    if (!resource || !*resource) {
      char field[300];
      snprintf(field, sizeof field, "resources.overrides.%.200s.resource", label);
      return fail(err, r->where, field, "required: the resource the label names (pod, namespace)");
    }
    struct ss_adapter_override *o = &r->overrides[r->n_overrides++];
    if (!(o->label = strdup(label)))
      return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
    ss_adapter_gr_of(str_of(v, "group"), resource, &o->gr);
  }
  const char *t = str_of(res, "template");
  return t && *t ? compile_template(r, t, err) : SS_EOK;
}

static enum ss_err parse_filters(struct ss_adapter_rule *r, const json_t *fs,
                                 struct ss_error *err) {
  if (fs && !json_is_array(fs))
    return fail(err, r->where, "seriesFilters", "must be a list of {is: REGEX} or {isNot: REGEX}");
  r->filters = calloc(json_array_size(fs) + 1, sizeof *r->filters);
  if (!r->filters)
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  size_t i;
  const json_t *f;
  json_array_foreach(fs, i, f) {
    char field[64];
    snprintf(field, sizeof field, "seriesFilters[%zu]", i);
    const char *is = str_of(f, "is"), *not = str_of(f, "isNot");
    if (!is == !not)
      return fail(err, r->where, field, "must have exactly one of is and isNot");
    struct ss_adapter_filter *x = &r->filters[r->n_filters];
    enum ss_err rc = compile(&x->re, is ? is : not, err, r->where, field);
    if (rc)
      return rc;
    x->is = is != NULL;
    r->n_filters++;
  }
  return SS_EOK;
}

/* The template fields a metricsQuery may use. */
static enum ss_err check_query(const struct ss_adapter_rule *r, struct ss_error *err) {
  static const char *const fields[] = {"<<.Series>>", "<<.LabelMatchers>>", "<<.GroupBy>>",
                                       "<<.GroupBySlice>>"};
  for (const char *p = strstr(r->metrics_query, "<<"); p; p = strstr(p + 2, "<<")) {
    bool ok = false;
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
      ok = ok || strncmp(p, fields[i], strlen(fields[i])) == 0;
    if (!ok)
      return fail(err, r->where, "metricsQuery",
                  "unknown template field at \"%.30s\" (servescale expands <<.Series>>, "
                  "<<.LabelMatchers>>, <<.GroupBy>> and <<.GroupBySlice>>)",
                  p);
  }
  return SS_EOK;
}

static enum ss_err parse_name(struct ss_adapter_rule *r, const json_t *name,
                              struct ss_error *err) {
  if (name && !json_is_object(name))
    return fail(err, r->where, "name", "must be an object {matches, as}");
  const char *m = str_of(name, "matches"), *as = str_of(name, "as");
  enum ss_err rc = compile(&r->matches, m && *m ? m : ".*", err, r->where, "name.matches");
  if (rc)
    return rc;
  r->has_matches = true;
  if (!as || !*as) {
    if (r->matches.re_nsub > 1)
      return fail(err, r->where, "name.as",
                  "required when name.matches has more than one capture group");
    as = r->matches.re_nsub == 1 ? "$1" : "$0";
  }
  return (r->as = strdup(as)) ? SS_EOK : ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
}

static enum ss_err parse_rule(struct ss_adapter_rule *r, const json_t *o, struct ss_error *err) {
  if (!json_is_object(o))
    return fail(err, r->where, NULL, "must be an object");
  const char *sq = str_of(o, "seriesQuery"), *mq = str_of(o, "metricsQuery");
  if (!sq || !*sq)
    return fail(err, r->where, "seriesQuery", "required: the series selector that finds the metrics");
  if (!mq || !*mq)
    return fail(err, r->where, "metricsQuery", "required: the query that gives the values");
  if (!(r->series_query = strdup(sq)) || !(r->metrics_query = strdup(mq)))
    return ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  enum ss_err rc = check_query(r, err);
  if (!rc)
    rc = parse_filters(r, json_object_get(o, "seriesFilters"), err);
  if (!rc)
    rc = parse_resources(r, json_object_get(o, "resources"), err);
  if (!rc)
    rc = parse_name(r, json_object_get(o, "name"), err);
  return rc;
}

static enum ss_err parse_list(struct ss_adapter_config *c, const json_t *list, bool external,
                              struct ss_error *err) {
  const char *key = external ? "externalRules" : "rules";
  if (list && !json_is_array(list))
    return fail(err, key, NULL, "must be a list of rules");
  size_t i;
  const json_t *o;
  json_array_foreach(list, i, o) {
    if (c->n == SS_ADAPTER_MAX_RULES)
      return fail(err, key, NULL, "more than %d rules", SS_ADAPTER_MAX_RULES);
    struct ss_adapter_rule *r = &c->rules[c->n++];
    r->external = external;
    snprintf(r->where, sizeof r->where, "%s[%zu]", key, i);
    enum ss_err rc = parse_rule(r, o, err);
    if (rc)
      return rc;
  }
  return SS_EOK;
}

/* The configuration document: the file itself, or a ConfigMap's
 * data."config.yaml" (parsed again). New reference. */
static json_t *unwrap(const char *buf, size_t len, struct ss_error *err) {
  struct ss_docs docs = {0};
  if (ss_docs_parse(buf, len, &docs, err))
    return NULL;
  json_t *root = docs.n == 1 ? json_incref(docs.v[0]->root) : NULL;
  ss_docs_free(&docs);
  if (!json_is_object(root)) {
    json_decref(root);
    ss_error_set(err, SS_EINVALID, 0, 0, "adapter config: must be one mapping (rules, externalRules)");
    return NULL;
  }
  const char *kind = str_of(root, "kind");
  if (kind && strcmp(kind, "ConfigMap") == 0) {
    const char *inner = str_of(json_object_get(root, "data"), "config.yaml");
    json_t *cfg = inner ? unwrap(inner, strlen(inner), err) : NULL;
    if (!inner)
      ss_error_set(err, SS_EINVALID, 0, 0, "adapter config: the ConfigMap has no data.\"config.yaml\"");
    json_decref(root);
    return cfg;
  }
  return root;
}

enum ss_err ss_adapter_config_parse(const char *buf, size_t len, struct ss_adapter_config **out,
                                    struct ss_error *err) {
  *out = NULL;
  json_t *root = unwrap(buf, len, err);
  if (!root)
    return err->code ? err->code : SS_EINVALID;
  struct ss_adapter_config *c = calloc(1, sizeof *c);
  const json_t *rules = json_object_get(root, "rules"),
               *ext = json_object_get(root, "externalRules");
  size_t n = json_array_size(rules) + json_array_size(ext);
  enum ss_err rc = SS_EOK;
  if (!c || !(c->rules = calloc(n + 1, sizeof *c->rules)))
    rc = ss_error_set(err, SS_ENOMEM, 0, 0, "out of memory");
  if (!rc)
    rc = parse_list(c, rules, false, err);
  if (!rc)
    rc = parse_list(c, ext, true, err);
  json_decref(root);
  if (rc) {
    ss_adapter_config_free(c);
    return rc;
  }
  *out = c;
  return SS_EOK;
}

static void rule_free(struct ss_adapter_rule *r) {
  for (size_t i = 0; i < r->n_filters; i++)
    regfree(&r->filters[i].re);
  free(r->filters);
  for (size_t i = 0; i < r->n_overrides; i++)
    free(r->overrides[i].label);
  free(r->overrides);
  if (r->has_template)
    regfree(&r->template_re);
  if (r->has_matches)
    regfree(&r->matches);
  free(r->as);
  free(r->series_query);
  free(r->metrics_query);
}

void ss_adapter_config_free(struct ss_adapter_config *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->n; i++)
    rule_free(&c->rules[i]);
  free(c->rules);
  free(c);
}

/* ---- naming and association ---- */

static bool full_match(const regex_t *re, const char *s, regmatch_t *m, size_t nm) {
  return regexec(re, s, nm, m, 0) == 0 && m[0].rm_so == 0 && (size_t)m[0].rm_eo == strlen(s);
}

bool ss_adapter_name(const struct ss_adapter_rule *r, const char *series, char *out,
                     size_t size) {
  regmatch_t m[10];
  for (size_t i = 0; i < r->n_filters; i++) {
    bool hit = regexec(&r->filters[i].re, series, 0, NULL, 0) == 0;
    if (hit != r->filters[i].is)
      return false;
  }
  /* matches is searched, as Go's regexp finds it anywhere in the name */
  if (regexec(&r->matches, series, 10, m, 0) != 0)
    return false;
  size_t n = 0;
  for (const char *p = r->as; *p && n + 1 < size;) {
    int g = -1;
    const char *next = p;
    if (p[0] == '$' && isdigit((unsigned char)p[1])) {
      g = p[1] - '0';
      next = p + 2;
    } else if (p[0] == '$' && p[1] == '{' && isdigit((unsigned char)p[2]) && p[3] == '}') {
      g = p[2] - '0';
      next = p + 4;
    }
    if (g < 0 || g > 9) {
      out[n++] = *p++;
      continue;
    }
    if (m[g].rm_so >= 0)
      for (regoff_t k = m[g].rm_so; k < m[g].rm_eo && n + 1 < size; k++)
        out[n++] = series[k];
    p = next;
  }
  out[n] = '\0';
  return n > 0;
}

/* The group-resource label names under r, or false. */
static bool label_gr(const struct ss_adapter_rule *r, const char *label,
                     struct ss_adapter_gr *gr) {
  for (size_t i = 0; i < r->n_overrides; i++)
    if (strcmp(r->overrides[i].label, label) == 0) {
      *gr = r->overrides[i].gr;
      return true;
    }
  regmatch_t m[3];
  if (!r->has_template || !full_match(&r->template_re, label, m, 3))
    return false;
  char group[SS_ADAPTER_NAME_MAX] = "", res[SS_ADAPTER_NAME_MAX];
  const regmatch_t *rm = &m[r->template_resource];
  snprintf(res, sizeof res, "%.*s", (int)(rm->rm_eo - rm->rm_so), label + rm->rm_so);
  if (r->template_group) {
    const regmatch_t *gm = &m[r->template_group];
    snprintf(group, sizeof group, "%.*s", (int)(gm->rm_eo - gm->rm_so), label + gm->rm_so);
    for (char *p = group; *p; p++)
      if (*p == '_')
        *p = '.'; /* kube_apps_deployment: group "apps"; labels cannot hold dots */
  }
  ss_adapter_gr_of(group, res, gr);
  return true;
}

bool ss_adapter_label_for(const struct ss_adapter_rule *r, const struct ss_adapter_gr *gr,
                          const json_t *labels, char *out, size_t size) {
  for (size_t i = 0; i < r->n_overrides; i++)
    if (gr_equal(&r->overrides[i].gr, gr)) {
      snprintf(out, size, "%s", r->overrides[i].label);
      return true;
    }
  const char *label;
  const json_t *v;
  json_object_foreach((json_t *)labels, label, v) {
    struct ss_adapter_gr lg;
    if (label_gr(r, label, &lg) && gr_equal(&lg, gr)) {
      snprintf(out, size, "%s", label);
      return true;
    }
  }
  return false;
}

static void add_metric(json_t *metrics, const char *key, size_t rule, const char *series,
                       const struct ss_adapter_gr *gr, const char *label, const char *ns_label) {
  if (json_object_get(metrics, key))
    return; /* first rule wins, as the adapter's rules are meant to be disjoint */
  bool namespaced = gr ? ss_adapter_gr_namespaced(gr) : ns_label != NULL;
  json_object_set_new(metrics, key,
                      json_pack("{s:I, s:s, s:s, s:s, s:b, s:s, s:s}", "rule", (json_int_t)rule,
                                "series", series, "group", gr ? gr->group : "", "resource",
                                gr ? gr->resource : "", "namespaced", namespaced, "label",
                                label ? label : "", "ns_label", ns_label ? ns_label : ""));
}

/* The label of series s that names namespaces under r, or NULL. */
static const char *ns_label_of(const struct ss_adapter_rule *r, const json_t *s) {
  const char *label;
  const json_t *v;
  json_object_foreach((json_t *)s, label, v) {
    struct ss_adapter_gr gr;
    if (label_gr(r, label, &gr) && gr.group[0] == '\0' && strcmp(gr.resource, "namespaces") == 0)
      return label;
  }
  return NULL;
}

void ss_adapter_discover(const struct ss_adapter_config *c, size_t i, const json_t *series,
                         json_t *metrics) {
  const struct ss_adapter_rule *r = &c->rules[i];
  size_t k;
  const json_t *s;
  json_array_foreach(series, k, s) {
    const char *sname = str_of(s, "__name__");
    char name[SS_ADAPTER_NAME_MAX], key[3 * SS_ADAPTER_NAME_MAX];
    if (!sname || !ss_adapter_name(r, sname, name, sizeof name))
      continue;
    const char *nsl = ns_label_of(r, s);
    if (r->external) {
      add_metric(metrics, name, i, sname, NULL, NULL, nsl);
      continue;
    }
    const char *label;
    const json_t *v;
    json_object_foreach((json_t *)s, label, v) {
      struct ss_adapter_gr gr;
      if (!label_gr(r, label, &gr))
        continue;
      snprintf(key, sizeof key, "%s%s%s/%s", gr.resource, gr.group[0] ? "." : "", gr.group, name);
      add_metric(metrics, key, i, sname, &gr, label, nsl);
    }
  }
}

/* ---- querying ---- */

/* s into buf at *n as a regex literal inside a PromQL string: RE2 escapes,
 * then the string's own. */
static void put_re_literal(char *buf, size_t size, size_t *n, const char *s) {
  for (; *s && *n + 4 < size; s++) {
    if (strchr(".+*?()|[]{}^$", *s)) {
      buf[(*n)++] = '\\';
      buf[(*n)++] = '\\';
    } else if (*s == '\\' || *s == '"') {
      buf[(*n)++] = '\\';
    }
    buf[(*n)++] = *s;
  }
  buf[*n < size ? *n : size - 1] = '\0';
}

static void label_matchers(const struct ss_adapter_request *req, char *buf, size_t size) {
  size_t n = 0;
  buf[0] = '\0';
  if (req->ns && req->ns_label)
    n += (size_t)snprintf(buf, size, "%s=\"%s\"", req->ns_label, req->ns);
  if (req->resource_label && req->n_names && n < size) {
    n += (size_t)snprintf(buf + n, size - n, "%s%s=~\"", n ? "," : "", req->resource_label);
    for (size_t i = 0; i < req->n_names && n + 4 < size; i++) {
      if (i)
        buf[n++] = '|';
      put_re_literal(buf, size, &n, req->names[i]);
    }
    n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "\"");
  }
  if (req->extra && *req->extra && n < size)
    snprintf(buf + n, size - n, "%s%s", n ? "," : "", req->extra);
}

enum ss_err ss_adapter_build_query(const struct ss_adapter_rule *r,
                                   const struct ss_adapter_request *req, char *buf, size_t size) {
  char lm[SS_ADAPTER_QUERY_MAX], gb[SS_ADAPTER_NAME_MAX + 4], gbs[SS_ADAPTER_NAME_MAX + 4];
  label_matchers(req, lm, sizeof lm);
  snprintf(gb, sizeof gb, "%s", req->resource_label ? req->resource_label : "");
  snprintf(gbs, sizeof gbs, "[%s]", gb);
  static const char *const fields[] = {"<<.Series>>", "<<.LabelMatchers>>", "<<.GroupBySlice>>",
                                       "<<.GroupBy>>"};
  const char *values[] = {req->series, lm, gbs, gb};
  size_t n = 0;
  for (const char *p = r->metrics_query; *p;) {
    size_t f = 0;
    while (f < 4 && strncmp(p, fields[f], strlen(fields[f])) != 0)
      f++;
    if (f == 4 && strncmp(p, "<<", 2) == 0)
      return SS_EINVALID;
    const char *v = f < 4 ? values[f] : NULL;
    size_t add = v ? strlen(v) : 1;
    if (n + add + 1 > size)
      return SS_ELIMIT;
    memcpy(buf + n, v ? v : p, add);
    n += add;
    p += f < 4 ? strlen(fields[f]) : 1;
  }
  buf[n] = '\0';
  return SS_EOK;
}

/* ---- label selectors ---- */

static const char *skip_ws(const char *p) {
  while (*p == ' ')
    p++;
  return p;
}

/* One requirement "key op value" or "key in (a,b)" of a selector. */
static bool one_requirement(const char **pp, char *buf, size_t size, size_t *n, char *why,
                            size_t why_size) {
  const char *p = skip_ws(*pp);
  char key[SS_ADAPTER_NAME_MAX];
  size_t k = 0;
  bool neg = *p == '!';
  if (neg)
    p++;
  while (*p && !strchr("=!, ()", *p) && k + 1 < sizeof key)
    key[k++] = *p++;
  key[k] = '\0';
  p = skip_ws(p);
  if (!k) {
    snprintf(why, why_size, "a requirement without a key");
    return false;
  }
  char op[4] = "", val[1024] = "";
  bool exists = !*p || *p == ',';
  if (!exists && (strncmp(p, "in ", 3) == 0 || strncmp(p, "notin ", 6) == 0)) {
    bool notin = p[0] == 'n';
    p = skip_ws(p + (notin ? 6 : 3));
    if (*p != '(') {
      snprintf(why, why_size, "\"%s\": expected ( after in", key);
      return false;
    }
    size_t v = 0;
    for (p++; *p && *p != ')' && v + 3 < sizeof val; p++) {
      if (*p == ' ')
        continue;
      val[v++] = *p == ',' ? '|' : *p;
    }
    val[v] = '\0';
    if (*p++ != ')') {
      snprintf(why, why_size, "\"%s\": missing )", key);
      return false;
    }
    snprintf(op, sizeof op, "%s", notin ? "!~" : "=~");
  } else if (!exists) {
    size_t ol = strncmp(p, "!=", 2) == 0 || strncmp(p, "==", 2) == 0 ? 2 : *p == '=' ? 1 : 0;
    if (!ol) {
      snprintf(why, why_size, "\"%s\": expected =, ==, !=, in or notin", key);
      return false;
    }
    snprintf(op, sizeof op, "%s", p[0] == '!' ? "!=" : "=");
    p = skip_ws(p + ol);
    size_t v = 0;
    while (*p && *p != ',' && *p != ' ' && v + 1 < sizeof val)
      val[v++] = *p++;
    val[v] = '\0';
  } else {
    snprintf(op, sizeof op, "%s", neg ? "=" : "!=");
  }
  *n += (size_t)snprintf(buf + *n, *n < size ? size - *n : 0, "%s%s%s\"%s\"", *n ? "," : "", key,
                         op, val);
  *pp = skip_ws(p);
  return true;
}

bool ss_adapter_selector_matchers(const char *selector, char *buf, size_t size, char *why,
                                  size_t why_size) {
  size_t n = 0;
  buf[0] = '\0';
  const char *p = selector ? selector : "";
  while (*skip_ws(p)) {
    if (!one_requirement(&p, buf, size, &n, why, why_size))
      return false;
    if (*p == ',')
      p++;
    else if (*p) {
      snprintf(why, why_size, "unexpected \"%.20s\"", p);
      return false;
    }
  }
  if (n >= size) {
    snprintf(why, why_size, "too long");
    return false;
  }
  return true;
}

/* ---- the default rules ---- */

/* Seldon's metrics: v1's executor request rate per SeldonDeployment, pod
 * and namespace (custom) and per SeldonDeployment (external); Core 2's
 * infer_rps per Model, Server, pod and namespace, as Seldon Core 2's
 * documentation configures prometheus-adapter. docs/autoscaling.md. */
static const char default_rules[] =
    "rules:\n"
    "- seriesQuery: '{__name__=\"seldon_api_executor_client_requests_seconds_count\",namespace!=\"\"}'\n"
    "  resources:\n"
    "    overrides:\n"
    "      namespace: {resource: namespace}\n"
    "      deployment_name: {group: machinelearning.seldon.io, resource: seldondeployment}\n"
    "      pod: {resource: pod}\n"
    "  name: {matches: '^seldon_api_executor_client_requests_seconds_count$', as: seldon_requests_per_second}\n"
    "  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'\n"
    "- seriesQuery: '{__name__=\"seldon_model_infer_total\",namespace!=\"\"}'\n"
    "  resources:\n"
    "    overrides:\n"
    "      model: {group: mlops.seldon.io, resource: model}\n"
    "      server: {group: mlops.seldon.io, resource: server}\n"
    "      pod: {resource: pod}\n"
    "      namespace: {resource: namespace}\n"
    "  name: {matches: seldon_model_infer_total, as: infer_rps}\n"
    "  metricsQuery: 'sum by (<<.GroupBy>>) (rate(<<.Series>>{<<.LabelMatchers>>}[1m]))'\n"
    "externalRules:\n"
    "- seriesQuery: '{__name__=\"seldon_api_executor_client_requests_seconds_count\",namespace!=\"\"}'\n"
    "  resources:\n"
    "    overrides:\n"
    "      namespace: {resource: namespace}\n"
    "  name: {matches: '^seldon_api_executor_client_requests_seconds_count$', as: seldon_requests_per_second}\n"
    "  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m]))'\n";

enum ss_err ss_adapter_config_default(struct ss_adapter_config **out, struct ss_error *err) {
  return ss_adapter_config_parse(default_rules, sizeof default_rules - 1, out, err);
}
