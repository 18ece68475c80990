/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth import: a rootfs tarball to a one-layer image, with --change. */
#include "image-internal.h"
#include "base/json.h"
#include "tar/tar-helper.h"

#include <ctype.h>
#include <sys/utsname.h>

/* "CMD [\"a\",\"b\"]" (exec form) or "CMD a b" (shell form). */
static json_t *cmd_value(const char *v, struct berth_err *err)
{
        if (v[0] == '[') {
                json_t *a = json_loads(v, 0, NULL);
                size_t i;
                json_t *x;
                bool ok = json_is_array(a);
                json_array_foreach (a, i, x)
                        ok = ok && json_is_string(x);
                if (ok)
                        return a;
                json_decref(a);
        }
        return json_pack("[s,s,s]", "/bin/sh", "-c", v);
}

int image_apply_change(json_t *cfg, const char *change, struct berth_err *err)
{
        size_t kl = strcspn(change, " \t=");
        _cleanup_free_ char *key = xstrndup(change, kl);
        const char *v = change + kl;
        while (*v == ' ' || *v == '\t')
                v++;
        for (char *k = key; *k; k++)
                *k = (char)toupper((unsigned char)*k);
        if (!*v)
                return err_set(err, -EINVAL, "invalid change '%s': no value", change);
        if (streq(key, "CMD") || streq(key, "ENTRYPOINT")) {
                json_object_set_new(cfg, streq(key, "CMD") ? "Cmd" : "Entrypoint",
                                    cmd_value(v, err));
        } else if (streq(key, "ENV")) {
                json_t *env = json_object_get(cfg, "Env");
                if (!json_is_array(env)) {
                        env = json_array();
                        json_object_set_new(cfg, "Env", env);
                }
                /* "ENV A=b" or "ENV A b" */
                _cleanup_free_ char *kv = NULL;
                const char *eq = strchr(v, '='), *sp = strpbrk(v, " \t");
                if (eq && (!sp || eq < sp))
                        kv = xstrdup(v);
                else if (sp) {
                        const char *val = sp;
                        while (*val == ' ' || *val == '\t')
                                val++;
                        kv = xasprintf("%.*s=%s", (int)(sp - v), v, val);
                } else
                        return err_set(err, -EINVAL, "invalid change '%s': ENV needs NAME=VALUE",
                                       change);
                size_t nl = strcspn(kv, "=");
                size_t i;
                json_t *x;
                json_array_foreach (env, i, x) {
                        if (strncmp(json_string_value(x), kv, nl + 1) == 0) {
                                json_array_remove(env, i);
                                break;
                        }
                }
                json_array_append_new(env, json_string(kv));
        } else if (streq(key, "WORKDIR")) {
                json_object_set_new(cfg, "WorkingDir", json_string(v));
        } else if (streq(key, "USER")) {
                json_object_set_new(cfg, "User", json_string(v));
        } else if (streq(key, "STOPSIGNAL")) {
                json_object_set_new(cfg, "StopSignal", json_string(v));
        } else if (streq(key, "EXPOSE") || streq(key, "VOLUME")) {
                const char *field = streq(key, "EXPOSE") ? "ExposedPorts" : "Volumes";
                json_t *o = json_object_get(cfg, field);
                if (!json_is_object(o)) {
                        o = json_object();
                        json_object_set_new(cfg, field, o);
                }
                _cleanup_strv_ char **items = strv_split(v, " \t[],\"");
                for (char **it = items; *it; it++) {
                        _cleanup_free_ char *k = streq(field, "ExposedPorts") && !strchr(*it, '/')
                                                     ? xasprintf("%s/tcp", *it)
                                                     : xstrdup(*it);
                        json_object_set_new(o, k, json_object());
                }
        } else if (streq(key, "LABEL")) {
                json_t *o = json_object_get(cfg, "Labels");
                if (!json_is_object(o)) {
                        o = json_object();
                        json_object_set_new(cfg, "Labels", o);
                }
                const char *eq = strchr(v, '=');
                if (!eq)
                        return err_set(err, -EINVAL, "invalid change '%s': LABEL needs KEY=VALUE",
                                       change);
                _cleanup_free_ char *k = xstrndup(v, (size_t)(eq - v));
                const char *val = eq + 1;
                size_t vl = strlen(val);
                _cleanup_free_ char *uq = vl >= 2 && val[0] == '"' && val[vl - 1] == '"'
                                              ? xstrndup(val + 1, vl - 2)
                                              : xstrdup(val);
                json_object_set_new(o, k, json_string(uq));
        } else
                return err_set(
                    err, -EINVAL,
                    "invalid change '%s': %s is not one of CMD, ENTRYPOINT, ENV, EXPOSE, "
                    "LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR",
                    change, key);
        return 0;
}

