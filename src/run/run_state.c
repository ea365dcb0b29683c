/* One run's state (see prism/run_state.h): built from a configuration as every user of it
 * builds it, or restored from a checkpoint.
 * Not here: the checkpoint format (checkpoint.c) or the training loop (trainer.c). */
#include "prism/run_state.h"

#include "prism/archive.h"
#include "prism/checkpoint.h"
#include "prism/file.h"
#include "prism/pqn_run.h"

#include <math.h>
#include <stdlib.h>
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

void prism_iteration_acc_reset(prism_iteration_acc *acc) {
    memset(acc, 0, sizeof *acc);
    acc->return_min = INFINITY;
    acc->return_max = -INFINITY;
}

prism_status prism_run_state_init(prism_run_state *s, const prism_config *cfg) {
    if (&s->cfg != cfg) s->cfg = *cfg;
    s->ready = false;
    prism_status st = prism_train_env_init(&s->env, &s->cfg);
    if (st) return st;
    if ((st = prism_train_env_init(&s->eval_env, &s->cfg))) {
        prism_env_free(&s->env);
        return st;
    }
    prism_env_seed(&s->env, s->cfg.seed, PRISM_STREAM_ENV);
    prism_env_seed(&s->eval_env, s->cfg.seed, PRISM_STREAM_EVAL);
    st = prism_config_validate(&s->cfg, prism_env_obs_size(s->env.cls));
    if (!st) st = prism_agent_init(&s->agent, &s->cfg.agent_cfg, s->env.cls, s->cfg.seed);
    if (st) {
        prism_env_free(&s->eval_env);
        prism_env_free(&s->env);
        return st;
    }
    memset(&s->counters, 0, sizeof s->counters);
    prism_iteration_acc_reset(&s->acc);
    const long long it_steps = s->cfg.train.iteration_steps;
    s->iterations = (int)((s->cfg.train.steps + it_steps - 1) / it_steps);
    s->checkpoint[0] = 0;
    s->ready = true;
    return PRISM_OK;
}

/* config.ini must still describe the run that was checkpointed: an edited or truncated file
 * would otherwise continue (or "complete") a different experiment under the old run's name.
 * Only keys outside the identity (the checkpoint cadence) may change between sessions. */
static prism_status check_identity(const char *dir, const char *ini, const prism_config *cfg) {
    prism_run_meta *m = prism_alloc(sizeof *m);
    if (!m) return prism_error(PRISM_ERR_NOMEM, "out of memory reading %s/run.json", dir);
    prism_status st = prism_run_read(dir, m);
    if (st) {
        prism_free(m);
        return st;
    }
    char recorded[32];
    snprintf(recorded, sizeof recorded, "%s", m->config_hash);
    uint64_t seed = m->seed;
    prism_run_meta_free(m);
    prism_free(m);
    if (!recorded[0]) return PRISM_OK; /* written before run.json had config_hash */
    char now[PRISM_CONFIG_HASH_HEX];
    prism_config_hash_hex(cfg, now);
    if (strcmp(now, recorded) || seed != cfg->seed)
        return prism_error(PRISM_ERR_INVALID,
                           "%s is not the configuration this run was started with (config_hash "
                           "%s, seed %llu in run.json; the file gives %s, seed %llu): restore "
                           "the original config.ini, or start a new run with `prism train "
                           "--config %s`",
                           ini, recorded, (unsigned long long)seed, now,
                           (unsigned long long)cfg->seed, ini);
    return PRISM_OK;
}

/* config.ini is what a resume reads back: a configuration whose file would read back as another
 * one (the identity hashes differ) is refused at the start rather than discovered at resume. */
static prism_status check_round_trip(const prism_config *cfg, const char *path) {
    prism_config back;
    prism_config_defaults(&back);
    prism_status st = prism_config_load_ini(&back, path);
    if (st) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", prism_error_message());
        return prism_error(st,
                           "the configuration does not read back from %s (%s); change the "
                           "setting it names",
                           path, msg);
    }
    if (prism_config_hash(&back) != prism_config_hash(cfg) || back.seed != cfg->seed)
        return prism_error(PRISM_ERR_INVALID,
                           "%s reads back as a different configuration than the one written; "
                           "this is a bug in prism's INI writer, please report it with the file",
                           path);
    return PRISM_OK;
}

