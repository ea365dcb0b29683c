/* Tests for the configuration table, INI files and presets. */
#include "harness.h"
#include "prism/config.h"
#include "prism/env.h"
#include "prism/presets.h"

#include <stdlib.h>
#include <string.h>

TEST(config_set_validates_type_and_range) {
    prism_config c;
    prism_config_defaults(&c);
    CHECK(prism_config_set(&c, "agent.lr", "2.5e-4") == PRISM_OK);
    CHECK(c.agent_cfg.lr == 2.5e-4);
    CHECK(prism_config_set(&c, "agent.lr", "-1") == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "agent.lr must be a number from 0") != NULL);
    CHECK(prism_config_set(&c, "agent.batch_size", "12.5") == PRISM_ERR_INVALID);
    CHECK(prism_config_set(&c, "agent.batch_size", "nan") == PRISM_ERR_INVALID);
    CHECK(prism_config_set(&c, "agent.double", "maybe") == PRISM_ERR_INVALID);
    CHECK(prism_config_set(&c, "agent.loss", "l1") == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "huber mse") != NULL);
    CHECK(prism_config_set(&c, "agent.hidden", "64,32") == PRISM_OK);
    CHECK(c.agent_cfg.n_hidden == 2 && c.agent_cfg.hidden[1] == 32);
    CHECK(prism_config_set(&c, "agent.hidden", "") == PRISM_OK);
    CHECK_EQ_INT(c.agent_cfg.n_hidden, 0);
    /* as many hidden layers as the network engine builds, and no more */
    CHECK(prism_config_set(&c, "agent.hidden", "1,2,3,4,5,6,7,8") == PRISM_OK);
    CHECK(c.agent_cfg.n_hidden == PRISM_NN_MAX_HIDDEN && c.agent_cfg.hidden[7] == 8);
    CHECK(prism_config_set(&c, "agent.hidden", "1,2,3,4,5,6,7,8,9") == PRISM_ERR_INVALID);
    CHECK(prism_config_set(&c, "seed", "-3") == PRISM_ERR_INVALID);
}

/* The agent's config holds the network engine's and the replay's own enum values, so each
 * user-facing name must land on the matching constant (and print back as the same name). */
TEST(config_enum_names_set_the_lower_layers_values) {
    static const struct {
        const char *key, *name;
        int value;
    } cases[] = {
        {"agent.init", "torch_default", PRISM_NN_INIT_TORCH_DEFAULT},
        {"agent.init", "glorot_uniform", PRISM_NN_INIT_GLOROT_UNIFORM},
        {"agent.init", "variance_scaling", PRISM_NN_INIT_VS_FAN_IN},
        {"agent.optimizer", "adam", PRISM_OPTIM_ADAM},
        {"agent.optimizer", "rmsprop_tf", PRISM_OPTIM_RMSPROP_TF},
        {"agent.optimizer", "rmsprop_torch", PRISM_OPTIM_RMSPROP_TORCH},
        {"agent.optimizer", "sgd", PRISM_OPTIM_SGD},
        {"agent.obs_storage", "auto", PRISM_OBS_AUTO},
        {"agent.obs_storage", "float32", PRISM_OBS_FLOAT32},
        {"agent.obs_storage", "uint8", PRISM_OBS_UINT8},
        {"agent.obs_storage", "bits", PRISM_OBS_BITS},
        {"agent.noisy_resample", "action", PRISM_NOISE_ACTION},
        {"agent.noisy_resample", "update", PRISM_NOISE_UPDATE},
        {"agent.noisy_resample", "fixed", PRISM_NOISE_FIXED},
        {"agent.noisy_resample", "fixed-shared", PRISM_NOISE_FIXED_SHARED},
    };
    prism_config c;
    prism_config_defaults(&c);
    CHECK(c.agent_cfg.obs_storage == PRISM_OBS_AUTO);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(prism_config_set(&c, cases[i].key, cases[i].name) == PRISM_OK);
        const prism_agent_config *a = &c.agent_cfg;
        int got = !strcmp(cases[i].key, "agent.init")          ? (int)a->init
                  : !strcmp(cases[i].key, "agent.optimizer")   ? (int)a->optimizer
                  : !strcmp(cases[i].key, "agent.obs_storage") ? (int)a->obs_storage
                                                               : (int)a->noisy_resample;
        if (got != cases[i].value)
            test_fail(__FILE__, __LINE__, "%s=%s set %d, expected %d", cases[i].key, cases[i].name,
                      got, cases[i].value);
        char buf[64];
        CHECK(prism_config_get(&c, cases[i].key, buf, sizeof buf) && !strcmp(buf, cases[i].name));
    }
    /* Dopamine's variance scaling (1/sqrt(3), fan_in); other initialisers keep scale 0, so
     * their network configs (stored in checkpoints) are what they were */
    const prism_env_class *cls = prism_env_find("CartPole-v1");
    CHECK(prism_config_set(&c, "agent.init", "variance_scaling") == PRISM_OK);
    prism_nn_config n = prism_agent_net_config(&c.agent_cfg, cls);
    CHECK(n.init == PRISM_NN_INIT_VS_FAN_IN && n.init_scale == (float)(1.0 / sqrt(3.0)));
    CHECK(prism_config_set(&c, "agent.init", "glorot_uniform") == PRISM_OK);
    n = prism_agent_net_config(&c.agent_cfg, cls);
    CHECK(n.init == PRISM_NN_INIT_GLOROT_UNIFORM && n.init_scale == 0.0f);
}

