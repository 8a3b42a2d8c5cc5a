#!/usr/bin/env python3
"""tests/server/registry.py — a loopback model registry speaking the Ollama/Docker v2 protocol
for `hearth pull` tests:

    GET /v2/<ns>/<model>/manifests/<tag>   the manifest (404 {"errors":[...]} when unknown)
    GET /v2/<ns>/<model>/blobs/<digest>    a blob, honouring "Range: bytes=N-" with 206

Models come from a JSON config: {"<ns>/<model>:<tag>": [{"mediaType": ..., "file": PATH} or
{"mediaType": ..., "text": "..."}], ...}. Faults are set at run time so one registry serves a
whole test script:
    POST /_control {"cut_after": N}   the next blob response stops after N body bytes and the
                                      connection is dropped (a killed transfer)
    POST /_control {"corrupt": true}  blobs are served with one byte flipped (digest mismatch)
    POST /_control {"status": 500}    blob requests answer this HTTP status
    POST /_control {}                 back to normal
    GET  /_log                        [{"path", "range", "status", "sent"}] of blob requests
Usage: registry.py CONFIG PORT_FILE   (binds 127.0.0.1 on a free port, writes it to PORT_FILE)
"""
import hashlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MEDIA_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_CONFIG = "application/vnd.docker.container.image.v1+json"

blobs = {}      # digest -> bytes
manifests = {}  # "ns/model:tag" -> bytes
faults = {}
log = []
lock = threading.Lock()


def add_blob(data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return {"digest": digest, "size": len(data)}


def load(config):
    for name, layers in config.items():
        out = []
        for layer in layers:
            data = open(layer["file"], "rb").read() if "file" in layer else layer["text"].encode()
            out.append(dict(mediaType=layer["mediaType"], **add_blob(data)))
        cfg = dict(mediaType=MEDIA_CONFIG, **add_blob(b'{"model_format":"gguf"}'))
        manifests[name] = json.dumps({"schemaVersion": 2, "mediaType": MEDIA_MANIFEST,
                                      "config": cfg, "layers": out}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, code, message):
        self.reply(status, json.dumps({"errors": [{"code": code, "message": message}]}).encode())

    def do_POST(self):
        if self.path != "/_control":
            return self.error(404, "NOT_FOUND", self.path)
        n = int(self.headers.get("Content-Length", "0"))
        with lock:
            faults.clear()
            faults.update(json.loads(self.rfile.read(n) or b"{}"))
        self.reply(200, b"{}")

    def do_GET(self):
        if self.path == "/_log":
            with lock:
                return self.reply(200, json.dumps(log).encode())
        parts = self.path.split("/")  # "", "v2", ns, model, kind, ref
        if len(parts) != 6 or parts[1] != "v2":
            return self.error(404, "NOT_FOUND", self.path)
        _, _, ns, model, kind, ref = parts
        if kind == "manifests":
            body = manifests.get(f"{ns}/{model}:{ref}")
            if body is None:
                return self.error(404, "MANIFEST_UNKNOWN", f"manifest unknown: {ns}/{model}:{ref}")
            return self.reply(200, body, MEDIA_MANIFEST)
        if kind != "blobs":
            return self.error(404, "NOT_FOUND", self.path)
        with lock:
            f = dict(faults)
            faults.pop("cut_after", None)  # a cut happens once
        rng = self.headers.get("Range")
        entry = {"path": self.path, "range": rng, "status": 0, "sent": 0}
        with lock:
            log.append(entry)
        data = blobs.get(ref)
        if data is None:
            entry["status"] = 404
            return self.error(404, "BLOB_UNKNOWN", ref)
        if f.get("status"):
            entry["status"] = f["status"]
            return self.error(f["status"], "INTERNAL", "the registry is broken today")
        if f.get("corrupt"):
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        start = 0
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
        if start > len(data):
            entry["status"] = 416
            return self.reply(416, b"", headers=[("Content-Range", f"bytes */{len(data)}")])
        body = data[start:]
        status = 206 if rng else 200
        entry["status"] = status
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        cut = f.get("cut_after")
        if cut is not None and cut < len(body):
            self.wfile.write(body[:cut])
            self.wfile.flush()
            entry["sent"] = cut
            self.close_connection = True
            self.connection.shutdown(2)  # the transfer dies mid-blob
            return
        self.wfile.write(body)
        entry["sent"] = len(body)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: registry.py CONFIG PORT_FILE")
    load(json.load(open(sys.argv[1])))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.server_address[1]}\n")
    os.rename(tmp, sys.argv[2])
    srv.serve_forever()


if __name__ == "__main__":
    main()
