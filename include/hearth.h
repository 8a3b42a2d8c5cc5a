/*
 * hearth.h — the public C API of hearth, a local-first AI agent runtime.
 *
 * This is the only header a program embedding hearth needs. The hearth CLI and server are
 * clients of exactly this API. Shape, like llama.h: opaque handles with _new/_free or
 * _load/_free pairs; functions that can fail return hearth_status (or NULL) and fill a
 * caller-owned hearth_error with a message a person can act on.
 *
 * Threading: a hearth_model is read-only after loading and may be shared by many contexts on
 * many threads. A hearth_context, hearth_sampler, ... is used by one thread at a time.
 */
#ifndef HEARTH_H
#define HEARTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HEARTH_API __attribute__((visibility("default")))

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef enum hearth_status {
    HEARTH_OK = 0,
    HEARTH_ERR_INVALID_ARG,  /* a parameter is out of range or inconsistent                    */
    HEARTH_ERR_IO,           /* a file could not be opened, read, written or mapped            */
    HEARTH_ERR_FORMAT,       /* input bytes are malformed (GGUF, JSON, template, ...)          */
    HEARTH_ERR_UNSUPPORTED,  /* well-formed, but uses something hearth does not implement      */
    HEARTH_ERR_NOMEM,        /* an allocation failed                                           */
    HEARTH_ERR_CONTEXT_FULL, /* the sequence would exceed the context's n_ctx                  */
    HEARTH_ERR_NOT_FOUND,    /* a named thing (model, key, store, tool) does not exist         */
    HEARTH_ERR_CANCELLED,    /* the caller asked to stop                                       */
    HEARTH_ERR_INTERNAL      /* a bug in hearth: please report                                 */
} hearth_status;

typedef struct hearth_error {
    hearth_status status;
    char message[1024]; /* one line, no trailing newline; "" when status == HEARTH_OK */
} hearth_error;

HEARTH_API const char *hearth_status_name(hearth_status status);
HEARTH_API const char *hearth_version(void);
/* Threads a context uses when n_threads is 0: the number of physical cores. */
HEARTH_API int32_t hearth_default_threads(void);
/* The CPU kernel level in use: "scalar", "avx2" or "avx512" (HEARTH_CPU forces one). */
HEARTH_API const char *hearth_cpu_kernels(void);

/* Logging. Library code never prints; it calls this callback (default: warnings and errors
 * to stderr). Pass NULL to silence everything. */
typedef enum hearth_log_level {
    HEARTH_LOG_DEBUG = 0,
    HEARTH_LOG_INFO,
    HEARTH_LOG_WARN,
    HEARTH_LOG_ERROR
} hearth_log_level;
typedef void (*hearth_log_fn)(hearth_log_level level, const char *message, void *user);
HEARTH_API void hearth_log_set(hearth_log_fn fn, void *user);
HEARTH_API void hearth_log_set_level(hearth_log_level min_level);

/* ------------------------------------------------------------------------------------------ */
/* Models                                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef int32_t hearth_token;
#define HEARTH_TOKEN_NULL (-1)

typedef struct hearth_model hearth_model;

typedef struct hearth_model_params {
    bool vocab_only;   /* load the tokenizer and metadata only (no weights needed)      */
    int n_gpu_layers;  /* layers to offload to a GPU backend: 0 none, -1 all, -2 auto   */
    bool use_mmap;     /* true: map the file, weights are never copied (pages shared with
                          the page cache and other processes; mapped as 2 MB pages where
                          the kernel's page cache has them); false: read the file into
                          memory backed by 2 MB huge pages where the kernel offers them —
                          a longer load and a private copy, faster only where the page
                          cache cannot give 2 MB pages (Ollama's use_mmap, llama.cpp's
                          --no-mmap). Resident memory is about the file size either way. */
} hearth_model_params;
/* Defaults: n_gpu_layers = $HEARTH_GPU_LAYERS (a count, "all", "auto") if set, else -2 (auto)
 * in a `make CUDA=1` build and 0 otherwise. Without a usable GPU, models run on the CPU.
 * use_mmap = true unless $HEARTH_MMAP is 0, "no" or "false". */

HEARTH_API hearth_model_params hearth_model_default_params(void);

/* Maps the GGUF file (or reads it in, see use_mmap), validates it completely and builds the
 * model. Returns NULL and fills err on any problem. */
HEARTH_API hearth_model *hearth_model_load(const char *path, const hearth_model_params *params,
                                           hearth_error *err);
HEARTH_API void hearth_model_free(hearth_model *model);

typedef struct hearth_model_info {
    const char *arch;         /* general.architecture: "llama", "qwen3", "bert", ...        */
    const char *name;         /* general.name, or "" */
    const char *file_type;    /* dominant weight type of the matrices: "Q8_0", "F16", ...  */
    uint64_t n_params;        /* number of weights over all tensors                       */
    uint64_t file_size;       /* bytes                                                    */
    int32_t n_vocab;
    int32_t n_ctx_train;      /* context length the model was trained for                */
    int32_t n_embd;
    int32_t n_layer;
    int32_t n_head;
    int32_t n_head_kv;
    int32_t n_ff;
    int32_t head_dim;
    float rope_freq_base;
    const char *tokenizer;    /* tokenizer.ggml.model: "llama", "gpt2", "bert", ...        */
    const char *pre;          /* tokenizer.ggml.pre, or ""                                 */
    const char *chat_template;/* tokenizer.chat_template, or NULL                          */
    uint64_t weight_bytes_per_token; /* weight bytes one decode step reads (all matrices
                                        except embedding lookups): the bandwidth bound      */
} hearth_model_info;

HEARTH_API void hearth_model_get_info(const hearth_model *model, hearth_model_info *info);

/* Metadata lookup: writes the value of GGUF key `key` as text into buf (arrays are
 * summarized). Returns the full length, or -1 if the key does not exist. */
HEARTH_API int32_t hearth_model_meta(const hearth_model *model, const char *key, char *buf,
                                     size_t buf_size);
HEARTH_API int32_t hearth_model_meta_count(const hearth_model *model);
HEARTH_API const char *hearth_model_meta_key(const hearth_model *model, int32_t i);

