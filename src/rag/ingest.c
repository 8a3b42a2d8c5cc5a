/*
 * ingest.c — walks files and directories into a store, incrementally.
 *
 * Per file: stat -> size limit -> read -> content hash; an unchanged hash is skipped, anything
 * else is extracted, chunked, embedded and written as ONE transaction (rag_store_put_document).
 * Documents under an ingested directory whose file is gone from disk are removed. A file that
 * cannot be used is skipped with exactly one warning naming the reason; ingestion goes on.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rag/ingest.h"

rag_ingest_params rag_ingest_default_params(void)
{
    rag_ingest_params p;
    memset(&p, 0, sizeof p);
    p.max_file_size = 64u << 20;
    p.chunk = rag_chunk_default_params();
    p.embed_batch = 16;
    return p;
}

typedef struct file_list {
    char **paths;
    size_t n, cap;
    bool oom;
} file_list;

static void list_add(file_list *l, const char *path)
{
    if (l->oom) return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **np = realloc(l->paths, cap * sizeof *np);
        if (!np) {
            l->oom = true;
            return;
        }
        l->paths = np;
        l->cap = cap;
    }
    if (!(l->paths[l->n] = strdup(path))) l->oom = true;
    else l->n++;
}

static void list_free(file_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->paths[i]);
    free(l->paths);
}

/* A pattern with '/' matches the path relative to the ingested root; otherwise the name. */
static bool glob_match(const char *const *globs, size_t n, const char *rel, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strchr(globs[i], '/') ? fnmatch(globs[i], rel, 0) == 0 : fnmatch(globs[i], name, 0) == 0)
            return true;
    }
    return false;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void walk(const char *dir, size_t root_len, const rag_ingest_params *p, file_list *out, int depth)
{
    if (depth > 64) {
        hearth_warn("%s: directory nesting deeper than 64 levels, not descending", dir);
        return;
    }
    DIR *d = opendir(dir);
    if (!d) {
        hearth_warn("%s: cannot read directory: %s", dir, strerror(errno));
        return;
    }
    file_list here = {0};
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue; /* hidden files and dirs, "." and ".." */
        list_add(&here, e->d_name);
    }
    closedir(d);
    if (here.n) qsort(here.paths, here.n, sizeof *here.paths, cmp_str); /* a stable, predictable order */
    char path[PATH_MAX];
    for (size_t i = 0; i < here.n && !out->oom; i++) {
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, here.paths[i]) >= sizeof path) {
            hearth_warn("%s/%s: path too long, skipped", dir, here.paths[i]);
            continue;
        }
        const char *rel = path + root_len + 1;
        struct stat sb;
        if (lstat(path, &sb) != 0) continue;
        if (glob_match(p->exclude, p->n_exclude, rel, here.paths[i])) continue;
        if (S_ISDIR(sb.st_mode)) {
            walk(path, root_len, p, out, depth + 1);
        } else if (S_ISREG(sb.st_mode) || (S_ISLNK(sb.st_mode) && (stat(path, &sb) != 0 || S_ISREG(sb.st_mode)))) {
            /* symlinks to files are followed, symlinks to directories are not (no cycles); a
             * dangling one is listed so that it is reported as unreadable */
            if (p->n_include == 0 || glob_match(p->include, p->n_include, rel, here.paths[i]))
                list_add(out, path);
        }
    }
    if (here.oom) out->oom = true;
    list_free(&here);
}

static void hash_hex(const void *data, size_t len, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t h = rag_hash64(data, len, 0);
    for (int i = 15; i >= 0; i--, h >>= 4) out[i] = hex[h & 15];
    out[16] = 0;
}

static void skip_file(rag_ingest_summary *sum, rag_skip why, const hearth_error *e)
{
    sum->skipped[why]++;
    hearth_warn("%s (skipped: %s)", e->message, rag_skip_name(why));
}

/* Embeds chunks in batches; the heading path is prepended so a chunk cut from the middle of a
 * section still carries what it is about. */
