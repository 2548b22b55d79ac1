/* main.c: the servescale command: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon.h"
#include "models/models.h"

#ifndef SS_VERSION
#define SS_VERSION "0.1.0"
#endif

static int cmd_version(int argc, char **argv) {
  (void)argc;
  (void)argv;
  printf("servescale %s\n", SS_VERSION);
  return SS_EXIT_OK;
}

static const struct {
  const char *name;
  int (*fn)(int, char **);
  const char *summary;
} commands[] = {
    {"apply", ss_cmd_apply, "Create or update resources from files"},
    {"create", ss_cmd_create, "Create resources from files"},
    {"delete", ss_cmd_delete, "Delete resources"},
    {"describe", ss_cmd_describe, "Show a resource in detail, with its events"},
    {"events", ss_cmd_events, "Print events, or watch them (--watch)"},
    {"get", ss_cmd_get, "List or show resources"},
    {"kubeconfig", ss_cmd_kubeconfig, "Print the kubeconfig path the commands use"},
    {"loadtest", ss_cmd_loadtest, "Send predictions from N users, with progress and a summary"},
    {"logs", ss_cmd_logs, "Print a replica's log"},
    {"mock-classifier", ss_mock_classifier_main, "Run the built-in mock classifier model server (used by replicas)"},
    {"model-server", ss_model_server_main, "Run the built-in multi-model V2 server of Core 2 Servers (used by replicas)"},
    {"scale", ss_cmd_scale, "Set a resource's replicas"},
    {"prometheus-config", ss_cmd_prometheus_config, "Print a Prometheus scrape configuration for the gateway and replicas"},
    {"gateway", ss_cmd_gateway, "Run the prediction gateway alone (a cluster's data plane)"},
    {"record", ss_cmd_record, "Record a deployment's arrival rate as a load trace for simulate"},
    {"render", ss_cmd_render, "Print the Kubernetes objects that run resources on a cluster"},
    {"simulate", ss_cmd_simulate, "Replay a load trace through a resource's autoscaling and peers' (offline)"},
    {"serve", ss_cmd_serve, "Run the daemon: control API, reconciler and replicas"},
    {"timeline", ss_cmd_timeline, "Write a deployment's scaling timeline as an SVG chart (or JSON)"},
    {"top", ss_cmd_top, "Show autoscaled targets: replicas, metric vs target, conditions"},
    {"validate", ss_cmd_validate, "Check resources and print them with their defaults"},
    {"version", cmd_version, "Print the version"},
    {"wait", ss_cmd_wait, "Wait for a condition, a field's value, replicas or deletion"},
};

static void usage(FILE *f) {
  fprintf(f,
          "servescale runs Seldon deployments (SeldonDeployment, Model, Server) on one "
          "machine.\n\nUsage: servescale COMMAND [options]\n\nCommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    fprintf(f, "  %-18s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\nRun 'servescale COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return SS_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return SS_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0)
    return cmd_version(0, NULL);
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "servescale: unknown command \"%s\"\n\n", argv[1]);
  usage(stderr);
  return SS_EXIT_USAGE;
}
