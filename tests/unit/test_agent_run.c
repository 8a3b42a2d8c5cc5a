/* test_agent_run.c — every branch of the run loop with the scripted backend: confident local
 * answer; low confidence -> more samples -> accepted; -> escalated to a loopback server that
 * receives none of the planted PII; escalation forbidden; budget exhausted; network disabled;
 * tool errors, denials and policy hooks; invalid plans; step limits. */
#include <arpa/inet.h>

#include "testutil.h"

#include "agent_scenario.h"
#include "base/base.h"

/* Script building: one entry per generate call. */
static json_t *script;

static void say(const char *role, const char *text, double conf)
{
    json_array_append_new(script, json_pack("{s:s, s:[{s:s, s:f}]}", "role", role, "samples", "text", text,
                                            "confidence", conf));
}

static void say_n(const char *role, int n, const char *const *texts, const double *confs)
{
    json_t *samples = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(samples, json_pack("{s:s, s:f}", "text", texts[i], "confidence", confs[i]));
    json_array_append_new(script, json_pack("{s:s, s:o}", "role", role, "samples", samples));
}

static agent_backend backend_from_script(void)
{
    json_t *root = json_pack("{s:O}", "responses", script);
    char *text = json_dumps(root, 0);
    agent_backend b;
    hearth_error err = {0};
    if (agent_backend_scripted(text, &b, &err)) fail_msg("%s", err.message);
    free(text);
    json_decref(root);
    json_decref(script);
    script = json_array();
    return b;
}

typedef struct outcome {
    agent_run_result r;
    scn_events ev;
    int backend_calls;
} outcome;

static outcome run_agent(const agent_config *c, const char *task, bool network, agent_tool_hook th, agent_prompt_hook ph)
{
    outcome o = {.ev.all = json_array()};
    agent_backend b = backend_from_script();
    agent_run_opts opts = {.backend = &b, .on_event = scn_on_event, .event_user = &o.ev, .tool_hook = th,
                           .prompt_hook = ph, .allow_network = network};
    hearth_error err = {0};
    if (agent_run(c, task, &opts, &o.r, &err)) fail_msg("agent_run: %s", err.message);
    o.backend_calls = agent_backend_scripted_calls(&b);
    agent_backend_free(&b);
    return o;
}

static void outcome_free(outcome *o)
{
    agent_run_result_clear(&o->r);
    json_decref(o->ev.all);
}

static void verify_audit(const char *path, size_t min_records)
{
    size_t n = 0;
    hearth_error err = {0};
    if (agent_audit_verify(path, &n, &err)) fail_msg("%s", err.message);
    assert_true(n >= min_records);
}

static const char PLAN_CALC[] = "{\"steps\":[{\"tool\":\"calc\",\"arguments\":{\"expression\":\"19.99*3\"},"
                                "\"purpose\":\"price of three\"}]}";
static const char PLAN_FINAL[] = "{\"final\":true}";

static const char *base_yaml(const char *extra)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "name: test\ntools: [calc, fs.read, fs.list, time.now]\nfs: {roots: [%s]}\n"
             "audit: {path: audit.jsonl, state: runs.db}\n%s",
             scn_dir, extra);
    return buf;
}

static void test_confident_local_answer(void **state)
{
    (void)state;
    scn_mkdir();
    agent_config *c = scn_config(base_yaml(""));
    say("planner", PLAN_CALC, 0.9);
    say("planner", PLAN_FINAL, 0.9);
    say("answerer", "Three cost 59.97 [1].", 0.92);
    outcome o = run_agent(c, "What do three items at 19.99 cost?", true, NULL, NULL);
    assert_string_equal(o.r.decision, "accepted");
    assert_false(o.r.low_confidence);
    assert_false(o.r.escalated);
    assert_string_equal(o.r.answer, "Three cost 59.97 [1].");
    assert_true(o.r.confidence >= 0.7);
    assert_int_equal(o.r.tool_calls, 1);
    assert_int_equal(o.backend_calls, 3);
    assert_int_equal(scn_count(&o.ev, "observation", "text", "59.97"), 1);
    assert_int_equal(scn_count(&o.ev, "decision", "decision", "accepted"), 1);
    /* spans carry OpenTelemetry field names */
    json_t *span = NULL;
    for (size_t i = 0; i < json_array_size(o.ev.all) && !span; i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(o.ev.all, i), "type")), "span"))
            span = json_array_get(o.ev.all, i);
    assert_non_null(span);
    assert_int_equal(json_string_length(json_object_get(span, "trace_id")), 32);
    assert_int_equal(json_string_length(json_object_get(span, "span_id")), 16);
    assert_true(json_is_integer(json_object_get(span, "start_time_unix_nano")));
    assert_true(json_is_integer(json_object_get(span, "end_time_unix_nano")));
    verify_audit(scn_path("audit.jsonl"), 2); /* tool_call + run */
    assert_int_equal(agent_audit_count_today(scn_path("audit.jsonl"), "tool_call"), 1);
    outcome_free(&o);
    agent_config_free(c);
    scn_rmdir();
}

