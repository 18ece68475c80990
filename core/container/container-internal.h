/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_CONTAINER_CONTAINER_INTERNAL_H
#define BERTH_CONTAINER_CONTAINER_INTERNAL_H

/* Shared by container-store.c (records) and container-run.c (running). */

#include <pthread.h>
#include "container.h"
#include "engine.h"
#include "base/json.h"

struct record {
        char id[65];
        char *name; /* with the leading '/' */
        json_t *j;  /* the inspect-shaped record */
        /* run-time, not persisted */
        uint64_t exits; /* how many times it exited since berthd started */
        bool removed;
        bool starting;       /* a start is in progress */
        bool stop_requested; /* stop/kill by the user: no restart */
        int shim_wait_fd;    /* the monitor's "wait" connection */
        char *shim_socket;   /* set while running */
        int restart_count_run;
};

struct container_store {
        struct engine *engine;
        char *dir;     /* <data-root>/containers */
        char *run_dir; /* <exec-root>/containers */
        char *runtime_root;
        pthread_mutex_t lock;
        pthread_cond_t changed; /* broadcast on every state change */
        struct record **recs;
        size_t n;
        /* Exit codes of recently removed containers, for a wait with
         * condition=removed that wakes after the record is gone (--rm). */
        struct {
                char id[65];
                int64_t code;
        } tomb[32];
        unsigned tomb_next;
};

struct record *ct_record_free(struct record *r);
char *ct_record_path(struct container_store *s, const char *id);
int ct_record_save(struct container_store *s, struct record *r, struct berth_err *err);
struct record *ct_find_locked(struct container_store *s, const char *ref, int *ret_error);
int ct_not_found(struct berth_err *err, const char *ref, int code);
void ct_add_locked(struct container_store *s, struct record *r);
void ct_drop_locked(struct container_store *s, struct record *r);
bool ct_is_running(json_t *j);
int ct_remove_files(const char *dir);
int64_t ct_parse_time(const char *s);

/* container-run.c */
int ct_restore(struct container_store *s);
/* Kill a running container and wait until it has exited (rm -f). Called
 * without the lock. */
int ct_kill_and_wait(struct container_store *s, const char *id, struct berth_err *err);

#endif
