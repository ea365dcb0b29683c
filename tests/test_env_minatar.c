/* Tests for the five MinAtar games: parity with MinAtar 1.0.15 over the reference traces
 * (observations, rewards, terminal flags, the action the sticky rule applied, and every random
 * call with its arguments and result), plus options, minimal action sets, the sticky rule,
 * rendering and determinism. The traces are tests/fixtures/reference/<game>_seed0_2000. */
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
                      (long long)a->hi, a->value, b->is_int ? "randint" : "rand", (long long)b->lo,
                      (long long)b->hi, b->value);
            return false;
        }
    }
    return true;
}

/* Replays a whole reference trace: Environment.seed(0), reset, then the recorded actions, with
 * a reset after every episode end. Stops at the first disagreement, naming it. */
static void check_parity(const char *game, const char *name) {
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
    const int expected_steps = (int)json_num(json_get(meta, "steps"));
    prism_env_seed(&env, (uint64_t)json_num(json_get(meta, "seed")), 0);

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
    CHECK_EQ_INT(steps, expected_steps);
    /* every episode end is followed by a reset, and the trace exercises what it should:
     * except in the reference Freeway trace (2500-step episodes, no crossing by a random walk)
     * episodes end and rewards happen */
    CHECK_EQ_INT(terminals, resets - 1);
    if (strcmp(name, "freeway_seed0_2000.jsonl.gz") != 0) CHECK(resets >= 2 && rewards > 0);
}

TEST(minatar_asterix_matches_reference_trace) {
    check_parity("asterix", "asterix_seed0_2000.jsonl.gz");
}
TEST(minatar_breakout_matches_reference_trace) {
    check_parity("breakout", "breakout_seed0_2000.jsonl.gz");
}
TEST(minatar_freeway_matches_reference_trace) {
    check_parity("freeway", "freeway_seed0_2000.jsonl.gz");
}
TEST(minatar_seaquest_matches_reference_trace) {
    check_parity("seaquest", "seaquest_seed0_2000.jsonl.gz");
}
TEST(minatar_space_invaders_matches_reference_trace) {
    check_parity("space_invaders", "space_invaders_seed0_2000.jsonl.gz");
}

/* Longer traces of the reference driven by heuristic policies (tests/fixtures/minatar/
 * gen_fixture.py), reaching what random play rarely does: Breakout walls cleared and rebuilt,
 * Asterix difficulty 6, Freeway crossings and its 2500-step end, Seaquest surfacing with six
 * divers (and the -1 diver count after it), Space Invaders waves cleared (ramp 3). */
TEST(minatar_asterix_matches_reference_deep_trace) {
    check_parity("asterix", "tests/fixtures/minatar/asterix_heuristic_seed5_5000.jsonl.gz");
}
TEST(minatar_breakout_matches_reference_deep_trace) {
    check_parity("breakout", "tests/fixtures/minatar/breakout_heuristic_seed5_5000.jsonl.gz");
}
TEST(minatar_freeway_matches_reference_deep_trace) {
    check_parity("freeway", "tests/fixtures/minatar/freeway_heuristic_seed5_3000.jsonl.gz");
}
TEST(minatar_seaquest_matches_reference_deep_trace) {
    check_parity("seaquest", "tests/fixtures/minatar/seaquest_heuristic_seed6_5000.jsonl.gz");
}
TEST(minatar_space_invaders_matches_reference_deep_trace) {
    check_parity("space_invaders",
                 "tests/fixtures/minatar/space_invaders_heuristic_seed5_4000.jsonl.gz");
}

static const char *const games[] = {"asterix", "breakout", "freeway", "seaquest", "space_invaders"};

TEST(minatar_ids_aliases_and_shapes) {
    static const int channels[] = {4, 4, 7, 10, 6};
    for (int i = 0; i < 5; i++) {
        const prism_env_class *cls = prism_env_find(games[i]);
        REQUIRE(cls != NULL);
        CHECK_EQ_INT(cls->obs_rank, 3);
        CHECK_EQ_INT(cls->obs_shape[0], 10);
        CHECK_EQ_INT(cls->obs_shape[1], 10);
        CHECK_EQ_INT(cls->obs_shape[2], channels[i]);
        CHECK_EQ_INT(cls->num_actions, 6);
        CHECK_EQ_INT(cls->max_episode_steps, 0);
        CHECK(cls->supports_numpy_rng);
        CHECK(cls->play_keys && (int)strlen(cls->play_keys) == cls->num_actions);
    }
    CHECK(prism_env_find("MinAtar/Breakout-v1") == prism_env_find("breakout"));
    CHECK(prism_env_find("minatar/spaceinvaders-v1") == prism_env_find("space_invaders"));
    CHECK(prism_env_find("breakout-minimal") != prism_env_find("breakout"));
}

