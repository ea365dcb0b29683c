/* prism/agent.h — the DQN-family agent: DQN with six independent switches (double Q,
 * prioritized replay, dueling head, n-step returns, C51 distributional head, noisy nets).
 *
 * The agent owns its online and target networks, optimizer, replay memory and RNG streams.
 * The trainer calls act() before each environment step and observe() after it; observe()
 * stores the transition and, on schedule, learns and syncs the target network:
 *
 *     prism_agent ag;
 *     if (prism_agent_init(&ag, &cfg.agent_cfg, env.cls, cfg.seed)) { ...error... }
 *     int a = prism_agent_act(&ag, obs, false);
 *     prism_step s = prism_env_step(&env, a, next_obs);
 *     prism_agent_observe(&ag, obs, a, s.reward, s.terminated, s.truncated, next_obs);
 *
 * One learning step (src/agent/dqn_agent.c) for a sampled batch of n-step transitions
 * (obs, a, R, discount, next_obs), discount = gamma^k or 0 after a termination:
 *   scalar head:    y = R + discount * Q_target(next, a*),   loss Huber or MSE on Q(obs, a)
 *   distributional: m = project(R + discount * z, p_target(next, a*)),  loss CE(m, p(obs, a))
 *   quantile head:  T_j = R + discount * theta_target(next, a*)_j,  quantile Huber loss of
 *                   theta(obs, a) at tau_i = (i + 1/2) / N against the N samples T_j
 *   implicit head:  the same with tau_i ~ U(0, 1) (N of them), T_j at N' fresh fractions, and
 *                   a* from the mean over K fresh fractions; fresh draws at every update
 *   Munchausen:     the soft target of prism_agent_munchausen_targets (scalar head); with
 *                   the implicit head (M-IQN) each target quantile j is R + the bonus +
 *                   discount * sum_a pi(a|next) (theta'_j(next, a) - tau log pi(a|next)), pi
 *                   the softmax of the target's mean over K quantiles divided by tau
 *   a* = argmax_a Q_online(next, a) with double Q, argmax_a Q_target(next, a) without;
 *   prioritized: loss weighted by the importance weights; new priorities from per-sample loss.
 * Observations are scaled (min/max to [-1, 1]) inside the agent, so replay keeps raw values;
 * rewards are clipped before they are stored when reward_clip is set.
 */
#ifndef PRISM_AGENT_H
#define PRISM_AGENT_H

#include "prism/env.h"
#include "prism/nn.h"
#include "prism/replay.h"

#include <stdbool.h>

/* Observation values that obs_minmax can scale (obs_min / obs_max entries). */
enum { PRISM_MAX_OBS_BOUNDS = 16 };

/* The two agent kinds: the DQN family with its replay memory (this header), and PQN, replay-free
 * Q(lambda) on vectorized environments (prism/pqn.h). */
typedef enum prism_agent_kind { PRISM_AGENT_DQN = 0, PRISM_AGENT_PQN = 1 } prism_agent_kind;

/* TD loss of a scalar head (a C51 head always uses cross-entropy). */
typedef enum prism_loss_kind { PRISM_LOSS_HUBER, PRISM_LOSS_MSE } prism_loss_kind;

/* Which distributional head agent.distributional turns on (agent.head):
 *   C51:      categorical, N atoms on [-v_max, v_max], cross-entropy (Bellemare et al. 2017);
 *   QUANTILE: N quantiles at the fixed fractions tau_i = (i + 1/2) / N, quantile Huber loss
 *             with kappa (QR-DQN, Dabney et al. 2018); Q = the mean of the quantiles;
 *   IMPLICIT: the network takes fractions tau ~ U(0, 1) through the cosine embedding of
 *             prism/nn.h (IQN, Dabney et al. 2018): num_tau_samples for the online quantiles,
 *             num_tau_prime_samples for the target's, num_quantile_samples for choosing actions
 *             (Q = the mean over them), the quantile Huber loss between the two sets. */
typedef enum prism_head_kind {
    PRISM_HEAD_C51 = 0,
    PRISM_HEAD_QUANTILE = 1,
    PRISM_HEAD_IMPLICIT = 2,
} prism_head_kind;

/* When noisy nets draw their noise (agent.noisy_resample; docs/presets.md, "Noisy nets"):
 *   ACTION:       a fresh draw for the online net before every training action, and fresh
 *                 independent draws for the online and the target net at every update
 *                 (Fortunato et al., Dopamine). The default.
 *   UPDATE:       one draw (online stream) at the start of every update, used by that update's
 *                 online and target forward passes and by every action until the next update;
 *                 actions before the first update use the draw made when the net was built.
 *   FIXED:        one draw for the whole run, made at init from (seed, PRISM_STREAM_NOISY_FIXED)
 *                 and used by the online and target nets; never redrawn.
 *   FIXED_SHARED: as FIXED, drawn by prism_nn_noise_draw_by_length: every noise vector of one
 *                 length is the same vector, in every layer (the Revisiting Rainbow code).
 * Evaluation acts with the mean weights in every mode. */