static void test_low_then_more_samples_accepted(void **state)
{
    (void)state;
    scn_mkdir();
    agent_config *c = scn_config(base_yaml("confidence: {threshold: 0.7, samples: 1, max_samples: 4}\n"));
    say("planner", PLAN_CALC, 0.9);
    say("planner", PLAN_FINAL, 0.9);
    say("answerer", "Maybe around 60 dollars", 0.35);
    const char *texts[] = {"59.97 [1]", "59.97 [1].", "It is 58", "59.97 [1]"};
    const double confs[] = {0.8, 0.85, 0.4, 0.75};
    say_n("answerer", 4, texts, confs);
    outcome o = run_agent(c, "Three at 19.99?", true, NULL, NULL);
    assert_string_equal(o.r.decision, "accepted_after_retry");
    assert_string_equal(o.r.answer, "59.97 [1].");
    assert_int_equal(scn_count(&o.ev, "decision", "decision", "retry_more_samples"), 1);
    outcome_free(&o);
    agent_config_free(c);
    scn_rmdir();
}

static const char PII_TASK[] = "Customer anna.berg@example.org (phone +46 70 123 45 67) asks about order 7731 for "
                               "Project Falcon; summarize the ticket.";
static const char TICKET[] = "Ticket: host 10.20.30.40 failed; contact anna.berg@example.org, "
                             "key sk-live-4fG7hJ2kL9mN3pQ8rS1t.";

static void plan_read_ticket(void)
{
    say("planner", "{\"steps\":[{\"tool\":\"fs.read\",\"arguments\":{\"path\":\"ticket.txt\"},\"purpose\":\"read\"}]}", 0.9);
    say("planner", PLAN_FINAL, 0.9);
    say("answerer", "Not sure.", 0.2);
    const char *texts[] = {"Maybe a network issue", "Perhaps billing", "Unknown"};
    const double confs[] = {0.3, 0.3, 0.2};
    say_n("answerer", 3, texts, confs);
}

static const char *esc_yaml(int port, const char *policy)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "confidence: {threshold: 0.7, samples: 1, max_samples: 3}\n"
             "escalation:\n  endpoint: http://127.0.0.1:%d/v1\n  model: remote-big\n  api_key_env: HEARTH_TEST_KEY\n"
             "  terms: [Project Falcon]\n  budget_per_day: 2\n  timeout_seconds: 5\n  retries: 2\n%s",
             port, policy);
    return base_yaml(buf);
}

/* The loopback "remote" needs a loopback interface; inside the air-gap test's empty network
 * namespace (tests/cli/agent.sh sets HEARTH_AIRGAP) those cases are skipped, loudly. */
static bool airgapped(void)
{
    if (!getenv("HEARTH_AIRGAP")) return false;
    fprintf(stderr, "SKIP: loopback escalation server unavailable under HEARTH_AIRGAP\n");
    return true;
}

