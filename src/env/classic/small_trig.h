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

/* sin and cos of any |x| <= 16 (Acrobot's angles and their combinations), with the same
 * contract: each value is glibc's whenever its ok flag is set. Cody-Waite reduction by pi/2
 * in double-double (pi/2 = P1 + P2 + P3 to 119 bits; k * P1 and k * P2 are exact for |k| < 2^20,
 * and x - k * P1 is exact by Sterbenz), then sin and cos of the reduced r = r_hi + r_lo in
 * [-pi/4, pi/4] with the leading terms in double-double, and the quadrant. Error below
 * 2^-58.5 relative (the double-precision tail of the sine series dominates). */
static inline void wide_sincos(double x, double *sin_x, double *cos_x, int *ok_sin, int *ok_cos) {
    const double P1 = 0x1.921fb54400000p+0, P2 = 0x1.0b4611a600000p-34, P3 = 0x1.3198a2e037073p-69;
    const double kd = (x * 0x1.45f306dc9c883p-1 + 0x1.8p52) - 0x1.8p52; /* round(x * 2/pi) */
    const double r1 = x - kd * P1;                                      /* exact */
    const double t = kd * P2;                                           /* exact */
    const double r2 = r1 - t, bb = r2 - r1;
    const double r2e = (r1 - (r2 - bb)) + (-t - bb); /* two-sum: r1 - t == r2 + r2e */
    const double r3 = r2e - kd * P3;
    const double r = r2 + r3, r_lo = r3 - (r - r2); /* fast two-sum */
    const double p = r * r, pe = fma(r, r, -p);     /* r^2 = p + pe */

    /* sin(r) = r - r^3/6 + r^5 S(r^2), plus r_lo cos(r) */
    const double q = p * r, qe = fma(p, r, -q);
    const double inv6_hi = 0x1.5555555555555p-3, inv6_lo = 0x1.5555555555555p-57;
    const double t_hi = q * inv6_hi;
    const double t_lo = fma(q, inv6_hi, -t_hi) + (q * inv6_lo + (qe + pe * r) * inv6_hi);
    const double sin_tail =
        r * p * p *
        (1.0 / 120 +
         p * (-1.0 / 5040 +
              p * (1.0 / 362880 +
                   p * (-1.0 / 39916800 + p * (1.0 / 6227020800.0 +
                                               p * (-1.0 / 1307674368000.0 +
                                                    p * (1.0 / 355687428096000.0 +
                                                         p * (-1.0 / 121645100408832000.0))))))));
    const double s_hi = r - t_hi, s_hi_lo = (r - s_hi) - t_hi;
    int ok_s;
    const double sr = small_trig_round(
        s_hi, s_hi_lo - t_lo + sin_tail + r_lo * (1.0 - 0.5 * p + p * p * (1.0 / 24)), &ok_s);

    /* cos(r) = 1 - r^2/2 + r^4/24 + r^6 C(r^2), minus r_lo sin(r) */
    const double pp = p * p, ppe = fma(p, p, -pp);
    const double r4_lo = ppe + 2 * p * pe; /* r^4 = pp + r4_lo */
    const double inv24_hi = 0x1.5555555555555p-5, inv24_lo = 0x1.5555555555555p-59;
    const double u_hi = pp * inv24_hi;
    const double u_lo = fma(pp, inv24_hi, -u_hi) + (pp * inv24_lo + r4_lo * inv24_hi);
    const double cos_tail =
        pp * p *
        (-1.0 / 720 +
         p * (1.0 / 40320 +
              p * (-1.0 / 3628800 +
                   p * (1.0 / 479001600 +
                        p * (-1.0 / 87178291200.0 +
                             p * (1.0 / 20922789888000.0 + p * (-1.0 / 6402373705728000.0)))))));
    const double a = 1.0 - 0.5 * p, a_lo = (1.0 - a) - 0.5 * p; /* exact */
    const double b = a + u_hi, bv = b - a;
    const double b_lo = (a - (b - bv)) + (u_hi - bv); /* two-sum */
    const double c_hi = b,
                 c_lo = a_lo + b_lo - 0.5 * pe + u_lo + cos_tail - r_lo * (r - q * inv6_hi);
    int ok_c;
    const double cr = small_trig_round(c_hi, c_lo, &ok_c);

    /* The quadrant; a reduced r too close to 0 (x near a multiple of pi/2) has lost relative
     * accuracy in the reduction, so only k == 0 (no reduction) may be that small. */
    /* kd converts only when in int's range: x NaN or huge (ok_all is 0 then anyway) would make
     * the conversion undefined behaviour, and clang's float-cast-overflow check stops on it */
    const int k = fabs(kd) < 0x1p20 ? (int)kd & 3 : 0;
    const int ok_all = (fabs(x) <= 16.0) & ((kd == 0.0) | (fabs(r) >= 0x1p-40));
    const double sr_neg = -sr, cr_neg = -cr;
    *sin_x = k == 0 ? sr : k == 1 ? cr : k == 2 ? sr_neg : cr_neg;
    *cos_x = k == 0 ? cr : k == 1 ? sr_neg : k == 2 ? cr_neg : sr;
    *ok_sin = ok_all & ((k & 1) ? ok_c : ok_s);
    *ok_cos = ok_all & ((k & 1) ? ok_s : ok_c);
}

#endif
