/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "compose.h"

const struct cli_opt compose_ps_opts[] = {{0}};

int compose_cmd_ps(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose ps: not built yet\n");
        return 1;
}
const struct cli_opt compose_ls_opts[] = {{0}};

int compose_cmd_ls(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose ls: not built yet\n");
        return 1;
}
const struct cli_opt compose_images_opts[] = {{0}};

int compose_cmd_images(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose images: not built yet\n");
        return 1;
}
const struct cli_opt compose_port_opts[] = {{0}};

int compose_cmd_port(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose port: not built yet\n");
        return 1;
}
const struct cli_opt compose_top_opts[] = {{0}};

int compose_cmd_top(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose top: not built yet\n");
        return 1;
}
const struct cli_opt compose_events_opts[] = {{0}};

int compose_cmd_events(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose events: not built yet\n");
        return 1;
}
const struct cli_opt compose_version_opts[] = {{0}};

int compose_cmd_version(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        (void)a;
        fprintf(stderr, "berth compose version: not built yet\n");
        return 1;
}
