/*
 * engine_backend.c — the model backend that runs local GGUF models through include/hearth.h.
 *
 * NOT WIRED YET: the engine (model loading, decoding), chat templates and constrained sampling
 * are being written in parallel. Until they land this backend refuses with a clear message,
 * and `hearth agent run` needs --script (the scripted backend). Wiring plan: load each role's
 * model once (hearth_model_load), render the chat template, decode with the plan schema as a
 * grammar constraint for the planner, and report exp(mean token logprob) as confidence.
 */
#include "agent/agent.h"
#include "base/base.h"

hearth_status agent_backend_engine(const agent_config *cfg, agent_backend *out, hearth_error *err)
{
    (void)out;
    return hearth_fail(err, HEARTH_ERR_UNSUPPORTED,
                       "%s: the local engine backend is not wired into the agent yet; use --script FILE "
                       "(scripted backend)", cfg->path);
}
