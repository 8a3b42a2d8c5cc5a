/*
 * test_kernels.c — every kernel level against the scalar reference, and the scalar reference
 * against float64 arithmetic on the dequantized values.
 *
 * Tolerances (stated once, used everywhere):
 *   - to_float / from_float: bit-exact across levels (the SIMD code performs the same float
 *     operations in the same order per element).
 *   - vec_dot / gemm: per-block integer dots are exact; only the order of float additions
 *     across blocks differs, so |simd - scalar| <= DOT_TOL * sum |w_i * a_i| (+ a tiny
 *     absolute term for all-zero inputs).
 */
#include "testutil.h"

#include <math.h>
#include <stdatomic.h>
#include <unistd.h>

#include "gguf/gguf.h"
#include "kernels/kernels.h"

#define DOT_TOL 1e-5

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}
static float rnd_uniform(void) { return (float)((rnd() >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f; }
static float rnd_normal(void)
{
    double u1 = ((rnd() >> 11) + 1.0) * (1.0 / 9007199254740993.0), u2 = (rnd() >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

static const hearth_type weight_types[] = {
    HEARTH_TYPE_F32,  HEARTH_TYPE_F16,  HEARTH_TYPE_BF16, HEARTH_TYPE_Q4_0,
    HEARTH_TYPE_Q4_1, HEARTH_TYPE_Q5_0, HEARTH_TYPE_Q5_1, HEARTH_TYPE_Q8_0,
    HEARTH_TYPE_Q2_K, HEARTH_TYPE_Q3_K, HEARTH_TYPE_Q4_K, HEARTH_TYPE_Q5_K, HEARTH_TYPE_Q6_K,
};
#define N_WEIGHT_TYPES (sizeof weight_types / sizeof weight_types[0])

/* Byte offsets of the F16 scale fields inside one block (-1 terminated). */
static const int *f16_fields(hearth_type t)
{
    static const int d0[] = {0, -1}, d01[] = {0, 2, -1}, q2k[] = {80, 82, -1};
    static const int q3k[] = {108, -1}, q6k[] = {208, -1}, none[] = {-1};
    switch (t) {
    case HEARTH_TYPE_Q4_0: case HEARTH_TYPE_Q5_0: case HEARTH_TYPE_Q8_0: return d0;
    case HEARTH_TYPE_Q4_1: case HEARTH_TYPE_Q5_1: case HEARTH_TYPE_Q4_K: case HEARTH_TYPE_Q5_K: return d01;
    case HEARTH_TYPE_Q2_K: return q2k;
    case HEARTH_TYPE_Q3_K: return q3k;
    case HEARTH_TYPE_Q6_K: return q6k;
    default: return none;
    }
}

/* A row of n elements of type t with every bit random except the scales, which are finite
 * (random bytes in a float row would include NaN and huge values). */
static void random_row(hearth_type t, int64_t n, void *dst)
{
    const hearth_type_traits *tr = hearth_type_traits_of(t);
    if (t == HEARTH_TYPE_F32 || t == HEARTH_TYPE_F16 || t == HEARTH_TYPE_BF16) {
        float *tmp = malloc((size_t)n * sizeof(float));
        for (int64_t i = 0; i < n; i++) tmp[i] = rnd_normal();
        assert_int_not_equal(hearth_quantize(t, tmp, dst, 1, n), 0);
        free(tmp);
        return;
    }
    uint8_t *b = dst;
    size_t bytes = hearth_row_size(t, n);
    for (size_t i = 0; i < bytes; i++) b[i] = (uint8_t)rnd();
    const int *f = f16_fields(t);
    for (int64_t blk = 0; blk < n / tr->block_size; blk++)
        for (int j = 0; f[j] >= 0; j++) {
            hearth_f16 h = hearth_f32_to_f16(rnd_uniform() * 0.05f);
            memcpy(b + blk * tr->type_size + f[j], &h, sizeof h);
        }
}

static double abs_dot(const float *a, const float *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += fabs((double)a[i] * b[i]);
    return s;
}

static double exact_dot(const float *a, const float *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static int n_levels(const hearth_kernels *levels[HEARTH_CPU_LEVELS])
{
    int n = 0;
    for (int l = 0; l < HEARTH_CPU_LEVELS; l++)
        if ((levels[n] = hearth_kernels_at((hearth_cpu_level)l))) n++;
    return n;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_levels(void **state)
{
    (void)state;
    const hearth_kernels *s = hearth_kernels_at(HEARTH_CPU_SCALAR);
    assert_non_null(s);
    assert_string_equal(s->name, "scalar");
    assert_non_null(hearth_kernels_get());
    assert_null(hearth_kernels_at(HEARTH_CPU_LEVELS));
    for (size_t i = 0; i < N_WEIGHT_TYPES; i++) {
        hearth_type t = weight_types[i];
        assert_true(hearth_type_supported(t));
        const hearth_kernels *levels[HEARTH_CPU_LEVELS];
        int nl = n_levels(levels);
        for (int l = 0; l < nl; l++) {
            hearth_type vt = levels[l]->vec_dot_type[t];
            assert_int_equal(vt, s->vec_dot_type[t]);
            assert_non_null(levels[l]->from_float[vt]);
            assert_non_null(levels[l]->to_float[vt]);
        }
    }
    assert_false(hearth_type_supported(HEARTH_TYPE_IQ2_XXS));
    assert_false(hearth_type_supported((hearth_type)HEARTH_TYPE_COUNT));
}

/* to_float of random rows, and from_float of random floats: bit-exact on every level. */
static void test_conversions_exact(void **state)
{
    (void)state;
    const hearth_kernels *levels[HEARTH_CPU_LEVELS];
    int nl = n_levels(levels);
    const int64_t n = 1024;
    uint8_t *row = malloc(hearth_row_size(HEARTH_TYPE_F32, n));
    float *ref = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float)), *x = malloc(n * sizeof(float));
    for (size_t ti = 0; ti < N_WEIGHT_TYPES; ti++) {
        hearth_type t = weight_types[ti];
        for (int rep = 0; rep < 4; rep++) {
            random_row(t, n, row);
            levels[0]->to_float[t](row, ref, n);
            for (int l = 1; l < nl; l++) {
                levels[l]->to_float[t](row, got, n);
                for (int64_t i = 0; i < n; i++)
                    if (memcmp(&ref[i], &got[i], 4) != 0 && !(isnan(ref[i]) && isnan(got[i])))
                        fail_msg("%s to_float %s: element %lld: %g != %g", levels[l]->name,
                                 hearth_type_name(t), (long long)i, got[i], ref[i]);
            }
        }
    }
    const hearth_type act[] = {HEARTH_TYPE_Q8_0, HEARTH_TYPE_Q8_K, HEARTH_TYPE_F16, HEARTH_TYPE_BF16, HEARTH_TYPE_F32};
    uint8_t *a = malloc(hearth_row_size(HEARTH_TYPE_F32, n)), *b = malloc(hearth_row_size(HEARTH_TYPE_F32, n));
    for (size_t ti = 0; ti < sizeof act / sizeof act[0]; ti++) {
        size_t bytes = hearth_row_size(act[ti], n);
        for (int rep = 0; rep < 8; rep++) {
            float scale = rep < 4 ? 1.0f : (rep == 4 ? 1e-6f : 300.0f);
            for (int64_t i = 0; i < n; i++) x[i] = rnd_normal() * scale;
            if (rep == 1) /* a zero block and ties (k + 0.5 after scaling) */
                for (int64_t i = 0; i < 256; i++) x[i] = i < 128 ? 0.0f : (float)(i % 9) - 4.5f;
            if (rep == 2) { /* the largest magnitude twice with both signs: the first one wins */
                x[300] = -9.0f;
                x[301] = 9.0f;
                x[600] = 9.0f;
                x[700] = -9.0f;
            }
            levels[0]->from_float[act[ti]](x, a, n);
            for (int l = 1; l < nl; l++) {
                memset(b, 0xa5, bytes);
                levels[l]->from_float[act[ti]](x, b, n);
                if (memcmp(a, b, bytes) != 0)
                    fail_msg("%s from_float %s differs from scalar (rep %d)", levels[l]->name,
                             hearth_type_name(act[ti]), rep);
            }
        }
    }
    free(row); free(ref); free(got); free(x); free(a); free(b);
}

/* Every level's vec_dot against float64 on the dequantized operands, and against scalar. */
static void test_vec_dot(void **state)
{
    (void)state;
    const hearth_kernels *levels[HEARTH_CPU_LEVELS];
    int nl = n_levels(levels);
    const int64_t sizes[] = {256, 512, 4096, 768};
    float *x = malloc(4096 * sizeof(float)), *wf = malloc(4096 * sizeof(float)), *af = malloc(4096 * sizeof(float));
    uint8_t *w = malloc(4096 * 4), *a = malloc(4096 * 4);
    for (size_t ti = 0; ti < N_WEIGHT_TYPES; ti++) {
        hearth_type t = weight_types[ti];
        hearth_type vt = levels[0]->vec_dot_type[t];
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            int64_t n = sizes[si];
            for (int rep = 0; rep < 3; rep++) {
                random_row(t, n, w);
                for (int64_t i = 0; i < n; i++) x[i] = rnd_normal();
                levels[0]->from_float[vt](x, a, n);
                levels[0]->to_float[t](w, wf, n);
                levels[0]->to_float[vt](a, af, n);
                double want = exact_dot(wf, af, n), mag = abs_dot(wf, af, n);
                double tol = DOT_TOL * mag + 1e-30;
                float ref;
                levels[0]->vec_dot[t](n, &ref, w, a);
                if (fabs(ref - want) > tol)
                    fail_msg("scalar vec_dot %s n=%lld: %.9g, float64 %.9g (tol %.3g)",
                             hearth_type_name(t), (long long)n, ref, want, tol);
                for (int l = 1; l < nl; l++) {
                    float got;
                    levels[l]->vec_dot[t](n, &got, w, a);
                    /* Q2_K/Q3_K super-blocks reduce to one exact integer each and are
                     * summed in the scalar order: there the levels agree bit for bit (Q4_K,
                     * Q5_K, Q6_K keep 8 lanes per super-block: DOT_TOL) */
                    if ((t == HEARTH_TYPE_Q2_K || t == HEARTH_TYPE_Q3_K) && got != ref)
                        fail_msg("%s vec_dot %s n=%lld: %.9g, scalar %.9g (expected exact)",
                                 levels[l]->name, hearth_type_name(t), (long long)n, got, ref);
                    if (fabs(got - ref) > tol)
                        fail_msg("%s vec_dot %s n=%lld: %.9g, scalar %.9g (tol %.3g)",
                                 levels[l]->name, hearth_type_name(t), (long long)n, got, ref, tol);
                }
            }
        }
    }
    free(x); free(wf); free(af); free(w); free(a);
}


/* Y = X W^T on every level, thread count and batch size, against float64 on the dequantized
 * weights and the dequantized activations (what the kernels actually multiply). */
static void check_matmul(const hearth_kernels *k, hearth_threadpool *tp, hearth_type t,
                         int64_t rows, int64_t cols, int64_t n_tok)
{
    size_t rb = hearth_row_size(t, cols);
    uint8_t *w = malloc(rb * rows);
    float *wf = malloc(sizeof(float) * rows * cols), *x = malloc(sizeof(float) * n_tok * cols);
    float *y = malloc(sizeof(float) * n_tok * rows), *xf = malloc(sizeof(float) * cols);
    uint8_t *xq = malloc(cols * 4);
    for (int64_t r = 0; r < rows; r++) {
        random_row(t, cols, w + r * rb);
        k->to_float[t](w + r * rb, wf + r * cols, cols);
    }
    for (int64_t i = 0; i < n_tok * cols; i++) x[i] = rnd_normal();
    hearth_matrix W = {t, rows, cols, w};
    hearth_matmul_scratch scratch = {0};
    hearth_matmul(tp, k, &W, x, n_tok, y, &scratch);
    hearth_type vt = k->vec_dot_type[t];
    for (int64_t tok = 0; tok < n_tok; tok++) {
        k->from_float[vt](x + tok * cols, xq, cols);
        k->to_float[vt](xq, xf, cols);
        for (int64_t r = 0; r < rows; r++) {
            double want = exact_dot(wf + r * cols, xf, cols);
            double tol = DOT_TOL * abs_dot(wf + r * cols, xf, cols) + 1e-30;
            float got = y[tok * rows + r];
            if (!(fabs(got - want) <= tol))
                fail_msg("%s matmul %s %lldx%lld n_tok=%lld threads=%d: y[%lld][%lld] = %.9g, "
                         "float64 %.9g", k->name, hearth_type_name(t), (long long)rows,
                         (long long)cols, (long long)n_tok, hearth_threadpool_size(tp),
                         (long long)tok, (long long)r, got, want);
        }
    }
    hearth_matmul_scratch_free(&scratch);
    free(w); free(wf); free(x); free(y); free(xf); free(xq);
}

static void test_matmul(void **state)
{
    (void)state;
    const hearth_kernels *levels[HEARTH_CPU_LEVELS];
    int nl = n_levels(levels);
    const int64_t toks[] = {1, 3, 17, 64};
    for (int nth = 1; nth <= 4; nth++) {
        hearth_threadpool *tp = hearth_threadpool_new(nth);
        assert_non_null(tp);
        assert_int_equal(hearth_threadpool_size(tp), nth);
        for (int l = 0; l < nl; l++)
            for (size_t ti = 0; ti < N_WEIGHT_TYPES; ti++)
                for (size_t ni = 0; ni < sizeof toks / sizeof toks[0]; ni++) {
                    /* rows not a multiple of any split; the largest case only once per type */
                    if (toks[ni] == 64 && nth != 2) continue;
                    check_matmul(levels[l], tp, weight_types[ti], 37, 512, toks[ni]);
                }
        if (nth == 2) /* K longer than one gemm panel (1024): partial sums accumulate; for
                       * 32-element blocks also an odd number of groups in the last panel */
            for (int l = 0; l < nl; l++)
                for (size_t ti = 0; ti < N_WEIGHT_TYPES; ti++) {
                    check_matmul(levels[l], tp, weight_types[ti], 20, 1280, 9);
                    if (hearth_type_traits_of(weight_types[ti])->block_size == 32)
                        check_matmul(levels[l], tp, weight_types[ti], 20, 1056, 21);
                }
        hearth_threadpool_free(tp);
    }
    /* a caller's mistake (an unsupported type, or rows that are not whole blocks) zeroes Y
     * instead of reading out of bounds */
    float x[64] = {1}, y[2] = {5, 5};
    uint8_t w[256] = {0};
    hearth_matrix bad_type = {HEARTH_TYPE_IQ2_XXS, 1, 64, w}, bad_cols = {HEARTH_TYPE_Q8_0, 2, 20, w};
    hearth_matmul_scratch sc = {0};
    hearth_matmul(NULL, levels[0], &bad_type, x, 1, y, &sc);
    assert_true(y[0] == 0.0f);
    y[0] = y[1] = 5;
    hearth_matmul(NULL, levels[0], &bad_cols, x, 1, y, &sc);
    assert_true(y[0] == 0.0f && y[1] == 0.0f);
    hearth_matmul_scratch_free(&sc);
}

typedef struct count_job {
    _Atomic int calls;
    int seen[8];
} count_job;

static void count_fn(void *p, int ith, int nth)
{
    count_job *j = p;
    atomic_fetch_add(&j->calls, 1);
    j->seen[ith] += nth;
}

/* Every run calls fn exactly once per thread with the right (ith, nth), thousands of times
 * in a row (the decode pattern), including a pool of one. */
static void test_threadpool(void **state)
{
    (void)state;
    for (int nth = 1; nth <= 4; nth++) {
        hearth_threadpool *tp = hearth_threadpool_new(nth);
        count_job j = {0};
        for (int rep = 0; rep < 2000; rep++) hearth_threadpool_run(tp, count_fn, &j);
        assert_int_equal(atomic_load(&j.calls), 2000 * nth);
        for (int i = 0; i < nth; i++) assert_int_equal(j.seen[i], 2000 * nth);
        hearth_threadpool_free(tp);
    }
    hearth_threadpool_run(NULL, count_fn, &(count_job){0}); /* NULL pool: runs inline */
    hearth_threadpool_free(NULL);
}

/* Real ggml-quantized blocks: every 2-D tensor of each fixture model, a few rows per tensor,
 * dequantized and dotted on every level against float64 on the dequantized values. */
static void test_fixture_tensors(void **state)
{
    (void)state;
    static const char *const models[] = {
        "models/llama-q4_0-gqa.gguf", "models/llama-q4_k.gguf", "models/qwen2-q5_k.gguf",
        "models/qwen3-q6_k.gguf", "models/qwen2-q8_0.gguf", "models/qwen3-bf16.gguf",
        "models/llama-f16.gguf",
    };
    const hearth_kernels *levels[HEARTH_CPU_LEVELS];
    int nl = n_levels(levels);
    int n_checked = 0;
    for (size_t mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
        if (!fixture_exists(models[mi])) {
            print_message("fixture %s missing: skipped\n", models[mi]);
            continue;
        }
        hearth_gguf *g = NULL;
        hearth_error err = {0};
        assert_int_equal(hearth_gguf_open(fixture_path(models[mi]), &g, &err), HEARTH_OK);
        for (int64_t ti = 0; ti < hearth_gguf_n_tensors(g); ti++) {
            const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, ti);
            if (t->n_dims != 2 || !hearth_type_supported(t->type)) continue;
            int64_t cols = t->ne[0];
            size_t rb = hearth_row_size(t->type, cols);
            hearth_type vt = levels[0]->vec_dot_type[t->type];
            float *wf = malloc(cols * sizeof(float)), *x = malloc(cols * sizeof(float));
            float *xf = malloc(cols * sizeof(float)), *got = malloc(cols * sizeof(float));
            uint8_t *xq = malloc(cols * 4);
            for (int64_t i = 0; i < cols; i++) x[i] = rnd_normal();
            levels[0]->from_float[vt](x, xq, cols);
            levels[0]->to_float[vt](xq, xf, cols);
            for (int64_t r = 0; r < t->ne[1]; r += t->ne[1] / 3 + 1) {
                const uint8_t *row = (const uint8_t *)t->data + r * rb;
                levels[0]->to_float[t->type](row, wf, cols);
                double want = exact_dot(wf, xf, cols), tol = DOT_TOL * abs_dot(wf, xf, cols) + 1e-30;
                for (int l = 0; l < nl; l++) {
                    levels[l]->to_float[t->type](row, got, cols);
                    assert_memory_equal(got, wf, cols * sizeof(float));
                    float d;
                    levels[l]->vec_dot[t->type](cols, &d, row, xq);
                    if (!(fabs(d - want) <= tol))
                        fail_msg("%s %s tensor %s row %lld: vec_dot %.9g, float64 %.9g",
                                 models[mi], levels[l]->name, t->name.s, (long long)r, d, want);
                }
                n_checked++;
            }
            /* the batched path on the same real blocks: 8 tokens x the first rows */
            int64_t rows = t->ne[1] < 40 ? t->ne[1] : 40, nt = 8;
            float *X = malloc(sizeof(float) * nt * cols), *Y = malloc(sizeof(float) * nt * rows);
            for (int64_t i = 0; i < nt * cols; i++) X[i] = rnd_normal();
            hearth_matrix W = {t->type, rows, cols, t->data};
            for (int l = 0; l < nl; l++) {
                hearth_matmul_scratch sc = {0};
                hearth_matmul(NULL, levels[l], &W, X, nt, Y, &sc);
                hearth_matmul_scratch_free(&sc);
                for (int64_t tok = 0; tok < nt; tok++) {
                    levels[0]->from_float[vt](X + tok * cols, xq, cols);
                    levels[0]->to_float[vt](xq, xf, cols);
                    for (int64_t r = 0; r < rows; r++) {
                        levels[0]->to_float[t->type]((const uint8_t *)t->data + r * rb, wf, cols);
                        double want = exact_dot(wf, xf, cols), tol = DOT_TOL * abs_dot(wf, xf, cols) + 1e-30;
                        if (!(fabs(Y[tok * rows + r] - want) <= tol))
                            fail_msg("%s %s tensor %s: matmul y[%lld][%lld] %.9g, float64 %.9g", models[mi],
                                     levels[l]->name, t->name.s, (long long)tok, (long long)r, Y[tok * rows + r], want);
                    }
                }
            }
            free(X); free(Y);
            free(wf); free(x); free(xf); free(got); free(xq);
        }
        hearth_gguf_close(g);
    }
    print_message("checked %d fixture rows\n", n_checked);
}

/* |got - want| <= rel * scale + abs, element by element */
static void check_close(const char *what, const char *level, int64_t n, const float *got,
                        const double *want, double rel, double abs_tol)
{
    for (int64_t i = 0; i < n; i++)
        if (!(fabs(got[i] - want[i]) <= rel * fabs(want[i]) + abs_tol))
            fail_msg("%s %s n=%lld: [%lld] = %.9g, expected %.9g", level, what, (long long)n,
                     (long long)i, got[i], want[i]);
}

/* Vector operations on every level against float64 formulas. Tolerance: 4e-6 relative
 * (a few float roundings, the SIMD exp polynomial is within 2 ulp) plus a small absolute
 * term for results that cancel to near zero. */
/* The fused prompt-processing attention (where a level has one) against softmax(q K^T) V in
 * double: query counts around the 32-query block, head sizes on both sides of the 128-lane
 * pass, per-query row limits (causal, and 0 for a query that sees nothing). */
static void test_attn_fused(void **state)
{
    (void)state;
    const hearth_kernels *levels[HEARTH_CPU_LEVELS];
    int nl = n_levels(levels);
    const int64_t dims[] = {64, 80, 128, 256}, nqs[] = {8, 31, 32, 37, 70};
    const int64_t n = 150, stride = 300; /* cache rows, and elements between them (> d) */
    hearth_f16 *k = malloc(sizeof *k * n * stride), *v = malloc(sizeof *v * n * stride);
    float *q = malloc(sizeof(float) * 70 * 256), *o = malloc(sizeof(float) * 70 * 256);
    float *scratch = malloc(sizeof(float) * HEARTH_ATTN_SCRATCH(256, n));
    double *p = malloc(sizeof(double) * n);
    int32_t n_kv[70];
    int checked = 0;
    for (int l = 0; l < nl; l++) {
        if (!levels[l]->vec.attn_f16) continue;
        for (size_t di = 0; di < sizeof dims / sizeof *dims; di++)
            for (size_t qi = 0; qi < sizeof nqs / sizeof *nqs; qi++) {
                int64_t d = dims[di], nq = nqs[qi];
                for (int64_t i = 0; i < n * stride; i++) {
                    k[i] = hearth_f32_to_f16(rnd_normal());
                    v[i] = hearth_f32_to_f16(rnd_normal());
                }
                for (int64_t i = 0; i < nq * d; i++) q[i] = rnd_normal();
                for (int64_t j = 0; j < nq; j++) n_kv[j] = j == 3 ? 0 : (int32_t)(n - nq + j + 1 > 1 ? n - nq + j + 1 : 1);
                float scale = 1.0f / sqrtf((float)d);
                levels[l]->vec.attn_f16(o, q, nq, d, k, v, stride, n_kv, scale, scratch);
                for (int64_t j = 0; j < nq; j++) {
                    double m = -INFINITY, sum = 0;
                    for (int64_t c = 0; c < n_kv[j]; c++) {
                        double s = 0;
                        for (int64_t i = 0; i < d; i++) s += (double)q[j * d + i] * hearth_f16_to_f32(k[c * stride + i]);
                        p[c] = s * scale;
                        if (p[c] > m) m = p[c];
                    }
                    for (int64_t c = 0; c < n_kv[j]; c++) sum += p[c] = exp(p[c] - m);
                    for (int64_t i = 0; i < d; i++) {
                        double want = 0;
                        for (int64_t c = 0; c < n_kv[j]; c++) want += p[c] / sum * hearth_f16_to_f32(v[c * stride + i]);
                        if (!(fabs(o[j * d + i] - want) <= 1e-5 + 1e-4 * fabs(want)))
                            fail_msg("%s attn_f16 d=%lld nq=%lld: o[%lld][%lld] = %.9g, expected %.9g", levels[l]->name,
                                     (long long)d, (long long)nq, (long long)j, (long long)i, o[j * d + i], want);
                    }
                }
                checked++;
            }
    }
    if (hearth_kernels_at(HEARTH_CPU_AVX512)) assert_true(checked > 0);
    free(k); free(v); free(q); free(o); free(scratch); free(p);
}

static void test_vec_ops(void **state)
{
    (void)state;
    const hearth_kernels *levels[HEARTH_CPU_LEVELS];
    int nl = n_levels(levels);
    const int64_t sizes[] = {0, 1, 7, 8, 33, 128, 1000};
    enum { MAXN = 1000 };
    float *x = malloc(MAXN * 4), *b = malloc(MAXN * 4), *w = malloc(MAXN * 4), *y = malloc(MAXN * 4);
    double *want = malloc(MAXN * sizeof(double));
    hearth_f16 *h = malloc(MAXN * 2), *h2 = malloc(MAXN * 2);
    for (int l = 0; l < nl; l++) {
        const hearth_vec_ops *v = &levels[l]->vec;
        const char *ln = levels[l]->name;
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            int64_t n = sizes[si];
            for (int64_t i = 0; i < n; i++) {
                x[i] = rnd_normal() * 3.0f;
                b[i] = rnd_normal();
                w[i] = rnd_uniform() + 1.0f;
                h[i] = hearth_f32_to_f16(rnd_normal());
            }
            double sd = 0, sa = 0, sh = 0, sha = 0, ss = 0, mx = -INFINITY, sum = 0;
            for (int64_t i = 0; i < n; i++) {
                sd += (double)x[i] * b[i];
                sa += fabs((double)x[i] * b[i]);
                sh += (double)hearth_f16_to_f32(h[i]) * b[i];
                sha += fabs((double)hearth_f16_to_f32(h[i]) * b[i]);
                ss += (double)x[i] * x[i];
                mx = x[i] > mx ? x[i] : mx;
            }
            float got = v->dot_f32(x, b, n);
            assert_true(fabs(got - sd) <= 1e-5 * sa + 1e-30);
            got = v->dot_f16(h, b, n);
            assert_true(fabs(got - sh) <= 1e-5 * sha + 1e-30);
            assert_true(v->max(x, n) == (float)mx);

            memcpy(y, b, n * 4);
            v->axpy(y, 0.75f, x, n);
            for (int64_t i = 0; i < n; i++) want[i] = b[i] + 0.75 * x[i];
            check_close("axpy", ln, n, y, want, 1e-6, 1e-6);
            memcpy(y, b, n * 4);
            v->axpy_f16(y, -1.5f, h, n);
            for (int64_t i = 0; i < n; i++) want[i] = b[i] - 1.5 * hearth_f16_to_f32(h[i]);
            check_close("axpy_f16", ln, n, y, want, 1e-6, 1e-6);
            memcpy(y, x, n * 4);
            v->scale(y, 0.3f, n);
            for (int64_t i = 0; i < n; i++) want[i] = (float)(x[i] * 0.3f);
            check_close("scale", ln, n, y, want, 0, 0);
            v->add(y, x, b, n);
            for (int64_t i = 0; i < n; i++) want[i] = (float)(x[i] + b[i]);
            check_close("add", ln, n, y, want, 0, 0);
            v->mul(y, x, b, n);
            for (int64_t i = 0; i < n; i++) want[i] = (float)(x[i] * b[i]);
            check_close("mul", ln, n, y, want, 0, 0);
            v->f32_to_f16(h2, x, n);
            for (int64_t i = 0; i < n; i++) assert_int_equal(h2[i], hearth_f32_to_f16(x[i]));
            v->f16_to_f32(y, h, n);
            for (int64_t i = 0; i < n; i++) want[i] = hearth_f16_to_f32(h[i]);
            check_close("f16_to_f32", ln, n, y, want, 0, 0);

            double r = 1.0 / sqrt(ss / (double)(n ? n : 1) + 1e-6);
            v->rmsnorm(y, x, w, n, 1e-6f);
            for (int64_t i = 0; i < n; i++) want[i] = x[i] * r * w[i];
            check_close("rmsnorm", ln, n, y, want, 4e-6, 1e-7);
            memcpy(y, x, n * 4);
            v->rmsnorm(y, y, NULL, n, 1e-6f); /* in place, no weight */
            for (int64_t i = 0; i < n; i++) want[i] = x[i] * r;
            check_close("rmsnorm in place", ln, n, y, want, 4e-6, 1e-7);

            double mean = 0, var = 0;
            for (int64_t i = 0; i < n; i++) mean += x[i];
            mean /= (double)(n ? n : 1);
            for (int64_t i = 0; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
            double rl = 1.0 / sqrt(var / (double)(n ? n : 1) + 1e-5);
            v->layernorm(y, x, w, b, n, 1e-5f);
            for (int64_t i = 0; i < n; i++) want[i] = (x[i] - mean) * rl * w[i] + b[i];
            check_close("layernorm", ln, n, y, want, 4e-6, 4e-6);

            memcpy(y, x, n * 4);
            if (n > 3) y[2] = -INFINITY; /* a masked position */
            double mxm = -INFINITY;      /* the max the softmax sees */
            for (int64_t i = 0; i < n; i++) mxm = y[i] > mxm ? y[i] : mxm;
            for (int64_t i = 0; i < n; i++) sum += exp(y[i] - mxm);
            float ret = v->softmax(y, n);
            if (n > 0) assert_true(fabs(ret - sum) <= 4e-6 * sum);
            for (int64_t i = 0; i < n; i++) want[i] = (n > 3 && i == 2) ? 0.0 : exp(x[i] - mxm) / sum;
            check_close("softmax", ln, n, y, want, 4e-6, 1e-12);

            v->silu(y, x, n);
            for (int64_t i = 0; i < n; i++) want[i] = x[i] / (1.0 + exp(-(double)x[i]));
            check_close("silu", ln, n, y, want, 4e-6, 1e-30);
            v->swiglu(y, x, b, n);
            for (int64_t i = 0; i < n; i++) want[i] = x[i] / (1.0 + exp(-(double)x[i])) * b[i];
            check_close("swiglu", ln, n, y, want, 4e-6, 1e-30);
            v->gelu(y, x, n);
            for (int64_t i = 0; i < n; i++) {
                double t = x[i];
                want[i] = 0.5 * t * (1.0 + tanh(0.7978845608028654 * t * (1.0 + 0.044715 * t * t)));
            }
            check_close("gelu", ln, n, y, want, 4e-6, 1e-7);
            /* attention over F16 rows: 11 rows of d (row stride > d), 1 or 3 query heads
             * sharing them, against float64 */
            for (int64_t nq = 1; nq <= 3; nq += 2) {
                const int64_t d = n, rows = 11, stride = d + 5;
                hearth_f16 *kv = malloc(sizeof(hearth_f16) * rows * stride);
                float *sc = malloc(sizeof(float) * rows * nq), *o = malloc(sizeof(float) * (d * nq + 1));
                float *q = malloc(sizeof(float) * (d * nq + 1)), *p = malloc(sizeof(float) * rows * nq);
                for (int64_t i = 0; i < rows * stride; i++) kv[i] = hearth_f32_to_f16(rnd_normal());
                for (int64_t i = 0; i < d * nq; i++) q[i] = rnd_normal();
                v->attn_scores_f16(sc, kv, stride, rows, q, nq, d, 0.125f);
                for (int64_t hd = 0; hd < nq; hd++)
                    for (int64_t j = 0; j < rows; j++) {
                        double acc = 0, mag = 0;
                        for (int64_t i = 0; i < d; i++) {
                            double t = (double)hearth_f16_to_f32(kv[j * stride + i]) * q[hd * d + i];
                            acc += t;
                            mag += fabs(t);
                        }
                        if (!(fabs(sc[hd * rows + j] - 0.125 * acc) <= 0.125 * 1e-5 * mag + 1e-30))
                            fail_msg("%s attn_scores_f16 d=%lld head %lld row %lld: %.9g vs %.9g", ln,
                                     (long long)d, (long long)hd, (long long)j, sc[hd * rows + j], 0.125 * acc);
                    }
                for (int64_t i = 0; i < rows * nq; i++) p[i] = rnd_uniform() + 1.0f;
                for (int64_t i = 0; i < d * nq; i++) o[i] = rnd_normal();
                double *wo = malloc(sizeof(double) * (d * nq + 1));
                for (int64_t hd = 0; hd < nq; hd++)
                    for (int64_t i = 0; i < d; i++) {
                        double acc = o[hd * d + i];
                        for (int64_t j = 0; j < rows; j++)
                            acc += (double)p[hd * rows + j] * hearth_f16_to_f32(kv[j * stride + i]);
                        wo[hd * d + i] = acc;
                    }
                v->attn_values_f16(o, p, kv, stride, rows, nq, d);
                check_close("attn_values_f16", ln, d * nq, o, wo, 1e-5, 1e-5);
                free(kv); free(sc); free(o); free(q); free(p); free(wo);
            }
        }
        /* a fully masked row, and large magnitudes for the exp range */
        float row[9] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
        assert_true(v->softmax(row, 9) == 0.0f);
        for (int i = 0; i < 9; i++) assert_true(row[i] == 0.0f);
        float big[16] = {-200, -100, -90, -88, -50, -10, -1, 0, 1, 10, 50, 80, 88, 90, 100, 200};
        v->silu(y, big, 16);
        for (int i = 0; i < 16; i++) want[i] = big[i] / (1.0 + exp(-(double)big[i]));
        check_close("silu range", ln, 16, y, want, 4e-6, 1e-30);
    }
    free(x); free(b); free(w); free(y); free(want); free(h); free(h2);
}

/* hearth_quantize: relative RMS error of a round trip on Gaussian rows stays within each
 * type's bound (measured values are about 2/3 of these), output is deterministic, and bad
 * arguments or non-finite input are refused or survived. */
static void test_quantize_roundtrip(void **state)
{
    (void)state;
    static const struct { hearth_type t; double bound; } cases[] = {
        {HEARTH_TYPE_F32, 0.0},     {HEARTH_TYPE_F16, 4e-4},    {HEARTH_TYPE_BF16, 3e-3},
        {HEARTH_TYPE_Q8_0, 0.008},  {HEARTH_TYPE_Q4_0, 0.13},   {HEARTH_TYPE_Q4_1, 0.11},
        {HEARTH_TYPE_Q5_0, 0.065},  {HEARTH_TYPE_Q5_1, 0.055},  {HEARTH_TYPE_Q2_K, 0.42},
        {HEARTH_TYPE_Q3_K, 0.21},   {HEARTH_TYPE_Q4_K, 0.10},   {HEARTH_TYPE_Q5_K, 0.05},
        {HEARTH_TYPE_Q6_K, 0.025},
    };
    const int64_t rows = 4, n = 1024;
    float *x = malloc(sizeof(float) * rows * n), *back = malloc(sizeof(float) * n);
    uint8_t *q = malloc(rows * n * 4), *q2 = malloc(rows * n * 4);
    for (int64_t i = 0; i < rows * n; i++) x[i] = rnd_normal() * (i < n ? 1.0f : 0.01f);
    const hearth_kernels *k = hearth_kernels_at(HEARTH_CPU_SCALAR);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        hearth_type t = cases[c].t;
        size_t rb = hearth_row_size(t, n);
        assert_int_equal(hearth_quantize(t, x, q, rows, n), rb * rows);
        assert_int_equal(hearth_quantize(t, x, q2, rows, n), rb * rows);
        assert_memory_equal(q, q2, rb * rows);
        for (int64_t r = 0; r < rows; r++) {
            k->to_float[t](q + r * rb, back, n);
            double err = 0, ss = 0;
            for (int64_t i = 0; i < n; i++) {
                double e = back[i] - x[r * n + i];
                err += e * e;
                ss += (double)x[r * n + i] * x[r * n + i];
            }
            double rel = sqrt(err / ss);
            if (!(rel <= cases[c].bound))
                fail_msg("%s row %lld: relative RMS error %.4f > %.4f", hearth_type_name(t),
                         (long long)r, rel, cases[c].bound);
        }
        /* an all-zero row comes back as zeros */
        memset(back, 0, sizeof(float) * n);
        assert_int_equal(hearth_quantize(t, back, q, 1, n), rb);
        k->to_float[t](q, back, n);
        for (int64_t i = 0; i < n; i++) assert_true(back[i] == 0.0f);
        /* hostile values must not crash (or trip the sanitizers) */
        for (int64_t i = 0; i < n; i++) back[i] = i % 3 == 0 ? NAN : (i % 3 == 1 ? INFINITY : -3e38f);
        assert_int_equal(hearth_quantize(t, back, q, 1, n), rb);
        /* refused: a row length that is not whole blocks, negative or zero sizes */
        if (hearth_type_traits_of(t)->block_size > 1) assert_int_equal(hearth_quantize(t, x, q, 1, n + 16), 0);
        assert_int_equal(hearth_quantize(t, x, q, -1, n), 0);
        assert_int_equal(hearth_quantize(t, x, q, 1, 0), 0);
    }
    assert_int_equal(hearth_quantize(HEARTH_TYPE_Q8_K, x, q, 1, n), 0); /* activation-only type */
    assert_int_equal(hearth_quantize(HEARTH_TYPE_IQ2_XXS, x, q, 1, n), 0);
    assert_int_equal(hearth_quantize((hearth_type)HEARTH_TYPE_COUNT, x, q, 1, n), 0);
    free(x); free(back); free(q); free(q2);
}

/* The batched path (gemm tiles) gives the same numbers as one token at a time. */
/* hearth_matmul_many equals one hearth_matmul per matrix, bit for bit: fused (one decode
 * token, matrices of one activation type, rows not multiples of the 8-row runs, a run
 * spanning two matrices) and not fused (mixed activation types, several tokens). */
static void test_matmul_many(void **state)
{
    (void)state;
    const hearth_kernels *levels[HEARTH_CPU_LEVELS];
    int nl = n_levels(levels);
    const int64_t cols = 512;
    struct { hearth_type t[3]; int64_t rows[3]; int n; } cases[] = {
        {{HEARTH_TYPE_Q4_K, HEARTH_TYPE_Q4_K, HEARTH_TYPE_Q6_K}, {37, 9, 9}, 3}, /* Q4_K_M's Q/K/V */
        {{HEARTH_TYPE_Q8_0, HEARTH_TYPE_Q8_0, HEARTH_TYPE_Q8_0}, {64, 3, 129}, 3},
        {{HEARTH_TYPE_Q4_0, HEARTH_TYPE_Q8_0}, {40, 41}, 2},
        {{HEARTH_TYPE_F16, HEARTH_TYPE_F32}, {17, 5}, 2},
        {{HEARTH_TYPE_Q8_0, HEARTH_TYPE_Q4_K}, {20, 30}, 2}, /* Q8_0 and Q8_K: not fused */
    };
    for (int nth = 1; nth <= 3; nth++) {
        hearth_threadpool *tp = hearth_threadpool_new(nth);
        assert_non_null(tp);
        for (int l = 0; l < nl; l++)
            for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
                for (int64_t n_tok = 1; n_tok <= 3; n_tok += 2) {
                    hearth_matrix W[3];
                    const hearth_matrix *Wp[3];
                    float *want[3], *got[3], *x = malloc(sizeof(float) * (size_t)(n_tok * cols));
                    for (int64_t i = 0; i < n_tok * cols; i++) x[i] = rnd_normal();
                    for (int i = 0; i < cases[c].n; i++) {
                        hearth_type t = cases[c].t[i];
                        int64_t rows = cases[c].rows[i];
                        size_t rb = hearth_row_size(t, cols);
                        uint8_t *w = malloc(rb * (size_t)rows);
                        for (int64_t r = 0; r < rows; r++) random_row(t, cols, w + r * rb);
                        W[i] = (hearth_matrix){t, rows, cols, w};
                        Wp[i] = &W[i];
                        want[i] = malloc(sizeof(float) * (size_t)(n_tok * rows));
                        got[i] = malloc(sizeof(float) * (size_t)(n_tok * rows));
                    }
                    hearth_matmul_scratch scratch = {0};
                    for (int i = 0; i < cases[c].n; i++) hearth_matmul(tp, levels[l], &W[i], x, n_tok, want[i], &scratch);
                    hearth_matmul_many(tp, levels[l], cases[c].n, Wp, x, n_tok, got, &scratch);
                    for (int i = 0; i < cases[c].n; i++) {
                        if (memcmp(got[i], want[i], sizeof(float) * (size_t)(n_tok * W[i].rows)) != 0)
                            fail_msg("%s matmul_many case %zu matrix %d (%s) n_tok=%lld threads=%d differs",
                                     levels[l]->name, c, i, hearth_type_name(W[i].type), (long long)n_tok, nth);
                        free((void *)W[i].data);
                        free(want[i]);
                        free(got[i]);
                    }
                    hearth_matmul_scratch_free(&scratch);
                    free(x);
                }
        hearth_threadpool_free(tp);
    }
}

static void test_batch_equals_single(void **state)
{
    (void)state;
    const hearth_kernels *levels[HEARTH_CPU_LEVELS];
    int nl = n_levels(levels);
    const int64_t rows = 24, cols = 512, n_tok = 12;
    float *x = malloc(sizeof(float) * n_tok * cols), *yb = malloc(sizeof(float) * n_tok * rows);
    float *ys = malloc(sizeof(float) * rows), *wf = malloc(sizeof(float) * cols);
    uint8_t *w = malloc(rows * cols * 4);
    hearth_threadpool *tp = hearth_threadpool_new(2);
    for (int l = 0; l < nl; l++)
        for (size_t ti = 0; ti < N_WEIGHT_TYPES; ti++) {
            hearth_type t = weight_types[ti];
            size_t rb = hearth_row_size(t, cols);
            for (int64_t r = 0; r < rows; r++) random_row(t, cols, w + r * rb);
            for (int64_t i = 0; i < n_tok * cols; i++) x[i] = rnd_normal();
            hearth_matrix W = {t, rows, cols, w};
            hearth_matmul_scratch sc = {0};
            hearth_matmul(tp, levels[l], &W, x, n_tok, yb, &sc);
            for (int64_t tok = 0; tok < n_tok; tok++) {
                hearth_matmul(tp, levels[l], &W, x + tok * cols, 1, ys, &sc);
                for (int64_t r = 0; r < rows; r++) {
                    levels[0]->to_float[t](w + r * rb, wf, cols);
                    double tol = 2 * DOT_TOL * abs_dot(wf, x + tok * cols, cols) + 1e-30;
                    if (!(fabs(yb[tok * rows + r] - ys[r]) <= tol))
                        fail_msg("%s %s: batched y[%lld][%lld] = %.9g, single %.9g", levels[l]->name,
                                 hearth_type_name(t), (long long)tok, (long long)r, yb[tok * rows + r], ys[r]);
                }
            }
            hearth_matmul_scratch_free(&sc);
        }
    hearth_threadpool_free(tp);
    free(x); free(yb); free(ys); free(wf); free(w);
}

/* HEARTH_CPU picks the level hearth_kernels_get() returns; an unknown or unsupported value
 * falls back to the best level. Checked in child processes (the choice is made once per
 * process): this binary run as `test_kernels --print-level` prints the chosen name. */
static void test_env_forces_level(void **state)
{
    (void)state;
    const hearth_kernels *levels[HEARTH_CPU_LEVELS];
    int nl = n_levels(levels);
    const char *best = levels[nl - 1]->name;
    typedef struct { const char *env, *want; } env_case;
    env_case cases[HEARTH_CPU_LEVELS + 3];
    int nc = 0;
    for (int l = 0; l < nl; l++) cases[nc++] = (env_case){levels[l]->name, levels[l]->name};
    cases[nc++] = (env_case){"AVX2", nl > 1 ? "avx2" : best}; /* case-insensitive */
    cases[nc++] = (env_case){"sse9", best};
    cases[nc++] = (env_case){"", best};
    for (int c = 0; c < nc; c++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "HEARTH_CPU='%s' /proc/%d/exe --print-level 2>/dev/null", cases[c].env, (int)getpid());
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        char got[64] = "";
        if (!fgets(got, sizeof got, f)) got[0] = 0;
        got[strcspn(got, "\n")] = 0;
        assert_int_equal(pclose(f), 0);
        if (strcmp(got, cases[c].want) != 0)
            fail_msg("HEARTH_CPU='%s': got level '%s', expected '%s'", cases[c].env, got, cases[c].want);
    }
}

