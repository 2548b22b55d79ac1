/* cli.h: the subcommands of the servescale binary. Each takes argc/argv with
 * argv[0] being the subcommand's name and returns the process exit code
 * (0 success, 1 failure, 2 bad usage), as kubectl does. */
#ifndef SS_CLI_CLI_H
#define SS_CLI_CLI_H

#define SS_EXIT_OK 0
#define SS_EXIT_FAIL 1
#define SS_EXIT_USAGE 2

int ss_cmd_validate(int argc, char **argv);

/* Clients of the control API (src/cli/cmd_<name>.c), kubectl's shapes. */
int ss_cmd_apply(int argc, char **argv);
int ss_cmd_create(int argc, char **argv);
int ss_cmd_get(int argc, char **argv);
int ss_cmd_describe(int argc, char **argv);
int ss_cmd_scale(int argc, char **argv);
int ss_cmd_wait(int argc, char **argv);
int ss_cmd_delete(int argc, char **argv);
int ss_cmd_events(int argc, char **argv);
int ss_cmd_logs(int argc, char **argv);
int ss_cmd_kubeconfig(int argc, char **argv);
int ss_cmd_render(int argc, char **argv);
int ss_cmd_gateway(int argc, char **argv);
int ss_cmd_prometheus_config(int argc, char **argv);
int ss_cmd_top(int argc, char **argv);
/* Offline: replays a load trace through a resource's autoscaling. */
int ss_cmd_simulate(int argc, char **argv);
int ss_cmd_loadtest(int argc, char **argv);
int ss_cmd_timeline(int argc, char **argv);
int ss_cmd_record(int argc, char **argv);

#endif