int image_import(struct image_store *s, int tar_fd, const char *ref, const char *const *changes,
                 const char *message, char **ret_id, struct berth_err *err)
{
        _cleanup_free_ char *full = NULL, *bp = NULL, *now = NULL, *txt = NULL;
        int r;
        if (!isempty(ref)) {
                struct image_ref pr;
                r = image_ref_parse(ref, &pr, err);
                if (r < 0)
                        return r;
                if (pr.digest) {
                        image_ref_done(&pr);
                        return err_set(err, -EINVAL, "import: '%s' is a digest, not a tag", ref);
                }
                full = image_ref_full(&pr);
                image_ref_done(&pr);
        }
        json_t *ccfg = json_object();
        for (const char *const *c = changes; c && *c; c++) {
                r = image_apply_change(ccfg, *c, err);
                if (r < 0) {
                        json_decref(ccfg);
                        return r;
                }
        }

        /* decompress (if need be) into a temp file, hashing: that is the diff
         * ID; without the lock, as the tarball may come slowly from stdin */
        bool locked = false;
        _cleanup_free_ char *tmp = NULL;
        int out = store_tmpfile(s, "import", &tmp, err);
        char diff[72] = "";
        int64_t total = 0;
        if (out < 0) {
                r = out;
                goto out;
        }
        r = tar_decompress_run(tar_fd, out, "import: cannot read the tarball",
                               "import: corrupt or truncated tarball", "import: spool the tarball",
                               diff, &total, err);
        out = safe_close(out);
        if (r < 0)
                goto out;
        if (total == 0) {
                r = err_set(err, -EINVAL, "import: the tarball is empty");
                goto out;
        }

        struct layer *ly;
        bool created;
        pthread_mutex_lock(&s->lock);
        locked = true;
        bp = blob_path(s, diff);
        r = layer_add(s, access(bp, F_OK) == 0 ? bp : tmp, diff, NULL, &ly, &created, err);
        if (r < 0)
                goto out;
        struct utsname u;
        const char *arch = uname(&u) == 0 && streq(u.machine, "aarch64") ? "arm64" : "amd64";
        now = format_rfc3339_ns(now_ns());
        json_t *hist = json_pack("{s:s, s:s}", "created", now, "created_by", "");
        json_object_set_new(hist, "comment",
                            json_string(isempty(message) ? "Imported from -" : message));
        json_t *cfg = json_pack("{s:s, s:s, s:s, s:o, s:{s:s, s:[s]}, s:[o]}", "architecture", arch,
                                "os", "linux", "created", now, "config", ccfg, "rootfs", "type",
                                "layers", "diff_ids", diff, "history", hist);
        ccfg = NULL;
        if (!isempty(message))
                json_object_set_new(cfg, "comment", json_string(message));
        txt = json_dumps(cfg, JSON_COMPACT);
        json_decref(cfg);
        struct image *img;
        r = txt ? image_commit(s, txt, strlen(txt), NULL, &img, err)
                : err_set(err, -EINVAL, "cannot encode the image config");
        if (r < 0) {
                if (created && ly->refs == 0)
                        (void)layer_delete(s, ly, NULL);
                goto out;
        }
        if (full) {
                ref_set(s, full, img->id, NULL);
                r = refs_save(s, err);
        }
        if (r == 0 && ret_id)
                *ret_id = xstrdup(img->id);
out:
        safe_close(out);
        if (tmp)
                unlink(tmp);
        json_decref(ccfg);
        if (locked)
                pthread_mutex_unlock(&s->lock);
        return r;
}
