/* test_rag_search.c — ingestion (incremental, deletions, skip reasons) and search (BM25,
 * vector, hybrid RRF, path filter), the HNSW index kept in step with the store. */
#include "testutil.h"
#include "rag_testutil.h"

#include <sqlite3.h>

#include "rag/ingest.h"
#include "rag/search.h"

#define RT_LEN 0 /* rt_write: 0 = strlen of the text */

static void test_rrf(void **state)
{
    (void)state;
    const int64_t a[] = {1, 2, 3}, b[] = {3, 4, 1};
    const int64_t *lists[] = {a, b};
    int32_t lens[] = {3, 3};
    int64_t out[4];
    double sc[4];
    int32_t n = rag_rrf(lists, lens, 2, 4, out, sc);
    assert_int_equal(n, 4);
    /* 1: 1/61 + 1/63; 3: 1/63 + 1/61 -> tie, lower id first; then 2 (1/62) before 4 (1/62) by id */
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 3);
    assert_int_equal(out[2], 2);
    assert_int_equal(out[3], 4);
    assert_true(fabs(sc[0] - (1.0 / 61 + 1.0 / 63)) < 1e-12);
    assert_true(fabs(sc[2] - 1.0 / 62) < 1e-12);
    lens[1] = 0;
    assert_int_equal(rag_rrf(lists, lens, 2, 2, out, sc), 2);
    assert_int_equal(out[0], 1);
    assert_int_equal(rag_rrf(lists, lens, 2, 0, out, sc), 0);
}

static void test_snippet_and_glob(void **state)
{
    (void)state;
    char *s = rag_snippet("Intro text.\n\nThe   refund window is thirty days.", "REFUND policy", 30);
    assert_non_null(strstr(s, "refund window"));
    assert_null(strchr(s, '\n'));
    free(s);
    s = rag_snippet("short", "nothing", 100);
    assert_string_equal(s, "short");
    free(s);
    assert_true(rag_path_matches("*.md", "/a/b/c.md"));
    assert_true(rag_path_matches("b/*.md", "/a/b/c.md"));
    assert_true(rag_path_matches("c.md", "/a/b/c.md"));
    assert_false(rag_path_matches("c.md", "/a/b/xc.md"));
    assert_false(rag_path_matches("/z/*", "/a/b/c.md"));
    assert_true(rag_path_matches(NULL, "/a"));
}

typedef struct env {
    char *dir;
    char docs[4200], store[4200];
    rag_store *s;
    rag_embedder emb;
} env;

static void setup_docs(env *e)
{
    e->dir = rt_tempdir();
    snprintf(e->docs, sizeof e->docs, "%s/docs", e->dir);
    snprintf(e->store, sizeof e->store, "%s/store.db", e->dir);
    rt_write(e->docs, "leave.md", "# Leave\n\nEmployees receive twenty five vacation days per year.\n\n"
                                  "## Sick leave\n\nSick days require a doctor note after three days.\n", RT_LEN);
    rt_write(e->docs, "travel.txt", "Travel policy. Flights must be booked through the travel portal.\n"
                                    "Hotels up to 150 euros per night are reimbursed.\n", RT_LEN);
    rt_write(e->docs, "sub/security.html", "<h1>Security</h1><p>Badges must be worn inside the office.</p>", RT_LEN);
    rt_write(e->docs, ".hidden.md", "hidden vacation secrets", RT_LEN);
    rt_write(e->docs, "blob.bin", "\x7f" "ELF\0\0\0binary", 13);
    rt_write(e->docs, "broken.pdf", "%PDF-1.7 this is not really a pdf", RT_LEN);
    e->emb = rt_embedder("bow");
    hearth_error err = {0};
    assert_int_equal(rag_store_open(e->store, true, &e->s, &err), HEARTH_OK);
}

static void teardown_docs(env *e)
{
    rag_store_close(e->s);
    rt_rmrf(e->dir);
    free(e->dir);
}

