/* test_agent_config.c — agent.yaml parsing (a full file, a malformed corpus with expected
 * messages and line numbers, every truncation) and the hash-chained audit log (edits,
 * removals, reorderings and truncation are all detected). */
#include <dirent.h>
#include <unistd.h>

#include "testutil.h"

#include "agent/agent.h"
#include "base/base.h"
#include "base/sha256.h"

static void test_full_config(void **state)
{
    (void)state;
    agent_config *c = NULL;
    hearth_error err = {0};
    if (agent_config_load("tests/data/agent/full.yaml", &c, &err)) fail_msg("%s", err.message);
    assert_string_equal(c->name, "support-bot");
    assert_string_equal(c->model_fallback, "tests/data/agent/models/qwen3-4b.gguf");
    assert_int_equal(c->tools.n, 6);
    assert_true(agent_strlist_has(&c->tools, "files.read_file")); /* "files.*" wildcard */
    assert_false(agent_strlist_has(&c->tools, "shell"));
    assert_true(c->threshold > 0.79 && c->threshold < 0.81);
    assert_int_equal(c->samples, 2);
    assert_int_equal(c->max_samples, 6);
    assert_int_equal(c->n_mcp, 1);
    assert_int_equal(c->mcp[0].argc, 3);
    assert_null(c->mcp[0].argv[3]);
    assert_true(c->esc.configured);
    assert_int_equal(c->esc.budget_per_day, 20);
    assert_int_equal(c->esc.terms.n, 2);
    assert_int_equal(c->max_steps, 4);
    /* relative paths resolve against the file's directory */
    assert_string_equal(c->audit_path, "tests/data/agent/audit.jsonl");
    assert_string_equal(c->fs_roots.items[0], "tests/data/agent/.");
    agent_config_free(c);

    /* Defaults. */
    assert_int_equal(agent_config_parse("name: x\n", 8, "mem.yaml", &c, &err), HEARTH_OK);
    assert_true(c->threshold > 0.69 && c->threshold < 0.71);
    assert_false(c->esc.configured);
    assert_null(c->audit_path);
    agent_config_free(c);
}

static void test_malformed_corpus(void **state)
{
    (void)state;
    DIR *d = opendir("tests/data/agent/bad");
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".yaml")) continue;
        char path[512];
        snprintf(path, sizeof path, "tests/data/agent/bad/%s", e->d_name);
        FILE *f = fopen(path, "r");
        char first[256] = "";
        assert_non_null(fgets(first, sizeof first, f));
        fclose(f);
        first[strcspn(first, "\n")] = 0;
        assert_non_null(strstr(first, "# expect: "));
        const char *want = first + strlen("# expect: ");
        agent_config *c = NULL;
        hearth_error err = {0};
        if (!agent_config_load(path, &c, &err)) fail_msg("%s: parsed, expected error '%s'", path, want);
        if (!strstr(err.message, want)) fail_msg("%s: error '%s' lacks '%s'", path, err.message, want);
        if (!strstr(err.message, path)) fail_msg("%s: error '%s' does not name the file", path, err.message);
        assert_null(c);
        n++;
    }
    closedir(d);
    assert_true(n >= 20);
}

static void test_every_truncation(void **state)
{
    (void)state;
    char *text;
    size_t len;
    hearth_error err = {0};
    assert_int_equal(hearth_read_file("tests/data/agent/full.yaml", 1 << 20, &text, &len, &err), HEARTH_OK);
    for (size_t cut = 0; cut < len; cut++) {
        agent_config *c = NULL;
        hearth_status st = agent_config_parse(text, cut, "cut.yaml", &c, &err);
        if (st == HEARTH_OK) agent_config_free(c);
        else assert_true(err.message[0] != 0);
    }
    free(text);
}

static char log_path[128];

static void write_log(int n)
{
    unlink(log_path);
    agent_audit *a = NULL;
    hearth_error err = {0};
    assert_int_equal(agent_audit_open(log_path, &a, &err), HEARTH_OK);
    for (int i = 0; i < n; i++) {
        json_t *f = json_pack("{s:i, s:s}", "i", i, "note", "tool call with \"quotes\" and ünïcode");
        assert_int_equal(agent_audit_append(a, i == 2 ? "escalation" : "tool_call", f, &err), HEARTH_OK);
        json_decref(f);
    }
    agent_audit_close(a);
}

