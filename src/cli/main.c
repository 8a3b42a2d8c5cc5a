/* main.c — `hearth`: dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    cli_command_fn fn;
    const char *summary;
} commands[] = {
    /* one line per subcommand, in the order `hearth --help` lists them */
    {"run", cmd_run, "generate text from a model, streaming tokens"},
    {"chat", cmd_chat, "talk with a model interactively, using its chat template"},
    {"show", cmd_show, "describe a model file (architecture, size, tokenizer, template)"},
    {"info", cmd_info, "what this build runs on: CPU kernels, backends, GPUs found"},
    {"bench", cmd_bench, "measure prompt and generation speed against the bandwidth bound"},
    {"eval", cmd_eval, "next-token log-probabilities for a token sequence (teacher forcing)"},
    {"rag", cmd_rag, "ingest documents into a local store; search it; answer with citations"},
    {"embed", cmd_embed, "sentence embeddings from a bert GGUF (all-minilm, bge)"},
    {"synth", cmd_synth, "write a random-weight model in a real architecture's exact layout"},
    {"agent", cmd_agent, "run an agent on a task; list, resume and replay durable runs"},
    {"audit", cmd_audit, "verify an agent audit log's hash chain"},
    {"template", cmd_template, "render a conversation with a model's chat template, exactly"},
    {"tokenize", cmd_tokenize, "split text into the model's token ids (as llama.cpp does)"},
    {"detokenize", cmd_detokenize, "turn token ids back into text"},
    {"serve", cmd_serve, "serve models over HTTP: the Ollama API and the OpenAI API"},
    {"list", cmd_list, "list the models in the local store"},
    {"pull", cmd_pull, "download a model from the Ollama registry or Hugging Face"},
    {"create", cmd_create, "create a stored model from a Modelfile"},
    {"cp", cmd_cp, "give a stored model another name"},
    {"rm", cmd_rm, "remove models from the local store"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out,
            "hearth %s — local-first AI agent runtime\n\n"
            "usage: hearth COMMAND [ARGS...]\n"
            "       hearth COMMAND --help\n\n"
            "commands:\n",
            hearth_version());
    for (size_t i = 0; commands[i].name; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\noptions:\n  --help       this text\n  --version    print the version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("hearth %s\n", hearth_version());
        return 0;
    }
    for (size_t i = 0; commands[i].name; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "hearth: unknown command '%s'\nTry 'hearth --help'.\n", argv[1]);
    return 2;
}