TEST(config_unknown_key_suggests_closest) {
    prism_config c;
    prism_config_defaults(&c);
    CHECK(prism_config_set(&c, "agent.learning_rate", "1") == PRISM_ERR_INVALID);
    CHECK(prism_config_set(&c, "agent.gama", "0.9") == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "did you mean 'agent.gamma'") != NULL);
    /* env.<option> is passed through to the environment */
    CHECK(prism_config_set(&c, "env.sticky_action_prob", "0") == PRISM_OK);
    CHECK_EQ_INT(c.n_env_options, 1);
}

TEST(config_ini_round_trip_is_exact) {
    prism_config a, b;
    prism_config_defaults(&a);
    REQUIRE(prism_preset_apply(&a, "rainbow", "CartPole-v0") == PRISM_OK);
    REQUIRE(prism_config_set(&a, "env.some_option", "7") == PRISM_OK);
    REQUIRE(prism_config_set(&a, "agent.v_max", "0.1") == PRISM_OK);
    char path[1024];
    snprintf(path, sizeof path, "%s/c.ini", test_tmpdir());
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    prism_config_write_ini(&a, f, true);
    fclose(f);
    prism_config_defaults(&b);
    REQUIRE(prism_config_load_ini(&b, path) == PRISM_OK);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
}

TEST(config_ini_errors_name_file_and_line) {
    char path[1024];
    snprintf(path, sizeof path, "%s/bad.ini", test_tmpdir());
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fprintf(f, "[agent]\nlr = 1e-3\nbatch_size = lots\n");
    fclose(f);
    prism_config c;
    prism_config_defaults(&c);
    CHECK(prism_config_load_ini(&c, path) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "bad.ini:3") != NULL);
    CHECK(prism_config_load_ini(&c, "/nonexistent/x.ini") == PRISM_ERR_NOT_FOUND);
}

TEST(config_validate_catches_inconsistent_values) {
    prism_config c;
    prism_config_defaults(&c);
    c.agent_cfg.min_replay = c.agent_cfg.replay_capacity + 1;
    CHECK(prism_config_validate(&c, 4) == PRISM_ERR_INVALID);
    prism_config_defaults(&c);
    REQUIRE(prism_preset_apply(&c, "dqn", "CartPole-v0") == PRISM_OK);
    CHECK(prism_config_validate(&c, 4) == PRISM_OK);
    CHECK(prism_config_validate(&c, 6) == PRISM_ERR_INVALID); /* obs bounds are for 4 values */
}

static bool resolved(const char *preset, const char *env, prism_config *c) {
    prism_config_defaults(c);
    return prism_preset_apply(c, preset, env) == PRISM_OK;
}

