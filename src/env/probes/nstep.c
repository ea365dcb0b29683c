/* probe-nstep: a chain of five steps with the reward at the end, for n-step returns.
 *
 * One action. Observation: the position one-hot (5 floats), starting at position 0; each step
 * moves one position to the right with reward 0, and the step from position 4 ends the episode
 * (terminated) with reward +1, final observation all zeros. Q(position k) = gamma^(4 - k):
 * an n-step return assembled with the wrong power of gamma, or over one step too many or too
 * few, gives a visibly different value at the first positions (e.g. gamma^3 or gamma^5 instead
 * of gamma^4 at position 0). Five positions: longer than the usual n = 3, short enough to
 * learn in seconds.
 * Not here: stochastic rewards (probe-distributional) or branching.
 */
#include "prism/probes.h"
#include "../mdp/mdp_env.h"

#include <math.h>

enum { L = 5 }; /* positions */

static const char *const names[L + 1] = {"pos=0", "pos=1", "pos=2", "pos=3", "pos=4", "end"};
static const float obs[(L + 1) * L] = {
    1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
};
static const double start[L] = {1, 0, 0, 0, 0};
/* (L, 1, L + 1): position k moves to k + 1; position 4 to the terminal state */
static const double p[L * (L + 1)] = {
    0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1,
};
static const double r[L * (L + 1)] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
};

const prism_mdp prism_probe_nstep_model = {
    .env_id = "probe-nstep",
    .num_states = L,
    .num_terminal = 1,
    .num_actions = 1,
    .obs_size = L,
    .state_names = names,
    .obs = obs,
    .start = start,
    .p = p,
    .r = r,
};

static void init(void *state) {
    ((prism_mdp_env_state *)state)->m = &prism_probe_nstep_model;
}

static const char *const action_names[1] = {"only action"};

const prism_env_class prism_probe_nstep = PRISM_MDP_ENV_CLASS(
    "probe-nstep", "probe: 5-step chain, one-hot position, +1 at the end (Q = gamma^(4-k))",
    "prism probe (n-step returns)", init, L, 1, action_names, 0);

static double q(int s, int a, double gamma) {
    (void)a;
    return pow(gamma, (double)(L - 1 - s));
}

const prism_probe prism_probe_nstep_info = {
    .env_id = "probe-nstep",
    .title = "n-step probe: a 5-step chain with +1 at the end; Q(position k) = gamma^(4 - k)",
    .implicates = "check the n-step return assembly: the discount powers, the number of "
                  "rewards summed (off by one), and truncation of the sum at episode ends",
    .model = &prism_probe_nstep_model,
    .q = q,
};
