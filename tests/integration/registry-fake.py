#!/usr/bin/python3
# registry-fake.py MODE PORT [UPSTREAM_PORT] [MARKER] - misbehaving registries
# for the fault tests, on 127.0.0.1 only:
#   proxy-drop  forwards to the registry on UPSTREAM_PORT, but cuts every
#               layer blob off half-way the first time it is asked for whole
#               (the client must resume with Range); logs "GET path range"
#               lines to MARKER
#   proxy-hang  forwards, but sends half of any blob over 64 KiB and then
#               hangs, after creating the file MARKER (the test kills it)
#   silent      accepts connections and never answers
#   badtype     a registry whose manifests have an unknown media type
#   huge        a registry whose manifests are 64 MiB
import http.client
import http.server
import os
import socket
import sys
import threading
import time

mode, port = sys.argv[1], int(sys.argv[2])
upstream = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else 0
marker = sys.argv[4] if len(sys.argv) > 4 else None
cut = set()
lock = threading.Lock()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body, ctype="application/json", length=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def fake(self):
        if self.path == "/v2/":
            return self.reply(200, b"{}")
        if "/manifests/" in self.path:
            if mode == "badtype":
                b = b'{"schemaVersion":2,"mediaType":"application/vnd.example.unknown+json"}'
                return self.reply(200, b, "application/vnd.example.unknown+json")
            size = 64 << 20
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            try:
                chunk = b" " * 65536
                for _ in range(size // 65536):
                    self.wfile.write(chunk)
            except OSError:
                pass
            return
        return self.reply(404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}')

    def proxy(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        c = http.client.HTTPConnection("127.0.0.1", upstream, timeout=30)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        c.request(self.command, self.path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        blob = "/blobs/sha256:" in self.path and self.command == "GET" and r.status in (200, 206)
        rng = self.headers.get("Range") or "-"
        if mode == "proxy-drop" and marker and blob:
            with open(marker, "a") as f:
                f.write("GET %s %s\n" % (self.path, rng))
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        if blob and len(data) > 65536:
            if mode == "proxy-drop" and r.status == 200:
                with lock:
                    first = self.path not in cut
                    cut.add(self.path)
                if first:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
            if mode == "proxy-hang":
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                open(marker, "w").close()
                time.sleep(3600)
                return
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_one_request(self):
        if mode == "silent":
            time.sleep(3600)
            return
        return super().handle_one_request()

    def do_any(self):
        if mode.startswith("proxy"):
            return self.proxy()
        return self.fake()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_any


class S(http.server.ThreadingHTTPServer):
    daemon_threads = True


S(("127.0.0.1", port), H).serve_forever()
