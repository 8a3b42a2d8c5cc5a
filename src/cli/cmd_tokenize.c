/* cmd_tokenize.c — `hearth tokenize MODEL TEXT` and `hearth detokenize MODEL IDS`: the model's
 * own tokenizer from the command line, for checking prompts and debugging templates. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *tokenize_help =
    "usage: hearth tokenize MODEL TEXT [--no-special] [--no-bos] [--json]\n"
    "       hearth tokenize MODEL - [options] < text\n"
    "\n"
    "Splits TEXT into the model's token ids, exactly as llama.cpp's llama_tokenize does for\n"
    "the same GGUF file (SentencePiece, byte-level BPE with the model's pre-tokenizer, or\n"
    "WordPiece). Only the vocabulary is loaded, so any model file works, however large.\n"
    "By default the text is treated like a rendered chat prompt: BOS/EOS (or [CLS]/[SEP]) are\n"
    "added as the model's metadata says, and special-token text such as <|im_start|> becomes\n"
    "that single token.\n"
    "\n"
    "arguments:\n"
    "  MODEL         a GGUF file\n"
    "  TEXT          the text; '-' reads it from standard input (all of it, bytes as-is);\n"
    "                put '--' before a TEXT that itself starts with '-'\n"
    "\n"
    "options:\n"
    "  --no-special  treat control-token text as plain text (user-defined tokens, such as\n"
    "                Qwen's <think>, are still matched, as llama.cpp does)\n"
    "  --no-bos      add neither BOS nor EOS (nor [CLS]/[SEP])\n"
    "  --json        print {\"ids\":[...],\"pieces\":[...]}; pieces are each token's bytes\n"
    "                (invalid UTF-8 in a piece is shown as U+FFFD)\n"
    "  --help        this text\n"
    "\n"
    "Without --json, prints one line per token: id, then the piece in quotes with C escapes.\n"
    "\n"
    "exit status: 0 on success, 1 if the model cannot be loaded, 2 on a usage error.\n"
    "\n"
    "examples:\n"
    "  hearth tokenize qwen3.gguf \"$(printf '<|im_start|>user\\nHi<|im_end|>')\"\n"
    "  echo 'Hello world' | hearth tokenize llama3.gguf - --json --no-bos\n";

static const char *detokenize_help =
    "usage: hearth detokenize MODEL IDS... [--no-special] [--json]\n"
    "\n"
    "Turns token ids back into text with the model's vocabulary (llama.cpp's\n"
    "llama_detokenize: byte tokens are reassembled, the SentencePiece space marker becomes a\n"
    "space, and the vocabulary's clean-up rules apply). Control tokens are rendered as their\n"
    "text unless --no-special is given.\n"
    "\n"
    "arguments:\n"
    "  MODEL         a GGUF file\n"
    "  IDS           token ids separated by commas and/or spaces, in one or more arguments\n"
    "                (e.g. '128000,9906,1917' or 128000 9906 1917); '-' reads them from stdin\n"
    "\n"
    "options:\n"
    "  --no-special  drop a leading BOS / trailing EOS and do not render control tokens\n"
    "  --json        print {\"text\":\"...\"} (invalid UTF-8 shown as U+FFFD)\n"
    "  --help        this text\n"
    "\n"
    "The text is written as raw bytes followed by a newline.\n"
    "\n"
    "exit status: 0 on success, 1 if the model cannot be loaded or an id is not in the\n"
    "vocabulary, 2 on a usage error.\n"
    "\n"
    "example:\n"
    "  hearth detokenize llama3.gguf 128000,9906,1917\n";

static char *read_stdin(size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, stdin);
        n += got;
        if (got == 0) break;
        if (n == cap) {
            char *p = cap < ((size_t)1 << 30) ? realloc(buf, cap * 2) : NULL;
            if (!p) {
                free(buf);
                return NULL;
            }
            buf = p, cap *= 2;
        }
    }
    *len = n;
    return buf;
}

static hearth_model *load_vocab_only(const char *cmd, const char *path)
{
    hearth_model_params mp = hearth_model_default_params();
    mp.vocab_only = true;
    hearth_error err = {0};
    hearth_model *m = hearth_model_load(path, &mp, &err);
    if (!m) cli_fail(cmd, "%s", err.message);
    else if (hearth_vocab_size(m) <= 0) {
        cli_fail(cmd, "%s: the file has no vocabulary", path);
        hearth_model_free(m);
        m = NULL;
    }
    return m;
}

/* JSON strings must be UTF-8: replace what is not with U+FFFD. */
static json_t *json_bytes(const char *p, size_t n)
{
    char *s = malloc(3 * n + 1);
    if (!s) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)p[i];
        size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c < 0xE0) ? 2 : (c >= 0xE0 && c < 0xF0) ? 3 : (c >= 0xF0 && c < 0xF5) ? 4 : 0;
        bool ok = len > 0 && i + len <= n;
        for (size_t j = 1; ok && j < len; j++) ok = ((unsigned char)p[i + j] & 0xC0) == 0x80;
        if (ok && len == 3) { /* no surrogates or overlongs */
            unsigned char d = (unsigned char)p[i + 1];
            ok = !(c == 0xE0 && d < 0xA0) && !(c == 0xED && d >= 0xA0);
        }
        if (ok && len == 4) {
            unsigned char d = (unsigned char)p[i + 1];
            ok = !(c == 0xF0 && d < 0x90) && !(c == 0xF4 && d >= 0x90);
        }
        if (!ok) {
            memcpy(s + k, "\xef\xbf\xbd", 3);
            k += 3;
            i++;
            continue;
        }
        memcpy(s + k, p + i, len);
        k += len, i += len;
    }
    json_t *j = json_stringn(s, k);
    free(s);
    return j;
}

