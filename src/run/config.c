/* The configuration key table and everything that reads it: set, apply, INI load and write,
 * validation. Adding a key = one row in `keys` (plus the field in prism/config.h). */
#include "prism/config.h"
#include "prism/env.h"
#include "prism/ini.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum key_type {
    K_BOOL,
    K_INT,
    K_LONG,
    K_U64,
    K_DOUBLE,
    K_ENUM,
    K_INT_LIST,
    K_DOUBLE_LIST,
    K_STRING
} key_type;

typedef struct key_spec {
    const char *name;
    key_type type;
    size_t offset;       /* of the value in prism_config */
    size_t count_offset; /* lists: offset of the int element count */
    int capacity;        /* lists: maximum elements; strings: buffer size */
    double lo, hi;       /* numeric range (inclusive) */
    const char *choices; /* enums: space-separated names, index = value (the enum's own order) */
    const char *help;
    /* Whether the key is part of the run's identity (prism_config_hash): a key belongs unless it
     * cannot change what the run computes. Out: the seed (runs differing only in it are seeds of
     * one experiment), the preset name (a label; its settings are all in the other keys) and the
     * checkpoint cadence (a resumed run gives the same bits). When unsure, a key is in: a
     * spurious split of two groups is visible in the report, a wrong merge is not.
     * IDENTITY_IF_USED: in only where the value can change what the run computes (key_used).
     * For keys added after run.json recorded config_hash, whose default must be a value that
     * changes nothing: a run recorded before the key existed then keeps its config_hash. */
    int identity;
} key_spec;

enum { NOT_IDENTITY = 0, IDENTITY = 1, IDENTITY_IF_USED = 2 };

/* The keys only PQN reads (space-delimited, each name followed by a space). */
#define PQN_KEYS                                                                                   \
    " kind num_envs rollout_steps epochs minibatches lambda lr_anneal truncation_as_termination "

/* Whether `name` (agent.X) is one of PQN's own keys. */
static bool pqn_key(const char *name) {
    char word[64];
    if (strncmp(name, "agent.", 6)) return false;
    snprintf(word, sizeof word, " %s ", name + 6);
    return strstr(PQN_KEYS, word) != NULL;
}

/* Whether an IDENTITY_IF_USED key's value can change what c computes. */
static bool key_used(const key_spec *k, const prism_config *c) {
    /* per-action noise is what every run did before the key existed, and the mode of a network
     * without noise changes nothing */
    if (!strcmp(k->name, "agent.noisy_resample")) return prism_agent_keeps_noise(&c->agent_cfg);
    /* PQN's keys (and the kind itself) count only in PQN runs; LayerNorm and the orthogonal
     * gain only where they are used */
    const prism_agent_config *a = &c->agent_cfg;
    if (!strcmp(k->name, "agent.layer_norm")) return a->layer_norm || a->kind == PRISM_AGENT_PQN;
    if (!strcmp(k->name, "agent.init_gain")) return a->init == PRISM_NN_INIT_ORTHOGONAL;
    if (pqn_key(k->name)) return a->kind == PRISM_AGENT_PQN;
    /* C51 was the only distributional head before agent.head existed */
    if (!strcmp(k->name, "agent.head")) return a->head != PRISM_HEAD_C51;
    if (!strcmp(k->name, "agent.kappa")) return a->distributional && a->head != PRISM_HEAD_C51;
    if (!strcmp(k->name, "agent.num_tau_samples") ||
        !strcmp(k->name, "agent.num_tau_prime_samples") ||
        !strcmp(k->name, "agent.num_quantile_samples") ||
        !strcmp(k->name, "agent.quantile_embedding_dim"))
        return a->distributional && a->head == PRISM_HEAD_IMPLICIT;
    if (!strncmp(k->name, "agent.munchausen", 16)) return a->munchausen;
    /* every run before the key was fp32 */
    if (!strcmp(k->name, "nn.precision")) return a->precision != PRISM_NN_FP32;
    return true;
}

#define A(field) offsetof(prism_config, agent_cfg.field)
#define T(field) offsetof(prism_config, train.field)
#define BIG      1e15