static hearth_status embed_chunks(const rag_embedder *emb, const rag_chunk *c, size_t n, int32_t batch,
                                  float *out, hearth_error *err)
{
    char **texts = calloc((size_t)batch, sizeof *texts);
    size_t *lens = calloc((size_t)batch, sizeof *lens);
    hearth_status st = texts && lens ? HEARTH_OK : hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && st == HEARTH_OK; i += (size_t)batch) {
        int32_t m = (int32_t)HEARTH_MIN((size_t)batch, n - i);
        for (int32_t k = 0; k < m && st == HEARTH_OK; k++) {
            const rag_chunk *ch = &c[i + (size_t)k];
            size_t hl = strlen(ch->heading), tl = strlen(ch->text);
            bool with_heading = hl && ch->text[0] != '#';
            texts[k] = malloc(hl + tl + 3);
            if (!texts[k]) {
                st = hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
                break;
            }
            size_t o = 0;
            if (with_heading) {
                memcpy(texts[k], ch->heading, hl);
                memcpy(texts[k] + hl, "\n\n", 2);
                o = hl + 2;
            }
            memcpy(texts[k] + o, ch->text, tl + 1);
            lens[k] = o + tl;
        }
        if (st == HEARTH_OK)
            st = emb->embed(emb->self, (const char *const *)texts, lens, m, out + i * (size_t)emb->dim, err);
        for (int32_t k = 0; k < m; k++) {
            free(texts[k]);
            texts[k] = NULL;
        }
    }
    free(texts);
    free(lens);
    return st;
}

