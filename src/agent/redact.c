/*
 * redact.c — finds sensitive values and swaps them for stable placeholders ([EMAIL_1], ...)
 * before anything leaves the machine; the originals stay in the redactor and are put back into
 * the remote answer locally.
 *
 * Patterns find candidates; checksums decide where one exists (IBAN mod-97, card Luhn,
 * inet_pton for IPv6), so "order 4111 1111 1111 1112" is not a card but 4111 1111 1111 1111 is.
 * Overlapping findings are resolved by class priority (secrets first: a key may contain digits
 * that look like a phone number), then by length.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"

typedef struct {
    unsigned cls;
    const char *name;   /* config name */
    const char *tag;    /* placeholder tag */
    const char *pattern;
} detector;

/* Priority order. */
static const detector DETECTORS[] = {
    {REDACT_SECRET, "secret", "SECRET",
     "-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S]*?-----END [A-Z ]*PRIVATE KEY-----"
     "|\\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
     "|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}"
     "|glpat-[A-Za-z0-9_-]{20,}|hf_[A-Za-z0-9]{30,})"
     "|(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_=-]{24,}(?![A-Za-z0-9+/_=-])"},
    {REDACT_EMAIL, "email", "EMAIL", "\\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}\\b"},
    {REDACT_IBAN, "iban", "IBAN", "\\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\\b"},
    {REDACT_CARD, "card", "CARD", "(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])"},
    {REDACT_IP, "ip", "IP",
     "(?<![0-9.])(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}"
     "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?![0-9]|\\.[0-9])"
     "|(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])"},
    {REDACT_PHONE, "phone", "PHONE",
     "(?<![\\w+])\\+[0-9]{1,3}(?:[ .-]?\\(?[0-9]{1,5}\\)?){2,6}(?![\\w])"
     "|(?<![\\w])\\([0-9]{3}\\) ?[0-9]{3}[ .-][0-9]{4}(?![\\w])"
     "|(?<![\\w.-])[0-9]{3}([ .-])[0-9]{3}\\1[0-9]{4}(?![\\w]|[.-][0-9])"},
};
#define N_DETECTORS (sizeof DETECTORS / sizeof DETECTORS[0])

typedef struct {
    char *value, *placeholder;
    unsigned cls;
} mapping;

struct agent_redactor {
    unsigned classes, found;
    agent_strlist terms; /* borrowed copies */
    pcre2_code *re[N_DETECTORS];
    mapping *map;
    size_t n_map, cap_map;
    int counter[N_DETECTORS + 1];
};

const char *agent_redact_class_name(unsigned cls)
{
    for (size_t i = 0; i < N_DETECTORS; i++)
        if (DETECTORS[i].cls == cls) return DETECTORS[i].name;
    return cls == REDACT_TERM ? "term" : "?";
}

bool agent_redact_class_parse(const char *name, unsigned *cls)
{
    for (size_t i = 0; i < N_DETECTORS; i++)
        if (!strcmp(DETECTORS[i].name, name)) {
            *cls = DETECTORS[i].cls;
            return true;
        }
    if (!strcmp(name, "term")) {
        *cls = REDACT_TERM;
        return true;
    }
    return false;
}

bool agent_luhn_ok(const char *s, size_t n)
{
    int sum = 0, digits = 0;
    for (size_t i = n; i-- > 0;) {
        if (!isdigit((unsigned char)s[i])) continue;
        int d = s[i] - '0';
        if (digits++ & 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    return digits >= 13 && digits <= 19 && sum % 10 == 0;
}

bool agent_iban_ok(const char *s, size_t n)
{
    char c[40];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') continue;
        if (len == sizeof c || !isalnum((unsigned char)s[i])) return false;
        c[len++] = (char)toupper((unsigned char)s[i]);
    }
    if (len < 15 || len > 34) return false;
    /* Move the first four characters to the end, letters become 10..35, then mod 97 == 1. */
    unsigned rem = 0;
    for (size_t k = 0; k < len; k++) {
        char ch = c[(k + 4) % len];
        if (isdigit((unsigned char)ch)) rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
        else rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
    }
    return rem == 1;
}

/* A long token counts as a secret only if it looks random: letters and digits mixed and more
 * than ~3.5 bits of entropy per character. Words, paths and hex hashes of text are common. */
static bool high_entropy(const char *s, size_t n)
{
    int counts[256] = {0}, lower = 0, upper = 0, digit = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        counts[ch]++;
        lower += islower(ch) != 0;
        upper += isupper(ch) != 0;
        digit += isdigit(ch) != 0;
    }
    if (!digit || (!lower && !upper) || (lower && !upper && !digit)) return false;
    double h = 0;
    for (int i = 0; i < 256; i++)
        if (counts[i]) {
            double p = (double)counts[i] / (double)n;
            h -= p * log2(p);
        }
    return h > 3.5 && (lower + upper) >= 4 && digit >= 2;
}

