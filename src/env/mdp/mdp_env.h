/* src/env/mdp/mdp_env.h — private to src/env: the generic environment that samples a
 * prism_mdp. Each model file (homl_mdp.c, probes/\*.c) defines its data, an init that points
 * the state at its model, and a prism_env_class built with PRISM_MDP_ENV_CLASS. Not public:
 * agents see models through prism/mdp.h and environments through prism/env.h. */
#ifndef PRISM_MDP_ENV_H
#define PRISM_MDP_ENV_H

#include "prism/env.h"
#include "prism/mdp.h"

/* The private state of every model-driven environment. */
typedef struct prism_mdp_env_state {
    const prism_mdp *m;
    int s; /* current state: 0 .. S + T - 1 */
} prism_mdp_env_state;

/* prism_env_class callbacks shared by every model-driven environment. */
void prism_mdp_env_reset(void *state, prism_env_random *random, float *obs);
float prism_mdp_env_step(void *state, prism_env_random *random, int action, float *obs,
                         bool *terminated);
prism_status prism_mdp_env_set_state(void *state, const double *values, int n, float *obs);
void prism_mdp_env_get_state(const void *state, double *values);
int prism_mdp_env_render(const void *state, char *buf, size_t cap, bool color);

/* A class whose init function `init_` points the state at its model; D = d_, A = a_. */
#define PRISM_MDP_ENV_CLASS(id_, summary_, reference_, init_, d_, a_, names_, limit_)              \
    {                                                                                              \
        .id = id_, .summary = summary_, .reference = reference_, .obs_rank = 1,                    \
        .obs_shape = {d_, 1, 1}, .num_actions = a_, .action_names = names_,                        \
        .max_episode_steps = limit_, .state_values = 1, .state_names = "state",                    \
        .state_bytes = sizeof(prism_mdp_env_state), .init = init_, .reset = prism_mdp_env_reset,   \
        .step = prism_mdp_env_step, .set_state = prism_mdp_env_set_state,                          \
        .get_state = prism_mdp_env_get_state, .render = prism_mdp_env_render,                      \
    }

#endif
