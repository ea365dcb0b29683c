/* probe-distributional: one step with a coin-flip reward, for distributional agents.
 *
 * One action, observation 0, one step ending by termination with reward +1 or -1 (1/2 each).
 * The expected value is 0, so an expectation-based agent learns Q = 0 whatever; a
 * distributional (C51) agent must learn two peaks of mass 1/2 at -1 and +1 (after projection
 * onto its support, the atoms next to -1 and +1). A single peak at 0 means the projection or
 * the cross-entropy target is wrong.
 * Not here: multi-step return distributions (the projection's discounting is also exercised
 * by probe-nstep with a distributional agent).
 */
#include "prism/probes.h"
#include "../mdp/mdp_env.h"

static const char *const names[3] = {"obs=0", "end (+1)", "end (-1)"};
static const float obs[3] = {0, 0, 0};
static const double start[1] = {1};
static const double p[1 * 1 * 3] = {0, 0.5, 0.5};
static const double r[1 * 1 * 3] = {0, 1, -1};

const prism_mdp prism_probe_distributional_model = {
    .env_id = "probe-distributional",
    .num_states = 1,
    .num_terminal = 2,
    .num_actions = 1,
    .obs_size = 1,
    .state_names = names,
    .obs = obs,
    .start = start,
    .p = p,
    .r = r,
};

static void init(void *state) {
    ((prism_mdp_env_state *)state)->m = &prism_probe_distributional_model;
}

static const char *const action_names[1] = {"only action"};

const prism_env_class prism_probe_distributional = PRISM_MDP_ENV_CLASS(
    "probe-distributional", "probe: 1 step, reward +1 or -1 (1/2 each): two return peaks",
    "prism probe (distributional RL, C51)", init, 1, 1, action_names, 0);

static double q(int s, int a, double gamma) {
    (void)s, (void)a, (void)gamma;
    return 0.0;
}

static int distribution(int s, int a, double gamma, double *values, double *probs, int max) {
    (void)s, (void)a, (void)gamma;
    static const double v[2] = {-1, 1};
    int n = max < 2 ? max : 2;
    for (int i = 0; i < n; i++) values[i] = v[i], probs[i] = 0.5;
    return n;
}

const prism_probe prism_probe_distributional_info = {
    .env_id = "probe-distributional",
    .title = "distributional probe: one step, reward +1 or -1 with probability 1/2",
    .implicates = "the return distribution is not bimodal at -1 and +1: check the projection "
                  "of the target onto the support and the cross-entropy loss",
    .model = &prism_probe_distributional_model,
    .q = q,
    .distribution = distribution,
};
