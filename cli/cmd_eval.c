/* prism eval RUN [--episodes N] [--epsilon E] [--seed S] [--json] and prism watch RUN
 * [--delay MS] [--seed S]: use a trained agent. RUN is a run directory, or a run id (or unique
 * prefix) in the runs directory's index. Both load the run's latest checkpoint with its
 * config.ini (prism/run_state.h) and play on the evaluation environment, whose random source
 * and the agent's evaluation stream come from the checkpoint, so the same command gives the
 * same numbers; --seed draws fresh ones instead.
 *
 * Not here: training or resuming (cmd_train.c), listing runs (cmd_runs.c).
 */
#include "cli.h"
#include "prism/file.h"
#include "prism/json.h"
#include "prism/run_index.h"
#include "prism/run_state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Load the run; prints the error and returns an exit code on failure. */
static int load(const char *cmd, const char *run, const cli_opt *runs_dir, prism_run_state *t) {
    char dir[PRISM_PATH_MAX];
    int rc = cli_find_run(cmd, run, cli_runs_dir(cli_value(runs_dir, "runs")), dir, sizeof dir);
    if (rc) return rc;
    prism_status st = prism_run_state_load(t, dir, NULL);
    if (st) return cli_fail(cmd, st, NULL);
    return CLI_OK;
}

/* --seed S: fresh evaluation streams instead of the checkpoint's. */
static int reseed(const char *cmd, const cli_opt *o, prism_run_state *t) {
    if (!o->count) return CLI_OK;
    uint64_t seed;
    if (!cli_u64(cmd, o, 0, &seed)) return CLI_USAGE;
    prism_env_seed(&t->eval_env, seed, PRISM_STREAM_EVAL);
    prism_rng_seed(&t->agent.eval_rng, seed, PRISM_STREAM_EVAL);
    return CLI_OK;
}

