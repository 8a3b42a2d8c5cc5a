/*
 * tok_bench.c — what `hearth bench --tokenize` and tests/tools/tokenizer_bench measure: a
 * deterministic English + code corpus, and tokenizer throughput over it in ~4 KB calls on one
 * thread (how the issue measured llama.cpp). bench/llamacpp-tokbench.c cuts the same corpus
 * at the same places, so the ids hash compares the two tokenizers on all of it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tokenizer/tok_internal.h"

static uint32_t rnd(uint64_t *state, uint32_t n)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*state >> 33) % n;
}

static const char *const words[] = {
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by",
    "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had",
    "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there", "been", "if",
    "more", "when", "will", "would", "who", "so", "no", "model", "agent", "local", "memory", "token",
    "document", "search", "private", "network", "request", "answer", "question", "history",
    "government", "international", "development", "information", "university", "particularly",
    "approximately", "responsibility", "understanding", "significantly", "Wednesday", "London",
    "Einstein", "photosynthesis", "cryptography", "don't", "it's", "we're", "they've", "I'll",
    "naïve", "café", "résumé", "façade", "über", "coöperate", "1984", "2025", "3.14159", "42",
    "100,000", "e-mail", "state-of-the-art", "(see", "below)", "\"quoted\"", "GPU", "API", "HTTP/2",
};

static const char *const code[] = {
    "def %s(x, y=None):\n    if y is None:\n        return [i * 2 for i in range(x)]\n    return {\"sum\": x + y}\n\n",
    "static int %s(const char *s, size_t n)\n{\n\tfor (size_t i = 0; i < n; i++)\n\t\tif (s[i] == '\\n') return (int)i;\n\treturn -1;\n}\n\n",
    "const %s = async (req, res) => {\n  const { id } = req.params;\n  res.json(await db.find({ id: Number(id) }));\n};\n\n",
    "    let %s: Vec<u32> = input.iter().map(|&b| b as u32 * 31).collect();\n",
    "SELECT %s, COUNT(*) FROM events WHERE ts >= '2024-01-01' GROUP BY 1 ORDER BY 2 DESC;\n",
    "<div class=\"%s\"><a href=\"https://example.com/a?b=1&c=2\">link</a></div>\n",
};

static const char *const idents[] = {"parse_header", "fetchUser", "tokenize", "merge_ranks", "buf_len",
                                     "handleRequest", "compute_hash", "x2", "__init__", "MAX_ITEMS"};

char *hearth_tokbench_corpus(size_t bytes, size_t *len)
{
    uint64_t state = 0x853C49E6748FEA9Bull;
    size_t cap = bytes + 4096, n = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    while (n < bytes) {
        char *buf = out + n; /* each piece is under 2 KB */
        int k = 0;
        if (rnd(&state, 10) < 3) {
            const char *fmt = code[rnd(&state, HEARTH_ARRAY_LEN(code))];
            k = snprintf(buf, 2048, fmt, idents[rnd(&state, HEARTH_ARRAY_LEN(idents))]);
        } else { /* a paragraph of 3-7 sentences */
            int sentences = 3 + (int)rnd(&state, 5);
            for (int s = 0; s < sentences; s++) {
                int words_in = 6 + (int)rnd(&state, 18);
                for (int w = 0; w < words_in && k < 1800; w++) {
                    const char *word = words[rnd(&state, HEARTH_ARRAY_LEN(words))];
                    if (w > 0) buf[k++] = ' ';
                    int start = k;
                    k += snprintf(buf + k, (size_t)(2048 - k), "%s", word);
                    if (w == 0 && buf[start] >= 'a' && buf[start] <= 'z') buf[start] -= 32;
                    if (w + 1 < words_in && rnd(&state, 12) == 0) buf[k++] = ',';
                }
                k += snprintf(buf + k, (size_t)(2048 - k), "%s", rnd(&state, 8) ? ". " : "? ");
            }
            buf[k - 1] = '\n';
            buf[k++] = '\n';
        }
        n += (size_t)k;
    }
    *len = n;
    return out;
}

char *hearth_bench_corpus(size_t bytes, size_t *len) { return hearth_tokbench_corpus(bytes, len); }

hearth_status hearth_tokbench_run(const hearth_vocab *v, const char *text, size_t len, int reps,
                                  hearth_tokbench_result *out, hearth_error *err)
{
    *out = (hearth_tokbench_result){.seconds = 1e30, .bytes = len};
    for (int r = 0; r < (reps > 0 ? reps : 1); r++) {
        uint64_t hash = 1469598103934665603ull, tokens = 0;
        double t0 = hearth_time_sec();
        for (size_t start = 0; start < len;) {
            /* ~4 KB calls, cut after a newline so words are never split */
            size_t end = start + 4096 < len ? start + 4096 : len;
            while (end < len && text[end - 1] != '\n') end++;
            hearth_token *ids;
            size_t n;
            hearth_status st = hearth_vocab_tokenize(v, text + start, end - start, false, false, &ids, &n, err);
            if (st) return st;
            for (size_t i = 0; i < n; i++) hash = (hash ^ (uint32_t)ids[i]) * 1099511628211ull;
            tokens += n;
            free(ids);
            start = end;
        }
        double t = hearth_time_sec() - t0;
        if (t < out->seconds) out->seconds = t;
        out->tokens = tokens;
        out->ids_hash = hash;
    }
    out->mb_per_s = out->seconds > 0 ? (double)len / out->seconds / 1e6 : 0;
    return HEARTH_OK;
}
