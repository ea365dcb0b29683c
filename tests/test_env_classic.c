/* Parity tests for the classic-control environments (CartPole-v1, Acrobot-v1, MountainCar-v0)
 * against the Gymnasium 1.4.0 traces in tests/fixtures/reference/ (see its README), and
 * tests of their reset distributions. Parity is exact: the float64 state bit for bit, the
 * float32 observation bit for bit, identical rewards and flags. */
#include "fixture.h"
#include "harness.h"
#include "prism/env.h"

#include <string.h>

enum { MAX_STATE = 8, MAX_OBS = 8 };

/* Read a JSON array of at most `max` numbers into out; returns the count (-1: not an array). */
static int read_numbers(const json *arr, double *out, int max) {
    if (!arr || arr->kind != JSON_ARRAY || arr->n > max) return -1;
    for (int i = 0; i < arr->n; i++) out[i] = json_num(json_at(arr, i));
    return arr->n;
}

/* How far a port may be from the trace. CartPole and Acrobot in Gymnasium call numpy's
 * cos/sin, which on an AVX-512 machine (where the traces were recorded) run Intel's SVML
 * kernels: these differ from glibc's (correctly rounded in practice) in the last bit of some
 * results. So the float64 state may differ by a few units in the last place, and an float32
 * observation by one float32 step where the double lies next to a rounding boundary.
 * MountainCar calls math.cos (libm) and must agree exactly. */
typedef struct tolerance {
    double state_rel; /* |got - want| <= state_rel * (1 + |want|) */
    int obs_ulps;     /* float32 steps */
} tolerance;

static const tolerance exact = {0.0, 0};

typedef struct tally {
    int records, exact, bad;
    double max_state_err;
    int max_obs_ulps;
} tally;

static int float_ulps(float a, float b) {
    if (a == b) return 0;
    if (isnan(a) || isnan(b)) return 1 << 30;
    int steps = 0;
    float x = a < b ? a : b, y = a < b ? b : a;
    while (x < y && steps < (1 << 20)) x = nextafterf(x, y), steps++;
    return steps;
}

/* Compare obs and state with the record; update the tally; true when within tolerance. */
static bool compare(const float *obs, const double *state, const json *rec, int d, int n,
                    const tolerance *tol, tally *t) {
    double wo[MAX_OBS], ws[MAX_STATE];
    if (read_numbers(json_get(rec, "obs"), wo, MAX_OBS) != d ||
        read_numbers(json_get(rec, "state"), ws, MAX_STATE) != n)
        return false;
    bool same = true, ok = true;
    for (int i = 0; i < d; i++) {
        int u = float_ulps(obs[i], (float)wo[i]);
        if ((double)(float)wo[i] != wo[i]) u = 1 << 30; /* the trace must hold float32 values */
        same &= u == 0;
        ok &= u <= tol->obs_ulps;
        if (u > t->max_obs_ulps) t->max_obs_ulps = u;
    }
    for (int i = 0; i < n; i++) {
        double err = fabs(state[i] - ws[i]) / (1 + fabs(ws[i]));
        same &= state[i] == ws[i];
        ok &= err <= tol->state_rel;
        if (!(err <= t->max_state_err)) t->max_state_err = err;
    }
    t->records++;
    t->exact += same;
    return ok;
}

/* Every state_step record: set state_in, step once with no time limit, compare everything
 * (reward and terminated exactly). */
