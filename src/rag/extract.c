/*
 * extract.c — file bytes to plain text: text formats as they are, HTML through libxml2's
 * forgiving HTML parser (turned into markdown-like text so headings drive chunking), PDF
 * through poppler-glib (pages separated by '\f' so chunks can name their page).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <poppler.h>

#include "rag/rag.h"

const char *rag_skip_name(rag_skip reason)
{
    static const char *const names[RAG_SKIP_REASONS] = {"ok", "binary", "too large", "unreadable",
                                                        "corrupt", "empty"};
    return (unsigned)reason < RAG_SKIP_REASONS ? names[reason] : "?";
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is invalid. */
static size_t utf8_seq(const uint8_t *p, size_t left)
{
    uint8_t c = p[0];
    size_t n;
    uint32_t min;
    if (c < 0x80) return 1;
    if ((c & 0xe0) == 0xc0) n = 2, min = 0x80;
    else if ((c & 0xf0) == 0xe0) n = 3, min = 0x800;
    else if ((c & 0xf8) == 0xf0) n = 4, min = 0x10000;
    else return 0;
    if (n > left) return 0;
    uint32_t cp = c & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

bool rag_looks_textual(const uint8_t *data, size_t len)
{
    size_t bad = 0, i = 0;
    while (i < len) {
        if (data[i] == 0) return false;
        size_t n = utf8_seq(data + i, len - i);
        if (n == 0) {
            bad++;
            n = 1;
        }
        i += n;
    }
    return bad * 100 <= len;
}

/* ---- growing output buffer ----------------------------------------------------------------- */
typedef struct outbuf {
    char *p;
    size_t len, cap;
    bool oom;
} outbuf;

static void out_put(outbuf *o, const char *s, size_t n)
{
    if (o->oom) return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n + 1) cap *= 2;
        char *np = realloc(o->p, cap);
        if (!np) {
            o->oom = true;
            return;
        }
        o->p = np;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = 0;
}

static void out_str(outbuf *o, const char *s) { out_put(o, s, strlen(s)); }

/* Ends the current block: guarantees the text ends with a blank line (or is empty). */
static void out_break(outbuf *o)
{
    if (o->len == 0) return;
    if (o->p[o->len - 1] != '\n') out_put(o, "\n", 1);
    if (o->len >= 2 && o->p[o->len - 2] != '\n') out_put(o, "\n", 1);
}

/* Appends text with runs of whitespace collapsed to one space (inline HTML text). */
static void out_inline(outbuf *o, const char *s)
{
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            if (o->len && !isspace((unsigned char)o->p[o->len - 1])) out_put(o, " ", 1);
        } else {
            out_put(o, s, 1);
        }
    }
}

/* ---- HTML ---------------------------------------------------------------------------------- */
static bool name_is(const xmlNode *n, const char *name)
{
    return n->name && strcasecmp((const char *)n->name, name) == 0;
}

static bool is_block(const xmlNode *n)
{
    static const char *const blocks[] = {"p", "div", "section", "article", "header", "footer", "main",
                                         "nav", "aside", "ul", "ol", "li", "table", "tr", "blockquote",
                                         "pre", "br", "hr", "dl", "dt", "dd", "figure", "form",
                                         "body", "address", "details", "summary"};
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(blocks); i++)
        if (name_is(n, blocks[i])) return true;
    return false;
}