static void test_escalated_without_pii(void **state)
{
    (void)state;
    if (airgapped()) skip();
    scn_mkdir();
    scn_write("ticket.txt", "%s", TICKET);
    scn_server srv;
    scn_server_start(&srv, "The ticket from [EMAIL_1] about [TERM_1] is a network failure on [IP_1] [1].", 1);
    setenv("HEARTH_TEST_KEY", "test-key-123", 1);
    agent_config *c = scn_config(esc_yaml(srv.port, "  allow_classes: [\"*\"]\n  forbid_classes: [iban, card]\n"
                                                    "policy:\n  rewrite: [{pattern: \"order (\\\\d+)\", replace: \"order #$1\"}]\n"));
    plan_read_ticket();
    outcome o = run_agent(c, PII_TASK, true, NULL, NULL);
    scn_server_stop(&srv);
    assert_string_equal(o.r.decision, "escalated");
    assert_true(o.r.escalated);
    /* First request got 503 and was retried. */
    assert_int_equal(srv.n_requests, 2);
    const char *body = srv.bodies[1];
    const char *planted[] = {"anna.berg", "example.org", "123 45 67", "10.20.30.40", "sk-live", "Falcon", "falcon"};
    for (size_t i = 0; i < sizeof planted / sizeof planted[0]; i++)
        if (strstr(body, planted[i])) fail_msg("payload leaked '%s': %s", planted[i], body);
    assert_non_null(strstr(body, "[EMAIL_1]"));
    assert_non_null(strstr(body, "[SECRET_1]"));
    assert_non_null(strstr(body, "order #7731")); /* non-sensitive context goes, after policy.rewrite */
    assert_string_equal(srv.auth[1], "Bearer test-key-123");
    /* Placeholders restored locally. */
    assert_string_equal(o.r.answer, "The ticket from anna.berg@example.org about Project Falcon is a network failure on "
                                    "10.20.30.40 [1].");
    /* The audit record says what was sent (redacted), why, at which confidence, under which rule. */
    verify_audit(scn_path("audit.jsonl"), 3);
    char *log;
    size_t len;
    hearth_error err = {0};
    assert_int_equal(hearth_read_file(scn_path("audit.jsonl"), 1 << 20, &log, &len, &err), HEARTH_OK);
    assert_non_null(strstr(log, "\"type\":\"escalation\""));
    assert_non_null(strstr(log, "\"rule\":\"escalation.allow_classes\""));
    assert_non_null(strstr(log, "confidence below threshold"));
    const char *esc = strstr(log, "\"type\":\"escalation\"");
    const char *esc_end = strchr(esc, '\n');
    for (size_t i = 0; i < sizeof planted / sizeof planted[0]; i++) {
        const char *hit = strstr(esc, planted[i]);
        if (hit && hit < esc_end) fail_msg("audit 'sent' contains '%s'", planted[i]);
    }
    free(log);
    assert_int_equal(agent_audit_count_today(scn_path("audit.jsonl"), "escalation"), 1);
    outcome_free(&o);
    agent_config_free(c);
    scn_rmdir();
}

static void test_escalation_forbidden(void **state)
{
    (void)state;
    if (airgapped()) skip();
    scn_mkdir();
    scn_write("ticket.txt", "%s", TICKET);
    scn_server srv;
    scn_server_start(&srv, "remote answer", 0);
    setenv("HEARTH_TEST_KEY", "k", 1);
    agent_config *c = scn_config(esc_yaml(srv.port, "  allow_classes: [\"*\"]\n  forbid_classes: [secret]\n"));
    plan_read_ticket();
    outcome o = run_agent(c, PII_TASK, true, NULL, NULL);
    scn_server_stop(&srv);
    assert_string_equal(o.r.decision, "low_confidence");
    assert_true(o.r.low_confidence);
    assert_false(o.r.escalated);
    assert_int_equal(srv.n_requests, 0);
    assert_int_equal(scn_count(&o.ev, "decision", "reason", "forbid_classes: context contains secret"), 1);
    assert_string_equal(o.r.answer, "Not sure."); /* best-scoring local candidate */
    outcome_free(&o);
    agent_config_free(c);

    /* Not in allow_classes is refused too. */
    scn_server_start(&srv, "remote answer", 0);
    c = scn_config(esc_yaml(srv.port, "  allow_classes: [email]\n"));
    plan_read_ticket();
    o = run_agent(c, PII_TASK, true, NULL, NULL);
    scn_server_stop(&srv);
    assert_string_equal(o.r.decision, "low_confidence");
    assert_int_equal(srv.n_requests, 0);
    assert_int_equal(scn_count(&o.ev, "decision", "reason", "which is not allowed"), 1);
    outcome_free(&o);
    agent_config_free(c);

    /* Missing API key variable. */
    scn_server_start(&srv, "remote answer", 0);
    unsetenv("HEARTH_TEST_KEY");
    c = scn_config(esc_yaml(srv.port, "  allow_classes: [\"*\"]\n"));
    plan_read_ticket();
    o = run_agent(c, PII_TASK, true, NULL, NULL);
    scn_server_stop(&srv);
    assert_int_equal(srv.n_requests, 0);
    assert_int_equal(scn_count(&o.ev, "decision", "reason", "$HEARTH_TEST_KEY is not set"), 1);
    outcome_free(&o);
    agent_config_free(c);

    /* Network disabled by the caller (the CLI's --offline, and the air-gap test). */
    scn_server_start(&srv, "remote answer", 0);
    setenv("HEARTH_TEST_KEY", "k", 1);
    c = scn_config(esc_yaml(srv.port, "  allow_classes: [\"*\"]\n"));
    plan_read_ticket();
    o = run_agent(c, PII_TASK, false, NULL, NULL);
    scn_server_stop(&srv);
    assert_int_equal(srv.n_requests, 0);
    assert_int_equal(scn_count(&o.ev, "decision", "reason", "network use disabled"), 1);
    outcome_free(&o);
    agent_config_free(c);
    scn_rmdir();
}

