/* report/stats.c — confidence intervals and the rliable aggregate metrics (see prism/stats.h and
 * docs/statistics.md for the definitions and sources). This file computes numbers only: it
 * reads no files and draws no plots. Everything is float64: scores are few and the bootstrap
 * averages thousands of resamples, so single precision would buy nothing and cost digits. */
#include "prism/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *prism_aggregate_name(prism_aggregate m) {
    static const char *names[] = {"median", "iqm", "mean", "optimality_gap"};
    PRISM_ASSERT(m >= 0 && m < PRISM_AGG_COUNT);
    return names[m];
}

const char *prism_aggregate_title(prism_aggregate m) {
    static const char *titles[] = {"Median", "IQM", "Mean", "Optimality gap"};
    PRISM_ASSERT(m >= 0 && m < PRISM_AGG_COUNT);
    return titles[m];
}

double prism_stats_mean(const double *x, int n) {
    if (n <= 0) return NAN;
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return s / n;
}

double prism_stats_std(const double *x, int n) {
    if (n < 2) return 0;
    double m = prism_stats_mean(x, n), ss = 0;
    for (int i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    return sqrt(ss / (n - 1));
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double prism_stats_percentile_sorted(const double *sorted, int n, double q) {
    PRISM_ASSERT(n >= 1 && q >= 0 && q <= 1);
    /* numpy's 'linear' method: position q * (n - 1), interpolated between neighbours */
    double pos = q * (n - 1);
    int i = (int)floor(pos);
    if (i >= n - 1) return sorted[n - 1];
    double f = pos - i;
    return sorted[i] + f * (sorted[i + 1] - sorted[i]);
}

double prism_stats_trim_mean(double *x, int n, double cut) {
    PRISM_ASSERT(n >= 1 && cut >= 0 && cut < 0.5);
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    /* scipy.stats.trim_mean: lowercut = int(proportiontocut * nobs), truncating; the same
     * number is dropped from the top. No fractional weighting of the boundary values. */
    int k = (int)(cut * n);
    return prism_stats_mean(x + k, n - 2 * k);
}

/* Continued fraction for the regularised incomplete beta function (modified Lentz). */
static double beta_cf(double a, double b, double x) {
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 500; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-15) break;
    }
    return h;
}

static double incomplete_beta(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2)) return exp(lbt) * beta_cf(a, b, x) / a;
    return 1 - exp(lbt) * beta_cf(b, a, 1 - x) / b;
}

/* P(T <= t) for Student's t with df degrees of freedom. */
static double t_cdf(double t, double df) {
    double tail = 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t));
    return t >= 0 ? 1 - tail : tail;
}

