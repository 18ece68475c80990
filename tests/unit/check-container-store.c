/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container record store and the life cycle above it, with fake
 * network and volume tables (no engine, no network or volume driver; the
 * vfs storage plugin and a real image store underneath): create, names,
 * rename, remove, restore after a daemon restart, and a remove that races
 * a start. */
#include "check-main.h"
#include "image-test.h"

#include <pthread.h>

#include "container/container-internal.h"
#include "container/container.h"
#include "image/image.h"
#include "container/shim-proto.h"

/* --- fake network and volume tables ---------------------------------------- */

struct fake {
        pthread_mutex_t m;
        pthread_cond_t c;
        int net_plan, net_up, net_down, net_restore, net_connect;
        int vol_plan, vol_mount, vol_unmount, vol_remove, vol_restore;
        bool block_mount; /* vol mount waits for `release` */
        bool in_mount, release;
};

static int fnet_plan(void *ctx, json_t *hc, json_t *netcfg, json_t **ret, struct berth_err *err)
{
        (void)hc, (void)netcfg, (void)err;
        struct fake *f = ctx;
        f->net_plan++;
        *ret = json_pack("{s:{s:s}}", "fakenet", "NetworkID", "f00d");
        return 0;
}
static int fnet_up(void *ctx, const char *id, json_t *rec, const char *join_key,
                   json_t *join_networks, struct berth_err *err)
{
        (void)id, (void)rec, (void)join_key, (void)join_networks, (void)err;
        ((struct fake *)ctx)->net_up++;
        return 0;
}
static void fnet_down(void *ctx, const char *id, json_t *rec)
{
        (void)id, (void)rec;
        ((struct fake *)ctx)->net_down++;
}
static void fnet_restore(void *ctx, const char *id, json_t *rec)
{
        (void)id, (void)rec;
        ((struct fake *)ctx)->net_restore++;
}
static int fnet_connect(void *ctx, const char *net, const char *id, json_t *rec, bool running,
                        json_t *epc, struct berth_err *err)
{
        (void)id, (void)running, (void)epc, (void)err;
        ((struct fake *)ctx)->net_connect++;
        json_object_set_new(json_object_get(json_object_get(rec, "NetworkSettings"), "Networks"),
                            net, json_object());
        return 0;
}
static int fnet_disconnect(void *ctx, const char *net, const char *id, json_t *rec,
                           struct berth_err *err)
{
        (void)ctx, (void)id, (void)err;
        json_object_del(json_object_get(json_object_get(rec, "NetworkSettings"), "Networks"), net);
        return 0;
}
static const struct ct_network_ops fake_net = {fnet_plan,    fnet_up,      fnet_down,
                                               fnet_restore, fnet_connect, fnet_disconnect};

static int fvol_plan(void *ctx, const char *id, json_t *cfg, json_t *hc, json_t *from, json_t **ret,
                     struct berth_err *err)
{
        (void)id, (void)cfg, (void)hc, (void)from, (void)err;
        ((struct fake *)ctx)->vol_plan++;
        *ret = json_array();
        return 0;
}
static int fvol_mount(void *ctx, json_t *rec, const char *rootfs, json_t *spec,
                      struct berth_err *err)
{
        (void)rec, (void)rootfs, (void)spec, (void)err;
        struct fake *f = ctx;
        pthread_mutex_lock(&f->m);
        f->vol_mount++;
        if (f->block_mount) {
                f->in_mount = true;
                pthread_cond_broadcast(&f->c);
                while (!f->release)
                        pthread_cond_wait(&f->c, &f->m);
        }
        pthread_mutex_unlock(&f->m);
        return 0;
}
static void fvol_unmount(void *ctx, json_t *rec)
{
        (void)rec;
        ((struct fake *)ctx)->vol_unmount++;
}
static void fvol_remove(void *ctx, json_t *rec, bool anonymous)
{
        (void)rec, (void)anonymous;
        ((struct fake *)ctx)->vol_remove++;
}
static void fvol_restore(void *ctx, const char *id, json_t *mounts)
{
        (void)id, (void)mounts;
        ((struct fake *)ctx)->vol_restore++;
}
static const struct ct_volume_ops fake_vol = {fvol_plan, fvol_mount, fvol_unmount, fvol_remove,
                                              fvol_restore};

/* --- fixture ----------------------------------------------------------------- */

