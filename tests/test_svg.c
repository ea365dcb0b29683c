/* Tests of report/svg.c: well-formed output, the expected elements, ticks and numbers. */
#include "harness.h"
#include "prism/svg.h"
#include "xml_check.h"

#include <stdlib.h>
#include <string.h>

TEST(svg_ticks_are_nice) {
    double t[32], step;
    int n = prism_svg_ticks(0, 30000, 5, t, 32, &step);
    CHECK_NEAR(step, 10000, 0); /* 30000 / 4 = 7500 rounds to the nice 10000 */
    CHECK_EQ_INT(n, 4);
    CHECK_NEAR(t[0], 0, 0);
    CHECK_NEAR(t[3], 30000, 0);
    /* Heckbert: range 1.05 -> nice 2 (ceiling), 2 / (5 - 1) = 0.5 -> 0.5 (rounded): ticks at
     * the multiples of 0.5 inside [-0.13, 0.92] */
    n = prism_svg_ticks(-0.13, 0.92, 5, t, 32, &step);
    CHECK_NEAR(step, 0.5, 0);
    CHECK_EQ_INT(n, 2);
    CHECK_NEAR(t[0], 0, 0);
    CHECK_NEAR(t[1], 0.5, 0);
    n = prism_svg_ticks(0, 1, 5, t, 32, &step); /* 0.25 rounds to 0.2: 0, 0.2, ..., 1 */
    CHECK_NEAR(step, 0.2, 1e-15);
    CHECK_EQ_INT(n, 6);
    CHECK(t[5] == 1.0 || fabs(t[5] - 1.0) < 1e-12);
    n = prism_svg_ticks(5, 5, 5, t, 32, &step); /* empty range: still ticks, no crash */
    CHECK(n >= 2);
}

TEST(svg_line_panels_are_well_formed) {
    double x[] = {0, 1000, 2000, 3000}, y[] = {10, 20, NAN, 40}, lo[] = {5, 15, NAN, 35},
           hi[] = {15, 25, NAN, 45}, y2[] = {1, 2, 3, 4};
    prism_svg_series a[] = {{"dqn", 0, 4, x, y, lo, hi},
                            {"rainbow & <co>", 1, 4, x, y2, NULL, NULL}};
    prism_svg_series b[] = {{"dqn", 0, 4, x, y2, NULL, NULL}};
    prism_svg_panel p[] = {{"CartPole-v0", "environment steps", "return (points)", 2, a, 0, 0, 0},
                           {"Acrobot-v1", "environment steps", "return (points)", 1, b, 0, 0, 0},
                           {"empty", "x", "y", 0, NULL, 0, 0, 0}};
    prism_svg s;
    prism_svg_init(&s);
    prism_svg_panels(&s, p, 3, 2, 360, 260);
    REQUIRE(prism_svg_status(&s) == PRISM_OK);
    char err[200];
    int paths = 0, svgs = 0, texts = 0;
    CHECK(xml_check(s.buf, NULL, err, sizeof err, "path", &paths) == 0);
    CHECK(xml_check(s.buf, NULL, err, sizeof err, "svg", &svgs) == 0);
    CHECK_EQ_INT(svgs, 1);
    /* bands: dqn in panel 1 has two finite runs (points 0-1 and 3) -> 2 band paths; lines: 3 */
    CHECK_EQ_INT(paths, 5);
    CHECK(strstr(s.buf, "width=\"720\"") != NULL); /* 2 columns of 360 */
    CHECK(strstr(s.buf, "rainbow &amp; &lt;co&gt;") != NULL);
    CHECK(strstr(s.buf, ">3k</text>") != NULL); /* x ticks in thousands */
    CHECK(strstr(s.buf, ">return (points)</text>") != NULL);
    CHECK(strstr(s.buf, "#0072B2") && strstr(s.buf, "#D55E00"));
    CHECK(strstr(s.buf, ">no data</text>") != NULL);
    /* the lone point after the NaN gap gets a dot */
    CHECK(xml_check(s.buf, NULL, err, sizeof err, "circle", &texts) == 0);
    CHECK_EQ_INT(texts, 1);
    /* the legend names each distinct series once: "dqn" appears in 2 panels */
    int legend_dqn = 0;
    for (const char *q = s.buf; (q = strstr(q, "class=\"legend\">dqn<")) != NULL; q++) legend_dqn++;
    CHECK_EQ_INT(legend_dqn, 1);
    prism_svg_free(&s);
}

TEST(svg_intervals_are_well_formed) {
    const char *titles[] = {"Median", "IQM"}, *labels[] = {"dqn", "rainbow"};
    prism_ci v[] = {{0.5, 0.4, 0.6}, {0.8, 0.7, 0.9}, {0.45, 0.3, 0.55}, {0.75, 0.6, 0.95}};
    prism_svg s;
    prism_svg_init(&s);
    prism_svg_intervals(&s, titles, 2, labels, NULL, 2, v, 200, NAN, NAN);
    REQUIRE(prism_svg_status(&s) == PRISM_OK);
    char err[200];
    int rects = 0;
    CHECK(xml_check(s.buf, NULL, err, sizeof err, "rect", &rects) == 0);
    CHECK_EQ_INT(rects,
                 2 + 2 + 4); /* a swatch per agent, a frame per panel, a bar per (metric, agent) */
    /* the tooltip as the page writes numbers: the interval's precision for all three */
    CHECK(strstr(s.buf, "<title>0.80 [0.70, 0.90]</title>") != NULL);
    CHECK(strstr(s.buf, ">IQM</text>") != NULL);
    prism_svg_free(&s);
    /* a fixed [0, 1] axis (probabilities) even when every value is 1: ticks 0, 0.5, 1 */
    prism_ci one = {1, 1, 1};
    prism_svg_init(&s);
    int style7 = 7; /* colour index 0 again: blue */
    prism_svg_intervals(&s, titles, 1, labels, &style7, 1, &one, 200, 0, 1);
    CHECK(strstr(s.buf, "#0072B2") != NULL && strstr(s.buf, "#D55E00") == NULL);
    CHECK(strstr(s.buf, ">0.0</text>") && strstr(s.buf, ">0.5</text>") &&
          strstr(s.buf, ">1.0</text>"));
    CHECK(strstr(s.buf, ">1.2</text>") == NULL);
    prism_svg_free(&s);
}

