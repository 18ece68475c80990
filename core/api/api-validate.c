/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The JSON bodies of the API checked against the Go types moby decodes them
 * into, in one walk of the document: the first value of the wrong type is
 * refused with the words of Go's encoding/json, which clients and scripts
 * already know ("json: cannot unmarshal string into Go struct field
 * HostConfig.HostConfig.Memory of type int64"). The code after this reads
 * the body with lenient getters, which would pass over a wrongly typed field
 * in silence: a container would run without the limit its user asked for.
 *
 * What Go accepts is accepted: null anywhere (the zero value), unknown keys,
 * a string where moby has a strslice.StrSlice (Cmd, Entrypoint, Shell,
 * CapAdd, CapDrop). Those two are normalised in place, so that the code
 * after this sees the shapes it expects: a StrSlice string becomes a
 * one-element array, a null inside a []string or a map[string]string
 * becomes "" (Go's zero string). */
#include "api.h"

#include <strings.h>
#include <stdio.h>

enum vt {
        V_STR,      /* string */
        V_BOOL,     /* bool */
        V_INT,      /* an integer type: the range in .lo/.hi */
        V_STRV,     /* []string */
        V_STRSLICE, /* strslice.StrSlice: a string or []string */
        V_STRVV,    /* [][]string */
        V_MAP_STR,  /* map[string]string */
        V_SET,      /* map[string]struct{} */
        V_UINTV,    /* [N]uint (ConsoleSize) */
        V_OBJ,      /* a struct, in .sub */
        V_OBJV,     /* []struct */
        V_MAP_OBJ,  /* map[string]struct */
        V_MAP_OBJV, /* map[string][]struct (nat.PortMap) */
};

struct field {
        const char *name;
        enum vt t;
        /* Go's names of the field's type, of its elements, and of theirs,
         * as its error messages print them. */
        const char *type, *elem, *elem2;
        const struct api_schema *sub;
        int range; /* V_INT */
};

enum { I64, U16, U32, U64 };

struct api_schema {
        const char *name;     /* the struct's name in Go's messages */
        const char *top_type; /* as a whole value: "runconfig.ContainerConfigWrapper" */
        const struct field *fields[3];
};

#define STR(n)                                          \
        {                                               \
                n, V_STR, "string", NULL, NULL, NULL, 0 \
        }
#define BOOL(n)                                        \
        {                                              \
                n, V_BOOL, "bool", NULL, NULL, NULL, 0 \
        }
#define INT(n, ty, rg)                             \
        {                                          \
                n, V_INT, ty, NULL, NULL, NULL, rg \
        }
#define STRV(n)                                                \
        {                                                      \
                n, V_STRV, "[]string", "string", NULL, NULL, 0 \
        }
#define STRSLICE(n)                                              \
        {                                                        \
                n, V_STRSLICE, "string", "string", NULL, NULL, 0 \
        }
#define MAP_STR(n)                                                         \
        {                                                                  \
                n, V_MAP_STR, "map[string]string", "string", NULL, NULL, 0 \
        }
#define END                                        \
        {                                          \
                NULL, 0, NULL, NULL, NULL, NULL, 0 \
        }

/* --- container.Config and container.HostConfig ----------------------------- */

static const struct field health_fields[] = {
    STRV("Test"),
    INT("Interval", "time.Duration", I64),
    INT("Timeout", "time.Duration", I64),
    INT("StartPeriod", "time.Duration", I64),
    INT("Retries", "int", I64),
    END,
};
static const struct api_schema health = {"HealthConfig", NULL, {health_fields}};

static const struct field config_fields[] = {
    STR("Hostname"),
    STR("Domainname"),
    STR("User"),
    BOOL("AttachStdin"),
    BOOL("AttachStdout"),
    BOOL("AttachStderr"),
    {"ExposedPorts", V_SET, "nat.PortSet", "struct {}", NULL, NULL, 0},
    BOOL("Tty"),
    BOOL("OpenStdin"),
    BOOL("StdinOnce"),
    STRV("Env"),
    STRSLICE("Cmd"),
    {"Healthcheck", V_OBJ, "container.HealthConfig", NULL, NULL, &health, 0},
    BOOL("ArgsEscaped"),
    STR("Image"),
    {"Volumes", V_SET, "map[string]struct {}", "struct {}", NULL, NULL, 0},
    STR("WorkingDir"),
    STRSLICE("Entrypoint"),
    BOOL("NetworkDisabled"),
    STR("MacAddress"),
    STRV("OnBuild"),
    MAP_STR("Labels"),
    STR("StopSignal"),
    INT("StopTimeout", "int", I64),
    STRSLICE("Shell"),
    END,
};

static const struct field weight_device_fields[] = {
    STR("Path"),
    INT("Weight", "uint16", U16),
    END,
};
static const struct api_schema weight_device = {"WeightDevice", NULL, {weight_device_fields}};
static const struct field throttle_device_fields[] = {
    STR("Path"),
    INT("Rate", "uint64", U64),
    END,
};
static const struct api_schema throttle_device = {"ThrottleDevice", NULL, {throttle_device_fields}};
static const struct field device_fields[] = {
    STR("PathOnHost"),
    STR("PathInContainer"),
    STR("CgroupPermissions"),
    END,
};
static const struct api_schema device = {"DeviceMapping", NULL, {device_fields}};
static const struct field device_request_fields[] = {
    STR("Driver"),      INT("Count", "int", I64),
    STRV("DeviceIDs"),  {"Capabilities", V_STRVV, "[][]string", "[]string", "string", NULL, 0},
    MAP_STR("Options"), END,
};
static const struct api_schema device_request = {"DeviceRequest", NULL, {device_request_fields}};
static const struct field ulimit_fields[] = {
    STR("Name"),
    INT("Hard", "int64", I64),
    INT("Soft", "int64", I64),
    END,
};
static const struct api_schema ulimit = {"Ulimit", NULL, {ulimit_fields}};

#define THROTTLE(n)                                                                       \
        {                                                                                 \
                n, V_OBJV, "[]*blkiodev.ThrottleDevice", "blkiodev.ThrottleDevice", NULL, \
                    &throttle_device, 0                                                   \
        }

/* container.Resources: in HostConfig and in UpdateConfig. */
static const struct field resources_fields[] = {
    INT("CpuShares", "int64", I64),
    INT("Memory", "int64", I64),
    INT("NanoCpus", "int64", I64),
    STR("CgroupParent"),
    INT("BlkioWeight", "uint16", U16),
    {"BlkioWeightDevice", V_OBJV, "[]*blkiodev.WeightDevice", "blkiodev.WeightDevice", NULL,
     &weight_device, 0},
    THROTTLE("BlkioDeviceReadBps"),
    THROTTLE("BlkioDeviceWriteBps"),
    THROTTLE("BlkioDeviceReadIOps"),
    THROTTLE("BlkioDeviceWriteIOps"),
    INT("CpuPeriod", "int64", I64),
    INT("CpuQuota", "int64", I64),
    INT("CpuRealtimePeriod", "int64", I64),
    INT("CpuRealtimeRuntime", "int64", I64),
    STR("CpusetCpus"),
    STR("CpusetMems"),
    {"Devices", V_OBJV, "[]container.DeviceMapping", "container.DeviceMapping", NULL, &device, 0},
    STRV("DeviceCgroupRules"),
    {"DeviceRequests", V_OBJV, "[]container.DeviceRequest", "container.DeviceRequest", NULL,
     &device_request, 0},
    INT("KernelMemory", "int64", I64),
    INT("KernelMemoryTCP", "int64", I64),
    INT("MemoryReservation", "int64", I64),
    INT("MemorySwap", "int64", I64),
    INT("MemorySwappiness", "int64", I64),
    BOOL("OomKillDisable"),
    INT("PidsLimit", "int64", I64),
    {"Ulimits", V_OBJV, "[]*units.Ulimit", "units.Ulimit", NULL, &ulimit, 0},
    INT("CpuCount", "int64", I64),
    INT("CpuPercent", "int64", I64),
    INT("IOMaximumIOps", "uint64", U64),
    INT("IOMaximumBandwidth", "uint64", U64),
    END,
};

static const struct field log_config_fields[] = {STR("Type"), MAP_STR("Config"), END};
static const struct api_schema log_config = {"LogConfig", NULL, {log_config_fields}};
static const struct field port_binding_fields[] = {STR("HostIp"), STR("HostPort"), END};
static const struct api_schema port_binding = {"PortBinding", NULL, {port_binding_fields}};
static const struct field restart_fields[] = {
    STR("Name"),
    INT("MaximumRetryCount", "int", I64),
    END,
};
static const struct api_schema restart_policy = {"RestartPolicy", NULL, {restart_fields}};

static const struct field bind_options_fields[] = {
    STR("Propagation"),
    BOOL("NonRecursive"),
    END,
};
static const struct api_schema bind_options = {"BindOptions", NULL, {bind_options_fields}};
static const struct field driver_fields[] = {STR("Name"), MAP_STR("Options"), END};
static const struct api_schema mount_driver = {"Driver", NULL, {driver_fields}};
static const struct field volume_options_fields[] = {
    BOOL("NoCopy"),
    MAP_STR("Labels"),
    {"DriverConfig", V_OBJ, "mount.Driver", NULL, NULL, &mount_driver, 0},
    END,
};
static const struct api_schema volume_options = {"VolumeOptions", NULL, {volume_options_fields}};
static const struct field tmpfs_options_fields[] = {
    INT("SizeBytes", "int64", I64),
    INT("Mode", "fs.FileMode", U32),
    END,
};
static const struct api_schema tmpfs_options = {"TmpfsOptions", NULL, {tmpfs_options_fields}};
static const struct field mount_fields[] = {
    STR("Type"),
    STR("Source"),
    STR("Target"),
    BOOL("ReadOnly"),
    STR("Consistency"),
    {"BindOptions", V_OBJ, "mount.BindOptions", NULL, NULL, &bind_options, 0},
    {"VolumeOptions", V_OBJ, "mount.VolumeOptions", NULL, NULL, &volume_options, 0},
    {"TmpfsOptions", V_OBJ, "mount.TmpfsOptions", NULL, NULL, &tmpfs_options, 0},
    END,
};
static const struct api_schema mount = {"Mount", NULL, {mount_fields}};

static const struct field host_config_fields[] = {
    STRV("Binds"),
    STR("ContainerIDFile"),
    {"LogConfig", V_OBJ, "container.LogConfig", NULL, NULL, &log_config, 0},
    STR("NetworkMode"),
    {"PortBindings", V_MAP_OBJV, "nat.PortMap", "[]nat.PortBinding", "nat.PortBinding",
     &port_binding, 0},
    {"RestartPolicy", V_OBJ, "container.RestartPolicy", NULL, NULL, &restart_policy, 0},
    BOOL("AutoRemove"),
    STR("VolumeDriver"),
    STRV("VolumesFrom"),
    STRSLICE("CapAdd"),
    STRSLICE("CapDrop"),
    STR("CgroupnsMode"),
    STRV("Dns"),
    STRV("DnsOptions"),
    STRV("DnsSearch"),
    STRV("ExtraHosts"),
    STRV("GroupAdd"),
    STR("IpcMode"),
    STR("Cgroup"),
    STRV("Links"),
    INT("OomScoreAdj", "int", I64),
    STR("PidMode"),
    BOOL("Privileged"),
    BOOL("PublishAllPorts"),
    BOOL("ReadonlyRootfs"),
    STRV("SecurityOpt"),
    MAP_STR("StorageOpt"),
    MAP_STR("Tmpfs"),
    STR("UTSMode"),
    STR("UsernsMode"),
    INT("ShmSize", "int64", I64),
    MAP_STR("Sysctls"),
    STR("Runtime"),
    {"ConsoleSize", V_UINTV, "[2]uint", "uint", NULL, NULL, U64},
    STR("Isolation"),
    {"Mounts", V_OBJV, "[]mount.Mount", "mount.Mount", NULL, &mount, 0},
    STRV("MaskedPaths"),
    STRV("ReadonlyPaths"),
    BOOL("Init"),
    END,
};
static const struct api_schema host_config = {
    "HostConfig", NULL, {host_config_fields, resources_fields}};

/* network.EndpointSettings: in NetworkingConfig and in network connect. */
static const struct field endpoint_ipam_fields[] = {
    STR("IPv4Address"),
    STR("IPv6Address"),
    STRV("LinkLocalIPs"),
    END,
};
static const struct api_schema endpoint_ipam = {"EndpointIPAMConfig", NULL, {endpoint_ipam_fields}};
static const struct field endpoint_fields[] = {
    {"IPAMConfig", V_OBJ, "network.EndpointIPAMConfig", NULL, NULL, &endpoint_ipam, 0},
    STRV("Links"),
    STRV("Aliases"),
    STR("NetworkID"),
    STR("EndpointID"),
    STR("Gateway"),
    STR("IPAddress"),
    INT("IPPrefixLen", "int", I64),
    STR("IPv6Gateway"),
    STR("GlobalIPv6Address"),
    INT("GlobalIPv6PrefixLen", "int", I64),
    STR("MacAddress"),
    MAP_STR("DriverOpts"),
    END,
};
static const struct api_schema endpoint = {"EndpointSettings", NULL, {endpoint_fields}};
static const struct field networking_fields[] = {
    {"EndpointsConfig", V_MAP_OBJ, "map[string]*network.EndpointSettings",
     "network.EndpointSettings", NULL, &endpoint, 0},
    END,
};
static const struct api_schema networking = {"NetworkingConfig", NULL, {networking_fields}};

static const struct field wrapper_fields[] = {
    {"HostConfig", V_OBJ, "container.HostConfig", NULL, NULL, &host_config, 0},
    {"NetworkingConfig", V_OBJ, "network.NetworkingConfig", NULL, NULL, &networking, 0},
    END,
};
const struct api_schema api_schema_container_create = {
    "ContainerConfigWrapper",
    "runconfig.ContainerConfigWrapper",
    {config_fields, wrapper_fields},
};

static const struct field update_fields[] = {
    {"RestartPolicy", V_OBJ, "container.RestartPolicy", NULL, NULL, &restart_policy, 0},
    END,
};
const struct api_schema api_schema_container_update = {
    "UpdateConfig", "container.UpdateConfig", {resources_fields, update_fields}};

/* The body of commit is the new image's container.Config. */
const struct api_schema api_schema_commit = {"Config", "container.Config", {config_fields}};

/* --- exec ---------------------------------------------------------------------- */

static const struct field exec_fields[] = {
    STR("User"),          BOOL("Privileged"),   BOOL("Tty"),    BOOL("AttachStdin"),
    BOOL("AttachStderr"), BOOL("AttachStdout"), BOOL("Detach"), STR("DetachKeys"),
    STRV("Env"),          STR("WorkingDir"),    STRV("Cmd"),    END,
};
const struct api_schema api_schema_exec_create = {"ExecConfig", "types.ExecConfig", {exec_fields}};

static const struct field exec_start_fields[] = {
    BOOL("Detach"),
    BOOL("Tty"),
    {"ConsoleSize", V_UINTV, "*[2]uint", "uint", NULL, NULL, U64},
    END,
};
const struct api_schema api_schema_exec_start = {
    "ExecStartCheck", "types.ExecStartCheck", {exec_start_fields}};

/* --- networks and volumes --------------------------------------------------------- */

static const struct field ipam_config_fields[] = {
    STR("Subnet"), STR("IPRange"), STR("Gateway"), MAP_STR("AuxiliaryAddresses"), END,
};
static const struct api_schema ipam_config = {"IPAMConfig", NULL, {ipam_config_fields}};
static const struct field ipam_fields[] = {
    STR("Driver"),
    MAP_STR("Options"),
    {"Config", V_OBJV, "[]network.IPAMConfig", "network.IPAMConfig", NULL, &ipam_config, 0},
    END,
};
static const struct api_schema ipam = {"IPAM", NULL, {ipam_fields}};
static const struct field config_reference_fields[] = {STR("Network"), END};
static const struct api_schema config_reference = {
    "ConfigReference", NULL, {config_reference_fields}};
static const struct field network_create_fields[] = {
    STR("Name"),
    BOOL("CheckDuplicate"),
    STR("Driver"),
    STR("Scope"),
    BOOL("EnableIPv6"),
    {"IPAM", V_OBJ, "network.IPAM", NULL, NULL, &ipam, 0},
    BOOL("Internal"),
    BOOL("Attachable"),
    BOOL("Ingress"),
    BOOL("ConfigOnly"),
    {"ConfigFrom", V_OBJ, "network.ConfigReference", NULL, NULL, &config_reference, 0},
    MAP_STR("Options"),
    MAP_STR("Labels"),
    END,
};
const struct api_schema api_schema_network_create = {
    "NetworkCreateRequest", "types.NetworkCreateRequest", {network_create_fields}};

static const struct field network_connect_fields[] = {
    STR("Container"),
    {"EndpointConfig", V_OBJ, "network.EndpointSettings", NULL, NULL, &endpoint, 0},
    END,
};
const struct api_schema api_schema_network_connect = {
    "NetworkConnect", "types.NetworkConnect", {network_connect_fields}};
static const struct field network_disconnect_fields[] = {STR("Container"), BOOL("Force"), END};
const struct api_schema api_schema_network_disconnect = {
    "NetworkDisconnect", "types.NetworkDisconnect", {network_disconnect_fields}};

static const struct field volume_create_fields[] = {
    STR("Name"), STR("Driver"), MAP_STR("DriverOpts"), MAP_STR("Labels"), END,
};
const struct api_schema api_schema_volume_create = {
    "VolumeCreateBody", "volume.VolumeCreateBody", {volume_create_fields}};

/* --- the walk ----------------------------------------------------------------------- */

/* Where a value sits, for the message: the innermost struct's name and the
 * path of field names from the body (map keys and indexes are not in it). */
struct where {
        const char *strukt;
        char path[512];
};

static const char *kind(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "object";
        case JSON_ARRAY:
                return "array";
        case JSON_STRING:
                return "string";
        case JSON_TRUE:
        case JSON_FALSE:
                return "bool";
        default:
                return "number";
        }
}

/* A number as Go quotes it: its shortest form, with Go's exponent (1e30). */
static void number_text(const json_t *v, char *buf, size_t n)
{
        if (json_is_integer(v)) {
                snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return;
        }
        double d = json_real_value(v);
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, n, "%.*g", prec, d);
                if (strtod(buf, NULL) == d)
                        break;
        }
        char *e = strchr(buf, 'e');
        if (e) {
                char *p = e + 1;
                bool neg = *p == '-';
                if (*p == '+' || *p == '-')
                        p++;
                while (*p == '0' && p[1])
                        p++;
                memmove(e + 1 + neg, p, strlen(p) + 1);
                if (neg)
                        e[1] = '-';
        }
}

