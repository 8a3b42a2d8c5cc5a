/*
 * store.c — one SQLite database per document store.
 *
 * Crash safety comes from SQLite's transactions: every document (its row, chunks, embeddings
 * and FTS rows) is replaced inside ONE transaction, so SIGKILL at any instant leaves the
 * previous committed state. documents.n_chunks is written in the same transaction, which lets
 * a checker prove "only whole documents" (count(chunks) == n_chunks for every document).
 *
 * journal_mode=WAL with synchronous=NORMAL: in WAL mode NORMAL never corrupts the database
 * and loses nothing when the PROCESS dies (committed frames are in the OS page cache); only a
 * power failure or OS crash may roll back the last few commits. Ingestion is idempotent and
 * incremental, so re-running it recovers those documents, while FULL would pay one fsync per
 * document (ingests of thousands of small files would be dominated by fsync latency).
 * The checkpoint on close makes the main file self-contained again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "rag/rag.h"

#define SCHEMA_VERSION "1"

struct rag_store {
    sqlite3 *db;
    char *path;
};

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS documents("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  path TEXT NOT NULL UNIQUE,"
    "  hash TEXT NOT NULL,"
    "  mtime INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  n_chunks INTEGER NOT NULL,"
    "  ingested_at INTEGER NOT NULL);"
    /* AUTOINCREMENT: chunk ids are never reused, so a vector index can diff against them. */
    "CREATE TABLE IF NOT EXISTS chunks("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
    "  ordinal INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  byte_start INTEGER NOT NULL, byte_end INTEGER NOT NULL,"
    "  line_start INTEGER NOT NULL, line_end INTEGER NOT NULL,"
    "  heading TEXT NOT NULL,"
    "  page INTEGER NOT NULL,"
    "  UNIQUE(doc_id, ordinal));"
    "CREATE TABLE IF NOT EXISTS embeddings("
    "  chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,"
    "  vector BLOB NOT NULL);"
    /* External-content FTS5: the text lives once, in chunks; triggers keep the index in step
     * (they also fire for the ON DELETE CASCADE from documents). */
    "CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5("
    "  text, heading, content='chunks', content_rowid='id', tokenize='porter unicode61');"
    "CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN"
    "  INSERT INTO chunks_fts(rowid, text, heading) VALUES (new.id, new.text, new.heading); END;"
    "CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN"
    "  INSERT INTO chunks_fts(chunks_fts, rowid, text, heading)"
    "  VALUES ('delete', old.id, old.text, old.heading); END;"
    "INSERT OR IGNORE INTO meta VALUES ('format', 'hearth-rag-store');"
    "INSERT OR IGNORE INTO meta VALUES ('schema_version', " SCHEMA_VERSION ");"
    "INSERT OR IGNORE INTO meta VALUES ('generation', '0');"
    "INSERT OR IGNORE INTO meta VALUES ('model.name', '');"
    "INSERT OR IGNORE INTO meta VALUES ('model.dim', '0');"
    "INSERT OR IGNORE INTO meta VALUES ('model.fingerprint', '');";

static hearth_status db_fail(rag_store *s, hearth_error *err, const char *what)
{
    int code = sqlite3_errcode(s->db);
    hearth_status st = (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) ? HEARTH_ERR_FORMAT
                       : code == SQLITE_NOMEM                           ? HEARTH_ERR_NOMEM
                                                                        : HEARTH_ERR_IO;
    return hearth_fail(err, st, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static hearth_status exec(rag_store *s, const char *sql, hearth_error *err)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) return db_fail(s, err, "sql");
    return HEARTH_OK;
}

uint64_t rag_hash64(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

hearth_status rag_store_resolve(const char *name, bool create, char *out, size_t cap,
                                hearth_error *err)
{
    if (!name || !*name) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "store name is empty");
    if (strchr(name, '/')) {
        if ((size_t)snprintf(out, cap, "%s", name) >= cap)
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "store path too long");
        return HEARTH_OK;
    }
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.') || (p == name && *p == '.'))
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                               "store name '%s': expected letters, digits, '-', '_' or '.' "
                               "(or a path containing '/')", name);
    const char *home = getenv("HEARTH_HOME");
    char base[4096];
    if (home && *home) {
        snprintf(base, sizeof base, "%s", home);
    } else {
        const char *h = getenv("HOME");
        if (!h || !*h) return hearth_fail(err, HEARTH_ERR_NOT_FOUND, "neither HEARTH_HOME nor HOME is set");
        snprintf(base, sizeof base, "%s/.hearth", h);
    }
    if (create) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s", base);
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return hearth_fail(err, HEARTH_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
        snprintf(dir, sizeof dir, "%s/stores", base);
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return hearth_fail(err, HEARTH_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
    }
    if ((size_t)snprintf(out, cap, "%s/stores/%s.db", base, name) >= cap)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "store path too long");
    return HEARTH_OK;
}

