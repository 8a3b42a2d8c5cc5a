/* test_agent_rag.c — rag.search / rag.read as agent tools over a BM25 store built here from a
 * few documents, plus their error paths (no stores, missing store, bad ids). */
#include "testutil.h"

#include "agent_scenario.h"
#include "rag/ingest.h"
#include <sys/stat.h>

static json_t *call(agent_tools *t, const char *tool, const char *args_json)
{
    json_t *args = json_loads(args_json, 0, NULL);
    json_t *r = agent_tools_call(t, tool, args);
    json_decref(args);
    return r;
}

static void expect_error(json_t *r, const char *want)
{
    assert_false(json_is_true(json_object_get(r, "ok")));
    const char *e = json_string_value(json_object_get(r, "error"));
    if (!e || !strstr(e, want)) fail_msg("error '%s' lacks '%s'", e ? e : "(none)", want);
    json_decref(r);
}

static void test_rag_tools(void **state)
{
    (void)state;
    scn_mkdir();
    mkdir(scn_path("docs"), 0700);
    scn_write("docs/refunds.md", "# Refund policy\n\nRefunds are possible within 30 days of purchase.\n");
    scn_write("docs/shipping.md", "# Shipping\n\nParcels leave the warehouse on weekdays.\n");
    rag_store *s;
    hearth_error err = {0};
    char store[512];
    snprintf(store, sizeof store, "%s", scn_path("docs.db"));
    if (rag_store_open(store, true, &s, &err)) fail_msg("%s", err.message);
    rag_ingest_params p = rag_ingest_default_params();
    rag_ingest_summary sum;
    const char *paths[] = {scn_path("docs")};
    if (rag_ingest(s, paths, 1, &p, &sum, &err)) fail_msg("%s", err.message);
    rag_store_close(s);

    char yaml[1024];
    snprintf(yaml, sizeof yaml, "stores: [%s]\ntools: [rag.search, rag.read]\n", store);
    agent_config *c = scn_config(yaml);
    agent_tools *t;
    if (agent_tools_new(c, &t, &err)) fail_msg("%s", err.message);
    json_t *r = call(t, "rag.search", "{\"query\":\"refund within days\",\"k\":2}");
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_t *hits = json_object_get(r, "output");
    assert_true(json_array_size(hits) >= 1);
    json_t *top = json_array_get(hits, 0);
    assert_non_null(strstr(json_string_value(json_object_get(top, "path")), "refunds.md"));
    char read_args[700];
    snprintf(read_args, sizeof read_args, "{\"id\":\"%s\"}", json_string_value(json_object_get(top, "id")));
    json_decref(r);
    r = call(t, "rag.read", read_args);
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r, "output"), "text")), "30 days"));
    json_decref(r);
    expect_error(call(t, "rag.search", "{}"), "missing string argument 'query'");
    expect_error(call(t, "rag.search", "{\"query\":\"x\",\"k\":0}"), "'k' must be 1..50");
    expect_error(call(t, "rag.read", "{\"id\":\"nohash\"}"), "STORE#CHUNK");
    expect_error(call(t, "rag.read", "{\"id\":\"other#1\"}"), "does not use");
    snprintf(read_args, sizeof read_args, "{\"id\":\"%s#999999\"}", store);
    expect_error(call(t, "rag.read", read_args), "no such chunk");
    agent_tools_free(t);
    agent_config_free(c);

    c = scn_config("tools: [rag.search]\n");
    assert_int_equal(agent_tools_new(c, &t, &err), HEARTH_OK);
    expect_error(call(t, "rag.search", "{\"query\":\"x\"}"), "has no stores");
    agent_tools_free(t);
    agent_config_free(c);
    snprintf(yaml, sizeof yaml, "stores: [%s]\ntools: [rag.search]\n", scn_path("missing.db"));
    c = scn_config(yaml);
    assert_int_equal(agent_tools_new(c, &t, &err), HEARTH_OK);
    expect_error(call(t, "rag.search", "{\"query\":\"x\"}"), "missing.db");
    agent_tools_free(t);
    agent_config_free(c);
    scn_rmdir();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rag_tools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