static tally check_state_steps(const char *id, const char *file, const tolerance *tol) {
    tally t = {0};
    fixture f;
    if (!fixture_open(&f, file)) return t;
    prism_env_options o = prism_env_options_default();
    o.max_episode_steps = 0;
    prism_env env;
    if (prism_env_init(&env, id, &o) != PRISM_OK) {
        test_fail(__FILE__, __LINE__, "cannot create %s: %s", id, prism_error_message());
        fixture_close(&f);
        return t;
    }
    const int d = prism_env_obs_size(env.cls), n = env.cls->state_values;
    float obs[MAX_OBS];
    double in[MAX_STATE], got[MAX_STATE];
    for (const json *r; (r = fixture_next(&f));) {
        if (strcmp(json_str(json_get(r, "type")), "state_step")) continue;
        int i = (int)json_num(json_get(r, "i")), action = (int)json_num(json_get(r, "action"));
        if (read_numbers(json_get(r, "state_in"), in, MAX_STATE) != n) {
            test_fail(__FILE__, __LINE__, "%s record %d: state_in has the wrong length", file, i);
            break;
        }
        prism_env_reset(&env, obs);
        CHECK(prism_env_set_state(&env, in, n, obs) == PRISM_OK);
        prism_step s = prism_env_step(&env, action, obs);
        env.cls->get_state(env.state, got);
        bool ok = compare(obs, got, r, d, n, tol, &t) &&
                  s.reward == (float)json_num(json_get(r, "reward")) &&
                  s.terminated == json_bool(json_get(r, "terminated")) && !s.truncated;
        if (!ok && t.bad++ < 3)
            test_fail(__FILE__, __LINE__,
                      "%s state_step %d (action %d) differs: state %.17g %.17g, reward %g, "
                      "terminated %d",
                      file, i, action, got[0], got[1], (double)s.reward, s.terminated);
    }
    fixture_close(&f);
    prism_env_free(&env);
    CHECK_EQ_INT(t.bad, 0);
    return t;
}

/* Every record of a rollout: a reset record loads its state (after a real reset, so the time
 * limit counter restarts); a step record starts from the previous record's float64 state and
 * must reproduce obs, state, reward, terminated, and truncated at the default time limit. */
static tally check_rollout(const char *id, const char *file, const tolerance *tol) {
    tally t = {0};
    fixture f;
    if (!fixture_open(&f, file)) return t;
    prism_env env;
    if (prism_env_init(&env, id, NULL) != PRISM_OK) {
        test_fail(__FILE__, __LINE__, "cannot create %s: %s", id, prism_error_message());
        fixture_close(&f);
        return t;
    }
    const int d = prism_env_obs_size(env.cls), n = env.cls->state_values;
    float obs[MAX_OBS];
    double prev[MAX_STATE], got[MAX_STATE];
    int resets = 0, truncations = 0;
    bool have_prev = false;
    for (const json *r; (r = fixture_next(&f));) {
        const char *type = json_str(json_get(r, "type"));
        /* kept a double: reset records have no "t", and (int) of the NaN that reads as is
         * undefined behaviour (clang's -fsanitize=float-cast-overflow stops on it) */
        double step_t = json_num(json_get(r, "t"));
        bool is_reset = !strcmp(type, "reset");
        if (!is_reset && strcmp(type, "step")) continue;
        if (is_reset) {
            prism_env_reset(&env, obs);
            resets++;
        } else if (!have_prev) {
            test_fail(__FILE__, __LINE__, "%s: a step before any reset", file);
            break;
        }
        if (have_prev) CHECK(prism_env_set_state(&env, prev, n, obs) == PRISM_OK);
        prism_step s = {0};
        if (is_reset) {
            if (read_numbers(json_get(r, "state"), prev, MAX_STATE) != n) break;
            CHECK(prism_env_set_state(&env, prev, n, obs) == PRISM_OK);
        } else {
            s = prism_env_step(&env, (int)json_num(json_get(r, "action")), obs);
            truncations += s.truncated;
        }
        env.cls->get_state(env.state, got);
        bool ok = compare(obs, got, r, d, n, is_reset ? &exact : tol, &t);
        if (!is_reset)
            ok = ok && s.reward == (float)json_num(json_get(r, "reward")) &&
                 s.terminated == json_bool(json_get(r, "terminated")) &&
                 s.truncated == json_bool(json_get(r, "truncated"));
        if (!ok && t.bad++ < 3)
            test_fail(__FILE__, __LINE__,
                      "%s %s t=%.0f differs: state %.17g %.17g, reward %g, terminated %d, "
                      "truncated %d",
                      file, type, step_t, got[0], got[1], (double)s.reward, s.terminated,
                      s.truncated);
        if (read_numbers(json_get(r, "state"), prev, MAX_STATE) != n) break;
        have_prev = true;
    }
    fixture_close(&f);
    prism_env_free(&env);
    CHECK_EQ_INT(t.bad, 0);
    CHECK(resets >= 2); /* every trace spans several episodes */
    return t;
}

