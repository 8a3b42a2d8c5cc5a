/* test_agent_durable.c — the MCP client against tests/tools/mcp_test_server (handshake,
 * pagination, noise, errors, timeouts, crash and restart) and durable runs: a run killed with
 * SIGKILL mid-tool resumes without repeating the completed tool call; replay --from re-runs
 * only the steps after the cut. */
#include <libgen.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "testutil.h"

#include "agent_scenario.h"
#include "base/base.h"

static char server[512];

static int find_server(void **state)
{
    (void)state;
    char self[512];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return -1;
    self[n] = 0;
    snprintf(server, sizeof server, "%s/../tools/mcp_test_server", dirname(self));
    if (access(server, X_OK) != 0) {
        fprintf(stderr, "mcp_test_server not built at %s (make tests builds it)\n", server);
        return -1;
    }
    return 0;
}

static json_t *call(agent_mcp *m, const char *tool, const char *args_json)
{
    json_t *args = json_loads(args_json, 0, NULL);
    json_t *r = agent_mcp_call(m, tool, args);
    json_decref(args);
    return r;
}

static void expect(json_t *r, bool ok, const char *field, const char *text)
{
    assert_non_null(r);
    if (json_is_true(json_object_get(r, "ok")) != ok) fail_msg("ok != %d: %s", ok, json_dumps(r, 0));
    const char *v = json_string_value(json_object_get(r, field));
    if (!v || !strstr(v, text)) fail_msg("%s '%s' lacks '%s'", field, v ? v : "(none)", text);
    json_decref(r);
}

static void test_mcp_client(void **state)
{
    (void)state;
    char *argv[] = {server, "--noisy", NULL};
    agent_mcp_server cfg = {"t", argv, 2, 2.0};
    agent_mcp *m = NULL;
    hearth_error err = {0};
    if (agent_mcp_start(&cfg, &m, &err)) fail_msg("%s", err.message);
    assert_int_equal(json_array_size(agent_mcp_tools(m)), 9); /* two pages */
    /* Non-text blocks are ignored; structured content is kept. */
    json_t *w = call(m, "weird", "{}");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(w, "structured"), "n")), 7);
    expect(w, true, "output", "only this");
    /* A line over 8 MiB is refused (and the server restarted on the next call). */
    expect(call(m, "huge", "{}"), false, "error", "larger than 8 MiB");
    expect(call(m, "echo", "{\"text\":\"héllo\"}"), true, "output", "héllo");
    expect(call(m, "add", "{\"a\":40,\"b\":2}"), true, "output", "42");
    expect(call(m, "fail", "{}"), false, "error", "boom");
    expect(call(m, "nope", "{}"), false, "error", "unknown tool");
    /* Timeout: an observation; the busy server is stopped and the next call gets a fresh one
     * (restart 2 of 2: the huge line used the first). */
    double t0 = hearth_time_sec();
    cfg.timeout_s = 0.3;
    expect(call(m, "sleep", "{\"seconds\":0.8}"), false, "error", "timed out");
    assert_true(hearth_time_sec() - t0 < 0.7);
    cfg.timeout_s = 2.0;
    expect(call(m, "echo", "{\"text\":\"after\"}"), true, "output", "after");
    /* Crash: reported; the next call restarts the server (the last restart), then it stays down. */
    expect(call(m, "crash", "{}"), false, "error", "server exited");
    expect(call(m, "echo", "{\"text\":\"x\"}"), false, "error", "not running");
    agent_mcp_stop(m);

    char *bad[] = {"/nonexistent/mcp-server", NULL};
    agent_mcp_server bcfg = {"b", bad, 1, 1.0};
    assert_int_not_equal(agent_mcp_start(&bcfg, &m, &err), HEARTH_OK);
    assert_non_null(strstr(err.message, "cannot run"));
    char *silent[] = {"/bin/sleep", "10", NULL}; /* never answers */
    agent_mcp_server scfg = {"s", silent, 2, 0.3};
    assert_int_not_equal(agent_mcp_start(&scfg, &m, &err), HEARTH_OK);
    assert_non_null(strstr(err.message, "timed out"));
    char *parrot[] = {"/bin/cat", NULL}; /* echoes our request back: a "request" we refuse */
    agent_mcp_server pcfg = {"p", parrot, 1, 1.0};
    assert_int_not_equal(agent_mcp_start(&pcfg, &m, &err), HEARTH_OK);
    assert_non_null(strstr(err.message, "method not found"));
    char *quit[] = {"/bin/true", NULL};
    agent_mcp_server qcfg = {"q", quit, 1, 1.0};
    assert_int_not_equal(agent_mcp_start(&qcfg, &m, &err), HEARTH_OK);
    assert_non_null(strstr(err.message, "exited"));
}

