/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "err.h"

int err_setv(struct berth_err *err, int code, const char *fmt, va_list ap)
{
        if (!err)
                return code;
        err->code = code;
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        return code;
}

int err_set(struct berth_err *err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        err_setv(err, code, fmt, ap);
        va_end(ap);
        return code;
}

int err_errno(struct berth_err *err, int code, const char *fmt, ...)
{
        va_list ap;
        if (!err)
                return code;
        va_start(ap, fmt);
        err_setv(err, code, fmt, ap);
        va_end(ap);
        size_t l = strlen(err->msg);
        snprintf(err->msg + l, sizeof(err->msg) - l, ": %s", strerror(code < 0 ? -code : code));
        return code;
}

static int err_wrapv(struct berth_err *err, int code, const char *fmt, va_list ap)
{
        char prefix[BERTH_ERR_MSG_MAX];
        char old[BERTH_ERR_MSG_MAX];

        if (code >= 0)
                code = -EIO; /* a caller passing up success is a bug: keep it an error */
        if (!err)
                return code;
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        if (err->msg[0])
                snprintf(old, sizeof(old), "%s", err->msg);
        else
                snprintf(old, sizeof(old), "%s", strerror(-code));
        snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
        err->code = code;
        return code;
}

int err_wrap(struct berth_err *err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        code = err_wrapv(err, code, fmt, ap);
        va_end(ap);
        return code;
}

int err_prefix(struct berth_err *err, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int code = err_wrapv(err, err ? err->code : -EIO, fmt, ap);
        va_end(ap);
        return code;
}

void err_clear(struct berth_err *err)
{
        if (err) {
                err->code = 0;
                err->msg[0] = '\0';
        }
}

const char *err_msg(const struct berth_err *err)
{
        if (!err)
                return "unknown error";
        if (err->msg[0])
                return err->msg;
        return strerror(err->code < 0 ? -err->code : (err->code ? err->code : EIO));
}
