#!/usr/bin/env python3
"""Engine API compatibility of berthd, row by row.

Drives every endpoint and notable parameter of the compatibility map
(/work/shared/docker-api.md, copied in spirit: sections 2-8 and Appendix A)
over the daemon's Unix socket and classifies each row:

  served      the status, the JSON shape and the fields clients read are
              as the map says Docker answers
  partial     the status is right, some keys, parameters or behaviours are
              missing (listed)
  not served  404/405/501 or another status than Docker's
  unknown     berth answers, but the map does not say what Docker answers;
              "works" records whether berth's own answer held together
  not checked the check could not run here (reason given)

The result is compared with compat/baseline.json: a row that is worse than
its baseline (served -> partial/not served, a partial's missing list grows,
an unknown row stops working, a row disappears) fails the test; rows that
got better are printed ("update the baseline"). With BERTH_COMPAT_UPDATE=1
the baseline is rewritten and the table in README.md (between the
compat-table markers) is regenerated.

Environment: SOCK (the daemon's socket), TMPDIR_TEST (scratch), REGISTRY
(host:port of a loopback registry, or empty), BB_TAR (the busybox image as
a docker-archive), TEST_NET_PREFIX (a /24 of the test's own),
BERTH_SOURCE_DIR. Standard library only.
"""
import base64
import http.client
import io
import json
import os
import re
import socket
import sys
import tarfile
import threading
import time
import urllib.parse

SOCK = os.environ["SOCK"]
SCRATCH = os.environ.get("TMPDIR_TEST", "/tmp")
REGISTRY = os.environ.get("REGISTRY", "")
BB_TAR = os.environ.get("BB_TAR", "")
NET_PREFIX = os.environ.get("TEST_NET_PREFIX", "10.127.0")
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("BERTH_SOURCE_DIR", os.path.normpath(os.path.join(HERE, "..", "..")))
BASELINE = os.path.join(HERE, "compat", "baseline.json")
README = os.path.join(SRC, "README.md")
UPDATE = os.environ.get("BERTH_COMPAT_UPDATE", "") not in ("", "0")
V = "/v1.41"
T0 = time.time()


# --------------------------------------------------------------------------
# transport


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path=SOCK, timeout=20):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Resp:
    def __init__(self, r, body, elapsed):
        self.status = r.status
        self.reason = r.reason
        self.headers = r.headers
        self.body = body
        self.elapsed = elapsed

    def header(self, name):
        return self.headers.get(name)

    def json(self):
        return json.loads(self.body.decode())

    def message(self):
        try:
            return self.json().get("message", "")
        except Exception:
            return self.body[:200].decode(errors="replace")


def url(path, query=None, prefix=True):
    p = (V if prefix else "") + path
    if query:
        p += "?" + urllib.parse.urlencode(query, doseq=True)
    return p


def call(method, path, query=None, body=None, headers=None, prefix=True, timeout=20,
         chunked=False):
    """One request on a fresh connection; the whole body read."""
    hdrs = {"Host": "docker"}
    data = None
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    elif isinstance(body, bytes):
        data = body
    hdrs.update(headers or {})
    c = UnixHTTPConnection(timeout=timeout)
    t = time.time()
    try:
        if chunked and data is not None:
            pieces = [data[i:i + 65536] for i in range(0, len(data), 65536)] or [b""]
            c.request(method, url(path, query, prefix), body=iter(pieces), headers=hdrs,
                      encode_chunked=True)
        else:
            c.request(method, url(path, query, prefix), body=data, headers=hdrs)
        r = c.getresponse()
        b = r.read()
        return Resp(r, b, time.time() - t)
    finally:
        c.close()


