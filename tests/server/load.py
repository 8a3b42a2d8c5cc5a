#!/usr/bin/env python3
"""tests/server/load.py — concurrent streaming clients against `hearth serve`.

    load.py PORT MODEL CLIENTS SECONDS [MAX_TOKENS]
        CLIENTS threads, each looping streaming requests (alternately /api/chat NDJSON and
        /v1/chat/completions SSE) until SECONDS have passed; prints one JSON line with
        requests, errors, streamed tokens, aggregate tokens/s, latency to the first token,
        and the server's /metrics deltas (generated tokens, decode steps -> mean batch size).
    load.py PORT MODEL batch N MAX_TOKENS
        one request alone, then N at once (each MAX_TOKENS, fixed seeds), twice each: prints
        the best wall times and mean batch sizes, to show that concurrent requests share
        decode steps (continuous batching) rather than queueing.
Exit status 1 on any failed request. Standard library only.
"""
import http.client
import json
import sys
import threading
import time

PORT, MODEL = int(sys.argv[1]), sys.argv[2]


def metrics():
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    c.request("GET", "/metrics")
    out = {}
    for line in c.getresponse().read().decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.split()
            out[k] = float(v)
    c.close()
    return out


def stream_one(i, max_tokens, seed):
    """One streaming request; returns (tokens, seconds to first token, error or None)."""
    openai = i % 2 == 1
    if openai:
        path, body = "/v1/chat/completions", {"model": MODEL, "stream": True, "max_tokens": max_tokens, "seed": seed,
                                              "messages": [{"role": "user", "content": f"Tell story number {i}."}]}
    else:
        path, body = "/api/chat", {"model": MODEL, "stream": True, "options": {"num_predict": max_tokens, "seed": seed},
                                   "messages": [{"role": "user", "content": f"Tell story number {i}."}]}
    t0 = time.time()
    first = None
    tokens = 0
    try:
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
        c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        r = c.getresponse()
        if r.status != 200:
            return tokens, 0, f"HTTP {r.status}: {r.read()[:200]!r}"
        done = False
        for raw in r:
            line = raw.strip()
            if not line:
                continue
            if openai:
                if not line.startswith(b"data: "):
                    return tokens, 0, f"bad SSE line {line[:80]!r}"
                if line == b"data: [DONE]":
                    done = True
                    break
                j = json.loads(line[6:])
                if "error" in j:
                    return tokens, 0, f"error event {j}"
                if j["choices"] and j["choices"][0]["delta"].get("content") is not None:
                    tokens += 1
            else:
                j = json.loads(line)
                if "error" in j:
                    return tokens, 0, f"error line {j}"
                if j["done"]:
                    done = True
                    break
                tokens += 1
            if first is None:
                first = time.time() - t0
        c.close()
        if not done:
            return tokens, 0, "stream ended without its last chunk"
        return tokens, first or 0, None
    except Exception as e:  # noqa: BLE001 - every failure counts as an error
        return tokens, 0, f"{type(e).__name__}: {e}"


def load(clients, seconds, max_tokens):
    m0 = metrics()
    stop = time.time() + seconds
    lock = threading.Lock()
    stats = {"requests": 0, "errors": 0, "tokens": 0, "first": [], "messages": []}

    def client(i):
        k = 0
        while time.time() < stop:
            tokens, first, err = stream_one(i * 1000 + k, max_tokens, i * 1000 + k)
            k += 1
            with lock:
                stats["requests"] += 1
                stats["tokens"] += tokens
                if err:
                    stats["errors"] += 1
                    stats["messages"].append(err)
                else:
                    stats["first"].append(first)
    t0 = time.time()
    ts = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.time() - t0
    m1 = metrics()
    d = {k: m1.get(k, 0) - m0.get(k, 0) for k in m1}
    first = sorted(stats["first"]) or [0]
    return {
        "clients": clients, "seconds": round(wall, 2), "requests": stats["requests"], "errors": stats["errors"],
        "streamed_tokens": stats["tokens"], "tokens_per_second": round(stats["tokens"] / wall, 1),
        "first_token_p50_s": round(first[len(first) // 2], 3), "first_token_max_s": round(first[-1], 3),
        "server_generated_tokens": int(d.get("hearth_generated_tokens_total", 0)),
        "server_decode_steps": int(d.get("hearth_decode_steps_total", 0)),
        "mean_batch": round(d.get("hearth_generated_tokens_total", 0) / max(1, d.get("hearth_decode_steps_total", 0)), 2),
        "decode_tokens_per_second": round(d.get("hearth_generated_tokens_total", 0) / max(1e-9, d.get("hearth_generation_seconds_total", 0)), 1),
        "rss_bytes": int(m1.get("hearth_resident_memory_bytes", 0)), "errors_sample": stats["messages"][:3],
    }


def batch(n, max_tokens):
    """Wall time of one request alone vs n at once (best of two each)."""
    def run(k):
        m0 = metrics()
        res = [None] * k
        ts = [threading.Thread(target=lambda j=j: res.__setitem__(j, stream_one(2 * j, max_tokens, 42 + j))) for j in range(k)]
        t0 = time.time()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        wall = time.time() - t0
        m1 = metrics()
        errs = [r[2] for r in res if r[2]]
        toks = m1["hearth_generated_tokens_total"] - m0["hearth_generated_tokens_total"]
        steps = m1["hearth_decode_steps_total"] - m0["hearth_decode_steps_total"]
        return wall, toks, steps, errs
    stream_one(0, 4, 1)  # load the model first
    one = [run(1) for _ in range(2)]
    many = [run(n) for _ in range(2)]
    errs = [e for r in one + many for e in r[3]]
    best1, bestn = min(one), min(many)
    return {"n": n, "max_tokens": max_tokens, "one_seconds": round(best1[0], 3), "n_seconds": round(bestn[0], 3),
            "ratio": round(bestn[0] / best1[0], 2), "one_tokens": int(best1[1]), "n_tokens": int(bestn[1]),
            "n_mean_batch": round(bestn[1] / max(1, bestn[2]), 2), "errors": errs[:3], "n_errors": len(errs)}


if __name__ == "__main__":
    if sys.argv[3] == "batch":
        out = batch(int(sys.argv[4]), int(sys.argv[5]))
        print(json.dumps(out))
        sys.exit(1 if out["n_errors"] else 0)
    out = load(int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 64)
    print(json.dumps(out))
    sys.exit(1 if out["errors"] or not out["requests"] else 0)