static bool validate(unsigned cls, const char *s, size_t n)
{
    char buf[64];
    switch (cls) {
    case REDACT_CARD: return agent_luhn_ok(s, n);
    case REDACT_IBAN: return agent_iban_ok(s, n);
    case REDACT_SECRET: {
        static const char *const prefixes[] = {"-----BEGIN", "sk-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
                                               "github_pat_", "AKIA", "ASIA", "xox", "AIza", "glpat-", "hf_"};
        for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
            if (n > strlen(prefixes[i]) && !strncmp(s, prefixes[i], strlen(prefixes[i]))) return true;
        return high_entropy(s, n);
    }
    case REDACT_IP:
        if (!memchr(s, ':', n)) return true;
        if (n >= sizeof buf) return false;
        {
            struct in6_addr a;
            memcpy(buf, s, n);
            buf[n] = 0;
            return inet_pton(AF_INET6, buf, &a) == 1 && n >= 3;
        }
    case REDACT_PHONE: {
        int digits = 0;
        for (size_t i = 0; i < n; i++) digits += isdigit((unsigned char)s[i]) != 0;
        return digits >= 7 && digits <= 15;
    }
    default: return true;
    }
}

agent_redactor *agent_redactor_new(unsigned classes, const agent_strlist *terms)
{
    agent_redactor *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->classes = classes;
    if (terms && terms->n) {
        r->terms.items = calloc(terms->n, sizeof(char *));
        if (!r->terms.items) goto fail;
        for (size_t i = 0; i < terms->n; i++)
            if (*terms->items[i] && !(r->terms.items[r->terms.n++] = strdup(terms->items[i]))) goto fail;
    }
    for (size_t i = 0; i < N_DETECTORS; i++) {
        int code;
        PCRE2_SIZE off;
        r->re[i] = pcre2_compile((PCRE2_SPTR)DETECTORS[i].pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &off, NULL);
        if (!r->re[i]) goto fail;
    }
    return r;
fail:
    agent_redactor_free(r);
    return NULL;
}

void agent_redactor_free(agent_redactor *r)
{
    if (!r) return;
    for (size_t i = 0; i < N_DETECTORS; i++) pcre2_code_free(r->re[i]);
    for (size_t i = 0; i < r->n_map; i++) {
        free(r->map[i].value);
        free(r->map[i].placeholder);
    }
    free(r->map);
    for (size_t i = 0; i < r->terms.n; i++) free(r->terms.items[i]);
    free(r->terms.items);
    free(r);
}

typedef struct {
    size_t start, end;
    unsigned cls;
    int prio;
} span;

typedef struct {
    span *v;
    size_t n, cap;
} spans;

static bool push(spans *s, size_t start, size_t end, unsigned cls, int prio)
{
    for (size_t i = 0; i < s->n; i++) /* overlap: keep the higher priority, then the longer */
        if (start < s->v[i].end && s->v[i].start < end) {
            if (s->v[i].prio < prio || (s->v[i].prio == prio && s->v[i].end - s->v[i].start >= end - start))
                return true;
            s->v[i] = s->v[--s->n];
            i = (size_t)-1;
        }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        span *v = realloc(s->v, cap * sizeof *v);
        if (!v) return false;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (span){start, end, cls, prio};
    return true;
}

