/* test_rag_chunk.c — extraction (text, binary detection, HTML, PDF) and structure-aware
 * chunking (markdown headings, code blocks, overlap, page numbers, token bounds). */
#include "testutil.h"
#include "rag_testutil.h"

static rag_text mktext(const char *s, rag_kind kind)
{
    rag_text t = {.text = (char *)s, .len = strlen(s), .kind = kind};
    return t;
}

static void test_markdown_headings(void **state)
{
    (void)state;
    const char *md = "# Handbook\n\nWelcome to Acme.\n\n## Leave\n\nYou get 25 days.\n\n## Empty\n\n"
                     "### Parental leave\n\nSixteen weeks paid.\n\n```\n# not a heading\n```\n\n## Expenses\n\nFile receipts.\n";
    rag_text t = mktext(md, RAG_KIND_MARKDOWN);
    rag_chunk_params p = rag_chunk_default_params();
    rag_chunk *c;
    size_t n;
    hearth_error err = {0};
    assert_int_equal(rag_chunk_text(&t, &p, &c, &n, &err), HEARTH_OK);
    assert_int_equal(n, 4); /* one chunk per section: a chunk never spans two headings */
    assert_string_equal(c[0].heading, "Handbook");
    assert_string_equal(c[1].heading, "Handbook > Leave");
    assert_string_equal(c[3].heading, "Handbook > Expenses");
    assert_non_null(strstr(c[2].text, "# not a heading")); /* fenced code is not structure */
    assert_int_equal(c[1].line_start, 5);
    assert_int_equal(c[1].line_end, 7);
    /* "## Empty" has nothing under it but its subsection: no chunk of its own */
    assert_string_equal(c[2].heading, "Handbook > Empty > Parental leave");
    for (size_t i = 0; i < n; i++) {
        /* the byte range points at exactly the chunk's text */
        assert_int_equal(c[i].byte_end - c[i].byte_start, strlen(c[i].text));
        assert_memory_equal(md + c[i].byte_start, c[i].text, strlen(c[i].text));
        assert_int_equal(c[i].page, 0);
    }
    rag_chunks_free(c, n);
}

/* Long sections are split under the token bound with overlap, at paragraph breaks. */
static void test_token_bound_and_overlap(void **state)
{
    (void)state;
    char *buf = malloc(64 * 1024);
    size_t o = 0;
    o += (size_t)sprintf(buf + o, "# Long\n\n");
    for (int para = 0; para < 30; para++) {
        for (int s = 0; s < 4; s++)
            o += (size_t)sprintf(buf + o, "Paragraph %d sentence %d talks about topic%d in detail. ", para, s, para);
        o += (size_t)sprintf(buf + o, "\n\n");
    }
    rag_text t = mktext(buf, RAG_KIND_MARKDOWN);
    rag_chunk_params p = {.max_tokens = 64, .overlap = 16};
    rag_chunk *c;
    size_t n;
    hearth_error err = {0};
    assert_int_equal(rag_chunk_text(&t, &p, &c, &n, &err), HEARTH_OK);
    assert_true(n > 10);
    for (size_t i = 0; i < n; i++) {
        assert_true(c[i].n_tokens <= 64);
        assert_int_equal(rag_estimate_tokens(c[i].text, strlen(c[i].text)) <= 64 + 2, 1);
        if (i) {
            /* consecutive chunks overlap (start before the previous ended) but move forward */
            assert_true(c[i].byte_start < c[i - 1].byte_end);
            assert_true(c[i].byte_start > c[i - 1].byte_start);
        }
    }
    /* every byte of the body is in some chunk */
    assert_int_equal(c[0].byte_start, 0);
    assert_true(c[n - 1].byte_end >= strlen(buf) - 3);
    rag_chunks_free(c, n);
    /* one huge line without spaces still splits, on UTF-8 boundaries */
    size_t m = 0;
    for (int i = 0; i < 3000; i++) m += (size_t)sprintf(buf + m, "\xc3\xa9");
    t = mktext(buf, RAG_KIND_PLAIN);
    p.counter = NULL;
    assert_int_equal(rag_chunk_text(&t, &p, &c, &n, &err), HEARTH_OK);
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) assert_true(rag_looks_textual((const uint8_t *)c[i].text, strlen(c[i].text)));
    rag_chunks_free(c, n);
    p.max_tokens = 4;
    assert_int_equal(rag_chunk_text(&t, &p, &c, &n, &err), HEARTH_ERR_INVALID_ARG);
    free(buf);
}

