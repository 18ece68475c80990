/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The flags of `create` and `run`, turned into the Engine API's create body
 * (docker-api.md §3.1, "Flag → field map"). */
#include "cli.h"

#include <ctype.h>
#include <math.h>
#include <sys/ioctl.h>

const struct cli_opt cli_create_opts[] = {
    {"add-host", 0, CLI_LIST, "Add a custom host-to-IP mapping (host:ip)", NULL},
    {"attach", 'a', CLI_LIST, "Attach to STDIN, STDOUT or STDERR", NULL},
    {"cap-add", 0, CLI_LIST, "Add Linux capabilities", NULL},
    {"cap-drop", 0, CLI_LIST, "Drop Linux capabilities", NULL},
    {"cidfile", 0, CLI_STRING, "Write the container ID to the file", NULL},
    {"cpu-period", 0, CLI_INT, "Limit CPU CFS (Completely Fair Scheduler) period", NULL},
    {"cpu-quota", 0, CLI_INT, "Limit CPU CFS (Completely Fair Scheduler) quota", NULL},
    {"cpu-shares", 'c', CLI_INT, "CPU shares (relative weight)", NULL},
    {"cpus", 0, CLI_STRING, "Number of CPUs", NULL},
    {"cpuset-cpus", 0, CLI_STRING, "CPUs in which to allow execution (0-3, 0,1)", NULL},
    {"cpuset-mems", 0, CLI_STRING, "MEMs in which to allow execution (0-3, 0,1)", NULL},
    {"detach", 'd', CLI_BOOL, "Run container in background and print container ID", NULL},
    {"detach-keys", 0, CLI_STRING, "Override the key sequence for detaching a container", NULL},
    {"device", 0, CLI_LIST, "Add a host device to the container", NULL},
    {"dns", 0, CLI_LIST, "Set custom DNS servers", NULL},
    {"dns-option", 0, CLI_LIST, "Set DNS options", NULL},
    {"dns-search", 0, CLI_LIST, "Set custom DNS search domains", NULL},
    {"entrypoint", 0, CLI_STRING, "Overwrite the default ENTRYPOINT of the image", NULL},
    {"env", 'e', CLI_LIST, "Set environment variables", NULL},
    {"env-file", 0, CLI_LIST, "Read in a file of environment variables", NULL},
    {"expose", 0, CLI_LIST, "Expose a port or a range of ports", NULL},
    {"group-add", 0, CLI_LIST, "Add additional groups to join", NULL},
    {"health-cmd", 0, CLI_STRING, "Command to run to check health", NULL},
    {"health-interval", 0, CLI_STRING, "Time between running the check (ms|s|m|h) (default 0s)",
     NULL},
    {"health-retries", 0, CLI_INT, "Consecutive failures needed to report unhealthy", NULL},
    {"health-start-period", 0, CLI_STRING,
     "Start period for the container to initialize before starting health-retries countdown "
     "(ms|s|m|h) (default 0s)",
     NULL},
    {"health-timeout", 0, CLI_STRING,
     "Maximum time to allow one check to run (ms|s|m|h) (default 0s)", NULL},
    {"hostname", 'h', CLI_STRING, "Container host name", NULL},
    {"init", 0, CLI_BOOL,
     "Run an init inside the container that forwards signals and reaps processes", NULL},
    {"interactive", 'i', CLI_BOOL, "Keep STDIN open even if not attached", NULL},
    {"ip", 0, CLI_STRING, "IPv4 address (e.g., 172.30.100.104)", NULL},
    {"ip6", 0, CLI_STRING, "IPv6 address (e.g., 2001:db8::33)", NULL},
    {"ipc", 0, CLI_STRING, "IPC mode to use", NULL},
    {"label", 'l', CLI_LIST, "Set meta data on a container", NULL},
    {"log-driver", 0, CLI_STRING, "Logging driver for the container", NULL},
    {"log-opt", 0, CLI_LIST, "Log driver options", NULL},
    {"memory", 'm', CLI_STRING, "Memory limit", NULL},
    {"memory-reservation", 0, CLI_STRING, "Memory soft limit", NULL},
    {"memory-swap", 0, CLI_STRING,
     "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", NULL},
    {"mount", 0, CLI_LIST, "Attach a filesystem mount to the container", NULL},
    {"name", 0, CLI_STRING, "Assign a name to the container", NULL},
    {"network", 0, CLI_STRING, "Connect a container to a network", NULL},
    {"net", 0, CLI_STRING, "Connect a container to a network (same as --network)", NULL},
    {"network-alias", 0, CLI_LIST, "Add network-scoped alias for the container", NULL},
    {"no-healthcheck", 0, CLI_BOOL, "Disable any container-specified HEALTHCHECK", NULL},
    {"oom-kill-disable", 0, CLI_BOOL, "Disable OOM Killer", NULL},
    {"oom-score-adj", 0, CLI_INT, "Tune host's OOM preferences (-1000 to 1000)", NULL},
    {"pid", 0, CLI_STRING, "PID namespace to use", NULL},
    {"pids-limit", 0, CLI_INT, "Tune container pids limit (set -1 for unlimited)", NULL},
    {"platform", 0, CLI_STRING, "Set platform if server is multi-platform capable", NULL},
    {"privileged", 0, CLI_BOOL, "Give extended privileges to this container", NULL},
    {"publish", 'p', CLI_LIST, "Publish a container's port(s) to the host", NULL},
    {"publish-all", 'P', CLI_BOOL, "Publish all exposed ports to random ports", NULL},
    {"pull", 0, CLI_STRING, "Pull image before running (\"always\"|\"missing\"|\"never\")",
     "missing"},
    {"read-only", 0, CLI_BOOL, "Mount the container's root filesystem as read only", NULL},
    {"restart", 0, CLI_STRING, "Restart policy to apply when a container exits", "no"},
    {"rm", 0, CLI_BOOL, "Automatically remove the container when it exits", NULL},
    {"security-opt", 0, CLI_LIST, "Security Options", NULL},
    {"shm-size", 0, CLI_STRING, "Size of /dev/shm", NULL},
    {"sig-proxy", 0, CLI_BOOL, "Proxy received signals to the process", "true"},
    {"stop-signal", 0, CLI_STRING, "Signal to stop the container", NULL},
    {"stop-timeout", 0, CLI_INT, "Timeout (in seconds) to stop a container", NULL},
    {"sysctl", 0, CLI_LIST, "Sysctl options", NULL},
    {"tmpfs", 0, CLI_LIST, "Mount a tmpfs directory", NULL},
    {"tty", 't', CLI_BOOL, "Allocate a pseudo-TTY", NULL},
    {"ulimit", 0, CLI_LIST, "Ulimit options", NULL},
    {"user", 'u', CLI_STRING, "Username or UID (format: <name|uid>[:<group|gid>])", NULL},
    {"userns", 0, CLI_STRING, "User namespace to use", NULL},
    {"uts", 0, CLI_STRING, "UTS namespace to use", NULL},
    {"volume", 'v', CLI_LIST, "Bind mount a volume", NULL},
    {"volumes-from", 0, CLI_LIST, "Mount volumes from the specified container(s)", NULL},
    {"workdir", 'w', CLI_STRING, "Working directory inside the container", NULL},
    {0},
};

