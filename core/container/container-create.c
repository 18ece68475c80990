/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Create and remove: a container's record, layer and volumes come and go
 * together; prune removes the stopped ones. */
#include "container-internal.h"
#include "container-spec.h"
#include "base/events.h"
#include "base/filters.h"
#include "image/image.h"
#include "network/network.h"
#include "runtime/runtime.h"
#include "volume/volume.h"

#include <sys/random.h>

/* 64 hex; like Docker, never one whose 12-char short form is all digits
 * (it would read as a number in scripts). */
static void new_id(char out[65])
{
        for (;;) {
                unsigned char raw[32];
                if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
                        abort();
                for (int i = 0; i < 32; i++)
                        sprintf(out + 2 * i, "%02x", raw[i]);
                if (strspn(out, "0123456789") < 12)
                        return;
        }
}

/* Values of a JSON array of "K=V" strings, later ones overriding earlier
 * keys, in first-seen order (Docker's env merge). */
static json_t *merge_env(json_t *base, json_t *over)
{
        json_t *out = json_array();
        json_t *all[2] = {base, over};
        for (int k = 0; k < 2; k++) {
                size_t i;
                json_t *v;
                json_array_foreach (all[k], i, v) {
                        const char *s = json_string_value(v);
                        if (!s)
                                continue;
                        size_t kl = strcspn(s, "=");
                        bool replaced = false;
                        size_t j;
                        json_t *o;
                        json_array_foreach (out, j, o) {
                                const char *os = json_string_value(o);
                                if (strncmp(os, s, kl) == 0 && (os[kl] == '=' || os[kl] == '\0')) {
                                        json_array_set(out, j, v);
                                        replaced = true;
                                        break;
                                }
                        }
                        if (!replaced)
                                json_array_append(out, v);
                }
        }
        return out;
}

static json_t *merge_objects(json_t *base, json_t *over)
{
        json_t *out = json_is_object(base) ? json_deep_copy(base) : json_object();
        if (json_is_object(over))
                json_object_update(out, over);
        return out;
}

static bool nonempty_array(json_t *v)
{
        return json_is_array(v) && json_array_size(v) > 0;
}

static const char *const restart_policies[] = {"",           "no", "always", "unless-stopped",
                                               "on-failure", NULL};

/* A port number as Go's strconv.ParseUint(s, 10, 16) takes it: digits only. */
static bool port_number(const char *s, size_t n, int64_t *ret)
{
        _cleanup_free_ char *a = xstrndup(s, n);
        return n > 0 && strspn(a, "0123456789") == n && parse_int64(a, ret) == 0 && *ret <= 65535;
}

/* nat.ParsePortRange: "", N or N-M, each 0-65535, M >= N. */
static bool port_spec_valid(const char *s)
{
        int64_t lo, hi;
        const char *dash = strchr(s, '-');
        if (!*s)
                return true;
        if (!dash)
                return port_number(s, strlen(s), &lo);
        return port_number(s, (size_t)(dash - s), &lo) &&
               port_number(dash + 1, strlen(dash + 1), &hi) && hi >= lo;
}

