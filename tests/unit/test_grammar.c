/* test_grammar.c — GBNF parsing, the pushdown matcher, token masks on a synthetic vocabulary,
 * malformed grammars (line:col errors) and grammars that forbid everything after a prefix. */
#include "testutil.h"

#include "base/base.h"
#include "sample/grammar.h"
#include "sample/sample.h"
#include "sample_vocab.h"

/* 2 = complete match, 1 = valid prefix only, 0 = rejected */
static int match(const char *gbnf, const char *text)
{
    hearth_error err = {0};
    gram *g = gram_parse(gbnf, NULL, &err);
    if (!g) fail_msg("grammar did not parse: %s\n%s", err.message, gbnf);
    gmatch *m = gmatch_new(g, &err);
    assert_non_null(m);
    int32_t s = gmatch_start(m, &err);
    assert_true(s >= 0);
    s = gmatch_feed(m, s, text, strlen(text));
    int r = s < 0 ? 0 : gmatch_accepting(m, s) ? 2 : 1;
    gmatch_free(m);
    gram_free(g);
    return r;
}

static void test_match_basics(void **state)
{
    (void)state;
    const char *g1 = "root ::= \"a\" [b-d]+ \"e\"?\n";
    assert_int_equal(match(g1, "abce"), 2);
    assert_int_equal(match(g1, "abd"), 2);
    assert_int_equal(match(g1, "a"), 1);
    assert_int_equal(match(g1, "ae"), 0);
    assert_int_equal(match(g1, "abcee"), 0);
    const char *g2 = "root ::= \"x\"{2,3}\n";
    assert_int_equal(match(g2, "x"), 1);
    assert_int_equal(match(g2, "xx"), 2);
    assert_int_equal(match(g2, "xxx"), 2);
    assert_int_equal(match(g2, "xxxx"), 0);
    assert_int_equal(match("root ::= \"x\"{,2} \"y\"\n", "xxy"), 2);
    assert_int_equal(match("root ::= \"x\"{,2} \"y\"\n", "xxxy"), 0);
    assert_int_equal(match("root ::= \"x\"{2,} \"y\"\n", "xxxxxy"), 2);
    assert_int_equal(match("root ::= \"x\"{2,} \"y\"\n", "xy"), 0);
    assert_int_equal(match("root ::= \"ab\"{2}\n", "abab"), 2);
    /* comments, rules used before definition, groups over several lines, alternatives */
    const char *g3 = "# a comment\nroot ::= item (\n  \",\" item # inside\n)*\nitem ::= [0-9]+ | \"none\"\n";
    assert_int_equal(match(g3, "1,22,none"), 2);
    assert_int_equal(match(g3, "1,,2"), 0);
    /* negation, escapes, unicode, any character */
    assert_int_equal(match("root ::= [^\\x00-\\x7F]+\n", "\xc3\xa9\xe4\xb8\xad"), 2);
    assert_int_equal(match("root ::= [^\\x00-\\x7F]+\n", "a"), 0);
    assert_int_equal(match("root ::= \"\\u00e9\\U0001F600\\t\\\"\"\n", "\xc3\xa9\xf0\x9f\x98\x80\t\""), 2);
    assert_int_equal(match("root ::= [\\]\\-\\\\]+\n", "]-\\"), 2);
    assert_int_equal(match("root ::= . . \"!\"\n", "\xe4\xb8\xadx!"), 2);
    assert_int_equal(match("root ::= [a-c\\u4e00-\\u9fff]*\n", "ab\xe4\xb8\xad"), 2);
    /* partial UTF-8: the first byte of a character is a valid prefix only if the class allows it */
    assert_int_equal(match("root ::= \"\\u00e9\"\n", "\xc3"), 1);
    assert_int_equal(match("root ::= \"a\"\n", "\xc3"), 0);
    assert_int_equal(match("root ::= .\n", "\xc0\x80"), 0);  /* overlong */
    assert_int_equal(match("root ::= .\n", "\xed\xa0\x80"), 0); /* surrogate */
    /* nullable repetition inside repetition (tail recursion through empty alternatives) */
    assert_int_equal(match("root ::= (\"a\"?)* \"b\"\n", "aaab"), 2);
    assert_int_equal(match("root ::= ws* \"b\"\nws ::= \" \"?\n", "   b"), 2);
    /* right recursion nests; long repetition does not grow stacks */
    assert_int_equal(match("root ::= \"(\" root \")\" | \"x\"\n", "(((x)))"), 2);
    char *longtext = malloc(20001);
    memset(longtext, 'z', 20000);
    longtext[20000] = 0;
    assert_int_equal(match("root ::= \"z\"*\n", longtext), 2);
    free(longtext);
}