TEST(presets_rainbow_has_all_six_components_and_ablations_remove_one) {
    prism_config c;
    REQUIRE(resolved("rainbow", "CartPole-v0", &c));
    const prism_agent_config *a = &c.agent_cfg;
    CHECK(a->double_q && a->prioritized && a->dueling && a->n_step == 3 && a->distributional &&
          a->noisy);
    CHECK(a->lr == 1e-4 && a->update_period == 2 && a->v_max == 200);
    REQUIRE(resolved("rainbow-multistep", "CartPole-v0", &c));
    CHECK(a->double_q && a->prioritized && a->dueling && a->n_step == 1 && a->distributional &&
          a->noisy);
    REQUIRE(resolved("rainbow-noisy", "breakout", &c));
    CHECK(!a->noisy && a->eps_decay_steps == 250000); /* epsilon decays again without noise */
    REQUIRE(resolved("rainbow", "breakout", &c));
    CHECK(a->noisy && a->eps_decay_steps == 0);
}

TEST(presets_dqn_plus_one_component_keeps_dqn_schedule) {
    prism_config c;
    const prism_agent_config *a = &c.agent_cfg;
    REQUIRE(resolved("dqn", "CartPole-v0", &c));
    CHECK(!a->double_q && !a->prioritized && !a->dueling && a->n_step == 1 && !a->distributional &&
          !a->noisy);
    CHECK(a->lr == 1e-3 && a->update_period == 4 && a->target_period == 100);
    CHECK(a->loss == PRISM_LOSS_HUBER && a->reward_clip && a->obs_minmax);
    CHECK(a->eps_end == 0.01 && a->eps_decay_steps == 0);
    REQUIRE(resolved("dqn+distributional", "Acrobot-v1", &c));
    CHECK(a->distributional && !a->double_q && a->lr == 1e-3 && a->v_max == 200);
    REQUIRE(resolved("dqn", "MountainCar-v0", &c));
    CHECK(c.env_max_episode_steps == 600 && a->lr == 1e-2);
    REQUIRE(resolved("dqn", "LunarLander-v3", &c));
    CHECK(c.train.steps == 120000 && c.train.iteration_steps == 4000 && !a->obs_minmax &&
          a->target_period == 300);
    REQUIRE(resolved("dqn", "seaquest", &c));
    CHECK(a->conv_channels == 16 && a->n_hidden == 0 && a->batch_size == 32 &&
          a->replay_capacity == 100000 && a->lr == 2.5e-4 && c.train.steps == 10000000);
}

TEST(presets_cleanrl_dqn_matches_cleanrl) {
    prism_config c;
    REQUIRE(resolved("cleanrl-dqn", "CartPole-v1", &c));
    const prism_agent_config *a = &c.agent_cfg;
    CHECK(a->n_hidden == 2 && a->hidden[0] == 120 && a->hidden[1] == 84);
    CHECK(a->loss == PRISM_LOSS_MSE && a->lr == 2.5e-4 && a->replay_capacity == 10000);
    CHECK(a->min_replay == 10000 && a->update_period == 10 && a->target_period == 500);
    CHECK(a->eps_start == 1 && a->eps_end == 0.05 && a->eps_decay_steps == 250000);
    CHECK(c.train.steps == 500000);
}

TEST(presets_unknown_name_lists_choices) {
    prism_config c;
    prism_config_defaults(&c);
    CHECK(prism_preset_apply(&c, "rainbow-magic", "CartPole-v0") == PRISM_ERR_NOT_FOUND);
    CHECK(strstr(prism_error_message(), "rainbow-noisy") != NULL);
    CHECK(prism_preset_apply(&c, "dqn-double", "CartPole-v0") == PRISM_ERR_NOT_FOUND);
    for (int i = 0; prism_preset_name(i); i++)
        CHECK(resolved(prism_preset_name(i), "CartPole-v0", &c));
}

/* Write `c` as INI (no comments) into buf; returns buf. */
static char *ini_text(const prism_config *c, char *buf, size_t cap) {
    FILE *f = fmemopen(buf, cap, "w");
    if (!f) return NULL;
    prism_config_write_ini(c, f, false);
    fclose(f);
    return buf;
}

