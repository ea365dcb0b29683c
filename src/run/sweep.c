/* src/run/sweep.c — sweeps: the manifest (flags, sweep files, named studies), the sweep
 * directory (manifest.tsv, sweep.json), the local backend (a pool of child `prism train`
 * processes) and the Slurm backend's scripts. See prism/sweep.h and docs/sweeps.md.
 *
 * It is not a trainer: every run is a child process running `prism train`, so a crash in one
 * run cannot take the sweep down and every run is archived exactly as a single run would be.
 * It does not compute statistics either: the CLI runs `prism report` at the end. */
#define _POSIX_C_SOURCE 200809L
#include "prism/sweep.h"

#include "prism/archive.h"
#include "prism/config.h"
#include "prism/dir_lock.h"
#include "prism/env.h"
#include "prism/file.h"
#include "prism/json.h"
#include "prism/presets.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- small helpers ---- */

static void copy_str(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src ? src : "");
}

static bool has_space(const char *s) {
    for (; *s; s++)
        if (isspace((unsigned char)*s)) return true;
    return false;
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Append "piece" to a space-separated list in buf; false when it does not fit. */
static bool append_word(char *buf, size_t cap, const char *piece) {
    size_t n = strlen(buf), m = strlen(piece);
    if (n + m + 2 > cap) return false;
    if (n) buf[n++] = ' ';
    memcpy(buf + n, piece, m + 1);
    return true;
}

/* Format into out[cap] with a path-length check (a sweep path that does not fit is a user
 * problem, not an invariant). */
static prism_status pathf(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static prism_status pathf(char *out, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        return prism_error(PRISM_ERR_INVALID,
                           "path '%.80s...' is too long; use a shorter sweep "
                           "directory",
                           out);
    return PRISM_OK;
}

const char *prism_sweep_state_name(prism_sweep_state s) {
    static const char *names[] = {"pending", "running", "completed", "interrupted", "failed"};
    PRISM_ASSERT((int)s >= 0 && (int)s < 5);
    return names[s];
}

static int state_parse(const char *name) {
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, prism_sweep_state_name((prism_sweep_state)i))) return i;
    return -1;
}

/* ---- the manifest ---- */

