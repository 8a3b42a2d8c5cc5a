/*
 * test_model_ref_quant.c — the Q4_0, Q4_K, Q5_K and Q6_K fixture models against llama.cpp and
 * the float64 reference (see model_ref.h for what is checked).
 */
#include "model_ref.h"

static void test_low_bit_models(void **state)
{
    (void)state;
    check_models(is_low_bit, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_low_bit_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
