/*
 * cmd_agent.c — `hearth agent`: run an agent on a task, streaming a readable trace (or JSON
 * events), and manage durable runs (list, resume, replay) and workflows.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *agent_help =
    "usage: hearth agent run AGENT.yaml TASK [options]\n"
    "       hearth agent workflow WORKFLOW.yaml [INPUT] [options]\n"
    "       hearth agent resume RUN [--approve] [options]\n"
    "       hearth agent replay RUN --from STEP [options]\n"
    "       hearth agent runs [RUN] [--json] [--state FILE]\n"
    "\n"
    "run       Runs the agent defined in AGENT.yaml on TASK. The planner model proposes tool\n"
    "          calls as JSON, hearth executes them (sandboxed, audited), the answerer writes\n"
    "          an answer citing the observations as [n], and the answer's confidence decides:\n"
    "          accept, retry with more samples, try the fallback model, escalate to the\n"
    "          remote model when the agent's escalation policy allows (redacted, audited), or\n"
    "          return the best local answer marked low-confidence. The trace streams to\n"
    "          standard output as it happens; the answer is printed last.\n"
    "workflow  Runs a workflow graph (nodes: llm, tool, retrieve, branch, approval, agent);\n"
    "          an approval node pauses the run until `hearth agent resume RUN --approve`.\n"
    "resume    Continues a run that was interrupted (killed, crashed, or waiting for\n"
    "          approval). Completed model and tool steps come from the run journal and are\n"
    "          never repeated.\n"
    "replay    Starts a new run of RUN's task that reuses RUN's journaled steps before STEP\n"
    "          and executes everything from STEP on again (see `hearth agent runs RUN`).\n"
    "runs      Lists the runs in the journal, or one run's steps.\n"
    "\n"
    "options:\n"
    "  --script FILE  use the scripted model backend: deterministic answers from FILE\n"
    "                 ({\"responses\": [{\"role\": \"planner\", \"samples\": [{\"text\": ...,\n"
    "                 \"confidence\": 0.9}]}, ...]}); for tests and demos. Without it the local\n"
    "                 models named in AGENT.yaml run through the engine.\n"
    "  --json         one JSON event per line (start, plan, tool, observation, answer,\n"
    "                 decision, escalation, span, final) instead of the readable trace\n"
    "  --offline      never use the network, even if an escalation policy would allow it\n"
    "  --state FILE   run journal (SQLite); default: the agent's audit.state, else\n"
    "                 $HEARTH_STATE, else ~/.hearth/runs.db\n"
    "  --approve      (resume) approve the pending approval node of a workflow run\n"
    "  --from STEP    (replay) first journal step to execute again\n"
    "  --help         this text\n"
    "\n"
    "exit status: 0 when an answer was produced (also when marked low-confidence: see the\n"
    "decision), 1 on an error (bad agent file, model failure, run not found), 2 on a usage\n"
    "error, 3 when a workflow is waiting for approval.\n"
    "\n"
    "examples:\n"
    "  hearth agent run agent.yaml \"What do 3 licences at 19.99 cost in total?\"\n"
    "  hearth agent run agent.yaml \"Summarize ticket 7\" --json --offline\n"
    "  hearth agent runs\n"
    "  hearth agent resume r1764115200123abc01\n"
    "  hearth agent replay r1764115200123abc01 --from 3\n";

typedef struct agent_cli {
    const char *sub, *spec, *task, *script, *state, *run_id;
    long from;
    bool from_set, json, offline, approve;
} agent_cli;

static int parse(int argc, char **argv, agent_cli *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool valued = !strcmp(a, "--script") || !strcmp(a, "--state") || !strcmp(a, "--from");
        if (valued && i + 1 >= argc) return cli_usage_error("agent", "%s needs a value", a);
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(agent_help, stdout);
            return -1;
        } else if (!strcmp(a, "--script")) {
            o->script = argv[++i];
        } else if (!strcmp(a, "--state")) {
            o->state = argv[++i];
        } else if (!strcmp(a, "--from")) {
            if (!cli_parse_long("agent", a, argv[++i], 0, 1L << 40, &o->from)) return 2;
            o->from_set = true;
        } else if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (!strcmp(a, "--offline")) {
            o->offline = true;
        } else if (!strcmp(a, "--approve")) {
            o->approve = true;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("agent", "unknown option '%s'", a);
        } else if (!o->sub) {
            o->sub = a;
        } else if (!o->spec) {
            o->spec = a;
        } else if (!o->task) {
            o->task = a;
        } else {
            return cli_usage_error("agent", "unexpected argument '%s' (quote the task)", a);
        }
    }
    if (!o->sub) return cli_usage_error("agent", "missing subcommand (run, workflow, resume, replay, runs)");
    return 0;
}

static const char *default_state(void)
{
    static char buf[4096];
    return hearth_agent_default_state(buf, sizeof buf) ? buf : "hearth-runs.db";
}

/* ------------------------------------------------------------------ the readable trace */