static rag_ingest_summary ingest(env *e, const char *const *include, size_t n_inc)
{
    rag_ingest_params p = rag_ingest_default_params();
    p.embedder = &e->emb;
    p.include = include;
    p.n_include = n_inc;
    p.max_file_size = 4096;
    rag_ingest_summary sum;
    hearth_error err = {0};
    const char *paths[] = {e->docs};
    hearth_log_set(NULL, NULL); /* the skip warnings are expected here */
    assert_int_equal(rag_ingest(e->s, paths, 1, &p, &sum, &err), HEARTH_OK);
    hearth_log_set(NULL, NULL);
    return sum;
}

static int32_t search(env *e, const char *q, rag_mode mode, const char *glob, rag_hit **hits)
{
    rag_search_params p = rag_search_default_params();
    p.mode = mode;
    p.embedder = &e->emb;
    p.path_glob = glob;
    p.k = 3;
    int32_t n;
    hearth_error err = {0};
    assert_int_equal(rag_search(e->s, q, &p, hits, &n, &err), HEARTH_OK);
    return n;
}

static void test_ingest_incremental(void **state)
{
    (void)state;
    env e;
    setup_docs(&e);
    rag_ingest_summary s = ingest(&e, NULL, 0);
    assert_int_equal(s.files, 5); /* hidden file not even looked at */
    assert_int_equal(s.added, 3);
    assert_int_equal(s.skipped[RAG_SKIP_BINARY], 1);
    assert_int_equal(s.skipped[RAG_SKIP_CORRUPT] + s.skipped[RAG_SKIP_EMPTY], 1);
    assert_true(s.chunks >= 4);
    /* nothing changed: nothing written */
    s = ingest(&e, NULL, 0);
    assert_int_equal(s.unchanged, 3);
    assert_int_equal(s.added + s.updated + s.removed, 0);
    /* one edited, one deleted, one new */
    rt_write(e.docs, "travel.txt", "Travel policy. Trains are preferred for trips under four hours.\n", RT_LEN);
    char p[4300];
    snprintf(p, sizeof p, "%s/sub/security.html", e.docs);
    assert_int_equal(unlink(p), 0);
    rt_write(e.docs, "new.md", "# Onboarding\n\nLaptops are issued on the first day.\n", RT_LEN);
    s = ingest(&e, NULL, 0);
    assert_int_equal(s.updated, 1);
    assert_int_equal(s.removed, 1);
    assert_int_equal(s.added, 1);
    rag_hit *h;
    int32_t n = search(&e, "hotels reimbursed", RAG_MODE_BM25, NULL, &h);
    assert_int_equal(n, 0); /* the old travel text is gone */
    rag_hits_free(h, n);
    n = search(&e, "badges", RAG_MODE_BM25, NULL, &h);
    assert_int_equal(n, 0);
    rag_hits_free(h, n);
    n = search(&e, "trains", RAG_MODE_BM25, NULL, &h);
    assert_int_equal(n, 1);
    assert_non_null(strstr(h[0].path, "/docs/travel.txt"));
    assert_int_equal(h[0].line_start, 1);
    rag_hits_free(h, n);
    /* include globs narrow the walk */
    const char *inc[] = {"*.md"};
    s = ingest(&e, inc, 1);
    assert_int_equal(s.files, 2);
    teardown_docs(&e);
}

static void test_modes_and_filter(void **state)
{
    (void)state;
    env e;
    setup_docs(&e);
    ingest(&e, NULL, 0);
    rag_hit *h;
    int32_t n = search(&e, "how many vacation days do employees receive", RAG_MODE_VECTOR, NULL, &h);
    assert_true(n >= 1);
    assert_non_null(strstr(h[0].path, "leave.md"));
    assert_string_equal(h[0].heading, "Leave");
    for (int32_t i = 1; i < n; i++) assert_true(h[i].score <= h[i - 1].score);
    rag_hits_free(h, n);
    n = search(&e, "doctor note", RAG_MODE_HYBRID, NULL, &h);
    assert_true(n >= 1);
    assert_string_equal(h[0].heading, "Leave > Sick leave");
    assert_int_equal(h[0].line_start, 5);
    rag_hits_free(h, n);
    n = search(&e, "policy days", RAG_MODE_BM25, "*.txt", &h);
    for (int32_t i = 0; i < n; i++) assert_non_null(strstr(h[i].path, ".txt"));
    assert_true(n >= 1);
    rag_hits_free(h, n);
    n = search(&e, "policy days", RAG_MODE_HYBRID, "sub/*", &h);
    for (int32_t i = 0; i < n; i++) assert_non_null(strstr(h[i].path, "/sub/"));
    rag_hits_free(h, n);
    /* a different model is refused for vector search, BM25 still works */
    rag_search_params p = rag_search_default_params();
    rag_embedder other = rt_embedder("other");
    p.embedder = &other;
    hearth_error err = {0};
    assert_int_equal(rag_search(e.s, "vacation", &p, &h, &n, &err), HEARTH_ERR_INVALID_ARG);
    p.mode = RAG_MODE_BM25;
    assert_int_equal(rag_search(e.s, "vacation", &p, &h, &n, &err), HEARTH_OK);
    rag_hits_free(h, n);
    p.k = 0;
    assert_int_equal(rag_search(e.s, "vacation", &p, &h, &n, &err), HEARTH_ERR_INVALID_ARG);
    teardown_docs(&e);
}

