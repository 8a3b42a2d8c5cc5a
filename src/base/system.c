/* system.c — facts about the machine: monotonic time, core counts. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"

double hearth_time_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Physical cores, not hyper-threads: two threads on one core fight over the same FMA units
 * and memory port, which slows decode. Reads sysfs topology; falls back to online CPUs. */
int hearth_physical_cores(void)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online < 1) online = 1;
    int seen_ids[1024];
    int n_seen = 0;
    for (long cpu = 0; cpu < online && cpu < 1024; cpu++) {
        char path[128];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%ld/topology/core_id", cpu);
        FILE *f = fopen(path, "r");
        if (!f) return (int)online;
        int core = -1, pkg = 0;
        if (fscanf(f, "%d", &core) != 1) core = -1;
        fclose(f);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%ld/topology/physical_package_id", cpu);
        f = fopen(path, "r");
        if (f) {
            if (fscanf(f, "%d", &pkg) != 1) pkg = 0;
            fclose(f);
        }
        if (core < 0) return (int)online;
        int id = pkg * 4096 + core, dup = 0;
        for (int i = 0; i < n_seen; i++) dup |= seen_ids[i] == id;
        if (!dup) seen_ids[n_seen++] = id;
    }
    return n_seen > 0 ? n_seen : (int)online;
}

int32_t hearth_default_threads(void) { return hearth_physical_cores(); }
