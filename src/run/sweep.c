/* src/run/sweep.c — the sweep's manifest: the runs from flags, sweep files and named studies,
 * their validation, each run's full settings, and each run's `prism train` command line (the
 * one builder both backends use). See prism/sweep.h and docs/sweeps.md; the sweep directory is
 * sweep_dir.c, the backends sweep_local.c and sweep_slurm.c (sweep_internal.h says who shares
 * what).
 *
 * It is not a trainer: every run is a child process running `prism train`, so a crash in one
 * run cannot take the sweep down and every run is archived exactly as a single run would be.
 * It does not compute statistics either: the CLI runs `prism report` at the end. */
#define _POSIX_C_SOURCE 200809L
#include "sweep_internal.h"

#include "prism/archive.h"
#include "prism/config.h"
#include "prism/env.h"
#include "prism/file.h"
#include "prism/presets.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

void sweep_copy_str(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src ? src : "");
}

static bool has_space(const char *s) {
    for (; *s; s++)
        if (isspace((unsigned char)*s)) return true;
    return false;
}

bool sweep_append_word(char *buf, size_t cap, const char *piece) {
    size_t n = strlen(buf), m = strlen(piece);
    if (n + m + 2 > cap) return false;
    if (n) buf[n++] = ' ';
    memcpy(buf + n, piece, m + 1);
    return true;
}

/* ---- the manifest ---- */