static void html_walk(const xmlNode *n, outbuf *o, int in_pre)
{
    for (; n; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content) {
                if (in_pre) out_str(o, (const char *)n->content);
                else out_inline(o, (const char *)n->content);
            }
            continue;
        }
        if (n->type != XML_ELEMENT_NODE) continue;
        if (name_is(n, "script") || name_is(n, "style") || name_is(n, "noscript") ||
            name_is(n, "template") || name_is(n, "head") || name_is(n, "svg"))
            continue;
        int level = 0;
        if (n->name && tolower(n->name[0]) == 'h' && n->name[1] >= '1' && n->name[1] <= '6' && !n->name[2])
            level = n->name[1] - '0';
        if (level) {
            out_break(o);
            for (int i = 0; i < level; i++) out_put(o, "#", 1);
            out_put(o, " ", 1);
            html_walk(n->children, o, 0);
            out_break(o);
        } else if (name_is(n, "pre")) {
            out_break(o);
            out_str(o, "```\n");
            html_walk(n->children, o, 1);
            if (o->len && o->p[o->len - 1] != '\n') out_put(o, "\n", 1);
            out_str(o, "```");
            out_break(o);
        } else if (name_is(n, "li")) {
            if (o->len && o->p[o->len - 1] != '\n') out_put(o, "\n", 1);
            out_str(o, "- ");
            html_walk(n->children, o, in_pre);
            out_put(o, "\n", 1);
        } else if (name_is(n, "td") || name_is(n, "th")) {
            html_walk(n->children, o, in_pre);
            out_str(o, " | ");
        } else if (name_is(n, "tr") || name_is(n, "br")) {
            html_walk(n->children, o, in_pre);
            out_put(o, "\n", 1);
        } else if (is_block(n)) {
            out_break(o);
            html_walk(n->children, o, in_pre);
            out_break(o);
        } else {
            html_walk(n->children, o, in_pre);
        }
    }
}

static hearth_status extract_html(const char *path, const uint8_t *data, size_t len, outbuf *o,
                                  rag_skip *skip, hearth_error *err)
{
    if (len > (size_t)INT32_MAX) {
        *skip = RAG_SKIP_TOO_LARGE;
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: too large for the HTML parser", path);
    }
    htmlDocPtr doc = htmlReadMemory((const char *)data, (int)len, path, NULL,
                                    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                        HTML_PARSE_NONET | HTML_PARSE_COMPACT);
    if (!doc) {
        *skip = RAG_SKIP_CORRUPT;
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: HTML parser could not read the document", path);
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    /* The title is the document's top heading when the body has no <h1> of its own. */
    bool has_h1 = false;
    xmlChar *title = NULL;
    for (xmlNode *n = root; n; n = n->next)
        for (xmlNode *c = n->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE && name_is(c, "head"))
                for (xmlNode *t = c->children; t; t = t->next)
                    if (t->type == XML_ELEMENT_NODE && name_is(t, "title")) title = xmlNodeGetContent(t);
    if (title) {
        xmlNode *stack[64];
        int sp = 0;
        if (root) stack[sp++] = root;
        while (sp && !has_h1) {
            xmlNode *n = stack[--sp];
            for (; n; n = n->next) {
                if (n->type == XML_ELEMENT_NODE && name_is(n, "h1")) has_h1 = true;
                if (n->children && sp < 64) stack[sp++] = n->children;
            }
        }
        if (!has_h1) {
            out_str(o, "# ");
            out_inline(o, (const char *)title);
            out_break(o);
        }
        xmlFree(title);
    }
    html_walk(root, o, 0);
    xmlFreeDoc(doc);
    return HEARTH_OK;
}

/* ---- PDF ----------------------------------------------------------------------------------- */
/* poppler reports syntax errors of damaged files through GLib's log; they become one skip
 * warning from the caller instead. */
static void quiet_glib(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer u)
{
    (void)domain, (void)level, (void)msg, (void)u;
}

static hearth_status extract_pdf(const char *path, const uint8_t *data, size_t len, outbuf *o,
                                 rag_skip *skip, hearth_error *err)
{
    GLogFunc old = g_log_set_default_handler(quiet_glib, NULL);
    GBytes *bytes = g_bytes_new_static(data, len);
    GError *gerr = NULL;
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
    hearth_status st = HEARTH_OK;
    if (!doc) {
        *skip = RAG_SKIP_CORRUPT;
        st = hearth_fail(err, HEARTH_ERR_FORMAT, "%s: not a readable PDF: %s", path,
                         gerr && gerr->message ? gerr->message : "unknown error");
        if (gerr) g_error_free(gerr);
        goto done;
    }
    int pages = poppler_document_get_n_pages(doc);
    for (int i = 0; i < pages; i++) {
        if (i) out_put(o, "\f", 1);
        PopplerPage *page = poppler_document_get_page(doc, i);
        if (!page) continue;
        char *text = poppler_page_get_text(page);
        if (text) {
            /* Text from a PDF may carry anything: keep it valid UTF-8 and without NUL. */
            const char *end;
            const char *p = text;
            while (*p) {
                if (g_utf8_validate(p, -1, &end)) {
                    out_str(o, p);
                    break;
                }
                out_put(o, p, (size_t)(end - p));
                p = *end ? end + 1 : end;
            }
            g_free(text);
        }
        g_object_unref(page);
    }
    g_object_unref(doc);
done:
    g_bytes_unref(bytes);
    g_log_set_default_handler(old, NULL);
    return st;
}

/* ---- dispatch ------------------------------------------------------------------------------ */
static const char *extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot + 1 : "";
}

