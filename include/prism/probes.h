/* prism/probes.h — the probe environments and their analytic answers.
 *
 * A probe is a tiny environment whose correct values are known in closed form, so a learner
 * that gets them wrong is broken, and which probe fails says where (Andy Jones, "Debugging
 * RL, Without the Agonizing Pain"; docs/probes.md). Each probe is an ordinary environment
 * (prism_env_init with its id) with a model (prism/mdp.h); this header adds what a checker
 * needs: the states to query, the analytic Q(s, a) for any discount, the return
 * distribution, and the component a wrong value implicates.
 *
 *     const prism_probe *p = prism_probe_find("probe-3-discount");
 *     for (int s = 0; s < p->model->num_states; s++)
 *         for (int a = 0; a < p->model->num_actions; a++) {
 *             const float *obs = prism_probe_obs(p, s);   // feed to the agent's network
 *             double want = prism_probe_q(p, s, a, 0.99);
 *             ... compare with the agent's Q(obs, a); on failure print p->implicates ...
 *         }
 *
 * The analytic values are written independently of the models (tests check one against the
 * other through Q-value iteration).
 */
#ifndef PRISM_PROBES_H
#define PRISM_PROBES_H

#include "prism/mdp.h"

typedef struct prism_probe {
    const char *env_id;     /* "probe-1-constant" */
    const char *title;      /* one line: what the probe is */
    const char *implicates; /* what a wrong value points to, e.g. "discounting and terminal
                               masking" */
    const prism_mdp *model; /* states to check are the model's ordinary states */
    /* Analytic Q(s, a) for discount gamma in [0, 1]; s an ordinary state of the model. */
    double (*q)(int s, int a, double gamma);
    /* Analytic return distribution of (s, a): writes up to max atoms (value, probability),
     * returns how many; NULL for a deterministic return (one atom at q). */
    int (*distribution)(int s, int a, double gamma, double *values, double *probs, int max);
} prism_probe;

/* The probes in order (Jones's five, then truncation, n-step, distributional,
 * prioritized), or NULL out of range. */
int prism_probe_count(void);
const prism_probe *prism_probe_at(int i);
/* The probe of an environment id or alias (case-insensitive), or NULL. */
const prism_probe *prism_probe_find(const char *env_id);

/* The observation of ordinary state s (model->obs_size floats; static storage). */
const float *prism_probe_obs(const prism_probe *p, int s);
/* Analytic Q(s, a) for discount gamma (asserts 0 <= gamma <= 1 and s, a in range). */
double prism_probe_q(const prism_probe *p, int s, int a, double gamma);
/* Analytic return distribution of (s, a): up to max atoms (value, probability), sorted by
 * value; returns the number of atoms (at least 1 when max >= 1). */
int prism_probe_distribution(const prism_probe *p, int s, int a, double gamma, double *values,
                             double *probs, int max);

#endif