static struct tstore T;
static struct fake F;
static struct container_store *S;

static void open_store(void)
{
        struct container_deps d = {
            .cfg = &T.cfg,
            .storage = T.drv,
            .images = T.s,
            .net = &fake_net,
            .net_ctx = &F,
            .vol = &fake_vol,
            .vol_ctx = &F,
        };
        struct berth_err e = {0};
        ck_assert_msg(container_store_open(&d, &S, &e) == 0, "%s", e.msg);
}

static void setup(void)
{
        memset(&F, 0, sizeof(F));
        pthread_mutex_init(&F.m, NULL);
        pthread_cond_init(&F.c, NULL);
        tstore_open(&T, "vfs");
        struct tarb tb;
        tarb_init(&tb);
        tarb_dir(&tb, "etc/");
        tarb_file(&tb, "etc/hello", "hi\n");
        struct membuf layer = tarb_finish(&tb);
        struct membuf a = make_darchive(&layer, 1, NULL);
        struct berth_err e = {0};
        ck_assert_msg(load_mem(&T, &a, &e) == 0, "%s", e.msg);
        free(a.p);
        free(layer.p);
        open_store();
}

static void teardown(void)
{
        S = container_store_close(S);
        tstore_close(&T);
}

static char *create(const char *name, struct berth_err *e)
{
        _cleanup_json_ json_t *body =
            json_pack("{s:s, s:[s,s]}", "Image", "test:latest", "Cmd", "echo", "hi");
        char *id = NULL;
        json_t *warnings = NULL;
        int r = container_create(S, name, body, &id, &warnings, e);
        json_decref(warnings);
        return r < 0 ? NULL : id;
}

static json_t *inspect(const char *ref)
{
        json_t *j = NULL;
        struct berth_err e = {0};
        ck_assert_msg(container_inspect(S, ref, &j, &e) == 0, "%s", e.msg);
        return j;
}

/* --- tests ------------------------------------------------------------------- */

START_TEST(test_create)
{
        struct berth_err e = {0};
        _cleanup_free_ char *id = create("web", &e);
        ck_assert_msg(id, "%s", e.msg);
        ck_assert_int_eq(strlen(id), 64);
        ck_assert_int_eq(F.net_plan, 1);
        ck_assert_int_eq(F.vol_plan, 1);
        _cleanup_json_ json_t *j = inspect("web");
        ck_assert_str_eq(json_get_str(j, "Id", ""), id);
        ck_assert_str_eq(json_get_str(j, "Name", ""), "/web");
        ck_assert_str_eq(json_get_str(json_object_get(j, "State"), "Status", ""), "created");
        ck_assert_str_eq(json_get_str(j, "Path", ""), "echo");
        ck_assert_str_eq(json_get_str(json_object_get(j, "HostConfig"), "NetworkMode", ""),
                         "default");
        /* the network plan's answer is the record's */
        ck_assert_ptr_nonnull(json_object_get(
            json_object_get(json_object_get(j, "NetworkSettings"), "Networks"), "fakenet"));
        /* by unique prefix too, and persisted */
        char prefix[8];
        snprintf(prefix, sizeof(prefix), "%.7s", id);
        char got[65];
        ck_assert_int_eq(container_resolve(S, prefix, got, &e), 0);
        ck_assert_str_eq(got, id);
        _cleanup_free_ char *p = xasprintf("%s/containers/%s/config.v2.json", T.cfg.data_root, id);
        ck_assert_int_eq(access(p, F_OK), 0);
        /* a generated name when none is given */
        _cleanup_free_ char *id2 = create(NULL, &e);
        ck_assert_msg(id2, "%s", e.msg);
        _cleanup_json_ json_t *j2 = inspect(id2);
        ck_assert(container_name_valid(json_get_str(j2, "Name", "")));
        /* and refusals before anything is made */
        _cleanup_json_ json_t *bad = json_pack("{s:s, s:{s:{s:s}}}", "Image", "test:latest",
                                               "HostConfig", "RestartPolicy", "Name", "sometimes");
        char *bid = NULL;
        json_t *w = NULL;
        ck_assert_int_eq(container_create(S, "bad", bad, &bid, &w, &e), -EINVAL);
        ck_assert_int_eq(container_create(S, "-no", bad, &bid, &w, &e), -EINVAL);
        ck_assert_int_eq(F.net_plan, 2);
}
END_TEST