static int bad_value(const char *flag, const char *value, const char *why)
{
        fprintf(stderr,
                "berth: invalid argument \"%s\" for \"--%s\" flag: %s\nSee 'berth run --help'.\n",
                value, flag, why);
        return -EINVAL;
}

/* Docker's RAMInBytes: binary units, "b" optional. */
static int ram_bytes(const char *flag, const char *s, int64_t *ret)
{
        uint64_t v;
        if (streq(s, "-1") && streq(flag, "memory-swap")) {
                *ret = -1;
                return 0;
        }
        if (parse_size(s, &v) < 0 || v > INT64_MAX)
                return bad_value(flag, s, "invalid size");
        *ret = (int64_t)v;
        return 0;
}

/* Go durations: "1h2m3.5s", "300ms", "10us", "0". */
static int duration_ns(const char *flag, const char *s, int64_t *ret)
{
        const char *p = s;
        double total = 0;
        if (streq(s, "0")) {
                *ret = 0;
                return 0;
        }
        while (*p) {
                char *end;
                double v = strtod(p, &end);
                if (end == p)
                        return bad_value(flag, s, "invalid duration");
                p = end;
                double mul;
                if (startswith(p, "ns"))
                        mul = 1, p += 2;
                else if (startswith(p, "us"))
                        mul = 1e3, p += 2;
                else if (startswith(p, "ms"))
                        mul = 1e6, p += 2;
                else if (*p == 's')
                        mul = 1e9, p++;
                else if (*p == 'm')
                        mul = 60e9, p++;
                else if (*p == 'h')
                        mul = 3600e9, p++;
                else
                        return bad_value(flag, s, "missing unit in duration");
                total += v * mul;
        }
        *ret = (int64_t)llround(total);
        return 0;
}

