/* homl-mdp: the three-state MDP of Hands-On Machine Learning (Géron, 3rd ed., ch. 18,
 * figure 18-8), as a model (prism/mdp.h) and as an environment sampling it.
 *
 * States s0, s1, s2, observed one-hot (3 floats); actions a0, a1, a2 with possible actions
 * [[a0, a1, a2], [a0, a2], [a1]]. Transition probabilities and rewards are the book's
 * (ageron/handson-ml3, 18_reinforcement_learning.ipynb):
 *   s0: a0 -> [0.7, 0.3, 0] rewards [+10, 0, 0]; a1 -> [1, 0, 0]; a2 -> [0.8, 0.2, 0]
 *   s1: a0 -> [0, 1, 0];  a2 -> [0, 0, 1] rewards [0, 0, -50]
 *   s2: a1 -> [0.8, 0.1, 0.1] rewards [+40, 0, 0]
 * The process never terminates and, as in the book, has no time limit (set
 * max_episode_steps for episodic statistics). An unavailable action is a no-op (reward 0,
 * state unchanged): see prism/mdp.h and docs/tabular.md.
 * Not here: the book's Markov chain and Markov reward examples (no actions to learn).
 */
#include "mdp_env.h"

enum { S = 3, T = 0, A = 3, N = S + T };

static const char *const state_names[N] = {"s0", "s1", "s2"};
static const float obs[N * S] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
static const double start[S] = {1, 0, 0}; /* the book's runs start in s0 */

/* (S, A, N); rows of unavailable actions are zero */
static const double p[S * A * N] = {
    0.7, 0.3, 0.0, /* s0 a0 */
    1.0, 0.0, 0.0, /* s0 a1 */
    0.8, 0.2, 0.0, /* s0 a2 */
    0.0, 1.0, 0.0, /* s1 a0 */
    0.0, 0.0, 0.0, /* s1 a1: impossible */
    0.0, 0.0, 1.0, /* s1 a2 */
    0.0, 0.0, 0.0, /* s2 a0: impossible */
    0.8, 0.1, 0.1, /* s2 a1 */
    0.0, 0.0, 0.0, /* s2 a2: impossible */
};

static const double r[S * A * N] = {
    10, 0, 0, 0,  0, 0, 0, 0, 0,   /* s0 */
    0,  0, 0, 0,  0, 0, 0, 0, -50, /* s1 */
    0,  0, 0, 40, 0, 0, 0, 0, 0,   /* s2 */
};

static const unsigned char available[S * A] = {1, 1, 1, 1, 0, 1, 0, 1, 0};

const prism_mdp prism_homl_mdp_model = {
    .env_id = "homl-mdp",
    .num_states = S,
    .num_terminal = T,
    .num_actions = A,
    .obs_size = S,
    .state_names = state_names,
    .obs = obs,
    .start = start,
    .p = p,
    .r = r,
    .available = available,
};

static void init(void *state) {
    ((prism_mdp_env_state *)state)->m = &prism_homl_mdp_model;
}

static const char *const action_names[A] = {"a0", "a1", "a2"};

const prism_env_class prism_homl_mdp = PRISM_MDP_ENV_CLASS(
    "homl-mdp", "Hands-On ML ch. 18 three-state MDP; one-hot state, no time limit",
    "Geron, Hands-On Machine Learning 3rd ed., ch. 18 (figure 18-8)", init, S, A, action_names, 0);
