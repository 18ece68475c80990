/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth version, berth info, berth system ... */
#include "cli.h"

#include <sys/utsname.h>

const struct cli_opt cli_version_opts[] = {
    {"format", 'f', CLI_STRING,
     "Format output using a custom template ('json', or a Go template such as "
     "'{{.Server.Version}}')",
     NULL},
    {0},
};

const struct cli_opt cli_info_opts[] = {
    {"format", 'f', CLI_STRING,
     "Format output using a custom template ('json', or a Go template such as '{{.Driver}}')",
     NULL},
    {0},
};

static const char *goarch(void)
{
        static struct utsname u;
        uname(&u);
        if (streq(u.machine, "x86_64"))
                return "amd64";
        if (streq(u.machine, "aarch64"))
                return "arm64";
        return u.machine;
}

static json_t *client_json_info(struct cli *cli)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Version", BERTH_VERSION,
                         "ApiVersion", cli->client.version[0] ? cli->client.version : "1.41",
                         "DefaultAPIVersion", "1.41", "GitCommit", BERTH_GIT_COMMIT, "GoVersion",
                         "C (gcc " __VERSION__ ")", "Os", "linux", "Arch", goarch());
}

static int print_formatted(const char *fmt, json_t *data)
{
        struct berth_err err = {0};
        if (streq(fmt, "json") || streq(fmt, "{{json .}}")) {
                (void)json_print(stdout, data, JSON_COMPACT);
                return 0;
        }
        if (cli_format(fmt, data, stdout, &err) < 0) {
                fprintf(stderr, "berth: %s\n", err.msg);
                return 64;
        }
        return 0;
}

int cli_cmd_version(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        _cleanup_json_ json_t *server = NULL;
        int r = cli_connect(cli, &err);
        if (r >= 0)
                r = client_json(&cli->client, "GET", "/version", NULL, NULL, &server, &err);

        const char *fmt = cli_str(a, "format");
        if (fmt) {
                _cleanup_json_ json_t *all =
                    json_pack("{s:o, s:O?}", "Client", client_json_info(cli), "Server",
                              r < 0 ? NULL : server);
                int fr = print_formatted(fmt, all);
                if (r < 0)
                        return cli_fail(&err);
                return fr;
        }

        printf("Client:\n"
               " Version:           %s\n"
               " API version:       %s\n"
               " Go version:        C (gcc %s)\n"
               " Git commit:        %s\n"
               " Built:             %s %s\n"
               " OS/Arch:           linux/%s\n"
               " Context:           default\n",
               BERTH_VERSION, cli->client.version, __VERSION__, BERTH_GIT_COMMIT, __DATE__,
               __TIME__, goarch());
        if (r < 0) {
                fflush(stdout);
                return cli_fail(&err);
        }
        printf("\nServer: %s\n", json_get_str(json_object_get(server, "Platform"), "Name", ""));
        json_t *comp;
        size_t i;
        json_array_foreach (json_object_get(server, "Components"), i, comp) {
                json_t *d = json_object_get(comp, "Details");
                printf(" %s:\n"
                       "  Version:          %s\n"
                       "  API version:      %s (minimum version %s)\n"
                       "  Go version:       %s\n"
                       "  Git commit:       %s\n"
                       "  Built:            %s\n"
                       "  OS/Arch:          %s/%s\n"
                       "  Experimental:     %s\n",
                       json_get_str(comp, "Name", ""), json_get_str(comp, "Version", ""),
                       json_get_str(d, "ApiVersion", ""), json_get_str(d, "MinAPIVersion", ""),
                       json_get_str(d, "GoVersion", ""), json_get_str(d, "GitCommit", ""),
                       json_get_str(d, "BuildTime", ""), json_get_str(d, "Os", ""),
                       json_get_str(d, "Arch", ""), json_get_str(d, "Experimental", ""));
        }
        return 0;
}