int cmd_eval(int argc, char **argv) {
    enum { O_EPISODES, O_EPSILON, O_SEED, O_JSON, O_RUNS_DIR, O_PRECISION_DIFF, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_EPISODES] = {.name = "episodes",
                        .metavar = "N",
                        .help = "evaluation episodes (default 10)"},
        [O_EPSILON] = {.name = "epsilon",
                       .metavar = "E",
                       .help = "exploration epsilon (default: the run's agent.eps_eval)"},
        [O_SEED] = {.name = "seed",
                    .metavar = "S",
                    .help = "seed fresh evaluation streams (default: continue the checkpoint's)"},
        [O_JSON] = {.name = "json", .help = "print one JSON object"},
        [O_RUNS_DIR] = {.name = "runs-dir",
                        .metavar = "DIR",
                        .help = "where to look up a run id (default runs)"},
        [O_PRECISION_DIFF] = {.name = "precision-diff",
                              .metavar = "N",
                              .help = "instead: on N states of the greedy policy, the fraction "
                                      "where the network at the other precision (fp32/bf16) "
                                      "picks another action"},
    };
    const char *usage = "prism eval RUN [--episodes N] [--epsilon E] [--seed S] [--json] "
                        "[--runs-dir DIR] [--precision-diff N]";
    char *pos[1];
    int npos;
    int rc = cli_parse("eval", usage, argc, argv, opts, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (npos != 1) {
        fprintf(stderr, "prism eval: which run? usage: %s\n", usage);
        return CLI_USAGE;
    }
    long long episodes;
    if (!cli_int("eval", &opts[O_EPISODES], 1, 1000000, 10, &episodes)) return CLI_USAGE;
    double epsilon; /* -1: the run's own eps_eval */
    if (!cli_double("eval", &opts[O_EPSILON], 0, 1, -1, &epsilon)) return CLI_USAGE;
    prism_run_state t;
    if ((rc = load("eval", pos[0], &opts[O_RUNS_DIR], &t))) return rc;
    if ((rc = reseed("eval", &opts[O_SEED], &t))) {
        prism_run_state_free(&t);
        return rc;
    }
    if (opts[O_PRECISION_DIFF].count) {
        long long states;
        rc = cli_int("eval", &opts[O_PRECISION_DIFF], 1, 100000000, 0, &states)
                 ? eval_precision_diff(&t, states, opts[O_JSON].count > 0)
                 : CLI_USAGE;
        prism_run_state_free(&t);
        return rc;
    }
    if (epsilon >= 0) t.agent.cfg.eps_eval = epsilon;
    const int D = prism_env_obs_size(t.eval_env.cls);
    float *obs = malloc(sizeof(float) * (size_t)D);
    if (!obs) {
        prism_run_state_free(&t);
        return cli_fail("eval", prism_error(PRISM_ERR_NOMEM, "out of memory"), NULL);
    }
    double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY, len_sum = 0;
    for (long long e = 0; e < episodes; e++) {
        prism_env_reset(&t.eval_env, obs);
        double ret = 0;
        long long len = 0;
        for (;;) {
            int a = prism_agent_act(&t.agent, obs, true);
            prism_step s = prism_env_step(&t.eval_env, a, obs);
            ret += (double)s.reward;
            len++;
            if (s.terminated || s.truncated) break;
        }
        sum += ret;
        sq += ret * ret;
        lo = ret < lo ? ret : lo;
        hi = ret > hi ? ret : hi;
        len_sum += (double)len;
    }
    free(obs);
    double n = (double)episodes, mean = sum / n, var = sq / n - mean * mean;
    double std = sqrt(var > 0 ? var : 0);
    if (opts[O_JSON].count) {
        prism_json j;
        prism_json_init(&j, 0);
        prism_json_object_begin(&j);
        prism_json_kv_string(&j, "checkpoint", t.checkpoint);
        prism_json_kv_string(&j, "env", t.cfg.env);
        prism_json_kv_string(&j, "agent", t.cfg.agent);
        prism_json_kv_int(&j, "iterations", t.counters.iterations_done);
        prism_json_kv_int(&j, "env_steps", t.counters.env_steps);
        prism_json_kv_double(&j, "epsilon", t.agent.cfg.eps_eval);
        prism_json_kv_int(&j, "episodes", episodes);
        prism_json_kv_double(&j, "return_mean", mean);
        prism_json_kv_double(&j, "return_std", std);
        prism_json_kv_double(&j, "return_min", lo);
        prism_json_kv_double(&j, "return_max", hi);
        prism_json_kv_double(&j, "length_mean", len_sum / n);
        prism_json_object_end(&j);
        int out_rc = cli_json_print("eval", &j);
        if (out_rc) {
            prism_run_state_free(&t);
            return out_rc;
        }
    } else {
        printf("%s on %s, checkpoint %s (iteration %d, %lld steps), epsilon %g\n", t.cfg.agent,
               t.cfg.env, t.checkpoint, t.counters.iterations_done, t.counters.env_steps,
               t.agent.cfg.eps_eval);
        printf("episodes %lld  return mean %.2f  std %.2f  min %.2f  max %.2f  length %.1f\n",
               episodes, mean, std, lo, hi, len_sum / n);
    }
    prism_run_state_free(&t);
    return CLI_OK;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* One frame: the picture (in place on a terminal, numbered otherwise). */
static void show_frame(const prism_run_state *t, char *picture, size_t cap, bool tty, int frame) {
    t->eval_env.cls->render(t->eval_env.state, picture, cap, tty);
    if (tty)
        fputs("\033[H\033[2J", stdout);
    else
        printf("--- frame %d\n", frame);
    fputs(picture, stdout);
}

/* Play and draw one evaluation episode (episode of episodes); returns its return. */
static double watch_episode(prism_run_state *t, float *obs, char *picture, size_t cap, bool tty,
                            long long delay, long long episode, long long episodes) {
    const prism_env_class *c = t->eval_env.cls;
    prism_env_reset(&t->eval_env, obs);
    double ret = 0;
    int a = -1;
    float reward = 0;
    for (int step = 0;; step++) {
        show_frame(t, picture, cap, tty, step);
        printf("%s  %s", t->cfg.env, t->cfg.agent);
        if (episodes > 1) printf("  episode %lld of %lld", episode, episodes);
        printf("  step %d", step);
        if (a >= 0)
            printf("  action %s  reward %g", c->action_names ? c->action_names[a] : "?",
                   (double)reward);
        printf("  return %g\n", ret);
        fflush(stdout);
        if (tty && delay > 0) sleep_ms((long)delay);
        a = prism_agent_act(&t->agent, obs, true);
        prism_step s = prism_env_step(&t->eval_env, a, obs);
        reward = s.reward;
        ret += (double)s.reward;
        if (s.terminated || s.truncated) {
            show_frame(t, picture, cap, tty, step + 1);
            printf("episode over after %d steps (%s): return %g\n", step + 1,
                   s.terminated ? "terminated" : "truncated", ret);
            if (tty && delay > 0 && episode < episodes) sleep_ms(20 * (long)delay);
            return ret;
        }
    }
}

int cmd_watch(int argc, char **argv) {
    enum { O_DELAY, O_SEED, O_RUNS_DIR, O_EPISODES, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_EPISODES] = {.name = "episodes",
                        .metavar = "N",
                        .help = "episodes to play one after the other (default 1)"},
        [O_DELAY] = {.name = "delay",
                     .metavar = "MS",
                     .help = "milliseconds between frames on a terminal (default 50)"},
        [O_SEED] = {.name = "seed",
                    .metavar = "S",
                    .help = "seed a fresh episode (default: continue the checkpoint's evaluation "
                            "stream)"},
        [O_RUNS_DIR] = {.name = "runs-dir",
                        .metavar = "DIR",
                        .help = "where to look up a run id (default runs)"},
    };
    const char *usage = "prism watch RUN";
    char *pos[1];
    int npos;
    int rc = cli_parse("watch", usage, argc, argv, opts, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (npos != 1) {
        fprintf(stderr, "prism watch: which run? usage: %s\n", usage);
        return CLI_USAGE;
    }
    long long delay;
    if (!cli_int("watch", &opts[O_DELAY], 0, 60000, 50, &delay)) return CLI_USAGE;
    long long episodes;
    if (!cli_int("watch", &opts[O_EPISODES], 1, 1000000, 1, &episodes)) return CLI_USAGE;
    prism_run_state t;
    if ((rc = load("watch", pos[0], &opts[O_RUNS_DIR], &t))) return rc;
    if ((rc = reseed("watch", &opts[O_SEED], &t))) {
        prism_run_state_free(&t);
        return rc;
    }
    const prism_env_class *c = t.eval_env.cls;
    if (!c->render) {
        fprintf(stderr,
                "prism watch: error: %s has no text rendering; use `prism eval` for its "
                "returns\n",
                c->id);
        prism_run_state_free(&t);
        return CLI_USAGE;
    }
    /* On a terminal: redraw in place at --delay; otherwise (a pipe, a file, a test) print
     * every frame one after the other, without colour or waiting. */
    const bool tty = isatty(STDOUT_FILENO);
    enum { PICTURE = 1 << 16 };
    const int D = prism_env_obs_size(c);
    float *obs = malloc(sizeof(float) * (size_t)D);
    char *picture = malloc(PICTURE);
    if (!obs || !picture) {
        free(obs);
        free(picture);
        prism_run_state_free(&t);
        return cli_fail("watch", prism_error(PRISM_ERR_NOMEM, "out of memory"), NULL);
    }
    double sum = 0;
    for (long long episode = 1; episode <= episodes; episode++) {
        double ret = watch_episode(&t, obs, picture, PICTURE, tty, delay, episode, episodes);
        sum += ret;
    }
    if (episodes > 1) printf("%lld episodes: mean return %g\n", episodes, sum / (double)episodes);
    free(obs);
    free(picture);
    prism_run_state_free(&t);
    return CLI_OK;
}
