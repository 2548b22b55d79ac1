/* cmd_describe.c: `servescale describe KIND/NAME`: what a user reads to
 * understand an object: for a SeldonDeployment its predictors, replica
 * sets (desired and ready) and autoscaling specs, its status and
 * conditions, and its events, whose reasons explain each scaling. Other
 * kinds print their spec and status as YAML, and their events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoscale/hpa.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "model/emit.h"
#include "model/resource.h"

static const char *str(const json_t *v, const char *dflt) {
  const char *s = json_string_value(v);
  return s && *s ? s : dflt;
}

static const json_t *at(const json_t *v, const char *a, const char *b) {
  v = json_object_get(v, a);
  return b ? json_object_get(v, b) : v;
}

/* Prints text with every line indented by n spaces. */
static void indent(const char *text, int n) {
  const char *p = text;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t l = nl ? (size_t)(nl - p) : strlen(p);
    printf("%*s%.*s\n", n, "", (int)l, p);
    p += l + (nl ? 1 : 0);
  }
}

static void print_table_indented(const struct ss_cli_table *t, int n) {
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  if (!m)
    return;
  ss_cli_table_print(t, m);
  fclose(m);
  indent(buf, n);
  free(buf);
}

static void print_map(const char *label, const json_t *m) {
  const char *k;
  const json_t *v;
  bool first = true;
  if (!json_is_object(m) || json_object_size(m) == 0) {
    printf("%-13s<none>\n", label);
    return;
  }
  json_object_foreach((json_t *)m, k, v) {
    printf("%-13s%s=%s\n", first ? label : "", k, str(v, ""));
    first = false;
  }
}

static void metadata(const json_t *obj) {
  char age[32];
  const json_t *md = json_object_get(obj, "metadata");
  printf("%-13s%s\n", "Name:", str(json_object_get(md, "name"), ""));
  if (json_object_get(md, "namespace"))
    printf("%-13s%s\n", "Namespace:", str(json_object_get(md, "namespace"), ""));
  print_map("Labels:", json_object_get(md, "labels"));
  print_map("Annotations:", json_object_get(md, "annotations"));
  printf("%-13s%s\n", "API Version:", str(json_object_get(obj, "apiVersion"), ""));
  printf("%-13s%s\n", "Kind:", str(json_object_get(obj, "kind"), ""));
  const char *ts = str(json_object_get(md, "creationTimestamp"), NULL);
  ss_cli_age(ts, age, sizeof age);
  printf("%-13s%s (%s ago)\n", "Created:", ts ? ts : "<unknown>", age);
  if (json_object_get(md, "generation"))
    printf("%-13s%lld\n", "Generation:", (long long)json_integer_value(json_object_get(md, "generation")));
}

static void hpa_line(const struct ss_hpa_spec *h) {
  printf("          %-14sHPA: min %d, max %d", "Autoscaling:", (int)h->min_replicas, (int)h->max_replicas);
  for (size_t m = 0; m < h->n_metrics; m++) {
    const struct ss_metric_spec *ms = &h->metrics[m];
    char q[32];
    printf("%s %s %s", m ? ";" : ";", ss_metric_source_name(ms->source), ms->name ? ms->name : "");
    if (ms->target.type == SS_TARGET_UTILIZATION) {
      printf(" %d%% utilization", (int)ms->target.utilization);
    } else {
      ss_quantity_format(ms->target.value, q, sizeof q);
      printf(" %s %s", ss_target_type_name(ms->target.type), q);
    }
  }
  printf("%s\n", h->default_metrics ? " (default)" : "");
  /* an unset scale-down window is the controller's flag */
  int64_t down = h->down.stabilization_seconds >= 0
                     ? h->down.stabilization_seconds
                     : SS_HPA_DEFAULT_DOWNSCALE_STABILIZATION_MS / 1000;
  printf("          %-14sscale down after %llds of stability, up after %ds\n", "",
         (long long)down, (int)h->up.stabilization_seconds);
}

static void keda_lines(const struct ss_keda_spec *k) {
  printf("          %-14sKEDA: min %d, max %d, polling every %ds, cooldown %ds\n", "Autoscaling:",
         (int)k->min_replicas, (int)k->max_replicas, (int)k->polling_interval,
         (int)k->cooldown_period);
  for (size_t t = 0; t < k->n_triggers; t++) {
    const struct ss_trigger *tr = &k->triggers[t];
    if (tr->type == SS_TRIGGER_PROMETHEUS) {
      printf("          %-14strigger prometheus: %s > %g per replica (%s)\n", "",
             tr->query ? tr->query : "?", tr->threshold,
             tr->server_address ? tr->server_address : "embedded metrics");
    } else {
      char q[32];
      ss_quantity_format(tr->value, q, sizeof q);
      printf("          %-14strigger %s: %s %s\n", "", ss_trigger_type_name(tr->type),
             ss_target_type_name(tr->metric_type), q);
    }
  }
}

