/* Andy Jones's five probe environments ("Debugging RL, Without the Agonizing Pain", 2021),
 * as models (prism/mdp.h), environments and analytic answers (prism/probes.h).
 *
 *   probe-1-constant   one action, observation 0, one step, reward +1: Q = 1
 *   probe-2-obs-reward one action, observation -1 or +1 (1/2 each), one step, reward = the
 *                      observation: Q(obs) = obs
 *   probe-3-discount   one action, two steps: observation 0, then 1, reward +1 at the end:
 *                      Q(0) = gamma, Q(1) = 1
 *   probe-4-action     two actions, observation 0, one step: action 0 gives -1, action 1
 *                      gives +1 (the good action is not action 0, so an argmax that always
 *                      answers 0 fails): Q(0, a0) = -1, Q(0, a1) = +1
 *   probe-5-match      two actions, observation -1 or +1 (1/2 each), one step: +1 when the
 *                      action matches the observation (action 0 matches -1, action 1 matches
 *                      +1), -1 otherwise
 * Every episode ends by termination; the final observation is 0. No time limit.
 * Not here: the larger probes (truncation, n-step, distributional, prioritized), which have a
 * file each.
 */
#include "prism/probes.h"
#include "../mdp/mdp_env.h"

static const char *const one_action[1] = {"only action"};
static const double half_half[2] = {0.5, 0.5};
static const double certain[1] = {1};

/* ---- probe 1: a constant ---- */

static const char *const p1_names[2] = {"obs=0", "end"};
static const float p1_obs[2] = {0, 0};
static const double p1_p[1 * 1 * 2] = {0, 1};
static const double p1_r[1 * 1 * 2] = {0, 1};

const prism_mdp prism_probe_constant_model = {
    .env_id = "probe-1-constant",
    .num_states = 1,
    .num_terminal = 1,
    .num_actions = 1,
    .obs_size = 1,
    .state_names = p1_names,
    .obs = p1_obs,
    .start = certain,
    .p = p1_p,
    .r = p1_r,
};

static void p1_init(void *state) {
    ((prism_mdp_env_state *)state)->m = &prism_probe_constant_model;
}

const prism_env_class prism_probe_constant =
    PRISM_MDP_ENV_CLASS("probe-1-constant", "probe: 1 action, obs 0, 1 step, reward +1 (Q = 1)",
                        "Andy Jones's probe environment 1", p1_init, 1, 1, one_action, 0);

static double p1_q(int s, int a, double gamma) {
    (void)s, (void)a, (void)gamma;
    return 1.0;
}

const prism_probe prism_probe_constant_info = {
    .env_id = "probe-1-constant",
    .title = "probe 1: one action, observation 0, one step, reward +1",
    .implicates = "the value network or optimizer cannot fit a constant: check the loss, the "
                  "learning rate and the gradient flow",
    .model = &prism_probe_constant_model,
    .q = p1_q,
};

/* ---- probe 2: reward given by the observation ---- */

static const char *const p2_names[3] = {"obs=-1", "obs=+1", "end"};
static const float p2_obs[3] = {-1, 1, 0};
static const double p2_p[2 * 1 * 3] = {0, 0, 1, 0, 0, 1};
static const double p2_r[2 * 1 * 3] = {0, 0, -1, 0, 0, 1};

const prism_mdp prism_probe_obs_reward_model = {
    .env_id = "probe-2-obs-reward",
    .num_states = 2,
    .num_terminal = 1,
    .num_actions = 1,
    .obs_size = 1,
    .state_names = p2_names,
    .obs = p2_obs,
    .start = half_half,
    .p = p2_p,
    .r = p2_r,
};

static void p2_init(void *state) {
    ((prism_mdp_env_state *)state)->m = &prism_probe_obs_reward_model;
}

const prism_env_class prism_probe_obs_reward =
    PRISM_MDP_ENV_CLASS("probe-2-obs-reward", "probe: 1 action, obs -1 or +1, 1 step, reward = obs",
                        "Andy Jones's probe environment 2", p2_init, 1, 1, one_action, 0);

static double p2_q(int s, int a, double gamma) {
    (void)a, (void)gamma;
    return s == 0 ? -1.0 : 1.0;
}

const prism_probe prism_probe_obs_reward_info = {
    .env_id = "probe-2-obs-reward",
    .title = "probe 2: one action, observation -1 or +1, one step, reward = observation",
    .implicates = "the value does not depend on the observation: check backpropagation "
                  "through the network and that observations reach it",
    .model = &prism_probe_obs_reward_model,
    .q = p2_q,
};

/* ---- probe 3: two steps, discounting ---- */

static const char *const p3_names[3] = {"obs=0", "obs=1", "end"};
static const float p3_obs[3] = {0, 1, 0};
static const double p3_start[2] = {1, 0};
static const double p3_p[2 * 1 * 3] = {0, 1, 0, 0, 0, 1};
static const double p3_r[2 * 1 * 3] = {0, 0, 0, 0, 0, 1};

