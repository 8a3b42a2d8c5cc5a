/*
 * policy.c — whether an answer may be escalated, and the escalation itself:
 *   1. a policy must be configured, network allowed by the caller, and an audit log present
 *      (every crossing must leave a record);
 *   2. the API key variable, if named, must be set;
 *   3. today's count of escalations in the audit log must be under budget_per_day;
 *   4. the data classes found in the minimal context must not be forbidden, and must be allowed;
 *   5. after redaction, the payload must not match a policy deny pattern.
 * Then the redacted minimal context (task + successful observations, nothing else) is sent,
 * the reply's placeholders are restored locally, and an audit record says what left, why,
 * at which confidence, under which rule.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/run_internal.h"
#include "base/base.h"

static const char REMOTE_SYSTEM[] =
    "You answer a task for a local assistant. Some values were replaced by placeholders such as "
    "[EMAIL_1]; keep placeholders exactly as written. Cite observations as [n].";

static unsigned classes_mask(const agent_strlist *l)
{
    unsigned m = 0, c;
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->items[i], "*")) return REDACT_ALL;
        if (agent_redact_class_parse(l->items[i], &c)) m |= c;
    }
    return m;
}

static bool denied_by_pattern(const agent_config *cfg, const char *text)
{
    bool hit = false;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    for (size_t i = 0; md && i < cfg->deny_patterns.n && !hit; i++) {
        int code;
        PCRE2_SIZE off;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)cfg->deny_patterns.items[i], PCRE2_ZERO_TERMINATED, PCRE2_UTF,
                                       &code, &off, NULL);
        hit = !re || pcre2_match(re, (PCRE2_SPTR)text, strlen(text), 0, 0, md, NULL) >= 0;
        pcre2_code_free(re);
    }
    pcre2_match_data_free(md);
    return hit;
}

char *agent_policy_rewrite(const agent_config *cfg, const char *text)
{
    char *cur = strdup(text);
    for (size_t i = 0; cur && i < cfg->rewrite_from.n; i++) {
        int code;
        PCRE2_SIZE off;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)cfg->rewrite_from.items[i], PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code,
                                       &off, NULL);
        if (!re) continue; /* checked at load: cannot happen */
        size_t cap = strlen(cur) * 2 + 256;
        for (int attempt = 0; attempt < 8; attempt++) {
            char *out = malloc(cap);
            PCRE2_SIZE out_len = cap;
            int rc = out ? pcre2_substitute(re, (PCRE2_SPTR)cur, PCRE2_ZERO_TERMINATED, 0,
                                            PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH, NULL, NULL,
                                            (PCRE2_SPTR)cfg->rewrite_to.items[i], PCRE2_ZERO_TERMINATED,
                                            (PCRE2_UCHAR *)out, &out_len)
                         : PCRE2_ERROR_NOMEMORY;
            if (rc == PCRE2_ERROR_NOMEMORY && out) { /* out_len now says how much is needed */
                free(out);
                cap = out_len + 1;
                continue;
            }
            if (rc >= 0) {
                free(cur);
                cur = out;
            } else {
                free(out); /* a bad replacement string: leave the text as it is */
            }
            break;
        }
        pcre2_code_free(re);
    }
    return cur;
}

static void class_names(unsigned mask, char *buf, size_t size)
{
    buf[0] = 0;
    size_t w = 0;
    for (unsigned c = 1; c <= REDACT_TERM; c <<= 1)
        if (mask & c) w += (size_t)snprintf(buf + w, w < size ? size - w : 0, "%s%s", w ? "," : "", agent_redact_class_name(c));
}

/* Checks rules 1-4; on refusal fills why and returns NULL, else returns the rule that allowed. */
static const char *check_policy(run_state *rs, const char *context, unsigned *found, char *why, size_t why_size)
{
    const agent_escalation *e = &rs->cfg->esc;
    if (!e->configured) return snprintf(why, why_size, "no escalation policy configured"), NULL;
    if (!rs->opts->allow_network) return snprintf(why, why_size, "network use disabled for this run"), NULL;
    if (!rs->audit) return snprintf(why, why_size, "escalation requires audit.path (every crossing is audited)"), NULL;
    if (e->api_key_env && !getenv(e->api_key_env))
        return snprintf(why, why_size, "escalation.api_key_env: $%s is not set", e->api_key_env), NULL;
    long used = agent_audit_count_today(rs->cfg->audit_path, "escalation");
    if (used >= e->budget_per_day)
        return snprintf(why, why_size, "escalation.budget_per_day exhausted (%ld of %ld used today)", used,
                        e->budget_per_day), NULL;
    *found = agent_detect_classes(context, &e->terms);
    unsigned forbid = classes_mask(&e->forbid_classes), allow = classes_mask(&e->allow_classes);
    char names[128];
    if (*found & forbid) {
        class_names(*found & forbid, names, sizeof names);
        return snprintf(why, why_size, "escalation.forbid_classes: context contains %s", names), NULL;
    }
    if (*found & ~allow) {
        class_names(*found & ~allow, names, sizeof names);
        return snprintf(why, why_size, "escalation.allow_classes: context contains %s, which is not allowed", names), NULL;
    }
    return *found ? "escalation.allow_classes" : "escalation (no sensitive data classes found)";
}