static void print_escaped(const char *p, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20 || c == 0x7F) printf("\\x%02x", c);
        else putchar(c);
    }
    putchar('"');
}

/* The piece of one token in a reusable buffer (pieces can be long: up to 4096-byte tokens). */
static size_t piece_of(const hearth_model *m, hearth_token id, char **buf, size_t *cap)
{
    int32_t n = hearth_token_to_piece(m, id, *buf, (int32_t)*cap, true);
    if (n >= 0) return (size_t)n;
    char *p = realloc(*buf, (size_t)-n);
    if (!p) return 0;
    *buf = p, *cap = (size_t)-n;
    n = hearth_token_to_piece(m, id, *buf, (int32_t)*cap, true);
    return n > 0 ? (size_t)n : 0;
}

int cmd_tokenize(int argc, char **argv)
{
    const char *cmd = "tokenize";
    bool no_special = false, no_bos = false, as_json = false;
    const char *pos[2] = {NULL, NULL};
    int n_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(tokenize_help, stdout);
            return 0;
        }
        if (!strcmp(a, "--no-special")) no_special = true;
        else if (!strcmp(a, "--no-bos")) no_bos = true;
        else if (!strcmp(a, "--json")) as_json = true;
        else if (!strcmp(a, "--")) {
            for (i++; i < argc; i++) {
                if (n_pos == 2) return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
                pos[n_pos++] = argv[i];
            }
        } else if (a[0] == '-' && a[1]) return cli_usage_error(cmd, "unknown option '%s'", a);
        else if (n_pos == 2) return cli_usage_error(cmd, "unexpected argument '%s' (quote TEXT)", a);
        else pos[n_pos++] = a;
    }
    if (n_pos < 2) return cli_usage_error(cmd, n_pos ? "missing TEXT" : "missing MODEL and TEXT");
    size_t len;
    char *owned = NULL;
    const char *text = pos[1];
    if (!strcmp(text, "-")) {
        if (!(owned = read_stdin(&len))) return cli_fail(cmd, "cannot read standard input");
        text = owned;
    } else {
        len = strlen(text);
    }
    if (len > (size_t)INT32_MAX / 2) {
        free(owned);
        return cli_fail(cmd, "text of %zu bytes is too long", len);
    }
    hearth_model *m = load_vocab_only(cmd, pos[0]);
    if (!m) {
        free(owned);
        return 1;
    }
    int32_t need = hearth_tokenize(m, text, (int32_t)len, NULL, 0, !no_bos, !no_special);
    hearth_token *ids = malloc((size_t)(need < 0 ? -need : 1) * sizeof *ids);
    int32_t n = ids ? hearth_tokenize(m, text, (int32_t)len, ids, need < 0 ? -need : 0, !no_bos, !no_special) : -1;
    int rc = 0;
    char *piece = NULL;
    size_t piece_cap = 0;
    if (n < 0) {
        rc = cli_fail(cmd, "out of memory tokenizing %zu bytes", len);
    } else if (as_json) {
        json_t *root = json_object(), *jids = json_array(), *jp = json_array();
        for (int32_t i = 0; i < n; i++) {
            size_t pl = piece_of(m, ids[i], &piece, &piece_cap);
            json_array_append_new(jids, json_integer(ids[i]));
            json_array_append_new(jp, json_bytes(piece, pl));
        }
        json_object_set_new(root, "ids", jids);
        json_object_set_new(root, "pieces", jp);
        char *s = json_dumps(root, JSON_COMPACT);
        if (s) puts(s);
        free(s);
        json_decref(root);
    } else {
        for (int32_t i = 0; i < n; i++) {
            size_t pl = piece_of(m, ids[i], &piece, &piece_cap);
            printf("%7d ", ids[i]);
            print_escaped(piece, pl);
            putchar('\n');
        }
    }
    free(piece);
    free(ids);
    free(owned);
    hearth_model_free(m);
    return rc;
}