const prism_mdp prism_probe_discount_model = {
    .env_id = "probe-3-discount",
    .num_states = 2,
    .num_terminal = 1,
    .num_actions = 1,
    .obs_size = 1,
    .state_names = p3_names,
    .obs = p3_obs,
    .start = p3_start,
    .p = p3_p,
    .r = p3_r,
};

static void p3_init(void *state) {
    ((prism_mdp_env_state *)state)->m = &prism_probe_discount_model;
}

const prism_env_class prism_probe_discount = PRISM_MDP_ENV_CLASS(
    "probe-3-discount", "probe: 1 action, obs 0 then 1, reward +1 at the end (Q(0) = gamma)",
    "Andy Jones's probe environment 3", p3_init, 1, 1, one_action, 0);

static double p3_q(int s, int a, double gamma) {
    (void)a;
    return s == 0 ? gamma : 1.0;
}

const prism_probe prism_probe_discount_info = {
    .env_id = "probe-3-discount",
    .title = "probe 3: one action, two steps (observation 0 then 1), reward +1 at the end",
    .implicates = "check discounting and terminal masking (the target of the last step "
                  "must not bootstrap; the first must, with gamma)",
    .model = &prism_probe_discount_model,
    .q = p3_q,
};

/* ---- probe 4: the action matters ---- */

static const char *const p4_names[2] = {"obs=0", "end"};
static const float p4_obs[2] = {0, 0};
static const double p4_p[1 * 2 * 2] = {0, 1, 0, 1};
static const double p4_r[1 * 2 * 2] = {0, -1, 0, 1};

const prism_mdp prism_probe_action_model = {
    .env_id = "probe-4-action",
    .num_states = 1,
    .num_terminal = 1,
    .num_actions = 2,
    .obs_size = 1,
    .state_names = p4_names,
    .obs = p4_obs,
    .start = certain,
    .p = p4_p,
    .r = p4_r,
};

static void p4_init(void *state) {
    ((prism_mdp_env_state *)state)->m = &prism_probe_action_model;
}

static const char *const p4_actions[2] = {"bad (-1)", "good (+1)"};

const prism_env_class prism_probe_action = PRISM_MDP_ENV_CLASS(
    "probe-4-action", "probe: 2 actions, obs 0, 1 step, a0 gives -1, a1 gives +1",
    "Andy Jones's probe environment 4", p4_init, 1, 2, p4_actions, 0);

static double p4_q(int s, int a, double gamma) {
    (void)s, (void)gamma;
    return a == 1 ? 1.0 : -1.0;
}

const prism_probe prism_probe_action_info = {
    .env_id = "probe-4-action",
    .title = "probe 4: two actions, observation 0, one step, reward -1 (a0) or +1 (a1)",
    .implicates = "the update does not reach the Q-value of the action taken: check the "
                  "gather of Q(s, a) in the loss and the argmax of the policy",
    .model = &prism_probe_action_model,
    .q = p4_q,
};

/* ---- probe 5: the action must match the observation ---- */

static const char *const p5_names[3] = {"obs=-1", "obs=+1", "end"};
static const float p5_obs[3] = {-1, 1, 0};
static const double p5_p[2 * 2 * 3] = {0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1};
static const double p5_r[2 * 2 * 3] = {0, 0, 1, 0, 0, -1, 0, 0, -1, 0, 0, 1};

const prism_mdp prism_probe_match_model = {
    .env_id = "probe-5-match",
    .num_states = 2,
    .num_terminal = 1,
    .num_actions = 2,
    .obs_size = 1,
    .state_names = p5_names,
    .obs = p5_obs,
    .start = half_half,
    .p = p5_p,
    .r = p5_r,
};

static void p5_init(void *state) {
    ((prism_mdp_env_state *)state)->m = &prism_probe_match_model;
}

static const char *const p5_actions[2] = {"say -1", "say +1"};

const prism_env_class prism_probe_match = PRISM_MDP_ENV_CLASS(
    "probe-5-match", "probe: 2 actions, obs -1 or +1, +1 if the action matches, else -1",
    "Andy Jones's probe environment 5", p5_init, 1, 2, p5_actions, 0);

static double p5_q(int s, int a, double gamma) {
    (void)gamma;
    return s == a ? 1.0 : -1.0; /* state 0 is obs -1, matched by action 0 */
}

const prism_probe prism_probe_match_info = {
    .env_id = "probe-5-match",
    .title = "probe 5: two actions, observation -1 or +1, +1 when the action matches",
    .implicates = "observations and actions are not paired correctly: check batching and "
                  "indexing of (obs, action) in replay and in the loss",
    .model = &prism_probe_match_model,
    .q = p5_q,
};