static void expect_error(const char *gbnf, const char *needle)
{
    hearth_error err = {0};
    gram *g = gram_parse(gbnf, NULL, &err);
    if (g) fail_msg("grammar should not parse: %s", gbnf);
    assert_int_not_equal(err.status, HEARTH_OK);
    if (!strstr(err.message, needle)) fail_msg("error '%s' lacks '%s'", err.message, needle);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_error("root ::= \"abc\n", "1:10: unterminated string");
    expect_error("root ::= [abc\n", "unterminated character class");
    expect_error("root ::= \"\\q\"\n", "1:11: unknown escape");
    expect_error("root ::= \"\\x4\"\n", "hex digits");
    expect_error("root ::= \"x\"\n\nother ::= missing\n", "3:11: undefined rule 'missing'");
    expect_error("root \"a\"\n", "expected '::='");
    expect_error("root ::= ( \"a\"\n", "unclosed '('");
    expect_error("root ::= \"a\" )\n", "unmatched ')'");
    expect_error("root ::= [z-a]\n", "range end");
    expect_error("root ::= \"a\"{3,1}\n", "maximum below minimum");
    expect_error("root ::= \"a\"{\n", "expected a number");
    expect_error("root ::= \"a\"**\n", "two repetition operators");
    expect_error("root ::= \"a\"\nroot ::= \"b\"\n", "defined twice");
    expect_error("start ::= \"a\"\n", "no rule named 'root'");
    expect_error("root ::= expr\nexpr ::= expr \"+\" \"1\" | \"1\"\n", "left-recursive");
    expect_error("root ::= \"a\" loop\nloop ::= \"b\" loop\n", "can never be completed");
    expect_error("root ::= \"ab\" [^\\x00-\\U0010FFFF]\n", "can never be completed");
    expect_error("root ::= \"a\" \"b\" other ::= \"c\"\n", "must end with a newline");
    expect_error("root ::= \"a\"{99999}\n", "above");
    expect_error("root ::= \"\xff\"\n", "invalid UTF-8");
    expect_error("::= \"a\"\n", "expected a rule name");
    expect_error("", "no rule named 'root'");
    /* nesting deeper than the limit fails cleanly instead of overflowing the stack */
    char deep[2000];
    strcpy(deep, "root ::= ");
    for (int i = 0; i < 400; i++) strcat(deep, "(");
    expect_error(deep, "nested deeper");
}

/* The mask in a state must equal the brute-force answer: feed every token's bytes. */
static void check_mask(hearth_grammar *gr, int32_t st, int32_t budget)
{
    hearth_error err = {0};
    const uint64_t *mask = grammar_mask(gr, st, budget, &err);
    assert_non_null(mask);
    for (int32_t t = 0; t < gr->vocab->n_vocab; t++) {
        int32_t next = grammar_accept(gr, st, t);
        bool ok = next >= 0;
        if (ok && budget > 0 && !gr->vocab->eog[t]) ok = gmatch_need(gr->m, next) <= budget - 1;
        bool bit = mask[t >> 6] >> (t & 63) & 1;
        if (bit != ok) fail_msg("token %d: mask says %d, brute force says %d", t, bit, ok);
    }
}

