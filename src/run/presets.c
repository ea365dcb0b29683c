/* Preset data: per-environment-family hyperparameters of the Revisiting Rainbow study
 * (Obando-Ceron & Castro 2021, the companion repository's gin files) and CleanRL's DQN, and
 * the rule that builds dqn+X / rainbow-X from them. Sources and the settled open questions
 * are in docs/presets.md. */
#include "prism/presets.h"

#include "prism/env.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct family {
    const char *name;
    const char *match;   /* space-separated id prefixes (case-insensitive) */
    const char *common;  /* every preset on this family */
    const char *dqn;     /* the DQN baseline's optimisation schedule */
    const char *rainbow; /* the Rainbow baseline's */
} family;

/* Dopamine's runner clips rewards to [-1, 1] and the gin files do not turn it off; epsilon is
 * Dopamine's identity_epsilon (constant 0.01) on classic control. */
#define CLASSIC_COMMON                                                                             \
    "agent.hidden=512,512 agent.conv_channels=0 agent.init=glorot_uniform agent.gamma=0.99 "       \
    "agent.optimizer=adam agent.adam_eps=3.125e-4 agent.loss=huber agent.batch_size=128 "          \
    "agent.replay_capacity=50000 agent.min_replay=500 agent.eps_start=0.01 agent.eps_end=0.01 "    \
    "agent.eps_decay_steps=0 agent.eps_eval=0.001 agent.reward_clip=true agent.num_atoms=51 "      \
    "agent.noisy_sigma0=0.1 agent.per_alpha=0.5 agent.per_beta=0.5 agent.tau=1 "                   \
    "train.iteration_steps=1000 "

static const family families[] = {
    {"cartpole", "CartPole",
     CLASSIC_COMMON "train.steps=30000 agent.v_max=200 agent.obs_minmax=true "
                    "agent.obs_min=-2.4,-5,-0.26179938779914941,-6.2831853071795862 "
                    "agent.obs_max=2.4,5,0.26179938779914941,6.2831853071795862",
     "agent.lr=1e-3 agent.update_period=4 agent.target_period=100",
     "agent.lr=1e-4 agent.update_period=2 agent.target_period=100"},
    {"acrobot", "Acrobot",
     CLASSIC_COMMON "train.steps=30000 agent.v_max=200 agent.obs_minmax=true "
                    "agent.obs_min=-1,-1,-1,-1,-5,-5 agent.obs_max=1,1,1,1,5,5",
     "agent.lr=1e-3 agent.update_period=4 agent.target_period=100",
     "agent.lr=1e-4 agent.update_period=2 agent.target_period=100"},
    {"lunarlander", "LunarLander",
     CLASSIC_COMMON "train.steps=120000 train.iteration_steps=4000 agent.v_max=300 "
                    "agent.obs_minmax=false",
     "agent.lr=1e-3 agent.update_period=4 agent.target_period=300",
     "agent.lr=1e-3 agent.update_period=4 agent.target_period=300"},
    {"mountaincar", "MountainCar",
     CLASSIC_COMMON "train.steps=30000 agent.v_max=100 env.max_episode_steps=600 "
                    "agent.obs_minmax=true agent.obs_min=-1.2,-0.07 agent.obs_max=0.6,0.07",
     "agent.lr=1e-2 agent.update_period=4 agent.target_period=100",
     "agent.lr=1e-4 agent.update_period=2 agent.target_period=100"},
    {"minatar", "asterix breakout freeway seaquest space_invaders MinAtar/",
     "agent.hidden= agent.conv_channels=16 agent.conv_valid=false agent.init=glorot_uniform "
     "agent.gamma=0.99 agent.optimizer=adam agent.adam_eps=3.125e-4 agent.loss=huber "
     "agent.batch_size=32 agent.replay_capacity=100000 agent.min_replay=1000 agent.eps_start=1 "
     "agent.eps_end=0.01 agent.eps_decay_steps=250000 agent.eps_warmup=1000 agent.eps_eval=0.001 "
     "agent.reward_clip=true agent.num_atoms=51 agent.v_max=100 agent.noisy_sigma0=0.1 "
     "agent.per_alpha=0.5 agent.per_beta=0.5 agent.tau=1 agent.obs_minmax=false "
     "train.steps=10000000 train.iteration_steps=1000000",
     "agent.lr=2.5e-4 agent.update_period=4 agent.target_period=1000",
     "agent.lr=1e-4 agent.update_period=4 agent.target_period=1000"},
    /* Anything else (probes, small MDPs): the classic-control recipe without scaling. */
    {"generic", "", CLASSIC_COMMON "train.steps=30000 agent.v_max=100 agent.obs_minmax=false",
     "agent.lr=1e-3 agent.update_period=4 agent.target_period=100",
     "agent.lr=1e-4 agent.update_period=2 agent.target_period=100"},
};