static double num(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }
static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void print_short(const char *prefix, const char *text, int max)
{
    int n = (int)strcspn(text, "\n");
    printf("%s%.*s%s\n", prefix, n < max ? n : max, text, (n > max || text[n]) ? " ..." : "");
}

static void print_event(const agent_cli *o, json_t *ev);

static void on_event(const char *event_json, void *user)
{
    const agent_cli *o = user;
    if (o->json) {
        puts(event_json);
        fflush(stdout);
        return;
    }
    json_t *ev = json_loads(event_json, JSON_ALLOW_NUL, NULL);
    if (ev) print_event(o, ev);
    json_decref(ev);
}

static void print_event(const agent_cli *o, json_t *ev)
{
    (void)o;
    const char *t = str(ev, "type");
    if (!strcmp(t, "start")) {
        printf("run %s: %s%s%s\n", str(ev, "run_id"), str(ev, "agent"), str(ev, "workflow"),
               json_is_true(json_object_get(ev, "resumed")) ? " (resumed)" : "");
        print_short("  task: ", str(ev, "task"), 200);
    } else if (!strcmp(t, "plan")) {
        if (json_object_get(ev, "final")) printf("  plan: done, ready to answer\n");
        else printf("  plan: %zu step(s)\n", json_array_size(json_object_get(ev, "steps")));
    } else if (!strcmp(t, "tool")) {
        char *args = json_dumps(json_object_get(ev, "arguments"), JSON_COMPACT | JSON_SORT_KEYS);
        printf("  tool %s %s%s%s\n", str(ev, "tool"), args ? args : "{}", *str(ev, "purpose") ? "  # " : "",
               str(ev, "purpose"));
        free(args);
    } else if (!strcmp(t, "observation")) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "    [%lld] %s ", (long long)json_integer_value(json_object_get(ev, "id")),
                 json_is_true(json_object_get(ev, "ok")) ? "->" : "!!");
        print_short(prefix, str(ev, "text"), 160);
    } else if (!strcmp(t, "answer")) {
        json_t *c = json_object_get(ev, "confidence");
        printf("  answer (%s, %lld sample(s)): confidence %.2f [generation %.2f", str(ev, "role"),
               (long long)json_integer_value(json_object_get(ev, "samples")), num(c, "score"), num(c, "generation"));
        const char *parts[] = {"consistency", "support", "citations"};
        for (int i = 0; i < 3; i++)
            if (num(c, parts[i]) >= 0) printf(", %s %.2f", parts[i], num(c, parts[i]));
        printf("]\n");
        print_short("    ", str(ev, "text"), 160);
    } else if (!strcmp(t, "decision")) {
        printf("  decision: %s (%s)\n", str(ev, "decision"), str(ev, "reason"));
    } else if (!strcmp(t, "escalation")) {
        printf("  escalation: %s under %s; redacted: %s\n", json_is_true(json_object_get(ev, "ok")) ? "sent" : "failed",
               str(ev, "rule"), *str(ev, "redacted_classes") ? str(ev, "redacted_classes") : "nothing");
    } else if (!strcmp(t, "node")) {
        json_t *v = json_object_get(ev, "value");
        char *text = json_is_string(v) ? strdup(json_string_value(v)) : v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        char prefix[160];
        snprintf(prefix, sizeof prefix, "  node %s (%s)%s%s%s", str(ev, "node"), str(ev, "kind"),
                 *str(ev, "reason") ? ": " : "", str(ev, "reason"), text ? " -> " : "");
        print_short(prefix, text ? text : "", 160);
        free(text);
    } else if (!strcmp(t, "approval")) {
        printf("  approval needed at %s: %s\n", str(ev, "node"), str(ev, "message"));
    } else if (!strcmp(t, "final")) {
        printf("answer (%s, confidence %.2f%s):\n%s\n", str(ev, "decision"), num(ev, "confidence"),
               json_is_true(json_object_get(ev, "low_confidence")) ? ", LOW CONFIDENCE" : "", str(ev, "answer"));
    }
    fflush(stdout);
}

/* ------------------------------------------------------------------ subcommands */

static hearth_agent *load(const agent_cli *o, const char *spec, bool workflow)
{
    hearth_error err = {0};
    hearth_agent_params p = hearth_agent_default_params();
    p.state_path = o->state;
    p.script_path = o->script;
    p.allow_network = !o->offline;
    p.approve = o->approve;
    hearth_agent *a = workflow ? hearth_agent_load_workflow(spec, &p, &err) : hearth_agent_load(spec, &p, &err);
    if (!a) cli_fail("agent", "%s", err.message);
    return a;
}

