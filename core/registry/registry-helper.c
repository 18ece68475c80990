/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthd's side of the registry client: registry_pull, registry_push,
 * registry_login and registry_fetch run berth-registry (the HTTP work,
 * libcurl and OpenSSL)
 * and do the image store's part here, where the store is owned: layers go
 * in through an image_txn as the helper reports them, so that a helper
 * that fails, hangs or is killed leaves nothing behind (registry-proto.h). */
#include "registry-proto.h"
#include "image/image-pull.h"
#include "base/json.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

extern char **environ;

/* How long the helper may be silent beyond the registry timeout: it says
 * it is alive every second while it works, so only a stuck one gets here. */
#define SILENCE_MARGIN_S 10

struct helper {
        struct image_store *s;
        const char *tmp; /* the operation's directory in the store's tmp/, or NULL */
        struct image_txn *txn;
        pid_t pid;
        int fd;
        struct jline_reader rd;
};

static int spawn(struct helper *h, const char *program, int data_fd, struct berth_err *err)
{
        int sp[2];
        /* above every fd the file actions write, so that none clobbers it */
        _cleanup_close_ int data = data_fd >= 0 ? fcntl(data_fd, F_DUPFD_CLOEXEC, 10) : -1;
        if (data_fd >= 0 && data < 0)
                return err_errno(err, -errno, "dup the file to fetch into");
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                return err_errno(err, -errno, "socketpair");
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        posix_spawn_file_actions_init(&fa);
        spawnattr_init_clean(&at, 0);
        /* stderr stays berthd's: what the helper cannot say on the socket
         * goes to the daemon's log */
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, sp[1], REGISTRY_HELPER_FD);
        if (data >= 0)
                posix_spawn_file_actions_adddup2(&fa, data, REGISTRY_HELPER_DATA_FD);
        else
                posix_spawn_file_actions_addopen(&fa, REGISTRY_HELPER_DATA_FD, "/dev/null",
                                                 O_RDONLY, 0);
        char *argv[] = {(char *)"berth-registry", NULL};
        int r = posix_spawn(&h->pid, program, &fa, &at, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        close(sp[1]);
        if (r != 0) {
                close(sp[0]);
                h->pid = -1;
                return err_errno(err, -r, "cannot start '%s'", program);
        }
        h->fd = sp[0];
        h->rd.fd = sp[0];
        return 0;
}

/* Reap the helper (killed first unless it ended on its own); the reason
 * when it ended without a result. */
static int reap(struct helper *h, bool kill_it, struct berth_err *err)
{
        if (h->pid <= 0)
                return 0;
        if (kill_it)
                kill(h->pid, SIGKILL);
        int st = 0;
        while (waitpid(h->pid, &st, 0) < 0 && errno == EINTR)
                ;
        h->pid = -1;
        if (WIFSIGNALED(st))
                return err_set(err, -EIO, "registry helper killed by signal %d", WTERMSIG(st));
        if (WEXITSTATUS(st) != 0)
                return err_set(err, -EIO, "registry helper exited with status %d", WEXITSTATUS(st));
        return err_set(err, -EIO, "registry helper exited without a result");
}

/* --- the image store's calls --------------------------------------------- */

/* A call the helper got wrong: the conversation ends there. */
static int bad_call(struct berth_err *err, const char *call, const char *what)
{
        return err_set(err, -EPROTO, "registry helper: call '%s': %s", call, what);
}

static const char *arg_str(json_t *m, const char *key)
{
        return json_string_value(json_object_get(m, key));
}

static char **arg_strv(json_t *m, const char *key)
{
        return jline_strv_parse(json_object_get(m, key));
}

static int call_layers_present(struct helper *h, json_t *m, json_t **ret, struct berth_err *err)
{
        _cleanup_strv_ char **ids = arg_strv(m, "diff_ids");
        if (!ids)
                return bad_call(err, "layers_present", "no diff_ids");
        json_t *have = json_array();
        char chain[72] = "";
        for (char **d = ids; *d; d++) {
                image_chain_id(chain[0] ? chain : NULL, *d, chain);
                json_array_append_new(have, json_boolean(image_store_has_chain(h->s, chain)));
        }
        *ret = have;
        return 0;
}

