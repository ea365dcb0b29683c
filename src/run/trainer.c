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
#include "prism/trained.h"
#include "prism/watchdog.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_COLUMNS = 96, MAX_ACTIONS_LOGGED = 32, HISTORY = 64 };

prism_train_options prism_train_options_default(void) {
    prism_train_options o;
    memset(&o, 0, sizeof o);
    return o;
}

/* One metrics column: CSV name, TensorBoard tag (NULL: not exported), integer or not. */
typedef struct column {
    char name[40];
    char tag[48];
    bool is_int;
} column;

typedef struct columns {
    int n;
    column c[MAX_COLUMNS];
    const char *names[MAX_COLUMNS];
    const char *tags[MAX_COLUMNS];
    unsigned char is_int[MAX_COLUMNS];
    int n_tags;
    int tag_index[MAX_COLUMNS]; /* column of each exported tag */
} columns;

static int add_column(columns *cs, const char *name, const char *tag, bool is_int) {
    PRISM_ASSERT(cs->n < MAX_COLUMNS);
    column *c = &cs->c[cs->n];
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->tag, sizeof c->tag, "%s", tag ? tag : "");
    c->is_int = is_int;
    cs->names[cs->n] = c->name;
    cs->is_int[cs->n] = is_int;
    if (tag) {
        cs->tags[cs->n_tags] = c->tag;
        cs->tag_index[cs->n_tags++] = cs->n;
    }
    return cs->n++;
}

/* Column indices, filled by define_columns. */
typedef struct metric_ids {
    int iteration, env_steps, episodes, episodes_total, return_mean, return_std, return_min,
        return_max, length_mean, eval_return_mean, eval_return_std, loss, q_mean, q_max,
        target_mean, target_absmax, grad_norm, grad_norm_max, param_norm, update_ratio,
        action_entropy, action0, epsilon, replay_size, per_priority_max, per_priority_mean,
        per_weight_min, dist_entropy, updates, target_syncs, sys_wall_s, sys_steps_per_s, sys_env_s,
        sys_act_s, sys_replay_s, sys_learn_s, sys_log_s, sys_rss_mb;
} metric_ids;

static void define_columns(columns *cs, metric_ids *m, int num_actions) {
    memset(cs, 0, sizeof *cs);
    m->iteration = add_column(cs, "iteration", NULL, true);
    m->env_steps = add_column(cs, "env_steps", NULL, true);
    m->episodes = add_column(cs, "episodes", "charts/episodes", true);
    m->episodes_total = add_column(cs, "episodes_total", NULL, true);
    m->return_mean = add_column(cs, "return_mean", "charts/episodic_return", false);
    m->return_std = add_column(cs, "return_std", "charts/episodic_return_std", false);
    m->return_min = add_column(cs, "return_min", "charts/episodic_return_min", false);
    m->return_max = add_column(cs, "return_max", "charts/episodic_return_max", false);
    m->length_mean = add_column(cs, "length_mean", "charts/episodic_length", false);
    m->eval_return_mean = add_column(cs, "eval_return_mean", "charts/eval_return", false);
    m->eval_return_std = add_column(cs, "eval_return_std", NULL, false);
    m->loss = add_column(cs, "loss", "losses/td_loss", false);
    m->q_mean = add_column(cs, "q_mean", "values/q_mean", false);
    m->q_max = add_column(cs, "q_max", "values/q_max", false);
    m->target_mean = add_column(cs, "target_mean", "values/target_mean", false);
    m->target_absmax = add_column(cs, "target_absmax", "values/target_absmax", false);
    m->grad_norm = add_column(cs, "grad_norm", "losses/grad_norm", false);
    m->grad_norm_max = add_column(cs, "grad_norm_max", NULL, false);
    m->param_norm = add_column(cs, "param_norm", "values/param_norm", false);
    m->update_ratio = add_column(cs, "update_ratio", "values/update_ratio", false);
    m->action_entropy = add_column(cs, "action_entropy", "charts/action_entropy", false);
    int logged = num_actions < MAX_ACTIONS_LOGGED ? num_actions : MAX_ACTIONS_LOGGED;
    for (int a = 0; a < logged; a++) {
        char name[40], tag[48];
        snprintf(name, sizeof name, "action_frac_%d", a);
        snprintf(tag, sizeof tag, "charts/action_frac_%d", a);
        int id = add_column(cs, name, tag, false);
        if (a == 0) m->action0 = id;
    }
    m->epsilon = add_column(cs, "epsilon", "charts/epsilon", false);
    m->replay_size = add_column(cs, "replay_size", "charts/replay_size", true);
    m->per_priority_max = add_column(cs, "per_priority_max", "values/per_priority_max", false);
    m->per_priority_mean = add_column(cs, "per_priority_mean", "values/per_priority_mean", false);
    m->per_weight_min = add_column(cs, "per_weight_min", "values/per_weight_min", false);
    m->dist_entropy = add_column(cs, "dist_entropy", "values/dist_entropy", false);
    m->updates = add_column(cs, "updates", NULL, true);
    m->target_syncs = add_column(cs, "target_syncs", NULL, true);
    m->sys_wall_s = add_column(cs, "sys_wall_s", "time/wall_s", false);
    m->sys_steps_per_s = add_column(cs, "sys_steps_per_s", "time/sps", false);
    m->sys_env_s = add_column(cs, "sys_env_s", "time/env_s", false);
    m->sys_act_s = add_column(cs, "sys_act_s", "time/act_s", false);
    m->sys_replay_s = add_column(cs, "sys_replay_s", "time/replay_s", false);
    m->sys_learn_s = add_column(cs, "sys_learn_s", "time/learn_s", false);
    m->sys_log_s = add_column(cs, "sys_log_s", "time/log_s", false);
    m->sys_rss_mb = add_column(cs, "sys_rss_mb", "system/rss_mb", false);
}

