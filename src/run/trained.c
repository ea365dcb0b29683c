/* A run's agent restored from a checkpoint (see prism/trained.h): config.ini, environments
 * built as the trainer builds them, and the checkpoint loaded without the trainer's blob.
 * Not here: the checkpoint format (checkpoint.c) or the training loop (trainer.c). */
#include "prism/trained.h"

#include "prism/file.h"

#include <stdio.h>
#include <string.h>

prism_status prism_train_env_init(prism_env *env, const prism_config *cfg) {
    prism_env_options eo = prism_env_options_default();
    eo.max_episode_steps = cfg->env_max_episode_steps;
    prism_status st = prism_env_init(env, cfg->env, &eo);
    if (st) return st;
    /* An episode must end for an iteration to end: cap environments that never truncate. */
    if (env->max_episode_steps == 0) env->max_episode_steps = cfg->train.max_episode_steps;
    for (int i = 0; i < cfg->n_env_options; i++) {
        st = prism_env_configure(env, cfg->env_keys[i], cfg->env_values[i]);
        if (st) {
            prism_env_free(env);
            return st;
        }
    }
    return PRISM_OK;
}

prism_status prism_trained_init(prism_trained *t, const prism_config *cfg) {
    if (&t->cfg != cfg) t->cfg = *cfg;
    t->ready = false;
    prism_status st = prism_train_env_init(&t->env, &t->cfg);
    if (st) return st;
    if ((st = prism_train_env_init(&t->eval_env, &t->cfg))) {
        prism_env_free(&t->env);
        return st;
    }
    prism_env_seed(&t->env, t->cfg.seed, PRISM_STREAM_ENV);
    prism_env_seed(&t->eval_env, t->cfg.seed, PRISM_STREAM_EVAL);
    st = prism_config_validate(&t->cfg, prism_env_obs_size(t->env.cls));
    if (!st) st = prism_agent_init(&t->agent, &t->cfg.agent_cfg, t->env.cls, t->cfg.seed);
    if (st) {
        prism_env_free(&t->eval_env);
        prism_env_free(&t->env);
        return st;
    }
    memset(&t->counters, 0, sizeof t->counters);
    t->checkpoint[0] = 0;
    t->ready = true;
    return PRISM_OK;
}

/* The path named by dir/checkpoints/latest into out. */
static prism_status latest_path(const char *run_dir, char *out, size_t cap) {
    char ck[PRISM_PATH_MAX], latest[PRISM_PATH_MAX];
    prism_status st = prism_path_join(ck, sizeof ck, run_dir, "checkpoints");
    if (!st) st = prism_path_join(latest, sizeof latest, ck, "latest");
    if (st) return st;
    char *text = NULL;
    size_t len = 0;
    st = prism_file_read(latest, &text, &len);
    if (st == PRISM_ERR_NOT_FOUND)
        return prism_error(PRISM_ERR_NOT_FOUND,
                           "%s has no checkpoint (the run stopped before its first one)", run_dir);
    if (st) return st;
    text[strcspn(text, "\r\n")] = 0;
    if (strncmp(text, "ckpt-", 5) != 0 || strchr(text, '/')) {
        prism_free(text);
        return prism_error(PRISM_ERR_CORRUPT, "%s does not name a checkpoint file", latest);
    }
    st = prism_path_join(out, cap, ck, text);
    prism_free(text);
    return st;
}

prism_status prism_trained_load(prism_trained *t, const char *run_dir, const char *checkpoint) {
    memset(t, 0, sizeof *t);
    char path[PRISM_PATH_MAX];
    prism_status st = prism_path_join(path, sizeof path, run_dir, "config.ini");
    if (st) return st;
    prism_config_defaults(&t->cfg);
    if ((st = prism_config_load_ini(&t->cfg, path))) return st;
    if (checkpoint) {
        if (snprintf(t->checkpoint, sizeof t->checkpoint, "%s", checkpoint) >=
            (int)sizeof t->checkpoint)
            return prism_error(PRISM_ERR_INVALID, "checkpoint path too long: %s", checkpoint);
    } else if ((st = latest_path(run_dir, t->checkpoint, sizeof t->checkpoint))) {
        return st;
    }
    char chosen[PRISM_PATH_MAX];
    memcpy(chosen, t->checkpoint, sizeof chosen);
    if ((st = prism_trained_init(t, &t->cfg))) return st;
    memcpy(t->checkpoint, chosen, sizeof chosen);
    st = prism_checkpoint_load_file(t->checkpoint, &t->counters, &t->agent, &t->env, &t->eval_env,
                                    NULL, 0);
    if (st) prism_trained_free(t);
    return st;
}

void prism_trained_free(prism_trained *t) {
    if (!t->ready) return;
    prism_agent_free(&t->agent);
    prism_env_free(&t->eval_env);
    prism_env_free(&t->env);
    t->ready = false;
}
