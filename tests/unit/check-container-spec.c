/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Golden files for container_spec(): an inspect-shaped container record
 * (tests/unit/data/spec/<case>.record.json, as container_create() builds it
 * from a create body, and as container_start() holds it when it asks for the
 * spec) -> the OCI runtime spec (<case>.spec.json). Compared as JSON; on a
 * difference the test prints the paths that differ, then both documents,
 * indented with sorted keys.
 *
 * To regenerate the golden files after a deliberate change:
 *   BERTH_UPDATE_GOLDEN=1 ctest --test-dir build -R check-container-spec
 * then read `git diff tests/unit/data/spec` line by line against Docker's
 * behaviour (DESIGN.md) before committing: the files are the review.
 *
 * What is normalised, in the expected and the generated spec alike:
 * - root.path: the rootfs is data/spec/rootfs (a passwd and a group file, so
 *   that names resolve); its absolute path is this checkout's, so it reads
 *   "/ROOTFS". The container's directory is passed as "/CDIR" (the spec only
 *   names files in it).
 * - linux.seccomp: when it is exactly seccomp_default_profile(), it reads
 *   "DEFAULT_PROFILE"; the profile itself has its own golden file,
 *   seccomp-default.json. Any other profile is compared in full. */
#include <dirent.h>

#include "check-main.h"
#include "base/json.h"
#include "container/container-spec.h"
#include "container/container.h"

#define GOLDEN_ROOTFS   "/ROOTFS"
#define GOLDEN_CDIR     "/CDIR"
#define DEFAULT_SECCOMP "DEFAULT_PROFILE"

/* record -> spec; and the whole chain in body_cases[]: a create body as the
 * docker CLI sends it (<case>.body.json) -> container_record_build() ->
 * the record (<case>.record.json) -> the spec (<case>.spec.json). */
struct spec_case {
        const char *name;
        const char *what; /* the docker run flags the record stands for */
};

static const struct spec_case record_cases[] = {
    {"minimal", "run busybox sh: Docker's defaults"},
    {"process", "--entrypoint /bin/sh -e FOO=bar -e EMPTY= -e TERM=vt100 -w /srv -u app -it "
                "--group-add video --group-add 4242 busybox -c 'echo hi'"},
    {"user-numeric", "-u 1000:29 -e HOME=/home/app"},
    {"privileged", "--privileged"},
    {"privileged-cap-drop", "--privileged --cap-drop NET_RAW"},
    {"caps", "--cap-add NET_ADMIN --cap-add CAP_SYS_TIME --cap-drop net_raw --cap-drop MKNOD"},
    /* the seccomp profile opens what CAP_SYS_ADMIN needs (mount, unshare,
     * clone with namespace flags) */
    {"caps-sys-admin", "--cap-add SYS_ADMIN"},
    {"caps-drop-all", "--cap-drop ALL --cap-add NET_BIND_SERVICE"},
    {"caps-add-all", "--cap-add ALL --cap-drop NET_RAW"},
    {"read-only", "--read-only"},
    {"resources", "--memory 64m --memory-reservation 32m --cpus 1.5 --cpu-shares 512 "
                  "--cpuset-cpus 0-1 --cpuset-mems 0 --pids-limit 100 --oom-kill-disable "
                  "--oom-score-adj 500 --shm-size 128m"},
    {"resources-swap-quota", "--memory 64m --memory-swap 128m --cpu-quota 50000 "
                             "--cpu-period 100000 --pids-limit -1"},
    /* Binds and Mounts reach the spec in volume_container_start(), after
     * container_spec(); only --tmpfs is container_spec's. */
    {"mounts", "-v /srv/data:/data:ro -v cache:/cache --mount type=bind,src=/srv/conf,"
               "dst=/etc/app,readonly --tmpfs /run --tmpfs /tmp:rw,exec,size=65536k"},
    /* before network_container_start(): no SandboxKey yet */
    {"network-none", "--network none"},
    /* after network_container_start(): the namespace berthd made */
    {"network-netns", "--network default, started"},
    {"network-host", "--network host"},
    {"pid-ipc-uts-host", "--pid host --ipc host --uts host"},
    /* container_init_apply() adds berth-init after container_spec() */
    {"init", "--init busybox sleep 60"},
    {"no-new-privileges", "--security-opt no-new-privileges"},
    {"seccomp-unconfined", "--security-opt seccomp=unconfined --security-opt label=disable"},
    {"sysctls-ulimits", "--sysctl net.ipv4.ip_unprivileged_port_start=0 "
                        "--sysctl kernel.shm_rmid_forced=1 --ulimit nofile=1024:2048 "
                        "--ulimit nproc=512"},
    {"devices", "--device /dev/fuse --device /dev/null:/dev/mynull:r"},
};

