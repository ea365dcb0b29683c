/* report/svg.c — SVG line panels, interval plots and axis ticks (see prism/svg.h). It draws
 * what it is given and computes no statistics; text is escaped, numbers are printed with
 * enough digits for the axis they sit on. Not a general plotting library: no log axes, no
 * markers, one legend per figure. */
#include "prism/svg.h"
#include "prism/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Layout of one panel in pixels: room for tick labels on the left, axis label below. */
enum { MARGIN_L = 62, MARGIN_R = 14, MARGIN_T = 26, MARGIN_B = 44 };

void prism_svg_init(prism_svg *s) {
    memset(s, 0, sizeof *s);
}

void prism_svg_free(prism_svg *s) {
    prism_free(s->buf);
    memset(s, 0, sizeof *s);
}

prism_status prism_svg_status(const prism_svg *s) {
    if (s->nomem) return prism_error(PRISM_ERR_NOMEM, "out of memory while drawing an SVG plot");
    return PRISM_OK;
}

static int reserve(prism_svg *s, size_t extra) {
    if (s->nomem) return 0;
    if (s->len + extra + 1 <= s->cap) return 1;
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->len + extra + 1) cap *= 2;
    char *nb = prism_alloc(cap);
    if (!nb) {
        s->nomem = 1;
        return 0;
    }
    if (s->buf) memcpy(nb, s->buf, s->len + 1);
    prism_free(s->buf);
    s->buf = nb, s->cap = cap;
    return 1;
}