/* The action the game took for `action` on a fresh environment without sticky actions. */
static int applied_for(const char *id, int action) {
    prism_env env;
    if (prism_env_init(&env, id, NULL) != PRISM_OK) return -1;
    if (prism_env_configure(&env, "sticky_action_prob", "0") != PRISM_OK) return -1;
    float obs[MAX_OBS];
    prism_env_reset(&env, obs);
    prism_env_step(&env, action, obs);
    int a = ((prism_minatar_common *)env.state)->applied_action;
    prism_env_free(&env);
    return a;
}

TEST(minatar_minimal_action_sets_map_to_the_reference_sets) {
    /* MinAtar's minimal_action_set() per game, as indices into the full set */
    static const int sets[5][6] = {
        {0, 1, 2, 3, 4}, {0, 1, 3}, {0, 2, 4}, {0, 1, 2, 3, 4, 5}, {0, 1, 3, 5}};
    static const int sizes[5] = {5, 3, 3, 6, 4};
    for (int g = 0; g < 5; g++) {
        char id[64];
        snprintf(id, sizeof id, "%s-minimal", games[g]);
        const prism_env_class *cls = prism_env_find(id);
        REQUIRE(cls != NULL);
        CHECK_EQ_INT(cls->num_actions, sizes[g]);
        CHECK(cls->play_keys && (int)strlen(cls->play_keys) == cls->num_actions);
        for (int a = 0; a < sizes[g]; a++) CHECK_EQ_INT(applied_for(id, a), sets[g][a]);
        for (int a = 0; a < 6; a++) CHECK_EQ_INT(applied_for(games[g], a), a);
    }
}

TEST(minatar_options_are_checked) {
    prism_env env;
    REQUIRE(prism_env_init(&env, "seaquest", NULL) == PRISM_OK);
    CHECK(prism_env_configure(&env, "sticky_action_prob", "0.25") == PRISM_OK);
    CHECK(((prism_minatar_common *)env.state)->sticky_action_prob == 0.25);
    CHECK(prism_env_configure(&env, "sticky_action_prob", "1.5") == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "sticky_action_prob") != NULL);
    CHECK(prism_env_configure(&env, "sticky_action_prob", "") == PRISM_ERR_INVALID);
    CHECK(prism_env_configure(&env, "sticky_action_prob", "0.1x") == PRISM_ERR_INVALID);
    CHECK(prism_env_configure(&env, "sticky_action_prob", "nan") == PRISM_ERR_INVALID);
    CHECK(prism_env_configure(&env, "difficulty_ramping", "off") == PRISM_OK);
    CHECK(!((prism_minatar_common *)env.state)->ramping);
    CHECK(prism_env_configure(&env, "difficulty_ramping", "true") == PRISM_OK);
    CHECK(((prism_minatar_common *)env.state)->ramping);
    CHECK(prism_env_configure(&env, "difficulty_ramping", "maybe") == PRISM_ERR_INVALID);
    CHECK(prism_env_configure(&env, "sticky", "0.1") == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "sticky_action_prob") != NULL);
    prism_env_free(&env);
}

