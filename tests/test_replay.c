/* Tests for replay/: sum-tree invariants, sampling distributions (chi-square with fixed seeds),
 * transition alignment after wraparound, n-step returns worked out by hand at terminated and
 * truncated ends, observation codecs, save/load with corrupt and truncated files, and
 * out-of-memory at init. */
#include "harness.h"
#include "prism/replay.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ----------------------------------------------------------------------------- */

static prism_replay_options opts(int capacity, int d, int n, float gamma, bool per) {
    prism_replay_options o = prism_replay_options_default();
    o.capacity = capacity;
    o.obs_size = d;
    o.n_step = n;
    o.gamma = gamma;
    o.prioritized = per;
    return o;
}

/* Write the buffer to memory (via a temporary file): returns the byte count, or 0. */
static size_t save_bytes(const prism_replay *r, unsigned char *buf, size_t cap) {
    FILE *f = tmpfile();
    if (!f) return 0;
    size_t n = 0;
    if (prism_replay_save(r, f) == PRISM_OK) {
        rewind(f);
        n = fread(buf, 1, cap, f);
    }
    fclose(f);
    return n;
}

static prism_status load_bytes(prism_replay *r, const unsigned char *buf, size_t len) {
    FILE *f = tmpfile();
    if (!f) return PRISM_ERR_IO;
    if (len && fwrite(buf, 1, len, f) != len) {
        fclose(f);
        return PRISM_ERR_IO;
    }
    rewind(f);
    prism_status st = prism_replay_load(r, f);
    fclose(f);
    return st;
}

/* ---- sum tree ---------------------------------------------------------------------------- */

static int check_tree_invariants(const prism_sum_tree *t) {
    int bad = 0;
    for (int k = 1; k < t->leaves; k++)
        if (t->nodes[k] != t->nodes[2 * k] + t->nodes[2 * k + 1]) bad++;
    for (int i = t->capacity; i < t->leaves; i++)
        if (t->nodes[t->leaves + i] != 0) bad++;
    return bad;
}

TEST(replay_sum_tree_invariants_under_random_updates) {
    prism_sum_tree t;
    REQUIRE(prism_sum_tree_init(&t, 777) == PRISM_OK); /* not a power of two: padded to 1024 */
    CHECK_EQ_INT(t.leaves, 1024);
    prism_rng rng;
    prism_rng_seed(&rng, 11, 1);
    double shadow[777] = {0};
    for (int step = 0; step < 20000; step++) {
        int i = (int)prism_rng_below(&rng, 777);
        /* a mix of zeros, tiny and large values, as priorities are */
        double u = prism_rng_uniform(&rng);
        double v = u < 0.2 ? 0.0 : u < 0.4 ? 1e-9 * u : 100.0 * u;
        prism_sum_tree_set(&t, i, v);
        shadow[i] = v;
        if (step % 1000 == 999) {
            CHECK_EQ_INT(check_tree_invariants(&t), 0);
            double sum = 0;
            for (int j = 0; j < 777; j++) {
                CHECK(prism_sum_tree_get(&t, j) == shadow[j]);
                sum += shadow[j];
            }
            CHECK_NEAR(prism_sum_tree_total(&t), sum, 1e-9 * sum);
        }
    }
    /* A rebuild from the leaves gives the same nodes bit for bit. */
    prism_sum_tree t2;
    REQUIRE(prism_sum_tree_init(&t2, 777) == PRISM_OK);
    memcpy(t2.nodes + t2.leaves, t.nodes + t.leaves, 777 * sizeof(double));
    prism_sum_tree_rebuild(&t2);
    CHECK(!memcmp(t.nodes + 1, t2.nodes + 1, (2 * 1024 - 1) * sizeof(double)));
    prism_sum_tree_free(&t2);
    prism_sum_tree_clear(&t);
    CHECK(prism_sum_tree_total(&t) == 0);
    prism_sum_tree_free(&t);
}

TEST(replay_sum_tree_find_matches_prefix_scan) {
    /* Integer leaves keep every sum exact, so find can be compared with a plain prefix scan
     * at every boundary, including zero leaves, which must never be returned. */
    enum { C = 100 };
    prism_sum_tree t;
    REQUIRE(prism_sum_tree_init(&t, C) == PRISM_OK);
    prism_rng rng;
    prism_rng_seed(&rng, 12, 1);
    double leaf[C];
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < C; i++) {
            leaf[i] = (double)prism_rng_below(&rng, 4); /* 0..3: a quarter are zero */
            prism_sum_tree_set(&t, i, leaf[i]);
        }
        leaf[C - 1] = 0, prism_sum_tree_set(&t, C - 1, 0); /* a zero at the right edge */
        double total = prism_sum_tree_total(&t);
        REQUIRE(total > 0);
        double prefix = 0;
        for (int i = 0; i < C; i++) {
            if (leaf[i] > 0) {
                /* the start, the middle and the last double below the end of leaf i */
                CHECK_EQ_INT(prism_sum_tree_find(&t, prefix), i);
                CHECK_EQ_INT(prism_sum_tree_find(&t, prefix + leaf[i] / 2), i);
                CHECK_EQ_INT(prism_sum_tree_find(&t, nextafter(prefix + leaf[i], 0)), i);
            }
            prefix += leaf[i];
        }
        CHECK(prefix == total);
        /* at or past the total: the last non-zero leaf, never the zero at the edge */
        int last = C - 1;
        while (leaf[last] == 0) last--;
        CHECK_EQ_INT(prism_sum_tree_find(&t, total), last);
        CHECK_EQ_INT(prism_sum_tree_find(&t, total * 2), last);
        int first = 0;
        while (leaf[first] == 0) first++;
        CHECK_EQ_INT(prism_sum_tree_find(&t, -1.0), first);
    }
    prism_sum_tree_free(&t);
}

/* ---- options and init -------------------------------------------------------------------- */

