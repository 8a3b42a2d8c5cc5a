/* test_public_api.c — the RAG, synth and agent sections of include/hearth.h, through the
 * public header only (as an embedding program sees them): each call's results, ownership and
 * error paths (NULL and invalid arguments, missing stores, bad agent files). */
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hearth.h"
#include "testutil.h"

static char dir[64];

static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int slot;
    char *out = buf[slot++ & 3];
    snprintf(out, sizeof buf[0], "%s/%s", dir, name);
    return out;
}

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(tpath(name), "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hearth-public-api-XXXXXX");
    assert_non_null(mkdtemp(dir));
    hearth_log_set_level(HEARTH_LOG_ERROR); /* skipped files warn; that is expected here */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- RAG ----------------------------------------------------------------------------------- */

typedef struct progress_log {
    int calls;
    bool saw_end;
    size_t total;
} progress_log;

static void on_progress(size_t done, size_t total, const char *path, void *user)
{
    progress_log *l = user;
    l->calls++;
    if (!path) l->saw_end = done == total, l->total = total;
}

static void make_corpus(void)
{
    char d[512];
    snprintf(d, sizeof d, "%s", tpath("docs"));
    assert_int_equal(mkdir(d, 0700), 0);
    write_file("docs/leave.md", "# Leave\n\nEmployees get 30 vacation days per year.\n\n## Sick leave\n\n"
                                "Report sick days to your manager before 10:00.\n");
    write_file("docs/travel.md", "# Travel\n\nThe hotel limit is 180 EUR per night in London.\n");
    static const char elf[] = "\177ELF\002\001\001\000\000\000\000\000binary";
    FILE *f = fopen(tpath("docs/program.txt"), "wb");
    assert_non_null(f);
    fwrite(elf, 1, sizeof elf, f);
    fclose(f);
}

static void test_rag_errors(void **state)
{
    (void)state;
    hearth_error err = {0};
    assert_null(hearth_rag_open(NULL, true, &err));
    assert_int_equal(err.status, HEARTH_ERR_INVALID_ARG);
    assert_null(hearth_rag_open("bad name!", false, &err));
    assert_int_equal(err.status, HEARTH_ERR_INVALID_ARG);
    assert_null(hearth_rag_open(tpath("nosuch.db"), false, &err));
    assert_int_equal(err.status, HEARTH_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "nosuch.db"));
    assert_null(hearth_rag_open(tpath("no/such/dir/s.db"), true, &err));
    assert_non_null(strstr(err.message, "does not exist"));

    hearth_rag_close(NULL);
    assert_null(hearth_rag_path(NULL));
    assert_false(hearth_rag_has_embedder(NULL));
    hearth_rag_unload_embedder(NULL);
    const char *paths[] = {dir};
    assert_int_equal(hearth_rag_ingest(NULL, paths, 1, NULL, NULL, &err), HEARTH_ERR_INVALID_ARG);
    hearth_rag_hit *hits = (hearth_rag_hit *)1;
    int32_t n = 7;
    assert_int_equal(hearth_rag_search(NULL, "q", NULL, &hits, &n, &err), HEARTH_ERR_INVALID_ARG);
    assert_null(hits);
    assert_int_equal(n, 0);
    assert_int_equal(hearth_rag_verify(NULL, &err), HEARTH_ERR_INVALID_ARG);
    assert_int_equal(hearth_rag_get_info(NULL, NULL, &err), HEARTH_ERR_INVALID_ARG);
    assert_null(hearth_rag_snippet(NULL, "q", 10));
    assert_string_equal(hearth_rag_mode_name(HEARTH_RAG_MODE_BM25), "bm25");
    assert_string_equal(hearth_rag_mode_name((hearth_rag_mode)99), "?");
    assert_string_equal(hearth_rag_skip_name(HEARTH_RAG_SKIP_BINARY), "binary");
    char *msgs = (char *)1;
    assert_int_equal(hearth_rag_answer_messages(NULL, NULL, 0, &msgs, &err), HEARTH_ERR_INVALID_ARG);
    assert_null(msgs);
    assert_int_equal(hearth_rag_answer_messages("q", NULL, 2, &msgs, &err), HEARTH_ERR_INVALID_ARG);
}

