/*
 * chunk.c — extracted text to token-bounded chunks that follow the document's structure.
 *
 * The text is cut into pieces (lines; long lines at sentence, then word boundaries) that each
 * know their section (markdown heading path, PDF page) and whether they start a paragraph.
 * Chunks are packed greedily from pieces without crossing a section boundary; a chunk that
 * fills up is cut at its last paragraph break when that keeps it at least a quarter full, and the
 * next chunk of the same section repeats up to `overlap` tokens of trailing pieces so a
 * passage cut in two is still found whole in one of them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rag/rag.h"

rag_chunk_params rag_chunk_default_params(void)
{
    return (rag_chunk_params){.max_tokens = 200, .overlap = 32, .counter = NULL};
}

int32_t rag_estimate_tokens(const char *text, size_t len)
{
    int64_t words = 0;
    bool in_word = false;
    for (size_t i = 0; i < len; i++) {
        bool sp = isspace((unsigned char)text[i]) != 0;
        if (!sp && !in_word) words++;
        in_word = !sp;
    }
    int64_t t = (words * 4 + 2) / 3;
    return t > INT32_MAX ? INT32_MAX : (int32_t)t;
}

typedef struct piece {
    size_t start, end;   /* byte range in the text */
    int32_t line;        /* 1-based line of start */
    int32_t tokens;
    int32_t section;     /* index into the section table */
    bool para_start;
    bool heading;        /* a markdown heading line */
} piece;

typedef struct section {
    char *heading;       /* "A > B > C" */
    int32_t page;
} section;

typedef struct chunker {
    const rag_text *t;
    const rag_chunk_params *p;
    piece *pieces;
    size_t n_pieces, cap_pieces;
    section *sections;
    size_t n_sections, cap_sections;
    bool oom;
} chunker;

static int32_t count_tokens(chunker *c, size_t start, size_t end)
{
    const rag_embedder *e = c->p->counter;
    if (e && e->count_tokens) return e->count_tokens(e->self, c->t->text + start, end - start);
    return rag_estimate_tokens(c->t->text + start, end - start);
}

static void add_piece(chunker *c, size_t start, size_t end, int32_t line, int32_t tokens, bool para)
{
    if (c->oom) return;
    if (c->n_pieces == c->cap_pieces) {
        size_t cap = c->cap_pieces ? c->cap_pieces * 2 : 256;
        piece *np = realloc(c->pieces, cap * sizeof *np);
        if (!np) {
            c->oom = true;
            return;
        }
        c->pieces = np;
        c->cap_pieces = cap;
    }
    c->pieces[c->n_pieces++] = (piece){start, end, line, tokens, (int32_t)c->n_sections - 1, para, false};
}

static void add_section(chunker *c, const char *heading, int32_t page)
{
    if (c->oom) return;
    if (c->n_sections == c->cap_sections) {
        size_t cap = c->cap_sections ? c->cap_sections * 2 : 16;
        section *ns = realloc(c->sections, cap * sizeof *ns);
        if (!ns) {
            c->oom = true;
            return;
        }
        c->sections = ns;
        c->cap_sections = cap;
    }
    char *h = strdup(heading);
    if (!h) {
        c->oom = true;
        return;
    }
    c->sections[c->n_sections++] = (section){h, page};
}

/* Best split point of [start, end) near its middle: after a sentence end, else at a space,
 * else at a UTF-8 character boundary. Returns a point strictly inside the range, or start. */
static size_t split_point(const char *s, size_t start, size_t end)
{
    size_t mid = start + (end - start) / 2, best = start, best_d = (size_t)-1;
    for (size_t i = start + 1; i + 1 < end; i++)
        if ((s[i] == '.' || s[i] == '?' || s[i] == '!' || s[i] == ';') && s[i + 1] == ' ') {
            size_t d = i + 2 > mid ? i + 2 - mid : mid - i - 2;
            if (d < best_d && i + 2 < end) best = i + 2, best_d = d;
        }
    /* A sentence break in the middle half is good enough; otherwise take the nearest space. */
    if (best != start && best_d <= (end - start) / 4) return best;
    best_d = (size_t)-1;
    size_t space = start;
    for (size_t i = start + 1; i < end; i++)
        if (s[i] == ' ' || s[i] == '\t') {
            size_t d = i > mid ? i - mid : mid - i;
            if (d < best_d) space = i + 1, best_d = d;
        }
    if (space != start && space < end) return space;
    if (best != start) return best;
    size_t m = mid;
    while (m > start && ((unsigned char)s[m] & 0xc0) == 0x80) m--;
    return m;
}