static void test_code_blocks(void **state)
{
    (void)state;
    const char *code = "#include <stdio.h>\n#include <stdlib.h>\n\nint add(int a, int b)\n{\n    int s = a + b;\n"
                       "    return s;\n}\n\nint mul(int a, int b)\n{\n    int p = a * b;\n    return p;\n}\n";
    rag_text t = mktext(code, RAG_KIND_CODE);
    rag_chunk_params p = {.max_tokens = 20, .overlap = 0};
    rag_chunk *c;
    size_t n;
    hearth_error err = {0};
    assert_int_equal(rag_chunk_text(&t, &p, &c, &n, &err), HEARTH_OK);
    /* '#include' is not a markdown heading in code; functions end up in separate chunks */
    assert_string_equal(c[0].heading, "");
    bool add_alone = false;
    for (size_t i = 0; i < n; i++)
        if (strstr(c[i].text, "int add") && strstr(c[i].text, "return s;") && !strstr(c[i].text, "mul")) add_alone = true;
    assert_true(add_alone);
    rag_chunks_free(c, n);
}

static void test_binary_detection(void **state)
{
    (void)state;
    assert_true(rag_looks_textual((const uint8_t *)"plain ascii\n", 12));
    assert_true(rag_looks_textual((const uint8_t *)"caf\xc3\xa9 \xe2\x82\xac", 9));
    assert_false(rag_looks_textual((const uint8_t *)"a\0b", 3));
    uint8_t junk[256];
    for (int i = 0; i < 256; i++) junk[i] = (uint8_t)(0x80 + (i * 37) % 128);
    assert_false(rag_looks_textual(junk, sizeof junk));
    rag_text t;
    rag_skip why;
    hearth_error err = {0};
    assert_int_not_equal(rag_extract("x.txt", (const uint8_t *)"a\0b", 3, &t, &why, &err), HEARTH_OK);
    assert_int_equal(why, RAG_SKIP_BINARY);
    assert_int_not_equal(rag_extract("x.md", (const uint8_t *)"  \n\n ", 5, &t, &why, &err), HEARTH_OK);
    assert_int_equal(why, RAG_SKIP_EMPTY);
    assert_int_not_equal(rag_extract("x.html", (const uint8_t *)"<p>\0</p>", 8, &t, &why, &err), HEARTH_OK);
    assert_int_equal(why, RAG_SKIP_BINARY);
}

static void test_html(void **state)
{
    (void)state;
    const char *html = "<html><head><title>Acme Policies</title><style>body{color:red}</style>"
                       "<script>var secret = 'do not index';</script></head><body>"
                       "<h2>Travel</h2><p>Book   flights\n through the <b>portal</b>.</p>"
                       "<ul><li>Economy class</li><li>Receipts required</li></ul>"
                       "<pre>code  block\n  kept</pre><p>Unclosed paragraph<div>and broken &amp; markup";
    rag_text t;
    rag_skip why;
    hearth_error err = {0};
    assert_int_equal(rag_extract("policy.html", (const uint8_t *)html, strlen(html), &t, &why, &err), HEARTH_OK);
    assert_true(t.derived);
    assert_int_equal(t.kind, RAG_KIND_MARKDOWN);
    assert_null(strstr(t.text, "secret"));
    assert_null(strstr(t.text, "color"));
    assert_non_null(strstr(t.text, "# Acme Policies"));
    assert_non_null(strstr(t.text, "## Travel"));
    assert_non_null(strstr(t.text, "Book flights through the portal."));
    assert_non_null(strstr(t.text, "- Economy class"));
    assert_non_null(strstr(t.text, "code  block\n  kept"));
    assert_non_null(strstr(t.text, "broken & markup"));
    rag_chunk_params p = rag_chunk_default_params();
    rag_chunk *c;
    size_t n;
    assert_int_equal(rag_chunk_text(&t, &p, &c, &n, &err), HEARTH_OK);
    bool travel = false;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(c[i].heading, "Acme Policies > Travel") && strstr(c[i].text, "portal")) travel = true;
    assert_true(travel);
    rag_chunks_free(c, n);
    rag_text_free(&t);
}