void prism_sweep_init(prism_sweep *s, const char *name) {
    memset(s, 0, sizeof *s);
    sweep_copy_str(s->name, sizeof s->name, name && name[0] ? name : "sweep");
    for (char *p = s->name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_.+", *p)) *p = '_';
}

void prism_sweep_free(prism_sweep *s) {
    prism_free(s->runs);
    memset(s, 0, sizeof *s);
}

static prism_status check_setting(const char *kv) {
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return prism_error(PRISM_ERR_INVALID, "setting '%s' is not key=value (e.g. agent.lr=1e-4)",
                           kv);
    if (has_space(kv))
        return prism_error(PRISM_ERR_INVALID,
                           "setting '%s' contains whitespace; write lists with commas "
                           "(e.g. agent.hidden=64,64)",
                           kv);
    return PRISM_OK;
}

/* Every word of a space-separated settings list. */
prism_status sweep_check_settings(const char *list) {
    char buf[PRISM_SWEEP_SETTINGS_MAX * 2];
    if (strlen(list) >= sizeof buf)
        return prism_error(PRISM_ERR_INVALID, "settings '%.60s...' are too long", list);
    sweep_copy_str(buf, sizeof buf, list);
    if (buf[0] == ' ' || (buf[0] && buf[strlen(buf) - 1] == ' ') || strstr(buf, "  "))
        return prism_error(PRISM_ERR_INVALID, "settings '%s' have stray spaces", list);
    prism_status st = PRISM_OK;
    for (char *p = strtok(buf, " "); p && !st; p = strtok(NULL, " ")) st = check_setting(p);
    return st;
}

prism_status prism_sweep_add_setting(prism_sweep *s, const char *kv) {
    prism_status st = check_setting(kv);
    if (st) return st;
    if (!sweep_append_word(s->settings, sizeof s->settings, kv))
        return prism_error(PRISM_ERR_INVALID, "too many --set settings (%zu bytes at most)",
                           sizeof s->settings);
    return PRISM_OK;
}

/* Split an agent spec "LABEL=PRESET" or "PRESET" and check the preset exists. */
prism_status sweep_parse_agent(const char *spec, char *label, size_t lcap, char *preset,
                               size_t pcap) {
    const char *eq = strchr(spec, '=');
    if (eq) {
        snprintf(label, lcap, "%.*s", (int)(eq - spec), spec);
        sweep_copy_str(preset, pcap, eq + 1);
    } else {
        sweep_copy_str(label, lcap, spec);
        sweep_copy_str(preset, pcap, spec);
    }
    if (!label[0] || !preset[0])
        return prism_error(PRISM_ERR_INVALID, "agent '%s' is empty; write PRESET or LABEL=PRESET",
                           spec);
    for (const char *p = label; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_.+", *p))
            return prism_error(PRISM_ERR_INVALID,
                               "agent label '%s' may only use letters, digits and - _ . +", label);
    char probe[4096];
    if (!prism_preset_text(preset, "CartPole-v0", probe, sizeof probe)) {
        /* let the preset table name the closest presets */
        prism_config c;
        prism_config_defaults(&c);
        prism_status st = prism_preset_apply(&c, preset, "CartPole-v0");
        if (st) return st;
        return prism_error(PRISM_ERR_NOT_FOUND, "unknown agent preset '%s'", preset);
    }
    return PRISM_OK;
}

/* Append a run; id NULL: the usual <env>-<label>-s<seed>. Every id, made here or read from a
 * manifest, passes the archive's check: it becomes a path under DIR/runs, DIR/logs and
 * DIR/failed, so it must not reach outside them. */
prism_status sweep_add_run(prism_sweep *s, const char *label, const char *preset, const char *env,
                           uint64_t seed, const char *settings, const char *id) {
    if (s->nruns == s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        prism_sweep_run *r = prism_calloc((size_t)cap, sizeof *r);
        if (!r) return prism_error(PRISM_ERR_NOMEM, "out of memory growing the sweep manifest");
        if (s->nruns) memcpy(r, s->runs, (size_t)s->nruns * sizeof *r);
        prism_free(s->runs);
        s->runs = r, s->cap = cap;
    }
    prism_sweep_run *r = &s->runs[s->nruns];
    memset(r, 0, sizeof *r);
    sweep_copy_str(r->agent, sizeof r->agent, label);
    sweep_copy_str(r->preset, sizeof r->preset, preset);
    sweep_copy_str(r->env, sizeof r->env, env);
    r->seed = seed;
    sweep_copy_str(r->settings, sizeof r->settings, settings);
    int n = id ? snprintf(r->id, sizeof r->id, "%s", id)
               : snprintf(r->id, sizeof r->id, "%s-%s-s%llu", env, label, (unsigned long long)seed);
    if (n < 0 || (size_t)n >= sizeof r->id)
        return prism_error(PRISM_ERR_INVALID, "run id for %s on %s is too long", label, env);
    prism_status st = prism_archive_id_check(r->id);
    if (st) return st;
    r->state = PRISM_SWEEP_PENDING;
    s->nruns++;
    return PRISM_OK;
}

/* Split a comma-separated list into at most max items (pointers into buf). */
static int split_list(char *buf, char **items, int max) {
    int n = 0;
    for (char *p = strtok(buf, ","); p && n < max; p = strtok(NULL, ",")) {
        while (isspace((unsigned char)*p)) p++;
        char *e = p + strlen(p);
        while (e > p && isspace((unsigned char)e[-1])) *--e = 0;
        if (*p) items[n++] = p;
    }
    return n;
}

/* The canonical id of a registered env in *id. A typo is an error with suggestions, never a
 * skipped environment: a sweep that quietly runs half its grid looks complete in the report. */
prism_status sweep_env_canonical(const char *env, const char **id) {
    const prism_env_class *cls;
    prism_status st = prism_env_lookup(env, &cls);
    *id = st ? NULL : cls->id;
    return st;
}

/* The seeds [start, start + n) as the inclusive range [*lo, *hi]; an error when they would
 * pass UINT64_MAX (wrapping to 0 would run seeds nobody asked for). */
static prism_status seed_range(uint64_t start, int n, uint64_t *lo, uint64_t *hi) {
    PRISM_ASSERT(n >= 1);
    if ((uint64_t)(n - 1) > UINT64_MAX - start)
        return prism_error(PRISM_ERR_INVALID,
                           "seeds %llu .. %llu + %d pass the largest seed, %llu; lower "
                           "--seed-start or --seeds",
                           (unsigned long long)start, (unsigned long long)start, n - 1,
                           (unsigned long long)UINT64_MAX);
    *lo = start, *hi = start + (uint64_t)(n - 1);
    return PRISM_OK;
}

prism_status prism_sweep_add_grid(prism_sweep *s, const char *agents, const char *envs,
                                  uint64_t seed_start, int nseeds) {
    enum { MAX_ITEMS = 64 };
    char abuf[2048], ebuf[2048];
    char *alist[MAX_ITEMS], *elist[MAX_ITEMS];
    if (strlen(agents) >= sizeof abuf || strlen(envs) >= sizeof ebuf)
        return prism_error(PRISM_ERR_INVALID, "agent or environment list is too long");
    sweep_copy_str(abuf, sizeof abuf, agents);
    sweep_copy_str(ebuf, sizeof ebuf, envs);
    int na = split_list(abuf, alist, MAX_ITEMS), ne = split_list(ebuf, elist, MAX_ITEMS);
    if (na == 0) return prism_error(PRISM_ERR_INVALID, "no agents given (e.g. dqn,rainbow)");
    if (ne == 0) return prism_error(PRISM_ERR_INVALID, "no environments given (e.g. CartPole-v0)");
    if (nseeds < 1) return prism_error(PRISM_ERR_INVALID, "seeds must be at least 1");
    uint64_t lo = 0, hi = 0;
    prism_status st = seed_range(seed_start, nseeds, &lo, &hi);
    if (st) return st;
    char labels[MAX_ITEMS][64], presets[MAX_ITEMS][64];
    for (int a = 0; a < na; a++)
        if ((st = sweep_parse_agent(alist[a], labels[a], sizeof labels[a], presets[a],
                                    sizeof presets[a])))
            return st;
    const char *known[MAX_ITEMS];
    for (int e = 0; e < ne; e++)
        if ((st = sweep_env_canonical(elist[e], &known[e]))) return st;
    for (uint64_t d = 0; d <= hi - lo; d++)
        for (int e = 0; e < ne; e++)
            for (int a = 0; a < na; a++)
                if ((st = sweep_add_run(s, labels[a], presets[a], known[e], lo + d, "", NULL)))
                    return st;
    return PRISM_OK;
}

/* ---- named studies ---- */

#define RR_AGENTS                                                                                  \
    "dqn,dqn+double,dqn+prioritized,dqn+dueling,dqn+multistep,dqn+distributional,dqn+noisy,"       \
    "rainbow,rainbow-double,rainbow-prioritized,rainbow-dueling,rainbow-multistep,"                \
    "rainbow-distributional,rainbow-noisy"

/* The second half of Revisiting Rainbow: the same add-one question of QR-DQN, IQN and Munchausen,
 * and the Rainbow flavours side by side (docs/presets.md) */
#define QR_AGENTS                                                                                  \
    "qr-dqn,qr-dqn+double,qr-dqn+prioritized,qr-dqn+dueling,qr-dqn+multistep,qr-dqn+noisy,"        \
    "qrainbow"
#define IQN_AGENTS "iqn,iqn+double,iqn+prioritized,iqn+dueling,iqn+multistep,iqn+noisy,irainbow"
#define M_AGENTS                                                                                   \
    "dqn,m-dqn,m-dqn+prioritized,m-dqn+dueling,m-dqn+multistep,m-dqn+noisy,rainbow,m-rainbow,"     \
    "iqn,m-iqn,irainbow,m-irainbow"
#define FLAVOURS "dqn,rainbow,qr-dqn,qrainbow,iqn,irainbow,m-dqn,m-rainbow,m-irainbow"
/* When noisy layers draw their noise (docs/presets.md): each noisy agent in the four modes of
 * agent.noisy_resample, beside the same agents without noisy nets */
#define NOISE_AGENTS                                                                               \
    "dqn,rainbow-noisy,dqn+noisy.action=dqn+noisy,rainbow.action=rainbow,"                         \
    "dqn+noisy.update=dqn+noisy,rainbow.update=rainbow,dqn+noisy.fixed=dqn+noisy,"                 \
    "rainbow.fixed=rainbow,dqn+noisy.fixed-shared=dqn+noisy,rainbow.fixed-shared=rainbow"
#define CLASSIC4 "CartPole-v0,Acrobot-v1,LunarLander-v3,MountainCar-v0"
#define MINATAR5 "asterix,breakout,freeway,seaquest,space_invaders"

static const struct study {
    const char *name, *agents, *envs, *settings, *summary;
} studies[] = {
    {"revisiting-rainbow-classic", RR_AGENTS,
     "CartPole-v0,Acrobot-v1,LunarLander-v3,MountainCar-v0", "",
     "Revisiting Rainbow on classic control: dqn, rainbow, dqn+X, rainbow-X x 4 tasks"},
    {"revisiting-rainbow-minatar", RR_AGENTS, "asterix,breakout,freeway,seaquest,space_invaders",
     "", "Revisiting Rainbow on the five MinAtar games (10M steps per run by default)"},
    /* Labels keep the four variants apart in the report (run.json's agent field). */
    {"optimizer-loss",
     "dqn-adam-huber=dqn,dqn-adam-mse=dqn,dqn-rmsprop-huber=dqn,dqn-rmsprop-mse=dqn",
     "CartPole-v0,Acrobot-v1,LunarLander-v3,MountainCar-v0", "",
     "DQN with Adam or RMSProp (TF form) x Huber or MSE (the paper: Adam + MSE wins)"},
    {"quantile-components-classic", QR_AGENTS, CLASSIC4, "",
     "QR-DQN with each Rainbow component added, and QRainbow, x 4 classic-control tasks"},
    {"quantile-components-minatar", QR_AGENTS, MINATAR5, "",
     "QR-DQN with each Rainbow component added, and QRainbow, on the five MinAtar games"},
    {"implicit-components-classic", IQN_AGENTS, CLASSIC4, "",
     "IQN with each Rainbow component added, and IRainbow, x 4 classic-control tasks"},
    {"implicit-components-minatar", IQN_AGENTS, MINATAR5, "",
     "IQN with each Rainbow component added, and IRainbow, on the five MinAtar games"},
    {"munchausen-classic", M_AGENTS, CLASSIC4, "",
     "Munchausen against its baselines: M-DQN (+ each component it takes) vs DQN, M-Rainbow vs "
     "Rainbow, M-IQN vs IQN, M-IRainbow vs IRainbow, x 4 classic-control tasks"},
    {"munchausen-minatar", M_AGENTS, MINATAR5, "",
     "Munchausen against its baselines on the five MinAtar games"},
    {"flavours-classic", FLAVOURS, CLASSIC4, "",
     "the Rainbow flavours side by side (Rainbow, QRainbow, IRainbow, M-Rainbow, M-IRainbow, "
     "their base agents) x 4 classic-control tasks"},
    {"flavours-minatar", FLAVOURS, MINATAR5, "",
     "the Rainbow flavours side by side on the five MinAtar games"},
    {"noise-schedule", NOISE_AGENTS, "Acrobot-v1,MountainCar-v0,CartPole-v0", "",
     "dqn+noisy and rainbow with their noise drawn per action, per update, fixed and fixed-shared, "
     "beside dqn and rainbow-noisy, x 3 classic-control tasks (docs/results.md)"},
};

bool prism_sweep_study(const char *name, const char **agents, const char **envs,
                       const char **settings) {
    for (size_t i = 0; i < sizeof studies / sizeof studies[0]; i++)
        if (!strcmp(name, studies[i].name)) {
            *agents = studies[i].agents, *envs = studies[i].envs, *settings = studies[i].settings;
            return true;
        }
    return false;
}

const char *prism_sweep_study_name(int i) {
    return i >= 0 && (size_t)i < sizeof studies / sizeof studies[0] ? studies[i].name : NULL;
}

const char *prism_sweep_study_summary(int i) {
    return i >= 0 && (size_t)i < sizeof studies / sizeof studies[0] ? studies[i].summary : NULL;
}

/* The labels of the optimizer-loss and noise-schedule studies carry their settings in the
 * name: dqn-<opt>-<loss>, <preset>.<noise mode>. Returns the settings for such a label ("" for
 * any other). */
static const char *label_settings(const char *label) {
    static const struct {
        const char *label, *settings;
    } table[] = {
        {"dqn-adam-huber", "agent.optimizer=adam agent.loss=huber"},
        {"dqn-adam-mse", "agent.optimizer=adam agent.loss=mse"},
        {"dqn-rmsprop-huber", "agent.optimizer=rmsprop_tf agent.loss=huber"},
        {"dqn-rmsprop-mse", "agent.optimizer=rmsprop_tf agent.loss=mse"},
        {"dqn+noisy.action", "agent.noisy_resample=action"},
        {"dqn+noisy.update", "agent.noisy_resample=update"},
        {"dqn+noisy.fixed", "agent.noisy_resample=fixed"},
        {"dqn+noisy.fixed-shared", "agent.noisy_resample=fixed-shared"},
        {"rainbow.action", "agent.noisy_resample=action"},
        {"rainbow.update", "agent.noisy_resample=update"},
        {"rainbow.fixed", "agent.noisy_resample=fixed"},
        {"rainbow.fixed-shared", "agent.noisy_resample=fixed-shared"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(label, table[i].label)) return table[i].settings;
    return "";
}

/* ---- sweep files ---- */

/* Prefix the last error message with "FILE:LINE: ". */
static prism_status at_line(prism_status st, const char *path, int lineno) {
    char msg[1024]; /* prism_error must not read the buffer it writes */
    sweep_copy_str(msg, sizeof msg, prism_error_message());
    return prism_error(st, "%s:%d: %s", path, lineno, msg);
}

/* SEEDS of a sweep file line: N or A..B, plain decimal, A <= B, at most PRISM_SWEEP_MAX_SEEDS
 * seeds. */
static bool parse_seeds(const char *tok, uint64_t *lo, uint64_t *hi) {
    char a[32], b[32];
    const char *dots = strstr(tok, "..");
    size_t n = dots ? (size_t)(dots - tok) : strlen(tok);
    if (n >= sizeof a || strlen(dots ? dots + 2 : tok) >= sizeof b) return false;
    snprintf(a, sizeof a, "%.*s", (int)n, tok);
    sweep_copy_str(b, sizeof b, dots ? dots + 2 : tok);
    if (!prism_parse_u64(a, lo) || !prism_parse_u64(b, hi) || *hi < *lo) return false;
    return *hi - *lo < PRISM_SWEEP_MAX_SEEDS;
}

prism_status prism_sweep_load_file(prism_sweep *s, const char *path, uint64_t seed_start,
                                   int nseeds) {
    char *text;
    size_t len;
    prism_status st = prism_file_read(path, &text, &len);
    if (st) return st;
    int lineno = 0, added = 0;
    char *save = NULL;
    for (char *line = text; line; line = save) {
        save = strchr(line, '\n');
        if (save) *save++ = 0;
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        enum { MAXTOK = 64 };
        char *tok[MAXTOK];
        int nt = 0;
        for (char *p = strtok(line, " \t\r"); p; p = strtok(NULL, " \t\r")) {
            if (nt == MAXTOK) {
                st = prism_error(PRISM_ERR_INVALID, "%s:%d: more than %d words", path, lineno,
                                 MAXTOK);
                goto done;
            }
            tok[nt++] = p;
        }
        if (nt == 0) continue;
        if (nt < 2) {
            st = prism_error(PRISM_ERR_INVALID,
                             "%s:%d: expected AGENT ENV [SEEDS] [key=value ...] (got '%s')", path,
                             lineno, tok[0]);
            goto done;
        }
        char label[64], preset[64];
        if ((st = sweep_parse_agent(tok[0], label, sizeof label, preset, sizeof preset))) {
            st = at_line(st, path, lineno);
            goto done;
        }
        uint64_t lo = 0, hi = 0;
        int k = 2;
        if (nt > 2 && !strchr(tok[2], '=')) {
            if (!parse_seeds(tok[2], &lo, &hi)) {
                st = prism_error(PRISM_ERR_INVALID,
                                 "%s:%d: seeds '%s' must be N or A..B (e.g. 0..9): plain decimal "
                                 "integers from 0 to %llu, A <= B, at most %d seeds per line",
                                 path, lineno, tok[2], (unsigned long long)UINT64_MAX,
                                 PRISM_SWEEP_MAX_SEEDS);
                goto done;
            }
            k = 3;
        } else if ((st = seed_range(seed_start, nseeds > 0 ? nseeds : 1, &lo, &hi))) {
            st = at_line(st, path, lineno);
            goto done;
        }
        char settings[PRISM_SWEEP_SETTINGS_MAX] = "";
        for (; k < nt; k++) {
            if ((st = check_setting(tok[k]))) {
                st = at_line(st, path, lineno);
                goto done;
            }
            if (!sweep_append_word(settings, sizeof settings, tok[k])) {
                st = prism_error(PRISM_ERR_INVALID, "%s:%d: settings too long", path, lineno);
                goto done;
            }
        }
        const char *env;
        if ((st = sweep_env_canonical(tok[1], &env))) {
            st = at_line(st, path, lineno);
            goto done;
        }
        /* count up from 0: `seed <= hi` never fails when hi is UINT64_MAX */
        for (uint64_t d = 0; d <= hi - lo; d++) {
            if ((st = sweep_add_run(s, label, preset, env, lo + d, settings, NULL))) goto done;
            added++;
        }
    }
    if (added == 0 && !st)
        st = prism_error(PRISM_ERR_INVALID, "%s has no runs; write AGENT ENV [SEEDS] per line",
                         path);
done:
    prism_free(text);
    return st;
}

/* ---- validation ---- */

prism_status prism_sweep_run_settings(const prism_sweep *s, const prism_sweep_run *r, char *out,
                                      size_t cap) {
    out[0] = 0;
    char steps[64] = "";
    if (s->steps > 0) snprintf(steps, sizeof steps, "train.steps=%lld", s->steps);
    const char *parts[] = {label_settings(r->agent), s->settings, r->settings, steps};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (!parts[i][0]) continue;
        if (!sweep_append_word(out, cap, parts[i]))
            return prism_error(PRISM_ERR_INVALID, "settings of run %s are too long", r->id);
    }
    return PRISM_OK;
}

prism_status prism_sweep_validate(const prism_sweep *s) {
    if (s->nruns == 0) return prism_error(PRISM_ERR_INVALID, "the sweep has no runs");
    prism_config *c = prism_alloc(sizeof *c);
    if (!c) return prism_error(PRISM_ERR_NOMEM, "out of memory validating the sweep");
    prism_status st = PRISM_OK;
    for (int i = 0; i < s->nruns && !st; i++) {
        const prism_sweep_run *r = &s->runs[i];
        for (int j = 0; j < i; j++)
            if (!strcmp(s->runs[j].id, r->id)) {
                st = prism_error(PRISM_ERR_INVALID,
                                 "run %s appears twice in the sweep; give each agent/env/seed "
                                 "once (or a different LABEL=PRESET)",
                                 r->id);
                goto out;
            }
        prism_config_defaults(c);
        if ((st = prism_preset_apply(c, r->preset, r->env))) goto out;
        char all[PRISM_SWEEP_SETTINGS_MAX * 2];
        if ((st = prism_sweep_run_settings(s, r, all, sizeof all))) goto out;
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
        if ((st = prism_config_apply(c, all)) || (st = prism_config_set(c, "seed", seed)) ||
            (st = prism_config_set(c, "agent", r->agent))) {
            char msg[512];
            sweep_copy_str(msg, sizeof msg, prism_error_message());
            st = prism_error(st, "run %s: %s", r->id, msg);
            goto out;
        }
        if (c->train.iteration_steps > c->train.steps) c->train.iteration_steps = c->train.steps;
        const prism_env_class *cls = prism_env_find(r->env);
        PRISM_ASSERT(cls);
        if ((st = prism_config_validate(c, prism_env_obs_size(cls)))) {
            char msg[512];
            sweep_copy_str(msg, sizeof msg, prism_error_message());
            st = prism_error(st, "run %s: %s", r->id, msg);
        }
    }
out:
    prism_free(c);
    return st;
}

/* ---- a run's command line ---- */

void sweep_argv_free(sweep_argv *a) {
    for (int i = 0; i < a->argc; i++) prism_free(a->argv[i]);
    prism_free(a->argv);
    memset(a, 0, sizeof *a);
}

/* Append one word, printf-formatted, to a (keeping argv NULL-terminated). */
static prism_status argv_addf(sweep_argv *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static prism_status argv_addf(sweep_argv *a, const char *fmt, ...) {
    if (a->argc + 2 > a->cap) {
        int cap = a->cap ? a->cap * 2 : 32;
        char **v = prism_calloc((size_t)cap, sizeof *v);
        if (!v) return prism_error(PRISM_ERR_NOMEM, "out of memory building a command line");
        if (a->argc) memcpy(v, a->argv, (size_t)a->argc * sizeof *v);
        prism_free(a->argv);
        a->argv = v, a->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    PRISM_ASSERT(n >= 0);
    char *w = prism_alloc((size_t)n + 1);
    if (!w) return prism_error(PRISM_ERR_NOMEM, "out of memory building a command line");
    va_start(ap, fmt);
    vsnprintf(w, (size_t)n + 1, fmt, ap);
    va_end(ap);
    a->argv[a->argc++] = w;
    a->argv[a->argc] = NULL;
    return PRISM_OK;
}

prism_status sweep_train_args(const sweep_train_values *v, sweep_argv *out) {
    PRISM_ASSERT(v->prog && v->dir && v->id);
    memset(out, 0, sizeof *out);
    prism_status st;
    if ((st = argv_addf(out, "%s", v->prog)) || (st = argv_addf(out, "train"))) return st;
    if (v->resume) {
        if ((st = argv_addf(out, "--resume")) || (st = argv_addf(out, "%s/runs/%s", v->dir, v->id)))
            return st;
        out->set_begin = out->set_end = out->argc;
        return argv_addf(out, "--quiet");
    }
    PRISM_ASSERT(v->env && v->preset && v->seed && v->agent && v->settings);
    if ((st = argv_addf(out, "%s", v->env)) || (st = argv_addf(out, "--agent")) ||
        (st = argv_addf(out, "%s", v->preset)) || (st = argv_addf(out, "--seed")) ||
        (st = argv_addf(out, "%s", v->seed)) || (st = argv_addf(out, "--set")) ||
        (st = argv_addf(out, "agent=%s", v->agent)))
        return st;
    /* one --set per word, in order: prism train applies them in turn */
    out->set_begin = out->argc;
    for (const char *p = v->settings;;) {
        p += strspn(p, " ");
        if (!*p) break;
        int n = (int)strcspn(p, " ");
        if ((st = argv_addf(out, "--set")) || (st = argv_addf(out, "%.*s", n, p))) return st;
        p += n;
    }
    out->set_end = out->argc;
    if ((st = argv_addf(out, "--runs-dir")) || (st = argv_addf(out, "%s/runs", v->dir)) ||
        (st = argv_addf(out, "--run-id")) || (st = argv_addf(out, "%s", v->id)))
        return st;
    return argv_addf(out, "--quiet");
}

prism_status sweep_run_train_args(const prism_sweep *s, const prism_sweep_run *r, const char *dir,
                                  bool resume, sweep_argv *out) {
    memset(out, 0, sizeof *out);
    char seed[32], settings[PRISM_SWEEP_SETTINGS_MAX * 2] = "";
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
    prism_status st = resume ? PRISM_OK : prism_sweep_run_settings(s, r, settings, sizeof settings);
    if (st) return st;
    sweep_train_values v = {.prog = "prism",
                            .dir = dir,
                            .id = r->id,
                            .resume = resume,
                            .env = r->env,
                            .preset = r->preset,
                            .seed = seed,
                            .agent = r->agent,
                            .settings = settings};
    return sweep_train_args(&v, out);
}