static int validate_host_config(json_t *hc, struct berth_err *err)
{
        json_t *rp = json_object_get(hc, "RestartPolicy");
        const char *name = json_get_str(rp, "Name", "");
        bool known = false;
        for (const char *const *p = restart_policies; *p; p++)
                if (streq(*p, name))
                        known = true;
        if (!known)
                return err_set(err, -EINVAL, "invalid restart policy '%s'", name);
        int64_t retries = json_get_int(rp, "MaximumRetryCount", 0);
        if (retries < 0)
                return err_set(err, -EINVAL, "maximum retry count cannot be negative");
        if (retries > 0 && !streq(name, "on-failure"))
                return err_set(err, -EINVAL,
                               "maximum retry count cannot be used with restart policy '%s'", name);
        if (json_get_bool(hc, "AutoRemove", false) && *name && !streq(name, "no"))
                return err_set(err, -EINVAL,
                               "can't create 'AutoRemove' container with restart policy");
        const char *rt = json_get_str(hc, "Runtime", "");
        if (*rt && !streq(rt, "runc") && !streq(rt, "berth-runtime"))
                return err_set(err, -EINVAL, "unknown or invalid runtime name: %s", rt);
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(hc, "DeviceCgroupRules"), i, v) {
                const char *d = json_string_value(v);
                char type, maj[24], min[24], access[8], rest;
                if (!d ||
                    sscanf(d, "%c %23[0-9*]:%23[0-9*] %7[rwm]%c", &type, maj, min, access, &rest) !=
                        4 ||
                    !strchr("acb", type) || (strchr(maj, '*') && !streq(maj, "*")) ||
                    (strchr(min, '*') && !streq(min, "*")) || strlen(access) > 3)
                        return err_set(err, -EINVAL, "invalid device cgroup format '%s'",
                                       strempty(d));
        }
        int64_t mem = json_get_int(hc, "Memory", 0);
        if (mem != 0 && mem < 6 * 1024 * 1024)
                return err_set(err, -EINVAL, "Minimum memory limit allowed is 6MB");
        int64_t swap = json_get_int(hc, "MemorySwap", 0);
        if (swap > 0 && mem > 0 && swap < mem)
                return err_set(
                    err, -EINVAL,
                    "Minimum memoryswap limit should be larger than memory limit, see usage");
        if (swap > 0 && mem == 0)
                return err_set(err, -EINVAL,
                               "You should always set the Memory limit when using Memoryswap "
                               "limit, see usage");
        int64_t nano = json_get_int(hc, "NanoCpus", 0);
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        if (ncpu < 1)
                ncpu = 1;
        if (nano < 0 || (nano > 0 && nano < 10000000) || nano > ncpu * 1000000000LL)
                return err_set(err, -EINVAL,
                               "Range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs "
                               "available",
                               ncpu, ncpu);
        if (nano > 0 && (json_get_int(hc, "CpuQuota", 0) || json_get_int(hc, "CpuPeriod", 0)))
                return err_set(err, -EINVAL,
                               "Conflicting options: Nano CPUs and CPU Period cannot both be set");
        if (json_get_int(hc, "CpuShares", 0) < 0)
                return err_set(err, -EINVAL, "invalid CPU shares");
        if (json_get_int(hc, "PidsLimit", 0) < -1)
                return err_set(err, -EINVAL, "invalid PIDs limit");
        if (json_get_int(hc, "ShmSize", 0) < 0)
                return err_set(err, -EINVAL, "SHM size can not be less than 0");
        /* Ports are checked here, not first at start, as Docker does. */
        const char *port;
        json_object_foreach (json_object_get(hc, "PortBindings"), port, v) {
                _cleanup_free_ char *p = xstrndup(port, strcspn(port, "/"));
                if (!port_spec_valid(p))
                        return err_set(err, -EINVAL, "invalid port specification: \"%s\"", p);
                json_t *b;
                json_array_foreach (v, i, b) {
                        const char *hp = json_get_str(b, "HostPort", "");
                        _cleanup_free_ char *h = xstrndup(hp, strcspn(hp, "/"));
                        if (!port_spec_valid(h))
                                return err_set(err, -EINVAL, "invalid port specification: \"%s\"",
                                               hp);
                }
        }
        return 0;
}

static void set_default(json_t *o, const char *key, json_t *v)
{
        json_t *cur = json_object_get(o, key);
        if (!cur || json_is_null(cur))
                json_object_set_new(o, key, v);
        else
                json_decref(v);
}

static json_t *empty_state(void)
{
        return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:s}", "Status",
                         "created", "Running", 0, "Paused", 0, "Restarting", 0, "OOMKilled", 0,
                         "Dead", 0, "Pid", 0, "ExitCode", 0, "Error", "", "StartedAt",
                         "0001-01-01T00:00:00Z", "FinishedAt", "0001-01-01T00:00:00Z");
}

/* --volumes-from: the Mounts of each container named in VolumesFrom
 * ("name[:mode]"), in that order; the volume code checks the rest. */
