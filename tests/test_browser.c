/* The report in a real browser: headless Chromium (Debian's `chromium` package) loads the HTML
 * that `prism report` wrote, must log no console message (errors, failed loads), must have
 * parsed every inline SVG, and must paint a screenshot that is far from blank. Without
 * Chromium the test says SKIPPED and does not count as passed.
 *
 * Why file sizes for "not blank": decoding the PNG would need zlib, which is not a project
 * dependency. A blank white page of the same window size compresses to a few kB, while a page
 * of plots and tables is hundreds of kB; we compare the report's screenshot with a blank page's
 * taken the same way, and check the PNG signature and size header directly. */
#include "harness.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* $PRISM_CHROMIUM (a path; one that does not exist forces the skip), else Debian's paths. */
static const char *find_chromium(void) {
    const char *env = getenv("PRISM_CHROMIUM");
    if (env) return access(env, X_OK) == 0 ? env : NULL;
    static const char *const names[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser"};
    for (int i = 0; i < 2; i++)
        if (access(names[i], X_OK) == 0) return names[i];
    return NULL;
}

/* Run chromium on url with extra flags; stdout to out_path, stderr to err_path. */
static int chromium(const char *bin, const char *flags, const char *url, const char *out_path,
                    const char *err_path) {
    char cmd[8192];
    /* a private profile directory, so parallel runs by other users cannot collide */
    snprintf(cmd, sizeof cmd,
             "timeout 90 %s --headless --disable-gpu --no-sandbox --no-first-run "
             "--user-data-dir=%s/chrome-profile --enable-logging=stderr --v=0 %s '%s' > %s 2> %s",
             bin, test_tmpdir(), flags, url, out_path, err_path);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int count(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++) n++;
    return n;
}

/* Width and height from a PNG's IHDR (big-endian at bytes 16..23); 0 if not a PNG. */
static int png_size(const char *buf, size_t n, uint32_t *w, uint32_t *h) {
    const unsigned char *b = (const unsigned char *)buf;
    if (n < 24 || memcmp(b, "\x89PNG\r\n\x1a\n", 8) || memcmp(b + 12, "IHDR", 4)) return 0;
    *w = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
    *h = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
    return 1;
}

static void write_text_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) fputs(text, f), fclose(f);
}

TEST(browser_report_renders_without_errors) {
    const char *bin = find_chromium();
    if (!bin) {
        test_skip("chromium is not installed: apt-get install -y chromium");
        return;
    }
    const char *tmp = test_tmpdir();
    char path[1024], url[1100], out[4096], dom[1100], err[1100];
    /* a small study: 2 envs x dqn, rainbow x 2 seeds, written like the trainer would */
    const char *envs[] = {"CartPole-v0", "Acrobot-v1"}, *agents[] = {"dqn", "rainbow"};
    for (int e = 0; e < 2; e++)
        for (int a = 0; a < 2; a++)
            for (int s = 0; s < 2; s++) {
                snprintf(path, sizeof path, "%s/runs/%s-%s-%d", tmp, envs[e], agents[a], s);
                char cmd[1200];
                snprintf(cmd, sizeof cmd, "mkdir -p %s", path);
                REQUIRE(system(cmd) == 0);
                char file[1100], text[4096];
                snprintf(file, sizeof file, "%s/run.json", path);
                snprintf(text, sizeof text,
                         "{\"env\": \"%s\", \"agent\": \"%s\", \"seed\": %d, \"status\": "
                         "\"completed\"}\n",
                         envs[e], agents[a], s);
                write_text_file(file, text);
                snprintf(file, sizeof file, "%s/metrics.csv", path);
                int len = snprintf(text, sizeof text, "iteration,env_steps,return_mean,loss\n");
                for (int i = 0; i < 15; i++)
                    len += snprintf(text + len, sizeof text - (size_t)len, "%d,%d,%g,%g\n", i,
                                    1000 * (i + 1), (e ? -500 : 10) + (10.0 + a + s) * i,
                                    1.0 / (i + 1));
                write_text_file(file, text);
            }
    CHECK_EQ_INT(
        test_prism(out, sizeof out, "report %s/runs -o %s/r.html --resamples 200", tmp, tmp), 0);
    snprintf(url, sizeof url, "file://%s/r.html", tmp);
    snprintf(dom, sizeof dom, "%s/dom.html", tmp);
    snprintf(err, sizeof err, "%s/chrome.err", tmp);
    CHECK_EQ_INT(chromium(bin, "--dump-dom", url, dom, err), 0);
    char *d = test_read_file(dom, NULL), *e = test_read_file(err, NULL);
    REQUIRE(d && e);
    /* console messages (script errors, failed resource loads) appear as ":CONSOLE" lines */
    CHECK(strstr(e, ":CONSOLE") == NULL);
    if (strstr(e, ":CONSOLE")) fprintf(stderr, "\n%s\n", strstr(e, ":CONSOLE"));
    /* the browser built the page: every section and every inline SVG parsed as SVG */
    /* curves, aggregates, improvement, profile, and the loss among the logged metrics */
    CHECK_EQ_INT(count(d, "<svg "), 5);
    CHECK(strstr(d, "<h2>Aggregate metrics</h2>") != NULL);
    free(d), free(e);

    /* the check catches errors: a page with a script error must be reported */
    snprintf(path, sizeof path, "%s/bad.html", tmp);
    write_text_file(path, "<!DOCTYPE html><html><body><script>no_such_fn();</script></body>"
                          "</html>");
    snprintf(url, sizeof url, "file://%s", path);
    CHECK_EQ_INT(chromium(bin, "--dump-dom", url, dom, err), 0);
    e = test_read_file(err, NULL);
    REQUIRE(e != NULL);
    CHECK(strstr(e, ":CONSOLE") != NULL && strstr(e, "no_such_fn") != NULL);
    free(e);

    /* screenshots of the report and of a blank page, same window */
    char shot[1100], blank[1100];
    const char *win = "--hide-scrollbars --window-size=1200,1800";
    char flags[1300];
    snprintf(shot, sizeof shot, "%s/report.png", tmp);
    snprintf(flags, sizeof flags, "%s --screenshot=%s", win, shot);
    snprintf(url, sizeof url, "file://%s/r.html", tmp);
    CHECK_EQ_INT(chromium(bin, flags, url, dom, err), 0);
    snprintf(path, sizeof path, "%s/blank.html", tmp);
    write_text_file(path, "<!DOCTYPE html><html><body></body></html>");
    snprintf(blank, sizeof blank, "%s/blank.png", tmp);
    snprintf(flags, sizeof flags, "%s --screenshot=%s", win, blank);
    snprintf(url, sizeof url, "file://%s", path);
    CHECK_EQ_INT(chromium(bin, flags, url, dom, err), 0);
    size_t ns = 0, nb = 0;
    char *ps = test_read_file(shot, &ns), *pb = test_read_file(blank, &nb);
    REQUIRE(ps && pb);
    uint32_t w = 0, h = 0, bw = 0, bh = 0;
    CHECK(png_size(ps, ns, &w, &h) && png_size(pb, nb, &bw, &bh));
    CHECK(w == bw && h == bh && w >= 1000);
    /* measured: blank 10 kB, this report 190 kB; demand a factor 5 (a page with only a
     * heading would be about 1.5) */
    CHECK(ns > 5 * nb);
    if (!(ns > 5 * nb) || getenv("PRISM_TEST_VERBOSE"))
        fprintf(stderr, "(report %zu bytes, blank %zu bytes) ", ns, nb);
    free(ps), free(pb);
}
