/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /_ping, /version, /info: what every client asks first (docker-api.md §2). */
#include "api.h"
#include "engine.h"
#include "build/build-cache.h"
#include "container/container.h"
#include "image/image.h"
#include "base/sysinfo.h"

#include <sys/sysinfo.h>

int api_ping(struct api_request *req, struct berth_err *err)
{
        /* Without Api-Version the Go client falls back to API 1.24;
         * Builder-Version 1 keeps CLI 20.10 on the classic builder. */
        api_add_header(req, "Builder-Version", "1");
        api_add_header(req, "Swarm", "inactive");
        api_add_header(req, "Cache-Control", "no-cache, no-store, must-revalidate");
        api_add_header(req, "Pragma", "no-cache");
        return api_reply_text(req, 200, "text/plain; charset=utf-8", req->head ? "" : "OK");
}

static const char build_time[] = __DATE__ " " __TIME__;

int api_version(struct api_request *req, struct berth_err *err)
{
        struct sysinfo_host h;
        sysinfo_read(&h);
        json_t *details =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ApiVersion", API_VERSION,
                      "MinAPIVersion", API_MIN_VERSION, "GitCommit", BERTH_GIT_COMMIT, "GoVersion",
                      "C (gcc " __VERSION__ ")", "Os", "linux", "Arch", h.goarch, "KernelVersion",
                      h.kernel, "Experimental", "false", "BuildTime", build_time);
        json_t *j =
            json_pack("{s:{s:s}, s:[{s:s, s:s, s:o}], s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                      "Platform", "Name", "berth " BERTH_VERSION, "Components", "Name", "Engine",
                      "Version", BERTH_VERSION, "Details", details, "Version", BERTH_VERSION,
                      "ApiVersion", API_VERSION, "MinAPIVersion", API_MIN_VERSION, "GitCommit",
                      BERTH_GIT_COMMIT, "GoVersion", "C (gcc " __VERSION__ ")", "Os", "linux",
                      "Arch", h.goarch, "KernelVersion", h.kernel, "BuildTime", build_time);
        return api_reply_json(req, 200, j);
}

static int kv_to_pairs(void *ud, const char *k, const char *v)
{
        json_array_append_new(ud, json_pack("[s,s]", k, v));
        return 0;
}

static json_t *names_of(struct driver **l)
{
        json_t *a = json_array();
        for (; l && *l; l++)
                json_array_append_new(a, json_string((*l)->name));
        return a;
}

static json_t *driver_json(struct driver *d)
{
        json_t *feat = json_array();
        for (unsigned b = 0; b < 64; b++)
                if (d->desc->features & (1ull << b)) {
                        const char *n = engine_feature_name(d->kind, b);
                        json_array_append_new(feat, n ? json_string(n) : json_sprintf("bit%u", b));
                }
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "Kind", driver_kind_name(d->kind),
                         "Name", d->name, "Version", strempty(d->desc->version), "Description",
                         strempty(d->desc->description), "Path", d->path, "ABI",
                         json_sprintf("%u.%u", d->desc->abi_major, d->desc->abi_minor), "Features",
                         feat);
}

