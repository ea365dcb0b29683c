/* report/provenance.c — the page's record of where its numbers come from: this report's prism
 * (version, commit, dirty or not), when and where it was written, the builds the runs were
 * trained with, the seeds and step budgets of every cell, each environment's resolved
 * hyperparameters per agent with the settings that differ between agents first and marked,
 * and the runs left out with the reason. It reads each agent's config.ini (the INI reader of
 * core) and computes nothing. */
#include "prism/archive.h"
#include "prism/ini.h"
#include "study.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { MAX_KEYS = 256, KEY_LEN = 96 };

static void h(prism_svg *o, const char *text) {
    prism_svg_escape(o, text);
}

/* The run whose config.ini speaks for agent a on environment e: its first included run. */
static const study_run *first_run(const study *s, int e, int a) {
    for (int i = 0; i < s->nruns; i++) {
        const study_run *r = &s->runs[i];
        if (r->included && !strcmp(r->env, s->envs[e]) && !strcmp(r->agent, s->agents[a])) return r;
    }
    return NULL;
}

static void this_report(prism_svg *o, const study *s) {
    const prism_build_info *b = prism_build_info_get();
    char when[32], host[256], cpu[256];
    prism_time_iso8601(prism_unix_time(), when, sizeof when);
    prism_host_name(host, sizeof host);
    prism_cpu_model(cpu, sizeof cpu);
    prism_svg_printf(o, "<p>This report: prism %s, commit <code>", b->version);
    h(o, b->commit);
    prism_svg_printf(o, "</code>%s, written %s on ",
                     b->dirty ? " with uncommitted changes (dirty)" : " (clean)", when);
    h(o, host);
    prism_svg_printf(o, " (");
    h(o, cpu);
    prism_svg_printf(o, ").</p>\n<p>The runs were trained with:");
    /* each (commit, dirty) pair once, with how many included runs it built */
    for (int i = 0; i < s->nruns; i++) {
        const study_run *r = &s->runs[i];
        if (!r->included) continue;
        int seen = 0, n = 0;
        for (int j = 0; j < s->nruns; j++) {
            const study_run *q = &s->runs[j];
            if (!q->included || strcmp(q->commit, r->commit) || q->dirty != r->dirty) continue;
            seen |= j < i;
            n++;
        }
        if (seen) continue;
        prism_svg_printf(o, " commit <code>");
        h(o, r->commit[0] ? r->commit : "unknown");
        prism_svg_printf(o, "</code>%s (%d run%s);", r->dirty ? " dirty" : "", n,
                         n == 1 ? "" : "s");
    }
    prism_svg_printf(o, " a dirty build's diff is in each run's diff.patch.</p>\n");
}

/* Seeds and step budgets of every (environment, agent) cell. */
static void cells(prism_svg *o, const study *s) {
    prism_svg_printf(o, "<h3>Seeds and budgets per cell</h3>\n");
    report_agent_env_head(o, s);
    for (int a = 0; a < s->nagents; a++) {
        report_agent_row_head(o, s, a);
        for (int e = 0; e < s->nenvs; e++) {
            int n = 0;
            double lo = INFINITY, hi = -INFINITY;
            prism_svg_printf(o, "<td class=\"l\">");
            for (int i = 0; i < s->nruns; i++) {
                const study_run *r = &s->runs[i];
                if (!r->included || strcmp(r->env, s->envs[e]) || strcmp(r->agent, s->agents[a]))
                    continue;
                prism_svg_printf(o, "%s%llu", n++ ? "," : "seeds ", (unsigned long long)r->seed);
                double steps = r->nrows ? study_value(r, r->nrows - 1, r->c_steps) : (double)NAN;
                if (isfinite(steps)) lo = fmin(lo, steps), hi = fmax(hi, steps);
            }
            if (!n)
                prism_svg_printf(o, "&#8212;");
            else if (lo == hi)
                prism_svg_printf(o, " (n=%d); %.0f steps", n, lo);
            else if (lo < hi)
                prism_svg_printf(o, " (n=%d); %.0f to %.0f steps", n, lo, hi);
            prism_svg_printf(o, "</td>");
        }
        prism_svg_printf(o, "</tr>\n");
    }
    prism_svg_printf(o, "</table>\n");
}

/* "section.key" of an entry, as the --set option spells it. */
static void key_name(const prism_ini_entry *en, char *out, size_t cap) {
    snprintf(out, cap, "%.40s%s%.50s", en->section, en->section[0] ? "." : "", en->key);
}

/* A value as the table shows it: each comma-separated number with at most 10 significant digits
 * (config.ini keeps 17, so 0.99 is written 0.98999999999999999 there), other text as it is. */
static void show_value(prism_svg *o, const char *v) {
    for (const char *p = v; *p;) {
        size_t len = strcspn(p, ",");
        char item[128], *end;
        snprintf(item, sizeof item, "%.*s", (int)(len < 127 ? len : 127), p);
        double x = strtod(item, &end);
        if (item[0] && !*end && len < 127)
            prism_svg_printf(o, "%.10g", x);
        else
            h(o, item);
        p += len;
        if (*p == ',') {
            prism_svg_printf(o, ",");
            p++;
        }
    }
}