static const tolerance numpy_trig = {1e-13, 1};

TEST(cartpole_v1_matches_gymnasium_state_steps) {
    tally t =
        check_state_steps("CartPole-v1", "cartpole-v1_states_seed0_300.jsonl.gz", &numpy_trig);
    CHECK(t.records >= 600);
}

TEST(cartpole_v1_matches_gymnasium_rollout) {
    tally t = check_rollout("CartPole-v1", "cartpole-v1_seed0_2000.jsonl.gz", &numpy_trig);
    CHECK(t.records >= 2000);
}

TEST(acrobot_v1_matches_gymnasium_state_steps) {
    tally t = check_state_steps("Acrobot-v1", "acrobot-v1_states_seed0_300.jsonl.gz", &numpy_trig);
    CHECK(t.records >= 900);
}

TEST(acrobot_v1_matches_gymnasium_rollout) {
    tally t = check_rollout("Acrobot-v1", "acrobot-v1_seed0_2000.jsonl.gz", &numpy_trig);
    CHECK(t.records >= 2000);
}

/* The same reference arithmetic with libm's cos/sin in place of numpy's (fixtures made by
 * scripts/gen_libm_fixtures.py from Gymnasium 1.4.0 over the reference traces' inputs): here
 * every bit must agree, which pins the expression shapes that the tolerance above cannot. */
TEST(cartpole_v1_matches_gymnasium_with_libm_trig_exactly) {
    tally t =
        check_state_steps("CartPole-v1", "tests/fixtures/cartpole-v1_libm_states.jsonl.gz", &exact);
    CHECK(t.records >= 2600);
    CHECK_EQ_INT(t.exact, t.records);
}

TEST(acrobot_v1_matches_gymnasium_with_libm_trig_exactly) {
    tally t =
        check_state_steps("Acrobot-v1", "tests/fixtures/acrobot-v1_libm_states.jsonl.gz", &exact);
    CHECK(t.records >= 2900);
    CHECK_EQ_INT(t.exact, t.records);
}

TEST(mountain_car_v0_matches_gymnasium_state_steps) {
    tally t =
        check_state_steps("MountainCar-v0", "mountaincar-v0_states_seed0_300.jsonl.gz", &exact);
    CHECK(t.records >= 900);
}

TEST(mountain_car_v0_matches_gymnasium_rollout) {
    tally t = check_rollout("MountainCar-v0", "mountaincar-v0_seed0_2000.jsonl.gz", &exact);
    CHECK(t.records >= 2000);
}

/* Reset distributions over many seeds: every value inside the reference's range, and the
 * draws spread over it (the extremes come within 5% of both ends; the mean near the centre). */
static void check_reset_range(const char *id, int index, double lo, double hi, bool float32) {
    prism_env env;
    REQUIRE(prism_env_init(&env, id, NULL) == PRISM_OK);
    double state[MAX_STATE], mn = hi, mx = lo, sum = 0;
    float obs[MAX_OBS];
    enum { SEEDS = 2000 };
    for (uint64_t seed = 0; seed < SEEDS; seed++) {
        prism_env_seed(&env, seed, PRISM_STREAM_ENV);
        prism_env_reset(&env, obs);
        env.cls->get_state(env.state, state);
        double v = state[index];
        CHECK(v >= lo && v <= hi);
        if (float32) CHECK((double)(float)v == v);
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
        sum += v;
    }
    const double w = hi - lo;
    CHECK(mn < lo + 0.05 * w);
    CHECK(mx > hi - 0.05 * w);
    CHECK_NEAR(sum / SEEDS, (lo + hi) / 2, 0.05 * w);
    prism_env_free(&env);
}

TEST(cartpole_reset_draws_uniform_0_05) {
    for (int i = 0; i < 4; i++) check_reset_range("CartPole-v1", i, -0.05, 0.05, false);
}

TEST(acrobot_reset_draws_uniform_0_1_as_float32) {
    for (int i = 0; i < 4; i++) check_reset_range("Acrobot-v1", i, -0.1, 0.1, true);
}