/* create bodies (docker CLI 28's shape), over busybox's image config */
static const struct spec_case body_cases[] = {
    {"body-minimal", "run --rm busybox echo hi"},
    {"body-flags", "run -it -u app -e FOO=bar -w /srv --entrypoint '/bin/sh -c' -l "
                   "com.example.role=web --cap-add NET_ADMIN --cap-drop MKNOD --read-only "
                   "--memory 64m --cpus 0.5 --pids-limit 100 --tmpfs /run:size=65536k "
                   "--security-opt no-new-privileges --init --network none "
                   "--ulimit nofile=1024:2048 busybox 'echo hi'"},
};

static bool update_golden(void)
{
        const char *u = getenv("BERTH_UPDATE_GOLDEN");
        return u && *u && !streq(u, "0");
}

static char *dump(json_t *j)
{
        return json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* The paths at which a and b differ ("linux.resources.memory.limit"), one a
 * line, at most *budget of them. */
static void diff_paths(const char *path, json_t *a, json_t *b, char **out, int *budget)
{
        if (*budget <= 0 || json_equal(a, b))
                return;
        if (json_is_object(a) && json_is_object(b)) {
                const char *k;
                json_t *v;
                json_object_foreach (a, k, v) {
                        _cleanup_free_ char *p = xasprintf("%s%s%s", path, *path ? "." : "", k);
                        diff_paths(p, v, json_object_get(b, k), out, budget);
                }
                json_object_foreach (b, k, v)
                        if (!json_object_get(a, k)) {
                                _cleanup_free_ char *p =
                                    xasprintf("%s%s%s", path, *path ? "." : "", k);
                                diff_paths(p, NULL, v, out, budget);
                        }
                return;
        }
        if (json_is_array(a) && json_is_array(b) && json_array_size(a) == json_array_size(b)) {
                for (size_t i = 0; i < json_array_size(a); i++) {
                        _cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);
                        diff_paths(p, json_array_get(a, i), json_array_get(b, i), out, budget);
                }
                return;
        }
        _cleanup_free_ char *sa = a ? json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        _cleanup_free_ char *sb = b ? json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        char *n = xasprintf("%s  %s: expected %s, got %s\n", *out, *path ? path : "(top)",
                            sa ?: "(absent)", sb ?: "(absent)");
        free(*out);
        *out = n;
        (*budget)--;
}

/* Whether got equals the golden file at path; if not, *ret_report says
 * where and shows both. */
static bool golden_matches(const char *path, json_t *got, char **ret_report)
{
        json_error_t je;
        _cleanup_json_ json_t *want = json_load_file(path, 0, &je);
        ck_assert_msg(want != NULL, "%s: %s (line %d); BERTH_UPDATE_GOLDEN=1 writes it", path,
                      je.text, je.line);
        if (json_equal(want, got))
                return true;
        _cleanup_free_ char *paths = xstrdup("");
        int budget = 40;
        diff_paths("", want, got, &paths, &budget);
        _cleanup_free_ char *w = dump(want), *g = dump(got);
        *ret_report = xasprintf("%s differs at:\n%s--- expected (%s)\n%s\n+++ got\n%s\n"
                                "(if the change is meant: BERTH_UPDATE_GOLDEN=1, then review "
                                "the diff)\n",
                                path, paths, path, w, g);
        return false;
}

/* got against the golden file at path; with BERTH_UPDATE_GOLDEN set, write
 * got there instead. */
static void check_golden(const char *path, json_t *got)
{
        if (update_golden()) {
                ck_assert_int_eq(
                    json_dump_file(got, path, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY),
                    0);
                /* json_dump_file ends without a newline; git and editors want one */
                FILE *f = fopen(path, "a");
                ck_assert_ptr_nonnull(f);
                fputc('\n', f);
                ck_assert_int_eq(fclose(f), 0);
                return;
        }
        _cleanup_free_ char *report = NULL;
        if (golden_matches(path, got, &report))
                return;
        fputs(report, stderr);
        ck_abort_msg("%s: the generated spec differs from the golden file (see stderr)", path);
}

static json_t *load(const char *path)
{
        json_error_t je;
        json_t *j = json_load_file(path, 0, &je);
        ck_assert_msg(j != NULL, "%s: %s (line %d)", path, je.text, je.line);
        return j;
}

/* The host-dependent parts, replaced (see the top of the file). */
static void normalise(json_t *spec)
{
        json_object_set_new(json_object_get(spec, "root"), "path", json_string(GOLDEN_ROOTFS));
        json_t *lnx = json_object_get(spec, "linux");
        _cleanup_json_ json_t *def = seccomp_default_profile();
        if (json_equal(json_object_get(lnx, "seccomp"), def))
                json_object_set_new(lnx, "seccomp", json_string(DEFAULT_SECCOMP));
}

