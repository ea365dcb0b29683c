/* The training loop: Dopamine's iteration schedule around one environment and one agent, with
 * every metric that can help written per iteration (metrics.csv and TensorBoard), every episode
 * written (episodes.csv), the console tee'd into the run archive, and a live progress line.
 *
 * Not here: the learning rule (agent/), the archive's file formats (run/archive.c and
 * friends), option parsing (cli/cmd_train.c).
 */
#include "prism/trainer.h"

#include "prism/agent.h"
#include "prism/archive.h"
#include "prism/checkpoint.h"
#include "prism/env.h"
#include "prism/metrics_csv.h"
#include "prism/run_index.h"
#include "prism/tfevents.h"
#include "prism/run_state.h"
#include "prism/watchdog.h"

#include "iteration_metrics.h"
#include "trainer_internal.h"
#include "prism/pqn_run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HISTORY = 64 };

prism_train_options prism_train_options_default(void) {
    prism_train_options o;
    memset(&o, 0, sizeof o);
    return o;
}

const char *const run_episode_columns[EPISODE_COLUMNS] = {"episode", "iteration", "env_steps",
                                                          "return",  "length",    "terminated"};
const unsigned char run_episode_is_int[EPISODE_COLUMNS] = {1, 1, 1, 0, 1, 1};

typedef struct trainer {
    prism_run_state rs; /* configuration, environments, agent, counters, accumulators */
    const prism_train_options *opt;
    prism_archive archive;
    bool archive_open;   /* run.json is ours to finish */
    bool archive_locked; /* opened (and locked) but not yet marked resumed: finish only closes */
    prism_csv metrics, episodes;
    prism_tfevents events;
    bool events_open;
    metrics_columns cols;
    float *obs, *next_obs;
    double ep_return;
    long long ep_length;
    bool episode_open;
    double start_time, last_draw, last_checkpoint;
    double last_heartbeat;          /* when the last heartbeat line (or the iteration) began */
    long long last_heartbeat_steps; /* the iteration's steps then */
    /* the watchdog's history: newest last, at most HISTORY iterations of this process */
    double sps_hist[HISTORY], rss_hist[HISTORY];
    int n_sps, n_rss;
    bool warned_sps, warned_rss;
    char warnings[1024]; /* "; "-separated, recorded in run.json extra.warnings */
} trainer;

static void draw_progress(trainer *t) {
    double now = prism_now();
    if (now - t->last_draw < 0.25) return;
    t->last_draw = now;
    const prism_run_counters *c = &t->rs.counters;
    const prism_iteration_acc *acc = &t->rs.acc;
    long long total = (long long)t->rs.iterations * t->rs.cfg.train.iteration_steps;
    double frac = total > 0 ? (double)c->env_steps / (double)total : 0;
    if (frac > 1) frac = 1;
    double elapsed = now - t->start_time, sps = elapsed > 0 ? (double)c->env_steps / elapsed : 0;
    double eta = sps > 0 ? (double)(total - c->env_steps) / sps : 0;
    if (eta < 0) eta = 0;
    char bar[21];
    int filled = (int)(frac * 20);
    for (int i = 0; i < 20; i++) bar[i] = i < filled ? '#' : '-';
    bar[20] = 0;
    double recent = acc->episodes ? acc->return_sum / (double)acc->episodes : (double)NAN;
    fprintf(stdout, "\r\033[K[%s] it %d/%d  %lld steps  %.0f steps/s  return %.1f  ETA %dm%02ds",
            bar, c->iterations_done + 1, t->rs.iterations, c->env_steps, sps, recent, (int)eta / 60,
            (int)eta % 60);
    fflush(stdout);
}

static void clear_progress(trainer *t) {
    if (t->opt->progress_bar && t->last_draw > 0) {
        fprintf(stdout, "\r\033[K");
        fflush(stdout);
    }
}

