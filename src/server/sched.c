/* sched.c — model residency and the continuous-batching worker (see sched.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "sample/sample.h"
#include "server/sched.h"
#include "server/store.h"

struct sched_model {
    sched *owner;
    char name[400];
    char path[4096];
    hearth_model *model;
    hearth_context *ctx;      /* generation: n_slots sequences                                */
    hearth_context *ectx;     /* embeddings, created on first use                             */
    pthread_mutex_t embed_mu; /* one embedding batch at a time per model                      */
    bool embedding_only;
    uint64_t size;
    gen_request **slots;
    gen_request *head, *tail;
    int n_queued, n_active;
    pthread_t worker;
    bool worker_started, stopping;
    int refs;
    double expires;           /* monotonic time to unload; < 0: never; 0: not counting down   */
    sched_model *next;
};

struct sched {
    pthread_mutex_t mu;       /* guards the model list, queues, slots' membership, metrics    */
    pthread_cond_t cv;        /* wakes workers (new requests) and the reaper                  */
    sched_params p;
    sched_model *models;
    struct loading *loading;  /* models being loaded now: later requests wait for them       */
    pthread_t reaper;
    bool stopping;
    bool closing;             /* shutting down: no new work, everything pending is cancelled */
    sched_metrics m;
};

void gen_request_free(gen_request *r)
{
    if (!r) return;
    free(r->prompt);
    for (int i = 0; i < r->n_stop; i++) free(r->stop[i]);
    free(r->stop);
    free(r->schema);
    free(r->text);
    free(r->samples);
    hearth_sampler_free(r->sampler);
    hearth_grammar_free(r->grammar);
    free(r);
}

/* ---- the worker ------------------------------------------------------------------------------ */

static void emit(gen_request *r, size_t upto, const hearth_sample *s)
{
    if (upto > r->shown && r->on_piece) r->on_piece(r, r->text + r->shown, upto - r->shown, s);
    if (upto > r->shown) r->shown = upto;
}

static bool append_text(gen_request *r, const char *p, size_t n)
{
    if (r->text_len + n + 1 > r->cap) {
        size_t cap = (r->text_len + n + 1) * 2 + 64;
        char *t = realloc(r->text, cap);
        if (!t) return false;
        r->text = t;
        r->cap = cap;
    }
    memcpy(r->text + r->text_len, p, n);
    r->text_len += n;
    r->text[r->text_len] = '\0';
    return true;
}

static void finish(sched_model *m, gen_request *r, gen_finish how, const char *error)
{
    if (r->finish != GEN_RUNNING) return;
    if (how != GEN_ERROR && how != GEN_CANCELLED) {
        char tail[8];
        int32_t n = hearth_detok_flush(&r->detok, tail, sizeof tail);
        if (n > 0) append_text(r, tail, (size_t)n);
        ptrdiff_t hit;
        size_t safe = r->n_stop ? sample_stop_scan(r->text, r->text_len, (const char *const *)r->stop, r->n_stop, &hit) : r->text_len;
        if (!r->n_stop || hit < 0) safe = r->text_len; /* the held-back tail was not a stop string */
        emit(r, safe, NULL);
        r->text_len = safe;
        if (r->text) r->text[safe] = '\0';
    }
    if (error) snprintf(r->error, sizeof r->error, "%s", error);
    r->finish = how;
    r->t_end = hearth_time_sec();
    (void)m;
}