TEST(mountain_car_reset_draws_position_and_zero_velocity) {
    check_reset_range("MountainCar-v0", 0, -0.6, -0.4, false);
    prism_env env;
    REQUIRE(prism_env_init(&env, "MountainCar-v0", NULL) == PRISM_OK);
    float obs[2];
    for (uint64_t seed = 0; seed < 100; seed++) {
        prism_env_seed(&env, seed, PRISM_STREAM_ENV);
        prism_env_reset(&env, obs);
        CHECK(obs[1] == 0.0f);
    }
    prism_env_free(&env);
}

/* The 600-step MountainCar of the Revisiting Rainbow presets is a time-limit option. */
TEST(mountain_car_time_limit_600_is_an_option) {
    prism_env_options o = prism_env_options_default();
    o.max_episode_steps = 600;
    prism_env env;
    REQUIRE(prism_env_init(&env, "MountainCar-v0", &o) == PRISM_OK);
    float obs[2];
    prism_env_reset(&env, obs);
    int t = 0;
    prism_step s = {0};
    /* coasting never reaches the goal, so only the time limit ends the episode */
    while (!s.terminated && !s.truncated && t < 1000) s = prism_env_step(&env, 1, obs), t++;
    CHECK_EQ_INT(t, 600);
    CHECK(s.truncated && !s.terminated);
    prism_env_free(&env);
}

TEST(classic_render_draws_text) {
    const char *ids[] = {"CartPole-v1", "Acrobot-v1", "MountainCar-v0"};
    for (int k = 0; k < 3; k++) {
        prism_env env;
        REQUIRE(prism_env_init(&env, ids[k], NULL) == PRISM_OK);
        float obs[MAX_OBS];
        prism_env_reset(&env, obs);
        char buf[4096], small[16];
        int n = env.cls->render(env.state, buf, sizeof buf, true);
        CHECK(n > 20 && n < (int)sizeof buf && (size_t)n == strlen(buf));
        CHECK(strstr(buf, "\033[") != NULL);
        n = env.cls->render(env.state, buf, sizeof buf, false);
        CHECK(strstr(buf, "\033[") == NULL);
        /* a tiny buffer is truncated, never overrun */
        env.cls->render(env.state, small, sizeof small, true);
        CHECK(strlen(small) < sizeof small);
        prism_env_free(&env);
    }
}

/* The vector fast path (step_many) must be bit-identical to stepping each copy on its own,
 * auto-resets and final observations included. 37 copies: one full block of CartPole's 32
 * and a partial one. */
TEST(classic_step_many_matches_single_steps_bit_for_bit) {
    const char *ids[] = {"CartPole-v1", "Acrobot-v1", "MountainCar-v0"};
    enum { N = 37, T = 700 };
    for (int k = 0; k < 3; k++) {
        prism_vec_env v;
        REQUIRE(prism_vec_env_init(&v, ids[k], N, NULL, 11) == PRISM_OK);
        REQUIRE(v.envs[0].cls->step_many != NULL);
        prism_env single[N];
        for (int i = 0; i < N; i++) {
            REQUIRE(prism_env_init(&single[i], ids[k], NULL) == PRISM_OK);
            prism_env_seed(&single[i], 11, PRISM_STREAM_ENV + (uint64_t)i);
        }
        const int d = v.obs_size, n = v.envs[0].cls->state_values;
        float obs[N * MAX_OBS], final[N * MAX_OBS], rew[N], one[MAX_OBS];
        bool term[N], trunc[N];
        int actions[N], mismatches = 0, ends = 0;
        prism_rng rng;
        prism_rng_seed(&rng, 5, PRISM_STREAM_ACTIONS);
        prism_vec_env_reset(&v, obs);
        for (int i = 0; i < N; i++) prism_env_reset(&single[i], one);
        for (int t = 0; t < T; t++) {
            for (int i = 0; i < N; i++)
                actions[i] = (int)prism_rng_below(&rng, (uint32_t)v.envs[0].cls->num_actions);
            prism_vec_env_step(&v, actions, obs, final, rew, term, trunc);
            for (int i = 0; i < N; i++) {
                prism_step s = prism_env_step(&single[i], actions[i], one);
                bool same =
                    s.reward == rew[i] && s.terminated == term[i] && s.truncated == trunc[i];
                if (s.terminated || s.truncated) {
                    ends++;
                    same = same && !memcmp(one, final + (size_t)i * d, sizeof(float) * (size_t)d);
                    prism_env_reset(&single[i], one);
                }
                same = same && !memcmp(one, obs + (size_t)i * d, sizeof(float) * (size_t)d);
                double a[MAX_STATE], b[MAX_STATE];
                v.envs[0].cls->get_state(v.envs[i].state, a);
                v.envs[0].cls->get_state(single[i].state, b);
                same = same && !memcmp(a, b, sizeof(double) * (size_t)n);
                mismatches += !same;
            }
        }
        CHECK_EQ_INT(mismatches, 0);
        CHECK(ends >= N); /* every copy auto-reset at least once */
        for (int i = 0; i < N; i++) prism_env_free(&single[i]);
        prism_vec_env_free(&v);
    }
}

