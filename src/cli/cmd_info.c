/* cmd_info.c — `hearth info`: the build (version, CPU kernels, backends) and the devices found. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cuda/cuda.h"

static const char *const info_help =
    "usage: hearth info [--json]\n"
    "\n"
    "Says what this hearth binary can run on: its version, the CPU kernel level picked for\n"
    "this processor, the backends built in (cpu always; cuda when built with `make CUDA=1`),\n"
    "and the GPUs found, with their memory and peak memory bandwidth. When a CUDA build finds\n"
    "no usable GPU it says why, and models run on the CPU.\n"
    "\n"
    "options:\n"
    "  --json    one JSON object: {\"version\",\"cpu_kernels\",\"backends\":[...],\n"
    "            \"cuda\":{\"built\",\"devices\":[{\"name\",\"compute\",\"free_mib\",\"total_mib\",\n"
    "            \"bandwidth_gbs\"}],\"reason\"}}\n"
    "  --help    this text\n"
    "\n"
    "The default number of layers put on a GPU is automatic (as many as fit); set\n"
    "HEARTH_GPU_LAYERS (a count, 'all' or 'auto') or pass --gpu-layers to run/bench/eval.\n"
    "\n"
    "exit status: 0 on success, 2 on a usage error.\n";

int cmd_info(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(info_help, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else {
            return cli_usage_error("info", "unknown argument '%s'", argv[i]);
        }
    }
    char why[256];
    bool built = hearth_gpu_built();
    hearth_log_set_level(HEARTH_LOG_ERROR); /* the probe's fallback warning: printed below instead */
    int n = hearth_gpu_probe(why, sizeof why);
    json_t *devs = json_array();
    for (int i = 0; i < n; i++) {
        hearth_gpu_device d;
        hearth_error err = {0};
        if (hearth_gpu_device_get(i, &d, &err)) {
            json_array_append_new(devs, json_pack("{s:i, s:s}", "index", i, "error", err.message));
            continue;
        }
        char cc[16];
        snprintf(cc, sizeof cc, "%d.%d", d.cc_major, d.cc_minor);
        json_array_append_new(devs, json_pack("{s:i, s:s, s:s, s:I, s:I, s:f}", "index", i, "name", d.name,
                                              "compute", cc, "free_mib", (json_int_t)(d.free_bytes >> 20),
                                              "total_mib", (json_int_t)(d.total_bytes >> 20), "bandwidth_gbs",
                                              d.bandwidth_gbs));
    }
    if (json) {
        json_t *cuda = json_pack("{s:b, s:O}", "built", built, "devices", devs);
        if (!n) json_object_set_new(cuda, "reason", json_string(why));
        json_t *o = json_pack("{s:s, s:s, s:[s], s:o}", "version", hearth_version(), "cpu_kernels",
                              hearth_cpu_kernels(), "backends", "cpu", "cuda", cuda);
        if (built) json_array_append_new(json_object_get(o, "backends"), json_string("cuda"));
        char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
        puts(text);
        free(text);
        json_decref(o);
    } else {
        printf("hearth    %s\n", hearth_version());
        printf("cpu       kernels %s\n", hearth_cpu_kernels());
        printf("backends  cpu%s\n", built ? ", cuda" : "");
        if (!n) printf("gpu       none (%s)\n", why);
        size_t i;
        json_t *d;
        json_array_foreach(devs, i, d) {
            if (json_object_get(d, "error")) {
                printf("gpu %zu     error: %s\n", i, json_string_value(json_object_get(d, "error")));
                continue;
            }
            printf("gpu %zu     %s, compute %s, %lld MiB free of %lld MiB, %.0f GB/s peak\n", i,
                   json_string_value(json_object_get(d, "name")), json_string_value(json_object_get(d, "compute")),
                   (long long)json_integer_value(json_object_get(d, "free_mib")),
                   (long long)json_integer_value(json_object_get(d, "total_mib")),
                   json_real_value(json_object_get(d, "bandwidth_gbs")));
        }
    }
    json_decref(devs);
    return 0;
}