typedef struct component {
    const char *name;
    const char *on;
    const char *off;
} component;

/* Noisy nets replace epsilon-greedy exploration: Revisiting Rainbow switches to Dopamine's
 * identity_epsilon (constant eps_end) when noisy is on. */
static const component components[] = {
    {"double", "agent.double=true", "agent.double=false"},
    {"prioritized", "agent.prioritized=true", "agent.prioritized=false"},
    {"dueling", "agent.dueling=true", "agent.dueling=false"},
    {"multistep", "agent.n_step=3", "agent.n_step=1"},
    {"distributional", "agent.distributional=true", "agent.distributional=false"},
    {"noisy", "agent.noisy=true agent.eps_decay_steps=0", "agent.noisy=false"},
};
enum { N_COMPONENTS = (int)(sizeof components / sizeof components[0]) };

/* The agents the components switch on and off. A DQN-like flavour takes `name+X` (its own
 * settings plus component X), a Rainbow-like one `name-X` (every component it can take, less X).
 * `refused`: components the flavour cannot take (Munchausen has no C51 or double-Q form; a
 * quantile agent is distributional already). The settings follow the components, so they win. */
typedef struct flavour {
    const char *name, *label, *summary;
    bool rainbow;          /* every component on; name-X removes one */
    bool rainbow_schedule; /* the family's Rainbow lr / update / target periods */
    const char *settings;
    const char *refused;
} flavour;

#define QUANTILE "agent.distributional=true agent.head=quantile agent.kappa=1"
/* The implicit_* gin files (classic control and MinAtar): N = N' = K = 32, embedding 64. */
#define IMPLICIT                                                                                   \
    "agent.distributional=true agent.head=implicit agent.kappa=1 agent.num_tau_samples=32 "        \
    "agent.num_tau_prime_samples=32 agent.num_quantile_samples=32 "                                \
    "agent.quantile_embedding_dim=64"
#define MUNCHAUSEN "agent.munchausen=true agent.munchausen_tau=0.03 agent.munchausen_clip=-1"

/* The quantile gin files use the Rainbow schedule on every family (lr 1e-4, update period 2
 * on CartPole; LunarLander and MinAtar as Rainbow there). M-DQN keeps DQN's. */
static const flavour flavours[] = {
    {"dqn", "DQN", "DQN (Revisiting Rainbow baseline, per-environment values)", false, false, "",
     ""},
    {"rainbow", "Rainbow", "Rainbow: all six components (Revisiting Rainbow)", true, true, "", ""},
    {"qr-dqn", "QR-DQN", "QR-DQN: quantile head, quantile Huber loss (Dabney et al. 2018)", false,
     true, QUANTILE, "distributional"},
    {"qrainbow", "QRainbow", "QRainbow: Rainbow with the quantile head in place of C51", true, true,
     QUANTILE, "distributional"},
    {"iqn", "IQN", "IQN: implicit quantile head, sampled fractions (Dabney et al. 2018)", false,
     true, IMPLICIT, "distributional"},
    {"irainbow", "IRainbow", "IRainbow: Rainbow with the implicit head in place of C51", true, true,
     IMPLICIT, "distributional"},
    {"m-dqn", "M-DQN", "Munchausen DQN (Vieillard et al. 2020)", false, false, MUNCHAUSEN,
     "double distributional"},
    {"m-rainbow", "M-Rainbow", "M-Rainbow: Munchausen with Rainbow's components but C51, double",
     true, true, MUNCHAUSEN, "double distributional"},
    {"m-iqn", "M-IQN", "M-IQN: Munchausen with the implicit head (the implicit gin files' target)",
     false, true, IMPLICIT " " MUNCHAUSEN, "double distributional"},
    {"m-irainbow", "M-IRainbow", "M-IRainbow: M-IQN with prioritized, dueling, n-step and noisy",
     true, true, IMPLICIT " " MUNCHAUSEN, "double distributional"},
};
enum { N_FLAVOURS = (int)(sizeof flavours / sizeof flavours[0]) };