static const char *const episode_columns[] = {"episode", "iteration", "env_steps",
                                              "return",  "length",    "terminated"};
static const unsigned char episode_is_int[] = {1, 1, 1, 0, 1, 1};

/* Per-iteration accumulators of the environment loop. */
typedef struct iteration_acc {
    long long steps, episodes;
    double return_sum, return_sq, return_min, return_max, length_sum;
    long long action_counts[MAX_ACTIONS_LOGGED];
    long long actions_total;
    double time_env, time_act;
} iteration_acc;

typedef struct trainer {
    const prism_config *cfg;
    const prism_train_options *opt;
    prism_env env, eval_env;
    prism_agent agent;
    prism_archive archive;
    bool archive_open;   /* run.json is ours to finish */
    bool archive_locked; /* opened (and locked) but not yet marked resumed: finish only closes */
    prism_csv metrics, episodes;
    prism_tfevents events;
    bool events_open;
    columns cols;
    metric_ids m;
    float *obs, *next_obs;
    long long env_steps, episodes_total;
    double ep_return;
    long long ep_length;
    bool episode_open;
    double start_time, last_draw, last_checkpoint;
    int iterations;
    /* the watchdog's history: newest last, at most HISTORY iterations of this process */
    double sps_hist[HISTORY], rss_hist[HISTORY];
    int n_sps, n_rss;
    bool warned_sps, warned_rss;
    char warnings[1024]; /* "; "-separated, recorded in run.json extra.warnings */
} trainer;

static void draw_progress(trainer *t, const iteration_acc *acc, int iteration) {
    double now = prism_now();
    if (now - t->last_draw < 0.25) return;
    t->last_draw = now;
    long long total = (long long)t->iterations * t->cfg->train.iteration_steps;
    double frac = total > 0 ? (double)t->env_steps / (double)total : 0;
    if (frac > 1) frac = 1;
    double elapsed = now - t->start_time, sps = elapsed > 0 ? (double)t->env_steps / elapsed : 0;
    double eta = sps > 0 ? (double)(total - t->env_steps) / sps : 0;
    if (eta < 0) eta = 0;
    char bar[21];
    int filled = (int)(frac * 20);
    for (int i = 0; i < 20; i++) bar[i] = i < filled ? '#' : '-';
    bar[20] = 0;
    double recent = acc->episodes ? acc->return_sum / (double)acc->episodes : (double)NAN;
    fprintf(stdout, "\r\033[K[%s] it %d/%d  %lld steps  %.0f steps/s  return %.1f  ETA %dm%02ds",
            bar, iteration + 1, t->iterations, t->env_steps, sps, recent, (int)eta / 60,
            (int)eta % 60);
    fflush(stdout);
}

static void clear_progress(trainer *t) {
    if (t->opt->progress_bar && t->last_draw > 0) {
        fprintf(stdout, "\r\033[K");
        fflush(stdout);
    }
}