/* The store's indexes, on records made here (not through create): a
 * lookup by full ID, name and unique prefix after thousands of adds and
 * drops, Docker's order (ID, then name, then prefix), ambiguous prefixes,
 * and the indexes themselves: by_id sorted, every name in its bucket. */
static struct record *index_rec(struct container_store *s, unsigned i, const char *name)
{
        struct record *r = xzalloc(sizeof(*r));
        uint64_t h = 0x9e3779b97f4a7c15ULL * (i + 1);
        snprintf(r->id, sizeof(r->id), "%016llx%016llx%016llx%016llx", (unsigned long long)h,
                 (unsigned long long)(h ^ 0xabcdefULL), (unsigned long long)~h,
                 (unsigned long long)i);
        r->name = name ? xasprintf("/%s", name) : xasprintf("/n%u", i);
        ct_add_locked(s, r);
        return r;
}

static void index_check(struct container_store *s)
{
        for (size_t i = 1; i < s->n; i++)
                ck_assert_int_lt(strcmp(s->by_id[i - 1]->id, s->by_id[i]->id), 0);
        size_t chained = 0;
        for (size_t b = 0; b < s->n_buckets; b++)
                for (struct record *r = s->buckets[b]; r; r = r->name_next)
                        chained++;
        ck_assert_uint_eq(chained, s->n);
        ck_assert_uint_ge(s->n_buckets, s->n);
}

START_TEST(test_index)
{
        struct container_store s = {0};
        struct record *r[2000];
        int code;
        for (unsigned i = 0; i < 2000; i++)
                r[i] = index_rec(&s, i, NULL);
        index_check(&s);
        for (unsigned i = 0; i < 2000; i += 7) {
                char pfx[13], name[16];
                snprintf(pfx, sizeof(pfx), "%.12s", r[i]->id);
                snprintf(name, sizeof(name), "n%u", i);
                ck_assert_ptr_eq(ct_find_locked(&s, r[i]->id, &code), r[i]);
                ck_assert_ptr_eq(ct_find_locked(&s, name, &code), r[i]);
                ck_assert_ptr_eq(ct_find_locked(&s, r[i]->name, &code), r[i]);
                ck_assert_ptr_eq(ct_find_locked(&s, pfx, &code), r[i]);
                ck_assert_int_eq(code, 0);
        }
        ck_assert_ptr_null(ct_find_locked(&s, "n2000", &code));
        ck_assert_int_eq(code, -ENOENT);
        ck_assert_ptr_null(ct_find_locked(&s, "fffffffffffffffff", &code));
        ck_assert_int_eq(code, -ENOENT);
        /* two IDs that share a prefix: that prefix is ambiguous, a longer
         * one is not */
        struct record *twin = index_rec(&s, 5000, "twin");
        ct_drop_locked(&s, twin); /* an ID is fixed once indexed */
        memcpy(twin->id, r[3]->id, 20);
        ct_add_locked(&s, twin);
        index_check(&s);
        char p20[21], p30[31];
        snprintf(p20, sizeof(p20), "%.20s", r[3]->id);
        snprintf(p30, sizeof(p30), "%.30s", r[3]->id);
        ck_assert_ptr_null(ct_find_locked(&s, p20, &code));
        ck_assert_int_eq(code, -EINVAL);
        ck_assert_ptr_eq(ct_find_locked(&s, p30, &code), r[3]);
        /* a name that is another container's ID prefix: the name wins; an
         * ID wins over a name that is that ID */
        char p8[9];
        snprintf(p8, sizeof(p8), "%.8s", r[10]->id);
        struct record *hexname = index_rec(&s, 5001, p8);
        ck_assert_ptr_eq(ct_find_locked(&s, p8, &code), hexname);
        struct record *idname = index_rec(&s, 5002, r[11]->id);
        ck_assert_ptr_eq(ct_find_locked(&s, r[11]->id, &code), r[11]);
        /* drops: gone from every index, the others found, order kept */
        for (unsigned i = 0; i < 2000; i += 2)
                ct_drop_locked(&s, r[i]);
        index_check(&s);
        ck_assert_uint_eq(s.n, 1000 + 3);
        for (unsigned i = 0; i < 2000; i++) {
                char name[16];
                snprintf(name, sizeof(name), "n%u", i);
                ck_assert_ptr_eq(ct_find_locked(&s, name, &code), (i % 2 ? r[i] : NULL));
                ck_assert_ptr_eq(ct_find_locked(&s, r[i]->id, &code), (i % 2 ? r[i] : NULL));
        }
        for (size_t i = 0; i < 1000; i++)
                ck_assert_ptr_eq(s.recs[i], r[2 * i + 1]);
        /* a rename moves the name in the index */
        ct_name_unindex_locked(&s, r[1]);
        free(r[1]->name);
        r[1]->name = xstrdup("/renamed");
        ct_name_index_locked(&s, r[1]);
        index_check(&s);
        ck_assert_ptr_null(ct_find_locked(&s, "n1", &code));
        ck_assert_ptr_eq(ct_find_locked(&s, "renamed", &code), r[1]);
        for (unsigned i = 0; i < 2000; i += 2)
                ct_record_free(r[i]);
        for (size_t i = 0; i < s.n; i++)
                ct_record_free(s.recs[i]);
        free(s.recs);
        free(s.by_id);
        free(s.buckets);
        (void)idname;
}
END_TEST