static void sdep_spec(const json_t *obj) {
  struct ss_resource r;
  json_t *copy = json_deep_copy(obj);
  const json_t *ds = at(obj, "status", "deploymentStatus");
  if (!copy)
    return;
  if (ss_resource_decode(copy, NULL, "", NULL, &r)) {
    ss_resource_free(&r);
    json_decref(copy);
    return;
  }
  json_decref(copy); /* the resource holds its own reference */
  const struct ss_sdep *s = &r.u.sdep;
  printf("Spec:\n");
  if (s->spec_name)
    printf("  %-11s%s\n", "Name:", s->spec_name);
  if (s->replicas >= 0)
    printf("  %-11s%d\n", "Replicas:", (int)s->replicas);
  else
    printf("  %-11s<unset> (predictors run their own, else 1)\n", "Replicas:");
  printf("  Predictors:\n");
  for (size_t p = 0; p < s->n_predictors; p++) {
    const struct ss_predictor *pr = &s->predictors[p];
    printf("    %s:\n", pr->name ? pr->name : "?");
    if (pr->replicas >= 0)
      printf("      %-12s%d\n", "Replicas:", (int)pr->replicas);
    if (pr->traffic > 0)
      printf("      %-12s%d%%\n", "Traffic:", (int)pr->traffic);
    printf("      %-12s%s (%s)\n", "Graph:", pr->graph.name ? pr->graph.name : "?",
           ss_node_type_name(pr->graph.type));
    printf("      Replica Sets:\n");
    for (size_t ci = 0; ci < pr->n_components; ci++) {
      const struct ss_component_spec *cs = &pr->components[ci];
      const json_t *st = json_object_get(ds, cs->rs_name);
      printf("        %s:\n", cs->rs_name);
      for (size_t k = 0; k < cs->n_containers; k++)
        printf("          %-14s%s (%s)\n", k ? "" : "Containers:",
               cs->containers[k].name ? cs->containers[k].name : "?",
               cs->containers[k].image ? cs->containers[k].image : "?");
      int want = (int)ss_component_replicas(s, pr, cs);
      if (st)
        printf("          %-14s%lld desired, %lld ready, %lld running (spec asks %d)\n",
               "Replicas:", (long long)json_integer_value(json_object_get(st, "desiredReplicas")),
               (long long)json_integer_value(json_object_get(st, "availableReplicas")),
               (long long)json_integer_value(json_object_get(st, "replicas")), want);
      else
        printf("          %-14s%d (not started)\n", "Replicas:", want);
      if (cs->keda)
        keda_lines(cs->keda);
      else if (cs->hpa)
        hpa_line(cs->hpa);
    }
  }
  ss_resource_free(&r);
}

static void sdep_status(const json_t *obj) {
  const json_t *st = json_object_get(obj, "status");
  printf("Status:\n");
  if (!st) {
    printf("  <none yet>\n");
    return;
  }
  printf("  %-21s%s\n", "State:", str(json_object_get(st, "state"), "<unknown>"));
  if (json_object_get(st, "description"))
    printf("  %-21s%s\n", "Description:", str(json_object_get(st, "description"), ""));
  printf("  %-21s%lld\n", "Replicas:", (long long)json_integer_value(json_object_get(st, "replicas")));
  printf("  %-21s%s\n", "Address:", str(at(st, "address", "url"), "<none>"));
  if (json_object_get(st, "observedGeneration"))
    printf("  %-21s%lld\n", "Observed Generation:",
           (long long)json_integer_value(json_object_get(st, "observedGeneration")));
}

static void other_spec_status(const json_t *obj) {
  static const char *const parts[] = {"spec", "status", NULL};
  for (int i = 0; parts[i]; i++) {
    const json_t *v = json_object_get(obj, parts[i]);
    if (!v || (json_is_object(v) && json_object_size(v) == 0))
      continue;
    json_t *copy = json_deep_copy(v);
    if (i == 1)
      json_object_del(copy, "conditions"); /* printed as a table below */
    char *y = ss_emit(copy, SS_FMT_YAML);
    printf("%c%s:\n", parts[i][0] - 'a' + 'A', parts[i] + 1);
    if (y)
      indent(y, 2);
    free(y);
    json_decref(copy);
  }
}

static void conditions(const json_t *obj) {
  const json_t *conds = at(obj, "status", "conditions");
  if (!json_array_size(conds))
    return;
  struct ss_cli_table *t = ss_cli_table_new(4);
  const char *hdr[] = {"Type", "Status", "Reason", "Message"};
  ss_cli_table_add(t, hdr);
  size_t i;
  const json_t *c;
  json_array_foreach(conds, i, c) {
    const char *row[] = {str(json_object_get(c, "type"), ""), str(json_object_get(c, "status"), ""),
                         str(json_object_get(c, "reason"), ""), str(json_object_get(c, "message"), "")};
    ss_cli_table_add(t, row);
  }
  printf("Conditions:\n");
  print_table_indented(t, 2);
  ss_cli_table_free(t);
}