bool run_escalate(run_state *rs, const char *task, double confidence, char **answer, char *why, size_t why_size)
{
    *answer = NULL;
    char *obs = run_observations_text(rs, true, 2000);
    size_t n = strlen(task) + (obs ? strlen(obs) : 0) + 64;
    char *context = malloc(n);
    if (!obs || !context) {
        free(obs);
        free(context);
        snprintf(why, why_size, "out of memory");
        return false;
    }
    snprintf(context, n, "Task: %s\n%s%s", task, *obs ? "Observations:\n" : "", obs);
    free(obs);
    unsigned found = 0;
    const char *rule = check_policy(rs, context, &found, why, why_size);
    if (!rule) {
        free(context);
        return false;
    }
    const agent_escalation *e = &rs->cfg->esc;
    unsigned redact = e->redact.n ? classes_mask(&e->redact) : REDACT_ALL;
    agent_redactor *r = agent_redactor_new(redact | REDACT_TERM, &e->terms);
    char *sent = r ? agent_redact(r, context) : NULL;
    free(context);
    if (!sent) {
        agent_redactor_free(r);
        snprintf(why, why_size, "redaction failed");
        return false;
    }
    char *rewritten = agent_policy_rewrite(rs->cfg, sent);
    if (rewritten) {
        free(sent);
        sent = rewritten;
    }
    if (denied_by_pattern(rs->cfg, sent)) {
        snprintf(why, why_size, "policy.deny_patterns: the redacted payload matches a deny pattern");
        free(sent);
        agent_redactor_free(r);
        return false;
    }
    /* Journaled like any effect: a resumed run does not send the data a second time. */
    long seq = rs->seq++;
    json_t *done = agent_journal_lookup(rs->journal, rs->run_id, seq, "escalate");
    char names[128];
    class_names(agent_redactor_found(r), names, sizeof names);
    if (!done) {
        uint64_t t0 = run_now_unix_nano();
        agent_remote_reply reply;
        hearth_error err = {0};
        hearth_status st = agent_remote_chat(e, REMOTE_SYSTEM, sent, &reply, &err);
        done = st ? json_pack("{s:b, s:s}", "ok", 0, "error", err.message)
                  : json_pack("{s:b, s:s}", "ok", 1, "text", reply.text);
        run_audit(rs, "escalation",
                  json_pack("{s:s, s:s, s:s, s:f, s:f, s:s, s:{s:s, s:s}, s:s, s:i, s:i, s:b, s:s*}", "reason",
                            "confidence below threshold after local retries", "rule", rule, "endpoint", e->endpoint,
                            "confidence", confidence, "threshold", rs->cfg->threshold, "model",
                            e->model ? e->model : "default", "sent", "system", REMOTE_SYSTEM, "user", sent,
                            "redacted_classes", names, "http_status", reply.http_status, "attempts", reply.attempts,
                            "ok", st == HEARTH_OK, "error", st ? err.message : NULL));
        run_span(rs, "escalate", t0,
                 json_pack("{s:s, s:i, s:b}", "server.address", e->endpoint, "http.response.status_code",
                           reply.http_status, "hearth.ok", st == HEARTH_OK));
        free(reply.text);
        hearth_error je = {0};
        if (agent_journal_record(rs->journal, rs->run_id, seq, "escalate", NULL, done, &je))
            hearth_warn("%s", je.message);
    }
    bool ok = json_is_true(json_object_get(done, "ok"));
    if (ok) {
        *answer = agent_unredact(r, json_string_value(json_object_get(done, "text")));
        snprintf(why, why_size, "%s", rule);
    } else {
        snprintf(why, why_size, "%s", json_string_value(json_object_get(done, "error")));
    }
    run_emit(rs, "escalation", json_pack("{s:b, s:s, s:s, s:s}", "ok", ok, "rule", rule, "redacted_classes", names,
                                         "detail", why));
    json_decref(done);
    free(sent);
    agent_redactor_free(r);
    return ok && *answer;
}
