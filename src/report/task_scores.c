/* report/task_scores.c — per-task reference points for score normalisation: the mean return of
 * the uniform random policy and the best known score. Data only; docs/statistics.md gives the
 * source of each number and says which ones were measured here and which are unverified. */
#include "prism/stats.h"

#include <strings.h>

static const prism_task_score task_scores[] = {
    /* classic control (Revisiting Rainbow's four tasks) */
    {"CartPole-v0", 22.26, 200.0,
     "random: measured with prism (100k episodes, se 0.04); reference: the 200-step maximum"},
    {"CartPole-v1", 22.26, 500.0,
     "random: as CartPole-v0 (episodes end long before 200 steps); reference: the 500 maximum"},
    {"Acrobot-v1", -500.0, -100.0,
     "UNVERIFIED random (a random policy almost never swings up within 500 steps); reference: "
     "Gym's reward_threshold -100"},
    {"MountainCar-v0", -200.0, -110.0,
     "random: -200, a random policy does not reach the flag in 200 steps (UNVERIFIED for the "
     "600-step preset); reference: Gym's reward_threshold -110"},
    {"LunarLander-v3", -180.0, 200.0,
     "UNVERIFIED random (commonly reported near -180); reference: Gym's 'solved' threshold 200"},
    /* MinAtar: NOT FOUND in a citable table; placeholders to replace with measured values */
    {"MinAtar/Asterix", 0.5, 40.0, "UNVERIFIED: random and reference not found; placeholders"},
    {"MinAtar/Breakout", 0.5, 30.0, "UNVERIFIED: random and reference not found; placeholders"},
    {"MinAtar/Freeway", 0.0, 60.0, "UNVERIFIED: random and reference not found; placeholders"},
    {"MinAtar/Seaquest", 0.1, 50.0, "UNVERIFIED: random and reference not found; placeholders"},
    {"MinAtar/SpaceInvaders", 3.0, 150.0,
     "UNVERIFIED: random and reference not found; placeholders"},
};

int prism_task_score_count(void) {
    return (int)(sizeof task_scores / sizeof task_scores[0]);
}

const prism_task_score *prism_task_score_at(int i) {
    PRISM_ASSERT(i >= 0 && i < prism_task_score_count());
    return &task_scores[i];
}

const prism_task_score *prism_task_score_find(const char *env) {
    for (int i = 0; i < prism_task_score_count(); i++)
        if (!strcasecmp(task_scores[i].env, env)) return &task_scores[i];
    return NULL;
}