static bool keep_only(void *u, int64_t id) { return id == *(const int64_t *)u; }

/* With the HNSW threshold at 1, the index file is created, synced after changes (inserts and
 * tombstones), and rebuilt when corrupt; answers match exact search on this tiny store. */
static void test_hnsw_index_sync(void **state)
{
    (void)state;
    env e;
    setup_docs(&e);
    ingest(&e, NULL, 0);
    rag_vindex_params vp = rag_vindex_default_params();
    vp.hnsw_threshold = 1;
    rag_vindex *v;
    hearth_error err = {0};
    assert_int_equal(rag_vindex_open(e.s, &vp, &v, &err), HEARTH_OK);
    assert_true(rag_vindex_is_hnsw(v));
    size_t n0 = rag_vindex_size(v);
    rag_vindex_free(v);
    char idx[4300];
    snprintf(idx, sizeof idx, "%s.hnsw", e.store);
    assert_int_equal(access(idx, F_OK), 0);
    rt_write(e.docs, "more.md", "# More\n\nParking spaces are assigned by lottery.\n", RT_LEN);
    char p[4300];
    snprintf(p, sizeof p, "%s/sub/security.html", e.docs);
    unlink(p);
    ingest(&e, NULL, 0);
    assert_int_equal(rag_vindex_open(e.s, &vp, &v, &err), HEARTH_OK);
    rag_store_stats st;
    rag_store_stats_get(e.s, &st, &err);
    assert_int_equal(rag_vindex_size(v), (size_t)st.embeddings);
    assert_true(rag_vindex_size(v) == n0); /* one chunk in, one out */
    float q[RT_DIM];
    const char *qt = "parking lottery";
    size_t ql = strlen(qt);
    rt_embed(NULL, &qt, &ql, 1, q, &err);
    int64_t ids[3];
    float sc[3];
    assert_true(rag_vindex_search(v, q, 3, 0, NULL, NULL, ids, sc) >= 1);
    rag_hit h;
    bool found;
    rag_store_chunk_get(e.s, ids[0], &h, &found, &err);
    assert_true(found);
    assert_non_null(strstr(h.path, "more.md"));
    rag_hit_clear(&h);
    /* filtered search through the graph: only the ids the filter keeps come back */
    int64_t only = ids[0];
    int32_t m = rag_vindex_search(v, q, 3, 0, keep_only, &only, ids, sc);
    assert_int_equal(m, 1);
    assert_int_equal(ids[0], only);
    rag_vindex_free(v);
    rt_write(e.dir, "store.db.hnsw", "garbage", RT_LEN);
    hearth_log_set(NULL, NULL);
    assert_int_equal(rag_vindex_open(e.s, &vp, &v, &err), HEARTH_OK);
    assert_int_equal(rag_vindex_size(v), (size_t)st.embeddings);
    rag_vindex_free(v);
    teardown_docs(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rrf),
        cmocka_unit_test(test_snippet_and_glob),
        cmocka_unit_test(test_ingest_incremental),
        cmocka_unit_test(test_modes_and_filter),
        cmocka_unit_test(test_hnsw_index_sync),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
