/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Columns as the docker CLI prints them (Go's tabwriter: cells padded to
 * the widest in their column plus three spaces, the last column not padded),
 * and the human forms of times and sizes it uses. */
#include "cli.h"

#include <stdarg.h>
#include <time.h>
#include <wchar.h>

struct cli_table {
        size_t n_cols;
        char ***rows; /* rows of n_cols cells */
        size_t n_rows;
};

struct cli_table *cli_table_new(size_t n_cols)
{
        struct cli_table *t = xzalloc(sizeof(*t));
        t->n_cols = n_cols;
        return t;
}

void cli_table_add(struct cli_table *t, ...)
{
        va_list ap;
        char **row = xzalloc(t->n_cols * sizeof(char *));
        va_start(ap, t);
        for (size_t i = 0; i < t->n_cols; i++) {
                const char *c = va_arg(ap, const char *);
                row[i] = xstrdup(c ? c : "");
        }
        va_end(ap);
        t->rows = xrealloc(t->rows, (t->n_rows + 1) * sizeof(*t->rows));
        t->rows[t->n_rows++] = row;
}

/* Display width: UTF-8 code points (container names and tags are ASCII in
 * practice; this keeps multi-byte labels from skewing the columns). */
static size_t width(const char *s)
{
        size_t w = 0;
        for (; *s; s++)
                if (((unsigned char)*s & 0xC0) != 0x80)
                        w++;
        return w;
}

void cli_table_print(struct cli_table *t, FILE *f)
{
        size_t *w = xzalloc(t->n_cols * sizeof(size_t));
        for (size_t r = 0; r < t->n_rows; r++)
                for (size_t c = 0; c < t->n_cols; c++)
                        if (width(t->rows[r][c]) > w[c])
                                w[c] = width(t->rows[r][c]);
        for (size_t r = 0; r < t->n_rows; r++) {
                for (size_t c = 0; c < t->n_cols; c++) {
                        const char *cell = t->rows[r][c];
                        if (c + 1 == t->n_cols) {
                                fputs(cell, f);
                                break;
                        }
                        fprintf(f, "%s%*s", cell, (int)(w[c] - width(cell) + 3), "");
                }
                fputc('\n', f);
        }
        free(w);
}

void cli_table_free(struct cli_table *t)
{
        if (!t)
                return;
        for (size_t r = 0; r < t->n_rows; r++) {
                for (size_t c = 0; c < t->n_cols; c++)
                        free(t->rows[r][c]);
                free(t->rows[r]);
        }
        free(t->rows);
        free(t);
}

void cli_human_duration(int64_t seconds, char *buf, size_t len)
{
        human_duration(seconds, buf, len);
}

void cli_time_ago(int64_t unix_seconds, char *buf, size_t len)
{
        char d[64];
        cli_human_duration((int64_t)time(NULL) - unix_seconds, d, sizeof(d));
        snprintf(buf, len, "%s ago", d);
}
