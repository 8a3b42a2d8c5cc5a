/*
 * store — the local model store, laid out like Ollama's so its tools and ours agree:
 *
 *   $HEARTH_MODELS (default $HEARTH_HOME/models, HEARTH_HOME default ~/.hearth)
 *     blobs/sha256-<64 hex>                         content-addressed layers (GGUF, params, ...)
 *     manifests/<host>/<namespace>/<model>/<tag>    Docker v2 manifests naming the layers
 *
 * Names: "qwen3" = registry.ollama.ai/library/qwen3:latest, "qwen3:0.6b",
 * "user/model:tag", "hf.co/ORG/REPO:Q4_K_M". Blobs are written to "<blob>-partial" while they
 * arrive, verified against their digest, then renamed: a blob that exists is always whole.
 */
#ifndef HEARTH_SERVER_STORE_H
#define HEARTH_SERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

#define STORE_PATH_MAX 4800 /* a 4096-byte root plus the longest name beneath it */
#define STORE_DEFAULT_HOST "registry.ollama.ai"
#define STORE_DEFAULT_NAMESPACE "library"
#define STORE_DEFAULT_TAG "latest"

#define MEDIA_MODEL "application/vnd.ollama.image.model"
#define MEDIA_PARAMS "application/vnd.ollama.image.params"
#define MEDIA_TEMPLATE "application/vnd.ollama.image.template"
#define MEDIA_SYSTEM "application/vnd.ollama.image.system"
#define MEDIA_LICENSE "application/vnd.ollama.image.license"
#define MEDIA_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_CONFIG "application/vnd.docker.container.image.v1+json"

typedef struct store_name {
    char host[128], ns[128], model[128], tag[128];
} store_name;

/* Parses a model name; rejects empty parts, '..', and characters outside [A-Za-z0-9._-]. */
hearth_status store_name_parse(const char *text, store_name *out, hearth_error *err);
/* "qwen3:0.6b" for the default host and namespace, "host/ns/model:tag" otherwise. */
void store_name_display(const store_name *n, char *buf, size_t size);

/* The GGUF blob of a stored model; never looks at the file system outside the store, so a
 * name that arrives over HTTP cannot reach other files. */
hearth_status store_resolve_name(const store_name *n, char *path, size_t path_size, hearth_error *err);

/* The store's root directory (no trailing '/'), from the environment. */
hearth_status store_root(char *buf, size_t size, hearth_error *err);
void store_manifest_path(const char *root, const store_name *n, char *buf, size_t size);
/* "sha256:<hex>" → "<root>/blobs/sha256-<hex>"; fails on a malformed digest. */
hearth_status store_blob_path(const char *root, const char *digest, char *buf, size_t size,
                              hearth_error *err);
/* mkdir -p of the directory part of path. */
hearth_status store_mkdirs_for(const char *path, hearth_error *err);

/* Hashes a whole file: "sha256:<hex>". */
hearth_status store_file_digest(const char *path, char digest[72], uint64_t *size, hearth_error *err);

#endif
