/* prism/pqn.h — PQN (Gallici et al., "Simplifying Deep Temporal Difference Learning", ICLR
 * 2025): Q-learning without a replay memory or a target network. N environments step in
 * lockstep (one batched forward picks all N epsilon-greedy actions), each rollout of T steps
 * gets Q(lambda) returns computed backwards, then E epochs of M shuffled minibatches regress
 * Q(s, a) onto them (MSE, global-norm clipping, RAdam, optionally a learning rate falling
 * linearly to 0). LayerNorm in the network is what keeps it stable without a target network.
 *
 *     prism_pqn pq;
 *     if (prism_pqn_init(&pq, &cfg.agent_cfg, &venv_options, "CartPole-v1", total_steps,
 *                        seed)) { ...error... }
 *     while (pq.env_steps < total_steps) {
 *         prism_pqn_rollout(&pq);              // N * T environment steps
 *         if (prism_pqn_learn(&pq)) { ...diverged... }
 *     }
 *     prism_pqn_free(&pq);
 *
 * Q(lambda) (prism_pqn_lambda_returns), per environment, backwards over the rollout, with
 * v_t = max_a Q(s_{t+1}, a) under the parameters the rollout acted with:
 *   terminated at t (or truncated, with truncation_as_termination):  G_t = r_t
 *   truncated at t:  G_t = r_t + gamma * max_a Q(final observation, a)   (the chain restarts)
 *   t = T - 1:       G_t = r_t + gamma * v_t                             (bootstrap at the end)
 *   otherwise:       G_t = r_t + gamma * ((1 - lambda) v_t + lambda G_{t+1})
 * The episode-end cases are those of the PQN authors' code; the truncation case bootstraps
 * from the real final observation, which CleanRL's pqn.py and purejaxql do not (they treat a
 * time limit as a termination: truncation_as_termination reproduces that).
 *
 * Everything is allocated at init; rollout and learn never allocate. Determinism: exploration
 * draws from (seed, PRISM_STREAM_EXPLORATION), minibatch shuffles from (seed,
 * PRISM_STREAM_REPLAY), environment i from (seed, PRISM_STREAM_ENV + i).
 */
#ifndef PRISM_PQN_H
#define PRISM_PQN_H

#include "prism/agent.h"
#include "prism/env.h"
#include "prism/nn.h"

#include <stdbool.h>
#include <stdint.h>

/* Statistics since the last prism_pqn_stats_reset (one iteration of the trainer). */
typedef struct prism_pqn_stats {
    long long rollouts, updates;              /* rollouts taken, gradient steps */
    double loss_sum;                          /* TD loss (MSE) over gradient steps */
    double q_sum, q_max;                      /* Q(s, a) of the taken actions in minibatches */
    long long q_count;                        /* ... and the number of them */
    double ret_sum, ret_sq, ret_min, ret_max; /* lambda-returns of the rollouts */
    long long ret_count;
    double grad_norm_sum, grad_norm_max; /* before clipping */
    double lr_last, epsilon_last;
    prism_nonfinite first_nonfinite;
    double time_env, time_act, time_returns, time_learn; /* seconds */
} prism_pqn_stats;

/* An episode that ended during a rollout. */
typedef struct prism_pqn_episode {
    double ret;
    int length;
    int env; /* which of the N environments */
} prism_pqn_episode;

