/* prism bench train [--json] [--updates N] [--only TEXT]: the cost of training, measured the
 * way the trainer spends it: for a preset on an environment, fill the replay memory to
 * min_replay with random actions (not timed), then time a fixed number of agent steps (act,
 * environment step, observe with its scheduled updates and target syncs), and report us per
 * environment step, us per update and the split (act, env, replay, learn).
 *
 * Acting is timed at the preset's final epsilon (the decay is switched off), so most steps
 * run the batch-1 forward as they do for most of a run; noisy presets resample noise on every
 * action as in training. No files are written, nothing is evaluated. Numbers are reported,
 * never asserted. The timed steps run in twenty chunks and every figure comes from the fastest
 * chunk (best-of, as prism bench nn: on a shared machine, the chunk least disturbed by other
 * processes). CPU_STEP_us is thread CPU time per step over all chunks, the figure least moved
 * by load (it still includes what sharing caches and cores costs); CPU/WALL, CPU over wall time
 * for all chunks, says how loaded the machine was (1 when this process had a core to itself).
 *
 * The arithmetic floor: MFLOP/STEP counts the matrix products of an environment step from the
 * network config (prism_agent_count_flops: an update's forwards and backward every
 * update_period steps, a greedy batch-1 forward on the steps that do not act at random);
 * FLOOR_us is that at this core's FP32 FMA peak (measured as prism bench peak does, best of
 * 5 x 100M, or --peak GFLOPS), and xFLOOR is CPU_STEP_us over it: how far the step is from
 * doing nothing but arithmetic at the peak. Not here: whole runs with logging (prism train), the
 * network alone (prism bench nn). */
#include "cli.h"
#include "prism/agent.h"
#include "prism/pqn.h"
#include "prism/presets.h"

#include <stdio.h>
#include <string.h>

/* Thread CPU time with one thread (other processes' time stays out); with the network kernels
 * split over threads, the whole process's, so that the workers' time counts. */
static double cpu_now(void) {
    return prism_nn_threads() > 1 ? prism_process_cpu_now() : prism_thread_cpu_now();
}

typedef struct train_case {
    const char *preset, *env;
} train_case;

static const train_case cases[] = {
    {"cleanrl-dqn", "CartPole-v1"}, {"dqn", "CartPole-v0"},      {"rainbow", "CartPole-v0"},
    {"rainbow", "LunarLander-v3"},  {"dqn", "breakout"},         {"rainbow", "breakout"},
    {"qr-dqn", "CartPole-v0"},      {"qrainbow", "CartPole-v0"}, {"m-dqn", "CartPole-v0"},
    {"pqn", "CartPole-v1"},         {"pqn", "breakout"},         {"iqn", "CartPole-v0"},
};
enum { N_CASES = (int)(sizeof cases / sizeof cases[0]) };

typedef struct train_result {
    long long steps, updates;           /* all chunks */
    double total_s, cpu_s;              /* all chunks: wall and thread CPU time */
    long long best_steps, best_updates; /* the fastest chunk: */
    double best_s, act_s, env_s, observe_s, learn_s, replay_s;
    prism_agent_flops flops; /* counted from the config, not measured */
} train_result;

/* A PQN case: rollout-and-learn cycles (N * T environment steps, E * M updates each), one per
 * chunk, at the final epsilon, at least five and enough for `updates` updates. The FLOPs are
 * prism_pqn_count_flops per cycle: per step that over N * T, per update a minibatch's forward
 * and backward, per act one row of the batched forward. */
static prism_status run_pqn_case(const prism_config *cfg, long long updates, train_result *r) {
    prism_agent_config ac = cfg->agent_cfg;
    ac.eps_decay_steps = 0; /* act at the final epsilon: see the file comment */
    prism_env_options eo = prism_env_options_default();
    eo.max_episode_steps = cfg->env_max_episode_steps;
    prism_pqn pq;
    prism_status st = prism_pqn_init(&pq, &ac, &eo, cfg->env, cfg->train.steps, cfg->seed);
    if (st) return st;
    const long long per_cycle = (long long)ac.epochs * ac.minibatches;
    long long cycles = (updates + per_cycle - 1) / per_cycle;
    if (cycles < 5) cycles = 5;
    const double steps = (double)pq.n * pq.T, cycle_flops = prism_pqn_count_flops(&ac, pq.cls);
    prism_nn_config nc = prism_agent_net_config(&ac, pq.cls);
    prism_nn_flops mb = prism_nn_count_flops(&nc, pq.minibatch);
    r->flops.per_step = cycle_flops / steps;
    r->flops.update = mb.forward + mb.backward;
    r->flops.act = prism_nn_count_flops(&nc, pq.n).forward / pq.n;
    double t_start = prism_now(), c_start = cpu_now(), best = 1e300;
    for (long long c = 0; c < cycles && !st; c++) {
        prism_pqn_stats_reset(&pq);
        double c0 = prism_now();
        prism_pqn_rollout(&pq);
        st = prism_pqn_learn(&pq);
        double wall = prism_now() - c0;
        r->steps += (long long)steps;
        r->updates += pq.stats.updates;
        if (wall < best) {
            best = wall;
            r->best_steps = (long long)steps, r->best_updates = pq.stats.updates;
            r->best_s = wall, r->act_s = pq.stats.time_act + pq.stats.time_returns;
            r->env_s = pq.stats.time_env, r->learn_s = pq.stats.time_learn;
            r->observe_s = pq.stats.time_learn, r->replay_s = 0;
        }
    }
    r->total_s = prism_now() - t_start;
    r->cpu_s = cpu_now() - c_start;
    prism_pqn_free(&pq);
    return st;
}