/* ------------------------------------------------------------------------------------------ */
/* Vocabulary and tokenization                                                                 */
/* ------------------------------------------------------------------------------------------ */

HEARTH_API int32_t hearth_vocab_size(const hearth_model *model);
HEARTH_API hearth_token hearth_token_bos(const hearth_model *model); /* HEARTH_TOKEN_NULL if none */
HEARTH_API hearth_token hearth_token_eos(const hearth_model *model);
HEARTH_API hearth_token hearth_token_eot(const hearth_model *model);
/* End of generation: EOS, EOT, or any other token the vocabulary marks as ending a turn. */
HEARTH_API bool hearth_token_is_eog(const hearth_model *model, hearth_token token);
HEARTH_API bool hearth_token_is_control(const hearth_model *model, hearth_token token);
/* The token's text as stored in the vocabulary (no byte decoding), or NULL if out of range. */
HEARTH_API const char *hearth_token_text(const hearth_model *model, hearth_token token);

/* Tokenizes text[0..len). add_special: add BOS/EOS as the vocabulary's rules say.
 * parse_special: recognize control/user-defined token text such as "<|im_start|>".
 * Returns the number of tokens written; if n_max is too small, returns minus the number
 * needed and writes nothing useful. Never fails on invalid UTF-8; INT32_MIN only if memory
 * ran out. */
HEARTH_API int32_t hearth_tokenize(const hearth_model *model, const char *text, int32_t len,
                                   hearth_token *tokens, int32_t n_max, bool add_special,
                                   bool parse_special);

/* Writes the bytes of one token (byte tokens become their byte; the SentencePiece space
 * marker becomes ' '). special: render control tokens' text instead of nothing.
 * Returns bytes written, or minus the size needed. Not NUL-terminated. */
HEARTH_API int32_t hearth_token_to_piece(const hearth_model *model, hearth_token token,
                                         char *buf, int32_t buf_size, bool special);

/* Detokenizes a whole sequence (applies leading-space and clean-up rules once).
 * Returns bytes written (not NUL-terminated), or minus the size needed. */
HEARTH_API int32_t hearth_detokenize(const hearth_model *model, const hearth_token *tokens,
                                     int32_t n_tokens, char *buf, int32_t buf_size,
                                     bool remove_special, bool unparse_special);

/* A deterministic English + code text of about `bytes` bytes for tokenizer benchmarks
 * (`hearth bench --tokenize`), the same on every machine. malloc'd; NULL when out of memory. */
HEARTH_API char *hearth_bench_corpus(size_t bytes, size_t *len);

/* Streaming detokenization, one generated token at a time: bytes of a UTF-8 character split
 * across tokens are held back until the character is complete, so every chunk written holds
 * whole characters (bytes that can never become valid pass through). Zero the state first. */
typedef struct hearth_detok_state {
    uint8_t pending[4];
    int32_t n_pending;
} hearth_detok_state;
/* Returns bytes written, or minus the size needed (state unchanged). special: render control
 * tokens' text. */
HEARTH_API int32_t hearth_detok_stream(const hearth_model *model, hearth_detok_state *state,
                                       hearth_token token, char *buf, int32_t buf_size,
                                       bool special);
/* End of the stream: writes what is still held (an unfinished character) as raw bytes. */
HEARTH_API int32_t hearth_detok_flush(hearth_detok_state *state, char *buf, int32_t buf_size);

/* ------------------------------------------------------------------------------------------ */
/* Chat: prompt templates and tool calls                                                       */
/* ------------------------------------------------------------------------------------------ */

typedef struct hearth_chat_options {
    bool add_generation_prompt; /* end with the opening of an assistant turn                  */
    int32_t enable_thinking;    /* -1: template default; 0: off (Qwen3 no-think); 1: on       */
    const char *tools_json;     /* JSON array of tool definitions (OpenAI shape), or NULL     */
    const char *template_text;  /* render this Jinja template instead of the model's, or NULL */
    const char *vars_json;      /* JSON object of further template variables ("date_string",
                                   "builtin_tools", ...); they cannot replace the ones above */
} hearth_chat_options;

HEARTH_API hearth_chat_options hearth_chat_default_options(void);

/* Renders a conversation with the model's tokenizer.chat_template (ChatML, with a warning,
 * when the model has none). messages_json: a JSON array of messages
 * {"role": "system"|"user"|"assistant"|"tool", "content", "tool_calls", "tool_call_id", "name"},
 * or an object with "messages" (and optionally "tools"). model may be NULL when
 * opt->template_text is set (then bos/eos are ""). *out: the prompt, malloc'd (free() it).
 * Errors name the message and field, or the template line and column. */
HEARTH_API hearth_status hearth_chat_render(const hearth_model *model, const char *messages_json,
                                            const hearth_chat_options *opt, char **out,
                                            hearth_error *err);

/* Finds tool calls in a model's reply: Qwen/Hermes <tool_call>{...}</tool_call> blocks,
 * Mistral [TOOL_CALLS][...] or Llama 3 JSON ({"name": ..., "parameters": ...}, optionally
 * after <|python_tag|>). *calls_json: malloc'd JSON array [{"name": "...", "arguments": {...}}]
 * (plus "id" when the model gave one), "[]" when the reply holds none; *content (may be NULL):
 * malloc'd text outside the calls. A malformed <tool_call> block is HEARTH_ERR_FORMAT. */
