/* The PQN training loop (prism/pqn_run.h): rollouts and updates grouped into iterations, one
 * metrics.csv row and TensorBoard scalars per iteration, every episode in episodes.csv, the
 * console tee'd into the archive, checkpoints between rollouts.
 * Not here: the learning rule (agent/pqn_agent.c), the checkpoint format (pqn_checkpoint.c). */
#include "prism/pqn_run.h"

#include "prism/archive.h"
#include "prism/metrics_csv.h"
#include "prism/run_state.h"
#include "prism/tfevents.h"
#include "prism/watchdog.h"

#include "trainer_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* metrics.csv of a PQN run. return_* and eval_return_* mean what they mean in a DQN run (the
 * training episodes that ended in the iteration; the evaluation episodes after it); the sys_
 * columns depend on the machine. */
static const char *const columns[] = {"iteration",
                                      "env_steps",
                                      "episodes",
                                      "return_mean",
                                      "return_std",
                                      "return_min",
                                      "return_max",
                                      "length_mean",
                                      "eval_return_mean",
                                      "eval_return_std",
                                      "loss",
                                      "q_mean",
                                      "q_max",
                                      "lambda_return_mean",
                                      "lambda_return_std",
                                      "lambda_return_min",
                                      "lambda_return_max",
                                      "grad_norm_mean",
                                      "grad_norm_max",
                                      "epsilon",
                                      "lr",
                                      "updates",
                                      "param_norm",
                                      "sys_steps_per_s",
                                      "sys_time_env_s",
                                      "sys_time_act_s",
                                      "sys_time_returns_s",
                                      "sys_time_learn_s",
                                      "sys_wall_s",
                                      "sys_rss_mb"};