static bool refuses(const flavour *f, const component *c) {
    const char *p = strstr(f->refused, c->name);
    return p && (p == f->refused || p[-1] == ' ');
}

static const component *find_component(const char *name);

/* "qr-dqn+dueling" -> the flavour qr-dqn and the component dueling (NULL for a bare name). */
static bool parse(const char *name, const flavour **fl, const component **x) {
    *fl = NULL, *x = NULL;
    for (int i = 0; i < N_FLAVOURS; i++) {
        size_t len = strlen(flavours[i].name);
        if (strncmp(name, flavours[i].name, len)) continue;
        const char *rest = name + len;
        if (!*rest) {
            *fl = &flavours[i];
            return true;
        }
        if (*rest != (flavours[i].rainbow ? '-' : '+')) continue;
        const component *c = find_component(rest + 1);
        if (c && !refuses(&flavours[i], c)) {
            *fl = &flavours[i], *x = c;
            return true;
        }
    }
    return false;
}

#define CLEANRL_DQN                                                                                \
    "agent.hidden=120,84 agent.conv_channels=0 agent.init=torch_default agent.gamma=0.99 "         \
    "agent.optimizer=adam agent.lr=2.5e-4 agent.adam_eps=1e-8 agent.loss=mse "                     \
    "agent.batch_size=128 agent.replay_capacity=10000 agent.min_replay=10000 "                     \
    "agent.update_period=10 agent.target_period=500 agent.tau=1 agent.eps_start=1 "                \
    "agent.eps_end=0.05 agent.eps_decay_steps=250000 agent.eps_warmup=0 agent.eps_eval=0.05 "      \
    "agent.reward_clip=false agent.obs_minmax=false train.steps=500000 "                           \
    "train.iteration_steps=10000"

/* MinAtar's own DQN (examples/dqn.py of the MinAtar repository, the baseline of Young & Tian
 * 2019): conv 16 3x3 VALID -> 128 ReLU -> head, PyTorch default init, centered RMSprop
 * (lr 2.5e-4, alpha 0.95, eps 0.01; the paper-era file passes no momentum), smooth L1 loss, one
 * update per frame, target copy every 1000 updates, replay 100k, batch 32, uniform random actions
 * for the first 5000 frames and learning from frame 5000, then epsilon 1 -> 0.1 over 100k
 * frames, 5M frames. MinAtar rewards are 0/1, so no clipping is needed (and it does none). */
#define MINATAR_DQN                                                                                \
    "agent.hidden=128 agent.conv_channels=16 agent.conv_valid=true agent.init=torch_default "      \
    "agent.gamma=0.99 agent.optimizer=rmsprop_torch agent.lr=2.5e-4 agent.rms_decay=0.95 "         \
    "agent.rms_centered=true agent.rms_eps=0.01 agent.rms_momentum=0 agent.loss=huber "            \
    "agent.batch_size=32 agent.replay_capacity=100000 agent.min_replay=5000 "                      \
    "agent.update_period=1 agent.target_period=1000 agent.tau=1 agent.eps_start=1 "                \
    "agent.eps_end=0.1 agent.eps_decay_steps=100000 agent.eps_warmup=5000 agent.eps_eval=0.001 "   \
    "agent.reward_clip=false agent.obs_minmax=false agent.double=false agent.prioritized=false "   \
    "agent.dueling=false agent.n_step=1 agent.distributional=false agent.noisy=false "             \
    "train.steps=5000000 train.iteration_steps=100000 train.max_episode_steps=0"

