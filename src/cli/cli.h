/* cli.h: the subcommands of the servescale binary. Each takes argc/argv with
 * argv[0] being the subcommand's name and returns the process exit code
 * (0 success, 1 failure, 2 bad usage), as kubectl does. */
#ifndef SS_CLI_CLI_H
#define SS_CLI_CLI_H

#define SS_EXIT_OK 0
#define SS_EXIT_FAIL 1
#define SS_EXIT_USAGE 2

int ss_cmd_validate(int argc, char **argv);

#endif
