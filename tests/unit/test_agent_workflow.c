/* test_agent_workflow.c — workflow graphs: tool, llm, branch (on a value and on confidence),
 * approval interrupt and resume, checkpoint/resume without repeating nodes, cycles bounded by
 * max_steps, and malformed workflow files. */
#include "testutil.h"

#include "agent_scenario.h"

static const char AGENT[] = "name: wf\ntools: [calc]\naudit: {path: audit.jsonl, state: runs.db}\n";

static const char WORKFLOW[] =
    "name: refund\nagent: agent.yaml\noutput: result\nnodes:\n"
    "  - {id: total, kind: tool, tool: calc, arguments: {expression: \"{{input}} * 3\"}, next: classify}\n"
    "  - {id: classify, kind: llm, prompt: \"Classify: {{input}} costs {{total}}\", next: route}\n"
    "  - id: route\n    kind: branch\n    cases:\n"
    "      - {if: \"confidence(classify) < 0.5\", next: unsure}\n"
    "      - {if: \"classify contains refund\", next: approve}\n"
    "    default: unsure\n"
    "  - {id: approve, kind: approval, message: \"Refund {{total}}?\", next: pay}\n"
    "  - {id: pay, kind: tool, tool: calc, arguments: {expression: \"{{total}} + 1\"}, output: result}\n"
    "  - {id: unsure, kind: llm, prompt: \"Ask a human about {{input}}\", output: result}\n";

static agent_backend backend(const char *json)
{
    agent_backend b;
    hearth_error err = {0};
    if (agent_backend_scripted(json, &b, &err)) fail_msg("%s", err.message);
    return b;
}

static agent_run_result run(agent_workflow *w, const char *input, const char *resume, bool approve, const char *script,
                            scn_events *ev)
{
    agent_backend b = backend(script);
    agent_run_opts o = {.backend = &b, .on_event = scn_on_event, .event_user = ev, .resume_run_id = resume};
    agent_run_result r;
    hearth_error err = {0};
    if (agent_workflow_run(w, input, &o, approve, &r, &err)) fail_msg("%s", err.message);
    agent_backend_free(&b);
    return r;
}

static void test_approval_and_resume(void **state)
{
    (void)state;
    scn_mkdir();
    scn_write("agent.yaml", "%s", AGENT);
    scn_write("refund.yaml", "%s", WORKFLOW);
    agent_workflow *w;
    hearth_error err = {0};
    if (agent_workflow_load(scn_path("refund.yaml"), &w, &err)) fail_msg("%s", err.message);
    scn_events ev = {json_array()};
    agent_run_result r = run(w, "19.99", NULL, false,
                             "{\"responses\":[{\"samples\":[{\"text\":\"a refund request\",\"confidence\":0.9}]}]}", &ev);
    assert_string_equal(r.decision, "waiting");
    assert_int_equal(r.tool_calls, 1);
    assert_int_equal(scn_count(&ev, "node", "value", "59.97"), 1);
    assert_int_equal(scn_count(&ev, "approval", "message", "Refund 59.97?"), 1);
    assert_int_equal(scn_count(&ev, "node", "reason", "classify contains refund -> true"), 1);
    char run_id[64];
    snprintf(run_id, sizeof run_id, "%s", r.run_id);
    agent_run_result_clear(&r);

    /* Resume without approval: still waiting, nothing re-executed. */
    r = run(w, NULL, run_id, false, "{\"responses\":[]}", &ev);
    assert_string_equal(r.decision, "waiting");
    assert_int_equal(r.tool_calls, 0);
    agent_run_result_clear(&r);
    /* Approved: only pay runs. */
    r = run(w, NULL, run_id, true, "{\"responses\":[]}", &ev);
    assert_string_equal(r.decision, "done");
    assert_string_equal(r.answer, "60.97");
    assert_int_equal(r.tool_calls, 1);
    assert_int_equal(r.steps, 5);
    agent_run_result_clear(&r);
    /* Done runs are not resumed. */
    agent_backend b = backend("{\"responses\":[]}");
    agent_run_opts o = {.backend = &b, .resume_run_id = run_id};
    assert_int_not_equal(agent_workflow_run(w, NULL, &o, true, &r, &err), HEARTH_OK);
    assert_non_null(strstr(err.message, "already completed"));
    agent_backend_free(&b);

    /* Low confidence takes the other branch. */
    r = run(w, "5", NULL, false,
            "{\"responses\":[{\"samples\":[{\"text\":\"refund?\",\"confidence\":0.2}]},"
            "{\"samples\":[{\"text\":\"please ask\",\"confidence\":0.9}]}]}",
            &ev);
    assert_string_equal(r.decision, "done");
    assert_string_equal(r.answer, "please ask");
    assert_int_equal(scn_count(&ev, "node", "reason", "confidence(classify) < 0.5 -> true"), 1);
    agent_run_result_clear(&r);
    size_t n;
    if (agent_audit_verify(scn_path("audit.jsonl"), &n, &err)) fail_msg("%s", err.message);
    assert_int_equal(n, 3); /* three calc calls */
    json_decref(ev.all);
    agent_workflow_free(w);
    scn_rmdir();
}