static void test_rag_ingest_search(void **state)
{
    (void)state;
    make_corpus();
    hearth_error err = {0};
    hearth_rag_store *s = hearth_rag_open(tpath("store.db"), true, &err);
    assert_non_null(s);
    assert_string_equal(hearth_rag_path(s), tpath("store.db"));

    /* a store without a recorded model: nothing to load, not an error */
    bool loaded = true;
    assert_int_equal(hearth_rag_load_embedder(s, NULL, 1, &loaded, &err), HEARTH_OK);
    assert_false(loaded);
    assert_int_not_equal(hearth_rag_load_embedder(s, tpath("nosuch.gguf"), 1, &loaded, &err), HEARTH_OK);
    assert_non_null(strstr(err.message, "nosuch.gguf"));
    assert_false(hearth_rag_has_embedder(s));

    hearth_rag_ingest_params p = hearth_rag_ingest_default_params();
    assert_int_equal(p.chunk_tokens, 200);
    assert_int_equal(p.chunk_overlap, 32);
    const char *paths[] = {tpath("docs")};
    hearth_rag_ingest_summary sum;
    p.chunk_overlap = p.chunk_tokens;
    assert_int_equal(hearth_rag_ingest(s, paths, 1, &p, &sum, &err), HEARTH_ERR_INVALID_ARG);
    p.chunk_overlap = 32;
    p.n_include = 1; /* a count without its array */
    assert_int_equal(hearth_rag_ingest(s, paths, 1, &p, &sum, &err), HEARTH_ERR_INVALID_ARG);
    p.n_include = 0;
    assert_int_equal(hearth_rag_ingest(s, paths, 0, &p, &sum, &err), HEARTH_ERR_INVALID_ARG);

    progress_log log = {0};
    p.progress = on_progress;
    p.progress_user = &log;
    assert_int_equal(hearth_rag_ingest(s, paths, 1, &p, &sum, &err), HEARTH_OK);
    assert_int_equal(sum.files, 3);
    assert_int_equal(sum.added, 2);
    assert_int_equal(sum.skipped[HEARTH_RAG_SKIP_BINARY], 1);
    assert_int_equal(sum.skipped_total, 1);
    assert_true(sum.chunks >= 2);
    assert_true(log.saw_end);
    assert_int_equal(log.total, 3);
    assert_true(log.calls >= 4); /* one per file, one at the end */
    assert_int_equal(hearth_rag_ingest(s, paths, 1, NULL, &sum, &err), HEARTH_OK);
    assert_int_equal(sum.unchanged, 2);
    assert_int_equal(sum.added, 0);

    hearth_rag_info info;
    assert_int_equal(hearth_rag_get_info(s, &info, &err), HEARTH_OK);
    assert_int_equal(info.documents, 2);
    assert_int_equal(info.vectors, 0);
    assert_string_equal(info.model, "");
    assert_int_equal(hearth_rag_verify(s, &err), HEARTH_OK);

    hearth_rag_search_params sp = hearth_rag_search_default_params();
    assert_int_equal(sp.mode, HEARTH_RAG_MODE_AUTO);
    assert_int_equal(hearth_rag_effective_mode(s, sp.mode), HEARTH_RAG_MODE_BM25); /* no vectors */
    hearth_rag_hit *hits;
    int32_t n;
    assert_int_equal(hearth_rag_search(s, "hotel limit London", &sp, &hits, &n, &err), HEARTH_OK);
    assert_true(n >= 1);
    assert_non_null(strstr(hits[0].path, "travel.md"));
    assert_int_equal(hits[0].line_start, 1);
    assert_true(hits[0].score > 0);
    char loc[600];
    assert_true(hearth_rag_hit_location(&hits[0], loc, sizeof loc) > 0);
    assert_non_null(strstr(loc, "travel.md:1-"));
    char *snip = hearth_rag_snippet(hits[0].text, "hotel", 40);
    assert_non_null(snip);
    assert_true(strlen(snip) <= 40 + 6); /* the "..." markers */
    assert_non_null(strstr(snip, "hotel"));
    free(snip);

    char *msgs = NULL;
    assert_int_equal(hearth_rag_answer_messages("What is the hotel limit?", hits, n, &msgs, &err), HEARTH_OK);
    assert_non_null(strstr(msgs, "\"role\":\"system\""));
    assert_non_null(strstr(msgs, "[1] "));
    assert_non_null(strstr(msgs, "Question: What is the hotel limit?"));
    free(msgs);
    hearth_rag_hits_free(hits, n);

    sp.path_glob = "leave.md";
    assert_int_equal(hearth_rag_search(s, "days", &sp, &hits, &n, &err), HEARTH_OK);
    for (int32_t i = 0; i < n; i++) assert_non_null(strstr(hits[i].path, "leave.md"));
    hearth_rag_hits_free(hits, n);
    assert_int_equal(hearth_rag_search(s, "zzqqxx", &sp, &hits, &n, &err), HEARTH_OK);
    assert_int_equal(n, 0);
    assert_null(hits);

    bool rel = true;
    assert_int_equal(hearth_rag_relevant(s, "zzqqxx wwvvuu", NULL, 0.35, &rel, &err), HEARTH_OK);
    assert_false(rel);
    assert_int_equal(hearth_rag_relevant(s, "vacation days", NULL, 0.35, &rel, &err), HEARTH_OK);
    assert_true(rel);

    sp.mode = HEARTH_RAG_MODE_VECTOR; /* needs a model */
    assert_int_equal(hearth_rag_search(s, "days", &sp, &hits, &n, &err), HEARTH_ERR_INVALID_ARG);
    sp.mode = (hearth_rag_mode)42;
    assert_int_equal(hearth_rag_search(s, "days", &sp, &hits, &n, &err), HEARTH_ERR_INVALID_ARG);
    sp = hearth_rag_search_default_params();
    sp.k = 0;
    assert_int_equal(hearth_rag_search(s, "days", &sp, &hits, &n, &err), HEARTH_ERR_INVALID_ARG);
    hearth_rag_close(s);

    /* a damaged store file is refused, not crashed on */
    write_file("junk.db", "this is not a SQLite database, not even close ........................");
    assert_null(hearth_rag_open(tpath("junk.db"), false, &err));
    assert_int_not_equal(err.status, HEARTH_OK);
}