static void set_str_list(json_t *o, const char *key, char **list)
{
        if (!list)
                return;
        json_t *a = json_array();
        for (char **i = list; *i; i++)
                json_array_append_new(a, json_string(*i));
        json_object_set_new(o, key, a);
}

static int read_env_file(const char *path, json_t *env)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char line[8192];
        if (!f) {
                fprintf(stderr, "berth: open %s: %s\n", path, strerror(errno));
                return -errno;
        }
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\r\n")] = '\0';
                char *l = line + strspn(line, " \t");
                if (!*l || *l == '#')
                        continue;
                if (!strchr(l, '=')) {
                        const char *v = getenv(l);
                        if (v)
                                json_array_append_new(env, json_sprintf("%s=%s", l, v));
                        continue;
                }
                json_array_append_new(env, json_string(l));
        }
        return 0;
}

/* [ip:][hostPort:]containerPort[/proto], with port ranges. */
static int add_port(json_t *exposed, json_t *bindings, const char *spec)
{
        _cleanup_free_ char *s = xstrdup(spec);
        char *proto = strrchr(s, '/');
        const char *pr = "tcp";
        if (proto) {
                *proto = '\0';
                pr = proto + 1;
                if (!streq(pr, "tcp") && !streq(pr, "udp") && !streq(pr, "sctp"))
                        return bad_value("publish", spec, "invalid proto");
        }
        /* split from the right: container port, host port, ip (which may hold ':' for IPv6 in []) */
        char *cport = strrchr(s, ':');
        char *ip = NULL, *hport = NULL;
        if (cport) {
                *cport++ = '\0';
                char *h = strrchr(s, ':');
                if (h) {
                        *h++ = '\0';
                        hport = h;
                        ip = s;
                } else
                        hport = s;
        } else
                cport = s;
        if (ip && ip[0] == '[') {
                ip++;
                ip[strcspn(ip, "]")] = '\0';
        }
        int64_t c;
        if (parse_int64(cport, &c) < 0 || c < 1 || c > 65535)
                return bad_value("publish", spec, "invalid containerPort");
        if (hport && *hport) {
                int64_t h;
                if (parse_int64(hport, &h) < 0 || h < 0 || h > 65535)
                        return bad_value("publish", spec, "invalid hostPort");
        }
        _cleanup_free_ char *key = xasprintf("%lld/%s", (long long)c, pr);
        json_object_set_new(exposed, key, json_object());
        if (!bindings)
                return 0;
        json_t *l = json_object_get(bindings, key);
        if (!l) {
                l = json_array();
                json_object_set_new(bindings, key, l);
        }
        json_array_append_new(
            l, json_pack("{s:s, s:s}", "HostIp", ip ? ip : "", "HostPort", hport ? hport : ""));
        return 0;
}

