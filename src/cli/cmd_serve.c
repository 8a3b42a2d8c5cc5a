/* cmd_serve.c — `hearth serve`: the Ollama- and OpenAI-compatible HTTP server. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *const serve_help =
    "usage: hearth serve [options]\n"
    "\n"
    "Serves the models of the local store (hearth list) over HTTP, speaking both the Ollama API\n"
    "(/api/generate, /api/chat, /api/embed, /api/tags, /api/show, /api/pull, /api/ps, ...) and the\n"
    "OpenAI API (/v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models), so existing\n"
    "clients (the ollama and openai libraries, LangChain) work unchanged. A model is loaded on its\n"
    "first request and unloaded keep-alive seconds after its last. Concurrent requests on one model\n"
    "are decoded together, one batch per step (continuous batching, --slots at a time); further\n"
    "requests wait, and beyond --max-queue the server answers 503. Prometheus metrics: /metrics.\n"
    "\n"
    "options:\n"
    "      --host ADDR        listen address (default 127.0.0.1; env HEARTH_HOST=ADDR[:PORT])\n"
    "      --port N           port (default 11434)\n"
    "      --slots N          concurrent generations per model (default 4)\n"
    "      --ctx N            context tokens per generation (default 4096, capped by the model)\n"
    "  -t, --threads N        threads (default: physical cores)\n"
    "      --keep-alive SEC   seconds a model stays loaded after its last request (default 300;\n"
    "                         -1 forever)\n"
    "      --max-queue N      waiting requests per model before 503 (default 64)\n"
    "      --no-mmap          read models into (huge-page) memory instead of mapping them:\n"
    "                         slower to load; faster to decode only where the page cache\n"
    "                         cannot map the file in 2 MB pages (older kernels)\n"
    "      --port-file FILE   once listening, write the bound port to FILE (with --port 0, which\n"
    "                         picks a free port: how scripts and tests find the server)\n"
    "  -h, --help             this text\n"
    "\n"
    "environment:\n"
    "  HEARTH_API_KEY   require \"Authorization: Bearer KEY\" on every request; binding to a\n"
    "                   non-loopback address without it prints a warning\n"
    "  HEARTH_MODELS    the model store (default ~/.hearth/models)\n"
    "  HEARTH_REGISTRY  registry base URL for /api/pull (default https://<host of the name>)\n"
    "  HEARTH_MMAP=0    the same as --no-mmap\n";

static bool loopback(const char *host)
{
    return !strncmp(host, "127.", 4) || !strcmp(host, "::1") || !strcmp(host, "localhost");
}

/* Written whole, then renamed: a script polling for the file never reads half a number. */
static bool write_port(const char *path, int port)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return false;
    bool ok = fprintf(f, "%d\n", port) > 0;
    ok = fclose(f) == 0 && ok;
    if (ok && rename(tmp, path) == 0) return true;
    remove(tmp);
    return false;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"host", required_argument, 0, 'H'}, {"port", required_argument, 0, 'p'},
        {"slots", required_argument, 0, 's'}, {"ctx", required_argument, 0, 'c'},
        {"threads", required_argument, 0, 't'}, {"keep-alive", required_argument, 0, 'k'},
        {"max-queue", required_argument, 0, 'q'}, {"port-file", required_argument, 0, 'P'},
        {"no-mmap", no_argument, 0, 'm'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *port_file = NULL;
    hearth_server_params p = hearth_server_default_params();
    static char host_buf[256];
    const char *env = getenv("HEARTH_HOST");
    if (env && *env) { /* ADDR, ADDR:PORT or [V6]:PORT, like OLLAMA_HOST */
        snprintf(host_buf, sizeof host_buf, "%s", env);
        char *colon = strrchr(host_buf, ':');
        bool v6 = host_buf[0] == '[';
        if (colon && (v6 ? colon > strchr(host_buf, ']') : strchr(host_buf, ':') == colon)) {
            long port;
            *colon = '\0';
            if (!cli_parse_long("serve", "HEARTH_HOST port", colon + 1, 0, 65535, &port)) return 2;
            p.port = (int32_t)port;
        }
        if (v6) {
            char *end = strchr(host_buf, ']');
            if (end) *end = '\0';
            memmove(host_buf, host_buf + 1, strlen(host_buf));
        }
        p.host = host_buf;
    }
    long v;
    double d;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'H': p.host = optarg; break;
        case 'p': if (!cli_parse_long("serve", "--port", optarg, 0, 65535, &v)) return 2; p.port = (int32_t)v; break;
        case 's': if (!cli_parse_long("serve", "--slots", optarg, 1, 64, &v)) return 2; p.n_slots = (int32_t)v; break;
        case 'c': if (!cli_parse_long("serve", "--ctx", optarg, 16, 1 << 20, &v)) return 2; p.n_ctx = (int32_t)v; break;
        case 't': if (!cli_parse_long("serve", "--threads", optarg, 1, 1024, &v)) return 2; p.n_threads = (int32_t)v; break;
        case 'k': if (!cli_parse_float("serve", "--keep-alive", optarg, -1, 1e9, &d)) return 2; p.keep_alive = d; break;
        case 'q': if (!cli_parse_long("serve", "--max-queue", optarg, 1, 1 << 20, &v)) return 2; p.max_queue = (int32_t)v; break;
        case 'P': port_file = optarg; break;
        case 'm': p.no_mmap = true; break;
        case 'h': fputs(serve_help, stdout); return 0;
        default: return cli_usage_error("serve", "unknown option");
        }
    }
    if (optind != argc) return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    p.api_key = getenv("HEARTH_API_KEY");
    if (!loopback(p.host) && !(p.api_key && *p.api_key))
        fprintf(stderr, "hearth serve: warning: listening on %s without HEARTH_API_KEY: anyone who can reach "
                        "this address can use your models\n", p.host);

    /* Block the signals before any thread starts, so only sigwait below receives them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    hearth_error err = {0};
    hearth_server *s = hearth_server_start(&p, &err);
    if (!s) return cli_fail("serve", "%s", err.message);
    fprintf(stderr, "hearth serve: listening on http://%s%s%s:%d (Ollama API /api, OpenAI API /v1, metrics /metrics)\n",
            strchr(p.host, ':') ? "[" : "", p.host, strchr(p.host, ':') ? "]" : "", hearth_server_port(s));
    if (port_file && !write_port(port_file, hearth_server_port(s))) {
        hearth_server_stop(s);
        return cli_fail("serve", "--port-file %s: cannot write it", port_file);
    }
    int sig;
    sigwait(&set, &sig);
    fprintf(stderr, "hearth serve: %s, shutting down\n", sig == SIGINT ? "interrupted" : "terminated");
    hearth_server_stop(s);
    return 0;
}