TEST(replay_rejects_bad_options_naming_them) {
    struct {
        prism_replay_options o;
        const char *word;
    } cases[] = {
        {opts(0, 4, 1, 0.99f, false), "capacity"}, {opts(10000001, 4, 1, 0.99f, false), "capacity"},
        {opts(5, 4, 3, 0.99f, false), "capacity"}, {opts(100, 0, 1, 0.99f, false), "obs_size"},
        {opts(100, 4, 0, 0.99f, false), "n_step"}, {opts(100, 4, 1, 1.5f, false), "gamma"},
        {opts(100, 4, 1, NAN, false), "gamma"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        prism_replay r;
        CHECK(prism_replay_init(&r, &cases[k].o) == PRISM_ERR_INVALID);
        CHECK(strstr(prism_error_message(), cases[k].word) != NULL);
        prism_replay_free(&r); /* safe after a failure */
    }
    prism_replay_options o = opts(100, 4, 1, 0.99f, true);
    o.alpha = 2;
    prism_replay r;
    CHECK(prism_replay_init(&r, &o) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "alpha") != NULL);
    o = opts(100, 4, 1, 0.99f, true);
    o.priority_eps = 0;
    CHECK(prism_replay_init(&r, &o) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "priority_eps") != NULL);
    o = opts(100, 4, 1, 0.99f, true);
    o.storage = (prism_obs_storage)7;
    CHECK(prism_replay_init(&r, &o) == PRISM_ERR_INVALID);
    o.storage = PRISM_OBS_AUTO; /* a request for the replay's owner, never a storage */
    CHECK(prism_replay_init(&r, &o) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "resolve it") != NULL);
    prism_obs_storage s;
    CHECK(prism_obs_storage_parse("bits", &s) == PRISM_OK && s == PRISM_OBS_BITS);
    CHECK(prism_obs_storage_parse("uint8", &s) == PRISM_OK && s == PRISM_OBS_UINT8);
    CHECK(prism_obs_storage_parse("float16", &s) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "float32, uint8 or bits") != NULL);
}

TEST(replay_init_survives_out_of_memory) {
    /* Fail the k-th allocation for every k until init succeeds: each failure must report
     * NOMEM and leave nothing allocated (ASan's leak check sees the rest). */
    prism_replay_options o = opts(1000, 8, 3, 0.99f, true);
    int successes = 0, failures = 0;
    for (long k = 0; k < 10 && !successes; k++) {
        prism_replay r;
        prism_alloc_fail_after(k);
        prism_status st = prism_replay_init(&r, &o);
        prism_alloc_fail_after(-1);
        if (st == PRISM_OK) {
            successes++;
            CHECK_EQ_INT(prism_replay_size(&r), 0);
        } else {
            failures++;
            CHECK(st == PRISM_ERR_NOMEM);
            CHECK(strstr(prism_error_message(), "out of memory") != NULL);
        }
        prism_replay_free(&r);
    }
    CHECK_EQ_INT(successes, 1);
    CHECK_EQ_INT(failures, 2); /* the block, then the sum tree */
    prism_replay_batch b;
    prism_alloc_fail_after(0);
    CHECK(prism_replay_batch_init(&b, 32, 8) == PRISM_ERR_NOMEM);
    prism_alloc_fail_after(-1);
    prism_replay_batch_free(&b);
}

/* ---- n-step returns by hand -------------------------------------------------------------- */

/* Observation of step `id` (a unique number): (id, -id). */
static void obs_of(float *o, int id) {
    o[0] = (float)id;
    o[1] = (float)-id;
}

/* Add an episode of `len` steps with the given rewards; ids first_id .. first_id+len (the last
 * is the final observation). `end`: 0 open, 1 terminated, 2 truncated, 3 both flags. */
static void add_episode(prism_replay *r, int first_id, int len, const float *rewards, int end) {
    float o[2], n[2];
    for (int t = 0; t < len; t++) {
        obs_of(o, first_id + t);
        obs_of(n, first_id + t + 1);
        bool last = t == len - 1;
        prism_replay_add(r, o, (first_id + t) % 5, rewards[t], last && (end & 1), last && (end & 2),
                         n);
    }
}

/* The sampleable transition whose obs has id `id`: its return, discount and next id. Returns
 * false if that transition is not sampleable. */
static bool find_by_id(const prism_replay *r, int id, float *ret, float *disc, int *next_id) {
    for (int i = 0; i < r->opt.capacity; i++) {
        float o[2], n[2];
        int a;
        if (!prism_replay_get(r, i, o, &a, ret, disc, n)) continue;
        if (o[0] != (float)id) continue;
        if (o[1] != -o[0] || n[1] != -n[0] || a != id % 5) return false; /* misaligned */
        *next_id = (int)n[0];
        return true;
    }
    return false;
}

#define EXPECT_T(r, id, R, D, NEXT)                                                                \
    do {                                                                                           \
        float ret_, disc_;                                                                         \
        int next_;                                                                                 \
        if (!find_by_id(r, id, &ret_, &disc_, &next_)) {                                           \
            test_fail(__FILE__, __LINE__, "transition %d is not sampleable", id);                  \
            break;                                                                                 \
        }                                                                                          \
        CHECK_NEAR(ret_, R, 1e-6);                                                                 \
        CHECK_NEAR(disc_, D, 1e-7);                                                                \
        CHECK_EQ_INT(next_, NEXT);                                                                 \
    } while (0)

#define EXPECT_ABSENT(r, id)                                                                       \
    do {                                                                                           \
        float ret_, disc_;                                                                         \
        int next_;                                                                                 \
        if (find_by_id(r, id, &ret_, &disc_, &next_))                                              \
            test_fail(__FILE__, __LINE__, "transition %d should not be sampleable", id);           \
    } while (0)