/* rec -> the spec, normalised */
static json_t *make_spec(const char *name, json_t *rec)
{
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", SPEC_DATA_DIR);
        struct berth_err err = {0};
        json_t *spec = NULL;
        int r = container_spec(rec, rootfs, GOLDEN_CDIR, NULL, &spec, &err);
        ck_assert_msg(r == 0, "%s: container_spec: %s", name, err_msg(&err));
        normalise(spec);
        return spec;
}

/* rec -> spec, against <name>.spec.json */
static void check_spec(const char *name, json_t *rec)
{
        _cleanup_free_ char *want = xasprintf("%s/%s.spec.json", SPEC_DATA_DIR, name);
        _cleanup_json_ json_t *spec = make_spec(name, rec);
        check_golden(want, spec);
}

START_TEST(test_record_to_spec)
{
        const struct spec_case *c = &record_cases[_i];
        _cleanup_free_ char *p = xasprintf("%s/%s.record.json", SPEC_DATA_DIR, c->name);
        _cleanup_json_ json_t *rec = load(p);
        check_spec(c->name, rec);
}
END_TEST

START_TEST(test_body_to_spec)
{
        const struct spec_case *c = &body_cases[_i];
        _cleanup_free_ char *p = xasprintf("%s/%s.body.json", SPEC_DATA_DIR, c->name);
        _cleanup_json_ json_t *body = load(p);
        _cleanup_json_ json_t *image_config =
            json_pack("{s:[s], s:[s]}", "Cmd", "sh", "Env",
                      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        const struct container_record_in in = {
            .id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            .name = "/golden",
            .image_id = "sha256:"
                        "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
            .created = "2026-12-07T12:00:00.000000000Z",
            .dir = GOLDEN_CDIR,
            .storage_driver = "overlay2",
            .logging_default = "json-file",
        };
        struct berth_err err = {0};
        _cleanup_json_ json_t *rec = NULL;
        int r = container_record_build(body, image_config, &in, &rec, &err);
        ck_assert_msg(r == 0, "%s: container_record_build: %s", c->name, err_msg(&err));
        _cleanup_free_ char *want = xasprintf("%s/%s.record.json", SPEC_DATA_DIR, c->name);
        check_golden(want, rec);
        check_spec(c->name, rec);
}
END_TEST

START_TEST(test_seccomp_default)
{
        _cleanup_free_ char *p = xasprintf("%s/seccomp-default.json", SPEC_DATA_DIR);
        _cleanup_json_ json_t *prof = seccomp_default_profile();
        check_golden(p, prof);
}
END_TEST

/* Every data file has its case, so none is left behind when a case goes. */
START_TEST(test_no_orphans)
{
        DIR *d = opendir(SPEC_DATA_DIR);
        ck_assert_ptr_nonnull(d);
        struct dirent *de;
        while ((de = readdir(d))) {
                const char *dot = strchr(de->d_name, '.');
                if (!dot || dot == de->d_name || streq(de->d_name, "seccomp-default.json"))
                        continue;
                size_t n = (size_t)(dot - de->d_name);
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(record_cases); i++)
                        if (strlen(record_cases[i].name) == n &&
                            strncmp(de->d_name, record_cases[i].name, n) == 0)
                                known = true;
                for (size_t i = 0; i < ELEMENTSOF(body_cases); i++)
                        if (strlen(body_cases[i].name) == n &&
                            strncmp(de->d_name, body_cases[i].name, n) == 0)
                                known = true;
                ck_assert_msg(known, "%s/%s belongs to no case in record_cases[]", SPEC_DATA_DIR,
                              de->d_name);
        }
        closedir(d);
}
END_TEST

/* The comparison itself: a changed spec fails, and the report names the
 * path that changed. */
START_TEST(test_difference_fails)
{
        _cleanup_free_ char *p = xasprintf("%s/minimal.record.json", SPEC_DATA_DIR);
        _cleanup_free_ char *want = xasprintf("%s/minimal.spec.json", SPEC_DATA_DIR);
        _cleanup_json_ json_t *rec = load(p);
        json_object_set_new(json_object_get(rec, "HostConfig"), "ReadonlyRootfs", json_true());
        _cleanup_json_ json_t *spec = make_spec("minimal", rec);
        _cleanup_free_ char *report = NULL;
        ck_assert(!golden_matches(want, spec, &report));
        ck_assert_ptr_nonnull(strstr(report, "root.readonly: expected false, got true"));
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("container-spec");
        TCase *t = tcase_create("golden");
        tcase_add_loop_test(t, test_record_to_spec, 0, ELEMENTSOF(record_cases));
        tcase_add_loop_test(t, test_body_to_spec, 0, ELEMENTSOF(body_cases));
        tcase_add_test(t, test_seccomp_default);
        tcase_add_test(t, test_no_orphans);
        if (!update_golden())
                tcase_add_test(t, test_difference_fails);
        suite_add_tcase(s, t);
        return s;
}

BERTH_CHECK_MAIN(suite)
