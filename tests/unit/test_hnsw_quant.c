/* test_hnsw_quant.c — the 8-bit vectors HNSW traverses with: every idot kernel equals the
 * scalar sum exactly, the quantized dot stays within its proven error bound of the float dot,
 * and an index searched through the 8-bit copy (then re-ranked in float) finds what float
 * traversal and exact search find, with exact scores. */
#include "testutil.h"

#include <math.h>

#include "rag/hnsw.h"
#include "rag/search.h"
#include "rag/vdot.h"

static uint64_t rng = 0x853c49e6748fea9bull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static float frand(void) { return (float)((double)(next() >> 11) / 9007199254740992.0 * 2.0 - 1.0); }

static void unit(float *v, size_t dim)
{
    double s = 0;
    for (size_t i = 0; i < dim; i++) v[i] = frand(), s += (double)v[i] * v[i];
    for (size_t i = 0; i < dim; i++) v[i] = (float)(v[i] / sqrt(s));
}

static void test_idot_kernels_exact(void **state)
{
    (void)state;
    __builtin_cpu_init();
    bool has_avx2 = __builtin_cpu_supports("avx2");
    bool has_vnni = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
    uint8_t u[448];
    int8_t s[448];
    for (int round = 0; round < 300; round++) {
        size_t n = 64 * (size_t)(1 + round % 7);
        for (size_t i = 0; i < n; i++) {
            u[i] = (uint8_t)next();
            s[i] = (int8_t)(next() % 255 - 127); /* the contract: s in [-127, 127] */
        }
        /* the extremes: every product at its largest magnitude, and alternating signs, must
         * not saturate a 16-bit pair sum (the AVX2 path's maddubs) */
        for (size_t i = 0; round < 4 && i < n; i++) {
            u[i] = round & 1 ? 0 : 255;
            s[i] = (int8_t)(round & 2 ? (i & 1 ? 127 : -127) : -127);
        }
        int32_t want = 0, sum = 0;
        for (size_t i = 0; i < n; i++) want += ((int32_t)u[i] - 128) * s[i], sum += s[i];
        assert_int_equal(rag_idot_scalar(u, s, sum, n), want);
        if (has_avx2) assert_int_equal(rag_idot_avx2(u, s, sum, n), want);
        if (has_vnni) assert_int_equal(rag_idot_avx512(u, s, sum, n), want);
        assert_int_equal(rag_idot_get()(u, s, sum, n), want);
    }
}

/* |x.q - sx sq idot| <= sq/2 |x|_1 + sx/2 |q|_1 + dim sx sq / 4: each element is
 * off by at most half its scale, and the cross term by a quarter of both. */
static void test_quant_error_bound(void **state)
{
    (void)state;
    static const size_t dims[] = {1, 7, 64, 100, 384, 385};
    float x[385], q[385];
    uint8_t u[448];
    int8_t s[448];
    for (size_t di = 0; di < sizeof dims / sizeof *dims; di++) {
        size_t dim = dims[di], padded = (dim + 63) / 64 * 64;
        double sum_err = 0;
        const int pairs = 300;
        for (int p = 0; p < pairs; p++) {
            unit(x, dim);
            unit(q, dim);
            int32_t qsum;
            float sx = rag_quant_u8(x, dim, padded, u), sq = rag_quant_s8(q, dim, padded, s, &qsum);
            for (size_t i = dim; i < padded; i++) { /* the padding contributes nothing */
                assert_int_equal(u[i], 128);
                assert_int_equal(s[i], 0);
            }
            double exact = rag_dot_scalar(x, q, dim);
            double approx = (double)sx * sq * rag_idot_get()(u, s, qsum, padded);
            double l1x = 0, l1q = 0;
            for (size_t i = 0; i < dim; i++) l1x += fabs(x[i]), l1q += fabs(q[i]);
            double bound = sq / 2.0 * l1x + sx / 2.0 * l1q + (double)dim * sx * sq / 4.0 + 1e-5;
            assert_true(fabs(exact - approx) <= bound);
            sum_err += fabs(exact - approx);
        }
        /* in practice far inside the bound: for 384 dims about 1e-3 of a unit dot */
        if (dim == 384) assert_true(sum_err / pairs < 2e-3);
    }
    /* a zero vector: scale 0, no NaN, dot 0 */
    memset(x, 0, sizeof x);
    assert_true(rag_quant_u8(x, 100, 128, u) == 0.0f);
    for (size_t i = 0; i < 128; i++) assert_int_equal(u[i], 128);
    /* hostile values (a store's blob is outside input): no undefined behaviour, codes in range */
    x[0] = NAN, x[1] = INFINITY, x[2] = -INFINITY, x[3] = 1e38f, x[4] = -1e-38f;
    int32_t qsum;
    assert_true(rag_quant_u8(x, 100, 128, u) == 1e38f / 127.0f); /* the largest finite value */
    assert_true(rag_quant_s8(x, 100, 128, s, &qsum) == 1e38f / 127.0f);
    for (size_t i = 0; i < 3; i++) assert_true(u[i] == 128 && s[i] == 0); /* not finite: coded 0 */
    assert_true(u[3] == 255 && s[3] == 127);
    for (size_t i = 0; i < 128; i++) assert_true(s[i] >= -127 && s[i] <= 127);
}

