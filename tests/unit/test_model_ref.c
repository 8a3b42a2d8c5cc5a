/*
 * test_model_ref.c — the F32, F16, BF16 and Q8_0 fixture models against llama.cpp and the
 * float64 reference (see model_ref.h for what is checked).
 */
#include "model_ref.h"

static bool float_or_q8(const char *name) { return !is_low_bit(name); }

static void test_float_and_q8_models(void **state)
{
    (void)state;
    check_models(float_or_q8, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_and_q8_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
