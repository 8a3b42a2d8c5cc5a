/* synth_api.c — the public synth API of include/hearth.h (hearth_synth_*): presets and
 * explicit settings become a hearth_synth_config (preset first, explicit values on top,
 * architecture-dependent defaults for what neither gives), written by hearth_synth_write. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "model/synth.h"

/* Architectures synth writes; the public API hands out these static strings. */
static const char *const archs[] = {"llama", "qwen2", "qwen3", "phi3", "bert"};

static const char *static_arch(const char *arch)
{
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(archs); i++)
        if (!strcmp(arch, archs[i])) return archs[i];
    return "";
}

int32_t hearth_synth_preset_count(void) { return hearth_synth_n_presets(); }

bool hearth_synth_preset_get(int32_t i, hearth_synth_preset_info *info)
{
    hearth_synth_config c;
    const char *name = hearth_synth_preset_name(i);
    if (!info || !name || !hearth_synth_preset(name, &c)) return false;
    *info = (hearth_synth_preset_info){.name = name, .arch = static_arch(c.arch), .about = hearth_synth_preset_about(i)};
    return true;
}

int32_t hearth_synth_preset_find(const char *name)
{
    for (int32_t i = 0; name && i < hearth_synth_n_presets(); i++)
        if (!strcasecmp(hearth_synth_preset_name(i), name)) return i;
    return -1;
}

bool hearth_synth_type_valid(const char *type)
{
    hearth_type t;
    hearth_synth_mix mix;
    return type && hearth_synth_parse_type(type, &t, &mix);
}

hearth_synth_params hearth_synth_default_params(void)
{
    return (hearth_synth_params){.tied = -1, .pooling = -1};
}

static hearth_status type_field(const char *field, const char *s, hearth_type *t, hearth_synth_mix *mix,
                                hearth_error *err)
{
    if (hearth_synth_parse_type(s, t, mix)) return HEARTH_OK;
    return hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                       "%s: expected f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k or a "
                       "mix (q3_k_m q4_k_s q4_k_m q5_k_s q5_k_m), found '%s'", field, s);
}

/* The preset, then the explicit fields; the same rules `hearth synth` documents. */
static hearth_status build_config(const hearth_synth_params *p, hearth_synth_config *c, hearth_error *err)
{
    if (p->preset) {
        if (!hearth_synth_preset(p->preset, c))
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "preset: unknown preset '%s'", p->preset);
        if (p->arch && strcmp(p->arch, c->arch) != 0)
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "arch %s contradicts preset %s (a %s model)", p->arch,
                               p->preset, c->arch);
    } else {
        hearth_synth_defaults(c);
        if (!p->arch) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "give a preset, or an arch with dimensions");
    }
    if (p->vocab_path && p->n_vocab)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "n_vocab conflicts with vocab_path (the vocab file decides the size)");
    if (p->arch) snprintf(c->arch, sizeof c->arch, "%s", p->arch); /* hearth_synth_write names a bad one */
    bool bert = strcmp(c->arch, "bert") == 0, preset = p->preset != NULL;
    c->vocab_path = p->vocab_path;
    if (p->n_embd) c->n_embd = p->n_embd;
    if (p->n_layer) c->n_layer = p->n_layer;
    if (p->n_head) c->n_head = p->n_head;
    if (p->n_head_kv) c->n_head_kv = p->n_head_kv;
    else if (!preset) c->n_head_kv = c->n_head;
    if (p->head_dim) c->head_dim = p->head_dim;
    if (p->n_ff) c->n_ff = p->n_ff;
    if (p->n_vocab) c->n_vocab = p->n_vocab;
    else if (!preset && !p->vocab_path) c->n_vocab = 32000;
    if (p->n_ctx) c->n_ctx = p->n_ctx;
    else if (!preset) c->n_ctx = bert ? 512 : 4096;
    if (p->rope_theta > 0) c->rope_theta = p->rope_theta;
    if (p->norm_eps > 0) c->norm_eps = p->norm_eps;
    else if (!preset && bert) c->norm_eps = 1e-12;
    if (p->tied >= 0) c->tied = p->tied != 0;
    if (p->pooling >= 0) c->pooling = p->pooling;
    else if (!preset && bert) c->pooling = 1;
    c->seed = p->seed;
    c->n_threads = p->n_threads;
    if (p->name) snprintf(c->name, sizeof c->name, "%s", p->name);
    hearth_synth_mix mix;
    hearth_type t;
    hearth_status st = HEARTH_OK;
    if (p->type) st = type_field("type", p->type, &c->type, &c->mix, err);
    if (!st && p->embd_type && !(st = type_field("embd_type", p->embd_type, &t, &mix, err))) c->embd_type = (int)t;
    if (!st && p->output_type && !(st = type_field("output_type", p->output_type, &t, &mix, err))) c->output_type = (int)t;
    return st;
}

hearth_status hearth_synth_model(const hearth_synth_params *params, const char *path, hearth_synth_progress_fn progress,
                                 void *user, hearth_synth_summary *summary, hearth_error *err)
{
    if (summary) memset(summary, 0, sizeof *summary);
    if (!params || !path || !*path)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "hearth_synth_model: params and an output path are required");
    hearth_synth_config c;
    hearth_status st = build_config(params, &c, err);
    if (st) return st;
    hearth_synth_result r = {0};
    if ((st = hearth_synth_write(&c, path, progress, user, &r, err))) return st;
    if (summary)
        *summary = (hearth_synth_summary){.arch = static_arch(c.arch), .n_tensors = r.n_tensors, .n_params = r.n_params,
                                          .file_size = r.file_size, .n_vocab = r.n_vocab};
    return HEARTH_OK;
}