static char *slurp(void)
{
    char *t;
    size_t n;
    hearth_error err = {0};
    assert_int_equal(hearth_read_file(log_path, 1 << 20, &t, &n, &err), HEARTH_OK);
    return t;
}

static void put(const char *text)
{
    FILE *f = fopen(log_path, "w");
    fputs(text, f);
    fclose(f);
}

static void expect_tamper(const char *why)
{
    size_t n = 0;
    hearth_error err = {0};
    if (agent_audit_verify(log_path, &n, &err) == HEARTH_OK) fail_msg("tampering not detected (%s)", why);
    if (!strstr(err.message, why)) fail_msg("'%s' lacks '%s'", err.message, why);
}

static void test_audit_chain(void **state)
{
    (void)state;
    snprintf(log_path, sizeof log_path, "/tmp/hearth-audit-%d.jsonl", (int)getpid());
    write_log(5);
    size_t n = 0;
    hearth_error err = {0};
    assert_int_equal(agent_audit_verify(log_path, &n, &err), HEARTH_OK);
    assert_int_equal(n, 5);
    assert_int_equal(agent_audit_count_today(log_path, "escalation"), 1);
    assert_int_equal(agent_audit_count_today(log_path, "tool_call"), 4);
    char *orig = slurp();

    /* Edited value: hash mismatch on that line. */
    char *t = strdup(orig), *p = strstr(t, "\"i\":3");
    p[4] = '4';
    put(t);
    expect_tamper(":4: hash mismatch");
    free(t);
    /* Removed record. */
    t = strdup(orig);
    char *l2 = strchr(t, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    memmove(l2, l3, strlen(l3) + 1);
    put(t);
    expect_tamper(":2: seq is 2, expected 1");
    free(t);
    /* Reordered records (swap 2 and 3). */
    t = strdup(orig);
    l2 = strchr(t, '\n') + 1;
    l3 = strchr(l2, '\n') + 1;
    char *l4 = strchr(l3, '\n') + 1;
    size_t a = (size_t)(l3 - l2), b = (size_t)(l4 - l3);
    char *swapped = malloc(strlen(t) + 1);
    memcpy(swapped, t, (size_t)(l2 - t));
    memcpy(swapped + (l2 - t), l3, b);
    memcpy(swapped + (l2 - t) + b, l2, a);
    strcpy(swapped + (l2 - t) + a + b, l4);
    put(swapped);
    expect_tamper(":2: seq is 2, expected 1");
    free(swapped);
    free(t);
    /* Edited seq and prev to hide a removal: the hash still catches it. */
    t = strdup(orig);
    l2 = strchr(t, '\n') + 1;
    l3 = strchr(l2, '\n') + 1;
    memmove(l2, l3, strlen(l3) + 1);
    p = strstr(l2, "\"seq\":2");
    p[6] = '1';
    put(t);
    expect_tamper("prev does not match");
    free(t);
    /* Truncated last record. */
    t = strdup(orig);
    t[strlen(t) - 10] = 0;
    put(t);
    expect_tamper(":5: record is truncated");
    /* A tampered log refuses appends. */
    agent_audit *au = NULL;
    assert_int_not_equal(agent_audit_open(log_path, &au, &err), HEARTH_OK);
    assert_non_null(strstr(err.message, "refusing to append"));
    free(t);
    /* Garbage line. */
    put("not json\n");
    expect_tamper(":1: not an audit record");
    free(orig);
    /* Empty log verifies (zero records); a missing one is an error. */
    put("");
    assert_int_equal(agent_audit_verify(log_path, &n, &err), HEARTH_OK);
    assert_int_equal(n, 0);
    unlink(log_path);
    assert_int_not_equal(agent_audit_verify(log_path, &n, &err), HEARTH_OK);
}

static void test_sha256_vectors(void **state)
{
    (void)state;
    char hex[65];
    hearth_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hearth_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hearth_sha256_hex(two, strlen(two), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* Streaming in odd pieces equals one shot (a million 'a's). */
    hearth_sha256_ctx h;
    hearth_sha256_init(&h);
    char block[997];
    memset(block, 'a', sizeof block);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof block ? left : sizeof block;
        hearth_sha256_update(&h, block, n);
        left -= n;
    }
    uint8_t d[32];
    hearth_sha256_final(&h, d);
    hearth_hex_encode(d, 32, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_config),
        cmocka_unit_test(test_malformed_corpus),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_audit_chain),
        cmocka_unit_test(test_sha256_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