/* The model produced logits for r: sample, show text, decide whether r goes on. */
static void take_token(sched_model *m, gen_request *r, const float *logits)
{
    if (r->cancelled && r->cancelled(r)) return finish(m, r, GEN_CANCELLED, "client went away");
    if (!logits) return finish(m, r, GEN_ERROR, "no logits for this sequence (internal error)");
    hearth_sample s;
    hearth_token tok = hearth_sampler_sample(r->sampler, logits, &s);
    if (tok < 0) {
        const char *why = hearth_sampler_error(r->sampler);
        return finish(m, r, GEN_ERROR, why && *why ? why : "sampling failed");
    }
    if (r->keep_samples) {
        if (r->n_generated + 1 > (int32_t)r->samples_cap) {
            size_t cap = r->samples_cap ? r->samples_cap * 2 : 64;
            hearth_sample *v = realloc(r->samples, cap * sizeof *v);
            if (!v) return finish(m, r, GEN_ERROR, "out of memory");
            r->samples = v;
            r->samples_cap = cap;
        }
        r->samples[r->n_generated] = s;
    }
    r->n_generated++;
    if (hearth_token_is_eog(m->model, tok)) return finish(m, r, GEN_STOP, NULL);
    char piece[256];
    int32_t n = hearth_detok_stream(m->model, &r->detok, tok, piece, sizeof piece, false);
    if (n > 0 && !append_text(r, piece, (size_t)n)) return finish(m, r, GEN_ERROR, "out of memory");
    ptrdiff_t hit = -1;
    size_t safe = r->n_stop ? sample_stop_scan(r->text, r->text_len, (const char *const *)r->stop, r->n_stop, &hit)
                            : r->text_len;
    emit(r, safe, &s);
    if (hit >= 0) {
        r->text_len = (size_t)hit;
        r->text[hit] = '\0';
        return finish(m, r, GEN_STOP, NULL);
    }
    if (r->grammar && hearth_sampler_grammar_done(r->sampler)) return finish(m, r, GEN_STOP, NULL);
    if (r->max_tokens > 0 && r->n_generated >= r->max_tokens) return finish(m, r, GEN_LENGTH, NULL);
    if (r->pos + 1 >= hearth_context_n_ctx(m->ctx)) return finish(m, r, GEN_LENGTH, NULL);
    if (r->max_tokens > 0) hearth_sampler_set_budget(r->sampler, r->max_tokens - r->n_generated);
    r->pending = tok;
}

/* Sets up r's sampler and prefills its prompt into its slot's sequence. */
static void start(sched_model *m, gen_request *r)
{
    hearth_error err = {0};
    const hearth_model *model = m->model;
    r->t_prompt_start = hearth_time_sec();
    if (!(r->sampler = hearth_sampler_new(model, &r->sampling, &err))) return finish(m, r, GEN_ERROR, err.message);
    if (r->schema) { /* usually compiled by the handler already, so a bad schema is a 400 */
        if ((!r->grammar && !(r->grammar = hearth_grammar_new_json_schema(model, r->schema, &err))) ||
            hearth_sampler_set_grammar(r->sampler, r->grammar, &err) != HEARTH_OK)
            return finish(m, r, GEN_ERROR, err.message);
    }
    if (r->max_tokens > 0) hearth_sampler_set_budget(r->sampler, r->max_tokens);
    hearth_seq_truncate(m->ctx, r->slot, 0);
    int32_t n_batch = 512;
    int32_t *pos = malloc(sizeof *pos * (size_t)n_batch), *seq = malloc(sizeof *seq * (size_t)n_batch);
    int8_t *want = calloc((size_t)n_batch, 1);
    hearth_status st = pos && seq && want ? HEARTH_OK : HEARTH_ERR_NOMEM;
    for (int32_t i0 = 0; i0 < r->n_prompt && !st; i0 += n_batch) {
        int32_t n = HEARTH_MIN(n_batch, r->n_prompt - i0);
        for (int32_t i = 0; i < n; i++) {
            pos[i] = i0 + i;
            seq[i] = r->slot;
            want[i] = i0 + i == r->n_prompt - 1;
        }
        hearth_batch b = {.n_tokens = n, .tokens = r->prompt + i0, .pos = pos, .seq_id = seq, .logits = want};
        st = hearth_decode(m->ctx, &b, &err);
    }
    free(pos);
    free(seq);
    free(want);
    if (st) return finish(m, r, GEN_ERROR, err.message[0] ? err.message : "out of memory");
    r->pos = r->n_prompt;
    r->t_gen_start = hearth_time_sec();
    take_token(m, r, hearth_get_logits(m->ctx, -1));
}

