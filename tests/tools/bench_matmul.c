/* bench_matmul — times hearth_matmul for one weight type and shape on every kernel level.
 *   bench_matmul TYPE ROWS COLS N_TOK THREADS [SECONDS]
 * Prints GB/s of weights streamed (decode) and GMAC/s (prefill); BENCH_LEVEL=NAME times one
 * kernel level only; BENCH_CYCLE=N multiplies N copies of the matrix one after the other per
 * timing (each copy cold, as the layers of a model are in decode). A development aid for
 * comparing kernel variants; not a test (no assertions) and not run by the suite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/base.h"
#include "kernels/kernels.h"

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench_matmul TYPE ROWS COLS N_TOK THREADS [SECONDS]\n");
        return 2;
    }
    int type = hearth_type_from_name(argv[1]);
    int64_t rows = atoll(argv[2]), cols = atoll(argv[3]), n_tok = atoll(argv[4]);
    int nth = atoi(argv[5]);
    double secs = argc > 6 ? atof(argv[6]) : 1.0;
    size_t rb = type >= 0 ? hearth_row_size((hearth_type)type, cols) : 0;
    if (rb == 0 || rows <= 0 || n_tok <= 0 || nth <= 0) {
        fprintf(stderr, "bench_matmul: bad type or shape\n");
        return 2;
    }
    float *wf = malloc(sizeof(float) * (size_t)cols), *x = malloc(sizeof(float) * (size_t)(n_tok * cols));
    float *y = malloc(sizeof(float) * (size_t)(n_tok * rows));
    /* weights in 2 MB pages, as a mapped model file gets them (src/base/file.c) */
    int cycle = getenv("BENCH_CYCLE") ? atoi(getenv("BENCH_CYCLE")) : 1;
    if (cycle < 1) cycle = 1;
    size_t wbytes = (rb * (size_t)rows * (size_t)cycle + ((size_t)2 << 20) - 1) & ~(((size_t)2 << 20) - 1);
    uint8_t *w = aligned_alloc((size_t)2 << 20, wbytes);
    if (w) (void)madvise(w, wbytes, MADV_HUGEPAGE);
    uint64_t s = 88172645463325252ULL;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < cols; c++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            wf[c] = (float)((int64_t)(s % 2001) - 1000) / 1000.0f;
        }
        hearth_quantize((hearth_type)type, wf, w + (size_t)r * rb, 1, cols);
    }
    for (int c = 1; c < cycle; c++) memcpy(w + (size_t)c * rb * (size_t)rows, w, rb * (size_t)rows);
    for (int64_t i = 0; i < n_tok * cols; i++) x[i] = (float)((i * 7919) % 201 - 100) / 100.0f;
    hearth_threadpool *tp = hearth_threadpool_new(nth);
    hearth_matrix W = {(hearth_type)type, rows, cols, w};
    const char *only = getenv("BENCH_LEVEL"); /* one level only (for perf) */
    for (int l = 0; l < HEARTH_CPU_LEVELS; l++) {
        const hearth_kernels *k = hearth_kernels_at((hearth_cpu_level)l);
        if (!k || (only && strcmp(only, k->name) != 0)) continue;
        hearth_matmul_scratch sc = {0};
        hearth_matmul(tp, k, &W, x, n_tok, y, &sc); /* warm up */
        double best = 1e9, t_end = hearth_time_sec() + secs;
        int reps = 0;
        while (hearth_time_sec() < t_end || reps < 3) {
            double t0 = hearth_time_sec();
            for (int c = 0; c < cycle; c++) {
                W.data = w + (size_t)c * rb * (size_t)rows;
                hearth_matmul(tp, k, &W, x, n_tok, y, &sc);
            }
            double dt = (hearth_time_sec() - t0) / cycle;
            if (dt < best) best = dt;
            reps++;
        }
        printf("%-6s %s %lldx%lld n_tok=%lld threads=%d: %.3f ms  %.1f GB/s  %.1f GMAC/s\n", k->name,
               argv[1], (long long)rows, (long long)cols, (long long)n_tok, nth, best * 1e3,
               (double)rb * (double)rows / best / 1e9, (double)rows * (double)cols * (double)n_tok / best / 1e9);
        hearth_matmul_scratch_free(&sc);
    }
    hearth_threadpool_free(tp);
    free(wf); free(x); free(y); free(w);
    return 0;
}
