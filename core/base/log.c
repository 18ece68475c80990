/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"

#include <pthread.h>
#include <time.h>

static const char *log_program = "berth";
static int log_max = BERTH_LOG_INFO;

void log_setup(const char *program, int max_level)
{
        log_program = program;
        log_max = max_level;
}

int log_get_level(void)
{
        return log_max;
}

static const char *level_word(int level)
{
        switch (level) {
        case BERTH_LOG_ERR:
                return "error";
        case BERTH_LOG_WARNING:
                return "warning";
        case BERTH_LOG_NOTICE:
        case BERTH_LOG_INFO:
                return "info";
        default:
                return "debug";
        }
}

/* One line per message, in dockerd's logfmt shape so the same tools read
 * both: time="..." level=info msg="..." [driver=overlay2] */
void log_emitv(int level, const char *source, const char *fmt, va_list ap)
{
        char msg[2048], ts[64];
        struct timespec now;
        struct tm tm;

        if (level > log_max)
                return;
        vsnprintf(msg, sizeof(msg), fmt, ap);
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);

        /* Quote the message as logfmt does: escape '"' and '\'. */
        char q[4200];
        size_t j = 0;
        for (size_t i = 0; msg[i] && j < sizeof(q) - 3; i++) {
                if (msg[i] == '"' || msg[i] == '\\')
                        q[j++] = '\\';
                q[j++] = msg[i] == '\n' ? ' ' : msg[i];
        }
        q[j] = '\0';
        flockfile(stderr);
        fprintf(stderr, "time=\"%s.%06ldZ\" level=%s msg=\"%s\"", ts, now.tv_nsec / 1000,
                level_word(level), q);
        if (source)
                fprintf(stderr, " source=%s", source);
        fputc('\n', stderr);
        funlockfile(stderr);
        fflush(stderr);
        (void)log_program;
}

void log_emit(int level, const char *source, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_emitv(level, source, fmt, ap);
        va_end(ap);
}
