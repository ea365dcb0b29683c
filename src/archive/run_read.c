/* The one reader of run.json: the text the archive writes (archive.c) back into a typed record,
 * with the status as its enum and every integer range-checked before conversion. The index,
 * resume, the report, sweeps and `prism runs` all read run.json through it. Not the writer
 * (archive.c) and not the index (run_index.c). */
#include "prism/archive.h"

#include <math.h>
#include <string.h>

/* Copy with truncation (memcpy rather than snprintf: truncation is intended here). */
static void copy_str(char *dst, size_t cap, const char *src) {
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = 0;
}

static void get_str(const prism_json_value *o, const char *key, char *dst, size_t cap) {
    copy_str(dst, cap, prism_json_get_string(o, key, ""));
}

/* An integer member into *out, left at its default when absent or null. */
static prism_status get_int(const prism_json_value *o, const char *key, const char *path,
                            long long *out) {
    prism_status st = prism_json_get_int64(o, key, path, out);
    return st == PRISM_ERR_NOT_FOUND ? PRISM_OK : st;
}

/* extra / metrics: integral numbers that a double holds exactly read as integers, other
 * numbers as doubles, null (how a NaN double was written) as NaN, strings as strings. */
static void get_values(const prism_json_value *obj, prism_archive_value *v, int *n, int max) {
    *n = 0;
    if (!obj || obj->type != PRISM_JSON_OBJECT) return;
    for (const prism_json_value *c = obj->child; c && *n < max; c = c->next) {
        prism_archive_value *d = &v[(*n)++];
        memset(d, 0, sizeof *d);
        copy_str(d->key, sizeof d->key, c->key);
        if (c->type == PRISM_JSON_STRING) {
            d->kind = PRISM_ARCHIVE_STRING;
            copy_str(d->s, sizeof d->s, c->string);
        } else if (c->type == PRISM_JSON_NUMBER && fabs(c->number) < 9007199254740992.0 &&
                   c->number == floor(c->number)) {
            d->kind = PRISM_ARCHIVE_INT;
            d->i = (long long)c->number;
        } else {
            d->kind = PRISM_ARCHIVE_DOUBLE;
            d->d = c->type == PRISM_JSON_NUMBER ? c->number : (double)NAN;
        }
    }
}

prism_status prism_run_read(const char *run_dir, prism_run_meta *m) {
    memset(m, 0, sizeof *m);
    char path[PRISM_PATH_MAX];
    prism_status st = prism_path_join(path, sizeof path, run_dir, "run.json");
    if (st) return st;
    char *text;
    size_t len;
    st = prism_file_read_max(path, PRISM_RUN_JSON_MAX_BYTES, &text, &len);
    if (st) return st;
    prism_json_value *doc = NULL;
    st = prism_json_parse(text, len, path, &doc);
    prism_free(text);
    if (st) return st;
    const char *status = prism_json_get_string(doc, "status", NULL);
    if (doc->type != PRISM_JSON_OBJECT || !status) {
        prism_json_value_free(doc);
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s: not a prism run.json (no \"status\"); was the run written by "
                           "prism train?",
                           path);
    }
    if (prism_run_status_parse(status, &m->status)) {
        char why[512];
        copy_str(why, sizeof why, prism_error_message());
        prism_json_value_free(doc);
        return prism_error(PRISM_ERR_CORRUPT, "%s: %s", path, why);
    }
    m->doc = doc;
    const char *slash = strrchr(run_dir, '/');
    copy_str(m->id, sizeof m->id,
             prism_json_get_string(doc, "id", slash && slash[1] ? slash + 1 : run_dir));
    get_str(doc, "message", m->message, sizeof m->message);
    get_str(doc, "env", m->env, sizeof m->env);
    get_str(doc, "agent", m->agent, sizeof m->agent);
    get_str(doc, "config_hash", m->config_hash, sizeof m->config_hash);
    get_str(doc, "start", m->start, sizeof m->start);
    get_str(doc, "end", m->end, sizeof m->end);
    m->start_unix = prism_json_get_number(doc, "start_unix", NAN);
    m->end_unix = prism_json_get_number(doc, "end_unix", NAN);
    m->duration = prism_json_get_number(doc, "duration_s", NAN);
    m->final_return = prism_json_get_number(doc, "final_return", NAN);
    get_str(doc, "cwd", m->cwd, sizeof m->cwd);
    get_str(doc, "host", m->host, sizeof m->host);
    get_str(doc, "cpu", m->cpu, sizeof m->cpu);
    get_str(doc, "prism_version", m->prism_version, sizeof m->prism_version);
    const prism_json_value *b = prism_json_get(doc, "build");
    get_str(b, "commit", m->build.commit, sizeof m->build.commit);
    const prism_json_value *dirty = prism_json_get(b, "dirty");
    m->build.dirty = dirty && dirty->type == PRISM_JSON_BOOL && dirty->boolean;
    get_str(b, "compiler", m->build.compiler, sizeof m->build.compiler);
    get_str(b, "flags", m->build.flags, sizeof m->build.flags);
    get_str(b, "source_dir", m->build.source_dir, sizeof m->build.source_dir);
    long long resumed = 0;
    st = prism_json_get_uint64(doc, "seed", path, &m->seed);
    if (st == PRISM_ERR_NOT_FOUND) st = PRISM_OK;
    if (!st) st = get_int(doc, "steps", path, &m->steps);
    if (!st) st = get_int(doc, "resumed", path, &resumed);
    if (!st && (resumed < 0 || resumed > 1000000))
        st = prism_error(PRISM_ERR_CORRUPT, "%s: \"resumed\" is %lld, not a count of resumes", path,
                         resumed);
    if (!st) st = get_int(doc, "pid", path, &m->pid);
    if (!st) st = get_int(b, "diff_bytes", path, &m->build.diff_bytes);
    if (st) {
        prism_run_meta_free(m);
        return st;
    }
    m->resumed = (int)resumed;
    get_values(prism_json_get(doc, "extra"), m->extra, &m->nextra, PRISM_ARCHIVE_MAX_EXTRA);
    get_values(prism_json_get(doc, "metrics"), m->metrics, &m->nmetrics, PRISM_ARCHIVE_MAX_METRICS);
    return PRISM_OK;
}

void prism_run_meta_free(prism_run_meta *m) {
    prism_json_value_free(m->doc);
    m->doc = NULL;
}