#include "../src/env/classic/small_trig.h"

/* CartPole's vector path takes cos/sin from small_trig.h whenever it reports ok: those values
 * must be glibc's, bit for bit, and the fallback must stay rare. Arguments: uniform over the
 * whole range, tiny ones, the edges, and values outside the range (which must be refused). */
TEST(small_trig_agrees_with_glibc_bit_for_bit) {
    double (*volatile libm_sin)(double) = sin, (*volatile libm_cos)(double) = cos;
    prism_rng rng;
    prism_rng_seed(&rng, 2026, 77);
    enum { N = 400000 };
    int ok_s_count = 0, ok_c_count = 0, bad = 0;
    for (int i = 0; i < N + 8; i++) {
        double x = (2 * prism_rng_uniform(&rng) - 1) * SMALL_TRIG_LIMIT;
        if (i % 5 == 0) x *= ldexp(1.0, -(int)prism_rng_below(&rng, 60));
        const double edges[8] = {0.0,    -0.0,    SMALL_TRIG_LIMIT,   -SMALL_TRIG_LIMIT,
                                 1e-310, 0x1p-27, 0.2094395102393195, -0.2094395102393195};
        if (i >= N) x = edges[i - N];
        int ok_s, ok_c;
        double s = small_sin(x, &ok_s), c = small_cos(x, &ok_c);
        if (i % 5 != 0 && i < N) { /* the rate over uniform arguments (cos of tiny x is 1.0) */
            ok_s_count += ok_s;
            ok_c_count += ok_c;
        }
        if ((ok_s && s != libm_sin(x)) || (ok_c && c != libm_cos(x))) {
            if (bad++ < 3)
                test_fail(__FILE__, __LINE__, "x = %a: sin %a vs glibc %a, cos %a vs glibc %a", x,
                          s, libm_sin(x), c, libm_cos(x));
        }
    }
    CHECK_EQ_INT(bad, 0);
    /* fallback about 1 in 8 (of N * 4 / 5 uniform arguments) */
    CHECK(ok_s_count > N * 4 / 5 * 8 / 10 && ok_c_count > N * 4 / 5 * 8 / 10);
    const double outside[4] = {0.2500000000000001, -0.3, 3.0, NAN};
    for (int i = 0; i < 4; i++) {
        int ok_s = 1, ok_c = 1;
        small_sin(outside[i], &ok_s);
        small_cos(outside[i], &ok_c);
        CHECK(!ok_s && !ok_c);
    }
}

/* Acrobot's vector path takes cos/sin from wide_sincos whenever it reports ok: those values
 * must be glibc's, bit for bit. Arguments over [-16, 16], tiny ones, and values next to
 * multiples of pi/2 (where the reduction cancels). */
