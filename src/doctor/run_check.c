/* `prism doctor RUN`: read a run directory (metrics.csv, episodes.csv, config.ini) and flag the
 * health problems Schulman's and Rahtz's checklists name, each with its evidence (iteration
 * and values) and the likely cause. Detectors:
 *   non-finite       inf in any metric, or a metric that goes missing after being finite
 *   q-bound          q_max or target_absmax above |r|max / (1 - gamma)
 *   loss-rising      the loss climbs steadily over the second half of the run
 *   grad-explosion   grad_norm_max far above the run's early gradient norms
 *   entropy-collapse action entropy far below what epsilon alone guarantees
 *   episode-lengths  every episode the same length (and not the time limit)
 *   steps-per-s      throughput decaying over the run
 *   memory           sys_rss_mb growing after the replay memory is full
 *   eval-gap         evaluation returns far from the training returns at the end
 *   noise-mode       (information) when the noisy nets drew their noise
 * Thresholds are heuristics, written next to each detector with the reason. Not here: the
 * probes and engine checks (probes.c, engine.c).
 */
#include "prism/doctor.h"
#include "prism/env.h"
#include "prism/file.h"
#include "prism/mdp.h"
#include "prism/metrics_csv.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* metrics.csv and episodes.csv through the archive's table reader; a row with missing fields
 * (a run being written) ends the table rather than failing the check. */
typedef prism_table table;

static prism_status table_read(const char *path, table *t) {
    return prism_table_read(path, PRISM_TABLE_LENIENT, t);
}

static double at(const table *t, int r, int c) {
    return c < 0 ? (double)NAN : t->v[(size_t)r * (size_t)t->ncols + (size_t)c];
}