static const key_spec keys[] = {
    {"env", K_STRING, offsetof(prism_config, env), 0, 64, 0, 0, NULL, "environment id", IDENTITY},
    {"agent", K_STRING, offsetof(prism_config, agent), 0, 64, 0, 0, NULL,
     "preset this configuration was resolved from", NOT_IDENTITY},
    {"seed", K_U64, offsetof(prism_config, seed), 0, 0, 0, 0, NULL, "run seed", NOT_IDENTITY},
    {"env.max_episode_steps", K_INT, offsetof(prism_config, env_max_episode_steps), 0, 0, -1, 1e9,
     NULL, "time limit in steps (truncation); -1 = the environment's default, 0 = none", IDENTITY},

    {"agent.hidden", K_INT_LIST, A(hidden), A(n_hidden), PRISM_NN_MAX_HIDDEN, 1, 65536, NULL,
     "dense hidden layer widths, comma separated (empty = none)", IDENTITY},
    {"agent.conv_channels", K_INT, A(conv_channels), 0, 0, 0, 1024, NULL,
     "filters of the 3x3 stride-1 conv layer before the dense layers (0 = no conv)", IDENTITY},
    {"agent.conv_valid", K_BOOL, A(conv_valid), 0, 0, 0, 0, NULL,
     "VALID padding for the conv layer (SAME when false)", IDENTITY},
    {"agent.init", K_ENUM, A(init), 0, 0, 0, 0,
     "torch_default glorot_uniform variance_scaling variance_scaling_fan_avg orthogonal",
     "weight initialiser", IDENTITY},
    {"agent.double", K_BOOL, A(double_q), 0, 0, 0, 0, NULL,
     "double Q-learning: online net picks the next action, target net evaluates it", IDENTITY},
    {"agent.prioritized", K_BOOL, A(prioritized), 0, 0, 0, 0, NULL, "prioritized replay", IDENTITY},
    {"agent.dueling", K_BOOL, A(dueling), 0, 0, 0, 0, NULL, "dueling head (V + A - mean A)",
     IDENTITY},
    {"agent.n_step", K_INT, A(n_step), 0, 0, 1, 100, NULL, "n-step returns (1 = one-step)",
     IDENTITY},
    {"agent.distributional", K_BOOL, A(distributional), 0, 0, 0, 0, NULL,
     "C51 distributional head and cross-entropy loss", IDENTITY},
    {"agent.noisy", K_BOOL, A(noisy), 0, 0, 0, 0, NULL, "noisy dense layers (factorised Gaussian)",
     IDENTITY},
    {"agent.num_atoms", K_INT, A(num_atoms), 0, 0, 2, 1001, NULL,
     "atoms of the C51 support, or quantiles of the quantile head", IDENTITY},
    {"agent.v_max", K_DOUBLE, A(v_max), 0, 0, 1e-6, BIG, NULL, "C51 support is [-v_max, v_max]",
     IDENTITY},
    {"agent.noisy_sigma0", K_DOUBLE, A(noisy_sigma0), 0, 0, 0, 10, NULL,
     "initial noise scale sigma0 (sigma = sigma0 / sqrt(fan_in))", IDENTITY},
    {"agent.noisy_resample", K_ENUM, A(noisy_resample), 0, 0, 0, 0,
     "action update fixed fixed-shared",
     "when noisy layers draw noise: action (before every action and every update), update (once "
     "per update, kept for acting), fixed (once per run), fixed-shared (once per run, one vector "
     "per length in every layer: the Revisiting Rainbow code)",
     IDENTITY_IF_USED},
    {"agent.gamma", K_DOUBLE, A(gamma), 0, 0, 0, 1, NULL, "discount factor", IDENTITY},
    {"agent.loss", K_ENUM, A(loss), 0, 0, 0, 0, "huber mse",
     "TD loss for scalar heads (C51 always uses cross-entropy)", IDENTITY},
    {"agent.optimizer", K_ENUM, A(optimizer), 0, 0, 0, 0, "sgd adam rmsprop_tf rmsprop_torch radam",
     "optimizer (docs/nn.md describes both RMSProp forms)", IDENTITY},
    {"agent.lr", K_DOUBLE, A(lr), 0, 0, 0, 10, NULL, "learning rate", IDENTITY},
    {"agent.adam_eps", K_DOUBLE, A(adam_eps), 0, 0, 0, 1, NULL, "Adam epsilon", IDENTITY},
    {"agent.adam_beta1", K_DOUBLE, A(adam_beta1), 0, 0, 0, 0.999999, NULL, "Adam beta1", IDENTITY},
    {"agent.adam_beta2", K_DOUBLE, A(adam_beta2), 0, 0, 0, 0.999999, NULL, "Adam beta2", IDENTITY},
    {"agent.rms_decay", K_DOUBLE, A(rms_decay), 0, 0, 0, 0.999999, NULL,
     "RMSProp squared-gradient decay", IDENTITY},
    {"agent.rms_momentum", K_DOUBLE, A(rms_momentum), 0, 0, 0, 0.999999, NULL, "RMSProp momentum",
     IDENTITY},
    {"agent.rms_eps", K_DOUBLE, A(rms_eps), 0, 0, 0, 1, NULL, "RMSProp epsilon", IDENTITY},
    {"agent.rms_centered", K_BOOL, A(rms_centered), 0, 0, 0, 0, NULL,
     "centered RMSProp (divide by the gradient's standard deviation)", IDENTITY},
    {"agent.grad_clip", K_DOUBLE, A(grad_clip), 0, 0, 0, BIG, NULL,
     "clip the global gradient norm to this value (0 = off)", IDENTITY},
    {"agent.batch_size", K_INT, A(batch_size), 0, 0, 1, 4096, NULL, "minibatch size", IDENTITY},
    {"agent.replay_capacity", K_INT, A(replay_capacity), 0, 0, 1, 1e8, NULL,
     "replay memory capacity in transitions", IDENTITY},
    {"agent.min_replay", K_INT, A(min_replay), 0, 0, 0, 1e8, NULL,
     "transitions stored before learning starts", IDENTITY},
    {"agent.update_period", K_INT, A(update_period), 0, 0, 1, 1e6, NULL,
     "environment steps between gradient updates", IDENTITY},
    {"agent.target_period", K_INT, A(target_period), 0, 0, 1, 1e9, NULL,
     "environment steps between target-network syncs", IDENTITY},
    {"agent.tau", K_DOUBLE, A(tau), 0, 0, 1e-6, 1, NULL,
     "target sync: 1 = hard copy, < 1 = Polyak averaging with this weight", IDENTITY},
    {"agent.per_alpha", K_DOUBLE, A(per_alpha), 0, 0, 0, 10, NULL,
     "prioritized replay: priority = loss^alpha (0.5 = Dopamine's sqrt)", IDENTITY},
    {"agent.per_beta", K_DOUBLE, A(per_beta), 0, 0, 0, 1, NULL,
     "prioritized replay: importance-weight exponent", IDENTITY},
    {"agent.eps_start", K_DOUBLE, A(eps_start), 0, 0, 0, 1, NULL, "initial exploration epsilon",
     IDENTITY},
    {"agent.eps_end", K_DOUBLE, A(eps_end), 0, 0, 0, 1, NULL, "final exploration epsilon",
     IDENTITY},
    {"agent.eps_decay_steps", K_INT, A(eps_decay_steps), 0, 0, 0, 1e9, NULL,
     "steps of linear decay from eps_start to eps_end (0 = constant eps_end)", IDENTITY},
    {"agent.eps_warmup", K_INT, A(eps_warmup), 0, 0, 0, 1e9, NULL,
     "steps at eps_start before the decay begins", IDENTITY},
    {"agent.eps_eval", K_DOUBLE, A(eps_eval), 0, 0, 0, 1, NULL, "epsilon during evaluation",
     IDENTITY},
    {"agent.obs_minmax", K_BOOL, A(obs_minmax), 0, 0, 0, 0, NULL,
     "scale observations from [obs_min, obs_max] to [-1, 1]", IDENTITY},
    {"agent.obs_min", K_DOUBLE_LIST, A(obs_min), A(n_obs_min), PRISM_MAX_OBS_BOUNDS, -BIG, BIG,
     NULL, "per-value lower bounds for obs_minmax", IDENTITY},
    {"agent.obs_max", K_DOUBLE_LIST, A(obs_max), A(n_obs_max), PRISM_MAX_OBS_BOUNDS, -BIG, BIG,
     NULL, "per-value upper bounds for obs_minmax", IDENTITY},
    {"agent.obs_storage", K_ENUM, A(obs_storage), 0, 0, 0, 0, "float32 uint8 bits auto",
     "how replay stores observations (auto: bits for binary image observations, else float32)",
     IDENTITY},
    {"agent.reward_clip", K_BOOL, A(reward_clip), 0, 0, 0, 0, NULL,
     "clip rewards to [-1, 1] for learning (returns are reported unclipped)", IDENTITY},
    {"agent.kind", K_ENUM, A(kind), 0, 0, 0, 0, "dqn pqn",
     "agent kind: dqn (the DQN family with replay) or pqn (replay-free Q(lambda) on vectorized "
     "environments)",
     IDENTITY_IF_USED},
    {"agent.layer_norm", K_BOOL, A(layer_norm), 0, 0, 0, 0, NULL,
     "LayerNorm before every ReLU (after the conv and each hidden dense layer)", IDENTITY_IF_USED},
    {"agent.init_gain", K_DOUBLE, A(init_gain), 0, 0, 1e-6, 100, NULL,
     "gain of the orthogonal initialiser", IDENTITY_IF_USED},
    {"agent.num_envs", K_INT, A(num_envs), 0, 0, 1, 65536, NULL,
     "pqn: environments stepped in lockstep", IDENTITY_IF_USED},
    {"agent.rollout_steps", K_INT, A(rollout_steps), 0, 0, 1, 1e6, NULL,
     "pqn: steps per environment in each rollout", IDENTITY_IF_USED},
    {"agent.epochs", K_INT, A(epochs), 0, 0, 1, 1000, NULL, "pqn: passes over each rollout",
     IDENTITY_IF_USED},
    {"agent.minibatches", K_INT, A(minibatches), 0, 0, 1, 1e6, NULL,
     "pqn: minibatches per pass (must divide num_envs x rollout_steps)", IDENTITY_IF_USED},
    {"agent.lambda", K_DOUBLE, A(lambda), 0, 0, 0, 1, NULL, "pqn: lambda of the Q(lambda) returns",
     IDENTITY_IF_USED},
    {"agent.lr_anneal", K_BOOL, A(lr_anneal), 0, 0, 0, 0, NULL,
     "pqn: learning rate falls linearly to 0 over the run's rollouts", IDENTITY_IF_USED},
    {"agent.truncation_as_termination", K_BOOL, A(truncation_as_termination), 0, 0, 0, 0, NULL,
     "pqn: treat a time-limit truncation as a termination (no bootstrap), as CleanRL's pqn.py "
     "and the PQN authors' code do",
     IDENTITY_IF_USED},
    {"agent.head", K_ENUM, A(head), 0, 0, 0, 0, "c51 quantile implicit",
     "the head agent.distributional turns on: c51 (categorical, cross-entropy), quantile "
     "(QR-DQN: num_atoms quantiles, quantile Huber loss) or implicit (IQN: sampled fractions "
     "through a cosine embedding, quantile Huber loss)",
     IDENTITY_IF_USED},
    {"agent.kappa", K_DOUBLE, A(kappa), 0, 0, 1e-6, BIG, NULL,
     "quantile Huber loss threshold (quantile and implicit heads)", IDENTITY_IF_USED},
    {"agent.num_tau_samples", K_INT, A(num_tau_samples), 0, 0, 1, 1024, NULL,
     "implicit head: fractions N drawn per sample for the online quantiles", IDENTITY_IF_USED},
    {"agent.num_tau_prime_samples", K_INT, A(num_tau_prime_samples), 0, 0, 1, 1024, NULL,
     "implicit head: fractions N' drawn per sample for the target quantiles", IDENTITY_IF_USED},
    {"agent.num_quantile_samples", K_INT, A(num_quantile_samples), 0, 0, 1, 1024, NULL,
     "implicit head: fractions K whose mean quantile is Q, to act and to choose the next action",
     IDENTITY_IF_USED},
    {"agent.quantile_embedding_dim", K_INT, A(quantile_embedding_dim), 0, 0, 1, 4096, NULL,
     "implicit head: cosines of the fraction's embedding (n in cos(pi i tau), i = 1..n)",
     IDENTITY_IF_USED},
    {"agent.munchausen", K_BOOL, A(munchausen), 0, 0, 0, 0, NULL,
     "Munchausen target (M-DQN, M-IQN): scaled log-policy bonus and soft bootstrap; scalar or "
     "implicit head, no double Q",
     IDENTITY_IF_USED},
    {"agent.munchausen_tau", K_DOUBLE, A(munchausen_tau), 0, 0, 1e-6, BIG, NULL,
     "Munchausen entropy temperature tau (policy softmax(Q / tau))", IDENTITY_IF_USED},
    {"agent.munchausen_alpha", K_DOUBLE, A(munchausen_alpha), 0, 0, 0, 1, NULL,
     "Munchausen scale alpha of the log-policy bonus", IDENTITY_IF_USED},
    {"agent.munchausen_clip", K_DOUBLE, A(munchausen_clip), 0, 0, -BIG, 0, NULL,
     "Munchausen lower clip l0 of tau log pi", IDENTITY_IF_USED},

    {"train.steps", K_LONG, T(steps), 0, 0, 1, 1e13, NULL,
     "environment steps (whole iterations: the last episode of an iteration completes)", IDENTITY},
    {"train.iteration_steps", K_LONG, T(iteration_steps), 0, 0, 1, 1e12, NULL,
     "minimum environment steps per iteration (one metrics row each)", IDENTITY},
    {"train.eval_episodes", K_INT, T(eval_episodes), 0, 0, 0, 1e6, NULL,
     "evaluation episodes after each iteration (0 = none)", IDENTITY},
    {"train.checkpoint_every", K_INT, T(checkpoint_every), 0, 0, 0, 1e9, NULL,
     "checkpoint every this many iterations (0 = by time only); always at the end and on Ctrl-C",
     NOT_IDENTITY},
    {"train.checkpoint_seconds", K_DOUBLE, T(checkpoint_seconds), 0, 0, 0, 1e9, NULL,
     "checkpoint at the first iteration end at least this long after the last (0 = off)",
     NOT_IDENTITY},
    {"train.max_episode_steps", K_INT, T(max_episode_steps), 0, 0, 0, 1e9, NULL,
     "truncate episodes of environments that have no time limit of their own after this many "
     "steps (Dopamine's max_steps_per_episode; 0 = never)",
     IDENTITY},
    {"train.checkpoint_keep", K_INT, T(checkpoint_keep), 0, 0, 1, 1000, NULL,
     "checkpoints kept on disk", NOT_IDENTITY},
    /* out of the identity: the kernels give every output to one thread, computed the same way
     * for any count, so the thread count cannot change a result (docs/nn.md) */
    {"train.threads", K_INT, T(threads), 0, 0, 1, PRISM_NN_MAX_THREADS, NULL,
     "threads for the network's large matrix products (a GEMM=prism build; the same results for "
     "any count; sweeps run 1 per worker unless set)",
     NOT_IDENTITY},
    /* the network's arithmetic; stored with the agent's settings, which build the network */
    {"nn.precision", K_ENUM, A(precision), 0, 0, 0, 0, "fp32 bf16",
     "arithmetic of the dense layers' matrix products: fp32, or bf16 (operands rounded to "
     "bfloat16, fp32 accumulation as AVX512_BF16's vdpbf16ps; emulated bit for bit on CPUs "
     "without it, same results, slower than fp32)",
     IDENTITY_IF_USED},
};

