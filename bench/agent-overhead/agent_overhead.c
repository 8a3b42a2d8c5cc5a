/*
 * agent_overhead — orchestration cost per step of the agent run loop, model time excluded:
 * the scripted backend answers instantly, so what is timed is planning-JSON parsing, tool
 * dispatch (calc), journaling each step in SQLite, the audit log, events and confidence
 * scoring. Prints microseconds per step for: in-memory journal without audit, on-disk
 * journal (WAL) without audit, and on-disk journal with the hash-chained, fsync'd audit log.
 *   agent_overhead [RUNS] [STEPS_PER_RUN] [DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "base/base.h"

static char *make_script(int steps)
{
    json_t *r = json_array();
    for (int i = 0; i < steps; i++) {
        char plan[256];
        snprintf(plan, sizeof plan,
                 "{\"steps\":[{\"tool\":\"calc\",\"arguments\":{\"expression\":\"%d*3+1/7\"},\"purpose\":\"p\"}]}", i);
        json_array_append_new(r, json_pack("{s:s, s:[{s:s, s:f}]}", "role", "planner", "samples", "text", plan,
                                           "confidence", 0.9));
    }
    json_array_append_new(r, json_pack("{s:s, s:[{s:s}]}", "role", "planner", "samples", "text", "{\"final\":true}"));
    json_array_append_new(r, json_pack("{s:s, s:[{s:s, s:f}]}", "role", "answerer", "samples", "text", "1 [1]",
                                       "confidence", 0.95));
    json_t *root = json_pack("{s:o}", "responses", r);
    char *s = json_dumps(root, 0);
    json_decref(root);
    return s;
}

static double bench(const char *yaml, const char *script, int runs, int steps)
{
    agent_config *c;
    hearth_error err = {0};
    if (agent_config_parse(yaml, strlen(yaml), "bench.yaml", &c, &err)) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    double total = 0;
    for (int i = 0; i < runs; i++) {
        agent_backend b;
        agent_backend_scripted(script, &b, &err);
        agent_run_opts o = {.backend = &b};
        agent_run_result r;
        double t0 = hearth_time_sec();
        if (agent_run(c, "bench", &o, &r, &err)) {
            fprintf(stderr, "%s\n", err.message);
            exit(1);
        }
        total += hearth_time_sec() - t0;
        if (r.tool_calls != steps) fprintf(stderr, "warning: %d tool calls, expected %d\n", r.tool_calls, steps);
        agent_run_result_clear(&r);
        agent_backend_free(&b);
    }
    agent_config_free(c);
    /* a step = one planner round + its tool call; the answer round is counted as one more */
    return total / runs / (steps + 1) * 1e6;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 20, steps = argc > 2 ? atoi(argv[2]) : 20;
    const char *dir = argc > 3 ? argv[3] : "/tmp";
    char *script = make_script(steps);
    char yaml[1024];
    hearth_log_set_level(HEARTH_LOG_ERROR);
    snprintf(yaml, sizeof yaml, "tools: [calc]\nlimits: {max_steps: %d}\n", steps + 1);
    printf("in-memory journal, no audit:  %8.1f us/step\n", bench(yaml, script, runs, steps));
    snprintf(yaml, sizeof yaml, "tools: [calc]\nlimits: {max_steps: %d}\naudit: {state: %s/agent-bench-%d.db}\n", steps + 1,
             dir, (int)getpid());
    printf("SQLite journal (WAL), no audit: %6.1f us/step\n", bench(yaml, script, runs, steps));
    snprintf(yaml, sizeof yaml,
             "tools: [calc]\nlimits: {max_steps: %d}\naudit: {state: %s/agent-bench-%d.db, path: %s/agent-bench-%d.jsonl}\n",
             steps + 1, dir, (int)getpid(), dir, (int)getpid());
    printf("SQLite journal + audit (fsync): %6.1f us/step\n", bench(yaml, script, runs, steps));
    char path[512];
    const char *suffix[] = {".db", ".db-wal", ".db-shm", ".jsonl"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/agent-bench-%d%s", dir, (int)getpid(), suffix[i]);
        unlink(path);
    }
    free(script);
    return 0;
}