static void test_budget_exhausted(void **state)
{
    (void)state;
    if (airgapped()) skip();
    scn_mkdir();
    scn_write("ticket.txt", "%s", TICKET);
    scn_server srv;
    scn_server_start(&srv, "remote [1]", 0);
    setenv("HEARTH_TEST_KEY", "k", 1);
    agent_config *c = scn_config(esc_yaml(srv.port, "  allow_classes: [\"*\"]\n"));
    for (int i = 0; i < 3; i++) {
        plan_read_ticket();
        outcome o = run_agent(c, PII_TASK, true, NULL, NULL);
        assert_string_equal(o.r.decision, i < 2 ? "escalated" : "low_confidence");
        if (i == 2) assert_int_equal(scn_count(&o.ev, "decision", "reason", "budget_per_day exhausted (2 of 2"), 1);
        outcome_free(&o);
    }
    scn_server_stop(&srv);
    assert_int_equal(srv.n_requests, 2);
    verify_audit(scn_path("audit.jsonl"), 8);
    agent_config_free(c);
    scn_rmdir();
}

static void test_remote_down_falls_back(void **state)
{
    (void)state;
    if (airgapped()) skip();
    scn_mkdir();
    scn_write("ticket.txt", "%s", TICKET);
    scn_server srv;
    scn_server_start(&srv, "never", 100); /* always 503 */
    setenv("HEARTH_TEST_KEY", "k", 1);
    agent_config *c = scn_config(esc_yaml(srv.port, "  allow_classes: [\"*\"]\n"));
    plan_read_ticket();
    outcome o = run_agent(c, PII_TASK, true, NULL, NULL);
    scn_server_stop(&srv);
    assert_string_equal(o.r.decision, "low_confidence");
    assert_int_equal(srv.n_requests, 3); /* 1 + 2 retries */
    assert_int_equal(scn_count(&o.ev, "decision", "reason", "HTTP status 503"), 1);
    outcome_free(&o);
    agent_config_free(c);
    scn_rmdir();
}

static bool deny_time(void *user, const char *tool, json_t *args, json_t *result, char *reason, size_t size)
{
    (void)user, (void)args;
    if (!result && !strcmp(tool, "time.now")) {
        snprintf(reason, size, "clock is private");
        return false;
    }
    return true;
}

static bool rewrite_prompt(void *user, const char *role, char **prompt, char *reason, size_t size)
{
    (void)reason, (void)size;
    if (!strcmp(role, "planner") && strstr(*prompt, "divide")) fail_msg("policy.rewrite not applied before the hook");
    if (!strcmp(role, "answerer.output")) { /* after-render: rewrite the output */
        free(*prompt);
        *prompt = strdup("rewritten by hook");
    }
    (*(int *)user)++;
    return true;
}