/* write -> read -> write gives the same text (the struct may differ past a string's NUL or a
 * list's count, which no reader sees). */
static int round_trips(const prism_config *a) {
    char path[1024], t1[16384], t2[16384];
    snprintf(path, sizeof path, "%s/rt.ini", test_tmpdir());
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    prism_config_write_ini(a, f, true);
    fclose(f);
    prism_config b;
    prism_config_defaults(&b);
    if (prism_config_load_ini(&b, path) != PRISM_OK) {
        fprintf(stderr, "(%s) ", prism_error_message());
        return 0;
    }
    ini_text(a, t1, sizeof t1), ini_text(&b, t2, sizeof t2);
    return !strcmp(t1, t2);
}

/* Write `text` to test_tmpdir()/name; the path goes to path[cap]. */
static bool write_file(const char *name, const char *text, char *path, size_t cap) {
    snprintf(path, cap, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    if (!f) return false;
    fputs(text, f);
    return fclose(f) == 0;
}

TEST(config_ini_free_text_round_trips_or_is_refused) {
    prism_config c;
    prism_config_defaults(&c);
    /* comment characters, quotes, backslashes and surrounding spaces are quoted and read back */
    const char *hostile[] = {"a;b",    "x # not a comment", "\"q\"",  " lead",
                             "trail ", "back\\slash",       "=;#\"\\"};
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        REQUIRE(prism_config_set(&c, "agent", hostile[i]) == PRISM_OK);
        REQUIRE(prism_config_set(&c, "env.opt", hostile[i]) == PRISM_OK);
        CHECK(round_trips(&c));
    }
    /* a newline would inject INI lines; control characters are refused with the byte offset */
    CHECK(prism_config_set(&c, "agent", "dqn\n[agent]\nlr = 0.5") == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "control character 0x0a at byte 3") != NULL);
    CHECK(prism_config_set(&c, "env.opt", "1\r") == PRISM_ERR_INVALID);
    CHECK(prism_config_set(&c, "agent", "tab\there") == PRISM_ERR_INVALID);
    /* env option names become INI keys */
    CHECK(prism_config_set(&c, "env.a=b", "1") == PRISM_ERR_INVALID);
    CHECK(prism_config_set(&c, "env.a#b", "1") == PRISM_ERR_INVALID);
    /* a quote left open is an error naming the line, not a silently shortened value */
    char path[1024];
    REQUIRE(write_file("open.ini", "agent = \"dqn;\n", path, sizeof path));
    CHECK(prism_config_load_ini(&c, path) == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "open.ini:1") != NULL);
}

TEST(config_ini_reads_long_lines_whole) {
    /* a long comment whose 1,024th character starts "lr = 0.5": a reader with a line buffer
     * split it and set agent.lr; the reader takes lines of any length whole */
    char path[1024], text[2048] = "[agent]\n#";
    memset(text + 9, 'x', 1022);
    snprintf(text + 9 + 1022, sizeof text - 9 - 1022, "lr = 0.5\n");
    REQUIRE(write_file("long.ini", text, path, sizeof path));
    prism_config c;
    prism_config_defaults(&c);
    CHECK(prism_config_load_ini(&c, path) == PRISM_OK);
    CHECK(c.agent_cfg.lr != 0.5);
    /* a line of exactly the limit, and a last line without a newline, still read */
    snprintf(text + 9 + 1021, sizeof text - 9 - 1021, "\nlr = 0.25");
    REQUIRE(write_file("long.ini", text, path, sizeof path));
    CHECK(prism_config_load_ini(&c, path) == PRISM_OK);
    CHECK(c.agent_cfg.lr == 0.25);
}

