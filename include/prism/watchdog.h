/* prism/watchdog.h — the training run's watchdog: pure checks over per-iteration numbers.
 *
 * Divergence (NaN or Inf in the loss, gradient or Q-values) is detected by the agent, which
 * returns PRISM_ERR_DIVERGED; the trainer then asks prism_watchdog_nonfinite about the
 * parameters once per iteration too, and on either saves checkpoints/diverged.bin. Slow trouble
 * is found from the history of iterations (Rahtz, "Lessons learned reproducing a deep RL
 * paper": months lost to a frame rate that decayed slowly): a steps/s that falls steadily,
 * and resident memory that keeps growing once the replay memory is full (nothing should grow
 * then). These are warnings, printed and recorded in run.json; the run goes on.
 *
 * All functions here are pure (no I/O, no allocation): tests feed them synthetic sequences.
 */
#ifndef PRISM_WATCHDOG_H
#define PRISM_WATCHDOG_H

#include <stddef.h>

/* Iterations the trend checks look at (the newest ones). Fewer: no verdict. */
enum { PRISM_WATCHDOG_WINDOW = 8 };

/* Index of the first non-finite value of x (n), or -1 when all are finite. */
long prism_watchdog_nonfinite(const float *x, size_t n);

/* Steps/s decaying steadily: over the newest PRISM_WATCHDOG_WINDOW finite values of sps (n,
 * oldest first), at least 80% of the pairs (i < j) have sps[j] < sps[i] and the median of the
 * newest three is at most 80% of the median of the oldest three. Returns 1 then, with those
 * medians in *from and *to (either may be NULL); 0 otherwise. One noisy iteration or a single
 * step down (learning starts) does not trigger it. */
int prism_watchdog_sps_decay(const double *sps, int n, double *from, double *to);

/* Resident memory growing steadily: over the newest PRISM_WATCHDOG_WINDOW finite values of
 * rss_mb (n, oldest first; pass only iterations after the replay memory was full), at least
 * 80% of the pairs (i < j) have rss[j] > rss[i] (a flat series has none) and the growth from
 * the oldest to the newest is at least 4 MB and 5%. Returns 1 then, with the first and last
 * values in *from and *to; 0 otherwise. */
int prism_watchdog_rss_growth(const double *rss_mb, int n, double *from, double *to);

#endif