typedef enum prism_noise_resample {
    PRISM_NOISE_ACTION = 0,
    PRISM_NOISE_UPDATE = 1,
    PRISM_NOISE_FIXED = 2,
    PRISM_NOISE_FIXED_SHARED = 3,
} prism_noise_resample;

/* Everything that defines an agent. The network, optimizer and replay fields use the lower
 * layers' own types (prism/nn.h, prism/replay.h), so the agent passes them through instead of
 * translating. prism/config.h fills this from configuration keys and presets. */
typedef struct prism_agent_config {
    /* network */
    int hidden[PRISM_NN_MAX_HIDDEN]; /* dense hidden widths */
    int n_hidden;
    int conv_channels; /* 0: no conv layer; else one 3x3 stride-1 conv + ReLU first */
    bool conv_valid;   /* VALID padding (MinAtar's own DQN); SAME otherwise */
    /* weight initialiser; the variance-scaling kinds use Dopamine's scale 1/sqrt(3) (uniform,
     * fan_in: "variance_scaling" in the configuration) */
    prism_nn_init_kind init;
    /* the six Rainbow components */
    bool double_q;
    bool prioritized;
    bool dueling;
    int n_step; /* 1 = one-step returns */
    bool distributional;
    bool noisy;
    int num_atoms;
    double v_max; /* support [-v_max, v_max] */
    double noisy_sigma0;
    prism_noise_resample noisy_resample;
    /* learning */
    double gamma;
    prism_loss_kind loss;
    prism_optim_kind optimizer; /* docs/nn.md describes both RMSProp forms */
    double lr, adam_eps, adam_beta1, adam_beta2;
    double rms_decay, rms_momentum, rms_eps;
    bool rms_centered;
    double grad_clip; /* global norm; 0 = off */
    int batch_size;
    int replay_capacity;
    int min_replay;    /* transitions stored before learning starts */
    int update_period; /* env steps between updates */
    int target_period; /* env steps between target syncs */
    double tau;        /* 1 = hard copy; < 1 Polyak averaging at every sync */
    double per_alpha, per_beta;
    /* exploration */
    double eps_start, eps_end;
    int eps_decay_steps; /* linear decay length (0 = constant eps_end) */
    int eps_warmup;      /* steps at eps_start before the decay begins */
    double eps_eval;
    /* observations and rewards */
    bool obs_minmax; /* scale each observation value from [obs_min, obs_max] to [-1, 1] */
    double obs_min[PRISM_MAX_OBS_BOUNDS], obs_max[PRISM_MAX_OBS_BOUNDS];
    int n_obs_min, n_obs_max;
    bool reward_clip; /* clip rewards to [-1, 1] for learning (Dopamine's runner) */
    /* replay storage; PRISM_OBS_AUTO: bits for image observations, float32 otherwise */
    prism_obs_storage obs_storage;
    /* The agent kind: the DQN family (this header) or PQN (prism/pqn.h), which reads the
     * network, gamma, optimizer, grad_clip and epsilon keys above and the fields below. */
    prism_agent_kind kind;
    int num_envs;                   /* PQN: environments stepped in lockstep (N) */
    int rollout_steps;              /* PQN: steps per environment per rollout (T) */
    int epochs;                     /* PQN: passes over each rollout (E) */
    int minibatches;                /* PQN: minibatches per pass (M; divides N * T) */
    double lambda;                  /* PQN: Q(lambda)'s lambda */
    bool lr_anneal;                 /* PQN: lr falls linearly to 0 over the run's rollouts */
    bool truncation_as_termination; /* PQN: the shortcut of not bootstrapping on truncation */
    bool layer_norm;                /* LayerNorm before every ReLU (prism/nn.h) */
    double init_gain;               /* orthogonal init's gain */
    int precision; /* the dense layers' products: PRISM_NN_FP32 or PRISM_NN_BF16 (nn.precision) */
    /* the distributional head's kind, and the quantile Huber loss's threshold */
    prism_head_kind head;
    double kappa;
    /* the implicit head (IQN; Dopamine's names): N, N' and K fractions, and the embedding's E */
    int num_tau_samples, num_tau_prime_samples, num_quantile_samples, quantile_embedding_dim;
    /* Munchausen target (Vieillard et al. 2020), scalar head (and the implicit head, with the
     * mean over K quantiles as Q' and each target quantile bootstrapped softly):
     *   y = R + alpha * clip(tau log pi(a|obs), clip_min, 0)
     *         + discount * sum_a' pi(a'|next) (Q'(next, a') - tau log pi(a'|next)),
     *   pi = softmax(Q' / tau) of the target net. */
    bool munchausen;
    double munchausen_tau, munchausen_alpha, munchausen_clip;
} prism_agent_config;