hearth_status rag_store_meta_get(rag_store *s, const char *key, char *buf, size_t cap, hearth_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "reading meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        snprintf(buf, cap, "%s", v ? v : "");
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return HEARTH_OK;
    if (rc == SQLITE_DONE)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: meta key '%s' is missing", s->path, key);
    return db_fail(s, err, "reading meta");
}

hearth_status rag_store_meta_set(rag_store *s, const char *key, const char *value, hearth_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta VALUES (?, ?)", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "writing meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? HEARTH_OK : db_fail(s, err, "writing meta");
}

hearth_status rag_store_open(const char *path, bool create, rag_store **out, hearth_error *err)
{
    *out = NULL;
    struct stat sb;
    if (!create && stat(path, &sb) != 0)
        return hearth_fail(err, HEARTH_ERR_NOT_FOUND, "%s: no such store (ingest something first)", path);
    if (create && stat(path, &sb) != 0) {
        /* SQLite would only say "unable to open database file" */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) *slash = 0;
        else snprintf(dir, sizeof dir, "%s", slash ? "/" : ".");
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return hearth_fail(err, HEARTH_ERR_NOT_FOUND, "%s: cannot create the store: directory %s does not exist",
                               path, dir);
    }
    rag_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    }
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    hearth_status st = HEARTH_OK;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        st = s->db ? db_fail(s, err, "cannot open")
                   : hearth_fail(err, HEARTH_ERR_NOMEM, "%s: cannot open", path);
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_extended_result_codes(s->db, 0);
    /* The first statement that reads the file detects a file that is not a database. */
    if ((st = exec(s, "PRAGMA journal_mode=WAL", err)) != HEARTH_OK) goto fail;
    if ((st = exec(s, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", err)) != HEARTH_OK) goto fail;
    int has_meta = 0;
    {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master WHERE name='meta'", -1, &q,
                               NULL) != SQLITE_OK) {
            st = db_fail(s, err, "reading schema");
            goto fail;
        }
        if (sqlite3_step(q) == SQLITE_ROW) has_meta = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
    }
    if (!has_meta) {
        sqlite3_stmt *q;
        int n_tables = 0;
        if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master", -1, &q, NULL) == SQLITE_OK) {
            if (sqlite3_step(q) == SQLITE_ROW) n_tables = sqlite3_column_int(q, 0);
            sqlite3_finalize(q);
        }
        if (n_tables > 0) {
            st = hearth_fail(err, HEARTH_ERR_FORMAT, "%s: an SQLite database but not a hearth store", path);
            goto fail;
        }
        if ((st = exec(s, "BEGIN IMMEDIATE", err)) != HEARTH_OK) goto fail;
        if ((st = exec(s, schema_sql, err)) != HEARTH_OK) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            goto fail;
        }
        if ((st = exec(s, "COMMIT", err)) != HEARTH_OK) goto fail;
    }
    char v[64];
    if ((st = rag_store_meta_get(s, "format", v, sizeof v, err)) != HEARTH_OK) goto fail;
    if (strcmp(v, "hearth-rag-store") != 0) {
        st = hearth_fail(err, HEARTH_ERR_FORMAT, "%s: meta format: expected 'hearth-rag-store', found '%s'", path, v);
        goto fail;
    }
    if ((st = rag_store_meta_get(s, "schema_version", v, sizeof v, err)) != HEARTH_OK) goto fail;
    if (strcmp(v, SCHEMA_VERSION) != 0) {
        st = hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "%s: schema version %s, this hearth reads version %s",
                         path, v, SCHEMA_VERSION);
        goto fail;
    }
    *out = s;
    return HEARTH_OK;
fail:
    rag_store_close(s);
    return st;
}

void rag_store_close(rag_store *s)
{
    if (!s) return;
    if (s->db) {
        sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
        sqlite3_close(s->db);
    }
    free(s->path);
    free(s);
}

const char *rag_store_path(const rag_store *s) { return s->path; }
struct sqlite3 *rag_store_db(rag_store *s) { return s->db; }

