/* prism/presets.h — named agent presets: data, not code paths (docs/presets.md).
 *
 * A preset is a list of key=value assignments applied on top of the defaults, chosen by the
 * preset name and the environment's family (classic-control task or MinAtar):
 *   dqn, rainbow                       the Revisiting Rainbow baselines, per environment
 *   dqn+X, rainbow-X                   X in double, prioritized, dueling, multistep,
 *                                      distributional, noisy: add one / remove one component
 *   cleanrl-dqn                        CleanRL's dqn.py (CartPole-v1, 500k steps)
 *   minatar-dqn                        MinAtar's dqn.py (any MinAtar game, 5M frames)
 * docs/presets.md lists every value with its source.
 *
 *     prism_config c;
 *     prism_config_defaults(&c);
 *     st = prism_preset_apply(&c, "rainbow-noisy", "CartPole-v0");
 */
#ifndef PRISM_PRESETS_H
#define PRISM_PRESETS_H

#include "prism/config.h"

/* Apply preset `name` for environment `env_id` (also sets c->env and c->agent). Unknown
 * preset or unregistered environment: PRISM_ERR_NOT_FOUND with the closest names. */
prism_status prism_preset_apply(prism_config *c, const char *name, const char *env_id);

/* The preset names, in a stable order (NULL past the end), and a one-line description. */
const char *prism_preset_name(int i);
const char *prism_preset_summary(int i);

/* The assignments a preset makes for an environment, as text ("key=value ..."); returns
 * false for an unknown preset. */
bool prism_preset_text(const char *name, const char *env_id, char *buf, size_t cap);

#endif