static void test_rag_vectors(void **state)
{
    (void)state;
    if (!fixture_exists("models/bert-real-vocab-q8_0.gguf")) skip();
    hearth_error err = {0};
    hearth_rag_store *s = hearth_rag_open(tpath("vec.db"), true, &err);
    assert_non_null(s);
    const char *model = fixture_path("models/bert-real-vocab-q8_0.gguf");
    bool loaded = false;
    assert_int_equal(hearth_rag_load_embedder(s, model, 1, &loaded, &err), HEARTH_OK);
    assert_true(loaded);
    assert_int_equal(hearth_rag_effective_mode(s, HEARTH_RAG_MODE_AUTO), HEARTH_RAG_MODE_HYBRID);
    const char *paths[] = {tpath("docs/travel.md")};
    hearth_rag_ingest_summary sum;
    assert_int_equal(hearth_rag_ingest(s, paths, 1, NULL, &sum, &err), HEARTH_OK);
    hearth_rag_close(s);

    /* reopened: the model recorded at ingest is found again */
    assert_non_null(s = hearth_rag_open(tpath("vec.db"), false, &err));
    hearth_rag_info info;
    assert_int_equal(hearth_rag_get_info(s, &info, &err), HEARTH_OK);
    assert_string_equal(info.model_path, model);
    assert_true(info.dim > 0);
    assert_int_equal(info.vectors, info.chunks);
    assert_int_equal(hearth_rag_load_embedder(s, NULL, 1, &loaded, &err), HEARTH_OK);
    assert_true(loaded);
    hearth_rag_search_params sp = hearth_rag_search_default_params();
    sp.mode = HEARTH_RAG_MODE_VECTOR;
    hearth_rag_hit *hits;
    int32_t n;
    assert_int_equal(hearth_rag_search(s, "hotel per night", &sp, &hits, &n, &err), HEARTH_OK);
    assert_true(n >= 1);
    assert_true(hits[0].score > 0 && hits[0].score <= 1.0001);
    hearth_rag_hits_free(hits, n);
    hearth_rag_unload_embedder(s);
    assert_false(hearth_rag_has_embedder(s));
    hearth_rag_close(s);
}

