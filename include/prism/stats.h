/* prism/stats.h — the statistics of a multi-seed study: per-task means with confidence
 * intervals across seeds, the aggregate metrics of Agarwal et al. (2021, "Deep RL at the edge
 * of the statistical precipice", the rliable library) with stratified bootstrap intervals,
 * probability of improvement, performance profiles, and score normalisation.
 *
 * Scores of a study are a ragged table: task t has nruns[t] >= 1 runs, stored task-major in
 * one flat array (task 0's runs, then task 1's, ...). rliable requires the same number of runs
 * per task; where they differ (a failed seed), each task still weighs the same in mean,
 * median, optimality gap and profiles, and IQM pools all runs (see docs/statistics.md).
 *
 *     double s[] = {0.1, 0.4, 0.9,   0.5, 0.7};   // task 0: 3 runs, task 1: 2 runs
 *     int n[] = {3, 2};
 *     prism_score_table tab = {2, n, s};
 *     prism_rng rng; prism_rng_seed(&rng, 0, PRISM_STREAM_BOOTSTRAP);
 *     prism_ci iqm;
 *     prism_stats_aggregate_ci(PRISM_AGG_IQM, &tab, 1.0, 2000, 0.95, &rng, &iqm);
 *
 * Every interval is a percentile bootstrap unless the name says otherwise; the bootstrap draws
 * only from the rng the caller passes, so the same seed gives the same interval bit for bit.
 * Functions that need scratch memory allocate it once per call (never per resample).
 */
#ifndef PRISM_STATS_H
#define PRISM_STATS_H

#include "prism/core.h"
#include "prism/rng.h"

/* Stream id for bootstrap resampling (beside the ids in rng.h). */
enum { PRISM_STREAM_BOOTSTRAP = 7 };

/* A point estimate with a confidence interval [lo, hi]. */
typedef struct prism_ci {
    double point, lo, hi;
} prism_ci;

typedef struct prism_score_table {
    int ntasks;
    const int *nruns;     /* (T) runs per task, each >= 1 */
    const double *scores; /* (sum of nruns) task-major; finite values */
} prism_score_table;

typedef enum prism_aggregate {
    PRISM_AGG_MEDIAN,         /* median over tasks of the per-task mean */
    PRISM_AGG_IQM,            /* interquartile mean of all runs pooled (scipy trim_mean 0.25) */
    PRISM_AGG_MEAN,           /* mean over tasks of the per-task mean */
    PRISM_AGG_OPTIMALITY_GAP, /* mean over tasks of mean(max(gamma - score, 0)) */
    PRISM_AGG_COUNT
} prism_aggregate;

/* Short name ("median", "iqm", "mean", "optimality_gap") and a display title. */
const char *prism_aggregate_name(prism_aggregate m);
const char *prism_aggregate_title(prism_aggregate m);

/* Arithmetic mean of x[0..n) (NaN when n == 0). */
double prism_stats_mean(const double *x, int n);

/* Sample standard deviation (n - 1 in the denominator; 0 when n < 2). */
double prism_stats_std(const double *x, int n);

/* Percentile q in [0, 1] of sorted[0..n) with linear interpolation between order statistics
 * (numpy.percentile's default, which rliable's percentile intervals use). n >= 1. */
double prism_stats_percentile_sorted(const double *sorted, int n, double q);

/* Trimmed mean as scipy.stats.trim_mean(x, cut): sorts x in place, drops floor(cut * n) values
 * from each end (whole values: no fractional weights), and averages the rest. 0 <= cut < 0.5,
 * n >= 1. */
double prism_stats_trim_mean(double *x, int n, double cut);

/* Quantile p of Student's t distribution with df > 0 degrees of freedom (0 < p < 1), from the
 * regularised incomplete beta function and bisection; matches the closed forms for df = 1, 2
 * to 1e-13 (scipy's t.ppf is off by up to ~2e-10). */
double prism_stats_t_quantile(double p, double df);

/* Mean of x with the Student-t interval at `level` (e.g. 0.95): mean +- t * s / sqrt(n).
 * n == 1 gives an infinite-width interval ([-inf, inf]) since one seed says nothing about
 * spread. PRISM_ERR_INVALID when n < 1 or level is not in (0, 1). */
