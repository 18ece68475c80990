/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* docker exec: exec instances of a running container, started by its
 * shim with the container's own OCI process, the exec's command in it. */
#include "container-internal.h"
#include "container-spec.h"
#include "base/events.h"

#include <strings.h>
#include <sys/random.h>

/* --- exec ------------------------------------------------------------------------- */

static struct exec_rec *execs;

/* "exec_start: sh -c echo" as Docker names exec events (a static buffer:
 * called with the store's lock held) */
static const char *exec_action(const char *what, json_t *cmd)
{
        static char buf[512];
        size_t l = (size_t)snprintf(buf, sizeof(buf), "%s:", what);
        size_t i;
        json_t *v;
        json_array_foreach (cmd, i, v)
                if (l < sizeof(buf))
                        l += (size_t)snprintf(buf + l, sizeof(buf) - l, " %s",
                                              json_string_value(v) ?: "");
        return buf;
}
static int exec_resize_shim(const char *sock, const char *id, int h, int w, struct berth_err *err);

/* The exec's detach keys; the key is matched without regard to case, as
 * Go's JSON decoding does (docker-py sends "detachKeys"). */
static const char *exec_detach_keys(json_t *cfg)
{
        const char *k;
        json_t *v;
        json_object_foreach (cfg, k, v)
                if (strcasecmp(k, "DetachKeys") == 0 && json_is_string(v))
                        return json_string_value(v);
        return NULL;
}

struct exec_rec *ct_exec_find_locked(const char *id)
{
        for (struct exec_rec *e = execs; e; e = e->next)
                if (streq(e->id, id))
                        return e;
        return NULL;
}

int container_exec_create(struct container_store *s, const char *ref, json_t *body, char ret_id[65],
                          struct berth_err *err)
{
        json_t *cmd = json_object_get(body, "Cmd");
        if (!json_array_size(cmd))
                return err_set(err, -EINVAL, "No exec command specified");
        unsigned char keys[CONTAINER_DETACH_KEYS_MAX];
        size_t nkeys;
        int kr = container_detach_keys(exec_detach_keys(body), keys, &nkeys, err);
        if (kr < 0)
                return kr;
        struct record *r;
        int lr = ct_lock_find(s, ref, &r, err);
        if (lr < 0)
                return lr;
        json_t *st = json_object_get(r->j, "State");
        if (!json_get_bool(st, "Running", false)) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -EEXIST, "Container %s is not running", r->id);
        }
        if (json_get_bool(st, "Paused", false)) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -EEXIST,
                               "Container %s is paused, unpause the container before exec", r->id);
        }
        struct exec_rec *e = xzalloc(sizeof(*e));
        char tmp[65];
        for (;;) {
                unsigned char raw[32];
                if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
                        abort();
                for (int i = 0; i < 32; i++)
                        sprintf(tmp + 2 * i, "%02x", raw[i]);
                if (!ct_exec_find_locked(tmp))
                        break;
        }
        memcpy(e->id, tmp, 65);
        memcpy(e->cid, r->id, 65);
        e->cfg = json_deep_copy(body);
        e->next = execs;
        execs = e;
        /* the container's record lists its execs, as Docker's ExecIDs
         * (health probes are not listed) */
        json_t *ids = json_object_get(r->j, "ExecIDs");
        if (!json_is_array(ids)) {
                ids = json_array();
                json_object_set_new(r->j, "ExecIDs", ids);
        }
        if (!json_get_bool(body, "BerthHealthProbe", false)) {
                json_array_append_new(ids, json_string(tmp));
                events_container(r->j, exec_action("exec_create", cmd), NULL);
        }

        memcpy(ret_id, tmp, 65);
        pthread_mutex_unlock(&s->lock);
        return 0;
}

/* The OCI process of an exec: the container's own process (capabilities,
 * rlimits, no-new-privileges) with the exec's command, env, cwd and user. */
