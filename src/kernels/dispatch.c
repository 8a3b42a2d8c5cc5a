/*
 * dispatch.c — builds the kernel table of each level once, picks the level this CPU runs
 * (or the one HEARTH_CPU forces), and the reference weight quantizer entry point.
 */
#include <cpuid.h>
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>

#include "base/base.h"
#include "kernels/kernels_impl.h"

static hearth_kernels tables[HEARTH_CPU_LEVELS];
static bool level_ok[HEARTH_CPU_LEVELS];
static const hearth_kernels *selected;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* CPU features straight from CPUID (compilers disagree on which names
 * __builtin_cpu_supports knows). A level also needs the OS to save its registers (XCR0). */
typedef struct cpu_features {
    bool avx2, avx512, avx512bf16, amx;
} cpu_features;

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static cpu_features detect_cpu(void)
{
    cpu_features f = {false, false, false, false};
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
    bool f16c = c & (1u << 29);
    if (!osxsave || !avx) return f;
    uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return f; /* SSE and AVX state */
    if (__get_cpuid_max(0, NULL) < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = (b & (1u << 5)) && fma && f16c;
    bool avx512f = b & (1u << 16), dq = b & (1u << 17), bw = b & (1u << 30);
    bool vl = b & (1u << 31), vnni = c & (1u << 11);
    f.avx512 = f.avx2 && avx512f && dq && bw && vl && vnni && (xcr0 & 0xe0) == 0xe0;
    /* AMX-TILE and AMX-INT8, tile state enabled by the OS (XCR0 bits 17, 18) */
    f.amx = f.avx512 && (d & (1u << 24)) && (d & (1u << 25)) && (xcr0 & 0x60000) == 0x60000;
    __cpuid_count(7, 1, a, b, c, d);
    f.avx512bf16 = f.avx512 && (a & (1u << 5));
    return f;
}

static hearth_cpu_level level_from_env(hearth_cpu_level best)
{
    const char *env = getenv("HEARTH_CPU");
    if (!env || !*env) return best;
    static const char *const names[HEARTH_CPU_LEVELS] = {"scalar", "avx2", "avx512", "amx"};
    for (int l = 0; l < HEARTH_CPU_LEVELS; l++) {
        if (strcasecmp(env, names[l]) != 0) continue;
        if (level_ok[l]) return (hearth_cpu_level)l;
        hearth_warn("HEARTH_CPU=%s: this CPU cannot run that level; using %s", env,
                    names[best]);
        return best;
    }
    hearth_warn("HEARTH_CPU=%s: expected scalar, avx2, avx512 or amx; using %s", env, names[best]);
    return best;
}

static void init_tables(void)
{
    hearth_kernels *s = &tables[HEARTH_CPU_SCALAR];
    s->name = "scalar";
    s->level = HEARTH_CPU_SCALAR;
    hearth_kernels_fill_float(s);
    hearth_kernels_fill_legacy(s);
    hearth_kernels_fill_kquant(s);
    hearth_kernels_fill_vec(&s->vec);
    level_ok[HEARTH_CPU_SCALAR] = true;
    hearth_cpu_level best = HEARTH_CPU_SCALAR;

    cpu_features cpu = detect_cpu();
    if (cpu.avx2) {
        hearth_kernels *a = &tables[HEARTH_CPU_AVX2];
        *a = *s;
        a->name = "avx2";
        a->level = HEARTH_CPU_AVX2;
        hearth_kernels_fill_avx2(a);
        level_ok[HEARTH_CPU_AVX2] = true;
        best = HEARTH_CPU_AVX2;
    }
    if (cpu.avx512) {
        hearth_kernels *a = &tables[HEARTH_CPU_AVX512];
        *a = tables[HEARTH_CPU_AVX2]; /* inherits the AVX2 kernels it does not replace */
        a->name = "avx512";
        a->level = HEARTH_CPU_AVX512;
        hearth_kernels_fill_avx512(a, cpu.avx512bf16);
        level_ok[HEARTH_CPU_AVX512] = true;
        best = HEARTH_CPU_AVX512;
    }
    if (cpu.amx && hearth_amx_enable()) {
        hearth_kernels *a = &tables[HEARTH_CPU_AMX];
        *a = tables[HEARTH_CPU_AVX512];
        a->name = "amx";
        a->level = HEARTH_CPU_AMX;
        hearth_amx_fill_gemm(a);
        level_ok[HEARTH_CPU_AMX] = true;
        best = HEARTH_CPU_AMX;
    }
    selected = &tables[level_from_env(best)];
}

const hearth_kernels *hearth_kernels_get(void)
{
    pthread_once(&init_once, init_tables);
    return selected;
}

const hearth_kernels *hearth_kernels_at(hearth_cpu_level level)
{
    pthread_once(&init_once, init_tables);
    if ((int)level < 0 || level >= HEARTH_CPU_LEVELS || !level_ok[level]) return NULL;
    return &tables[level];
}

const char *hearth_cpu_kernels(void) { return hearth_kernels_get()->name; }

bool hearth_type_supported(hearth_type t)
{
    const hearth_kernels *k = hearth_kernels_at(HEARTH_CPU_SCALAR);
    return (int)t >= 0 && t < HEARTH_TYPE_COUNT && k->to_float[t] && k->vec_dot[t];
}

size_t hearth_quantize(hearth_type t, const float *src, void *dst, int64_t n_rows,
                       int64_t n_per_row)
{
    void (*row_fn)(const float *, void *, int64_t) = NULL;
    switch (t) {
    case HEARTH_TYPE_Q4_0: row_fn = hearth_quantize_row_q4_0; break;
    case HEARTH_TYPE_Q4_1: row_fn = hearth_quantize_row_q4_1; break;
    case HEARTH_TYPE_Q5_0: row_fn = hearth_quantize_row_q5_0; break;
    case HEARTH_TYPE_Q5_1: row_fn = hearth_quantize_row_q5_1; break;
    case HEARTH_TYPE_Q8_0: row_fn = hearth_quantize_row_q8_0; break;
    case HEARTH_TYPE_Q2_K: row_fn = hearth_quantize_row_q2_K; break;
    case HEARTH_TYPE_Q3_K: row_fn = hearth_quantize_row_q3_K; break;
    case HEARTH_TYPE_Q4_K: row_fn = hearth_quantize_row_q4_K; break;
    case HEARTH_TYPE_Q5_K: row_fn = hearth_quantize_row_q5_K; break;
    case HEARTH_TYPE_Q6_K: row_fn = hearth_quantize_row_q6_K; break;
    case HEARTH_TYPE_F32:
    case HEARTH_TYPE_F16:
    case HEARTH_TYPE_BF16: row_fn = hearth_kernels_at(HEARTH_CPU_SCALAR)->from_float[t]; break;
    default: return 0;
    }
    size_t row_bytes = hearth_row_size(t, n_per_row), total;
    if (n_rows < 0 || n_per_row <= 0 || row_bytes == 0 ||
        !hearth_size_mul(row_bytes, (size_t)n_rows, &total))
        return 0;
    for (int64_t r = 0; r < n_rows; r++)
        row_fn(src + r * n_per_row, (uint8_t *)dst + (size_t)r * row_bytes, n_per_row);
    return total;
}
