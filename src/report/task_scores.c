/* report/task_scores.c — per-task reference points for score normalisation: the mean return of
 * the uniform random policy and the best known score. Data only; docs/statistics.md gives the
 * source of each number and says which ones were measured here and which are unverified. */
#include "prism/env.h"
#include "prism/stats.h"

#include <strings.h>

/* "measured" = computed here from episodes of the uniform random policy: with prism's
 * CartPole (100k episodes), or from the random-action reference rollouts in
 * tests/fixtures/reference (Gymnasium 1.4.0 / MinAtar 1.0.15, 2,000 steps each: few episodes,
 * so the standard error is given). "UNVERIFIED" marks a number that is a placeholder or an
 * assumption to be replaced by a measurement; the report prints a note wherever one is used. */
static const prism_task_score task_scores[] = {
    /* classic control (Revisiting Rainbow's four tasks) */
    {"CartPole-v0", 22.26, 200.0,
     "random: measured with prism, 100k episodes (se 0.04); reference: the 200-step maximum"},
    {"CartPole-v1", 22.26, 500.0,
     "random: as CartPole-v0 (random episodes end long before 200 steps; Gymnasium trace: 21.4 "
     "over 93 episodes); reference: the 500-step maximum"},
    {"Acrobot-v1", -500.0, -100.0,
     "random: measured, the 4 episodes of the Gymnasium trace all time out at 500 steps; "
     "reference: Gym's reward_threshold -100 (UNVERIFIED as a best-known score)"},
    {"MountainCar-v0", -200.0, -110.0,
     "random: measured, the 10 episodes of the Gymnasium trace all time out at 200 steps "
     "(UNVERIFIED for the 600-step preset, where it would be lower); reference: Gym's "
     "reward_threshold -110"},
    {"LunarLander-v3", -159.1, 200.0,
     "random: measured, 23 episodes of the Gymnasium trace (se 19); reference: Gym's 'solved' "
     "threshold 200"},
    /* MinAtar: random measured from the reference traces; the best-known scores were not found
     * in a citable table (the Revisiting Rainbow figures could not be read here) */
    {"asterix", 0.48, 40.0,
     "random: measured, 25 episodes (se 0.16); reference: UNVERIFIED placeholder"},
    {"breakout", 0.55, 30.0,
     "random: measured, 172 episodes (se 0.06); reference: UNVERIFIED placeholder"},
    {"freeway", 0.0, 60.0,
     "random: UNVERIFIED (no episode ended in the 2,000-step trace; a random policy rarely "
     "crosses); reference: UNVERIFIED placeholder"},
    {"seaquest", 0.13, 50.0,
     "random: measured, 54 episodes (se 0.06); reference: UNVERIFIED placeholder"},
    {"space_invaders", 2.64, 150.0,
     "random: measured, 44 episodes (se 0.38); reference: UNVERIFIED placeholder"},
};

/* Registered environments that have no normalisation on purpose, and why. Every registered id
 * is in exactly one of the two tables (tested), so a new environment cannot silently drop out of
 * a study's aggregates. */
#define MINIMAL "minimal action set: the random policy over it was not measured"
#define PROBE   "a debugging probe with a known answer, not a benchmark task"
static const struct {
    const char *env, *why;
} no_scores[] = {
    {"asterix-minimal", MINIMAL},
    {"breakout-minimal", MINIMAL},
    {"freeway-minimal", MINIMAL},
    {"seaquest-minimal", MINIMAL},
    {"space_invaders-minimal", MINIMAL},
    {"homl-mdp", "a tabular teaching MDP, not a benchmark task"},
    {"probe-1-constant", PROBE},
    {"probe-2-obs-reward", PROBE},
    {"probe-3-discount", PROBE},
    {"probe-4-action", PROBE},
    {"probe-5-match", PROBE},
    {"probe-truncation", PROBE},
    {"probe-nstep", PROBE},
    {"probe-distributional", PROBE},
    {"probe-prioritized", PROBE},
};

#undef MINIMAL
#undef PROBE

const char *prism_task_score_missing_reason(const char *env) {
    const char *id = prism_env_canonical_id(env);
    for (size_t i = 0; i < sizeof no_scores / sizeof no_scores[0]; i++)
        if (!strcasecmp(no_scores[i].env, id)) return no_scores[i].why;
    return NULL;
}

int prism_task_score_count(void) {
    return (int)(sizeof task_scores / sizeof task_scores[0]);
}

const prism_task_score *prism_task_score_at(int i) {
    PRISM_ASSERT(i >= 0 && i < prism_task_score_count());
    return &task_scores[i];
}

const prism_task_score *prism_task_score_find(const char *env) {
    const char *id = prism_env_canonical_id(env); /* aliases name the same task */
    for (int i = 0; i < prism_task_score_count(); i++)
        if (!strcasecmp(task_scores[i].env, id)) return &task_scores[i];
    return NULL;
}
