/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "compose.h"

const struct cli_opt compose_up_opts[] = {{0}};

int compose_cmd_up(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose up: not built yet\n");
        return 1;
}
const struct cli_opt compose_create_opts[] = {{0}};

int compose_cmd_create(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose create: not built yet\n");
        return 1;
}
const struct cli_opt compose_run_opts[] = {{0}};

int compose_cmd_run(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose run: not built yet\n");
        return 1;
}
const struct cli_opt compose_down_opts[] = {{0}};

int compose_cmd_down(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose down: not built yet\n");
        return 1;
}
