/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_COMPOSE_COMPOSE_H
#define BERTH_COMPOSE_COMPOSE_H

/* Compose projects: loading a compose.yaml (and its overrides, .env files,
 * includes and extends) into the normalized model that docker compose v2
 * prints with `config --format json`. Pure: no Engine API, no daemon; the
 * commands that act on a project live with the CLI (programs/berth/
 * compose-*.c) and read the model this folder produces.
 *
 *   compose-yaml.c       YAML text -> JSON tree, with file:line marks,
 *                        anchors, aliases, "<<" merge keys, !reset/!override;
 *                        the JSON tree back to YAML (config's output)
 *   compose-interp.c     ${VAR...} interpolation; .env / env_file syntax
 *   compose-load.c       options -> files -> one merged document: discovery,
 *                        project name, -f/COMPOSE_FILE/stdin, multi-file
 *                        merge, extends, include, profiles
 *   compose-schema.c     per-file validation: types by key path, errors with
 *                        file:line and "services.web.ports[1]"
 *   compose-normalize.c  the merged document -> the normalized model
 *
 * The model is the contract with the commands. It has compose v2's shape:
 *   {"name": P,
 *    "services": {S: {... long forms only: ports [{mode,target,published,
 *                 protocol,host_ip}], volumes [{type,source,target,...}],
 *                 depends_on {D: {condition,required,restart}}, networks
 *                 {N: null|{aliases,ipv4_address,...}}, environment {K: V},
 *                 command/entrypoint as lists, healthcheck durations as
 *                 Go duration strings, paths absolute ...}},
 *    "networks": {N: {"name": "P_N", ... | "external": true}},
 *    "volumes":  {V: {"name": "P_V", ...}},
 *    "secrets": {...}, "configs": {...}}
 * Only keys present in the files (or added by normalization) appear, as in
 * v2's output. */

#include "base/err.h"
#include "base/json.h"

#include <stdbool.h>
#include <stdio.h>

struct compose_options {
        char **files; /* -f, in order ("-": stdin); NULL: COMPOSE_FILE, else discovery */
        const char *project_name; /* -p */
        const char *project_dir;  /* --project-directory */
        char **env_files;         /* --env-file (replace the default .env) */
        char **profiles;          /* --profile */
        char **services;          /* services named on the command line: their profiles are
                                   * enabled, as compose does */
        bool no_interpolate;      /* config --no-interpolate */
        bool no_normalize;        /* config --no-normalize */
        bool no_path_resolution;  /* config --no-path-resolution */
        bool compatibility;       /* --compatibility: v1 names ("_") */
        char **environ;           /* the process environment; NULL: environ */
        const char *cwd;          /* NULL: the current directory */
        FILE *stdin_file;         /* "-f -" reads this; NULL: stdin */
};

struct compose_project {
        char *name;
        char *working_dir;   /* absolute project directory */
        char **config_files; /* absolute paths, NULL-terminated ("-" for stdin) */
        char **env_files;    /* the env files used (absolute), NULL-terminated; may be empty */
        json_t *environment; /* the project environment: OS env, then .env (object) */
        json_t *model;       /* the normalized model (above) */
        json_t *warnings;    /* array of strings, in order, for the CLI to print */
        json_t *disabled;    /* services disabled by profiles: {S: service} (down and orphans
                                * need them) */
        bool compatibility;
};

/* Load a project. On error *err names the file, line and key path where
 * there is one ("compose.yaml:12: services.web.ports[1]: invalid port ..."). */
int compose_load(const struct compose_options *o, struct compose_project **ret,
                 struct berth_err *err);
void compose_project_free(struct compose_project *p);

/* The project name rules: an explicit name must already be valid; a
 * directory basename is normalized (lowercase, [a-z0-9_-], leading '_'/'-'
 * trimmed). */
bool compose_name_valid(const char *name);
char *compose_name_normalize(const char *basename);

/* The model printed as `docker compose config` prints it (yaml, or json with
 * --format json): keys in compose v2's order. */
int compose_model_write(const json_t *model, bool json, FILE *f, struct berth_err *err);

/* A service's config hash as v2 computes it (sha256 hex of the service with
 * build, pull_policy, scale, deploy.replicas, depends_on and profiles cleared). */
int compose_service_hash(const json_t *service, char hex[65], struct berth_err *err);

/* The services in dependency order (dependencies first), restricted to
 * `only` and what they depend on (unless no_deps); an error names a cycle or
 * an unknown service. Returns a JSON array of service names. */
int compose_service_order(const json_t *model, char **only, bool no_deps, json_t **ret,
                          struct berth_err *err);

#endif