static prism_status end_episode(trainer *t, bool terminated) {
    prism_iteration_acc *acc = &t->rs.acc;
    prism_run_counters *c = &t->rs.counters;
    acc->episodes++;
    acc->return_sum += t->ep_return;
    acc->return_sq += t->ep_return * t->ep_return;
    if (t->ep_return < acc->return_min) acc->return_min = t->ep_return;
    if (t->ep_return > acc->return_max) acc->return_max = t->ep_return;
    acc->length_sum += (double)t->ep_length;
    c->episodes_total++;
    double row[6] = {(double)c->episodes_total, (double)c->iterations_done + 1,
                     (double)c->env_steps,      t->ep_return,
                     (double)t->ep_length,      terminated ? 1.0 : 0.0};
    t->episode_open = false;
    return prism_csv_row(&t->episodes, row);
}

/* A heartbeat line when heartbeat_s have passed since the last one (or the iteration's start). */
static void heartbeat(trainer *t) {
    const prism_iteration_acc *acc = &t->rs.acc;
    double now = prism_now(), since = now - t->last_heartbeat;
    if (since < t->opt->heartbeat_s) return;
    prism_archive_printf(
        &t->archive, "    it %3d: %lld of %lld steps, %lld episodes ended, %.0f steps/s\n",
        t->rs.counters.iterations_done + 1, acc->steps, t->rs.cfg.train.iteration_steps,
        acc->episodes, (double)(acc->steps - t->last_heartbeat_steps) / since);
    t->last_heartbeat = now;
    t->last_heartbeat_steps = acc->steps;
}

/* One training iteration: whole episodes until at least iteration_steps steps. A first stop
 * request ends it at the next episode boundary (so a checkpoint can be taken there); a second
 * one ends it at once. */
static prism_status run_iteration(trainer *t) {
    prism_run_state *rs = &t->rs;
    prism_iteration_acc *acc = &rs->acc;
    const size_t obs_bytes = sizeof(float) * (size_t)prism_env_obs_size(rs->env.cls);
    const bool heartbeats = t->opt->heartbeat_s > 0 && !t->opt->progress_bar && !t->opt->quiet;
    t->last_heartbeat = prism_now();
    t->last_heartbeat_steps = acc->steps;
    while (acc->steps < rs->cfg.train.iteration_steps || t->episode_open) {
        if (t->opt->stop && (*t->opt->stop >= 2 || (*t->opt->stop && !t->episode_open)))
            return prism_error(PRISM_ERR_INTERRUPTED, "interrupted at step %lld",
                               rs->counters.env_steps);
        if (!t->episode_open) {
            prism_env_reset(&rs->env, t->obs);
            t->ep_return = 0;
            t->ep_length = 0;
            t->episode_open = true;
        }
        double t0 = prism_now();
        int a = prism_agent_act(&rs->agent, t->obs, false);
        double t1 = prism_now();
        prism_step s = prism_env_step(&rs->env, a, t->next_obs);
        double t2 = prism_now();
        if (t->opt->test_nan_step && rs->counters.env_steps + 1 == t->opt->test_nan_step)
            /* tests only: the watchdog must catch it (the last parameter is an output bias,
             * which no ReLU can hide) */
            rs->agent.online.params[rs->agent.online.n_params - 1] = NAN;
        acc->time_act += t1 - t0;
        acc->time_env += t2 - t1;
        if (a < PRISM_ACTIONS_LOGGED) acc->action_counts[a]++;
        acc->actions_total++;
        t->ep_return += (double)s.reward;
        t->ep_length++;
        rs->counters.env_steps++;
        acc->steps++;
        prism_status st = prism_agent_observe(&rs->agent, t->obs, a, s.reward, s.terminated,
                                              s.truncated, t->next_obs);
        if (st) return st;
        if (s.terminated || s.truncated) {
            st = end_episode(t, s.terminated);
            if (st) return st;
        } else {
            memcpy(t->obs, t->next_obs, obs_bytes);
        }
        if (t->opt->progress_bar && (acc->steps & 255) == 0) draw_progress(t);
        if (heartbeats && (acc->steps & 1023) == 0) heartbeat(t);
    }
    return PRISM_OK;
}

/* Evaluation episodes after an iteration. A first stop request lets them finish (the row and
 * the checkpoint after it must match an uninterrupted run's); a second one abandons them and
 * returns PRISM_ERR_INTERRUPTED, so no row with a truncated evaluation is ever written. */