static int parse_mount(const char *spec, json_t *mounts)
{
        _cleanup_strv_ char **parts = strv_split(spec, ",");
        json_t *m = json_object();
        json_t *bind_opts = NULL, *vol_opts = NULL, *tmpfs_opts = NULL;
        const char *type = "volume";
        for (char **p = parts; *p; p++) {
                char *eq = strchr(*p, '=');
                _cleanup_free_ char *k = eq ? xstrndup(*p, (size_t)(eq - *p)) : xstrdup(*p);
                const char *v = eq ? eq + 1 : NULL;
                if (streq(k, "type"))
                        type = v ? v : "";
        }
        json_object_set_new(m, "Type", json_string(type));
        for (char **p = parts; *p; p++) {
                char *eq = strchr(*p, '=');
                _cleanup_free_ char *k = eq ? xstrndup(*p, (size_t)(eq - *p)) : xstrdup(*p);
                const char *v = eq ? eq + 1 : "";
                if (streq(k, "type"))
                        continue;
                if (streq(k, "source") || streq(k, "src"))
                        json_object_set_new(m, "Source", json_string(v));
                else if (streq(k, "target") || streq(k, "destination") || streq(k, "dst"))
                        json_object_set_new(m, "Target", json_string(v));
                else if (streq(k, "readonly") || streq(k, "ro")) {
                        bool b = true;
                        if (eq && parse_bool(v, &b) < 0)
                                return bad_value("mount", spec, "invalid readonly value");
                        json_object_set_new(m, "ReadOnly", json_boolean(b));
                } else if (streq(k, "bind-propagation")) {
                        if (!bind_opts)
                                bind_opts = json_object();
                        json_object_set_new(bind_opts, "Propagation", json_string(v));
                } else if (streq(k, "volume-nocopy")) {
                        if (!vol_opts)
                                vol_opts = json_object();
                        json_object_set_new(vol_opts, "NoCopy", json_true());
                } else if (streq(k, "volume-driver")) {
                        if (!vol_opts)
                                vol_opts = json_object();
                        json_object_set_new(vol_opts, "DriverConfig",
                                            json_pack("{s:s}", "Name", v));
                } else if (streq(k, "volume-opt")) {
                        if (!vol_opts)
                                vol_opts = json_object();
                        json_t *dc = json_object_get(vol_opts, "DriverConfig");
                        if (!dc) {
                                dc = json_object();
                                json_object_set_new(vol_opts, "DriverConfig", dc);
                        }
                        json_t *opts = json_object_get(dc, "Options");
                        if (!opts) {
                                opts = json_object();
                                json_object_set_new(dc, "Options", opts);
                        }
                        const char *e2 = strchr(v, '=');
                        if (!e2)
                                return bad_value("mount", spec, "volume-opt must be key=value");
                        _cleanup_free_ char *ok = xstrndup(v, (size_t)(e2 - v));
                        json_object_set_new(opts, ok, json_string(e2 + 1));
                } else if (streq(k, "volume-label")) {
                        if (!vol_opts)
                                vol_opts = json_object();
                        json_t *l = json_object_get(vol_opts, "Labels");
                        if (!l) {
                                l = json_object();
                                json_object_set_new(vol_opts, "Labels", l);
                        }
                        const char *e2 = strchr(v, '=');
                        _cleanup_free_ char *lk = e2 ? xstrndup(v, (size_t)(e2 - v)) : xstrdup(v);
                        json_object_set_new(l, lk, json_string(e2 ? e2 + 1 : ""));
                } else if (streq(k, "tmpfs-size")) {
                        int64_t b;
                        if (ram_bytes("mount", v, &b) < 0)
                                return -EINVAL;
                        if (!tmpfs_opts)
                                tmpfs_opts = json_object();
                        json_object_set_new(tmpfs_opts, "SizeBytes", json_integer(b));
                } else if (streq(k, "tmpfs-mode")) {
                        char *end;
                        long mode = strtol(v, &end, 8);
                        if (*end || !*v)
                                return bad_value("mount", spec, "invalid tmpfs-mode");
                        if (!tmpfs_opts)
                                tmpfs_opts = json_object();
                        json_object_set_new(tmpfs_opts, "Mode", json_integer(mode));
                } else {
                        json_decref(m);
                        json_decref(bind_opts);
                        json_decref(vol_opts);
                        json_decref(tmpfs_opts);
                        _cleanup_free_ char *why = xasprintf("unexpected key '%s' in '%s'", k, *p);
                        return bad_value("mount", spec, why);
                }
        }
        if (bind_opts)
                json_object_set_new(m, "BindOptions", bind_opts);
        if (vol_opts)
                json_object_set_new(m, "VolumeOptions", vol_opts);
        if (tmpfs_opts)
                json_object_set_new(m, "TmpfsOptions", tmpfs_opts);
        json_array_append_new(mounts, m);
        return 0;
}

