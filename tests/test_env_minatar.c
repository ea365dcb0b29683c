/* Tests for the five MinAtar games: parity with MinAtar 1.0.15 over the reference traces
 * (observations, rewards, terminal flags, the action the sticky rule applied, and every random
 * call with its arguments and result), plus options, minimal action sets, the sticky rule,
 * rendering and determinism. The traces are ../shared/fixtures/reference/<game>_seed0_2000. */
#include "../src/env/minatar/minatar.h"
#include "fixture.h"
#include "harness.h"
#include "prism/env.h"

#include <stdint.h>
#include <string.h>

enum { MAX_OBS = 10 * 10 * 10 };

/* The dense (10, 10, C) observation of the trace's sparse [[row, col, [channels]], ...]. */
static bool dense_obs(const json *sparse, int channels, float *out) {
    memset(out, 0, sizeof(float) * 100 * (size_t)channels);
    if (!sparse || sparse->kind != JSON_ARRAY) return false;
    for (int i = 0; i < sparse->n; i++) {
        const json *cell = json_at(sparse, i);
        int y = (int)json_num(json_at(cell, 0)), x = (int)json_num(json_at(cell, 1));
        const json *chs = json_at(cell, 2);
        if (y < 0 || y > 9 || x < 0 || x > 9 || !chs) return false;
        for (int k = 0; k < chs->n; k++) {
            int ch = (int)json_num(json_at(chs, k));
            if (ch < 0 || ch >= channels) return false;
            MINATAR_AT(out, channels, y, x, ch) = 1.0f;
        }
    }
    return true;
}

/* The trace's `rng` list as scalar calls: rand(8) becomes eight rand() calls, randint(1, 6, 8)
 * eight randint(1, 6), randint(n) randint(0, n), and keyword arguments {low, high} are read. */
static int expand_draws(const json *rng, prism_minatar_draw *out, int cap) {
    int n = 0;
    for (int i = 0; rng && i < rng->n; i++) {
        const json *call = json_at(rng, i);
        bool is_int = !strcmp(json_str(json_at(call, 0)), "randint");
        const json *args = json_at(call, 1), *result = json_at(call, 2);
        int64_t lo = 0, hi = 0;
        int size = -1; /* -1: a scalar call */
        if (is_int) {
            const json *a0 = json_at(args, 0);
            if (a0 && a0->kind == JSON_OBJECT) {
                lo = (int64_t)json_num(json_get(a0, "low"));
                hi = (int64_t)json_num(json_get(a0, "high"));
            } else if (args->n == 1) {
                hi = (int64_t)json_num(a0);
            } else {
                lo = (int64_t)json_num(a0);
                hi = (int64_t)json_num(json_at(args, 1));
                if (args->n == 3) size = (int)json_num(json_at(args, 2));
            }
        } else if (args && args->n == 1) {
            size = (int)json_num(json_at(args, 0));
        }
        int count = size < 0 ? 1 : size;
        for (int k = 0; k < count && n < cap; k++, n++) {
            out[n].is_int = is_int;
            out[n].lo = is_int ? lo : 0;
            out[n].hi = is_int ? hi : 0;
            out[n].value = size < 0 ? json_num(result) : json_num(json_at(result, k));
        }
    }
    return n;
}

/* Compares the draws the port made with the trace's; names the first difference. */
static bool same_draws(const char *game, long t, const prism_minatar_trace *got, const json *rng) {
    prism_minatar_draw want[PRISM_MINATAR_TRACE_CAP];
    int n = expand_draws(rng, want, PRISM_MINATAR_TRACE_CAP);
    if (got->n != n) {
        test_fail(__FILE__, __LINE__, "%s t=%ld: %d random calls, the reference made %d", game, t,
                  got->n, n);
        return false;
    }
    for (int i = 0; i < n; i++) {
        const prism_minatar_draw *a = &got->draws[i], *b = &want[i];
        if (a->is_int != b->is_int || a->lo != b->lo || a->hi != b->hi || a->value != b->value) {
            test_fail(__FILE__, __LINE__,
                      "%s t=%ld: random call %d is %s(%lld, %lld) = %.17g, the reference's "
                      "%s(%lld, %lld) = %.17g",
                      game, t, i, a->is_int ? "randint" : "rand", (long long)a->lo,
                      (long long)a->hi, a->value, b->is_int ? "randint" : "rand",
                      (long long)b->lo, (long long)b->hi, b->value);
            return false;
        }
    }
    return true;
}