/* ---- synth --------------------------------------------------------------------------------- */

static bool stop_early(const char *tensor, uint64_t done, uint64_t total, void *user)
{
    (void)tensor, (void)done, (void)total;
    return ++*(int *)user < 2;
}

static void test_synth(void **state)
{
    (void)state;
    hearth_synth_preset_info pi;
    assert_true(hearth_synth_preset_count() > 0);
    assert_true(hearth_synth_preset_get(0, &pi));
    assert_non_null(pi.name);
    assert_true(*pi.arch);
    assert_false(hearth_synth_preset_get(-1, &pi));
    assert_false(hearth_synth_preset_get(hearth_synth_preset_count(), &pi));
    int32_t q = hearth_synth_preset_find("QWEN3-0.6B");
    assert_true(q >= 0);
    assert_true(hearth_synth_preset_get(q, &pi));
    assert_string_equal(pi.arch, "qwen3");
    assert_int_equal(hearth_synth_preset_find("nosuch"), -1);
    assert_int_equal(hearth_synth_preset_find(NULL), -1);
    assert_true(hearth_synth_type_valid("q4_k_m"));
    assert_true(hearth_synth_type_valid("q8_0"));
    assert_false(hearth_synth_type_valid("q9_9"));
    assert_false(hearth_synth_type_valid(NULL));

    hearth_error err = {0};
    hearth_synth_params p = hearth_synth_default_params();
    hearth_synth_summary sum;
    assert_int_equal(hearth_synth_model(&p, tpath("x.gguf"), NULL, NULL, &sum, &err), HEARTH_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "arch"));
    assert_int_equal(hearth_synth_model(NULL, tpath("x.gguf"), NULL, NULL, NULL, &err), HEARTH_ERR_INVALID_ARG);
    p.preset = "nosuch";
    assert_int_equal(hearth_synth_model(&p, tpath("x.gguf"), NULL, NULL, NULL, &err), HEARTH_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "nosuch"));
    p.preset = "qwen3-0.6b";
    p.arch = "llama";
    assert_int_equal(hearth_synth_model(&p, tpath("x.gguf"), NULL, NULL, NULL, &err), HEARTH_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "contradicts"));

    p = hearth_synth_default_params();
    p.arch = "qwen3";
    p.n_embd = 64, p.n_layer = 1, p.n_head = 4, p.n_head_kv = 2, p.n_ff = 96, p.n_vocab = 300, p.n_ctx = 64;
    p.type = "q9";
    assert_int_equal(hearth_synth_model(&p, tpath("x.gguf"), NULL, NULL, NULL, &err), HEARTH_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "'q9'"));
    p.type = "q8_0";
    p.vocab_path = "whatever.gguf";
    assert_int_equal(hearth_synth_model(&p, tpath("x.gguf"), NULL, NULL, NULL, &err), HEARTH_ERR_INVALID_ARG);
    p.vocab_path = NULL;
    assert_int_equal(hearth_synth_model(&p, NULL, NULL, NULL, NULL, &err), HEARTH_ERR_INVALID_ARG);
    p.n_head = 3; /* 64 is not a multiple of 3 heads */
    assert_int_equal(hearth_synth_model(&p, tpath("x.gguf"), NULL, NULL, NULL, &err), HEARTH_ERR_INVALID_ARG);
    p.n_head = 4;

    int calls = 0;
    assert_int_equal(hearth_synth_model(&p, tpath("stop.gguf"), stop_early, &calls, NULL, &err), HEARTH_ERR_CANCELLED);
    assert_int_not_equal(access(tpath("stop.gguf"), F_OK), 0);

    p.name = "tiny";
    assert_int_equal(hearth_synth_model(&p, tpath("tiny.gguf"), NULL, NULL, &sum, &err), HEARTH_OK);
    assert_string_equal(sum.arch, "qwen3");
    assert_int_equal(sum.n_vocab, 300);
    assert_true(sum.n_tensors > 0 && sum.file_size > 0);

    hearth_model *m = hearth_model_load(tpath("tiny.gguf"), NULL, &err);
    assert_non_null(m);
    hearth_model_info mi;
    hearth_model_get_info(m, &mi);
    assert_string_equal(mi.arch, "qwen3");
    assert_string_equal(mi.name, "tiny");
    assert_int_equal(mi.n_embd, 64);
    assert_int_equal(mi.n_head_kv, 2);
    assert_int_equal(mi.n_vocab, 300);
    assert_string_equal(mi.file_type, "Q8_0");
    hearth_model_free(m);
}

