/* small_trig.h — sin and cos of small arguments (|x| <= 0.25), bit-identical to glibc's, fast
 * and vectorisable. Private to the classic-control environments (CartPole's pole angle lives in
 * this range for a whole episode); not a general-purpose libm.
 *
 * Why exactness is possible without copying glibc: glibc's sin and cos are accurate to a little
 * over 0.5 ULP, so whenever the exact value lies clearly away from a rounding midpoint, glibc
 * returns the correctly rounded result. We evaluate sin/cos with an error below 2^-60 relative
 * (the leading Taylor terms in double-double via fma, the rest in double), round, and report
 * `ok` only when the exact value is more than 1/16 ULP from a midpoint (and not at a power of
 * two, where the ULP changes): there our result is glibc's. Otherwise (about 1 call in 8) the
 * caller calls glibc. tests/test_env_classic.c compares both against glibc on millions of
 * arguments.
 */
#ifndef PRISM_SMALL_TRIG_H
#define PRISM_SMALL_TRIG_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define SMALL_TRIG_LIMIT 0.25

/* hi + lo (|hi| >= |lo|) rounded to a double; *ok = 0 when the rounding of the exact value
 * (within 2^-60 relative of hi + lo) could differ from glibc's. */
static inline double small_trig_round(double hi, double lo, int *ok) {
    const double s = hi + lo;
    const double e = lo - (s - hi); /* hi + lo == s + e exactly (fast two-sum) */
    uint64_t bits;
    memcpy(&bits, &s, sizeof bits);
    const int power_of_two = (bits & 0x000FFFFFFFFFFFFFull) == 0; /* zero and subnormals too */
    bits &= 0x7FF0000000000000ull;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    const double half_ulp = scale * 0x1p-53;
    *ok = !power_of_two & (fabs(e) < half_ulp * 0.875); /* & not &&: no branch, so SIMD */
    return s;
}

/* sin(x) for |x| <= SMALL_TRIG_LIMIT (*ok = 0 outside it or when in doubt). */
static inline double small_sin(double x, int *ok) {
    /* x^3 / 6 in double-double: x^2 = p + pe and p * x = q + qe exactly (fma) */
    const double p = x * x, pe = fma(x, x, -p);
    const double q = p * x, qe = fma(p, x, -q);
    const double inv6_hi = 0x1.5555555555555p-3, inv6_lo = 0x1.5555555555555p-57;
    const double t_hi = q * inv6_hi;
    const double t_lo = fma(q, inv6_hi, -t_hi) + (q * inv6_lo + (qe + pe * x) * inv6_hi);
    /* x^5 / 5! - x^7 / 7! + ... + x^13 / 13! (|tail| <= 3.3e-5 |x|; truncation < 2^-68 |x|) */
    const double tail =
        x * p * p *
        (1.0 / 120 +
         p * (-1.0 / 5040 + p * (1.0 / 362880 + p * (-1.0 / 39916800 + p * (1.0 / 6227020800.0)))));
    const double r = x - t_hi, r_lo = (x - r) - t_hi; /* exact: |x| > |t_hi| */
    int in_range;
    const double s = small_trig_round(r, r_lo - t_lo + tail, &in_range);
    *ok = in_range & (fabs(x) <= SMALL_TRIG_LIMIT);
    return s;
}

/* cos(x) for |x| <= SMALL_TRIG_LIMIT (*ok = 0 outside it or when in doubt). */
static inline double small_cos(double x, int *ok) {
    const double p = x * x, pe = fma(x, x, -p); /* x^2 = p + pe exactly */
    const double half = 0.5 * p, half_lo = 0.5 * pe;
    /* x^4 / 4! - x^6 / 6! + ... - x^14 / 14! (|tail| <= 1.7e-4; truncation < 2^-75) */
    const double tail =
        p * p *
        (1.0 / 24 +
         p * (-1.0 / 720 +
              p * (1.0 / 40320 +
                   p * (-1.0 / 3628800 + p * (1.0 / 479001600 + p * (-1.0 / 87178291200.0))))));
    const double r = 1.0 - half, r_lo = (1.0 - r) - half; /* exact: 1 > half */
    int in_range;
    const double c = small_trig_round(r, r_lo - half_lo + tail, &in_range);
    *ok = in_range & (fabs(x) <= SMALL_TRIG_LIMIT);
    return c;
}

#endif
