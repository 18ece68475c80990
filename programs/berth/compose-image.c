/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "compose.h"

const struct cli_opt compose_build_opts[] = {{0}};

int compose_cmd_build(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose build: not built yet\n");
        return 1;
}
const struct cli_opt compose_pull_opts[] = {{0}};

int compose_cmd_pull(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose pull: not built yet\n");
        return 1;
}
const struct cli_opt compose_push_opts[] = {{0}};

int compose_cmd_push(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose push: not built yet\n");
        return 1;
}
