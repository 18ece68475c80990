/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BUILD_BUILD_H
#define BERTH_BUILD_BUILD_H

/* The builder: a Dockerfile and a context tar in, an image out, with the
 * classic builder's stream (builder-notes.md §1.4) and its images: one
 * image per step, each the child of the one before, so that history,
 * image ls -a, rmi pruning and the cache look as Docker users expect.
 *
 * How a step runs:
 *  - metadata steps (ENV, LABEL, CMD, ...) touch no storage: a new config
 *    and history entry on the same layers (image_add_child);
 *  - RUN creates a step container from the parent image, starts it with its
 *    output attached to the stream, waits, and commits its writable layer;
 *  - COPY, ADD and WORKDIR write into the root of a created (never started)
 *    container: sources packed by berth-tar, unpacked by the hardened
 *    unpacker under the destination resolved inside that root;
 *  - every step is first looked up in the cache (build-cache.h) by a key
 *    over the parent image, the step's config and cache text (Docker's
 *    ContainerConfig.Cmd) and the digest of its sources.
 *
 * The context is unpacked once into <data_root>/build/tmp/<random>/, which
 * goes when the build ends (and any left by a killed daemon when the next
 * one starts: build_sweep). */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "base/err.h"

struct berth_config;
struct image_store;
struct container_store;
struct build_cache;
struct registry_opts;

struct build_deps {
        struct berth_config *cfg;
        struct image_store *images;
        struct container_store *containers;
        struct build_cache *cache; /* may be NULL: no cache */
        const struct registry_opts *registry;
};

/* POST /build's query, decoded. */
struct build_opts {
        char **tags;            /* NULL-terminated, may be NULL: "name[:tag]" */
        const char *dockerfile; /* its path in the context; NULL: Dockerfile */
        json_t *buildargs;      /* {name: string | null}, may be NULL */
        json_t *labels;         /* {name: string}, may be NULL */
        char **cache_from;      /* image references, may be NULL */
        const char *target;     /* stage name, or NULL: the last one */
        const char *platform;   /* "os/arch[/variant]" or NULL */
        const char *remote;     /* remote=, or NULL: the context is the body */
        bool nocache, pull, rm, forcerm, quiet;
        bool want_aux;           /* API >= 1.30: {"aux":{"ID":...}} after each stage */
        json_t *hostconfig;      /* HostConfig fields for RUN containers (NetworkMode,
                                 * ExtraHosts, ShmSize, Memory, CpuShares ...) */
        json_t *registry_config; /* X-Registry-Config: {server: AuthConfig}, may be NULL */
};

/* A message of the stream (stolen). msg NULL asks whether the client is
 * still there. A negative return: the client went away; the build stops. */
typedef int (*build_out_fn)(void *userdata, json_t *msg);

/* Build. The context tar comes from context_fd (read to EOF). Errors before
 * the first message (bad tags, context, Dockerfile) are returned as they are
 * (-EINVAL for the client's mistakes: a 400); once the stream has begun, the
 * error is sent as Docker's {"errorDetail":{"code"?,"message"},"error"} and
 * 1 is returned (the reply is over). 0 and *ret_id on success. */
int build_run(const struct build_deps *d, const struct build_opts *o, int context_fd,
              build_out_fn out, void *userdata, char **ret_id, struct berth_err *err);

/* Remove what builds of a daemon that died left in <data_root>/build/tmp. */
void build_sweep(const char *data_root);

/* The label of step containers (their value: the kind of step), so that a
 * daemon that starts can end the steps of builds its predecessor died in:
 * build_reap() removes those still running or never started. A failed
 * RUN's container, which Docker keeps unless --force-rm, has exited and is
 * kept. */
#define BUILD_STEP_LABEL "berth.build.step"
void build_reap(struct container_store *containers);

#endif