typedef struct prism_pqn {
    prism_agent_config cfg;
    const prism_env_class *cls;
    int n, T, obs_size, num_actions; /* N, T, D, A */
    int minibatch;                   /* N * T / M */
    long long total_steps;           /* of the run: for epsilon and the lr schedule */
    long long rollouts_total;        /* total_steps / (N * T), at least 1 */
    prism_vec_env venv;
    prism_nn net;
    prism_optim opt;
    prism_rng explore_rng, shuffle_rng;
    long long env_steps; /* environment steps so far (all N counted) */
    long long rollouts;  /* rollouts learned from so far */
    /* the rollout in progress: where each environment is now */
    float *obs;        /* (N, D) current observations */
    double *ep_return; /* (N) return of each environment's episode so far */
    int *ep_length;    /* (N) */
    /* the last rollout */
    float *r_obs;                /* (T, N, D) */
    int32_t *r_act;              /* (T, N) */
    float *r_rew;                /* (T, N) */
    uint8_t *r_term;             /* (T, N) terminated */
    uint8_t *r_trunc;            /* (T, N) truncated (and not terminated) */
    float *r_next_v;             /* (T, N) max_a Q of the state after each step */
    float *r_returns;            /* (T, N) lambda-returns */
    prism_pqn_episode *episodes; /* (N * T) episodes that ended in the last rollout */
    int n_episodes;
    /* scratch */
    float *q;           /* (max(N, minibatch), A) */
    float *final_obs;   /* (N, D) */
    float *mb_obs;      /* (minibatch, D) */
    int32_t *mb_act;    /* (minibatch) */
    float *mb_ret;      /* (minibatch) */
    float *dout;        /* (minibatch, A) */
    int32_t *perm;      /* (N * T) */
    int *actions;       /* (N) */
    float *rewards;     /* (N) */
    bool *term, *trunc; /* (N) */
    float *max_q;       /* (N) max_a Q of each row of the last acting forward */
    int *cut_env;       /* (N) the environment of each gathered truncated row */
    prism_pqn_stats stats;
    void *block;
} prism_pqn;

/* Build the vector env (N copies of env_id with `options`, seeded from seed), the network
 * (prism_agent_net_config of cfg), the optimizer and every buffer, and reset the environments.
 * Errors: PRISM_ERR_INVALID naming the key (minibatches not dividing N * T, an optimizer other
 * than radam or adam, a distributional, dueling or noisy head, which PQN does not define),
 * PRISM_ERR_NOMEM, and the env's errors. Nothing stays allocated on failure. */
prism_status prism_pqn_init(prism_pqn *pq, const prism_agent_config *cfg,
                            const prism_env_options *options, const char *env_id,
                            long long total_steps, uint64_t seed);
void prism_pqn_free(prism_pqn *pq);

/* Epsilon after `env_steps` steps: linear from eps_start to eps_end over eps_decay_steps
 * (CleanRL's schedule, on the global step count), eps_end after. */
double prism_pqn_epsilon(const prism_pqn *pq, long long env_steps);
/* The learning rate of the next learn: lr * (1 - rollouts / rollouts_total) with lr_anneal
 * (CleanRL's per-rollout annealing), lr otherwise. */
double prism_pqn_lr(const prism_pqn *pq);

/* Step all N environments T times with epsilon-greedy actions (one batched forward per step),
 * recording the rollout and the episodes that end in it, then compute its lambda-returns. */
void prism_pqn_rollout(prism_pqn *pq);
/* E epochs of M shuffled minibatches on the last rollout. PRISM_ERR_DIVERGED (message names
 * the quantity) when a loss, gradient norm or Q-value is not finite. */
prism_status prism_pqn_learn(prism_pqn *pq);

/* The Q(lambda) recursion above for T steps of N environments, arrays (T, N): rewards, next_v
 * (max_a Q of the state after each step: of the final observation where truncated), terminated
 * and truncated flags; writes returns (T, N). A pure function (the tests check it by hand). */
void prism_pqn_lambda_returns(float *returns, const float *rewards, const float *next_v,
                              const uint8_t *terminated, const uint8_t *truncated, int T, int N,
                              double gamma, double lambda, bool truncation_as_termination);

/* Greedy (eps 0) or epsilon action for one observation (evaluation, watch): a batch-1 forward
 * with the eval rng. */
int prism_pqn_act(prism_pqn *pq, const float *obs, double epsilon, prism_rng *rng);

void prism_pqn_stats_reset(prism_pqn *pq);

/* FLOPs of one rollout-and-learn cycle (prism_nn_count_flops; biases, LayerNorm and the
 * optimizer not counted): T forwards of N rows plus one of N for the bootstrap, and E * M
 * forward-backward pairs of N*T/M rows. */
double prism_pqn_count_flops(const prism_agent_config *cfg, const prism_env_class *env);

#endif
