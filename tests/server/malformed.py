#!/usr/bin/env python3
"""tests/server/malformed.py — hostile and malformed HTTP/JSON against `hearth serve`.

    malformed.py PORT corpus    bad JSON, wrong types for every field, huge bodies, slowloris,
                                unknown endpoints/methods, invalid model names, broken HTTP,
                                client disconnects, overload (503); the server must answer each
                                with a clear 4xx/5xx JSON error and stay responsive
    malformed.py PORT auth KEY  the server runs with HEARTH_API_KEY=KEY: 401 shapes

Every request goes over a raw socket, so nothing is "fixed up" by a client library.
"""
import json
import socket
import sys
import threading
import time

PORT = int(sys.argv[1])
failures = []
checks = 0


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def raw(data, timeout=30.0, read=True):
    """Sends bytes, returns (status, headers, body) of the reply, or (0, {}, b'') on no reply."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return s
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            buf += chunk
            head, sep, rest = buf.partition(b"\r\n\r\n")
            if sep:
                hdrs = parse_headers(head)
                if "content-length" in hdrs and len(rest) >= int(hdrs["content-length"]):
                    break
        head, _, body = buf.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1."):
            return 0, {}, b""
        status = int(head.split(b" ")[1])
        hdrs = parse_headers(head)
        if hdrs.get("transfer-encoding") == "chunked":
            body = dechunk(body)
        return status, hdrs, body
    finally:
        if read:
            s.close()


def parse_headers(head):
    out = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        out[k.strip().lower().decode()] = v.strip().decode()
    return out


def dechunk(body):
    out = b""
    while body:
        size, _, body = body.partition(b"\r\n")
        n = int(size.split(b";")[0] or b"0", 16)
        if n == 0:
            break
        out += body[:n]
        body = body[n + 2:]
    return out


def request(method, path, body=None, headers=None, timeout=30.0):
    if isinstance(body, (dict, list)) or (body is not None and not isinstance(body, (bytes, str))):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    h = {"Host": "127.0.0.1", "Connection": "close"}
    if body is not None:
        h["Content-Type"] = "application/json"
        h["Content-Length"] = str(len(body))
    h.update(headers or {})
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    return raw(head.encode() + (body or b""), timeout)


def expect(what, got, statuses, shape="ollama"):
    """got = (status, headers, body); the status must be one of statuses and the body the
    error shape of that API family."""
    global checks
    checks += 1
    status, hdrs, body = got
    if status not in statuses:
        return fail(f"{what}: status {status}, expected {statuses}: {body[:200]!r}")
    if status < 400 or shape is None:
        return
    try:
        j = json.loads(body)
    except ValueError:
        return fail(f"{what}: error body is not JSON: {body[:200]!r}")
    if shape == "ollama" and not (isinstance(j.get("error"), str) and j["error"]):
        fail(f"{what}: not Ollama's {{\"error\": message}} shape: {j}")
    if shape == "openai":
        e = j.get("error")
        if not (isinstance(e, dict) and isinstance(e.get("message"), str) and isinstance(e.get("type"), str)):
            fail(f"{what}: not OpenAI's {{\"error\": {{message, type}}}} shape: {j}")


T0 = time.time()


def alive(what):
    global checks
    checks += 1
    print(f"  {time.time() - T0:5.1f} s  {what}", flush=True)
    t0 = time.time()
    st, _, body = request("GET", "/api/version", timeout=10)
    if st != 200 or b"version" not in body:
        fail(f"server not answering after {what}: {st} {body[:100]!r}")
    elif time.time() - t0 > 5:
        fail(f"server slow ({time.time() - t0:.1f} s) after {what}")


def metric(name):
    _, _, body = request("GET", "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    fail(f"/metrics has no {name}")
    return -1


OLLAMA_POSTS = ["/api/generate", "/api/chat", "/api/embed", "/api/embeddings", "/api/show", "/api/pull", "/api/copy"]
OPENAI_POSTS = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]
BASE = {
    "/api/generate": {"model": "qwen", "prompt": "hi", "stream": False, "options": {"num_predict": 2}},
    "/api/chat": {"model": "qwen", "messages": [{"role": "user", "content": "hi"}], "stream": False, "options": {"num_predict": 2}},
    "/api/embed": {"model": "bert", "input": "hi"},
    "/api/embeddings": {"model": "bert", "prompt": "hi"},
    "/api/show": {"model": "qwen"},
    "/api/pull": {"model": "qwen", "stream": False},
    "/api/copy": {"source": "qwen", "destination": "qwen-copy"},
    "/api/delete": {"model": "qwen-copy"},
    "/v1/chat/completions": {"model": "qwen", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2},
    "/v1/completions": {"model": "qwen", "prompt": "hi", "max_tokens": 2},
    "/v1/embeddings": {"model": "bert", "input": "hi"},
}
# field -> a value of the wrong type, per endpoint (every documented top-level field)
WRONG = {
    "/api/generate": {"model": 5, "prompt": ["x"], "suffix": 1, "system": {}, "template": 2, "context": "x", "stream": "yes",
                      "raw": 1, "format": 5, "images": "x", "options": [], "keep_alive": [], "think": 3},
    "/api/chat": {"model": [], "messages": "hi", "tools": {}, "stream": 0, "format": True, "options": "x",
                  "keep_alive": {}, "think": []},
    "/api/embed": {"model": 1, "input": 5, "truncate": "x", "options": 1, "keep_alive": True, "dimensions": "x"},
    "/api/embeddings": {"model": {}, "prompt": 5, "options": []},
    "/api/show": {"model": 1, "name": [], "verbose": "x"},
    "/api/pull": {"model": 2, "stream": "x", "insecure": 1},
    "/api/copy": {"source": 1, "destination": []},
    "/api/delete": {"model": 5},
    "/v1/chat/completions": {"model": 1, "messages": {}, "stream": "x", "n": "2", "max_tokens": "5", "max_completion_tokens": 1.5,
                             "temperature": "hot", "top_p": [], "seed": "s", "stop": 5, "tools": {}, "tool_choice": 5,
                             "response_format": "json", "logprobs": 1, "top_logprobs": "3", "stream_options": [],
                             "presence_penalty": "x", "frequency_penalty": {}, "user": 5},
    "/v1/completions": {"model": {}, "prompt": 5, "logprobs": True, "max_tokens": [], "stop": {}},
    "/v1/embeddings": {"model": 3, "input": 5, "encoding_format": 1, "dimensions": "x"},
}
# nested wrong shapes and out-of-range values
NESTED = [
    ("/api/chat", {"options": {"temperature": "hot"}}), ("/api/chat", {"options": {"top_k": [1]}}),
    ("/api/chat", {"options": {"stop": 5}}), ("/api/chat", {"options": {"stop": [1, 2]}}), ("/api/chat", {"options": {"stop": [""]}}),
    ("/api/chat", {"options": {"top_p": 7}}), ("/api/chat", {"options": {"temperature": -1}}), ("/api/chat", {"options": {"num_predict": "x"}}),
    ("/api/chat", {"options": {"stop": ["a"] * 40}}), ("/api/chat", {"messages": [1]}), ("/api/chat", {"messages": [{"role": 5}]}),
    ("/api/chat", {"messages": [{"content": "no role"}]}), ("/api/chat", {"messages": [{"role": "user", "content": 5}]}),
    ("/api/chat", {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}),
    ("/api/chat", {"messages": [{"role": "assistant", "content": "", "tool_calls": "x"}]}),
    ("/api/chat", {"format": "yaml"}), ("/api/chat", {"format": {"type": "nonsense"}}), ("/api/chat", {"keep_alive": "5 parsecs"}),
    ("/api/chat", {"keep_alive": ""}), ("/api/chat", {"tools": [5]}),
    ("/api/generate", {"prompt": "x" * 300000}),  # longer than the context
    ("/api/embed", {"input": [1, 2]}), ("/api/embed", {"input": ["x"] * 5000}), ("/api/embed", {"input": {"a": 1}}),
    ("/v1/chat/completions", {"n": 0}), ("/v1/chat/completions", {"n": 1000}), ("/v1/chat/completions", {"top_logprobs": 99}),
    ("/v1/chat/completions", {"response_format": {"type": 5}}), ("/v1/chat/completions", {"response_format": {"type": "xml"}}),
    ("/v1/chat/completions", {"response_format": {"type": "json_schema", "json_schema": {"schema": 5}}}),
    ("/v1/chat/completions", {"response_format": {"type": "json_schema"}}), ("/v1/chat/completions", {"temperature": 1e9}),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": [5]}]}), ("/v1/chat/completions", {"messages": []}),
    ("/v1/completions", {"logprobs": 50}), ("/v1/completions", {"prompt": None}),
    ("/v1/embeddings", {"input": []}), ("/v1/embeddings", {"input": [None]}), ("/v1/embeddings", {"encoding_format": "hex"}),
]
BAD_NAMES = ["../../etc/passwd", "/etc/passwd", "..", "a/b/c/d", "x:", ":tag", "a//b", "-x", "qw en", "qwen\u0000x",
             "n" * 10000, "%2e%2e/%2e%2e/etc/passwd", "qwen:../../x", "~/x", "C:\\x"]


def corpus():
    # bad JSON bodies on every POST endpoint
    bad_bodies = [b"", b"{", b"[]", b'"str"', b"null", b"42", b'{"model":', b"\xff\xfe\x00garbage", b'{"model":"qwen",}',
                  b'{"model":"qwen","model":"x"}', b"[" * 100000, b'{"model":"\xc3\x28"}', b"{" + b'"a":1,' * 10000 + b"}x"]
    for path in OLLAMA_POSTS + ["/api/delete"] + OPENAI_POSTS:
        method = "DELETE" if path == "/api/delete" else "POST"
        shape = "openai" if path.startswith("/v1/") else "ollama"
        for b in bad_bodies:
            expect(f"{path} bad JSON {b[:20]!r}", request(method, path, b), [400], shape)
    alive("bad JSON")

    # wrong types for every field
    for path, fields in WRONG.items():
        method = "DELETE" if path == "/api/delete" else "POST"
        shape = "openai" if path.startswith("/v1/") else "ollama"
        for k, v in fields.items():
            body = dict(BASE[path])
            body[k] = v
            expect(f"{path} {k}={v!r}", request(method, path, body), [400], shape)
    for path, patch in NESTED:
        body = json.loads(json.dumps(BASE[path]))
        for k, v in patch.items():
            body[k] = v
        shape = "openai" if path.startswith("/v1/") else "ollama"
        expect(f"{path} {json.dumps(patch)[:80]}", request("POST", path, body), [400], shape)
    alive("wrong types")

    # invalid model names: rejected before any file is touched; a real GGUF path is no name
    for name in BAD_NAMES + [sys.argv[3] if len(sys.argv) > 3 else "/nonexistent.gguf"]:
        for path in ["/api/chat", "/api/generate", "/api/show", "/api/embed", "/v1/chat/completions", "/v1/embeddings"]:
            body = dict(BASE[path])
            body["model"] = name
            shape = "openai" if path.startswith("/v1/") else "ollama"
            expect(f"{path} model={name[:30]!r}", request("POST", path, body), [400], shape)
        expect(f"copy to {name[:30]!r}", request("POST", "/api/copy", {"source": "qwen", "destination": name}), [400])
        expect(f"delete {name[:30]!r}", request("DELETE", "/api/delete", {"model": name}), [400])
    expect("unknown model", request("POST", "/api/chat", dict(BASE["/api/chat"], model="nothere")), [404])
    expect("unknown model /v1", request("POST", "/v1/chat/completions", dict(BASE["/v1/chat/completions"], model="nothere")), [404], "openai")
    alive("invalid names")

    # unknown endpoints and methods
    for method, path, statuses, shape in [
        ("GET", "/api/chat", [405], "ollama"), ("PUT", "/api/generate", [405], "ollama"), ("GET", "/api/delete", [405], "ollama"),
        ("POST", "/api/tags", [404, 405], "ollama"), ("GET", "/nope", [404], "ollama"), ("GET", "/api/nope", [404], "ollama"),
        ("GET", "/v1/chat/completions", [405], "openai"), ("DELETE", "/v1/embeddings", [405], "openai"),
        ("GET", "/v1/nope", [404], "openai"), ("GET", "/v1/models/nothere", [404], "openai"),
        ("GET", "/../../etc/passwd", [400, 404], None), ("BREW", "/api/chat", [400, 405, 501], None),
        ("GET", "/" + "a" * 100000, [400, 404, 414, 431], None), ("POST", "/api/create", [400, 501], "ollama"),
    ]:
        expect(f"{method} {path[:40]}", request(method, path, b"{}" if method in ("POST", "PUT") else None), statuses, shape)
    for junk in [b"GARBAGE\r\n\r\n", b"\x00\x01\x02\x03\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                 b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                 b"POST /api/chat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n\r\n",
                 b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"h" * 200000 + b"\r\n\r\n"]:
        global checks
        checks += 1
        st, _, body = raw(junk, timeout=2)  # no answer at all is fine too
        if st and st < 400 and junk != b"GET / HTTP/9.9\r\n\r\n":
            fail(f"junk request {junk[:30]!r} answered {st}")
    alive("unknown endpoints and broken HTTP")

    # huge bodies: a declared length over 32 MiB is refused before it is sent; a chunked one
    # that grows past the limit too
    t0 = time.time()
    head = b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40000000\r\n\r\n"
    expect("Content-Length 40 MB", raw(head + b"{" * 1000, timeout=10), [413])
    if time.time() - t0 > 5:
        fail("413 took more than 5 s")
    s = raw(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n", read=False)
    chunk = b"x" * (1 << 20)
    sent = 0
    try:
        for _ in range(40):
            s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            sent += len(chunk)
        s.sendall(b"0\r\n\r\n")
        buf = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            buf += c
        st = int(buf.split(b" ")[1]) if buf.startswith(b"HTTP/") else 0
    except (BrokenPipeError, ConnectionResetError):
        st = 413  # the server gave up on the body: also a refusal
    except socket.timeout:
        st = -1  # no answer in 30 s
    s.close()
    checks += 1
    if st != 413:
        fail(f"chunked 40 MiB body: status {st}")
    body = json.dumps(dict(BASE["/api/chat"], padding="y" * (31 << 20)))
    expect("31 MiB body (under the limit)", request("POST", "/api/chat", body), [200], None)
    body = json.dumps(dict(BASE["/api/chat"], messages=[{"role": "user", "content": "y " * 20000}]))
    expect("40 KB prompt (over the context)", request("POST", "/api/chat", body), [400])
    alive("huge bodies")

    # slowloris: 40 connections trickling headers or bodies; others are still served promptly
    slow = []
    for i in range(40):
        s = socket.create_connection(("127.0.0.1", PORT))
        s.sendall(b"POST /api/chat HTTP/1.1\r\nHost: x\r\n" if i % 2 else
                  b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"mod")
        slow.append(s)
    for _ in range(3):
        for s in slow:
            try:
                s.sendall(b"X-a: b\r\n" if slow.index(s) % 2 else b"e")
            except OSError:
                pass
        alive("slowloris trickle")
        st, _, _ = request("POST", "/api/chat", BASE["/api/chat"])
        if st != 200:
            fail(f"generation during slowloris: {st}")
        time.sleep(0.3)
    for s in slow:
        s.close()
    alive("slowloris")

    # client disconnects cancel generation: streaming and not
    gen0 = metric("hearth_generated_tokens_total")
    body = json.dumps({"model": "qwen", "prompt": "go", "options": {"num_predict": 3000, "temperature": 1}}).encode()
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall(b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    first = s.recv(4096)
    s.close()
    body = json.dumps({"model": "qwen", "prompt": "go", "stream": False, "options": {"num_predict": 3000, "temperature": 1}}).encode()
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall(b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    time.sleep(0.5)
    s.close()
    body = json.dumps({"model": "qwen", "messages": [{"role": "user", "content": "go"}], "stream": True, "max_tokens": 3000}).encode()
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    s.recv(4096)
    s.close()
    checks += 1
    deadline = time.time() + 15
    while metric("hearth_active_requests") > 0 and time.time() < deadline:
        time.sleep(0.2)
    if metric("hearth_active_requests") != 0:
        fail("generations go on after their clients hung up")
    gen = metric("hearth_generated_tokens_total") - gen0
    if not first.startswith(b"HTTP/1.1 200") or gen >= 3000:  # 9000 if none were cancelled
        fail(f"disconnects: first reply {first[:40]!r}, {gen:.0f} tokens generated for 3 x 3000 asked")
    alive("client disconnects")


def overload():
    """Server started with --slots 1 --max-queue 1: of several concurrent long requests, some
    must get 503 with the error shape, none may hang or crash."""
    global checks
    results = []

    def one(i):
        path = "/v1/chat/completions" if i % 2 else "/api/chat"
        body = dict(BASE[path])
        if i % 2:
            body["max_tokens"] = 60
        else:
            body["options"] = {"num_predict": 60}
        results.append((path, request("POST", path, body, timeout=120)))
    ts = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    busy = [(p, r) for p, r in results if r[0] == 503]
    ok = [r for _, r in results if r[0] == 200]
    checks += 1
    if not busy or not ok or len(busy) + len(ok) != 6:
        fail(f"overload: statuses {[r[0] for _, r in results]}, expected some 200 and some 503")
    for p, r in busy:
        expect(f"503 shape {p}", r, [503], "openai" if p.startswith("/v1/") else "ollama")
    if metric("hearth_rejected_requests_total") < len(busy):
        fail("rejected requests not counted in /metrics")
    alive("overload")


def auth(key):
    for path, shape in [("/api/tags", "ollama"), ("/v1/models", "openai"), ("/api/version", "ollama"), ("/metrics", "ollama")]:
        expect(f"{path} without a key", request("GET", path), [401], shape)
        expect(f"{path} wrong key", request("GET", path, headers={"Authorization": "Bearer nope"}), [401], shape)
        expect(f"{path} key prefix", request("GET", path, headers={"Authorization": "Bearer " + key[:-1]}), [401], shape)
        expect(f"{path} key not bearer", request("GET", path, headers={"Authorization": key}), [401], shape)
        expect(f"{path} right key", request("GET", path, headers={"Authorization": "Bearer " + key}), [200], None)
    expect("POST chat without key", request("POST", "/api/chat", BASE["/api/chat"]), [401])
    expect("POST v1 chat without key", request("POST", "/v1/chat/completions", BASE["/v1/chat/completions"]), [401], "openai")
    expect("chat with key", request("POST", "/api/chat", BASE["/api/chat"], headers={"Authorization": "Bearer " + key}), [200], None)
    expect("root probe needs no key", request("GET", "/"), [200], None)


if __name__ == "__main__":
    mode = sys.argv[2]
    if mode == "corpus":
        corpus()
    elif mode == "overload":
        overload()
    elif mode == "auth":
        auth(sys.argv[3])
    print(f"{mode}: {checks} checks, {len(failures)} failed")
    sys.exit(1 if failures else 0)