/* Change key `name` to some other valid value; false if no candidate fits. */
static bool perturb(prism_config *c, const char *name) {
    static const char *const candidates[] = {
        "true",        "false",       "7",          "3",           "0.5",   "0.25",          "mse",
        "huber",       "sgd",         "adam",       "float32",     "uint8", "torch_default", "8,8",
        "0.5,0.5,0.5", "custom-name", "Acrobot-v1", "CartPole-v0", "fixed", "quantile",      "-2",
        "c51",         "pqn",         "dqn",        "bf16"};
    char before[512], after[512];
    if (!prism_config_get(c, name, before, sizeof before)) return false;
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        prism_config t = *c;
        if (prism_config_set(&t, name, candidates[i]) != PRISM_OK) continue;
        prism_config_get(&t, name, after, sizeof after);
        if (strcmp(before, after)) {
            *c = t;
            return true;
        }
    }
    return false;
}

TEST(config_hash_covers_every_identity_key_and_only_those) {
    /* the quantile head's, the implicit head's and Munchausen's keys count only where they are
     * used: with qrainbow, irainbow and m-rainbow; PQN's keys, LayerNorm and the orthogonal gain
     * with pqn; every other key already with rainbow */
    static const char *const presets[] = {"rainbow", "qrainbow", "irainbow", "m-rainbow", "pqn"};
    enum { N_BASES = (int)(sizeof presets / sizeof presets[0]) };
    prism_config bases[N_BASES];
    uint64_t hashes[N_BASES];
    for (int k = 0; k < N_BASES; k++) {
        prism_config_defaults(&bases[k]);
        REQUIRE(prism_preset_apply(&bases[k], presets[k], "CartPole-v1") == PRISM_OK);
        hashes[k] = prism_config_hash(&bases[k]);
    }
    prism_config base = bases[0];
    uint64_t h0 = hashes[0];
    char hex[PRISM_CONFIG_HASH_HEX];
    prism_config_hash_hex(&base, hex);
    CHECK_EQ_INT((int)strlen(hex), 16);
    int keys = 0, in = 0;
    for (int i = 0; prism_config_key_name(i); i++, keys++) {
        const char *name = prism_config_key_name(i);
        prism_config c = base;
        bool changed = false, perturbed = true;
        for (int k = 0; k < N_BASES && perturbed; k++) {
            prism_config t = bases[k];
            perturbed = perturb(&t, name);
            changed |= perturbed && prism_config_hash(&t) != hashes[k];
            if (!k) c = t;
        }
        if (!perturbed) {
            test_fail(__FILE__, __LINE__, "no other valid value found for %s", name);
            continue;
        }
        if (changed != prism_config_key_in_identity(i))
            test_fail(__FILE__, __LINE__, "%s: hash %s but the key is %sin the identity", name,
                      changed ? "changed" : "unchanged",
                      prism_config_key_in_identity(i) ? "" : "not ");
        in += prism_config_key_in_identity(i);
        /* every key, perturbed, still round-trips through config.ini */
        if (!round_trips(&c)) test_fail(__FILE__, __LINE__, "%s does not round-trip", name);
    }
    /* out: seed, the preset name, the three checkpoint-cadence keys and the thread count */
    CHECK_EQ_INT(keys - in, 6);
    /* env options are part of the identity */
    prism_config c = base;
    REQUIRE(prism_config_set(&c, "env.sticky", "0") == PRISM_OK);
    CHECK(prism_config_hash(&c) != h0);
}

/* agent.noisy_resample came after run.json recorded config_hash: a run at its default (what
 * every earlier run did) keeps the hash it was recorded with, and the mode splits runs only
 * where it changes them (noisy nets on, a mode other than per-action). */