static prism_status evaluate(trainer *t, double *mean, double *std) {
    int n = t->rs.cfg.train.eval_episodes;
    *mean = *std = NAN;
    if (n <= 0) return PRISM_OK;
    double sum = 0, sq = 0;
    for (int e = 0; e < n; e++) {
        prism_env_reset(&t->rs.eval_env, t->next_obs);
        double ret = 0;
        for (;;) {
            int a = prism_agent_act(&t->rs.agent, t->next_obs, true);
            prism_step s = prism_env_step(&t->rs.eval_env, a, t->next_obs);
            ret += (double)s.reward;
            if (s.terminated || s.truncated) break;
            if (t->opt->stop && *t->opt->stop >= 2)
                return prism_error(PRISM_ERR_INTERRUPTED, "interrupted during evaluation");
        }
        sum += ret;
        sq += ret * ret;
    }
    *mean = sum / n;
    double var = sq / n - *mean * *mean;
    *std = sqrt(var > 0 ? var : 0);
    return PRISM_OK;
}

/* Print the iteration's console line and write its metrics.csv row and TensorBoard scalars.
 * log_start: when the evaluation began (sys_log_s covers evaluation and writing). */
static prism_status write_iteration(trainer *t, iteration_row *row, double log_start) {
    clear_progress(t);
    if (!t->opt->quiet)
        prism_archive_printf(&t->archive,
                             "it %3d  steps %9lld  episodes %5lld  return %8.2f  loss %9.4g  "
                             "q %8.3f  eps %.3f  %7.0f steps/s\n",
                             t->rs.counters.iterations_done + 1, t->rs.counters.env_steps,
                             t->rs.acc.episodes, row->return_mean, row->loss, row->q_mean,
                             row->epsilon, row->sys_steps_per_s);
    row->sys_log_s = prism_now() - log_start;
    double values[METRICS_MAX_COLUMNS];
    metrics_columns_values(&t->cols, row, values);
    prism_status st = prism_csv_row(&t->metrics, values);
    if (st) return st;
    if (t->events_open) {
        float scalars[METRICS_MAX_COLUMNS];
        for (int i = 0; i < t->cols.n_tags; i++) scalars[i] = (float)values[t->cols.tag_column[i]];
        st = prism_tfevents_scalars(&t->events, t->rs.counters.env_steps, prism_unix_time(),
                                    t->cols.n_tags, t->cols.tags, scalars);
        if (!st) st = prism_tfevents_flush(&t->events);
        if (st) return st;
    }
    prism_archive_set_progress(&t->archive, t->rs.counters.env_steps, row->return_mean);
    return PRISM_OK;
}

static prism_status open_outputs(trainer *t) {
    char path[PRISM_PATH_MAX];
    /* config.ini: the fully resolved configuration, defaults included */
    prism_status st = prism_run_config_write(&t->rs.cfg, t->archive.dir);
    if (st) return st;
    if ((st = prism_archive_path(&t->archive, "metrics.csv", path, sizeof path))) return st;
    if ((st = prism_csv_open(&t->metrics, path, t->cols.n, t->cols.names, t->cols.is_int)))
        return st;
    if ((st = prism_archive_path(&t->archive, "episodes.csv", path, sizeof path))) return st;
    if ((st = prism_csv_open(&t->episodes, path, 6, run_episode_columns, run_episode_is_int)))
        return st;
    if ((st = prism_tfevents_open(&t->events, t->archive.dir))) return st;
    t->events_open = true;
    return prism_tfevents_session_start(&t->events, 0, prism_unix_time());
}

static void record_facts(trainer *t) {
    prism_archive *a = &t->archive;
    prism_archive_set_int(a, "iterations", t->rs.iterations);
    prism_archive_set_int(a, "iteration_steps", t->rs.cfg.train.iteration_steps);
    prism_archive_set_int(a, "parameters", (long long)t->rs.agent.online.n_params);
    prism_archive_set_int(a, "replay_bytes",
                          (long long)prism_replay_memory_bytes(&t->rs.agent.replay));
    if (t->rs.cfg.agent_cfg.noisy) {
        char mode[32];
        prism_config_get(&t->rs.cfg, "agent.noisy_resample", mode, sizeof mode);
        prism_archive_set_string(a, "noisy_resample", mode);
    }
}