static int exec_process(struct container_store *s, struct exec_rec *e, json_t **ret,
                        struct berth_err *err)
{
        _cleanup_free_ char *sd = ct_state_dir(s, e->cid);
        _cleanup_free_ char *cp = xasprintf("%s/config.json", sd);
        _cleanup_json_ json_t *spec = NULL;
        int r = json_load_path(cp, &spec, err);
        if (r < 0)
                return r;
        json_t *proc = json_deep_copy(json_object_get(spec, "process"));
        json_object_set(proc, "args", json_object_get(e->cfg, "Cmd"));
        json_object_set_new(proc, "terminal", json_boolean(json_get_bool(e->cfg, "Tty", false)));
        json_t *cs = json_object_get(e->cfg, "ConsoleSize"); /* [h, w], API 1.42 */
        if (json_get_bool(e->cfg, "Tty", false) && json_array_size(cs) == 2 &&
            json_integer_value(json_array_get(cs, 0)) > 0)
                json_object_set_new(proc, "consoleSize",
                                    json_pack("{s:O, s:O}", "height", json_array_get(cs, 0),
                                              "width", json_array_get(cs, 1)));
        json_t *env = json_deep_copy(json_object_get(proc, "env"));
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(e->cfg, "Env"), i, v) {
                const char *kv = json_string_value(v);
                if (!kv)
                        continue;
                size_t kl = strcspn(kv, "=");
                size_t k;
                json_t *o;
                bool replaced = false;
                json_array_foreach (env, k, o)
                        if (strncmp(json_string_value(o), kv, kl) == 0 &&
                            json_string_value(o)[kl] == '=') {
                                json_array_set(env, k, v);
                                replaced = true;
                                break;
                        }
                if (!replaced)
                        json_array_append(env, v);
        }
        json_object_set_new(proc, "env", env);
        const char *wd = json_get_str(e->cfg, "WorkingDir", "");
        if (*wd)
                json_object_set_new(proc, "cwd", json_string(wd));
        const char *user = json_get_str(e->cfg, "User", "");
        if (*user) {
                json_t *u = NULL;
                r = container_resolve_user(json_get_str(json_object_get(spec, "root"), "path", "/"),
                                           user, NULL, &u, err);
                if (r < 0) {
                        json_decref(proc);
                        return r;
                }
                json_object_set_new(proc, "user", u);
        }
        *ret = proc;
        return 0;
}

static void exec_done(struct container_store *s, const char *id, const char *sd)
{
        _cleanup_free_ char *ep = xasprintf("%s/exec-%s.exit", sd, id);
        json_t *ex = NULL;
        struct berth_err err = {0};
        bool have = json_load_path(ep, &ex, &err) == 0;
        pthread_mutex_lock(&s->lock);
        struct exec_rec *e = ct_exec_find_locked(id);
        if (e && have) {
                e->exited = true;
                e->running = false;
                e->exit_code = json_get_int(ex, "ExitCode", 0);
        }
        pthread_mutex_unlock(&s->lock);
        json_decref(ex);
}

int container_exec_start(struct container_store *s, const char *id, bool detach, int client,
                         const char *extra, size_t extra_len, struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        struct exec_rec *e = ct_exec_find_locked(id);
        if (!e) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -ENOENT, "No such exec instance: %s", id);
        }
        if (e->started) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -EEXIST, "Error: Exec command %s is already running", id);
        }
        e->started = true;
        char cid[65];
        memcpy(cid, e->cid, 65);
        int code;
        struct record *r = ct_find_locked(s, cid, &code);
        _cleanup_free_ char *sock = r && r->shim_socket ? xstrdup(r->shim_socket) : NULL;
        pthread_mutex_unlock(&s->lock);
        if (!sock)
                return err_set(err, -EEXIST, "Container %s is not running", cid);

        _cleanup_json_ json_t *proc = NULL;
        int rr = exec_process(s, e, &proc, err);
        if (rr < 0)
                return rr;
        _cleanup_free_ char *sd = ct_state_dir(s, cid);
        _cleanup_free_ char *pp = xasprintf("%s/exec-%s.json", sd, id);
        rr = json_save_volatile(pp, proc, 0600, err);
        if (rr < 0)
                return rr;
        bool in = json_get_bool(e->cfg, "AttachStdin", false) && !detach;
        _cleanup_close_ int fd = ct_connect_unix(sock);
        if (fd < 0)
                return err_errno(err, fd, "connect to the shim of %s", cid);
        char req[128], line[BERTH_ERR_MSG_MAX];
        int l =
            snprintf(req, sizeof(req), "exec %s%s%s%s\n", id, in ? " stdin" : "",
                     detach ? " detach" : "", json_get_bool(e->cfg, "Tty", false) ? " tty" : "");
        if (loop_write(fd, req, (size_t)l) < 0 || ct_read_line(fd, line, sizeof(line), 30000) <= 0)
                return err_set(err, -EIO, "the shim of %s did not answer the exec", cid);
        if (!startswith(line, "ok ")) {
                const char *m = startswith(line, "error ");
                /* as Docker: an exec that could not start ends with 126 */
                pthread_mutex_lock(&s->lock);
                e->exited = true;
                e->exit_code = 126;
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -EIO, "%s", m ? m : line);
        }

        pthread_mutex_lock(&s->lock);
        e->pid = (pid_t)atoi(line + 3);
        e->running = true;
        if (!json_get_bool(e->cfg, "BerthHealthProbe", false) &&
            (r = ct_find_locked(s, cid, &code)))
                events_container(r->j, exec_action("exec_start", json_object_get(e->cfg, "Cmd")),
                                 NULL);
        int wh = e->want_h, ww = e->want_w;
        pthread_mutex_unlock(&s->lock);
        if (wh) /* the docker CLI resizes right after the upgrade */
                exec_resize_shim(sock, id, wh, ww, NULL);
        if (detach)
                return 0;
        if (extra_len && in)
                loop_write(fd, extra, extra_len);
        /* Docker's detach, on a terminal's input only: the stream ends, the
         * process runs on */
        unsigned char keys[CONTAINER_DETACH_KEYS_MAX];
        size_t nkeys = 0;
        if (in && json_get_bool(e->cfg, "Tty", false) &&
            container_detach_keys(exec_detach_keys(e->cfg), keys, &nkeys, NULL) < 0)
                nkeys = 0;
        ct_splice_streams(client, fd, keys, nkeys);
        /* The exit code is final before the client's connection closes. */
        exec_done(s, id, sd);
        return 0;
}

