/* test_rag_hnsw.c — our HNSW against exact search: recall@10 on uniform and clustered data,
 * deletes (tombstones never returned), save/load round trip, hostile index files. */
#include "testutil.h"
#include "rag_testutil.h"

#include "rag/hnsw.h"
#include "rag/search.h"

static uint64_t rng = 88172645463325252ull;
static float frand(void) /* uniform in [-1, 1) */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void normalize(float *v, int dim)
{
    float s = 0;
    for (int i = 0; i < dim; i++) s += v[i] * v[i];
    s = 1.0f / sqrtf(s);
    for (int i = 0; i < dim; i++) v[i] *= s;
}

/* n vectors: uniform on the sphere, or around n_clusters random centres (spread 0.35). */
static float *make_data(size_t n, int dim, int n_clusters)
{
    float *v = malloc(n * (size_t)dim * sizeof *v);
    float *centres = malloc((size_t)(n_clusters ? n_clusters : 1) * (size_t)dim * sizeof *centres);
    for (int c = 0; c < n_clusters * dim; c++) centres[c] = frand();
    for (size_t i = 0; i < n; i++) {
        float *x = v + i * (size_t)dim;
        const float *c = n_clusters ? centres + (i % (size_t)n_clusters) * (size_t)dim : NULL;
        for (int d = 0; d < dim; d++) x[d] = c ? c[d] + 0.35f * frand() : frand();
        normalize(x, dim);
    }
    free(centres);
    return v;
}

static double recall_at_10(rag_hnsw *h, const float *data, const int64_t *ids, size_t n, int dim, const float *queries,
                           int nq, int32_t ef)
{
    int hits = 0;
    for (int q = 0; q < nq; q++) {
        int64_t exact[10], approx[10];
        float es[10], as[10];
        int32_t ne = rag_exact_search(data, ids, n, dim, queries + (size_t)q * dim, 10, NULL, NULL, exact, es);
        int32_t na = rag_hnsw_search(h, queries + (size_t)q * dim, 10, ef, approx, as);
        for (int i = 0; i < ne; i++)
            for (int j = 0; j < na; j++)
                if (exact[i] == approx[j]) hits++;
        for (int j = 1; j < na; j++) assert_true(as[j] <= as[j - 1]); /* best first */
    }
    return hits / (10.0 * nq);
}

static void run_recall(int n_clusters, double min_recall)
{
    const int dim = 48, nq = 100;
    const size_t n = 5000;
    float *data = make_data(n, dim, n_clusters);
    float *queries = make_data((size_t)nq, dim, n_clusters);
    int64_t *ids = malloc(n * sizeof *ids);
    rag_hnsw_params p = rag_hnsw_default_params();
    p.ef_construction = 100;
    rag_hnsw *h;
    hearth_error err = {0};
    assert_int_equal(rag_hnsw_new(dim, &p, &h, &err), HEARTH_OK);
    for (size_t i = 0; i < n; i++) {
        ids[i] = (int64_t)(i * 7 + 3); /* ids are the caller's, not positions */
        assert_int_equal(rag_hnsw_add(h, ids[i], data + i * dim, &err), HEARTH_OK);
    }
    assert_int_equal(rag_hnsw_add(h, ids[0], data, &err), HEARTH_ERR_INVALID_ARG);
    double r_low = recall_at_10(h, data, ids, n, dim, queries, nq, 10);
    double r = recall_at_10(h, data, ids, n, dim, queries, nq, 128);
    print_message("clusters %d: recall@10 %.3f at ef 128 (%.3f at ef 10)\n", n_clusters, r, r_low);
    assert_true(r >= min_recall);
    assert_true(r >= r_low); /* a wider search never does worse on average */
    rag_hnsw_free(h);
    free(data);
    free(queries);
    free(ids);
}

static void test_recall_uniform(void **state) { (void)state; run_recall(0, 0.95); }
static void test_recall_clustered(void **state) { (void)state; run_recall(50, 0.95); }

