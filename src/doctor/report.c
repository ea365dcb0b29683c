/* The doctor's shared pieces: its options, the list of findings, and how it resolves the
 * configuration it examines (preset, then its small-probe overrides, then the user's sets).
 *
 * Not here: the examinations themselves (probes.c, engine.c, run_check.c, env_check.c).
 */
#include "prism/doctor.h"
#include "prism/presets.h"

#include <stdio.h>
#include <string.h>

prism_doctor_options prism_doctor_options_default(void) {
    prism_doctor_options o;
    memset(&o, 0, sizeof o);
    o.preset = "dqn";
    o.engine_env = "CartPole-v0";
    return o;
}

void prism_doctor_report_init(prism_doctor_report *r) {
    memset(r, 0, sizeof *r);
}

void prism_doctor_report_free(prism_doctor_report *r) {
    prism_free(r->checks);
    memset(r, 0, sizeof *r);
}

prism_status prism_doctor_report_add(prism_doctor_report *r, const prism_doctor_check *c) {
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 32;
        prism_doctor_check *grown = prism_alloc(sizeof *grown * (size_t)cap);
        if (!grown)
            return prism_error(PRISM_ERR_NOMEM, "out of memory growing the doctor's report");
        if (r->n) memcpy(grown, r->checks, sizeof *grown * (size_t)r->n);
        prism_free(r->checks);
        r->checks = grown;
        r->cap = cap;
    }
    r->checks[r->n++] = *c;
    switch (c->verdict) {
    case PRISM_DOCTOR_PASS:
        r->passed++;
        break;
    case PRISM_DOCTOR_FAIL:
        r->failed++;
        break;
    case PRISM_DOCTOR_SKIP:
        r->skipped++;
        break;
    case PRISM_DOCTOR_WARN:
        r->warned++;
        break;
    }
    return PRISM_OK;
}

prism_status prism_doctor_report_check(prism_doctor_report *r, const char *name, const char *what,
                                       double expected, double learned, double tolerance,
                                       prism_doctor_verdict verdict, const char *message) {
    prism_doctor_check c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.what, sizeof c.what, "%s", what);
    c.expected = expected;
    c.learned = learned;
    c.tolerance = tolerance;
    c.verdict = verdict;
    snprintf(c.message, sizeof c.message, "%s", message ? message : "");
    return prism_doctor_report_add(r, &c);
}

/* The doctor's small-probe overrides: a 32-32 net trains to three-digit precision on a probe in
 * a few thousand updates; one update per step from 64 stored transitions on makes every step
 * count; a target sync every 50 steps lets values propagate down probe-nstep's five positions
 * many times over; constant epsilon 0.5 visits both actions of probes 4 and 5 (off-policy
 * targets do not depend on it). lr 1e-3 for every preset: Rainbow's 1e-4 is tuned for
 * CartPole's noisy returns, not for seconds-long probes. The C51 support [-1.25, 1.25] puts
 * an atom exactly on -1, 0 and +1 (dz = 0.05 with 51 atoms) and still leaves room above 1
 * for a value that drifts. */
static const char probe_overrides[] =
    "agent.hidden=32,32 agent.conv_channels=0 agent.batch_size=32 agent.replay_capacity=10000 "
    "agent.min_replay=64 agent.update_period=1 agent.target_period=50 agent.lr=1e-3 "
    "agent.eps_start=1 agent.eps_end=1 agent.eps_decay_steps=0 agent.eps_warmup=0 "
    "agent.obs_minmax=false agent.v_max=1.25 agent.reward_clip=false";

prism_status prism_doctor_config(const prism_doctor_options *o, const char *env_id, bool probe,
                                 prism_config *out) {
    prism_config_defaults(out);
    prism_status st = prism_preset_apply(out, o->preset ? o->preset : "dqn", env_id);
    if (st) return st;
    if (probe && (st = prism_config_apply(out, probe_overrides))) return st;
    bool user_lr = false, user_init = false;
    for (int i = 0; i < o->n_sets; i++) {
        const char *kv = o->sets[i];
        const char *eq = strchr(kv, '=');
        if (!eq) return prism_error(PRISM_ERR_INVALID, "--set needs key=value (got '%s')", kv);
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
        if ((st = prism_config_set(out, key, eq + 1))) return st;
        if (!strcmp(key, "agent.lr")) user_lr = true;
        if (!strcmp(key, "agent.init")) user_init = true;
    }
    /* after the user's sets, so that --set agent.distributional=true gets it too */
    if (probe && out->agent_cfg.distributional && !user_lr &&
        (st = prism_config_set(out, "agent.lr", "1e-2")))
        return st;
    /* The implicit head multiplies the features by the embedding of tau. On probes whose only
     * observation is 0, initialisers with zero biases (the presets' glorot_uniform) leave every
     * hidden unit at exactly 0, where the ReLU passes no gradient: the features stay 0 and the
     * quantiles cannot depend on tau. PyTorch's default init draws the biases too. */
    if (probe && out->agent_cfg.distributional && out->agent_cfg.head == PRISM_HEAD_IMPLICIT &&
        !user_init && (st = prism_config_set(out, "agent.init", "torch_default")))
        return st;
    return PRISM_OK;
}
