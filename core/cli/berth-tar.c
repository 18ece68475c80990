/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-tar: run by berth cp, never by users.
 *
 *   berth-tar pack NAME TOP     a tar of NAME in the directory open as fd 3
 *                               ("" for fd 3 itself), its top entry called
 *                               TOP, to stdout
 *   berth-tar unpack DIR        the tar on stdin unpacked into DIR, refusing
 *                               entries that climb out of it or pass through
 *                               a symlink
 *
 * Errors go to stderr as one "berth: ..." line; the exit status is 0 or 1
 * (2 for a wrong invocation). */
#include "image-unpack.h"
#include "tar-tree.h"

#include <stdio.h>

int main(int argc, char **argv)
{
        struct berth_err err = {0};
        int r;
        if (argc == 4 && streq(argv[1], "pack"))
                r = archive_write_tree(3, argv[2], argv[3], STDOUT_FILENO, &err);
        else if (argc == 3 && streq(argv[1], "unpack"))
                r = layer_unpack(STDIN_FILENO, argv[2], BERTH_LAYER_WH_DELETE, LAYER_UNPACK_COPY,
                                 NULL, &err);
        else {
                fprintf(stderr, "usage: berth-tar pack NAME TOP | unpack DIR\n");
                return 2;
        }
        if (r < 0) {
                fprintf(stderr, "berth: %s\n", err_msg(&err));
                return 1;
        }
        return 0;
}