START_TEST(test_names)
{
        struct berth_err e = {0};
        _cleanup_free_ char *a = create("alpha", &e);
        ck_assert_msg(a, "%s", e.msg);
        _cleanup_free_ char *b = create("beta", &e);
        ck_assert_msg(b, "%s", e.msg);
        /* a name in use: 409, with or without the leading '/' */
        ck_assert_ptr_null(create("alpha", &e));
        ck_assert_int_eq(e.code, -EEXIST);
        ck_assert_ptr_null(create("/beta", &e));
        ck_assert_int_eq(e.code, -EEXIST);
        /* nothing of the refused creates stays */
        int64_t total, running, paused, stopped;
        container_counts(S, &total, &running, &paused, &stopped);
        ck_assert_int_eq(total, 2);
        /* rename: to a used name refused, to a free one frees the old */
        ck_assert_int_eq(container_rename(S, "alpha", "beta", &e), -EEXIST);
        ck_assert_int_eq(container_rename(S, "alpha", "-x", &e), -EINVAL);
        ck_assert_int_eq(container_rename(S, "nosuch", "gamma", &e), -ENOENT);
        ck_assert_int_eq(container_rename(S, "alpha", "gamma", &e), 0);
        _cleanup_json_ json_t *j = inspect(a);
        ck_assert_str_eq(json_get_str(j, "Name", ""), "/gamma");
        _cleanup_free_ char *a2 = create("alpha", &e);
        ck_assert_msg(a2, "%s", e.msg);
        /* the rename is on disk: a reopened store has it */
        S = container_store_close(S);
        open_store();
        _cleanup_json_ json_t *j2 = inspect("gamma");
        ck_assert_str_eq(json_get_str(j2, "Id", ""), a);
}
END_TEST

START_TEST(test_remove)
{
        struct berth_err e = {0};
        _cleanup_free_ char *id = create("gone", &e);
        ck_assert_msg(id, "%s", e.msg);
        ck_assert_int_eq(container_remove(S, "gone", false, true, &e), 0);
        ck_assert_int_eq(F.vol_remove, 1);
        json_t *j = NULL;
        ck_assert_int_eq(container_inspect(S, id, &j, &e), -ENOENT);
        ck_assert_int_eq(container_remove(S, id, false, true, &e), -ENOENT);
        _cleanup_free_ char *dir = xasprintf("%s/containers/%s", T.cfg.data_root, id);
        ck_assert_int_eq(access(dir, F_OK), -1);
        ck_assert_int_eq(berth_storage_exists(T.drv, id, 0), 0);
        /* the name is free again */
        _cleanup_free_ char *id2 = create("gone", &e);
        ck_assert_msg(id2, "%s", e.msg);
}
END_TEST

/* Mark a record running on disk, as a berthd that went away leaves it. */
static void mark_running(const char *id)
{
        _cleanup_free_ char *p = xasprintf("%s/containers/%s/config.v2.json", T.cfg.data_root, id);
        _cleanup_json_ json_t *j = NULL;
        struct berth_err e = {0};
        ck_assert_int_eq(json_load_path(p, &j, &e), 0);
        json_t *st = json_object_get(j, "State");
        json_object_set_new(st, "Status", json_string("running"));
        json_object_set_new(st, "Running", json_true());
        json_object_set_new(st, "Pid", json_integer(4242));
        ck_assert_int_eq(json_save_path(p, j, 0600, &e), 0);
}