prism_status prism_stats_mean_ci_t(const double *x, int n, double level, prism_ci *out);

/* Mean of x with a percentile-bootstrap interval from `resamples` resamples (>= 1) drawn with
 * `rng`. A constant sample gives a point interval. PRISM_ERR_NOMEM when scratch memory cannot
 * be allocated, PRISM_ERR_INVALID on bad arguments. */
prism_status prism_stats_mean_ci_bootstrap(const double *x, int n, int resamples, double level,
                                           prism_rng *rng, prism_ci *out);

/* A paired speed comparison: ratios[0..n) = cost of B / cost of A, one per round of an
 * interleaved benchmark (prism bench compare). Ratios multiply, so the intervals are built on
 * their logarithms and mapped back: each point is exp(mean log r), the geometric mean ratio. */
typedef struct prism_ratio_summary {
    double median; /* the median ratio (numpy's, as prism_stats_percentile_sorted) */
    prism_ci boot; /* exp of the percentile-bootstrap interval of the mean log ratio */
    prism_ci t;    /* exp of its Student-t interval (n - 1 degrees of freedom; n = 1: infinite) */
} prism_ratio_summary;

/* The summary at `level`, the bootstrap from `resamples` resamples drawn with rng (the
 * percentile bootstrap is too narrow for few rounds, about 0.91 coverage at n = 10 for a
 * nominal 0.95, hence the t interval beside it). PRISM_ERR_INVALID when n < 1, a ratio is not
 * positive and finite (the message names it), or resamples or level are bad; PRISM_ERR_NOMEM
 * for scratch memory. */
prism_status prism_stats_ratio_summary(const double *ratios, int n, int resamples, double level,
                                       prism_rng *rng, prism_ratio_summary *out);

/* Point estimate of an aggregate metric over a score table; gamma is the optimality-gap
 * threshold (1 for normalised scores) and is ignored by the other metrics. */
prism_status prism_stats_aggregate(prism_aggregate m, const prism_score_table *s, double gamma,
                                   double *out);

/* The aggregate with a stratified percentile-bootstrap interval: each resample redraws
 * nruns[t] runs with replacement within every task t. */
prism_status prism_stats_aggregate_ci(prism_aggregate m, const prism_score_table *s, double gamma,
                                      int resamples, double level, prism_rng *rng, prism_ci *out);

/* Probability of improvement P(X > Y): for each task the Mann-Whitney U statistic of X's runs
 * against Y's divided by nx * ny (ties count 1/2), averaged over tasks. x and y must have the
 * same tasks in the same order. The interval resamples X's and Y's runs independently within
 * each task (rliable's StratifiedIndependentBootstrap). */
prism_status prism_stats_prob_improvement(const prism_score_table *x, const prism_score_table *y,
                                          int resamples, double level, prism_rng *rng,
                                          prism_ci *out);

/* Performance profile: for each tau[i] the fraction of runs with score > tau[i] (per task, then
 * averaged over tasks), with stratified-bootstrap intervals. out has ntau entries. */
prism_status prism_stats_performance_profile(const prism_score_table *s, const double *tau,
                                             int ntau, int resamples, double level, prism_rng *rng,
                                             prism_ci *out);

/* Normalised score (score - random) / (reference - random): 0 is the random policy, 1 the
 * best known score. */
double prism_stats_normalize(double score, double random, double reference);

/* A task's reference points for normalisation (src/report/task_scores.c, sources in
 * docs/statistics.md). */
typedef struct prism_task_score {
    const char *env;    /* environment id as in the registry */
    double random;      /* mean return of the uniform random policy */
    double reference;   /* best known score (the "solved"/maximum level) */
    const char *source; /* where the numbers come from */
} prism_task_score;

/* The entry for env (an id or alias, case-insensitive), or NULL when the task has none. */
const prism_task_score *prism_task_score_find(const char *env);
/* Why a registered environment has no entry on purpose (minimal-action MinAtar, probes, the
 * tabular MDP), or NULL: then it either has an entry or is unknown. */
const char *prism_task_score_missing_reason(const char *env);
int prism_task_score_count(void);
const prism_task_score *prism_task_score_at(int i);

#endif
