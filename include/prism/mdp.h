/* prism/mdp.h — small finite MDPs with known dynamics: the model behind the tabular
 * environments (homl-mdp, the probe environments), for agents that use known transitions
 * (Q-value iteration) and for tests that check an environment against its model.
 *
 *     const prism_mdp *m = prism_mdp_find("homl-mdp");       // NULL: no model for that id
 *     double p = prism_mdp_p(m, 0, 0, 1);                    // P(s1 | s0, a0) = 0.3
 *     if (prism_mdp_available(m, 1, 1)) ...                  // false: a1 is impossible in s1
 *
 * States 0 .. S-1 are the ordinary states; S .. S+T-1 are terminal: reaching one ends the
 * episode (terminated) and its value is zero. Each state has one observation (D floats), so
 * an agent maps an observation back to its state with prism_mdp_state_of. Each model is
 * also an environment of the same id that samples these dynamics (prism_env_init).
 *
 * Unavailable actions: prism's environment interface has one action set for every state,
 * so stepping with an action that is unavailable in the current state is a no-op (the
 * state stays, reward 0, not terminated). Tabular agents never choose one (they consult
 * prism_mdp_available) and report it as unavailable (null in JSON); see docs/tabular.md for
 * why the no-op leaves the optimal values of the available actions unchanged. Stepping on after
 * termination without a reset stays in the terminal state (reward 0, terminated again).
 */
#ifndef PRISM_MDP_H
#define PRISM_MDP_H

#include "prism/core.h"

#include <stdbool.h>

/* Dimension letters: S ordinary states, T terminal states, A actions, D observation size. */
typedef struct prism_mdp {
    const char *env_id;             /* the environment that samples it, e.g. "homl-mdp" */
    int num_states;                 /* S */
    int num_terminal;               /* T */
    int num_actions;                /* A */
    int obs_size;                   /* D */
    const char *const *state_names; /* (S + T) e.g. "s0", "obs=+1", "end" */
    const float *obs;               /* (S + T, D) the observation of each state */
    const double *start;            /* (S) initial-state distribution */
    const double *p; /* (S, A, S + T) P(s' | s, a); rows of available actions sum to 1 */
    const double *r; /* (S, A, S + T) R(s, a, s') */
    const unsigned char *available; /* (S, A) 1 where a is possible in s; NULL: every action is */
} prism_mdp;

/* The model of an environment id or alias (case-insensitive), or NULL when that environment
 * has no known model. The model is static data: never freed. */
const prism_mdp *prism_mdp_find(const char *env_id);
/* Number of models, and the i-th (for listings and tests); NULL out of range. */
int prism_mdp_count(void);
const prism_mdp *prism_mdp_at(int i);

/* Whether action a is possible in ordinary state s (0 <= s < S, 0 <= a < A; asserted). */
bool prism_mdp_available(const prism_mdp *m, int s, int a);
/* P(s2 | s, a) and R(s, a, s2) for 0 <= s < S, 0 <= s2 < S + T (asserted). */
double prism_mdp_p(const prism_mdp *m, int s, int a, int s2);
double prism_mdp_r(const prism_mdp *m, int s, int a, int s2);
/* The ordinary state whose observation equals obs exactly (D floats), or -1 when none does. */
int prism_mdp_state_of(const prism_mdp *m, const float *obs);
/* Check the model's consistency (probabilities in [0, 1], rows of available actions summing
 * to 1 within 1e-12, every state with an available action, start summing to 1, terminal
 * entries of unavailable actions all zero). Returns PRISM_ERR_INVALID with a message
 * naming the first offending entry. */
prism_status prism_mdp_check(const prism_mdp *m);

#endif