/* embedding-like unit vectors: 20 centres, each point varying along 6 directions of its own
 * cluster (spread 1) plus as much isotropic noise */
static float *make_data(size_t n, int dim, uint64_t seed)
{
    uint64_t saved = rng;
    rng = 0x9e3779b97f4a7c15ull; /* the same clusters for data and queries */
    float *centres = malloc(20 * 7 * (size_t)dim * sizeof *centres), *v = malloc(n * (size_t)dim * sizeof *v);
    for (int c = 0; c < 20 * 7; c++) unit(centres + (size_t)c * dim, (size_t)dim);
    rng = saved ^ seed;
    for (size_t i = 0; i < n; i++) {
        float *x = v + i * (size_t)dim;
        const float *c = centres + (next() % 20) * 7 * (size_t)dim;
        memcpy(x, c, (size_t)dim * sizeof *x);
        for (int j = 1; j < 7; j++) {
            float z = 1.0f / sqrtf(6.0f) * frand() * 1.7f;
            for (int d = 0; d < dim; d++) x[d] += z * c[(size_t)j * dim + (size_t)d];
        }
        double s = 0;
        for (int d = 0; d < dim; d++) x[d] += 1.0f / sqrtf((float)dim) * frand() * 1.7f, s += (double)x[d] * x[d];
        for (int d = 0; d < dim; d++) x[d] = (float)(x[d] / sqrt(s));
    }
    free(centres);
    return v;
}

static double recall(rag_hnsw *h, const float *data, const int64_t *ids, size_t n, int dim, const float *qs, int nq,
                     int32_t ef)
{
    int hits = 0;
    for (int i = 0; i < nq; i++) {
        const float *q = qs + (size_t)i * dim;
        int64_t exact[10], got[10];
        float es[10], gs[10];
        int32_t ne = rag_exact_search(data, ids, n, dim, q, 10, NULL, NULL, exact, es);
        int32_t ng = rag_hnsw_search(h, q, 10, ef, got, gs);
        assert_int_equal(ng, 10);
        for (int j = 0; j < ng; j++) {
            /* re-ranked: the score is the exact float dot of the returned vector, best first */
            assert_true(fabsf(gs[j] - rag_dot_scalar(q, data + (size_t)got[j] * dim, (size_t)dim)) < 1e-4f);
            if (j) assert_true(gs[j] <= gs[j - 1]);
            for (int e = 0; e < ne; e++) hits += got[j] == exact[e];
        }
    }
    return hits / (10.0 * nq);
}

static void test_quantized_search_recall(void **state)
{
    (void)state;
    const int dim = 96, nq = 100;
    const size_t n = 3000;
    float *data = make_data(n, dim, 1), *qs = make_data((size_t)nq, dim, 2);
    int64_t *ids = malloc(n * sizeof *ids);
    rag_hnsw *h8, *hf;
    hearth_error err = {0};
    rag_hnsw_params p = rag_hnsw_default_params();
    p.ef_construction = 100;
    assert_int_equal(rag_hnsw_new(dim, &p, &h8, &err), HEARTH_OK);
    p.float_traversal = true;
    assert_int_equal(rag_hnsw_new(dim, &p, &hf, &err), HEARTH_OK);
    for (size_t i = 0; i < n; i++) {
        ids[i] = (int64_t)i;
        assert_int_equal(rag_hnsw_add(h8, ids[i], data + i * dim, &err), HEARTH_OK);
        assert_int_equal(rag_hnsw_add(hf, ids[i], data + i * dim, &err), HEARTH_OK);
    }
    double r8 = recall(h8, data, ids, n, dim, qs, nq, 64), rf = recall(hf, data, ids, n, dim, qs, nq, 64);
    double r8_low = recall(h8, data, ids, n, dim, qs, nq, 16), rf_low = recall(hf, data, ids, n, dim, qs, nq, 16);
    print_message("recall@10 ef 64: 8-bit %.3f, float %.3f; ef 16: 8-bit %.3f, float %.3f\n", r8, rf, r8_low, rf_low);
    assert_true(r8 >= 0.95);
    assert_true(r8 >= rf - 0.02);
    assert_true(r8_low >= rf_low - 0.05);
    rag_hnsw_free(h8);
    rag_hnsw_free(hf);
    free(data);
    free(qs);
    free(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idot_kernels_exact),
        cmocka_unit_test(test_quant_error_bound),
        cmocka_unit_test(test_quantized_search_recall),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