hearth_status rag_store_model(rag_store *s, char *name, size_t name_cap, int32_t *dim, hearth_error *err)
{
    char d[32];
    hearth_status st = rag_store_meta_get(s, "model.name", name, name_cap, err);
    if (st == HEARTH_OK) st = rag_store_meta_get(s, "model.dim", d, sizeof d, err);
    if (st == HEARTH_OK) *dim = atoi(d);
    return st;
}

static hearth_status count_rows(rag_store *s, const char *sql, int64_t *n, hearth_error *err)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) return db_fail(s, err, "counting");
    int rc = sqlite3_step(q);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? HEARTH_OK : db_fail(s, err, "counting");
}

hearth_status rag_store_check_model(rag_store *s, const rag_embedder *emb, bool bind, hearth_error *err)
{
    char name[256], fp[96], d[32];
    hearth_status st;
    if ((st = rag_store_meta_get(s, "model.name", name, sizeof name, err)) != HEARTH_OK) return st;
    if ((st = rag_store_meta_get(s, "model.fingerprint", fp, sizeof fp, err)) != HEARTH_OK) return st;
    if ((st = rag_store_meta_get(s, "model.dim", d, sizeof d, err)) != HEARTH_OK) return st;
    int64_t n_docs;
    if ((st = count_rows(s, "SELECT count(*) FROM documents", &n_docs, err)) != HEARTH_OK) return st;
    const char *want_name = emb ? emb->name : "";
    const char *want_fp = emb ? emb->fingerprint : "";
    if (strcmp(fp, want_fp) == 0) return HEARTH_OK;
    if (bind && n_docs == 0) {
        char dim[32];
        snprintf(dim, sizeof dim, "%d", emb ? emb->dim : 0);
        if ((st = exec(s, "BEGIN IMMEDIATE", err)) != HEARTH_OK) return st;
        if ((st = rag_store_meta_set(s, "model.name", want_name, err)) == HEARTH_OK &&
            (st = rag_store_meta_set(s, "model.dim", dim, err)) == HEARTH_OK &&
            (st = rag_store_meta_set(s, "model.fingerprint", want_fp, err)) == HEARTH_OK)
            return exec(s, "COMMIT", err);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return st;
    }
    if (!*fp)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                           "%s: store was built without an embedding model (BM25 only); "
                           "it cannot be used with model '%s'", s->path, want_name);
    if (!emb)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                           "%s: store was built with embedding model '%s' (%s dims); pass --model",
                           s->path, name, d);
    return hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                       "%s: store was built with embedding model '%s' (%s dims, fingerprint %.16s), "
                       "not '%s' (%d dims, fingerprint %.16s); use that model or a new store",
                       s->path, name, d, fp, want_name, emb->dim, want_fp);
}

hearth_status rag_store_doc_get(rag_store *s, const char *path, bool *found, rag_doc_info *info,
                                hearth_error *err)
{
    sqlite3_stmt *q;
    *found = false;
    if (sqlite3_prepare_v2(s->db, "SELECT hash, mtime, size FROM documents WHERE path = ?", -1, &q,
                           NULL) != SQLITE_OK)
        return db_fail(s, err, "looking up document");
    sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(q, 0);
        *found = true;
        info->path = NULL;
        snprintf(info->hash, sizeof info->hash, "%s", h ? h : "");
        info->mtime = sqlite3_column_int64(q, 1);
        info->size = sqlite3_column_int64(q, 2);
    }
    sqlite3_finalize(q);
    return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? HEARTH_OK : db_fail(s, err, "looking up document");
}

/* Bumps the store generation inside the caller's transaction: vector indexes compare it. */
static hearth_status bump_generation(rag_store *s, hearth_error *err)
{
    return exec(s, "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'", err);
}