int container_exec_inspect(struct container_store *s, const char *id, json_t **ret,
                           struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        struct exec_rec *e = ct_exec_find_locked(id);
        if (!e) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -ENOENT, "No such exec instance: %s", id);
        }
        char cid[65];
        memcpy(cid, e->cid, 65);
        bool need_check = e->running && !e->exited;
        pthread_mutex_unlock(&s->lock);
        if (need_check) {
                /* a detached exec: its exit file says whether it ended */
                _cleanup_free_ char *sd = ct_state_dir(s, cid);
                exec_done(s, id, sd);
        }
        pthread_mutex_lock(&s->lock);
        json_t *cmd = json_object_get(e->cfg, "Cmd");
        json_t *args = json_array();
        for (size_t i = 1; i < json_array_size(cmd); i++)
                json_array_append(args, json_array_get(cmd, i));
        *ret = json_pack(
            "{s:s, s:b, s:O, s:{s:b, s:s, s:O, s:b, s:s}, s:b, s:b, s:b, s:b, s:s, s:s, s:i}", "ID",
            e->id, "Running", e->running && !e->exited, "ExitCode",
            e->exited ? json_integer(e->exit_code) : json_null(), "ProcessConfig", "tty",
            json_get_bool(e->cfg, "Tty", false), "entrypoint",
            json_string_value(json_array_get(cmd, 0)) ?: "", "arguments", args, "privileged",
            json_get_bool(e->cfg, "Privileged", false), "user", json_get_str(e->cfg, "User", ""),
            "OpenStdin", json_get_bool(e->cfg, "AttachStdin", false), "OpenStderr",
            json_get_bool(e->cfg, "AttachStderr", false), "OpenStdout",
            json_get_bool(e->cfg, "AttachStdout", false), "CanRemove", 0, "ContainerID", e->cid,
            "DetachKeys", strempty(exec_detach_keys(e->cfg)), "Pid", (int)e->pid);
        json_decref(args);
        pthread_mutex_unlock(&s->lock);
        return 0;
}

int container_exec_resize(struct container_store *s, const char *id, int h, int w,
                          struct berth_err *err)
{
        if (h <= 0 || w <= 0)
                return 0;
        pthread_mutex_lock(&s->lock);
        struct exec_rec *e = ct_exec_find_locked(id);
        if (!e) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -ENOENT, "No such exec instance: %s", id);
        }
        bool tty = json_get_bool(e->cfg, "Tty", false);
        bool live = tty && e->running && !e->exited;
        if (tty && !e->running) {
                e->want_h = h;
                e->want_w = w;
        }
        int code;
        struct record *r = ct_find_locked(s, e->cid, &code);
        _cleanup_free_ char *sock = live && r && r->shim_socket ? xstrdup(r->shim_socket) : NULL;
        pthread_mutex_unlock(&s->lock);
        if (!sock) /* no terminal (or no longer, or not yet): as Docker */
                return 0;
        return exec_resize_shim(sock, id, h, w, err);
}

static int exec_resize_shim(const char *sock, const char *id, int h, int w, struct berth_err *err)
{
        _cleanup_close_ int fd = ct_connect_unix(sock);
        if (fd < 0)
                return err_errno(err, fd, "connect to the shim");
        char req[160], ok[16];
        int l = snprintf(req, sizeof(req), "resize %d %d %s\n", h, w, id);
        if (loop_write(fd, req, (size_t)l) < 0 || ct_read_line(fd, ok, sizeof(ok), 5000) <= 0)
                return err_set(err, -EIO, "cannot resize the terminal of exec %s", id);
        return 0;
}

void ct_exec_forget(const char *id)
{
        for (struct exec_rec **pp = &execs; *pp; pp = &(*pp)->next)
                if (streq((*pp)->id, id)) {
                        struct exec_rec *e = *pp;
                        *pp = e->next;
                        json_decref(e->cfg);
                        free(e);
                        return;
                }
}