static void *worker_main(void *arg)
{
    sched_model *m = arg;
    sched *s = m->owner;
    int n = m->owner->p.n_slots;
    gen_request **fresh = calloc((size_t)n, sizeof *fresh), **batch_req = calloc((size_t)n, sizeof *batch_req);
    hearth_token *tok = calloc((size_t)n, sizeof *tok);
    int32_t *pos = calloc((size_t)n, sizeof *pos), *seq = calloc((size_t)n, sizeof *seq);
    int8_t *want = calloc((size_t)n, 1);
    pthread_mutex_lock(&s->mu);
    while (!m->stopping) {
        /* Shutting down: every waiting and running request ends now (cancelled), so each
         * handler and stream finishes and the HTTP layer can stop without waiting on us. */
        while (s->closing && m->head) {
            gen_request *r = m->head;
            m->head = r->next;
            if (!m->head) m->tail = NULL;
            m->n_queued--;
            pthread_mutex_unlock(&s->mu);
            finish(m, r, GEN_CANCELLED, "the server is shutting down");
            r->on_done(r); /* may free r */
            pthread_mutex_lock(&s->mu);
        }
        for (int i = 0; i < n && s->closing; i++)
            if (m->slots[i]) finish(m, m->slots[i], GEN_CANCELLED, "the server is shutting down");
        int n_fresh = 0;
        for (int i = 0; i < n && m->head; i++) {
            if (m->slots[i]) continue;
            gen_request *r = m->head;
            m->head = r->next;
            if (!m->head) m->tail = NULL;
            m->n_queued--;
            r->slot = i;
            m->slots[i] = r;
            m->n_active++;
            fresh[n_fresh++] = r;
        }
        if (!m->n_active) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        pthread_mutex_unlock(&s->mu);

        for (int i = 0; i < n_fresh; i++) start(m, fresh[i]);
        int nb = 0;
        for (int i = 0; i < n; i++) {
            gen_request *r = m->slots[i];
            if (!r || r->finish != GEN_RUNNING) continue;
            batch_req[nb] = r;
            tok[nb] = r->pending;
            pos[nb] = r->pos;
            seq[nb] = r->slot;
            want[nb] = 1;
            nb++;
        }
        if (nb) {
            hearth_error err = {0};
            hearth_batch b = {.n_tokens = nb, .tokens = tok, .pos = pos, .seq_id = seq, .logits = want};
            double t0 = hearth_time_sec();
            if (hearth_decode(m->ctx, &b, &err) != HEARTH_OK) {
                for (int i = 0; i < nb; i++) finish(m, batch_req[i], GEN_ERROR, err.message);
            } else {
                for (int i = 0; i < nb; i++) {
                    batch_req[i]->pos++;
                    take_token(m, batch_req[i], hearth_get_logits(m->ctx, i));
                }
            }
            pthread_mutex_lock(&s->mu);
            s->m.gen_seconds += hearth_time_sec() - t0;
            s->m.generated_tokens += (uint64_t)nb;
            s->m.decode_steps++;
            pthread_mutex_unlock(&s->mu);
        }

        pthread_mutex_lock(&s->mu);
        for (int i = 0; i < n; i++) {
            gen_request *r = m->slots[i];
            if (!r || r->finish == GEN_RUNNING) continue;
            m->slots[i] = NULL;
            m->n_active--;
            s->m.prompt_tokens += (uint64_t)r->n_prompt;
            pthread_mutex_unlock(&s->mu);
            r->on_done(r); /* may free r */
            pthread_mutex_lock(&s->mu);
        }
    }
    pthread_mutex_unlock(&s->mu);
    free(fresh);
    free(batch_req);
    free(tok);
    free(pos);
    free(seq);
    free(want);
    return NULL;
}

/* ---- residency -------------------------------------------------------------------------------- */

static void model_unload(sched_model *m)
{
    sched *s = m->owner;
    if (m->worker_started) {
        pthread_mutex_lock(&s->mu);
        m->stopping = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(m->worker, NULL);
    }
    hearth_context_free(m->ctx);
    hearth_context_free(m->ectx);
    hearth_model_free(m->model);
    pthread_mutex_destroy(&m->embed_mu);
    free(m->slots);
    free(m);
}