static hearth_status ingest_file(rag_store *s, const char *path, const rag_ingest_params *p,
                                 rag_ingest_summary *sum, hearth_error *err)
{
    hearth_error e = {0};
    struct stat sb;
    if (stat(path, &sb) != 0) {
        hearth_fail(&e, HEARTH_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        skip_file(sum, RAG_SKIP_UNREADABLE, &e);
        return HEARTH_OK;
    }
    if ((uint64_t)sb.st_size > (uint64_t)p->max_file_size) {
        hearth_fail(&e, HEARTH_ERR_INVALID_ARG, "%s: %lld bytes, over the %zu-byte limit (--max-size)", path,
                    (long long)sb.st_size, p->max_file_size);
        skip_file(sum, RAG_SKIP_TOO_LARGE, &e);
        return HEARTH_OK;
    }
    char *data;
    size_t len;
    if (hearth_read_file(path, p->max_file_size, &data, &len, &e) != HEARTH_OK) {
        skip_file(sum, e.status == HEARTH_ERR_INVALID_ARG ? RAG_SKIP_TOO_LARGE : RAG_SKIP_UNREADABLE, &e);
        return HEARTH_OK;
    }
    rag_doc_info doc = {.path = path, .mtime = (int64_t)sb.st_mtime, .size = (int64_t)len};
    hash_hex(data, len, doc.hash);
    bool found;
    rag_doc_info old;
    hearth_status st = rag_store_doc_get(s, path, &found, &old, err);
    if (st != HEARTH_OK) goto out;
    if (found && strcmp(old.hash, doc.hash) == 0) {
        sum->unchanged++;
        if (old.mtime != doc.mtime) st = rag_store_touch_document(s, path, doc.mtime, err);
        goto out;
    }
    rag_text text;
    rag_skip why;
    if (rag_extract(path, (const uint8_t *)data, len, &text, &why, &e) != HEARTH_OK) {
        skip_file(sum, why, &e);
        goto out;
    }
    rag_chunk *chunks;
    size_t n;
    rag_chunk_params cp = p->chunk;
    if (p->embedder && !cp.counter) cp.counter = p->embedder;
    /* room for the special tokens and the heading that embed_chunks prepends */
    if (p->embedder && p->embedder->max_tokens > 64)
        cp.max_tokens = HEARTH_MIN(cp.max_tokens, p->embedder->max_tokens - 32);
    if (cp.overlap >= cp.max_tokens) cp.overlap = cp.max_tokens / 4;
    st = rag_chunk_text(&text, &cp, &chunks, &n, err);
    rag_text_free(&text);
    if (st != HEARTH_OK) goto out;
    float *vecs = NULL;
    if (p->embedder && n) {
        size_t bytes;
        if (!hearth_size_mul(n, (size_t)p->embedder->dim * sizeof(float), &bytes) || !(vecs = malloc(bytes)))
            st = hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory for %zu embeddings", path, n);
        else
            st = embed_chunks(p->embedder, chunks, n, HEARTH_MAX(1, p->embed_batch), vecs, err);
        if (st != HEARTH_OK) hearth_fail_wrap(err, "%s", path);
    }
    if (st == HEARTH_OK)
        st = rag_store_put_document(s, &doc, chunks, n, vecs, p->embedder ? p->embedder->dim : 0, err);
    if (st == HEARTH_OK) {
        if (found) sum->updated++;
        else sum->added++;
        sum->chunks += (int64_t)n;
    }
    free(vecs);
    rag_chunks_free(chunks, n);
out:
    free(data);
    return st;
}

typedef struct gone_ctx {
    char **roots;
    size_t n_roots;
    file_list gone;
} gone_ctx;

static bool collect_gone(void *u, const char *path)
{
    gone_ctx *g = u;
    for (size_t i = 0; i < g->n_roots; i++) {
        size_t rl = strlen(g->roots[i]);
        if (strncmp(path, g->roots[i], rl) == 0 && (path[rl] == '/' || path[rl] == 0)) {
            struct stat sb;
            if (stat(path, &sb) != 0 && errno == ENOENT) list_add(&g->gone, path);
            break;
        }
    }
    return !g->gone.oom;
}

hearth_status rag_ingest(rag_store *s, const char *const *paths, size_t n_paths, const rag_ingest_params *p,
                         rag_ingest_summary *sum, hearth_error *err)
{
    memset(sum, 0, sizeof *sum);
    double t0 = hearth_time_sec();
    hearth_status st = rag_store_check_model(s, p->embedder, true, err);
    if (st != HEARTH_OK) return st;
    file_list files = {0};
    gone_ctx g = {0};
    g.roots = calloc(n_paths ? n_paths : 1, sizeof *g.roots);
    if (!g.roots) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n_paths; i++) {
        char real[PATH_MAX];
        struct stat sb;
        if (!realpath(paths[i], real) || stat(real, &sb) != 0) {
            st = hearth_fail(err, HEARTH_ERR_NOT_FOUND, "%s: %s", paths[i], strerror(errno));
            goto done;
        }
        if (S_ISDIR(sb.st_mode)) {
            if (!(g.roots[g.n_roots] = strdup(real))) files.oom = true;
            else g.n_roots++;
            walk(real, strlen(real), p, &files, 0);
        } else {
            list_add(&files, real); /* named explicitly: hidden or not, it is wanted */
        }
    }
    if (files.oom) {
        st = hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory listing files");
        goto done;
    }
    for (size_t i = 0; i < files.n && st == HEARTH_OK; i++) {
        if (p->progress) p->progress(p->progress_user, i, files.n, files.paths[i]);
        sum->files++;
        st = ingest_file(s, files.paths[i], p, sum, err);
    }
    if (st == HEARTH_OK && p->progress) p->progress(p->progress_user, files.n, files.n, NULL);
    if (st == HEARTH_OK && g.n_roots) {
        st = rag_store_each_document(s, collect_gone, &g, err);
        for (size_t i = 0; i < g.gone.n && st == HEARTH_OK; i++) {
            st = rag_store_delete_document(s, g.gone.paths[i], err);
            if (st == HEARTH_OK) sum->removed++;
        }
    }
done:
    for (size_t i = 0; i < g.n_roots; i++) free(g.roots[i]);
    free(g.roots);
    list_free(&g.gone);
    list_free(&files);
    sum->seconds = hearth_time_sec() - t0;
    return st;
}