TEST(wide_trig_agrees_with_glibc_bit_for_bit) {
    double (*volatile libm_sin)(double) = sin, (*volatile libm_cos)(double) = cos;
    prism_rng rng;
    prism_rng_seed(&rng, 2026, 78);
    enum { N = 400000 };
    int ok_count = 0, uniform = 0, bad = 0;
    for (int i = 0; i < N; i++) {
        double x = (2 * prism_rng_uniform(&rng) - 1) * 16;
        if (i % 5 == 0) x *= ldexp(1.0, -(int)prism_rng_below(&rng, 60));
        if (i % 5 == 1) { /* a few ulps from k pi/2 */
            double k = (double)((int)prism_rng_below(&rng, 21) - 10);
            x = k * (M_PI / 2);
            for (int u = (int)prism_rng_below(&rng, 9) - 4; u != 0; u += u > 0 ? -1 : 1)
                x = nextafter(x, u > 0 ? INFINITY : -INFINITY);
        }
        int ok_s, ok_c;
        double s, c;
        wide_sincos(x, &s, &c, &ok_s, &ok_c);
        if (i % 5 > 1) ok_count += ok_s + ok_c, uniform += 2;
        if ((ok_s && s != libm_sin(x)) || (ok_c && c != libm_cos(x))) {
            if (bad++ < 3)
                test_fail(__FILE__, __LINE__, "x = %a: sin %a vs glibc %a, cos %a vs glibc %a", x,
                          s, libm_sin(x), c, libm_cos(x));
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(ok_count > uniform * 8 / 10); /* fallback about 1 in 8 */
    /* NaN and 1e300 also check that no out-of-range double is converted to an int on the way
     * (make test-asan-clang) */
    const double outside[5] = {16.000000000000004, -100.0, NAN, 1e300, -INFINITY};
    for (int i = 0; i < 5; i++) {
        int ok_s = 1, ok_c = 1;
        double s, c;
        wide_sincos(outside[i], &s, &c, &ok_s, &ok_c);
        CHECK(!ok_s && !ok_c);
    }
}

/* The column of the first `c` on the line `row` (0 = first) of a picture, or -1. */
static int column_of(const char *picture, int row, char c) {
    const char *line = picture;
    for (int r = 0; r < row && line; r++) line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL;
    if (!line) return -1;
    size_t len = strcspn(line, "\n");
    const char *at = memchr(line, c, len);
    return at ? (int)(at - line) : -1;
}

TEST(cartpole_picture_shows_the_pole_leaning_over_the_cart_between_the_walls) {
    prism_env env;
    REQUIRE(prism_env_init(&env, "CartPole-v1", NULL) == PRISM_OK);
    float obs[4];
    char picture[4096];
    /* upright at the centre: a vertical pole over the middle of the cart, walls at the ends */
    double upright[4] = {0, 0, 0, 0};
    REQUIRE(prism_env_set_state(&env, upright, 4, obs) == PRISM_OK);
    env.cls->render(env.state, picture, sizeof picture, false);
    int cart = column_of(picture, 6, '[') + 2;
    CHECK(cart > 25 && cart < 35);
    CHECK_EQ_INT(column_of(picture, 0, '|'), cart);
    CHECK_EQ_INT(column_of(picture, 5, '|'), cart);
    CHECK_EQ_INT(column_of(picture, 7, '|'), 0);
    CHECK(strstr(picture, "theta=+0.00 deg (ends at +-12)") != NULL);
    /* leaning right by 10 degrees near the right wall: the tip is right of the cart, the base
     * above it, and the cart right of centre */
    double leaning[4] = {2.0, 0, 10 * M_PI / 180, 0};
    REQUIRE(prism_env_set_state(&env, leaning, 4, obs) == PRISM_OK);
    env.cls->render(env.state, picture, sizeof picture, false);
    int right = column_of(picture, 6, '[') + 2;
    CHECK(right > cart + 20);
    CHECK(column_of(picture, 0, '/') >= right + 2);
    CHECK(column_of(picture, 5, '/') <= right + 1);
    double left[4] = {0, 0, -10 * M_PI / 180, 0};
    REQUIRE(prism_env_set_state(&env, left, 4, obs) == PRISM_OK);
    env.cls->render(env.state, picture, sizeof picture, false);
    CHECK(column_of(picture, 0, '\\') <= cart - 2);
    prism_env_free(&env);
}
