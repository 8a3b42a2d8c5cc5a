/*
 * llamacpp-eval.c — llama.cpp's next-token log-probabilities under teacher forcing, printed in
 * the JSON shape of `hearth eval --json` (dev-only; built by bench/compare-logits against the
 * prebuilt CPU libllama of the npm package node-llama-cpp).
 *
 *   llamacpp-eval BACKEND_DIR MODEL ID,ID,... TOP KV(f16|f32)
 *
 * One llama_decode of the whole sequence with logits for every position, flash attention off.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamacpp-common.h"

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: llamacpp-eval BACKEND_DIR MODEL ID,ID,... TOP f16|f32\n");
        return 2;
    }
    llama_log_set(quiet, NULL);
    ggml_backend_load_all_from_path(argv[1]);
    llama_backend_init();
    int cap = 1;
    for (const char *p = argv[3]; *p; p++) cap += *p == ',';
    llama_token *toks = malloc(sizeof *toks * (size_t)cap);
    int n = 0;
    for (char *p = argv[3]; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) toks[n++] = atoi(p);
    int top = atoi(argv[4]);
    struct llama_model_params mp = llama_model_default_params();
    mp.progress_callback = no_progress; /* no dots on stderr */
    struct llama_model *m = llama_model_load_from_file(argv[2], mp);
    if (!m || n == 0 || top <= 0) return fprintf(stderr, "llamacpp-eval: cannot load %s\n", argv[2]), 1;
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = cp.n_batch = cp.n_ubatch = (uint32_t)n;
    cp.n_threads = cp.n_threads_batch = 2;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.type_k = cp.type_v = strcmp(argv[5], "f32") ? GGML_TYPE_F16 : GGML_TYPE_F32;
    struct llama_context *ctx = llama_init_from_model(m, cp);
    struct llama_batch b = llama_batch_init(n, 0, 1);
    for (int i = 0; i < n; i++) {
        b.token[i] = toks[i];
        b.pos[i] = i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = 1;
    }
    b.n_tokens = n;
    if (!ctx || llama_decode(ctx, b)) return fprintf(stderr, "llamacpp-eval: decode failed\n"), 1;
    int nv = llama_vocab_n_tokens(llama_model_get_vocab(m));
    int *best = malloc(sizeof *best * (size_t)top);
    printf("{\"positions\":[");
    for (int i = 0; i < n; i++) {
        const float *l = llama_get_logits_ith(ctx, i);
        double mx = -INFINITY, sum = 0;
        for (int v = 0; v < nv; v++) mx = fmax(mx, l[v]);
        for (int v = 0; v < nv; v++) sum += exp((double)l[v] - mx);
        double lse = mx + log(sum);
        printf("%s{\"pos\":%d,\"token\":%d,\"logsumexp\":%.10g,\"top\":[", i ? "," : "", i, toks[i], lse);
        for (int k = 0; k < top && k < nv; k++) { /* selection: top is small */
            best[k] = -1;
            for (int v = 0; v < nv; v++) {
                int taken = 0;
                for (int j = 0; j < k; j++) taken |= best[j] == v;
                if (!taken && (best[k] < 0 || l[v] > l[best[k]])) best[k] = v;
            }
            printf("%s{\"id\":%d,\"logit\":%.10g,\"logprob\":%.10g}", k ? "," : "", best[k], l[best[k]],
                   l[best[k]] - lse);
        }
        printf("]}");
    }
    printf("]}\n");
    llama_batch_free(b);
    llama_free(ctx);
    llama_model_free(m);
    free(best);
    free(toks);
    return 0;
}