static int call_txn_layer(struct helper *h, json_t *m, json_t **ret, struct berth_err *err)
{
        const char *tar = arg_str(m, "tar"), *diff_id = arg_str(m, "diff_id");
        if (!h->txn || !diff_id)
                return bad_call(err, "txn_layer", "no transaction or no diff_id");
        /* only a file of the operation's own directory */
        if (tar && (!tar[0] || tar[0] == '.' || strchr(tar, '/')))
                return bad_call(err, "txn_layer", "the tar is not a file of its directory");
        _cleanup_free_ char *path = tar ? xasprintf("%s/%s", h->tmp, tar) : NULL;
        *ret = json_null();
        return image_txn_layer(h->txn, path, diff_id, err);
}

static int call_txn_commit(struct helper *h, json_t *m, json_t **ret, struct berth_err *err)
{
        const char *b64 = arg_str(m, "config");
        _cleanup_strv_ char **names = arg_strv(m, "names");
        _cleanup_free_ unsigned char *config = NULL;
        size_t len = 0;
        if (!h->txn || !b64 || !names || base64_decode(b64, strlen(b64), &config, &len) < 0)
                return bad_call(err, "txn_commit", "no transaction, config or names");
        _cleanup_free_ char *id = NULL;
        int r = image_txn_commit(h->txn, (const char *)config, len, (const char *const *)names, &id,
                                 err);
        if (r < 0)
                return r;
        h->txn = image_txn_free(h->txn);
        *ret = json_string(id);
        return 0;
}