START_TEST(test_restore)
{
        struct berth_err e = {0};
        _cleanup_free_ char *died = create("died", &e);
        _cleanup_free_ char *exited = create("exited", &e);
        _cleanup_free_ char *idle = create("idle", &e);
        ck_assert(died && exited && idle);
        S = container_store_close(S);
        mark_running(died);
        mark_running(exited);
        /* "exited" left its exit record behind; "died" did not */
        _cleanup_free_ char *sd = xasprintf("%s/containers/%s", T.cfg.exec_root, exited);
        ck_assert_int_eq(mkdir_p(sd, 0700), 0);
        _cleanup_free_ char *ep = xasprintf("%s/%s", sd, SHIM_EXIT);
        _cleanup_json_ json_t *ex = json_pack("{s:i, s:b, s:s}", "ExitCode", 3, "OOMKilled", 0,
                                              "FinishedAt", "2024-01-01T00:00:00Z");
        ck_assert_int_eq(json_save_path(ep, ex, 0600, &e), 0);

        /* opening loads the records and runs nothing */
        open_store();
        _cleanup_json_ json_t *before = inspect("died");
        ck_assert_str_eq(json_get_str(json_object_get(before, "State"), "Status", ""), "running");
        ck_assert_int_eq(F.vol_unmount, 0);

        ck_assert_int_eq(container_restore(S), 0);
        _cleanup_json_ json_t *d = inspect("died");
        _cleanup_json_ json_t *x = inspect("exited");
        _cleanup_json_ json_t *i = inspect("idle");
        ck_assert_str_eq(json_get_str(json_object_get(d, "State"), "Status", ""), "exited");
        ck_assert_int_eq(json_get_int(json_object_get(d, "State"), "ExitCode", 0), 255);
        ck_assert_str_eq(json_get_str(json_object_get(x, "State"), "Status", ""), "exited");
        ck_assert_int_eq(json_get_int(json_object_get(x, "State"), "ExitCode", 0), 3);
        ck_assert_str_eq(json_get_str(json_object_get(x, "State"), "FinishedAt", ""),
                         "2024-01-01T00:00:00Z");
        ck_assert_str_eq(json_get_str(json_object_get(i, "State"), "Status", ""), "created");
        /* both dead ones released their volumes; no live shim: no endpoint
         * or mount was handed back to a driver */
        ck_assert_int_eq(F.vol_unmount, 2);
        ck_assert_int_eq(F.net_restore, 0);
        ck_assert_int_eq(F.vol_restore, 0);
        ck_assert_int_eq(access(sd, F_OK), -1);
        /* and the exit is on disk */
        S = container_store_close(S);
        open_store();
        _cleanup_json_ json_t *d2 = inspect("died");
        ck_assert_str_eq(json_get_str(json_object_get(d2, "State"), "Status", ""), "exited");
}
END_TEST

START_TEST(test_connect)
{
        struct berth_err e = {0};
        _cleanup_free_ char *id = create("cx", &e);
        ck_assert_msg(id, "%s", e.msg);
        ck_assert_int_eq(container_network_connect(S, "other", "cx", NULL, &e), 0);
        ck_assert_int_eq(F.net_connect, 1);
        ck_assert_int_eq(container_network_connect(S, "other", "nosuch", NULL, &e), -ENOENT);
        /* the container layer saved the record */
        S = container_store_close(S);
        open_store();
        _cleanup_json_ json_t *j = inspect("cx");
        json_t *nets = json_object_get(json_object_get(j, "NetworkSettings"), "Networks");
        ck_assert_ptr_nonnull(json_object_get(nets, "other"));
        ck_assert_int_eq(container_network_disconnect(S, "other", "cx", &e), 0);
        _cleanup_json_ json_t *j2 = inspect("cx");
        nets = json_object_get(json_object_get(j2, "NetworkSettings"), "Networks");
        ck_assert_ptr_null(json_object_get(nets, "other"));
}
END_TEST