hearth_status rag_store_put_document(rag_store *s, const rag_doc_info *doc, const rag_chunk *c,
                                     size_t n, const float *embeddings, int32_t dim,
                                     hearth_error *err)
{
    hearth_status st;
    sqlite3_stmt *q = NULL;
    if ((st = exec(s, "BEGIN IMMEDIATE", err)) != HEARTH_OK) return st;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM documents WHERE path = ?", -1, &q, NULL) != SQLITE_OK)
        goto dberr;
    sqlite3_bind_text(q, 1, doc->path, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) goto dberr;
    sqlite3_finalize(q);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO documents(path, hash, mtime, size, n_chunks, ingested_at) "
                           "VALUES (?, ?, ?, ?, ?, ?)", -1, &q, NULL) != SQLITE_OK)
        goto dberr;
    sqlite3_bind_text(q, 1, doc->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, doc->hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, doc->mtime);
    sqlite3_bind_int64(q, 4, doc->size);
    sqlite3_bind_int64(q, 5, (int64_t)n);
    sqlite3_bind_int64(q, 6, (int64_t)time(NULL));
    if (sqlite3_step(q) != SQLITE_DONE) goto dberr;
    sqlite3_finalize(q);
    int64_t doc_id = sqlite3_last_insert_rowid(s->db);
    sqlite3_stmt *e = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO chunks(doc_id, ordinal, text, byte_start, byte_end, line_start,"
                           " line_end, heading, page) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &q,
                           NULL) != SQLITE_OK)
        goto dberr;
    if (embeddings && sqlite3_prepare_v2(s->db, "INSERT INTO embeddings(chunk_id, vector) VALUES (?, ?)",
                                         -1, &e, NULL) != SQLITE_OK)
        goto dberr;
    for (size_t i = 0; i < n; i++) {
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, doc_id);
        sqlite3_bind_int64(q, 2, (int64_t)i);
        sqlite3_bind_text(q, 3, c[i].text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, (int64_t)c[i].byte_start);
        sqlite3_bind_int64(q, 5, (int64_t)c[i].byte_end);
        sqlite3_bind_int(q, 6, c[i].line_start);
        sqlite3_bind_int(q, 7, c[i].line_end);
        sqlite3_bind_text(q, 8, c[i].heading ? c[i].heading : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 9, c[i].page);
        if (sqlite3_step(q) != SQLITE_DONE) {
            sqlite3_finalize(e);
            goto dberr;
        }
        if (e) {
            sqlite3_reset(e);
            sqlite3_bind_int64(e, 1, sqlite3_last_insert_rowid(s->db));
            sqlite3_bind_blob(e, 2, embeddings + i * (size_t)dim, dim * (int)sizeof(float), SQLITE_STATIC);
            if (sqlite3_step(e) != SQLITE_DONE) {
                sqlite3_finalize(e);
                goto dberr;
            }
        }
    }
    sqlite3_finalize(e);
    sqlite3_finalize(q);
    q = NULL;
    if ((st = bump_generation(s, err)) != HEARTH_OK) goto rollback;
    return exec(s, "COMMIT", err);
dberr:
    st = db_fail(s, err, doc->path);
    sqlite3_finalize(q);
rollback:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

hearth_status rag_store_touch_document(rag_store *s, const char *path, int64_t mtime, hearth_error *err)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "UPDATE documents SET mtime = ? WHERE path = ?", -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, "updating document");
    sqlite3_bind_int64(q, 1, mtime);
    sqlite3_bind_text(q, 2, path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? HEARTH_OK : db_fail(s, err, "updating document");
}

hearth_status rag_store_delete_document(rag_store *s, const char *path, hearth_error *err)
{
    hearth_status st;
    if ((st = exec(s, "BEGIN IMMEDIATE", err)) != HEARTH_OK) return st;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM documents WHERE path = ?", -1, &q, NULL) != SQLITE_OK) {
        st = db_fail(s, err, "deleting document");
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return st;
    }
    sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE || (st = bump_generation(s, err)) != HEARTH_OK) {
        st = rc != SQLITE_DONE ? db_fail(s, err, "deleting document") : st;
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return st;
    }
    return exec(s, "COMMIT", err);
}

hearth_status rag_store_each_document(rag_store *s, bool (*fn)(void *u, const char *path), void *u,
                                      hearth_error *err)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT path FROM documents ORDER BY path", -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, "listing documents");
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        if (!fn(u, (const char *)sqlite3_column_text(q, 0))) {
            rc = SQLITE_DONE;
            break;
        }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? HEARTH_OK : db_fail(s, err, "listing documents");
}

hearth_status rag_store_stats_get(rag_store *s, rag_store_stats *out, hearth_error *err)
{
    hearth_status st;
    if ((st = count_rows(s, "SELECT count(*) FROM documents", &out->documents, err)) ||
        (st = count_rows(s, "SELECT count(*) FROM chunks", &out->chunks, err)) ||
        (st = count_rows(s, "SELECT count(*) FROM embeddings", &out->embeddings, err)) ||
        (st = count_rows(s, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='generation'",
                         &out->generation, err)))
        return st;
    return HEARTH_OK;
}