TEST(replay_nstep3_returns_by_hand) {
    /* gamma 0.5 keeps every number exact. Episode A (ids 0..4): rewards 1 2 4 8, terminated.
     * Episode B (ids 10..13): 1 1 1, truncated. Episode C (ids 20..25): 1 2 3 4 5, still open. */
    prism_replay r;
    prism_replay_options o = opts(64, 2, 3, 0.5f, false);
    REQUIRE(prism_replay_init(&r, &o) == PRISM_OK);
    add_episode(&r, 0, 4, (const float[]){1, 2, 4, 8}, 1);
    add_episode(&r, 10, 3, (const float[]){1, 1, 1}, 2);
    add_episode(&r, 20, 5, (const float[]){1, 2, 3, 4, 5}, 0);
    /* A: full windows bootstrap with 0.5^3; windows that reach the termination do not. */
    EXPECT_T(&r, 0, 1 + 0.5 * 2 + 0.25 * 4, 0.125, 3);
    EXPECT_T(&r, 1, 2 + 0.5 * 4 + 0.25 * 8, 0.0, 4); /* its third step terminates */
    EXPECT_T(&r, 2, 4 + 0.5 * 8, 0.0, 4);
    EXPECT_T(&r, 3, 8, 0.0, 4);
    /* B: truncation bootstraps from the real final observation (id 13) with gamma^n'. */
    EXPECT_T(&r, 10, 1 + 0.5 + 0.25, 0.125, 13);
    EXPECT_T(&r, 11, 1 + 0.5, 0.25, 13);
    EXPECT_T(&r, 12, 1, 0.5, 13);
    /* C: only windows of 3 complete steps are sampleable; final observations never start one. */
    EXPECT_T(&r, 20, 1 + 0.5 * 2 + 0.25 * 3, 0.125, 23);
    EXPECT_T(&r, 22, 3 + 0.5 * 4 + 0.25 * 5, 0.125, 25);
    EXPECT_ABSENT(&r, 23);
    EXPECT_ABSENT(&r, 24);
    EXPECT_ABSENT(&r, 4);
    EXPECT_ABSENT(&r, 13);
    CHECK_EQ_INT(prism_replay_size(&r), 4 + 3 + 3);
    /* Cutting the open episode acts as a truncation at its last step. */
    prism_replay_cut_episode(&r);
    EXPECT_T(&r, 23, 4 + 0.5 * 5, 0.25, 25);
    EXPECT_T(&r, 24, 5, 0.5, 25);
    EXPECT_ABSENT(&r, 25);
    CHECK_EQ_INT(prism_replay_size(&r), 12);
    prism_replay_cut_episode(&r); /* no open episode: nothing changes */
    CHECK_EQ_INT(prism_replay_size(&r), 12);
    /* Terminated and truncated together: termination wins (no bootstrap). */
    add_episode(&r, 30, 2, (const float[]){1, 1}, 3);
    EXPECT_T(&r, 30, 1.5, 0.0, 32);
    EXPECT_T(&r, 31, 1, 0.0, 32);
    CHECK_EQ_INT(r.steps, 4 + 3 + 5 + 2);
    CHECK_EQ_INT(r.episodes, 4);
    prism_replay_free(&r);
}

TEST(replay_nstep1_returns_by_hand) {
    prism_replay r;
    prism_replay_options o = opts(64, 2, 1, 0.5f, false);
    REQUIRE(prism_replay_init(&r, &o) == PRISM_OK);
    add_episode(&r, 0, 4, (const float[]){1, 2, 4, 8}, 1);
    add_episode(&r, 10, 3, (const float[]){1, -1, 3}, 2);
    add_episode(&r, 20, 2, (const float[]){7, 9}, 0);
    EXPECT_T(&r, 0, 1, 0.5, 1);
    EXPECT_T(&r, 2, 4, 0.5, 3);
    EXPECT_T(&r, 3, 8, 0.0, 4);
    EXPECT_T(&r, 11, -1, 0.5, 12);
    EXPECT_T(&r, 12, 3, 0.5, 13); /* truncated: bootstrap from the final observation */
    EXPECT_T(&r, 20, 7, 0.5, 21);
    EXPECT_T(&r, 21, 9, 0.5, 22); /* the pending observation is already stored */
    EXPECT_ABSENT(&r, 4);
    EXPECT_ABSENT(&r, 22);
    CHECK_EQ_INT(prism_replay_size(&r), 9);
    /* An episode of one step that terminates at once (after ending the open one). */
    prism_replay_cut_episode(&r);
    add_episode(&r, 40, 1, (const float[]){-3}, 1);
    EXPECT_T(&r, 40, -3, 0.0, 41);
    prism_replay_free(&r);
}

/* ---- alignment after wraparound ---------------------------------------------------------- */

/* A reference list of what the trainer added, indexed by a global step id. */
typedef struct ref_step {
    int action;
    float reward;
    bool term, trunc;
    int episode, t; /* the observation is (id, episode, t); next obs is (id', episode, t+1) */
    int64_t slot;   /* the absolute slot its observation went to, by the documented layout */
} ref_step;

static void obs3(float *o, int id, int episode, int t) {
    o[0] = (float)id, o[1] = (float)episode, o[2] = (float)t;
}

