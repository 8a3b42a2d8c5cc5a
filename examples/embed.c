/* embed.c — embedding hearth in a program: load a model, generate a few tokens greedily.
 * Uses only <hearth.h>. Build: cc embed.c $(pkg-config --cflags --libs hearth)
 * Run:   ./embed MODEL.gguf "Once upon a time" */
#include <hearth.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.gguf PROMPT\n", argv[0]);
        return 2;
    }
    hearth_error err = {0};
    hearth_model *model = hearth_model_load(argv[1], NULL, &err);
    if (!model) return fprintf(stderr, "%s\n", err.message), 1;
    hearth_context *ctx = hearth_context_new(model, NULL, &err);
    if (!ctx) return fprintf(stderr, "%s\n", err.message), 1;

    hearth_token tokens[512];
    int32_t n = hearth_tokenize(model, argv[2], (int32_t)strlen(argv[2]), tokens, 512, true, false);
    if (n <= 0) return fprintf(stderr, "prompt: no tokens (or more than 512)\n"), 1;
    hearth_batch batch = {.n_tokens = n, .tokens = tokens}; /* logits for the last token only */

    fputs(argv[2], stdout);
    for (int i = 0; i < 32; i++) {
        if (hearth_decode(ctx, &batch, &err)) return fprintf(stderr, "\n%s\n", err.message), 1;
        const float *logits = hearth_get_logits(ctx, -1);
        hearth_token best = 0; /* greedy: the most likely next token */
        for (hearth_token t = 1; t < hearth_vocab_size(model); t++)
            if (logits[t] > logits[best]) best = t;
        if (hearth_token_is_eog(model, best)) break;
        char piece[64];
        int32_t len = hearth_token_to_piece(model, best, piece, sizeof piece, false);
        if (len > 0) fwrite(piece, 1, (size_t)len, stdout);
        fflush(stdout);
        tokens[0] = best; /* next batch: just the new token */
        batch.n_tokens = 1;
    }
    putchar('\n');
    hearth_context_free(ctx);
    hearth_model_free(model);
    return 0;
}