static void bad_workflow(const char *body, const char *want)
{
    scn_write("bad.yaml", "%s", body);
    agent_workflow *w = NULL;
    hearth_error err = {0};
    if (!agent_workflow_load(scn_path("bad.yaml"), &w, &err)) fail_msg("loaded, expected '%s'", want);
    if (!strstr(err.message, want)) fail_msg("'%s' lacks '%s'", err.message, want);
}

static void test_malformed_and_cycles(void **state)
{
    (void)state;
    scn_mkdir();
    scn_write("agent.yaml", "%s", AGENT);
    bad_workflow("nodes: [{id: a, kind: llm, prompt: x}]\n", "'agent'");
    bad_workflow("agent: agent.yaml\nnodes: []\n", "'nodes' must be a non-empty list");
    bad_workflow("agent: agent.yaml\nnodes: [{id: a, kind: dance}]\n", ":2: each node needs an id and a kind");
    bad_workflow("agent: agent.yaml\nnodes: [{id: a, kind: llm}]\n", "node 'a': missing 'prompt'");
    bad_workflow("agent: agent.yaml\nnodes: [{id: a, kind: llm, prompt: x, next: b}]\n", "unknown node 'b'");
    bad_workflow("agent: agent.yaml\nnodes: [{id: a, kind: llm, prompt: x}, {id: a, kind: llm, prompt: y}]\n",
                 "duplicate node id 'a'");
    bad_workflow("agent: agent.yaml\nnodes: [{id: a, kind: branch}]\n", "needs cases or a default");
    bad_workflow("agent: agent.yaml\nnodes: [{id: a, kind: llm, prompt: x, colour: red}]\n", "unknown key 'colour'");
    bad_workflow("agent: missing.yaml\nnodes: [{id: a, kind: llm, prompt: x}]\n", "missing.yaml");
    bad_workflow("agent: agent.yaml\nstart: zz\nnodes: [{id: a, kind: llm, prompt: x}]\n", "start: unknown node 'zz'");

    scn_write("loop.yaml", "agent: agent.yaml\nmax_steps: 5\nnodes:\n"
                           "  - {id: a, kind: tool, tool: calc, arguments: {expression: \"1+1\"}, next: b}\n"
                           "  - {id: b, kind: branch, default: a}\n");
    agent_workflow *w;
    hearth_error err = {0};
    if (agent_workflow_load(scn_path("loop.yaml"), &w, &err)) fail_msg("%s", err.message);
    agent_backend b = backend("{\"responses\":[]}");
    agent_run_opts o = {.backend = &b};
    agent_run_result r;
    assert_int_not_equal(agent_workflow_run(w, "", &o, false, &r, &err), HEARTH_OK);
    assert_non_null(strstr(err.message, "max_steps (5)"));
    agent_backend_free(&b);
    agent_workflow_free(w);
    scn_rmdir();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_approval_and_resume),
        cmocka_unit_test(test_malformed_and_cycles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