TEST(svg_checker_rejects_malformed_text) {
    char err[200];
    CHECK(xml_check("<svg><g></svg>", NULL, err, sizeof err, NULL, NULL) != 0);
    CHECK(xml_check("<svg><text>a & b</text></svg>", NULL, err, sizeof err, NULL, NULL) != 0);
    CHECK(xml_check("<svg><g>", NULL, err, sizeof err, NULL, NULL) != 0);
    CHECK(xml_check("<p a=\"x>y\"/>", NULL, err, sizeof err, NULL, NULL) == 0);
    CHECK(xml_check("<html><meta charset=\"utf-8\"><p>x</p></html>", "meta", err, sizeof err, NULL,
                    NULL) == 0);
}

TEST(svg_out_of_memory_is_reported) {
    double x[] = {0, 1}, y[] = {0, 1};
    prism_svg_series a = {"dqn", 0, 2, x, y, NULL, NULL};
    prism_svg_panel p = {"t", "x", "y", 1, &a, 0, 0, 0};
    prism_svg s;
    prism_svg_init(&s);
    prism_alloc_fail_after(0);
    prism_svg_panels(&s, &p, 1, 1, 300, 200);
    prism_alloc_fail_after(-1);
    CHECK(prism_svg_status(&s) == PRISM_ERR_NOMEM);
    prism_svg_free(&s);
}

/* The number after `attr="` at or after p (NAN when absent). */
static double attr_after(const char *p, const char *attr) {
    char pat[32];
    snprintf(pat, sizeof pat, "%s=\"", attr);
    const char *at = p ? strstr(p, pat) : NULL;
    return at ? strtod(at + strlen(pat), NULL) : (double)NAN;
}

/* The attribute `attr` of the last <line> before the tick label `label` (">label</text>"). */
static double tick_line(const char *svg, const char *label, const char *attr) {
    char pat[40];
    snprintf(pat, sizeof pat, ">%s</text>", label);
    const char *t = strstr(svg, pat), *line = NULL;
    for (const char *p = svg; t && (p = strstr(p, "<line ")) && p < t; p++) line = p;
    return attr_after(line, attr);
}

TEST(svg_extremes_sit_inside_the_frame_and_panels_can_share_a_scale) {
    /* a probability of 1 with no width: its tick is inside the frame and its bar visible */
    const char *titles[] = {"P"}, *labels[] = {"dqn"};
    prism_ci one = {1, 1, 1};
    prism_svg s;
    prism_svg_init(&s);
    prism_svg_intervals(&s, titles, 1, labels, NULL, 1, &one, 300, 0, 1);
    const char *frame = strstr(s.buf, "<g class=\"panel\">");
    double fx = attr_after(frame, "x"), fw = attr_after(frame, "width");
    double x1 = tick_line(s.buf, "1.0", "x1");
    CHECK(x1 < fx + fw - 5);
    const char *bar = strstr(frame + 1, "fill-opacity=\"0.45\"");
    REQUIRE(bar != NULL);
    const char *rect = bar;
    while (rect > frame && strncmp(rect, "<rect ", 6)) rect--;
    CHECK(attr_after(rect, "width") >= 3);
    prism_svg_free(&s);
    /* a profile reaching 1 stays below the top of its frame */
    double x[] = {0, 1}, y[] = {1, 0.5};
    prism_svg_series a = {"dqn", 0, 2, x, y, NULL, NULL};
    prism_svg_panel p = {"profile", "tau", "fraction", 1, &a, 1, 0, 1};
    prism_svg_init(&s);
    prism_svg_panels(&s, &p, 1, 1, 400, 300);
    frame = strstr(s.buf, "<g class=\"panel\">");
    CHECK(tick_line(s.buf, "1.0", "y1") > attr_after(frame, "y") + 5);
    prism_svg_free(&s);
    /* two panels of one scale: data 9..13 and 0..200 get the same ticks */
    double small[] = {9, 13}, big[] = {0, 200};
    prism_svg_series sa = {"a", 0, 2, x, small, NULL, NULL}, sb = {"b", 1, 2, x, big, NULL, NULL};
    prism_svg_panel two[] = {{"add", "x", "y", 1, &sa, 1, 0, 200},
                             {"remove", "x", "y", 1, &sb, 1, 0, 200}};
    prism_svg_init(&s);
    prism_svg_panels(&s, two, 2, 2, 400, 300);
    const char *second = strstr(strstr(s.buf, "<g class=\"panel\">") + 1, "<g class=\"panel\">");
    REQUIRE(second != NULL);
    CHECK(strstr(s.buf, ">200</text>") < second && strstr(second, ">200</text>") != NULL);
    prism_svg_free(&s);
    /* without a shared scale the small panel zooms in */
    two[0].fixed_y = 0;
    prism_svg_init(&s);
    prism_svg_panels(&s, two, 2, 2, 400, 300);
    second = strstr(strstr(s.buf, "<g class=\"panel\">") + 1, "<g class=\"panel\">");
    CHECK(strstr(s.buf, ">200</text>") > second);
    prism_svg_free(&s);
}
