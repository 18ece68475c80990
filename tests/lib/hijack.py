# A hijacked (upgraded) Engine API connection, as the docker clients make
# them, for the integration tests: the exact request, then raw bytes both
# ways. Checks print "ok - what" or "FAIL - what" (lib.sh counts them).
import json
import socket
import time


def hijack(sock_path, method, path, body=None):
    """Send the request with Connection: Upgrade; return (socket, status,
    bytes already read after the head)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    data = b"" if body is None else json.dumps(body).encode()
    head = (f"{method} {path} HTTP/1.1\r\nHost: api.moby.localhost\r\n"
            "User-Agent: Docker-Client/28.2.2 (linux)\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n")
    if body is not None:
        head += "Content-Type: application/json\r\n"
    head += f"Content-Length: {len(data)}\r\n\r\n"
    s.sendall(head.encode() + data)
    s.settimeout(10)
    buf = b""
    while b"\r\n\r\n" not in buf:
        c = s.recv(4096)
        if not c:
            break
        buf += c
    h, _, rest = buf.partition(b"\r\n\r\n")
    status = int(h.split(b" ", 2)[1]) if h.startswith(b"HTTP/") else 0
    return s, status, rest


def read_until_eof(s, rest=b"", timeout=10):
    """Everything up to the server's close; None if it did not close."""
    s.settimeout(timeout)
    data = rest
    try:
        while True:
            c = s.recv(65536)
            if not c:
                return data
            data += c
    except socket.timeout:
        return None


def read_for(s, rest=b"", seconds=0.5):
    """What arrives within `seconds` (the stream stays open)."""
    data = rest
    end = time.time() + seconds
    while True:
        left = end - time.time()
        if left <= 0:
            return data
        s.settimeout(left)
        try:
            c = s.recv(65536)
        except socket.timeout:
            return data
        if not c:
            return data
        data += c


def demux(data):
    """Split Docker's 8-byte framed stream: (stdout, stderr)."""
    out, err = b"", b""
    while len(data) >= 8:
        n = int.from_bytes(data[4:8], "big")
        if data[0] == 1:
            out += data[8:8 + n]
        elif data[0] == 2:
            err += data[8:8 + n]
        data = data[8 + n:]
    return out, err


FAILED = 0


def check(what, cond, detail=""):
    global FAILED
    if cond:
        print(f"ok - {what}")
    else:
        FAILED += 1
        print(f"FAIL - {what}: {detail}")