TEST(replay_alignment_after_wraparound) {
    /* A ring of 23 slots over 500 steps of episodes of random length ending in random ways:
     * every sampleable transition must still carry its own (s, a, r, s', done), and exactly
     * the transitions whose slots survive must be sampleable. */
    enum { C = 23, STEPS = 500 };
    for (int n = 1; n <= 3; n += 2) {
        prism_replay r;
        prism_replay_options o = opts(C, 3, n, 0.9f, n == 3);
        REQUIRE(prism_replay_init(&r, &o) == PRISM_OK);
        static ref_step ref[STEPS];
        prism_rng rng;
        prism_rng_seed(&rng, 21, (uint64_t)n);
        int episode = 0, t = 0;
        int64_t pos = 0; /* the layout, recomputed here: +1 at an episode start, +1 per step,
                            the final observation being the +1 of the last step */
        for (int id = 0; id < STEPS; id++) {
            if (t == 0) pos++;
            ref_step *s = &ref[id];
            s->action = (int)prism_rng_below(&rng, 4);
            s->reward = (float)prism_rng_below(&rng, 100) - 50;
            uint32_t e = prism_rng_below(&rng, 10);
            s->term = e == 0;
            s->trunc = e == 1;
            s->episode = episode;
            s->t = t;
            s->slot = pos - 1;
            pos++;
            float ob[3], nx[3];
            obs3(ob, id, episode, t);
            obs3(nx, id + 1, episode, t + 1);
            if (s->term || s->trunc) nx[0] = (float)(-id - 1); /* final obs: a negative tag */
            prism_replay_add(&r, ob, s->action, s->reward, s->term, s->trunc, nx);
            if (s->term || s->trunc)
                episode++, t = 0;
            else
                t++;
            if (id % 37 != 36 && id != STEPS - 1) continue;
            /* Check the whole ring now. */
            int expected = 0;
            for (int j = 0; j <= id; j++) {
                if (ref[j].slot < pos - C) continue;
                /* complete window: n steps or an end within the steps added so far */
                int k = 0;
                while (k < n && j + k <= id && !(ref[j + k].term || ref[j + k].trunc)) k++;
                bool complete = (k == n) || (j + k <= id);
                expected += complete;
            }
            CHECK_EQ_INT(prism_replay_size(&r), expected);
            CHECK(r.pos == pos);
            int seen = 0;
            for (int i = 0; i < C; i++) {
                float o_[3], nx_[3], ret, disc;
                int a;
                if (!prism_replay_get(&r, i, o_, &a, &ret, &disc, nx_)) continue;
                seen++;
                int j = (int)o_[0];
                REQUIRE(j >= 0 && j <= id);
                CHECK(o_[1] == (float)ref[j].episode && o_[2] == (float)ref[j].t);
                CHECK_EQ_INT(ref[j].slot % C, i);
                CHECK_EQ_INT(a, ref[j].action);
                double R = 0, g = 1;
                int k = 0;
                bool term = false;
                for (; k < n; k++) {
                    R += g * (double)ref[j + k].reward;
                    g *= (double)0.9f;
                    if (ref[j + k].term || ref[j + k].trunc) {
                        term = ref[j + k].term;
                        k++;
                        break;
                    }
                }
                CHECK_NEAR(ret, R, 1e-4);
                CHECK_NEAR(disc, term ? 0.0 : (double)(float)g, 1e-7);
                /* s': same episode, k steps later; tagged negative if it is the final one */
                CHECK(nx_[1] == (float)ref[j].episode);
                CHECK(nx_[2] == (float)(ref[j].t + k));
                int last = j + k - 1;
                bool ended = ref[last].term || ref[last].trunc;
                CHECK(nx_[0] == (ended ? (float)(-last - 1) : (float)(last + 1)));
            }
            CHECK_EQ_INT(seen, expected);
        }
        prism_replay_free(&r);
    }
}

/* ---- sampling distributions -------------------------------------------------------------- */

/* One long episode of `steps` steps into an n=1 buffer: obs id = step. */
static void fill_one_episode(prism_replay *r, int steps) {
    float o[2], n[2];
    for (int t = 0; t < steps; t++) {
        obs_of(o, t);
        obs_of(n, t + 1);
        prism_replay_add(r, o, 0, (float)t, false, t == steps - 1, n);
    }
}

TEST(replay_uniform_sampling_is_uniform_over_sampleable) {
    enum { K = 20, B = 50, ROUNDS = 400 };
    prism_replay r;
    prism_replay_options o = opts(64, 2, 1, 0.99f, false);
    REQUIRE(prism_replay_init(&r, &o) == PRISM_OK);
    fill_one_episode(&r, 10);
    fill_one_episode(&r, 10); /* two final-observation slots that must never be drawn */
    REQUIRE(prism_replay_size(&r) == K);
    prism_replay_batch b;
    REQUIRE(prism_replay_batch_init(&b, B, 2) == PRISM_OK);
    prism_rng rng;
    prism_rng_seed(&rng, 31, PRISM_STREAM_REPLAY);
    int counts[64] = {0};
    for (int round = 0; round < ROUNDS; round++) {
        REQUIRE(prism_replay_sample(&r, &rng, &b) == PRISM_OK);
        for (int i = 0; i < B; i++) {
            counts[b.indices[i]]++;
            CHECK(b.weights[i] == 1.0f);
            CHECK_NEAR(b.probs[i], 1.0 / K, 1e-7);
            CHECK(b.obs[2 * i] == b.returns[i]); /* reward = obs id in this stream */
        }
    }
    double chi2 = 0, expect = (double)B * ROUNDS / K;
    int used = 0;
    for (int i = 0; i < 64; i++) {
        if (!counts[i]) continue;
        used++;
        chi2 += (counts[i] - expect) * (counts[i] - expect) / expect;
    }
    CHECK_EQ_INT(used, K);
    CHECK(chi2 < 43.8); /* chi-square, 19 degrees of freedom, 99.9% quantile */
    prism_replay_batch_free(&b);
    prism_replay_free(&r);
}