double prism_stats_t_quantile(double p, double df) {
    PRISM_ASSERT(p > 0 && p < 1 && df > 0);
    if (p == 0.5) return 0;
    if (p < 0.5) return -prism_stats_t_quantile(1 - p, df);
    /* bisection on a bracket that doubles until it holds p: monotone and robust, and the
     * report needs a handful of quantiles, so speed does not matter */
    double lo = 0, hi = 1;
    while (t_cdf(hi, df) < p && hi < 1e12) lo = hi, hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (t_cdf(mid, df) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

static prism_status check_level(double level) {
    if (!(level > 0 && level < 1))
        return prism_error(PRISM_ERR_INVALID, "confidence level %g is not in (0, 1); use e.g. 0.95",
                           level);
    return PRISM_OK;
}

prism_status prism_stats_mean_ci_t(const double *x, int n, double level, prism_ci *out) {
    if (n < 1)
        return prism_error(PRISM_ERR_INVALID, "a confidence interval needs at least 1 value");
    prism_status st = check_level(level);
    if (st) return st;
    out->point = prism_stats_mean(x, n);
    if (n == 1) {
        out->lo = -INFINITY, out->hi = INFINITY;
        return PRISM_OK;
    }
    double half = prism_stats_t_quantile(0.5 + level / 2, n - 1) * prism_stats_std(x, n) / sqrt(n);
    out->lo = out->point - half, out->hi = out->point + half;
    return PRISM_OK;
}

/* Percentile interval of `stats` (sorted in place) at `level`. */
static void percentile_interval(double *stats, int resamples, double level, prism_ci *out) {
    qsort(stats, (size_t)resamples, sizeof *stats, cmp_double);
    out->lo = prism_stats_percentile_sorted(stats, resamples, (1 - level) / 2);
    out->hi = prism_stats_percentile_sorted(stats, resamples, (1 + level) / 2);
}

static prism_status check_boot(int resamples, double level) {
    if (resamples < 1)
        return prism_error(PRISM_ERR_INVALID, "bootstrap needs at least 1 resample (got %d)",
                           resamples);
    return check_level(level);
}

prism_status prism_stats_mean_ci_bootstrap(const double *x, int n, int resamples, double level,
                                           prism_rng *rng, prism_ci *out) {
    if (n < 1)
        return prism_error(PRISM_ERR_INVALID, "a confidence interval needs at least 1 value");
    prism_status st = check_boot(resamples, level);
    if (st) return st;
    double *stats = prism_alloc((size_t)resamples * sizeof *stats);
    if (!stats) return prism_error(PRISM_ERR_NOMEM, "out of memory for %d resamples", resamples);
    for (int r = 0; r < resamples; r++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[prism_rng_below(rng, (uint32_t)n)];
        stats[r] = s / n;
    }
    out->point = prism_stats_mean(x, n);
    percentile_interval(stats, resamples, level, out);
    prism_free(stats);
    return PRISM_OK;
}

static prism_ci exp_ci(prism_ci c) {
    return (prism_ci){exp(c.point), exp(c.lo), exp(c.hi)};
}

prism_status prism_stats_ratio_summary(const double *ratios, int n, int resamples, double level,
                                       prism_rng *rng, prism_ratio_summary *out) {
    if (n < 1) return prism_error(PRISM_ERR_INVALID, "a ratio interval needs at least 1 ratio");
    for (int i = 0; i < n; i++)
        if (!(ratios[i] > 0) || !isfinite(ratios[i]))
            return prism_error(PRISM_ERR_INVALID,
                               "ratio %d is %g: ratios of costs must be positive and finite", i + 1,
                               ratios[i]);
    prism_status st = check_boot(resamples, level);
    if (st) return st;
    double *logs = prism_alloc(2 * (size_t)n * sizeof *logs);
    if (!logs) return prism_error(PRISM_ERR_NOMEM, "out of memory for %d ratios", n);
    double *sorted = logs + n;
    for (int i = 0; i < n; i++) logs[i] = log(ratios[i]), sorted[i] = ratios[i];
    prism_ci boot, t;
    if (!(st = prism_stats_mean_ci_bootstrap(logs, n, resamples, level, rng, &boot)) &&
        !(st = prism_stats_mean_ci_t(logs, n, level, &t))) {
        out->boot = exp_ci(boot), out->t = exp_ci(t);
        qsort(sorted, (size_t)n, sizeof *sorted, cmp_double);
        out->median = prism_stats_percentile_sorted(sorted, n, 0.5);
    }
    prism_free(logs);
    return st;
}

static int table_total(const prism_score_table *s) {
    int total = 0;
    for (int t = 0; t < s->ntasks; t++) total += s->nruns[t];
    return total;
}

static prism_status check_table(const prism_score_table *s) {
    if (s->ntasks < 1) return prism_error(PRISM_ERR_INVALID, "a score table needs at least 1 task");
    for (int t = 0; t < s->ntasks; t++)
        if (s->nruns[t] < 1)
            return prism_error(PRISM_ERR_INVALID,
                               "task %d of the score table has no runs; leave it out", t);
    int total = table_total(s);
    for (int i = 0; i < total; i++)
        if (!isfinite(s->scores[i]))
            return prism_error(PRISM_ERR_INVALID, "score %d is not finite; drop that run first", i);
    return PRISM_OK;
}

/* The metric of scores laid out like s (same nruns); scratch holds max(total, ntasks) doubles. */
static double aggregate(prism_aggregate m, int ntasks, const int *nruns, const double *scores,
                        double gamma, double *scratch) {
    int total = 0;
    for (int t = 0; t < ntasks; t++) total += nruns[t];
    if (m == PRISM_AGG_IQM) {
        memcpy(scratch, scores, (size_t)total * sizeof *scratch);
        return prism_stats_trim_mean(scratch, total, 0.25);
    }
    const double *x = scores;
    for (int t = 0; t < ntasks; t++) {
        double s = 0;
        for (int i = 0; i < nruns[t]; i++)
            s += m == PRISM_AGG_OPTIMALITY_GAP ? fmax(gamma - x[i], 0) : x[i];
        scratch[t] = s / nruns[t];
        x += nruns[t];
    }
    if (m == PRISM_AGG_MEDIAN) {
        qsort(scratch, (size_t)ntasks, sizeof *scratch, cmp_double);
        return prism_stats_percentile_sorted(scratch, ntasks, 0.5);
    }
    return prism_stats_mean(scratch, ntasks);
}

prism_status prism_stats_aggregate(prism_aggregate m, const prism_score_table *s, double gamma,
                                   double *out) {
    prism_status st = check_table(s);
    if (st) return st;
    int total = table_total(s);
    double *scratch = prism_alloc((size_t)(total + s->ntasks) * sizeof *scratch);
    if (!scratch) return prism_error(PRISM_ERR_NOMEM, "out of memory for %d scores", total);
    *out = aggregate(m, s->ntasks, s->nruns, s->scores, gamma, scratch);
    prism_free(scratch);
    return PRISM_OK;
}

/* One stratified resample of s into dst: nruns[t] draws with replacement within task t. */
static void stratified_resample(const prism_score_table *s, double *dst, prism_rng *rng) {
    const double *x = s->scores;
    for (int t = 0; t < s->ntasks; t++) {
        uint32_t n = (uint32_t)s->nruns[t];
        for (uint32_t i = 0; i < n; i++) *dst++ = x[prism_rng_below(rng, n)];
        x += n;
    }
}

prism_status prism_stats_aggregate_ci(prism_aggregate m, const prism_score_table *s, double gamma,
                                      int resamples, double level, prism_rng *rng, prism_ci *out) {
    prism_status st = check_table(s);
    if (!st) st = check_boot(resamples, level);
    if (st) return st;
    int total = table_total(s);
    /* one block: the resampled table, the metric's scratch, and the bootstrap statistics */
    double *buf = prism_alloc((size_t)(2 * total + s->ntasks + resamples) * sizeof *buf);
    if (!buf) return prism_error(PRISM_ERR_NOMEM, "out of memory for %d resamples", resamples);
    double *sample = buf, *scratch = buf + total, *stats = scratch + total + s->ntasks;
    out->point = aggregate(m, s->ntasks, s->nruns, s->scores, gamma, scratch);
    for (int r = 0; r < resamples; r++) {
        stratified_resample(s, sample, rng);
        stats[r] = aggregate(m, s->ntasks, s->nruns, sample, gamma, scratch);
    }
    percentile_interval(stats, resamples, level, out);
    prism_free(buf);
    return PRISM_OK;
}

/* Mean over tasks of U / (nx * ny), where U counts pairs with x > y and half of the ties. */
static double prob_improvement(const prism_score_table *x, const double *xs,
                               const prism_score_table *y, const double *ys) {
    double sum = 0;
    for (int t = 0; t < x->ntasks; t++) {
        int nx = x->nruns[t], ny = y->nruns[t];
        double u = 0;
        /* O(nx * ny): seeds per task are tens at most, so the plain double loop is clearer
         * than the rank formulation and exact */
        for (int i = 0; i < nx; i++)
            for (int j = 0; j < ny; j++) u += xs[i] > ys[j] ? 1.0 : xs[i] == ys[j] ? 0.5 : 0.0;
        sum += u / ((double)nx * ny);
        xs += nx, ys += ny;
    }
    return sum / x->ntasks;
}

prism_status prism_stats_prob_improvement(const prism_score_table *x, const prism_score_table *y,
                                          int resamples, double level, prism_rng *rng,
                                          prism_ci *out) {
    prism_status st = check_table(x);
    if (!st) st = check_table(y);
    if (!st) st = check_boot(resamples, level);
    if (st) return st;
    if (x->ntasks != y->ntasks)
        return prism_error(PRISM_ERR_INVALID,
                           "probability of improvement needs the same tasks for both agents "
                           "(%d vs %d tasks)",
                           x->ntasks, y->ntasks);
    int tx = table_total(x), ty = table_total(y);
    double *buf = prism_alloc((size_t)(tx + ty + resamples) * sizeof *buf);
    if (!buf) return prism_error(PRISM_ERR_NOMEM, "out of memory for %d resamples", resamples);
    double *xs = buf, *ys = buf + tx, *stats = ys + ty;
    out->point = prob_improvement(x, x->scores, y, y->scores);
    for (int r = 0; r < resamples; r++) {
        stratified_resample(x, xs, rng);
        stratified_resample(y, ys, rng);
        stats[r] = prob_improvement(x, xs, y, ys);
    }
    percentile_interval(stats, resamples, level, out);
    prism_free(buf);
    return PRISM_OK;
}

/* Fraction of runs above tau, per task, averaged over tasks. */
static double profile_at(const prism_score_table *s, const double *scores, double tau) {
    double sum = 0;
    for (int t = 0; t < s->ntasks; t++) {
        int above = 0;
        for (int i = 0; i < s->nruns[t]; i++) above += scores[i] > tau;
        sum += (double)above / s->nruns[t];
        scores += s->nruns[t];
    }
    return sum / s->ntasks;
}

prism_status prism_stats_performance_profile(const prism_score_table *s, const double *tau,
                                             int ntau, int resamples, double level, prism_rng *rng,
                                             prism_ci *out) {
    prism_status st = check_table(s);
    if (!st) st = check_boot(resamples, level);
    if (st) return st;
    if (ntau < 1) return prism_error(PRISM_ERR_INVALID, "a performance profile needs thresholds");
    int total = table_total(s);
    double *buf = prism_alloc((size_t)(total + (size_t)ntau * resamples) * sizeof *buf);
    if (!buf) return prism_error(PRISM_ERR_NOMEM, "out of memory for %d resamples", resamples);
    double *sample = buf, *stats = buf + total; /* stats: (ntau, resamples) */
    for (int k = 0; k < ntau; k++) out[k].point = profile_at(s, s->scores, tau[k]);
    /* the same resample serves every tau, as in rliable, so the band is a joint draw */
    for (int r = 0; r < resamples; r++) {
        stratified_resample(s, sample, rng);
        for (int k = 0; k < ntau; k++)
            stats[(size_t)k * resamples + r] = profile_at(s, sample, tau[k]);
    }
    for (int k = 0; k < ntau; k++)
        percentile_interval(stats + (size_t)k * resamples, resamples, level, &out[k]);
    prism_free(buf);
    return PRISM_OK;
}

double prism_stats_normalize(double score, double random, double reference) {
    PRISM_ASSERT(reference != random);
    return (score - random) / (reference - random);
}