static prism_status run_case(const train_case *tc, long long updates, int precision,
                             train_result *r) {
    memset(r, 0, sizeof *r);
    prism_config cfg;
    prism_config_defaults(&cfg);
    prism_status st = prism_preset_apply(&cfg, tc->preset, tc->env);
    if (st) return st;
    cfg.agent_cfg.precision = precision;
    if (cfg.agent_cfg.kind == PRISM_AGENT_PQN) return run_pqn_case(&cfg, updates, r);
    prism_env env;
    prism_env_options eo = prism_env_options_default();
    eo.max_episode_steps = cfg.env_max_episode_steps;
    if ((st = prism_env_init(&env, cfg.env, &eo))) return st;
    if (env.max_episode_steps == 0) env.max_episode_steps = cfg.train.max_episode_steps;
    prism_env_seed(&env, cfg.seed, PRISM_STREAM_ENV);
    const int D = prism_env_obs_size(env.cls);
    prism_agent ag;
    if ((st = prism_config_validate(&cfg, D)) ||
        (st = prism_agent_init(&ag, &cfg.agent_cfg, env.cls, cfg.seed))) {
        prism_env_free(&env);
        return st;
    }
    ag.cfg.eps_decay_steps = 0; /* act at the final epsilon: see the file comment */
    const prism_agent_flops flops = prism_agent_count_flops(&cfg.agent_cfg, env.cls);
    float *obs = prism_calloc(2 * (size_t)D, sizeof(float));
    if (!obs) {
        prism_agent_free(&ag);
        prism_env_free(&env);
        return prism_error(PRISM_ERR_NOMEM, "out of memory");
    }
    float *next = obs + D;
    prism_rng rng;
    prism_rng_seed(&rng, cfg.seed, PRISM_STREAM_ACTIONS);
    prism_env_reset(&env, obs);
    const int A = env.cls->num_actions, period = cfg.agent_cfg.update_period;
    /* Fill: random actions until the next observe may learn. */
    while (ag.replay.steps < cfg.agent_cfg.min_replay) {
        int a = (int)prism_rng_below(&rng, (uint32_t)A);
        prism_step s = prism_env_step(&env, a, next);
        st = prism_agent_observe(&ag, obs, a, s.reward, s.terminated, s.truncated, next);
        if (st) goto done;
        if (s.terminated || s.truncated)
            prism_env_reset(&env, obs);
        else
            memcpy(obs, next, sizeof(float) * (size_t)D);
    }
    memset(r, 0, sizeof *r);
    prism_agent_stats_reset(&ag);
    /* Twenty chunks; the figures come from the fastest one (best-of, as prism bench nn), which
     * on a shared machine is the one least disturbed by other processes. */
    const long long chunk_updates = updates >= 20 ? updates / 20 : 1;
    const long long chunk_steps = chunk_updates * period;
    const long long chunks = (updates + chunk_updates - 1) / chunk_updates;
    double t_start = prism_now(), c_start = cpu_now(), best = 1e300;
    for (long long ch = 0; ch < chunks; ch++) {
        double act = 0, envt = 0, obs_t = 0;
        double learn0 = ag.stats.time_learn, replay0 = ag.stats.time_replay;
        long long upd0 = ag.stats.updates;
        double c0 = prism_now();
        for (long long i = 0; i < chunk_steps; i++) {
            double t0 = prism_now();
            int a = prism_agent_act(&ag, obs, false);
            double t1 = prism_now();
            prism_step s = prism_env_step(&env, a, next);
            double t2 = prism_now();
            st = prism_agent_observe(&ag, obs, a, s.reward, s.terminated, s.truncated, next);
            double t3 = prism_now();
            if (st) goto done;
            if (s.terminated || s.truncated)
                prism_env_reset(&env, obs);
            else
                memcpy(obs, next, sizeof(float) * (size_t)D);
            act += t1 - t0, envt += t2 - t1, obs_t += t3 - t2;
        }
        double wall = prism_now() - c0;
        r->steps += chunk_steps;
        r->updates += ag.stats.updates - upd0;
        if (wall < best) {
            best = wall;
            r->best_steps = chunk_steps;
            r->best_updates = ag.stats.updates - upd0;
            r->best_s = wall, r->act_s = act, r->env_s = envt, r->observe_s = obs_t;
            r->learn_s = ag.stats.time_learn - learn0;
            r->replay_s = ag.stats.time_replay - replay0;
        }
    }
    r->flops = flops;
    r->total_s = prism_now() - t_start;
    r->cpu_s = cpu_now() - c_start;
done:
    prism_free(obs);
    prism_agent_free(&ag);
    prism_env_free(&env);
    return st;
}