static void finish_metrics(trainer *t) {
    prism_archive_set_progress(&t->archive, t->rs.counters.env_steps, t->archive.final_return);
    prism_archive_set_int(&t->archive, "env_steps", t->rs.counters.env_steps);
    prism_archive_set_int(&t->archive, "episodes", t->rs.counters.episodes_total);
    prism_archive_set_double(&t->archive, "wall_s", prism_now() - t->start_time);
}

static void push(double *hist, int *n, double v) {
    if (*n == HISTORY) {
        memmove(hist, hist + 1, sizeof(double) * (HISTORY - 1));
        (*n)--;
    }
    hist[(*n)++] = v;
}

/* Print a watchdog warning and record it in run.json (extra.warnings). */
static void warn(trainer *t, const char *text) {
    clear_progress(t);
    prism_archive_eprintf(&t->archive, "watchdog: warning: %s\n", text);
    size_t used = strlen(t->warnings);
    snprintf(t->warnings + used, sizeof t->warnings - used, "%s%s", used ? "; " : "", text);
    prism_archive_set_string(&t->archive, "warnings", t->warnings);
    prism_archive_update(&t->archive); /* best effort: a warning never fails the run */
}

/* After an iteration's row: feed the trend checks (each warns once per process). */
static void watch_trends(trainer *t, int iteration, double sps, double rss_mb) {
    char text[256];
    double from, to;
    push(t->sps_hist, &t->n_sps, sps);
    if (!t->warned_sps && prism_watchdog_sps_decay(t->sps_hist, t->n_sps, &from, &to)) {
        t->warned_sps = true;
        snprintf(text, sizeof text,
                 "steps/s fell steadily from %.0f to %.0f over the %d iterations up to %d "
                 "(something is growing or leaking)",
                 from, to, PRISM_WATCHDOG_WINDOW, iteration + 1);
        warn(t, text);
    }
    prism_replay_stats rs;
    prism_replay_stats_get(&t->rs.agent.replay, &rs);
    if (rs.size < t->rs.agent.cfg.replay_capacity) return; /* memory may grow while it fills */
    push(t->rss_hist, &t->n_rss, rss_mb);
    if (!t->warned_rss && prism_watchdog_rss_growth(t->rss_hist, t->n_rss, &from, &to)) {
        t->warned_rss = true;
        snprintf(text, sizeof text,
                 "resident memory grew steadily from %.1f MB to %.1f MB over the %d iterations "
                 "up to %d although the replay memory is full (a leak?)",
                 from, to, PRISM_WATCHDOG_WINDOW, iteration + 1);
        warn(t, text);
    }
}

/* Once per iteration: the online and target parameters must be finite. */
static prism_status check_parameters(trainer *t, int iteration) {
    const prism_nn *nets[2] = {&t->rs.agent.online, &t->rs.agent.target};
    static const char *const names[2] = {"online", "target"};
    for (int k = 0; k < 2; k++) {
        long i = prism_watchdog_nonfinite(nets[k]->params, nets[k]->n_params);
        if (i >= 0) {
            t->rs.agent.stats.first_nonfinite = PRISM_NONFINITE_PARAMETERS;
            return prism_error(PRISM_ERR_DIVERGED,
                               "%s network parameter %ld is %g after iteration %d", names[k], i,
                               (double)nets[k]->params[i], iteration + 1);
        }
    }
    return PRISM_OK;
}

/* The data files' lengths into the counters: a checkpoint records them. */
static void record_offsets(trainer *t) {
    t->rs.counters.metrics_offset = prism_csv_offset(&t->metrics);
    t->rs.counters.episodes_offset = prism_csv_offset(&t->episodes);
}

/* The lengths recorded, then the files made durable: what a checkpoint points at must reach the
 * disk before it does, or a power cut leaves a checkpoint beyond the end of its CSVs. */
