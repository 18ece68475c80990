/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A request as the API server reads it (api-server.c serve_one): the head
 * through the buffered reader (a buffer size from the first byte, so heads
 * straddle fills and overflow it), the request line and fields, the query,
 * the route (a zeroed engine: no authorization plugins), then the body by
 * its framing (Content-Length or chunks). The same head is also parsed as a
 * response, as the CLI's client reads one. */
#include "api/api-request.h"
#include "api/api.h"
#include "base/http.h"
#include "base/util.h"
#include "engine.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int memfd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const size_t caps[] = {16, 64, 256, 1024, 4096, 65536};
        static struct engine engine;
        if (size < 1)
                return 0;
        if (memfd < 0)
                memfd = memfd_create("fuzz-http", 0);
        size_t cap = caps[data[0] % ELEMENTSOF(caps)];
        data++, size--;
        if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size ||
            lseek(memfd, 0, SEEK_SET) < 0)
                abort();

        _cleanup_free_ char *buf = xmalloc(cap);
        struct http_reader rd = {.fd = memfd, .buf = buf, .cap = cap};
        _cleanup_free_ char *raw = NULL;
        ssize_t hl = http_read_head(&rd, &raw);
        if (hl <= 0)
                return 0;

        /* the client's side: the same bytes as a response head */
        _cleanup_free_ char *copy = xstrdup(raw);
        struct http_head resp;
        if (http_parse_response(copy, &resp) == 0) {
                struct http_body b;
                (void)http_body_init(&b, &resp, false);
                (void)http_header_has(&resp, "Connection", "close");
        }

        struct http_head head = {0};
        if (http_parse_request(raw, &head) < 0)
                return 0;
        struct api_request *req = api_request_new(&engine, -1, &head);
        req->method = head.method;
        char *q = strchr(head.target, '?');
        if (q)
                *q++ = '\0';
        req->url = head.target;
        api_request_set_query(req, q);
        (void)http_header_has(&head, "Connection", "close");
        (void)http_header_has(&head, "Expect", "100-continue");
        (void)api_header(req, "Content-Type");
        (void)api_query(req, "filters");
        (void)api_query_bool(req, "all", false);
        char **names = api_query_all(req, "names");
        strv_free(names);
        struct http_body body;
        int r = http_body_init(&body, &head, true);
        if (r == 0) {
                api_resolve(req);
                /* the router answers only the client's mistakes: a 5xx here
                 * is a reply that could not be made (not UTF-8...) */
                if (req->replied && req->reply.status >= 500)
                        abort();
        }
        if (r == 0) {
                char chunk[512];
                for (;;) {
                        ssize_t n = http_body_read(&rd, &body, chunk, sizeof(chunk));
                        if (n <= 0)
                                break;
                }
        }
        api_reply_clear(req);
        api_request_free(req);
        return 0;
}