static void test_masks_match_brute_force(void **state)
{
    (void)state;
    sample_vocab *v = test_vocab_new(300);
    const char *gbnf =
        "root ::= \"{\" ws pair ( \",\" ws pair )* \"}\"\n"
        "pair ::= str ws \":\" ws val ws\n"
        "val ::= str | num | \"true\" | \"null\" | \"[\" ws ( val ( \",\" ws val )* )? \"]\"\n"
        "str ::= \"\\\"\" ( [^\"\\\\\\x00-\\x1f] | \"\\\\\" [\"\\\\n] )* \"\\\"\"\n"
        "num ::= \"-\"? [0-9]+ ( \".\" [0-9]+ )?\n"
        "ws ::= \" \"?\n";
    hearth_error err = {0};
    hearth_grammar *gr = sample_grammar_new(v, true, gbnf, NULL, &err);
    if (!gr) fail_msg("%s", err.message);
    /* walk a path and check the mask at every state along it */
    const char *path = "{\"name\": [1, -2.5, \"x\xc3\xa9\"], \"ok\":true}";
    int32_t st = gr->start;
    check_mask(gr, st, 0);
    for (const char *p = path; *p; p++) {
        st = gmatch_step(gr->m, st, (uint8_t)*p);
        assert_true(st >= 0);
        check_mask(gr, st, 0);
        check_mask(gr, st, 6);
    }
    assert_true(gmatch_done(gr->m, st));
    hearth_grammar_free(gr);
}

static void test_partial_utf8_tokens(void **state)
{
    (void)state;
    const char *pieces[] = {"", "\xc3", "\xa9", "\xc3\xa9", "a", "\xe4\xb8", "\xad"};
    uint8_t eog[] = {1, 0, 0, 0, 0, 0, 0};
    sample_vocab *v = sample_vocab_new(7, pieces, NULL, eog, NULL);
    hearth_error err = {0};
    hearth_grammar *gr = sample_grammar_new(v, true, "root ::= \"\\u00e9\"+\n", NULL, &err);
    assert_non_null(gr);
    const uint64_t *m = grammar_mask(gr, gr->start, 0, &err);
    assert_non_null(m);
    assert_int_equal(m[0] & 0x7f, (1u << 1) | (1u << 3)); /* "\xc3" and "é", not EOG, not "\xa9" */
    int32_t s = grammar_accept(gr, gr->start, 1);
    m = grammar_mask(gr, s, 0, &err);
    assert_int_equal(m[0] & 0x7f, 1u << 2); /* only the continuation byte */
    s = grammar_accept(gr, s, 2);
    m = grammar_mask(gr, s, 0, &err);
    assert_int_equal(m[0] & 0x7f, (1u << 0) | (1u << 1) | (1u << 3)); /* EOG now allowed */
    hearth_grammar_free(gr);
}