static prism_status sync_data_files(trainer *t) {
    record_offsets(t);
    prism_status st = prism_file_sync(t->metrics.f, t->metrics.path);
    if (!st) st = prism_file_sync(t->episodes.f, t->episodes.path);
    if (!st) st = prism_file_sync(t->events_open ? t->events.f : NULL, t->events.path);
    return st;
}

/* The run diverged in the iteration in progress (error message set by the agent or
 * check_parameters): save checkpoints/diverged.bin (never named by `latest`), record the
 * quantity and iteration in run.json, say it on the console. Returns PRISM_ERR_DIVERGED with a
 * message naming both. */
static prism_status diverged(trainer *t) {
    char cause[512], dir[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    snprintf(cause, sizeof cause, "%s", prism_error_message());
    const char *what = prism_nonfinite_name(t->rs.agent.stats.first_nonfinite);
    const int iteration = t->rs.counters.iterations_done;
    t->rs.counters.mid_iteration = 1;
    record_offsets(t);
    prism_status st = prism_archive_path(&t->archive, "checkpoints", dir, sizeof dir);
    if (!st) st = prism_mkdir_p(dir);
    if (!st) st = prism_path_join(path, sizeof path, dir, "diverged.bin");
    if (!st) st = prism_checkpoint_save_file(path, &t->rs);
    char saved[PRISM_PATH_MAX + 64];
    if (st)
        snprintf(saved, sizeof saved, "no diagnostic checkpoint: %s", prism_error_message());
    else
        snprintf(saved, sizeof saved, "diagnostic checkpoint %s", path);
    prism_archive_set_string(&t->archive, "diverged_quantity", what);
    prism_archive_set_int(&t->archive, "diverged_iteration", iteration + 1);
    prism_archive_set_int(&t->archive, "diverged_step", t->rs.counters.env_steps);
    clear_progress(t);
    prism_archive_eprintf(&t->archive, "watchdog: the %s became non-finite in iteration %d: %s\n",
                          what, iteration + 1, saved);
    return prism_error(PRISM_ERR_DIVERGED, "the %s became non-finite in iteration %d (%s); %s",
                       what, iteration + 1, cause, saved);
}

/* Checkpoint the run state: between iterations (mid = false) or at an episode boundary inside
 * one (mid = true: the accumulators hold its partial sums). Also brings run.json up to date. */
static prism_status save_checkpoint(trainer *t, bool mid) {
    char dir[PRISM_PATH_MAX];
    prism_status st = prism_archive_path(&t->archive, "checkpoints", dir, sizeof dir);
    if (!st) st = sync_data_files(t);
    if (st) return st;
    t->rs.counters.mid_iteration = mid;
    if ((st = prism_checkpoint_save(dir, t->rs.cfg.train.checkpoint_keep, &t->rs))) return st;
    t->last_checkpoint = prism_now();
    /* run.json's steps say how far the run got: the checkpoint's step, not the last row's (an
     * iteration of a MinAtar run is 1M steps) */
    prism_archive_set_progress(&t->archive, t->rs.counters.env_steps, t->archive.final_return);
    return prism_archive_update(&t->archive);
}

/* Evaluate, compute and write the row of the iteration that just ended (its sums in rs.acc). */
static prism_status end_iteration(trainer *t, double iter_wall) {
    double log_start = prism_now(), eval_mean, eval_std;
    prism_status st = evaluate(t, &eval_mean, &eval_std);
    if (st) return st;
    iteration_row row;
    iteration_row_compute(&row, &t->rs, eval_mean, eval_std, iter_wall, t->start_time);
    return write_iteration(t, &row, log_start);
}

/* The remaining iterations (the first continuing from the restored accumulators when the
 * checkpoint was taken inside it), with a checkpoint every checkpoint_every iterations or
 * checkpoint_seconds, after the last, and at the episode boundary where a stop request lands. */
static prism_status loop(trainer *t) {
    t->start_time = t->last_checkpoint = prism_now();
    prism_status st = PRISM_OK;
    prism_run_state *rs = &t->rs;
    const prism_train_config *tc = &rs->cfg.train;
    while (rs->counters.iterations_done < rs->iterations) {
        const int it = rs->counters.iterations_done;
        if (rs->counters.mid_iteration) {
            rs->counters.mid_iteration = 0; /* the agent's statistics came with the checkpoint */
        } else {
            prism_iteration_acc_reset(&rs->acc);
            prism_agent_stats_reset(&rs->agent);
        }
        double it_start = prism_now();
        st = run_iteration(t);
        if (st == PRISM_ERR_INTERRUPTED && !t->episode_open) {
            prism_status cst = save_checkpoint(t, true);
            clear_progress(t);
            if (cst)
                prism_archive_eprintf(&t->archive, "could not save a checkpoint: %s\n",
                                      prism_error_message());
            else
                prism_archive_printf(&t->archive, "checkpoint saved at step %lld\n",
                                     rs->counters.env_steps);
            prism_error(PRISM_ERR_INTERRUPTED, "interrupted at step %lld", rs->counters.env_steps);
        }
        if (st == PRISM_ERR_DIVERGED) st = diverged(t);
        if (st) break;
        double iter_wall = prism_now() - it_start;
        if ((st = end_iteration(t, iter_wall))) break;
        if ((st = check_parameters(t, it))) {
            st = diverged(t);
            break;
        }
        watch_trends(t, it, iter_wall > 0 ? (double)rs->acc.steps / iter_wall : (double)NAN,
                     (double)prism_rss_bytes() / (1024.0 * 1024.0));
        rs->counters.iterations_done = it + 1;
        bool due = it + 1 == rs->iterations ||
                   (tc->checkpoint_every > 0 && (it + 1) % tc->checkpoint_every == 0) ||
                   (tc->checkpoint_seconds > 0 &&
                    prism_now() - t->last_checkpoint >= tc->checkpoint_seconds);
        if (due && (st = save_checkpoint(t, false))) break;
    }
    return st;
}

/* Record the outcome in run.json, print the last line, release everything. */
static prism_status finish(trainer *t, prism_status st) {
    clear_progress(t);
    /* the data files first: run.json's final status and the lock's release come after them */
    if (t->events_open) prism_tfevents_close(&t->events);
    t->events_open = false;
    prism_csv_close(&t->metrics);
    prism_csv_close(&t->episodes);
    if (t->archive_open) {
        finish_metrics(t);
        prism_run_status status = PRISM_RUN_COMPLETED;
        if (st == PRISM_ERR_INTERRUPTED)
            status = PRISM_RUN_INTERRUPTED;
        else if (st == PRISM_ERR_DIVERGED)
            status = PRISM_RUN_DIVERGED;
        else if (st)
            status = PRISM_RUN_FAILED;
        char saved[1024];
        snprintf(saved, sizeof saved, "%s", prism_error_message());
        if (st)
            prism_archive_eprintf(&t->archive, "run %s: %s\n", prism_run_status_name(status),
                                  saved);
        /* iterations end with their last episode (as Dopamine's runner's do), so a run may pass
         * its budget by part of an episode: say so rather than exceed it silently */
        long long budget = t->rs.cfg.train.steps, done = t->rs.counters.env_steps;
        if (!st && done > budget)
            prism_archive_printf(&t->archive,
                                 "%lld steps, %lld past train.steps %lld: an iteration ends "
                                 "with its last episode\n",
                                 done, done - budget, budget);
        prism_archive_printf(&t->archive, "run: %s\n", t->archive.dir);
        prism_status fst = prism_archive_finish(&t->archive, status, st ? saved : NULL);
        if (!st && fst)
            st = fst;
        else if (st)
            prism_error(st, "%s", saved);
    } else if (t->archive_locked)
        prism_archive_close(&t->archive); /* the run as it was: only the lock is released */
    prism_free(t->obs);
    prism_run_state_free(&t->rs);
    return st;
}

/* The run state for cfg (fully resolved) and the observation buffers; no files yet. */
static prism_status setup(trainer *t, const prism_config *cfg, const prism_train_options *opt) {
    memset(t, 0, sizeof *t);
    t->opt = opt;
    prism_status st = prism_run_state_init(&t->rs, cfg);
    if (st) return st;
    const int D = prism_env_obs_size(t->rs.env.cls);
    t->obs = prism_calloc(2 * (size_t)D, sizeof(float));
    if (!t->obs) return prism_error(PRISM_ERR_NOMEM, "out of memory");
    t->next_obs = t->obs + D;
    metrics_columns_init(&t->cols, t->rs.env.cls->num_actions);
    return PRISM_OK;
}

static void announce(trainer *t) {
    const int first = t->rs.counters.iterations_done;
    prism_archive_printf(&t->archive,
                         "prism %s: %s %s on %s, seed %llu, iterations %d..%d of %lld steps\n",
                         PRISM_VERSION, first ? "resuming" : "training", t->rs.cfg.agent,
                         t->rs.cfg.env, (unsigned long long)t->rs.cfg.seed, first + 1,
                         t->rs.iterations, t->rs.cfg.train.iteration_steps);
    prism_archive_printf(&t->archive, "run directory: %s\n", t->archive.dir);
    run_note_precision(&t->archive, &t->rs.cfg);
}

prism_status prism_train(const prism_config *cfg, const prism_train_options *opt, char *run_dir,
                         size_t cap) {
    if (run_dir && cap) run_dir[0] = 0;
    /* every run sets the count, so a run after one with more threads goes back to its own */
    prism_status st = prism_nn_set_threads(cfg->train.threads);
    if (st) return st;
    if (cfg->agent_cfg.kind == PRISM_AGENT_PQN) return prism_pqn_train(cfg, opt, run_dir, cap);
    trainer t;
    st = setup(&t, cfg, opt);
    if (st) return finish(&t, st);
    cfg = &t.rs.cfg;
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
    if ((st = open_outputs(&t))) return finish(&t, st);
    record_facts(&t);
    announce(&t);
    return finish(&t, loop(&t));
}

/* True when dir/run.json says the run completed: resuming it has nothing to do. */
static bool run_completed(const char *dir) {
    prism_run_record r;
    return prism_run_record_load(dir, &r) == PRISM_OK && !strcmp(r.status, "completed");
}

/* run_resume_open's loader for a run state */
static prism_status load_run_state(const char *ckpt_dir, void *rs) {
    return prism_checkpoint_load(ckpt_dir, rs);
}

prism_status prism_train_resume(const char *dir, prism_config *cfg,
                                const prism_train_options *opt) {
    /* checked before the lock too, so that a completed run is not touched at all (taking the
     * lock writes this process's pid into its .lock) */
    if (run_completed(dir)) return PRISM_OK;
    char path[PRISM_PATH_MAX];
    prism_status st = prism_run_config_load(dir, cfg);
    if (st) return st;
    if ((st = prism_nn_set_threads(cfg->train.threads))) return st;
    if (cfg->agent_cfg.kind == PRISM_AGENT_PQN) return prism_pqn_train_resume(dir, cfg, opt);
    trainer t;
    if ((st = setup(&t, cfg, opt))) return finish(&t, st);
    run_resume_flags f;
    st = run_resume_open(&t.archive, dir, opt, load_run_state, &t.rs, &f);
    t.archive_locked = f.locked, t.archive_open = f.open;
    if (st || f.completed) return finish(&t, st);
    const prism_run_counters *c = &t.rs.counters;
    if ((st = prism_archive_path(&t.archive, "metrics.csv", path, sizeof path)) ||
        (st = prism_csv_resume(&t.metrics, path, t.cols.n, t.cols.names, t.cols.is_int,
                               c->metrics_offset)) ||
        (st = prism_archive_path(&t.archive, "episodes.csv", path, sizeof path)) ||
        (st = prism_csv_resume(&t.episodes, path, 6, run_episode_columns, run_episode_is_int,
                               c->episodes_offset)) ||
        (st = prism_tfevents_open(&t.events, t.archive.dir)))
        return finish(&t, st);
    t.events_open = true;
    /* rows past the checkpoint's step in the earlier event file are superseded by this one's */
    if ((st = prism_tfevents_session_start(&t.events, c->env_steps + 1, prism_unix_time())))
        return finish(&t, st);
    announce(&t);
    return finish(&t, loop(&t));
}