static void test_delete_and_persist(void **state)
{
    (void)state;
    const int dim = 32;
    const size_t n = 2000;
    float *data = make_data(n, dim, 20);
    int64_t *ids = malloc(n * sizeof *ids);
    rag_hnsw_params p = rag_hnsw_default_params();
    rag_hnsw *h;
    hearth_error err = {0};
    assert_int_equal(rag_hnsw_new(dim, &p, &h, &err), HEARTH_OK);
    for (size_t i = 0; i < n; i++) {
        ids[i] = (int64_t)i;
        assert_int_equal(rag_hnsw_add(h, ids[i], data + i * dim, &err), HEARTH_OK);
    }
    /* delete every third vector; searching for a deleted vector never returns it */
    for (size_t i = 0; i < n; i += 3) assert_true(rag_hnsw_remove(h, ids[i]));
    assert_false(rag_hnsw_remove(h, ids[0]));
    assert_false(rag_hnsw_remove(h, 999999));
    assert_int_equal(rag_hnsw_live(h), n - (n + 2) / 3);
    for (size_t i = 0; i < n; i += 3) {
        int64_t got[10];
        float sc[10];
        int32_t m = rag_hnsw_search(h, data + i * dim, 10, 64, got, sc);
        assert_int_equal(m, 10);
        for (int j = 0; j < m; j++) assert_int_not_equal(got[j] % 3, 0);
    }
    /* survivors are still found (each is its own nearest neighbour) */
    int found = 0;
    for (size_t i = 1; i < n; i += 3) {
        int64_t got[1];
        float sc[1];
        if (rag_hnsw_search(h, data + i * dim, 1, 64, got, sc) == 1 && got[0] == ids[i]) found++;
    }
    assert_true(found >= (int)(n / 3) * 98 / 100);

    char *dir = rt_tempdir(), path[4200];
    snprintf(path, sizeof path, "%s/i.hnsw", dir);
    assert_int_equal(rag_hnsw_save(h, path, 42, &err), HEARTH_OK);
    rag_hnsw *h2;
    uint64_t tag;
    assert_int_equal(rag_hnsw_load(path, &h2, &tag, &err), HEARTH_OK);
    assert_int_equal(tag, 42);
    assert_int_equal(rag_hnsw_live(h2), rag_hnsw_live(h));
    for (size_t i = 0; i < 50; i++) {
        int64_t a[10], b[10];
        float sa[10], sb[10];
        int32_t na = rag_hnsw_search(h, data + i * dim, 10, 64, a, sa);
        int32_t nb = rag_hnsw_search(h2, data + i * dim, 10, 64, b, sb);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, (size_t)na * sizeof *a); /* the same graph answers the same */
    }
    /* the loaded index keeps growing */
    float extra[32];
    memcpy(extra, data, sizeof extra);
    assert_int_equal(rag_hnsw_add(h2, 5000, extra, &err), HEARTH_OK);
    rag_hnsw_free(h2);

    /* hostile files: every flipped byte, truncation and trailing garbage is refused cleanly */
    char *bytes;
    size_t len;
    assert_int_equal(hearth_read_file(path, 1 << 28, &bytes, &len, &err), HEARTH_OK);
    for (size_t cut = 0; cut < len; cut += len / 97 + 1) {
        FILE *f = fopen(path, "wb");
        fwrite(bytes, 1, cut, f);
        fclose(f);
        assert_int_equal(rag_hnsw_load(path, &h2, &tag, &err), HEARTH_ERR_FORMAT);
    }
    for (size_t at = 0; at < len; at += len / 53 + 1) {
        bytes[at] ^= 0x40;
        FILE *f = fopen(path, "wb");
        fwrite(bytes, 1, len, f);
        fclose(f);
        assert_int_equal(rag_hnsw_load(path, &h2, &tag, &err), HEARTH_ERR_FORMAT);
        bytes[at] ^= 0x40;
    }
    snprintf(path, sizeof path, "%s/none.hnsw", dir);
    assert_int_equal(rag_hnsw_load(path, &h2, &tag, &err), HEARTH_ERR_IO);
    free(bytes);
    rt_rmrf(dir);
    free(dir);
    rag_hnsw_free(h);
    free(data);
    free(ids);
}

static void test_params(void **state)
{
    (void)state;
    rag_hnsw *h;
    hearth_error err = {0};
    rag_hnsw_params p = rag_hnsw_default_params();
    p.M = 1;
    assert_int_equal(rag_hnsw_new(8, &p, &h, &err), HEARTH_ERR_INVALID_ARG);
    p = rag_hnsw_default_params();
    assert_int_equal(rag_hnsw_new(0, &p, &h, &err), HEARTH_ERR_INVALID_ARG);
    assert_int_equal(rag_hnsw_new(8, &p, &h, &err), HEARTH_OK);
    float q[8] = {1};
    int64_t id;
    float sc;
    assert_int_equal(rag_hnsw_search(h, q, 1, 0, &id, &sc), 0); /* empty index */
    rag_hnsw_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recall_uniform), cmocka_unit_test(test_recall_clustered),
        cmocka_unit_test(test_delete_and_persist), cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
