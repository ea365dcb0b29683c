/* src/nn/thread_pool.c — the process-wide pool of worker threads that the dense kernels (gemm.c)
 * split their output tiles over, and its public switch prism_nn_set_threads.
 *
 * One pool per process, because the kernels are free functions called deep inside a network's
 * forward and backward, with no context to carry one. N threads = the caller plus N - 1
 * workers. A job is one function called once per part, part p on thread p; the caller runs part
 * 0 and returns when every part is done. Between jobs a worker spins briefly (a training update
 * calls the kernels back to back) and then parks on a condition variable, so an idle pool
 * costs no CPU. Results never depend on which thread runs which part:
 * the kernels give each output to exactly one part and compute it the same way in any part.
 *
 * Not here: the partition of each kernel's work (gemm.c), thread counts for OpenBLAS (kernels.c).
 * Not reentrant: one job at a time, started from one thread (the training loop's). */
#include "nn_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

/* Spin iterations (each one pause, a few microseconds in all) before a waiting thread parks.
 * Short on purpose: on a machine whose cores other processes also want, a long spin burns the
 * time slice the other thread needs. Measured on a 2-core Zen 3 at load average 11, rainbow
 * breakout with 2 threads: 8192 spins took 1.7x the CPU time of 256 and 1.3x the wall time;
 * 0 (park at once) the same CPU time as 256 and 1.17x the wall time. */
#define SPIN_LIMIT 256

typedef struct pool {
    int threads; /* 1: no workers */
    pthread_t worker[PRISM_NN_MAX_THREADS];
    pthread_mutex_t lock;
    pthread_cond_t wake; /* workers: a new job (generation changed) or quit */
    pthread_cond_t done; /* caller: pending reached zero */
    atomic_uint generation;
    unsigned first_generation; /* at the workers' start: a job after it is their first */
    atomic_int pending;        /* parts not finished by workers */
    atomic_bool quit;
    nn_pool_fn fn;
    void *ctx;
    unsigned long long jobs; /* jobs run split, for tests */
} pool;

static pool the_pool = {.threads = 1,
                        .lock = PTHREAD_MUTEX_INITIALIZER,
                        .wake = PTHREAD_COND_INITIALIZER,
                        .done = PTHREAD_COND_INITIALIZER};

static inline void cpu_relax(void) {
#if defined(__SSE2__)
    _mm_pause();
#endif
}

static void *worker_main(void *arg) {
    pool *p = &the_pool;
    const int part = (int)(intptr_t)arg;
    /* not the generation now: a job may have started before this thread ran its first line */
    unsigned seen = p->first_generation;
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&p->generation, memory_order_acquire) == seen &&
               !atomic_load(&p->quit) && spins < SPIN_LIMIT)
            cpu_relax(), spins++;
        if (atomic_load(&p->generation) == seen && !atomic_load(&p->quit)) {
            pthread_mutex_lock(&p->lock);
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->wake, &p->lock);
            pthread_mutex_unlock(&p->lock);
        }
        if (atomic_load(&p->quit)) return NULL;
        seen = atomic_load(&p->generation);
        p->fn(p->ctx, part, p->threads);
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
    }
}

static void stop_workers(pool *p) {
    if (p->threads == 1) return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->quit, true);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int t = 1; t < p->threads; t++) pthread_join(p->worker[t], NULL);
    atomic_store(&p->quit, false);
    p->threads = 1;
}

prism_status nn_pool_start(int threads) {
    PRISM_ASSERT(threads >= 1 && threads <= PRISM_NN_MAX_THREADS);
    pool *p = &the_pool;
    if (threads == p->threads) return PRISM_OK;
    stop_workers(p);
    p->first_generation = atomic_load(&p->generation);
    for (int t = 1; t < threads; t++)
        if (pthread_create(&p->worker[t], NULL, worker_main, (void *)(intptr_t)t) != 0) {
            p->threads = t; /* the ones started so far, so that they are joined */
            stop_workers(p);
            return prism_error(PRISM_ERR_NOMEM,
                               "could not start worker thread %d of %d for the network kernels "
                               "(pthread_create failed); run with fewer threads",
                               t, threads);
        }
    p->threads = threads;
    return PRISM_OK;
}

int nn_pool_threads(void) {
    return the_pool.threads;
}

unsigned long long nn_pool_jobs(void) {
    return the_pool.jobs;
}

void nn_pool_run(nn_pool_fn fn, void *ctx) {
    pool *p = &the_pool;
    if (p->threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->jobs++;
    atomic_store(&p->pending, p->threads - 1);
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    fn(ctx, 0, p->threads);
    int spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0 && spins < SPIN_LIMIT)
        cpu_relax(), spins++;
    if (atomic_load(&p->pending) > 0) {
        pthread_mutex_lock(&p->lock);
        while (atomic_load(&p->pending) > 0) pthread_cond_wait(&p->done, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
}

prism_status prism_nn_set_threads(int threads) {
    if (threads < 1 || threads > PRISM_NN_MAX_THREADS)
        return prism_error(PRISM_ERR_INVALID,
                           "thread count %d is out of range: give 1 to %d (one per core at most)",
                           threads, PRISM_NN_MAX_THREADS);
#if !defined(PRISM_GEMM_OWN)
    if (threads > 1)
        return prism_error(PRISM_ERR_INVALID,
                           "%d threads need prism's own matrix kernels: this build uses OpenBLAS, "
                           "whose results depend on its thread count; rebuild with `make clean && "
                           "make GEMM=prism`, or run with 1 thread",
                           threads);
#endif
    return nn_pool_start(threads);
}

int prism_nn_threads(void) {
    return nn_pool_threads();
}
