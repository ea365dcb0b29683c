/* probe-truncation: a time limit cuts the episode, and the target must bootstrap.
 *
 * One action. An episode starts at observation 0 or 1 (1/2 each). From 1 the step ends the
 * episode by termination with reward +1. From 0 the step leads to observation 1 with reward
 * 0, but the default time limit of one step truncates the episode there (truncated, not
 * terminated). A learner that bootstraps on truncation finds Q(0) = gamma * Q(1) = gamma;
 * one that treats the time limit as a terminal state finds Q(0) = 0. The analytic values do
 * not depend on the time limit (max_episode_steps = 0 lets 0 -> 1 -> end run in full), which
 * is the point: a time limit must not change what the agent learns.
 * Not here: partial observability of the remaining time (the observation does not show it,
 * on purpose, as in Pardo et al. 2018's "time limits" setting).
 */
#include "prism/probes.h"
#include "../mdp/mdp_env.h"

static const char *const names[3] = {"obs=0", "obs=1", "end"};
static const float obs[3] = {0, 1, 0};
static const double start[2] = {0.5, 0.5};
static const double p[2 * 1 * 3] = {0, 1, 0, 0, 0, 1};
static const double r[2 * 1 * 3] = {0, 0, 0, 0, 0, 1};

const prism_mdp prism_probe_truncation_model = {
    .env_id = "probe-truncation",
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
    ((prism_mdp_env_state *)state)->m = &prism_probe_truncation_model;
}

static const char *const action_names[1] = {"only action"};

const prism_env_class prism_probe_truncation = PRISM_MDP_ENV_CLASS(
    "probe-truncation", "probe: 1-step time limit truncates 0 -> 1; Q(0) = gamma * Q(1)",
    "prism probe (Pardo et al. 2018, time limits in RL)", init, 1, 1, action_names, 1);

static double q(int s, int a, double gamma) {
    (void)a;
    return s == 0 ? gamma : 1.0;
}

const prism_probe prism_probe_truncation_info = {
    .env_id = "probe-truncation",
    .title = "truncation probe: a 1-step time limit cuts 0 -> 1; Q(0) = gamma * Q(1)",
    .implicates = "a truncated episode is treated as terminal: bootstrap from the real final "
                  "observation when the time limit (not a terminal state) ends an episode",
    .model = &prism_probe_truncation_model,
    .q = q,
};
