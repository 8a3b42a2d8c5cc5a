/*
 * cmd_bench.c — `hearth bench`: prompt-processing and generation speed, like llama-bench,
 * with the memory-bandwidth bound that generation cannot beat.
 *
 * Generation reads every weight matrix once per token, so tokens/s <= bandwidth / bytes read
 * per token. The bandwidth is measured here, on this machine, with the same thread count.
 */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cuda/cuda.h"

static const char *const bench_help =
    "usage: hearth bench MODEL [options]\n"
    "\n"
    "Measures how fast MODEL runs on this machine, the way llama-bench does:\n"
    "  pp  prompt processing: one batch of -p tokens from an empty cache\n"
    "  tg  generation: -n single-token steps from an empty cache\n"
    "Each test runs once to warm up, then -r times; the mean and standard deviation\n"
    "are reported. Generation is bounded by memory bandwidth (every weight is read once per\n"
    "token): the bound and the fraction of it reached are printed too.\n"
    "\n"
    "options:\n"
    "  -p, --prompt N     prompt tokens for pp (default 512; 0 skips pp)\n"
    "  -n, --gen N        generated tokens for tg (default 128; 0 skips tg)\n"
    "  -t, --threads N    threads (default: physical cores)\n"
    "  -r, --reps N       repetitions (default 3)\n"
    "      --kv-type T    KV cache type: f16 (default) or f32\n"
    "      --gpu-layers N layers on the GPU in a CUDA build: a count, 'all' or 'auto' (default);\n"
    "                     fully offloaded, the bound uses the GPU's peak memory bandwidth\n"
    "      --no-mmap      read the model into (huge-page) memory instead of mapping it\n"
    "      --tokenize     measure the tokenizer instead: MB/s on a deterministic ~10 MB\n"
    "                     English + code corpus in ~4 KB pieces, one thread (MODEL may be a\n"
    "                     vocabulary-only GGUF)\n"
    "      --mb N         corpus size for --tokenize in MB (default 10)\n"
    "      --json         one JSON object: {\"model\",\"threads\",\"pp\":{\"n\",\"tps\"},\n"
    "                     \"tg\":{\"n\",\"tps\"},\"bound_tps\",...}\n"
    "  -h, --help         this text\n";

typedef struct {
    double mean, sd;
} stat2;

static stat2 stats(const double *v, int n)
{
    stat2 s = {0, 0};
    for (int i = 0; i < n; i++) s.mean += v[i];
    s.mean /= n;
    for (int i = 0; i < n; i++) s.sd += (v[i] - s.mean) * (v[i] - s.mean);
    s.sd = n > 1 ? sqrt(s.sd / (n - 1)) : 0;
    return s;
}

/* ---- memory bandwidth: threads summing disjoint slices of a buffer bigger than any cache -- */
typedef struct {
    const uint64_t *p;
    size_t n;
    uint64_t sum;
} bw_slice;

static void *bw_read(void *arg)
{
    bw_slice *s = arg;
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (size_t i = 0; i + 4 <= s->n; i += 4) {
        a += s->p[i];
        b += s->p[i + 1];
        c += s->p[i + 2];
        d += s->p[i + 3];
    }
    s->sum = a + b + c + d;
    return NULL;
}

static double measure_bandwidth(int threads)
{
    /* huge pages where the kernel offers them: the bound is what the memory can deliver, not
     * what 4 KB pages let through (weights read with --no-mmap get them too) */
    size_t bytes = (size_t)1 << 30, n = bytes / 8;
    uint64_t *buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) return 0;
    (void)madvise(buf, bytes, MADV_HUGEPAGE);
    for (size_t i = 0; i < n; i++) buf[i] = i;
    double best = 0;
    bw_slice slices[64];
    pthread_t tid[64];
    if (threads > 64) threads = 64;
    for (int rep = 0; rep < 4; rep++) {
        double t0 = cli_now();
        for (int t = 0; t < threads; t++) {
            slices[t] = (bw_slice){buf + n / threads * t, n / threads, 0};
            pthread_create(&tid[t], NULL, bw_read, &slices[t]);
        }
        uint64_t sink = 0;
        for (int t = 0; t < threads; t++) {
            pthread_join(tid[t], NULL);
            sink += slices[t].sum;
        }
        double gbs = bytes / (cli_now() - t0) / 1e9;
        if (gbs > best && sink != 1) best = gbs;
    }
    munmap(buf, bytes);
    return best;
}