hearth_status rag_store_load_vectors(rag_store *s, int64_t **ids, float **vecs, size_t *n,
                                     int32_t *dim, hearth_error *err)
{
    *ids = NULL;
    *vecs = NULL;
    *n = 0;
    char name[256];
    hearth_status st = rag_store_model(s, name, sizeof name, dim, err);
    if (st != HEARTH_OK) return st;
    int64_t count;
    if ((st = count_rows(s, "SELECT count(*) FROM embeddings", &count, err)) != HEARTH_OK) return st;
    if (count == 0 || *dim <= 0) return HEARTH_OK;
    size_t bytes;
    if (!hearth_size_mul((size_t)count, (size_t)*dim * sizeof(float), &bytes))
        return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: too many vectors", s->path);
    *ids = malloc((size_t)count * sizeof **ids);
    *vecs = malloc(bytes);
    if (!*ids || !*vecs) {
        free(*ids);
        free(*vecs);
        *ids = NULL;
        *vecs = NULL;
        return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory loading %lld vectors", s->path,
                           (long long)count);
    }
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT chunk_id, vector FROM embeddings ORDER BY chunk_id", -1, &q,
                           NULL) != SQLITE_OK) {
        st = db_fail(s, err, "loading vectors");
        goto fail;
    }
    size_t i = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && i < (size_t)count) {
        int len = sqlite3_column_bytes(q, 1);
        if (len != *dim * (int)sizeof(float)) {
            sqlite3_finalize(q);
            st = hearth_fail(err, HEARTH_ERR_FORMAT, "%s: embedding of chunk %lld: expected %d bytes, found %d",
                             s->path, (long long)sqlite3_column_int64(q, 0), *dim * (int)sizeof(float), len);
            goto fail;
        }
        (*ids)[i] = sqlite3_column_int64(q, 0);
        memcpy(*vecs + i * (size_t)*dim, sqlite3_column_blob(q, 1), (size_t)len);
        i++;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        st = db_fail(s, err, "loading vectors");
        goto fail;
    }
    *n = i;
    return HEARTH_OK;
fail:
    free(*ids);
    free(*vecs);
    *ids = NULL;
    *vecs = NULL;
    return st;
}

void rag_hit_clear(rag_hit *h)
{
    free(h->path);
    free(h->text);
    free(h->heading);
    memset(h, 0, sizeof *h);
}

static char *dup_col(sqlite3_stmt *q, int col)
{
    const char *t = (const char *)sqlite3_column_text(q, col);
    return strdup(t ? t : "");
}

hearth_status rag_store_chunk_get(rag_store *s, int64_t chunk_id, rag_hit *hit, bool *found, hearth_error *err)
{
    sqlite3_stmt *q;
    *found = false;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT d.path, c.text, c.heading, c.line_start, c.line_end, c.page,"
                           " c.byte_start, c.byte_end FROM chunks c JOIN documents d ON d.id = c.doc_id"
                           " WHERE c.id = ?", -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, "reading chunk");
    sqlite3_bind_int64(q, 1, chunk_id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        hit->chunk_id = chunk_id;
        hit->path = dup_col(q, 0);
        hit->text = dup_col(q, 1);
        hit->heading = dup_col(q, 2);
        hit->line_start = sqlite3_column_int(q, 3);
        hit->line_end = sqlite3_column_int(q, 4);
        hit->page = sqlite3_column_int(q, 5);
        hit->byte_start = sqlite3_column_int64(q, 6);
        hit->byte_end = sqlite3_column_int64(q, 7);
        if (!hit->path || !hit->text || !hit->heading) {
            rag_hit_clear(hit);
            sqlite3_finalize(q);
            return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
        }
        *found = true;
    }
    sqlite3_finalize(q);
    return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? HEARTH_OK : db_fail(s, err, "reading chunk");
}

static bool is_stopword(const char *w, size_t n)
{
    /* the words that match nearly every chunk: a question made only of them matches nothing */
    static const char *const stop[] = {"a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does",
                                       "for", "from", "how", "i", "in", "is", "it", "of", "on", "or", "our",
                                       "that", "the", "this", "to", "was", "we", "what", "when", "where",
                                       "which", "who", "why", "will", "with", "you", "your", "my", "me", "there",
                                       "their", "they", "have", "has", "get", "if", "about", "should", "would"};
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(stop); i++)
        if (strlen(stop[i]) == n && strncasecmp(stop[i], w, n) == 0) return true;
    return false;
}

