/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Printing the daemon's JSON message streams (load, import, pull, push,
 * build): one JSON object per line, split anywhere across reads. */
#include "cli.h"

static void handle(struct cli_stream *s, json_t *m)
{
        const char *error = json_get_str(m, "error", NULL);
        json_t *detail = json_object_get(m, "errorDetail");
        if (error || detail) {
                const char *msg = json_get_str(detail, "message", error ? error : "unknown error");
                if (!s->error[0])
                        snprintf(s->error, sizeof(s->error), "%s", msg);
                return;
        }
        json_t *aux = json_object_get(m, "aux");
        if (aux && s->on_aux)
                s->on_aux(s->userdata, aux);
        const char *stream = json_get_str(m, "stream", NULL);
        if (stream && !s->quiet) {
                fputs(stream, stdout);
                fflush(stdout);
        }
        const char *status = json_get_str(m, "status", NULL);
        if (status && !s->quiet) {
                const char *id = json_get_str(m, "id", NULL);
                const char *progress = json_get_str(m, "progress", NULL);
                if (id)
                        printf("%s: %s%s%s\n", id, status, progress ? " " : "", strempty(progress));
                else
                        printf("%s\n", status);
                fflush(stdout);
        }
        if (status && s->on_status)
                s->on_status(s->userdata, status);
}

int cli_stream_data(void *ud, const char *data, size_t len)
{
        struct cli_stream *s = ud;
        if (s->len + len + 1 > s->cap) {
                s->cap = (s->len + len + 1) * 2;
                s->buf = xrealloc(s->buf, s->cap);
        }
        memcpy(s->buf + s->len, data, len);
        s->len += len;
        s->buf[s->len] = '\0';
        char *start = s->buf, *nl;
        while ((nl = memchr(start, '\n', (size_t)(s->buf + s->len - start)))) {
                *nl = '\0';
                json_error_t je;
                json_t *m = json_loads(start, JSON_DECODE_ANY, &je);
                if (m)
                        handle(s, m);
                json_decref(m);
                start = nl + 1;
        }
        s->len = (size_t)(s->buf + s->len - start);
        memmove(s->buf, start, s->len);
        return 0;
}

void cli_stream_done(struct cli_stream *s)
{
        free(s->buf);
        s->buf = NULL;
}
