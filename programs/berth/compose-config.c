/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "compose.h"

const struct cli_opt compose_config_opts[] = {{0}};

int compose_cmd_config(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose config: not built yet\n");
        return 1;
}