/* The exit status of a finished run: 3 while a workflow waits for approval. */
static int finish(const agent_cli *o, hearth_agent *a, hearth_status st, hearth_agent_result *r, hearth_error *err)
{
    int rc = 0;
    bool workflow = hearth_agent_is_workflow(a);
    if (st && workflow) rc = cli_fail("agent", "%s", err->message);
    else if (st) rc = cli_fail("agent", "%s%s%s", err->message, r->run_id[0] ? "; run " : "", r->run_id);
    else if (r->decision && !strcmp(r->decision, "waiting")) {
        if (workflow && !o->json) printf("waiting for approval: hearth agent resume %s --approve\n", r->run_id);
        rc = 3;
    }
    hearth_agent_result_free(r);
    hearth_agent_free(a);
    return rc;
}

static int do_run(agent_cli *o, bool workflow)
{
    if (!workflow && (!o->spec || !o->task)) return cli_usage_error("agent", "run needs AGENT.yaml and TASK");
    hearth_agent *a = load(o, o->spec, workflow);
    if (!a) return 1;
    hearth_agent_result r;
    hearth_error err = {0};
    hearth_status st = hearth_agent_run(a, o->task, on_event, o, &r, &err);
    return finish(o, a, st, &r, &err);
}

static int do_resume(agent_cli *o, bool replay)
{
    const char *run_id = o->spec;
    if (!run_id) return cli_usage_error("agent", "%s needs a RUN id (see hearth agent runs)", replay ? "replay" : "resume");
    if (replay && !o->from_set) return cli_usage_error("agent", "replay needs --from STEP");
    /* resume and replay find the agent through the journal entry of the run */
    hearth_agent_run_info info;
    hearth_error err = {0};
    const char *state = o->state ? o->state : default_state();
    if (hearth_agent_run_get(state, run_id, &info, &err)) return cli_fail("agent", "%s", err.message);
    o->state = state;
    bool workflow = !strcmp(info.kind, "workflow");
    if (workflow && replay) return cli_fail("agent", "replay of workflow runs is not supported; resume it instead");
    hearth_agent *a = load(o, info.spec_path, workflow);
    if (!a) return 1;
    hearth_agent_result r;
    hearth_status st = replay ? hearth_agent_replay(a, run_id, o->from, on_event, o, &r, &err)
                              : hearth_agent_resume(a, run_id, on_event, o, &r, &err);
    return finish(o, a, st, &r, &err);
}

static int do_runs(agent_cli *o)
{
    hearth_error err = {0};
    char *text;
    const char *state = o->state ? o->state : default_state();
    if (hearth_agent_runs_json(state, o->spec, &text, &err)) return cli_fail("agent", "%s", err.message);
    json_t *list = json_loads(text, JSON_ALLOW_NUL, NULL);
    free(text);
    if (o->spec && !json_array_size(list)) {
        json_decref(list);
        return cli_fail("agent", "run '%s' has no steps in %s", o->spec, state);
    }
    if (o->json) {
        char *s = json_dumps(list, JSON_INDENT(2));
        puts(s ? s : "[]");
        free(s);
    } else if (o->spec) {
        for (size_t i = 0; i < json_array_size(list); i++) {
            json_t *s = json_array_get(list, i);
            char *in = json_dumps(json_object_get(s, "input"), JSON_COMPACT);
            printf("%4lld  %-9s %s\n", (long long)json_integer_value(json_object_get(s, "seq")), str(s, "kind"),
                   in ? in : "");
            free(in);
        }
    } else {
        printf("%-24s %-9s %-8s %5s  %s\n", "RUN", "KIND", "STATUS", "STEPS", "TASK");
        for (size_t i = 0; i < json_array_size(list); i++) {
            json_t *r = json_array_get(list, i);
            printf("%-24s %-9s %-8s %5lld  %.60s\n", str(r, "run_id"), str(r, "kind"), str(r, "status"),
                   (long long)json_integer_value(json_object_get(r, "steps")), str(r, "task"));
        }
    }
    json_decref(list);
    return 0;
}

int cmd_agent(int argc, char **argv)
{
    agent_cli o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    if (!strcmp(o.sub, "run")) return do_run(&o, false);
    if (!strcmp(o.sub, "workflow")) {
        if (!o.spec) return cli_usage_error("agent", "workflow needs WORKFLOW.yaml");
        return do_run(&o, true);
    }
    if (!strcmp(o.sub, "resume")) return do_resume(&o, false);
    if (!strcmp(o.sub, "replay")) return do_resume(&o, true);
    if (!strcmp(o.sub, "runs")) return do_runs(&o);
    return cli_usage_error("agent", "unknown subcommand '%s' (run, workflow, resume, replay, runs)", o.sub);
}