static int type_error(const struct where *w, const json_t *v, bool literal, const char *type,
                      struct berth_err *err)
{
        char num[64] = "";
        if (literal) {
                num[0] = ' ';
                number_text(v, num + 1, sizeof(num) - 1);
        }
        return err_set(err, -EINVAL,
                       "json: cannot unmarshal %s%s into Go struct field %s.%s of type %s", kind(v),
                       num, w->strukt, w->path, type);
}

static bool int_fits(const json_t *v, int range)
{
        if (!json_is_integer(v))
                return false;
        json_int_t i = json_integer_value(v);
        switch (range) {
        case U16:
                return i >= 0 && i <= 65535;
        case U32:
                return i >= 0 && i <= 4294967295LL;
        case U64:
                return i >= 0;
        default:
                return true;
        }
}

static int check_int(const struct where *w, const json_t *v, const char *type, int range,
                     struct berth_err *err)
{
        if (!json_is_number(v))
                return type_error(w, v, false, type, err);
        if (!int_fits(v, range))
                return type_error(w, v, true, type, err);
        return 0;
}

/* A string, or null made "" (in arrays and maps, where Go stores the zero). */
static int check_str_elem(const struct where *w, json_t *v, json_t **ret_zero,
                          struct berth_err *err)
{
        *ret_zero = NULL;
        if (json_is_null(v))
                *ret_zero = json_string("");
        else if (!json_is_string(v))
                return type_error(w, v, false, "string", err);
        return 0;
}

