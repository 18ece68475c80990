/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "compose.h"

const struct cli_opt compose_start_opts[] = {{0}};

int compose_cmd_start(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose start: not built yet\n");
        return 1;
}
const struct cli_opt compose_stop_opts[] = {{0}};

int compose_cmd_stop(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose stop: not built yet\n");
        return 1;
}
const struct cli_opt compose_restart_opts[] = {{0}};

int compose_cmd_restart(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose restart: not built yet\n");
        return 1;
}
const struct cli_opt compose_rm_opts[] = {{0}};

int compose_cmd_rm(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose rm: not built yet\n");
        return 1;
}
const struct cli_opt compose_kill_opts[] = {{0}};

int compose_cmd_kill(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose kill: not built yet\n");
        return 1;
}
const struct cli_opt compose_pause_opts[] = {{0}};

int compose_cmd_pause(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose pause: not built yet\n");
        return 1;
}

int compose_cmd_unpause(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose unpause: not built yet\n");
        return 1;
}