void prism_svg_printf(prism_svg *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(s, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(s->buf + s->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

void prism_svg_escape(prism_svg *s, const char *text) {
    for (const char *p = text ? text : ""; *p; p++) {
        switch (*p) {
        case '&':
            prism_svg_printf(s, "&amp;");
            break;
        case '<':
            prism_svg_printf(s, "&lt;");
            break;
        case '>':
            prism_svg_printf(s, "&gt;");
            break;
        case '"':
            prism_svg_printf(s, "&quot;");
            break;
        default:
            prism_svg_printf(s, "%c", *p);
        }
    }
}

/* Okabe & Ito (2008) minus yellow #F0E442, which vanishes on white paper */
static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#E69F00", "#56B4E9", "#000000"};
enum { NCOLORS = sizeof palette / sizeof palette[0] };

const char *prism_svg_color(int style) {
    return palette[(style < 0 ? 0 : style) % NCOLORS];
}

const char *prism_svg_dash(int style) {
    static const char *const dashes[] = {"", "7 3", "2 2"};
    return dashes[((style < 0 ? 0 : style) / NCOLORS) % 3];
}

/* Heckbert's nice number: 1, 2, 5 or 10 times a power of ten near x (rounded or ceiling). */
static double nice_number(double x, int round) {
    double e = floor(log10(x)), f = x / pow(10, e), nf;
    if (round)
        nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else
        nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nf * pow(10, e);
}

int prism_svg_ticks(double lo, double hi, int target, double *ticks, int max, double *step) {
    PRISM_ASSERT(target >= 2 && max >= 1);
    if (!(hi > lo)) hi = lo + 1;
    double range = nice_number(hi - lo, 0);
    double d = nice_number(range / (target - 1), 1);
    double first = ceil(lo / d - 1e-9) * d;
    int n = 0;
    for (double v = first; v <= hi + 1e-9 * d && n < max; v = first + n * d) {
        ticks[n++] = fabs(v) < 1e-12 * d ? 0.0 : v; /* no "-0" labels */
    }
    *step = d;
    return n;
}

/* A tick label: thousands as "k" on big axes (env steps), else just enough decimals. */
static void format_tick(char *buf, size_t cap, double v, double step) {
    if (step >= 1000 && fmod(v, 1000) == 0)
        snprintf(buf, cap, "%.0fk", v / 1000);
    else {
        int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
        snprintf(buf, cap, "%.*f", dec, v);
    }
}

typedef struct frame {
    double x0, y0, w, h;           /* plot area in pixels */
    double xmin, xmax, ymin, ymax; /* data range */
} frame;

/* The fraction of an axis's range added beyond its end ticks, so a value at an end (a
 * probability of 1, a profile at 1) is drawn inside the frame, not on it. */
static const double AXIS_MARGIN = 0.04;

static double px(const frame *f, double x) {
    return f->x0 + (x - f->xmin) / (f->xmax - f->xmin) * f->w;
}
static double py(const frame *f, double y) {
    return f->y0 + f->h - (y - f->ymin) / (f->ymax - f->ymin) * f->h;
}

static void widen(double *lo, double *hi) {
    if (!(*lo <= *hi)) *lo = 0, *hi = 1; /* nothing finite to show */
    if (*hi == *lo) {
        double d = fabs(*lo) > 0 ? 0.1 * fabs(*lo) : 1;
        *lo -= d, *hi += d;
    }
}

/* Axes, grid and tick labels for frame f; x ticks along the bottom, y ticks on the left. */
static void draw_axes(prism_svg *s, frame *f, const char *title, const char *xlabel,
                      const char *ylabel, int draw_x_ticks) {
    double ticks[32], step;
    char label[32];
    /* snap the y range outward to whole ticks so the curves never touch the frame's edge */
    int ny = prism_svg_ticks(f->ymin, f->ymax, 5, ticks, 32, &step);
    f->ymin = floor(f->ymin / step + 1e-9) * step, f->ymax = ceil(f->ymax / step - 1e-9) * step;
    ny = prism_svg_ticks(f->ymin, f->ymax, 5, ticks, 32, &step);
    double pad = AXIS_MARGIN * (f->ymax - f->ymin);
    f->ymin -= pad, f->ymax += pad;
    prism_svg_printf(s,
                     "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                     "fill=\"#ffffff\" stroke=\"#444444\" stroke-width=\"1\"/>\n",
                     f->x0, f->y0, f->w, f->h);
    for (int i = 0; i < ny; i++) {
        double y = py(f, ticks[i]);
        format_tick(label, sizeof label, ticks[i], step);
        prism_svg_printf(
            s,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>\n",
            f->x0, y, f->x0 + f->w, y, f->x0 - 5, y + 4, label);
    }
    if (draw_x_ticks) {
        int nx = prism_svg_ticks(f->xmin, f->xmax, 5, ticks, 32, &step);
        for (int i = 0; i < nx; i++) {
            double x = px(f, ticks[i]);
            format_tick(label, sizeof label, ticks[i], step);
            prism_svg_printf(s,
                             "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                             "stroke=\"#444444\"/><text x=\"%.1f\" y=\"%.1f\" class=\"tick\" "
                             "text-anchor=\"middle\">%s</text>\n",
                             x, f->y0 + f->h, x, f->y0 + f->h + 4, x, f->y0 + f->h + 16, label);
        }
    }
    prism_svg_printf(s, "<text x=\"%.1f\" y=\"%.1f\" class=\"title\" text-anchor=\"middle\">",
                     f->x0 + f->w / 2, f->y0 - 9);
    prism_svg_escape(s, title);
    prism_svg_printf(s,
                     "</text>\n<text x=\"%.1f\" y=\"%.1f\" class=\"label\" "
                     "text-anchor=\"middle\">",
                     f->x0 + f->w / 2, f->y0 + f->h + 34);
    prism_svg_escape(s, xlabel);
    prism_svg_printf(s, "</text>\n");
    if (ylabel && ylabel[0]) {
        double cx = f->x0 - 48, cy = f->y0 + f->h / 2;
        prism_svg_printf(s,
                         "<text x=\"%.1f\" y=\"%.1f\" class=\"label\" text-anchor=\"middle\" "
                         "transform=\"rotate(-90 %.1f %.1f)\">",
                         cx, cy, cx, cy);
        prism_svg_escape(s, ylabel);
        prism_svg_printf(s, "</text>\n");
    }
}

static int finite_at(const prism_svg_series *r, int i) {
    return isfinite(r->x[i]) && isfinite(r->y[i]);
}
static int band_at(const prism_svg_series *r, int i) {
    return r->lo && r->hi && isfinite(r->x[i]) && isfinite(r->lo[i]) && isfinite(r->hi[i]);
}

static void draw_series(prism_svg *s, const frame *f, const prism_svg_series *r) {
    const char *color = prism_svg_color(r->style);
    /* band first, so every line stays visible above every band; one polygon per finite run */
    for (int i = 0; i < r->n;) {
        if (!band_at(r, i)) {
            i++;
            continue;
        }
        int j = i;
        while (j < r->n && band_at(r, j)) j++;
        prism_svg_printf(s, "<path fill=\"%s\" fill-opacity=\"0.18\" stroke=\"none\" d=\"", color);
        for (int k = i; k < j; k++)
            prism_svg_printf(s, "%s%.1f %.1f", k == i ? "M" : " L", px(f, r->x[k]),
                             py(f, r->hi[k]));
        for (int k = j - 1; k >= i; k--)
            prism_svg_printf(s, " L%.1f %.1f", px(f, r->x[k]), py(f, r->lo[k]));
        prism_svg_printf(s, " Z\"/>\n");
        i = j;
    }
}

static void draw_line(prism_svg *s, const frame *f, const prism_svg_series *r) {
    const char *dash = prism_svg_dash(r->style);
    prism_svg_printf(s, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\"%s%s%s d=\"",
                     prism_svg_color(r->style), dash[0] ? " stroke-dasharray=\"" : "", dash,
                     dash[0] ? "\"" : "");
    int pen = 0, points = 0;
    for (int i = 0; i < r->n; i++) {
        if (!finite_at(r, i)) {
            pen = 0;
            continue;
        }
        prism_svg_printf(s, "%s%.1f %.1f", pen ? " L" : (points ? " M" : "M"), px(f, r->x[i]),
                         py(f, r->y[i]));
        pen = 1, points++;
    }
    prism_svg_printf(s, "\"><title>");
    prism_svg_escape(s, r->label);
    prism_svg_printf(s, "</title></path>\n");
    /* a lone point between gaps would be invisible as a path: mark it with a dot */
    for (int i = 0; i < r->n; i++)
        if (finite_at(r, i) && (i == 0 || !finite_at(r, i - 1)) &&
            (i == r->n - 1 || !finite_at(r, i + 1)))
            prism_svg_printf(s, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n",
                             px(f, r->x[i]), py(f, r->y[i]), prism_svg_color(r->style));
}

static const char *style_css =
    "<style>text{font-family:Helvetica,Arial,sans-serif;fill:#222222}"
    ".tick{font-size:11px}.label{font-size:12px}.title{font-size:13px;font-weight:bold}"
    ".legend{font-size:12px}</style>\n";

/* The legend: distinct (label, style) pairs in order of first appearance, in rows; series
 * that merely repeat their panel's title are left out. */
static int legend_entries(const prism_svg_panel *panels, int npanels,
                          const prism_svg_series **entries, int max) {
    int n = 0;
    for (int p = 0; p < npanels; p++)
        for (int k = 0; k < panels[p].nseries; k++) {
            const prism_svg_series *r = &panels[p].series[k];
            /* a series named like its panel (one diagnostic per panel) needs no legend */
            if (panels[p].title && !strcmp(r->label, panels[p].title)) continue;
            int seen = 0;
            for (int e = 0; e < n && !seen; e++)
                seen = entries[e]->style == r->style && !strcmp(entries[e]->label, r->label);
            if (!seen && n < max) entries[n++] = r;
        }
    return n;
}

enum { LEGEND_COL_W = 150, LEGEND_ROW_H = 18, MAX_LEGEND = 64 };

void prism_svg_panels(prism_svg *out, const prism_svg_panel *panels, int npanels, int cols,
                      double w, double h) {
    PRISM_ASSERT(npanels >= 1 && cols >= 1);
    if (cols > npanels) cols = npanels;
    int rows = (npanels + cols - 1) / cols;
    const prism_svg_series *entries[MAX_LEGEND];
    int nleg = legend_entries(panels, npanels, entries, MAX_LEGEND);
    double total_w = cols * w;
    int per_row = (int)(total_w / LEGEND_COL_W);
    if (per_row < 1) per_row = 1;
    int leg_rows = (nleg + per_row - 1) / per_row;
    double total_h = rows * h + leg_rows * LEGEND_ROW_H + 8;
    prism_svg_printf(out,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                     "viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n",
                     total_w, total_h, total_w, total_h);
    prism_svg_printf(out, "%s", style_css);
    for (int p = 0; p < npanels; p++) {
        const prism_svg_panel *pn = &panels[p];
        frame f = {(p % cols) * w + MARGIN_L,
                   (p / cols) * h + MARGIN_T,
                   w - MARGIN_L - MARGIN_R,
                   h - MARGIN_T - MARGIN_B,
                   INFINITY,
                   -INFINITY,
                   INFINITY,
                   -INFINITY};
        for (int k = 0; k < pn->nseries; k++) {
            const prism_svg_series *r = &pn->series[k];
            for (int i = 0; i < r->n; i++) {
                if (!isfinite(r->x[i])) continue;
                f.xmin = fmin(f.xmin, r->x[i]), f.xmax = fmax(f.xmax, r->x[i]);
                double vals[3] = {r->y[i], r->lo ? r->lo[i] : (double)NAN,
                                  r->hi ? r->hi[i] : (double)NAN};
                for (int v = 0; v < 3; v++)
                    if (isfinite(vals[v]))
                        f.ymin = fmin(f.ymin, vals[v]), f.ymax = fmax(f.ymax, vals[v]);
            }
        }
        if (pn->fixed_y && isfinite(pn->ymin) && isfinite(pn->ymax))
            f.ymin = fmin(f.ymin, pn->ymin), f.ymax = fmax(f.ymax, pn->ymax);
        widen(&f.xmin, &f.xmax);
        widen(&f.ymin, &f.ymax);
        prism_svg_printf(out, "<g class=\"panel\">\n");
        draw_axes(out, &f, pn->title, pn->xlabel, pn->ylabel, 1);
        for (int k = 0; k < pn->nseries; k++) draw_series(out, &f, &pn->series[k]);
        for (int k = 0; k < pn->nseries; k++) draw_line(out, &f, &pn->series[k]);
        if (pn->nseries == 0)
            prism_svg_printf(out,
                             "<text x=\"%.1f\" y=\"%.1f\" class=\"label\" "
                             "text-anchor=\"middle\">no data</text>\n",
                             f.x0 + f.w / 2, f.y0 + f.h / 2);
        prism_svg_printf(out, "</g>\n");
    }
    prism_svg_printf(out, "<g class=\"legend\">\n");
    for (int e = 0; e < nleg; e++) {
        double x = (e % per_row) * LEGEND_COL_W + 12,
               y = rows * h + 4 + (e / per_row) * LEGEND_ROW_H;
        const char *dash = prism_svg_dash(entries[e]->style);
        prism_svg_printf(out,
                         "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                         "stroke-width=\"2.5\"%s%s%s/><text x=\"%.1f\" y=\"%.1f\" "
                         "class=\"legend\">",
                         x, y + 9, x + 26, y + 9, prism_svg_color(entries[e]->style),
                         dash[0] ? " stroke-dasharray=\"" : "", dash, dash[0] ? "\"" : "", x + 32,
                         y + 13);
        prism_svg_escape(out, entries[e]->label);
        prism_svg_printf(out, "</text>\n");
    }
    prism_svg_printf(out, "</g>\n</svg>\n");
}

void prism_svg_intervals(prism_svg *out, const char *const *titles, int nmetrics,
                         const char *const *labels, const int *styles, int nagents,
                         const prism_ci *values, double panel_w, double xmin, double xmax) {
    PRISM_ASSERT(nmetrics >= 1 && nagents >= 1);
    /* room for the longest label: about 7 px per character at 12 px Helvetica, plus the swatch */
    size_t longest = 0;
    for (int a = 0; a < nagents; a++) {
        size_t len = strlen(labels[a]);
        longest = len > longest ? len : longest;
    }
    const double label_w = fmax(80, 7.0 * (double)longest + 30), row_h = 22;
    double plot_h = nagents * row_h, h = MARGIN_T + plot_h + MARGIN_B;
    double total_w = label_w + nmetrics * panel_w;
    prism_svg_printf(out,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                     "viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n%s",
                     total_w, h, total_w, h, style_css);
    for (int a = 0; a < nagents; a++) {
        /* dark text for legibility in print, and a swatch of the agent's colour beside it */
        double y = MARGIN_T + (a + 0.5) * row_h;
        prism_svg_printf(out,
                         "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" "
                         "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\" class=\"legend\" "
                         "text-anchor=\"end\">",
                         label_w - 14, y - 5, prism_svg_color(styles ? styles[a] : a), label_w - 18,
                         y + 4);
        prism_svg_escape(out, labels[a]);
        prism_svg_printf(out, "</text>\n");
    }
    for (int m = 0; m < nmetrics; m++) {
        const prism_ci *v = values + (size_t)m * nagents;
        frame f = {
            label_w + m * panel_w + 10, MARGIN_T, panel_w - 24, plot_h, INFINITY, -INFINITY, 0, 1};
        for (int a = 0; a < nagents; a++) {
            double vals[3] = {v[a].point, v[a].lo, v[a].hi};
            for (int k = 0; k < 3; k++)
                if (isfinite(vals[k]))
                    f.xmin = fmin(f.xmin, vals[k]), f.xmax = fmax(f.xmax, vals[k]);
        }
        if (isfinite(xmin) && isfinite(xmax) && xmax > xmin) f.xmin = xmin, f.xmax = xmax;
        widen(&f.xmin, &f.xmax);
        double ticks[32], step;
        prism_svg_ticks(f.xmin, f.xmax, 4, ticks, 32, &step);
        f.xmin = floor(f.xmin / step + 1e-9) * step, f.xmax = ceil(f.xmax / step - 1e-9) * step;
        const double tick_lo = f.xmin, tick_hi = f.xmax, pad = AXIS_MARGIN * (f.xmax - f.xmin);
        f.xmin -= pad, f.xmax += pad;
        prism_svg_printf(out, "<g class=\"panel\">\n");
        /* y is the agent row, drawn without y ticks: the labels on the left name the rows */
        prism_svg_printf(out,
                         "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                         "fill=\"#ffffff\" stroke=\"#444444\"/>\n",
                         f.x0, f.y0, f.w, f.h);
        int nx = prism_svg_ticks(tick_lo, tick_hi, 4, ticks, 32, &step);
        char label[32];
        for (int i = 0; i < nx; i++) {
            double x = px(&f, ticks[i]);
            format_tick(label, sizeof label, ticks[i], step);
            prism_svg_printf(out,
                             "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                             "stroke=\"#dddddd\"/><text x=\"%.1f\" y=\"%.1f\" class=\"tick\" "
                             "text-anchor=\"middle\">%s</text>\n",
                             x, f.y0, x, f.y0 + f.h, x, f.y0 + f.h + 16, label);
        }
        prism_svg_printf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"title\" text-anchor=\"middle\">",
                         f.x0 + f.w / 2, f.y0 - 9);
        prism_svg_escape(out, titles[m]);
        prism_svg_printf(out, "</text>\n");
        for (int a = 0; a < nagents; a++) {
            if (!isfinite(v[a].point)) continue;
            double y = f.y0 + (a + 0.5) * row_h;
            const char *c = prism_svg_color(styles ? styles[a] : a);
            if (isfinite(v[a].lo) && isfinite(v[a].hi)) {
                /* at least 3 px wide, so an interval of no width (every resample agrees) is
                 * still seen */
                double x0 = px(&f, v[a].lo), x1 = px(&f, v[a].hi), mid = (x0 + x1) / 2;
                if (x1 - x0 < 3) x0 = mid - 1.5, x1 = mid + 1.5;
                prism_svg_printf(out,
                                 "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                                 "fill=\"%s\" fill-opacity=\"0.45\"/>\n",
                                 x0, y - 6, x1 - x0, 12.0, c);
            }
            char estimate[96];
            prism_report_format_estimate(estimate, sizeof estimate, v[a].point, v[a].lo, v[a].hi);
            prism_svg_printf(out,
                             "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                             "stroke-width=\"2.5\"><title>%s</title></line>\n",
                             px(&f, v[a].point), y - 8, px(&f, v[a].point), y + 8, c, estimate);
        }
        prism_svg_printf(out, "</g>\n");
    }
    prism_svg_printf(out, "</svg>\n");
}