/* The pure part of create: no store, no driver. */
START_TEST(test_record_build)
{
        _cleanup_json_ json_t *ic =
            json_pack("{s:[s,s], s:[s], s:s, s:{s:s}}", "Env", "PATH=/bin", "A=image", "Cmd", "sh",
                      "WorkingDir", "/srv", "Labels", "from", "image");
        _cleanup_json_ json_t *body =
            json_pack("{s:s, s:s, s:[s,s], s:{s:s}, s:{s:b}}", "Image", "test:latest", "Entrypoint",
                      "/bin/run", "Env", "A=body", "B=1", "Labels", "from", "body", "HostConfig",
                      "AutoRemove", 1);
        struct container_record_in in = {
            .id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            .name = "/built",
            .image_id = "sha256:feed",
            .created = "2024-01-01T00:00:00.000000000Z",
            .dir = "/data/containers/0123",
            .storage_driver = "vfs",
            .logging_default = "json-file",
        };
        json_t *j = NULL;
        struct berth_err e = {0};
        ck_assert_msg(container_record_build(body, ic, &in, &j, &e) == 0, "%s", e.msg);
        _cleanup_json_ json_t *owner = j;
        json_t *cfg = json_object_get(j, "Config");
        json_t *hc = json_object_get(j, "HostConfig");
        ck_assert_str_eq(json_get_str(j, "Name", ""), "/built");
        ck_assert_str_eq(json_get_str(j, "Path", ""), "/bin/run");
        ck_assert_int_eq(json_array_size(json_object_get(j, "Args")), 0);
        /* --entrypoint resets the image's CMD */
        ck_assert(json_is_null(json_object_get(cfg, "Cmd")));
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(cfg, "Env"), 1)),
                         "A=body");
        ck_assert_int_eq(json_array_size(json_object_get(cfg, "Env")), 3);
        ck_assert_str_eq(json_get_str(json_object_get(cfg, "Labels"), "from", ""), "body");
        ck_assert_str_eq(json_get_str(cfg, "WorkingDir", ""), "/srv");
        ck_assert_str_eq(json_get_str(cfg, "Hostname", ""), "0123456789ab");
        ck_assert_str_eq(json_get_str(json_object_get(hc, "LogConfig"), "Type", ""), "json-file");
        ck_assert_str_eq(json_get_str(hc, "NetworkMode", ""), "default");
        ck_assert(json_get_bool(hc, "AutoRemove", false));
        ck_assert_str_eq(
            json_get_str(j, "LogPath", ""),
            "/data/containers/0123/"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef-json.log");
        ck_assert_str_eq(json_get_str(json_object_get(j, "State"), "Status", ""), "created");
        /* refusals */
        _cleanup_json_ json_t *nocmd = json_pack("{s:s}", "Image", "x");
        json_t *k = NULL;
        ck_assert_int_eq(container_record_build(nocmd, NULL, &in, &k, &e), -EINVAL);
        ck_assert_str_eq(e.msg, "No command specified");
        _cleanup_json_ json_t *badrp =
            json_pack("{s:[s], s:{s:b, s:{s:s}}}", "Cmd", "x", "HostConfig", "AutoRemove", 1,
                      "RestartPolicy", "Name", "always");
        ck_assert_int_eq(container_record_build(badrp, NULL, &in, &k, &e), -EINVAL);
}
END_TEST

/* --- a remove that races a start ------------------------------------------------ */

struct op {
        const char *ref;
        int r;
        struct berth_err err;
        bool done;
};

static void *start_main(void *p)
{
        struct op *o = p;
        o->r = container_start(S, o->ref, &o->err);
        __atomic_store_n(&o->done, true, __ATOMIC_SEQ_CST);
        return NULL;
}

static void *remove_main(void *p)
{
        struct op *o = p;
        o->r = container_remove(S, o->ref, true, true, &o->err);
        __atomic_store_n(&o->done, true, __ATOMIC_SEQ_CST);
        return NULL;
}

/* The start is held inside the volume mount (the record is `starting`, the
 * lock is free): the remove must not free the record under it. It waits
 * for the start to end (here: it fails later, no berth-shim is installed
 * next to the test), then removes. */