/* Unloads models whose keep_alive ran out; runs once a second. */
static void *reaper_main(void *arg)
{
    sched *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        double now = hearth_time_sec();
        for (sched_model **pp = &s->models; *pp;) {
            sched_model *m = *pp;
            if (m->refs == 0 && m->expires > 0 && now >= m->expires && !m->n_active && !m->n_queued) {
                *pp = m->next;
                s->m.loaded--;
                pthread_mutex_unlock(&s->mu);
                model_unload(m);
                pthread_mutex_lock(&s->mu);
                pp = &s->models; /* the list may have changed while unlocked */
            } else {
                pp = &m->next;
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

sched *sched_new(const sched_params *p)
{
    sched *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->p = *p;
    if (s->p.n_slots < 1) s->p.n_slots = 1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->reaper, NULL, reaper_main, s) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

void sched_close(sched *s)
{
    pthread_mutex_lock(&s->mu);
    s->closing = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void sched_free(sched *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->reaper, NULL);
    while (s->models) {
        sched_model *m = s->models;
        s->models = m->next;
        model_unload(m);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

static sched_model *model_load(sched *s, const char *name, const char *path, hearth_error *err)
{
    sched_model *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->owner = s;
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->path, sizeof m->path, "%s", path);
    pthread_mutex_init(&m->embed_mu, NULL);
    hearth_model_params mp = hearth_model_default_params();
    if (s->p.no_mmap) mp.use_mmap = false;
    if (!(m->model = hearth_model_load(path, &mp, err))) goto fail;
    hearth_model_info info;
    hearth_model_get_info(m->model, &info);
    m->size = info.file_size;
    m->embedding_only = !strcmp(info.arch, "bert");
    if (!m->embedding_only) {
        hearth_context_params cp = hearth_context_default_params();
        cp.n_ctx = HEARTH_MIN(s->p.n_ctx, info.n_ctx_train);
        cp.n_seq_max = s->p.n_slots;
        cp.n_threads = s->p.n_threads;
        if (!(m->ctx = hearth_context_new(m->model, &cp, err))) goto fail;
        if (!(m->slots = calloc((size_t)s->p.n_slots, sizeof *m->slots))) goto fail;
        if (pthread_create(&m->worker, NULL, worker_main, m) != 0) {
            hearth_fail(err, HEARTH_ERR_NOMEM, "cannot start a worker thread");
            goto fail;
        }
        m->worker_started = true;
    }
    return m;
fail:
    model_unload(m);
    return NULL;
}

/* Names from HTTP clients are store names only: never a file path (so "../../etc/passwd" or
 * "/home/x/secret.gguf" cannot make the server open files outside the store). */
static hearth_status resolve(const char *name, char *display, size_t dsize, char *path, size_t psize,
                             hearth_error *err)
{
    store_name n;
    hearth_status st = store_name_parse(name, &n, err);
    if (st) return st;
    store_name_display(&n, display, dsize);
    return store_resolve_name(&n, path, psize, err);
}

/* A load in progress, on the loading thread's stack: concurrent requests for the same model
 * wait for it instead of loading the file again (three requests must not cost three loads). */
struct loading {
    const char *path;
    struct loading *next;
};

sched_model *sched_acquire(sched *s, const char *requested, hearth_error *err)
{
    char path[4096], name[400];
    if (resolve(requested, name, sizeof name, path, sizeof path, err) != HEARTH_OK) return NULL;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->closing) {
            pthread_mutex_unlock(&s->mu);
            hearth_fail(err, HEARTH_ERR_CANCELLED, "the server is shutting down");
            return NULL;
        }
        for (sched_model *m = s->models; m; m = m->next) {
            if (!strcmp(m->path, path)) {
                m->refs++;
                m->expires = 0;
                pthread_mutex_unlock(&s->mu);
                return m;
            }
        }
        bool busy = false;
        for (struct loading *l = s->loading; l; l = l->next) busy |= !strcmp(l->path, path);
        if (!busy) break;
        pthread_cond_wait(&s->cv, &s->mu); /* the loader broadcasts when it is done */
    }
    struct loading me = {path, s->loading};
    s->loading = &me;
    pthread_mutex_unlock(&s->mu);
    /* Load without the lock: loading takes seconds and other models keep serving. */
    sched_model *m = model_load(s, name, path, err);
    pthread_mutex_lock(&s->mu);
    for (struct loading **pp = &s->loading; *pp; pp = &(*pp)->next)
        if (*pp == &me) {
            *pp = me.next;
            break;
        }
    if (m) {
        m->refs = 1;
        m->next = s->models;
        s->models = m;
        s->m.loaded++;
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return m;
}

void sched_release(sched_model *m, double keep_alive)
{
    sched *s = m->owner;
    pthread_mutex_lock(&s->mu);
    if (keep_alive < -1.5) keep_alive = s->p.keep_alive; /* caller gave none: the default */
    m->refs--;
    if (m->refs == 0) m->expires = keep_alive < 0 ? -1 : hearth_time_sec() + keep_alive + 1e-6;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

const hearth_model *sched_model_handle(const sched_model *m) { return m->model; }
const char *sched_model_name(const sched_model *m) { return m->name; }
bool sched_model_is_embedding(const sched_model *m) { return m->embedding_only; }

hearth_status sched_submit(sched_model *m, gen_request *r, hearth_error *err)
{
    sched *s = m->owner;
    if (m->embedding_only)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "\"%s\" is an embedding model and cannot generate", m->name);
    int32_t n_ctx = hearth_context_n_ctx(m->ctx);
    if (r->n_prompt < 1) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "the prompt is empty");
    if (r->n_prompt >= n_ctx)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "the prompt is %d tokens; the context holds %d", r->n_prompt, n_ctx);
    pthread_mutex_lock(&s->mu);
    if (s->closing) {
        pthread_mutex_unlock(&s->mu);
        return hearth_fail(err, HEARTH_ERR_CANCELLED, "the server is shutting down");
    }
    if (m->n_queued >= s->p.max_queue) {
        s->m.rejected++;
        pthread_mutex_unlock(&s->mu);
        return hearth_fail(err, HEARTH_ERR_CANCELLED, "server busy: %d requests already wait for %s", m->n_queued, m->name);
    }
    r->t_queued = hearth_time_sec();
    r->next = NULL;
    if (m->tail) m->tail->next = r;
    else m->head = r;
    m->tail = r;
    m->n_queued++;
    s->m.requests++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return HEARTH_OK;
}

hearth_status sched_embed(sched_model *m, const char *const *texts, int32_t n_texts, float **out,
                          int32_t *dim, int32_t *n_tokens, hearth_error *err)
{
    *out = NULL;
    hearth_model_info info;
    hearth_model_get_info(m->model, &info);
    if (!m->embedding_only)
        return hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "\"%s\" (%s) is not an embedding model; use a bert model such as all-minilm",
                           m->name, info.arch);
    pthread_mutex_lock(&m->embed_mu);
    hearth_status st = HEARTH_OK;
    if (!m->ectx) {
        hearth_context_params cp = hearth_context_default_params();
        cp.embeddings = true;
        cp.n_seq_max = 16;
        cp.n_ctx = info.n_ctx_train;
        cp.n_batch = HEARTH_MAX(512, info.n_ctx_train);
        cp.n_threads = m->owner->p.n_threads;
        if (!(m->ectx = hearth_context_new(m->model, &cp, err))) st = err ? err->status : HEARTH_ERR_NOMEM;
    }
    if (!st) {
        *dim = info.n_embd;
        *out = malloc(sizeof **out * (size_t)HEARTH_MAX(n_texts, 1) * (size_t)info.n_embd);
        if (!*out) st = hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
        else st = hearth_embed(m->ectx, texts, NULL, n_texts, *out, true, NULL, err);
    }
    pthread_mutex_unlock(&m->embed_mu);
    if (n_tokens) { /* usage counts, as the APIs report them */
        *n_tokens = 0;
        for (int32_t i = 0; i < n_texts && !st; i++) {
            int32_t k = hearth_tokenize(m->model, texts[i], (int32_t)strlen(texts[i]), NULL, 0, true, false);
            *n_tokens += k < 0 ? -k : k;
        }
    }
    if (st) {
        free(*out);
        *out = NULL;
    }
    return st;
}