static bool fts_word_char(unsigned char c) { return c >= 0x80 || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z'); }

/* Turns free text into an FTS5 query: every word that is not a stopword becomes a quoted term,
 * joined with OR, so user input can never be FTS5 syntax (no column filters, NEAR, unbalanced
 * quotes...). */
static char *fts_query(const char *text)
{
    size_t n = strlen(text);
    char *q = malloc(n * 6 + 16);
    if (!q) return NULL;
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        while (*p && !fts_word_char(*p)) p++;
        if (!*p) break;
        const unsigned char *w = p;
        while (fts_word_char(*p)) p++;
        if (is_stopword((const char *)w, (size_t)(p - w))) continue;
        if (o) o += (size_t)sprintf(q + o, " OR ");
        q[o++] = '"';
        memcpy(q + o, w, (size_t)(p - w));
        o += (size_t)(p - w);
        q[o++] = '"';
    }
    q[o] = 0;
    return q;
}

hearth_status rag_store_bm25(rag_store *s, const char *query, int32_t k, int64_t *ids, double *scores,
                             int32_t *n_out, hearth_error *err)
{
    *n_out = 0;
    char *fq = fts_query(query);
    if (!fq) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    if (!*fq) {
        free(fq);
        return HEARTH_OK;
    }
    sqlite3_stmt *q;
    /* The heading column counts half as much as body text. */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT rowid, bm25(chunks_fts, 1.0, 0.5) AS r FROM chunks_fts"
                           " WHERE chunks_fts MATCH ? ORDER BY r LIMIT ?", -1, &q, NULL) != SQLITE_OK) {
        free(fq);
        return db_fail(s, err, "bm25 search");
    }
    sqlite3_bind_text(q, 1, fq, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, k);
    int rc;
    int32_t n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && n < k) {
        ids[n] = sqlite3_column_int64(q, 0);
        scores[n] = -sqlite3_column_double(q, 1);
        n++;
    }
    sqlite3_finalize(q);
    free(fq);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(s, err, "bm25 search");
    *n_out = n;
    return HEARTH_OK;
}

hearth_status rag_store_verify(rag_store *s, hearth_error *err)
{
    /* 1. SQLite's own page-level check */
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &q, NULL) != SQLITE_OK) return db_fail(s, err, "integrity check");
    int rc = sqlite3_step(q);
    char first[512] = "";
    if (rc == SQLITE_ROW) snprintf(first, sizeof first, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW) return db_fail(s, err, "integrity check");
    if (strcmp(first, "ok") != 0)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: integrity check failed: %s", s->path, first);
    /* 2. the full-text index is consistent and indexes exactly the chunks (this SQLite's
     * integrity-check does not compare an external-content index with its table, so the
     * indexed rowids, one docsize row each, are compared with the chunk ids) */
    if (sqlite3_exec(s->db, "INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(s, err, "full-text index check");
    int64_t stray;
    hearth_status fst = count_rows(s,
                                   "SELECT (SELECT count(*) FROM chunks_fts_docsize WHERE id NOT IN (SELECT id FROM chunks))"
                                   " + (SELECT count(*) FROM chunks WHERE id NOT IN (SELECT id FROM chunks_fts_docsize))",
                                   &stray, err);
    if (fst != HEARTH_OK) return fst;
    if (stray)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: the full-text index and the chunks differ in %lld row(s)", s->path,
                           (long long)stray);
    /* 3. only whole documents: every document has exactly the chunks it was written with, and
     * (in a store with a model) every chunk its vector */
    int64_t torn, dim = 0, unembedded;
    hearth_status st = count_rows(s,
                                  "SELECT count(*) FROM documents d WHERE n_chunks != "
                                  "(SELECT count(*) FROM chunks c WHERE c.doc_id = d.id)", &torn, err);
    if (st == HEARTH_OK) st = count_rows(s, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'model.dim'", &dim, err);
    if (st == HEARTH_OK)
        st = count_rows(s, "SELECT count(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.chunk_id = c.id)",
                        &unembedded, err);
    if (st != HEARTH_OK) return st;
    if (torn)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: %lld document(s) do not hold the chunks they were written with",
                           s->path, (long long)torn);
    if (dim > 0 && unembedded)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: %lld chunk(s) have no embedding", s->path, (long long)unembedded);
    return HEARTH_OK;
}