static int volumes_from(struct container_store *s, json_t *hc, json_t **ret, struct berth_err *err)
{
        json_t *from = json_array();
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(hc, "VolumesFrom"), i, v) {
                _cleanup_free_ char *ref = xstrdup(strempty(json_string_value(v)));
                ref[strcspn(ref, ":")] = '\0';
                _cleanup_json_ json_t *other = NULL;
                if (*ref) {
                        int r = container_inspect(s, ref, &other, err);
                        if (r < 0) {
                                json_decref(from);
                                return r;
                        }
                }
                json_array_append(from, other ? json_object_get(other, "Mounts") : json_null());
        }
        *ret = from;
        return 0;
}

int container_record_build(json_t *body, json_t *image_config, const struct container_record_in *in,
                           json_t **ret, struct berth_err *err)
{
        json_t *ic = image_config;
        int r;

        json_t *hc = json_object_get(body, "HostConfig");
        hc = json_is_object(hc) ? json_deep_copy(hc) : json_object();
        _cleanup_json_ _unused_ json_t *hc_owner = hc; /* only frees */
        const char *image_ref = json_get_str(body, "Image", "");
        r = validate_host_config(hc, err);
        if (r < 0)
                return r;

        /* Config: the request over the image's. */
        json_t *cfg = json_object();
        _cleanup_json_ _unused_ json_t *cfg_owner = cfg; /* only frees */
        static const char *const copied[] = {
            "Hostname",   "Domainname",      "AttachStdin", "AttachStdout", "AttachStderr",
            "Tty",        "OpenStdin",       "StdinOnce",   "StopTimeout",  "Image",
            "MacAddress", "NetworkDisabled", "OnBuild"};
        for (size_t i = 0; i < ELEMENTSOF(copied); i++) {
                json_t *v = json_object_get(body, copied[i]);
                if (v && !json_is_null(v))
                        json_object_set(cfg, copied[i], v);
        }
        json_t *req_ep = json_object_get(body, "Entrypoint");
        json_t *req_cmd = json_object_get(body, "Cmd");
        /* A string where an array belongs is the shell form, as Docker reads it. */
        if (json_is_string(req_cmd))
                req_cmd = json_pack("[s]", json_string_value(req_cmd));
        else
                json_incref(req_cmd);
        if (json_is_string(req_ep))
                req_ep = json_pack("[s]", json_string_value(req_ep));
        else
                json_incref(req_ep);
        if (req_ep && !json_is_null(req_ep)) {
                /* --entrypoint resets the image's CMD too. */
                json_object_set(cfg, "Entrypoint", nonempty_array(req_ep) ? req_ep : json_null());
                json_object_set(cfg, "Cmd", nonempty_array(req_cmd) ? req_cmd : json_null());
        } else {
                json_t *iep = json_object_get(ic, "Entrypoint");
                json_object_set(cfg, "Entrypoint", iep ? iep : json_null());
                json_t *icmd = json_object_get(ic, "Cmd");
                json_object_set(cfg, "Cmd",
                                nonempty_array(req_cmd) ? req_cmd
                                : icmd                  ? icmd
                                                        : json_null());
        }
        json_decref(req_cmd);
        json_decref(req_ep);
        if (!nonempty_array(json_object_get(cfg, "Entrypoint")) &&
            !nonempty_array(json_object_get(cfg, "Cmd")))
                return err_set(err, -EINVAL, "No command specified");
        json_object_set_new(cfg, "Env",
                            merge_env(json_object_get(ic, "Env"), json_object_get(body, "Env")));
        const char *wd = json_get_str(body, "WorkingDir", "");
        json_object_set_new(cfg, "WorkingDir",
                            json_string(*wd ? wd : json_get_str(ic, "WorkingDir", "")));
        const char *user = json_get_str(body, "User", "");
        json_object_set_new(cfg, "User", json_string(*user ? user : json_get_str(ic, "User", "")));
        json_object_set_new(
            cfg, "Labels",
            merge_objects(json_object_get(ic, "Labels"), json_object_get(body, "Labels")));
        json_object_set_new(cfg, "ExposedPorts",
                            merge_objects(json_object_get(ic, "ExposedPorts"),
                                          json_object_get(body, "ExposedPorts")));
        json_object_set_new(
            cfg, "Volumes",
            merge_objects(json_object_get(ic, "Volumes"), json_object_get(body, "Volumes")));
        const char *sig = json_get_str(body, "StopSignal", json_get_str(ic, "StopSignal", NULL));
        if (sig)
                json_object_set_new(cfg, "StopSignal", json_string(sig));
        json_t *hcheck = json_object_get(body, "Healthcheck");
        if (!hcheck || json_is_null(hcheck))
                hcheck = json_object_get(ic, "Healthcheck");
        if (hcheck && !json_is_null(hcheck))
                json_object_set(cfg, "Healthcheck", hcheck);
        json_object_set_new(cfg, "Image", json_string(image_ref));
        static const char *const bools[] = {"AttachStdin", "AttachStdout", "AttachStderr",
                                            "Tty",         "OpenStdin",    "StdinOnce"};
        for (size_t i = 0; i < ELEMENTSOF(bools); i++)
                set_default(cfg, bools[i], json_false());
        set_default(cfg, "Domainname", json_string(""));
        set_default(cfg, "OnBuild", json_null());

        /* HostConfig defaults, as inspect shows them. */
        json_t *lc = json_object_get(hc, "LogConfig");
        if (!json_is_object(lc) || isempty(json_get_str(lc, "Type", NULL)))
                json_object_set_new(hc, "LogConfig",
                                    json_pack("{s:s, s:o}", "Type", in->logging_default, "Config",
                                              json_is_object(json_object_get(lc, "Config"))
                                                  ? json_incref(json_object_get(lc, "Config"))
                                                  : json_object()));
        const char *nm = json_get_str(hc, "NetworkMode", "");
        if (!*nm)
                json_object_set_new(hc, "NetworkMode", json_string("default"));
        set_default(hc, "RestartPolicy",
                    json_pack("{s:s, s:i}", "Name", "no", "MaximumRetryCount", 0));
        set_default(hc, "PortBindings", json_object());
        set_default(hc, "Binds", json_null());
        set_default(hc, "AutoRemove", json_false());
        /* berth-runtime is registered under Docker's name for the default
         * runtime (see /info): clients and tools expect "runc" there, and
         * "berth-runtime" is taken as the same one. */
        json_object_set_new(hc, "Runtime", json_string("runc"));
        set_default(hc, "Privileged", json_false());
        set_default(hc, "ReadonlyRootfs", json_false());
        set_default(hc, "Mounts", json_null());

        if (!json_is_string(json_object_get(cfg, "Hostname")) ||
            !*json_get_str(cfg, "Hostname", ""))
                json_object_set_new(cfg, "Hostname", json_sprintf("%.12s", in->id));

        json_t *args = json_array();
        json_t *cmdline = json_array();
        json_array_extend(cmdline, json_object_get(cfg, "Entrypoint"));
        json_array_extend(cmdline, json_object_get(cfg, "Cmd"));
        for (size_t i = 1; i < json_array_size(cmdline); i++)
                json_array_append(args, json_array_get(cmdline, i));
        json_t *net = json_object_get(body, "NetworkingConfig");
        json_t *j = json_object();
        json_object_set_new(j, "Id", json_string(in->id));
        json_object_set_new(j, "Created", json_string(in->created));
        json_object_set(j, "Path", json_array_get(cmdline, 0));
        json_object_set_new(j, "Args", args);
        json_decref(cmdline);
        json_object_set_new(j, "State", empty_state());
        json_object_set_new(j, "Image", json_string(in->image_id));
        json_object_set_new(j, "ResolvConfPath", json_sprintf("%s/resolv.conf", in->dir));
        json_object_set_new(j, "HostnamePath", json_sprintf("%s/hostname", in->dir));
        json_object_set_new(j, "HostsPath", json_sprintf("%s/hosts", in->dir));
        json_object_set_new(j, "LogPath", json_sprintf("%s/%s-json.log", in->dir, in->id));
        if (in->name)
                json_object_set_new(j, "Name", json_string(in->name));
        json_object_set_new(j, "RestartCount", json_integer(0));
        json_object_set_new(j, "Driver", json_string(in->storage_driver));
        json_object_set_new(j, "Platform", json_string("linux"));
        json_object_set_new(j, "MountLabel", json_string(""));
        json_object_set_new(j, "ProcessLabel", json_string(""));
        json_object_set_new(j, "AppArmorProfile", json_string(""));
        json_object_set_new(j, "ExecIDs", json_null());
        json_object_set(j, "HostConfig", hc);
        json_object_set_new(j, "Mounts", json_array());
        json_object_set(j, "Config", cfg);
        json_object_set_new(j, "NetworkingConfig",
                            json_is_object(net) ? json_incref(net) : json_object());
        json_object_set_new(j, "NetworkSettings",
                            json_pack("{s:s, s:s, s:b, s:s, s:{}, s:s, s:i, s:s, s:s, s:{}}",
                                      "Bridge", "", "SandboxID", "", "HairpinMode", 0, "SandboxKey",
                                      "", "Ports", "IPAddress", "", "IPPrefixLen", 0, "Gateway", "",
                                      "MacAddress", "", "Networks"));
        *ret = j;
        return 0;
}

