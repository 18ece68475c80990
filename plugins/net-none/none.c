/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net-none: a network namespace with only the loopback interface, up. */
#include <berth/network.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int drv_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        (void)err;
        *ret_state = (void *)host;
        return 0;
}

/* A socket made while this thread is in the namespace acts on it after the
 * thread has gone back, so the ioctl needs no fork. */
static int lo_up(const char *path)
{
        int nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
                return -errno;
        int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0) {
                int r = -errno;
                close(nsfd);
                return r;
        }
        int r = 0, fd = -1;
        if (setns(nsfd, CLONE_NEWNET) < 0)
                r = -errno;
        else {
                fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        r = -errno;
                if (setns(self, CLONE_NEWNET) < 0)
                        abort(); /* never go on in a container's namespace */
        }
        close(self);
        close(nsfd);
        if (r < 0)
                return r;
        struct ifreq ifr = {0};
        strcpy(ifr.ifr_name, "lo");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
            (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0))
                r = -errno;
        close(fd);
        return r;
}

static int drv_join(void *state, const struct berth_endpoint *ep, uint64_t flags,
                    struct berth_err *err)
{
        const struct berth_host *host = state;
        BERTH_CHECK_FLAGS(flags, BERTH_NET_RESTORE);
        if ((flags & BERTH_NET_RESTORE) || !ep->netns_path)
                return 0;
        int r = lo_up(ep->netns_path);
        if (r < 0)
                return berth_host_err(host, err, r, "bring up lo in '%s': %s", ep->netns_path,
                                      strerror(-r));
        return 0;
}

static int drv_leave(void *state, const struct berth_endpoint *ep, uint64_t flags,
                     struct berth_err *err)
{
        (void)state, (void)ep, (void)err;
        BERTH_CHECK_FLAGS(flags, 0);
        return 0;
}

static const struct berth_network_ops drv_ops = {
    .size = sizeof(struct berth_network_ops),
    .join = drv_join,
    .leave = drv_leave,
};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_NETWORK, .name = "none", .version = "1.0.0",
                    .description = "a network namespace with only the loopback interface",
                    .features = BERTH_NET_F_NEEDS_NETNS, .init = drv_init, .ops = &drv_ops);
