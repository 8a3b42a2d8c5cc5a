/*
 * api — what the Ollama and OpenAI endpoints share: the server state, a generation job that
 * ties N scheduler requests to one HTTP reply (streamed or whole), option parsing, prompts.
 */
#ifndef HEARTH_SERVER_API_H
#define HEARTH_SERVER_API_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "server/http.h"
#include "server/sched.h"

typedef struct server_state {
    sched *sched;
    const char *api_key;    /* bearer token required when set */
    double started;
    pthread_mutex_t mu;     /* guards the counters below */
    uint64_t http_requests, http_errors;
} server_state;

/* ---- a generation job -------------------------------------------------------------------- */
typedef struct api_job api_job;
typedef void (*api_piece_fn)(api_job *job, int index, const char *text, size_t len, const hearth_sample *s);
typedef void (*api_finish_fn)(api_job *job); /* streaming: write the last chunks (stream closes after) */

struct api_job {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sched_model *model;
    double keep_alive;       /* -2: the server's default                                      */
    int n, n_submitted, n_done;
    bool all_submitted;
    gen_request **reqs;
    http_stream *stream;     /* NULL: the handler waits and answers with one body             */
    api_piece_fn on_piece;   /* streaming only                                                */
    api_finish_fn on_finish; /* streaming only                                                */
    char id[48];             /* "chatcmpl-…" / "cmpl-…"                                       */
    char model_name[400];
    int64_t created;         /* unix seconds                                                  */
    double t_start, t_load;  /* monotonic: request arrival, model ready                       */
    void *fmt;               /* per-API formatting state                                      */
    bool (*want_piece)(api_job *job); /* false: buffer instead of streaming (tool calls)      */
    atomic_bool client_gone; /* a non-streaming client hung up: its generations stop         */
};

/* Takes ownership of reqs[0..n) (allocated with calloc, prompt etc. filled). For streaming,
 * job->stream must be set and on_piece/on_finish too. Returns false (with err filled) when not
 * even the first request could be queued; the job is then the caller's to free. */
bool api_job_run(api_job *job, hearth_error *err);
/* Streams the reply (job->on_piece/on_finish set): true once the job runs — it then frees
 * itself; false with err filled when nothing could be queued (the job is still the caller's). */
/* Runs the job and answers: with stream, the reply is a stream of content_type chunks and the
 * job frees itself when done (API_JOB_STREAMING); otherwise it waits for every request
 * (API_JOB_DONE: the caller writes the reply, then frees the job). API_JOB_FAILED: nothing
 * was queued, err says why, the job is the caller's to free. Set on_piece/on_finish/want_piece
 * first (they are used only when streaming). */
typedef enum { API_JOB_FAILED, API_JOB_STREAMING, API_JOB_DONE } api_job_outcome;
api_job_outcome api_job_start(api_job *job, const http_request *req, http_response *res, bool stream,
                              const char *content_type, hearth_error *err);
/* Non-streaming: waits until every request is done; if req's client hangs up meanwhile, the
 * generations are cancelled (finish GEN_CANCELLED). */
void api_job_wait(api_job *job, const http_request *req);
void api_job_free(api_job *job);

/* ---- shared parsing ------------------------------------------------------------------------ */
/* Reads Ollama "options" (or OpenAI top-level fields, same names mapped by the caller) into r. */
hearth_status api_apply_options(json_t *opts, gen_request *r, hearth_error *err);
/* "stop": string or array of strings. */
hearth_status api_set_stop(json_t *stop, gen_request *r, hearth_error *err);
/* keep_alive: number of seconds or a duration string ("5m", "1h", "-1"); -2 when absent. */
hearth_status api_keep_alive(json_t *v, double *out, hearth_error *err);
/* Renders messages with the model's chat template (or the stored model's Jinja TEMPLATE) and
 * tokenizes; name is the stored model (its SYSTEM applies when messages have none). */
hearth_status api_tokenize_chat(const hearth_model *m, const char *name, json_t *messages, json_t *tools,
                                int think, gen_request *r, hearth_error *err);
/* A checked copy of messages: roles present, OpenAI content parts flattened to text, tool-call
 * arguments as objects, and the stored SYSTEM prepended when there is no system message. */
hearth_status api_prepare_messages(const char *name, json_t *messages, json_t **out, hearth_error *err);
/* Generated text as a JSON string: invalid UTF-8 bytes become U+FFFD (never a NULL json_t). */
json_t *api_text(const char *text, size_t n);
/* "think": absent -1, false 0, true or "high"/"medium"/"low" 1. */
int api_think(json_t *v);
/* OpenAI's encoding_format "base64": the float32 bytes (little-endian), base64. malloc'd. */
char *api_base64_floats(const float *v, size_t n);

/* Type checks of the top-level fields of a request: 400 naming the field on a mismatch. */
enum { F_STR = 1, F_NUM = 2, F_INT = 4, F_BOOL = 8, F_OBJ = 16, F_ARR = 32 };
typedef struct api_field {
    const char *key;
    unsigned types;
} api_field;
bool api_check_fields(json_t *body, const api_field *fields, bool openai, http_response *res);
hearth_status api_tokenize_text(const hearth_model *m, const char *text, bool add_special,
                                gen_request *r, hearth_error *err);
/* Compiles r->schema (if any) into r->grammar now, so a bad schema is the client's 400. */
hearth_status api_compile_schema(const hearth_model *m, gen_request *r, hearth_error *err);
/* Applies a stored model's Modelfile PARAMETERs (if any) as defaults. */
void api_apply_model_params(const char *name, gen_request *r);

/* RFC 3339 time with nanoseconds, as Ollama prints it. */
void api_time_rfc3339(char *buf, size_t size);
/* Parses the body as a JSON object or answers 400. */
json_t *api_parse_body(const http_request *req, http_response *res, bool openai);
void api_openai_error(http_response *res, int status, const char *type, const char *fmt, ...)
    HEARTH_PRINTF(4, 5);
/* HTTP status for a failed hearth call: 404 not found, 400 bad input, 503 busy, 500 else. */
int api_status_for(hearth_status st);

/* Endpoint groups; each returns false when the path is not theirs. */
bool api_ollama_route(server_state *s, const http_request *req, http_response *res);
bool api_openai_route(server_state *s, const http_request *req, http_response *res);
bool api_agent_route(server_state *s, const http_request *req, http_response *res); /* api_agent.c */

#endif