static const char *value_of(const prism_ini *ini, const char *name) {
    const char *dot = strchr(name, '.');
    char section[48] = "";
    if (dot) snprintf(section, sizeof section, "%.*s", (int)(dot - name), name);
    return prism_ini_get(ini, section, dot ? dot + 1 : name);
}

/* One environment's resolved hyperparameters: the keys whose values differ between agents
 * (marked), then, folded, those every agent shares. */
static prism_status hyperparameters(prism_svg *o, const study *s, int e) {
    prism_ini inis[STUDY_MAX_GROUP];
    int have[STUDY_MAX_GROUP];
    static char keys[MAX_KEYS][KEY_LEN];
    int nkeys = 0;
    memset(inis, 0, sizeof inis);
    for (int a = 0; a < s->nagents; a++) {
        const study_run *r = first_run(s, e, a);
        char path[PATH_MAX + 16];
        have[a] = 0;
        if (!r) continue;
        snprintf(path, sizeof path, "%s/config.ini", r->dir);
        prism_status st = prism_ini_read(path, &inis[a]);
        if (st == PRISM_ERR_NOMEM) {
            for (int b = 0; b < a; b++) prism_ini_free(&inis[b]);
            return st;
        }
        if (st) continue; /* no or unreadable config.ini: its column says so */
        have[a] = 1;
        for (int k = 0; k < inis[a].n; k++) {
            char name[KEY_LEN];
            key_name(&inis[a].entries[k], name, sizeof name);
            if (!strcmp(name, "seed")) continue; /* a run's, not the agent's */
            int known = 0;
            for (int j = 0; j < nkeys && !known; j++) known = !strcmp(keys[j], name);
            if (!known && nkeys < MAX_KEYS) snprintf(keys[nkeys++], KEY_LEN, "%s", name);
        }
    }
    prism_svg_printf(o, "<h3>");
    h(o, s->envs[e]);
    prism_svg_printf(o, "</h3>\n<table><tr><th class=\"l\">setting</th>");
    for (int a = 0; a < s->nagents; a++) {
        prism_svg_printf(o, "<th class=\"l\">");
        h(o, s->agents[a]);
        prism_svg_printf(o, "</th>");
    }
    prism_svg_printf(o, "</tr>\n");
    int shared = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && shared)
            prism_svg_printf(o,
                             "</table>\n<details><summary>%d setting%s every agent shares"
                             "</summary>\n<table>\n",
                             shared, shared == 1 ? "" : "s");
        for (int k = 0; k < nkeys; k++) {
            const char *first = NULL;
            int differ = 0;
            for (int a = 0; a < s->nagents; a++) {
                if (!have[a]) continue;
                const char *v = value_of(&inis[a], keys[k]);
                v = v ? v : "";
                if (!first) first = v;
                differ |= strcmp(first, v) != 0;
            }
            if (pass == 0 && !differ) shared++;
            if (differ != (pass == 0)) continue;
            prism_svg_printf(o, "<tr%s><td class=\"l\">%s", differ ? " class=\"differs\"" : "",
                             differ ? "&#9654; " : "");
            h(o, keys[k]);
            prism_svg_printf(o, "</td>");
            for (int a = 0; a < s->nagents; a++) {
                const char *v = have[a] ? value_of(&inis[a], keys[k]) : NULL;
                prism_svg_printf(o, "<td class=\"l\">");
                if (have[a] && v)
                    show_value(o, v);
                else
                    h(o, !first_run(s, e, a) ? "" : have[a] ? "(unset)" : "(no config.ini)");
                prism_svg_printf(o, "</td>");
            }
            prism_svg_printf(o, "</tr>\n");
        }
    }
    prism_svg_printf(o, shared ? "</table>\n</details>\n" : "</table>\n");
    for (int a = 0; a < s->nagents; a++) prism_ini_free(&inis[a]);
    return PRISM_OK;
}

prism_status report_provenance(prism_svg *o, const study *s) {
    prism_svg_printf(o, "<h2 id=\"provenance\">Provenance</h2>\n");
    this_report(o, s);
    cells(o, s);
    prism_svg_printf(o, "<h3>Runs left out</h3>\n");
    int left = 0;
    for (int i = 0; i < s->nruns; i++) {
        const study_run *r = &s->runs[i];
        if (r->included) continue;
        prism_svg_printf(o, "%s<li><code>", left++ ? "" : "<ul>\n");
        h(o, r->dir);
        prism_svg_printf(o, "</code>: ");
        h(o, r->note[0] ? r->note : r->status);
        prism_svg_printf(o, "</li>\n");
    }
    prism_svg_printf(o, left ? "</ul>\n" : "<p>None: every run found is in the statistics.</p>\n");
    prism_svg_printf(o, "<h3>Hyperparameters</h3>\n<p>Each agent's resolved configuration "
                        "(config.ini of its first run) per environment; rows marked "
                        "&#9654; differ between agents.</p>\n");
    for (int e = 0; e < s->nenvs; e++) {
        prism_status st = hyperparameters(o, s, e);
        if (st) return st;
    }
    return prism_svg_status(o);
}