/* F16 -> F32 for all 65536 bit patterns against the definition (sign, exponent, mantissa;
 * NaN payloads kept), F16C where the CPU has it, and the round trip back. */
static void test_f16_exhaustive(void **state)
{
    (void)state;
    for (uint32_t h = 0; h < 65536; h++) {
        float got = hearth_f16_to_f32((hearth_f16)h);
        int e = (h >> 10) & 0x1f, m = h & 0x3ff;
        double want = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024 + m, e - 25);
        if (h & 0x8000) want = -want;
        if (e == 31 && m) {
            uint32_t bits;
            memcpy(&bits, &got, 4);
            assert_true(isnan(got));
            assert_int_equal(bits, ((h & 0x8000u) << 16) | 0x7f800000u | ((uint32_t)m << 13));
        } else if (!(got == (float)want && !!signbit(got) == !!signbit(want))) {
            fail_msg("f16 0x%04x: %.9g, expected %.9g", h, got, want);
        }
        if (e != 31 || !m) assert_int_equal(hearth_f32_to_f16(got), h);
#if defined(__x86_64__)
        if (hearth_kernels_at(HEARTH_CPU_AVX2)) {
            float f16c[8];
            hearth_f16 in[8] = {(hearth_f16)h};
            hearth_kernels_at(HEARTH_CPU_AVX2)->to_float[HEARTH_TYPE_F16](in, f16c, 8);
            if (e == 31 && m) assert_true(isnan(f16c[0])); /* F16C quiets signaling NaNs */
            else assert_memory_equal(&f16c[0], &got, 4);
        }
#endif
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--print-level") == 0) {
        puts(hearth_kernels_get()->name);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_env_forces_level),
        cmocka_unit_test(test_f16_exhaustive),
        cmocka_unit_test(test_conversions_exact),
        cmocka_unit_test(test_vec_dot),
        cmocka_unit_test(test_quantize_roundtrip),
        cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_matmul_many),
        cmocka_unit_test(test_batch_equals_single),
        cmocka_unit_test(test_threadpool),
        cmocka_unit_test(test_vec_ops),
        cmocka_unit_test(test_attn_fused),
        cmocka_unit_test(test_fixture_tensors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
