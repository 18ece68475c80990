/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The steps that need a container: RUN (created, started with its output
 * in the stream, waited for, its writable layer committed), and COPY, ADD
 * and WORKDIR (a created container that never runs: its root is written
 * through the hardened unpacker, then committed). */
#include "build-exec.h"
#include "build-internal.h"
#include "build-remote.h"
#include "build-source.h"
#include "base/json.h"
#include "base/sha256.h"
#include "base/log.h"
#include "base/util.h"
#include "container/container.h"
#include "image/image.h"
#include "tar/tar-helper.h"
#include "tar/tar-layer.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- step containers --------------------------------------------------------------- */

/* An image for a stage FROM scratch to create containers from: no layers,
 * no history; the step's own image names no parent. Removed with the build. */
static int base_image(struct build *b, struct stage_state *st, char **ret, struct berth_err *err)
{
        if (st->image) {
                *ret = xstrdup(st->image);
                return 0;
        }
        struct image_child c = {.config = st->config};
        return image_add_child(b->d->images, &c, ret, err);
}

static void base_image_done(struct build *b, struct stage_state *st, const char *base)
{
        if (!base || st->image)
                return;
        struct berth_err e = {0};
        json_t *res = NULL;
        image_remove(b->d->images, base, true, true, &res, &e);
        json_decref(res);
}