#undef A
#undef T

enum { KEY_COUNT = (int)(sizeof keys / sizeof keys[0]) };

const char *prism_config_key_name(int i) {
    return i >= 0 && i < KEY_COUNT ? keys[i].name : NULL;
}
const char *prism_config_key_help(int i) {
    return i >= 0 && i < KEY_COUNT ? keys[i].help : NULL;
}

void prism_config_defaults(prism_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->env, sizeof c->env, "CartPole-v1");
    snprintf(c->agent, sizeof c->agent, "custom");
    c->env_max_episode_steps = -1;
    prism_agent_config *a = &c->agent_cfg;
    a->hidden[0] = a->hidden[1] = 512;
    a->n_hidden = 2;
    a->init = PRISM_NN_INIT_GLOROT_UNIFORM;
    a->n_step = 1;
    a->num_atoms = 51;
    a->v_max = 10;
    a->noisy_sigma0 = 0.1;
    a->gamma = 0.99;
    a->loss = PRISM_LOSS_HUBER;
    a->optimizer = PRISM_OPTIM_ADAM;
    a->lr = 1e-3;
    a->adam_eps = 3.125e-4; /* Dopamine's value, used by every Revisiting Rainbow config */
    a->adam_beta1 = 0.9;
    a->adam_beta2 = 0.999;
    a->rms_decay = 0.95;
    a->rms_eps = 1e-5;
    a->batch_size = 128;
    a->replay_capacity = 50000;
    a->min_replay = 500;
    a->update_period = 4;
    a->target_period = 100;
    a->tau = 1.0;
    a->per_alpha = 0.5;
    a->per_beta = 0.5;
    a->eps_start = 1.0;
    a->eps_end = 0.01;
    a->eps_eval = 0.001;
    a->obs_storage = PRISM_OBS_AUTO;
    /* PQN's (unused by the DQN family): CleanRL pqn.py's defaults */
    a->kind = PRISM_AGENT_DQN;
    a->init_gain = 1.4142135623730951;
    a->num_envs = 4;
    a->rollout_steps = 128;
    a->epochs = 4;
    a->minibatches = 4;
    a->lambda = 0.65;
    a->lr_anneal = true;
    a->head = PRISM_HEAD_C51;
    a->kappa = 1.0;
    /* Dopamine's implicit quantile agent and Revisiting Rainbow's classic-control gin files */
    a->num_tau_samples = 32;
    a->num_tau_prime_samples = 32;
    a->num_quantile_samples = 32;
    a->quantile_embedding_dim = 64;
    /* Vieillard et al. 2020's values */
    a->munchausen_tau = 0.03;
    a->munchausen_alpha = 0.9;
    a->munchausen_clip = -1.0;
    c->train.steps = 30000;
    c->train.iteration_steps = 1000;
    c->train.checkpoint_every = 0;
    c->train.checkpoint_seconds = 60;
    c->train.checkpoint_keep = 2;
    c->train.threads = 1;
    c->train.max_episode_steps = 27000; /* Dopamine's Runner default */
}

