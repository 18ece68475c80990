/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IPAM of network records: subnets, the first free address, --ip and
 * --ip6, and that an address is free again once its endpoint is gone;
 * IPv4 and IPv6. */
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

/* A network with an IPv4 and, after it, an IPv6 config (EnableIPv6). */
static struct netrec *net6(const char *subnet6, const char *gateway6, const char *range6)
{
        struct netrec *n = net("10.9.0.0/24", "10.9.0.1");
        json_t *c = json_pack("{s:s, s:s}", "Subnet", subnet6, "Gateway", gateway6);
        if (range6)
                json_object_set_new(c, "IPRange", json_string(range6));
        json_array_append_new(json_object_get(json_object_get(n->j, "IPAM"), "Config"), c);
        json_object_set_new(n->j, "EnableIPv6", json_true());
        return n;
}

static void take6(struct netrec *n, const char *cid, const char *ip6)
{
        json_object_set_new(json_object_get(n->j, "Containers"), cid,
                            json_pack("{s:s, s:s}", "IPv4Address", "", "IPv6Address", ip6));
}

START_TEST(test_parse_cidr6)
{
        u128 a;
        int p;
        char t[INET6_ADDRSTRLEN];
        ck_assert_int_eq(nw_parse_cidr6("fd00:1:2:3:4::9/64", 1, 126, &a, &p), 0);
        nw_ip6_text(a, t);
        ck_assert_str_eq(t, "fd00:1:2:3::"); /* host bits dropped */
        ck_assert_int_eq(p, 64);
        ck_assert_int_eq(nw_parse_cidr6("fd00::/127", 1, 126, &a, &p), -EINVAL);
        ck_assert_int_eq(nw_parse_cidr6("fd00::", 1, 126, &a, &p), -EINVAL);
        ck_assert_int_eq(nw_parse_cidr6("10.0.0.0/8", 1, 126, &a, &p), -EINVAL);
        ck_assert_int_eq(nw_parse_ip6("fd00::ffff:1", &a), 0);
        ck_assert(a == (((u128)0xfd00u << 112) | 0xffff0001u));
}
END_TEST

/* The IPv4 and IPv6 configs are told apart by family, whatever their order. */
START_TEST(test_families)
{
        struct netrec *n = net6("fd00:9::/64", "fd00:9::1", NULL);
        ck_assert_str_eq(nw_subnet(n), "10.9.0.0/24");
        ck_assert_str_eq(nw_subnet6(n), "fd00:9::/64");
        ck_assert_str_eq(nw_gateway6(n), "fd00:9::1");
        json_array_remove(json_object_get(json_object_get(n->j, "IPAM"), "Config"), 0);
        ck_assert_ptr_null(nw_subnet(n));
        ck_assert_str_eq(nw_subnet6(n), "fd00:9::/64");
        json_object_set_new(n->j, "EnableIPv6", json_false());
        ck_assert_ptr_null(nw_subnet6(n)); /* only with EnableIPv6 */
        json_decref(n->j);
        free(n);
}
END_TEST

START_TEST(test_alloc6)
{
        struct netrec *n = net6("fd00:9::/64", "fd00:9::1", NULL);
        struct berth_err err = {0};
        char ip[INET6_ADDRSTRLEN];
        ck_assert_int_eq(nw_alloc6_locked(n, NULL, ip, &err), 0);
        ck_assert_str_eq(ip, "fd00:9::2"); /* ::1 is the gateway's */
        take6(n, "a", "fd00:9::2/64");
        take6(n, "b", "fd00:9::4/64");
        ck_assert_int_eq(nw_alloc6_locked(n, NULL, ip, &err), 0);
        ck_assert_str_eq(ip, "fd00:9::3");
        take6(n, "c", "fd00:9::3/64");
        ck_assert_int_eq(nw_alloc6_locked(n, NULL, ip, &err), 0);
        ck_assert_str_eq(ip, "fd00:9::5");
        json_object_del(json_object_get(n->j, "Containers"), "a");
        ck_assert_int_eq(nw_alloc6_locked(n, NULL, ip, &err), 0);
        ck_assert_str_eq(ip, "fd00:9::2"); /* released, free again */
        json_decref(n->j);
        free(n);
}
END_TEST

/* A /64 with many endpoints costs what the endpoints cost: the subnet's
 * 2^64 addresses are never walked (this would not end if they were), and
 * the last address of a small subnet is a host address (no broadcast). */
START_TEST(test_alloc6_large_and_full)
{
        struct netrec *n = net6("fd00:9::/64", "fd00:9::1", "fd00:9::ffff:ffff:ffff:fff0/124");
        struct berth_err err = {0};
        char ip[INET6_ADDRSTRLEN];
        for (int i = 0; i < 16; i++) {
                char c[8], v[64];
                snprintf(c, sizeof(c), "c%d", i);
                snprintf(v, sizeof(v), "fd00:9::ffff:ffff:ffff:fff%x/64", i);
                if (i != 15)
                        take6(n, c, v);
        }
        ck_assert_int_eq(nw_alloc6_locked(n, NULL, ip, &err), 0);
        ck_assert_str_eq(ip, "fd00:9::ffff:ffff:ffff:ffff");
        take6(n, "last", "fd00:9::ffff:ffff:ffff:ffff/64");
        ck_assert_int_eq(nw_alloc6_locked(n, NULL, ip, &err), -ENOSPC);
        /* a requested address needs only to be in the subnet, not the range */
        ck_assert_int_eq(nw_alloc6_locked(n, "fd00:9::abcd", ip, &err), 0);
        ck_assert_str_eq(ip, "fd00:9::abcd");
        json_decref(n->j);
        free(n);
}
END_TEST

START_TEST(test_requested6)
{
        struct netrec *n = net6("fd00:9::/64", "fd00:9::1", NULL);
        struct berth_err err = {0};
        char ip[INET6_ADDRSTRLEN];
        ck_assert_int_eq(nw_alloc6_locked(n, "fd00:9::10", ip, &err), 0);
        ck_assert_str_eq(ip, "fd00:9::10");
        take6(n, "a", "fd00:9::10/64");
        ck_assert_int_eq(nw_alloc6_locked(n, "fd00:9:0:0::10", ip, &err), -EEXIST);
        ck_assert_ptr_nonnull(strstr(err.msg, "Address already in use"));
        ck_assert_int_eq(nw_alloc6_locked(n, "fd00:9::1", ip, &err), -EEXIST); /* gateway */
        ck_assert_int_eq(nw_alloc6_locked(n, "fd00:8::10", ip, &err), -EINVAL);
        ck_assert_int_eq(nw_alloc6_locked(n, "fd00:9::", ip, &err), -EINVAL);
        ck_assert_int_eq(nw_alloc6_locked(n, "10.9.0.5", ip, &err), -EINVAL);
        /* no IPv6 on the network */
        json_object_set_new(n->j, "EnableIPv6", json_false());
        ck_assert_int_eq(nw_alloc6_locked(n, NULL, ip, &err), -EINVAL);
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
        tcase_add_test(tc, test_parse_cidr6);
        tcase_add_test(tc, test_families);
        tcase_add_test(tc, test_alloc6);
        tcase_add_test(tc, test_alloc6_large_and_full);
        tcase_add_test(tc, test_requested6);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