START_TEST(test_remove_waits_for_start)
{
        struct berth_err e = {0};
        _cleanup_free_ char *id = create("racer", &e);
        ck_assert_msg(id, "%s", e.msg);
        F.block_mount = true;
        struct op st = {.ref = id}, rm = {.ref = id};
        pthread_t ts, tr;
        ck_assert_int_eq(pthread_create(&ts, NULL, start_main, &st), 0);
        pthread_mutex_lock(&F.m);
        while (!F.in_mount)
                pthread_cond_wait(&F.c, &F.m);
        pthread_mutex_unlock(&F.m);

        ck_assert_int_eq(pthread_create(&tr, NULL, remove_main, &rm), 0);
        usleep(300 * 1000);
        ck_assert_msg(!__atomic_load_n(&rm.done, __ATOMIC_SEQ_CST),
                      "the remove did not wait for the start (returned %d: %s)", rm.r,
                      err_msg(&rm.err));
        _cleanup_json_ json_t *mid = inspect(id);
        ck_assert_str_eq(json_get_str(mid, "Id", ""), id);

        pthread_mutex_lock(&F.m);
        F.release = true;
        pthread_cond_broadcast(&F.c);
        pthread_mutex_unlock(&F.m);
        pthread_join(ts, NULL);
        pthread_join(tr, NULL);
        ck_assert_int_lt(st.r, 0); /* no shim to run it */
        ck_assert_msg(rm.r == 0, "remove: %s", err_msg(&rm.err));
        /* the failed start undid what it did, then the remove ran */
        ck_assert_int_eq(F.net_up, 1);
        ck_assert_int_eq(F.net_down, 1);
        ck_assert_int_eq(F.vol_unmount, 1);
        json_t *j = NULL;
        ck_assert_int_eq(container_inspect(S, id, &j, &e), -ENOENT);
        ck_assert_int_eq(berth_storage_exists(T.drv, id, 0), 0);
}
END_TEST

/* As Docker: an AutoRemove container whose start fails (here: no
 * berth-shim next to the test) is removed before the start returns, its
 * network and volumes undone, its storage gone; a wait for "removed" that
 * was waiting returns. */
START_TEST(test_autoremove_failed_start)
{
        struct berth_err e = {0};
        _cleanup_json_ json_t *body =
            json_pack("{s:s, s:[s], s:{s:b}}", "Image", "test:latest", "Cmd", "nosuchcommand",
                      "HostConfig", "AutoRemove", 1);
        _cleanup_free_ char *id = NULL;
        json_t *warnings = NULL;
        ck_assert_msg(container_create(S, "rm1", body, &id, &warnings, &e) == 0, "%s", e.msg);
        json_decref(warnings);
        ck_assert_int_lt(container_start(S, id, &e), 0);
        json_t *j = NULL;
        struct berth_err ie = {0};
        ck_assert_int_eq(container_inspect(S, id, &j, &ie), -ENOENT);
        ck_assert_int_eq(F.net_up, 1);
        ck_assert_int_eq(F.net_down, 1);
        ck_assert_int_eq(berth_storage_exists(T.drv, id, 0), 0);
        int64_t code = -1;
        ck_assert_int_eq(container_wait(S, id, "removed", &code, &ie), -ENOENT);
}
END_TEST

START_TEST(test_detach_keys)
{
        unsigned char k[CONTAINER_DETACH_KEYS_MAX];
        size_t n = 0;
        struct berth_err e = {0};
        ck_assert_int_eq(container_detach_keys(NULL, k, &n, &e), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(k[0], 16);
        ck_assert_int_eq(k[1], 17);
        ck_assert_int_eq(
            container_detach_keys("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,a,Z", k, &n, &e), 0);
        const unsigned char want[] = {0, 27, 28, 29, 30, 31, 'a', 'Z'};
        ck_assert_uint_eq(n, sizeof(want));
        ck_assert_mem_eq(k, want, sizeof(want));
        ck_assert_int_eq(container_detach_keys("ctrl-1", k, &n, &e), -EINVAL);
        ck_assert_int_eq(container_detach_keys("ab", k, &n, &e), -EINVAL);
        ck_assert_int_eq(container_detach_keys("a,,b", k, &n, &e), -EINVAL);
        ck_assert_int_eq(container_detach_keys("ctrl-", k, &n, &e), -EINVAL);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("container-store");
        TCase *tc = tcase_create("store");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_create);
        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_index);
        tcase_add_test(tc, test_remove);
        tcase_add_test(tc, test_restore);
        tcase_add_test(tc, test_connect);
        tcase_add_test(tc, test_record_build);
        tcase_add_test(tc, test_remove_waits_for_start);
        tcase_add_test(tc, test_autoremove_failed_start);
        tcase_add_test(tc, test_detach_keys);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
