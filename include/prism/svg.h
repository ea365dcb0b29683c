/* prism/svg.h — small self-contained SVG plots for reports: panels of line plots with shaded
 * confidence bands in a grid with one shared legend, interval plots (a point and its interval
 * per agent, one panel per metric), "nice" axis ticks. Output is text appended to a growing
 * buffer; no fonts, scripts or external resources, so an HTML page can inline it.
 *
 *     prism_svg svg;
 *     prism_svg_init(&svg);
 *     double x[] = {1, 2, 3}, y[] = {10, 20, 15};
 *     prism_svg_series s = {"dqn", 0, 3, x, y, NULL, NULL};
 *     prism_svg_panel p = {"CartPole-v0", "environment steps", "return", 1, &s};
 *     prism_svg_panels(&svg, &p, 1, 1, 360, 260);
 *     if (prism_svg_status(&svg) == PRISM_OK) fputs(svg.buf, f);
 *     prism_svg_free(&svg);
 *
 * Colours are the Okabe-Ito palette without its yellow (too faint on white paper); styles past
 * the seventh repeat the colours with dashed lines, so 21 series stay distinguishable in grey
 * print too.
 */
#ifndef PRISM_SVG_H
#define PRISM_SVG_H

#include "prism/core.h"
#include "prism/stats.h"

#include <stddef.h>

/* A text buffer; a failed allocation sets `nomem` and later appends are ignored. */
typedef struct prism_svg {
    char *buf; /* NUL-terminated, owned */
    size_t len, cap;
    int nomem;
} prism_svg;

void prism_svg_init(prism_svg *s);
void prism_svg_free(prism_svg *s);
/* PRISM_ERR_NOMEM (with a message) if any append failed, else PRISM_OK. */
prism_status prism_svg_status(const prism_svg *s);
void prism_svg_printf(prism_svg *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append text with &, <, >, " escaped for XML. */
void prism_svg_escape(prism_svg *s, const char *text);

/* Stroke colour and dash pattern ("" for solid) of a style index >= 0. */
const char *prism_svg_color(int style);
const char *prism_svg_dash(int style);

/* One line: y (and the band lo..hi when both are non-NULL) at x, n points. Non-finite values
 * break the line and the band. */
typedef struct prism_svg_series {
    const char *label;
    int style;
    int n;
    const double *x, *y;   /* (n) */
    const double *lo, *hi; /* (n) or NULL */
} prism_svg_series;

typedef struct prism_svg_panel {
    const char *title, *xlabel, *ylabel; /* labels should carry units, e.g. "return (points)" */
    int nseries;
    const prism_svg_series *series;
    /* fixed_y: the vertical axis spans at least [ymin, ymax] (panels that must be compared
     * share one scale); otherwise it spans the data. Either way the axis ends on whole ticks
     * with a margin, so no value sits on the frame. */
    int fixed_y;
    double ymin, ymax;
} prism_svg_panel;

/* One <svg> element: the panels in a grid of `cols` columns of w x h pixels each, and below
 * them one legend of every distinct (label, style) in the panels. */
void prism_svg_panels(prism_svg *out, const prism_svg_panel *panels, int npanels, int cols,
                      double w, double h);

/* One <svg> element: a panel per metric (titles[m]), a row per agent (labels[a], style
 * styles[a], or style a when styles is NULL, so an agent keeps its colour across figures),
 * each row a tick at ci.point and a bar from ci.lo to ci.hi; values (M, A) row-major by
 * metric. The horizontal axis spans the values, or [xmin, xmax] when both are finite (e.g.
 * [0, 1] for a probability). */
void prism_svg_intervals(prism_svg *out, const char *const *titles, int nmetrics,
                         const char *const *labels, const int *styles, int nagents,
                         const prism_ci *values, double panel_w, double xmin, double xmax);

/* Tick positions for [lo, hi]: a "nice" step (1, 2 or 5 times a power of ten, Heckbert 1990)
 * giving about `target` ticks; writes at most max ticks into ticks and returns how many, and
 * the step in *step. */
int prism_svg_ticks(double lo, double hi, int target, double *ticks, int max, double *step);

#endif