static prism_status end_episode(trainer *t, int iteration, iteration_acc *acc, bool terminated) {
    acc->episodes++;
    acc->return_sum += t->ep_return;
    acc->return_sq += t->ep_return * t->ep_return;
    if (t->ep_return < acc->return_min) acc->return_min = t->ep_return;
    if (t->ep_return > acc->return_max) acc->return_max = t->ep_return;
    acc->length_sum += (double)t->ep_length;
    t->episodes_total++;
    double row[6] = {(double)t->episodes_total, (double)iteration + 1,
                     (double)t->env_steps,      t->ep_return,
                     (double)t->ep_length,      terminated ? 1.0 : 0.0};
    t->episode_open = false;
    return prism_csv_row(&t->episodes, row);
}

/* One training iteration: whole episodes until at least iteration_steps steps. A first stop
 * request ends it at the next episode boundary (so a checkpoint can be taken there); a second
 * one ends it at once. */
static prism_status run_iteration(trainer *t, int iteration, iteration_acc *acc) {
    const prism_config *cfg = t->cfg;
    const size_t obs_bytes = sizeof(float) * (size_t)prism_env_obs_size(t->env.cls);
    while (acc->steps < cfg->train.iteration_steps || t->episode_open) {
        if (t->opt->stop && (*t->opt->stop >= 2 || (*t->opt->stop && !t->episode_open)))
            return prism_error(PRISM_ERR_INTERRUPTED, "interrupted at step %lld", t->env_steps);
        if (!t->episode_open) {
            prism_env_reset(&t->env, t->obs);
            t->ep_return = 0;
            t->ep_length = 0;
            t->episode_open = true;
        }
        double t0 = prism_now();
        int a = prism_agent_act(&t->agent, t->obs, false);
        double t1 = prism_now();
        prism_step s = prism_env_step(&t->env, a, t->next_obs);
        double t2 = prism_now();
        if (t->opt->test_nan_step && t->env_steps + 1 == t->opt->test_nan_step)
            /* tests only: the watchdog must catch it (the last parameter is an output bias,
             * which no ReLU can hide) */
            t->agent.online.params[t->agent.online.n_params - 1] = NAN;
        acc->time_act += t1 - t0;
        acc->time_env += t2 - t1;
        if (a < MAX_ACTIONS_LOGGED) acc->action_counts[a]++;
        acc->actions_total++;
        t->ep_return += (double)s.reward;
        t->ep_length++;
        t->env_steps++;
        acc->steps++;
        prism_status st = prism_agent_observe(&t->agent, t->obs, a, s.reward, s.terminated,
                                              s.truncated, t->next_obs);
        if (st) return st;
        if (s.terminated || s.truncated) {
            st = end_episode(t, iteration, acc, s.terminated);
            if (st) return st;
        } else {
            memcpy(t->obs, t->next_obs, obs_bytes);
        }
        if (t->opt->progress_bar && (acc->steps & 255) == 0) draw_progress(t, acc, iteration);
    }
    return PRISM_OK;
}

/* Evaluation episodes after an iteration. A first stop request lets them finish (the row and
 * the checkpoint after it must match an uninterrupted run's); a second one abandons them and
 * returns PRISM_ERR_INTERRUPTED, so no row with a truncated evaluation is ever written. */
