#!/usr/bin/python3
# registry-token.py PORT KEY.pem CERT.pem ISSUER USER:PASSWORD LOG - a token
# server for docker-registry's token auth, on 127.0.0.1: GET /token with
# basic credentials and scope=repository:NAME:ACTIONS answers a JWT (RS256,
# signed by `openssl dgst`, the certificate in x5c) granting those actions;
# wrong or no credentials get 401. Requests are logged to LOG.
import base64
import http.server
import json
import subprocess
import sys
import time
import urllib.parse

port, key, cert, issuer, creds, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], capture_output=True, check=True).stdout


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        auth = self.headers.get("Authorization") or ""
        with open(log, "a") as f:
            f.write("%s scope=%s auth=%s\n" % (u.path, ",".join(q.get("scope", [])), auth.split(" ")[0]))
        if u.path != "/token":
            return self.answer(404, {"details": "no such endpoint"})
        if not auth.startswith("Basic ") or base64.b64decode(auth[6:]).decode() != creds:
            return self.answer(401, {"details": "invalid username or password"})
        access = []
        for s in q.get("scope", []):
            typ, name, actions = s.split(":", 2) if s.count(":") >= 2 else (s, "", "")
            access.append({"type": typ, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(der).decode()]}
        claims = {"iss": issuer, "sub": creds.split(":")[0], "aud": q.get("service", [""])[0],
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": str(now) + str(id(self)),
                  "access": access}
        signing = (b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing,
                             capture_output=True, check=True).stdout
        token = signing.decode() + "." + b64(sig)
        self.answer(200, {"token": token, "access_token": token, "expires_in": 300})


http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