static int parse_ulimit(const char *spec, json_t *ulimits)
{
        const char *eq = strchr(spec, '=');
        if (!eq)
                return bad_value("ulimit", spec, "expected name=soft[:hard]");
        _cleanup_free_ char *name = xstrndup(spec, (size_t)(eq - spec));
        int64_t soft, hard;
        const char *colon = strchr(eq + 1, ':');
        _cleanup_free_ char *sv =
            colon ? xstrndup(eq + 1, (size_t)(colon - eq - 1)) : xstrdup(eq + 1);
        if (parse_int64(sv, &soft) < 0)
                return bad_value("ulimit", spec, "invalid soft limit");
        hard = soft;
        if (colon && parse_int64(colon + 1, &hard) < 0)
                return bad_value("ulimit", spec, "invalid hard limit");
        if (soft > hard && hard != -1)
                return bad_value("ulimit", spec,
                                 "soft limit must be lower than or equal to the hard limit");
        json_array_append_new(ulimits, json_pack("{s:s, s:I, s:I}", "Name", name, "Soft",
                                                 (json_int_t)soft, "Hard", (json_int_t)hard));
        return 0;
}

int cli_create_body(struct cli_args *a, size_t image_index, json_t **ret_body, char **ret_name)
{
        json_t *body = json_object();
        json_t *hc = json_object();
        json_t *env = json_array();
        json_t *exposed = json_object();
        json_t *bindings = json_object();
        int r = 0;

        json_object_set_new(body, "HostConfig", hc);
        json_object_set_new(body, "Image", json_string(a->pos[image_index]));
        if (a->n_pos > image_index + 1) {
                json_t *cmd = json_array();
                for (size_t i = image_index + 1; i < a->n_pos; i++)
                        json_array_append_new(cmd, json_string(a->pos[i]));
                json_object_set_new(body, "Cmd", cmd);
        }
        const char *s;
        if ((s = cli_str(a, "entrypoint")))
                json_object_set_new(body, "Entrypoint", *s ? json_pack("[s]", s) : json_array());
        for (char **f = cli_list(a, "env-file"); f && *f; f++)
                if ((r = read_env_file(*f, env)) < 0)
                        goto out;
        for (char **e = cli_list(a, "env"); e && *e; e++) {
                /* -e NAME takes NAME from our own environment, as docker does */
                if (!strchr(*e, '=')) {
                        const char *v = getenv(*e);
                        if (v)
                                json_array_append_new(env, json_sprintf("%s=%s", *e, v));
                        continue;
                }
                json_array_append_new(env, json_string(*e));
        }
        json_object_set(body, "Env", env);
        json_object_set_new(body, "Labels", cli_kv_object(cli_list(a, "label"), false, NULL));
        if ((s = cli_str(a, "workdir")))
                json_object_set_new(body, "WorkingDir", json_string(s));
        if ((s = cli_str(a, "user")))
                json_object_set_new(body, "User", json_string(s));
        if ((s = cli_str(a, "hostname")))
                json_object_set_new(body, "Hostname", json_string(s));
        if ((s = cli_str(a, "stop-signal")))
                json_object_set_new(body, "StopSignal", json_string(s));
        if ((s = cli_str(a, "stop-timeout")))
                json_object_set_new(body, "StopTimeout", json_integer(atoll(s)));
        bool tty = cli_flag(a, "tty"), interactive = cli_flag(a, "interactive");
        bool detach = cli_flag(a, "detach");
        json_object_set_new(body, "Tty", json_boolean(tty));
        struct winsize ws;
        if (tty && isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row)
                json_object_set_new(hc, "ConsoleSize", json_pack("[i,i]", ws.ws_row, ws.ws_col));

        json_object_set_new(body, "OpenStdin", json_boolean(interactive));
        json_object_set_new(body, "StdinOnce", json_boolean(interactive && !detach));
        bool attach_in = interactive && !detach, attach_out = !detach, attach_err = !detach;
        if (cli_list(a, "attach")) {
                attach_in = attach_out = attach_err = false;
                for (char **x = cli_list(a, "attach"); *x; x++) {
                        if (strcasecmp(*x, "stdin") == 0)
                                attach_in = true;
                        else if (strcasecmp(*x, "stdout") == 0)
                                attach_out = true;
                        else if (strcasecmp(*x, "stderr") == 0)
                                attach_err = true;
                        else {
                                r = bad_value("attach", *x,
                                              "valid streams are STDIN, STDOUT and STDERR");
                                goto out;
                        }
                }
        }
        json_object_set_new(body, "AttachStdin", json_boolean(attach_in));
        json_object_set_new(body, "AttachStdout", json_boolean(attach_out));
        json_object_set_new(body, "AttachStderr", json_boolean(attach_err));

        /* healthcheck */
        if (cli_flag(a, "no-healthcheck")) {
                json_object_set_new(body, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
        } else if (cli_str(a, "health-cmd") || cli_str(a, "health-interval") ||
                   cli_str(a, "health-timeout") || cli_str(a, "health-retries") ||
                   cli_str(a, "health-start-period")) {
                json_t *h = json_object();
                if ((s = cli_str(a, "health-cmd")))
                        json_object_set_new(h, "Test", json_pack("[s,s]", "CMD-SHELL", s));
                static const char *const durs[][2] = {{"health-interval", "Interval"},
                                                      {"health-timeout", "Timeout"},
                                                      {"health-start-period", "StartPeriod"}};
                for (size_t i = 0; i < ELEMENTSOF(durs); i++) {
                        int64_t ns;
                        if ((s = cli_str(a, durs[i][0]))) {
                                if ((r = duration_ns(durs[i][0], s, &ns)) < 0) {
                                        json_decref(h);
                                        goto out;
                                }
                                if (ns < 0 || (ns > 0 && ns < 1000000)) {
                                        r = bad_value(durs[i][0], s, "must be at least 1ms");
                                        json_decref(h);
                                        goto out;
                                }
                                json_object_set_new(h, durs[i][1], json_integer(ns));
                        }
                }
                if ((s = cli_str(a, "health-retries")))
                        json_object_set_new(h, "Retries", json_integer(atoll(s)));
                json_object_set_new(body, "Healthcheck", h);
        }

        /* ports */
        for (char **p = cli_list(a, "expose"); p && *p; p++)
                if ((r = add_port(exposed, NULL, *p)) < 0)
                        goto out;
        for (char **p = cli_list(a, "publish"); p && *p; p++)
                if ((r = add_port(exposed, bindings, *p)) < 0)
                        goto out;
        json_object_set(body, "ExposedPorts", exposed);
        json_object_set(hc, "PortBindings", bindings);
        json_object_set_new(hc, "PublishAllPorts", json_boolean(cli_flag(a, "publish-all")));

        /* volumes: "-v /c" is anonymous (Config.Volumes), anything with a ':' is a bind */
        json_t *binds = json_array(), *vols = json_object();
        for (char **v = cli_list(a, "volume"); v && *v; v++) {
                if ((*v)[0] == '/' && !strchr(*v, ':'))
                        json_object_set_new(vols, *v, json_object());
                else if (!strchr(*v, ':')) {
                        json_decref(binds);
                        json_decref(vols);
                        r = bad_value("volume", *v,
                                      "invalid volume specification (anonymous volumes need an "
                                      "absolute path)");
                        goto out;
                } else
                        json_array_append_new(binds, json_string(*v));
        }
        json_object_set_new(hc, "Binds",
                            json_array_size(binds) ? binds : (json_decref(binds), json_null()));
        json_object_set_new(body, "Volumes", vols);
        json_t *mounts = json_array();
        json_object_set_new(hc, "Mounts", mounts);
        for (char **m = cli_list(a, "mount"); m && *m; m++)
                if ((r = parse_mount(*m, mounts)) < 0)
                        goto out;
        json_t *tmpfs = json_object();
        json_object_set_new(hc, "Tmpfs", tmpfs);
        for (char **t = cli_list(a, "tmpfs"); t && *t; t++) {
                const char *colon = strchr(*t, ':');
                _cleanup_free_ char *dst = colon ? xstrndup(*t, (size_t)(colon - *t)) : xstrdup(*t);
                json_object_set_new(tmpfs, dst, json_string(colon ? colon + 1 : ""));
        }
        set_str_list(hc, "VolumesFrom", cli_list(a, "volumes-from"));

        /* network */
        const char *net = cli_str(a, "network");
        if (!net)
                net = cli_str(a, "net");
        json_object_set_new(hc, "NetworkMode", json_string(net ? net : "default"));
        json_t *ep = json_object();
        set_str_list(ep, "Aliases", cli_list(a, "network-alias"));
        json_t *ipam = json_object();
        if ((s = cli_str(a, "ip")))
                json_object_set_new(ipam, "IPv4Address", json_string(s));
        if ((s = cli_str(a, "ip6")))
                json_object_set_new(ipam, "IPv6Address", json_string(s));
        if (json_object_size(ipam))
                json_object_set(ep, "IPAMConfig", ipam);
        json_decref(ipam);
        json_object_set_new(body, "NetworkingConfig",
                            json_pack("{s:{s:o}}", "EndpointsConfig", net ? net : "default", ep));
        set_str_list(hc, "Dns", cli_list(a, "dns"));
        set_str_list(hc, "DnsOptions", cli_list(a, "dns-option"));
        set_str_list(hc, "DnsSearch", cli_list(a, "dns-search"));
        set_str_list(hc, "ExtraHosts", cli_list(a, "add-host"));

        /* restart, removal */
        json_object_set_new(hc, "AutoRemove", json_boolean(cli_flag(a, "rm")));
        s = cli_str(a, "restart");
        {
                const char *colon = strchr(s, ':');
                _cleanup_free_ char *pname = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
                int64_t n = 0;
                if (colon && parse_int64(colon + 1, &n) < 0) {
                        r = bad_value("restart", s, "invalid restart policy format");
                        goto out;
                }
                json_object_set_new(
                    hc, "RestartPolicy",
                    json_pack("{s:s, s:I}", "Name", pname, "MaximumRetryCount", (json_int_t)n));
        }

        /* resources */
        static const char *const sizes[][2] = {{"memory", "Memory"},
                                               {"memory-swap", "MemorySwap"},
                                               {"memory-reservation", "MemoryReservation"},
                                               {"shm-size", "ShmSize"}};
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                int64_t b;
                if ((s = cli_str(a, sizes[i][0]))) {
                        if ((r = ram_bytes(sizes[i][0], s, &b)) < 0)
                                goto out;
                        json_object_set_new(hc, sizes[i][1], json_integer(b));
                }
        }
        if ((s = cli_str(a, "cpus"))) {
                char *end;
                double c = strtod(s, &end);
                if (*end || c < 0) {
                        r = bad_value("cpus", s, "invalid number of CPUs");
                        goto out;
                }
                json_object_set_new(hc, "NanoCpus", json_integer((json_int_t)llround(c * 1e9)));
        }
        static const char *const ints[][2] = {{"cpu-shares", "CpuShares"},
                                              {"cpu-quota", "CpuQuota"},
                                              {"cpu-period", "CpuPeriod"},
                                              {"pids-limit", "PidsLimit"},
                                              {"oom-score-adj", "OomScoreAdj"}};
        for (size_t i = 0; i < ELEMENTSOF(ints); i++)
                if ((s = cli_str(a, ints[i][0])))
                        json_object_set_new(hc, ints[i][1], json_integer(atoll(s)));
        if ((s = cli_str(a, "cpuset-cpus")))
                json_object_set_new(hc, "CpusetCpus", json_string(s));
        if ((s = cli_str(a, "cpuset-mems")))
                json_object_set_new(hc, "CpusetMems", json_string(s));
        if (cli_flag(a, "oom-kill-disable"))
                json_object_set_new(hc, "OomKillDisable", json_true());

        /* security */
        set_str_list(hc, "CapAdd", cli_list(a, "cap-add"));
        set_str_list(hc, "CapDrop", cli_list(a, "cap-drop"));
        set_str_list(hc, "SecurityOpt", cli_list(a, "security-opt"));
        set_str_list(hc, "GroupAdd", cli_list(a, "group-add"));
        json_object_set_new(hc, "Privileged", json_boolean(cli_flag(a, "privileged")));
        json_object_set_new(hc, "ReadonlyRootfs", json_boolean(cli_flag(a, "read-only")));
        if (cli_flag(a, "init"))
                json_object_set_new(hc, "Init", json_true());
        const char *bad = NULL;
        json_t *sysctls = cli_kv_object(cli_list(a, "sysctl"), true, &bad);
        if (!sysctls) {
                r = bad_value("sysctl", bad, "expected key=value");
                goto out;
        }
        json_object_set_new(hc, "Sysctls", sysctls);
        json_t *ulimits = json_array();
        json_object_set_new(hc, "Ulimits", ulimits);
        for (char **u = cli_list(a, "ulimit"); u && *u; u++)
                if ((r = parse_ulimit(*u, ulimits)) < 0)
                        goto out;
        json_t *devices = json_array();
        json_object_set_new(hc, "Devices", devices);
        for (char **d = cli_list(a, "device"); d && *d; d++) {
                _cleanup_strv_ char **p = strv_split(*d, ":");
                const char *host = p[0], *cont = p[1] ? p[1] : p[0];
                const char *perm = p[1] && p[2] ? p[2] : "rwm";
                json_array_append_new(devices, json_pack("{s:s, s:s, s:s}", "PathOnHost", host,
                                                         "PathInContainer", cont,
                                                         "CgroupPermissions", perm));
        }
        static const char *const modes[][2] = {
            {"pid", "PidMode"}, {"ipc", "IpcMode"}, {"uts", "UTSMode"}, {"userns", "UsernsMode"}};
        for (size_t i = 0; i < ELEMENTSOF(modes); i++)
                if ((s = cli_str(a, modes[i][0])))
                        json_object_set_new(hc, modes[i][1], json_string(s));

        /* logging */
        json_t *lcfg = cli_kv_object(cli_list(a, "log-opt"), true, &bad);
        if (!lcfg) {
                r = bad_value("log-opt", bad, "expected key=value");
                goto out;
        }
        json_object_set_new(
            hc, "LogConfig",
            json_pack("{s:s, s:o}", "Type", strempty(cli_str(a, "log-driver")), "Config", lcfg));

        *ret_name = cli_str(a, "name") ? xstrdup(cli_str(a, "name")) : NULL;
        *ret_body = body;
        body = NULL;
out:
        json_decref(body);
        json_decref(env);
        json_decref(exposed);
        json_decref(bindings);
        return r;
}