static int by_start(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static const char *placeholder_for(agent_redactor *r, const char *value, size_t n, unsigned cls, int slot)
{
    for (size_t i = 0; i < r->n_map; i++)
        if (r->map[i].cls == cls && strlen(r->map[i].value) == n && !memcmp(r->map[i].value, value, n))
            return r->map[i].placeholder;
    if (r->n_map == r->cap_map) {
        size_t cap = r->cap_map ? r->cap_map * 2 : 8;
        mapping *m = realloc(r->map, cap * sizeof *m);
        if (!m) return NULL;
        r->map = m;
        r->cap_map = cap;
    }
    char ph[48];
    snprintf(ph, sizeof ph, "[%s_%d]", slot < (int)N_DETECTORS ? DETECTORS[slot].tag : "TERM", ++r->counter[slot]);
    mapping *m = &r->map[r->n_map];
    m->value = strndup(value, n);
    m->placeholder = strdup(ph);
    m->cls = cls;
    if (!m->value || !m->placeholder) {
        free(m->value);
        free(m->placeholder);
        return NULL;
    }
    r->n_map++;
    return m->placeholder;
}

static bool find_terms(agent_redactor *r, const char *text, spans *s)
{
    size_t len = strlen(text);
    for (size_t t = 0; t < r->terms.n; t++) {
        size_t tn = strlen(r->terms.items[t]);
        for (size_t i = 0; i + tn <= len; i++)
            if (!strncasecmp(text + i, r->terms.items[t], tn) && !push(s, i, i + tn, REDACT_TERM, -1)) return false;
    }
    return true;
}

char *agent_redact(agent_redactor *r, const char *text)
{
    spans s = {0};
    size_t len = strlen(text);
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    bool ok = md && find_terms(r, text, &s);
    for (size_t d = 0; ok && d < N_DETECTORS; d++) {
        if (!(r->classes & DETECTORS[d].cls)) continue;
        PCRE2_SIZE at = 0;
        while (at <= len && pcre2_match(r->re[d], (PCRE2_SPTR)text, len, at, 0, md, NULL) >= 0) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            if (ov[1] == ov[0]) {
                at = ov[1] + 1;
                continue;
            }
            if (validate(DETECTORS[d].cls, text + ov[0], ov[1] - ov[0]) &&
                !push(&s, ov[0], ov[1], DETECTORS[d].cls, (int)d)) {
                ok = false;
                break;
            }
            at = ov[1];
        }
    }
    pcre2_match_data_free(md);
    if (s.n) qsort(s.v, s.n, sizeof *s.v, by_start);
    size_t cap = len + 1 + s.n * 48, w = 0, at = 0;
    char *out = ok ? malloc(cap) : NULL;
    for (size_t i = 0; out && i < s.n; i++) {
        int slot = s.v[i].prio < 0 ? (int)N_DETECTORS : s.v[i].prio;
        const char *ph = placeholder_for(r, text + s.v[i].start, s.v[i].end - s.v[i].start, s.v[i].cls, slot);
        if (!ph) {
            free(out);
            out = NULL;
            break;
        }
        r->found |= s.v[i].cls;
        memcpy(out + w, text + at, s.v[i].start - at);
        w += s.v[i].start - at;
        size_t pn = strlen(ph);
        memcpy(out + w, ph, pn);
        w += pn;
        at = s.v[i].end;
    }
    if (out) {
        memcpy(out + w, text + at, len - at + 1);
    }
    free(s.v);
    return out;
}

char *agent_unredact(const agent_redactor *r, const char *text)
{
    size_t cap = strlen(text) + 1, w = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    for (const char *p = text; *p;) {
        const mapping *hit = NULL;
        if (*p == '[')
            for (size_t i = 0; i < r->n_map && !hit; i++)
                if (!strncmp(p, r->map[i].placeholder, strlen(r->map[i].placeholder))) hit = &r->map[i];
        const char *src = hit ? hit->value : p;
        size_t n = hit ? strlen(hit->value) : 1;
        if (w + n + 1 > cap) {
            cap = (cap + n) * 2;
            char *grown = realloc(out, cap);
            if (!grown) {
                free(out);
                return NULL;
            }
            out = grown;
        }
        memcpy(out + w, src, n);
        w += n;
        p += hit ? strlen(hit->placeholder) : 1;
    }
    out[w] = 0;
    return out;
}

unsigned agent_redactor_found(const agent_redactor *r) { return r->found; }

unsigned agent_detect_classes(const char *text, const agent_strlist *terms)
{
    agent_redactor *r = agent_redactor_new(REDACT_ALL, terms);
    if (!r) return REDACT_ALL; /* cannot tell: assume the worst */
    char *s = agent_redact(r, text);
    unsigned found = s ? r->found : REDACT_ALL;
    free(s);
    agent_redactor_free(r);
    return found;
}