/* The events of this object, as kubectl describe selects them: by name and
 * uid, so that those of an earlier object of the same name are left out. */
static void events(struct ss_client *c, const char *ns, const char *name, const char *uid) {
  struct ss_client_error err = {0};
  json_t *list = NULL;
  char field[400];
  int n = snprintf(field, sizeof field, "involvedObject.name=%s", name);
  if (uid && *uid)
    snprintf(field + n, sizeof field - (size_t)n, ",involvedObject.uid=%s", uid);
  if (ss_client_list(c, ss_client_kind_find("events"), ns, NULL, field, &list, &err)) {
    printf("Events:       <unavailable: %s>\n", err.msg);
    return;
  }
  json_t *sorted = ss_cli_sort_events(json_object_get(list, "items"));
  if (!json_array_size(sorted)) {
    printf("Events:       <none>\n");
  } else {
    struct ss_cli_table *t = ss_cli_table_new(5);
    const char *hdr[] = {"Type", "Reason", "Age", "From", "Message"};
    const char *dash[] = {"----", "------", "----", "----", "-------"};
    ss_cli_table_add(t, hdr);
    ss_cli_table_add(t, dash);
    size_t i;
    const json_t *e;
    json_array_foreach(sorted, i, e) {
      char age[48];
      const char *ts = str(json_object_get(e, "lastTimestamp"), str(at(e, "metadata", "creationTimestamp"), NULL));
      ss_cli_age(ts, age, sizeof age);
      json_int_t count = json_integer_value(json_object_get(e, "count"));
      if (count > 1) {
        size_t l = strlen(age);
        snprintf(age + l, sizeof age - l, " (x%lld)", (long long)count);
      }
      const char *row[] = {str(json_object_get(e, "type"), ""), str(json_object_get(e, "reason"), ""),
                           age, str(at(e, "source", "component"), ""),
                           str(json_object_get(e, "message"), "")};
      ss_cli_table_add(t, row);
    }
    printf("Events:\n");
    print_table_indented(t, 2);
    ss_cli_table_free(t);
  }
  json_decref(sorted);
  json_decref(list);
}

static void describe(struct ss_client *c, const struct ss_client_kind *k, const char *ns,
                     const json_t *obj) {
  metadata(obj);
  if (strcmp(k->plural, "seldondeployments") == 0) {
    sdep_spec(obj);
    sdep_status(obj);
  } else {
    other_spec_status(obj);
  }
  conditions(obj);
  const char *name = json_string_value(at(obj, "metadata", "name"));
  if (name && strcmp(k->plural, "events") != 0)
    events(c, k->namespaced ? ns : "default", name,
           json_string_value(at(obj, "metadata", "uid")));
}

int ss_cmd_describe(int argc, char **argv) {
  struct ss_cli_opts o;
  int rc = ss_cli_parse(argc, argv, "nl", "servescale describe KIND/NAME | KIND [NAME...] [-n NS]",
                        "Show an object in detail: its spec (predictors, replica sets, autoscaling),\n"
                        "status, conditions and events (the reasons behind each scaling).", &o);
  if (rc >= 0)
    return rc;
  struct ss_cli_ref refs[SS_CLI_MAX_REFS];
  size_t n = 0;
  if (!ss_cli_refs(&o, false, refs, &n))
    return SS_EXIT_FAIL;
  struct ss_client *c = NULL;
  if (!ss_cli_connect(&o, &c))
    return SS_EXIT_FAIL;
  const char *ns = ss_cli_ns(&o, c);
  rc = SS_EXIT_OK;
  bool first = true;
  for (size_t i = 0; i < n; i++) {
    struct ss_client_error err = {0};
    json_t *objs = NULL;
    if (refs[i].name[0]) {
      json_t *obj = NULL;
      if (ss_client_get(c, refs[i].k, ns, refs[i].name, &obj, &err)) {
        ss_cli_error(&err, NULL);
        rc = SS_EXIT_FAIL;
        continue;
      }
      objs = json_pack("[o]", obj);
    } else {
      json_t *list = NULL;
      if (ss_client_list(c, refs[i].k, ns, o.selector, NULL, &list, &err)) {
        ss_cli_error(&err, NULL);
        rc = SS_EXIT_FAIL;
        continue;
      }
      objs = json_incref(json_object_get(list, "items"));
      json_decref(list);
    }
    size_t j;
    json_t *obj;
    json_array_foreach(objs, j, obj) {
      if (!first)
        printf("\n\n");
      first = false;
      describe(c, refs[i].k, ns, obj);
    }
    json_decref(objs);
  }
  ss_client_free(c);
  return rc;
}
