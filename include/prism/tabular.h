/* prism/tabular.h — tabular agents (Hands-On Machine Learning, ch. 18): Q-value iteration
 * over a known model, and Q-learning from sampled transitions, both on a prism_mdp's states.
 *
 *     const prism_mdp *m = prism_mdp_find("homl-mdp");
 *     prism_qtable t;
 *     if (prism_qtable_init(&t, m) != PRISM_OK) { ...prism_error_message()... }
 *     prism_q_iteration_options o = prism_q_iteration_defaults();
 *     o.gamma = 0.95;
 *     prism_q_iteration(&t, m, &o, NULL);
 *     int best = prism_qtable_greedy(&t, 1);          // 2 for gamma 0.95
 *     prism_qtable_free(&t);
 *
 * Q-learning steps a real environment (prism_env) and uses the model only to name states
 * (observation -> state) and to know which actions are available; it never reads P or R.
 * Same options and seed: the same table, bit for bit.
 */
#ifndef PRISM_TABULAR_H
#define PRISM_TABULAR_H

#include "prism/env.h"
#include "prism/mdp.h"

#include <stdbool.h>
#include <stdint.h>

/* Dimension letters: S ordinary states of the model, A actions. */
typedef struct prism_qtable {
    int num_states;           /* S */
    int num_actions;          /* A */
    double *q;                /* (S, A); -INFINITY where the action is unavailable (as the book) */
    uint64_t *visits;         /* (S, A) times a was taken in s (Q-learning; 0 for iteration) */
    unsigned char *available; /* (S, A) copied from the model */
} prism_qtable;

/* Allocate a table for model m (one allocation): Q = 0 where available, -INFINITY elsewhere;
 * visits 0. PRISM_ERR_NOMEM on allocation failure (the table is then empty and safe to free). */
prism_status prism_qtable_init(prism_qtable *t, const prism_mdp *m);
void prism_qtable_free(prism_qtable *t);
/* Reset Q and visits to their initial values. */
void prism_qtable_clear(prism_qtable *t);
/* The available action with the largest Q in state s; the lowest index on ties. */
int prism_qtable_greedy(const prism_qtable *t, int s);
/* max over available a of Q(s, a). */
double prism_qtable_value(const prism_qtable *t, int s);

typedef struct prism_q_iteration_options {
    double gamma;       /* discount in [0, 1]; with 1 a continuing model never settles */
    int max_iterations; /* upper bound on sweeps (>= 1) */
    double tolerance;   /* stop after the first sweep whose largest change is <= tolerance;
                           0 runs all max_iterations sweeps (as the book's 50) */
} prism_q_iteration_options;

/* gamma 0.9, 1000 sweeps, tolerance 1e-12 (values settle far below printing precision). */
prism_q_iteration_options prism_q_iteration_defaults(void);

/* Q-value iteration: Q_{k+1}(s, a) = sum_s' P(s'|s, a) [R(s, a, s') + gamma max_a' Q_k(s', a')]
 * with terminal states worth 0, starting from the table's current values (a fresh table: 0),
 * all states updated from the previous sweep (Jacobi, as the book). Writes the number of
 * sweeps run to *iterations when not NULL. PRISM_ERR_INVALID for options out of range or a
 * table that does not match the model; PRISM_ERR_NOMEM if the scratch sweep cannot be
 * allocated. */
prism_status prism_q_iteration(prism_qtable *t, const prism_mdp *m,
                               const prism_q_iteration_options *o, int *iterations);

typedef enum prism_exploration {
    PRISM_EXPLORE_EPSILON = 0,  /* epsilon-greedy on Q */
    PRISM_EXPLORE_FUNCTION = 1, /* epsilon-greedy on f(Q, N) = Q + kappa / (1 + N), and max f in
                                   the target (the book's exploration function; epsilon 0 is
                                   the book's pure form) */
} prism_exploration;

typedef struct prism_q_learning_options {
    double gamma;  /* discount in [0, 1] */
    double alpha0; /* initial learning rate in (0, 1] */
    double decay;  /* alpha_t = alpha0 / (1 + t * decay), t the step index from 0; >= 0 */
    long steps;    /* environment steps (>= 1) */
    prism_exploration exploration;
    double epsilon; /* probability of a uniformly random available action, in [0, 1]; 1 is the
                       book's purely random exploration policy */
    double kappa;   /* optimism bonus of the exploration function, >= 0 */
    uint64_t seed;  /* env stream (seed, PRISM_STREAM_ENV), exploration (seed,
                       PRISM_STREAM_EXPLORATION) */
} prism_q_learning_options;

/* The book's settings: gamma 0.9, alpha0 0.05, decay 0.005, 10000 steps, epsilon 1 (random
 * exploration), kappa 1, seed 0. */
prism_q_learning_options prism_q_learning_defaults(void);

/* Q-learning on env (created with the model's id, m->env_id):
 * seeds env and exploration from o->seed, resets, and for each step chooses an available
 * action, steps, and updates Q(s, a) <- (1 - alpha_t) Q(s, a) + alpha_t target with target
 * = r on termination, else r + gamma max_a' Q(s', a') (or max f(Q, N) with the exploration
 * function); a time-limit truncation bootstraps from the final observation, then resets.
 * Starts from the table's current values. PRISM_ERR_INVALID for options out of range, a
 * mismatched env, or an observation that is no state of the model (the message says which). */
prism_status prism_q_learning(prism_qtable *t, const prism_mdp *m, prism_env *env,
                              const prism_q_learning_options *o);

/* ---- settings from text (what `prism train --agent q-iteration|q-learning --set` takes) ----
 *
 *     prism_tabular_settings s;
 *     if (prism_tabular_settings_init(&s, "q-learning") != PRISM_OK) { ... }
 *     if (prism_tabular_set(&s, "agent.alpha0", "0.2") != PRISM_OK) { ...message names the key... }
 *     prism_q_learning(&t, m, &env, &s.learning);
 *
 * The keys live in one table in src/agent/tabular.c (name, type, range, default, help); the
 * defaults of prism_q_iteration_defaults and prism_q_learning_defaults come from it. */
typedef struct prism_tabular_settings {
    bool is_learning;                    /* q-learning; else q-iteration */
    prism_q_iteration_options iteration; /* q-iteration's settings */
    prism_q_learning_options learning;   /* q-learning's settings */
    bool epsilon_given; /* agent.epsilon was set: exploration=function then keeps it (else the
                           function's default epsilon is 0, the book's pure form) */
} prism_tabular_settings;

/* Whether `agent` is a tabular agent: "q-iteration" or "q-learning". */
bool prism_tabular_is_agent(const char *agent);
/* The defaults of `agent`; PRISM_ERR_INVALID naming the tabular agents for any other name. */
prism_status prism_tabular_settings_init(prism_tabular_settings *s, const char *agent);
/* Set one key from its text value. PRISM_ERR_NOT_FOUND for a key this agent does not take (the
 * message suggests the closest one, or says which agent takes it); PRISM_ERR_INVALID for a
 * value out of type or range (the message names the key, the range and the value). On error
 * the settings are unchanged. */
prism_status prism_tabular_set(prism_tabular_settings *s, const char *key, const char *value);
/* The i-th key `s`'s agent takes, NULL past the last. */
const char *prism_tabular_key_name(const prism_tabular_settings *s, int i);
/* Its help, range and default as one line of text into buf (cap bytes, truncated to fit). */
void prism_tabular_key_describe(const prism_tabular_settings *s, int i, char *buf, size_t cap);

#endif