int api_info(struct api_request *req, struct berth_err *err)
{
        struct engine *e = req->engine;
        struct sysinfo_host h;
        sysinfo_read(&h);

        json_t *driver_status = json_array();
        berth_storage_status(e->drivers.storage, kv_to_pairs, driver_status, 0);

        json_t *drivers = json_array();
        json_array_append_new(drivers, driver_json(e->drivers.storage));
        struct driver **lists[] = {e->drivers.network, e->drivers.volume, e->drivers.logging,
                                   e->drivers.auth};
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                for (struct driver **d = lists[i]; *d; d++)
                        json_array_append_new(drivers, driver_json(*d));

        json_t *insecure = json_array();
        json_array_append_new(insecure, json_string("127.0.0.0/8"));
        for (char **i = e->cfg->registry_insecure; *i; i++)
                json_array_append_new(insecure, json_string(*i));

        json_t *security = json_array();
        json_array_append_new(security, json_string("name=seccomp,profile=builtin"));
        if (h.cgroup_version == 2)
                json_array_append_new(security, json_string("name=cgroupns"));

        json_t *warnings = json_array();
        if (h.cgroup_hybrid)
                json_array_append_new(
                    warnings,
                    json_string("WARNING: cgroups in hybrid mode: berth uses the v1 controllers"));

        char *now = json_time_ns(now_ns());
        json_t *j = json_object();
        json_object_set_new(j, "ID", json_string(e->id));
        int64_t total, running, paused, stopped;
        container_counts(e->containers, &total, &running, &paused, &stopped);
        json_object_set_new(j, "Containers", json_integer(total));
        json_object_set_new(j, "ContainersRunning", json_integer(running));
        json_object_set_new(j, "ContainersPaused", json_integer(paused));
        json_object_set_new(j, "ContainersStopped", json_integer(stopped));
        json_object_set_new(j, "Images", json_integer((json_int_t)image_count(e->images)));
        json_object_set_new(j, "Driver", json_string(e->drivers.storage->name));
        json_object_set_new(j, "DriverStatus", driver_status);
        json_object_set_new(j, "Plugins",
                            json_pack("{s:o, s:o, s:o, s:o}", "Volume", names_of(e->drivers.volume),
                                      "Network", names_of(e->drivers.network), "Authorization",
                                      e->drivers.auth[0] ? names_of(e->drivers.auth) : json_null(),
                                      "Log", names_of(e->drivers.logging)));
        json_object_set_new(j, "MemoryLimit", json_true());
        json_object_set_new(j, "SwapLimit", json_true());
        json_object_set_new(j, "KernelMemory", json_false());
        json_object_set_new(j, "CpuCfsPeriod", json_true());
        json_object_set_new(j, "CpuCfsQuota", json_true());
        json_object_set_new(j, "CPUShares", json_true());
        json_object_set_new(j, "CPUSet", json_true());
        json_object_set_new(j, "PidsLimit", json_true());
        json_object_set_new(j, "OomKillDisable", json_true());
        json_object_set_new(j, "IPv4Forwarding", json_true());
        json_object_set_new(j, "BridgeNfIptables", json_false());
        json_object_set_new(j, "BridgeNfIp6tables", json_false());
        json_object_set_new(j, "Debug", json_boolean(e->cfg->log_level >= BERTH_LOG_DEBUG));
        json_object_set_new(j, "NFd", json_integer(0));
        json_object_set_new(j, "NGoroutines", json_integer(0));
        json_object_set_new(j, "SystemTime", json_string(now));
        json_object_set_new(j, "LoggingDriver", json_string(e->cfg->logging_default));
        json_object_set_new(j, "CgroupDriver", json_string("cgroupfs"));
        json_object_set_new(j, "CgroupVersion", json_sprintf("%d", h.cgroup_version));
        json_object_set_new(j, "NEventsListener", json_integer(0));
        json_object_set_new(j, "KernelVersion", json_string(h.kernel));
        json_object_set_new(j, "OperatingSystem", json_string(h.os_name));
        json_object_set_new(j, "OSVersion", json_string(h.os_version));
        json_object_set_new(j, "OSType", json_string("linux"));
        json_object_set_new(j, "Architecture", json_string(h.machine));
        json_object_set_new(j, "IndexServerAddress", json_string("https://index.docker.io/v1/"));
        json_object_set_new(j, "RegistryConfig",
                            json_pack("{s:o, s:{}, s:[], s:[]}", "InsecureRegistryCIDRs", insecure,
                                      "IndexConfigs", "Mirrors",
                                      "AllowNondistributableArtifactsCIDRs"));
        json_object_set_new(j, "NCPU", json_integer(h.ncpu));
        json_object_set_new(j, "MemTotal", json_integer(h.mem_total));
        json_object_set_new(j, "GenericResources", json_null());
        json_object_set_new(j, "DockerRootDir", json_string(e->cfg->data_root));
        json_object_set_new(j, "HttpProxy", json_string(""));
        json_object_set_new(j, "HttpsProxy", json_string(""));
        json_object_set_new(j, "NoProxy", json_string(""));
        json_object_set_new(j, "Name", json_string(h.hostname));
        json_object_set_new(j, "Labels", json_array());
        json_object_set_new(j, "ExperimentalBuild", json_false());
        json_object_set_new(j, "ServerVersion", json_string(BERTH_VERSION));
        /* Docker's name for the default runtime, which HostConfig.Runtime
         * shows too: clients expect "runc"; the program is berth-runtime. */
        json_object_set_new(j, "Runtimes", json_pack("{s:{s:s}}", "runc", "path", "berth-runtime"));
        json_object_set_new(j, "DefaultRuntime", json_string("runc"));
        json_object_set_new(j, "Swarm",
                            json_pack("{s:s, s:s, s:s, s:b, s:s, s:n}", "NodeID", "", "NodeAddr",
                                      "", "LocalNodeState", "inactive", "ControlAvailable", 0,
                                      "Error", "", "RemoteManagers"));
        json_object_set_new(j, "LiveRestoreEnabled", json_true());
        json_object_set_new(j, "Isolation", json_string(""));
        json_object_set_new(j, "InitBinary", json_string("berth-runtime"));
        json_object_set_new(j, "ContainerdCommit",
                            json_pack("{s:s, s:s}", "ID", "", "Expected", ""));
        json_object_set_new(
            j, "RuncCommit",
            json_pack("{s:s, s:s}", "ID", BERTH_GIT_COMMIT, "Expected", BERTH_GIT_COMMIT));
        json_object_set_new(
            j, "InitCommit",
            json_pack("{s:s, s:s}", "ID", BERTH_GIT_COMMIT, "Expected", BERTH_GIT_COMMIT));
        json_object_set_new(j, "SecurityOptions", security);
        json_object_set_new(j, "Warnings", warnings);
        /* berth's own: every loaded driver plugin. */
        json_object_set_new(j, "BerthDrivers", drivers);
        json_object_set_new(j, "BerthConfigFile",
                            e->cfg->path ? json_string(e->cfg->path) : json_null());
        free(now);
        return api_reply_json(req, 200, j);
}

/* POST /build/prune (docker builder prune, and the last step of docker
 * system prune): all, keep-storage (bytes), filters until/id/description. */
int api_build_prune(struct api_request *req, struct berth_err *err)
{
        const char *ks = api_query(req, "keep-storage");
        int64_t keep = 0;
        if (!isempty(ks) && (parse_int64(ks, &keep) < 0 || keep < 0))
                return err_set(err, -EINVAL, "invalid value for keep-storage: '%s'", ks);
        json_t *j = NULL;
        int r = build_cache_prune(req->engine->build_cache, api_query_bool(req, "all", false), keep,
                                  api_query(req, "filters"), &j, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 200, j);
}

int api_swarm_inactive(struct api_request *req, struct berth_err *err)
{
        return api_reply_error(
            req, 503,
            "This node is not a swarm manager. Use \"docker swarm init\" or "
            "\"docker swarm join\" to connect this node to swarm and try again.");
}

int api_swarm_leave(struct api_request *req, struct berth_err *err)
{
        return api_reply_error(req, 503, "This node is not part of a swarm");
}
