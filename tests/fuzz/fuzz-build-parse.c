/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A Dockerfile (build_parse, a pure function written to be fuzzed), then
 * what the builder does with a parsed file before running anything: the
 * stages a build needs, each instruction expanded in its scope (meta ARGs
 * for FROM, the stage's ARG and ENV after) and copied. */
#include "base/util.h"
#include "build/build-expand.h"
#include "build/build-parse.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct build_file *f = NULL;
        struct berth_err err = {0};
        if (build_parse(data, size, "Dockerfile", &f, &err) < 0)
                return 0;
        struct build_args *a = build_args_new();
        build_args_set(a, "HTTP_PROXY", "http://127.0.0.1:3128");
        build_args_set(a, "V", "1");
        for (size_t i = 0; i < f->n_meta_args; i++)
                (void)build_args_meta(a, &f->meta_args[i], f->escape, &err);
        if (f->n_stages) {
                bool *needed = xzalloc(f->n_stages * sizeof(*needed));
                size_t target;
                (void)build_stages_needed(f, NULL, build_lookup_meta, a, needed, &target, &err);
                free(needed);
        }
        for (size_t s = 0; s < f->n_stages; s++) {
                struct build_stage *st = &f->stages[s];
                struct build_instr *from = NULL;
                if (build_expand_instr(st->from, f->escape, build_lookup_meta, a, &from, &err) == 0)
                        build_instr_free(from);
                build_args_stage(a, NULL);
                for (size_t i = 0; i < st->n_instrs; i++) {
                        const struct build_instr *in = &st->instrs[i];
                        struct build_instr *x = NULL;
                        if (build_expand_instr(in, f->escape, build_lookup_stage, a, &x, &err) < 0)
                                continue;
                        if (streq(x->keyword, "ARG"))
                                (void)build_args_declare(a, in, f->escape, &err);
                        else if (streq(x->keyword, "ENV"))
                                (void)build_args_env(a, in, f->escape, &err);
                        struct build_instr *d = build_instr_dup(x);
                        build_instr_free(d);
                        build_instr_free(x);
                }
                (void)build_file_stage_index(f, "0", s);
        }
        build_args_free(a);
        build_file_free(f);
        return 0;
}