/* Which learning quantity went non-finite first (the watchdog's report). */
typedef enum prism_nonfinite {
    PRISM_NONFINITE_NONE = 0,
    PRISM_NONFINITE_LOSS,       /* the TD loss */
    PRISM_NONFINITE_GRAD_NORM,  /* the gradient norm */
    PRISM_NONFINITE_Q_VALUES,   /* Q-values of a sampled batch */
    PRISM_NONFINITE_PARAMETERS, /* a network parameter (checked by the trainer) */
} prism_nonfinite;

/* "TD loss", "gradient norm", "Q-values", "parameters"; "a learning quantity" for NONE. */
const char *prism_nonfinite_name(prism_nonfinite what);

/* Learning statistics accumulated since the last prism_agent_stats_reset (one iteration). */
typedef struct prism_agent_stats {
    long long updates;
    double loss_sum;
    double q_sum, q_max; /* Q(obs, a) of the taken actions in sampled batches */
    long long q_count;
    double target_sum, target_absmax; /* TD targets (expected value for C51) */
    double grad_norm_sum, grad_norm_max;
    double update_ratio;        /* |delta theta| / |theta| of the first update */
    double dist_entropy_sum;    /* mean entropy of the predicted distribution (C51) */
    double quantile_spread_sum; /* mean of last minus first predicted quantile (quantile head) */
    double weight_min;          /* smallest importance weight seen (1 without PER) */
    long long target_syncs;
    prism_nonfinite first_nonfinite; /* which quantity went non-finite first, if any */
    double time_replay;              /* seconds storing and sampling transitions */
    double time_learn;               /* seconds in forward, backward and optimizer */
} prism_agent_stats;

/* Deliberate bugs, for proving that `prism doctor` and the tests catch them (tests only; a
 * normal run never sets one). */
typedef enum prism_agent_bug {
    PRISM_BUG_NONE = 0,
    PRISM_BUG_NO_TERMINAL_MASK, /* bootstrap through terminal states */
    PRISM_BUG_TARGET_SIGN,      /* y = R - discount * Q' */
    PRISM_BUG_TARGET_NEVER_SYNCS,
    PRISM_BUG_NSTEP_OFF_BY_ONE,      /* bootstrap with one discount too many */
    PRISM_BUG_QUANTILE_INDICATOR,    /* quantile loss weighted by |tau - 1{u > 0}| */
    PRISM_BUG_MUNCHAUSEN_NO_INV_TAU, /* Munchausen policy softmax(Q) instead of softmax(Q/tau) */
} prism_agent_bug;

typedef struct prism_agent {
    prism_agent_config cfg;
    prism_agent_bug bug; /* PRISM_BUG_NONE except in tests */
    int obs_size;        /* D */
    int num_actions;     /* A */
    int num_atoms;       /* N: 1 for a scalar head */
    prism_nn online, target;
    prism_optim opt;
    prism_replay replay;
    prism_replay_batch batch;
    prism_rng explore_rng; /* PRISM_STREAM_EXPLORATION */
    prism_rng replay_rng;  /* PRISM_STREAM_REPLAY */
    prism_rng eval_rng;    /* PRISM_STREAM_EVAL: evaluation never disturbs training */
    long long steps;       /* transitions observed */
    prism_agent_stats stats;
    /* scratch, one allocation (sizes in prism_agent_init) */
    float *scale_mul, *scale_add; /* (D) obs' = obs * mul + add */
    float *act_obs;               /* (D) scaled observation for acting */
    float *next_q;                /* (B, A) */
    float *targets;               /* (B) scalar targets */
    float *target_probs;          /* (B, N) projected distribution; quantile head: targets */
    float *next_probs;            /* (B, N) distribution of the chosen next action */
    float *probs;                 /* (B, A, N) softmax of target logits */
    float *losses;                /* (B) per-sample loss */
    float *dout;                  /* (B, A * N) */
    float *params_before;         /* (P) for the update ratio */
    float *both_obs;              /* (2B, D) obs then next_obs (double Q only, else NULL) */
    int32_t *next_actions;        /* (B) a* */
    float *taus;                  /* (B, N) quantile fractions (quantile head) */
    float *quantiles;             /* (B, N) predicted quantiles of the taken actions */
    float *dquantiles;            /* (B, N) loss gradient on them */
    float *act_q;                 /* (A) Q-values for acting (quantile head) */
    /* the implicit head (else NULL); taus above holds its N online fractions (B, N) */
    prism_rng tau_rng;       /* PRISM_STREAM_TAUS: the fractions of training and acting */
    float *taus_prime;       /* (B, N') the target's fractions */
    float *taus_select;      /* (B, K) the fractions that choose a* */
    float *quantile_targets; /* (B, N') the target samples */
    float *act_taus;         /* (K) the fractions of one action */
    float *obs_q;            /* (B, A) Munchausen: the target's mean quantiles on obs */
    void *scratch;
} prism_agent;

