/*
 * journal.c — durable runs in SQLite. A run is deterministic C code around nondeterministic
 * effects (model calls, tool calls, escalations). Each effect gets a sequence number and its
 * result is committed before the run moves on. Resuming re-executes the C code and answers
 * each effect from the journal while entries exist, so completed tool calls are never
 * repeated; replay from step N copies entries < N into a new run and re-executes the rest.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "base/base.h"

struct agent_journal {
    sqlite3 *db;
};

static const char SCHEMA[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;" /* WAL + NORMAL: a commit survives SIGKILL (it is in the WAL);
                                    * after power loss the last steps may re-run */
    "CREATE TABLE IF NOT EXISTS runs(id TEXT PRIMARY KEY, kind TEXT NOT NULL, spec TEXT NOT NULL,"
    " task TEXT NOT NULL, status TEXT NOT NULL, result TEXT, created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS steps(run_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL,"
    " input TEXT, output TEXT NOT NULL, time INTEGER NOT NULL, PRIMARY KEY(run_id, seq));";

static hearth_status db_fail(agent_journal *j, hearth_error *err, const char *what)
{
    return hearth_fail(err, HEARTH_ERR_IO, "run journal: %s: %s", what, sqlite3_errmsg(j->db));
}

hearth_status agent_journal_open(const char *path, agent_journal **out, hearth_error *err)
{
    *out = NULL;
    agent_journal *j = calloc(1, sizeof *j);
    if (!j) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    const char *p = path ? path : ":memory:";
    if (sqlite3_open_v2(p, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        hearth_fail(err, HEARTH_ERR_IO, "%s: cannot open run journal: %s", p, j->db ? sqlite3_errmsg(j->db) : "?");
        agent_journal_close(j);
        return HEARTH_ERR_IO;
    }
    sqlite3_busy_timeout(j->db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(j->db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
        hearth_fail(err, HEARTH_ERR_FORMAT, "%s: not a hearth run journal: %s", p, msg ? msg : "?");
        sqlite3_free(msg);
        agent_journal_close(j);
        return HEARTH_ERR_FORMAT;
    }
    *out = j;
    return HEARTH_OK;
}

void agent_journal_close(agent_journal *j)
{
    if (!j) return;
    sqlite3_close(j->db);
    free(j);
}

hearth_status agent_journal_new_run(agent_journal *j, const char *kind, const char *spec_path, const char *task,
                                    char *run_id, size_t run_id_size, hearth_error *err)
{
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(run_id, run_id_size, "r%lld%03ld%x%x", (long long)ts.tv_sec, ts.tv_nsec / 1000000, (unsigned)getpid() & 0xfff,
             counter++ & 0xff);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(j->db, "INSERT INTO runs VALUES(?,?,?,?,'running',NULL,?,?)", -1, &s, NULL))
        return db_fail(j, err, "new run");
    sqlite3_bind_text(s, 1, run_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, spec_path ? spec_path : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, task ? task : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, ts.tv_sec);
    sqlite3_bind_int64(s, 6, ts.tv_sec);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? HEARTH_OK : db_fail(j, err, "new run");
}

static char *col_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return strdup(t ? (const char *)t : "");
}

hearth_status agent_journal_get_run(agent_journal *j, const char *run_id, char **kind, char **spec_path, char **task,
                                    char **status, hearth_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(j->db, "SELECT kind, spec, task, status FROM runs WHERE id=?", -1, &s, NULL))
        return db_fail(j, err, "get run");
    sqlite3_bind_text(s, 1, run_id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_finalize(s);
        return hearth_fail(err, HEARTH_ERR_NOT_FOUND, "run '%s' not found in the journal", run_id);
    }
    if (kind) *kind = col_dup(s, 0);
    if (spec_path) *spec_path = col_dup(s, 1);
    if (task) *task = col_dup(s, 2);
    if (status) *status = col_dup(s, 3);
    sqlite3_finalize(s);
    return HEARTH_OK;
}

hearth_status agent_journal_set_status(agent_journal *j, const char *run_id, const char *status, const char *result,
                                       hearth_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(j->db, "UPDATE runs SET status=?, result=?, updated=? WHERE id=?", -1, &s, NULL))
        return db_fail(j, err, "set status");
    sqlite3_bind_text(s, 1, status, -1, SQLITE_TRANSIENT);
    if (result) sqlite3_bind_text(s, 2, result, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL));
    sqlite3_bind_text(s, 4, run_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? HEARTH_OK : db_fail(j, err, "set status");
}