int sched_list(sched *s, sched_status *out, int max)
{
    pthread_mutex_lock(&s->mu);
    int n = 0;
    double now = hearth_time_sec();
    for (sched_model *m = s->models; m && n < max; m = m->next, n++) {
        snprintf(out[n].name, sizeof out[n].name, "%s", m->name);
        out[n].size = m->size;
        out[n].expires_in = m->expires < 0 ? -1 : m->expires == 0 ? s->p.keep_alive : m->expires - now;
        out[n].active = m->n_active;
        out[n].queued = m->n_queued;
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}

bool sched_unload(sched *s, const char *name)
{
    char path[4096], display[400];
    if (resolve(name, display, sizeof display, path, sizeof path, NULL) != HEARTH_OK) return false;
    bool found = false;
    pthread_mutex_lock(&s->mu);
    for (sched_model *m = s->models; m; m = m->next)
        if (!strcmp(m->path, path) && m->refs == 0) {
            m->expires = hearth_time_sec();
            found = true;
        }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return found;
}

void sched_get_metrics(sched *s, sched_metrics *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->m;
    out->active = out->queued = 0;
    for (sched_model *m = s->models; m; m = m->next) {
        out->active += m->n_active;
        out->queued += m->n_queued;
    }
    pthread_mutex_unlock(&s->mu);
}