TEST(minatar_sticky_action_repeats_the_last_and_survives_reset) {
    prism_env env;
    REQUIRE(prism_env_init(&env, "breakout", NULL) == PRISM_OK);
    prism_minatar_common *c = env.state;
    float obs[MAX_OBS];
    prism_env_reset(&env, obs);
    REQUIRE(prism_env_configure(&env, "sticky_action_prob", "1") == PRISM_OK);
    prism_env_step(&env, 3, obs);
    CHECK_EQ_INT(c->applied_action, 0); /* the initial last action is no-op */
    REQUIRE(prism_env_configure(&env, "sticky_action_prob", "0") == PRISM_OK);
    prism_env_step(&env, 3, obs);
    CHECK_EQ_INT(c->applied_action, 3);
    prism_env_reset(&env, obs);
    REQUIRE(prism_env_configure(&env, "sticky_action_prob", "1") == PRISM_OK);
    prism_env_step(&env, 1, obs);
    CHECK_EQ_INT(c->applied_action, 3); /* reset kept the last action, as the reference does */
    /* at 0.5 about half the steps where the action changes keep the previous one */
    REQUIRE(prism_env_configure(&env, "sticky_action_prob", "0.5") == PRISM_OK);
    int repeats = 0, changes = 0;
    for (int t = 0; t < 2000; t++) {
        int a = t % 2 ? 1 : 3, prev = c->last_action;
        prism_step s = prism_env_step(&env, a, obs);
        changes += prev != a;
        repeats += prev != a && c->applied_action == prev;
        CHECK(c->applied_action == a || c->applied_action == prev);
        if (s.terminated) prism_env_reset(&env, obs);
    }
    CHECK(changes > 1000 && repeats > 0.4 * changes && repeats < 0.6 * changes);
    prism_env_free(&env);
}

/* Asterix's ramp first acts after 101 steps: with and without it, the same seed and actions
 * give the same steps until then, and different ones later. */
TEST(minatar_difficulty_ramping_changes_asterix_after_the_first_interval) {
    prism_env on, off;
    REQUIRE(prism_env_init(&on, "asterix", NULL) == PRISM_OK);
    REQUIRE(prism_env_init(&off, "asterix", NULL) == PRISM_OK);
    REQUIRE(prism_env_configure(&off, "difficulty_ramping", "off") == PRISM_OK);
    int first_difference = -1;
    for (uint64_t seed = 0; seed < 20 && first_difference < 0; seed++) {
        prism_env_seed(&on, seed, PRISM_STREAM_ENV);
        prism_env_seed(&off, seed, PRISM_STREAM_ENV);
        float a[MAX_OBS], b[MAX_OBS];
        prism_env_reset(&on, a);
        prism_env_reset(&off, b);
        /* stay in row 1 (up), where enemies meet the player least often */
        for (int t = 0; t < 400; t++) {
            prism_step sa = prism_env_step(&on, 2, a), sb = prism_env_step(&off, 2, b);
            if (memcmp(a, b, sizeof(float) * 400) != 0 || sa.reward != sb.reward) {
                first_difference = t;
                break;
            }
            if (sa.terminated) break;
        }
    }
    CHECK(first_difference > 100);
    prism_env_free(&on);
    prism_env_free(&off);
}

/* With prism's own generator: long random play stays in range (ASan checks the indices),
 * observations are 0/1, and the same seed gives the same trajectory. */
TEST(minatar_random_play_is_deterministic_and_binary) {
    for (int g = 0; g < 5; g++) {
        prism_env a, b;
        REQUIRE(prism_env_init(&a, games[g], NULL) == PRISM_OK);
        REQUIRE(prism_env_init(&b, games[g], NULL) == PRISM_OK);
        prism_env_seed(&a, 7, PRISM_STREAM_ENV);
        prism_env_seed(&b, 7, PRISM_STREAM_ENV);
        const int n = prism_env_obs_size(a.cls);
        float oa[MAX_OBS], ob[MAX_OBS];
        prism_env_reset(&a, oa);
        prism_env_reset(&b, ob);
        prism_rng actions;
        prism_rng_seed(&actions, 7, PRISM_STREAM_ACTIONS);
        int episodes = 0, same = 1, binary = 1;
        double total = 0;
        for (int t = 0; t < 20000; t++) {
            int act = (int)prism_rng_below(&actions, 6);
            prism_step sa = prism_env_step(&a, act, oa), sb = prism_env_step(&b, act, ob);
            same &= memcmp(oa, ob, sizeof(float) * (size_t)n) == 0 && sa.reward == sb.reward &&
                    sa.terminated == sb.terminated;
            for (int i = 0; i < n; i++) binary &= oa[i] == 0.0f || oa[i] == 1.0f;
            total += (double)sa.reward;
            if (sa.terminated) {
                episodes++;
                prism_env_reset(&a, oa);
                prism_env_reset(&b, ob);
            }
        }
        CHECK(same);
        CHECK(binary);
        CHECK(episodes > 0);
        if (strcmp(games[g], "freeway") != 0) CHECK(total > 0);
        prism_env_free(&a);
        prism_env_free(&b);
    }
}