/* ---- agents -------------------------------------------------------------------------------- */

static const char SCRIPT[] =
    "{\"responses\":[\n"
    " {\"role\":\"planner\",\"samples\":[{\"text\":\"{\\\"steps\\\":[{\\\"tool\\\":\\\"calc\\\",\\\"arguments\\\":"
    "{\\\"expression\\\":\\\"19.99*3\\\"},\\\"purpose\\\":\\\"total\\\"}]}\"}]},\n"
    " {\"role\":\"planner\",\"samples\":[{\"text\":\"{\\\"final\\\":true}\"}]},\n"
    " {\"role\":\"answerer\",\"samples\":[{\"text\":\"Three cost 59.97 [1].\",\"confidence\":0.93}]}]}\n";

typedef struct event_log {
    int n, tools;
    bool final;
} event_log;

static void on_event(const char *json, void *user)
{
    event_log *l = user;
    assert_true(json[0] == '{');
    l->n++;
    if (strstr(json, "\"type\":\"tool\"")) l->tools++;
    if (strstr(json, "\"type\":\"final\"")) l->final = true;
}

static void test_agent_errors(void **state)
{
    (void)state;
    hearth_error err = {0};
    hearth_agent_params p = hearth_agent_default_params();
    assert_true(p.allow_network);
    assert_null(hearth_agent_load(NULL, &p, &err));
    assert_int_equal(err.status, HEARTH_ERR_INVALID_ARG);
    assert_null(hearth_agent_load(tpath("nosuch.yaml"), &p, &err));
    assert_non_null(strstr(err.message, "nosuch.yaml"));
    write_file("bad.yaml", "name: x\ntoolz: [calc]\n");
    assert_null(hearth_agent_load(tpath("bad.yaml"), &p, &err));
    assert_non_null(strstr(err.message, "bad.yaml"));
    assert_non_null(strstr(err.message, "toolz"));
    write_file("bin.yaml", "name: \"\001\002\n  - [\n");
    assert_null(hearth_agent_load(tpath("bin.yaml"), &p, &err));
    assert_int_not_equal(err.status, HEARTH_OK);
    write_file("ok.yaml", "name: t\ntools: [calc]\n");
    p.script_path = tpath("nosuch.json");
    assert_null(hearth_agent_load(tpath("ok.yaml"), &p, &err));
    assert_null(hearth_agent_load_workflow(tpath("ok.yaml"), NULL, &err)); /* not a workflow */

    hearth_agent_result r;
    assert_int_equal(hearth_agent_run(NULL, "x", NULL, NULL, &r, &err), HEARTH_ERR_INVALID_ARG);
    assert_null(r.answer);
    hearth_agent_free(NULL);
    hearth_agent_result_free(NULL);
    assert_false(hearth_agent_is_workflow(NULL));

    hearth_agent_run_info info;
    assert_int_equal(hearth_agent_run_get(NULL, "r", &info, &err), HEARTH_ERR_INVALID_ARG);
    char *json;
    assert_int_equal(hearth_agent_runs_json(NULL, NULL, &json, &err), HEARTH_ERR_INVALID_ARG);
    assert_int_equal(hearth_audit_verify(NULL, NULL, &err), HEARTH_ERR_INVALID_ARG);
    int64_t n = 5;
    assert_int_equal(hearth_audit_verify(tpath("nosuch.jsonl"), &n, &err), HEARTH_ERR_IO);
    assert_int_equal(n, 0);

    char small[4];
    assert_false(hearth_agent_default_state(small, sizeof small));
    char buf[4096];
    setenv("HEARTH_STATE", "/x/runs.db", 1);
    assert_true(hearth_agent_default_state(buf, sizeof buf));
    assert_string_equal(buf, "/x/runs.db");
    unsetenv("HEARTH_STATE");
}

