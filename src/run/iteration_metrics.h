/* The metrics of one training iteration: one table says each metrics.csv column's name, its
 * TensorBoard tag and where its value lives in an iteration_row; iteration_row_compute fills
 * a row from the run state. (Private to the run layer: trainer.c writes the rows.)
 */
#ifndef PRISM_RUN_ITERATION_METRICS_H
#define PRISM_RUN_ITERATION_METRICS_H

#include "prism/run_state.h"

#include <stdbool.h>

enum { METRICS_MAX_COLUMNS = 96 };

/* Every value of a metrics.csv row (NaN: not measured in this iteration; an empty field). */
typedef struct iteration_row {
    double iteration, env_steps, episodes, episodes_total;
    double return_mean, return_std, return_min, return_max, length_mean;
    double eval_return_mean, eval_return_std;
    double loss, q_mean, q_max, target_mean, target_absmax;
    double grad_norm, grad_norm_max, param_norm, update_ratio;
    double action_entropy, action_frac[PRISM_ACTIONS_LOGGED];
    double epsilon, replay_size, per_priority_max, per_priority_mean, per_weight_min;
    double dist_entropy, quantile_spread, updates, target_syncs;
    /* machine-dependent (sys_ columns); log_s covers the evaluation episodes and the writing */
    double sys_wall_s, sys_steps_per_s, sys_env_s, sys_act_s, sys_replay_s, sys_learn_s, sys_log_s,
        sys_rss_mb;
} iteration_row;

/* The columns of a run whose environment has num_actions actions, in file order. */
typedef struct metrics_columns {
    int n;
    const char *names[METRICS_MAX_COLUMNS];
    unsigned char is_int[METRICS_MAX_COLUMNS];
    int n_tags;
    const char *tags[METRICS_MAX_COLUMNS]; /* of the exported columns, in order */
    int tag_column[METRICS_MAX_COLUMNS];   /* the column of each tag */
    size_t offset[METRICS_MAX_COLUMNS];    /* of the column's value in an iteration_row */
    char text[METRICS_MAX_COLUMNS][2][48]; /* names and tags of the per-action columns */
} metrics_columns;

void metrics_columns_init(metrics_columns *c, int num_actions);

/* The row's values in column order into values[c->n]. */
void metrics_columns_values(const metrics_columns *c, const iteration_row *row, double *values);

/* The row of the iteration that just ended in s (its sums in s->acc), with the evaluation's
 * mean and standard deviation and the iteration's wall time (sys_log_s is left NaN for the
 * writer, sys_wall_s counts from start_time). */
void iteration_row_compute(iteration_row *row, const prism_run_state *s, double eval_mean,
                           double eval_std, double iter_wall, double start_time);

#endif
