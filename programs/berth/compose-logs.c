/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "compose.h"

const struct cli_opt compose_logs_opts[] = {{0}};

int compose_cmd_logs(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose logs: not built yet\n");
        return 1;
}

int compose_logs_open(struct compose_cli *cc, const struct compose_logs_opts *o,
                      struct compose_logs **ret, struct berth_err *err)
{
        (void)cc;
        (void)o;
        *ret = NULL;
        return err_set(err, -ENOTSUP, "compose: logs are not built yet");
}

int compose_logs_add(struct compose_logs *l, const json_t *container, struct berth_err *err)
{
        (void)l;
        (void)container;
        return err_set(err, -ENOTSUP, "compose: logs are not built yet");
}

void compose_logs_wait(struct compose_logs *l)
{
        (void)l;
}

void compose_logs_close(struct compose_logs *l)
{
        (void)l;
}