prism_status prism_run_config_write(const prism_config *cfg, const char *run_dir) {
    char path[PRISM_PATH_MAX];
    prism_status st = prism_path_join(path, sizeof path, run_dir, "config.ini");
    if (st) return st;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) return prism_error(PRISM_ERR_NOMEM, "out of memory writing %s", path);
    fprintf(mem, "# prism %s: resolved configuration of this run (prism train --config reads it)\n",
            PRISM_VERSION);
    prism_config_write_ini(cfg, mem, true);
    fclose(mem);
    st = prism_file_write_atomic(path, text, len);
    free(text);
    return st ? st : check_round_trip(cfg, path);
}

prism_status prism_run_config_load(const char *run_dir, prism_config *cfg) {
    char path[PRISM_PATH_MAX];
    prism_status st = prism_path_join(path, sizeof path, run_dir, "config.ini");
    if (st) return st;
    prism_config_defaults(cfg);
    if ((st = prism_config_load_ini(cfg, path))) return st;
    return check_identity(run_dir, path, cfg);
}

/* A PQN run's checkpoint into s: its network becomes the agent's online network (the rest of the
 * agent is unused by eval and watch), its counters the run's. */
static prism_status load_pqn(prism_run_state *s, const char *run_dir, const char *checkpoint) {
    char dir[PRISM_PATH_MAX];
    prism_status st = PRISM_OK;
    if (checkpoint)
        snprintf(s->checkpoint, sizeof s->checkpoint, "%s", checkpoint);
    else if (!(st = prism_path_join(dir, sizeof dir, run_dir, "checkpoints")))
        st = prism_checkpoint_latest(dir, s->checkpoint, sizeof s->checkpoint);
    if (st) return st;
    static prism_pqn_run r; /* large; eval and watch load one run at a time */
    char chosen[PRISM_PATH_MAX];
    memcpy(chosen, s->checkpoint, sizeof chosen);
    if ((st = prism_pqn_run_init(&r, &s->cfg))) return st;
    if (!(st = prism_pqn_checkpoint_load_file(chosen, &r)) &&
        !(st = prism_run_state_init(s, &s->cfg))) {
        prism_nn_copy_params(&s->agent.online, &r.pq.net);
        s->counters.iterations_done = r.iterations_done;
        s->counters.env_steps = r.pq.env_steps;
        s->counters.episodes_total = r.episodes_total;
        memcpy(s->checkpoint, chosen, sizeof chosen);
    }
    prism_pqn_run_free(&r);
    return st;
}

prism_status prism_run_state_load(prism_run_state *s, const char *run_dir, const char *checkpoint) {
    memset(s, 0, sizeof *s);
    prism_status st = prism_run_config_load(run_dir, &s->cfg);
    if (st) return st;
    if (s->cfg.agent_cfg.kind == PRISM_AGENT_PQN) return load_pqn(s, run_dir, checkpoint);
    if (checkpoint) {
        if (snprintf(s->checkpoint, sizeof s->checkpoint, "%s", checkpoint) >=
            (int)sizeof s->checkpoint)
            return prism_error(PRISM_ERR_INVALID, "checkpoint path too long: %s", checkpoint);
    } else {
        char dir[PRISM_PATH_MAX];
        if ((st = prism_path_join(dir, sizeof dir, run_dir, "checkpoints")) ||
            (st = prism_checkpoint_latest(dir, s->checkpoint, sizeof s->checkpoint)))
            return st;
    }
    char chosen[PRISM_PATH_MAX];
    memcpy(chosen, s->checkpoint, sizeof chosen);
    if ((st = prism_run_state_init(s, &s->cfg))) return st;
    memcpy(s->checkpoint, chosen, sizeof chosen);
    st = prism_checkpoint_load_file(s->checkpoint, s);
    if (st) prism_run_state_free(s);
    return st;
}

void prism_run_state_free(prism_run_state *s) {
    if (!s->ready) return;
    prism_agent_free(&s->agent);
    prism_env_free(&s->eval_env);
    prism_env_free(&s->env);
    s->ready = false;
}