/* Builds a valid PDF with one page per text (Helvetica, one line each). */
static char *make_pdf(const char *const *pages, int n, size_t *len)
{
    char *b = malloc(65536);
    size_t o = 0, off[64];
    int obj = 0;
    o += (size_t)sprintf(b + o, "%%PDF-1.4\n");
    off[++obj] = o; /* 1: catalog */
    o += (size_t)sprintf(b + o, "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n");
    off[++obj] = o; /* 2: pages */
    o += (size_t)sprintf(b + o, "2 0 obj << /Type /Pages /Count %d /Kids [", n);
    for (int i = 0; i < n; i++) o += (size_t)sprintf(b + o, " %d 0 R", 4 + 2 * i);
    o += (size_t)sprintf(b + o, " ] >> endobj\n");
    off[++obj] = o; /* 3: font */
    o += (size_t)sprintf(b + o, "3 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n");
    for (int i = 0; i < n; i++) {
        char content[512];
        int cl = sprintf(content, "BT /F1 12 Tf 72 720 Td (%s) Tj ET", pages[i]);
        off[++obj] = o;
        o += (size_t)sprintf(b + o, "%d 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                                    "/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >> endobj\n", obj, obj + 1);
        off[++obj] = o;
        o += (size_t)sprintf(b + o, "%d 0 obj << /Length %d >> stream\n%s\nendstream endobj\n", obj, cl, content);
    }
    size_t xref = o;
    o += (size_t)sprintf(b + o, "xref\n0 %d\n0000000000 65535 f \n", obj + 1);
    for (int i = 1; i <= obj; i++) o += (size_t)sprintf(b + o, "%010zu 00000 n \n", off[i]);
    o += (size_t)sprintf(b + o, "trailer << /Size %d /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", obj + 1, xref);
    *len = o;
    return b;
}

static void test_pdf(void **state)
{
    (void)state;
    const char *pages[] = {"Quarterly report overview", "Revenue grew by twelve percent", "Outlook remains stable"};
    size_t len;
    char *pdf = make_pdf(pages, 3, &len);
    rag_text t;
    rag_skip why;
    hearth_error err = {0};
    assert_int_equal(rag_extract("r.pdf", (const uint8_t *)pdf, len, &t, &why, &err), HEARTH_OK);
    assert_int_equal(t.kind, RAG_KIND_PDF);
    rag_chunk_params p = rag_chunk_default_params();
    rag_chunk *c;
    size_t n;
    assert_int_equal(rag_chunk_text(&t, &p, &c, &n, &err), HEARTH_OK);
    assert_int_equal(n, 3); /* chunks do not cross pages */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(c[i].page, (int32_t)i + 1);
        assert_non_null(strstr(c[i].text, pages[i]));
    }
    rag_chunks_free(c, n);
    rag_text_free(&t);
    /* damaged PDFs: truncated, garbage, and a header with nothing behind it */
    assert_int_not_equal(rag_extract("r.pdf", (const uint8_t *)pdf, len / 3, &t, &why, &err), HEARTH_OK);
    assert_true(why == RAG_SKIP_CORRUPT || why == RAG_SKIP_EMPTY);
    assert_int_not_equal(rag_extract("r.pdf", (const uint8_t *)"%PDF-1.4\n\x01\x02garbage", 19, &t, &why, &err), HEARTH_OK);
    assert_int_not_equal(rag_extract("r.pdf", (const uint8_t *)"", 0, &t, &why, &err), HEARTH_OK);
    assert_non_null(strstr(err.message, "r.pdf"));
    free(pdf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markdown_headings), cmocka_unit_test(test_token_bound_and_overlap),
        cmocka_unit_test(test_code_blocks),       cmocka_unit_test(test_binary_detection),
        cmocka_unit_test(test_html),              cmocka_unit_test(test_pdf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