static void test_forbid_after_prefix(void **state)
{
    (void)state;
    /* the grammar wants "ab" then a character no token provides: a clean error, not a hang */
    const char *pieces[] = {"", "a", "b", "ab", "c", "d", "e", "f", "g", "h", "abc", "de"};
    uint8_t eog[12] = {1};
    sample_vocab *v = sample_vocab_new(12, pieces, NULL, eog, NULL);
    hearth_error err = {0};
    hearth_grammar *gr = sample_grammar_new(v, true, "root ::= \"ab\" \"\\u00e9\"\n", NULL, &err);
    assert_non_null(gr);
    hearth_sampler_params p = hearth_sampler_default_params();
    p.temperature = 1.5f;
    hearth_sampler *sm = sample_sampler_new_n(v->n_vocab, &p, &err);
    assert_int_equal(hearth_sampler_set_grammar(sm, gr, &err), HEARTH_OK);
    float *logits = calloc((size_t)v->n_vocab, sizeof *logits);
    hearth_token t;
    int steps = 0;
    while ((t = hearth_sampler_sample(sm, logits, NULL)) != HEARTH_TOKEN_NULL) assert_true(++steps <= 2);
    assert_true(steps >= 1);
    assert_non_null(strstr(hearth_sampler_error(sm), "no token of the vocabulary can continue"));
    /* a budget too small to finish the value is refused up front */
    hearth_sampler_reset(sm);
    hearth_grammar *g2 = sample_grammar_new(v, false, "root ::= \"abcdefgh\"\n", NULL, &err);
    assert_non_null(g2);
    hearth_sampler_set_grammar(sm, g2, &err);
    hearth_sampler_set_budget(sm, 3);
    assert_int_equal(hearth_sampler_sample(sm, logits, NULL), HEARTH_TOKEN_NULL);
    assert_non_null(strstr(hearth_sampler_error(sm), "cannot finish the value"));
    /* with enough budget, the sampler finishes and then reports the value complete */
    hearth_sampler_reset(sm);
    hearth_sampler_set_budget(sm, 9);
    char out[32] = {0};
    size_t n = 0;
    while (!hearth_sampler_grammar_done(sm)) {
        t = hearth_sampler_sample(sm, logits, NULL);
        assert_true(t > 0);
        int32_t len = sample_vocab_len(v, t);
        memcpy(out + n, v->bytes + v->off[t], (size_t)len);
        n += (size_t)len;
        assert_true(n < 16);
    }
    assert_string_equal(out, "abcdefgh");
    free(logits);
    hearth_sampler_free(sm);
    hearth_grammar_free(g2);
    hearth_grammar_free(gr);
}

/* Random mutations of valid grammars: each parses or fails with a message; the matcher runs on
 * whatever parses. Under ASan this is the hostile-input check for the parser. */
static void test_fuzz(void **state)
{
    (void)state;
    static const char *seeds[] = {
        "root ::= \"{\" ws ( str ws \":\" ws val ( \",\" ws str ws \":\" ws val )* )? \"}\"\n"
        "str ::= \"\\\"\" [^\"\\\\]* \"\\\"\"\nval ::= str | [0-9]+ | \"[\" ( val ( \",\" val )* )? \"]\"\nws ::= [ \\t\\n]*\n",
        "root ::= (\"a\" | [b-d]{2,4} | x?)+ # c\nx ::= \"\\u00e9\" . [^a-z]\n",
    };
    uint64_t rng = 99;
    char buf[512];
    int parsed = 0;
    for (int it = 0; it < 3000; it++) {
        const char *src = seeds[it % 2];
        size_t n = strlen(src);
        memcpy(buf, src, n + 1);
        int edits = 1 + (int)(tv_lcg(&rng) % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = tv_lcg(&rng) % n;
            uint32_t op = tv_lcg(&rng) % 3;
            static const char alphabet[] = "()[]{}|*+?\"\\:=-^.,#\n x09az\xc3\xa9";
            if (op == 0) buf[at] = alphabet[tv_lcg(&rng) % (sizeof alphabet - 1)];
            else if (op == 1 && n > 2) { memmove(buf + at, buf + at + 1, n - at); n--; }
            else if (n + 1 < sizeof buf) { memmove(buf + at + 1, buf + at, n - at + 1); buf[at] = alphabet[tv_lcg(&rng) % (sizeof alphabet - 1)]; n++; }
        }
        hearth_error err = {0};
        gram *g = gram_parse(buf, NULL, &err);
        if (!g) {
            assert_true(err.status != HEARTH_OK && err.message[0]);
            continue;
        }
        parsed++;
        gmatch *m = gmatch_new(g, &err);
        int32_t st = m ? gmatch_start(m, &err) : -1;
        st = gmatch_feed(m, st, "{\"a\": [1,2], \"b\":\"x\"}", 22);
        (void)st;
        gmatch_free(m);
        gram_free(g);
    }
    assert_true(parsed > 10);
}

int main(void)
{
    hearth_log_set(NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_basics),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_masks_match_brute_force),
        cmocka_unit_test(test_partial_utf8_tokens),
        cmocka_unit_test(test_forbid_after_prefix),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