static int call_push_source(struct helper *h, json_t *m, json_t **ret, struct berth_err *err)
{
        const char *ref = arg_str(m, "ref");
        if (!ref)
                return bad_call(err, "push_source", "no ref");
        _cleanup_free_ char *id = NULL, *config = NULL;
        _cleanup_strv_ char **ids = NULL, **tars = NULL;
        size_t len = 0;
        int r = image_push_source(h->s, ref, &id, &config, &len, &ids, &tars, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *b64 = base64_encode(config, len);
        *ret = json_pack("{s:s, s:s, s:o, s:o}", "id", id, "config", b64, "diff_ids",
                         jline_strv(ids), "tars", jline_strv(tars));
        return 0;
}

static int call_dist_put(struct helper *h, json_t *m, json_t **ret, struct berth_err *err)
{
        const char *diff_id = arg_str(m, "diff_id"), *domain = arg_str(m, "domain"),
                   *repo = arg_str(m, "repository"), *digest = arg_str(m, "digest"),
                   *media = arg_str(m, "media_type");
        if (!diff_id || !domain || !repo || !digest || !media)
                return bad_call(err, "dist_put", "missing fields");
        image_dist_put(h->s, diff_id, domain, repo, digest, json_get_int(m, "size", 0), media);
        *ret = json_null();
        return 0;
}

static int call_simple(struct helper *h, const char *call, json_t *m, json_t **ret,
                       struct berth_err *err)
{
        const char *a = arg_str(m, "id") ? arg_str(m, "id") : arg_str(m, "diff_id");
        if (streq(call, "txn_begin")) {
                if (h->txn)
                        return bad_call(err, call, "a transaction is open");
                *ret = json_null();
                return image_txn_begin(h->s, &h->txn);
        }
        if (streq(call, "txn_abort")) {
                h->txn = image_txn_free(h->txn);
                *ret = json_null();
                return 0;
        }
        if (!a)
                return bad_call(err, call, "no id");
        if (streq(call, "has_image"))
                *ret = json_boolean(image_has(h->s, a));
        else if (streq(call, "dist_get"))
                *ret = json_pack("{s:o*}", "known", image_dist_get(h->s, a));
        else if (streq(call, "add_name")) {
                const char *name = arg_str(m, "name");
                if (!name)
                        return bad_call(err, call, "no name");
                *ret = json_null();
                return image_add_name(h->s, a, name, err);
        } else
                return bad_call(err, call, "unknown call");
        return 0;
}

/* Answer one call: {"ok":...} or the store's {"error":...}; a malformed
 * call is an error of the conversation (returned, not answered). */
static int serve(struct helper *h, json_t *m, struct berth_err *err)
{
        const char *call = json_string_value(json_object_get(m, "call"));
        if (!h->s)
                return bad_call(err, strempty(call), "this operation has no image store");
        static const struct {
                const char *name;
                int (*fn)(struct helper *, json_t *, json_t **, struct berth_err *);
        } calls[] = {{"layers_present", call_layers_present},
                     {"txn_layer", call_txn_layer},
                     {"txn_commit", call_txn_commit},
                     {"push_source", call_push_source},
                     {"dist_put", call_dist_put}};
        json_t *value = NULL;
        struct berth_err e = {0};
        int r = 1;
        for (size_t i = 0; i < ELEMENTSOF(calls); i++)
                if (streq(call, calls[i].name))
                        r = calls[i].fn(h, m, &value, &e);
        if (r == 1)
                r = call_simple(h, call, m, &value, &e);
        if (r == -EPROTO) {
                json_decref(value);
                *err = e;
                return r;
        }
        json_t *reply = r < 0 ? json_pack("{s:o}", "error", registry_err_to_json(r, &e))
                              : json_pack("{s:o}", "ok", value ? value : json_null());
        if (r < 0)
                json_decref(value);
        r = jline_write(h->fd, reply);
        if (r < 0)
                return err_errno(err, r, "registry helper: write");
        return 0;
}

/* --- the conversation ------------------------------------------------------ */

static int converse(struct helper *h, json_t *request, int silence_ms, registry_progress_fn fn,
                    void *userdata, json_t **ret_done, struct berth_err *err)
{
        int r = jline_write(h->fd, json_incref(request));
        if (r < 0)
                return err_errno(err, r, "registry helper: send the request");
        for (;;) {
                _cleanup_json_ json_t *m = NULL;
                r = jline_read(&h->rd, silence_ms, &m, err);
                if (r == -EPIPE) /* it ended without a result: why */
                        return reap(h, false, err);
                if (r == -ETIMEDOUT)
                        return err_set(err, r, "registry helper sent nothing for %d s, killed",
                                       silence_ms / 1000);
                if (r < 0)
                        return err_wrap(err, r, "registry helper");
                json_t *v;
                if ((v = json_object_get(m, "progress"))) {
                        if (!json_is_object(v))
                                return err_set(err, -EPROTO, "registry helper: bad progress");
                        if (fn && fn(userdata, json_incref(v)) < 0)
                                return err_set(err, -ECANCELED, "the client went away");
                } else if (json_object_get(m, "call")) {
                        r = serve(h, m, err);
                        if (r < 0)
                                return r;
                } else if ((v = json_object_get(m, "done"))) {
                        if (ret_done)
                                *ret_done = json_incref(v);
                        return 0;
                } else if ((v = json_object_get(m, "error")))
                        return registry_err_from_json(v, err);
                else if (!json_object_get(m, "alive"))
                        return err_set(err, -EPROTO, "registry helper: unknown message");
        }
}

int registry_helper_run(const char *program, struct image_store *s, json_t *request, long timeout_s,
                        registry_progress_fn fn, void *userdata, json_t **ret_done,
                        struct berth_err *err)
{
        return registry_helper_run_fd(program, s, request, timeout_s, -1, fn, userdata, ret_done,
                                      err);
}

int registry_helper_run_fd(const char *program, struct image_store *s, json_t *request,
                           long timeout_s, int data_fd, registry_progress_fn fn, void *userdata,
                           json_t **ret_done, struct berth_err *err)
{
        struct helper h = {.s = s, .pid = -1, .fd = -1};
        _cleanup_free_ char *tmp = NULL;
        int r = 0;
        if (s) {
                r = image_store_tmp_dir(s, "registry", &tmp, err);
                if (r < 0)
                        return r;
                json_object_set_new(request, "tmp", json_string(tmp));
                h.tmp = tmp;
        }
        int silence_ms = (int)((timeout_s > 0 ? timeout_s : 30) + SILENCE_MARGIN_S) * 1000;
        h.rd.fd = -1;
        r = spawn(&h, program, data_fd, err);
        if (r == 0)
                r = converse(&h, request, silence_ms, fn, userdata, ret_done, err);
        if (h.pid > 0) {
                /* after its result the helper only exits (its end of the
                 * socket closes); otherwise, or if it does not, it is
                 * killed: the wait never outlasts a SIGKILL */
                struct berth_err ignored = {0};
                _cleanup_json_ json_t *extra = NULL;
                bool ended = r == 0 && jline_read(&h.rd, silence_ms, &extra, &ignored) == -EPIPE;
                reap(&h, !ended, &ignored);
        }
        /* what the helper added and did not commit goes, with its files */
        image_txn_free(h.txn);
        if (tmp)
                image_store_tmp_dir_remove(tmp);
        jline_reader_done(&h.rd);
        safe_close(h.fd);
        return r;
}

/* --- the public entry points (registry.h) ------------------------------- */

static int run(struct image_store *s, const struct registry_opts *o, json_t *request,
               const struct registry_auth *auth, int data_fd, registry_progress_fn fn,
               void *userdata, json_t **ret_done, struct berth_err *err)
{
        _cleanup_free_ char *program = find_libexec_program("berth-registry");
        if (!program)
                return err_set(err, -ENOENT, "berth-registry was not found next to berthd or in %s",
                               BERTH_LIBEXECDIR "/berth");
        static const struct registry_auth none = {0};
        json_object_set_new(request, "opts", registry_opts_to_json(o));
        json_object_set_new(request, "auth", registry_auth_to_json(auth ? auth : &none));
        return registry_helper_run_fd(program, s, request, o->timeout_s, data_fd, fn, userdata,
                                      ret_done, err);
}

int registry_pull(struct image_store *s, const struct registry_opts *o, const char *ref,
                  bool all_tags, const char *platform, const struct registry_auth *auth,
                  registry_progress_fn fn, void *userdata, char **ret_id, struct berth_err *err)
{
        _cleanup_json_ json_t *req = json_pack("{s:s, s:s, s:b, s:s?}", "op", "pull", "ref", ref,
                                               "all_tags", all_tags, "platform", platform);
        _cleanup_json_ json_t *done = NULL;
        int r = run(s, o, req, auth, -1, fn, userdata, &done, err);
        if (r == 0 && ret_id) {
                const char *id = json_get_str(done, "id", NULL);
                *ret_id = id ? xstrdup(id) : NULL;
        }
        return r;
}

int registry_push(struct image_store *s, const struct registry_opts *o, const char *ref,
                  const struct registry_auth *auth, registry_progress_fn fn, void *userdata,
                  struct berth_err *err)
{
        _cleanup_json_ json_t *req = json_pack("{s:s, s:s}", "op", "push", "ref", ref);
        return run(s, o, req, auth, -1, fn, userdata, NULL, err);
}

int registry_login(const struct registry_opts *o, const struct registry_auth *auth,
                   char **ret_token, struct berth_err *err)
{
        _cleanup_json_ json_t *req = json_pack("{s:s}", "op", "login");
        _cleanup_json_ json_t *done = NULL;
        int r = run(NULL, o, req, auth, -1, NULL, NULL, &done, err);
        if (r == 0 && ret_token) {
                const char *t = json_get_str(done, "token", NULL);
                *ret_token = isempty(t) ? NULL : xstrdup(t);
        }
        return r;
}

int registry_fetch(const struct registry_opts *o, const char *url, int fd, registry_progress_fn fn,
                   void *userdata, struct registry_fetch_result *ret, struct berth_err *err)
{
        if (fd < 0)
                return err_set(err, -EBADF, "GET %s: no file to write", url);
        _cleanup_json_ json_t *req = json_pack("{s:s, s:s}", "op", "fetch", "url", url);
        _cleanup_json_ json_t *done = NULL;
        int r = run(NULL, o, req, NULL, fd, fn, userdata, &done, err);
        if (r < 0)
                return r;
        const char *ct = json_get_str(done, "content_type", NULL);
        const char *name = json_get_str(done, "filename", NULL);
        *ret = (struct registry_fetch_result){.status = (long)json_get_int(done, "status", 0),
                                              .size = json_get_int(done, "size", 0),
                                              .last_modified_ns =
                                                  json_get_int(done, "last_modified", 0),
                                              .content_type = ct ? xstrdup(ct) : NULL,
                                              .filename = name ? xstrdup(name) : NULL,
                                              .digest = xstrdup(json_get_str(done, "digest", ""))};
        return 0;
}
