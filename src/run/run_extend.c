/* Extending a run's budget (prism train --resume RUN --steps N): the one change of
 * configuration a resume accepts. It rewrites config.ini and run.json's identity together,
 * under the run's lock, and records the extension in run.json, so the run stays one run with
 * its history said. It does not train: prism_train_resume does that afterwards. */
#include "prism/archive.h"
#include "prism/run_state.h"

#include <stdio.h>
#include <string.h>

/* The extra value `key` of the archive, or "" when it has none. */
static const char *extra_string(const prism_archive *a, const char *key) {
    for (int i = 0; i < a->nextra; i++)
        if (!strcmp(a->extra[i].key, key) && a->extra[i].kind == PRISM_ARCHIVE_STRING)
            return a->extra[i].s;
    return "";
}

prism_status prism_run_extend(const char *run_dir, long long steps) {
    prism_config cfg;
    prism_status st = prism_run_config_load(run_dir, &cfg);
    if (st) return st;
    const long long from = cfg.train.steps;
    if (steps <= from)
        return prism_error(PRISM_ERR_INVALID,
                           "--steps %lld does not extend the run in %s, whose budget is already "
                           "%lld steps; give more steps (a budget is never shortened)",
                           steps, run_dir, from);
    /* PQN's annealed learning rate falls to zero at the end of the budget: a larger budget
     * changes the rate of every update already made, so no extended run equals a longer one */
    if (cfg.agent_cfg.kind == PRISM_AGENT_PQN && cfg.agent_cfg.lr_anneal)
        return prism_error(PRISM_ERR_INVALID,
                           "the run in %s anneals its learning rate over its %lld steps "
                           "(agent.lr_anneal), so it cannot be extended to another budget; "
                           "start a new run with `prism train --config %s/config.ini --steps %lld`",
                           run_dir, from, run_dir, steps);
    prism_archive a;
    if ((st = prism_archive_open_locked(&a, run_dir))) return st;
    cfg.train.steps = steps;
    char when[32], history[PRISM_ARCHIVE_VALUE_MAX], hash[PRISM_CONFIG_HASH_HEX];
    prism_time_iso8601(prism_unix_time(), when, sizeof when);
    const char *before = extra_string(&a, "extensions");
    int n = snprintf(history, sizeof history, "%s%s%lld->%lld at %s", before, before[0] ? "; " : "",
                     from, steps, when);
    if (n < 0 || (size_t)n >= sizeof history) {
        prism_archive_close(&a);
        return prism_error(PRISM_ERR_INVALID,
                           "%s/run.json has no room to record another extension; start a new "
                           "run with `prism train --config %s/config.ini --steps %lld`",
                           run_dir, run_dir, steps);
    }
    prism_config_hash_hex(&cfg, hash);
    /* run.json first: a crash before config.ini is rewritten leaves a run whose identity check
     * fails with a message naming both files, never a run that silently trains another budget */
    snprintf(a.config_hash, sizeof a.config_hash, "%s", hash);
    if (!(st = prism_archive_set_string(&a, "extensions", history)))
        st = a.status == PRISM_RUN_COMPLETED
                 ? prism_archive_set_status(&a, PRISM_RUN_INTERRUPTED,
                                            "extended; resume to continue")
                 : prism_archive_update(&a);
    if (!st) st = prism_run_config_write(&cfg, run_dir);
    prism_archive_close(&a);
    return st;
}