int bench_train(int argc, char **argv) {
    enum { O_JSON, O_UPDATES, O_ONLY, O_PEAK, O_THREADS, O_PRECISION, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_JSON] = {.name = "json", .help = "one JSON object per case"},
        [O_UPDATES] = {.name = "updates",
                       .metavar = "N",
                       .help = "updates timed per case (default 200)"},
        [O_ONLY] = {.name = "only",
                    .metavar = "TEXT",
                    .help = "only cases whose 'preset env' contains TEXT (only the case named "
                            "TEXT exactly, where there is one)"},
        [O_PEAK] = {.name = "peak",
                    .metavar = "GFLOPS",
                    .help = "FP32 peak for the floor (default: measured, as bench peak)"},
        [O_THREADS] = {.name = "threads",
                       .metavar = "N",
                       .help = "threads for the network's matrix products (default 1; more needs "
                               "a `make GEMM=prism` build); CPU_STEP_us then counts every "
                               "thread's CPU time"},
        [O_PRECISION] = {.name = "precision",
                         .metavar = "fp32|bf16",
                         .help = "the networks' arithmetic (nn.precision, default fp32); the floor "
                                 "stays the FP32 one"},
    };
    const char *usage = "prism bench train [--json] [--updates N] [--only TEXT] [--peak GFLOPS] "
                        "[--threads N] [--precision fp32|bf16]";
    int npos;
    int rc = cli_parse("bench train", usage, argc, argv, opts, NOPTS, NULL, 0, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    long long updates, threads;
    double peak;
    if (!cli_int("bench train", &opts[O_UPDATES], 1, 1000000, 200, &updates) ||
        !cli_double("bench train", &opts[O_PEAK], 0.001, 1e9, 0, &peak) ||
        !cli_int("bench train", &opts[O_THREADS], 1, PRISM_NN_MAX_THREADS, 1, &threads))
        return CLI_USAGE;
    prism_status tst = prism_nn_set_threads((int)threads);
    if (tst) return cli_fail("bench train", tst, NULL);
    const char *prec = cli_value(&opts[O_PRECISION], "fp32");
    if (strcmp(prec, "fp32") && strcmp(prec, "bf16")) {
        fprintf(stderr, "prism bench train: --precision must be fp32 or bf16 (got '%s')\n", prec);
        return CLI_USAGE;
    }
    const int precision = strcmp(prec, "bf16") ? PRISM_NN_FP32 : PRISM_NN_BF16;
    int json = opts[O_JSON].count > 0;
    const char *only = cli_value(&opts[O_ONLY], NULL);
    char names[N_CASES][96];
    int matches = 0, exact = 0;
    for (int i = 0; i < N_CASES; i++) {
        snprintf(names[i], sizeof names[i], "%s %s", cases[i].preset, cases[i].env);
        matches += !only || strstr(names[i], only) != NULL;
        exact += only && !strcmp(names[i], only);
    }
    if (!matches) {
        fprintf(stderr, "prism bench train: no case matches '%s'; cases:", only);
        for (int i = 0; i < N_CASES; i++) fprintf(stderr, " '%s'", names[i]);
        fprintf(stderr, "\n");
        return CLI_USAGE;
    }
    /* the floor's denominator: measured here unless given (0 when this CPU has no kernel) */
    const bool peak_measured = peak == 0;
    if (peak_measured) peak = bench_peak_fp32();
    if (!json) {
        if (peak > 0)
            printf("FP32 peak %.1f GFLOP/s (%s); FLOOR_us = MFLOP/STEP at that peak\n", peak,
                   peak_measured ? "measured as bench peak, best of 5 x 100M" : "--peak");
        else
            printf("FP32 peak: not measurable on this CPU (give --peak GFLOPS for the floor)\n");
        if (precision == PRISM_NN_BF16)
            printf("precision bf16: dense products %s\n",
                   prism_nn_bf16_hardware() ? "on AVX512_BF16" : "emulated (no AVX512_BF16 here)");
        printf("%-12s %-15s %7s %7s %9s %9s %8s %8s %9s %10s %6s %10s %9s %7s\n", "PRESET", "ENV",
               "STEPS", "UPDATES", "STEP_us", "UPDATE_us", "ACT_us", "ENV_us", "REPLAY_us",
               "CPU_STEP_us", "CPU/WALL", "MFLOP/STEP", "FLOOR_us", "xFLOOR");
    }
    for (int i = 0; i < N_CASES; i++) {
        /* "rainbow CartPole-v0" is also in "qrainbow CartPole-v0": an exact name is that case */
        if (only && (exact ? strcmp(names[i], only) : !strstr(names[i], only))) continue;
        train_result r;
        prism_status st = run_case(&cases[i], updates, precision, &r);
        if (st) return cli_fail("bench train", st, NULL);
        double n = (double)r.best_steps, u = r.best_updates > 0 ? (double)r.best_updates : 1.0;
        double step_us = r.best_s / n * 1e6, upd_us = r.learn_s / u * 1e6;
        double act_us = r.act_s / n * 1e6, env_us = r.env_s / n * 1e6;
        double replay_us = r.replay_s / n * 1e6;
        double load = r.total_s > 0 ? r.cpu_s / r.total_s : 1.0;
        double cpu_step_us = r.cpu_s / (double)r.steps * 1e6; /* all chunks, CPU time */
        /* the floor: this step's matrix products at the FP32 peak */
        double floor_us = peak > 0 ? r.flops.per_step / (peak * 1e3) : 0;
        double x_floor = floor_us > 0 ? cpu_step_us / floor_us : 0;
        if (json) {
            prism_json j;
            prism_json_init(&j, 0);
            prism_json_object_begin(&j);
            prism_json_kv_string(&j, "preset", cases[i].preset);
            prism_json_kv_string(&j, "env", cases[i].env);
            prism_json_kv_int(&j, "steps", r.steps);
            prism_json_kv_int(&j, "updates", r.updates);
            prism_json_kv_fixed(&j, "wall_s", r.total_s, 4);
            prism_json_kv_fixed(&j, "cpu_s", r.cpu_s, 4);
            prism_json_kv_fixed(&j, "step_us", step_us, 2);
            prism_json_kv_fixed(&j, "update_us", upd_us, 2);
            prism_json_kv_fixed(&j, "act_us", act_us, 2);
            prism_json_kv_fixed(&j, "env_us", env_us, 3);
            prism_json_kv_fixed(&j, "replay_us_per_step", replay_us, 3);
            prism_json_kv_fixed(&j, "observe_us", r.observe_s / n * 1e6, 2);
            prism_json_kv_fixed(&j, "cpu_step_us", cpu_step_us, 2);
            prism_json_kv_fixed(&j, "cpu_per_wall", load, 3);
            prism_json_kv_int(&j, "threads", threads);
            prism_json_kv_string(&j, "precision", prec);
            prism_json_kv_double(&j, "flop_per_update", r.flops.update);
            prism_json_kv_double(&j, "flop_per_act", r.flops.act);
            prism_json_kv_double(&j, "flop_per_step", r.flops.per_step);
            if (peak > 0) {
                prism_json_kv_fixed(&j, "peak_gflops", peak, 2);
                prism_json_kv_string(&j, "peak_source", peak_measured ? "measured" : "option");
                prism_json_kv_fixed(&j, "floor_us", floor_us, 3);
                prism_json_kv_fixed(&j, "cpu_step_over_floor", x_floor, 3);
            } else {
                prism_json_key(&j, "peak_gflops");
                prism_json_null(&j);
                prism_json_key(&j, "floor_us");
                prism_json_null(&j);
                prism_json_key(&j, "cpu_step_over_floor");
                prism_json_null(&j);
            }
            prism_json_object_end(&j);
            if ((rc = cli_json_print("bench train", &j))) return rc;
        } else
            printf(
                "%-12s %-15s %7lld %7lld %9.1f %9.1f %8.1f %8.2f %9.2f %11.1f %8.2f %10.3f %9.2f "
                "%7.1f\n",
                cases[i].preset, cases[i].env, r.steps, r.updates, step_us, upd_us, act_us, env_us,
                replay_us, cpu_step_us, load, r.flops.per_step / 1e6, floor_us, x_floor);
        fflush(stdout);
    }
    return CLI_OK;
}
