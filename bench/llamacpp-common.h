/*
 * llamacpp-common.h — what the dev-only llama.cpp drivers in bench/ share: a monotonic clock,
 * a log callback that keeps llama.cpp quiet except for errors, and a load-progress callback
 * that prints nothing (llama.cpp's default draws dots on stderr).
 */
#ifndef HEARTH_BENCH_LLAMACPP_COMMON_H
#define HEARTH_BENCH_LLAMACPP_COMMON_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "ggml-backend.h"
#include "llama.h"

static inline double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline void quiet(enum ggml_log_level level, const char *text, void *user)
{
    (void)user;
    if (level >= GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static inline bool no_progress(float progress, void *user)
{
    (void)progress;
    (void)user;
    return true;
}

#endif