static const key_spec *find_key(const char *name) {
    for (int i = 0; i < KEY_COUNT; i++)
        if (!strcmp(keys[i].name, name)) return &keys[i];
    return NULL;
}

static prism_status unknown_key(const char *name) {
    const char *best = NULL;
    int best_d = 1 << 30;
    for (int i = 0; i < KEY_COUNT; i++) {
        int d = prism_edit_distance(name, keys[i].name);
        if (d < best_d) best_d = d, best = keys[i].name;
    }
    if (best && best_d <= 4)
        return prism_error(PRISM_ERR_INVALID,
                           "unknown config key '%s'; did you mean '%s'? (`prism agents keys` "
                           "lists every key)",
                           name, best);
    return prism_error(PRISM_ERR_INVALID,
                       "unknown config key '%s' (`prism agents keys` lists every key)", name);
}

static bool parse_double(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (isspace((unsigned char)*end)) end++;
    if (*s == 0 || *end != 0 || errno || !isfinite(v)) return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out) {
    if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "on") || !strcmp(s, "yes")) {
        *out = true;
        return true;
    }
    if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "off") || !strcmp(s, "no")) {
        *out = false;
        return true;
    }
    return false;
}

static prism_status range_error(const key_spec *k, const char *value) {
    if (k->type == K_DOUBLE || k->type == K_DOUBLE_LIST)
        return prism_error(PRISM_ERR_INVALID, "%s must be a number from %g to %g (got '%s')",
                           k->name, k->lo, k->hi, value);
    return prism_error(PRISM_ERR_INVALID, "%s must be a whole number from %.0f to %.0f (got '%s')",
                       k->name, k->lo, k->hi, value);
}

