/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_CONTAINER_CONTAINER_INTERNAL_H
#define BERTH_CONTAINER_CONTAINER_INTERNAL_H

/* Shared by the files of container/: the record store (container-store.c)
 * below, the life cycle (create, start, stop, attach, exec, health) above,
 * the shim client beside it. */

#include <pthread.h>
#include <stdatomic.h>
#include "container.h"
#include "base/json.h"

struct record {
        char id[65];
        char *name; /* with the leading '/' */
        json_t *j;  /* the inspect-shaped record */
        /* run-time, not persisted */
        uint64_t exits; /* how many times it exited since berthd started */
        bool removed;
        bool starting;       /* a start is in progress */
        bool exiting;        /* the exit is being handled, unlocked */
        bool stop_requested; /* stop/kill by the user: no restart */
        int shim_wait_fd;    /* the monitor's "wait" connection */
        char *shim_socket;   /* set while running */
        int restart_count_run;
        struct record *name_next; /* the store's name index: the bucket's chain */
};

struct container_store {
        struct container_deps d;
        char *dir;     /* <data-root>/containers */
        char *run_dir; /* <exec-root>/containers */
        char *runtime_root;
        pthread_mutex_t lock;
        pthread_cond_t changed; /* broadcast on every state change */
        struct record **recs;   /* in creation order */
        size_t n;
        /* The indexes a lookup uses, so that finding one container does not
         * walk them all: the same records sorted by ID (a full ID or a
         * prefix is a binary search), and a hash of names (chained through
         * record.name_next; n_buckets a power of two, grown with n). */
        struct record **by_id;
        struct record **buckets;
        size_t n_buckets;
        /* Exit codes of recently removed containers, for a wait with
         * condition=removed that wakes after the record is gone (--rm). */
        struct {
                char id[65];
                int64_t code;
        } tomb[32];
        unsigned tomb_next;
        atomic_bool closing; /* container_store_shutdown() */
};

struct record *ct_record_free(struct record *r);
char *ct_record_path(struct container_store *s, const char *id);
int ct_record_save(struct container_store *s, struct record *r, struct berth_err *err);
struct record *ct_find_locked(struct container_store *s, const char *ref, int *ret_error);
int ct_not_found(struct berth_err *err, const char *ref, int code);
void ct_add_locked(struct container_store *s, struct record *r);
void ct_drop_locked(struct container_store *s, struct record *r);
/* With no container left, the heap their records, starts and exits used
 * goes back to the system. */
void ct_trim_if_empty(struct container_store *s);
/* Under the lock: r->name is about to change (unindex), or has changed
 * (index). */
void ct_name_unindex_locked(struct container_store *s, struct record *r);
void ct_name_index_locked(struct container_store *s, struct record *r);
bool ct_is_running(json_t *j);
int ct_remove_files(const char *dir);
int64_t ct_parse_time(const char *s);

/* Take the lock and find ref. Found: 0 and *ret, with the lock held. Not
 * found: -ENOENT (or -EINVAL for an ambiguous prefix), the lock released,
 * err filled. */
int ct_lock_find(struct container_store *s, const char *ref, struct record **ret,
                 struct berth_err *err);
/* Under the lock, copy ref's ID (ret_id may be NULL) and a deep copy of its
 * record (ret_rec may be NULL); -ENOENT/-EINVAL with err filled. */
int ct_get_copy(struct container_store *s, const char *ref, char ret_id[65], json_t **ret_rec,
                struct berth_err *err);

/* Whether berthd is shutting down. */
static inline bool ct_closing(struct container_store *s)
{
        return atomic_load(&s->closing);
}

/* container-network.c: legacy links. At create, HostConfig.Links as
 * Docker shows them, "/child:/parent/alias" (called without the lock);
 * at start, on the copy of the record that start() writes the files from,
 * the linked containers' names in ExtraHosts and their variables in
 * Config.Env (default bridge only). */
int ct_links_resolve(struct container_store *s, json_t *hc, const char *parent,
                     struct berth_err *err);
int ct_links_apply(struct container_store *s, json_t *rec, struct berth_err *err);

/* container-stop.c: kill a running container and wait until it has exited
 * (rm -f). Called without the lock. */
int ct_kill_and_wait(struct container_store *s, const char *id, struct berth_err *err);

/* container-attach.c: attaches that arrived before the start wait here
 * (docker run's order: create, attach, wait, start). The start connects
 * them to the new shim before it lets the process run, so no output is
 * lost. The list is guarded by the store's lock. */
struct pending_attach {
        char id[65];
        char *socket; /* set by start */
        bool connected;
        bool cancelled;
        struct pending_attach *next;
};
extern struct pending_attach *ct_pending;
/* Copy both ways between a client and the shim until either side ends (0),
 * or until the client sends the detach sequence keys (1; nkeys 0: none). */
int ct_splice_streams(int client, int shim, const unsigned char *keys, size_t nkeys);

/* container-exec.c: exec instances, guarded by the store's lock. */
struct exec_rec {
        char id[65];
        char cid[65];
        json_t *cfg; /* the create body */
        bool running, started, exited;
        int64_t exit_code;
        pid_t pid;
        int want_h, want_w; /* a resize that came before the process ran */
        struct exec_rec *next;
};
struct exec_rec *ct_exec_find_locked(const char *id);
void ct_exec_forget(const char *id);

/* container-health.c: called with the lock held, when a container starts
 * running. */
void ct_health_start_locked(struct container_store *s, struct record *r);

/* container-shim.c: the shim client. */
/* <exec-root>/containers/<id>: the bundle and the shim's socket. */
char *ct_state_dir(struct container_store *s, const char *id);
int ct_connect_unix(const char *path);
/* A line from fd (blocking, with a deadline in ms; -1: none): its length,
 * -ETIMEDOUT or -EPIPE. */
int ct_read_line(int fd, char *buf, size_t len, int timeout_ms);
/* Spawn berth-shim on the bundle sd; *ret_sync: the sync channel. */
int ct_spawn_shim(struct container_store *s, const char *id, const char *sd, int *ret_sync,
                  pid_t *ret_pid, struct berth_err *err);
/* Reap the shim once it has daemonised itself. */
void ct_reap_later(pid_t pid);
/* The shim's configuration (shim.json) for the record rec (a copy: it is
 * made without the lock). */
json_t *ct_shim_config(struct container_store *s, const char *id, json_t *rec, const char *sd,
                       const char *cdir);

#endif