static int check_strv(const struct where *w, json_t *v, const char *type, struct berth_err *err)
{
        if (!json_is_array(v))
                return type_error(w, v, false, type, err);
        size_t i;
        json_t *x;
        json_array_foreach (v, i, x) {
                json_t *zero;
                int r = check_str_elem(w, x, &zero, err);
                if (r < 0)
                        return r;
                if (zero)
                        json_array_set_new(v, i, zero);
        }
        return 0;
}

static int check_struct(const struct api_schema *s, json_t *o, struct where *w,
                        struct berth_err *err);

static int check_sub(const struct field *f, json_t *v, const char *type, struct where *w,
                     struct berth_err *err)
{
        if (json_is_null(v))
                return 0;
        if (!json_is_object(v))
                return type_error(w, v, false, type, err);
        struct where inner = *w;
        inner.strukt = f->sub->name;
        return check_struct(f->sub, v, &inner, err);
}

/* One field's value; *ret_new is a replacement (normalised) value or NULL. */
static int check_field(const struct field *f, json_t *v, struct where *w, json_t **ret_new,
                       struct berth_err *err)
{
        const char *k;
        json_t *x;
        size_t i;
        int r;

        *ret_new = NULL;
        if (json_is_null(v))
                return 0;
        switch (f->t) {
        case V_STR:
                return json_is_string(v) ? 0 : type_error(w, v, false, f->type, err);
        case V_BOOL:
                return json_is_boolean(v) ? 0 : type_error(w, v, false, f->type, err);
        case V_INT:
                return check_int(w, v, f->type, f->range, err);
        case V_STRV:
                return check_strv(w, v, f->type, err);
        case V_STRSLICE:
                /* moby tries []string, then string, and reports the second */
                if (json_is_string(v)) {
                        *ret_new = json_pack("[O]", v);
                        return 0;
                }
                json_array_foreach (v, i, x)
                        if (!json_is_string(x) && !json_is_null(x))
                                return type_error(w, v, false, "string", err);
                return json_is_array(v) ? check_strv(w, v, f->type, err)
                                        : type_error(w, v, false, "string", err);
        case V_STRVV:
                if (!json_is_array(v))
                        return type_error(w, v, false, f->type, err);
                json_array_foreach (v, i, x) {
                        if (json_is_null(x))
                                continue;
                        r = check_strv(w, x, f->elem, err);
                        if (r < 0)
                                return r;
                }
                return 0;
        case V_MAP_STR:
        case V_SET:
                if (!json_is_object(v))
                        return type_error(w, v, false, f->type, err);
                for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
                        x = json_object_iter_value(it);
                        if (f->t == V_SET) {
                                if (!json_is_object(x) && !json_is_null(x))
                                        return type_error(w, x, false, f->elem, err);
                                continue;
                        }
                        json_t *zero;
                        r = check_str_elem(w, x, &zero, err);
                        if (r < 0)
                                return r;
                        if (zero)
                                json_object_iter_set_new(v, it, zero);
                }
                return 0;
        case V_UINTV:
                if (!json_is_array(v))
                        return type_error(w, v, false, f->type, err);
                json_array_foreach (v, i, x) {
                        if (json_is_null(x))
                                continue;
                        r = check_int(w, x, f->elem, f->range, err);
                        if (r < 0)
                                return r;
                }
                return 0;
        case V_OBJ:
                return check_sub(f, v, f->type, w, err);
        case V_OBJV:
                if (!json_is_array(v))
                        return type_error(w, v, false, f->type, err);
                json_array_foreach (v, i, x) {
                        r = check_sub(f, x, f->elem, w, err);
                        if (r < 0)
                                return r;
                }
                return 0;
        case V_MAP_OBJ:
        case V_MAP_OBJV:
                if (!json_is_object(v))
                        return type_error(w, v, false, f->type, err);
                json_object_foreach (v, k, x) {
                        if (f->t == V_MAP_OBJ) {
                                r = check_sub(f, x, f->elem, w, err);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if (json_is_null(x))
                                continue;
                        if (!json_is_array(x))
                                return type_error(w, x, false, f->elem, err);
                        json_t *y;
                        size_t n;
                        json_array_foreach (x, n, y) {
                                r = check_sub(f, y, f->elem2, w, err);
                                if (r < 0)
                                        return r;
                        }
                }
                return 0;
        }
        return 0;
}

