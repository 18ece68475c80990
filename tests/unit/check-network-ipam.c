/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IPAM of network records: subnets, the first free address, --ip, and that
 * an address is free again once its endpoint is gone. */
#include "check-main.h"
#include "network/network-internal.h"

static struct netrec *net(const char *subnet, const char *gateway)
{
        struct netrec *n = xzalloc(sizeof(*n));
        n->j = json_pack("{s:s, s:{s:[{s:s, s:s}]}, s:{}}", "Name", "t", "IPAM", "Config", "Subnet",
                         subnet, "Gateway", gateway, "Containers");
        return n;
}

static void take(struct netrec *n, const char *cid, const char *ip)
{
        json_object_set_new(json_object_get(n->j, "Containers"), cid,
                            json_pack("{s:s}", "IPv4Address", ip));
}

START_TEST(test_parse_cidr)
{
        uint32_t a;
        int p;
        ck_assert_int_eq(nw_parse_cidr("10.213.0.0/16", &a, &p), 0);
        ck_assert_uint_eq(a, 0x0ad50000u);
        ck_assert_int_eq(p, 16);
        ck_assert_int_eq(nw_parse_cidr("10.213.7.9/24", &a, &p), 0);
        ck_assert_uint_eq(a, 0x0ad50700u); /* host bits dropped */
        ck_assert_int_eq(nw_parse_cidr("10.213.0.0", &a, &p), -EINVAL);
        ck_assert_int_eq(nw_parse_cidr("10.213.0.0/31", &a, &p), -EINVAL);
        ck_assert_int_eq(nw_parse_cidr("10.213.0.0/x", &a, &p), -EINVAL);
        ck_assert_int_eq(nw_parse_cidr("fd00::/64", &a, &p), -EINVAL);
}
END_TEST

START_TEST(test_alloc)
{
        struct netrec *n = net("10.9.0.0/29", "10.9.0.1");
        struct berth_err err = {0};
        char ip[16];
        ck_assert_int_eq(nw_alloc_locked(n, NULL, ip, &err), 0);
        ck_assert_str_eq(ip, "10.9.0.2"); /* the gateway is skipped */
        take(n, "a", "10.9.0.2/29");
        ck_assert_int_eq(nw_alloc_locked(n, NULL, ip, &err), 0);
        ck_assert_str_eq(ip, "10.9.0.3");
        for (int i = 3; i <= 6; i++) {
                char c[8], v[32];
                snprintf(c, sizeof(c), "c%d", i);
                snprintf(v, sizeof(v), "10.9.0.%d/29", i);
                take(n, c, v);
        }
        /* .7 is the broadcast address: the subnet is full */
        ck_assert_int_eq(nw_alloc_locked(n, NULL, ip, &err), -ENOSPC);
        json_object_del(json_object_get(n->j, "Containers"), "c4");
        ck_assert_int_eq(nw_alloc_locked(n, NULL, ip, &err), 0);
        ck_assert_str_eq(ip, "10.9.0.4"); /* released, free again */
        json_decref(n->j);
        free(n);
}
END_TEST

/* Many endpoints, taken out of order: the first gap is found, whatever
 * order the records keep them in, skipping the gateway and the auxiliary
 * addresses. */
START_TEST(test_alloc_many)
{
        struct netrec *n = net("10.9.0.0/16", "10.9.0.1");
        struct berth_err err = {0};
        char ip[16];
        json_object_set_new(
            json_array_get(json_object_get(json_object_get(n->j, "IPAM"), "Config"), 0),
            "AuxiliaryAddresses", json_pack("{s:s}", "host", "10.9.11.186"));
        /* .0.2 up to .11.185 (3000 addresses), newest first, .5.100 left out */
        for (int i = 3001; i >= 2; i--) {
                char c[16], v[32];
                snprintf(c, sizeof(c), "c%d", i);
                snprintf(v, sizeof(v), "10.9.%d.%d/16", i / 256, i % 256);
                if (i != 5 * 256 + 100)
                        take(n, c, v);
        }
        ck_assert_int_eq(nw_alloc_locked(n, NULL, ip, &err), 0);
        ck_assert_str_eq(ip, "10.9.5.100");
        take(n, "hole", "10.9.5.100/16");
        ck_assert_int_eq(nw_alloc_locked(n, NULL, ip, &err), 0);
        ck_assert_str_eq(ip, "10.9.11.187"); /* .11.186 is auxiliary */
        json_decref(n->j);
        free(n);
}
END_TEST

START_TEST(test_requested)
{
        struct netrec *n = net("10.9.0.0/24", "10.9.0.254");
        struct berth_err err = {0};
        char ip[16];
        ck_assert_int_eq(nw_alloc_locked(n, NULL, ip, &err), 0);
        ck_assert_str_eq(ip, "10.9.0.1");
        ck_assert_int_eq(nw_alloc_locked(n, "10.9.0.77", ip, &err), 0);
        ck_assert_str_eq(ip, "10.9.0.77");
        take(n, "a", "10.9.0.77/24");
        ck_assert_int_eq(nw_alloc_locked(n, "10.9.0.77", ip, &err), -EEXIST);
        ck_assert_ptr_nonnull(strstr(err.msg, "Address already in use"));
        ck_assert_int_eq(nw_alloc_locked(n, "10.9.0.254", ip, &err), -EEXIST); /* gateway */
        ck_assert_int_eq(nw_alloc_locked(n, "10.9.1.5", ip, &err), -EINVAL);
        ck_assert_int_eq(nw_alloc_locked(n, "10.9.0.0", ip, &err), -EINVAL);
        ck_assert_int_eq(nw_alloc_locked(n, "10.9.0.255", ip, &err), -EINVAL);
        ck_assert_int_eq(nw_alloc_locked(n, "nonsense", ip, &err), -EINVAL);
        json_decref(n->j);
        free(n);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("network-ipam");
        TCase *tc = tcase_create("ipam");
        tcase_add_test(tc, test_parse_cidr);
        tcase_add_test(tc, test_alloc);
        tcase_add_test(tc, test_alloc_many);
        tcase_add_test(tc, test_requested);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
