/* test_rag_store.c — the SQLite store: schema, one-transaction documents, FTS in step with
 * chunks, model identity, store name resolution, hostile store files. */
#include "testutil.h"
#include "rag_testutil.h"

#include <sqlite3.h>

static rag_chunk mk(const char *text, const char *heading)
{
    rag_chunk c;
    memset(&c, 0, sizeof c);
    c.text = (char *)text;
    c.heading = (char *)heading;
    c.byte_end = strlen(text);
    c.line_start = c.line_end = 1;
    return c;
}

static int64_t count(rag_store *s, const char *sql)
{
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(rag_store_db(s), sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

static int32_t bm25(rag_store *s, const char *q, int64_t *ids)
{
    double sc[16];
    int32_t n;
    hearth_error err = {0};
    assert_int_equal(rag_store_bm25(s, q, 16, ids, sc, &n, &err), HEARTH_OK);
    return n;
}

/* A new store in a fresh temporary directory (*dir: free and remove it with close_temp). */
static rag_store *open_temp(char **dir, char *path, size_t cap)
{
    *dir = rt_tempdir();
    snprintf(path, cap, "%s/s.db", *dir);
    hearth_error err = {0};
    rag_store *s = NULL;
    assert_int_equal(rag_store_open(path, true, &s, &err), HEARTH_OK);
    return s;
}

static void close_temp(rag_store *s, char *dir)
{
    rag_store_close(s);
    rt_rmrf(dir);
    free(dir);
}

static void test_put_replace_delete(void **state)
{
    (void)state;
    char *dir, path[4200];
    rag_store *s = open_temp(&dir, path, sizeof path);
    hearth_error err = {0};
    rag_embedder e = rt_embedder("bow");
    assert_int_equal(rag_store_check_model(s, &e, true, &err), HEARTH_OK);
    rag_chunk c[3] = {mk("the vacation policy grants twenty days", "Leave"),
                      mk("expenses are reimbursed within thirty days", "Money"),
                      mk("security badges must be worn", "")};
    float vec[3 * RT_DIM];
    const char *texts[3] = {c[0].text, c[1].text, c[2].text};
    size_t lens[3] = {strlen(texts[0]), strlen(texts[1]), strlen(texts[2])};
    rt_embed(NULL, texts, lens, 3, vec, &err);
    rag_doc_info d = {.path = "/x/handbook.md", .hash = "00000000000000aa", .mtime = 5, .size = 100};
    assert_int_equal(rag_store_put_document(s, &d, c, 3, vec, RT_DIM, &err), HEARTH_OK);
    int64_t ids[16];
    assert_int_equal(bm25(s, "vacation", ids), 1);
    assert_int_equal(bm25(s, "reimbursing", ids), 1); /* porter stemming */
    assert_int_equal(bm25(s, "Leave", ids), 1);       /* headings are indexed */
    assert_int_equal(bm25(s, "\"unbalanced AND ( NEAR", ids), 0); /* user text is never FTS syntax */
    bool found;
    rag_doc_info got;
    assert_int_equal(rag_store_doc_get(s, "/x/handbook.md", &found, &got, &err), HEARTH_OK);
    assert_true(found);
    assert_string_equal(got.hash, "00000000000000aa");
    assert_int_equal(got.mtime, 5);

    /* replace: old chunks, embeddings and FTS rows disappear with the old version */
    rag_chunk c2[1] = {mk("remote work is allowed two days a week", "")};
    snprintf(d.hash, sizeof d.hash, "00000000000000bb");
    assert_int_equal(rag_store_put_document(s, &d, c2, 1, vec, RT_DIM, &err), HEARTH_OK);
    assert_int_equal(bm25(s, "vacation", ids), 0);
    assert_int_equal(bm25(s, "remote", ids), 1);
    assert_int_equal(count(s, "SELECT count(*) FROM chunks"), 1);
    assert_int_equal(count(s, "SELECT count(*) FROM embeddings"), 1);
    rag_store_stats st;
    assert_int_equal(rag_store_stats_get(s, &st, &err), HEARTH_OK);
    assert_int_equal(st.documents, 1);
    assert_int_equal(st.generation, 2);

    rag_hit h;
    assert_int_equal(rag_store_chunk_get(s, ids[0], &h, &found, &err), HEARTH_OK);
    assert_true(found);
    assert_string_equal(h.path, "/x/handbook.md");
    assert_string_equal(h.text, c2[0].text);
    rag_hit_clear(&h);

    assert_int_equal(rag_store_delete_document(s, "/x/handbook.md", &err), HEARTH_OK);
    assert_int_equal(bm25(s, "remote", ids), 0);
    assert_int_equal(count(s, "SELECT count(*) FROM chunks"), 0);
    assert_int_equal(count(s, "SELECT count(*) FROM embeddings"), 0);
    assert_int_equal(rag_store_chunk_get(s, ids[0], &h, &found, &err), HEARTH_OK);
    assert_false(found);
    close_temp(s, dir);
}

/* A failure in the middle of writing a document leaves the previous version whole. */
static void test_document_is_atomic(void **state)
{
    (void)state;
    char *dir, path[4200];
    rag_store *s = open_temp(&dir, path, sizeof path);
    hearth_error err = {0};
    rag_chunk old[2] = {mk("alpha bravo", ""), mk("charlie delta", "")};
    rag_doc_info d = {.path = "/doc", .hash = "1111111111111111", .mtime = 1, .size = 10};
    assert_int_equal(rag_store_put_document(s, &d, old, 2, NULL, 0, &err), HEARTH_OK);
    assert_int_equal(sqlite3_exec(rag_store_db(s),
                                  "CREATE TEMP TRIGGER boom BEFORE INSERT ON chunks WHEN new.ordinal = 2 "
                                  "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
                                  NULL, NULL, NULL), SQLITE_OK);
    rag_chunk neu[4] = {mk("echo", ""), mk("foxtrot", ""), mk("golf", ""), mk("hotel", "")};
    snprintf(d.hash, sizeof d.hash, "2222222222222222");
    assert_int_not_equal(rag_store_put_document(s, &d, neu, 4, NULL, 0, &err), HEARTH_OK);
    assert_non_null(strstr(err.message, "injected failure"));
    int64_t ids[16];
    assert_int_equal(bm25(s, "charlie", ids), 1);
    assert_int_equal(bm25(s, "echo", ids), 0);
    assert_int_equal(count(s, "SELECT count(*) FROM chunks"), 2);
    bool found;
    rag_doc_info got;
    assert_int_equal(rag_store_doc_get(s, "/doc", &found, &got, &err), HEARTH_OK);
    assert_string_equal(got.hash, "1111111111111111");
    assert_int_equal(count(s, "SELECT count(*) FROM documents d WHERE n_chunks != "
                              "(SELECT count(*) FROM chunks c WHERE c.doc_id = d.id)"), 0);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(rag_store_db(s), "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    close_temp(s, dir);
}

/* The checker behind `rag status --check` and the crash test must be able to fail. */
static void test_verify_catches_damage(void **state)
{
    (void)state;
    char *dir, path[4200];
    rag_store *s = open_temp(&dir, path, sizeof path);
    hearth_error err = {0};
    rag_embedder e = rt_embedder("bow");
    assert_int_equal(rag_store_check_model(s, &e, true, &err), HEARTH_OK);
    rag_chunk c[2] = {mk("alpha bravo", ""), mk("charlie delta", "")};
    float v[2 * RT_DIM] = {0};
    rag_doc_info d = {.path = "/doc", .hash = "1111111111111111", .mtime = 1, .size = 10};
    assert_int_equal(rag_store_put_document(s, &d, c, 2, v, RT_DIM, &err), HEARTH_OK);
    assert_int_equal(rag_store_verify(s, &err), HEARTH_OK);
    sqlite3 *db = rag_store_db(s);
    /* a vector missing */
    assert_int_equal(sqlite3_exec(db, "DELETE FROM embeddings WHERE chunk_id = (SELECT max(id) FROM chunks)", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(rag_store_verify(s, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "no embedding"));
    /* a chunk missing: the document is no longer whole */
    assert_int_equal(sqlite3_exec(db, "DELETE FROM chunks WHERE id = (SELECT max(id) FROM chunks)", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(rag_store_verify(s, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "do not hold the chunks"));
    /* the full-text index out of step with the chunks (written behind the triggers' back) */
    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER chunks_ad; DELETE FROM chunks; DELETE FROM documents", NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal(rag_store_verify(s, &err), HEARTH_OK);
    close_temp(s, dir);
}

static void test_model_identity(void **state)
{
    (void)state;
    char *dir, path[4200];
    rag_store *s = open_temp(&dir, path, sizeof path);
    hearth_error err = {0};
    rag_embedder a = rt_embedder("model-a"), b = rt_embedder("model-b");
    /* an empty store takes the first model it is given */
    assert_int_equal(rag_store_check_model(s, &a, true, &err), HEARTH_OK);
    rag_chunk c = mk("text", "");
    float v[RT_DIM] = {1};
    rag_doc_info d = {.path = "/d", .hash = "0000000000000001"};
    assert_int_equal(rag_store_put_document(s, &d, &c, 1, v, RT_DIM, &err), HEARTH_OK);
    rag_store_close(s);
    assert_int_equal(rag_store_open(path, false, &s, &err), HEARTH_OK);
    assert_int_equal(rag_store_check_model(s, &a, false, &err), HEARTH_OK);
    assert_int_equal(rag_store_check_model(s, &b, true, &err), HEARTH_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "model-a"));
    assert_non_null(strstr(err.message, "model-b"));
    assert_int_equal(rag_store_check_model(s, NULL, false, &err), HEARTH_ERR_INVALID_ARG);
    char name[256];
    int32_t dim;
    assert_int_equal(rag_store_model(s, name, sizeof name, &dim, &err), HEARTH_OK);
    assert_string_equal(name, "model-a");
    assert_int_equal(dim, RT_DIM);
    close_temp(s, dir);
}

static void test_hostile_store_files(void **state)
{
    (void)state;
    char *dir = rt_tempdir(), path[4200];
    hearth_error err = {0};
    rag_store *s;
    snprintf(path, sizeof path, "%s/missing.db", dir);
    assert_int_equal(rag_store_open(path, false, &s, &err), HEARTH_ERR_NOT_FOUND);
    rt_write(dir, "garbage.db", "this is not a database at all, just some text padding it out........", 68);
    snprintf(path, sizeof path, "%s/garbage.db", dir);
    assert_int_equal(rag_store_open(path, false, &s, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "garbage.db"));
    /* an SQLite database of someone else's */
    snprintf(path, sizeof path, "%s/other.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(rag_store_open(path, false, &s, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "not a hearth store"));
    /* a store from a future schema */
    snprintf(path, sizeof path, "%s/future.db", dir);
    assert_int_equal(rag_store_open(path, true, &s, &err), HEARTH_OK);
    assert_int_equal(sqlite3_exec(rag_store_db(s), "UPDATE meta SET value='99' WHERE key='schema_version'", NULL,
                                  NULL, NULL), SQLITE_OK);
    rag_store_close(s);
    assert_int_equal(rag_store_open(path, false, &s, &err), HEARTH_ERR_UNSUPPORTED);
    /* a store whose pages were overwritten in the middle */
    snprintf(path, sizeof path, "%s/torn.db", dir);
    assert_int_equal(rag_store_open(path, true, &s, &err), HEARTH_OK);
    rag_store_close(s);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 100, SEEK_SET);
    for (long i = 100; i < size; i++) fputc(0xA5, f);
    fclose(f);
    hearth_status st = rag_store_open(path, false, &s, &err);
    if (st == HEARTH_OK) rag_store_close(s); /* tolerated only if SQLite can still read it */
    else assert_true(st == HEARTH_ERR_FORMAT || st == HEARTH_ERR_IO);
    rt_rmrf(dir);
    free(dir);
}

static void test_resolve(void **state)
{
    (void)state;
    char out[4200];
    hearth_error err = {0};
    setenv("HEARTH_HOME", "/tmp/hh", 1);
    assert_int_equal(rag_store_resolve("docs", false, out, sizeof out, &err), HEARTH_OK);
    assert_string_equal(out, "/tmp/hh/stores/docs.db");
    assert_int_equal(rag_store_resolve("./my/store.db", false, out, sizeof out, &err), HEARTH_OK);
    assert_string_equal(out, "./my/store.db");
    assert_int_equal(rag_store_resolve("", false, out, sizeof out, &err), HEARTH_ERR_INVALID_ARG);
    assert_int_equal(rag_store_resolve("..", false, out, sizeof out, &err), HEARTH_ERR_INVALID_ARG);
    assert_int_equal(rag_store_resolve("a b", false, out, sizeof out, &err), HEARTH_ERR_INVALID_ARG);
    unsetenv("HEARTH_HOME");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_replace_delete), cmocka_unit_test(test_document_is_atomic),
        cmocka_unit_test(test_verify_catches_damage),
        cmocka_unit_test(test_model_identity), cmocka_unit_test(test_hostile_store_files),
        cmocka_unit_test(test_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