static bool ext_in(const char *ext, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(ext, list[i]) == 0) return true;
    return false;
}

static rag_kind kind_of(const char *ext)
{
    static const char *const md[] = {"md", "markdown", "mdx", "rst"};
    static const char *const code[] = {"c",  "h",   "cc",   "cpp", "hpp", "cxx", "py",  "js",   "ts",
                                       "go", "rs",  "java", "kt",  "rb",  "php", "sh",  "lua",  "swift",
                                       "cs", "scala", "sql", "pl", "r",   "m",   "zig", "tsx",  "jsx",
                                       "css", "yaml", "yml", "toml", "ini", "mk", "cmake"};
    if (ext_in(ext, md, HEARTH_ARRAY_LEN(md))) return RAG_KIND_MARKDOWN;
    if (ext_in(ext, code, HEARTH_ARRAY_LEN(code))) return RAG_KIND_CODE;
    return RAG_KIND_PLAIN;
}

hearth_status rag_extract(const char *path, const uint8_t *data, size_t len, rag_text *out,
                          rag_skip *skip, hearth_error *err)
{
    memset(out, 0, sizeof *out);
    *skip = RAG_SKIP_NONE;
    const char *ext = extension(path);
    outbuf o = {0};
    hearth_status st = HEARTH_OK;
    if (strcasecmp(ext, "pdf") == 0) {
        out->kind = RAG_KIND_PDF;
        out->derived = true;
        st = extract_pdf(path, data, len, &o, skip, err);
    } else {
        /* HTML is text too: a file with NUL bytes is binary whatever its name says. */
        if (!rag_looks_textual(data, len)) {
            *skip = RAG_SKIP_BINARY;
            return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: binary file (NUL bytes or invalid UTF-8)", path);
        }
        if (strcasecmp(ext, "html") == 0 || strcasecmp(ext, "htm") == 0 || strcasecmp(ext, "xhtml") == 0) {
            out->kind = RAG_KIND_MARKDOWN;
            out->derived = true;
            st = extract_html(path, data, len, &o, skip, err);
        } else {
            out->kind = kind_of(ext);
            out_put(&o, (const char *)data, len);
        }
    }
    if (st == HEARTH_OK && o.oom) {
        *skip = RAG_SKIP_TOO_LARGE;
        st = hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory extracting text", path);
    }
    if (st != HEARTH_OK) {
        free(o.p);
        return st;
    }
    if (!o.p) out_put(&o, "", 0);
    size_t non_space = 0;
    for (size_t i = 0; i < o.len && !non_space; i++)
        if (!isspace((unsigned char)o.p[i])) non_space++;
    if (!non_space || o.oom) {
        free(o.p);
        *skip = RAG_SKIP_EMPTY;
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: no text in the file", path);
    }
    out->text = o.p;
    out->len = o.len;
    return HEARTH_OK;
}

void rag_text_free(rag_text *t)
{
    free(t->text);
    memset(t, 0, sizeof *t);
}