TEST(replay_prioritized_frequencies_follow_priorities) {
    /* Priorities set from "losses" v_i: P(i) must be (v_i + eps)^alpha / sum. Checked with a
     * chi-square test, and the same counts must clearly reject the uniform distribution, so
     * the test has the power to fail. */
    enum { K = 20, B = 32, ROUNDS = 1000 };
    for (int variant = 0; variant < 2; variant++) {
        prism_replay r;
        prism_replay_options o = opts(64, 2, 1, 0.99f, true);
        o.alpha = variant == 0 ? 0.5f : 1.0f; /* 0.5 takes the sqrt path, 1 the pow path */
        o.beta = variant == 0 ? 0.5f : 0.8f;
        REQUIRE(prism_replay_init(&r, &o) == PRISM_OK);
        fill_one_episode(&r, K);
        REQUIRE(prism_replay_size(&r) == K);
        prism_replay_batch b;
        REQUIRE(prism_replay_batch_init(&b, K, 2) == PRISM_OK);
        /* Every slot at its initial priority: stratification over K segments of K equal
         * masses draws each transition exactly once per batch. */
        prism_rng rng;
        prism_rng_seed(&rng, 41, PRISM_STREAM_REPLAY);
        REQUIRE(prism_replay_sample(&r, &rng, &b) == PRISM_OK);
        int once[64] = {0};
        for (int i = 0; i < K; i++) once[b.indices[i]]++;
        int ones = 0;
        for (int i = 0; i < 64; i++) ones += once[i] == 1;
        CHECK_EQ_INT(ones, K);
        /* losses 1, 2, ..., K (by obs id, i.e. in slot order) */
        int idx[K];
        float loss[K];
        double p[64] = {0}, total = 0;
        for (int i = 0; i < K; i++) {
            idx[i] = b.indices[i];
            float ob[2];
            REQUIRE(prism_replay_get(&r, idx[i], ob, NULL, NULL, NULL, NULL));
            loss[i] = ob[0] + 1;
            p[idx[i]] = pow((double)loss[i] + 1e-10, (double)o.alpha);
            total += p[idx[i]];
        }
        REQUIRE(prism_replay_update_priorities(&r, idx, loss, K) == PRISM_OK);
        prism_replay_batch_free(&b);
        REQUIRE(prism_replay_batch_init(&b, B, 2) == PRISM_OK);
        int counts[64] = {0};
        for (int round = 0; round < ROUNDS; round++) {
            REQUIRE(prism_replay_sample(&r, &rng, &b) == PRISM_OK);
            double wmax = 0, wmin = 1e300;
            for (int i = 0; i < B; i++) {
                int s = b.indices[i];
                counts[s]++;
                CHECK_NEAR(b.probs[i], p[s] / total, 1e-6 * p[s] / total);
                double w = pow(K * p[s] / total, -(double)o.beta);
                wmax = w > wmax ? w : wmax;
                wmin = w < wmin ? w : wmin;
            }
            for (int i = 0; i < B; i++) {
                double w = pow(K * p[b.indices[i]] / total, -(double)o.beta);
                CHECK_NEAR(b.weights[i], w / wmax, 1e-6);
            }
            CHECK_NEAR(r.last_min_weight, wmin / wmax, 1e-6);
        }
        double chi2 = 0, chi2_uniform = 0, n_total = (double)B * ROUNDS;
        for (int i = 0; i < 64; i++) {
            if (p[i] == 0) {
                CHECK_EQ_INT(counts[i], 0);
                continue;
            }
            double e = n_total * p[i] / total, u = n_total / K;
            chi2 += (counts[i] - e) * (counts[i] - e) / e;
            chi2_uniform += (counts[i] - u) * (counts[i] - u) / u;
        }
        CHECK(chi2 < 43.8);          /* 19 dof, 99.9% quantile */
        CHECK(chi2_uniform > 200.0); /* the wrong hypothesis is far out */
        /* Statistics: current max and mean priority, and max-ever for new transitions. */
        prism_replay_stats st;
        prism_replay_stats_get(&r, &st);
        CHECK_NEAR(st.priority_max, pow(K + 1e-10, (double)o.alpha), 1e-9);
        CHECK_NEAR(st.priority_mean, total / K, 1e-9);
        CHECK(st.priority_max_ever >= st.priority_max);
        CHECK_EQ_INT(st.size, K);
        prism_replay_batch_free(&b);
        prism_replay_free(&r);
    }
}

TEST(replay_new_transitions_enter_at_max_priority) {
    prism_replay r;
    prism_replay_options o = opts(16, 2, 1, 0.99f, true);
    REQUIRE(prism_replay_init(&r, &o) == PRISM_OK);
    fill_one_episode(&r, 4); /* slots 0..3 sampleable, 4 the final observation */
    CHECK(r.tree.nodes[r.tree.leaves + 0] == 1.0); /* Dopamine's initial max priority */
    int idx[2] = {1, 2};
    float loss[2] = {16.0f, 0.25f};
    REQUIRE(prism_replay_update_priorities(&r, idx, loss, 2) == PRISM_OK);
    CHECK_NEAR(prism_sum_tree_get(&r.tree, 1), sqrt(16.0 + 1e-10), 1e-12); /* sqrt(loss) */
    CHECK_NEAR(prism_sum_tree_get(&r.tree, 2), sqrt(0.25 + 1e-10), 1e-12);
    CHECK_NEAR(r.max_priority, 4.0, 1e-9);
    fill_one_episode(&r, 2); /* slots 5, 6 */
    CHECK(prism_sum_tree_get(&r.tree, 5) == r.max_priority);
    CHECK(prism_sum_tree_get(&r.tree, 4) == 0); /* the final observation */
    /* Bad values change nothing. */
    double before = prism_sum_tree_total(&r.tree);
    float bad[2] = {1.0f, NAN};
    CHECK(prism_replay_update_priorities(&r, idx, bad, 2) == PRISM_ERR_DIVERGED);
    bad[1] = -1.0f;
    CHECK(prism_replay_update_priorities(&r, idx, bad, 2) == PRISM_ERR_INVALID);
    int far[1] = {99};
    CHECK(prism_replay_update_priorities(&r, far, loss, 1) == PRISM_ERR_INVALID);
    CHECK(prism_sum_tree_total(&r.tree) == before);
    /* A slot that starts no transition is skipped, not resurrected. */
    int fin[1] = {4};
    REQUIRE(prism_replay_update_priorities(&r, fin, loss, 1) == PRISM_OK);
    CHECK(prism_sum_tree_get(&r.tree, 4) == 0);
    /* Overwritten slots leave the tree: wrap the ring entirely. */
    fill_one_episode(&r, 20);
    CHECK_EQ_INT(prism_replay_size(&r), 15); /* 16 slots: 15 steps + the final obs */
    int nonzero = 0;
    for (int i = 0; i < 16; i++) nonzero += prism_sum_tree_get(&r.tree, i) > 0;
    CHECK_EQ_INT(nonzero, 15);
    /* Uniform buffers refuse priority updates; empty buffers refuse to sample. */
    prism_replay u;
    prism_replay_options ou = opts(16, 2, 1, 0.99f, false);
    REQUIRE(prism_replay_init(&u, &ou) == PRISM_OK);
    CHECK(prism_replay_update_priorities(&u, idx, loss, 2) == PRISM_ERR_UNSUPPORTED);
    prism_replay_batch b;
    REQUIRE(prism_replay_batch_init(&b, 4, 2) == PRISM_OK);
    prism_rng rng;
    prism_rng_seed(&rng, 1, PRISM_STREAM_REPLAY);
    CHECK(prism_replay_sample(&u, &rng, &b) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "no complete transition") != NULL);
    prism_replay_batch_free(&b);
    REQUIRE(prism_replay_batch_init(&b, 4, 3) == PRISM_OK);
    CHECK(prism_replay_sample(&r, &rng, &b) == PRISM_ERR_INVALID); /* wrong D */
    prism_replay_batch_free(&b);
    prism_replay_free(&u);
    prism_replay_free(&r);
}