/* PQN (agent.kind=pqn, prism/pqn.h). Classic control: CleanRL's pqn.py defaults, which its
 * benchmark runs unchanged on CartPole-v1, Acrobot-v1 and MountainCar-v0: 120-84 MLP with
 * LayerNorm, orthogonal init (gain sqrt 2, biases 0), RAdam lr 2.5e-4 annealed to 0, 4 envs x 128
 * steps, 4 epochs of 4 minibatches, Q(lambda) 0.65, gamma 0.99, grad norm 10, epsilon 1 -> 0.05
 * over half of the 500k steps. */
#define PQN_COMMON                                                                                 \
    "agent.kind=pqn agent.layer_norm=true agent.init=orthogonal "                                  \
    "agent.init_gain=1.4142135623730951 agent.optimizer=radam agent.loss=mse agent.grad_clip=10 "  \
    "agent.lr_anneal=true agent.gamma=0.99 agent.lambda=0.65 agent.eps_start=1 "                   \
    "agent.eps_end=0.05 "                                                                          \
    "agent.eps_warmup=0 agent.truncation_as_termination=false agent.double=false "                 \
    "agent.prioritized=false agent.dueling=false agent.n_step=1 agent.distributional=false "       \
    "agent.noisy=false agent.reward_clip=false agent.obs_minmax=false "
#define PQN_CLASSIC                                                                                \
    PQN_COMMON "agent.hidden=120,84 agent.conv_channels=0 agent.lr=2.5e-4 agent.num_envs=4 "       \
               "agent.rollout_steps=128 agent.epochs=4 agent.minibatches=4 "                       \
               "agent.eps_decay_steps=250000 agent.eps_eval=0.05 train.steps=500000 "              \
               "train.iteration_steps=10240"
/* MinAtar: the PQN authors' configuration (purejaxql, config/alg/pqn_minatar.yaml and
 * pqn_minatar.py): conv 16 3x3 VALID + LayerNorm + ReLU, dense 128 + LayerNorm + ReLU, linear
 * head; RAdam lr 5e-4 decayed linearly, 128 envs x 32 steps, 2 epochs of 32 minibatches,
 * lambda 0.65, epsilon 1 -> 0.05 over 10 % of the 10M steps. Their He-normal init is replaced by
 * orthogonal with gain sqrt 2 (the same weight variance, 2 / fan_in); docs/presets.md lists the
 * other differences. */
#define PQN_MINATAR                                                                                \
    PQN_COMMON "agent.hidden=128 agent.conv_channels=16 agent.conv_valid=true agent.lr=5e-4 "      \
               "agent.num_envs=128 agent.rollout_steps=32 agent.epochs=2 agent.minibatches=32 "    \
               "agent.eps_decay_steps=1000000 agent.eps_eval=0 train.steps=10000000 "              \
               "train.iteration_steps=131072"

static const char *const names[] = {
    "dqn",
    "rainbow",
    "dqn+double",
    "dqn+prioritized",
    "dqn+dueling",
    "dqn+multistep",
    "dqn+distributional",
    "dqn+noisy",
    "rainbow-double",
    "rainbow-prioritized",
    "rainbow-dueling",
    "rainbow-multistep",
    "rainbow-distributional",
    "rainbow-noisy",
    "cleanrl-dqn",
    "minatar-dqn",
    "pqn",
    "qr-dqn",
    "qrainbow",
    "qr-dqn+double",
    "qr-dqn+prioritized",
    "qr-dqn+dueling",
    "qr-dqn+multistep",
    "qr-dqn+noisy",
    "iqn",
    "irainbow",
    "iqn+double",
    "iqn+prioritized",
    "iqn+dueling",
    "iqn+multistep",
    "iqn+noisy",
    "m-dqn",
    "m-rainbow",
    "m-dqn+prioritized",
    "m-dqn+dueling",
    "m-dqn+multistep",
    "m-dqn+noisy",
    "m-iqn",
    "m-irainbow",
};
enum { N_NAMES = (int)(sizeof names / sizeof names[0]) };

const char *prism_preset_name(int i) {
    return i >= 0 && i < N_NAMES ? names[i] : NULL;
}