static prism_status set_list(prism_config *c, const key_spec *k, const char *value) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", value);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (n >= k->capacity)
            return prism_error(PRISM_ERR_INVALID, "%s takes at most %d values (got '%s')", k->name,
                               k->capacity, value);
        double v;
        if (!parse_double(tok, &v) || v < k->lo || v > k->hi) return range_error(k, value);
        if (k->type == K_INT_LIST) {
            if (v != floor(v)) return range_error(k, value);
            ((int *)((char *)c + k->offset))[n] = (int)v;
        } else
            ((double *)((char *)c + k->offset))[n] = v;
        n++;
    }
    *(int *)((char *)c + k->count_offset) = n;
    return PRISM_OK;
}

/* Free text (the preset name, env option values) must survive config.ini: a control character
 * (a newline above all) would end the line and inject INI lines of its own. Everything else
 * round-trips, quoted when needed (see needs_quotes). */
static prism_status check_text(const char *key, const char *value) {
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return prism_error(PRISM_ERR_INVALID,
                               "%s: control character 0x%02x at byte %d of the value; use "
                               "printable characters only",
                               key, *p, (int)(p - (const unsigned char *)value));
    return PRISM_OK;
}

static prism_status set_env_option(prism_config *c, const char *key, const char *value) {
    const char *name = key + 4;
    /* option names become INI keys: letters, digits, '_', '-' and '.' only */
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_-.", *p))
            return prism_error(PRISM_ERR_INVALID,
                               "%s: an env option name may hold letters, digits, '_', '-' and "
                               "'.' only",
                               key);
    prism_status st = check_text(key, value);
    if (st) return st;
    if (strlen(name) >= sizeof c->env_keys[0] || strlen(value) >= sizeof c->env_values[0])
        return prism_error(PRISM_ERR_INVALID, "%s: key or value too long", key);
    for (int i = 0; i < c->n_env_options; i++)
        if (!strcmp(c->env_keys[i], name)) {
            snprintf(c->env_values[i], sizeof c->env_values[i], "%s", value);
            return PRISM_OK;
        }
    if (c->n_env_options >= PRISM_MAX_ENV_OPTIONS)
        return prism_error(PRISM_ERR_INVALID, "too many env.* options (at most %d)",
                           PRISM_MAX_ENV_OPTIONS);
    snprintf(c->env_keys[c->n_env_options], sizeof c->env_keys[0], "%s", name);
    snprintf(c->env_values[c->n_env_options], sizeof c->env_values[0], "%s", value);
    c->n_env_options++;
    return PRISM_OK;
}

