/* prism eval RUN --precision-diff N: how often the other precision (nn.precision fp32 <-> bf16)
 * would act differently. Plays the run's greedy policy (epsilon 0) on its evaluation
 * environment, from the checkpoint's streams or --seed's, and at each of the first N states
 * compares the greedy action of the run's network with that of the same weights at the other
 * precision. Each action is chosen exactly as `prism eval` chooses it (observation scaling,
 * mean weights for noisy nets, the evaluation stream's fractions for an implicit head, which
 * both choices draw alike); the run's own action moves the environment on.
 *
 * Not here: evaluation returns (cmd_eval.c). */
#include "cli.h"
#include "prism/json.h"
#include "prism/run_state.h"

#include <stdio.h>
#include <stdlib.h>

/* The greedy action of t's agent with its online net swapped for `alt`, from the evaluation
 * stream state `rng` (left as it was). */
static int act_with(prism_run_state *t, prism_nn *alt, const float *obs, prism_rng rng) {
    prism_nn own = t->agent.online;
    prism_rng keep = t->agent.eval_rng;
    t->agent.online = *alt;
    t->agent.eval_rng = rng;
    int a = prism_agent_act(&t->agent, obs, true);
    *alt = t->agent.online; /* taus set on it, eval flag restored */
    t->agent.online = own;
    t->agent.eval_rng = keep;
    return a;
}

int eval_precision_diff(prism_run_state *t, long long states, bool json) {
    const prism_nn *on = &t->agent.online;
    prism_nn_config c = on->cfg;
    c.precision = c.precision == PRISM_NN_BF16 ? PRISM_NN_FP32 : PRISM_NN_BF16;
    prism_nn alt;
    prism_status st = prism_nn_init_taus(&alt, &c, on->max_batch, on->max_taus, 0);
    if (st) return cli_fail("eval", st, NULL);
    prism_nn_copy_params(&alt, on);
    prism_nn_noise_copy(&alt, on);
    t->agent.cfg.eps_eval = 0;
    const int D = prism_env_obs_size(t->eval_env.cls);
    float *obs = malloc(sizeof(float) * (size_t)D);
    if (!obs) {
        prism_nn_free(&alt);
        return cli_fail("eval", prism_error(PRISM_ERR_NOMEM, "out of memory"), NULL);
    }
    long long differ = 0, episodes = 0;
    prism_env_reset(&t->eval_env, obs);
    for (long long n = 0; n < states; n++) {
        prism_rng before = t->agent.eval_rng;
        int a = prism_agent_act(&t->agent, obs, true);
        differ += act_with(t, &alt, obs, before) != a;
        prism_step s = prism_env_step(&t->eval_env, a, obs);
        if (s.terminated || s.truncated) {
            episodes++;
            prism_env_reset(&t->eval_env, obs);
        }
    }
    free(obs);
    prism_nn_free(&alt);
    const char *own = c.precision == PRISM_NN_BF16 ? "fp32" : "bf16";
    const char *other = c.precision == PRISM_NN_BF16 ? "bf16" : "fp32";
    const double frac = (double)differ / (double)states;
    if (json) {
        prism_json j;
        prism_json_init(&j, 0);
        prism_json_object_begin(&j);
        prism_json_kv_string(&j, "checkpoint", t->checkpoint);
        prism_json_kv_string(&j, "env", t->cfg.env);
        prism_json_kv_string(&j, "agent", t->cfg.agent);
        prism_json_kv_string(&j, "precision", own);
        prism_json_kv_string(&j, "compared_with", other);
        prism_json_kv_int(&j, "states", states);
        prism_json_kv_int(&j, "episodes_completed", episodes);
        prism_json_kv_int(&j, "greedy_actions_differ", differ);
        prism_json_kv_double(&j, "fraction_differ", frac);
        prism_json_object_end(&j);
        return cli_json_print("eval", &j);
    }
    printf("%s on %s, checkpoint %s: greedy actions at %s and %s differ on %lld of %lld states "
           "(%.4f%%; %lld episodes completed)\n",
           t->cfg.agent, t->cfg.env, t->checkpoint, own, other, differ, states, 100.0 * frac,
           episodes);
    return CLI_OK;
}