TEST(config_noisy_resample_enters_the_identity_only_where_it_changes_the_run) {
    prism_config c;
    prism_config_defaults(&c);
    CHECK(c.agent_cfg.noisy_resample == PRISM_NOISE_ACTION);
    CHECK(prism_config_set(&c, "agent.noisy_resample", "per-step") == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "agent.noisy_resample must be one of: action update "
                                        "fixed fixed-shared (got 'per-step')") != NULL);
    /* `prism train CartPole-v0 --agent rainbow --steps 6000` before the key existed */
    REQUIRE(resolved("rainbow", "CartPole-v0", &c));
    REQUIRE(prism_config_set(&c, "train.steps", "6000") == PRISM_OK);
    char hex[PRISM_CONFIG_HASH_HEX];
    prism_config_hash_hex(&c, hex);
    CHECK(!strcmp(hex, "49fe07f0007fa73b"));
    uint64_t h[4];
    for (int m = 0; m < 4; m++) {
        static const char *const names[] = {"action", "update", "fixed", "fixed-shared"};
        prism_config x = c;
        REQUIRE(prism_config_set(&x, "agent.noisy_resample", names[m]) == PRISM_OK);
        h[m] = prism_config_hash(&x);
        for (int k = 0; k < m; k++) CHECK(h[k] != h[m]);
        /* without noisy nets the mode changes nothing, and the hash neither */
        prism_config d;
        REQUIRE(resolved("rainbow-noisy", "CartPole-v0", &d));
        uint64_t before = prism_config_hash(&d);
        REQUIRE(prism_config_set(&d, "agent.noisy_resample", names[m]) == PRISM_OK);
        CHECK(prism_config_hash(&d) == before);
        /* config.ini records it all the same */
        CHECK(round_trips(&x) && round_trips(&d));
    }
    CHECK(h[0] == prism_config_hash(&c));
    /* every preset keeps the published per-action noise */
    for (int p = 0; prism_preset_name(p); p++) {
        const char *envs[] = {"CartPole-v0", "breakout"};
        for (int e = 0; e < 2; e++)
            if (resolved(prism_preset_name(p), envs[e], &c))
                CHECK(c.agent_cfg.noisy_resample == PRISM_NOISE_ACTION);
    }
}

/* nn.precision came after run.json recorded config_hash: fp32, what every earlier run did, keeps
 * the hash a run was recorded with; bf16 makes another experiment, and config.ini records it. */
TEST(config_precision_enters_the_identity_only_when_bf16) {
    prism_config c;
    REQUIRE(resolved("rainbow", "CartPole-v0", &c));
    REQUIRE(prism_config_set(&c, "train.steps", "6000") == PRISM_OK);
    CHECK(c.agent_cfg.precision == PRISM_NN_FP32);
    char hex[PRISM_CONFIG_HASH_HEX];
    prism_config_hash_hex(&c, hex);
    CHECK(!strcmp(hex, "49fe07f0007fa73b"));
    prism_config b = c;
    REQUIRE(prism_config_set(&b, "nn.precision", "bf16") == PRISM_OK);
    CHECK(b.agent_cfg.precision == PRISM_NN_BF16);
    CHECK(prism_config_hash(&b) != prism_config_hash(&c));
    CHECK(round_trips(&b) && round_trips(&c));
    REQUIRE(prism_config_set(&b, "nn.precision", "fp32") == PRISM_OK);
    CHECK(prism_config_hash(&b) == prism_config_hash(&c));
    CHECK(prism_config_set(&b, "nn.precision", "fp16") == PRISM_ERR_INVALID);
    CHECK(strstr(prism_error_message(), "nn.precision must be one of: fp32 bf16 (got 'fp16')"));
    /* the network built from the config gets it */
    const prism_env_class *cls = prism_env_find("CartPole-v0");
    REQUIRE(cls != NULL);
    REQUIRE(prism_config_set(&b, "nn.precision", "bf16") == PRISM_OK);
    CHECK(prism_agent_net_config(&b.agent_cfg, cls).precision == PRISM_NN_BF16);
    /* every preset keeps fp32 */
    for (int p = 0; prism_preset_name(p); p++)
        if (resolved(prism_preset_name(p), "CartPole-v0", &c))
            CHECK(c.agent_cfg.precision == PRISM_NN_FP32);
}

TEST(config_ini_round_trips_for_every_preset) {
    for (int p = 0; prism_preset_name(p); p++) {
        const char *envs[] = {"CartPole-v0", "breakout"};
        for (int e = 0; e < 2; e++) {
            prism_config c;
            prism_config_defaults(&c);
            if (prism_preset_apply(&c, prism_preset_name(p), envs[e]) != PRISM_OK) continue;
            if (!round_trips(&c))
                test_fail(__FILE__, __LINE__, "preset %s on %s does not round-trip",
                          prism_preset_name(p), envs[e]);
        }
    }
}