const char *prism_preset_summary(int i) {
    static char buf[96];
    const char *n = prism_preset_name(i);
    if (!n) return NULL;
    if (!strcmp(n, "cleanrl-dqn")) return "CleanRL's dqn.py: 120-84 MLP, MSE, 500k steps";
    if (!strcmp(n, "minatar-dqn"))
        return "MinAtar's dqn.py: conv16-128, centered RMSprop, 5M frames";
    if (!strcmp(n, "pqn"))
        return "PQN: replay-free Q(lambda), LayerNorm, N envs (CleanRL / PQN authors' values)";
    const flavour *fl;
    const component *x;
    if (!parse(n, &fl, &x)) return NULL;
    if (!x) return fl->summary;
    snprintf(buf, sizeof buf, "%s %s %s", fl->label, fl->rainbow ? "without" : "plus", x->name);
    return buf;
}

static const family *family_for(const char *env_id) {
    int n = (int)(sizeof families / sizeof families[0]);
    for (int i = 0; i < n - 1; i++) {
        const char *p = families[i].match;
        while (*p) {
            size_t len = strcspn(p, " ");
            if (!strncasecmp(env_id, p, len)) return &families[i];
            p += len;
            while (*p == ' ') p++;
        }
    }
    return &families[n - 1];
}

static const component *find_component(const char *name) {
    for (int i = 0; i < N_COMPONENTS; i++)
        if (!strcmp(components[i].name, name)) return &components[i];
    return NULL;
}

static size_t append(char *buf, size_t cap, size_t used, const char *text) {
    int n = snprintf(buf + used, used < cap ? cap - used : 0, "%s%s", used ? " " : "", text);
    return used + (size_t)(n > 0 ? n : 0);
}

bool prism_preset_text(const char *name, const char *env_id, char *buf, size_t cap) {
    const family *f = family_for(env_id);
    size_t used = 0;
    buf[0] = 0;
    if (!strcmp(name, "cleanrl-dqn")) {
        used = append(buf, cap, used, CLEANRL_DQN);
        return used < cap;
    }
    if (!strcmp(name, "pqn")) {
        used = append(buf, cap, used, strcmp(f->name, "minatar") ? PQN_CLASSIC : PQN_MINATAR);
        return used < cap;
    }
    if (!strcmp(name, "minatar-dqn")) {
        used = append(buf, cap, used, MINATAR_DQN);
        return used < cap;
    }
    const flavour *fl;
    const component *x;
    if (!parse(name, &fl, &x)) return false;
    used = append(buf, cap, used, f->common);
    used = append(buf, cap, used, fl->rainbow_schedule ? f->rainbow : f->dqn);
    for (int i = 0; i < N_COMPONENTS; i++) {
        const component *c = &components[i];
        bool on = !refuses(fl, c) && (fl->rainbow ? c != x : c == x);
        used = append(buf, cap, used, on ? c->on : c->off);
    }
    if (*fl->settings) used = append(buf, cap, used, fl->settings);
    /* the implicit_* gin files: alpha 0.9 on MinAtar, 1 on classic control */
    if (strstr(fl->settings, "munchausen"))
        used = append(buf, cap, used,
                      strcmp(f->name, "minatar") ? "agent.munchausen_alpha=1"
                                                 : "agent.munchausen_alpha=0.9");
    return used < cap;
}

prism_status prism_preset_apply(prism_config *c, const char *name, const char *env_id) {
    /* an unknown env would silently get the generic family's values: refuse it instead */
    const prism_env_class *cls;
    prism_status st = prism_env_lookup(env_id, &cls);
    if (st) return st;
    char text[4096];
    if (!prism_preset_text(name, env_id, text, sizeof text)) {
        char list[1024] = "";
        size_t used = 0;
        for (int i = 0; i < N_NAMES; i++)
            used +=
                (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
        return prism_error(PRISM_ERR_NOT_FOUND, "unknown agent preset '%s'; presets: %s", name,
                           list);
    }
    if ((st = prism_config_apply(c, text))) return st;
    snprintf(c->env, sizeof c->env, "%s", prism_env_canonical_id(env_id));
    snprintf(c->agent, sizeof c->agent, "%s", name);
    return PRISM_OK;
}