static void test_tool_errors_are_observations(void **state)
{
    (void)state;
    scn_mkdir();
    agent_config *c = scn_config(base_yaml("policy: {deny_patterns: [\"(?i)passw(or)?d\"], rewrite: [{pattern: divide, "
                                           "replace: split}]}\nconfidence: {max_samples: 1}\n"));
    say("planner",
        "{\"steps\":[{\"tool\":\"calc\",\"arguments\":{\"expression\":\"1/0\"}},"
        "{\"tool\":\"fs.read\",\"arguments\":{\"path\":\"../../etc/shadow\"}},"
        "{\"tool\":\"shell\",\"arguments\":{\"command\":\"id\"}},"
        "{\"tool\":\"fs.read\",\"arguments\":{\"path\":\"Password.txt\"}},"
        "{\"tool\":\"no.such.tool\",\"arguments\":{}},"
        "{\"tool\":\"time.now\",\"arguments\":{}}]}",
        0.9);
    say("planner", "this is not json", 0.9);
    say("planner", "{\"steps\":[]}", 0.9);
    say("answerer", "I could not compute it.", 0.9);
    int hook_calls = 0;
    outcome o = {.ev.all = json_array()};
    agent_backend b = backend_from_script();
    agent_run_opts opts = {.backend = &b, .on_event = scn_on_event, .event_user = &o.ev, .tool_hook = deny_time,
                           .prompt_hook = rewrite_prompt, .hook_user = &hook_calls};
    hearth_error err = {0};
    if (agent_run(c, "divide", &opts, &o.r, &err)) fail_msg("%s", err.message);
    agent_backend_free(&b);
    assert_int_equal(scn_count(&o.ev, "observation", "text", "division by zero"), 1);
    assert_int_equal(scn_count(&o.ev, "observation", "text", "'..' is not allowed"), 1);
    assert_int_equal(scn_count(&o.ev, "observation", "text", "tool 'shell' is not allowed"), 1);
    assert_int_equal(scn_count(&o.ev, "observation", "text", "deny pattern"), 1);
    assert_int_equal(scn_count(&o.ev, "observation", "text", "not allowed by this agent's policy"), 2);
    assert_int_equal(scn_count(&o.ev, "observation", "text", "clock is private"), 1);
    assert_int_equal(scn_count(&o.ev, "decision", "decision", "replan"), 1);
    assert_int_equal(scn_count(&o.ev, "decision", "reason", "neither"), 1);
    assert_string_equal(o.r.answer, "rewritten by hook");
    assert_true(hook_calls >= 4);
    /* Without observations that succeeded, the answer cannot be well supported, but it is
     * still answered: tool failures never fail the run. */
    assert_non_null(o.r.decision);
    verify_audit(scn_path("audit.jsonl"), 7);
    outcome_free(&o);
    agent_config_free(c);
    scn_rmdir();
}

static void test_limits_and_repeats(void **state)
{
    (void)state;
    scn_mkdir();
    agent_config *c = scn_config(base_yaml("limits: {max_steps: 2}\n"));
    say("planner", PLAN_CALC, 0.9);
    say("planner", "{\"steps\":[{\"tool\":\"calc\",\"arguments\":{\"expression\":\"2+2\"}}]}", 0.9);
    say("answerer", "59.97 [1]", 0.9);
    outcome o = run_agent(c, "loop", true, NULL, NULL);
    assert_int_equal(o.r.steps, 2);
    assert_int_equal(scn_count(&o.ev, "decision", "reason", "limits.max_steps"), 1);
    outcome_free(&o);
    /* A repeated identical call reuses the observation instead of running again. */
    say("planner", PLAN_CALC, 0.9);
    say("planner", PLAN_CALC, 0.9);
    say("answerer", "59.97 [1]", 0.9);
    o = run_agent(c, "repeat", true, NULL, NULL);
    assert_int_equal(o.r.tool_calls, 1);
    assert_int_equal(scn_count(&o.ev, "decision", "decision", "reuse_observation"), 1);
    outcome_free(&o);
    agent_config_free(c);
    /* A backend failure in the answerer is a run error with the backend's message. */
    c = scn_config(base_yaml(""));
    say("planner", PLAN_FINAL, 0.9);
    json_array_append_new(script, json_pack("{s:s, s:s}", "role", "answerer", "error", "model crashed"));
    agent_backend b = backend_from_script();
    agent_run_opts opts = {.backend = &b};
    agent_run_result r;
    hearth_error err = {0};
    assert_int_not_equal(agent_run(c, "x", &opts, &r, &err), HEARTH_OK);
    assert_non_null(strstr(err.message, "model crashed"));
    agent_backend_free(&b);
    agent_config_free(c);
    scn_rmdir();
}

static void test_fallback_model(void **state)
{
    (void)state;
    scn_mkdir();
    agent_config *c = scn_config(base_yaml("models: {fallback: big.gguf}\nconfidence: {max_samples: 2}\n"));
    say("planner", PLAN_FINAL, 0.9);
    say("answerer", "hmm", 0.2);
    const char *weak[] = {"a", "b"}, *strong[] = {"Paris", "Paris"};
    const double wc[] = {0.3, 0.3}, sc[] = {0.9, 0.95};
    say_n("answerer", 2, weak, wc);
    say_n("fallback", 2, strong, sc);
    outcome o = run_agent(c, "capital of France", true, NULL, NULL);
    assert_string_equal(o.r.decision, "accepted_fallback");
    assert_string_equal(o.r.answer, "Paris");
    outcome_free(&o);
    agent_config_free(c);
    scn_rmdir();
}

