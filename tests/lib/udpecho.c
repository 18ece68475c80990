/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* udpecho PORT: answer every UDP datagram on PORT with "echo:" and its
 * bytes. Built static and put into the test image "web" (mkimage.sh), as
 * busybox has no UDP server for the published-port tests. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: udpecho PORT\n");
                return 2;
        }
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                perror("udpecho: bind");
                return 1;
        }
        for (;;) {
                char buf[1500] = "echo:";
                struct sockaddr_in from;
                socklen_t fl = sizeof(from);
                ssize_t n =
                    recvfrom(fd, buf + 5, sizeof(buf) - 5, 0, (struct sockaddr *)&from, &fl);
                if (n >= 0)
                        sendto(fd, buf, (size_t)n + 5, 0, (struct sockaddr *)&from, fl);
        }
}
