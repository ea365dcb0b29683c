/* `prism env rollout GAME --seed 0 --rng numpy --actions FILE` reproduces the MinAtar reference
 * traces through the CLI: the same observations, rewards and terminal flags at every step,
 * across episode resets (the interface outside tools use to check parity, docs/rollout.md). */
#include "fixture.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_STEPS = 2000, MAX_OBS = 10 * 10 * 10 };

typedef struct expected_step {
    float reward;
    bool terminated;
    unsigned char obs[MAX_OBS]; /* dense 0/1, (H, W, C) */
} expected_step;

/* Read the reference trace: actions into a file, expected steps into `want`. */
static int read_reference(const char *trace, const char *actions_path, expected_step *want,
                          int *C) {
    fixture f;
    if (!fixture_open(&f, trace)) return -1;
    FILE *out = fopen(actions_path, "w");
    int n = 0;
    for (const json *r; out && (r = fixture_next(&f));) {
        const char *type = json_str(json_get(r, "type"));
        if (!strcmp(type, "meta")) *C = (int)json_num(json_at(json_get(r, "obs_shape"), 2));
        if (strcmp(type, "step") || n >= MAX_STEPS) continue;
        fprintf(out, "%d\n", (int)json_num(json_get(r, "action")));
        expected_step *e = &want[n++];
        e->reward = (float)json_num(json_get(r, "reward"));
        e->terminated = json_bool(json_get(r, "terminated"));
        memset(e->obs, 0, sizeof e->obs);
        const json *cells = json_get(r, "obs");
        for (int i = 0; cells && i < cells->n; i++) {
            const json *cell = json_at(cells, i), *chs = json_at(cell, 2);
            int row = (int)json_num(json_at(cell, 0)), col = (int)json_num(json_at(cell, 1));
            for (int k = 0; chs && k < chs->n; k++)
                e->obs[(row * 10 + col) * *C + (int)json_num(json_at(chs, k))] = 1;
        }
    }
    if (out) fclose(out);
    fixture_close(&f);
    return out ? n : -1;
}

static void check_game(const char *game) {
    char trace[128], actions[1024], cmd[2048];
    snprintf(trace, sizeof trace, "%s_seed0_2000.jsonl.gz", game);
    snprintf(actions, sizeof actions, "%s/%s.actions", test_tmpdir(), game);
    expected_step *want = malloc(sizeof *want * MAX_STEPS);
    REQUIRE(want != NULL);
    int C = 0, n = read_reference(trace, actions, want, &C);
    if (n <= 0 || C <= 0) {
        test_fail(__FILE__, __LINE__, "%s: could not read the reference trace", game);
        free(want);
        return;
    }
    const char *bin = getenv("PRISM_BIN");
    snprintf(cmd, sizeof cmd, "%s env rollout %s --seed 0 --rng numpy --actions %s --steps %d",
             bin ? bin : "build/prism", game, actions, n);
    fixture f;
    if (!fixture_open_command(&f, cmd)) {
        free(want);
        return;
    }
    int t = 0, mismatches = 0;
    for (const json *r; (r = fixture_next(&f));) {
        if (strcmp(json_str(json_get(r, "type")), "step")) continue;
        if (t >= n) break;
        const expected_step *e = &want[t];
        const json *obs = json_get(r, "obs");
        bool same = obs && obs->n == 100 * C &&
                    (float)json_num(json_get(r, "reward")) == e->reward &&
                    json_bool(json_get(r, "terminated")) == e->terminated;
        for (int i = 0; same && i < 100 * C; i++) same = json_num(json_at(obs, i)) == e->obs[i];
        if (!same && mismatches++ == 0)
            test_fail(__FILE__, __LINE__, "%s: first mismatch at step %d", game, t);
        t++;
    }
    fixture_close(&f);
    CHECK_EQ_INT(t, n);
    CHECK_EQ_INT(mismatches, 0);
    free(want);
}

TEST(rollout_numpy_reproduces_minatar_traces_through_the_cli) {
    const char *games[] = {"asterix", "breakout", "freeway", "seaquest", "space_invaders"};
    for (int i = 0; i < 5; i++) check_game(games[i]);
}
