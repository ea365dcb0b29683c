/* The metrics table (see iteration_metrics.h): the one list of metrics.csv's columns, and the
 * computation of a row from the run state at the end of an iteration.
 * Not here: writing the row (trainer.c, archive/metrics_csv.c, archive/tfevents.c). */
#include "iteration_metrics.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* One column: CSV name, TensorBoard tag (NULL: not exported), integer or not, where its value
 * is; per_action: one column per logged action, named and tagged with the action's number. */
typedef struct metric_def {
    const char *name, *tag;
    bool is_int, per_action;
    size_t offset;
} metric_def;

#define COLUMN(field, tag, is_int)                                                                 \
    { #field, tag, is_int, false, offsetof(iteration_row, field) }

static const metric_def METRICS[] = {
    COLUMN(iteration, NULL, true),
    COLUMN(env_steps, NULL, true),
    COLUMN(episodes, "charts/episodes", true),
    COLUMN(episodes_total, NULL, true),
    COLUMN(return_mean, "charts/episodic_return", false),
    COLUMN(return_std, "charts/episodic_return_std", false),
    COLUMN(return_min, "charts/episodic_return_min", false),
    COLUMN(return_max, "charts/episodic_return_max", false),
    COLUMN(length_mean, "charts/episodic_length", false),
    COLUMN(eval_return_mean, "charts/eval_return", false),
    COLUMN(eval_return_std, NULL, false),
    COLUMN(loss, "losses/td_loss", false),
    COLUMN(q_mean, "values/q_mean", false),
    COLUMN(q_max, "values/q_max", false),
    COLUMN(target_mean, "values/target_mean", false),
    COLUMN(target_absmax, "values/target_absmax", false),
    COLUMN(grad_norm, "losses/grad_norm", false),
    COLUMN(grad_norm_max, NULL, false),
    COLUMN(param_norm, "values/param_norm", false),
    COLUMN(update_ratio, "values/update_ratio", false),
    COLUMN(action_entropy, "charts/action_entropy", false),
    {"action_frac_", "charts/action_frac_", false, true, offsetof(iteration_row, action_frac)},
    COLUMN(epsilon, "charts/epsilon", false),
    COLUMN(replay_size, "charts/replay_size", true),
    COLUMN(per_priority_max, "values/per_priority_max", false),
    COLUMN(per_priority_mean, "values/per_priority_mean", false),
    COLUMN(per_weight_min, "values/per_weight_min", false),
    COLUMN(dist_entropy, "values/dist_entropy", false),
    COLUMN(quantile_spread, "values/quantile_spread", false),
    COLUMN(updates, NULL, true),
    COLUMN(target_syncs, NULL, true),
    COLUMN(sys_wall_s, "time/wall_s", false),
    COLUMN(sys_steps_per_s, "time/sps", false),
    COLUMN(sys_env_s, "time/env_s", false),
    COLUMN(sys_act_s, "time/act_s", false),
    COLUMN(sys_replay_s, "time/replay_s", false),
    COLUMN(sys_learn_s, "time/learn_s", false),
    COLUMN(sys_log_s, "time/log_s", false),
    COLUMN(sys_rss_mb, "system/rss_mb", false),
};

static int logged_actions(int num_actions) {
    return num_actions < PRISM_ACTIONS_LOGGED ? num_actions : PRISM_ACTIONS_LOGGED;
}

static void add(metrics_columns *c, const char *name, const char *tag, bool is_int, size_t offset) {
    PRISM_ASSERT(c->n < METRICS_MAX_COLUMNS);
    c->names[c->n] = name;
    c->is_int[c->n] = is_int;
    c->offset[c->n] = offset;
    if (tag) {
        c->tags[c->n_tags] = tag;
        c->tag_column[c->n_tags++] = c->n;
    }
    c->n++;
}

void metrics_columns_init(metrics_columns *c, int num_actions) {
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < sizeof METRICS / sizeof METRICS[0]; i++) {
        const metric_def *d = &METRICS[i];
        if (!d->per_action) {
            add(c, d->name, d->tag, d->is_int, d->offset);
            continue;
        }
        for (int a = 0; a < logged_actions(num_actions); a++) {
            char(*text)[48] = c->text[c->n];
            snprintf(text[0], sizeof text[0], "%s%d", d->name, a);
            snprintf(text[1], sizeof text[1], "%s%d", d->tag, a);
            add(c, text[0], text[1], d->is_int, d->offset + sizeof(double) * (size_t)a);
        }
    }
}

