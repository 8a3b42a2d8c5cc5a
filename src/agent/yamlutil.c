/* yamlutil.c — strict typed access to libyaml document trees (see yamlutil.h). */
#include "agent/yamlutil.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

hearth_status ydoc_load(ydoc *y, const char *text, size_t len, const char *name, hearth_error *err)
{
    memset(y, 0, sizeof *y);
    y->name = name;
    y->err = err;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", name);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int ok = yaml_parser_load(&p, &y->doc);
    if (!ok) {
        hearth_fail(err, HEARTH_ERR_FORMAT, "%s:%zu: YAML syntax: %s", name, p.problem_mark.line + 1,
                    p.problem ? p.problem : "malformed");
        yaml_parser_delete(&p);
        return HEARTH_ERR_FORMAT;
    }
    yaml_parser_delete(&p);
    if (!yaml_document_get_root_node(&y->doc)) {
        yaml_document_delete(&y->doc);
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: empty document", name);
    }
    return HEARTH_OK;
}

void ydoc_free(ydoc *y) { yaml_document_delete(&y->doc); }
yaml_node_t *ydoc_root(ydoc *y) { return yaml_document_get_root_node(&y->doc); }
int ydoc_line(const yaml_node_t *n) { return (int)n->start_mark.line + 1; }

const char *ydoc_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

const char *ydoc_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

hearth_status ydoc_expect(ydoc *y, yaml_node_t *n, yaml_node_type_t type, const char *key)
{
    if (n->type == type) return HEARTH_OK;
    yaml_node_t want = {.type = type};
    return hearth_fail(y->err, HEARTH_ERR_FORMAT, "%s:%d: %s: expected %s, found %s", y->name,
                       ydoc_line(n), key, ydoc_kind(&want), ydoc_kind(n));
}

hearth_status ydoc_check_keys(ydoc *y, yaml_node_t *m, const char *where, const char *const *known)
{
    hearth_status st = ydoc_expect(y, m, YAML_MAPPING_NODE, where);
    if (st) return st;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
        const char *ks = ydoc_scalar(k);
        if (!ks)
            return hearth_fail(y->err, HEARTH_ERR_FORMAT, "%s:%d: %s: keys must be scalars", y->name,
                               ydoc_line(k), where);
        bool found = false;
        for (size_t i = 0; known[i] && !found; i++) found = !strcmp(known[i], ks);
        if (!found)
            return hearth_fail(y->err, HEARTH_ERR_FORMAT, "%s:%d: %s: unknown key '%s'", y->name,
                               ydoc_line(k), where, ks);
        for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < p; q++)
            if (!strcmp(ydoc_scalar(yaml_document_get_node(&y->doc, q->key)), ks))
                return hearth_fail(y->err, HEARTH_ERR_FORMAT, "%s:%d: %s: duplicate key '%s'",
                                   y->name, ydoc_line(k), where, ks);
    }
    return HEARTH_OK;
}

yaml_node_t *ydoc_get(ydoc *y, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *ks = ydoc_scalar(yaml_document_get_node(&y->doc, p->key));
        if (ks && !strcmp(ks, key)) return yaml_document_get_node(&y->doc, p->value);
    }
    return NULL;
}

/* The scalar under key: *n NULL (and success) when the key is absent. */
static hearth_status scalar_at(ydoc *y, yaml_node_t *m, const char *key, yaml_node_t **n)
{
    *n = ydoc_get(y, m, key);
    return *n ? ydoc_expect(y, *n, YAML_SCALAR_NODE, key) : HEARTH_OK;
}

hearth_status ydoc_str(ydoc *y, yaml_node_t *m, const char *key, char **out)
{
    yaml_node_t *n;
    hearth_status st = scalar_at(y, m, key, &n);
    if (st || !n) return st;
    char *s = strdup(ydoc_scalar(n));
    if (!s) return hearth_fail(y->err, HEARTH_ERR_NOMEM, "out of memory");
    free(*out);
    *out = s;
    return HEARTH_OK;
}

hearth_status ydoc_num(ydoc *y, yaml_node_t *m, const char *key, double min, double max, double *out)
{
    yaml_node_t *n;
    hearth_status st = scalar_at(y, m, key, &n);
    if (st || !n) return st;
    const char *s = ydoc_scalar(n);
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v) || v < min || v > max)
        return hearth_fail(y->err, HEARTH_ERR_FORMAT, "%s:%d: %s: expected a number in [%g, %g], found '%s'",
                           y->name, ydoc_line(n), key, min, max, s);
    *out = v;
    return HEARTH_OK;
}

hearth_status ydoc_int(ydoc *y, yaml_node_t *m, const char *key, long min, long max, long *out)
{
    yaml_node_t *n;
    hearth_status st = scalar_at(y, m, key, &n);
    if (st || !n) return st;
    const char *s = ydoc_scalar(n);
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max)
        return hearth_fail(y->err, HEARTH_ERR_FORMAT, "%s:%d: %s: expected an integer in [%ld, %ld], found '%s'",
                           y->name, ydoc_line(n), key, min, max, s);
    *out = v;
    return HEARTH_OK;
}

hearth_status ydoc_bool(ydoc *y, yaml_node_t *m, const char *key, bool *out)
{
    yaml_node_t *n;
    hearth_status st = scalar_at(y, m, key, &n);
    if (st || !n) return st;
    const char *s = ydoc_scalar(n);
    if (!strcmp(s, "true") || !strcmp(s, "yes")) *out = true;
    else if (!strcmp(s, "false") || !strcmp(s, "no")) *out = false;
    else
        return hearth_fail(y->err, HEARTH_ERR_FORMAT, "%s:%d: %s: expected true or false, found '%s'",
                           y->name, ydoc_line(n), key, s);
    return HEARTH_OK;
}

void agent_strlist_free(agent_strlist *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

bool agent_strlist_has(const agent_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *it = l->items[i];
        size_t n = strlen(it);
        if (n && it[n - 1] == '*' ? !strncmp(it, s, n - 1) : !strcmp(it, s)) return true;
    }
    return false;
}

hearth_status ydoc_strlist(ydoc *y, yaml_node_t *m, const char *key, agent_strlist *out)
{
    yaml_node_t *n = ydoc_get(y, m, key);
    if (!n) return HEARTH_OK;
    agent_strlist_free(out);
    if (n->type == YAML_SCALAR_NODE) {
        out->items = malloc(sizeof(char *));
        if (!out->items || !(out->items[0] = strdup(ydoc_scalar(n))))
            return hearth_fail(y->err, HEARTH_ERR_NOMEM, "out of memory");
        out->n = 1;
        return HEARTH_OK;
    }
    hearth_status st = ydoc_expect(y, n, YAML_SEQUENCE_NODE, key);
    if (st) return st;
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    out->items = calloc(count ? count : 1, sizeof(char *));
    if (!out->items) return hearth_fail(y->err, HEARTH_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *it = yaml_document_get_node(&y->doc, n->data.sequence.items.start[i]);
        if ((st = ydoc_expect(y, it, YAML_SCALAR_NODE, key))) return st;
        if (!(out->items[i] = strdup(ydoc_scalar(it))))
            return hearth_fail(y->err, HEARTH_ERR_NOMEM, "out of memory");
        out->n = i + 1;
    }
    return HEARTH_OK;
}
