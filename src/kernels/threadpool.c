/*
 * threadpool.c — fixed worker threads for the matmuls of one context.
 *
 * A decode step hands out ~100 small jobs of a few microseconds each, so hand-out latency is
 * what matters: workers spin on a generation counter for a short while after each job and
 * only then sleep on a futex; the caller wakes sleepers with one syscall only when someone is
 * actually asleep. Waiting for the job to finish is symmetric (spin, then sleep), because on
 * a machine with more busy threads than cores a spinning caller would steal the very core a
 * preempted worker needs.
 *
 * Memory ordering: the caller writes fn/arg, then bumps `gen` with release; a worker that
 * acquires the new `gen` sees fn/arg. A worker publishes its results by incrementing `done`
 * with release; the caller's acquire of the final count makes them visible. The sleep/wake
 * handshakes (sleepers vs gen, caller_asleep vs done) use seq_cst so one side always sees the
 * other (the futex re-checks the value, so a wake cannot be lost).
 */
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/base.h"
#include "kernels/kernels.h"

/* ~50-100 µs of spinning: long enough to bridge the gap between the matmuls of one token,
 * short enough not to burn a core between requests. */
#define SPIN_ITERS 4096

struct hearth_threadpool {
    int n; /* threads including the caller */
    pthread_t *threads;
    struct worker *workers;
    void (*fn)(void *arg, int ith, int nth);
    void *arg;
    _Atomic uint32_t gen;      /* futex word: bumped once per job (and at shutdown) */
    _Atomic int sleepers;      /* workers inside (or entering) futex_wait on gen      */
    _Atomic uint32_t done;     /* futex word: workers finished with the current job  */
    _Atomic int caller_asleep; /* the caller is inside (or entering) futex_wait on done */
    _Atomic int stop;
};

struct worker {
    hearth_threadpool *tp;
    int ith;
};

static void futex_wait(_Atomic uint32_t *addr, uint32_t expected)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr, int n)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Waits until *word != seen; returns the new value. */
static uint32_t wait_change(_Atomic uint32_t *word, uint32_t seen, _Atomic int *asleep)
{
    for (int i = 0; i < SPIN_ITERS; i++) {
        uint32_t v = atomic_load_explicit(word, memory_order_acquire);
        if (v != seen) return v;
        cpu_relax();
    }
    for (;;) {
        atomic_fetch_add(asleep, 1);
        uint32_t v = atomic_load(word);
        if (v == seen) futex_wait(word, seen);
        atomic_fetch_sub(asleep, 1);
        v = atomic_load_explicit(word, memory_order_acquire);
        if (v != seen) return v;
    }
}

static void *worker_main(void *p)
{
    struct worker *w = p;
    hearth_threadpool *tp = w->tp;
    uint32_t seen = 0;
    for (;;) {
        seen = wait_change(&tp->gen, seen, &tp->sleepers);
        if (atomic_load_explicit(&tp->stop, memory_order_acquire)) return NULL;
        tp->fn(tp->arg, w->ith, tp->n);
        uint32_t d = atomic_fetch_add(&tp->done, 1) + 1; /* seq_cst: vs caller_asleep */
        if (d == (uint32_t)(tp->n - 1) && atomic_load(&tp->caller_asleep))
            futex_wake(&tp->done, 1);
    }
}

hearth_threadpool *hearth_threadpool_new(int n_threads)
{
    if (n_threads < 1) n_threads = 1;
    if (n_threads > 512) n_threads = 512;
    hearth_threadpool *tp = calloc(1, sizeof *tp);
    if (!tp) return NULL;
    tp->n = n_threads;
    if (n_threads == 1) return tp;
    tp->threads = calloc((size_t)n_threads, sizeof *tp->threads);
    tp->workers = calloc((size_t)n_threads, sizeof *tp->workers);
    if (!tp->threads || !tp->workers) {
        free(tp->threads);
        free(tp->workers);
        free(tp);
        return NULL;
    }
    for (int i = 1; i < n_threads; i++) {
        tp->workers[i] = (struct worker){tp, i};
        if (pthread_create(&tp->threads[i], NULL, worker_main, &tp->workers[i]) != 0) {
            hearth_warn("threadpool: could only start %d of %d threads", i, n_threads);
            tp->n = i; /* run with the threads we have; free() joins exactly these */
            break;
        }
    }
    return tp;
}

void hearth_threadpool_free(hearth_threadpool *tp)
{
    if (!tp) return;
    if (tp->n > 1) {
        atomic_store_explicit(&tp->stop, 1, memory_order_release);
        atomic_fetch_add(&tp->gen, 1);
        futex_wake(&tp->gen, tp->n);
        for (int i = 1; i < tp->n; i++) pthread_join(tp->threads[i], NULL);
    }
    free(tp->threads);
    free(tp->workers);
    free(tp);
}

int hearth_threadpool_size(const hearth_threadpool *tp)
{
    return tp ? tp->n : 1;
}

void hearth_threadpool_run(hearth_threadpool *tp, void (*fn)(void *arg, int ith, int nth), void *arg)
{
    if (!tp || tp->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    tp->fn = fn;
    tp->arg = arg;
    atomic_store_explicit(&tp->done, 0, memory_order_relaxed);
    atomic_fetch_add(&tp->gen, 1); /* seq_cst: publishes fn/arg/done and orders vs sleepers */
    if (atomic_load(&tp->sleepers) > 0) futex_wake(&tp->gen, tp->n);
    fn(arg, 0, tp->n);
    uint32_t target = (uint32_t)(tp->n - 1), d;
    while ((d = atomic_load_explicit(&tp->done, memory_order_acquire)) != target)
        wait_change(&tp->done, d, &tp->caller_asleep);
}