prism_status prism_config_set(prism_config *c, const char *key, const char *value) {
    const key_spec *k = find_key(key);
    if (!k) {
        if (!strncmp(key, "env.", 4) && key[4]) return set_env_option(c, key, value);
        return unknown_key(key);
    }
    void *field = (char *)c + k->offset;
    double v;
    switch (k->type) {
    case K_BOOL:
        if (!parse_bool(value, field))
            return prism_error(PRISM_ERR_INVALID, "%s must be true or false (got '%s')", k->name,
                               value);
        return PRISM_OK;
    case K_INT:
    case K_LONG:
        if (!parse_double(value, &v) || v != floor(v) || v < k->lo || v > k->hi)
            return range_error(k, value);
        if (k->type == K_INT)
            *(int *)field = (int)v;
        else
            *(long long *)field = (long long)v;
        return PRISM_OK;
    case K_U64: {
        if (!prism_parse_u64(value, (uint64_t *)field))
            return prism_error(PRISM_ERR_INVALID,
                               "%s must be a plain whole number from 0 to %llu (got '%s')", k->name,
                               (unsigned long long)UINT64_MAX, value);
        return PRISM_OK;
    }
    case K_DOUBLE:
        if (!parse_double(value, &v) || v < k->lo || v > k->hi) return range_error(k, value);
        *(double *)field = v;
        return PRISM_OK;
    case K_ENUM: {
        int index = 0;
        for (const char *p = k->choices; *p; index++) {
            size_t len = strcspn(p, " ");
            if (strlen(value) == len && !strncmp(p, value, len)) {
                *(int *)field = index;
                return PRISM_OK;
            }
            p += len;
            while (*p == ' ') p++;
        }
        return prism_error(PRISM_ERR_INVALID, "%s must be one of: %s (got '%s')", k->name,
                           k->choices, value);
    }
    case K_INT_LIST:
    case K_DOUBLE_LIST:
        return set_list(c, k, value);
    case K_STRING: {
        prism_status st = check_text(k->name, value);
        if (st) return st;
        if (strlen(value) >= (size_t)k->capacity || !*value)
            return prism_error(PRISM_ERR_INVALID, "%s must be 1 to %d characters (got '%s')",
                               k->name, k->capacity - 1, value);
        /* an environment is recorded under its registered id, never an alias */
        if (k->offset == offsetof(prism_config, env)) value = prism_env_canonical_id(value);
        snprintf(field, (size_t)k->capacity, "%s", value);
        return PRISM_OK;
    }
    }
    return PRISM_OK;
}