/* Replays a whole reference trace: Environment.seed(0), reset, then the recorded actions, with
 * a reset after every episode end. Stops at the first disagreement, naming it. */
static void check_parity(const char *game) {
    char name[64];
    snprintf(name, sizeof name, "%s_seed0_2000.jsonl.gz", game);
    fixture f;
    REQUIRE(fixture_open(&f, name));
    const json *meta = fixture_next(&f);
    REQUIRE(meta && !strcmp(json_str(json_get(meta, "type")), "meta"));
    REQUIRE(json_num(json_get(meta, "sticky_action_prob")) == 0.1);
    REQUIRE(json_bool(json_get(meta, "difficulty_ramping")));

    prism_env env;
    prism_env_options o = prism_env_options_default();
    o.random = PRISM_RANDOM_NUMPY;
    REQUIRE(prism_env_init(&env, game, &o) == PRISM_OK);
    const int C = env.cls->obs_shape[2];
    CHECK_EQ_INT(C, (int)json_num(json_at(json_get(meta, "obs_shape"), 2)));
    prism_minatar_common *c = env.state; /* every game's state starts with it */
    prism_minatar_trace trace;
    c->trace = &trace;
    prism_env_seed(&env, 0, 0);

    float obs[MAX_OBS], want[MAX_OBS];
    int steps = 0, resets = 0, rewards = 0, terminals = 0;
    for (const json *rec; (rec = fixture_next(&f));) {
        const char *type = json_str(json_get(rec, "type"));
        long t = (long)json_num(json_get(rec, "t"));
        trace.n = 0;
        if (!strcmp(type, "reset")) {
            prism_env_reset(&env, obs);
            resets++;
        } else if (!strcmp(type, "step")) {
            int action = (int)json_num(json_get(rec, "action"));
            prism_step s = prism_env_step(&env, action, obs);
            steps++;
            int applied = (int)json_num(json_get(rec, "applied_action"));
            float reward = (float)json_num(json_get(rec, "reward"));
            bool term = json_bool(json_get(rec, "terminated"));
            if (c->applied_action != applied || s.reward != reward || s.terminated != term ||
                s.truncated) {
                test_fail(__FILE__, __LINE__,
                          "%s step %d (t=%ld): applied %d reward %g terminated %d truncated %d; "
                          "the reference: applied %d reward %g terminated %d",
                          game, steps, t, c->applied_action, (double)s.reward, s.terminated,
                          s.truncated, applied, (double)reward, term);
                break;
            }
            rewards += reward != 0.0f;
            terminals += term;
        } else {
            continue;
        }
        REQUIRE(dense_obs(json_get(rec, "obs"), C, want));
        if (memcmp(obs, want, sizeof(float) * 100 * (size_t)C) != 0) {
            int cell = 0;
            while (obs[cell] == want[cell]) cell++;
            test_fail(__FILE__, __LINE__,
                      "%s %s %d (t=%ld): observation differs first at row %d col %d channel %d "
                      "(%g, the reference %g)",
                      game, type, steps, t, cell / C / 10, cell / C % 10, cell % C,
                      (double)obs[cell], (double)want[cell]);
            break;
        }
        if (!same_draws(game, t, &trace, json_get(rec, "rng"))) break;
    }
    fixture_close(&f);
    prism_env_free(&env);
    CHECK_EQ_INT(steps, 2000);
    /* every episode end is followed by a reset (the last one perhaps not), and the trace
     * exercises what it should: except in Freeway (2500-step episodes, no crossing by a
     * random walk) episodes end and rewards happen */
    CHECK(terminals == resets - 1 || terminals == resets);
    if (strcmp(game, "freeway") != 0) CHECK(resets >= 2 && rewards > 0);
}

TEST(minatar_asterix_matches_reference_trace) {
    check_parity("asterix");
}
TEST(minatar_breakout_matches_reference_trace) {
    check_parity("breakout");
}
TEST(minatar_freeway_matches_reference_trace) {
    check_parity("freeway");
}
TEST(minatar_seaquest_matches_reference_trace) {
    check_parity("seaquest");
}
TEST(minatar_space_invaders_matches_reference_trace) {
    check_parity("space_invaders");
}