def stream_open(method, path, query=None, body=None, timeout=5):
    """Headers only: (connection, response, seconds until the headers)."""
    c = UnixHTTPConnection(timeout=timeout)
    hdrs = {"Host": "docker"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    t = time.time()
    c.request(method, url(path, query), body=data, headers=hdrs)
    r = c.getresponse()
    return c, r, time.time() - t


def read_some(r, until, limit=5.0):
    """Read a streamed body until until(bytes) is true, EOF or the limit."""
    buf = b""
    end = time.time() + limit
    while time.time() < end and not until(buf):
        try:
            piece = r.read1(65536)
        except (socket.timeout, TimeoutError):
            break
        if not piece:
            break
        buf += piece
    return buf


class Hijack:
    """An upgraded (attach / exec start) connection on a raw socket."""

    def __init__(self, path, query=None, body=None, upgrade=True, timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(SOCK)
        data = json.dumps(body).encode() if body is not None else b""
        req = "POST %s HTTP/1.1\r\nHost: docker\r\n" % url(path, query)
        if upgrade:
            req += "Connection: Upgrade\r\nUpgrade: tcp\r\n"
        if body is not None:
            req += "Content-Type: application/json\r\n"
        req += "Content-Length: %d\r\n\r\n" % len(data)
        self.s.sendall(req.encode() + data)
        buf = b""
        while b"\r\n\r\n" not in buf:
            piece = self.s.recv(65536)
            if not piece:
                break
            buf += piece
        head, _, self.rest = buf.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        parts = lines[0].split(" ", 2)
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        self.headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            self.headers[k.strip().lower()] = v.strip()

    def send(self, b):
        self.s.sendall(b)

    def half_close(self):
        self.s.shutdown(socket.SHUT_WR)

    def read_all(self, limit=10.0):
        """Until the server closes; (bytes, closed by the server)."""
        buf = self.rest
        self.rest = b""
        end = time.time() + limit
        while time.time() < end:
            self.s.settimeout(max(0.05, end - time.time()))
            try:
                piece = self.s.recv(65536)
            except (socket.timeout, TimeoutError):
                return buf, False
            if not piece:
                return buf, True
            buf += piece
        return buf, False

    def close(self):
        self.s.close()


def demux(data):
    """The 8-byte multiplexed frames, or None when data is not framed."""
    frames, i = [], 0
    while i < len(data):
        if len(data) - i < 8 or data[i] not in (0, 1, 2, 3) or data[i + 1:i + 4] != b"\0\0\0":
            return None
        n = int.from_bytes(data[i + 4:i + 8], "big")
        if i + 8 + n > len(data):
            return None
        frames.append((data[i], data[i + 8:i + 8 + n]))
        i += 8 + n
    return frames


def stream_of(frames, st):
    return b"".join(d for s, d in frames or [] if s == st)


def json_stream(body):
    """Concatenated / newline-separated JSON messages."""
    text = body.decode(errors="replace")
    dec = json.JSONDecoder()
    out, i = [], 0
    while i < len(text):
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            break
        obj, i = dec.raw_decode(text, i)
        out.append(obj)
    return out


def tar_bytes(files):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w") as t:
        for name, content in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(content)
            ti.mode = 0o644
            ti.mtime = 1704067200
            t.addfile(ti, io.BytesIO(content))
    return bio.getvalue()


def tar_names(data):
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            return [n.lstrip("./") for n in t.getnames()]
    except Exception:
        return None


def tar_member(data, name):
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t.getmembers():
            if m.name.lstrip("./") == name:
                f = t.extractfile(m)
                return f.read() if f else b""
    return None


# --------------------------------------------------------------------------
# shape checks

TYPES = {
    "s": (str,), "i": (int,), "b": (bool,), "n": (int, float),
    "l": (list, type(None)), "L": (list,), "d": (dict, type(None)), "D": (dict,),
    "*": (object,),
}


def lookup(obj, path):
    cur = obj
    for part in path.split("."):
        m = re.fullmatch(r"(.*?)\[(\d+)\]", part)
        key, idx = (m.group(1), int(m.group(2))) if m else (part, None)
        if key:
            if not isinstance(cur, dict) or key not in cur:
                return False, None
            cur = cur[key]
        if idx is not None:
            if not isinstance(cur, list) or len(cur) <= idx:
                return False, None
            cur = cur[idx]
    return True, cur


def missing_keys(obj, spec):
    """spec: "Path.To.Key:t" entries (t from TYPES, default *)."""
    out = []
    for item in spec.split():
        path, _, t = item.partition(":")
        found, v = lookup(obj, path)
        if not found:
            out.append(path)
        elif t and not isinstance(v, TYPES[t]) or (t in ("i", "n") and isinstance(v, bool)):
            out.append("%s (type)" % path)
    return out


# --------------------------------------------------------------------------
# rows

ROWS = []
RANK = {"not served": 0, "partial": 1, "served": 2}


def stable(text):
    text = re.sub(r"[0-9a-f]{12,64}", "<id>", text)
    if REGISTRY:
        text = text.replace(REGISTRY, "<registry>")
    text = text.replace(SCRATCH, "<tmp>")
    return text[:90]


class Row:
    def __init__(self, rid, area, endpoint, what, ref, acceptable=""):
        self.rid, self.area, self.endpoint, self.what, self.ref = rid, area, endpoint, what, ref
        self.acceptable = acceptable
        self.bad_status = None
        self.missing = []
        self.skip = None
        self.info = ""

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is not None:
            print("  %s: %s: %s" % (self.rid, et.__name__, ev), file=sys.stderr)
            what = "no answer (%s)" % et.__name__
            if self.bad_status is None and not self.missing and not isinstance(ev, (AssertionError,)):
                if isinstance(ev, (socket.timeout, TimeoutError, ConnectionError,
                                   http.client.HTTPException)):
                    self.bad_status = what
                else:
                    self.missing.append("error: %s" % et.__name__)
            elif isinstance(ev, AssertionError):
                pass
            else:
                self.missing.append("error: %s" % et.__name__)
        ROWS.append(self.result())
        return True

    def status(self, resp, *want):
        got = resp.status if not isinstance(resp, int) else resp
        if got in want:
            return True
        msg = ""
        if isinstance(resp, Resp):
            msg = resp.message()
        self.bad_status = stable(("%s %s" % (got, msg)).strip())
        raise AssertionError("status")

    def need(self, cond, name):
        if not cond:
            self.missing.append(name)
        return bool(cond)

    def keys(self, obj, spec, prefix=""):
        m = missing_keys(obj, spec)
        self.missing += [prefix + k for k in m]
        return not m

    def not_checked(self, why):
        self.skip = why
        raise AssertionError("skip")

    def result(self):
        r = {"id": self.rid, "area": self.area, "endpoint": self.endpoint, "what": self.what,
             "ref": self.ref}
        if self.skip:
            r["result"] = "not checked"
            r["note"] = self.skip
        elif self.bad_status is not None:
            r["result"] = "not served"
            r["note"] = self.bad_status
            if self.acceptable:
                r["note"] += "; " + self.acceptable
        elif self.ref is None:
            r["result"] = "unknown"
            r["works"] = not self.missing
            r["missing"] = sorted(set(self.missing))
            r["note"] = self.info or "the map does not say what Docker answers"
        elif self.missing:
            r["result"] = "partial"
            r["missing"] = sorted(set(self.missing))
        else:
            r["result"] = "served"
        return r


def row(rid, area, endpoint, what, ref, acceptable=""):
    return Row(rid, area, endpoint, what, ref, acceptable)


# --------------------------------------------------------------------------
# helpers on the daemon


def create(name, cmd, image="busybox", **cfg):
    body = {"Image": image, "Cmd": cmd}
    body.update(cfg)
    r = call("POST", "/containers/create", {"name": name}, body)
    if r.status != 201:
        raise RuntimeError("create %s: %s %s" % (name, r.status, r.message()))
    return r.json()["Id"]


def start(cid):
    return call("POST", "/containers/%s/start" % cid).status


def inspect(cid):
    r = call("GET", "/containers/%s/json" % cid)
    return r.json() if r.status == 200 else None


def wait_until(pred, limit=5.0, step=0.05):
    end = time.time() + limit
    while time.time() < end:
        try:
            if pred():
                return True
        except Exception:
            pass
        time.sleep(step)
    return False


def running(cid):
    i = inspect(cid)
    return bool(i and i["State"]["Running"])


def logs_have(cid, text):
    r = call("GET", "/containers/%s/logs" % cid, {"stdout": 1, "stderr": 1})
    return text.encode() in r.body


LOOP = "trap 'exit 0' TERM; while :; do sleep 0.1; done"

# The fields `docker run` (CLI 28) sends for `run -d` with no flags.
def run_body(cmd, **over):
    host = {
        "Binds": None, "ContainerIDFile": "", "LogConfig": {"Type": "", "Config": {}},
        "NetworkMode": "default", "PortBindings": {}, "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
        "AutoRemove": False, "VolumeDriver": "", "VolumesFrom": None, "ConsoleSize": [0, 0],
        "CapAdd": None, "CapDrop": None, "CgroupnsMode": "", "Dns": [], "DnsOptions": [], "DnsSearch": [],
        "ExtraHosts": None, "GroupAdd": None, "IpcMode": "", "Cgroup": "", "Links": None, "OomScoreAdj": 0,
        "PidMode": "", "Privileged": False, "PublishAllPorts": False, "ReadonlyRootfs": False,
        "SecurityOpt": None, "UTSMode": "", "UsernsMode": "", "ShmSize": 0, "Isolation": "",
        "CpuShares": 0, "Memory": 0, "NanoCpus": 0, "CgroupParent": "", "BlkioWeight": 0,
        "BlkioWeightDevice": [], "BlkioDeviceReadBps": [], "BlkioDeviceWriteBps": [],
        "BlkioDeviceReadIOps": [], "BlkioDeviceWriteIOps": [], "CpuPeriod": 0, "CpuQuota": 0,
        "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "CpusetCpus": "", "CpusetMems": "",
        "Devices": [], "DeviceCgroupRules": None, "DeviceRequests": None, "MemoryReservation": 0,
        "MemorySwap": 0, "MemorySwappiness": None, "OomKillDisable": False, "PidsLimit": None,
        "Ulimits": [], "CpuCount": 0, "CpuPercent": 0, "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
        "MaskedPaths": None, "ReadonlyPaths": None}
    endpoint = {"IPAMConfig": None, "Links": None, "Aliases": None, "MacAddress": "", "DriverOpts": None,
                "GwPriority": 0, "NetworkID": "", "EndpointID": "", "Gateway": "", "IPAddress": "",
                "IPPrefixLen": 0, "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
                "DNSNames": None}
    body = {"Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
            "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": [],
            "Cmd": cmd, "Image": "busybox", "Volumes": {}, "WorkingDir": "", "Entrypoint": None,
            "OnBuild": None, "Labels": {}, "HostConfig": host,
            "NetworkingConfig": {"EndpointsConfig": {"default": endpoint}}}
    for k, v in over.items():
        if k in host or k in ("Mounts", "Tmpfs"):
            host[k] = v
        else:
            body[k] = v
    return body


CLEAN_NETS = []
CLEAN_IMAGES = []


# --------------------------------------------------------------------------
# §1, §2: transport, handshake, /version, /info

PING_HEADERS = {"API-Version": "1.41", "OSType": "linux", "Docker-Experimental": "false",
                "Builder-Version": "1"}


def check_handshake():
    A = "Handshake and system"
    for method in ("HEAD", "GET"):
        for pre in (False, True):
            path = ("/v1.41" if pre else "") + "/_ping"
            with row("ping.%s.%s" % (method.lower(), "v" if pre else "bare"), A,
                     "%s %s" % (method, path), "status 200, headers §2.2", "§2.2") as r:
                x = call(method, "/_ping", prefix=pre)
                r.status(x, 200)
                for h, want in PING_HEADERS.items():
                    r.need(x.header(h) == want, "header %s: %s" % (h, want))
                if method == "GET":
                    r.need(x.body == b"OK", "body OK")
                else:
                    r.need(x.header("Content-Length") == "0", "Content-Length: 0")
                    r.need(x.header("Content-Type") == "text/plain; charset=utf-8",
                           "Content-Type text/plain; charset=utf-8")
    with row("ping.swarm-header", A, "HEAD /_ping", "optional Swarm: inactive header (CLI 28)",
             "§2.2") as r:
        x = call("HEAD", "/_ping")
        r.status(x, 200)
        r.need(x.header("Swarm") == "inactive", "header Swarm: inactive")
    with row("transport.headers", A, "any response", "API-Version, OSType, Docker-Experimental, "
             "Server: Docker/<ver> (linux) on every response", "§1") as r:
        x = call("GET", "/containers/json")
        r.status(x, 200)
        for h in ("API-Version", "OSType", "Docker-Experimental"):
            r.need(x.header(h) == PING_HEADERS[h], "header %s" % h)
        srv = x.header("Server") or ""
        r.need(re.fullmatch(r"Docker/\S+ \(linux\)", srv), "header Server: Docker/<ver> (linux)")
    with row("transport.prefix-too-new", A, "GET /v1.99/version", "400 client version too new",
             "§1") as r:
        x = call("GET", "/v1.99/version", prefix=False)
        r.status(x, 400)
        r.need("is too new. Maximum supported API version is 1.41" in x.message(), "message text")
    with row("transport.prefix-too-old", A, "GET /v1.12/version", "400 client version too old",
             "§1") as r:
        x = call("GET", "/v1.12/version", prefix=False)
        r.status(x, 400)
        r.need("is too old. Minimum supported API version is" in x.message(), "message text")
    with row("transport.prefix-old-ok", A, "GET /v1.24/version", "the minimum prefix is served",
             "§1") as r:
        r.status(call("GET", "/v1.24/version", prefix=False), 200)
    with row("errors.unknown-route", A, "GET /no/such/route", "404 {\"message\":\"page not found\"}, "
             "Content-Type exactly application/json", "§7") as r:
        x = call("GET", "/no/such/route")
        r.status(x, 404)
        r.need(x.header("Content-Type") == "application/json", "Content-Type application/json")
        r.need(x.message() == "page not found", "message page not found")
    with row("transport.keepalive", A, "any", "three requests on one kept-alive connection", "§1") as r:
        c = UnixHTTPConnection()
        oks = 0
        for _ in range(3):
            c.request("GET", "/v1.41/_ping", headers={"Host": "docker"})
            resp = c.getresponse()
            oks += resp.read() == b"OK"
        c.close()
        r.need(oks == 3, "keep-alive")
    with row("transport.chunked-body", A, "POST /containers/create", "chunked request body", "§1") as r:
        x = call("POST", "/containers/create", {"name": "cx-chunked"},
                 json.dumps({"Image": "busybox", "Cmd": ["true"]}).encode(),
                 {"Content-Type": "application/json"}, chunked=True)
        r.status(x, 201)
    with row("transport.path-decoding", A, "GET /images/{name}/json", "percent-encoded path "
             "(busybox%3Alatest)", "§1") as r:
        x = call("GET", "/images/busybox%3Alatest/json")
        r.status(x, 200)

    for pre in (False, True):
        with row("version.%s" % ("v" if pre else "bare"), A,
                 "GET %s/version" % ("/v1.41" if pre else ""),
                 "fields of §2.4 (docker-py asks unversioned first)", "§2.4") as r:
            x = call("GET", "/version", prefix=pre)
            r.status(x, 200)
            j = x.json()
            r.keys(j, "Version:s ApiVersion:s MinAPIVersion:s GitCommit:s GoVersion:s Os:s Arch:s "
                   "KernelVersion:s BuildTime:s Platform.Name:s Components[0].Name:s "
                   "Components[0].Version:s Components[0].Details:D")
            r.need(j.get("ApiVersion") == "1.41", "ApiVersion 1.41")
            r.need(j.get("MinAPIVersion") == "1.24", "MinAPIVersion 1.24")
            # no top-level Experimental: moby omits it when false (omitempty)
            d = (j.get("Components") or [{}])[0].get("Details") or {}
            for k in ("ApiVersion", "MinAPIVersion", "GitCommit", "GoVersion", "Os", "Arch",
                      "KernelVersion", "Experimental", "BuildTime"):
                r.need(k in d, "Components[0].Details.%s" % k)

    with row("info", A, "GET /info", "fields of §2.5", "§2.5") as r:
        x = call("GET", "/info")
        r.status(x, 200)
        j = x.json()
        r.keys(j, "ID:s Containers:i ContainersRunning:i ContainersPaused:i ContainersStopped:i "
               "Images:i Driver:s DriverStatus:l Plugins.Volume:l Plugins.Network:l Plugins.Log:l "
               "Plugins.Authorization:l MemoryLimit:b SwapLimit:b CpuCfsPeriod:b CpuCfsQuota:b "
               "CPUShares:b CPUSet:b PidsLimit:b IPv4Forwarding:b Debug:b NFd:i NGoroutines:i "
               "SystemTime:s LoggingDriver:s CgroupDriver:s CgroupVersion:s NEventsListener:i "
               "KernelVersion:s OperatingSystem:s OSVersion:s OSType:s Architecture:s "
               "IndexServerAddress:s RegistryConfig.IndexConfigs:d "
               "RegistryConfig.InsecureRegistryCIDRs:l RegistryConfig.Mirrors:l NCPU:i MemTotal:i "
               "DockerRootDir:s HttpProxy:s HttpsProxy:s NoProxy:s Name:s Labels:l "
               "ExperimentalBuild:b ServerVersion:s Runtimes:D DefaultRuntime:s Swarm.NodeID:s "
               "Swarm.NodeAddr:s Swarm.LocalNodeState:s Swarm.ControlAvailable:b "
               "LiveRestoreEnabled:b Isolation:s InitBinary:s ContainerdCommit.ID:s "
               "ContainerdCommit.Expected:s RuncCommit.ID:s RuncCommit.Expected:s InitCommit.ID:s "
               "InitCommit.Expected:s SecurityOptions:l Warnings:l")
        r.need(j.get("LoggingDriver") == "json-file", "LoggingDriver json-file")
        r.need(j.get("OSType") == "linux", "OSType linux")
        r.need(j.get("IndexServerAddress") == "https://index.docker.io/v1/",
               "IndexServerAddress https://index.docker.io/v1/")
        r.need((j.get("Swarm") or {}).get("LocalNodeState") == "inactive",
               "Swarm.LocalNodeState inactive")
        r.need(all(re.fullmatch(r"[a-z]+=[^,]*(,[a-z]+=[^,]*)*", s)
                   for s in j.get("SecurityOptions") or []), "SecurityOptions as key=value lists")


# --------------------------------------------------------------------------
# §3.1, §3.2, §4: containers

LIST_KEYS = ("Id:s Names:L Image:s ImageID:s Command:s Created:i Ports:l Labels:d State:s "
             "Status:s HostConfig.NetworkMode:s NetworkSettings.Networks:D Mounts:l")
INSPECT_KEYS = (
    "Id:s Created:s Path:s Args:l State.Status:s State.Running:b State.Paused:b "
    "State.Restarting:b State.OOMKilled:b State.Dead:b State.Pid:i State.ExitCode:i State.Error:s "
    "State.StartedAt:s State.FinishedAt:s Image:s ResolvConfPath:s HostnamePath:s HostsPath:s "
    "LogPath:s Name:s RestartCount:i Driver:s Platform:s MountLabel:s ProcessLabel:s "
    "AppArmorProfile:s ExecIDs:l HostConfig.NetworkMode:s HostConfig.PortBindings:d "
    "HostConfig.Binds:l HostConfig.AutoRemove:b HostConfig.RestartPolicy.Name:s "
    "HostConfig.LogConfig.Type:s HostConfig.LogConfig.Config:d HostConfig.Mounts:l "
    "GraphDriver.Name:s GraphDriver.Data:d Mounts:l Config.Hostname:s Config.Domainname:s "
    "Config.User:s Config.AttachStdin:b Config.AttachStdout:b Config.AttachStderr:b "
    "Config.ExposedPorts:d Config.Tty:b Config.OpenStdin:b Config.StdinOnce:b Config.Env:l "
    "Config.Cmd:l Config.Image:s Config.Volumes:d Config.WorkingDir:s Config.Entrypoint:l "
    "Config.OnBuild:l Config.Labels:d NetworkSettings.Bridge:s NetworkSettings.SandboxID:s "
    "NetworkSettings.HairpinMode:b NetworkSettings.SandboxKey:s NetworkSettings.Ports:d "
    "NetworkSettings.IPAddress:s NetworkSettings.IPPrefixLen:i NetworkSettings.Gateway:s "
    "NetworkSettings.MacAddress:s NetworkSettings.Networks:D")
ENDPOINT_KEYS = ("IPAMConfig:d Links:l Aliases:l NetworkID:s EndpointID:s Gateway:s IPAddress:s "
                 "IPPrefixLen:i IPv6Gateway:s GlobalIPv6Address:s GlobalIPv6PrefixLen:i "
                 "MacAddress:s DriverOpts:d")


class St:
    pass


S = St()


def check_create():
    A = "Containers"
    os.makedirs(os.path.join(SCRATCH, "bind"), exist_ok=True)
    with row("create.run-d-full", A, "POST /containers/create",
             "docker run -d body with -e -p -v --mount --tmpfs -w -u --entrypoint -h --label "
             "--restart --add-host -m --cpus --cap-add (CLI 28 fields)", "§3.1") as r:
        body = run_body(["-c", LOOP], Env=["FOO=bar"], ExposedPorts={"80/tcp": {}},
                        PortBindings={"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]},
                        Binds=["%s/bind:/data:ro" % SCRATCH, "cx-autovol:/vol"],
                        Mounts=[{"Type": "bind", "Source": "/etc", "Target": "/hostetc",
                                 "ReadOnly": True},
                                {"Type": "tmpfs", "Target": "/scratch",
                                 "TmpfsOptions": {"SizeBytes": 1048576}}],
                        Tmpfs={"/run": "size=1m"}, Volumes={"/anon": {}}, WorkingDir="/tmp",
                        User="root", Entrypoint=["sh"], Hostname="cxhost", Labels={"a": "b"},
                        RestartPolicy={"Name": "on-failure", "MaximumRetryCount": 2},
                        ExtraHosts=["cxextra:1.2.3.4"], Memory=64 << 20, NanoCpus=500000000,
                        CapAdd=["CAP_NET_ADMIN"])
        x = call("POST", "/containers/create", {"name": "cx-full"}, body)
        r.status(x, 201)
        j = x.json()
        r.keys(j, "Id:s Warnings:l")
        S.full = j["Id"]
        i = inspect(S.full)
        c, h = i["Config"], i["HostConfig"]
        r.need("FOO=bar" in (c.get("Env") or []), "-e: Config.Env")
        r.need("80/tcp" in (c.get("ExposedPorts") or {}), "-p: Config.ExposedPorts")
        r.need("80/tcp" in (h.get("PortBindings") or {}), "-p: HostConfig.PortBindings")
        r.need(len(h.get("Binds") or []) == 2, "-v: HostConfig.Binds")
        r.need(call("GET", "/volumes/cx-autovol").status == 200, "-v name:/c auto-creates the volume")
        r.need(len(h.get("Mounts") or []) == 2, "--mount: HostConfig.Mounts")
        r.need("/run" in (h.get("Tmpfs") or {}), "--tmpfs: HostConfig.Tmpfs")
        r.need("/anon" in (c.get("Volumes") or {}), "-v /c: Config.Volumes")
        r.need(c.get("WorkingDir") == "/tmp", "-w: WorkingDir")
        r.need(c.get("User") == "root", "-u: User")
        r.need(c.get("Entrypoint") == ["sh"], "--entrypoint: Entrypoint")
        r.need(c.get("Hostname") == "cxhost", "-h: Hostname")
        r.need((c.get("Labels") or {}).get("a") == "b", "--label: Labels")
        r.need((h.get("RestartPolicy") or {}).get("Name") == "on-failure", "--restart: RestartPolicy")
        r.need(h.get("ExtraHosts") == ["cxextra:1.2.3.4"], "--add-host: ExtraHosts")
        r.need(h.get("Memory") == 64 << 20, "-m: Memory")
        r.need(h.get("NanoCpus") == 500000000, "--cpus: NanoCpus")
        r.need(bool(h.get("CapAdd")), "--cap-add: CapAdd")
        r.need(h.get("NetworkMode") in ("default", "bridge"), "NetworkMode default")
        r.need(start(S.full) == 204, "the container starts")
        ok = wait_until(lambda: running(S.full), 3)
        r.need(ok, "the container runs")
        if ok:
            out = exec_run(S.full, ["sh", "-c", "grep cxextra /etc/hosts; hostname; "
                                    "cat /sys/fs/cgroup/memory.max "
                                    "/sys/fs/cgroup/memory/memory.limit_in_bytes"])
            r.need(b"1.2.3.4" in out, "--add-host in /etc/hosts")
            r.need(b"cxhost" in out, "-h applied")
            r.need(str(64 << 20).encode() in out, "-m applied (the cgroup's limit)")
    with row("create.publish", A, "GET /containers/{id}/json", "-p: NetworkSettings.Ports with the "
             "ephemeral host port (docker port)", "§3.2") as r:
        i = inspect(S.full)
        p = (i["NetworkSettings"].get("Ports") or {}).get("80/tcp") or []
        r.need(p and p[0].get("HostPort", "") not in ("", "0"), "HostPort chosen")
        r.need(p and "HostIp" in p[0], "HostIp")
    with row("create.cap-add-short", A, "POST /containers/create", "CapAdd NET_ADMIN (CLI 20.10 form)",
             "§3.1") as r:
        x = call("POST", "/containers/create", {"name": "cx-cap"},
                 run_body(["true"], CapAdd=["NET_ADMIN"]))
        r.status(x, 201)
    with row("create.compose", A, "POST /containers/create", "docker-py/compose minimal body "
             "(Links, VolumesFrom [], LogConfig Type \"\")", "§5") as r:
        x = call("POST", "/containers/create", {"name": "cx-compose"},
                 {"Cmd": ["sh", "-c", LOOP], "Image": "busybox", "Env": [], "Labels": {
                     "com.docker.compose.project": "cx", "com.docker.compose.service": "web",
                     "com.docker.compose.oneoff": "False"},
                  "ExposedPorts": {}, "Volumes": {},
                  "HostConfig": {"NetworkMode": "bridge", "Binds": [], "PortBindings": {},
                                 "Links": [], "VolumesFrom": [], "LogConfig": {"Type": "", "Config": {}}},
                  "NetworkingConfig": {"EndpointsConfig": {"bridge": {"Aliases": ["web"],
                                                                      "IPAMConfig": {}}}}})
        r.status(x, 201)
        S.compose = x.json()["Id"]
        i = inspect(S.compose)
        r.need(i["HostConfig"]["LogConfig"].get("Type") == "json-file",
               "LogConfig.Type filled in (json-file)")
    with row("create.conflict", A, "POST /containers/create", "duplicate name: 409 with Docker's text",
             "§3.1") as r:
        x = call("POST", "/containers/create", {"name": "cx-full"}, run_body(["true"]))
        r.status(x, 409)
        r.need('The container name "/cx-full" is already in use by container' in x.message(),
               "message text")
    with row("create.no-image", A, "POST /containers/create", "missing image: 404 No such image "
             "(drives pull-on-run)", "§3.1") as r:
        x = call("POST", "/containers/create", None, run_body(["true"], Image="cx-nosuch:3.19"))
        r.status(x, 404)
        r.need("No such image" in x.message(), "No such image text")

    # the containers the other checks use
    S.main = create("cx-main", ["sh", "-c", "echo out; echo err >&2; " + LOOP],
                    Labels={"cx.role": "main", "a": "b"})
    S.created = create("cx-created", ["true"], Labels={"cx.role": "created"})
    S.tty = create("cx-tty", ["sh", "-c", "echo tty-out; " + LOOP], Tty=True, OpenStdin=True)
    start(S.main)
    start(S.tty)
    wait_until(lambda: logs_have(S.main, "err") and logs_have(S.tty, "tty-out"), 5)


def exec_run(cid, cmd, **cfg):
    body = {"AttachStdout": True, "AttachStderr": True, "Cmd": cmd}
    body.update(cfg)
    x = call("POST", "/containers/%s/exec" % cid, None, body)
    if x.status != 201:
        return b""
    h = Hijack("/exec/%s/start" % x.json()["Id"], body={"Detach": False, "Tty": False})
    data, _ = h.read_all(10)
    h.close()
    f = demux(data)
    return b"".join(d for _, d in f) if f is not None else data


def check_list_inspect():
    A = "Containers"
    with row("list.default", A, "GET /containers/json", "running only; entry keys of App. A",
             "§3.2, App. A") as r:
        x = call("GET", "/containers/json")
        r.status(x, 200)
        j = x.json()
        ids = [c["Id"] for c in j]
        r.need(S.main in ids, "lists running")
        r.need(S.created not in ids, "leaves out stopped")
        m = [c for c in j if c["Id"] == S.main]
        if m:
            r.keys(m[0], LIST_KEYS)
            r.need(m[0].get("Names") == ["/cx-main"], "Names with /")
            r.need(m[0].get("State") == "running", "State running")
            r.need(str(m[0].get("Status", "")).startswith("Up "), "Status Up ...")
            r.need(str(m[0].get("ImageID", "")).startswith("sha256:"), "ImageID sha256:")
    with row("list.all", A, "GET /containers/json", "all=1 lists created/exited", "§3.2") as r:
        x = call("GET", "/containers/json", {"all": 1})
        r.status(x, 200)
        j = {c["Id"]: c for c in x.json()}
        r.need(S.created in j, "all")
        if S.created in j:
            r.need(j[S.created].get("State") == "created", "State created")
            r.need(j[S.created].get("Status") == "Created", "Status Created")
    with row("list.limit", A, "GET /containers/json", "limit=1", "§3.2") as r:
        x = call("GET", "/containers/json", {"all": 1, "limit": 1})
        r.status(x, 200)
        r.need(len(x.json()) == 1, "limit")
    with row("list.size", A, "GET /containers/json", "size=1: SizeRw, SizeRootFs", "App. A") as r:
        x = call("GET", "/containers/json", {"size": 1})
        r.status(x, 200)
        m = [c for c in x.json() if c["Id"] == S.main]
        r.need(m and isinstance(m[0].get("SizeRw"), int), "SizeRw")
        r.need(m and isinstance(m[0].get("SizeRootFs"), int), "SizeRootFs")
    with row("list.compose-query", A, "GET /containers/json", "docker-py query limit=-1&all=0&size=0"
             "&trunc_cmd=0, list-form filters", "§5") as r:
        x = call("GET", "/containers/json", {
            "limit": -1, "all": 0, "size": 0, "trunc_cmd": 0,
            "filters": json.dumps({"label": ["com.docker.compose.project=cx",
                                             "com.docker.compose.oneoff=False"]})})
        r.status(x, 200)
        r.need([c["Id"] for c in x.json()] == [], "only running ones (compose one is not)")
        x = call("GET", "/containers/json", {
            "all": "True", "filters": json.dumps({"label": ["com.docker.compose.project=cx"],
                                                  "status": ["created", "exited"]})})
        r.need([c["Id"] for c in x.json()] == [S.compose], "label+status list form, all=True")

    def filt(rid, what, f, want, absent=(), all_=1):
        with row("list.filter." + rid, A, "GET /containers/json", "filters " + what,
                 "§3.2") as r:
            x = call("GET", "/containers/json", {"all": all_, "filters": json.dumps(f)})
            r.status(x, 200)
            ids = [c["Id"] for c in x.json()]
            for w in want:
                r.need(w in ids, "lists the matching")
            for w in absent:
                r.need(w not in ids, "leaves out the others (filter applied)")

    filt("label-go", "label (Go form {\"label\":{\"a=b\":true}})", {"label": {"a=b": True}},
         [S.main], [S.created])
    filt("label-key", "label key only", {"label": {"cx.role": True}}, [S.main, S.created],
         [S.tty])
    filt("status", "status", {"status": {"created": True}}, [S.created], [S.main])
    filt("name", "name (substring)", {"name": {"x-mai": True}}, [S.main], [S.created])
    filt("id", "id (prefix)", {"id": {S.main[:12]: True}}, [S.main], [S.created])
    filt("ancestor", "ancestor", {"ancestor": {"busybox": True}}, [S.main], [])
    filt("network", "network", {"network": {"bridge": True}}, [S.main], [])
    filt("volume", "volume", {"volume": {"cx-autovol": True}}, [S.full], [S.main])
    filt("exited", "exited=0", {"exited": {"0": True}}, [], [S.main, S.created])
    filt("before", "before", {"before": {"cx-created": True}}, [S.main], [S.tty])
    filt("since", "since", {"since": {"cx-created": True}}, [S.tty], [S.main])
    filt("expose", "expose", {"expose": {"80/tcp": True}}, [S.full], [S.main])
    filt("publish", "publish", {"publish": {"80/tcp": True}}, [S.full], [S.main])
    filt("health", "health=none", {"health": {"none": True}}, [S.main], [])
    filt("is-task", "is-task=false", {"is-task": {"false": True}}, [S.main], [])

    with row("inspect", A, "GET /containers/{id}/json", "App. A skeleton of a running container",
             "App. A, §5") as r:
        x = call("GET", "/containers/%s/json" % S.main)
        r.status(x, 200)
        j = x.json()
        r.keys(j, INSPECT_KEYS)
        r.need(j.get("Name") == "/cx-main", "Name with /")
        r.need(str(j.get("Image", "")).startswith("sha256:"), "Image is the image ID")
        r.need(j.get("Config", {}).get("Image") == "busybox", "Config.Image as given")
        r.need(j.get("Platform") == "linux", "Platform linux")
        r.need(j["HostConfig"]["LogConfig"].get("Type") == "json-file", "LogConfig.Type json-file")
        r.need(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", j.get("Created", "")),
               "Created RFC3339Nano")
        br = (j["NetworkSettings"].get("Networks") or {}).get("bridge")
        r.need(br is not None, "Networks.bridge")
        if br:
            r.keys(br, ENDPOINT_KEYS, "Networks.bridge.")
            r.need(br.get("IPAddress"), "an IPAddress while running")
        r.need(j["NetworkSettings"].get("IPAddress"), "top-level IPAddress (default bridge)")
    with row("inspect.created", A, "GET /containers/{id}/json", "a created container already lists "
             "its networks (compose)", "App. A") as r:
        x = call("GET", "/containers/%s/json" % S.created)
        r.status(x, 200)
        j = x.json()
        r.need("bridge" in (j["NetworkSettings"].get("Networks") or {}), "Networks.bridge")
        r.need(j["State"].get("Status") == "created", "State.Status created")
    with row("inspect.refs", A, "GET /containers/{id}/json", "by name, full ID, ID prefix", "§1") as r:
        for ref in ("cx-main", S.main, S.main[:12]):
            x = call("GET", "/containers/%s/json" % urllib.parse.quote(ref, safe=""))
            r.need(x.status == 200 and x.json()["Id"] == S.main, "reference %s" %
                   {12: "prefix", 64: "full ID"}.get(len(ref), ref))
    with row("inspect.missing", A, "GET /containers/{id}/json", "404 No such container", "§7") as r:
        x = call("GET", "/containers/cx-nosuch/json")
        r.status(x, 404)
        r.need("No such container: cx-nosuch" in x.message(), "message text")
    with row("inspect.fallthrough", A, "GET containers, images, networks, volumes, plugins",
             "docker inspect <unknown>: every miss is 404", "§3.2") as r:
        for p in ("/containers/cx-x/json", "/images/cx-x/json", "/networks/cx-x", "/volumes/cx-x",
                  "/plugins/cx-x/json"):
            r.need(call("GET", p).status == 404, "404 at " + p.split("/")[1])


def check_lifecycle():
    A = "Containers"
    with row("start", A, "POST /containers/{id}/start", "204, then 304 when running; text/plain "
             "empty POST (CLI 20.10)", "§3.2") as r:
        cid = create("cx-start", ["sh", "-c", LOOP])
        x = call("POST", "/containers/%s/start" % cid, body=b"",
                 headers={"Content-Type": "text/plain"})
        r.status(x, 204)
        r.need(call("POST", "/containers/%s/start" % cid).status == 304, "304 when running")
        S.start = cid
    with row("stop", A, "POST /containers/{id}/stop", "t=N: 204 after the exit, then 304",
             "§3.2") as r:
        x = call("POST", "/containers/%s/stop" % S.start, {"t": 5})
        r.status(x, 204)
        r.need(not running(S.start), "stopped when it answers")
        r.need(x.elapsed < 4, "SIGTERM first (did not wait t)")
        r.need(call("POST", "/containers/%s/stop" % S.start).status == 304, "304 when stopped")
    with row("restart", A, "POST /containers/{id}/restart", "t=N: 204, running again", "§3.2") as r:
        before = inspect(S.start)["State"]["StartedAt"]
        x = call("POST", "/containers/%s/restart" % S.start, {"t": 1})
        r.status(x, 204)
        i = inspect(S.start)
        r.need(i["State"]["Running"], "running")
        r.need(i["State"]["StartedAt"] != before, "StartedAt changes")
    with row("kill.signal", A, "POST /containers/{id}/kill", "signal as WINCH, SIGWINCH, 28",
             "§3.1, §3.2") as r:
        for s in ("WINCH", "SIGWINCH", "28"):
            x = call("POST", "/containers/%s/kill" % S.start, {"signal": s})
            r.need(x.status == 204, "signal=%s" % s)
        r.need(running(S.start), "an ignored signal leaves it running")
        x = call("POST", "/containers/%s/kill" % S.start)
        r.status(x, 204)
        r.need(wait_until(lambda: not running(S.start), 3), "default SIGKILL")
    with row("kill.not-running", A, "POST /containers/{id}/kill", "409 is not running", "§3.2") as r:
        x = call("POST", "/containers/%s/kill" % S.start)
        r.status(x, 409)
        r.need("is not running" in x.message(), "message text")
    with row("wait.default", A, "POST /containers/{id}/wait", "no condition on a stopped container: "
             "at once, {StatusCode, Error:null}", "§3.2") as r:
        x = call("POST", "/containers/%s/wait" % S.start, timeout=5)
        r.status(x, 200)
        j = x.json()
        r.need(j.get("StatusCode") == 137, "StatusCode 137")
        r.need("Error" in j and j["Error"] is None, "Error null")
    with row("wait.not-running", A, "POST /containers/{id}/wait", "condition=not-running", "§3.2") as r:
        x = call("POST", "/containers/%s/wait" % S.start, {"condition": "not-running"}, timeout=5)
        r.status(x, 200)
        r.need(x.json().get("StatusCode") == 137, "StatusCode")

    # docker run (attached, no TTY): create, attach, wait next-exit, start
    with row("run.attach-before-start", A, "POST /containers/{id}/attach",
             "docker run order: attach before start gets every byte, framed (no TTY), closes at "
             "exit", "§3.1, §4") as r:
        cid = create("cx-run", ["sh", "-c", "echo hi; echo oops >&2; exit 3"], AttachStdout=True,
                     AttachStderr=True)
        h = Hijack("/containers/%s/attach" % cid, {"stderr": 1, "stdout": 1, "stream": 1})
        r.status(h.status, 101)
        c, w, dt = stream_open("POST", "/containers/%s/wait" % cid, {"condition": "next-exit"})
        S.run_wait = (c, w, dt)
        r.need(start(cid) == 204, "start")
        data, closed = h.read_all(8)
        h.close()
        f = demux(data)
        r.need(f is not None, "8-byte frames")
        r.need(stream_of(f, 1) == b"hi\n", "stdout frames")
        r.need(stream_of(f, 2) == b"oops\n", "stderr frames")
        r.need(closed, "closed at exit")
        S.run = cid
    with row("wait.next-exit", A, "POST /containers/{id}/wait", "condition=next-exit: 200 and "
             "headers before start, body at exit", "§0.4, §3.1") as r:
        c, w, dt = S.run_wait
        r.status(w.status, 200)
        r.need(dt < 2, "headers flushed at once")
        j = json.loads(w.read().decode())
        c.close()
        r.need(j.get("StatusCode") == 3, "StatusCode 3")
        r.need("Error" in j and j["Error"] is None, "Error null")
    with row("attach.headers", A, "POST /containers/{id}/attach", "101 UPGRADED, Content-Type "
             "application/vnd.docker.raw-stream, Connection/Upgrade: tcp", "§4") as r:
        h = Hijack("/containers/%s/attach" % S.main, {"stdout": 1, "stderr": 1, "stream": 1})
        r.status(h.status, 101)
        r.need(h.headers.get("content-type") == "application/vnd.docker.raw-stream",
               "Content-Type raw-stream (§4; clients at 1.41 ignore it)")
        r.need(h.headers.get("connection", "").lower() == "upgrade", "Connection: Upgrade")
        r.need(h.headers.get("upgrade") == "tcp", "Upgrade: tcp")
        h.close()
    with row("attach.tty", A, "POST /containers/{id}/attach", "TTY: raw, no frames", "§4") as r:
        cid = create("cx-ttyrun", ["echo", "ttyhi"], Tty=True, AttachStdout=True, AttachStderr=True)
        h = Hijack("/containers/%s/attach" % cid, {"stderr": 1, "stdout": 1, "stream": 1})
        r.status(h.status, 101)
        start(cid)
        data, closed = h.read_all(8)
        h.close()
        r.need(data.startswith(b"ttyhi"), "raw output")
        r.need(closed, "closed at exit")
    with row("attach.stdin", A, "POST /containers/{id}/attach", "stdin=1 with half-close: EOF "
             "reaches the process, output still comes (docker start -ai)", "§4") as r:
        cid = create("cx-stdin", ["cat"], OpenStdin=True, StdinOnce=True, AttachStdin=True,
                     AttachStdout=True, AttachStderr=True)
        h = Hijack("/containers/%s/attach" % cid, {"stderr": 1, "stdin": 1, "stdout": 1,
                                                   "stream": 1})
        r.status(h.status, 101)
        start(cid)
        h.send(b"ping\n")
        time.sleep(0.2)
        h.half_close()
        data, closed = h.read_all(8)
        h.close()
        r.need(stream_of(demux(data), 1) == b"ping\n", "stdin echoed back")
        r.need(closed, "closed after EOF")
    with row("attach.logs", A, "POST /containers/{id}/attach", "logs=1&stream=0 replays the log "
             "and ends", "§4") as r:
        h = Hijack("/containers/%s/attach" % S.main, {"logs": 1, "stream": 0, "stdout": 1,
                                                      "stderr": 1})
        r.status(h.status, 101)
        data, closed = h.read_all(3)
        h.close()
        f = demux(data)
        r.need(stream_of(f, 1) == b"out\n" and stream_of(f, 2) == b"err\n", "replayed log")
        r.need(closed, "ends")
    with row("attach.no-upgrade", A, "POST /containers/{id}/attach", "without Upgrade: 200 and the "
             "raw stream", "§4") as r:
        cid = create("cx-noup", ["echo", "noup"], AttachStdout=True)
        h = Hijack("/containers/%s/attach" % cid, {"stream": 1, "stdout": 1}, upgrade=False)
        r.status(h.status, 200)
        start(cid)
        data, closed = h.read_all(5)
        h.close()
        r.need(stream_of(demux(data), 1) == b"noup\n", "the stream")
        r.need(closed, "closed at exit")

    with row("logs.framed", A, "GET /containers/{id}/logs", "stdout=1&stderr=1: framed, chunked",
             "§3.2, §6.6") as r:
        x = call("GET", "/containers/%s/logs" % S.main, {"stdout": 1, "stderr": 1, "tail": "all"})
        r.status(x, 200)
        f = demux(x.body)
        r.need(f is not None, "8-byte frames")
        r.need(stream_of(f, 1) == b"out\n", "stdout")
        r.need(stream_of(f, 2) == b"err\n", "stderr")
        r.need(x.header("Transfer-Encoding") == "chunked", "chunked")
    with row("logs.streams", A, "GET /containers/{id}/logs", "stdout only / stderr only", "§3.2") as r:
        x = call("GET", "/containers/%s/logs" % S.main, {"stdout": 1})
        r.status(x, 200)
        r.need(stream_of(demux(x.body), 1) == b"out\n" and not stream_of(demux(x.body), 2),
               "stdout only")
        x = call("GET", "/containers/%s/logs" % S.main, {"stderr": 1})
        r.need(stream_of(demux(x.body), 2) == b"err\n" and not stream_of(demux(x.body), 1),
               "stderr only")
    with row("logs.neither", A, "GET /containers/{id}/logs", "neither stdout nor stderr: 400",
             "§3.2") as r:
        r.status(call("GET", "/containers/%s/logs" % S.main), 400)
    with row("logs.timestamps", A, "GET /containers/{id}/logs", "timestamps=1: RFC3339Nano prefix",
             "§6.6") as r:
        x = call("GET", "/containers/%s/logs" % S.main, {"stdout": 1, "timestamps": 1})
        r.status(x, 200)
        r.need(re.fullmatch(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out\n",
                            stream_of(demux(x.body), 1) or b""), "prefix with 9 digits")
    with row("logs.details", A, "GET /containers/{id}/logs", "details=1", "§3.2, §6.6") as r:
        x = call("GET", "/containers/%s/logs" % S.main, {"stdout": 1, "details": 1})
        r.status(x, 200)
        r.need(stream_of(demux(x.body), 1).endswith(b"out\n"), "the line")
    with row("logs.tail", A, "GET /containers/{id}/logs", "tail=1", "§3.2") as r:
        x = call("GET", "/containers/%s/logs" % S.main, {"stdout": 1, "stderr": 1, "tail": 1})
        r.status(x, 200)
        r.need(len(demux(x.body) or []) == 1, "one line")
    with row("logs.since-until", A, "GET /containers/{id}/logs", "since / until as "
             "seconds.nanoseconds", "§3.2") as r:
        q = {"stdout": 1, "stderr": 1}
        x = call("GET", "/containers/%s/logs" % S.main, dict(q, since="%.9f" % (time.time() + 60)))
        r.status(x, 200)
        r.need(x.body == b"", "since in the future: nothing")
        x = call("GET", "/containers/%s/logs" % S.main, dict(q, since="%.9f" % (T0 - 60)))
        r.need(len(demux(x.body) or []) == 2, "since in the past: everything")
        x = call("GET", "/containers/%s/logs" % S.main, dict(q, until="%.9f" % (T0 - 60)))
        r.need(x.status == 200 and x.body == b"", "until in the past: nothing")
    with row("logs.tty", A, "GET /containers/{id}/logs", "TTY container: raw", "§4, §6.6") as r:
        x = call("GET", "/containers/%s/logs" % S.tty, {"stdout": 1, "stderr": 1})
        r.status(x, 200)
        r.need(x.body.startswith(b"tty-out"), "raw")
    with row("logs.follow", A, "GET /containers/{id}/logs", "follow=1: headers at once, chunked, "
             "ends when the container stops", "§3.2, §6.6") as r:
        cid = create("cx-follow", ["sh", "-c", "echo a; sleep 1.5; echo b"])
        start(cid)
        c, resp, dt = stream_open("GET", "/containers/%s/logs" % cid,
                                  {"stdout": 1, "stderr": 1, "follow": 1}, timeout=6)
        r.status(resp.status, 200)
        r.need(dt < 1, "headers at once")
        r.need(resp.getheader("Transfer-Encoding") == "chunked", "chunked")
        data = read_some(resp, lambda b: False, 6)
        c.close()
        r.need(stream_of(demux(data), 1) == b"a\nb\n", "follows the output, ends at exit")

    with row("resize", A, "POST /containers/{id}/resize", "h, w: 200; applied to the TTY", "§4") as r:
        x = call("POST", "/containers/%s/resize" % S.tty, {"h": 30, "w": 100})
        r.status(x, 200)
        r.need(x.header("Content-Length") == "0", "empty, Content-Length: 0")
        out = exec_run(S.tty, ["sh", "-c", "stty size < /proc/1/fd/0"])
        r.need(b"30 100" in out, "the TTY has the size")
    with row("resize.bad", A, "POST /containers/{id}/resize", "non-integer h: 400", "§4") as r:
        r.status(call("POST", "/containers/%s/resize" % S.tty, {"h": "x", "w": 100}), 400)

    with row("top", A, "GET /containers/{id}/top", "{Titles, Processes}", "§3.2") as r:
        x = call("GET", "/containers/%s/top" % S.main)
        r.status(x, 200)
        j = x.json()
        r.keys(j, "Titles:L Processes:L")
        r.need("PID" in (j.get("Titles") or []), "PID column")
        r.need(any("sleep" in " ".join(p) or "sh" in " ".join(p) for p in j.get("Processes") or []),
               "the container's processes")
    with row("top.ps_args", A, "GET /containers/{id}/top", "ps_args (docker top c aux, -ef)",
             "§3.2") as r:
        x = call("GET", "/containers/%s/top" % S.main, {"ps_args": "aux"})
        r.status(x, 200)
        t = x.json().get("Titles") or []
        r.need("USER" in t and "%CPU" in t, "ps_args aux columns")
        t = call("GET", "/containers/%s/top" % S.main, {"ps_args": "-ef"}).json().get("Titles")
        r.need(t and "PPID" in t and "UID" in t, "ps_args -ef columns")

    STATS = ("read:s preread:s name:s id:s pids_stats.current:i cpu_stats.cpu_usage.total_usage:i "
             "cpu_stats.cpu_usage.usage_in_kernelmode:i cpu_stats.cpu_usage.usage_in_usermode:i "
             "cpu_stats.system_cpu_usage:i cpu_stats.online_cpus:i cpu_stats.throttling_data:D "
             "precpu_stats.cpu_usage.total_usage:i precpu_stats.system_cpu_usage:i "
             "memory_stats.usage:i memory_stats.limit:i memory_stats.stats:D "
             "blkio_stats.io_service_bytes_recursive:l networks.eth0.rx_bytes:i "
             "networks.eth0.tx_bytes:i networks.eth0.rx_packets:i networks.eth0.tx_packets:i "
             "networks.eth0.rx_errors:i networks.eth0.tx_errors:i networks.eth0.rx_dropped:i "
             "networks.eth0.tx_dropped:i storage_stats:d")
    with row("stats.no-stream", A, "GET /containers/{id}/stats", "stream=0: one object, §6.6 keys, "
             "precpu_stats filled", "§3.2, §6.6") as r:
        x = call("GET", "/containers/%s/stats" % S.main, {"stream": 0})
        r.status(x, 200)
        j = x.json()
        r.keys(j, STATS)
        r.need(j.get("name") == "/cx-main", "name with /")
        r.need((j.get("precpu_stats") or {}).get("system_cpu_usage"), "precpu_stats sampled")
        ms = (j.get("memory_stats") or {}).get("stats") or {}
        r.need("inactive_file" in ms or "total_inactive_file" in ms,
               "memory_stats.stats.inactive_file (v1: total_inactive_file)")
    with row("stats.one-shot", A, "GET /containers/{id}/stats", "stream=0&one-shot=1", None) as r:
        x = call("GET", "/containers/%s/stats" % S.main, {"stream": 0, "one-shot": 1})
        r.status(x, 200, 400, 404)
        r.info = "berth answers %d" % x.status
        r.need(x.status == 200 and "cpu_stats" in x.json(), "one object")
    with row("stats.stream", A, "GET /containers/{id}/stats", "stream=1: chunked, one object a "
             "second", "§6.6") as r:
        c, resp, dt = stream_open("GET", "/containers/%s/stats" % S.main, {"stream": 1}, timeout=4)
        r.status(resp.status, 200)
        r.need(resp.getheader("Transfer-Encoding") == "chunked", "chunked")
        r.need(resp.getheader("Content-Type") == "application/json", "application/json")
        data = read_some(resp, lambda b: b.count(b"\n") >= 2, 5)
        c.close()
        r.need(len(json_stream(data)) >= 2, "two objects within 5 s")

    with row("changes", A, "GET /containers/{id}/changes", "the filesystem diff", None) as r:
        exec_run(S.main, ["touch", "/cx-changed"])
        x = call("GET", "/containers/%s/changes" % S.main)
        r.status(x, 200)
        j = x.json()
        r.info = "berth answers a list of {Path, Kind}"
        r.need(any(c.get("Path") == "/cx-changed" for c in j or []), "the new file")
    with row("export", A, "GET /containers/{id}/export", "200 application/x-tar of the rootfs",
             "§3.4") as r:
        x = call("GET", "/containers/%s/export" % S.main, timeout=30)
        r.status(x, 200)
        r.need(x.header("Content-Type") == "application/x-tar", "Content-Type application/x-tar")
        names = tar_names(x.body) or []
        r.need("bin/busybox" in names, "a tar with the rootfs")

    with row("archive.put", A, "PUT /containers/{id}/archive", "a tar into path=/tmp", None) as r:
        x = call("PUT", "/containers/%s/archive" % S.main, {"path": "/tmp"},
                 tar_bytes({"cx-put.txt": b"hello cp\n"}), {"Content-Type": "application/x-tar"})
        r.status(x, 200)
        r.info = "berth answers %d" % x.status
        r.need(b"hello cp" in exec_run(S.main, ["cat", "/tmp/cx-put.txt"]), "the file arrives")
    with row("archive.head", A, "HEAD /containers/{id}/archive", "path stat header", None) as r:
        x = call("HEAD", "/containers/%s/archive" % S.main, {"path": "/tmp/cx-put.txt"})
        r.status(x, 200)
        st = x.header("X-Docker-Container-Path-Stat")
        r.info = "berth answers 200 with X-Docker-Container-Path-Stat"
        r.need(st, "X-Docker-Container-Path-Stat")
        if st:
            j = json.loads(base64.b64decode(st + "=" * (-len(st) % 4)))
            r.need(j.get("name") == "cx-put.txt" and j.get("size") == 9, "name and size")
        r.need(call("HEAD", "/containers/%s/archive" % S.main, {"path": "/nope"}).status == 404,
               "404 for a missing path")
    with row("archive.get", A, "GET /containers/{id}/archive", "a tar of path", None) as r:
        x = call("GET", "/containers/%s/archive" % S.main, {"path": "/tmp/cx-put.txt"})
        r.status(x, 200)
        r.info = "berth answers 200 with a tar"
        r.need(tar_member(x.body, "cx-put.txt") == b"hello cp\n", "the file in a tar")

    with row("update", A, "POST /containers/{id}/update", "200 {Warnings: []}", "§3.2") as r:
        x = call("POST", "/containers/%s/update" % S.main, None,
                 {"RestartPolicy": {"Name": "unless-stopped"}})
        r.status(x, 200)
        r.keys(x.json(), "Warnings:l")
        r.need(inspect(S.main)["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped",
               "applied")
    with row("rename", A, "POST /containers/{id}/rename", "name=N: 204, the new name (compose "
             "recreate)", "§3.2, §5") as r:
        x = call("POST", "/containers/%s/rename" % S.created, {"name": "cx-renamed"})
        r.status(x, 204)
        r.need(inspect(S.created)["Name"] == "/cx-renamed", "new name")
    with row("pause", A, "POST /containers/{id}/pause", "204, State.Paused; attach and exec get "
             "409 while paused; unpause 204", "§3.2, §7") as r:
        x = call("POST", "/containers/%s/pause" % S.tty)
        r.status(x, 204)
        i = inspect(S.tty)
        r.need(i["State"]["Paused"] and i["State"]["Status"] == "paused", "State.Paused")
        h = Hijack("/containers/%s/attach" % S.tty, {"stdout": 1, "stream": 1})
        r.need(h.status == 409, "attach to paused: 409")
        h.close()
        e = call("POST", "/containers/%s/exec" % S.tty, None, {"Cmd": ["true"]})
        r.need(e.status == 409 and "is paused" in e.message(), "exec on paused: 409 is paused")
        r.need(call("POST", "/containers/%s/unpause" % S.tty).status == 204, "unpause 204")
        r.need(inspect(S.tty)["State"]["Status"] == "running", "running again")


def check_exec():
    A = "Exec"
    body = {"User": "", "Privileged": False, "Tty": False, "AttachStdin": False,
            "AttachStdout": True, "AttachStderr": True, "Detach": False, "DetachKeys": "",
            "Env": ["E=1"], "WorkingDir": "/tmp",
            "Cmd": ["sh", "-c", "echo eo $E $PWD; echo ee >&2; exit 5"]}
    eid = None
    with row("exec.create", A, "POST /containers/{id}/exec", "the CLI's body: 201 {Id}", "§3.2") as r:
        x = call("POST", "/containers/%s/exec" % S.main, None, body)
        r.status(x, 201)
        r.keys(x.json(), "Id:s")
        eid = x.json()["Id"]
    with row("exec.start", A, "POST /exec/{id}/start", "Upgrade: 101, framed, Env and WorkingDir "
             "applied, closes at exit", "§3.2, §4") as r:
        h = Hijack("/exec/%s/start" % eid, body={"Detach": False, "Tty": False})
        r.status(h.status, 101)
        data, closed = h.read_all(8)
        h.close()
        f = demux(data)
        r.need(f is not None, "8-byte frames")
        r.need(stream_of(f, 1) == b"eo 1 /tmp\n", "stdout with Env and WorkingDir")
        r.need(stream_of(f, 2) == b"ee\n", "stderr")
        r.need(closed, "closed at exit")
    with row("exec.inspect", A, "GET /exec/{id}/json", "App. A keys; ExitCode final when the "
             "stream closes", "§3.2, App. A") as r:
        x = call("GET", "/exec/%s/json" % eid)
        r.status(x, 200)
        j = x.json()
        r.keys(j, "ID:s Running:b ExitCode:i ProcessConfig.tty:b ProcessConfig.entrypoint:s "
               "ProcessConfig.arguments:l ProcessConfig.privileged:b ProcessConfig.user:s "
               "OpenStdin:b OpenStderr:b OpenStdout:b CanRemove:b ContainerID:s DetachKeys:s Pid:i")
        r.need(j.get("ExitCode") == 5 and j.get("Running") is False, "ExitCode 5, not running")
        r.need(j.get("ContainerID") == S.main, "ContainerID")
    with row("exec.detach", A, "POST /exec/{id}/start", "Detach:true without Upgrade: 200 with "
             "Content-Length: 0", "§1, §3.2") as r:
        x = call("POST", "/containers/%s/exec" % S.main, None,
                 {"Cmd": ["sh", "-c", "echo detached > /tmp/cx-det"], "Detach": True})
        d = call("POST", "/exec/%s/start" % x.json()["Id"], None, {"Detach": True, "Tty": False},
                 timeout=5)
        r.status(d, 200, 204)
        r.need(d.status == 200 and d.header("Content-Length") == "0" or d.status == 204,
               "empty body with a length")
        r.need(wait_until(lambda: b"detached" in exec_run(S.main, ["cat", "/tmp/cx-det"]), 3),
               "it ran")
    with row("exec.stdin", A, "POST /exec/{id}/start", "AttachStdin with half-close "
             "(echo hi | docker exec -i c cat)", "§4") as r:
        x = call("POST", "/containers/%s/exec" % S.main, None,
                 {"AttachStdin": True, "AttachStdout": True, "AttachStderr": True, "Cmd": ["cat"]})
        e2 = x.json()["Id"]
        h = Hijack("/exec/%s/start" % e2, body={"Detach": False, "Tty": False})
        r.status(h.status, 101)
        h.send(b"abc\n")
        h.half_close()
        data, closed = h.read_all(8)
        h.close()
        r.need(stream_of(demux(data), 1) == b"abc\n", "stdin reaches the process, output comes")
        r.need(closed, "closed at exit")
        r.need(call("GET", "/exec/%s/json" % e2).json().get("ExitCode") == 0, "ExitCode 0")
    with row("exec.tty", A, "POST /exec/{id}/start", "Tty:true: raw output", "§4") as r:
        x = call("POST", "/containers/%s/exec" % S.main, None,
                 {"AttachStdout": True, "AttachStderr": True, "Tty": True, "Cmd": ["echo", "rawtty"]})
        h = Hijack("/exec/%s/start" % x.json()["Id"], body={"Detach": False, "Tty": True})
        r.status(h.status, 101)
        data, closed = h.read_all(8)
        h.close()
        r.need(data.startswith(b"rawtty"), "raw")
    with row("exec.resize", A, "POST /exec/{id}/resize", "h, w on a running TTY exec: 200, applied",
             "§4") as r:
        x = call("POST", "/containers/%s/exec" % S.main, None,
                 {"AttachStdout": True, "Tty": True, "Cmd": ["sh", "-c", "sleep 1; stty size"]})
        e3 = x.json()["Id"]
        h = Hijack("/exec/%s/start" % e3, body={"Detach": False, "Tty": True})
        time.sleep(0.1)
        y = call("POST", "/exec/%s/resize" % e3, {"h": 31, "w": 101})
        data, _ = h.read_all(5)
        h.close()
        r.status(y, 200, 201)
        r.need(b"31 101" in data, "the exec's TTY has the size")
    with row("exec.not-running", A, "POST /containers/{id}/exec", "stopped container: 409 is not "
             "running", "§3.2") as r:
        x = call("POST", "/containers/%s/exec" % S.run, None, {"Cmd": ["true"]})
        r.status(x, 409)
        r.need("is not running" in x.message(), "message text")
    with row("exec.missing", A, "GET /exec/{id}/json", "404 No such exec instance", "§7") as r:
        x = call("GET", "/exec/cxnosuch/json")
        r.status(x, 404)
        r.need("No such exec instance" in x.message(), "message text")


def check_remove_prune():
    A = "Containers"
    with row("rm.running", A, "DELETE /containers/{id}", "running without force: 409 with Docker's "
             "text", "§3.2") as r:
        start(S.start)
        x = call("DELETE", "/containers/%s" % S.start)
        r.status(x, 409)
        r.need("You cannot remove a running container" in x.message(), "message text")
    with row("rm.force", A, "DELETE /containers/{id}", "force=1&v=1 on a running container: 204",
             "§3.2") as r:
        r.status(call("DELETE", "/containers/%s" % S.start, {"force": 1, "v": 1}), 204)
        r.need(call("GET", "/containers/%s/json" % S.start).status == 404, "gone")
    with row("rm.docker-py", A, "DELETE /containers/{id}", "v=False&link=False&force=False "
             "(docker-py booleans)", "§1, §5") as r:
        r.status(call("DELETE", "/containers/%s" % S.run, {"v": "False", "link": "False",
                                                            "force": "False"}), 204)
    with row("rm.missing", A, "DELETE /containers/{id}", "404 No such container", "§7") as r:
        x = call("DELETE", "/containers/cx-nosuch", {"force": 1})
        r.status(x, 404)
        r.need("No such container" in x.message(), "message text")
    with row("run.autoremove", A, "POST /containers/{id}/wait", "condition=removed with AutoRemove: "
             "the server removes, the body comes after", "§3.1") as r:
        cid = create("cx-rm", ["true"], HostConfig={"AutoRemove": True})
        c, w, dt = stream_open("POST", "/containers/%s/wait" % cid, {"condition": "removed"},
                               timeout=8)
        r.status(w.status, 200)
        r.need(dt < 2, "headers at once")
        start(cid)
        j = json.loads(w.read().decode() or "{}")
        c.close()
        r.need(j.get("StatusCode") == 0, "StatusCode 0")
        r.need(call("GET", "/containers/%s/json" % cid).status == 404, "removed by the server")
    with row("prune", A, "POST /containers/prune", "filters label: {ContainersDeleted, "
             "SpaceReclaimed}", "§3.6") as r:
        p = create("cx-prunee", ["true"], Labels={"cx.prune": "1"})
        x = call("POST", "/containers/prune", {"filters": json.dumps({"label": {"cx.prune": True}})})
        r.status(x, 200)
        j = x.json()
        r.keys(j, "ContainersDeleted:l SpaceReclaimed:i")
        r.need(p in (j.get("ContainersDeleted") or []), "the labelled one")
        r.need(inspect(S.created) is not None, "others kept")
    with row("prune.until", A, "POST /containers/prune", "filters until", "§3.6") as r:
        p = create("cx-prunee2", ["true"], Labels={"cx.prune2": "1"})
        x = call("POST", "/containers/prune", {"filters": json.dumps(
            {"until": {"1000": True}, "label": {"cx.prune2": True}})})
        r.status(x, 200)
        r.need(inspect(p) is not None, "a container newer than until is kept")


# --------------------------------------------------------------------------
# §3.3, §3.4, §6: images

IMAGE_KEYS = ("Id:s RepoTags:l RepoDigests:l Parent:s Comment:s Created:s Container:s "
              "ContainerConfig:D DockerVersion:s Author:s Config:D Config.Env:l Config.Cmd:l "
              "Architecture:s Os:s Size:i VirtualSize:i GraphDriver.Name:s GraphDriver.Data:d "
              "RootFS.Type:s RootFS.Layers:L Metadata.LastTagTime:s")


def check_images():
    A = "Images"
    with row("images.list", A, "GET /images/json", "entry keys of App. A", "App. A") as r:
        x = call("GET", "/images/json")
        r.status(x, 200)
        j = x.json()
        bb = [i for i in j if "busybox:latest" in (i.get("RepoTags") or [])]
        r.need(bb, "busybox:latest listed")
        if bb:
            r.keys(bb[0], "Id:s ParentId:s RepoTags:l RepoDigests:l Created:i Size:i SharedSize:i "
                   "VirtualSize:i Labels:d Containers:i")
            S.bb_id = bb[0]["Id"]
    with row("images.list.all", A, "GET /images/json", "all=1", "§3.2") as r:
        r.status(call("GET", "/images/json", {"all": 1}), 200)
    for rid, what, f, want in (
            ("reference-go", "reference (Go form)", {"reference": {"busybox": True}}, True),
            ("reference-list", "reference (list form)", {"reference": ["busybox"]}, True),
            ("reference-glob", "reference glob", {"reference": {"busy*:lat*": True}}, True),
            ("reference-miss", "reference that matches nothing", {"reference": {"cx-none": True}},
             False),
            ("dangling", "dangling=true", {"dangling": {"true": True}}, False),
            ("label", "label", {"label": {"cx.none": True}}, False),
            ("before", "before", {"before": {"busybox:latest": True}}, False),
            ("since", "since", {"since": {"busybox:latest": True}}, False)):
        with row("images.filter." + rid, A, "GET /images/json", "filters " + what, "§3.2") as r:
            x = call("GET", "/images/json", {"filters": json.dumps(f)})
            r.status(x, 200)
            has = any("busybox:latest" in (i.get("RepoTags") or []) for i in x.json())
            r.need(has == want, "busybox %s" % ("listed" if want else "left out"))

    with row("images.inspect", A, "GET /images/{name}/json", "App. A keys incl. ContainerConfig",
             "App. A, §5") as r:
        x = call("GET", "/images/busybox/json")
        r.status(x, 200)
        j = x.json()
        r.keys(j, IMAGE_KEYS)
        r.need(j.get("RepoTags") == ["busybox:latest"], "RepoTags short")
        r.need(re.match(r"\d{4}-\d\d-\d\dT", j.get("Created", "")), "Created RFC3339")
    with row("images.inspect.refs", A, "GET /images/{name}/json", "busybox:latest, library/busybox, "
             "docker.io/library/busybox:latest, sha256:<id>, <id>, 12-hex prefix", "§1") as r:
        iid = S.bb_id
        for ref, label in (("busybox:latest", "name:tag"), ("library/busybox", "library/"),
                           ("docker.io/library/busybox:latest", "docker.io/library/"),
                           (iid, "sha256:id"), (iid[7:], "hex id"), (iid[7:19], "12-hex prefix")):
            x = call("GET", "/images/%s/json" % ref)
            r.need(x.status == 200 and x.json().get("Id") == iid, label)
    with row("images.inspect.missing", A, "GET /images/{name}/json", "404 with \"No such image\" "
             "(docker-py ImageNotFound)", "§5, §7") as r:
        x = call("GET", "/images/cx-nosuch:1/json")
        r.status(x, 404)
        r.need("No such image" in x.message(), "No such image text")
    with row("images.history", A, "GET /images/{name}/history", "the layers' history", None) as r:
        x = call("GET", "/images/busybox/history")
        r.status(x, 200)
        j = x.json()
        r.info = "berth answers a list of {Id, Created, CreatedBy, Tags, Size, Comment}"
        r.need(isinstance(j, list) and j and not missing_keys(
            j[0], "Id:s Created:i CreatedBy:s Tags:l Size:i Comment:s"), "entries")
    with row("images.tag", A, "POST /images/{name}/tag", "repo&tag: 201; CLI 28 docker.io/ form, "
             "RepoTags short", "§3.4") as r:
        x = call("POST", "/images/busybox/tag", {"repo": "cx/bb", "tag": "v1"})
        r.status(x, 201)
        r.need(x.header("Content-Length") == "0", "empty, Content-Length: 0")
        y = call("POST", "/images/busybox:latest/tag", {"repo": "docker.io/cx/bb", "tag": "v2"})
        r.need(y.status == 201, "docker.io/ repo")
        tags = call("GET", "/images/busybox/json").json().get("RepoTags") or []
        r.need("cx/bb:v1" in tags and "cx/bb:v2" in tags, "RepoTags short form")
    with row("images.rm", A, "DELETE /images/{name}", "a tag with / and : in the path: 200 "
             "[{Untagged}]", "§3.2") as r:
        x = call("DELETE", "/images/cx/bb:v1")
        r.status(x, 200)
        j = x.json()
        r.need(isinstance(j, list) and {"Untagged": "cx/bb:v1"} in j, "Untagged cx/bb:v1")
    with row("images.rm.missing", A, "DELETE /images/{name}", "404 No such image", "§3.2") as r:
        x = call("DELETE", "/images/cx-nosuch")
        r.status(x, 404)
        r.need("No such image" in x.message(), "message text")

    with row("commit.cli28", A, "POST /commit", "CLI 28: no body, author, comment, changes, "
             "repo docker.io/library/…: 201 {Id}", "§3.4") as r:
        x = call("POST", "/commit", {"author": "me", "changes": 'CMD ["sh"]', "comment": "msg",
                                     "container": "cx-main", "repo": "docker.io/library/cxcommit",
                                     "tag": "2"})
        r.status(x, 201)
        r.keys(x.json(), "Id:s")
        CLEAN_IMAGES.append("cxcommit:2")
        j = call("GET", "/images/cxcommit:2/json").json()
        r.need(j.get("Comment") == "msg", "Comment")
        r.need(j.get("Author") == "me", "Author")
        r.need((j.get("Config") or {}).get("Cmd") == ["sh"], "changes CMD")
        r.need(isinstance(j.get("ContainerConfig"), dict), "ContainerConfig")
    with row("commit.cli20", A, "POST /commit", "CLI 20.10: body null, empty author/comment",
             "§1, §3.4") as r:
        x = call("POST", "/commit", {"author": "", "comment": "", "container": "cx-main",
                                     "repo": "cxcommit", "tag": "3"}, b"null",
                 {"Content-Type": "application/json"})
        r.status(x, 201)
    with row("commit.docker-py", A, "POST /commit", "docker-py: a Config body; pause=0", "§3.4") as r:
        x = call("POST", "/commit", {"container": "cx-main", "repo": "cxcommit", "tag": "4",
                                     "pause": 0}, {"Cmd": ["echo", "pyc"], "Labels": {"l": "v"}})
        r.status(x, 201)
        j = call("GET", "/images/cxcommit:4/json").json()
        r.need((j.get("Config") or {}).get("Cmd") == ["echo", "pyc"], "Config from the body")
    with row("images.rm.in-use", A, "DELETE /images/{name}", "an image a container uses: 409 "
             "(must force)", "§3.2") as r:
        create("cx-user", ["true"], image="cxcommit:4")
        for t in ("2", "3"):
            call("DELETE", "/images/cxcommit:" + t)
        x = call("DELETE", "/images/cxcommit:4")
        r.status(x, 409)
        r.need("(must force)" in x.message(), "must force text")
    with row("images.rm.force", A, "DELETE /images/{name}", "force=1&noprune=1: 200 list",
             "§3.2") as r:
        x = call("DELETE", "/images/cxcommit:4", {"force": 1, "noprune": 1})
        r.status(x, 200)
        r.need(isinstance(x.json(), list) and x.json(), "Untagged/Deleted list")

    with row("images.import", A, "POST /images/create", "fromSrc=- with a chunked tar body: chunked "
             "{\"status\":\"sha256:…\"}, repo with :tag", "§3.4, §6.4") as r:
        x = call("POST", "/images/create", {"fromSrc": "-", "repo": "cx/imported:1",
                                            "message": "imp", "changes": "CMD [\"/x\"]"},
                 tar_bytes({"x": b"imported\n"}), {"Content-Type": "application/x-tar"},
                 chunked=True)
        r.status(x, 200)
        r.need(x.header("Transfer-Encoding") == "chunked", "chunked")
        msgs = json_stream(x.body)
        r.need(any(re.fullmatch(r"sha256:[0-9a-f]{64}", m.get("status", "")) for m in msgs),
               "status sha256:<id>")
        j = call("GET", "/images/cx/imported:1/json")
        r.need(j.status == 200, "the image exists")
        r.need(j.status == 200 and (j.json().get("Config") or {}).get("Cmd") == ["/x"], "changes")
    with row("images.save", A, "GET /images/get", "names=…&names=…: docker-archive tar", "§3.4") as r:
        x = call("GET", "/images/get", {"names": ["busybox", "cx/bb:v2"]}, timeout=30)
        r.status(x, 200)
        r.need(x.header("Content-Type") == "application/x-tar", "Content-Type application/x-tar")
        names = tar_names(x.body) or []
        r.need("manifest.json" in names, "manifest.json")
        r.need("repositories" in names, "repositories")
        if "manifest.json" in names:
            m = json.loads(tar_member(x.body, "manifest.json"))
            tags = sum((e.get("RepoTags") or [] for e in m), [])
            r.need("busybox:latest" in tags and "cx/bb:v2" in tags, "both names")
    with row("images.save-one", A, "GET /images/{name}/get", "docker-py: one image", "§3.4") as r:
        x = call("GET", "/images/busybox/get", timeout=30)
        r.status(x, 200)
        r.need("manifest.json" in (tar_names(x.body) or []), "manifest.json")
        r.need("repositories" in (tar_names(x.body) or []), "repositories")
    with row("images.load", A, "POST /images/load", "quiet=1, chunked tar: Content-Type exactly "
             "application/json, Loaded image:", "§3.4, §6.4") as r:
        data = open(BB_TAR, "rb").read()
        x = call("POST", "/images/load", {"quiet": 1}, data,
                 {"Content-Type": "application/x-tar"}, chunked=True, timeout=30)
        r.status(x, 200)
        r.need(x.header("Content-Type") == "application/json", "Content-Type application/json")
        r.need({"stream": "Loaded image: busybox:latest\n"} in json_stream(x.body),
               "Loaded image: busybox:latest")
    with row("images.load.progress", A, "POST /images/load", "quiet=0", "§6.4") as r:
        x = call("POST", "/images/load", {"quiet": 0}, open(BB_TAR, "rb").read(),
                 {"Content-Type": "application/x-tar"}, chunked=True, timeout=30)
        r.status(x, 200)
        r.need(any("Loaded image" in m.get("stream", "") for m in json_stream(x.body)),
               "Loaded image")
    with row("images.prune", A, "POST /images/prune", "filters dangling: {ImagesDeleted, "
             "SpaceReclaimed}", "§3.6") as r:
        x = call("POST", "/images/prune", {"filters": json.dumps({"dangling": {"true": True}})})
        r.status(x, 200)
        r.keys(x.json(), "ImagesDeleted:l SpaceReclaimed:i")
        r.need(call("GET", "/images/busybox/json").status == 200, "tagged images kept")
    with row("images.search", A, "GET /images/search", "term=<loopback registry>/cx", "§8",
             acceptable="not needed (§8 tier 3)") as r:
        term = (REGISTRY or "127.0.0.1:1") + "/cx"
        x = call("GET", "/images/search", {"term": term, "limit": 5}, timeout=15)
        r.status(x, 200)
        r.need(isinstance(x.json(), list), "a list")


def build_ctx(dockerfile, extra=None):
    files = {"Dockerfile": dockerfile.encode(), ".dockerignore": b""}
    files.update(extra or {})
    return tar_bytes(files)


def check_build():
    A = "Build"
    ctx = build_ctx("FROM busybox\nRUN echo built > /built\nLABEL cx.built=1\nCMD [\"cat\", \"/built\"]\n")
    with row("build", A, "POST /build", "CLI 28 query, chunked tar: {stream}, aux ID, Successfully "
             "built/tagged", "§3.3, §6.3") as r:
        x = call("POST", "/build", {"buildargs": json.dumps({"X": "1"}), "dockerfile": "Dockerfile",
                                    "labels": json.dumps({"a": "b"}), "t": "cx/built:1",
                                    "version": "1"}, ctx,
                 {"Content-Type": "application/x-tar", "X-Registry-Config": "e30="},
                 chunked=True, timeout=60)
        r.status(x, 200)
        msgs = json_stream(x.body)
        text = "".join(m.get("stream", "") for m in msgs)
        r.need(x.header("Content-Type") == "application/json", "Content-Type application/json")
        r.need(x.header("Transfer-Encoding") == "chunked", "chunked")
        r.need(any(re.fullmatch(r"sha256:[0-9a-f]{64}", str((m.get("aux") or {}).get("ID", "")))
                   for m in msgs), "aux ID")
        r.need(re.search(r"Successfully built [0-9a-f]{12}\n", text), "Successfully built")
        r.need("Successfully tagged cx/built:1\n" in text, "Successfully tagged")
        # the --label step counts (moby adds it as a LABEL instruction)
        r.need("Step 1/5 : FROM busybox" in text, "Step n/m lines")
        j = call("GET", "/images/cx/built:1/json")
        r.need(j.status == 200 and (j.json().get("Config") or {}).get("Labels", {}).get("a") == "b",
               "labels query")
    with row("build.quiet", A, "POST /build", "q=1: only {\"stream\":\"sha256:…\\n\"}", "§3.3") as r:
        x = call("POST", "/build", {"q": 1, "t": "cx/built:q"}, ctx,
                 {"Content-Type": "application/x-tar"}, chunked=True, timeout=60)
        r.status(x, 200)
        msgs = [m for m in json_stream(x.body) if "stream" in m]
        r.need(len(msgs) == 1 and re.fullmatch(r"sha256:[0-9a-f]{64}\n", msgs[0]["stream"]),
               "only the ID")
    with row("build.cli20", A, "POST /build", "CLI 20.10 query (cachefrom=[], ulimits=null, "
             "buildargs={}, empty k=, rm=1)", "§1, §9") as r:
        q = {"buildargs": "{}", "cachefrom": "[]", "cgroupparent": "", "cpuperiod": 0,
             "cpuquota": 0, "cpusetcpus": "", "cpusetmems": "", "cpushares": 0,
             "dockerfile": "Dockerfile", "labels": "{}", "memory": 0, "memswap": 0,
             "networkmode": "default", "rm": 1, "shmsize": 0, "t": "cx/built:20", "target": "",
             "ulimits": "null", "version": "1"}
        x = call("POST", "/build", q, ctx, {"Content-Type": "application/x-tar"}, chunked=True,
                 timeout=60)
        r.status(x, 200)
        r.need(not any("error" in m for m in json_stream(x.body)), "builds")
    with row("build.docker-py", A, "POST /build", "docker-py/compose: application/tar, True/False "
             "booleans", "§3.3, §5") as r:
        x = call("POST", "/build", {"t": "cx_web_img", "q": "False", "nocache": "False",
                                    "rm": "True", "forcerm": "False", "pull": "False"}, ctx,
                 {"Content-Type": "application/tar"}, timeout=60)
        r.status(x, 200)
        r.need(re.search(r"Successfully built [0-9a-f]+", "".join(
            m.get("stream", "") for m in json_stream(x.body))), "Successfully built")
    with row("build.gzip", A, "POST /build", "a gzip-compressed context", "§3.3") as r:
        import gzip
        x = call("POST", "/build", {"t": "cx/built:gz"}, gzip.compress(ctx),
                 {"Content-Type": "application/x-tar"}, chunked=True, timeout=60)
        r.status(x, 200)
        r.need(not any("error" in m for m in json_stream(x.body)), "builds")
    with row("build.fail", A, "POST /build", "a failing RUN: errorDetail {code, message} in the "
             "stream", "§3.3, §6.3") as r:
        x = call("POST", "/build", {"t": "cx/fail:1"}, build_ctx("FROM busybox\nRUN exit 7\n"),
                 {"Content-Type": "application/x-tar"}, chunked=True, timeout=60)
        r.status(x, 200)
        errs = [m for m in json_stream(x.body) if "errorDetail" in m]
        r.need(errs and errs[-1]["errorDetail"].get("code") == 7, "errorDetail.code 7")
        r.need(errs and "returned a non-zero code: 7" in errs[-1].get("error", ""), "error text")
    with row("build.prune", A, "POST /build/prune", "the builder cache", None) as r:
        x = call("POST", "/build/prune")
        r.status(x, 200)
        j = x.json()
        r.info = "berth answers %s" % ", ".join(sorted(j)) if isinstance(j, dict) else ""
        r.need(isinstance(j, dict) and "SpaceReclaimed" in j, "SpaceReclaimed")
    with row("session", A, "POST /session", "BuildKit session (h2c)", "§0.3, §8",
             acceptable="not offered by design (§0.3)") as r:
        h = Hijack("/session", upgrade=True)
        r.status(h.status, 101)
        h.close()
    with row("grpc", A, "POST /grpc", "BuildKit gRPC (h2c)", "§0.3, §8",
             acceptable="not offered by design (§0.3)") as r:
        h = Hijack("/grpc", upgrade=True)
        r.status(h.status, 101, 200)
        h.close()


def check_registry():
    A = "Registry"
    repo = "%s/cx/bb" % REGISTRY
    auth = {"X-Registry-Auth": "e30="}

    def need_registry(r):
        if not REGISTRY:
            r.not_checked("no docker-registry on loopback here")

    with row("push", A, "POST /images/{name}/push", "tag=v1, X-Registry-Auth e30=: chunked "
             "progress, digest line, aux {Tag, Digest, Size}", "§3.2, §6.2") as r:
        need_registry(r)
        call("POST", "/images/busybox/tag", {"repo": repo, "tag": "v1"})
        x = call("POST", "/images/%s/push" % repo, {"tag": "v1"}, headers=auth, timeout=60)
        r.status(x, 200)
        msgs = json_stream(x.body)
        r.need(x.header("Transfer-Encoding") == "chunked", "chunked")
        st = [m.get("status", "") for m in msgs]
        r.need("The push refers to repository [%s]" % repo in st, "The push refers to repository")
        r.need(any(s in ("Pushed", "Layer already exists") for s in st), "per-layer status")
        r.need(any(re.fullmatch(r"[0-9a-f]{12}", m.get("id", "")) for m in msgs), "12-hex ids")
        r.need(any(re.fullmatch(r"v1: digest: sha256:[0-9a-f]{64} size: \d+", s) for s in st),
               "digest line")
        aux = [m["aux"] for m in msgs if "aux" in m]
        r.need(aux and not missing_keys(aux[0], "Tag:s Digest:s Size:i"), "aux {Tag,Digest,Size}")
        S.pushed_digest = aux[0].get("Digest") if aux else None
    with row("push.docker-io-path", A, "POST /images/{name}/push", "CLI 28 path "
             "/images/docker.io/… (unknown tag: the error in the stream)", "§3.2") as r:
        need_registry(r)
        x = call("POST", "/images/docker.io/cx/nosuchbb/push", {"tag": "v9"}, headers=auth)
        if x.status == 200:
            errs = [m for m in json_stream(x.body) if "error" in m]
            r.need(errs and "An image does not exist locally with the tag" in errs[0]["error"],
                   "in-stream error text")
        else:
            r.status(x, 200, 404)
            r.need(False, "error in the stream (got an HTTP %d)" % x.status)
    with row("pull", A, "POST /images/create", "fromImage&tag: chunked §6.1 progress, Digest, "
             "Status lines", "§3.2, §6.1") as r:
        need_registry(r)
        call("DELETE", "/images/%s:v1" % repo)
        x = call("POST", "/images/create", {"fromImage": repo, "tag": "v1"}, headers=auth,
                 timeout=60)
        r.status(x, 200)
        msgs = json_stream(x.body)
        st = [m.get("status", "") for m in msgs]
        r.need(x.header("Transfer-Encoding") == "chunked", "chunked")
        r.need({"status": "Pulling from cx/bb", "id": "v1"} in msgs, "Pulling from <repo> id <tag>")
        r.need(any(s in ("Pull complete", "Already exists") for s in st), "per-layer status")
        r.need(any(re.fullmatch(r"Digest: sha256:[0-9a-f]{64}", s) for s in st), "Digest line")
        r.need(any(s.startswith("Status: ") and repo + ":v1" in s for s in st), "Status line")
        r.need(call("GET", "/images/%s:v1/json" % repo).status == 200, "the image is there")
    with row("pull.docker-py", A, "POST /images/create", "no X-Registry-Auth (docker-py); "
             "URL-safe base64 auth without padding", "§1, §5") as r:
        need_registry(r)
        x = call("POST", "/images/create", {"tag": "v1", "fromImage": repo}, timeout=60)
        r.status(x, 200)
        a = base64.urlsafe_b64encode(json.dumps({"username": "", "password": "",
                                                 "serveraddress": REGISTRY}).encode())
        y = call("POST", "/images/create", {"tag": "v1", "fromImage": repo},
                 headers={"X-Registry-Auth": a.decode().rstrip("=")}, timeout=60)
        r.need(y.status == 200 and not any("error" in m for m in json_stream(y.body)),
               "URL-safe auth header")
    with row("pull.digest", A, "POST /images/create", "tag=sha256:<digest>", "§3.2") as r:
        need_registry(r)
        if not getattr(S, "pushed_digest", None):
            r.not_checked("the push gave no digest")
        x = call("POST", "/images/create", {"fromImage": repo, "tag": S.pushed_digest},
                 timeout=60)
        r.status(x, 200)
        r.need(not any("error" in m for m in json_stream(x.body)), "pulls")
    with row("pull.missing", A, "POST /images/create", "unknown repository / tag: an HTTP 404 "
             "before the stream", "§6.1") as r:
        need_registry(r)
        x = call("POST", "/images/create", {"fromImage": "%s/cx/nosuch" % REGISTRY, "tag": "v1"},
                 timeout=30)
        r.status(x, 404)
        y = call("POST", "/images/create", {"fromImage": repo, "tag": "nosuchtag"}, timeout=30)
        r.need(y.status == 404 and "not found" in y.message(), "unknown tag 404")
    with row("auth", A, "POST /auth", "{username, password, serveraddress}: "
             "{Status: Login Succeeded}", "§3.6") as r:
        need_registry(r)
        x = call("POST", "/auth", None, {"username": "cx", "password": "pw",
                                         "serveraddress": REGISTRY})
        r.status(x, 200)
        j = x.json()
        r.need(j.get("Status") == "Login Succeeded", "Status Login Succeeded")
        r.need("IdentityToken" in j, "IdentityToken")
    with row("distribution", A, "GET /distribution/{name}/json", "the registry's descriptor",
             None) as r:
        need_registry(r)
        x = call("GET", "/distribution/%s:v1/json" % repo, timeout=30)
        r.status(x, 200)
        r.info = "berth answers a descriptor"
        r.need(not missing_keys(x.json(), "Descriptor.mediaType:s Descriptor.digest:s "
                                "Descriptor.size:i Platforms:l"), "Descriptor, Platforms")


# --------------------------------------------------------------------------
# §3.5: volumes and networks

VOLUME_KEYS = "Name:s Driver:s Mountpoint:s CreatedAt:s Labels:d Options:d Scope:s"
NETWORK_KEYS = ("Name:s Id:s Created:s Scope:s Driver:s EnableIPv6:b IPAM.Driver:s IPAM.Options:d "
                "IPAM.Config:l Internal:b Attachable:b Ingress:b ConfigFrom.Network:s ConfigOnly:b "
                "Containers:d Options:d Labels:d")


def check_volumes():
    A = "Volumes"
    with row("volumes.create", A, "POST /volumes/create", "{Name, Driver, DriverOpts, Labels}: 201 "
             "Volume; an existing name returns it", "§3.5") as r:
        x = call("POST", "/volumes/create", None, {"Name": "cx-v1", "Driver": "local",
                                                   "DriverOpts": {}, "Labels": {"a": "b"}})
        r.status(x, 201)
        j = x.json()
        r.keys(j, VOLUME_KEYS)
        r.need(j.get("Scope") == "local", "Scope local")
        r.need(call("POST", "/volumes/create", None, {"Name": "cx-v1"}).status == 201,
               "existing name: 201")
    with row("volumes.create.anonymous", A, "POST /volumes/create", "no name: a 64-hex name",
             "§3.5") as r:
        x = call("POST", "/volumes/create", None, {})
        r.status(x, 201)
        r.need(re.fullmatch(r"[0-9a-f]{64}", x.json().get("Name", "")), "64-hex name")
    with row("volumes.list", A, "GET /volumes", "{Volumes, Warnings}", "§3.5") as r:
        x = call("GET", "/volumes")
        r.status(x, 200)
        j = x.json()
        r.keys(j, "Volumes:L Warnings:l")
        r.need(any(v.get("Name") == "cx-v1" for v in j.get("Volumes") or []), "lists cx-v1")
    for rid, f, want in (("dangling", {"dangling": {"true": True}}, True),
                         ("name", {"name": {"cx-v": True}}, True),
                         ("label", {"label": {"a=b": True}}, True),
                         ("driver", {"driver": {"local": True}}, True),
                         ("label-miss", {"label": {"a=c": True}}, False)):
        with row("volumes.filter." + rid, A, "GET /volumes", "filters " + rid, "§3.5") as r:
            x = call("GET", "/volumes", {"filters": json.dumps(f)})
            r.status(x, 200)
            names = [v["Name"] for v in x.json().get("Volumes") or []]
            r.need(("cx-v1" in names) == want, "cx-v1 %s" % ("listed" if want else "left out"))
    with row("volumes.inspect", A, "GET /volumes/{name}", "Volume; Options without private keys "
             "(compose)", "§3.5, §5") as r:
        x = call("GET", "/volumes/cx-v1")
        r.status(x, 200)
        j = x.json()
        r.keys(j, VOLUME_KEYS)
        r.need(all(k.startswith("com.docker.") for k in (j.get("Options") or {})),
               "no extra Options")
    with row("volumes.inspect.missing", A, "GET /volumes/{name}", "404 get x: no such volume",
             "§3.5") as r:
        x = call("GET", "/volumes/cx-nosuch")
        r.status(x, 404)
        r.need("no such volume" in x.message(), "message text")
    with row("volumes.rm.in-use", A, "DELETE /volumes/{name}", "in use: 409 volume is in use",
             "§3.5") as r:
        x = call("DELETE", "/volumes/cx-autovol")
        r.status(x, 409)
        r.need("volume is in use" in x.message(), "message text")
    with row("volumes.rm", A, "DELETE /volumes/{name}", "204", "§3.5") as r:
        r.status(call("DELETE", "/volumes/cx-v1"), 204)
        r.need(call("GET", "/volumes/cx-v1").status == 404, "gone")
    with row("volumes.prune", A, "POST /volumes/prune", "{VolumesDeleted, SpaceReclaimed}; all "
             "unused at 1.41", "§3.5") as r:
        call("POST", "/volumes/create", None, {"Name": "cx-v2"})
        x = call("POST", "/volumes/prune")
        r.status(x, 200)
        j = x.json()
        r.keys(j, "VolumesDeleted:l SpaceReclaimed:i")
        r.need("cx-v2" in (j.get("VolumesDeleted") or []), "named unused volume pruned")
        r.need(call("GET", "/volumes/cx-autovol").status == 200, "used volume kept")


def check_networks():
    A = "Networks"
    with row("networks.list", A, "GET /networks", "bridge, host, none always there", "§3.5") as r:
        x = call("GET", "/networks")
        r.status(x, 200)
        d = {n.get("Name"): n for n in x.json()}
        for name, drv in (("bridge", "bridge"), ("host", "host"), ("none", "null")):
            r.need(d.get(name, {}).get("Driver") == drv, "%s (driver %s)" % (name, drv))
        if "bridge" in d:
            r.keys(d["bridge"], NETWORK_KEYS, "bridge.")
    net = {"Name": "cx-net", "CheckDuplicate": True, "Driver": "bridge", "Scope": "",
           "EnableIPv6": False, "IPAM": {"Driver": "default", "Options": {},
                                         "Config": [{"Subnet": NET_PREFIX + ".128/26"}]},
           "Internal": False, "Attachable": True, "Ingress": False, "ConfigOnly": False,
           "ConfigFrom": {"Network": ""}, "Options": {}, "Labels": {"a": "b"}}
    with row("networks.create", A, "POST /networks/create", "the CLI's body: 201 {Id, Warning}",
             "§3.5") as r:
        x = call("POST", "/networks/create", None, net)
        r.status(x, 201)
        CLEAN_NETS.append("cx-net")
        r.keys(x.json(), "Id:s Warning:s")
        S.net = x.json()["Id"]
    with row("networks.create.dup", A, "POST /networks/create", "duplicate name with "
             "CheckDuplicate: 409", "§3.5") as r:
        x = call("POST", "/networks/create", None, net)
        r.status(x, 409)
        r.need("already exists" in x.message(), "message text")
    with row("networks.inspect", A, "GET /networks/{id}", "keys of §3.5; Options and IPAM as "
             "created (compose compares them)", "§3.5, §5") as r:
        x = call("GET", "/networks/cx-net")
        r.status(x, 200)
        j = x.json()
        r.keys(j, NETWORK_KEYS)
        r.need(j.get("Options") in ({}, None), "no private Options")
        r.need(((j.get("IPAM") or {}).get("Config") or [{}])[0].get("Subnet")
               == NET_PREFIX + ".128/26", "IPAM.Config Subnet")
        r.need(j.get("Labels") == {"a": "b"}, "Labels")
        r.need(call("GET", "/networks/%s" % S.net[:12]).status == 200, "by ID prefix")
        r.need(call("GET", "/networks/cx-net", {"verbose": "false", "scope": "local"}).status == 200,
               "verbose, scope")
    with row("networks.inspect.missing", A, "GET /networks/{id}", "404 network x not found",
             "§3.5") as r:
        x = call("GET", "/networks/cx-nosuch")
        r.status(x, 404)
        r.need("network cx-nosuch not found" in x.message(), "message text")
    for rid, f, want in (("name", {"name": {"cx-n": True}}, True),
                         ("driver", {"driver": {"bridge": True}}, True),
                         ("type-custom", {"type": {"custom": True}}, True),
                         ("type-builtin", {"type": {"builtin": True}}, False),
                         ("label", {"label": {"a=b": True}}, True),
                         ("id", {"id": {S.__dict__.get("net", "x")[:12]: True}}, True),
                         ("scope", {"scope": {"local": True}}, True),
                         ("dangling", {"dangling": {"true": True}}, True)):
        with row("networks.filter." + rid, A, "GET /networks", "filters " + rid, "§3.5") as r:
            x = call("GET", "/networks", {"filters": json.dumps(f)})
            r.status(x, 200)
            names = [n["Name"] for n in x.json()]
            r.need(("cx-net" in names) == want, "cx-net %s" % ("listed" if want else "left out"))
    with row("networks.connect.created", A, "POST /networks/{id}/connect", "a created container, "
             "Aliases: 200; inspect shows the network with the short ID alias", "§3.5, §5") as r:
        S.created = create("cx-netc", ["true"])
        x = call("POST", "/networks/cx-net/connect", None,
                 {"Container": S.created, "EndpointConfig": {"Aliases": ["cxalias"]}})
        r.status(x, 200)
        r.need(x.header("Content-Length") == "0", "empty, Content-Length: 0")
        n = (inspect(S.created)["NetworkSettings"].get("Networks") or {}).get("cx-net")
        r.need(n is not None, "listed before start")
        al = (n or {}).get("Aliases") or []
        r.need("cxalias" in al, "user alias")
        r.need(S.created[:12] in al, "short ID alias")
    with row("networks.disconnect", A, "POST /networks/{id}/disconnect", "{Container, Force}: 200",
             "§3.5") as r:
        x = call("POST", "/networks/cx-net/disconnect", None, {"Container": S.created,
                                                               "Force": False})
        r.status(x, 200)
        r.need("cx-net" not in (inspect(S.created)["NetworkSettings"].get("Networks") or {}),
               "gone from inspect")
    with row("networks.connect.running", A, "POST /networks/{id}/connect", "a running container: "
             "200, an address on the network, DNS for name and alias", "§3.5, §8") as r:
        x = call("POST", "/networks/cx-net/connect", None,
                 {"Container": S.main, "EndpointConfig": {"Aliases": ["mainalias"]}})
        r.status(x, 200)
        n = (inspect(S.main)["NetworkSettings"].get("Networks") or {}).get("cx-net") or {}
        r.need(str(n.get("IPAddress", "")).startswith(NET_PREFIX + "."), "IPAddress")
        c2 = create("cx-peer", ["sh", "-c", LOOP], HostConfig={"NetworkMode": "cx-net"})
        start(c2)
        out = exec_run(c2, ["sh", "-c", "nslookup cx-main 2>&1; nslookup mainalias 2>&1"])
        r.need(out.count(n.get("IPAddress", "-").encode()) >= 2 if n.get("IPAddress") else False,
               "DNS for name and alias")
        S.peer = c2
    with row("networks.rm.in-use", A, "DELETE /networks/{id}", "active endpoints: 403", "§3.5") as r:
        x = call("DELETE", "/networks/cx-net")
        r.status(x, 403)
        r.need("has active endpoints" in x.message(), "message text")
    with row("networks.rm", A, "DELETE /networks/{id}", "204", "§3.5") as r:
        call("DELETE", "/containers/%s" % S.peer, {"force": 1})
        call("POST", "/networks/cx-net/disconnect", None, {"Container": S.main, "Force": True})
        r.status(call("DELETE", "/networks/cx-net"), 204)
    with row("networks.prune", A, "POST /networks/prune", "{NetworksDeleted}", "§3.5") as r:
        call("POST", "/networks/create", None, {"Name": "cx-net2", "CheckDuplicate": True,
                                                "IPAM": {"Config": [{"Subnet": NET_PREFIX +
                                                                     ".192/26"}]}})
        CLEAN_NETS.append("cx-net2")
        x = call("POST", "/networks/prune")
        r.status(x, 200)
        j = x.json()
        r.keys(j, "NetworksDeleted:l")
        r.need("cx-net2" in (j.get("NetworksDeleted") or []), "unused network pruned")
        r.need(call("GET", "/networks/bridge").status == 200, "bridge kept")


# --------------------------------------------------------------------------
# §3.6, §6.5, §8: system, events, swarm, plugins


def check_system():
    A = "Handshake and system"
    with row("system.df", A, "GET /system/df", "{LayersSize, Images, Containers, Volumes, "
             "BuildCache}", "§3.6") as r:
        x = call("GET", "/system/df", timeout=30)
        r.status(x, 200)
        j = x.json()
        r.keys(j, "LayersSize:i Images:L Containers:L Volumes:L BuildCache:l")
        if j.get("Images"):
            r.keys(j["Images"][0], "Id:s RepoTags:l Size:i SharedSize:i Containers:i", "Images[].")
        if j.get("Containers"):
            r.keys(j["Containers"][0], "Id:s Names:L SizeRw:i SizeRootFs:i", "Containers[].")
        if j.get("Volumes"):
            r.keys(j["Volumes"][0], "Name:s UsageData.Size:i UsageData.RefCount:i", "Volumes[].")
    A = "Events"
    until = "%.9f" % time.time()
    with row("events.history", A, "GET /events", "since&until in the past: the history, then the "
             "end; legacy status/id/from", "§6.5, §5") as r:
        x = call("GET", "/events", {"since": "%d" % int(T0 - 1), "until": until}, timeout=10)
        r.status(x, 200)
        r.need(x.header("Transfer-Encoding") == "chunked", "chunked")
        ev = json_stream(x.body)
        mine = [e for e in ev if (e.get("Actor") or {}).get("ID") == S.main]
        acts = {e.get("Action") for e in mine}
        for a in ("create", "start", "pause"):
            r.need(any(e.get("Action") == a for e in ev if e.get("Type") == "container"),
                   "container %s" % a)
        r.need("create" in acts and "start" in acts, "cx-main create/start")
        r.need(any(e.get("Action") == "die" and "exitCode" in e["Actor"].get("Attributes", {})
                   for e in ev), "die with exitCode")
        r.need(any(e.get("Type") == "image" and e.get("Action") == "tag" for e in ev), "image tag")
        r.need(any(e.get("Type") == "volume" and e.get("Action") == "create" for e in ev),
               "volume create")
        r.need(any(e.get("Type") == "network" and e.get("Action") == "connect" for e in ev),
               "network connect")
        if mine:
            e = mine[0]
            r.keys(e, "status:s id:s from:s Type:s Action:s Actor.ID:s Actor.Attributes:D scope:s "
                   "time:i timeNano:i")
            at = e.get("Actor", {}).get("Attributes", {})
            r.need(at.get("name") == "cx-main" and at.get("image") == "busybox",
                   "Attributes name, image")
            r.need(at.get("cx.role") == "main", "labels in Attributes")
    with row("events.filters", A, "GET /events", "filters type, event, container, label (both "
             "encodings)", "§6.5") as r:
        base = {"since": "%d" % int(T0 - 1), "until": until}
        x = call("GET", "/events", dict(base, filters=json.dumps(
            {"type": {"container": True}, "event": {"start": True}})), timeout=10)
        r.status(x, 200)
        ev = json_stream(x.body)
        r.need(ev and all(e.get("Type") == "container" and e.get("Action") == "start" for e in ev),
               "type and event")
        x = call("GET", "/events", dict(base, filters=json.dumps({"container": {"cx-main": True}})),
                 timeout=10)
        ev = json_stream(x.body)
        r.need(ev and all(e.get("id") == S.main or (e.get("Actor") or {}).get("ID") == S.main
                          for e in ev), "container")
        x = call("GET", "/events", dict(base, filters=json.dumps({"label": ["cx.role=main"]})),
                 timeout=10)
        ev = json_stream(x.body)
        r.need(ev and all((e.get("Actor") or {}).get("ID") == S.main for e in ev), "label (list)")
    with row("events.live", A, "GET /events", "no until: headers at once, stays open, new events "
             "arrive", "§6.5") as r:
        c, resp, dt = stream_open("GET", "/events", {"filters": json.dumps(
            {"type": ["container"]})}, timeout=5)
        r.status(resp.status, 200)
        r.need(dt < 1, "headers at once")
        r.need(resp.getheader("Transfer-Encoding") == "chunked", "chunked")
        call("POST", "/containers/%s/kill" % S.main, {"signal": "WINCH"})
        data = read_some(resp, lambda b: b'"kill"' in b and b.endswith(b"\n"), 5)
        c.close()
        ev = [e for e in json_stream(data) if e.get("Action") == "kill"]
        r.need(ev and ev[0].get("Actor", {}).get("Attributes", {}).get("signal") in (
            "28", "WINCH", "SIGWINCH"), "kill with signal")

    A = "Swarm and plugins"
    for method, path in (("GET", "/swarm"), ("POST", "/swarm/init"), ("POST", "/swarm/join"),
                         ("POST", "/swarm/leave"), ("GET", "/nodes"), ("GET", "/services"),
                         ("POST", "/services/create"), ("GET", "/tasks"), ("GET", "/secrets"),
                         ("GET", "/configs")):
        with row("swarm.%s%s" % (method.lower(), path.replace("/", ".")), A,
                 "%s %s" % (method, path), "503 with a message (not in a swarm)", "§8") as r:
            x = call(method, path, body={} if method == "POST" else None)
            r.status(x, 503)
            r.need(x.header("Content-Type") == "application/json" and x.message(),
                   "JSON message")
    with row("plugins.list", A, "GET /plugins", "the plugin list", "§8",
             acceptable="a 404 is fine (§8)") as r:
        x = call("GET", "/plugins")
        r.status(x, 200)
        r.need(isinstance(x.json(), list), "a list")


# --------------------------------------------------------------------------
# comparison, table


def compare(rows, base):
    """(regressions, improvements, new rows)"""
    bad, better, new = [], [], []
    cur = {r["id"]: r for r in rows}
    for rid, b in sorted(base.items()):
        r = cur.get(rid)
        if r is None:
            bad.append("%s: in the baseline, no longer checked" % rid)
            continue
        if r["result"] == "not checked" or b["result"] == "not checked":
            if r["result"] != b["result"]:
                (better if r["result"] != "not checked" else new).append(
                    "%s: %s (baseline %s)" % (rid, r["result"], b["result"]))
            continue
        if b["result"] == "unknown" or r["result"] == "unknown":
            was = b["result"] != "not served" and b.get("works", True)
            now = r["result"] != "not served" and r.get("works", True)
            if was and not now:
                bad.append("%s: %s, was %s%s" % (rid, describe(r), b["result"],
                                                  " (works)" if b.get("works") else ""))
            elif now and not was:
                better.append("%s: %s (baseline %s)" % (rid, describe(r), b["result"]))
            continue
        rb, rc = RANK[b["result"]], RANK[r["result"]]
        if rc < rb:
            bad.append("%s: %s, baseline %s" % (rid, describe(r), describe(b)))
        elif rc > rb:
            better.append("%s: %s (baseline %s)" % (rid, r["result"], describe(b)))
        elif r["result"] == "partial":
            grew = set(r.get("missing", [])) - set(b.get("missing", []))
            shrank = set(b.get("missing", [])) - set(r.get("missing", []))
            if grew:
                bad.append("%s: now also missing %s" % (rid, ", ".join(sorted(grew))))
            elif shrank:
                better.append("%s: no longer missing %s" % (rid, ", ".join(sorted(shrank))))
    for rid in cur:
        if rid not in base:
            new.append("%s: %s (not in the baseline)" % (rid, cur[rid]["result"]))
    return bad, better, new


def describe(r):
    s = r["result"]
    if r.get("missing"):
        s += " (missing: %s)" % ", ".join(r["missing"])
    if r.get("note") and r["result"] in ("not served", "not checked"):
        s += " [%s]" % r["note"]
    return s


def md(text):
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows):
    counts = {}
    for r in rows:
        counts[r["result"]] = counts.get(r["result"], 0) + 1
    order = ("served", "partial", "not served", "unknown", "not checked")
    out = ["%d checks: %s." % (len(rows), ", ".join("%d %s" % (counts[k], k) for k in order
                                                    if counts.get(k)))]
    out += ["", "### By endpoint", "",
            "| Endpoint | Result | What is missing or not served |", "|---|---|---|"]
    eps = []
    for r in rows:
        if r["endpoint"] not in eps:
            eps.append(r["endpoint"])
    for ep in eps:
        rs = [r for r in rows if r["endpoint"] == ep and r["result"] != "not checked"]
        known = [r for r in rs if r["result"] != "unknown"]
        res = {r["result"] for r in known}
        if not rs:
            agg = "not checked"
        elif not known:
            agg = "unknown"
        elif len(res) == 1 and res != {"partial"}:
            agg = res.pop()
        else:
            agg = "partial"
        gaps = []
        for r in rs:
            if r["result"] == "partial":
                gaps.append("%s: %s" % (r["id"], ", ".join(r["missing"])))
            elif r["result"] == "not served" and agg != "not served":
                gaps.append("%s: not served (%s)" % (r["id"], r.get("note", "")))
            elif r["result"] == "unknown":
                gaps.append("%s: unknown, %s" % (r["id"], "works" if r.get("works")
                                                  else "does not work"))
        if agg == "not served":
            gaps = sorted({r.get("note", "") for r in rs})
        out.append("| `%s` | %s | %s |" % (md(ep), agg, md("; ".join(gaps))))
    out += ["", "### Every check"]
    areas = []
    for r in rows:
        if r["area"] not in areas:
            areas.append(r["area"])
    for a in areas:
        out += ["", "#### " + a, "", "| Endpoint | Check | Map | Result | Missing / note |",
                "|---|---|---|---|---|"]
        for r in rows:
            if r["area"] != a:
                continue
            res = r["result"]
            if res == "unknown":
                res = "unknown (%s)" % ("works" if r.get("works") else "does not work")
            note = ", ".join(r.get("missing") or [])
            if r.get("note") and (res != "served"):
                note = (note + "; " if note else "") + r["note"]
            out.append("| `%s` | %s | %s | %s | %s |" % (md(r["endpoint"]), md(r["what"]),
                                                         r["ref"] or "silent", res, md(note)))
    return "\n".join(out) + "\n"


def write_readme(text):
    b, e = "<!-- compat-table:begin -->", "<!-- compat-table:end -->"
    s = open(README).read()
    if b not in s or e not in s:
        print("README.md has no %s / %s markers; the table:\n%s" % (b, e, text))
        return
    head, rest = s.split(b, 1)
    _, tail = rest.split(e, 1)
    with open(README, "w") as f:
        f.write(head + b + "\n" + text + e + tail)


def cleanup():
    for n in CLEAN_NETS:
        try:
            call("DELETE", "/networks/" + n, timeout=10)
        except Exception:
            pass


def main():
    steps = (check_handshake, check_create, check_list_inspect, check_lifecycle, check_exec,
             check_remove_prune, check_images, check_build, check_registry, check_volumes,
             check_networks, check_system)
    try:
        for step in steps:
            t = time.time()
            try:
                step()
            except Exception as e:
                # a set-up failure: the step's remaining rows are missing,
                # which the comparison with the baseline reports
                print("step %s stopped: %s: %s" % (step.__name__, type(e).__name__, e),
                      file=sys.stderr)
            print("# %s: %.1f s" % (step.__name__, time.time() - t))
    finally:
        cleanup()
    for r in ROWS:
        print("%-11s %-28s %s" % (r["result"], r["id"], describe(r)[len(r["result"]):].strip()))
    base = {}
    if os.path.exists(BASELINE):
        base = {r["id"]: r for r in json.load(open(BASELINE))["rows"]}
    ids = [r["id"] for r in ROWS]
    dups = {i for i in ids if ids.count(i) > 1}
    if dups:
        print("duplicate row ids: %s" % ", ".join(sorted(dups)))
        return 1
    text = table(ROWS)
    print("\n" + text.split("\n")[0])
    if UPDATE:
        keep = [{k: v for k, v in r.items() if k in ("id", "area", "endpoint", "what", "ref",
                                                      "result", "missing", "works", "note")}
                for r in ROWS]
        with open(BASELINE, "w") as f:
            json.dump({"about": "daemon-compat.py: the Engine API compatibility of berthd; "
                       "regenerate with BERTH_COMPAT_UPDATE=1", "rows": keep}, f, indent=1,
                      ensure_ascii=False)
            f.write("\n")
        write_readme(text)
        print("baseline and README table written (%d rows)" % len(ROWS))
        return 0
    bad, better, new = compare(ROWS, base)
    for m in better:
        print("improved: " + m)
    for m in new:
        print("new: " + m)
    if better or new:
        print("update the baseline: BERTH_COMPAT_UPDATE=1 ctest -R daemon-compat")
    for m in bad:
        print("REGRESSION: " + m)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