json_t *agent_journal_lookup(agent_journal *j, const char *run_id, long seq, const char *kind)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(j->db, "SELECT kind, output FROM steps WHERE run_id=? AND seq=?", -1, &s, NULL)) return NULL;
    sqlite3_bind_text(s, 1, run_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, seq);
    json_t *out = NULL;
    if (sqlite3_step(s) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(s, 0);
        const char *o = (const char *)sqlite3_column_text(s, 1);
        /* A different kind at this seq means the code path diverged: do not trust the entry. */
        if (k && o && !strcmp(k, kind)) out = json_loads(o, 0, NULL);
        else hearth_warn("run %s: journal step %ld is '%s', expected '%s'; re-executing", run_id, seq, k ? k : "?", kind);
    }
    sqlite3_finalize(s);
    return out;
}

hearth_status agent_journal_record(agent_journal *j, const char *run_id, long seq, const char *kind, json_t *input,
                                   json_t *output, hearth_error *err)
{
    char *in = input ? json_dumps(input, JSON_COMPACT) : NULL;
    char *out = json_dumps(output, JSON_COMPACT | JSON_ENCODE_ANY);
    sqlite3_stmt *s = NULL;
    int rc = out ? sqlite3_prepare_v2(j->db, "INSERT OR REPLACE INTO steps VALUES(?,?,?,?,?,?)", -1, &s, NULL) : SQLITE_NOMEM;
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(s, 1, run_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 2, seq);
        sqlite3_bind_text(s, 3, kind, -1, SQLITE_TRANSIENT);
        if (in) sqlite3_bind_text(s, 4, in, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 5, out, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 6, (sqlite3_int64)time(NULL));
        rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(s);
    free(in);
    free(out);
    json_decref(input);
    return rc == SQLITE_OK ? HEARTH_OK : db_fail(j, err, "record step");
}

hearth_status agent_journal_copy_prefix(agent_journal *j, const char *src, const char *dst, long from_seq,
                                        hearth_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(j->db,
                           "INSERT INTO steps SELECT ?, seq, kind, input, output, time FROM steps"
                           " WHERE run_id=? AND seq<?", -1, &s, NULL))
        return db_fail(j, err, "copy steps");
    sqlite3_bind_text(s, 1, dst, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, src, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, from_seq);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? HEARTH_OK : db_fail(j, err, "copy steps");
}

json_t *agent_journal_list(agent_journal *j)
{
    json_t *arr = json_array();
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT id, kind, spec, task, status, created, (SELECT count(*) FROM steps WHERE run_id=id),"
                           " result FROM runs ORDER BY created, id", -1, &s, NULL))
        return arr;
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "run_id", sqlite3_column_text(s, 0), "kind",
                              sqlite3_column_text(s, 1), "spec", sqlite3_column_text(s, 2), "task",
                              sqlite3_column_text(s, 3), "status", sqlite3_column_text(s, 4), "created",
                              (json_int_t)sqlite3_column_int64(s, 5), "steps", (json_int_t)sqlite3_column_int64(s, 6));
        if (r && sqlite3_column_text(s, 7))
            json_object_set_new(r, "result", json_string((const char *)sqlite3_column_text(s, 7)));
        if (r) json_array_append_new(arr, r);
    }
    sqlite3_finalize(s);
    return arr;
}

json_t *agent_journal_steps(agent_journal *j, const char *run_id)
{
    json_t *arr = json_array();
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(j->db, "SELECT seq, kind, input, output FROM steps WHERE run_id=? ORDER BY seq", -1, &s, NULL))
        return arr;
    sqlite3_bind_text(s, 1, run_id, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *in = (const char *)sqlite3_column_text(s, 2);
        json_t *input = in ? json_loads(in, 0, NULL) : NULL;
        json_t *output = json_loads((const char *)sqlite3_column_text(s, 3), JSON_DECODE_ANY, NULL);
        json_array_append_new(arr, json_pack("{s:I, s:s, s:o*, s:o*}", "seq", (json_int_t)sqlite3_column_int64(s, 0),
                                             "kind", sqlite3_column_text(s, 1), "input", input, "output", output));
    }
    sqlite3_finalize(s);
    return arr;
}