prism_status prism_config_apply(prism_config *c, const char *assignments) {
    const char *p = assignments;
    while (*p) {
        while (isspace((unsigned char)*p)) p++;
        if (!*p) break;
        size_t len = strcspn(p, " \t\n");
        char item[256];
        if (len >= sizeof item) return prism_error(PRISM_ERR_INVALID, "assignment too long");
        memcpy(item, p, len);
        item[len] = 0;
        p += len;
        char *eq = strchr(item, '=');
        if (!eq) return prism_error(PRISM_ERR_INVALID, "expected key=value, got '%s'", item);
        *eq = 0;
        prism_status st = prism_config_set(c, item, eq + 1);
        if (st) return st;
    }
    return PRISM_OK;
}

prism_status prism_config_load_ini(prism_config *c, const char *path) {
    prism_ini ini;
    prism_status st = prism_ini_read(path, &ini);
    if (st) return st;
    for (int i = 0; i < ini.n && !st; i++) {
        const prism_ini_entry *e = &ini.entries[i];
        char key[160];
        if (e->section[0])
            snprintf(key, sizeof key, "%s.%s", e->section, e->key);
        else
            snprintf(key, sizeof key, "%s", e->key);
        st = prism_config_set(c, key, e->value);
        if (st) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", prism_error_message());
            st = prism_error(st, "%s:%d: %s", path, e->line, msg);
        }
    }
    prism_ini_free(&ini);
    return st;
}

static void format_value(const prism_config *c, const key_spec *k, char *buf, size_t cap) {
    const void *field = (const char *)c + k->offset;
    size_t used = 0;
    buf[0] = 0;
    switch (k->type) {
    case K_BOOL:
        snprintf(buf, cap, "%s", *(const bool *)field ? "true" : "false");
        break;
    case K_INT:
        snprintf(buf, cap, "%d", *(const int *)field);
        break;
    case K_LONG:
        snprintf(buf, cap, "%lld", *(const long long *)field);
        break;
    case K_U64:
        snprintf(buf, cap, "%llu", (unsigned long long)*(const uint64_t *)field);
        break;
    case K_DOUBLE:
        snprintf(buf, cap, "%.17g", *(const double *)field);
        break;
    case K_ENUM: {
        int index = *(const int *)field;
        const char *p = k->choices;
        for (int i = 0; i < index && *p; i++) {
            p += strcspn(p, " ");
            while (*p == ' ') p++;
        }
        snprintf(buf, cap, "%.*s", (int)strcspn(p, " "), p);
        break;
    }
    case K_INT_LIST:
    case K_DOUBLE_LIST: {
        int n = *(const int *)((const char *)c + k->count_offset);
        for (int i = 0; i < n && used < cap; i++) {
            if (k->type == K_INT_LIST)
                used += (size_t)snprintf(buf + used, cap - used, "%s%d", i ? "," : "",
                                         ((const int *)field)[i]);
            else
                used += (size_t)snprintf(buf + used, cap - used, "%s%.17g", i ? "," : "",
                                         ((const double *)field)[i]);
        }
        break;
    }
    case K_STRING:
        snprintf(buf, cap, "%s", (const char *)field);
        break;
    }
}

bool prism_config_get(const prism_config *c, const char *key, char *buf, size_t cap) {
    const key_spec *k = find_key(key);
    if (!k) {
        for (int i = 0; i < c->n_env_options; i++)
            if (!strncmp(key, "env.", 4) && !strcmp(key + 4, c->env_keys[i])) {
                snprintf(buf, cap, "%s", c->env_values[i]);
                return true;
            }
        return false;
    }
    format_value(c, k, buf, cap);
    return true;
}

/* Free text needs quotes when the plain form would not read back as itself: a comment
 * character, a quote, surrounding spaces (trimmed on read) or nothing at all. */
static bool needs_quotes(const char *v) {
    size_t n = strlen(v);
    return n == 0 || strpbrk(v, "#;\"\\") || isspace((unsigned char)v[0]) ||
           isspace((unsigned char)v[n - 1]);
}

/* Where INI text goes: a file, or (f NULL) the running FNV-1a hash of the text. */
typedef struct sink {
    FILE *f;
    uint64_t hash;
} sink;