/* ---- observation storage ----------------------------------------------------------------- */

TEST(replay_uint8_and_bits_round_trip) {
    /* D = 1000 is Seaquest's 10x10x10; D = 13 leaves a partial byte. */
    const int dims[2] = {1000, 13};
    for (int di = 0; di < 2; di++)
        for (int storage = 0; storage < 3; storage++) {
            const int D = dims[di];
            prism_replay r;
            prism_replay_options o = opts(40, D, 2, 0.99f, false);
            o.storage = (prism_obs_storage)storage;
            REQUIRE(prism_replay_init(&r, &o) == PRISM_OK);
            CHECK_EQ_INT(r.obs_bytes, storage == 0 ? 4 * D : storage == 1 ? D : (D + 7) / 8);
            static float seq[31][1000];
            prism_rng rng;
            prism_rng_seed(&rng, 51, (uint64_t)storage);
            for (int t = 0; t < 31; t++)
                for (int i = 0; i < D; i++)
                    seq[t][i] = storage == 0   ? (float)prism_rng_normal(&rng)
                                : storage == 1 ? (float)prism_rng_below(&rng, 256)
                                               : (float)prism_rng_below(&rng, 2);
            for (int t = 0; t < 30; t++)
                prism_replay_add(&r, seq[t], t, (float)t, false, t == 29, seq[t + 1]);
            CHECK_EQ_INT(prism_replay_size(&r), 30);
            static float ob[1000], nx[1000];
            int matched = 0;
            for (int i = 0; i < 40; i++) {
                int a;
                if (!prism_replay_get(&r, i, ob, &a, NULL, NULL, nx)) continue;
                int step = a + (a < 29 ? 2 : 1); /* n = 2 (1 at the end) */
                matched += !memcmp(ob, seq[a], sizeof(float) * (size_t)D) &&
                           !memcmp(nx, seq[step], sizeof(float) * (size_t)D);
            }
            CHECK_EQ_INT(matched, 30);
            prism_replay_free(&r);
        }
}

TEST(replay_bits_storage_fits_minatar_budget) {
    /* 100k Seaquest transitions (10x10x10 binary planes) with prioritized replay must take
     * well under 100 MB: 125 bytes per frame plus 9 of bookkeeping, plus the tree. */
    prism_replay r;
    prism_replay_options o = opts(100000, 1000, 3, 0.99f, true);
    o.storage = PRISM_OBS_BITS;
    REQUIRE(prism_replay_init(&r, &o) == PRISM_OK);
    size_t bytes = prism_replay_memory_bytes(&r);
    CHECK_EQ_INT(bytes, 100000 * (125 + 4 + 4 + 1) + 2 * 131072 * 8);
    CHECK(bytes < 20u << 20);
    prism_replay_free(&r);
}

/* ---- save / load ------------------------------------------------------------------------- */

/* A random 0/1 stream of episodes; the state carries the open episode across calls. */
typedef struct stream_state {
    int t;
    float ob[16];
} stream_state;

static void fill_random(prism_replay *r, prism_rng *rng, int steps, stream_state *s) {
    const int D = r->opt.obs_size;
    float nx[16];
    PRISM_ASSERT(D <= 16);
    for (int k = 0; k < steps; k++) {
        if (s->t == 0)
            for (int i = 0; i < D; i++) s->ob[i] = (float)prism_rng_below(rng, 2);
        for (int i = 0; i < D; i++) nx[i] = (float)prism_rng_below(rng, 2);
        uint32_t e = prism_rng_below(rng, 12);
        prism_replay_add(r, s->ob, (int)prism_rng_below(rng, 3), (float)prism_rng_normal(rng),
                         e == 0, e == 1, nx);
        memcpy(s->ob, nx, sizeof nx);
        s->t = e <= 1 ? 0 : s->t + 1;
    }
}

static bool same_batches2(prism_replay *a, prism_replay *b, uint64_t seed, uint64_t seed_b) {
    prism_replay_batch x, y;
    if (prism_replay_batch_init(&x, 16, a->opt.obs_size) ||
        prism_replay_batch_init(&y, 16, b->opt.obs_size))
        return false;
    prism_rng ra, rb;
    prism_rng_seed(&ra, seed, PRISM_STREAM_REPLAY);
    prism_rng_seed(&rb, seed_b, PRISM_STREAM_REPLAY);
    bool same =
        prism_replay_sample(a, &ra, &x) == PRISM_OK && prism_replay_sample(b, &rb, &y) == PRISM_OK;
    size_t D = (size_t)a->opt.obs_size;
    same = same && !memcmp(x.indices, y.indices, 16 * sizeof(int)) &&
           !memcmp(x.obs, y.obs, 16 * D * sizeof(float)) &&
           !memcmp(x.next_obs, y.next_obs, 16 * D * sizeof(float)) &&
           !memcmp(x.returns, y.returns, 16 * sizeof(float)) &&
           !memcmp(x.discounts, y.discounts, 16 * sizeof(float)) &&
           !memcmp(x.weights, y.weights, 16 * sizeof(float)) &&
           !memcmp(x.probs, y.probs, 16 * sizeof(float)) &&
           !memcmp(x.actions, y.actions, 16 * sizeof(int));
    prism_replay_batch_free(&x);
    prism_replay_batch_free(&y);
    return same;
}