static void test_agent_run(void **state)
{
    (void)state;
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "name: api-test\ntools: [calc]\nconfidence: {threshold: 0.7}\n"
                                "audit: {path: audit.jsonl, state: runs.db}\n");
    write_file("agent.yaml", yaml);
    write_file("script.json", SCRIPT);
    hearth_error err = {0};
    hearth_agent_params p = hearth_agent_default_params();
    p.script_path = tpath("script.json");
    p.allow_network = false;
    hearth_agent *a = hearth_agent_load(tpath("agent.yaml"), &p, &err);
    assert_non_null(a);
    assert_false(hearth_agent_is_workflow(a));
    hearth_agent_result r;
    assert_int_equal(hearth_agent_run(a, NULL, NULL, NULL, &r, &err), HEARTH_ERR_INVALID_ARG);
    assert_int_equal(hearth_agent_replay(a, "x", -1, NULL, NULL, &r, &err), HEARTH_ERR_INVALID_ARG);

    event_log log = {0};
    assert_int_equal(hearth_agent_run(a, "What do three at 19.99 cost?", on_event, &log, &r, &err), HEARTH_OK);
    assert_string_equal(r.answer, "Three cost 59.97 [1].");
    assert_string_equal(r.decision, "accepted");
    assert_true(r.confidence >= 0.7);
    assert_int_equal(r.tool_calls, 1);
    assert_true(log.final);
    assert_int_equal(log.tools, 1);
    char run_id[64];
    snprintf(run_id, sizeof run_id, "%s", r.run_id);
    hearth_agent_result_free(&r);
    assert_null(r.answer);

    /* the journal next to the yaml: the run, its steps, its spec */
    hearth_agent_run_info info;
    assert_int_equal(hearth_agent_run_get(tpath("runs.db"), run_id, &info, &err), HEARTH_OK);
    assert_string_equal(info.kind, "agent");
    assert_non_null(strstr(info.spec_path, "agent.yaml"));
    assert_int_equal(hearth_agent_run_get(tpath("runs.db"), "nosuch", &info, &err), HEARTH_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "(journal "));
    char *json;
    assert_int_equal(hearth_agent_runs_json(tpath("runs.db"), NULL, &json, &err), HEARTH_OK);
    assert_non_null(strstr(json, run_id));
    free(json);
    assert_int_equal(hearth_agent_runs_json(tpath("runs.db"), run_id, &json, &err), HEARTH_OK);
    assert_non_null(strstr(json, "\"seq\""));
    free(json);
    assert_int_equal(hearth_agent_runs_json(tpath("runs.db"), "nosuch", &json, &err), HEARTH_OK);
    assert_string_equal(json, "[]");
    free(json);

    /* a finished run does not resume; a replay reuses the steps before from_step */
    assert_int_not_equal(hearth_agent_resume(a, run_id, NULL, NULL, &r, &err), HEARTH_OK);
    hearth_agent_result_free(&r);
    hearth_agent_free(a);
    p.script_path = tpath("script.json");
    assert_non_null(a = hearth_agent_load(tpath("agent.yaml"), &p, &err));
    assert_int_equal(hearth_agent_replay(a, run_id, 1, NULL, NULL, &r, &err), HEARTH_OK);
    assert_string_equal(r.answer, "Three cost 59.97 [1].");
    assert_string_not_equal(r.run_id, run_id);
    hearth_agent_result_free(&r);
    hearth_agent_free(a);

    int64_t n = 0;
    assert_int_equal(hearth_audit_verify(tpath("audit.jsonl"), &n, &err), HEARTH_OK);
    assert_true(n > 0);
    FILE *f = fopen(tpath("audit.jsonl"), "r+b");
    assert_non_null(f);
    fseek(f, 20, SEEK_SET);
    fputc('#', f); /* an edited record */
    fclose(f);
    assert_int_equal(hearth_audit_verify(tpath("audit.jsonl"), &n, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "audit.jsonl:1"));
}

