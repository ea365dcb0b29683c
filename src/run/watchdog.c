/* The watchdog's checks (see prism/watchdog.h): non-finite values, and steady trends over the
 * newest iterations measured by the fraction of ordered pairs that move the same way (robust
 * to one noisy iteration, unlike a first-to-last comparison). Not here: what the trainer does
 * about them (src/run/trainer.c). */
#include "prism/watchdog.h"

#include <math.h>
#include <string.h>

enum { WINDOW = PRISM_WATCHDOG_WINDOW };

long prism_watchdog_nonfinite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return (long)i;
    return -1;
}

/* The newest WINDOW finite values of v (n) into w, oldest first; returns how many. */
static int newest_finite(const double *v, int n, double *w) {
    int k = 0;
    for (int i = n - 1; i >= 0 && k < WINDOW; i--)
        if (isfinite(v[i])) w[k++] = v[i];
    for (int i = 0; i < k / 2; i++) {
        double tmp = w[i];
        w[i] = w[k - 1 - i];
        w[k - 1 - i] = tmp;
    }
    return k;
}

/* Fraction of pairs i < j with w[j] < w[i] (sign -1) or w[j] > w[i] (sign +1). */
static double concordance(const double *w, int k, int sign) {
    int agree = 0, pairs = 0;
    for (int i = 0; i < k; i++)
        for (int j = i + 1; j < k; j++) {
            pairs++;
            agree += sign < 0 ? w[j] < w[i] : w[j] > w[i];
        }
    return pairs ? (double)agree / pairs : 0;
}

static double median3(const double *w) {
    double a = w[0], b = w[1], c = w[2];
    if (a > b) {
        double t = a;
        a = b;
        b = t;
    }
    if (b > c) b = c;
    return a > b ? a : b;
}

int prism_watchdog_sps_decay(const double *sps, int n, double *from, double *to) {
    double w[WINDOW];
    int k = newest_finite(sps, n, w);
    if (k < WINDOW) return 0;
    double first = median3(w), last = median3(w + k - 3);
    if (from) *from = first;
    if (to) *to = last;
    return concordance(w, k, -1) >= 0.8 && first > 0 && last <= 0.8 * first;
}

int prism_watchdog_rss_growth(const double *rss_mb, int n, double *from, double *to) {
    double w[WINDOW];
    int k = newest_finite(rss_mb, n, w);
    if (k < WINDOW) return 0;
    double first = w[0], last = w[k - 1];
    if (from) *from = first;
    if (to) *to = last;
    return concordance(w, k, +1) >= 0.8 && last - first >= 4.0 && last >= 1.05 * first;
}
