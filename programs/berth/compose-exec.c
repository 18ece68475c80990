/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "compose.h"

const struct cli_opt compose_exec_opts[] = {{0}};

int compose_cmd_exec(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose exec: not built yet\n");
        return 1;
}
const struct cli_opt compose_cp_opts[] = {{0}};

int compose_cmd_cp(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose cp: not built yet\n");
        return 1;
}
const struct cli_opt compose_wait_opts[] = {{0}};

int compose_cmd_wait(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose wait: not built yet\n");
        return 1;
}