/* Check the combinations of switches the agent cannot run: PRISM_ERR_INVALID with a message that
 * names the keys and says why (Munchausen with C51 or with double Q, a head kind without
 * agent.distributional). prism_agent_init calls it; configuration checks call it too. */
prism_status prism_agent_config_check(const prism_agent_config *cfg);

/* Build the networks, optimizer and replay memory for an environment class. Errors:
 * PRISM_ERR_INVALID (config inconsistent with the environment, message names the key),
 * PRISM_ERR_NOMEM. On failure nothing is left allocated. */
prism_status prism_agent_init(prism_agent *ag, const prism_agent_config *cfg,
                              const prism_env_class *env, uint64_t seed);
void prism_agent_free(prism_agent *ag);

/* The exploration epsilon after `steps` observed transitions. */
double prism_agent_epsilon(const prism_agent *ag);

/* Choose an action for obs (D, raw). eval: use eps_eval and the noisy nets' mean weights;
 * otherwise the training epsilon and the noise of cfg.noisy_resample (a fresh draw in the
 * default mode). Draws from explore_rng (eval_rng when eval). */
int prism_agent_act(prism_agent *ag, const float *obs, bool eval);

/* Q-values of B scaled observations x (B, D) into q (B, A) from the online net with its current
 * noise: the head's own expectation (C51: over the support; quantile head: the mean of the
 * quantiles). A forward: it replaces the activations saved for backward. */
void prism_agent_q_values(prism_agent *ag, const float *x, int B, float *q);

/* The Munchausen targets (prism_agent_config) of B transitions from the target net's Q-values
 * q_obs and q_next (B, A) on obs and next_obs: pi = softmax(Q / tau), the bonus
 * alpha * clip(tau log pi(a_b|obs), clip_min, 0) on the return, the soft value of next times
 * the discount. Computed in double; A <= 64 (asserted). */
void prism_agent_munchausen_targets(const float *q_obs, const float *q_next, const int32_t *actions,
                                    const float *returns, const float *discounts, int B, int A,
                                    double tau, double alpha, double clip_min, float *targets);

/* Store one transition and learn on schedule: after the transition is stored, once the
 * replay holds more than min_replay transitions, one update every update_period steps and
 * a target sync every target_period steps (Dopamine's schedule). Returns PRISM_ERR_DIVERGED
 * (message names the quantity) when a loss, gradient or Q-value is not finite. */
prism_status prism_agent_observe(prism_agent *ag, const float *obs, int action, float reward,
                                 bool terminated, bool truncated, const float *next_obs);

/* One learning step on a fresh batch (observe calls it; public for tests and the doctor). */
prism_status prism_agent_learn(prism_agent *ag);
/* Copy (or Polyak-average) the online parameters into the target network. */
void prism_agent_sync_target(prism_agent *ag);

void prism_agent_stats_reset(prism_agent *ag);
/* L2 norm of the online parameters. */
double prism_agent_param_norm(const prism_agent *ag);

/* Whether the agent acts with a noise draw made before the current step (noisy nets in the
 * UPDATE and FIXED modes): the draw is then part of its state, and a checkpoint keeps it. */
bool prism_agent_keeps_noise(const prism_agent_config *cfg);

/* Map the config to the network config used for the online and target nets. */
prism_nn_config prism_agent_net_config(const prism_agent_config *cfg, const prism_env_class *env);

/* The arithmetic the agent's matrix products cost (prism_nn_count_flops, which says what is
 * left out: among others the noisy layers' weight construction and the optimizer):
 *   update   = target forward (B rows) + online forward (2B rows with double Q, which runs
 *              obs and next_obs as one batch; B without) + online backward (B rows);
 *   act      = one batch-1 forward (a greedy action; a noisy net's factorised batch-1 forward
 *              counts as the dense product it computes);
 *   per_step = update / update_period + (1 - eps_end) * act: an update every update_period
 *              steps, a greedy action on all but the random ones at the final epsilon (most of
 *              a run; prism bench train acts there). Target syncs are copies: no FLOPs. */
typedef struct prism_agent_flops {
    double update, act, per_step;
} prism_agent_flops;
prism_agent_flops prism_agent_count_flops(const prism_agent_config *cfg,
                                          const prism_env_class *env);

#endif
