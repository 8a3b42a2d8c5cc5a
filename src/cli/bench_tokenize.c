/*
 * bench_tokenize.c — `hearth bench MODEL --tokenize`: tokenizer throughput in MB/s on a
 * deterministic English + code corpus, fed in ~4 KB pieces cut at line ends (the way a
 * document ingester or a server sees text). Best of -r passes, one thread.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"

int cli_bench_tokenize(const char *model_path, double mb, int reps, bool json)
{
    hearth_error err = {0};
    hearth_model_params mp = hearth_model_default_params();
    mp.vocab_only = true;
    hearth_model *m = hearth_model_load(model_path, &mp, &err);
    if (!m) return cli_fail("bench", "%s", err.message);
    size_t len;
    char *text = hearth_bench_corpus((size_t)(mb * 1e6), &len);
    hearth_token *ids = malloc(sizeof *ids * 8192);
    if (!text || !ids) {
        free(text), free(ids), hearth_model_free(m);
        return cli_fail("bench", "out of memory");
    }
    double best = 1e30;
    unsigned long long tokens = 0;
    int rc = 0;
    for (int r = 0; r < reps && !rc; r++) {
        double t0 = cli_now();
        unsigned long long n_tok = 0;
        for (size_t off = 0; off < len;) {
            size_t end = off + 4096 < len ? off + 4096 : len;
            while (end < len && end < off + 8000 && text[end - 1] != '\n') end++; /* whole lines */
            int32_t n = hearth_tokenize(m, text + off, (int32_t)(end - off), ids, 8192, false, false);
            if (n < 0) {
                rc = cli_fail("bench", "tokenizer needed more than 8192 ids for one piece");
                break;
            }
            n_tok += (unsigned long long)n;
            off = end;
        }
        double dt = cli_now() - t0;
        if (dt < best) best = dt;
        tokens = n_tok;
    }
    if (!rc) {
        hearth_model_info info;
        hearth_model_get_info(m, &info);
        double mbs = len / best / 1e6;
        if (json) {
            json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:f,s:f,s:f}", "model", model_path, "tokenizer", info.tokenizer,
                                  "pre", info.pre, "bytes", (json_int_t)len, "tokens", (json_int_t)tokens,
                                  "seconds", best, "mb_per_s", mbs, "tokens_per_s", tokens / best);
            char *out = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
            puts(out);
            free(out);
            json_decref(o);
        } else
            printf("tokenizer %s%s%s: %.2f MB/s, %.0f tokens/s (%zu bytes -> %llu tokens, best of %d, one thread)\n",
                   info.tokenizer, *info.pre ? "/" : "", info.pre, mbs, tokens / best, len, tokens, reps);
    }
    free(ids);
    free(text);
    hearth_model_free(m);
    return rc;
}