/* Adds [start, end) of one line as pieces no bigger than limit tokens (when it can be cut). */
static void add_line(chunker *c, size_t start, size_t end, int32_t line, int32_t limit, bool para, int depth)
{
    int32_t tok = count_tokens(c, start, end);
    size_t cut;
    if (tok <= limit || depth > 40 || (cut = split_point(c->t->text, start, end)) == start) {
        add_piece(c, start, end, line, tok, para);
        return;
    }
    add_line(c, start, cut, line, limit, para, depth + 1);
    add_line(c, cut, end, line, limit, false, depth + 1);
}

/* Markdown heading: 1..6 '#' then a space. Returns the level, the title in [*ts, *te). */
static int heading_level(const char *s, size_t start, size_t end, size_t *ts, size_t *te)
{
    size_t i = start;
    while (i < end && i - start < 3 && s[i] == ' ') i++;
    size_t h = i;
    while (i < end && s[i] == '#') i++;
    int level = (int)(i - h);
    if (level < 1 || level > 6 || (i < end && s[i] != ' ' && s[i] != '\t')) return 0;
    while (i < end && (s[i] == ' ' || s[i] == '\t')) i++;
    size_t e = end;
    while (e > i && (isspace((unsigned char)s[e - 1]) || s[e - 1] == '#')) e--;
    if (e == i) return 0;
    *ts = i;
    *te = e;
    return level;
}

static void split_pieces(chunker *c)
{
    const char *s = c->t->text;
    size_t len = c->t->len;
    bool md = c->t->kind == RAG_KIND_MARKDOWN, pdf = c->t->kind == RAG_KIND_PDF;
    int32_t limit = HEARTH_MAX(8, HEARTH_MAX(c->p->overlap, c->p->max_tokens / 4));
    char *stack[7] = {0}; /* heading titles by level */
    int32_t page = pdf ? 1 : 0, line = 1;
    bool in_fence = false, para = true;
    add_section(c, "", page);
    size_t i = 0;
    while (i < len && !c->oom) {
        size_t e = i;
        while (e < len && s[e] != '\n' && !(pdf && s[e] == '\f')) e++;
        size_t ts, te;
        bool blank = true;
        for (size_t k = i; k < e; k++)
            if (!isspace((unsigned char)s[k])) blank = false;
        const char *l = s + i;
        if (md && e - i >= 3 && (!strncmp(l, "```", 3) || !strncmp(l, "~~~", 3))) {
            if (!in_fence) para = true;
            in_fence = !in_fence;
        }
        int level = md && !in_fence ? heading_level(s, i, e, &ts, &te) : 0;
        if (level) {
            free(stack[level]);
            stack[level] = strndup(s + ts, te - ts);
            for (int k = level + 1; k <= 6; k++) {
                free(stack[k]);
                stack[k] = NULL;
            }
            char path[1024];
            size_t o = 0;
            path[0] = 0;
            for (int k = 1; k <= 6; k++)
                if (stack[k] && o < sizeof path)
                    o += (size_t)snprintf(path + o, sizeof path - o, "%s%s", o ? " > " : "", stack[k]);
            add_section(c, path, page);
            para = true;
        }
        if (blank) {
            if (!in_fence) para = true;
        } else {
            /* trim trailing whitespace (\r of CRLF files) from the piece */
            size_t pe = e;
            while (pe > i && isspace((unsigned char)s[pe - 1])) pe--;
            add_line(c, i, pe, line, limit, para, 0);
            if (level && c->n_pieces) c->pieces[c->n_pieces - 1].heading = true;
            para = false;
        }
        if (e < len && s[e] == '\f') {
            page++;
            add_section(c, c->sections[c->n_sections - 1].heading, page);
            para = true;
        } else if (e < len) {
            line++;
        }
        i = e + 1;
    }
    for (int k = 0; k <= 6; k++) free(stack[k]);
}