static int container_make(struct build *b, const char *image, json_t *cmd, json_t *env,
                          struct stage_state *st, json_t *hostconfig, char **ret_id,
                          struct berth_err *err)
{
        json_t *body = json_pack("{s:s, s:o, s:[], s:b, s:b}", "Image", image, "Cmd", cmd,
                                 "Entrypoint", "AttachStdout", true, "AttachStderr", true);
        if (env)
                json_object_set_new(body, "Env", env);
        const char *wd = json_get_str(st->config, "WorkingDir", "");
        if (*wd)
                json_object_set_new(body, "WorkingDir", json_string(wd));
        const char *user = json_get_str(st->config, "User", "");
        if (*user)
                json_object_set_new(body, "User", json_string(user));
        json_object_set_new(body, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
        json_object_set_new(body, "Labels", json_pack("{s:s}", BUILD_STEP_LABEL, "1"));
        json_object_set_new(body, "HostConfig", hostconfig);
        _cleanup_json_ json_t *warnings = NULL;
        int r = container_create(b->d->containers, NULL, body, ret_id, &warnings, err);
        json_decref(body);
        if (r < 0)
                err_prefix(err, "create the step container");
        return r;
}

static void container_drop(struct build *b, const char *id)
{
        struct berth_err e = {0};
        if (container_remove(b->d->containers, id, true, true, &e) < 0)
                log_warn("build: remove step container %s: %s", id, err_msg(&e));
}

/* The container's writable layer as a layer tar in the image store's tmp/
 * (image_add_child moves it in). */
static int layer_of(struct build *b, const char *cid, char **ret_path, struct berth_err *err)
{
        _cleanup_free_ char *path = NULL;
        int fd = image_store_tmpfile(b->d->images, &path, err);
        if (fd < 0)
                return fd;
        int r = container_layer_diff(b->d->containers, cid, fd, err);
        close(fd);
        if (r < 0) {
                unlink(path);
                return r;
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

static int commit_container(struct build *b, struct stage_state *st, const char *cid,
                            json_t *container_config, const char *created_by, bool layer,
                            char **ret_id, struct berth_err *err)
{
        _cleanup_free_ char *tar = NULL;
        int r = layer ? layer_of(b, cid, &tar, err) : 0;
        if (r < 0)
                return r;
        struct image_child c = {
            .parent_id = st->image,
            .config = st->config,
            .container_config = container_config,
            .container_id = cid,
            .created_by = created_by,
            .author = st->author,
            .layer_tar = tar,
        };
        r = image_add_child(b->d->images, &c, ret_id, err);
        if (r < 0 && tar)
                unlink(tar);
        return r;
}

/* --- RUN ------------------------------------------------------------------------------- */

struct run_job {
        json_t *cmd;        /* what runs */
        json_t *hostconfig; /* the step container's */
        struct build *b;
        /* the multiplexed output, demultiplexed */
        unsigned char hdr[8];
        size_t have;
        uint32_t left;
        int stream;
        char carry[3][4]; /* an unfinished UTF-8 sequence per stream */
        size_t ncarry[3];
};

static size_t utf8_len(unsigned char c)
{
        return c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
}

/* Output bytes as a stream message; invalid UTF-8 becomes U+FFFD, as Go's
 * JSON encoder writes it; a sequence cut at the end waits for the rest. */
static int emit_output(struct run_job *j, int stream, const char *p, size_t n)
{
        _cleanup_free_ char *s = NULL;
        size_t sl = 0;
        FILE *f = open_memstream(&s, &sl);
        if (!f)
                return -ENOMEM;
        if (stream == 2)
                fputs("\033[91m", f);
        char buf[4 + 16384];
        size_t bl = 0;
        int si = stream == 2 ? 2 : 1;
        memcpy(buf, j->carry[si], j->ncarry[si]);
        bl = j->ncarry[si];
        size_t take = n > sizeof(buf) - bl ? sizeof(buf) - bl : n;
        memcpy(buf + bl, p, take);
        bl += take;
        j->ncarry[si] = 0;
        size_t i = 0;
        while (i < bl) {
                unsigned char c = (unsigned char)buf[i];
                size_t l = utf8_len(c);
                if (l == 0) {
                        fputs("\xef\xbf\xbd", f);
                        i++;
                        continue;
                }
                if (i + l > bl) {
                        memcpy(j->carry[si], buf + i, bl - i);
                        j->ncarry[si] = bl - i;
                        break;
                }
                bool ok = true;
                for (size_t k = 1; k < l; k++)
                        if (((unsigned char)buf[i + k] >> 6) != 2)
                                ok = false;
                if (!ok) {
                        fputs("\xef\xbf\xbd", f);
                        i++;
                        continue;
                }
                fwrite(buf + i, 1, l, f);
                i += l;
        }
        if (stream == 2)
                fputs("\033[0m", f);
        fclose(f);
        int r = 0;
        if (sl > (stream == 2 ? 9u : 0u)) {
                json_t *m = json_object();
                json_object_set_new(m, "stream", json_stringn_nocheck(s, sl));
                r = bout(j->b, m);
        }
        if (r >= 0 && take < n)
                return emit_output(j, stream, p + take, n - take);
        return r;
}

static int run_output(void *ud, const char *data, size_t len)
{
        struct run_job *j = ud;
        if (len == 0)
                return bgone(j->b) ? -ECANCELED : 0;
        while (len) {
                if (j->left == 0) {
                        size_t need = 8 - j->have;
                        size_t t = len < need ? len : need;
                        memcpy(j->hdr + j->have, data, t);
                        j->have += t;
                        data += t;
                        len -= t;
                        if (j->have < 8)
                                break;
                        j->have = 0;
                        j->stream = j->hdr[0];
                        j->left = (uint32_t)j->hdr[4] << 24 | (uint32_t)j->hdr[5] << 16 |
                                  (uint32_t)j->hdr[6] << 8 | j->hdr[7];
                        continue;
                }
                size_t t = len < j->left ? len : j->left;
                if (emit_output(j, j->stream, data, t) < 0)
                        return -ECANCELED;
                j->left -= (uint32_t)t;
                data += t;
                len -= t;
        }
        return 0;
}

static int make_run(struct build *b, struct stage_state *st, void *arg, json_t *container_config,
                    const char *created_by, char **ret_id, struct berth_err *err)
{
        struct run_job *j = arg;
        if (!st->image)
                return err_set(err, -EINVAL,
                               "cannot run a command in an empty stage (FROM scratch has no "
                               "files; add them with COPY first)");
        /* the process sees the stage's ENV and the build args in scope */
        json_t *env = json_deep_copy(json_object_get(st->config, "Env"));
        if (!json_is_array(env)) {
                json_decref(env);
                env = json_array();
        }
        _cleanup_strv_ char **args = build_args_run_env(b->args, true);
        for (char **a = args; a && *a; a++)
                json_array_append_new(env, json_string(*a));
        _cleanup_free_ char *cid = NULL;
        int r = container_make(b, st->image, json_deep_copy(j->cmd), env, st,
                               json_deep_copy(j->hostconfig), &cid, err);
        if (r < 0)
                return r;
        r = boutf(b, " ---> Running in %.12s\n", cid);
        if (r >= 0)
                r = container_start_output(b->d->containers, cid, run_output, j, err);
        for (int s = 1; s < 3; s++) /* what is left of a cut sequence */
                if (r >= 0 && j->ncarry[s]) {
                        j->ncarry[s] = 0;
                        r = emit_output(j, s, "\xff", 1);
                }
        int64_t code = 0;
        if (r >= 0)
                r = container_wait(b->d->containers, cid, "not-running", &code, err);
        if (r >= 0 && code != 0) {
                _cleanup_free_ char *text = NULL;
                size_t tl = 0;
                FILE *f = open_memstream(&text, &tl);
                size_t i;
                json_t *v;
                json_array_foreach (j->cmd, i, v)
                        fprintf(f, "%s%s", i ? " " : "", json_string_value(v));
                fclose(f);
                b->exit_code = (int)code;
                r = err_set(err, -EIO, "The command '%s' returned a non-zero code: %" PRId64, text,
                            code);
        }
        if (r >= 0)
                r = commit_container(b, st, cid, container_config, created_by, true, ret_id, err);
        if (r >= 0 && b->o->rm) {
                container_drop(b, cid);
                r = boutf(b, "Removing intermediate container %.12s\n", cid);
        } else if (r < 0 && (b->o->forcerm || b->cancelled))
                container_drop(b, cid);
        return r;
}

/* A RUN whose command is a heredoc: the body runs under the shell; other
 * heredocs are given to the command as here-documents of the shell
 * (BuildKit's rule: "cmd\n<body>NAME"). */
static char *run_text(const struct build_instr *in)
{
        const char *line = in->args && in->args[0] ? in->args[0] : "";
        if (!in->n_heredocs)
                return xstrdup(line);
        const char *p = line;
        while (*p == ' ' || *p == '\t')
                p++;
        if (in->n_heredocs == 1 && startswith(p, "<<")) {
                const char *q = p + 2;
                if (*q == '-')
                        q++;
                while (*q == '"' || *q == '\'')
                        q++;
                size_t nl = strlen(in->heredocs[0].name);
                const char *r = q + nl;
                while (*r == '"' || *r == '\'')
                        r++;
                while (*r == ' ' || *r == '\t')
                        r++;
                if (strncmp(q, in->heredocs[0].name, nl) == 0 && !*r)
                        return xstrdup(in->heredocs[0].body);
        }
        _cleanup_free_ char *s = NULL;
        size_t sl = 0;
        FILE *f = open_memstream(&s, &sl);
        fputs(line, f);
        for (size_t i = 0; i < in->n_heredocs; i++)
                fprintf(f, "\n%s%s", in->heredocs[i].body, in->heredocs[i].name);
        fclose(f);
        return TAKE_PTR(s);
}

/* RUN --mount=type=cache|tmpfs|bind,...: BuildKit's syntax, honoured
 * without a BuildKit session. A cache mount is a directory of the daemon's
 * (<data_root>/build/mounts/<id>) kept across builds; a bind mount shows a
 * path of the context (read-only unless rw), resolved inside it; tmpfs is
 * a tmpfs. What a mount brings goes into the step's cache key. */
static int run_mount(struct build *b, json_t *hc, const char *spec, char **keytext,
                     struct berth_err *err)
{
        _cleanup_free_ char *type = xstrdup("bind"), *target = NULL, *source = NULL, *id = NULL,
                            *from = NULL;
        bool ro = true, ro_given = false;
        long mode = 0755, uid = 0, gid = 0;
        _cleanup_strv_ char **parts = strv_split(spec, ",");
        for (char **p = parts; p && *p; p++) {
                char *eq = strchr(*p, '=');
                _cleanup_free_ char *k = eq ? xstrndup(*p, (size_t)(eq - *p)) : xstrdup(*p);
                const char *v = eq ? eq + 1 : "";
                if (streq(k, "type"))
                        free(type), type = xstrdup(v);
                else if (streq(k, "target") || streq(k, "dst") || streq(k, "destination"))
                        free(target), target = xstrdup(v);
                else if (streq(k, "source") || streq(k, "src"))
                        free(source), source = xstrdup(v);
                else if (streq(k, "id"))
                        free(id), id = xstrdup(v);
                else if (streq(k, "from"))
                        free(from), from = xstrdup(v);
                else if (streq(k, "ro") || streq(k, "readonly"))
                        ro = !streq(v, "false"), ro_given = true;
                else if (streq(k, "rw") || streq(k, "readwrite"))
                        ro = streq(v, "false"), ro_given = true;
                else if (streq(k, "mode"))
                        mode = strtol(v, NULL, 8);
                else if (streq(k, "uid"))
                        uid = strtol(v, NULL, 10);
                else if (streq(k, "gid"))
                        gid = strtol(v, NULL, 10);
                else if (!streq(k, "sharing") && !streq(k, "size") && !streq(k, "required") &&
                         !streq(k, "env"))
                        return err_set(err, -EINVAL, "RUN --mount=%s: unknown option %s", spec, k);
        }
        if (streq(type, "secret") || streq(type, "ssh"))
                return err_set(err, -EINVAL,
                               "RUN --mount=type=%s needs a BuildKit session, which the classic "
                               "build protocol berth serves does not have",
                               type);
        if (isempty(target))
                return err_set(err, -EINVAL, "RUN --mount=%s: a target is required", spec);
        json_t *mounts = json_object_get(hc, "Mounts");
        if (!json_is_array(mounts)) {
                mounts = json_array();
                json_object_set_new(hc, "Mounts", mounts);
        }
        char *kt = NULL;
        if (streq(type, "tmpfs")) {
                json_array_append_new(mounts,
                                      json_pack("{s:s, s:s}", "Type", "tmpfs", "Target", target));
                kt = xasprintf("%s tmpfs %s\n", strempty(*keytext), target);
        } else if (streq(type, "cache")) {
                char d[72];
                const char *name = id ? id : target;
                sha256_digest(name, strlen(name), d);
                _cleanup_free_ char *dir =
                    xasprintf("%s/build/mounts/%.32s", b->d->cfg->data_root, digest_hex(d));
                struct stat sb;
                if (stat(dir, &sb) < 0) {
                        int r = mkdir_p(dir, 0755);
                        if (r < 0)
                                return err_errno(err, r, "create the cache mount '%s'", dir);
                        if (chmod(dir, (mode_t)mode) < 0 || chown(dir, (uid_t)uid, (gid_t)gid) < 0)
                                return err_errno(err, -errno, "set up the cache mount '%s'", dir);
                }
                json_array_append_new(mounts, json_pack("{s:s, s:s, s:s}", "Type", "bind", "Source",
                                                        dir, "Target", target));
                kt = xasprintf("%s cache %s %s\n", strempty(*keytext), name, target);
        } else if (streq(type, "bind")) {
                if (from)
                        return err_set(err, -EINVAL,
                                       "RUN --mount=type=bind,from=%s: binds from another stage "
                                       "or image are not supported by berth's builder yet",
                                       from);
                /* resolved inside the context; its real path must stay there */
                int fd = openat_in_root(b->ctxfd, source ? source : ".", O_PATH);
                if (fd < 0)
                        return err_errno(err, fd, "RUN --mount: source %s in the build context",
                                         source ? source : ".");
                char link[64], real[4096];
                snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
                ssize_t n = readlink(link, real, sizeof(real) - 1);
                close(fd);
                if (n < 0)
                        return err_errno(err, -errno, "RUN --mount: resolve %s", link);
                real[n] = '\0';
                size_t cl = strlen(b->ctx);
                if (strncmp(real, b->ctx, cl) != 0 || (real[cl] && real[cl] != '/'))
                        return err_set(err, -EINVAL,
                                       "RUN --mount: source %s is outside the build context",
                                       source);
                char digest[72];
                int r = build_source_digest(b->ctxfd, source ? source : ".", false, digest, err);
                if (r < 0)
                        return r;
                json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind",
                                                        "Source", real, "Target", target,
                                                        "ReadOnly", ro_given ? ro : true));
                kt = xasprintf("%s bind %s %s %s\n", strempty(*keytext), digest, target,
                               ro ? "ro" : "rw");
        } else
                return err_set(err, -EINVAL, "RUN --mount: unknown type %s", type);
        free(*keytext);
        *keytext = kt;
        return 0;
}

int step_run(struct build *b, struct stage_state *st, const struct build_instr *in,
             struct berth_err *err)
{
        struct run_job j = {.b = b};
        _cleanup_free_ char *keytext = NULL; /* what the mounts add to the key */
        json_t *hc =
            json_is_object(b->o->hostconfig) ? json_deep_copy(b->o->hostconfig) : json_object();
        j.hostconfig = hc;
        json_object_set_new(hc, "LogConfig", json_pack("{s:s, s:{}}", "Type", "none", "Config"));
        int r = 0;
        for (size_t i = 0; r >= 0 && i < in->n_flags; i++) {
                const struct build_flag *fl = &in->flags[i];
                if (streq(fl->name, "network")) {
                        if (!streq(fl->value, "none") && !streq(fl->value, "host") &&
                            !streq(fl->value, "default"))
                                r = err_set(err, -EINVAL,
                                            "RUN --network=%s: not one of none, host, default",
                                            fl->value);
                        else if (!streq(fl->value, "default"))
                                json_object_set_new(hc, "NetworkMode", json_string(fl->value));
                } else if (streq(fl->name, "mount")) {
                        r = run_mount(b, hc, fl->value, &keytext, err);
                } else
                        r = err_set(err, -EINVAL, "RUN --%s is not supported by berth's builder",
                                    fl->name);
        }
        if (r < 0) {
                json_decref(hc);
                return r;
        }
        if (in->form == BUILD_FORM_EXEC) {
                j.cmd = json_array();
                for (char **a = in->args; a && *a; a++)
                        json_array_append_new(j.cmd, json_string(*a));
        } else {
                j.cmd = stage_shell(st);
                _cleanup_free_ char *t = run_text(in);
                json_array_append_new(j.cmd, json_string(t));
        }
        /* the cache text: the build args in scope before the command */
        _cleanup_strv_ char **args = build_args_run_env(b->args, false);
        json_t *cache_cmd = json_array();
        size_t n = strv_length(args);
        if (n) {
                char cnt[24];
                snprintf(cnt, sizeof(cnt), "|%zu", n);
                json_array_append_new(cache_cmd, json_string(cnt));
                for (char **a = args; *a; a++)
                        json_array_append_new(cache_cmd, json_string(*a));
        }
        json_array_extend(cache_cmd, j.cmd);
        r = step_commit(b, st, cache_cmd, keytext, make_run, &j, err);
        json_decref(j.cmd);
        json_decref(j.hostconfig);
        return r;
}

/* --- WORKDIR --------------------------------------------------------------------------- */

struct mkdir_job {
        const char *path;
        int64_t uid, gid;
        bool made;
        int fd; /* the directory, when the caller keeps it (-1: closed) */
        bool keep;
};

/* mkdir -p inside the root: existing components are followed (in the
 * root), missing ones made 0755 and given uid:gid. */
static int mkdir_in_root(int rootfd, struct mkdir_job *m, struct berth_err *err)
{
        int fd = openat_in_root(rootfd, m->path, O_PATH | O_DIRECTORY);
        if (fd >= 0) {
                if (m->keep)
                        m->fd = fd;
                else
                        close(fd);
                return 0;
        }
        if (fd != -ENOENT)
                return err_errno(err, fd, "open '%s' in the image", m->path);
        _cleanup_strv_ char **parts = strv_split(m->path, "/");
        _cleanup_close_ int cur = openat_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
        if (cur < 0)
                return err_errno(err, cur, "open the image's root");
        _cleanup_free_ char *sofar = xstrdup("");
        for (char **p = parts; p && *p; p++) {
                char *next = xasprintf("%s/%s", sofar, *p);
                free(sofar);
                sofar = next;
                int nfd = openat_in_root(rootfd, sofar, O_PATH | O_DIRECTORY);
                if (nfd == -ENOENT) {
                        if (mkdirat(cur, *p, 0755) < 0 && errno != EEXIST)
                                return err_errno(err, -errno, "mkdir '%s' in the image", sofar);
                        if (fchownat(cur, *p, (uid_t)(m->uid < 0 ? 0 : m->uid),
                                     (gid_t)(m->gid < 0 ? 0 : m->gid), AT_SYMLINK_NOFOLLOW) < 0)
                                return err_errno(err, -errno, "chown '%s' in the image", sofar);
                        m->made = true;
                        nfd = openat_in_root(rootfd, sofar, O_PATH | O_DIRECTORY);
                }
                if (nfd < 0)
                        return err_errno(err, nfd, "open '%s' in the image", sofar);
                close(cur);
                cur = nfd;
        }
        if (m->keep)
                m->fd = TAKE_FD(cur);
        return 0;
}

static int do_mkdir(void *ud, int rootfd, struct berth_err *err)
{
        return mkdir_in_root(rootfd, ud, err);
}

static int make_workdir(struct build *b, struct stage_state *st, void *arg,
                        json_t *container_config, const char *created_by, char **ret_id,
                        struct berth_err *err)
{
        const char *dir = arg;
        _cleanup_free_ char *base = NULL, *cid = NULL;
        int r = base_image(b, st, &base, err);
        if (r < 0)
                return r;
        r = container_make(b, base, json_deep_copy(json_object_get(container_config, "Cmd")), NULL,
                           st, json_pack("{s:s}", "NetworkMode", "none"), &cid, err);
        if (r >= 0) {
                r = boutf(b, " ---> Running in %.12s\n", cid);
                struct mkdir_job m = {.path = dir, .uid = -1, .gid = -1, .fd = -1};
                if (r >= 0)
                        r = container_with_root(b->d->containers, cid, do_mkdir, &m, err);
                if (r >= 0)
                        r = commit_container(b, st, cid, container_config, created_by, m.made,
                                             ret_id, err);
                container_drop(b, cid);
                if (r >= 0)
                        r = boutf(b, "Removing intermediate container %.12s\n", cid);
        }
        base_image_done(b, st, base);
        return r;
}

int step_workdir(struct build *b, struct stage_state *st, const char *dir, struct berth_err *err)
{
        /* one element, "#(nop) WORKDIR /x", as Docker writes it for
         * WORKDIR, COPY and ADD (metadata steps have "#(nop) " apart) */
        _cleanup_free_ char *text = xasprintf("#(nop) WORKDIR %s", dir);
        json_t *c = stage_shell(st);
        json_array_append_new(c, json_string(text));
        return step_commit(b, st, c, NULL, make_workdir, (void *)dir, err);
}

/* --- COPY and ADD ---------------------------------------------------------------------- */

struct copy_src {
        int root;   /* O_PATH of the root it is in: the context, a heredoc's or
                     * a download's directory (-1: the job's srcroot) */
        char *path; /* relative to its root, symlinks resolved */
        char *name; /* the name it was given (a symlink's own name) */
        bool is_dir;
        bool archive; /* ADD: a local tar to extract */
};

struct copy_job {
        struct build *b;
        struct stage_state *st;
        bool add;
        char *dest; /* absolute, as given (a trailing "/" kept) */
        bool dest_dir;
        bool parents; /* --parents */
        struct copy_src *srcs;
        size_t n_srcs;
        const char *chown; /* --chown as given */
        int64_t uid, gid;  /* what it resolved to; -1: none */
        int mode;
        char **exclude;
        int srcroot; /* O_PATH: the context, a heredoc dir or another image's root */
        char *from_image;
        char *heredoc_dir;
        int fds[8]; /* the heredoc and download directories' (closed with the job) */
        size_t n_fds;
};

static void copy_job_done(struct copy_job *c)
{
        for (size_t i = 0; i < c->n_srcs; i++) {
                free(c->srcs[i].path);
                free(c->srcs[i].name);
        }
        free(c->srcs);
        free(c->dest);
        strv_free(c->exclude);
        free(c->from_image);
        free(c->heredoc_dir);
        for (size_t i = 0; i < c->n_fds; i++)
                safe_close(c->fds[i]);
}

/* A user or group name -> its id, from the image's /etc/passwd or
 * /etc/group. */
static int lookup_id(int rootfd, const char *file, const char *name, int64_t *ret_id,
                     int64_t *ret_gid)
{
        int fd = openat_in_root(rootfd, file, O_RDONLY);
        if (fd < 0)
                return fd;
        FILE *f = fdopen(fd, "r");
        if (!f) {
                close(fd);
                return -errno;
        }
        char *line = NULL;
        size_t cap = 0;
        int r = -ENOENT;
        while (getline(&line, &cap, f) > 0) {
                char *save = NULL;
                char *n = strtok_r(line, ":", &save);
                strtok_r(NULL, ":", &save);
                char *id = strtok_r(NULL, ":", &save);
                char *gid = strtok_r(NULL, ":\n", &save);
                if (n && id && streq(n, name)) {
                        *ret_id = strtoll(id, NULL, 10);
                        if (ret_gid)
                                *ret_gid = gid ? strtoll(gid, NULL, 10) : *ret_id;
                        r = 0;
                        break;
                }
        }
        free(line);
        fclose(f);
        return r;
}

static bool all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

static int chown_resolve(int rootfd, const char *spec, int64_t *uid, int64_t *gid,
                         struct berth_err *err)
{
        _cleanup_free_ char *u = xstrdup(spec);
        char *g = strchr(u, ':');
        if (g)
                *g++ = '\0';
        int64_t pgid = -1;
        if (all_digits(u)) {
                *uid = strtoll(u, NULL, 10);
                pgid = *uid;
        } else if (lookup_id(rootfd, "/etc/passwd", u, uid, &pgid) < 0)
                return err_set(err, -EINVAL,
                               "unable to convert uid/gid chown string to host mapping: can't find "
                               "uid for user %s: no such user: %s",
                               u, u);
        if (!g || !*g)
                *gid = g ? pgid : (all_digits(u) ? *uid : pgid);
        else if (all_digits(g))
                *gid = strtoll(g, NULL, 10);
        else if (lookup_id(rootfd, "/etc/group", g, gid, NULL) < 0)
                return err_set(err, -EINVAL,
                               "unable to convert uid/gid chown string to host mapping: can't find "
                               "gid for group %s: no such group: %s",
                               g, g);
        return 0;
}

static bool is_archive(int rootfd, const char *path)
{
        int fd = openat_in_root(rootfd, path, O_RDONLY);
        if (fd < 0)
                return false;
        unsigned char h[512];
        ssize_t n = loop_read(fd, h, sizeof(h));
        close(fd);
        return n > 0 && build_archive_magic(h, (size_t)n);
}

struct pack_thread {
        int dirfd;
        const char *name, *top;
        const struct tar_copy_opts *o;
        int out;
        int r;
        struct berth_err err;
};

static void *pack_main(void *p)
{
        struct pack_thread *t = p;
        t->r = tar_pack_copy(t->dirfd, t->name, t->top, t->o, t->out, &t->err);
        t->out = safe_close(t->out);
        return NULL;
}

static char *path_dirname(const char *p)
{
        const char *s = strrchr(p, '/');
        if (!s || s == p)
                return xstrdup("/");
        return xstrndup(p, (size_t)(s - p));
}

static const char *path_basename(const char *p)
{
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}

/* One source into the destination, in the step container's root. */
static int copy_one(struct copy_job *c, int rootfd, const struct copy_src *s, struct berth_err *err)
{
        /* where it goes: a directory source's contents, an archive's
         * entries, or a file into the destination directory, or as the
         * destination itself */
        _cleanup_free_ char *dir = NULL;
        const char *top = "";
        if (c->parents && strchr(s->path, '/')) {
                /* --parents: the source's directories come along */
                _cleanup_free_ char *sd = path_dirname(s->path);
                dir = xasprintf("%s/%s", c->dest, sd);
                if (!s->is_dir)
                        top = path_basename(s->path);
        } else if (s->is_dir || s->archive || c->dest_dir)
                dir = xstrdup(c->dest);
        else {
                dir = path_dirname(c->dest);
                top = path_basename(c->dest);
        }
        if (!s->is_dir && !s->archive && c->dest_dir && !*top)
                top = path_basename(s->name ? s->name : s->path);
        struct mkdir_job m = {.path = dir, .uid = c->uid, .gid = c->gid, .fd = -1, .keep = true};
        int r = mkdir_in_root(rootfd, &m, err);
        if (r < 0)
                return r;
        _cleanup_close_ int dfd = m.fd;
        _cleanup_free_ char *dest = xasprintf("/proc/self/fd/%d", dfd);

        /* the source's directory, resolved inside its root */
        _cleanup_free_ char *sdir = NULL;
        const char *sname = s->path;
        if (streq(s->path, "."))
                sdir = xstrdup("/");
        else {
                _cleanup_free_ char *abs = xasprintf("/%s", s->path);
                sdir = path_dirname(abs);
                sname = path_basename(s->path);
        }
        _cleanup_close_ int sfd =
            openat_in_root(s->root >= 0 ? s->root : c->srcroot, sdir, O_PATH | O_DIRECTORY);
        if (sfd < 0)
                return err_errno(err, sfd, "open '%s'", sdir);

        if (s->archive) {
                _cleanup_close_ int afd = openat(sfd, sname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (afd < 0)
                        return err_errno(err, -errno, "open '%s'", s->path);
                r = layer_unpack(afd, dest, BERTH_LAYER_WH_DELETE, LAYER_UNPACK_COPY, NULL, err);
                if (r < 0)
                        err_prefix(err, "ADD %s", s->path);
                return r;
        }
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return err_errno(err, -errno, "pipe");
        struct tar_copy_opts o = {.uid = c->uid < 0 ? 0 : c->uid,
                                  .gid = c->gid < 0 ? 0 : c->gid,
                                  .mode = c->mode,
                                  .exclude = (const char *const *)c->exclude};
        if (c->from_image && c->uid < 0) /* --from keeps the owners */
                o.uid = o.gid = -1;
        struct pack_thread t = {.dirfd = sfd,
                                .name = streq(s->path, ".") ? "" : sname,
                                .top = top,
                                .o = &o,
                                .out = p[1]};
        pthread_t th;
        if (pthread_create(&th, NULL, pack_main, &t) != 0) {
                close(p[0]);
                close(p[1]);
                return err_set(err, -EAGAIN, "cannot start a thread");
        }
        r = layer_unpack(p[0], dest, BERTH_LAYER_WH_DELETE, LAYER_UNPACK_COPY, NULL, err);
        close(p[0]);
        pthread_join(th, NULL);
        if (r >= 0 && t.r < 0) {
                *err = t.err;
                r = t.r;
        }
        return r;
}

static int do_copy(void *ud, int rootfd, struct berth_err *err)
{
        struct copy_job *c = ud;
        /* a destination that exists as a directory takes files by name */
        if (!c->dest_dir) {
                int fd = openat_in_root(rootfd, c->dest, O_PATH | O_DIRECTORY);
                if (fd >= 0) {
                        c->dest_dir = true;
                        close(fd);
                }
        }
        if (c->chown) { /* names are looked up in the image's /etc/passwd and /etc/group */
                int r = chown_resolve(rootfd, c->chown, &c->uid, &c->gid, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->n_srcs; i++) {
                int r = copy_one(c, rootfd, &c->srcs[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

struct from_job {
        struct copy_job *c;
        const char *cid;
};

static int do_copy_from(void *ud, int rootfd, struct berth_err *err)
{
        struct from_job *f = ud;
        f->c->srcroot = rootfd;
        return container_with_root(f->c->b->d->containers, f->cid, do_copy, f->c, err);
}

static int make_copy(struct build *b, struct stage_state *st, void *arg, json_t *container_config,
                     const char *created_by, char **ret_id, struct berth_err *err)
{
        struct copy_job *c = arg;
        _cleanup_free_ char *base = NULL, *cid = NULL, *fcid = NULL;
        int r = base_image(b, st, &base, err);
        if (r < 0)
                return r;
        r = container_make(b, base, json_deep_copy(json_object_get(container_config, "Cmd")), NULL,
                           st, json_pack("{s:s}", "NetworkMode", "none"), &cid, err);
        if (r >= 0 && c->from_image)
                r = container_make(b, c->from_image, json_pack("[s]", "true"), NULL, st,
                                   json_pack("{s:s}", "NetworkMode", "none"), &fcid, err);
        if (r >= 0) {
                if (fcid) {
                        struct from_job fj = {.c = c, .cid = cid};
                        r = container_with_root(b->d->containers, fcid, do_copy_from, &fj, err);
                } else
                        r = container_with_root(b->d->containers, cid, do_copy, c, err);
        }
        if (r >= 0)
                r = commit_container(b, st, cid, container_config, created_by, true, ret_id, err);
        if (fcid)
                container_drop(b, fcid);
        if (cid)
                container_drop(b, cid);
        base_image_done(b, st, base);
        return r;
}

static int download_progress(void *ud, json_t *msg)
{
        return bout(ud, msg);
}

/* A source cleaned as Go's path.Clean, relative to its root; NULL when it
 * climbs out ("../x"; "/../x" is the root's "x", as in Docker). */
static char *clean_source(const char *src)
{
        char *c = path_clean(src);
        if (c[0] == '/') {
                char *rel = xstrdup(c[1] ? c + 1 : ".");
                free(c);
                return rel;
        }
        if (streq(c, "..") || startswith(c, "../")) {
                free(c);
                return NULL;
        }
        return c;
}

static int heredoc_source(struct copy_job *c, const struct build_heredoc *h, struct berth_err *err)
{
        struct build *b = c->b;
        if (!c->heredoc_dir) {
                c->heredoc_dir = xasprintf("%s/heredoc-%u", b->scratch, b->nfiles++);
                if (mkdir(c->heredoc_dir, 0755) < 0)
                        return err_errno(err, -errno, "create '%s'", c->heredoc_dir);
        }
        _cleanup_free_ char *p = xasprintf("%s/%s", c->heredoc_dir, h->name);
        if (strchr(h->name, '/') || write_file_atomic(p, h->body, strlen(h->body), 0644) < 0)
                return err_set(err, -EINVAL, "heredoc %s cannot be written as a file", h->name);
        return 0;
}

int step_copy(struct build *b, struct stage_state *st, const struct build_instr *in, bool add,
              struct berth_err *err)
{
        const char *kw = add ? "ADD" : "COPY";
        struct copy_job c = {
            .b = b, .st = st, .add = add, .uid = -1, .gid = -1, .mode = -1, .srcroot = b->ctxfd};
        _cleanup_close_ int hfd = -1;
        int r = 0;
        size_t n = strv_length(in->args);
        if (n < 2)
                return err_set(err, -EINVAL,
                               "%s requires at least two arguments, but only %zu provided", kw, n);
        const struct build_flag *fl;
        const char *from = (fl = build_instr_flag(in, "from")) ? fl->value : NULL;
        const char *chown = (fl = build_instr_flag(in, "chown")) ? fl->value : NULL;
        const char *chmod = (fl = build_instr_flag(in, "chmod")) ? fl->value : NULL;
        c.parents = (fl = build_instr_flag(in, "parents")) && streq(fl->value, "true");
        for (size_t i = 0; i < in->n_flags; i++)
                if (streq(in->flags[i].name, "exclude"))
                        c.exclude = strv_push(c.exclude, xstrdup(in->flags[i].value));
                else if (streq(in->flags[i].name, "checksum") ||
                         streq(in->flags[i].name, "keep-git-dir") ||
                         streq(in->flags[i].name, "unpack")) {
                        copy_job_done(&c);
                        return err_set(err, -EINVAL, "%s --%s is not supported by berth's builder",
                                       kw, in->flags[i].name);
                }
        if (chmod) {
                char *end;
                long m = strtol(chmod, &end, 8);
                if (!*chmod || *end || m < 0 || m > 07777) {
                        copy_job_done(&c);
                        return err_set(err, -EINVAL,
                                       "invalid chmod parameter: %s (octal modes only)", chmod);
                }
                c.mode = (int)m;
        }

        /* the destination, under WORKDIR when relative */
        const char *d = in->args[n - 1];
        const char *wd = json_get_str(st->config, "WorkingDir", "");
        if (d[0] == '/')
                c.dest = xstrdup(d);
        else
                c.dest = xasprintf("%s/%s", *wd ? wd : "", d);
        c.dest_dir = endswith(d, "/") || endswith(d, "/.") || streq(d, ".");

        /* the sources' root */
        if (from) {
                int si = build_file_stage_index(b->f, from, st->index);
                if (si >= 0 && b->stage_ids[si])
                        c.from_image = xstrdup(b->stage_ids[si]);
                else {
                        r = image_resolve(b->d->images, from, &c.from_image, err);
                        if (r < 0) {
                                copy_job_done(&c);
                                return err_prefix(err, "%s --from=%s", kw, from);
                        }
                }
        }

        /* the sources, their digest */
        _cleanup_free_ char *digests = NULL;
        size_t dl = 0;
        FILE *df = open_memstream(&digests, &dl);
        const char *kind = NULL;
        char one[72] = "";
        for (size_t i = 0; r >= 0 && i + 1 < n; i++) {
                const char *src = in->args[i];
                int root = c.srcroot;
                if (add && (startswith(src, "http://") || startswith(src, "https://"))) {
                        /* ADD <url>: downloaded on every build, keyed on the
                         * content; the file is not unpacked */
                        if (c.n_fds == ELEMENTSOF(c.fds)) {
                                r = err_set(err, -EINVAL, "ADD: too many sources");
                                break;
                        }
                        _cleanup_free_ char *dir =
                            xasprintf("%s/download-%u", b->scratch, b->nfiles++);
                        _cleanup_free_ char *name = NULL, *file = NULL;
                        char dg[72];
                        if (mkdir(dir, 0700) < 0) {
                                r = err_errno(err, -errno, "create '%s'", dir);
                                break;
                        }
                        r = build_remote_download(b->d->registry, src, dir, download_progress, b,
                                                  &name, &file, dg, err);
                        if (r < 0)
                                break;
                        if (!name && (c.dest_dir || n > 2)) {
                                r = err_set(err, -EINVAL, "cannot determine a file name for ADD %s",
                                            src);
                                break;
                        }
                        int ufd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (ufd < 0) {
                                r = err_errno(err, -errno, "open '%s'", dir);
                                break;
                        }
                        c.fds[c.n_fds++] = ufd;
                        fprintf(df, "%s %s\n", src, dg);
                        snprintf(one, sizeof(one), "%s", dg);
                        kind = kind ? "multi" : "file";
                        c.srcs = xrealloc(c.srcs, (c.n_srcs + 1) * sizeof(*c.srcs));
                        c.srcs[c.n_srcs++] = (struct copy_src){.root = ufd,
                                                               .path = xstrdup(file),
                                                               .name = xstrdup(name ? name : file)};
                        continue;
                }
                const struct build_heredoc *h = NULL;
                if (startswith(src, "<<"))
                        for (size_t k = 0; k < in->n_heredocs; k++) {
                                const char *nm = src + 2 + (src[2] == '-');
                                nm += strspn(nm, "\"'");
                                if (strncmp(nm, in->heredocs[k].name,
                                            strlen(in->heredocs[k].name)) == 0)
                                        h = &in->heredocs[k];
                        }
                if (h) {
                        r = heredoc_source(&c, h, err);
                        if (r < 0)
                                break;
                        if (hfd < 0)
                                hfd = open(c.heredoc_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        root = hfd;
                }
                _cleanup_free_ char *clean = clean_source(h ? h->name : src);
                if (!clean) {
                        r = err_set(err, -EINVAL,
                                    "%s failed: forbidden path outside the build context: %s ()",
                                    kw, src);
                        break;
                }
                if (from) {
                        /* another image's files: resolved when its root is
                         * mounted; keyed on the image and path */
                        c.srcs = xrealloc(c.srcs, (c.n_srcs + 1) * sizeof(*c.srcs));
                        c.srcs[c.n_srcs++] = (struct copy_src){.root = -1, .path = TAKE_PTR(clean)};
                        fprintf(df, "%s:%s\n", c.from_image, c.srcs[c.n_srcs - 1].path);
                        continue;
                }
                _cleanup_strv_ char **paths = NULL;
                r = build_source_glob(root, clean, &paths, err);
                if (r < 0) {
                        err_prefix(err, "%s failed", kw);
                        break;
                }
                for (char **p = paths; r >= 0 && *p; p++) {
                        /* a symlink source is followed (inside the root),
                         * and copied under its own name */
                        _cleanup_free_ char *real = NULL;
                        r = build_source_resolve(root, *p, &real, err);
                        if (r < 0) {
                                err_prefix(err, "%s failed", kw);
                                break;
                        }
                        struct stat sb;
                        int fd = openat_in_root(root, real, O_PATH | O_NOFOLLOW);
                        if (fd < 0 || fstat(fd, &sb) < 0) {
                                r = err_errno(err, fd < 0 ? fd : -errno, "%s failed: stat %s", kw,
                                              *p);
                                safe_close(fd);
                                break;
                        }
                        close(fd);
                        r = build_source_digest(root, real, false, one, err);
                        if (r < 0)
                                break;
                        fprintf(df, "%s %s\n", *p, one);
                        bool dir = S_ISDIR(sb.st_mode);
                        kind = kind ? "multi" : dir ? "dir" : "file";
                        c.srcs = xrealloc(c.srcs, (c.n_srcs + 1) * sizeof(*c.srcs));
                        c.srcs[c.n_srcs++] = (struct copy_src){
                            .root = root == c.srcroot ? -1 : root,
                            .path = xstrdup(real),
                            .name = xstrdup(*p),
                            .is_dir = dir,
                            .archive = add && S_ISREG(sb.st_mode) && is_archive(root, real),
                        };
                }
        }
        fclose(df);
        if (r >= 0 && c.n_srcs > 1 && !c.dest_dir)
                r = err_set(err, -EINVAL,
                            "When using %s with more than one source file, the destination must "
                            "be a directory and end with a /",
                            kw);
        c.chown = chown;
        if (r < 0) {
                copy_job_done(&c);
                return r;
        }

        /* the cache text: COPY [--chown=u:g ]file:<hex> in <dest> */
        char digest[72];
        if (c.from_image || (kind && streq(kind, "multi")) || !kind)
                sha256_digest(digests, dl, digest);
        else
                snprintf(digest, sizeof(digest), "%s", one);
        _cleanup_free_ char *text =
            xasprintf("#(nop) %s %s%s%s%s:%s in %s ", kw, chown ? "--chown=" : "",
                      chown ? chown : "", chown ? " " : "",
                      c.from_image ? "multi"
                      : kind       ? kind
                                   : "multi",
                      digest_hex(digest), d);
        json_t *cc = stage_shell(st);
        json_array_append_new(cc, json_string(text));
        r = step_commit(b, st, cc, digest, make_copy, &c, err);
        copy_job_done(&c);
        return r;
}