void metrics_columns_values(const metrics_columns *c, const iteration_row *row, double *values) {
    for (int i = 0; i < c->n; i++)
        memcpy(&values[i], (const char *)row + c->offset[i], sizeof(double));
}

void iteration_row_compute(iteration_row *row, const prism_run_state *s, double eval_mean,
                           double eval_std, double iter_wall, double start_time) {
    const prism_agent *agent = &s->agent;
    const prism_agent_stats *st = &agent->stats;
    const prism_iteration_acc *acc = &s->acc;
    double *all = (double *)row;
    for (size_t i = 0; i < sizeof *row / sizeof(double); i++) all[i] = NAN;
    double ep = (double)acc->episodes;
    row->iteration = s->counters.iterations_done + 1;
    row->env_steps = (double)s->counters.env_steps;
    row->episodes = ep;
    row->episodes_total = (double)s->counters.episodes_total;
    if (acc->episodes) {
        double mean = acc->return_sum / ep, var = acc->return_sq / ep - mean * mean;
        row->return_mean = mean;
        row->return_std = sqrt(var > 0 ? var : 0);
        row->return_min = acc->return_min;
        row->return_max = acc->return_max;
        row->length_mean = acc->length_sum / ep;
    }
    row->eval_return_mean = eval_mean;
    row->eval_return_std = eval_std;
    if (st->updates) {
        double u = (double)st->updates;
        row->loss = st->loss_sum / u;
        row->grad_norm = st->grad_norm_sum / u;
        row->grad_norm_max = st->grad_norm_max;
        row->update_ratio = st->update_ratio;
        if (agent->num_atoms > 1 && !agent->taus) row->dist_entropy = st->dist_entropy_sum / u;
        if (agent->taus) row->quantile_spread = st->quantile_spread_sum / u;
    }
    if (st->q_count) {
        row->q_mean = st->q_sum / (double)st->q_count;
        row->q_max = st->q_max;
        row->target_mean = st->target_sum / (double)st->q_count;
        row->target_absmax = st->target_absmax;
    }
    row->param_norm = prism_agent_param_norm(agent);
    double entropy = 0;
    for (int a = 0; a < logged_actions(s->env.cls->num_actions); a++) {
        double p =
            acc->actions_total ? (double)acc->action_counts[a] / (double)acc->actions_total : 0;
        row->action_frac[a] = p;
        if (p > 0) entropy -= p * log(p);
    }
    row->action_entropy = entropy;
    row->epsilon = prism_agent_epsilon(agent);
    prism_replay_stats rs;
    prism_replay_stats_get(&agent->replay, &rs);
    row->replay_size = rs.size;
    if (agent->cfg.prioritized) {
        row->per_priority_max = rs.priority_max;
        row->per_priority_mean = rs.priority_mean;
        row->per_weight_min = st->weight_min;
    }
    row->updates = (double)st->updates;
    row->target_syncs = (double)st->target_syncs;
    row->sys_wall_s = prism_now() - start_time;
    row->sys_steps_per_s = iter_wall > 0 ? (double)acc->steps / iter_wall : (double)NAN;
    row->sys_env_s = acc->time_env;
    row->sys_act_s = acc->time_act;
    row->sys_replay_s = st->time_replay;
    row->sys_learn_s = st->time_learn;
    row->sys_rss_mb = (double)prism_rss_bytes() / (1024.0 * 1024.0);
}