static void print_names(const char *label, json_t *arr)
{
        size_t i;
        json_t *x;
        printf("  %s:", label);
        json_array_foreach (arr, i, x)
                printf(" %s", json_string_value(x));
        putchar('\n');
}

int cli_cmd_info(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        _cleanup_json_ json_t *s = NULL;
        int r = cli_connect(cli, &err);
        if (r >= 0)
                r = client_json(&cli->client, "GET", "/info", NULL, NULL, &s, &err);
        const char *fmt = cli_str(a, "format");
        if (fmt) {
                if (r < 0)
                        return cli_fail(&err);
                return print_formatted(fmt, s);
        }
        printf("Client:\n Version:    %s\n Context:    default\n Debug Mode: %s\n\nServer:\n",
               BERTH_VERSION, cli->debug ? "true" : "false");
        if (r < 0) {
                fflush(stdout);
                return cli_fail(&err);
        }
        char mem[32];
        size_t i;
        json_t *x;
        printf(
            " Containers: %lld\n  Running: %lld\n  Paused: %lld\n  Stopped: %lld\n Images: %lld\n",
            (long long)json_get_int(s, "Containers", 0),
            (long long)json_get_int(s, "ContainersRunning", 0),
            (long long)json_get_int(s, "ContainersPaused", 0),
            (long long)json_get_int(s, "ContainersStopped", 0),
            (long long)json_get_int(s, "Images", 0));
        printf(" Server Version: %s\n Storage Driver: %s\n", json_get_str(s, "ServerVersion", ""),
               json_get_str(s, "Driver", ""));
        json_array_foreach (json_object_get(s, "DriverStatus"), i, x)
                printf("  %s: %s\n", json_string_value(json_array_get(x, 0)),
                       json_string_value(json_array_get(x, 1)));
        printf(" Logging Driver: %s\n Cgroup Driver: %s\n Cgroup Version: %s\n Plugins:\n",
               json_get_str(s, "LoggingDriver", ""), json_get_str(s, "CgroupDriver", ""),
               json_get_str(s, "CgroupVersion", ""));
        json_t *pl = json_object_get(s, "Plugins");
        print_names("Volume", json_object_get(pl, "Volume"));
        print_names("Network", json_object_get(pl, "Network"));
        print_names("Log", json_object_get(pl, "Log"));
        if (json_array_size(json_object_get(pl, "Authorization")))
                print_names("Authorization", json_object_get(pl, "Authorization"));
        printf(" Drivers:\n");
        json_array_foreach (json_object_get(s, "BerthDrivers"), i, x) {
                json_t *f;
                size_t k;
                printf("  %-8s %-10s %-7s ABI %-4s %s", json_get_str(x, "Kind", ""),
                       json_get_str(x, "Name", ""), json_get_str(x, "Version", ""),
                       json_get_str(x, "ABI", ""), json_get_str(x, "Path", ""));
                if (json_array_size(json_object_get(x, "Features"))) {
                        printf(" [");
                        json_array_foreach (json_object_get(x, "Features"), k, f)
                                printf("%s%s", k ? " " : "", json_string_value(f));
                        printf("]");
                }
                putchar('\n');
        }
        printf(" Security Options:\n");
        json_array_foreach (json_object_get(s, "SecurityOptions"), i, x)
                printf("  %s\n", json_string_value(x));
        cli_bytes_binary(json_get_int(s, "MemTotal", 0), mem, sizeof(mem));
        printf(" Kernel Version: %s\n Operating System: %s\n OSType: %s\n Architecture: %s\n"
               " CPUs: %lld\n Total Memory: %s\n Name: %s\n ID: %s\n Berth Root Dir: %s\n"
               " Config File: %s\n Debug Mode: %s\n Live Restore Enabled: %s\n",
               json_get_str(s, "KernelVersion", ""), json_get_str(s, "OperatingSystem", ""),
               json_get_str(s, "OSType", ""), json_get_str(s, "Architecture", ""),
               (long long)json_get_int(s, "NCPU", 0), mem, json_get_str(s, "Name", ""),
               json_get_str(s, "ID", ""), json_get_str(s, "DockerRootDir", ""),
               json_get_str(s, "BerthConfigFile", "(none: built-in defaults)"),
               json_get_bool(s, "Debug", false) ? "true" : "false",
               json_get_bool(s, "LiveRestoreEnabled", false) ? "true" : "false");
        json_t *ins =
            json_object_get(json_object_get(s, "RegistryConfig"), "InsecureRegistryCIDRs");
        if (json_array_size(ins)) {
                printf(" Insecure Registries:\n");
                json_array_foreach (ins, i, x)
                        printf("  %s\n", json_string_value(x));
        }
        json_array_foreach (json_object_get(s, "Warnings"), i, x)
                fprintf(stderr, "%s\n", json_string_value(x));
        return 0;
}