int container_create(struct container_store *s, const char *name, json_t *body, char **ret_id,
                     json_t **ret_warnings, struct berth_err *err)
{
        const struct container_deps *d = &s->d;
        _cleanup_free_ char *image_id = NULL, *gen_name = NULL, *top = NULL, *created = NULL,
                            *cdir = NULL;
        _cleanup_json_ json_t *image = NULL, *built = NULL;
        int r;

        const char *image_ref = json_get_str(body, "Image", NULL);
        if (isempty(image_ref))
                return err_set(err, -EINVAL, "no image was given (config.Image is empty)");
        if (name && *name && !container_name_valid(name))
                return err_set(
                    err, -EINVAL,
                    "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                    name);
        /* before the image, as Docker does: a bad HostConfig is 400 even
         * when the image is missing */
        r = validate_host_config(json_object_get(body, "HostConfig"), err);
        if (r < 0)
                return r;
        r = image_resolve(d->images, image_ref, &image_id, err);
        if (r < 0)
                return r;
        r = image_inspect(d->images, image_id, &image, err);
        if (r < 0)
                return r;

        char id[65];
        new_id(id);
        cdir = xasprintf("%s/%s", s->dir, id);
        created = json_time_ns(now_ns());
        struct container_record_in in = {
            .id = id,
            .image_id = image_id,
            .created = created,
            .dir = cdir,
            .storage_driver = d->storage->name,
            .logging_default = d->cfg->logging_default,
        };
        r = container_record_build(body, json_object_get(image, "Config"), &in, &built, err);
        if (r < 0)
                return r;
        json_t *hc = json_object_get(built, "HostConfig");
        json_t *cfg = json_object_get(built, "Config");

        /* --network container:X: X must exist now (and run at start). */
        const char *other = startswith(json_get_str(hc, "NetworkMode", ""), "container:");
        if (other) {
                char tid[65];
                r = container_resolve(s, other, tid, err);
                if (r < 0)
                        return r;
        }
        _cleanup_json_ json_t *networks = NULL;
        r = d->net->plan(d->net_ctx, hc, json_object_get(body, "NetworkingConfig"), &networks, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *from = NULL;
        r = volumes_from(s, hc, &from, err);
        if (r < 0)
                return r;

        bool generated = !name || !*name;
        if (generated)
                name = gen_name = container_name_generate(0);
        _cleanup_free_ char *full_name = xasprintf("/%s", name[0] == '/' ? name + 1 : name);
        /* Reserve the name before the slow part. */
        pthread_mutex_lock(&s->lock);
        int code;
        struct record *clash = ct_find_locked(s, full_name, &code);
        /* A generated name is drawn again until it is free. */
        for (unsigned attempt = 1; generated && clash && streq(clash->name, full_name); attempt++) {
                free(full_name);
                free(gen_name);
                gen_name = container_name_generate(attempt);
                full_name = xasprintf("/%s", gen_name);
                clash = ct_find_locked(s, full_name, &code);
        }
        if (clash && streq(clash->name, full_name)) {
                pthread_mutex_unlock(&s->lock);
                return err_set(
                    err, -EEXIST,
                    "Conflict. The container name \"%s\" is already in use by container \"%s\". "
                    "You have to remove (or rename) that container to be able to reuse that name.",
                    full_name, clash->id);
        }
        struct record *rec = xzalloc(sizeof(*rec));
        memcpy(rec->id, id, 65);
        rec->name = xstrdup(full_name);
        rec->j = json_object();
        ct_add_locked(s, rec);
        pthread_mutex_unlock(&s->lock);

        r = ct_links_resolve(s, hc, full_name, err);
        if (r < 0)
                goto fail;
        r = mkdir_p(cdir, 0700);
        if (r < 0) {
                err_errno(err, r, "cannot create '%s'", cdir);
                goto fail;
        }
        r = image_top_layer(d->images, image_id, &top, err);
        if (r < 0)
                goto fail;
        r = berth_storage_create(d->storage, id, top, NULL, BERTH_STORAGE_CREATE_RW, err);
        if (r < 0) {
                err_prefix(err, "create the container's layer");
                goto fail;
        }

        json_t *mounts = NULL;
        r = d->vol->plan(d->vol_ctx, id, cfg, hc, from, &mounts, err);
        if (r < 0) {
                berth_storage_remove(d->storage, id, 0, NULL);
                goto fail;
        }

        json_object_set_new(built, "Mounts", mounts);
        json_object_set_new(built, "Name", json_string(full_name));
        json_object_set(json_object_get(built, "NetworkSettings"), "Networks", networks);
        pthread_mutex_lock(&s->lock);
        json_object_update(rec->j, built);
        r = ct_record_save(s, rec, err);
        pthread_mutex_unlock(&s->lock);
        if (r < 0) {
                berth_storage_remove(d->storage, id, 0, NULL);
                d->vol->remove(d->vol_ctx, built, true);
                goto fail;
        }
        *ret_id = xstrdup(id);
        *ret_warnings = json_array();
        events_container(built, "create", NULL);
        return 0;

fail:
        pthread_mutex_lock(&s->lock);
        ct_drop_locked(s, rec);
        pthread_mutex_unlock(&s->lock);
        ct_record_free(rec);
        _cleanup_free_ char *rm = xasprintf("%s/%s", s->dir, id);
        /* Only files we made: the record (maybe) and the directory. */
        _cleanup_free_ char *rp = ct_record_path(s, id);
        unlink(rp);
        rmdir(rm);
        return r;
}

int container_remove(struct container_store *s, const char *ref, bool force, bool volumes,
                     struct berth_err *err)
{
        struct record *r;
        int fr = ct_lock_find(s, ref, &r, err);
        if (fr < 0)
                return fr;
        char id[65];
        memcpy(id, r->id, 65);
        /* A start in progress works on the record's layer, mounts and
         * endpoints without the lock: let it end, then decide as for any
         * container. */
        while (r && r->starting) {
                pthread_cond_wait(&s->changed, &s->lock);
                int code;
                r = ct_find_locked(s, id, &code);
        }
        if (!r) {
                pthread_mutex_unlock(&s->lock);
                return ct_not_found(err, ref, -ENOENT);
        }
        if (ct_is_running(r->j)) {
                pthread_mutex_unlock(&s->lock);
                if (!force)
                        return err_set(err, -EEXIST,
                                       "You cannot remove a running container %s. Stop the "
                                       "container before attempting removal or force remove",
                                       id);
                int kr = ct_kill_and_wait(s, id, err);
                if (kr < 0)
                        return kr;
                return container_remove(s, id, false, volumes, err);
        }
        r->removed = true;
        memcpy(s->tomb[s->tomb_next % ELEMENTSOF(s->tomb)].id, r->id, 65);
        s->tomb[s->tomb_next % ELEMENTSOF(s->tomb)].code =
            json_get_int(json_object_get(r->j, "State"), "ExitCode", 0);
        s->tomb_next++;
        ct_drop_locked(s, r);
        events_container(r->j, "destroy", NULL);

        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);

        /* The record goes first: a crash after this point leaves files that
         * no record names, which open ignores, never a record without its
         * layer. */
        _cleanup_free_ char *rp = ct_record_path(s, r->id);
        unlink(rp);
        struct berth_err lerr = {0};
        int lr = berth_storage_remove(s->d.storage, r->id, 0, &lerr);
        _cleanup_free_ char *dir = xasprintf("%s/%s", s->dir, r->id);
        ct_remove_files(dir);
        s->d.vol->remove(s->d.vol_ctx, r->j, volumes);
        ct_record_free(r);
        ct_trim_if_empty(s);
        if (lr < 0 && lr != -ENOENT)
                return err_set(err, lr, "container removed, but its layer was not: %s", lerr.msg);
        return 0;
}

int container_prune(struct container_store *s, const char *filters, json_t **ret,
                    struct berth_err *err)
{
        static const char *const allowed[] = {"label", "until", NULL};
        _cleanup_json_ json_t *f = NULL;
        int r = filters_parse(filters, allowed, &f, err);
        if (r < 0)
                return r;
        /* until: only containers created before that time */
        int64_t until_ns;
        r = filters_until(json_string_value(json_array_get(filters_get(f, "until"), 0)), &until_ns,
                          err);
        if (r < 0)
                return r;
        json_t *deleted = json_array();
        int64_t reclaimed = 0;
        for (;;) {
                char id[65] = "";
                pthread_mutex_lock(&s->lock);
                for (size_t i = 0; i < s->n; i++) {
                        json_t *j = s->recs[i]->j;
                        if (ct_is_running(j))
                                continue;
                        if (parse_rfc3339_ns(json_get_str(j, "Created", "")) >= until_ns)
                                continue;
                        if (!filters_match_labels(
                                f, "label",
                                json_object_get(json_object_get(j, "Config"), "Labels")))
                                continue;
                        memcpy(id, s->recs[i]->id, 65);
                        break;
                }
                pthread_mutex_unlock(&s->lock);
                if (!id[0])
                        break;
                int64_t sz = 0;
                berth_storage_diff_size(s->d.storage, id, NULL, 0, &sz, NULL);
                struct berth_err e2 = {0};
                if (container_remove(s, id, false, false, &e2) < 0)
                        break;
                reclaimed += sz;
                json_array_append_new(deleted, json_string(id));
        }
        *ret = json_pack("{s:o, s:I}", "ContainersDeleted",
                         json_array_size(deleted) ? deleted : (json_decref(deleted), json_null()),
                         "SpaceReclaimed", (json_int_t)reclaimed);
        return 0;
}

/* The fields of an update body that replace the record's when set (non-zero). */
static const char *const update_ints[] = {
    "Memory",       "MemorySwap",        "MemoryReservation", "CpuShares",
    "CpuPeriod",    "CpuQuota",          "NanoCpus",          "BlkioWeight",
    "KernelMemory", "CpuRealtimePeriod", "CpuRealtimeRuntime"};

static int update_check(json_t *cur, json_t *body, bool running, struct berth_err *err)
{
        json_t *rp = json_object_get(body, "RestartPolicy");
        const char *rname = json_get_str(rp, "Name", "");
        if (*rname && !streq(rname, "no") && json_get_bool(cur, "AutoRemove", false))
                return err_set(err, -EEXIST,
                               "Restart policy cannot be updated because AutoRemove is enabled "
                               "for the container");
        if (json_get_int(body, "KernelMemory", 0) != 0 && running)
                return err_set(err, -EINVAL,
                               "Can not update kernel memory to a running container, please "
                               "stop it first.");
        int64_t nano = json_get_int(body, "NanoCpus", 0);
        if (nano > 0 && json_get_int(cur, "CpuPeriod", 0) > 0)
                return err_set(err, -EEXIST,
                               "Conflicting options: Nano CPUs cannot be updated as CPU Period "
                               "has already been set");
        if (nano > 0 && json_get_int(cur, "CpuQuota", 0) > 0)
                return err_set(err, -EEXIST,
                               "Conflicting options: Nano CPUs cannot be updated as CPU Quota "
                               "has already been set");
        if (json_get_int(body, "CpuPeriod", 0) > 0 && json_get_int(cur, "NanoCpus", 0) > 0)
                return err_set(err, -EEXIST,
                               "Conflicting options: CPU Period cannot be updated as NanoCPUs "
                               "has already been set");
        if (json_get_int(body, "CpuQuota", 0) > 0 && json_get_int(cur, "NanoCpus", 0) > 0)
                return err_set(err, -EEXIST,
                               "Conflicting options: CPU Quota cannot be updated as NanoCPUs has "
                               "already been set");
        int64_t mem = json_get_int(body, "Memory", 0);
        int64_t swap = json_get_int(cur, "MemorySwap", 0);
        if (mem > 0 && swap > 0 && mem > swap && json_get_int(body, "MemorySwap", 0) == 0)
                return err_set(err, -EEXIST,
                               "Memory limit should be smaller than already set memoryswap "
                               "limit, update the memoryswap at the same time");
        return 0;
}

int container_update(struct container_store *s, const char *ref, json_t *body,
                     json_t **ret_warnings, struct berth_err *err)
{
        struct record *r;
        int lr = ct_lock_find(s, ref, &r, err);
        if (lr < 0)
                return lr;
        char id[65];
        memcpy(id, r->id, 65);
        json_t *hc = json_object_get(r->j, "HostConfig");
        bool running = ct_is_running(r->j);
        int rr = update_check(hc, body, running, err);
        if (rr < 0)
                err_prefix(err, "Cannot update container %s", id);
        _cleanup_json_ json_t *next = rr < 0 ? NULL : json_deep_copy(hc);
        if (rr == 0) {
                for (size_t i = 0; i < ELEMENTSOF(update_ints); i++)
                        if (json_get_int(body, update_ints[i], 0) != 0)
                                json_object_set(next, update_ints[i],
                                                json_object_get(body, update_ints[i]));
                /* PidsLimit: null or absent leaves it; 0 or -1 is no limit */
                json_t *pl = json_object_get(body, "PidsLimit");
                if (json_is_integer(pl))
                        json_object_set_new(
                            next, "PidsLimit",
                            json_integer(json_integer_value(pl) > 0 ? json_integer_value(pl) : 0));
                static const char *const strs[] = {"CpusetCpus", "CpusetMems"};
                for (size_t i = 0; i < ELEMENTSOF(strs); i++)
                        if (!isempty(json_get_str(body, strs[i], NULL)))
                                json_object_set(next, strs[i], json_object_get(body, strs[i]));
                json_t *rp = json_object_get(body, "RestartPolicy");
                if (!isempty(json_get_str(rp, "Name", NULL)))
                        json_object_set_new(next, "RestartPolicy",
                                            json_pack("{s:s, s:I}", "Name",
                                                      json_get_str(rp, "Name", ""),
                                                      "MaximumRetryCount",
                                                      json_get_int(rp, "MaximumRetryCount", 0)));
                rr = validate_host_config(next, err);
        }
        if (rr == 0 && running) {
                _cleanup_json_ json_t *res = container_spec_resources(next);
                if (json_is_integer(json_object_get(body, "PidsLimit")) &&
                    json_get_int(body, "PidsLimit", 0) <= 0)
                        json_object_set_new(res, "pids", json_pack("{s:i}", "limit", -1));
                rr = runtime_update(s->runtime_root, id, res, err);
                if (rr < 0)
                        err_prefix(err, "Cannot update container %s", id);
        }
        if (rr == 0) {
                json_object_set(r->j, "HostConfig", next);
                rr = ct_record_save(s, r, err);
        }
        if (rr == 0)
                events_container(r->j, "update", NULL);
        pthread_mutex_unlock(&s->lock);
        if (rr == 0)
                *ret_warnings = json_array();
        return rr;
}