/* ---- one timed pass --------------------------------------------------------------------- */
static int run_pass(hearth_context *ctx, const hearth_token *toks, int n, bool one_by_one,
                    double *tps, hearth_error *err)
{
    hearth_kv_clear(ctx);
    double t0 = cli_now();
    int step = one_by_one ? 1 : n;
    for (int i = 0; i < n; i += step) {
        hearth_batch b = {.n_tokens = step, .tokens = toks + i};
        if (hearth_decode(ctx, &b, err) != HEARTH_OK) return 1;
    }
    *tps = n / (cli_now() - t0);
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"prompt", required_argument, 0, 'p'}, {"gen", required_argument, 0, 'n'},
        {"threads", required_argument, 0, 't'}, {"reps", required_argument, 0, 'r'},
        {"kv-type", required_argument, 0, 'k'}, {"json", no_argument, 0, 'j'},
        {"gpu-layers", required_argument, 0, 'g'}, {"tokenize", no_argument, 0, 'T'},
        {"mb", required_argument, 0, 'M'}, {"no-mmap", no_argument, 0, 'm'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    long pp = 512, tg = 128, threads = 0, reps = 3;
    bool json = false, tokenize = false;
    double corpus_mb = 10;
    hearth_kv_type kv = HEARTH_KV_F16;
    hearth_model_params mp = hearth_model_default_params();
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:n:t:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': if (!cli_parse_long("bench", "--prompt", optarg, 0, 1 << 20, &pp)) return 2; break;
        case 'n': if (!cli_parse_long("bench", "--gen", optarg, 0, 1 << 20, &tg)) return 2; break;
        case 't': if (!cli_parse_long("bench", "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case 'r': if (!cli_parse_long("bench", "--reps", optarg, 1, 1000, &reps)) return 2; break;
        case 'k':
            if (!strcmp(optarg, "f16")) kv = HEARTH_KV_F16;
            else if (!strcmp(optarg, "f32")) kv = HEARTH_KV_F32;
            else return cli_usage_error("bench", "--kv-type must be f16 or f32, got '%s'", optarg);
            break;
        case 'j': json = true; break;
        case 'm': mp.use_mmap = false; break;
        case 'T': tokenize = true; break;
        case 'M': if (!cli_parse_float("bench", "--mb", optarg, 0.001, 1024, &corpus_mb)) return 2; break;
        case 'g': if (!cli_parse_gpu_layers("bench", optarg, &mp.n_gpu_layers)) return 2; break;
        case 'h': fputs(bench_help, stdout); return 0;
        default: return cli_usage_error("bench", "unknown option");
        }
    }
    if (optind != argc - 1) return cli_usage_error("bench", "expected one MODEL argument");
    const char *path = argv[optind];
    if (tokenize) return cli_bench_tokenize(path, corpus_mb, (int)reps, json);

    hearth_error err = {0};
    hearth_model *model = hearth_model_load(path, &mp, &err);
    if (!model) return cli_fail("bench", "%s", err.message);
    hearth_model_info info;
    hearth_model_get_info(model, &info);
    hearth_context_params cp = hearth_context_default_params();
    cp.n_ctx = (int32_t)(pp > tg ? pp : tg) + 16;
    cp.n_batch = pp > 0 ? (int32_t)pp : 1;
    cp.n_threads = (int32_t)threads;
    cp.kv_type = kv;
    hearth_context *ctx = hearth_context_new(model, &cp, &err);
    if (!ctx) {
        hearth_model_free(model);
        return cli_fail("bench", "%s", err.message);
    }
    int n_threads = threads ? (int)threads : hearth_default_threads();

    long n = pp > tg ? pp : tg;
    hearth_token *toks = malloc(sizeof *toks * (size_t)(n ? n : 1));
    uint32_t s = 12345;
    for (long i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        toks[i] = (hearth_token)((s >> 8) % (uint32_t)info.n_vocab);
    }
    double *pps = calloc((size_t)reps, sizeof *pps), *tgs = calloc((size_t)reps, sizeof *tgs);
    int rc = 0;
    for (long r = -1; r < reps && !rc; r++) { /* r = -1 warms caches and page mappings */
        double v = 0; /* run_pass leaves it unset when a decode fails */
        if (pp > 0) {
            rc |= run_pass(ctx, toks, (int)pp, false, &v, &err);
            if (r >= 0) pps[r] = v;
        }
        if (tg > 0 && !rc) {
            rc |= run_pass(ctx, toks, (int)tg, true, &v, &err);
            if (r >= 0) tgs[r] = v;
        }
        if (!json && cli_stderr_is_tty()) fprintf(stderr, "\rbench: pass %ld/%ld", r + 2, reps + 1);
    }
    if (!json && cli_stderr_is_tty()) fputc('\n', stderr);
    if (rc) {
        cli_fail("bench", "%s", err.message);
    } else {
        stat2 p = stats(pps, (int)reps), t = stats(tgs, (int)reps);
        /* all layers on the GPU: every weight byte comes from device memory */
        int gpu_layers = hearth_gpu_model_layers(model);
        hearth_gpu_device dev = {0};
        if (gpu_layers > 0) (void)hearth_gpu_device_get(0, &dev, NULL);
        bool on_gpu = gpu_layers > 0 && gpu_layers == hearth_model_n_layer(model) && dev.bandwidth_gbs > 0;
        double bw = tg <= 0 ? 0 : on_gpu ? dev.bandwidth_gbs : measure_bandwidth(n_threads);
        double bytes = (double)info.weight_bytes_per_token;
        double bound = bytes > 0 ? bw * 1e9 / bytes : 0;
        if (json) {
            json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:i, s:s}", "model", path, "arch", info.arch,
                                  "type", info.file_type, "params", (json_int_t)info.n_params,
                                  "threads", n_threads, "kernels", hearth_cpu_kernels());
            json_object_set_new(o, "mmap", json_boolean(mp.use_mmap));
            json_object_set_new(o, "gpu_layers", json_integer(gpu_layers));
            if (gpu_layers > 0) json_object_set_new(o, "device", json_string(dev.name));
            if (pp > 0) json_object_set_new(o, "pp", json_pack("{s:I, s:f, s:f}", "n", (json_int_t)pp, "tps", p.mean, "stddev", p.sd));
            if (tg > 0) {
                json_object_set_new(o, "tg", json_pack("{s:I, s:f, s:f}", "n", (json_int_t)tg, "tps", t.mean, "stddev", t.sd));
                json_object_set_new(o, "bandwidth_gbs", json_real(bw));
                json_object_set_new(o, "bytes_per_token", json_integer((json_int_t)bytes));
                json_object_set_new(o, "bound_tps", json_real(bound));
                json_object_set_new(o, "bound_fraction", json_real(bound > 0 ? t.mean / bound : 0));
            }
            char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
            puts(text);
            free(text);
            json_decref(o);
        } else {
            printf("model    %s (%s, %s, %.2fB params, %.0f MiB)\n", path, info.arch, info.file_type,
                   info.n_params / 1e9, info.file_size / 1048576.0);
            printf("threads  %d, kernels %s, weights %s\n", n_threads, hearth_cpu_kernels(),
                   mp.use_mmap ? "mmapped" : "read into memory (--no-mmap)");
            if (gpu_layers > 0) printf("gpu      %d of %d layers on %s\n", gpu_layers, hearth_model_n_layer(model), dev.name);
            printf("%-8s %12s %10s\n", "test", "tokens/s", "stddev");
            if (pp > 0) printf("pp%-6ld %12.2f %10.2f\n", pp, p.mean, p.sd);
            if (tg > 0) printf("tg%-6ld %12.2f %10.2f\n", tg, t.mean, t.sd);
            if (tg > 0 && bound > 0)
                printf("bound    tg <= %.1f tokens/s (%.1f GB/s / %.1f MB per token): %.0f%% reached\n",
                       bound, bw, bytes / 1e6, 100 * t.mean / bound);
        }
    }
    free(pps);
    free(tgs);
    free(toks);
    hearth_context_free(ctx);
    hearth_model_free(model);
    return rc;
}