HEARTH_API hearth_status hearth_chat_parse_tool_calls(const char *text, size_t len,
                                                      char **calls_json, char **content,
                                                      hearth_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Contexts: KV cache + scratch for running a model                                            */
/* ------------------------------------------------------------------------------------------ */

typedef enum hearth_kv_type {
    HEARTH_KV_F16 = 0,
    HEARTH_KV_F32,
    HEARTH_KV_Q8_0
} hearth_kv_type;

typedef struct hearth_context hearth_context;

typedef struct hearth_context_params {
    int32_t n_ctx;        /* tokens of KV cache; 0 = min(model's n_ctx_train, 4096)      */
    int32_t n_batch;      /* most tokens per hearth_decode call; 0 = 512                  */
    int32_t n_threads;    /* 0 = number of physical cores                                */
    int32_t n_seq_max;    /* parallel sequences sharing the cache; 0 = 1                  */
    hearth_kv_type kv_type;
    bool embeddings;      /* produce pooled embeddings (bert) instead of logits          */
} hearth_context_params;

HEARTH_API hearth_context_params hearth_context_default_params(void);
HEARTH_API hearth_context *hearth_context_new(hearth_model *model,
                                              const hearth_context_params *params,
                                              hearth_error *err);
HEARTH_API void hearth_context_free(hearth_context *ctx);
HEARTH_API int32_t hearth_context_n_ctx(const hearth_context *ctx);

/* A batch of tokens to evaluate. pos, seq_id and logits may be NULL: then the tokens
 * continue sequence 0 from its current length and only the last token gets logits. */
typedef struct hearth_batch {
    int32_t n_tokens;
    const hearth_token *tokens;
    const int32_t *pos;     /* position of each token in its sequence                     */
    const int32_t *seq_id;  /* sequence of each token, 0 .. n_seq_max-1                    */
    const int8_t *logits;   /* nonzero: keep this token's logits                           */
} hearth_batch;

/* Runs the model over the batch, appending to the KV cache. Fails with
 * HEARTH_ERR_CONTEXT_FULL (and changes nothing) when a position would exceed n_ctx. */
HEARTH_API hearth_status hearth_decode(hearth_context *ctx, const hearth_batch *batch,
                                       hearth_error *err);

/* Logits of the i-th token of the last batch that asked for them (i = -1: the last one);
 * n_vocab floats, valid until the next hearth_decode. NULL if that token kept none. */
HEARTH_API const float *hearth_get_logits(hearth_context *ctx, int32_t i);

/* Embedding models (bert): the pooled embedding of a sequence after the last hearth_decode,
 * n_embd floats, NOT normalized; NULL for other models or before any decode. An encoder needs
 * each sequence whole in one batch, positions from 0. */
HEARTH_API const float *hearth_get_embeddings_seq(hearth_context *ctx, int32_t seq_id);
/* Embeds n_texts texts (lens[i] bytes each, or NUL-terminated when lens is NULL) into
 * out[i * n_embd ...], L2-normalized when normalize. Texts are tokenized with the model's
 * special tokens, packed several per decode (one sequence each, up to n_seq_max and
 * n_batch tokens), and cut at min(n_ctx, n_batch) tokens: *n_truncated (may be NULL) counts
 * the texts that were cut, so the caller can warn. */
HEARTH_API hearth_status hearth_embed(hearth_context *ctx, const char *const *texts,
                                      const int32_t *lens, int32_t n_texts, float *out,
                                      bool normalize, int32_t *n_truncated, hearth_error *err);

/* Current length of a sequence (the next position). */
HEARTH_API int32_t hearth_seq_len(const hearth_context *ctx, int32_t seq_id);
/* Forgets positions >= p0 of a sequence, so decoding continues from p0. */
HEARTH_API void hearth_seq_truncate(hearth_context *ctx, int32_t seq_id, int32_t p0);
/* Makes seq dst share src's first n positions (no copy of the prompt's computation). */
HEARTH_API hearth_status hearth_seq_copy(hearth_context *ctx, int32_t src, int32_t dst,
                                         int32_t n, hearth_error *err);
HEARTH_API void hearth_kv_clear(hearth_context *ctx);

/* ------------------------------------------------------------------------------------------ */
/* Sampling                                                                                    */
/* ------------------------------------------------------------------------------------------ */

#define HEARTH_MAX_TOP_LOGPROBS 20

/* The sampler's fixed order (docs/sampling.md): repetition/presence/frequency penalties ->
 * logit bias -> grammar mask -> top-k -> top-p -> min-p -> typical-p -> temperature -> draw
 * with hearth's own PRNG (xoshiro256**, seeded by `seed`): same seed and settings, same tokens
 * on any machine and thread count. temperature 0 = argmax after penalties, bias and grammar. */
typedef struct hearth_logit_bias {
    hearth_token token;
    float bias;              /* added to the logit; -INFINITY bans the token                 */
} hearth_logit_bias;

typedef struct hearth_sampler_params {
    float temperature;       /* 0 = greedy (argmax)                                          */
    int32_t top_k;           /* 0 = off                                                      */
    float top_p;             /* 1 = off                                                      */
    float min_p;             /* 0 = off                                                      */
    float typical_p;         /* 1 = off                                                      */
    float repeat_penalty;    /* 1 = off                                                      */
    float presence_penalty;  /* 0 = off                                                      */
    float frequency_penalty; /* 0 = off                                                      */
    int32_t penalty_last_n;  /* tokens of history the penalties look at                      */
    uint64_t seed;
    int32_t n_logprobs;      /* top alternatives to report per token, <= 20                  */
    const hearth_logit_bias *logit_bias; /* copied by hearth_sampler_new                     */
    int32_t n_logit_bias;
} hearth_sampler_params;

typedef struct hearth_token_logprob {
    hearth_token token;
    float logprob;
} hearth_token_logprob;

/* What the sampler chose, with log-probabilities from the model's full distribution
 * (before temperature and truncation, like OpenAI's logprobs). */
typedef struct hearth_sample {
    hearth_token token;
    float logprob;
    float entropy;  /* of the model's full distribution, in nats */
    int32_t n_top;
    hearth_token_logprob top[HEARTH_MAX_TOP_LOGPROBS];
} hearth_sample;

typedef struct hearth_sampler hearth_sampler;

HEARTH_API hearth_sampler_params hearth_sampler_default_params(void);
HEARTH_API hearth_sampler *hearth_sampler_new(const hearth_model *model,
                                              const hearth_sampler_params *params,
                                              hearth_error *err);
HEARTH_API void hearth_sampler_free(hearth_sampler *sampler);
/* Samples the next token from n_vocab logits and records it in the sampler's history (and
 * advances its grammar). Returns HEARTH_TOKEN_NULL when no token is allowed (the grammar
 * forbids every continuation, or the token budget cannot finish the value):
 * hearth_sampler_error() says why. out may be NULL. */
HEARTH_API hearth_token hearth_sampler_sample(hearth_sampler *sampler, const float *logits,
                                              hearth_sample *out);
/* Forgets history, grammar progress and budget; re-seeds the PRNG with params.seed. */
HEARTH_API void hearth_sampler_reset(hearth_sampler *sampler);
/* Adds a token to the penalty history without sampling it (e.g. the prompt's tokens). */
HEARTH_API void hearth_sampler_accept(hearth_sampler *sampler, hearth_token token);
HEARTH_API const char *hearth_sampler_error(const hearth_sampler *sampler);

/* ------------------------------------------------------------------------------------------ */
/* Structured output: grammars (GBNF, JSON Schema) that constrain sampling                     */
/* ------------------------------------------------------------------------------------------ */

/* A compiled grammar plus its token masks for one model's vocabulary. Several samplers on one
 * thread may share it (each keeps its own position in it); it must outlive them. */
typedef struct hearth_grammar hearth_grammar;

/* GBNF text (llama.cpp's syntax); root_rule NULL = "root". Errors name line:column. */
HEARTH_API hearth_grammar *hearth_grammar_new(const hearth_model *model, const char *gbnf,
                                              const char *root_rule, hearth_error *err);
/* A JSON Schema (text); NULL or "" = any JSON object (`--format json`). */
HEARTH_API hearth_grammar *hearth_grammar_new_json_schema(const hearth_model *model,
                                                          const char *schema, hearth_error *err);
HEARTH_API void hearth_grammar_free(hearth_grammar *grammar);
/* The GBNF a JSON Schema compiles to (malloc'd; free() it), or NULL and err. */
HEARTH_API char *hearth_json_schema_to_gbnf(const char *schema, hearth_error *err);
/* Attach (or with NULL detach) a grammar; the sampler starts at the grammar's beginning. */
HEARTH_API hearth_status hearth_sampler_set_grammar(hearth_sampler *sampler,
                                                    hearth_grammar *grammar, hearth_error *err);
/* Tokens the sampler may still produce (<= 0: unlimited). With a grammar, only tokens after
 * which the value can still be finished within the budget are allowed. */
HEARTH_API void hearth_sampler_set_budget(hearth_sampler *sampler, int32_t tokens_left);
/* True when the grammar has matched a complete value and nothing else may follow. */
HEARTH_API bool hearth_sampler_grammar_done(const hearth_sampler *sampler);

/* ------------------------------------------------------------------------------------------ */
/* Confidence and test-time scaling (docs/confidence.md)                                       */
/* ------------------------------------------------------------------------------------------ */

#define HEARTH_CONFIDENCE_THRESHOLD 0.7f

typedef struct hearth_confidence {
    int32_t n_tokens;
    float mean_logprob;   /* mean chosen-token logprob (nats)                                 */
    float min_prob;       /* smallest chosen-token probability                                */
    float mean_entropy;   /* mean entropy of the full next-token distributions (nats)         */
    float seq_logprob;    /* sum of chosen-token logprobs; sequence probability = exp(this)   */
    float agreement;      /* share of N samples agreeing with the answer; -1 when N = 1      */
    float score;          /* the combined score in [0,1]                                      */
} hearth_confidence;

/* Fills out from one generation's per-token samples; agreement < 0 when there was one sample. */
HEARTH_API void hearth_confidence_compute(const hearth_sample *samples, int32_t n,
                                          float agreement, hearth_confidence *out);
/* Canonical form of an answer for voting: JSON canonicalized (sorted keys, compact), numbers
 * in one spelling, otherwise trimmed, spaces collapsed, lower-cased, trailing '.' dropped.
 * Returns a malloc'd NUL-terminated string (free() it), or NULL when out of memory. */
HEARTH_API char *hearth_answer_normalize(const char *text, size_t len);
/* Majority vote over normalized answers. Returns the index of the first answer of the winning
 * group (ties: the group whose members have the highest total score, then the earliest);
 * scores may be NULL. *agreement = winners / n. -1 when n <= 0. */
HEARTH_API int32_t hearth_vote(const char *const *answers, const float *scores, int32_t n,
                               float *agreement);
/* Index of the generation with the highest mean token logprob (best-of-N). */
HEARTH_API int32_t hearth_best_of_n(const hearth_confidence *conf, int32_t n);

/* ------------------------------------------------------------------------------------------ */
/* Generation loop                                                                             */
/* ------------------------------------------------------------------------------------------ */

typedef enum hearth_stop_reason {
    HEARTH_STOP_EOG = 0,    /* the model ended its turn                                       */
    HEARTH_STOP_GRAMMAR,    /* the grammar's value is complete                                */
    HEARTH_STOP_STRING,     /* a stop string appeared (it is not part of the text)            */
    HEARTH_STOP_MAX_TOKENS, /* max_tokens reached                                             */
    HEARTH_STOP_CALLBACK    /* on_token returned false                                        */
} hearth_stop_reason;

/* Called once per produced token with the bytes it added to the visible text (stop-string
 * candidates are held back until they are known not to be one). Return false to stop. */
typedef bool (*hearth_token_fn)(const hearth_sample *sample, const char *piece, int32_t len,
                                void *user);

typedef struct hearth_generate_params {
    const hearth_model *model; /* the context's model: token text and end-of-generation       */
    int32_t max_tokens;        /* 0 = until the context is full                               */
    const char *const *stop;   /* stop strings                                                */
    int32_t n_stop;
    int32_t n_samples;         /* hearth_generate_n: parallel sequences (seq 0..n-1), 0 = 1   */
    hearth_token_fn on_token;  /* may be NULL; for hearth_generate_n it gets sequence 0 only  */
    void *user;
} hearth_generate_params;

typedef struct hearth_generation {
    char *text;                /* NUL-terminated visible text (stop string removed)            */
    size_t len;
    hearth_token *tokens;
    hearth_sample *samples;    /* one per token                                                */
    int32_t n_tokens;
    hearth_stop_reason stop;
    hearth_confidence confidence;
} hearth_generation;

/* Decodes the prompt into sequence 0 (continuing what the context holds) and samples until EOG,
 * grammar completion, a stop string, max_tokens or the callback says stop. */
HEARTH_API hearth_status hearth_generate(hearth_context *ctx, hearth_sampler *sampler,
                                         const hearth_token *prompt, int32_t n_prompt,
                                         const hearth_generate_params *params,
                                         hearth_generation *out, hearth_error *err);
/* N samples of one prompt: the prompt is decoded once into sequence 0 and shared with
 * sequences 1..N-1 (hearth_seq_copy); all N decode as one batch per step. samplers[i] drives
 * sequence i (give each its own seed). Needs n_seq_max >= N. Fills outs[0..N-1], sets each
 * confidence.agreement from a vote over the normalized texts, and returns the winner's index
 * in *winner (may be NULL). */
HEARTH_API hearth_status hearth_generate_n(hearth_context *ctx, hearth_sampler *const *samplers,
                                           const hearth_token *prompt, int32_t n_prompt,
                                           const hearth_generate_params *params,
                                           hearth_generation *outs, int32_t *winner,
                                           hearth_error *err);
HEARTH_API void hearth_generation_free(hearth_generation *gen);

/* ------------------------------------------------------------------------------------------ */
/* Model store and pull (Ollama's layout and registry protocol)                                */
/* ------------------------------------------------------------------------------------------ */

/* Models live in $HEARTH_MODELS (default ~/.hearth/models) as Ollama keeps them: sha256
 * blobs plus manifests. Names: "qwen3:0.6b", "user/model:tag", "hf.co/ORG/REPO:Q4_K_M". */
typedef struct hearth_store_entry {
    char name[400];        /* display name: "qwen3:0.6b"                                      */
    char digest[72];       /* "sha256:<hex>" of the manifest                                  */
    uint64_t size;         /* bytes of all layers                                             */
    int64_t modified;      /* unix seconds                                                    */
    char model_path[4096]; /* the GGUF blob                                                   */
} hearth_store_entry;

/* A name or a path to the GGUF file it stands for: an existing file is returned as it is;
 * otherwise the name is looked up in the store. */
HEARTH_API hearth_status hearth_store_resolve(const char *name_or_path, char *path,
                                              size_t path_size, hearth_error *err);
/* All models, sorted by name. *entries is malloc'd (free() it). */
HEARTH_API hearth_status hearth_store_list(hearth_store_entry **entries, int32_t *n,
                                           hearth_error *err);
/* Removes a name; blobs no other manifest uses are deleted too. */
HEARTH_API hearth_status hearth_store_remove(const char *name, hearth_error *err);
HEARTH_API hearth_status hearth_store_copy(const char *src, const char *dst, hearth_error *err);
/* Creates NAME from a Modelfile's text (FROM a GGUF path or a stored name; PARAMETER, TEMPLATE,
 * SYSTEM, LICENSE). Relative FROM paths are taken from base_dir. */
HEARTH_API hearth_status hearth_store_create(const char *name, const char *modelfile,
                                             const char *base_dir, hearth_error *err);
/* The text of a layer of a stored model ("params", "template", "system", "license"):
 * malloc'd into *out, or NULL when the model has no such layer. */
HEARTH_API hearth_status hearth_store_layer(const char *name, const char *kind, char **out,
                                            hearth_error *err);

/* Progress of a pull: status text ("pulling manifest", "pulling sha256:…", "verifying sha256
 * digest", "writing manifest", "success"), with byte counts while a blob downloads. */
typedef void (*hearth_pull_progress_fn)(const char *status, const char *digest,
                                        uint64_t completed, uint64_t total, void *user);
/* Pulls NAME from its registry (https://<host>, or $HEARTH_REGISTRY for every host): the
 * manifest, then each layer not already present, resumable (a partial blob continues where
 * it stopped), verified by sha256 before it is renamed into place. Return false from the
 * progress callback (via *cancel) to stop. */
HEARTH_API hearth_status hearth_store_pull(const char *name, hearth_pull_progress_fn progress,
                                           void *user, const volatile bool *cancel,
                                           hearth_error *err);

/* ------------------------------------------------------------------------------------------ */
/* HTTP server: the Ollama API (/api/...) and the OpenAI API (/v1/...)                         */
/* ------------------------------------------------------------------------------------------ */

typedef struct hearth_server_params {
    const char *host;     /* listen address; default "127.0.0.1"                               */
    int32_t port;         /* default 11434; 0 = any free port (see hearth_server_port)         */
    int32_t n_slots;      /* concurrent generations per model, batched together; default 4     */
    int32_t n_ctx;        /* context per generation; default 4096 (capped by the model)         */
    int32_t n_threads;    /* 0 = physical cores                                                */
    int32_t max_queue;    /* requests waiting per model before 503; default 64                 */
    int32_t max_connections; /* default 128                                                   */
    double keep_alive;    /* seconds a model stays loaded after its last request; default 300  */
    const char *api_key;  /* when set, every request needs "Authorization: Bearer <key>"       */
    bool no_mmap;         /* read models into memory instead of mapping them (see
                             hearth_model_params.use_mmap); default false: mapped            */
} hearth_server_params;

typedef struct hearth_server hearth_server;

HEARTH_API hearth_server_params hearth_server_default_params(void);
/* Starts serving on its own threads; returns at once. */
HEARTH_API hearth_server *hearth_server_start(const hearth_server_params *params,
                                              hearth_error *err);
HEARTH_API int32_t hearth_server_port(const hearth_server *server);
/* Stops accepting, finishes nothing further, unloads every model. */
HEARTH_API void hearth_server_stop(hearth_server *server);

/* ------------------------------------------------------------------------------------------ */
/* RAG: document stores, ingestion, search (docs/rag.md)                                       */
/* ------------------------------------------------------------------------------------------ */

/* A store is one SQLite file: documents, chunks (path, line range, heading path, page), an
 * FTS5 index and, when ingested with an embedding model, one vector per chunk. A store handle
 * may hold the embedding model its vectors come from (hearth_rag_load_embedder). One thread at
 * a time per handle; several processes may open the same store. */
typedef struct hearth_rag_store hearth_rag_store;

/* Opens the store NAME ($HEARTH_HOME/stores/NAME.db, HEARTH_HOME defaults to ~/.hearth) or, when
 * name_or_path contains '/', the file at that path. create: make the store (and the stores
 * directory) when missing; otherwise a missing store is HEARTH_ERR_NOT_FOUND naming the path.
 * Returns NULL and fills err on failure. */
HEARTH_API hearth_rag_store *hearth_rag_open(const char *name_or_path, bool create, hearth_error *err);
/* Closes the store and frees its embedding model. NULL is a no-op. */
HEARTH_API void hearth_rag_close(hearth_rag_store *store);
/* The store's file path (owned by the store). */
HEARTH_API const char *hearth_rag_path(const hearth_rag_store *store);

/* Loads the embedding model (a bert GGUF) that ingestion and vector search use, replacing any
 * loaded before. model_path NULL: the model recorded when the store was ingested; a store
 * without one leaves *loaded false and returns HEARTH_OK (BM25 only). n_threads 0 = physical
 * cores. loaded may be NULL. A model given by path is recorded in the store by the next
 * successful hearth_rag_ingest. */
HEARTH_API hearth_status hearth_rag_load_embedder(hearth_rag_store *store, const char *model_path,
                                                  int32_t n_threads, bool *loaded, hearth_error *err);
/* Frees the embedding model (e.g. before loading a chat model); the store stays open. */
HEARTH_API void hearth_rag_unload_embedder(hearth_rag_store *store);
HEARTH_API bool hearth_rag_has_embedder(const hearth_rag_store *store);

/* Why a file was not ingested. */
typedef enum hearth_rag_skip {
    HEARTH_RAG_SKIP_NONE = 0,
    HEARTH_RAG_SKIP_BINARY,     /* NUL bytes or mostly invalid UTF-8                            */
    HEARTH_RAG_SKIP_TOO_LARGE,  /* above max_file_size                                          */
    HEARTH_RAG_SKIP_UNREADABLE, /* cannot be opened or read (permissions, dangling link)        */
    HEARTH_RAG_SKIP_CORRUPT,    /* a PDF or HTML file that cannot be parsed                    */
    HEARTH_RAG_SKIP_EMPTY,      /* no text                                                      */
    HEARTH_RAG_SKIP_COUNT
} hearth_rag_skip;
/* "binary", "too large", "unreadable", "corrupt", "empty" ("ok" for NONE, "?" if unknown). */
HEARTH_API const char *hearth_rag_skip_name(hearth_rag_skip reason);

/* Called before each file (path) and once at the end (path NULL, done == total). */
typedef void (*hearth_rag_progress_fn)(size_t done, size_t total, const char *path, void *user);

typedef struct hearth_rag_ingest_params {
    const char *const *include; /* globs; none = every file (a glob with '/' matches the path
                                   below the ingested directory, otherwise the file name)     */
    int32_t n_include;
    const char *const *exclude; /* globs; a matching directory is not descended                */
    int32_t n_exclude;
    uint64_t max_file_size;     /* bigger files are skipped; default 64 MiB                    */
    int32_t chunk_tokens;       /* upper bound per chunk; default 200                          */
    int32_t chunk_overlap;      /* tokens repeated between consecutive chunks; default 32       */
    int32_t embed_batch;        /* chunks per embedding call; default 16                       */
    hearth_rag_progress_fn progress; /* may be NULL */
    void *progress_user;
} hearth_rag_ingest_params;

typedef struct hearth_rag_ingest_summary {
    int64_t files;     /* files looked at                                                     */
    int64_t added, updated, unchanged, removed;
    int64_t chunks;    /* chunks written                                                      */
    int64_t skipped[HEARTH_RAG_SKIP_COUNT]; /* files skipped, by reason                        */
    int64_t skipped_total;
    double seconds;
} hearth_rag_ingest_summary;

HEARTH_API hearth_rag_ingest_params hearth_rag_ingest_default_params(void);
/* Adds files and directories (recursively; hidden entries skipped) to the store, with the
 * loaded embedding model's vectors (none loaded: BM25 only). Incremental: unchanged files are
 * skipped, changed ones replaced, documents under an ingested directory whose file is gone are
 * removed. Each document is one transaction. Per-file problems are counted in sum->skipped
 * (with one logged warning each); only store or model failures return an error (also a
 * store built with another embedding model). sum may be NULL. */
HEARTH_API hearth_status hearth_rag_ingest(hearth_rag_store *store, const char *const *paths,
                                           int32_t n_paths, const hearth_rag_ingest_params *params,
                                           hearth_rag_ingest_summary *sum, hearth_error *err);

typedef enum hearth_rag_mode {
    HEARTH_RAG_MODE_VECTOR = 0, /* cosine similarity: exact, or HNSW above 20000 chunks         */
    HEARTH_RAG_MODE_BM25,       /* FTS5 full-text ranking                                       */
    HEARTH_RAG_MODE_HYBRID,     /* reciprocal rank fusion of both                               */
    HEARTH_RAG_MODE_AUTO        /* hybrid when an embedding model is loaded, else BM25          */
} hearth_rag_mode;
/* "vector", "bm25", "hybrid", "auto". */
HEARTH_API const char *hearth_rag_mode_name(hearth_rag_mode mode);
/* The mode a search with `mode` runs in on this store now (AUTO resolved). */
HEARTH_API hearth_rag_mode hearth_rag_effective_mode(const hearth_rag_store *store,
                                                     hearth_rag_mode mode);

typedef struct hearth_rag_search_params {
    hearth_rag_mode mode;   /* default HEARTH_RAG_MODE_AUTO; vector and hybrid need a model   */
    int32_t k;              /* results wanted; default 5                                       */
    const char *path_glob;  /* only documents whose path matches ('*' crosses '/'; a relative
                               glob matches at any directory); NULL = all                     */
    int32_t ef_search;      /* HNSW candidate list; 0 = the index default                      */
} hearth_rag_search_params;

/* One retrieved chunk. Strings are owned by the hit array (hearth_rag_hits_free). */
typedef struct hearth_rag_hit {
    int64_t chunk_id;
    double score;           /* higher is better; scale depends on the mode                     */
    char *path;             /* the document's absolute path                                    */
    char *text;             /* the chunk's text                                                */
    char *heading;          /* "Top > Sub", "" when none                                       */
    int32_t line_start, line_end; /* 1-based, inclusive                                        */
    int32_t page;           /* 1-based for PDF, 0 otherwise                                    */
    int64_t byte_start, byte_end;
} hearth_rag_hit;

HEARTH_API hearth_rag_search_params hearth_rag_search_default_params(void);
/* Up to k chunks best first into *hits (malloc'd; free with hearth_rag_hits_free), *n_hits
 * their count (0 is not an error). */
HEARTH_API hearth_status hearth_rag_search(hearth_rag_store *store, const char *query,
                                           const hearth_rag_search_params *params,
                                           hearth_rag_hit **hits, int32_t *n_hits,
                                           hearth_error *err);
HEARTH_API void hearth_rag_hits_free(hearth_rag_hit *hits, int32_t n_hits);
/* A one-line excerpt of about max_len bytes (plus "..." where text was cut) around the
 * earliest query word of 3+ characters in text (or its start); malloc'd, NULL when out of
 * memory. */
HEARTH_API char *hearth_rag_snippet(const char *text, const char *query, size_t max_len);
/* "path:12-30" or "path (page 3)", with the path shown relative to the current directory when
 * it lies below it. Returns the length written (truncated to cap). */
HEARTH_API int32_t hearth_rag_hit_location(const hearth_rag_hit *hit, char *buf, size_t cap);

typedef struct hearth_rag_info {
    char model[256];        /* the embedding model's name, "" for a BM25-only store           */
    char model_path[4096];  /* the model file recorded at ingest, or ""                        */
    int32_t dim;            /* vector dimensions, 0 without vectors                            */
    int64_t documents, chunks, vectors;
} hearth_rag_info;

HEARTH_API hearth_status hearth_rag_get_info(hearth_rag_store *store, hearth_rag_info *info,
                                             hearth_error *err);
/* Checks the whole store: SQLite integrity, the FTS index against the chunks, every document
 * holding exactly its chunks and vectors. HEARTH_ERR_FORMAT names the first problem. */
HEARTH_API hearth_status hearth_rag_verify(hearth_rag_store *store, hearth_error *err);

/* Retrieval for answering (`hearth rag ask`): whether the store holds anything relevant to
 * the question: a full-text match for some non-trivial word, or (with an embedding model) a
 * chunk with cosine similarity >= min_score that also stands 0.1 above the median of the 50
 * closest. params' path_glob and ef_search apply; mode and k do not. */
HEARTH_API hearth_status hearth_rag_relevant(hearth_rag_store *store, const char *question,
                                             const hearth_rag_search_params *params,
                                             double min_score, bool *relevant, hearth_error *err);
/* The chat messages (JSON array for hearth_chat_render) that ask a model to answer question
 * from the numbered hits only and cite them as [n]. Malloc'd into *messages_json. */
HEARTH_API hearth_status hearth_rag_answer_messages(const char *question,
                                                    const hearth_rag_hit *hits, int32_t n_hits,
                                                    char **messages_json, hearth_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Synthetic models: random weights in a real architecture's exact GGUF layout (hearth synth)  */
/* ------------------------------------------------------------------------------------------ */

/* Presets are real models' shapes ("qwen3-0.6b", "llama-3.2-1b", ...). */
typedef struct hearth_synth_preset_info {
    const char *name;   /* "qwen3-0.6b"                                                        */
    const char *arch;   /* "qwen3"                                                             */
    const char *about;  /* "Qwen3-0.6B: 28 layers, ..."                                        */
} hearth_synth_preset_info;

HEARTH_API int32_t hearth_synth_preset_count(void);
/* Fills *info for preset i (static strings); false when i is out of range. */
HEARTH_API bool hearth_synth_preset_get(int32_t i, hearth_synth_preset_info *info);
/* Index of the preset called name (case-insensitive), or -1. */
HEARTH_API int32_t hearth_synth_preset_find(const char *name);
/* True when hearth can write weights of this type: "f32" "f16" "bf16" "q8_0" "q4_0" "q4_1"
 * "q5_0" "q5_1" "q2_k" "q3_k" "q4_k" "q5_k" "q6_k", or a llama-quantize mix "q3_k_m" "q4_k_s"
 * "q4_k_m" "q5_k_s" "q5_k_m". */
HEARTH_API bool hearth_synth_type_valid(const char *type);

/* Zero / NULL / -1 fields take the preset's value, else the default named. */
typedef struct hearth_synth_params {
    const char *preset;      /* start from this preset's shape, or NULL (then arch is needed)  */
    const char *arch;        /* "llama", "qwen2", "qwen3", "phi3", "bert"; must match preset's  */
    int64_t n_embd, n_layer, n_head;
    int64_t n_head_kv;       /* default n_head                                                  */
    int64_t head_dim;        /* default n_embd / n_head                                         */
    int64_t n_ff;
    int64_t n_vocab;         /* default 32000; must stay 0 with vocab_path                      */
    int64_t n_ctx;           /* default 4096 (bert 512)                                         */
    double rope_theta;       /* default 10000                                                   */
    double norm_eps;         /* default 1e-5 (bert 1e-12)                                       */
    int32_t tied;            /* -1 default (untied), 0 untied, 1 output reuses token_embd        */
    int32_t pooling;         /* bert: -1 default (mean), 0 none, 1 mean, 2 cls                   */
    const char *type;        /* weight type or mix (hearth_synth_type_valid); NULL = "f16"      */
    const char *embd_type;   /* token_embd.weight's type; NULL = chosen by type                 */
    const char *output_type; /* output.weight's type; NULL = chosen by type                     */
    const char *name;        /* general.name; NULL = "<preset or arch> (hearth synth)"          */
    const char *vocab_path;  /* copy tokenizer.* from this GGUF; NULL = a synthetic vocabulary   */
    uint64_t seed;           /* same seed, same bytes (whatever n_threads)                      */
    int32_t n_threads;       /* 0 = physical cores                                              */
} hearth_synth_params;

typedef struct hearth_synth_summary {
    const char *arch;        /* static string                                                   */
    int64_t n_tensors;
    uint64_t n_params;
    uint64_t file_size;      /* bytes                                                           */
    int64_t n_vocab;         /* after vocab_path                                                */
} hearth_synth_summary;

/* Called after each piece written with bytes of tensor data done / total; return false to stop
 * (the write then fails with HEARTH_ERR_CANCELLED and leaves no file behind). */
typedef bool (*hearth_synth_progress_fn)(const char *tensor, uint64_t done, uint64_t total,
                                         void *user);

/* preset NULL, tied -1, pooling -1, everything else 0 / NULL. */
HEARTH_API hearth_synth_params hearth_synth_default_params(void);
/* Writes the model to path atomically (temporary file + rename), tensor by tensor in bounded
 * memory. An inconsistent or unknown setting is HEARTH_ERR_INVALID_ARG naming the field.
 * progress and summary may be NULL. */
HEARTH_API hearth_status hearth_synth_model(const hearth_synth_params *params, const char *path,
                                            hearth_synth_progress_fn progress, void *user,
                                            hearth_synth_summary *summary, hearth_error *err);

/* ------------------------------------------------------------------------------------------ */
/* Agents and workflows (docs/agent.md)                                                        */
/* ------------------------------------------------------------------------------------------ */

/* A loaded agent (agent.yaml) or workflow (workflow.yaml) with its model backend. Runs are
 * journaled in a SQLite file, so an interrupted run resumes without repeating model or tool
 * steps, and a run can be replayed from any step. One thread at a time per handle. */
typedef struct hearth_agent hearth_agent;

typedef struct hearth_agent_params {
    const char *state_path;  /* run journal; NULL = the file's audit.state, else
                                hearth_agent_default_state()                                  */
    const char *script_path; /* answer from this JSON script instead of running the models
                                the file names (deterministic; for tests and demos)           */
    bool allow_network;      /* false: never escalate, whatever the policy; default true       */
    bool approve;            /* workflows: approve the pending approval node                  */
} hearth_agent_params;

HEARTH_API hearth_agent_params hearth_agent_default_params(void);
/* The journal used when nothing names one: $HEARTH_STATE, else ~/.hearth/runs.db (~/.hearth is
 * created), else ./hearth-runs.db without $HOME. Returns false when buf is too small. */
HEARTH_API bool hearth_agent_default_state(char *buf, size_t cap);

/* Loads and validates an agent definition, and its models (or the script) up front, so a bad
 * file or model fails here: HEARTH_ERR_FORMAT / _INVALID_ARG naming the file and field. */
HEARTH_API hearth_agent *hearth_agent_load(const char *yaml_path, const hearth_agent_params *params,
                                           hearth_error *err);
/* The same for a workflow graph (nodes: llm, tool, retrieve, branch, approval, agent). */
HEARTH_API hearth_agent *hearth_agent_load_workflow(const char *yaml_path,
                                                    const hearth_agent_params *params,
                                                    hearth_error *err);
HEARTH_API void hearth_agent_free(hearth_agent *agent);
HEARTH_API bool hearth_agent_is_workflow(const hearth_agent *agent);

/* Run events, one JSON object each, as they happen: {"type": "start" | "plan" | "tool" |
 * "observation" | "answer" | "decision" | "escalation" | "node" | "approval" | "span" |
 * "final", ...}. The text is valid only during the call. */
typedef void (*hearth_agent_event_fn)(const char *event_json, void *user);

typedef struct hearth_agent_result {
    char run_id[64];         /* set as soon as the run exists (also when it then fails)        */
    char *answer;            /* malloc'd, or NULL                                             */
    char *decision;          /* agents: "accepted", "accepted_after_retry", "escalated",
                                "low_confidence"; workflows: "done", or "waiting" (for approval) */
    double confidence;
    bool low_confidence;
    bool escalated;
    int32_t steps;
    int32_t tool_calls;      /* executed in this process (not taken from the journal)          */
    int32_t tokens;
} hearth_agent_result;

/* Runs an agent on task (a workflow on its input; NULL = ""). on_event may be NULL. out is
 * always filled (free it with hearth_agent_result_free, also after a failure). */
HEARTH_API hearth_status hearth_agent_run(hearth_agent *agent, const char *task,
                                          hearth_agent_event_fn on_event, void *user,
                                          hearth_agent_result *out, hearth_error *err);
/* Continues the journaled run run_id (interrupted, or a workflow waiting for approval). */
HEARTH_API hearth_status hearth_agent_resume(hearth_agent *agent, const char *run_id,
                                             hearth_agent_event_fn on_event, void *user,
                                             hearth_agent_result *out, hearth_error *err);
/* A new run of run_id's task that reuses its journaled steps before from_step and executes
 * the rest again. Agents only (a workflow is HEARTH_ERR_UNSUPPORTED). */
HEARTH_API hearth_status hearth_agent_replay(hearth_agent *agent, const char *run_id,
                                             int64_t from_step, hearth_agent_event_fn on_event,
                                             void *user, hearth_agent_result *out,
                                             hearth_error *err);
HEARTH_API void hearth_agent_result_free(hearth_agent_result *result);

typedef struct hearth_agent_run_info {
    char kind[16];           /* "agent" or "workflow"                                          */
    char status[32];         /* "running", "done", "waiting", "failed", ...                    */
    char spec_path[4096];    /* the agent or workflow file the run was started from            */
} hearth_agent_run_info;

/* Looks up a run in the journal at state_path: HEARTH_ERR_NOT_FOUND when it is not there. */
HEARTH_API hearth_status hearth_agent_run_get(const char *state_path, const char *run_id,
                                              hearth_agent_run_info *info, hearth_error *err);
/* run_id NULL: the journal's runs as a JSON array of {run_id, kind, spec, task, status,
 * created, steps}; else that run's steps [{seq, kind, input, output}] ([] when it has none).
 * *json is malloc'd. */
HEARTH_API hearth_status hearth_agent_runs_json(const char *state_path, const char *run_id,
                                                char **json, hearth_error *err);

/* Checks an audit log's hash chain (every record's seq, prev link and sha256 hash).
 * *n_records (may be NULL) counts the good records before the first bad one; a broken chain
 * is HEARTH_ERR_FORMAT naming FILE:LINE. */
HEARTH_API hearth_status hearth_audit_verify(const char *path, int64_t *n_records,
                                             hearth_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HEARTH_H */