static void test_confidence_parts(void **state)
{
    (void)state;
    agent_gen_sample s[3] = {{"Total 42 [1]", 0.9, 3}, {"total 42 [1].", 0.8, 3}, {"total 41 [2]", 0.9, 3}};
    agent_gen_result r = {s, 3, 0, 0};
    const char *obs[] = {"42", "error"};
    bool ok[] = {true, false};
    agent_confidence c;
    agent_confidence_score(&r, obs, ok, 2, &c);
    assert_int_equal(c.chosen, 0);
    assert_true(c.consistency > 0.66 && c.consistency < 0.67);
    assert_true(c.citations == 1.0);
    assert_true(c.generation > 0.84 && c.generation < 0.86);
    /* the chosen answer: "Total" (5 letters) is not in an observation, 42 is */
    assert_true(c.support > 0.49 && c.support < 0.51);
    /* Citing a failed or missing observation scores 0 for citations. */
    agent_gen_sample bad[1] = {{"41 [2] [7]", 0.9, 2}};
    agent_gen_result rb = {bad, 1, 0, 0};
    agent_confidence_score(&rb, obs, ok, 2, &c);
    assert_true(c.citations == 0);
    assert_true(c.consistency < 0);
}

static void test_malformed_scripts_and_journals(void **state)
{
    (void)state;
    static const struct {
        const char *script, *want;
    } bad[] = {
        {"", "script:"},
        {"[]", "expected {\"responses\": [...]}"},
        {"{\"responses\": {}}", "expected {\"responses\": [...]}"},
        {"{\"responses\": [42]}", "responses[0]"},
        {"{\"responses\": [{\"samples\": []}]}", "responses[0]"},
        {"{\"responses\": [{\"samples\": [{\"text\": 1}]}]}", "responses[0]"},
        {"{\"responses\": [{\"role\": \"planner\"}]}", "responses[0]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        agent_backend b;
        hearth_error err = {0};
        if (!agent_backend_scripted(bad[i].script, &b, &err)) fail_msg("script %zu accepted", i);
        if (!strstr(err.message, bad[i].want)) fail_msg("script %zu: '%s' lacks '%s'", i, err.message, bad[i].want);
    }
    /* A state file that is not a journal, and an audit log that does not verify, stop the run
     * before anything happens. */
    scn_mkdir();
    scn_write("runs.db", "this is not sqlite, just text that is long enough to be a header.....\n");
    agent_config *c = scn_config(base_yaml(""));
    say("planner", PLAN_FINAL, 0.9);
    agent_backend b = backend_from_script();
    agent_run_opts o = {.backend = &b};
    agent_run_result r;
    hearth_error err = {0};
    assert_int_not_equal(agent_run(c, "x", &o, &r, &err), HEARTH_OK);
    assert_non_null(strstr(err.message, "runs.db"));
    unlink(scn_path("runs.db"));
    scn_write("audit.jsonl", "{\"seq\":0}\n");
    assert_int_not_equal(agent_run(c, "x", &o, &r, &err), HEARTH_OK);
    assert_non_null(strstr(err.message, "refusing to append"));
    assert_int_equal(agent_backend_scripted_calls(&b), 0);
    agent_backend_free(&b);
    agent_config_free(c);
    scn_rmdir();
}

int main(void)
{
    script = json_array();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_confident_local_answer),
        cmocka_unit_test(test_low_then_more_samples_accepted),
        cmocka_unit_test(test_escalated_without_pii),
        cmocka_unit_test(test_escalation_forbidden),
        cmocka_unit_test(test_budget_exhausted),
        cmocka_unit_test(test_remote_down_falls_back),
        cmocka_unit_test(test_tool_errors_are_observations),
        cmocka_unit_test(test_limits_and_repeats),
        cmocka_unit_test(test_fallback_model),
        cmocka_unit_test(test_confidence_parts),
        cmocka_unit_test(test_malformed_scripts_and_journals),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    json_decref(script);
    return rc;
}
