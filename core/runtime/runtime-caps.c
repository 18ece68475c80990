/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The five capability sets. Names are resolved with libcap in the caller
 * (an unknown name fails `create`); the child only applies bit masks. */

#include <sys/capability.h>
#include <sys/prctl.h>

#include "runtime-internal.h"

static const char *set_names[RT_CAP_MAX] = {"bounding", "effective", "inheritable", "permitted",
                                            "ambient"};

int rt_cap_last(void)
{
        static int last = -1;
        if (last < 0) {
                _cleanup_free_ char *s = NULL;
                int64_t v;
                if (read_one_line("/proc/sys/kernel/cap_last_cap", &s) >= 0 &&
                    parse_int64(s, &v) >= 0)
                        last = (int)v;
                else
                        last = CAP_LAST_CAP;
        }
        return last;
}

int rt_cap_from_name(const char *name, int *ret)
{
        cap_value_t v;
        /* libcap wants lower case without the prefix or accepts "cap_x";
         * the spec uses "CAP_X". */
        char buf[64];
        size_t i;
        for (i = 0; name[i] && i < sizeof(buf) - 1; i++)
                buf[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
        buf[i] = '\0';
        if (!startswith(buf, "cap_") || cap_from_name(buf, &v) < 0)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

void runtime_caps_within_bounding(json_t *capabilities)
{
        for (int k = 0; k < RT_CAP_MAX; k++) {
                json_t *set = json_object_get(capabilities, set_names[k]);
                for (size_t i = 0; i < json_array_size(set);) {
                        int c;
                        if (rt_cap_from_name(json_string_value(json_array_get(set, i)), &c) == 0 &&
                            prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) == 0)
                                json_array_remove(set, i);
                        else
                                i++;
                }
        }
}

int rt_caps_parse(json_t *caps, uint64_t ret[RT_CAP_MAX], struct berth_err *err)
{
        if (!json_is_object(caps))
                return err_set(err, -EINVAL, "must be an object");
        for (int s = 0; s < RT_CAP_MAX; s++) {
                json_t *arr = json_object_get(caps, set_names[s]), *e;
                size_t i;
                ret[s] = 0;
                if (!arr)
                        continue;
                if (!json_is_array(arr))
                        return err_set(err, -EINVAL, "'%s' must be an array", set_names[s]);
                json_array_foreach (arr, i, e) {
                        const char *n = json_string_value(e);
                        int v;
                        if (!n || rt_cap_from_name(n, &v) < 0)
                                return err_set(err, -EINVAL, "%s: unknown capability '%s'",
                                               set_names[s], n ? n : "(not a string)");
                        /* A capability this kernel does not have cannot be
                         * granted; runc and crun skip it the same way. */
                        if (v > rt_cap_last() || v > 63)
                                continue;
                        ret[s] |= UINT64_C(1) << v;
                }
        }
        return 0;
}

int rt_caps_drop_bounding(uint64_t bounding, struct berth_err *err)
{
        int last = rt_cap_last();
        for (int c = 0; c <= last; c++) {
                if (bounding & (UINT64_C(1) << c))
                        continue;
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return err_errno(err, -errno, "drop capability %d from the bounding set",
                                         c);
        }
        return 0;
}

int rt_caps_apply(const uint64_t caps[RT_CAP_MAX], struct berth_err *err)
{
        cap_t c = cap_init();
        int last = rt_cap_last(), r = 0;
        if (!c)
                return err_errno(err, -ENOMEM, "cap_init");
        for (int v = 0; v <= last; v++) {
                cap_value_t cv = v;
                uint64_t bit = UINT64_C(1) << v;
                if (caps[RT_CAP_EFFECTIVE] & bit)
                        cap_set_flag(c, CAP_EFFECTIVE, 1, &cv, CAP_SET);
                if (caps[RT_CAP_PERMITTED] & bit)
                        cap_set_flag(c, CAP_PERMITTED, 1, &cv, CAP_SET);
                if (caps[RT_CAP_INHERITABLE] & bit)
                        cap_set_flag(c, CAP_INHERITABLE, 1, &cv, CAP_SET);
        }
        if (cap_set_proc(c) < 0)
                r = err_errno(err, -errno, "set capabilities");
        cap_free(c);
        if (r < 0)
                return r;
        /* The kernel raises an ambient capability only if it is permitted
         * and inheritable. One that is not is left out, as runc does (it
         * warns and goes on): `runc spec` itself writes ambient sets that
         * are not inheritable. */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return err_errno(err, -errno, "clear ambient capabilities");
        uint64_t raisable =
            caps[RT_CAP_AMBIENT] & caps[RT_CAP_PERMITTED] & caps[RT_CAP_INHERITABLE];
        for (int v = 0; v <= last; v++)
                if (raisable & (UINT64_C(1) << v))
                        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, v, 0, 0) < 0)
                                return err_errno(err, -errno,
                                                 "raise ambient capability %d (it must also be "
                                                 "permitted and inheritable)",
                                                 v);
        return 0;
}