static bool same_batches(prism_replay *a, prism_replay *b, uint64_t seed) {
    return same_batches2(a, b, seed, seed);
}

TEST(replay_save_load_round_trip) {
    static unsigned char buf[1 << 16];
    for (int variant = 0; variant < 4; variant++) {
        /* partly filled and wrapped; uniform and prioritized; float and bits */
        prism_replay_options o = opts(97, 9, 3, 0.97f, variant & 1);
        o.storage = variant & 2 ? PRISM_OBS_BITS : PRISM_OBS_FLOAT32;
        prism_replay a, b;
        REQUIRE(prism_replay_init(&a, &o) == PRISM_OK);
        REQUIRE(prism_replay_init(&b, &o) == PRISM_OK);
        prism_rng rng;
        prism_rng_seed(&rng, 61, (uint64_t)variant);
        stream_state t = {0};
        fill_random(&a, &rng, variant < 2 ? 40 : 300, &t);
        if (o.prioritized) {
            prism_replay_batch x;
            REQUIRE(prism_replay_batch_init(&x, 16, 9) == PRISM_OK);
            prism_rng sr;
            prism_rng_seed(&sr, 62, PRISM_STREAM_REPLAY);
            REQUIRE(prism_replay_sample(&a, &sr, &x) == PRISM_OK);
            float loss[16];
            for (int i = 0; i < 16; i++) loss[i] = (float)i * 0.37f;
            REQUIRE(prism_replay_update_priorities(&a, x.indices, loss, 16) == PRISM_OK);
            prism_replay_batch_free(&x);
        }
        size_t n = save_bytes(&a, buf, sizeof buf);
        REQUIRE(n > 0 && n < sizeof buf);
        fill_random(&b, &rng, 5, &(stream_state){0}); /* load must replace, not merge */
        REQUIRE(load_bytes(&b, buf, n) == PRISM_OK);
        CHECK(a.pos == b.pos && a.count == b.count && a.open == b.open && a.steps == b.steps &&
              a.episodes == b.episodes && a.max_priority == b.max_priority);
        if (o.prioritized)
            CHECK(!memcmp(a.tree.nodes, b.tree.nodes, 2 * (size_t)a.tree.leaves * sizeof(double)));
        CHECK(same_batches(&a, &b, 63));
        /* The same stream continues identically in both (the open episode included). */
        prism_rng r1 = rng, r2 = rng;
        stream_state t1 = t, t2 = t;
        fill_random(&a, &r1, 50, &t1);
        fill_random(&b, &r2, 50, &t2);
        CHECK(same_batches(&a, &b, 64));
        /* Saving the loaded buffer gives the same bytes. */
        static unsigned char buf2[1 << 16];
        size_t n1 = save_bytes(&a, buf, sizeof buf), n2 = save_bytes(&b, buf2, sizeof buf2);
        CHECK(n1 == n2 && !memcmp(buf, buf2, n1));
        prism_replay_free(&a);
        prism_replay_free(&b);
    }
}

TEST(replay_load_rejects_truncated_and_corrupt_files) {
    /* Every truncation and every single-byte corruption of a small checkpoint is refused with
     * PRISM_ERR_CORRUPT, and leaves the buffer empty but usable. */
    static unsigned char good[1 << 14], bad[1 << 14];
    prism_replay_options o = opts(16, 3, 2, 0.9f, true);
    prism_replay a, b;
    REQUIRE(prism_replay_init(&a, &o) == PRISM_OK);
    REQUIRE(prism_replay_init(&b, &o) == PRISM_OK);
    prism_rng rng;
    prism_rng_seed(&rng, 71, 1);
    fill_random(&a, &rng, 30, &(stream_state){0});
    size_t n = save_bytes(&a, good, sizeof good);
    REQUIRE(n > 100);
    int wrong = 0;
    for (size_t len = 0; len < n; len++) {
        prism_replay_cut_episode(&b);
        fill_random(&b, &rng, 3, &(stream_state){0});
        prism_status st = load_bytes(&b, good, len);
        if (st != PRISM_ERR_CORRUPT || prism_replay_size(&b) != 0) wrong++;
        if (len == n / 2) CHECK(strstr(prism_error_message(), "truncated") != NULL);
    }
    CHECK_EQ_INT(wrong, 0);
    for (size_t at = 0; at < n; at++) {
        memcpy(bad, good, n);
        bad[at] ^= (unsigned char)(1u << (at % 8));
        prism_status st = load_bytes(&b, bad, n);
        if (st != PRISM_ERR_CORRUPT || prism_replay_size(&b) != 0) {
            if (wrong++ < 5)
                test_fail(__FILE__, __LINE__, "flip at byte %zu: %s", at, prism_error_message());
        }
        if (at == 0) CHECK(strstr(prism_error_message(), "magic") != NULL);
        if (at == n - 1) CHECK(strstr(prism_error_message(), "checksum") != NULL);
    }
    CHECK_EQ_INT(wrong, 0);
    /* Still usable after all that. */
    fill_random(&b, &rng, 30, &(stream_state){0});
    CHECK(prism_replay_size(&b) > 0);
    /* An intact file for other options is a mismatch (naming the field), not corruption. */
    prism_replay c;
    prism_replay_options oc = o;
    oc.n_step = 1;
    REQUIRE(prism_replay_init(&c, &oc) == PRISM_OK);
    CHECK(load_bytes(&c, good, n) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "n_step") != NULL);
    prism_replay_free(&c);
    oc = o;
    oc.capacity = 17;
    REQUIRE(prism_replay_init(&c, &oc) == PRISM_OK);
    CHECK(load_bytes(&c, good, n) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "capacity 16, this buffer 17") != NULL);
    prism_replay_free(&c);
    prism_replay_free(&a);
    prism_replay_free(&b);
}