static void test_workflow(void **state)
{
    (void)state;
    write_file("wa.yaml", "name: wa\ntools: [calc]\naudit: {state: wf.db}\n");
    write_file("wf.yaml", "name: wf\nagent: wa.yaml\noutput: result\nnodes:\n"
                          "  - {id: a, kind: tool, tool: calc, arguments: {expression: \"{{input}} * 3\"}, next: ok}\n"
                          "  - {id: ok, kind: approval, message: \"go?\", next: b}\n"
                          "  - {id: b, kind: tool, tool: calc, arguments: {expression: \"{{a}} + 1\"}, output: result}\n");
    write_file("none.json", "{\"responses\":[]}");
    hearth_error err = {0};
    hearth_agent_params p = hearth_agent_default_params();
    p.script_path = tpath("none.json");
    hearth_agent *w = hearth_agent_load_workflow(tpath("wf.yaml"), &p, &err);
    assert_non_null(w);
    assert_true(hearth_agent_is_workflow(w));
    hearth_agent_result r;
    assert_int_equal(hearth_agent_run(w, "3", NULL, NULL, &r, &err), HEARTH_OK);
    assert_string_equal(r.decision, "waiting");
    char run_id[64];
    snprintf(run_id, sizeof run_id, "%s", r.run_id);
    hearth_agent_result_free(&r);
    assert_int_equal(hearth_agent_replay(w, run_id, 1, NULL, NULL, &r, &err), HEARTH_ERR_UNSUPPORTED);
    hearth_agent_free(w);

    p.approve = true;
    assert_non_null(w = hearth_agent_load_workflow(tpath("wf.yaml"), &p, &err));
    assert_int_equal(hearth_agent_resume(w, run_id, NULL, NULL, &r, &err), HEARTH_OK);
    assert_string_equal(r.answer, "10");
    hearth_agent_result_free(&r);
    hearth_agent_free(w);
    hearth_agent_run_info info;
    assert_int_equal(hearth_agent_run_get(tpath("wf.db"), run_id, &info, &err), HEARTH_OK);
    assert_string_equal(info.kind, "workflow");
    assert_string_equal(info.status, "done");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rag_errors),  cmocka_unit_test(test_rag_ingest_search),
        cmocka_unit_test(test_rag_vectors), cmocka_unit_test(test_synth),
        cmocka_unit_test(test_agent_errors), cmocka_unit_test(test_agent_run),
        cmocka_unit_test(test_workflow),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