static void emit(sink *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(sink *k, const char *fmt, ...) {
    char buf[1200]; /* a key, " = " and a value of at most 512 characters (format_value) */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    PRISM_ASSERT(n >= 0 && (size_t)n < sizeof buf);
    if (k->f)
        fputs(buf, k->f);
    else
        k->hash = prism_fnv1a64(k->hash, buf, (size_t)n);
}

static void emit_pair(sink *k, const char *name, const char *value, bool text) {
    if (!text || !needs_quotes(value)) {
        emit(k, "%s = %s\n", name, value);
        return;
    }
    char q[2 * 512 + 3];
    size_t n = 0;
    q[n++] = '"';
    for (const char *p = value; *p && n + 4 < sizeof q; p++) {
        if (*p == '"' || *p == '\\') q[n++] = '\\';
        q[n++] = *p;
    }
    q[n++] = '"';
    q[n] = 0;
    emit(k, "%s = %s\n", name, q);
}

/* The INI text of `c`: every key (identity_only: those of the run's identity) in table order,
 * grouped by section, env options after env.max_episode_steps' section header. */
static void write_keys(const prism_config *c, sink *k, bool with_help, bool identity_only) {
    char value[512], section[32] = "";
    for (int i = 0; i < KEY_COUNT; i++) {
        const key_spec *ks = &keys[i];
        if (identity_only && !prism_config_key_counts(c, i)) continue;
        const char *dot = strchr(ks->name, '.');
        char sec[32] = "";
        if (dot) snprintf(sec, sizeof sec, "%.*s", (int)(dot - ks->name), ks->name);
        if (strcmp(sec, section)) {
            emit(k, "\n[%s]\n", sec);
            snprintf(section, sizeof section, "%s", sec);
            if (!strcmp(sec, "env"))
                for (int e = 0; e < c->n_env_options; e++)
                    emit_pair(k, c->env_keys[e], c->env_values[e], true);
        }
        format_value(c, ks, value, sizeof value);
        if (with_help) emit(k, "# %s\n", ks->help);
        emit_pair(k, dot ? dot + 1 : ks->name, value, ks->type == K_STRING);
    }
}

void prism_config_write_ini(const prism_config *c, FILE *f, bool with_help) {
    sink k = {f, 0};
    write_keys(c, &k, with_help, false);
}

uint64_t prism_config_hash(const prism_config *c) {
    sink k = {NULL, PRISM_FNV1A64_INIT};
    write_keys(c, &k, false, true);
    return k.hash;
}

void prism_config_hash_hex(const prism_config *c, char out[PRISM_CONFIG_HASH_HEX]) {
    snprintf(out, PRISM_CONFIG_HASH_HEX, "%016llx", (unsigned long long)prism_config_hash(c));
}

bool prism_config_key_in_identity(int i) {
    return i >= 0 && i < KEY_COUNT && keys[i].identity != NOT_IDENTITY;
}

bool prism_config_key_counts(const prism_config *c, int i) {
    return prism_config_key_in_identity(i) &&
           (keys[i].identity != IDENTITY_IF_USED || key_used(&keys[i], c));
}

prism_status prism_config_validate(const prism_config *c, int obs_size) {
    const prism_agent_config *a = &c->agent_cfg;
    if (a->obs_minmax) {
        if (a->n_obs_min != obs_size || a->n_obs_max != obs_size)
            return prism_error(
                PRISM_ERR_INVALID,
                "agent.obs_minmax needs %d values in agent.obs_min and agent.obs_max "
                "for %s (got %d and %d)",
                obs_size, c->env, a->n_obs_min, a->n_obs_max);
        for (int i = 0; i < obs_size; i++)
            if (!(a->obs_max[i] > a->obs_min[i]))
                return prism_error(PRISM_ERR_INVALID,
                                   "agent.obs_max[%d] must be greater than agent.obs_min[%d]", i,
                                   i);
    }
    if (a->min_replay > a->replay_capacity)
        return prism_error(PRISM_ERR_INVALID,
                           "agent.min_replay (%d) cannot exceed agent.replay_capacity (%d)",
                           a->min_replay, a->replay_capacity);
    if (a->batch_size > a->replay_capacity)
        return prism_error(PRISM_ERR_INVALID,
                           "agent.batch_size (%d) cannot exceed agent.replay_capacity (%d)",
                           a->batch_size, a->replay_capacity);
    if (a->n_hidden == 0 && a->conv_channels == 0 && a->noisy)
        return prism_error(PRISM_ERR_INVALID, "agent.noisy needs at least one dense layer");
    if (a->eps_end > a->eps_start && a->eps_decay_steps > 0)
        return prism_error(PRISM_ERR_INVALID, "agent.eps_end (%g) is above agent.eps_start (%g)",
                           a->eps_end, a->eps_start);
    prism_status agent_st = prism_agent_config_check(a);
    if (agent_st) return agent_st;
    if (c->train.iteration_steps > c->train.steps)
        return prism_error(PRISM_ERR_INVALID,
                           "train.iteration_steps (%lld) exceeds train.steps (%lld)",
                           c->train.iteration_steps, c->train.steps);
    return PRISM_OK;
}