TEST(minatar_render_draws_board_and_legend) {
    prism_env env;
    REQUIRE(prism_env_init(&env, "breakout", NULL) == PRISM_OK);
    float obs[MAX_OBS];
    prism_env_reset(&env, obs);
    char buf[4096];
    int len = env.cls->render(env.state, buf, sizeof buf, false);
    CHECK_EQ_INT(len, (int)strlen(buf));
    CHECK(strstr(buf, "paddle") && strstr(buf, "brick") && strstr(buf, "bricks left 30"));
    CHECK(strstr(buf, "|        PP          |") != NULL); /* the paddle at column 4, row 9 */
    CHECK(strstr(buf, "|####################|") != NULL); /* a full row of bricks */
    CHECK(strchr(buf, '\033') == NULL);
    len = env.cls->render(env.state, buf, sizeof buf, true);
    CHECK(strstr(buf, "\033[41m") != NULL); /* bricks in red */
    /* a short buffer: truncated, terminated, and the full length returned */
    char small[16];
    CHECK_EQ_INT(env.cls->render(env.state, small, sizeof small, true), len);
    CHECK_EQ_INT((int)strlen(small), 15);
    prism_env_free(&env);
    for (int g = 0; g < 5; g++) {
        REQUIRE(prism_env_init(&env, games[g], NULL) == PRISM_OK);
        prism_env_reset(&env, obs);
        CHECK(env.cls->render(env.state, buf, sizeof buf, true) < (int)sizeof buf);
        prism_env_free(&env);
    }
}

#include "prism/obs_bits.h"

TEST(obs_bits_round_trip) {
    prism_rng r;
    prism_rng_seed(&r, 3, 0);
    static const size_t sizes[] = {1, 7, 8, 9, 400, 1000, 1003};
    float in[1003], out[1003];
    uint8_t bits[PRISM_OBS_BITS_BYTES(1003) + 1];
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        for (size_t i = 0; i < n; i++) in[i] = (float)prism_rng_below(&r, 2);
        memset(bits, 0xAB, sizeof bits);
        prism_obs_pack_bits(in, n, bits);
        CHECK_EQ_INT(bits[PRISM_OBS_BITS_BYTES(n)], 0xAB);  /* nothing written past the end */
        if (n % 8) CHECK_EQ_INT(bits[n / 8] >> (n % 8), 0); /* padding bits are zero */
        prism_obs_unpack_bits(bits, n, out);
        CHECK(memcmp(in, out, sizeof(float) * n) == 0);
    }
    /* the layout: element i is bit i % 8 of byte i / 8 */
    float one[16] = {0};
    one[10] = 1.0f;
    prism_obs_pack_bits(one, 16, bits);
    CHECK_EQ_INT(bits[0], 0);
    CHECK_EQ_INT(bits[1], 1 << 2);
    /* a Seaquest observation: 125 bytes, exactly restored */
    prism_env env;
    REQUIRE(prism_env_init(&env, "seaquest", NULL) == PRISM_OK);
    float obs[1000];
    prism_env_reset(&env, obs);
    for (int t = 0; t < 50; t++) prism_env_step(&env, t % 6, obs);
    CHECK_EQ_INT(PRISM_OBS_BITS_BYTES(1000), 125);
    prism_obs_pack_bits(obs, 1000, bits);
    prism_obs_unpack_bits(bits, 1000, out);
    CHECK(memcmp(obs, out, sizeof obs) == 0);
    prism_env_free(&env);
}

TEST(cli_env_info_lists_minatar_games) {
    char out[8192];
    CHECK_EQ_INT(test_prism(out, sizeof out, "env info MinAtar/Seaquest-v1"), 0);
    CHECK(strstr(out, "10 x 10 x 10") != NULL);
    CHECK_EQ_INT(test_prism(out, sizeof out, "env ls"), 0);
    CHECK(strstr(out, "space_invaders-minimal") != NULL);
}
