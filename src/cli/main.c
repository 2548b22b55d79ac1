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
    {"mock-classifier", ss_mock_classifier_main, "Run the built-in mock classifier model server (used by replicas)"},
    {"serve", ss_cmd_serve, "Run the daemon: control API, reconciler and replicas"},
    {"validate", ss_cmd_validate, "Check resources and print them with their defaults"},
    {"version", cmd_version, "Print the version"},
};

static void usage(FILE *f) {
  fprintf(f,
          "servescale runs Seldon deployments (SeldonDeployment, Model, Server) on one "
          "machine.\n\nUsage: servescale COMMAND [options]\n\nCommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].summary);
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
