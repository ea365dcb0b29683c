/* report/format.c — how the report writes a number for people (the CSV and JSON files keep
 * every digit): an estimate with its interval gets as many decimals as the interval's width
 * warrants, the same for all three numbers; a lone number gets three significant digits. So
 * "0.01073 [0, 0.03219]" reads "0.011 [0.000, 0.032]" and "113.3 [98.1, 130]" reads
 * "113 [98, 130]". */
#include "prism/report.h"

#include <math.h>
#include <stdio.h>

enum { MAX_DECIMALS = 6 };

/* Decimals that show `sig` significant digits of a magnitude m > 0, within [0, MAX_DECIMALS]. */
static int decimals_for(double m, int sig) {
    int d = sig - 1 - (int)floor(log10(m));
    return d < 0 ? 0 : d > MAX_DECIMALS ? MAX_DECIMALS : d;
}

void prism_report_format_number(char *buf, size_t cap, double v) {
    if (!isfinite(v)) {
        snprintf(buf, cap, "%s", isnan(v) ? "-" : v > 0 ? "inf" : "-inf");
        return;
    }
    double m = fabs(v);
    if (m == 0) {
        snprintf(buf, cap, "0");
        return;
    }
    if (m >= 1e6 || m < 1e-4)
        snprintf(buf, cap, "%.3g", v);
    else
        snprintf(buf, cap, "%.*f", decimals_for(m, 3), v);
}

void prism_report_format_estimate(char *buf, size_t cap, double point, double lo, double hi) {
    double half = (hi - lo) / 2;
    if (!isfinite(point) || !isfinite(lo) || !isfinite(hi) || !(half > 0) ||
        fmax(fabs(lo), fabs(hi)) >= 1e6 || half < 1e-6) {
        char p[32], l[32], h[32];
        prism_report_format_number(p, sizeof p, point);
        if (!isfinite(lo) || !isfinite(hi)) {
            snprintf(buf, cap, "%s", p);
            return;
        }
        prism_report_format_number(l, sizeof l, lo);
        prism_report_format_number(h, sizeof h, hi);
        snprintf(buf, cap, "%s [%s, %s]", p, l, h);
        return;
    }
    /* two significant digits of the half-width fix the last decimal shown */
    int d = decimals_for(half, 2);
    snprintf(buf, cap, "%.*f [%.*f, %.*f]", d, point, d, lo, d, hi);
}
