/* test_agent_engine.c — the agent on a real fixture model through the engine backend: plans
 * are constrained by the plan schema, so even a random-weight model's plans always parse and
 * only name allowed tools; the run completes with a decision and a verifiable audit log. */
#include "testutil.h"

#include "agent_scenario.h"

static const char MODEL[] = "models/qwen3-real-vocab-q8_0.gguf";

static void test_engine_plans_always_parse(void **state)
{
    (void)state;
    if (!fixture_exists(MODEL)) {
        fprintf(stderr, "SKIP: fixture %s not found (set HEARTH_FIXTURES)\n", MODEL);
        skip();
    }
    scn_mkdir();
    char *model = realpath(fixture_path(MODEL), NULL); /* agent.yaml paths are relative to the file */
    assert_non_null(model);
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "name: engine\nmodels: {planner: %s}\ntools: [calc, time.now]\n"
             "confidence: {samples: 1, max_samples: 2}\nlimits: {max_steps: 2, max_tokens: 160}\n"
             "audit: {path: audit.jsonl, state: runs.db}\n",
             model);
    free(model);
    agent_config *c = scn_config(yaml);
    agent_backend b;
    hearth_error err = {0};
    if (agent_backend_engine(c, &b, &err)) fail_msg("%s", err.message);
    scn_events ev = {json_array()};
    agent_run_opts o = {.backend = &b, .on_event = scn_on_event, .event_user = &ev};
    agent_run_result r;
    if (agent_run(c, "What is 6*7? Use calc.", &o, &r, &err)) fail_msg("%s", err.message);
    assert_int_equal(scn_count(&ev, "decision", "reason", "not JSON"), 0);
    assert_int_equal(scn_count(&ev, "decision", "reason", "neither"), 0);
    assert_int_equal(scn_count(&ev, "decision", "reason", "needs \"tool\""), 0);
    assert_true(scn_count(&ev, "plan", NULL, NULL) >= 1);
    for (size_t i = 0; i < json_array_size(ev.all); i++) {
        json_t *e = json_array_get(ev.all, i);
        if (strcmp(json_string_value(json_object_get(e, "type")), "tool")) continue;
        const char *t = json_string_value(json_object_get(e, "tool"));
        if (strcmp(t, "calc") && strcmp(t, "time.now")) fail_msg("planner named tool '%s'", t);
    }
    assert_non_null(r.decision);
    assert_non_null(r.answer);
    assert_true(r.tokens > 0);
    size_t n;
    if (agent_audit_verify(c->audit_path, &n, &err)) fail_msg("%s", err.message);
    agent_run_result_clear(&r);
    agent_backend_free(&b);
    json_decref(ev.all);
    agent_config_free(c);
    scn_rmdir();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_plans_always_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