static const char *durable_yaml(const char *log)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "name: durable\ntools: [\"t.*\"]\nmcp:\n  - name: t\n    command: [%s, --log, %s]\n"
             "    timeout_seconds: 20\naudit: {path: audit.jsonl, state: runs.db}\nconfidence: {max_samples: 1}\n",
             server, log);
    return buf;
}

static int count_lines(const char *path, const char *what)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[64];
    int n = 0;
    while (fgets(line, sizeof line, f)) n += !strncmp(line, what, strlen(what));
    fclose(f);
    return n;
}

static agent_backend backend(const char *json)
{
    agent_backend b;
    hearth_error err = {0};
    if (agent_backend_scripted(json, &b, &err)) fail_msg("%s", err.message);
    return b;
}

static void test_sigkill_then_resume(void **state)
{
    (void)state;
    scn_mkdir();
    char log[512], gate[512], plan[1024], first[2048];
    snprintf(log, sizeof log, "%s", scn_path("calls.log"));
    snprintf(gate, sizeof gate, "%s", scn_path("gate"));
    agent_config *c = scn_config(durable_yaml(log));
    snprintf(plan, sizeof plan,
             "{\\\"steps\\\":[{\\\"tool\\\":\\\"t.count\\\",\\\"arguments\\\":{}},"
             "{\\\"tool\\\":\\\"t.wait_file\\\",\\\"arguments\\\":{\\\"path\\\":\\\"%s\\\"}}]}", gate);
    snprintf(first, sizeof first, "{\"responses\":[{\"role\":\"planner\",\"samples\":[{\"text\":\"%s\"}]}]}", plan);
    pid_t pid = fork();
    if (pid == 0) { /* the run that gets killed */
        agent_backend b = backend(first);
        agent_run_opts o = {.backend = &b};
        agent_run_result r;
        hearth_error err = {0};
        agent_run(c, "count then wait", &o, &r, &err);
        _exit(0);
    }
    /* Kill it while it blocks inside the second tool: the first has completed. */
    double t0 = hearth_time_sec();
    while (count_lines(log, "wait") == 0 && hearth_time_sec() - t0 < 15) usleep(10000);
    assert_int_equal(count_lines(log, "wait"), 1);
    kill(pid, SIGKILL);
    int ws;
    waitpid(pid, &ws, 0);
    assert_true(WIFSIGNALED(ws));
    assert_int_equal(count_lines(log, "count"), 1);

    agent_journal *j;
    hearth_error err = {0};
    assert_int_equal(agent_journal_open(c->state_path, &j, &err), HEARTH_OK);
    json_t *runs = agent_journal_list(j);
    assert_int_equal(json_array_size(runs), 1);
    json_t *run = json_array_get(runs, 0);
    assert_string_equal(json_string_value(json_object_get(run, "status")), "running");
    assert_int_equal(json_integer_value(json_object_get(run, "steps")), 2); /* plan + count */
    char run_id[64];
    snprintf(run_id, sizeof run_id, "%s", json_string_value(json_object_get(run, "run_id")));
    json_decref(runs);
    agent_journal_close(j);

    /* Resume: the first plan and t.count come from the journal; only new work is done. */
    FILE *g = fopen(gate, "w");
    fclose(g);
    static const char finish[] = "{\"responses\":[{\"role\":\"planner\",\"samples\":[{\"text\":\"{\\\"final\\\":true}\"}]},"
                                 "{\"role\":\"answerer\",\"samples\":[{\"text\":\"counted and waited [1] [2]\","
                                 "\"confidence\":0.9}]}]}";
    agent_backend b = backend(finish);
    scn_events ev = {json_array()};
    agent_run_opts o = {.backend = &b, .resume_run_id = run_id, .on_event = scn_on_event, .event_user = &ev};
    agent_run_result r;
    if (agent_run(c, NULL, &o, &r, &err)) {
        char *dump = json_dumps(ev.all, JSON_INDENT(1));
        fprintf(stderr, "%s\n", dump);
        fail_msg("%s", err.message);
    }
    assert_int_equal(count_lines(log, "count"), 1); /* not repeated */
    assert_int_equal(count_lines(log, "wait"), 2);  /* interrupted call runs again */
    assert_int_equal(r.tool_calls, 1);
    assert_int_equal(agent_backend_scripted_calls(&b), 2);
    assert_string_equal(r.answer, "counted and waited [1] [2]");
    assert_string_equal(r.decision, "accepted");
    agent_run_result_clear(&r);
    agent_backend_free(&b);
    /* A completed run is not resumed again. */
    b = backend("{\"responses\":[]}");
    assert_int_not_equal(agent_run(c, NULL, &o, &r, &err), HEARTH_OK);
    assert_non_null(strstr(err.message, "already completed"));

    /* Replay from step 2: plan and count reused, wait_file and the rest run again. */
    agent_backend_free(&b);
    b = backend(finish);
    if (agent_run_replay(c, run_id, 2, &o, &r, &err)) fail_msg("%s", err.message);
    assert_int_equal(count_lines(log, "count"), 1);
    assert_int_equal(count_lines(log, "wait"), 3);
    assert_int_equal(r.tool_calls, 1);
    agent_run_result_clear(&r);
    agent_backend_free(&b);
    /* ... which fails cleanly once the script has nothing left. */
    b = backend("{\"responses\":[]}");
    assert_int_not_equal(agent_run_replay(c, run_id, 0, &o, &r, &err), HEARTH_OK);
    assert_int_equal(count_lines(log, "count"), 1);
    agent_backend_free(&b);
    assert_int_not_equal(agent_run_replay(c, "r-no-such-run", 0, &o, &r, &err), HEARTH_OK);
    assert_non_null(strstr(err.message, "not found"));

    size_t n;
    if (agent_audit_verify(c->audit_path, &n, &err)) fail_msg("%s", err.message);
    json_decref(ev.all);
    agent_config_free(c);
    scn_rmdir();
}