static prism_status evaluate(trainer *t, double *mean, double *std) {
    int n = t->cfg->train.eval_episodes;
    *mean = *std = NAN;
    if (n <= 0) return PRISM_OK;
    double sum = 0, sq = 0;
    for (int e = 0; e < n; e++) {
        prism_env_reset(&t->eval_env, t->next_obs);
        double ret = 0;
        for (;;) {
            int a = prism_agent_act(&t->agent, t->next_obs, true);
            prism_step s = prism_env_step(&t->eval_env, a, t->next_obs);
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

static prism_status write_iteration(trainer *t, int iteration, const iteration_acc *acc,
                                    double iter_wall) {
    double t0 = prism_now();
    const prism_agent_stats *s = &t->agent.stats;
    const metric_ids *m = &t->m;
    double row[MAX_COLUMNS];
    for (int i = 0; i < t->cols.n; i++) row[i] = NAN;
    double ep = (double)acc->episodes;
    row[m->iteration] = iteration + 1;
    row[m->env_steps] = (double)t->env_steps;
    row[m->episodes] = ep;
    row[m->episodes_total] = (double)t->episodes_total;
    if (acc->episodes) {
        double mean = acc->return_sum / ep, var = acc->return_sq / ep - mean * mean;
        row[m->return_mean] = mean;
        row[m->return_std] = sqrt(var > 0 ? var : 0);
        row[m->return_min] = acc->return_min;
        row[m->return_max] = acc->return_max;
        row[m->length_mean] = acc->length_sum / ep;
    }
    prism_status st = evaluate(t, &row[m->eval_return_mean], &row[m->eval_return_std]);
    if (st) return st;
    if (s->updates) {
        double u = (double)s->updates;
        row[m->loss] = s->loss_sum / u;
        row[m->grad_norm] = s->grad_norm_sum / u;
        row[m->grad_norm_max] = s->grad_norm_max;
        row[m->update_ratio] = s->update_ratio;
        if (t->agent.num_atoms > 1) row[m->dist_entropy] = s->dist_entropy_sum / u;
    }
    if (s->q_count) {
        row[m->q_mean] = s->q_sum / (double)s->q_count;
        row[m->q_max] = s->q_max;
        row[m->target_mean] = s->target_sum / (double)s->q_count;
        row[m->target_absmax] = s->target_absmax;
    }
    row[m->param_norm] = prism_agent_param_norm(&t->agent);
    double entropy = 0;
    int logged =
        t->env.cls->num_actions < MAX_ACTIONS_LOGGED ? t->env.cls->num_actions : MAX_ACTIONS_LOGGED;
    for (int a = 0; a < logged; a++) {
        double p =
            acc->actions_total ? (double)acc->action_counts[a] / (double)acc->actions_total : 0;
        row[m->action0 + a] = p;
        if (p > 0) entropy -= p * log(p);
    }
    row[m->action_entropy] = entropy;
    row[m->epsilon] = prism_agent_epsilon(&t->agent);
    prism_replay_stats rs;
    prism_replay_stats_get(&t->agent.replay, &rs);
    row[m->replay_size] = rs.size;
    if (t->agent.cfg.prioritized) {
        row[m->per_priority_max] = rs.priority_max;
        row[m->per_priority_mean] = rs.priority_mean;
        row[m->per_weight_min] = s->weight_min;
    }
    row[m->updates] = (double)s->updates;
    row[m->target_syncs] = (double)s->target_syncs;
    row[m->sys_wall_s] = prism_now() - t->start_time;
    row[m->sys_steps_per_s] = iter_wall > 0 ? (double)acc->steps / iter_wall : (double)NAN;
    row[m->sys_env_s] = acc->time_env;
    row[m->sys_act_s] = acc->time_act;
    row[m->sys_replay_s] = s->time_replay;
    row[m->sys_learn_s] = s->time_learn;
    row[m->sys_rss_mb] = (double)prism_rss_bytes() / (1024.0 * 1024.0);

    clear_progress(t);
    if (!t->opt->quiet)
        prism_archive_printf(&t->archive,
                             "it %3d  steps %9lld  episodes %5lld  return %8.2f  loss %9.4g  "
                             "q %8.3f  eps %.3f  %7.0f steps/s\n",
                             iteration + 1, t->env_steps, acc->episodes, row[m->return_mean],
                             row[m->loss], row[m->q_mean], row[m->epsilon],
                             row[m->sys_steps_per_s]);
    row[m->sys_log_s] = prism_now() - t0;
    st = prism_csv_row(&t->metrics, row);
    if (st) return st;
    if (t->events_open) {
        float values[MAX_COLUMNS];
        for (int i = 0; i < t->cols.n_tags; i++) values[i] = (float)row[t->cols.tag_index[i]];
        st = prism_tfevents_scalars(&t->events, t->env_steps, prism_unix_time(), t->cols.n_tags,
                                    t->cols.tags, values);
        if (!st) st = prism_tfevents_flush(&t->events);
        if (st) return st;
    }
    prism_archive_set_progress(&t->archive, t->env_steps, row[m->return_mean]);
    return PRISM_OK;
}

/* config.ini is what a resume reads back: a configuration whose file would read back as another
 * one (the identity hashes differ) is refused at the start rather than discovered at resume. */
static prism_status check_round_trip(const prism_config *cfg, const char *path) {
    prism_config back;
    prism_config_defaults(&back);
    prism_status st = prism_config_load_ini(&back, path);
    if (st) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", prism_error_message());
        return prism_error(st,
                           "the configuration does not read back from %s (%s); change the "
                           "setting it names",
                           path, msg);
    }
    if (prism_config_hash(&back) != prism_config_hash(cfg) || back.seed != cfg->seed)
        return prism_error(PRISM_ERR_INVALID,
                           "%s reads back as a different configuration than the one written; "
                           "this is a bug in prism's INI writer, please report it with the file",
                           path);
    return PRISM_OK;
}

static prism_status open_outputs(trainer *t) {
    char path[PRISM_PATH_MAX];
    /* config.ini: the fully resolved configuration, defaults included */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) return prism_error(PRISM_ERR_NOMEM, "out of memory writing config.ini");
    fprintf(mem, "# prism %s: resolved configuration of this run (prism train --config reads it)\n",
            PRISM_VERSION);
    prism_config_write_ini(t->cfg, mem, true);
    fclose(mem);
    prism_status st = prism_archive_path(&t->archive, "config.ini", path, sizeof path);
    if (!st) st = prism_file_write_atomic(path, text, len);
    free(text);
    if (!st) st = check_round_trip(t->cfg, path);
    if (st) return st;
    define_columns(&t->cols, &t->m, t->env.cls->num_actions);
    if ((st = prism_archive_path(&t->archive, "metrics.csv", path, sizeof path))) return st;
    if ((st = prism_csv_open(&t->metrics, path, t->cols.n, t->cols.names, t->cols.is_int)))
        return st;
    if ((st = prism_archive_path(&t->archive, "episodes.csv", path, sizeof path))) return st;
    if ((st = prism_csv_open(&t->episodes, path, 6, episode_columns, episode_is_int))) return st;
    if ((st = prism_tfevents_open(&t->events, t->archive.dir))) return st;
    t->events_open = true;
    return prism_tfevents_session_start(&t->events, 0, prism_unix_time());
}

static void record_facts(trainer *t) {
    prism_archive *a = &t->archive;
    prism_archive_set_int(a, "iterations", t->iterations);
    prism_archive_set_int(a, "iteration_steps", t->cfg->train.iteration_steps);
    prism_archive_set_int(a, "parameters", (long long)t->agent.online.n_params);
    prism_archive_set_int(a, "replay_bytes",
                          (long long)prism_replay_memory_bytes(&t->agent.replay));
}

static void finish_metrics(trainer *t) {
    prism_archive_set_progress(&t->archive, t->env_steps, t->archive.final_return);
    prism_archive_set_int(&t->archive, "env_steps", t->env_steps);
    prism_archive_set_int(&t->archive, "episodes", t->episodes_total);
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
    prism_replay_stats_get(&t->agent.replay, &rs);
    if (rs.size < t->agent.cfg.replay_capacity) return; /* memory may grow while it fills */
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

static const char *nonfinite_name(int code) {
    switch (code) {
    case 1:
        return "TD loss";
    case 2:
        return "gradient norm";
    case 3:
        return "Q-values";
    case 4:
        return "parameters";
    default:
        return "a learning quantity";
    }
}

/* Once per iteration: the online and target parameters must be finite. */
static prism_status check_parameters(trainer *t, int iteration) {
    const prism_nn *nets[2] = {&t->agent.online, &t->agent.target};
    static const char *const names[2] = {"online", "target"};
    for (int k = 0; k < 2; k++) {
        long i = prism_watchdog_nonfinite(nets[k]->params, nets[k]->n_params);
        if (i >= 0) {
            t->agent.stats.first_nonfinite = 4;
            return prism_error(PRISM_ERR_DIVERGED,
                               "%s network parameter %ld is %g after iteration %d", names[k], i,
                               (double)nets[k]->params[i], iteration + 1);
        }
    }
    return PRISM_OK;
}

/* The run diverged in `iteration` (error message set by the agent or check_parameters): save
 * checkpoints/diverged.bin (never named by `latest`), record the quantity and iteration in
 * run.json, say it on the console. Returns PRISM_ERR_DIVERGED with a message naming both. */
static prism_status diverged(trainer *t, int iteration, const iteration_acc *acc) {
    char cause[512], dir[PRISM_PATH_MAX], path[PRISM_PATH_MAX];
    snprintf(cause, sizeof cause, "%s", prism_error_message());
    const char *what = nonfinite_name(t->agent.stats.first_nonfinite);
    prism_run_counters c = {.iterations_done = iteration,
                            .mid_iteration = 1,
                            .env_steps = t->env_steps,
                            .episodes_total = t->episodes_total,
                            .metrics_offset = prism_csv_offset(&t->metrics),
                            .episodes_offset = prism_csv_offset(&t->episodes)};
    prism_status st = prism_archive_path(&t->archive, "checkpoints", dir, sizeof dir);
    if (!st) st = prism_mkdir_p(dir);
    if (!st) st = prism_path_join(path, sizeof path, dir, "diverged.bin");
    if (!st)
        st = prism_checkpoint_save_file(path, &c, &t->agent, &t->env, &t->eval_env, acc,
                                        sizeof *acc);
    char saved[PRISM_PATH_MAX + 64];
    if (st)
        snprintf(saved, sizeof saved, "no diagnostic checkpoint: %s", prism_error_message());
    else
        snprintf(saved, sizeof saved, "diagnostic checkpoint %s", path);
    prism_archive_set_string(&t->archive, "diverged_quantity", what);
    prism_archive_set_int(&t->archive, "diverged_iteration", iteration + 1);
    prism_archive_set_int(&t->archive, "diverged_step", t->env_steps);
    clear_progress(t);
    prism_archive_eprintf(&t->archive, "watchdog: the %s became non-finite in iteration %d: %s\n",
                          what, iteration + 1, saved);
    return prism_error(PRISM_ERR_DIVERGED, "the %s became non-finite in iteration %d (%s); %s",
                       what, iteration + 1, cause, saved);
}

/* Checkpoint after `iterations_done` iterations; with acc, inside that iteration (between
 * episodes) with its partial accumulators. Also brings run.json up to date. */
static prism_status save_checkpoint(trainer *t, int iterations_done, const iteration_acc *acc) {
    char dir[PRISM_PATH_MAX];
    prism_status st = prism_archive_path(&t->archive, "checkpoints", dir, sizeof dir);
    if (st) return st;
    prism_run_counters c = {.iterations_done = iterations_done,
                            .mid_iteration = acc != NULL,
                            .env_steps = t->env_steps,
                            .episodes_total = t->episodes_total,
                            .metrics_offset = prism_csv_offset(&t->metrics),
                            .episodes_offset = prism_csv_offset(&t->episodes)};
    /* the checkpoint records the lengths of the data files: what it points at must reach the
     * disk before it does, or a power cut leaves a checkpoint beyond the end of its CSVs */
    if ((st = prism_file_sync(t->metrics.f, t->metrics.path)) ||
        (st = prism_file_sync(t->episodes.f, t->episodes.path)) ||
        (st = prism_file_sync(t->events_open ? t->events.f : NULL, t->events.path)))
        return st;
    iteration_acc none;
    memset(&none, 0, sizeof none);
    st = prism_checkpoint_save(dir, t->cfg->train.checkpoint_keep, &c, &t->agent, &t->env,
                               &t->eval_env, acc ? acc : &none, sizeof none);
    if (st) return st;
    t->last_checkpoint = prism_now();
    /* run.json's steps say how far the run got: the checkpoint's step, not the last row's (an
     * iteration of a MinAtar run is 1M steps) */
    prism_archive_set_progress(&t->archive, t->env_steps, t->archive.final_return);
    return prism_archive_update(&t->archive);
}

/* Environments, agent and buffers for cfg (no files yet). */
static prism_status setup(trainer *t, const prism_config *cfg, const prism_train_options *opt) {
    memset(t, 0, sizeof *t);
    t->cfg = cfg;
    t->opt = opt;
    prism_status st = prism_train_env_init(&t->env, cfg);
    if (st) return st;
    if ((st = prism_train_env_init(&t->eval_env, cfg))) return st;
    prism_env_seed(&t->env, cfg->seed, PRISM_STREAM_ENV);
    prism_env_seed(&t->eval_env, cfg->seed, PRISM_STREAM_EVAL);
    const int D = prism_env_obs_size(t->env.cls);
    if ((st = prism_config_validate(cfg, D))) return st;
    if ((st = prism_agent_init(&t->agent, &cfg->agent_cfg, t->env.cls, cfg->seed))) return st;
    t->obs = prism_calloc(2 * (size_t)D, sizeof(float));
    if (!t->obs) return prism_error(PRISM_ERR_NOMEM, "out of memory");
    t->next_obs = t->obs + D;
    long long it_steps = cfg->train.iteration_steps;
    t->iterations = (int)((cfg->train.steps + it_steps - 1) / it_steps);
    return PRISM_OK;
}

/* Iterations first..iterations-1 (the first continuing from `resumed` when not NULL), with a
 * checkpoint every checkpoint_every iterations or checkpoint_seconds, after the last, and at
 * the episode boundary where a stop request lands. */
static prism_status loop(trainer *t, int first, const iteration_acc *resumed) {
    t->start_time = t->last_checkpoint = prism_now();
    prism_status st = PRISM_OK;
    const prism_train_config *tc = &t->cfg->train;
    for (int it = first; it < t->iterations; it++) {
        iteration_acc acc;
        if (resumed && it == first) {
            acc = *resumed; /* the agent's statistics came back with the checkpoint */
        } else {
            memset(&acc, 0, sizeof acc);
            acc.return_min = INFINITY;
            acc.return_max = -INFINITY;
            prism_agent_stats_reset(&t->agent);
        }
        double it_start = prism_now();
        st = run_iteration(t, it, &acc);
        if (st == PRISM_ERR_INTERRUPTED && !t->episode_open) {
            prism_status cst = save_checkpoint(t, it, &acc);
            clear_progress(t);
            if (cst)
                prism_archive_eprintf(&t->archive, "could not save a checkpoint: %s\n",
                                      prism_error_message());
            else
                prism_archive_printf(&t->archive, "checkpoint saved at step %lld\n", t->env_steps);
            prism_error(PRISM_ERR_INTERRUPTED, "interrupted at step %lld", t->env_steps);
        }
        if (st == PRISM_ERR_DIVERGED) st = diverged(t, it, &acc);
        if (st) break;
        double iter_wall = prism_now() - it_start;
        if ((st = write_iteration(t, it, &acc, iter_wall))) break;
        if ((st = check_parameters(t, it))) {
            st = diverged(t, it, &acc);
            break;
        }
        watch_trends(t, it, iter_wall > 0 ? (double)acc.steps / iter_wall : (double)NAN,
                     (double)prism_rss_bytes() / (1024.0 * 1024.0));
        bool due = it + 1 == t->iterations ||
                   (tc->checkpoint_every > 0 && (it + 1) % tc->checkpoint_every == 0) ||
                   (tc->checkpoint_seconds > 0 &&
                    prism_now() - t->last_checkpoint >= tc->checkpoint_seconds);
        if (due && (st = save_checkpoint(t, it + 1, NULL))) break;
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
        prism_archive_printf(&t->archive, "run: %s\n", t->archive.dir);
        prism_status fst = prism_archive_finish(&t->archive, status, st ? saved : NULL);
        if (!st && fst)
            st = fst;
        else if (st)
            prism_error(st, "%s", saved);
    } else if (t->archive_locked)
        prism_archive_close(&t->archive); /* the run as it was: only the lock is released */
    prism_free(t->obs);
    prism_agent_free(&t->agent);
    prism_env_free(&t->eval_env);
    prism_env_free(&t->env);
    return st;
}

static void announce(trainer *t, int first) {
    prism_archive_printf(
        &t->archive, "prism %s: %s %s on %s, seed %llu, iterations %d..%d of %lld steps\n",
        PRISM_VERSION, first ? "resuming" : "training", t->cfg->agent, t->cfg->env,
        (unsigned long long)t->cfg->seed, first + 1, t->iterations, t->cfg->train.iteration_steps);
    prism_archive_printf(&t->archive, "run directory: %s\n", t->archive.dir);
}

prism_status prism_train(const prism_config *cfg, const prism_train_options *opt, char *run_dir,
                         size_t cap) {
    trainer t;
    if (run_dir && cap) run_dir[0] = 0;
    prism_status st = setup(&t, cfg, opt);
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
    if ((st = open_outputs(&t))) return finish(&t, st);
    record_facts(&t);
    announce(&t, 0);
    return finish(&t, loop(&t, 0, NULL));
}

/* config.ini must still describe the run that was checkpointed: an edited or truncated file
 * would otherwise continue (or "complete") a different experiment under the old run's name.
 * Only keys outside the identity (the checkpoint cadence) may change between sessions. */
static prism_status check_identity(const char *dir, const char *ini, const prism_config *cfg) {
    prism_run_meta *m = prism_alloc(sizeof *m);
    if (!m) return prism_error(PRISM_ERR_NOMEM, "out of memory reading %s/run.json", dir);
    prism_status st = prism_run_read(dir, m);
    if (st) {
        prism_free(m);
        return st;
    }
    char recorded[32];
    snprintf(recorded, sizeof recorded, "%s", m->config_hash);
    uint64_t seed = m->seed;
    prism_run_meta_free(m);
    prism_free(m);
    if (!recorded[0]) return PRISM_OK; /* written before run.json had config_hash */
    char now[PRISM_CONFIG_HASH_HEX];
    prism_config_hash_hex(cfg, now);
    if (strcmp(now, recorded) || seed != cfg->seed)
        return prism_error(PRISM_ERR_INVALID,
                           "%s is not the configuration this run was started with (config_hash "
                           "%s, seed %llu in run.json; the file gives %s, seed %llu): restore "
                           "the original config.ini, or start a new run with `prism train "
                           "--config %s`",
                           ini, recorded, (unsigned long long)seed, now,
                           (unsigned long long)cfg->seed, ini);
    return PRISM_OK;
}

/* True when dir/run.json says the run completed: resuming it has nothing to do. */
static bool run_completed(const char *dir) {
    prism_run_record r;
    return prism_run_record_load(dir, &r) == PRISM_OK && !strcmp(r.status, "completed");
}

prism_status prism_train_resume(const char *dir, prism_config *cfg,
                                const prism_train_options *opt) {
    /* checked before the lock too, so that a completed run is not touched at all (taking the
     * lock writes this process's pid into its .lock) */
    if (run_completed(dir)) return PRISM_OK;
    char path[PRISM_PATH_MAX];
    prism_status st = prism_path_join(path, sizeof path, dir, "config.ini");
    if (st) return st;
    prism_config_defaults(cfg);
    if ((st = prism_config_load_ini(cfg, path))) return st;
    if ((st = check_identity(dir, path, cfg))) return st;
    trainer t;
    if ((st = setup(&t, cfg, opt))) return finish(&t, st);
    /* the lock before anything is read for the resume: a checkpoint read while another process
     * writes the run may be replaced under it, and two writers tear the CSV files */
    if ((st = prism_archive_open_locked(&t.archive, dir))) return finish(&t, st);
    t.archive_locked = true;
    if (t.archive.status == PRISM_RUN_COMPLETED) return finish(&t, PRISM_OK);
    prism_run_counters c;
    iteration_acc acc;
    char ckpt_dir[PRISM_PATH_MAX];
    if ((st = prism_path_join(ckpt_dir, sizeof ckpt_dir, dir, "checkpoints")))
        return finish(&t, st);
    /* temporaries of writers killed mid-write (ours alone now that the lock is held) */
    prism_atomic_remove_orphans(dir);
    prism_atomic_remove_orphans(ckpt_dir);
    if ((st = prism_checkpoint_load(ckpt_dir, &c, &t.agent, &t.env, &t.eval_env, &acc, sizeof acc)))
        return finish(&t, st);
    if ((st = prism_archive_mark_resumed(&t.archive, opt->argc, opt->argv))) {
        t.archive_locked = false; /* mark_resumed closed it */
        return finish(&t, st);
    }
    t.archive.no_index = t.archive.no_index || opt->no_index;
    t.archive_open = true;
    t.env_steps = c.env_steps;
    t.episodes_total = c.episodes_total;
    define_columns(&t.cols, &t.m, t.env.cls->num_actions);
    if ((st = prism_archive_path(&t.archive, "metrics.csv", path, sizeof path)) ||
        (st = prism_csv_resume(&t.metrics, path, t.cols.n, t.cols.names, t.cols.is_int,
                               c.metrics_offset)) ||
        (st = prism_archive_path(&t.archive, "episodes.csv", path, sizeof path)) ||
        (st = prism_csv_resume(&t.episodes, path, 6, episode_columns, episode_is_int,
                               c.episodes_offset)) ||
        (st = prism_tfevents_open(&t.events, t.archive.dir)))
        return finish(&t, st);
    t.events_open = true;
    /* rows past the checkpoint's step in the earlier event file are superseded by this one's */
    if ((st = prism_tfevents_session_start(&t.events, t.env_steps + 1, prism_unix_time())))
        return finish(&t, st);
    announce(&t, c.iterations_done);
    if (c.iterations_done >= t.iterations) return finish(&t, PRISM_OK);
    return finish(&t, loop(&t, c.iterations_done, c.mid_iteration ? &acc : NULL));
}