void prism_sweep_init(prism_sweep *s, const char *name) {
    memset(s, 0, sizeof *s);
    copy_str(s->name, sizeof s->name, name && name[0] ? name : "sweep");
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
static prism_status check_settings(const char *list) {
    char buf[PRISM_SWEEP_SETTINGS_MAX * 2];
    if (strlen(list) >= sizeof buf)
        return prism_error(PRISM_ERR_INVALID, "settings '%.60s...' are too long", list);
    copy_str(buf, sizeof buf, list);
    if (buf[0] == ' ' || (buf[0] && buf[strlen(buf) - 1] == ' ') || strstr(buf, "  "))
        return prism_error(PRISM_ERR_INVALID, "settings '%s' have stray spaces", list);
    prism_status st = PRISM_OK;
    for (char *p = strtok(buf, " "); p && !st; p = strtok(NULL, " ")) st = check_setting(p);
    return st;
}

prism_status prism_sweep_add_setting(prism_sweep *s, const char *kv) {
    prism_status st = check_setting(kv);
    if (st) return st;
    if (!append_word(s->settings, sizeof s->settings, kv))
        return prism_error(PRISM_ERR_INVALID, "too many --set settings (%zu bytes at most)",
                           sizeof s->settings);
    return PRISM_OK;
}

/* Split an agent spec "LABEL=PRESET" or "PRESET" and check the preset exists. */
static prism_status parse_agent(const char *spec, char *label, size_t lcap, char *preset,
                                size_t pcap) {
    const char *eq = strchr(spec, '=');
    if (eq) {
        snprintf(label, lcap, "%.*s", (int)(eq - spec), spec);
        copy_str(preset, pcap, eq + 1);
    } else {
        copy_str(label, lcap, spec);
        copy_str(preset, pcap, spec);
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
static prism_status add_run(prism_sweep *s, const char *label, const char *preset, const char *env,
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
    copy_str(r->agent, sizeof r->agent, label);
    copy_str(r->preset, sizeof r->preset, preset);
    copy_str(r->env, sizeof r->env, env);
    r->seed = seed;
    copy_str(r->settings, sizeof r->settings, settings);
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
static prism_status env_canonical(const char *env, const char **id) {
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
    copy_str(abuf, sizeof abuf, agents);
    copy_str(ebuf, sizeof ebuf, envs);
    int na = split_list(abuf, alist, MAX_ITEMS), ne = split_list(ebuf, elist, MAX_ITEMS);
    if (na == 0) return prism_error(PRISM_ERR_INVALID, "no agents given (e.g. dqn,rainbow)");
    if (ne == 0) return prism_error(PRISM_ERR_INVALID, "no environments given (e.g. CartPole-v0)");
    if (nseeds < 1) return prism_error(PRISM_ERR_INVALID, "seeds must be at least 1");
    uint64_t lo = 0, hi = 0;
    prism_status st = seed_range(seed_start, nseeds, &lo, &hi);
    if (st) return st;
    char labels[MAX_ITEMS][64], presets[MAX_ITEMS][64];
    for (int a = 0; a < na; a++)
        if ((st =
                 parse_agent(alist[a], labels[a], sizeof labels[a], presets[a], sizeof presets[a])))
            return st;
    const char *known[MAX_ITEMS];
    for (int e = 0; e < ne; e++)
        if ((st = env_canonical(elist[e], &known[e]))) return st;
    for (uint64_t d = 0; d <= hi - lo; d++)
        for (int e = 0; e < ne; e++)
            for (int a = 0; a < na; a++)
                if ((st = add_run(s, labels[a], presets[a], known[e], lo + d, "", NULL))) return st;
    return PRISM_OK;
}

/* ---- named studies ---- */

#define RR_AGENTS                                                                                  \
    "dqn,dqn+double,dqn+prioritized,dqn+dueling,dqn+multistep,dqn+distributional,dqn+noisy,"       \
    "rainbow,rainbow-double,rainbow-prioritized,rainbow-dueling,rainbow-multistep,"                \
    "rainbow-distributional,rainbow-noisy"

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

/* The optimizer-loss labels carry their settings in the name: dqn-<opt>-<loss>. Returns the
 * settings for such a label ("" otherwise). */
static const char *label_settings(const char *label) {
    static const struct {
        const char *label, *settings;
    } table[] = {
        {"dqn-adam-huber", "agent.optimizer=adam agent.loss=huber"},
        {"dqn-adam-mse", "agent.optimizer=adam agent.loss=mse"},
        {"dqn-rmsprop-huber", "agent.optimizer=rmsprop_tf agent.loss=huber"},
        {"dqn-rmsprop-mse", "agent.optimizer=rmsprop_tf agent.loss=mse"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(label, table[i].label)) return table[i].settings;
    return "";
}

/* ---- sweep files ---- */

/* Prefix the last error message with "FILE:LINE: ". */
static prism_status at_line(prism_status st, const char *path, int lineno) {
    char msg[1024]; /* prism_error must not read the buffer it writes */
    copy_str(msg, sizeof msg, prism_error_message());
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
    copy_str(b, sizeof b, dots ? dots + 2 : tok);
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
        if ((st = parse_agent(tok[0], label, sizeof label, preset, sizeof preset))) {
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
            if (!append_word(settings, sizeof settings, tok[k])) {
                st = prism_error(PRISM_ERR_INVALID, "%s:%d: settings too long", path, lineno);
                goto done;
            }
        }
        const char *env;
        if ((st = env_canonical(tok[1], &env))) {
            st = at_line(st, path, lineno);
            goto done;
        }
        /* count up from 0: `seed <= hi` never fails when hi is UINT64_MAX */
        for (uint64_t d = 0; d <= hi - lo; d++) {
            if ((st = add_run(s, label, preset, env, lo + d, settings, NULL))) goto done;
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
        if (!append_word(out, cap, parts[i]))
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
            copy_str(msg, sizeof msg, prism_error_message());
            st = prism_error(st, "run %s: %s", r->id, msg);
            goto out;
        }
        if (c->train.iteration_steps > c->train.steps) c->train.iteration_steps = c->train.steps;
        const prism_env_class *cls = prism_env_find(r->env);
        PRISM_ASSERT(cls);
        if ((st = prism_config_validate(c, prism_env_obs_size(cls)))) {
            char msg[512];
            copy_str(msg, sizeof msg, prism_error_message());
            st = prism_error(st, "run %s: %s", r->id, msg);
        }
    }
out:
    prism_free(c);
    return st;
}

/* ---- the sweep directory ---- */

static prism_status write_manifest(const prism_sweep *s, const char *dir) {
    char path[PRISM_PATH_MAX];
    prism_status st = pathf(path, sizeof path, "%s/manifest.tsv", dir);
    if (st) return st;
    prism_atomic_file af;
    if ((st = prism_atomic_open(&af, path))) return st;
    for (int i = 0; i < s->nruns && !st; i++) {
        const prism_sweep_run *r = &s->runs[i];
        char all[PRISM_SWEEP_SETTINGS_MAX * 2], line[PRISM_SWEEP_SETTINGS_MAX * 3];
        if ((st = prism_sweep_run_settings(s, r, all, sizeof all))) break;
        int n = snprintf(line, sizeof line, "%s\t%s\t%s\t%s\t%llu\t%s\n", r->id, r->agent,
                         r->preset, r->env, (unsigned long long)r->seed, all);
        PRISM_ASSERT(n > 0 && (size_t)n < sizeof line);
        st = prism_atomic_write(&af, line, (size_t)n);
    }
    return st ? (prism_atomic_abort(&af), st) : prism_atomic_commit(&af);
}

static prism_status write_status(const prism_sweep *s, const char *dir, const char *status,
                                 const char *extra, int argc, char *const *argv);

prism_status prism_sweep_create_dir(prism_sweep *s, const char *parent, int argc, char *const *argv,
                                    char *dir, size_t cap) {
    prism_status st = prism_mkdir_p(parent);
    if (st) return st;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int k = 1;; k++) {
        st = k == 1 ? pathf(dir, cap, "%s/%s-%s", parent, s->name, stamp)
                    : pathf(dir, cap, "%s/%s-%s-%d", parent, s->name, stamp, k);
        if (st) return st;
        if (mkdir(dir, 0777) == 0) break;
        if (errno != EEXIST || k >= 1000)
            return prism_error(PRISM_ERR_IO, "cannot create sweep directory '%s': %s", dir,
                               strerror(errno));
    }
    const char *subs[] = {"runs", "logs", "failed"};
    for (size_t i = 0; i < 3; i++) {
        char sub[PRISM_PATH_MAX];
        if ((st = pathf(sub, sizeof sub, "%s/%s", dir, subs[i]))) return st;
        if ((st = prism_mkdir_p(sub))) return st;
    }
    if ((st = write_manifest(s, dir))) return st;
    return write_status(s, dir, "created", NULL, argc, argv);
}

prism_sweep_counts prism_sweep_count(const prism_sweep *s) {
    prism_sweep_counts c = {.total = s->nruns};
    for (int i = 0; i < s->nruns; i++) switch (s->runs[i].state) {
        case PRISM_SWEEP_PENDING:
            c.pending++;
            break;
        case PRISM_SWEEP_RUNNING:
            c.running++;
            break;
        case PRISM_SWEEP_COMPLETED:
            c.completed++;
            break;
        case PRISM_SWEEP_INTERRUPTED:
            c.interrupted++;
            break;
        case PRISM_SWEEP_FAILED:
            c.failed++;
            break;
        }
    return c;
}

/* sweep.json; argv (argc > 0) is recorded when the sweep is created and kept from the old
 * file on every rewrite after that. */
static prism_status write_status(const prism_sweep *s, const char *dir, const char *status,
                                 const char *extra, int argc, char *const *argv) {
    char path[PRISM_PATH_MAX];
    prism_status st = pathf(path, sizeof path, "%s/sweep.json", dir);
    if (st) return st;
    /* keep the recorded command line and creation time across rewrites */
    prism_json_value *old = NULL;
    if (file_exists(path) && prism_json_parse_file(path, &old) != PRISM_OK) old = NULL;
    prism_json j;
    prism_json_init(&j, 2);
    prism_json_object_begin(&j);
    prism_json_kv_string(&j, "name", s->name);
    prism_json_kv_string(&j, "status", status);
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    prism_json_kv_string(&j, "created", old ? prism_json_get_string(old, "created", now) : now);
    prism_json_kv_string(&j, "updated", now);
    prism_json_key(&j, "argv");
    const prism_json_value *oargv = old ? prism_json_get(old, "argv") : NULL;
    if (argc > 0) {
        prism_json_array_begin(&j);
        for (int i = 0; i < argc; i++) prism_json_string(&j, argv[i]);
        prism_json_array_end(&j);
    } else if (oargv)
        prism_json_write_value(&j, oargv);
    else
        prism_json_null(&j);
    prism_json_kv_string(&j, "settings", s->settings);
    prism_json_kv_int(&j, "steps", s->steps);
    prism_sweep_counts c = prism_sweep_count(s);
    prism_json_key(&j, "counts");
    prism_json_object_begin(&j);
    prism_json_kv_int(&j, "total", c.total);
    prism_json_kv_int(&j, "completed", c.completed);
    prism_json_kv_int(&j, "failed", c.failed);
    prism_json_kv_int(&j, "interrupted", c.interrupted);
    prism_json_kv_int(&j, "running", c.running);
    prism_json_kv_int(&j, "pending", c.pending);
    prism_json_object_end(&j);
    if (extra && extra[0]) {
        /* members given as text: parse them so the document stays valid JSON */
        size_t n = strlen(extra) + 3;
        char *wrapped = prism_alloc(n);
        prism_json_value *v = NULL;
        if (wrapped) {
            snprintf(wrapped, n, "{%s}", extra);
            if (prism_json_parse(wrapped, strlen(wrapped), "extra", &v) == PRISM_OK) {
                for (const prism_json_value *m = v->child; m; m = m->next) {
                    prism_json_key(&j, m->key);
                    prism_json_write_value(&j, m);
                }
                prism_json_value_free(v);
            }
            prism_free(wrapped);
        }
    }
    prism_json_key(&j, "runs");
    prism_json_array_begin(&j);
    for (int i = 0; i < s->nruns; i++) {
        const prism_sweep_run *r = &s->runs[i];
        prism_json_object_begin(&j);
        prism_json_kv_string(&j, "id", r->id);
        prism_json_kv_string(&j, "status", prism_sweep_state_name(r->state));
        prism_json_kv_int(&j, "failures", r->failures);
        prism_json_kv_double(&j, "duration_s", r->duration_s);
        prism_json_kv_double(&j, "cpu_s", r->cpu_s);
        prism_json_kv_string(&j, "message", r->message[0] ? r->message : NULL);
        prism_json_object_end(&j);
    }
    prism_json_array_end(&j);
    prism_json_object_end(&j);
    if (old) prism_json_value_free(old);
    st = prism_json_finish(&j);
    if (!st) st = prism_file_write_atomic(path, prism_json_text(&j), prism_json_length(&j));
    prism_json_free(&j);
    return st;
}

prism_status prism_sweep_write_status(const prism_sweep *s, const char *dir, const char *status,
                                      const char *extra) {
    return write_status(s, dir, status, extra, 0, NULL);
}

/* The state of a run from its run directory: completed, interrupted (resumable: a
 * checkpoint exists), failed (diverged or failed), or pending (no directory, or one without
 * a checkpoint to continue from). `why` gets the run.json status or message. */
static prism_sweep_state run_dir_state(const char *dir, const char *id, bool *diverged, char *why,
                                       size_t cap) {
    *diverged = false;
    why[0] = 0;
    char run[PRISM_PATH_MAX];
    if (pathf(run, sizeof run, "%s/runs/%s", dir, id)) return PRISM_SWEEP_PENDING;
    prism_run_meta *m = prism_alloc(sizeof *m);
    if (!m) return PRISM_SWEEP_PENDING;
    if (prism_run_read(run, m) != PRISM_OK) {
        prism_free(m);
        return PRISM_SWEEP_PENDING;
    }
    const char *status = prism_run_status_name(m->status);
    snprintf(why, cap, "%s%s%.*s", status, m->message[0] ? ": " : "", (int)cap, m->message);
    prism_sweep_state out = PRISM_SWEEP_PENDING;
    if (m->status == PRISM_RUN_COMPLETED)
        out = PRISM_SWEEP_COMPLETED;
    else if (m->status == PRISM_RUN_FAILED || m->status == PRISM_RUN_DIVERGED) {
        out = PRISM_SWEEP_FAILED;
        *diverged = m->status == PRISM_RUN_DIVERGED;
    } else { /* interrupted, or running when the sweep itself was killed */
        char latest[PRISM_PATH_MAX];
        if (!pathf(latest, sizeof latest, "%s/runs/%s/checkpoints/latest", dir, id) &&
            file_exists(latest))
            out = PRISM_SWEEP_INTERRUPTED;
    }
    prism_run_meta_free(m);
    prism_free(m);
    return out;
}

/* Take r's state from its run directory; a run recorded as failed stays failed unless its
 * directory says more (a directory without a checkpoint says nothing). */
static void refresh_state(const char *dir, prism_sweep_run *r) {
    bool diverged;
    char why[256];
    prism_sweep_state ds = run_dir_state(dir, r->id, &diverged, why, sizeof why);
    if (ds != PRISM_SWEEP_PENDING || r->state != PRISM_SWEEP_FAILED) r->state = ds;
}

static prism_status read_manifest(prism_sweep *s, const char *dir) {
    char path[PRISM_PATH_MAX];
    prism_status st = pathf(path, sizeof path, "%s/manifest.tsv", dir);
    if (st) return st;
    char *text;
    size_t len;
    if ((st = prism_file_read(path, &text, &len))) {
        if (st == PRISM_ERR_NOT_FOUND)
            return prism_error(PRISM_ERR_NOT_FOUND,
                               "%s is not a sweep directory (no manifest.tsv); give the "
                               "directory `prism sweep` printed",
                               dir);
        return st;
    }
    int lineno = 0;
    char *next = NULL;
    for (char *line = text; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (!*line && !next) break; /* after the last newline; an empty line before is damage */
        lineno++;
        char *f[6];
        int nf = 0;
        char *p = line;
        for (; nf < 6; nf++) {
            f[nf] = p;
            char *tab = nf < 5 ? strchr(p, '\t') : NULL;
            if (!tab) {
                nf++;
                break;
            }
            *tab = 0;
            p = tab + 1;
        }
        uint64_t seed;
        if (nf != 6 || !prism_parse_u64(f[4], &seed)) {
            prism_free(text);
            return prism_error(PRISM_ERR_CORRUPT,
                               "%s:%d: expected 6 tab-separated fields (id, agent, preset, env, "
                               "seed, settings)",
                               path, lineno);
        }
        /* every field as strictly as the sweep that wrote it: the id becomes a path, the
         * rest a child's command line and the Slurm script's input */
        char spec[160], label[64], preset[64];
        const char *env;
        snprintf(spec, sizeof spec, "%s=%s", f[1], f[2]);
        if ((st = parse_agent(spec, label, sizeof label, preset, sizeof preset)) ||
            (st = env_canonical(f[3], &env)) || (st = check_settings(f[5])) ||
            (st = add_run(s, label, preset, env, seed, f[5], f[0]))) {
            char msg[1024];
            copy_str(msg, sizeof msg, prism_error_message());
            st = prism_error(PRISM_ERR_CORRUPT,
                             "%s:%d: %s; the manifest was edited or damaged: restore that line "
                             "or start a new sweep",
                             path, lineno, msg);
            break;
        }
    }
    prism_free(text);
    if (!st && s->nruns == 0) st = prism_error(PRISM_ERR_CORRUPT, "%s lists no runs", path);
    return st;
}

prism_status prism_sweep_open(prism_sweep *s, const char *dir) {
    memset(s, 0, sizeof *s); /* freeable from here on, whatever fails */
    char path[PRISM_PATH_MAX];
    prism_status st = pathf(path, sizeof path, "%s/sweep.json", dir);
    if (st) return st;
    prism_json_value *v = NULL;
    if ((st = prism_json_parse_file(path, &v))) {
        if (st == PRISM_ERR_NOT_FOUND)
            return prism_error(PRISM_ERR_NOT_FOUND,
                               "%s is not a sweep directory (no sweep.json); give the directory "
                               "`prism sweep` printed",
                               dir);
        return st;
    }
    prism_sweep_init(s, prism_json_get_string(v, "name", "sweep"));
    s->steps = (long long)prism_json_get_number(v, "steps", 0);
    /* The settings are already folded into the manifest's per-run settings. */
    if ((st = read_manifest(s, dir))) goto out;
    const prism_json_value *runs = prism_json_get(v, "runs");
    for (int i = 0; i < s->nruns; i++) {
        prism_sweep_run *r = &s->runs[i];
        for (const prism_json_value *e = runs ? runs->child : NULL; e; e = e->next)
            if (!strcmp(prism_json_get_string(e, "id", ""), r->id)) {
                r->failures = (int)prism_json_get_number(e, "failures", 0);
                r->duration_s = prism_json_get_number(e, "duration_s", 0);
                r->cpu_s = prism_json_get_number(e, "cpu_s", 0);
                int k = state_parse(prism_json_get_string(e, "status", ""));
                if (k == PRISM_SWEEP_FAILED) r->state = PRISM_SWEEP_FAILED;
                copy_str(r->message, sizeof r->message, prism_json_get_string(e, "message", ""));
                break;
            }
        refresh_state(dir, r);
    }
out:
    prism_json_value_free(v);
    /* the runs read before a damaged line are of no use to the caller, who gets nothing */
    if (st) prism_sweep_free(s);
    return st;
}

/* ---- the local backend ---- */

prism_sweep_local_options prism_sweep_local_options_default(void) {
    prism_sweep_local_options o = {.jobs = 1, .exe = "/proc/self/exe"};
    return o;
}

typedef struct worker {
    pid_t pid;
    int run;      /* index into s->runs */
    double start; /* prism_now() at start */
} worker;

/* Move a failed or unusable run directory aside (to failed/<id>.<k>) so a fresh attempt can
 * take its id. */
static prism_status move_aside(const char *dir, const char *id) {
    char from[PRISM_PATH_MAX], to[PRISM_PATH_MAX];
    prism_status st = pathf(from, sizeof from, "%s/runs/%s", dir, id);
    if (st || !file_exists(from)) return st;
    for (int k = 1; k < 1000; k++) {
        if ((st = pathf(to, sizeof to, "%s/failed/%s.%d", dir, id, k))) return st;
        if (file_exists(to)) continue;
        if (rename(from, to) == 0) return PRISM_OK;
        return prism_error(PRISM_ERR_IO, "cannot move %s to %s: %s", from, to, strerror(errno));
    }
    return prism_error(PRISM_ERR_IO, "too many failed attempts of %s under %s/failed", id, dir);
}

/* Start one child for run r; returns its pid or -1 (with prism_error set). */
static pid_t spawn(const prism_sweep *s, const prism_sweep_run *r, const char *dir, const char *exe,
                   bool resume) {
    enum { MAXARG = 160 };
    char *argv[MAXARG];
    int n = 0;
    static char runs_dir[PRISM_PATH_MAX], run_dir[PRISM_PATH_MAX], log[PRISM_PATH_MAX];
    static char seed[32], agent_kv[96], settings[PRISM_SWEEP_SETTINGS_MAX * 2];
    /* argv wants char *: copies of the run's strings (the child execs before they change) */
    static char env[64], preset[64], id[PRISM_SWEEP_ID_MAX];
    copy_str(env, sizeof env, r->env);
    copy_str(preset, sizeof preset, r->preset);
    copy_str(id, sizeof id, r->id);
    if (pathf(runs_dir, sizeof runs_dir, "%s/runs", dir) ||
        pathf(run_dir, sizeof run_dir, "%s/runs/%s", dir, r->id) ||
        pathf(log, sizeof log, "%s/logs/%s.log", dir, r->id))
        return -1;
    argv[n++] = (char *)"prism";
    argv[n++] = (char *)"train";
    if (resume) {
        argv[n++] = (char *)"--resume";
        argv[n++] = run_dir;
    } else {
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
        snprintf(agent_kv, sizeof agent_kv, "agent=%s", r->agent);
        if (prism_sweep_run_settings(s, r, settings, sizeof settings)) return -1;
        argv[n++] = env;
        argv[n++] = (char *)"--agent";
        argv[n++] = preset;
        argv[n++] = (char *)"--seed";
        argv[n++] = seed;
        argv[n++] = (char *)"--set";
        argv[n++] = agent_kv;
        for (char *p = strtok(settings, " "); p; p = strtok(NULL, " ")) {
            if (n + 8 >= MAXARG) {
                prism_error(PRISM_ERR_INVALID, "run %s has too many settings", r->id);
                return -1;
            }
            argv[n++] = (char *)"--set";
            argv[n++] = p;
        }
        argv[n++] = (char *)"--runs-dir";
        argv[n++] = runs_dir;
        argv[n++] = (char *)"--run-id";
        argv[n++] = id;
    }
    argv[n++] = (char *)"--quiet";
    argv[n] = NULL;
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0) {
        prism_error(PRISM_ERR_IO, "cannot open %s: %s", log, strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t sweep_pid = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        prism_error(PRISM_ERR_IO, "cannot start a worker process: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* A worker dies with its sweep: however the sweep ends (SIGKILL included), the kernel
         * sends the worker SIGTERM, which makes it checkpoint at the end of its episode and
         * stop, so no orphan goes on writing a run that `sweep --resume` would start again.
         * If the sweep died before this line, getppid() is no longer it: stop right here. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != sweep_pid) _exit(1);
        /* own process group: the terminal's Ctrl-C reaches only the sweep, which forwards it
         * exactly once per press (two deliveries would stop the child without a checkpoint) */
        setpgid(0, 0);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) dup2(null, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execv(exe, argv);
        dprintf(STDERR_FILENO, "prism sweep: cannot run %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also from the parent, so a signal sent right away finds the group */
    close(fd);
    return pid;
}

static void emit(const prism_sweep *s, const prism_sweep_local_options *o, double t0,
                 double done_time, int done_count, const prism_sweep_run *r, const char *event) {
    if (!o->progress) return;
    prism_sweep_progress p = {.counts = prism_sweep_count(s), .run = r, .event = event};
    p.elapsed_s = prism_now() - t0;
    p.eta_s = -1;
    if (done_count > 0) {
        /* mean wall time of the runs finished in this invocation, spread over the workers */
        double per_run = done_time / done_count;
        int left = p.counts.pending + p.counts.running + p.counts.interrupted;
        int jobs = o->jobs < left ? o->jobs : left;
        if (jobs < 1) jobs = 1;
        p.eta_s = per_run * (double)left / (double)jobs;
    }
    o->progress(o->ctx, &p);
}

/* Runs that another process still writes (a worker of an earlier sweep that has not finished
 * its last checkpoint, or a `prism train --resume` started by hand): starting them again would
 * make a second writer (refused by the run's lock) or move the directory from under the first.
 * Wait until each lets go, then take its state afresh from run.json. PRISM_ERR_INTERRUPTED when
 * a stop is requested while waiting. */
static prism_status wait_for_writers(prism_sweep *s, const char *dir,
                                     const prism_sweep_local_options *o, double t0) {
    for (int i = 0; i < s->nruns; i++) {
        prism_sweep_run *r = &s->runs[i];
        char run_dir[PRISM_PATH_MAX], who[320];
        if (r->state == PRISM_SWEEP_COMPLETED) continue;
        prism_status st = pathf(run_dir, sizeof run_dir, "%s/runs/%s", dir, r->id);
        if (st) return st;
        if (!prism_dir_lock_held(run_dir, who, sizeof who)) continue;
        snprintf(r->message, sizeof r->message, "waiting for %s, which still writes it", who);
        emit(s, o, t0, 0, 0, r, "waiting");
        while (prism_dir_lock_held(run_dir, NULL, 0)) {
            if (o->stop && *o->stop)
                return prism_error(PRISM_ERR_INTERRUPTED,
                                   "stopped while %s still wrote %s; continue with: prism sweep "
                                   "--resume %s",
                                   who, run_dir, dir);
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        r->message[0] = 0;
        refresh_state(dir, r);
    }
    return PRISM_OK;
}

prism_status prism_sweep_run_local(prism_sweep *s, const char *dir,
                                   const prism_sweep_local_options *o) {
    PRISM_ASSERT(o->jobs >= 1 && o->exe);
    /* One sweep process per directory: two would start the same runs twice. The lock goes
     * with the process and is not inherited by the workers (prism/dir_lock.h). */
    prism_dir_lock lock;
    prism_status st = prism_dir_lock_acquire(&lock, dir);
    if (st) return st;
    worker *w = prism_calloc((size_t)o->jobs, sizeof *w);
    if (!w) {
        prism_dir_lock_release(&lock);
        return prism_error(PRISM_ERR_NOMEM, "out of memory for %d workers", o->jobs);
    }
    double t0 = prism_now(), done_time = 0, last_tick = t0;
    int done_count = 0, running = 0, forwarded = 0;
    st = wait_for_writers(s, dir, o, t0);
    if (!st) st = prism_sweep_write_status(s, dir, "running", NULL);
    prism_status io_error = st;
    /* runs left failed by an earlier invocation get their one retry now (unless they
     * diverged: see prism_sweep_run_local's header) */
    for (int i = 0; i < s->nruns && !st; i++) {
        prism_sweep_run *r = &s->runs[i];
        bool diverged;
        char why[256];
        if (r->state != PRISM_SWEEP_FAILED) continue;
        prism_sweep_state ds = run_dir_state(dir, r->id, &diverged, why, sizeof why);
        if (diverged || r->failures >= PRISM_SWEEP_MAX_FAILURES) continue;
        (void)ds;
        if ((st = move_aside(dir, r->id))) break;
        r->state = PRISM_SWEEP_PENDING;
    }
    for (int next = 0; !st;) {
        int level = o->stop ? (int)*o->stop : 0;
        if (level > forwarded) {
            /* forward each Ctrl-C once to every child's process group */
            for (int k = 0; k < o->jobs; k++)
                if (w[k].pid > 0) kill(-w[k].pid, SIGINT);
            if (forwarded == 0) emit(s, o, t0, done_time, done_count, NULL, "stopping");
            forwarded = level;
        }
        /* start what fits */
        while (level == 0 && running < o->jobs) {
            while (next < s->nruns && s->runs[next].state != PRISM_SWEEP_PENDING &&
                   s->runs[next].state != PRISM_SWEEP_INTERRUPTED)
                next++;
            if (next >= s->nruns) break;
            prism_sweep_run *r = &s->runs[next];
            bool resume = r->state == PRISM_SWEEP_INTERRUPTED;
            if (!resume && (st = move_aside(dir, r->id))) break; /* a stale partial dir */
            pid_t pid = spawn(s, r, dir, o->exe, resume);
            if (pid < 0) {
                st = PRISM_ERR_IO;
                break;
            }
            int k = 0;
            while (w[k].pid > 0) k++;
            w[k] = (worker){.pid = pid, .run = next, .start = prism_now()};
            r->state = PRISM_SWEEP_RUNNING;
            running++;
            if ((io_error = prism_sweep_write_status(s, dir, "running", NULL))) st = io_error;
            emit(s, o, t0, done_time, done_count, r, resume ? "resumed" : "started");
            next++;
        }
        if (running == 0) break;
        /* reap */
        int ws;
        struct rusage ru;
        /* wait4 for the child's CPU time: a load-independent measure of a run's cost */
        pid_t pid = wait4(-1, &ws, WNOHANG, &ru);
        if (pid < 0 && errno != EINTR && errno != ECHILD) {
            st = prism_error(PRISM_ERR_IO, "waiting for workers failed: %s", strerror(errno));
            break;
        }
        if (pid <= 0) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
            if (prism_now() - last_tick >= 1.0) {
                last_tick = prism_now();
                emit(s, o, t0, done_time, done_count, NULL, NULL);
            }
            continue;
        }
        int k = 0;
        while (k < o->jobs && w[k].pid != pid) k++;
        if (k == o->jobs) continue; /* not ours */
        prism_sweep_run *r = &s->runs[w[k].run];
        double took = prism_now() - w[k].start;
        w[k].pid = 0;
        running--;
        r->duration_s = took;
        r->cpu_s = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
                   (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
        bool diverged;
        char why[200];
        prism_sweep_state ds = run_dir_state(dir, r->id, &diverged, why, sizeof why);
        int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
        const char *event;
        if (ds == PRISM_SWEEP_COMPLETED && code == 0) {
            r->state = PRISM_SWEEP_COMPLETED;
            r->message[0] = 0;
            done_time += took, done_count++;
            event = "completed";
        } else if (forwarded && ds == PRISM_SWEEP_INTERRUPTED) {
            r->state = PRISM_SWEEP_INTERRUPTED;
            event = "interrupted";
        } else if (forwarded && ds == PRISM_SWEEP_PENDING) {
            r->state = PRISM_SWEEP_PENDING; /* stopped before its first checkpoint */
            event = "interrupted";
        } else {
            r->failures++;
            if (WIFSIGNALED(ws))
                snprintf(r->message, sizeof r->message, "killed by signal %d (%s); see logs/%s.log",
                         WTERMSIG(ws), strsignal(WTERMSIG(ws)), r->id);
            else if (code == 2)
                snprintf(r->message, sizeof r->message,
                         "prism train rejected the configuration (exit 2); see logs/%s.log", r->id);
            else
                snprintf(r->message, sizeof r->message, "exit %d, run %s; see logs/%s.log", code,
                         why[0] ? why : "without run.json", r->id);
            /* a diverged run or a rejected configuration would repeat exactly: same seed, same
             * result. Anything else (a crash, an I/O error) gets one more attempt. */
            bool retry =
                !diverged && code != 2 && r->failures < PRISM_SWEEP_MAX_FAILURES && !forwarded;
            if (retry && (st = move_aside(dir, r->id))) retry = false;
            r->state = retry ? PRISM_SWEEP_PENDING : PRISM_SWEEP_FAILED;
            if (retry && w[k].run < next) next = w[k].run;
            event = retry ? "retrying" : "failed";
        }
        if ((io_error = prism_sweep_write_status(s, dir, "running", NULL))) st = io_error;
        emit(s, o, t0, done_time, done_count, r, event);
    }
    if (st) {
        /* a setup failure: stop the children we started, they checkpoint */
        char msg[1024];
        copy_str(msg, sizeof msg, prism_error_message());
        for (int k = 0; k < o->jobs; k++)
            if (w[k].pid > 0) kill(-w[k].pid, SIGINT);
        for (int k = 0; k < o->jobs; k++)
            if (w[k].pid > 0) {
                int ws;
                waitpid(w[k].pid, &ws, 0);
                s->runs[w[k].run].state = PRISM_SWEEP_INTERRUPTED;
            }
        prism_sweep_write_status(s, dir, st == PRISM_ERR_INTERRUPTED ? "interrupted" : "failed",
                                 NULL);
        prism_free(w);
        prism_dir_lock_release(&lock);
        return prism_error(st, "%s", msg);
    }
    prism_free(w);
    prism_sweep_counts c = prism_sweep_count(s);
    bool stopped = c.pending + c.interrupted > 0;
    const char *status = stopped ? "interrupted" : c.failed ? "failed" : "completed";
    st = prism_sweep_write_status(s, dir, status, NULL);
    prism_dir_lock_release(&lock); /* after the last write of sweep.json */
    if (st) return st;
    if (stopped)
        return prism_error(PRISM_ERR_INTERRUPTED,
                           "sweep stopped with %d run%s left; continue it with: prism sweep "
                           "--resume %s",
                           c.pending + c.interrupted, c.pending + c.interrupted == 1 ? "" : "s",
                           dir);
    return PRISM_OK;
}

/* ---- the Slurm backend ---- */

/* Single-quote `s` for sh into out[cap] ('\'' for each quote): bash then reads every other
 * byte literally, $(...), backticks, ';', globs and blanks included. The one way text enters
 * the scripts' shell code. PRISM_ERR_INVALID when it does not fit or holds a control
 * character (a newline would still be literal, but no path or option needs one). */
static prism_status sh_quote(char *out, size_t cap, const char *what, const char *s) {
    size_t n = 0;
    out[n++] = '\'';
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return prism_error(PRISM_ERR_INVALID,
                               "%s contains a newline or another control character; use a "
                               "plain one",
                               what);
        if (n + 6 >= cap)
            return prism_error(PRISM_ERR_INVALID, "%s is too long for the Slurm script", what);
        if (*p == '\'') {
            memcpy(out + n, "'\\''", 4);
            n += 4;
        } else
            out[n++] = *p;
    }
    out[n++] = '\'';
    out[n] = 0;
    return PRISM_OK;
}

/* A value for a #SBATCH line. sbatch, not the shell, reads those lines, with its own word and
 * quote rules and '%' patterns in file names, so instead of quoting, only characters it reads
 * literally are let through. */
static prism_status sbatch_value(const char *what, const char *v, const char *allowed) {
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(allowed, *p))
            return prism_error(PRISM_ERR_INVALID,
                               "%s '%s' has the character '%c' (0x%02x), which a #SBATCH line "
                               "cannot carry; use only letters, digits and %s",
                               what, v, isprint((unsigned char)*p) ? *p : '?',
                               (unsigned)(unsigned char)*p, allowed);
    if (!v[0]) return prism_error(PRISM_ERR_INVALID, "%s is empty", what);
    return PRISM_OK;
}

prism_status prism_sweep_slurm_write(const prism_sweep *s, const char *dir,
                                     const prism_sweep_slurm_options *o, char *array, size_t cap) {
    PRISM_ASSERT(o->exe && o->max_parallel >= 1);
    /* the array: every run not completed, as ranges */
    array[0] = 0;
    int todo = 0;
    for (int i = 0; i < s->nruns;) {
        if (s->runs[i].state == PRISM_SWEEP_COMPLETED) {
            i++;
            continue;
        }
        int j = i;
        while (j + 1 < s->nruns && s->runs[j + 1].state != PRISM_SWEEP_COMPLETED) j++;
        char piece[48];
        if (j > i)
            snprintf(piece, sizeof piece, "%s%d-%d", array[0] ? "," : "", i, j);
        else
            snprintf(piece, sizeof piece, "%s%d", array[0] ? "," : "", i);
        size_t len = strlen(array);
        if (len + strlen(piece) + 1 > cap)
            return prism_error(PRISM_ERR_INVALID, "the job array specification is too long");
        memcpy(array + len, piece, strlen(piece) + 1);
        todo += j - i + 1;
        i = j + 1;
    }
    if (todo == 0)
        return prism_error(PRISM_ERR_INVALID, "every run of %s is completed; nothing to submit",
                           dir);
    /* everything is checked before anything is written */
    char qexe[PRISM_PATH_MAX * 4], qdir[PRISM_PATH_MAX * 4], qname[96];
    prism_status st;
    if ((st = sh_quote(qexe, sizeof qexe, "the prism binary's path", o->exe)) ||
        (st = sh_quote(qdir, sizeof qdir, "the sweep directory", dir)) ||
        (st = sbatch_value("the sweep directory (in #SBATCH --output)", dir, "/_.,+-=@:")) ||
        (o->partition && (st = sbatch_value("--partition", o->partition, "_.,-"))) ||
        (o->time && (st = sbatch_value("--time", o->time, ":-"))))
        return st;
    /* the name is made of letters, digits and -_.+ (prism_sweep_init) */
    snprintf(qname, sizeof qname, "prism-%s", s->name);
    char sdir[PRISM_PATH_MAX];
    if ((st = pathf(sdir, sizeof sdir, "%s/slurm", dir)) || (st = prism_mkdir_p(sdir))) return st;
    int grace = o->grace_s > 0 ? o->grace_s : 120;

    /* array.sbatch */
    char head[4096];
    int n = snprintf(head, sizeof head,
                     "#!/bin/bash\n"
                     "# prism sweep %s: one array task per run; task k runs line k+1 of\n"
                     "# manifest.tsv (id, agent, preset, env, seed, settings). Written by\n"
                     "# `prism sweep --slurm`; resubmit what is left with\n"
                     "# `prism sweep --resume DIR --slurm`.\n"
                     "#SBATCH --job-name=%s\n"
                     "#SBATCH --array=%s%%%d\n"
                     "#SBATCH --ntasks=1\n"
                     "#SBATCH --cpus-per-task=1\n"
                     "#SBATCH --output=%s/logs/slurm-%%A_%%a.out\n"
                     "# TERM to this script %d s before the time limit: prism train then stops at\n"
                     "# the end of its episode and writes a checkpoint.\n"
                     "#SBATCH --signal=B:TERM@%d\n",
                     s->name, qname, array, o->max_parallel, dir, grace, grace);
    if (n < 0 || (size_t)n >= sizeof head) return prism_error(PRISM_ERR_INVALID, "path too long");
    if (o->partition)
        n += snprintf(head + n, sizeof head - (size_t)n, "#SBATCH --partition=%s\n", o->partition);
    if (o->time && (size_t)n < sizeof head)
        n += snprintf(head + n, sizeof head - (size_t)n, "#SBATCH --time=%s\n", o->time);
    if (n < 0 || (size_t)n >= sizeof head) return prism_error(PRISM_ERR_INVALID, "path too long");
    char body[8192];
    int m = snprintf(
        body, sizeof body,
        "set -u\n"
        "PRISM=%s\n"
        "SWEEP=%s\n"
        "line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" \"$SWEEP/manifest.tsv\")\n"
        "if [ -z \"$line\" ]; then echo \"no manifest line for task $SLURM_ARRAY_TASK_ID\" >&2; "
        "exit 2; fi\n"
        "IFS=$'\\t' read -r id agent preset env seed settings <<< \"$line\"\n"
        "# the id becomes a path: the same rule as prism's run ids (no '/', no leading '.')\n"
        "case \"$id\" in ''|.*|*/*) echo \"manifest line $((SLURM_ARRAY_TASK_ID + 1)): unusable "
        "run "
        "id '$id'; restore manifest.tsv\" >&2; exit 2;; esac\n"
        "run=\"$SWEEP/runs/$id\"\n"
        "if grep -q '\"status\": \"completed\"' \"$run/run.json\" 2>/dev/null; then\n"
        "    echo \"$id: already completed\"; exit 0\n"
        "fi\n"
        "if [ -f \"$run/checkpoints/latest\" ]; then\n"
        "    set -- \"$PRISM\" train --resume \"$run\" --quiet\n"
        "else\n"
        "    # a partial directory without a checkpoint cannot be continued: keep it aside\n"
        "    if [ -d \"$run\" ]; then mv \"$run\" \"$SWEEP/failed/$id.$(date +%%s)\"; fi\n"
        "    set -- \"$PRISM\" train \"$env\" --agent \"$preset\" --seed \"$seed\" "
        "--set \"agent=$agent\"\n"
        "    # settings are space-separated words: split them, but never expand them as globs\n"
        "    set -f\n"
        "    for kv in $settings; do set -- \"$@\" --set \"$kv\"; done\n"
        "    set +f\n"
        "    set -- \"$@\" --runs-dir \"$SWEEP/runs\" --run-id \"$id\" --quiet\n"
        "fi\n"
        "echo \"$id: $*\"\n"
        "# run in the background so this shell can pass Slurm's TERM on (bash defers traps\n"
        "# while a foreground child runs)\n"
        "\"$@\" >> \"$SWEEP/logs/$id.log\" 2>&1 &\n"
        "child=$!\n"
        "trap 'kill -TERM $child 2>/dev/null' TERM INT\n"
        "wait $child\n"
        "rc=$?\n"
        "while kill -0 $child 2>/dev/null; do wait $child; rc=$?; done\n"
        "echo \"$id: exit $rc\"\n"
        "exit $rc\n",
        qexe, qdir);
    if (m < 0 || (size_t)m >= sizeof body) return prism_error(PRISM_ERR_INVALID, "path too long");
    char path[PRISM_PATH_MAX], text[sizeof head + sizeof body];
    snprintf(text, sizeof text, "%s%s", head, body);
    if ((st = pathf(path, sizeof path, "%s/array.sbatch", sdir))) return st;
    if ((st = prism_file_write_atomic(path, text, strlen(text)))) return st;
    chmod(path, 0755);

    /* report.sbatch: the aggregation job (submitted with --dependency=afterok:<array>) */
    n = snprintf(text, sizeof text,
                 "#!/bin/bash\n"
                 "# prism sweep %s: the report, once every array task has succeeded.\n"
                 "#SBATCH --job-name=%s-report\n"
                 "#SBATCH --ntasks=1\n"
                 "#SBATCH --cpus-per-task=1\n"
                 "#SBATCH --output=%s/logs/slurm-report-%%j.out\n"
                 "%s%s%s"
                 "set -eu\n"
                 "PRISM=%s\n"
                 "SWEEP=%s\n"
                 "\"$PRISM\" report \"$SWEEP/runs\" -o \"$SWEEP/report.html\"\n"
                 "echo \"$SWEEP/report.html\"\n",
                 s->name, qname, dir, o->partition ? "#SBATCH --partition=" : "",
                 o->partition ? o->partition : "", o->partition ? "\n" : "", qexe, qdir);
    if (n < 0 || (size_t)n >= sizeof text) return prism_error(PRISM_ERR_INVALID, "path too long");
    if ((st = pathf(path, sizeof path, "%s/report.sbatch", sdir))) return st;
    if ((st = prism_file_write_atomic(path, text, strlen(text)))) return st;
    chmod(path, 0755);
    return PRISM_OK;
}

prism_status prism_sweep_capture(char *const *argv, char *out, size_t cap, int *exit_code) {
    PRISM_ASSERT(cap > 0);
    out[0] = 0;
    *exit_code = -1;
    int fds[2];
    if (pipe(fds) != 0)
        return prism_error(PRISM_ERR_IO, "cannot create a pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]), close(fds[1]);
        return prism_error(PRISM_ERR_IO, "cannot fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    for (;;) {
        char buf[512];
        ssize_t k = read(fds[0], buf, sizeof buf);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        size_t take = (size_t)k < cap - 1 - n ? (size_t)k : cap - 1 - n;
        memcpy(out + n, buf, take);
        n += take;
    }
    out[n] = 0;
    close(fds[0]);
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR) return prism_error(PRISM_ERR_IO, "waitpid: %s", strerror(errno));
    if (WIFEXITED(ws)) *exit_code = WEXITSTATUS(ws);
    if (*exit_code == 127)
        return prism_error(PRISM_ERR_NOT_FOUND, "cannot run '%s' (is it installed and on PATH?)",
                           argv[0]);
    return PRISM_OK;
}