/* --- system prune: the prunes of each kind, one after another, as the
 * docker CLI composes them -------------------------------------------------- */

static const struct cli_opt system_prune_opts[] = {
    {"all", 'a', CLI_BOOL, "Remove all unused images not just dangling ones", NULL},
    {"filter", 0, CLI_LIST, "Provide filter values (e.g. \"label=<key>=<value>\")", NULL},
    {"force", 'f', CLI_BOOL, "Do not prompt for confirmation", NULL},
    {"volumes", 0, CLI_BOOL, "Prune anonymous volumes", NULL},
    {0},
};

static int cmd_system_prune(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        bool all = cli_flag(a, "all"), volumes = cli_flag(a, "volumes");
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        /* Before API 1.42 a volume prune takes every unused volume, after it
         * only anonymous ones (unless all=true). */
        bool anon_only = strverscmp(cli->client.version, "1.42") >= 0;
        if (!cli_flag(a, "force")) {
                _cleanup_free_ char *w = xasprintf(
                    "WARNING! This will remove:\n  - all stopped containers\n  - all networks not "
                    "used by at least one container\n%s  - %s\n",
                    !volumes    ? ""
                    : anon_only ? "  - all anonymous volumes not used by at least one container\n"
                                : "  - all volumes not used by at least one container\n",
                    all ? "all images without at least one container associated to them"
                        : "all dangling images");
                if (!cli_confirm(w))
                        return 0;
        }
        char **filters = cli_list(a, "filter");
        struct {
                const char *path, *key, *title;
                bool want;
                const char *extra_key, *extra_value;
        } steps[] = {
            {"/containers/prune", "ContainersDeleted", "Deleted Containers", true, NULL, NULL},
            {"/networks/prune", "NetworksDeleted", "Deleted Networks", true, NULL, NULL},
            {"/volumes/prune", "VolumesDeleted", "Deleted Volumes", volumes, NULL, NULL},
            {"/images/prune", "ImagesDeleted", "Deleted Images", true, "dangling",
             all ? "false" : "true"},
        };
        int64_t reclaimed = 0;
        for (size_t k = 0; k < ELEMENTSOF(steps); k++)
                if (steps[k].want &&
                    cli_prune(cli, steps[k].path, filters, steps[k].extra_key, steps[k].extra_value,
                              steps[k].key, steps[k].title, &reclaimed, &err) < 0)
                        return cli_fail(&err);
        cli_print_reclaimed(reclaimed);
        return 0;
}

const struct cli_command cli_system_sub[] = {
    {"df", NULL, "[OPTIONS]", "Show berth disk usage", NULL, cli_df_opts, cli_cmd_system_df, NULL,
     0, 0, false},
    {"info", NULL, "[OPTIONS]", "Display system-wide information", NULL, cli_info_opts,
     cli_cmd_info, NULL, 0, 0, false},
    {"prune", NULL, "[OPTIONS]", "Remove unused data", NULL, system_prune_opts, cmd_system_prune,
     NULL, 0, 0, false},
    {0},
};
