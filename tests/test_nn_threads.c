/* Tests for the dense kernels split over threads (src/nn/thread_pool.c, gemm.c): every product
 * gives the same bits with 1, 2 and 3 threads at the shapes prism's networks use, the split
 * really happens where the shape is large enough, the pool starts, resizes and joins its workers,
 * and bad thread counts are refused. The kernels and the pool are compiled in every build, so
 * this runs in the default one too; training with threads (test_train_threads.c) needs
 * GEMM=prism. */
#include "harness.h"
#include "prism/nn.h"
#include "../src/nn/nn_internal.h"

#include <stdlib.h>
#include <string.h>

static void fill(float *x, size_t n, uint64_t seed) {
    prism_rng r;
    prism_rng_seed(&r, seed, 78);
    for (size_t i = 0; i < n; i++) x[i] = (float)prism_rng_range(&r, -1.0, 1.0);
}

/* The outputs of every product at one shape: forward (relu off and on), input gradient, weight
 * gradient (accumulated onto a fixed start, and overwritten), batch-1 product (both scan
 * directions), concatenated into out. */
static size_t products(float *out, int B, int In, int O) {
    size_t nx = (size_t)B * In, nw = (size_t)O * In, ny = (size_t)B * O, at = 0;
    float *x = malloc(4 * nx), *w = malloc(4 * nw), *b = malloc(4 * (size_t)O);
    float *dy = malloc(4 * ny), *pack = malloc(4 * nn_gemm_pack_size(In));
    fill(x, nx, 31), fill(w, nw, 32), fill(b, (size_t)O, 33), fill(dy, ny, 34);
    for (int relu = 0; relu <= 1; relu++, at += ny)
        nn_gemm_forward(out + at, pack, x, w, b, B, In, O, relu);
    nn_gemm_dgrad(out + at, dy, w, B, In, O);
    at += nx;
    for (int overwrite = 0; overwrite <= 1; overwrite++, at += nw) {
        fill(out + at, nw, 35);
        nn_gemm_wgrad(out + at, dy, x, B, In, O, overwrite);
    }
    for (int reverse = 0; reverse <= 1; reverse++, at += (size_t)O)
        nn_matvec(out + at, x, w, b, In, O, reverse);
    free(x), free(w), free(b), free(dy), free(pack);
    return at;
}

TEST(nn_gemm_gives_the_same_bits_with_any_thread_count) {
    /* the networks' shapes (CartPole and LunarLander MLPs, the C51 and dueling heads, MinAtar's
     * flattened conv trunk), tails of every tile size, and shapes below the split threshold */
    static const int shapes[][3] = {
        {32, 512, 512},  {32, 4, 512},    {32, 8, 512},   {32, 512, 102}, {32, 512, 918},
        {32, 1600, 512}, {32, 1024, 512}, {128, 120, 84}, {33, 77, 301},  {70, 64, 1000},
        {1, 512, 512},   {5, 17, 9},      {2, 300, 700},  {64, 31, 2000}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int B = shapes[s][0], In = shapes[s][1], O = shapes[s][2];
        const size_t n = 2 * (size_t)B * O + (size_t)B * In + 2 * (size_t)O * In + 2 * (size_t)O;
        float *one = malloc(4 * n), *many = malloc(4 * n);
        REQUIRE(nn_pool_start(1) == PRISM_OK);
        products(one, B, In, O);
        for (int threads = 2; threads <= 3; threads++) {
            REQUIRE(nn_pool_start(threads) == PRISM_OK);
            const unsigned long long jobs = nn_pool_jobs();
            products(many, B, In, O);
            if (memcmp(one, many, 4 * n) != 0)
                test_fail(__FILE__, __LINE__, "%dx%dx%d: %d threads differ from 1", B, In, O,
                          threads);
            /* the large shapes were split: at least both forwards and a weight gradient (a
             * split dimension too short for two tiles a thread, or a small matvec, is not) */
            if ((long)B * In * O >= (1L << 20) && nn_pool_jobs() - jobs < 3)
                test_fail(__FILE__, __LINE__, "%dx%dx%d was not split over %d threads", B, In, O,
                          threads);
        }
        free(one), free(many);
    }
    CHECK(nn_pool_start(1) == PRISM_OK);
}

/* Records which thread ran each part. */
typedef struct parts_seen {
    int count[PRISM_NN_MAX_THREADS];
    int parts;
} parts_seen;

static void note_part(void *ctx, int part, int parts) {
    parts_seen *p = ctx;
    p->count[part]++; /* each part is one thread's only write to its slot */
    p->parts = parts;
}

TEST(nn_pool_runs_each_part_once_resizes_and_joins) {
    for (int round = 0; round < 20; round++) {
        const int threads = 1 + round % 4;
        REQUIRE(nn_pool_start(threads) == PRISM_OK);
        CHECK(nn_pool_threads() == threads);
        for (int job = 0; job < 50; job++) {
            parts_seen seen = {{0}, 0};
            nn_pool_run(note_part, &seen);
            CHECK(seen.parts == threads);
            for (int t = 0; t < PRISM_NN_MAX_THREADS; t++) CHECK(seen.count[t] == (t < threads));
        }
    }
    /* back to one: the workers are joined and jobs run inline */
    REQUIRE(nn_pool_start(1) == PRISM_OK);
    CHECK(nn_pool_threads() == 1);
    const unsigned long long jobs = nn_pool_jobs();
    parts_seen seen = {{0}, 0};
    nn_pool_run(note_part, &seen);
    CHECK(seen.parts == 1 && seen.count[0] == 1 && nn_pool_jobs() == jobs);
    /* a worker that parked (idle longer than its spin) still wakes for the next job */
    REQUIRE(nn_pool_start(2) == PRISM_OK);
    test_sleep_us(20000);
    memset(&seen, 0, sizeof seen);
    nn_pool_run(note_part, &seen);
    CHECK(seen.count[0] == 1 && seen.count[1] == 1);
    CHECK(nn_pool_start(1) == PRISM_OK);
}

TEST(nn_set_threads_refuses_bad_counts) {
    static const int bad[] = {0, -1, -64, PRISM_NN_MAX_THREADS + 1, 1000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(prism_nn_set_threads(bad[i]) == PRISM_ERR_INVALID);
        CHECK(strstr(prism_error_message(), "out of range") != NULL);
        CHECK(prism_nn_threads() == 1);
    }
    CHECK(prism_nn_set_threads(1) == PRISM_OK);
#if defined(PRISM_GEMM_OWN)
    CHECK(prism_nn_set_threads(2) == PRISM_OK);
    CHECK(prism_nn_threads() == 2);
#else
    /* OpenBLAS's bits depend on its thread count: more than one needs prism's kernels */
    CHECK(prism_nn_set_threads(2) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "make GEMM=prism") != NULL);
    CHECK(prism_nn_threads() == 1);
#endif
    CHECK(prism_nn_set_threads(1) == PRISM_OK);
    CHECK(prism_nn_threads() == 1);
}