static const struct field *find_field(const struct api_schema *s, const char *key)
{
        /* Go matches a key to a field exactly first, then ignoring case */
        const struct field *folded = NULL;
        for (size_t t = 0; t < ELEMENTSOF(s->fields) && s->fields[t]; t++)
                for (const struct field *f = s->fields[t]; f->name; f++) {
                        if (streq(f->name, key))
                                return f;
                        if (!folded && strcasecmp(f->name, key) == 0)
                                folded = f;
                }
        return folded;
}

static int check_struct(const struct api_schema *s, json_t *o, struct where *w,
                        struct berth_err *err)
{
        size_t plen = strlen(w->path);
        for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
                const char *key = json_object_iter_key(it);
                const struct field *f = find_field(s, key);
                if (!f)
                        continue; /* unknown keys are ignored, as Go does */
                snprintf(w->path + plen, sizeof(w->path) - plen, "%s%s", plen ? "." : "", f->name);
                json_t *repl = NULL;
                int r = check_field(f, json_object_iter_value(it), w, &repl, err);
                if (r < 0)
                        return r;
                if (repl)
                        json_object_iter_set_new(o, it, repl);
        }
        w->path[plen] = '\0';
        return 0;
}

int api_validate(const struct api_schema *s, json_t *body, struct berth_err *err)
{
        if (!json_is_object(body))
                return err_set(err, -EINVAL, "json: cannot unmarshal %s into Go value of type %s",
                               kind(body), s->top_type);
        struct where w = {.strukt = s->name};
        return check_struct(s, body, &w, err);
}

int api_body_checked(struct api_request *req, const struct api_schema *s, json_t **ret,
                     struct berth_err *err)
{
        _cleanup_json_ json_t *body = NULL;
        int r = api_body_json(req, &body, err);
        if (r < 0)
                return r;
        r = api_validate(s, body, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(body);
        return 0;
}
