/* probe-prioritized: a rare rewarding state among common empty ones, for prioritized replay.
 *
 * One action, one step ending by termination. The observation is 1 with probability 1/10
 * (reward +1) and 0 otherwise (reward 0), so TD errors are skewed: the rare transitions carry
 * all the error, get high priority and importance weights below 1, while the common ones get
 * weights at the maximum of 1. A checker trains on it and asserts that every importance
 * weight is finite and in (0, 1] (normalised by the maximum) and that the values are right:
 * Q(0) = 0, Q(1) = 1.
 * Not here: the weight check itself, which needs the replay buffer (the doctor's job).
 */
#include "prism/probes.h"
#include "../mdp/mdp_env.h"

static const char *const names[3] = {"obs=0", "obs=1", "end"};
static const float obs[3] = {0, 1, 0};
static const double start[2] = {0.9, 0.1};
static const double p[2 * 1 * 3] = {0, 0, 1, 0, 0, 1};
static const double r[2 * 1 * 3] = {0, 0, 0, 0, 0, 1};

const prism_mdp prism_probe_prioritized_model = {
    .env_id = "probe-prioritized",
    .num_states = 2,
    .num_terminal = 1,
    .num_actions = 1,
    .obs_size = 1,
    .state_names = names,
    .obs = obs,
    .start = start,
    .p = p,
    .r = r,
};

static void init(void *state) {
    ((prism_mdp_env_state *)state)->m = &prism_probe_prioritized_model;
}

static const char *const action_names[1] = {"only action"};

const prism_env_class prism_probe_prioritized = PRISM_MDP_ENV_CLASS(
    "probe-prioritized", "probe: 1 step, obs 1 (reward +1) rare at 1/10, else obs 0 (reward 0)",
    "prism probe (prioritized replay)", init, 1, 1, action_names, 0);

static double q(int s, int a, double gamma) {
    (void)a, (void)gamma;
    return s == 1 ? 1.0 : 0.0;
}

const prism_probe prism_probe_prioritized_info = {
    .env_id = "probe-prioritized",
    .title = "prioritized probe: reward +1 in a rare state (1/10), 0 in the common one",
    .implicates = "check the priorities (|TD error| + eps, to the power alpha) and the "
                  "importance weights (finite, in (0, 1], normalised by the maximum)",
    .model = &prism_probe_prioritized_model,
    .q = q,
};
