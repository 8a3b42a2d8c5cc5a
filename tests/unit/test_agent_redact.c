/* test_agent_redact.c — redaction true positives, false positives (checksums decide), stable
 * placeholders, and restoring the originals. */
#include "testutil.h"

#include "agent/agent.h"

static char *redact_all(const char *text)
{
    agent_redactor *r = agent_redactor_new(REDACT_ALL, NULL);
    assert_non_null(r);
    char *out = agent_redact(r, text);
    agent_redactor_free(r);
    assert_non_null(out);
    return out;
}

static void redacts(const char *text, const char *value, const char *placeholder)
{
    char *out = redact_all(text);
    if (strstr(out, value)) fail_msg("'%s' still contains '%s': %s", text, value, out);
    if (!strstr(out, placeholder)) fail_msg("'%s' -> '%s' lacks %s", text, out, placeholder);
    free(out);
}

static void keeps(const char *text)
{
    char *out = redact_all(text);
    if (strcmp(out, text)) fail_msg("false positive: '%s' -> '%s'", text, out);
    free(out);
}

static void test_true_positives(void **state)
{
    (void)state;
    redacts("mail anna.schmidt+work@example.co.uk today", "anna.schmidt", "[EMAIL_1]");
    redacts("call +49 30 1234 5678 now", "1234 5678", "[PHONE_1]");
    redacts("call (555) 123-4567 now", "123-4567", "[PHONE_1]");
    redacts("call 555-123-4567 now", "555-123-4567", "[PHONE_1]");
    redacts("IBAN DE89 3704 0044 0532 0130 00 please", "3704 0044", "[IBAN_1]");
    redacts("IBAN GB82WEST12345698765432.", "GB82WEST12345698765432", "[IBAN_1]");
    redacts("card 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111", "[CARD_1]");
    redacts("card 5500-0000-0000-0004", "5500-0000-0000-0004", "[CARD_1]");
    redacts("host 192.168.10.23 down", "192.168.10.23", "[IP_1]");
    redacts("v6 2001:db8::8a2e:370:7334 up", "2001:db8::8a2e:370:7334", "[IP_1]");
    redacts("key sk-proj-abcdefghijklmnop1234 here", "sk-proj-abcdefghijklmnop1234", "[SECRET_1]");
    redacts("token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "ghp_aBcD", "[SECRET_1]");
    redacts("aws AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "[SECRET_1]");
    redacts("x-api-key: Zx8qP2mL9vR4tY7wK1nB5cD3 ok", "Zx8qP2mL9vR4tY7wK1nB5cD3", "[SECRET_1]");
}

static void test_false_positives(void **state)
{
    (void)state;
    keeps("order 4111 1111 1111 1112 shipped");          /* fails Luhn */
    keeps("IBAN DE89 3704 0044 0532 0130 01 is a typo");   /* fails mod-97 */
    keeps("version 1.2.3.4.5 and 300.1.1.1");             /* not IPv4 */
    keeps("meeting on 2024-01-15 at 10:30");               /* date, time */
    keeps("the ratio is 3:2 and 12:30:45");                /* not IPv6 */
    keeps("see /usr/share/doc/libjansson-dev/changelog");  /* path, low entropy */
    keeps("internationalization_and_localization_matter"); /* long word */
    keeps("user@localhost has no domain");
    keeps("total 1234567 units");
    keeps("");
}

static void test_placeholders_stable_and_restored(void **state)
{
    (void)state;
    agent_strlist terms = {(char *[]){"Project Falcon"}, 1};
    agent_redactor *r = agent_redactor_new(REDACT_ALL, &terms);
    const char *text = "a@x.io wrote to b@y.io; a@x.io leads project falcon (card 4111111111111111)";
    char *red = agent_redact(r, text);
    assert_string_equal(red, "[EMAIL_1] wrote to [EMAIL_2]; [EMAIL_1] leads [TERM_1] (card [CARD_1])");
    unsigned found = agent_redactor_found(r);
    assert_true(found & REDACT_EMAIL);
    assert_true(found & REDACT_TERM);
    assert_true(found & REDACT_CARD);
    assert_false(found & REDACT_IBAN);
    char *again = agent_redact(r, "reply to b@y.io");
    assert_string_equal(again, "reply to [EMAIL_2]");
    char *back = agent_unredact(r, "[EMAIL_1] should pay with [CARD_1]; [EMAIL_9] is unknown");
    assert_string_equal(back, "a@x.io should pay with 4111111111111111; [EMAIL_9] is unknown");
    free(red);
    free(again);
    free(back);
    agent_redactor_free(r);

    /* Only the configured classes are redacted. */
    r = agent_redactor_new(REDACT_EMAIL, NULL);
    red = agent_redact(r, "a@x.io at 10.0.0.1");
    assert_string_equal(red, "[EMAIL_1] at 10.0.0.1");
    free(red);
    agent_redactor_free(r);
    assert_int_equal(agent_detect_classes("ip 10.0.0.1, mail a@b.cd", NULL), REDACT_IP | REDACT_EMAIL);
}

static void test_checksums(void **state)
{
    (void)state;
    assert_true(agent_luhn_ok("79927398713", 11) == false); /* 11 digits: too short for a card */
    assert_true(agent_luhn_ok("4012888888881881", 16));
    assert_false(agent_luhn_ok("4012888888881882", 16));
    assert_true(agent_iban_ok("FR1420041010050500013M02606", 27));
    assert_false(agent_iban_ok("FR1420041010050500013M02607", 27));
    assert_false(agent_iban_ok("DE89", 4));
    unsigned c;
    assert_true(agent_redact_class_parse("iban", &c) && c == REDACT_IBAN);
    assert_false(agent_redact_class_parse("ssn", &c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_true_positives),
        cmocka_unit_test(test_false_positives),
        cmocka_unit_test(test_placeholders_stable_and_restored),
        cmocka_unit_test(test_checksums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