enum { N_COLUMNS = (int)(sizeof columns / sizeof columns[0]) };
static const unsigned char column_is_int[N_COLUMNS] = {1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0,
                                                       0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

typedef struct pqn_trainer {
    prism_pqn_run r;
    const prism_train_options *opt;
    prism_archive archive;
    bool archive_open, archive_locked;
    prism_csv metrics, episodes;
    prism_tfevents events;
    bool events_open;
    double start_time, last_checkpoint;
} pqn_trainer;

static void acc_reset(prism_pqn_acc *a) {
    memset(a, 0, sizeof *a);
    a->return_min = INFINITY, a->return_max = -INFINITY;
}

prism_status prism_pqn_run_init(prism_pqn_run *r, const prism_config *cfg) {
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    prism_env_options eo = prism_env_options_default();
    eo.max_episode_steps = cfg->env_max_episode_steps;
    prism_status st =
        prism_pqn_init(&r->pq, &cfg->agent_cfg, &eo, cfg->env, cfg->train.steps, cfg->seed);
    if (st) return st;
    /* the environments exactly as the DQN trainer builds its one (prism_train_env_init): the
     * same time-limit cap and env.<option> settings, then a fresh start */
    for (int i = 0; i < r->pq.n && !st; i++) {
        prism_env *e = &r->pq.venv.envs[i];
        if (e->max_episode_steps == 0) e->max_episode_steps = cfg->train.max_episode_steps;
        for (int k = 0; k < cfg->n_env_options && !st; k++)
            st = prism_env_configure(e, cfg->env_keys[k], cfg->env_values[k]);
    }
    if (!st) st = prism_train_env_init(&r->eval_env, cfg);
    if (st) {
        prism_pqn_free(&r->pq);
        return st;
    }
    prism_vec_env_reset(&r->pq.venv, r->pq.obs);
    prism_env_seed(&r->eval_env, cfg->seed, PRISM_STREAM_EVAL);
    prism_rng_seed(&r->eval_rng, cfg->seed, PRISM_STREAM_EVAL);
    const long long batch = (long long)r->pq.n * r->pq.T;
    r->rollouts_per_iteration = (int)((cfg->train.iteration_steps + batch - 1) / batch);
    r->iterations =
        (int)((r->pq.rollouts_total + r->rollouts_per_iteration - 1) / r->rollouts_per_iteration);
    acc_reset(&r->acc);
    r->ready = true;
    return PRISM_OK;
}

void prism_pqn_run_free(prism_pqn_run *r) {
    if (r->ready) {
        prism_pqn_free(&r->pq);
        prism_env_free(&r->eval_env);
    }
    r->ready = false;
}

static prism_status record_episodes(pqn_trainer *t) {
    prism_pqn_run *r = &t->r;
    for (int e = 0; e < r->pq.n_episodes; e++) {
        const prism_pqn_episode *ep = &r->pq.episodes[e];
        r->acc.episodes++;
        r->acc.return_sum += ep->ret, r->acc.return_sq += ep->ret * ep->ret;
        r->acc.return_min = fmin(r->acc.return_min, ep->ret);
        r->acc.return_max = fmax(r->acc.return_max, ep->ret);
        r->acc.length_sum += ep->length;
        r->episodes_total++;
        /* terminated: the environment ended it (not only its time limit) */
        const prism_env *env = &r->pq.venv.envs[ep->env];
        bool cut = env->max_episode_steps > 0 && ep->length >= env->max_episode_steps;
        double row[EPISODE_COLUMNS] = {(double)r->episodes_total, r->iterations_done + 1.0,
                                       (double)r->pq.env_steps,   ep->ret,
                                       (double)ep->length,        cut ? 0.0 : 1.0};
        prism_status st = prism_csv_row(&t->episodes, row);
        if (st) return st;
    }
    return PRISM_OK;
}

static void evaluate(pqn_trainer *t, double *mean, double *std) {
    prism_pqn_run *r = &t->r;
    const int n = r->cfg.train.eval_episodes;
    *mean = *std = (double)NAN;
    if (n <= 0) return;
    double sum = 0, sq = 0;
    float *obs = r->pq.final_obs; /* scratch between rollouts */
    for (int e = 0; e < n; e++) {
        prism_env_reset(&r->eval_env, obs);
        double ret = 0;
        for (;;) {
            int a = prism_pqn_act(&r->pq, obs, r->cfg.agent_cfg.eps_eval, &r->eval_rng);
            prism_step s = prism_env_step(&r->eval_env, a, obs);
            ret += (double)s.reward;
            if (s.terminated || s.truncated) break;
        }
        sum += ret, sq += ret * ret;
    }
    *mean = sum / n;
    *std = sqrt(fmax(sq / n - *mean * *mean, 0));
}

static double mean_std(double sum, double sq, double n, double *std) {
    if (n <= 0) {
        *std = (double)NAN;
        return (double)NAN;
    }
    double m = sum / n;
    *std = sqrt(fmax(sq / n - m * m, 0));
    return m;
}

static prism_status write_row(pqn_trainer *t, double wall, long long steps) {
    prism_pqn_run *r = &t->r;
    const prism_pqn_stats *s = &r->pq.stats;
    const prism_pqn_acc *a = &r->acc;
    double eval_mean, eval_std, ret_std, lam_std, pn = 0;
    evaluate(t, &eval_mean, &eval_std);
    double ret_mean = mean_std(a->return_sum, a->return_sq, (double)a->episodes, &ret_std);
    double lam_mean = mean_std(s->ret_sum, s->ret_sq, (double)s->ret_count, &lam_std);
    for (size_t i = 0; i < r->pq.net.n_params; i++)
        pn += (double)r->pq.net.params[i] * (double)r->pq.net.params[i];
    double u = s->updates ? (double)s->updates : (double)NAN;
    double v[N_COLUMNS] = {r->iterations_done + 1.0,
                           (double)r->pq.env_steps,
                           (double)a->episodes,
                           ret_mean,
                           ret_std,
                           a->episodes ? a->return_min : (double)NAN,
                           a->episodes ? a->return_max : (double)NAN,
                           a->episodes ? a->length_sum / (double)a->episodes : (double)NAN,
                           eval_mean,
                           eval_std,
                           s->loss_sum / u,
                           s->q_count ? s->q_sum / (double)s->q_count : (double)NAN,
                           s->q_count ? s->q_max : (double)NAN,
                           lam_mean,
                           lam_std,
                           s->ret_count ? s->ret_min : (double)NAN,
                           s->ret_count ? s->ret_max : (double)NAN,
                           s->grad_norm_sum / u,
                           s->updates ? s->grad_norm_max : (double)NAN,
                           s->epsilon_last,
                           s->lr_last,
                           (double)s->updates,
                           sqrt(pn),
                           wall > 0 ? (double)steps / wall : (double)NAN,
                           s->time_env,
                           s->time_act,
                           s->time_returns,
                           s->time_learn,
                           wall,
                           (double)prism_rss_bytes() / (1024.0 * 1024.0)};
    if (!t->opt->quiet)
        prism_archive_printf(&t->archive,
                             "it %3d  steps %9lld  episodes %5lld  return %8.2f  loss %9.4g  "
                             "q %8.3f  eps %.3f  %7.0f steps/s\n",
                             r->iterations_done + 1, r->pq.env_steps, a->episodes, ret_mean, v[10],
                             v[11], v[19], v[23]);
    prism_status st = prism_csv_row(&t->metrics, v);
    if (!st && t->events_open) {
        float scalars[N_COLUMNS];
        const char *tags[N_COLUMNS];
        int n = 0;
        for (int i = 3; i < N_COLUMNS; i++) tags[n] = columns[i], scalars[n++] = (float)v[i];
        st = prism_tfevents_scalars(&t->events, r->pq.env_steps, prism_unix_time(), n, tags,
                                    scalars);
        if (!st) st = prism_tfevents_flush(&t->events);
    }
    if (!st) prism_archive_set_progress(&t->archive, r->pq.env_steps, ret_mean);
    return st;
}

static prism_status save(pqn_trainer *t, bool mid) {
    char dir[PRISM_PATH_MAX];
    prism_status st = prism_archive_path(&t->archive, "checkpoints", dir, sizeof dir);
    t->r.metrics_offset = prism_csv_offset(&t->metrics);
    t->r.episodes_offset = prism_csv_offset(&t->episodes);
    if (!st) st = prism_file_sync(t->metrics.f, t->metrics.path);
    if (!st) st = prism_file_sync(t->episodes.f, t->episodes.path);
    t->r.mid_iteration = mid;
    if (!st) st = prism_pqn_checkpoint_save(dir, &t->r);
    t->last_checkpoint = prism_now();
    if (!st) {
        prism_archive_set_progress(&t->archive, t->r.pq.env_steps, t->archive.final_return);
        st = prism_archive_update(&t->archive);
    }
    return st;
}

static prism_status loop(pqn_trainer *t) {
    prism_pqn_run *r = &t->r;
    const prism_train_config *tc = &r->cfg.train;
    t->start_time = t->last_checkpoint = prism_now();
    prism_status st = PRISM_OK;
    bool checkpoints = !r->pq.cls->destroy; /* see prism_pqn_checkpoint_save */
    while (r->iterations_done < r->iterations) {
        if (r->mid_iteration) {
            r->mid_iteration = 0; /* the sums came with the checkpoint */
        } else {
            acc_reset(&r->acc);
            prism_pqn_stats_reset(&r->pq);
        }
        const long long first = (long long)r->iterations_done * r->rollouts_per_iteration;
        long long end = first + r->rollouts_per_iteration;
        if (end > r->pq.rollouts_total) end = r->pq.rollouts_total;
        double t0 = prism_now();
        long long steps0 = r->pq.env_steps;
        while (r->pq.rollouts < end) {
            prism_pqn_rollout(&r->pq);
            if ((st = record_episodes(t))) return st;
            if ((st = prism_pqn_learn(&r->pq))) return st;
            if (t->opt->stop && *t->opt->stop && r->pq.rollouts < end) {
                if (checkpoints && (st = save(t, true))) return st;
                prism_archive_printf(&t->archive, "checkpoint saved at step %lld\n",
                                     r->pq.env_steps);
                return prism_error(PRISM_ERR_INTERRUPTED, "interrupted at step %lld",
                                   r->pq.env_steps);
            }
        }
        if ((st = write_row(t, prism_now() - t0, r->pq.env_steps - steps0))) return st;
        long bad = prism_watchdog_nonfinite(r->pq.net.params, r->pq.net.n_params);
        if (bad >= 0)
            return prism_error(PRISM_ERR_DIVERGED, "network parameter %ld is %g after iteration %d",
                               bad, (double)r->pq.net.params[bad], r->iterations_done + 1);
        r->iterations_done++;
        bool due = r->iterations_done == r->iterations ||
                   (tc->checkpoint_every > 0 && r->iterations_done % tc->checkpoint_every == 0) ||
                   (tc->checkpoint_seconds > 0 &&
                    prism_now() - t->last_checkpoint >= tc->checkpoint_seconds);
        if (checkpoints && due && (st = save(t, false))) return st;
        if (t->opt->stop && *t->opt->stop && r->iterations_done < r->iterations) {
            if (checkpoints && !due && (st = save(t, false))) return st;
            return prism_error(PRISM_ERR_INTERRUPTED, "interrupted at step %lld", r->pq.env_steps);
        }
    }
    return st;
}

static prism_status finish(pqn_trainer *t, prism_status st) {
    if (t->events_open) prism_tfevents_close(&t->events);
    t->events_open = false;
    prism_csv_close(&t->metrics);
    prism_csv_close(&t->episodes);
    if (t->archive_open) {
        prism_archive_set_progress(&t->archive, t->r.pq.env_steps, t->archive.final_return);
        prism_archive_set_int(&t->archive, "env_steps", t->r.pq.env_steps);
        prism_archive_set_int(&t->archive, "episodes", t->r.episodes_total);
        prism_archive_set_double(&t->archive, "wall_s", prism_now() - t->start_time);
        prism_run_status status = !st                           ? PRISM_RUN_COMPLETED
                                  : st == PRISM_ERR_INTERRUPTED ? PRISM_RUN_INTERRUPTED
                                  : st == PRISM_ERR_DIVERGED    ? PRISM_RUN_DIVERGED
                                                                : PRISM_RUN_FAILED;
        char saved[1024];
        snprintf(saved, sizeof saved, "%s", prism_error_message());
        if (st)
            prism_archive_eprintf(&t->archive, "run %s: %s\n", prism_run_status_name(status),
                                  saved);
        prism_archive_printf(&t->archive, "run: %s\n", t->archive.dir);
        prism_status fst = prism_archive_finish(&t->archive, status, st ? saved : NULL);
        if (!st && fst)
            st = fst;
        else if (st)
            prism_error(st, "%s", saved);
    } else if (t->archive_locked) {
        prism_archive_close(&t->archive);
    }
    prism_pqn_run_free(&t->r);
    return st;
}

static void announce(pqn_trainer *t) {
    const prism_pqn_run *r = &t->r;
    prism_archive_printf(&t->archive,
                         "prism %s: %s %s (pqn, %d envs x %d steps) on %s, seed %llu, iterations "
                         "%d..%d of %d rollouts\n",
                         PRISM_VERSION, r->iterations_done ? "resuming" : "training", r->cfg.agent,
                         r->pq.n, r->pq.T, r->cfg.env, (unsigned long long)r->cfg.seed,
                         r->iterations_done + 1, r->iterations, r->rollouts_per_iteration);
    prism_archive_printf(&t->archive, "run directory: %s\n", t->archive.dir);
    run_note_precision(&t->archive, &r->cfg);
    if (r->pq.cls->destroy)
        prism_archive_printf(&t->archive, "note: %s cannot be checkpointed in a PQN run\n",
                             r->cfg.env);
}

static prism_status open_files(pqn_trainer *t, bool resume) {
    char path[PRISM_PATH_MAX];
    prism_status st = prism_archive_path(&t->archive, "metrics.csv", path, sizeof path);
    if (!st)
        st = resume ? prism_csv_resume(&t->metrics, path, N_COLUMNS, columns, column_is_int,
                                       t->r.metrics_offset)
                    : prism_csv_open(&t->metrics, path, N_COLUMNS, columns, column_is_int);
    if (!st) st = prism_archive_path(&t->archive, "episodes.csv", path, sizeof path);
    if (!st)
        st = resume ? prism_csv_resume(&t->episodes, path, EPISODE_COLUMNS, run_episode_columns,
                                       run_episode_is_int, t->r.episodes_offset)
                    : prism_csv_open(&t->episodes, path, EPISODE_COLUMNS, run_episode_columns,
                                     run_episode_is_int);
    if (!st) st = prism_tfevents_open(&t->events, t->archive.dir);
    if (st) return st;
    t->events_open = true;
    return prism_tfevents_session_start(&t->events, resume ? t->r.pq.env_steps + 1 : 0,
                                        prism_unix_time());
}

prism_status prism_pqn_train(const prism_config *cfg, const prism_train_options *opt, char *run_dir,
                             size_t cap) {
    static pqn_trainer t; /* large (the config); one run per process */
    memset(&t, 0, sizeof t);
    t.opt = opt;
    if (run_dir && cap) run_dir[0] = 0;
    prism_status st = prism_config_validate(cfg, 0);
    if (!st) st = prism_pqn_run_init(&t.r, cfg);
    if (st) return finish(&t, st);
    char hash[PRISM_CONFIG_HASH_HEX];
    prism_config_hash_hex(cfg, hash);
    prism_archive_spec spec = {.runs_dir = opt->runs_dir,
                               .run_id = opt->run_id,
                               .env = cfg->env,
                               .agent = cfg->agent,
                               .config_hash = hash,
                               .seed = cfg->seed,
                               .argc = opt->argc,
                               .argv = opt->argv,
                               .no_index = opt->no_index};
    if ((st = prism_archive_create(&t.archive, &spec))) return finish(&t, st);
    t.archive_open = true;
    if (run_dir) snprintf(run_dir, cap, "%s", t.archive.dir);
    if ((st = prism_run_config_write(&t.r.cfg, t.archive.dir)) || (st = open_files(&t, false)))
        return finish(&t, st);
    prism_archive_set_int(&t.archive, "iterations", t.r.iterations);
    prism_archive_set_int(&t.archive, "parameters", (long long)t.r.pq.net.n_params);
    announce(&t);
    return finish(&t, loop(&t));
}

/* run_resume_open's loader for a PQN run */
static prism_status load_pqn_run(const char *ckpt_dir, void *r) {
    return prism_pqn_checkpoint_load(ckpt_dir, r);
}

prism_status prism_pqn_train_resume(const char *dir, prism_config *cfg,
                                    const prism_train_options *opt) {
    static pqn_trainer t;
    memset(&t, 0, sizeof t);
    t.opt = opt;
    prism_status st = prism_pqn_run_init(&t.r, cfg);
    if (st) return finish(&t, st);
    run_resume_flags f;
    st = run_resume_open(&t.archive, dir, opt, load_pqn_run, &t.r, &f);
    t.archive_locked = f.locked, t.archive_open = f.open;
    if (st || f.completed) return finish(&t, st);
    if ((st = open_files(&t, true))) return finish(&t, st);
    announce(&t);
    return finish(&t, loop(&t));
}