static prism_status add(prism_doctor_report *r, const char *name, const char *what, double expected,
                        double learned, prism_doctor_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static prism_status add(prism_doctor_report *r, const char *name, const char *what, double expected,
                        double learned, prism_doctor_verdict v, const char *fmt, ...) {
    char message[sizeof((prism_doctor_check *)0)->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return prism_doctor_report_check(r, name, what, expected, learned, NAN, v, message);
}

/* Mean of the finite values of column c over rows [lo, hi). */
static double mean_of(const table *t, int c, int lo, int hi) {
    double s = 0;
    int n = 0;
    for (int i = lo; i < hi; i++) {
        double x = at(t, i, c);
        if (isfinite(x)) s += x, n++;
    }
    return n ? s / n : (double)NAN;
}

static int iter_of(const table *t, int row) {
    double it = at(t, row, prism_table_col(t, "iteration"));
    return isfinite(it) ? (int)it : row + 1;
}

static prism_status check_nonfinite(const table *t, prism_doctor_report *r) {
    for (int i = 0; i < t->nrows; i++)
        for (int c = 0; c < t->ncols; c++) {
            double x = at(t, i, c);
            bool was_finite = i > 0 && isfinite(at(t, i - 1, c));
            if (isinf(x) ||
                (isnan(x) && was_finite && strncmp(t->names[c], "eval", 4) &&
                 strncmp(t->names[c], "return", 6) && strcmp(t->names[c], "length_mean")))
                return add(r, "non-finite", t->names[c], NAN, x, PRISM_DOCTOR_FAIL,
                           "iteration %d: %s = %g%s: the run diverged; lower agent.lr, set "
                           "agent.grad_clip, and run `prism doctor --agent ...` on the preset",
                           iter_of(t, i), t->names[c], x,
                           isnan(x) ? " (missing after finite values)" : "");
        }
    return add(r, "non-finite", "NaN/Inf in metrics", NAN, NAN, PRISM_DOCTOR_PASS, "none");
}

/* |r|max of the run's rewards as the learner sees them. */
static double reward_bound(const prism_config *cfg, const char **why) {
    if (cfg->agent_cfg.reward_clip) {
        *why = "rewards clipped to [-1, 1]";
        return 1.0;
    }
    static const struct {
        const char *prefix;
        double rmax;
        const char *why;
    } known[] = {{"CartPole", 1, "CartPole: +1 per step"},
                 {"Acrobot", 1, "Acrobot: -1 per step"},
                 {"MountainCar", 1, "MountainCar: -1 per step"},
                 {"probe", 1, "probes: |r| <= 1"},
                 {"LunarLander", 100, "LunarLander: a crash or landing is +-100"}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strncmp(cfg->env, known[i].prefix, strlen(known[i].prefix))) {
            *why = known[i].why;
            return known[i].rmax;
        }
    *why = NULL;
    return NAN;
}

static prism_status check_q_bound(const table *t, const prism_config *cfg, prism_doctor_report *r) {
    const char *why = NULL;
    double rmax = reward_bound(cfg, &why);
    double gamma = cfg->agent_cfg.gamma;
    if (!isfinite(rmax) || gamma >= 1)
        return add(r, "q-bound", "Q within |r|max/(1-gamma)", NAN, NAN, PRISM_DOCTOR_SKIP,
                   "no known reward bound for %s (gamma %g)", cfg->env, gamma);
    /* 10% headroom: function approximation overshoots a little on the way up. */
    double bound = rmax / (1 - gamma), limit = 1.1 * bound;
    /* The verdict weighs the end of the run: overestimation early in training that the target
     * updates later pull back is common and harmless to the result, so it is a warning; values
     * still above the bound in the last quarter of the iterations are divergence. */
    int end_rows = (t->nrows + 3) / 4, end_start = t->nrows - end_rows;
    const char *names[] = {"q_max", "target_absmax"};
    double worst = 0, peak = 0, final_q = NAN;
    int first = -1, first_k = 0, peak_row = -1, last_bad = -1, end_bad = -1, end_k = 0;
    for (int k = 0; k < 2; k++) {
        int c = prism_table_col(t, names[k]);
        for (int i = 0; i < t->nrows; i++) {
            double x = fabs(at(t, i, c));
            if (!isfinite(x)) continue;
            if (x > worst) worst = x;
            if (k == 0) final_q = x;
            if (x <= limit) continue;
            if (first < 0 || i < first) first = i, first_k = k;
            if (x > peak) peak = x, peak_row = i;
            if (i > last_bad) last_bad = i;
            if (i >= end_start && end_bad < 0) end_bad = i, end_k = k;
        }
    }
    if (end_bad >= 0) {
        int c = prism_table_col(t, names[end_k]);
        return add(r, "q-bound", names[first_k], bound, peak, PRISM_DOCTOR_FAIL,
                   "iteration %d: %s = %.4g but no return can exceed |r|max/(1-gamma) = "
                   "%g/(1-%g) = %.4g (%s), and it is still %.4g at iteration %d, in the last "
                   "quarter of the run: the values are diverging (overestimation, the deadly "
                   "triad); try a smaller agent.lr, agent.double=true, a longer "
                   "agent.target_period, or check terminal masking",
                   iter_of(t, first), names[first_k],
                   fabs(at(t, first, prism_table_col(t, names[first_k]))), rmax, gamma, bound, why,
                   fabs(at(t, end_bad, c)), iter_of(t, end_bad));
    }
    if (first >= 0)
        return add(
            r, "q-bound", "max |Q|, |target| (recovered)", bound, peak, PRISM_DOCTOR_WARN,
            "iterations %d to %d: Q above |r|max/(1-gamma) = %.4g (%s), peak %.4g at "
            "iteration %d; it recovered: within the bound from iteration %d to the end "
            "(final q_max %.4g). Transient overestimation; if the return suffered meanwhile, "
            "try agent.double=true or a longer agent.target_period",
            iter_of(t, first), iter_of(t, last_bad), bound, why, peak, iter_of(t, peak_row),
            iter_of(t, last_bad + 1), final_q);
    return add(r, "q-bound", "max |Q|, |target|", bound, worst, PRISM_DOCTOR_PASS,
               "within |r|max/(1-gamma) = %.4g (%s)", bound, why);
}

static prism_status check_loss(const table *t, prism_doctor_report *r) {
    int c = prism_table_col(t, "loss");
    int first = -1;
    for (int i = 0; i < t->nrows; i++)
        if (isfinite(at(t, i, c))) {
            first = i;
            break;
        }
    int n = first < 0 ? 0 : t->nrows - first;
    if (n < 6)
        return add(r, "loss-rising", "loss trend", NAN, NAN, PRISM_DOCTOR_SKIP,
                   "fewer than 6 iterations with a loss");
    /* Steadily rising: the last third's mean is 10x the first third's and most iteration to
     * iteration changes are increases. TD losses rise a little as returns grow; 10x is not that. */
    int third = n / 3;
    double a = mean_of(t, c, first, first + third), b = mean_of(t, c, t->nrows - third, t->nrows);
    int ups = 0, steps = 0;
    for (int i = first + 1; i < t->nrows; i++)
        if (isfinite(at(t, i, c)) && isfinite(at(t, i - 1, c))) {
            steps++;
            ups += at(t, i, c) > at(t, i - 1, c);
        }
    double ratio = b / a;
    if (ratio > 10 && ups * 10 >= steps * 7)
        return add(r, "loss-rising", "loss last/first third", 1.0, ratio, PRISM_DOCTOR_WARN,
                   "the loss rose steadily: mean %.4g over iterations %d..%d, %.4g over %d..%d, "
                   "%d of %d changes up: targets are running away (lr too high, target network "
                   "synced too often, or rewards not clipped)",
                   a, iter_of(t, first), iter_of(t, first + third - 1), b,
                   iter_of(t, t->nrows - third), iter_of(t, t->nrows - 1), ups, steps);
    return add(r, "loss-rising", "loss last/first third", 1.0, ratio, PRISM_DOCTOR_PASS,
               "no steady rise");
}

static prism_status check_grad(const table *t, prism_doctor_report *r) {
    int c = prism_table_col(t, "grad_norm"), cmax = prism_table_col(t, "grad_norm_max");
    if (c < 0)
        return add(r, "grad-explosion", "grad norm", NAN, NAN, PRISM_DOCTOR_SKIP,
                   "no grad_norm column");
    /* the first iterations with a gradient set the scale; 100x that is an explosion */
    double base = NAN;
    int seen = 0;
    double s = 0;
    for (int i = 0; i < t->nrows && seen < 3; i++)
        if (isfinite(at(t, i, c)) && at(t, i, c) > 0) s += at(t, i, c), seen++;
    if (seen) base = s / seen;
    if (!isfinite(base))
        return add(r, "grad-explosion", "grad norm", NAN, NAN, PRISM_DOCTOR_SKIP,
                   "no gradient logged");
    double worst = 0;
    for (int i = 0; i < t->nrows; i++) {
        double x = cmax >= 0 && isfinite(at(t, i, cmax)) ? at(t, i, cmax) : at(t, i, c);
        if (!isfinite(x)) continue;
        worst = fmax(worst, x);
        if (x > 100 * base)
            return add(r, "grad-explosion", "grad norm / early", 100, x / base, PRISM_DOCTOR_WARN,
                       "iteration %d: gradient norm %.4g, %.0fx the early %.4g: exploding "
                       "gradients; set agent.grad_clip (e.g. 10) or lower agent.lr",
                       iter_of(t, i), x, x / base, base);
    }
    return add(r, "grad-explosion", "grad norm / early", 100, worst / base, PRISM_DOCTOR_PASS,
               "largest %.4g vs early %.4g", worst, base);
}

static prism_status check_entropy(const table *t, int num_actions, prism_doctor_report *r) {
    int ce = prism_table_col(t, "action_entropy"), cp = prism_table_col(t, "epsilon");
    if (ce < 0 || cp < 0 || num_actions < 2)
        return add(r, "entropy-collapse", "action entropy", NAN, NAN, PRISM_DOCTOR_SKIP,
                   "no action_entropy/epsilon columns or a single action");
    /* epsilon-greedy alone guarantees every action probability >= eps/A, so the entropy of the
     * action mix is at least that of (1 - eps + eps/A, eps/A, ...). Half of that floor, while
     * epsilon is still >= 0.2, means the logged actions are not what epsilon-greedy produces. */
    for (int i = 0; i < t->nrows; i++) {
        double eps = at(t, i, cp), h = at(t, i, ce);
        if (!isfinite(eps) || !isfinite(h) || eps < 0.2) continue;
        double pmin = eps / num_actions, pmax = 1 - eps + pmin;
        double floor_h = -pmax * log(pmax) - (num_actions - 1) * pmin * log(pmin);
        if (h < 0.5 * floor_h)
            return add(r, "entropy-collapse", "action entropy", floor_h, h, PRISM_DOCTOR_WARN,
                       "iteration %d: action entropy %.3g nats while epsilon is %.3g (at least "
                       "%.3g expected): the policy collapsed before exploration decayed; check "
                       "that random actions are drawn and applied",
                       iter_of(t, i), h, eps, floor_h);
    }
    return add(r, "entropy-collapse", "action entropy", NAN, NAN, PRISM_DOCTOR_PASS,
               "no collapse while exploring");
}

static prism_status check_lengths(const char *dir, const prism_config *cfg,
                                  prism_doctor_report *r) {
    char path[PRISM_PATH_MAX];
    prism_path_join(path, sizeof path, dir, "episodes.csv");
    table e;
    prism_status st = table_read(path, &e);
    if (st == PRISM_ERR_NOT_FOUND)
        return add(r, "episode-lengths", "distinct lengths", NAN, NAN, PRISM_DOCTOR_SKIP,
                   "no episodes.csv");
    if (st) return st;
    int c = prism_table_col(&e, "length");
    int limit = cfg->env_max_episode_steps;
    const prism_env_class *cls = prism_env_find(cfg->env);
    if (limit < 0) limit = cls ? cls->max_episode_steps : 0;
    if (limit == 0) limit = cfg->train.max_episode_steps;
    bool same = e.nrows >= 20 && c >= 0;
    for (int i = 1; same && i < e.nrows; i++) same = at(&e, i, c) == at(&e, 0, c);
    double len = e.nrows ? at(&e, 0, c) : (double)NAN;
    /* small MDPs (the probes, homl-mdp) may end after a fixed number of steps by design */
    if (same && prism_mdp_find(cfg->env))
        st = add(r, "episode-lengths", "episodes", NAN, e.nrows, PRISM_DOCTOR_PASS,
                 "every episode lasts %g steps, as %s's model prescribes", len, cfg->env);
    else if (same && (int)len != limit)
        st = add(r, "episode-lengths", "distinct lengths", NAN, 1, PRISM_DOCTOR_WARN,
                 "all %d episodes last exactly %g steps (time limit %d): the environment ignores "
                 "the actions or ends on a counter; check the reset and termination logic",
                 e.nrows, len, limit);
    else
        st = add(r, "episode-lengths", "episodes", NAN, e.nrows, PRISM_DOCTOR_PASS,
                 same ? "every episode reaches the time limit (a solved task)" : "lengths vary");
    prism_table_free(&e);
    return st;
}

static prism_status check_speed(const table *t, prism_doctor_report *r) {
    int c = prism_table_col(t, "sys_steps_per_s");
    if (c < 0 || t->nrows < 6)
        return add(r, "steps-per-s", "throughput", NAN, NAN, PRISM_DOCTOR_SKIP,
                   "fewer than 6 iterations");
    /* skip the first iteration (warm-up, no learning yet); halving means work grows with time */
    int third = (t->nrows - 1) / 3;
    double a = mean_of(t, c, 1, 1 + third), b = mean_of(t, c, t->nrows - third, t->nrows);
    if (b < 0.5 * a)
        return add(r, "steps-per-s", "late/early steps/s", 1, b / a, PRISM_DOCTOR_WARN,
                   "steps/s fell from %.4g (iterations %d..%d) to %.4g (%d..%d): something grows "
                   "with time (a list, a log, the replay scan); profile with the sys_*_s columns",
                   a, iter_of(t, 1), iter_of(t, third), b, iter_of(t, t->nrows - third),
                   iter_of(t, t->nrows - 1));
    return add(r, "steps-per-s", "late/early steps/s", 1, b / a, PRISM_DOCTOR_PASS, "steady");
}

static prism_status check_memory(const table *t, const prism_config *cfg, prism_doctor_report *r) {
    int cm = prism_table_col(t, "sys_rss_mb"), cr = prism_table_col(t, "replay_size");
    if (cm < 0 || cr < 0)
        return add(r, "memory", "RSS growth", NAN, NAN, PRISM_DOCTOR_SKIP,
                   "no sys_rss_mb / replay_size");
    int full = -1;
    for (int i = 0; i < t->nrows; i++)
        if (at(t, i, cr) >= cfg->agent_cfg.replay_capacity) {
            full = i;
            break;
        }
    if (full < 0 || full + 2 >= t->nrows)
        return add(r, "memory", "RSS growth", NAN, NAN, PRISM_DOCTOR_SKIP,
                   "the replay memory never filled (or only at the end)");
    /* Everything is allocated up front: once replay is full, RSS should stay flat. 20% and
     * 50 MB leave room for allocator noise and page-cache effects. */
    double a = at(t, full, cm), b = at(t, t->nrows - 1, cm);
    if (b - a > 50 && b > 1.2 * a)
        return add(r, "memory", "RSS growth (MB)", 0, b - a, PRISM_DOCTOR_WARN,
                   "RSS grew from %.0f MB (iteration %d, replay full at %d) to %.0f MB (iteration "
                   "%d): a leak; run under `make test-asan` or valgrind",
                   a, iter_of(t, full), cfg->agent_cfg.replay_capacity, b,
                   iter_of(t, t->nrows - 1));
    return add(r, "memory", "RSS growth (MB)", 0, b - a, PRISM_DOCTOR_PASS,
               "flat after replay filled");
}

static prism_status check_eval(const table *t, prism_doctor_report *r) {
    int ce = prism_table_col(t, "eval_return_mean"), ct = prism_table_col(t, "return_mean");
    int n = 0;
    for (int i = 0; i < t->nrows; i++) n += isfinite(at(t, i, ce));
    if (ce < 0 || n < 3)
        return add(r, "eval-gap", "eval vs train", NAN, NAN, PRISM_DOCTOR_SKIP,
                   "fewer than 3 evaluations");
    int third = t->nrows / 3 > 0 ? t->nrows / 3 : 1;
    double ev = mean_of(t, ce, t->nrows - third, t->nrows),
           tr = mean_of(t, ct, t->nrows - third, t->nrows);
    /* Evaluation uses a smaller epsilon (and noisy nets' mean weights): it may be better, but
     * a gap of more than half the training return's scale points at a train/eval mismatch. */
    double scale = fmax(fabs(tr), 1.0);
    if (fabs(ev - tr) > 0.5 * scale)
        return add(r, "eval-gap", "eval - train return", 0, ev - tr, PRISM_DOCTOR_WARN,
                   "the last third's evaluation return %.4g vs training %.4g: check eval epsilon, "
                   "noisy nets' eval mode, and that eval uses the same environment settings",
                   ev, tr);
    return add(r, "eval-gap", "eval - train return", 0, ev - tr, PRISM_DOCTOR_PASS, "close");
}

/* Which noise the run's noisy nets used (agent.noisy_resample): not a health check, but two
 * runs that differ only in it can learn very differently, so the diagnosis says it. */
static prism_status check_noise(const prism_config *cfg, prism_doctor_report *r) {
    const prism_agent_config *a = &cfg->agent_cfg;
    char mode[32];
    prism_config_get(cfg, "agent.noisy_resample", mode, sizeof mode);
    if (!a->noisy)
        return add(r, "noise-mode", "agent.noisy_resample", NAN, NAN, PRISM_DOCTOR_SKIP,
                   "no noisy nets (agent.noisy is off): epsilon-greedy exploration only");
    static const char *const what[] = {
        [PRISM_NOISE_ACTION] = "a fresh draw before every action and every update, independent "
                               "for the target (Fortunato et al., Dopamine)",
        [PRISM_NOISE_UPDATE] = "one draw per update, used by its online and target passes and by "
                               "the actions until the next update",
        [PRISM_NOISE_FIXED] = "one draw for the whole run, never resampled",
        [PRISM_NOISE_FIXED_SHARED] = "one draw for the whole run, one noise vector per length in "
                                     "every layer (as the Revisiting Rainbow code ran)",
    };
    const unsigned m = (unsigned)a->noisy_resample;
    return add(r, "noise-mode", "agent.noisy_resample", NAN, NAN, PRISM_DOCTOR_PASS,
               "agent.noisy_resample=%s: %s; evaluation with the mean weights", mode,
               m < sizeof what / sizeof what[0] ? what[m] : "unknown mode");
}

prism_status prism_doctor_run(const char *run_dir, prism_doctor_report *r) {
    char path[PRISM_PATH_MAX];
    prism_config cfg;
    prism_config_defaults(&cfg);
    prism_path_join(path, sizeof path, run_dir, "config.ini");
    prism_status st = prism_config_load_ini(&cfg, path);
    if (st) return st;
    prism_path_join(path, sizeof path, run_dir, "metrics.csv");
    table t;
    if ((st = table_read(path, &t))) return st;
    const prism_env_class *cls = prism_env_find(cfg.env);
    int A = cls ? cls->num_actions : 0;
    if (!st) st = check_nonfinite(&t, r);
    if (!st) st = check_q_bound(&t, &cfg, r);
    if (!st) st = check_loss(&t, r);
    if (!st) st = check_grad(&t, r);
    if (!st) st = check_entropy(&t, A, r);
    if (!st) st = check_lengths(run_dir, &cfg, r);
    if (!st) st = check_speed(&t, r);
    if (!st) st = check_memory(&t, &cfg, r);
    if (!st) st = check_eval(&t, r);
    if (!st) st = check_noise(&cfg, r);
    r->gamma = cfg.agent_cfg.gamma;
    prism_table_free(&t);
    return st;
}
