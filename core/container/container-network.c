/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* docker network connect/disconnect on the container's side: the
 * container's record is locked, the network layer brings the endpoint up
 * or down on a copy of it, and the record takes the new NetworkSettings
 * and is saved here, by its only writer. */
#include "container-internal.h"

/* Find ref with the lock held, once no exit is being handled for it (its
 * NetworkSettings are final then). */
static int lock_settled(struct container_store *s, const char *ref, struct record **ret,
                        struct berth_err *err)
{
        int r = ct_lock_find(s, ref, ret, err);
        if (r < 0)
                return r;
        char id[65];
        memcpy(id, (*ret)->id, 65);
        while (*ret && (*ret)->exiting) {
                pthread_cond_wait(&s->changed, &s->lock);
                int code;
                *ret = ct_find_locked(s, id, &code);
        }
        if (!*ret) {
                pthread_mutex_unlock(&s->lock);
                return ct_not_found(err, ref, -ENOENT);
        }
        return 0;
}

int container_network_connect(struct container_store *s, const char *net, const char *ref,
                              json_t *endpoint_config, struct berth_err *err)
{
        struct record *rc;
        int r = lock_settled(s, ref, &rc, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *copy = json_deep_copy(rc->j);
        r = s->d.net->connect(s->d.net_ctx, net, rc->id, copy, ct_is_running(rc->j),
                              endpoint_config, err);
        if (r == 0) {
                json_object_set(rc->j, "NetworkSettings", json_object_get(copy, "NetworkSettings"));
                r = ct_record_save(s, rc, err);
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

int container_network_disconnect(struct container_store *s, const char *net, const char *ref,
                                 struct berth_err *err)
{
        struct record *rc;
        int r = lock_settled(s, ref, &rc, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *copy = json_deep_copy(rc->j);
        r = s->d.net->disconnect(s->d.net_ctx, net, rc->id, copy, err);
        if (r == 0) {
                json_object_set(rc->j, "NetworkSettings", json_object_get(copy, "NetworkSettings"));
                r = ct_record_save(s, rc, err);
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}