static bool emit(chunker *c, size_t a, size_t b, rag_chunk *out)
{
    const piece *first = &c->pieces[a], *last = &c->pieces[b - 1];
    int32_t tok = 0;
    for (size_t k = a; k < b; k++) tok += c->pieces[k].tokens;
    const section *sec = &c->sections[first->section];
    out->byte_start = first->start;
    out->byte_end = last->end;
    out->line_start = first->line;
    out->line_end = last->line;
    out->page = sec->page;
    out->n_tokens = tok;
    out->text = strndup(c->t->text + first->start, last->end - first->start);
    out->heading = strdup(sec->heading);
    return out->text && out->heading;
}

hearth_status rag_chunk_text(const rag_text *t, const rag_chunk_params *p, rag_chunk **out,
                             size_t *n_out, hearth_error *err)
{
    *out = NULL;
    *n_out = 0;
    if (p->max_tokens < 8 || p->overlap < 0 || p->overlap >= p->max_tokens)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                           "chunk size %d / overlap %d: expected size >= 8 and 0 <= overlap < size",
                           p->max_tokens, p->overlap);
    chunker c = {.t = t, .p = p};
    split_pieces(&c);
    rag_chunk *chunks = NULL;
    size_t n = 0, cap = 0;
    size_t i = 0;
    const int32_t max = p->max_tokens;
    while (i < c.n_pieces && !c.oom) {
        int32_t sec = c.pieces[i].section, tok = 0;
        size_t j = i, last_para = i;
        int32_t tok_at_para = 0;
        while (j < c.n_pieces && c.pieces[j].section == sec && (j == i || tok + c.pieces[j].tokens <= max)) {
            if (j > i && c.pieces[j].para_start) last_para = j, tok_at_para = tok;
            tok += c.pieces[j].tokens;
            j++;
        }
        size_t end = j;
        bool cont = j < c.n_pieces && c.pieces[j].section == sec;
        if (cont && last_para > i && tok_at_para >= max / 4) end = last_para;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            rag_chunk *nc = realloc(chunks, cap * sizeof *nc);
            if (!nc) {
                c.oom = true;
                break;
            }
            chunks = nc;
        }
        /* a section that is only its heading line ("## A" right before "### B") is no chunk:
         * its title lives on in the heading path of the chunks below it */
        if (end == i + 1 && c.pieces[i].heading && end < c.n_pieces) {
            i = end;
            continue;
        }
        memset(&chunks[n], 0, sizeof chunks[n]);
        if (!emit(&c, i, end, &chunks[n++])) {
            c.oom = true;
            break;
        }
        if (end < c.n_pieces && c.pieces[end].section == sec) {
            /* continue the section, repeating trailing pieces worth <= overlap tokens */
            size_t k = end;
            int32_t ot = 0;
            while (k - 1 > i && ot + c.pieces[k - 1].tokens <= p->overlap) ot += c.pieces[--k].tokens;
            /* no overlap when it would not leave room for the next piece: no near-duplicates */
            i = ot + c.pieces[end].tokens <= max ? k : end;
        } else {
            i = end;
        }
    }
    for (size_t k = 0; k < c.n_sections; k++) free(c.sections[k].heading);
    free(c.sections);
    free(c.pieces);
    if (c.oom) {
        rag_chunks_free(chunks, n);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory while chunking");
    }
    *out = chunks;
    *n_out = n;
    return HEARTH_OK;
}

void rag_chunks_free(rag_chunk *c, size_t n)
{
    if (!c) return;
    for (size_t i = 0; i < n; i++) {
        free(c[i].text);
        free(c[i].heading);
    }
    free(c);
}
