/*
 * yamlutil — strict reading of libyaml document trees for agent.yaml and workflow files:
 * typed getters that fail with "FILE:LINE: KEY: expected X, found Y", and a key check that
 * rejects unknown keys (a typo must never silently disable a policy).
 */
#ifndef HEARTH_AGENT_YAMLUTIL_H
#define HEARTH_AGENT_YAMLUTIL_H

#include <yaml.h>

#include "agent/agent.h"

typedef struct ydoc {
    yaml_document_t doc;
    const char *name; /* file name for messages */
    hearth_error *err;
} ydoc;

hearth_status ydoc_load(ydoc *y, const char *text, size_t len, const char *name, hearth_error *err);
void ydoc_free(ydoc *y);
yaml_node_t *ydoc_root(ydoc *y);
int ydoc_line(const yaml_node_t *n);
const char *ydoc_kind(const yaml_node_t *n);
/* Fails unless every key of mapping m is in the NULL-terminated list `known`. */
hearth_status ydoc_check_keys(ydoc *y, yaml_node_t *m, const char *where, const char *const *known);
yaml_node_t *ydoc_get(ydoc *y, yaml_node_t *m, const char *key);
hearth_status ydoc_expect(ydoc *y, yaml_node_t *n, yaml_node_type_t type, const char *key);
/* Scalar getters: absent keys leave *out untouched and succeed. */
hearth_status ydoc_str(ydoc *y, yaml_node_t *m, const char *key, char **out);
hearth_status ydoc_num(ydoc *y, yaml_node_t *m, const char *key, double min, double max, double *out);
hearth_status ydoc_int(ydoc *y, yaml_node_t *m, const char *key, long min, long max, long *out);
hearth_status ydoc_bool(ydoc *y, yaml_node_t *m, const char *key, bool *out);
/* A list of scalars (a single scalar is accepted as a one-item list). */
hearth_status ydoc_strlist(ydoc *y, yaml_node_t *m, const char *key, agent_strlist *out);
const char *ydoc_scalar(const yaml_node_t *n);
void agent_strlist_free(agent_strlist *l);

#endif
