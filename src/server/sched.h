/*
 * sched — loaded models and continuous batching for `hearth serve`.
 *
 * Each loaded generation model has one context with n_slots sequences and one worker thread.
 * Requests wait in a queue until a slot frees; the worker prefills a newly admitted request's
 * prompt into its slot, then every step decodes ONE batch holding the next token of every
 * active request, so N concurrent clients share each pass over the weights instead of taking
 * turns. Models unload keep_alive seconds after their last request.
 */
#ifndef HEARTH_SERVER_SCHED_H
#define HEARTH_SERVER_SCHED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hearth.h"

typedef struct sched sched;
typedef struct sched_model sched_model;

typedef struct sched_params {
    int n_slots;        /* concurrent generations per model                              */
    int n_ctx;          /* tokens of context per slot                                    */
    int n_threads;      /* 0 = physical cores                                            */
    int max_queue;      /* waiting requests per model before 503                         */
    double keep_alive;  /* default seconds a model stays loaded after its last request   */
    bool no_mmap;       /* load models with use_mmap = false                             */
} sched_params;

typedef enum gen_finish { GEN_RUNNING = 0, GEN_STOP, GEN_LENGTH, GEN_ERROR, GEN_CANCELLED } gen_finish;

typedef struct gen_request gen_request;
struct gen_request {
    /* ---- filled by the caller ---- */
    hearth_token *prompt;           /* malloc'd; freed with the request                     */
    int32_t n_prompt;
    hearth_sampler_params sampling;
    char *schema;                   /* JSON Schema text, "" = any JSON, NULL = unconstrained */
    int32_t max_tokens;             /* <= 0: until the context is full                      */
    char **stop;                    /* malloc'd strings                                     */
    int32_t n_stop;
    bool keep_samples;              /* record every hearth_sample (logprobs, confidence)    */
    /* Called on the worker thread: text that became visible, and the end. */
    void (*on_piece)(gen_request *r, const char *text, size_t len, const hearth_sample *s);
    void (*on_done)(gen_request *r);
    bool (*cancelled)(gen_request *r);
    void *user;
    /* ---- results ---- */
    gen_finish finish;
    char error[1024];
    char *text;                     /* everything visible so far                            */
    size_t text_len;
    int32_t n_generated;
    hearth_sample *samples;         /* when keep_samples                                    */
    double t_queued, t_prompt_start, t_gen_start, t_end;
    /* ---- the worker's ---- */
    gen_request *next;
    int slot;
    hearth_sampler *sampler;
    hearth_grammar *grammar;
    hearth_detok_state detok;
    size_t shown, cap, samples_cap;
    hearth_token pending;
    int32_t pos;
};

void gen_request_free(gen_request *r);

sched *sched_new(const sched_params *p);
/* Starts shutting down: new requests are refused (503) and every queued or running generation
 * ends, cancelled, at the worker's next step. Call before stopping the HTTP layer. */
void sched_close(sched *s);
void sched_free(sched *s);

/* Finds or loads a model (a store name, never a path) and holds it; keep_alive < 0: the default,
 * so that `sched_release` starts the countdown. */
sched_model *sched_acquire(sched *s, const char *name, hearth_error *err);
void sched_release(sched_model *m, double keep_alive);
const hearth_model *sched_model_handle(const sched_model *m);
const char *sched_model_name(const sched_model *m);
bool sched_model_is_embedding(const sched_model *m);

/* Queues a generation. HEARTH_ERR_INVALID_ARG for a prompt that cannot fit, and a 503-style
 * HEARTH_ERR_CANCELLED with "busy" when the queue is full. on_done is called exactly once
 * after a successful submit (on the worker thread). */
hearth_status sched_submit(sched_model *m, gen_request *r, hearth_error *err);

/* Embeddings (bert models): n_texts into out[n_texts * dim] (malloc'd), L2-normalized. */
hearth_status sched_embed(sched_model *m, const char *const *texts, int32_t n_texts, float **out,
                          int32_t *dim, int32_t *n_tokens, hearth_error *err);

/* For /api/ps and /metrics. */
typedef struct sched_status {
    char name[400];
    uint64_t size;
    double expires_in;   /* seconds; < 0 never */
    int active, queued;
} sched_status;
int sched_list(sched *s, sched_status *out, int max);
bool sched_unload(sched *s, const char *name); /* keep_alive 0 */

typedef struct sched_metrics {
    uint64_t requests, prompt_tokens, generated_tokens, rejected;
    uint64_t decode_steps;  /* batched decode calls: generated_tokens / decode_steps = mean batch */
    double gen_seconds;
    int active, queued, loaded;
} sched_metrics;
void sched_get_metrics(sched *s, sched_metrics *m);

#endif
