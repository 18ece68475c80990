/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-registry's side of the conversation with berthd (registry-proto.h):
 * progress and heartbeats out, and the image store's operations as calls
 * that berthd answers. One conversation per process. */
#include "registry-internal.h"
#include "registry-proto.h"

#include <fcntl.h>

static struct {
        int fd;
        char *tmp;
        pthread_mutex_t write_lock; /* whole lines, from any thread */
        pthread_mutex_t call_lock;  /* one call at a time: the answers come in order */
        struct jline_reader rd;
        int64_t last_sent;
} chan = {
    .fd = -1, .write_lock = PTHREAD_MUTEX_INITIALIZER, .call_lock = PTHREAD_MUTEX_INITIALIZER};

int remote_open(int fd, json_t **ret_request, struct berth_err *err)
{
        chan.fd = fd;
        chan.rd.fd = fd;
        int r = jline_read(&chan.rd, -1, ret_request, err);
        if (r < 0)
                return err_wrap(err, r, "read the request");
        const char *tmp = json_get_str(*ret_request, "tmp", NULL);
        chan.tmp = tmp ? xstrdup(tmp) : NULL;
        return 0;
}

int remote_send(json_t *m)
{
        pthread_mutex_lock(&chan.write_lock);
        int r = jline_write(chan.fd, m);
        __atomic_store_n(&chan.last_sent, monotonic_ns(), __ATOMIC_RELAXED);
        pthread_mutex_unlock(&chan.write_lock);
        return r;
}

int remote_progress(void *userdata, json_t *msg)
{
        (void)userdata;
        return remote_send(json_pack("{s:o}", "progress", msg));
}

void reg_heartbeat(void)
{
        if (chan.fd < 0) /* not in the helper (unit tests) */
                return;
        if (monotonic_ns() - __atomic_load_n(&chan.last_sent, __ATOMIC_RELAXED) >= 1000000000)
                (void)remote_send(json_pack("{s:b}", "alive", true));
}

/* A call (stolen): its "ok" value in *ret (may be NULL), or the store's error. */
static int call(json_t *req, json_t **ret, struct berth_err *err)
{
        json_t *reply = NULL;
        pthread_mutex_lock(&chan.call_lock);
        int r = remote_send(req);
        if (r < 0)
                err_errno(err, r, "image store: berthd went away");
        else
                r = jline_read(&chan.rd, -1, &reply, err);
        pthread_mutex_unlock(&chan.call_lock);
        if (r < 0)
                return r;
        json_t *e = json_object_get(reply, "error");
        if (e)
                r = registry_err_from_json(e, err);
        else if (ret)
                *ret = json_incref(json_object_get(reply, "ok"));
        json_decref(reply);
        return r;
}

int rstore_tmpfile(const char *prefix, char **ret_path, struct berth_err *err)
{
        if (!chan.tmp)
                return err_set(err, -EINVAL, "no temp directory for this operation");
        char *p = xasprintf("%s/%s-XXXXXX", chan.tmp, prefix);
        int fd = mkostemp(p, O_CLOEXEC);
        if (fd < 0) {
                int r = err_errno(err, -errno, "create a temp file in '%s'", chan.tmp);
                free(p);
                return r;
        }
        *ret_path = p;
        return fd;
}

int rstore_layers_present(char *const *diff_ids, bool *ret, struct berth_err *err)
{
        _cleanup_json_ json_t *have = NULL;
        int r = call(
            json_pack("{s:s, s:o}", "call", "layers_present", "diff_ids", jline_strv(diff_ids)),
            &have, err);
        for (size_t i = 0; r == 0 && diff_ids[i]; i++)
                ret[i] = json_is_true(json_array_get(have, i));
        return r;
}

bool rstore_has_image(const char *id)
{
        _cleanup_json_ json_t *v = NULL;
        return call(json_pack("{s:s, s:s}", "call", "has_image", "id", id), &v, NULL) == 0 &&
               json_is_true(v);
}

int rstore_txn_begin(struct berth_err *err)
{
        return call(json_pack("{s:s}", "call", "txn_begin"), NULL, err);
}

int rstore_txn_layer(const char *tar_path, const char *diff_id, struct berth_err *err)
{
        /* berthd takes only a name, in the directory it made */
        const char *name = tar_path ? strrchr(tar_path, '/') : NULL;
        return call(json_pack("{s:s, s:s?, s:s}", "call", "txn_layer", "tar",
                              name ? name + 1 : tar_path, "diff_id", diff_id),
                    NULL, err);
}

int rstore_txn_commit(const char *config, size_t config_len, const char *const *names,
                      char **ret_id, struct berth_err *err)
{
        _cleanup_free_ char *b64 = base64_encode(config, config_len);
        _cleanup_json_ json_t *id = NULL;
        int r = call(json_pack("{s:s, s:s, s:o}", "call", "txn_commit", "config", b64, "names",
                               jline_strv((char *const *)names)),
                     &id, err);
        if (r == 0 && ret_id)
                *ret_id = xstrdup(strempty(json_string_value(id)));
        return r;
}

void rstore_txn_abort(void)
{
        (void)call(json_pack("{s:s}", "call", "txn_abort"), NULL, NULL);
}

int rstore_push_source(const char *ref, char **ret_id, char **ret_config, size_t *ret_len,
                       char ***ret_diff_ids, char ***ret_tars, struct berth_err *err)
{
        _cleanup_json_ json_t *v = NULL;
        int r = call(json_pack("{s:s, s:s}", "call", "push_source", "ref", ref), &v, err);
        if (r < 0)
                return r;
        const char *b64 = json_get_str(v, "config", "");
        unsigned char *config = NULL;
        if (base64_decode(b64, strlen(b64), &config, ret_len) < 0)
                return err_set(err, -EPROTO, "image store: the image config is not base64");
        /* callers treat it as text, too */
        config = xrealloc(config, *ret_len + 1);
        config[*ret_len] = '\0';
        *ret_config = (char *)config;
        *ret_id = xstrdup(json_get_str(v, "id", ""));
        *ret_diff_ids = jline_strv_parse(json_object_get(v, "diff_ids"));
        *ret_tars = jline_strv_parse(json_object_get(v, "tars"));
        if (!*ret_diff_ids || !*ret_tars || strv_length(*ret_diff_ids) != strv_length(*ret_tars))
                return err_set(err, -EPROTO, "image store: a bad push source");
        return 0;
}

json_t *rstore_dist_get(const char *diff_id)
{
        _cleanup_json_ json_t *v = NULL;
        if (call(json_pack("{s:s, s:s}", "call", "dist_get", "diff_id", diff_id), &v, NULL) < 0)
                return NULL;
        return json_incref(json_object_get(v, "known"));
}

void rstore_dist_put(const char *diff_id, const char *domain, const char *repository,
                     const char *digest, int64_t size, const char *media_type)
{
        (void)call(json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "call", "dist_put", "diff_id",
                             diff_id, "domain", domain, "repository", repository, "digest", digest,
                             "size", (json_int_t)size, "media_type", media_type),
                   NULL, NULL);
}

int rstore_add_name(const char *id, const char *name, struct berth_err *err)
{
        return call(json_pack("{s:s, s:s, s:s}", "call", "add_name", "id", id, "name", name), NULL,
                    err);
}