/* Appends the ids in s (commas and/or whitespace between them) to *ids. */
static int parse_ids(const char *cmd, const char *s, hearth_token **ids, size_t *n, size_t *cap)
{
    const char *p = s;
    for (;;) {
        while (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
        if (!*p) return 0;
        char *end;
        errno = 0;
        long long x = strtoll(p, &end, 10);
        int len = (int)strcspn(p, ", \t\r\n");
        if (end == p || (*end && !strchr(", \t\r\n", *end)))
            return cli_usage_error(cmd, "'%.*s' is not a token id", len, p);
        if (errno || x < 0 || x > INT32_MAX) return cli_fail(cmd, "token id %.*s is not in the vocabulary", len, p);
        if (*n == *cap) {
            size_t c = *cap ? *cap * 2 : 64;
            hearth_token *q = realloc(*ids, c * sizeof *q);
            if (!q) return cli_fail(cmd, "out of memory");
            *ids = q, *cap = c;
        }
        (*ids)[(*n)++] = (hearth_token)x;
        p = end;
    }
}

int cmd_detokenize(int argc, char **argv)
{
    const char *cmd = "detokenize";
    bool no_special = false, as_json = false;
    const char *model = NULL;
    hearth_token *ids = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    bool any = false;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(detokenize_help, stdout);
            free(ids);
            return 0;
        }
        if (!strcmp(a, "--no-special")) no_special = true;
        else if (!strcmp(a, "--json")) as_json = true;
        else if (a[0] == '-' && a[1] && !(a[1] >= '0' && a[1] <= '9'))
            rc = cli_usage_error(cmd, "unknown option '%s'", a);
        else if (!model) model = a;
        else if (!strcmp(a, "-")) {
            size_t len;
            char *in = read_stdin(&len);
            if (!in) rc = cli_fail(cmd, "cannot read standard input");
            else {
                char *z = realloc(in, len + 1);
                if (!z) {
                    free(in);
                    rc = cli_fail(cmd, "out of memory");
                } else {
                    z[len] = '\0';
                    if (strlen(z) != len) rc = cli_usage_error(cmd, "standard input contains a NUL byte");
                    else rc = parse_ids(cmd, z, &ids, &n, &cap);
                    free(z);
                }
            }
            any = true;
        } else {
            rc = parse_ids(cmd, a, &ids, &n, &cap);
            any = true;
        }
    }
    if (!rc && !model) rc = cli_usage_error(cmd, "missing MODEL and IDS");
    else if (!rc && !any) rc = cli_usage_error(cmd, "missing IDS");
    hearth_model *m = rc ? NULL : load_vocab_only(cmd, model);
    if (!rc && !m) rc = 1;
    for (size_t i = 0; !rc && i < n; i++)
        if (ids[i] >= hearth_vocab_size(m))
            rc = cli_fail(cmd, "token id %d is not in the vocabulary (%d tokens)", ids[i], hearth_vocab_size(m));
    if (!rc && n > (size_t)INT32_MAX) rc = cli_fail(cmd, "too many ids");
    if (!rc) {
        int32_t need = hearth_detokenize(m, ids, (int32_t)n, NULL, 0, no_special, !no_special);
        size_t size = (size_t)(need < 0 ? -need : need) + 1;
        char *buf = malloc(size);
        int32_t got = buf ? hearth_detokenize(m, ids, (int32_t)n, buf, (int32_t)size, no_special, !no_special) : -1;
        if (got < 0) {
            rc = cli_fail(cmd, "out of memory");
        } else if (as_json) {
            json_t *root = json_object();
            json_object_set_new(root, "text", json_bytes(buf, (size_t)got));
            char *s = json_dumps(root, JSON_COMPACT);
            if (s) puts(s);
            free(s);
            json_decref(root);
        } else {
            fwrite(buf, 1, (size_t)got, stdout);
            putchar('\n');
        }
        free(buf);
    }
    hearth_model_free(m);
    free(ids);
    return rc;
}