static void test_mcp_tools_in_agent(void **state)
{
    (void)state;
    scn_mkdir();
    agent_config *c = scn_config(durable_yaml(scn_path("calls.log")));
    agent_tools *t;
    hearth_error err = {0};
    assert_int_equal(agent_tools_new(c, &t, &err), HEARTH_OK);
    json_t *d = agent_tools_describe(t);
    assert_int_equal(json_array_size(d), 9);
    assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "name")), "t.echo");
    json_decref(d);
    json_t *args = json_pack("{s:s}", "text", "via registry");
    expect(agent_tools_call(t, "t.echo", args), true, "output", "via registry");
    expect(agent_tools_call(t, "calc", args), false, "error", "not allowed");
    json_decref(args);
    agent_tools_free(t);
    agent_config_free(c);
    scn_rmdir();
}

/* A tool that hangs is cut off at the deadline; the run goes on with the timeout as an
 * observation and still answers. */
static void test_tool_timeout_in_run(void **state)
{
    (void)state;
    scn_mkdir();
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "tools: [\"t.*\"]\nmcp: [{name: t, command: [%s]}]\nlimits: {tool_timeout_seconds: 0.3}\n"
             "confidence: {max_samples: 1}\n", server);
    agent_config *c = scn_config(yaml);
    agent_backend b = backend("{\"responses\":[{\"role\":\"planner\",\"samples\":[{\"text\":"
                              "\"{\\\"steps\\\":[{\\\"tool\\\":\\\"t.sleep\\\",\\\"arguments\\\":{\\\"seconds\\\":3}},"
                              "{\\\"tool\\\":\\\"t.add\\\",\\\"arguments\\\":{\\\"a\\\":1,\\\"b\\\":2}}]}\"}]},"
                              "{\"role\":\"planner\",\"samples\":[{\"text\":\"{\\\"final\\\":true}\"}]},"
                              "{\"role\":\"answerer\",\"samples\":[{\"text\":\"3 [2]\",\"confidence\":0.9}]}]}");
    scn_events ev = {json_array()};
    agent_run_opts o = {.backend = &b, .on_event = scn_on_event, .event_user = &ev};
    agent_run_result r;
    hearth_error err = {0};
    double t0 = hearth_time_sec();
    if (agent_run(c, "sleep then add", &o, &r, &err)) fail_msg("%s", err.message);
    assert_int_equal(scn_count(&ev, "observation", "text", "timed out"), 1);
    assert_int_equal(scn_count(&ev, "observation", "text", "3"), 1); /* t.add ran on a fresh server */
    assert_string_equal(r.answer, "3 [2]");
    assert_string_equal(r.decision, "accepted");
    assert_true(hearth_time_sec() - t0 < 6); /* the late reply was skipped, not waited for forever */
    agent_run_result_clear(&r);
    agent_backend_free(&b);
    json_decref(ev.all);
    agent_config_free(c);
    scn_rmdir();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mcp_client),
        cmocka_unit_test(test_sigkill_then_resume),
        cmocka_unit_test(test_mcp_tools_in_agent),
        cmocka_unit_test(test_tool_timeout_in_run),
    };
    return cmocka_run_group_tests(tests, find_server, NULL);
}