TEST(replay_same_seed_same_batches) {
    prism_replay_options o = opts(200, 9, 3, 0.99f, true);
    prism_replay a, b;
    REQUIRE(prism_replay_init(&a, &o) == PRISM_OK);
    REQUIRE(prism_replay_init(&b, &o) == PRISM_OK);
    prism_rng r1, r2;
    prism_rng_seed(&r1, 81, 1);
    prism_rng_seed(&r2, 81, 1);
    stream_state st1 = {0}, st2 = {0};
    fill_random(&a, &r1, 500, &st1);
    fill_random(&b, &r2, 500, &st2);
    CHECK(same_batches(&a, &b, 82));
    /* and the comparison can fail: another sampling seed, or other contents */
    CHECK(!same_batches2(&a, &b, 82, 83));
    fill_random(&b, &r2, 1, &st2);
    int idx[1] = {0};
    float loss[1] = {1e6f};
    prism_replay_update_priorities(&b, idx, loss, 1);
    CHECK(!same_batches(&a, &b, 82));
    prism_replay_free(&a);
    prism_replay_free(&b);
}

/* Does adding obs (D = 3) as the first step of a fresh buffer with this storage abort? */
static bool add_aborts(prism_obs_storage storage, const float *obs) {
    prism_replay r;
    prism_replay_options o = opts(16, 3, 1, 0.99f, false);
    o.storage = storage;
    if (prism_replay_init(&r, &o)) return false;
    const float ok[3] = {0, 1, 0};
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr)) _exit(3);
        prism_replay_add(&r, obs, 0, 0, false, false, ok);
        _exit(0);
    }
    int status = 0;
    bool aborted = pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
                   WTERMSIG(status) == SIGABRT;
    prism_replay_free(&r);
    return aborted;
}

TEST(replay_values_that_do_not_fit_the_storage_abort) {
    CHECK(add_aborts(PRISM_OBS_BITS, (const float[]){0, 0.5f, 1}));
    CHECK(add_aborts(PRISM_OBS_BITS, (const float[]){0, 1, 2}));
    CHECK(add_aborts(PRISM_OBS_UINT8, (const float[]){0, 256, 1}));
    CHECK(add_aborts(PRISM_OBS_UINT8, (const float[]){0, 1.5f, 1}));
    CHECK(add_aborts(PRISM_OBS_UINT8, (const float[]){-1, 0, 1}));
    CHECK(add_aborts(PRISM_OBS_UINT8, (const float[]){NAN, 0, 1}));
    /* and the check can pass: these fit */
    CHECK(!add_aborts(PRISM_OBS_BITS, (const float[]){0, 1, 1}));
    CHECK(!add_aborts(PRISM_OBS_UINT8, (const float[]){0, 255, 17}));
    CHECK(!add_aborts(PRISM_OBS_FLOAT32, (const float[]){-1e30f, 0.5f, NAN}));
}

TEST(replay_broken_stream_aborts) {
    /* Within an episode obs must be the previous next_obs; otherwise every later window would
     * be silently misaligned, so the buffer stops the program (in a child process here). */
    prism_replay r;
    prism_replay_options o = opts(16, 2, 1, 0.99f, false);
    REQUIRE(prism_replay_init(&r, &o) == PRISM_OK);
    float a[2] = {1, 2}, b[2] = {3, 4}, c[2] = {5, 6};
    prism_replay_add(&r, a, 0, 0, false, false, b);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr)) _exit(3);
        prism_replay_add(&r, c, 0, 0, false, false, a); /* c is not the stored b */
        _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    prism_replay_add(&r, b, 0, 0, false, false, c); /* the right continuation is fine */
    CHECK_EQ_INT(prism_replay_size(&r), 2);
    prism_replay_free(&r);
}

SLOW_TEST(replay_capacity_ten_million) {
    /* The largest ring the options allow, prioritized, wrapped once: slot arithmetic and the
     * 2^24-leaf tree at full size (about 520 MB). */
    prism_replay r;
    prism_replay_options o = opts(10000000, 2, 3, 0.5f, true);
    REQUIRE(prism_replay_init(&r, &o) == PRISM_OK);
    CHECK_EQ_INT(r.tree.leaves, 1 << 24);
    const int len = 200;
    int id = 0;
    while (r.pos < 10500000) {
        add_episode(&r, id, len, (const float[200]){0}, 2);
        id += len + 1;
    }
    /* every slot is filled; sampleable = all steps in the ring (the oldest episode may be
     * partly overwritten) */
    int64_t finals = 0;
    for (int i = 0; i < o.capacity; i++) finals += (r.flags[i] & 16) != 0; /* SLOT_FINAL */
    CHECK_EQ_INT(prism_replay_size(&r), o.capacity - finals);
    prism_replay_batch b;
    REQUIRE(prism_replay_batch_init(&b, 256, 2) == PRISM_OK);
    prism_rng rng;
    prism_rng_seed(&rng, 91, PRISM_STREAM_REPLAY);
    REQUIRE(prism_replay_sample(&r, &rng, &b) == PRISM_OK);
    for (int i = 0; i < 256; i++) {
        int k = (int)b.obs[2 * i] % (len + 1); /* step within its episode */
        int n = len - k < 3 ? len - k : 3;
        CHECK(b.next_obs[2 * i] == b.obs[2 * i] + (float)n);
        CHECK(b.discounts[i] == (float)pow(0.5, n));
    }
    prism_replay_batch_free(&b);
    prism_replay_free(&r);
}

TEST(replay_bench_cli_rejects_bad_input) {
    /* The benchmark itself is timed, so only its input handling is tested here. */
    char out[4096];
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench replay nosuch"), 2);
    CHECK(strstr(out, "unknown case 'nosuch'") && strstr(out, "minatar-per"));
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench replay --seconds 0"), 2);
    CHECK(strstr(out, "--seconds") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench replay --help"), 0);
    CHECK(strstr(out, "prism bench replay") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "bench --help"), 0);
    CHECK(strstr(out, "replay") != NULL);
}
