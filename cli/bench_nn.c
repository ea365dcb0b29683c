/* prism bench nn [--json] [--seconds S] [--naive] [--only NAME]: the full DQN update time of the
 * preset networks (online forward, target forward, loss, backward, Adam step), its GFLOP/s, the
 * GFLOP/s of a plain matrix product (the build's: OpenBLAS sgemm, or prism's kernel with
 * GEMM=prism) of the network's largest layer shape measured in the same run, and
 * the batch-1 action-selection latency. Timings are the best of several chunks (robust to other
 * load on the machine); numbers are reported, never asserted. */
#include "cli.h"
#include "prism/nn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct preset {
    const char *name;
    int batch;
    prism_nn_config cfg;
} preset;

static int make_presets(preset *p) {
    int n = 0;
    prism_nn_config mlp = prism_nn_config_mlp(4, 2, 512, 512);
    prism_nn_config c51 = mlp;
    c51.n_atoms = 51, c51.v_min = -10, c51.v_max = 10, c51.dueling = 1;
    p[n++] = (preset){"mlp-512x2", 128, mlp};
    p[n++] = (preset){"mlp-512x2", 32, mlp};
    p[n++] = (preset){"mlp-512x2-dueling-c51", 128, c51};
    p[n++] = (preset){"mlp-512x2-dueling-c51", 32, c51};
    p[n++] = (preset){"minatar-conv16", 32, prism_nn_config_minatar(10, 10, 4, 16, 6)};
    p[n++] = (preset){"cleanrl-120-84", 128, prism_nn_config_mlp(4, 2, 120, 84)};
    return n;
}

static double sgemm_gflops(const int mnk[3], double seconds) {
    int M = mnk[0], N = mnk[1], K = mnk[2];
    float *a = calloc((size_t)M * K, 4), *b = calloc((size_t)N * K, 4),
          *c = calloc((size_t)M * N, 4);
    for (size_t i = 0; i < (size_t)M * K; i++) a[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < (size_t)N * K; i++) b[i] = (float)(i % 5) * 0.1f;
    double best = 1e30, t_end = prism_now() + seconds;
    int reps = 1;
    do {
        double t0 = prism_now();
        for (int r = 0; r < reps; r++)
            if (prism_nn_matmul(c, a, b, M, N, K)) {
                free(a), free(b), free(c);
                return 0;
            }
        double dt = (prism_now() - t0) / reps;
        if (dt < best) best = dt;
        if (dt * reps < 1e-3) reps *= 2;
    } while (prism_now() < t_end);
    free(a), free(b), free(c);
    return 2.0 * M * N * K / best / 1e9;
}

typedef struct result {
    double update_us, fwd_us, bwd_us, opt_us, act_us;
} result;

/* One full update; returns nothing, times the parts into t[0..2] (forward+target+loss,
 * backward, optimizer) when t is not NULL. */
static void update(prism_nn *on, prism_nn *tg, prism_optim *opt, const float *x, const float *xn,
                   const int32_t *a, const float *r, float *tq, float *tp, float *dout,
                   float *probs, float *disc, int B, double *t) {
    const prism_nn_config *c = &on->cfg;
    const int A = c->n_actions, N = c->n_atoms;
    double t0 = t ? prism_now() : 0;
    const float *qn = prism_nn_forward(tg, xn, B);
    if (N == 1) {
        for (int b = 0; b < B; b++) {
            float m = qn[(size_t)b * A];
            for (int k = 1; k < A; k++) m = qn[(size_t)b * A + k] > m ? qn[(size_t)b * A + k] : m;
            tq[b] = r[b] + 0.99f * m;
        }
    } else {
        prism_nn_q_from_logits(tq, qn, B, A, N, c->v_min, c->v_max);
        for (int b = 0; b < B; b++) {
            int best = 0;
            for (int k = 1; k < A; k++)
                if (tq[b * A + k] > tq[b * A + best]) best = k;
            prism_nn_softmax(probs + (size_t)b * N, qn + ((size_t)b * A + best) * N, 1, N);
            disc[b] = 0.99f;
        }
        prism_nn_c51_project(tp, probs, r, disc, B, N, c->v_min, c->v_max);
    }
    const float *q = prism_nn_forward(on, x, B);
    prism_nn_zero_grad(on);
    if (N == 1)
        prism_nn_loss_huber(q, a, tq, NULL, B, A, NULL, dout);
    else
        prism_nn_loss_c51(q, a, tp, NULL, B, A, N, NULL, dout);
    double t1 = t ? prism_now() : 0;
    prism_nn_backward(on, dout, B);
    double t2 = t ? prism_now() : 0;
    prism_optim_step(opt, on->params, on->grads);
    if (t) {
        double t3 = prism_now();
        t[0] += t1 - t0, t[1] += t2 - t1, t[2] += t3 - t2;
    }
}

static int run_preset(const preset *p, double seconds, int naive, result *res) {
    prism_nn on, tg;
    int B = p->batch;
    if (prism_nn_init(&on, &p->cfg, B, 1) || prism_nn_init(&tg, &p->cfg, B, 2)) return 0;
    prism_nn_set_naive(&on, naive), prism_nn_set_naive(&tg, naive);
    prism_optim opt;
    prism_optim_config oc = prism_optim_config_adam(1e-4f, 3.125e-4f);
    if (prism_optim_init(&opt, &oc, on.n_params)) return 0;
    const int A = p->cfg.n_actions, N = p->cfg.n_atoms;
    size_t nx = (size_t)B * (size_t)on.in_size;
    float *x = malloc(sizeof(float) * nx), *xn = malloc(sizeof(float) * nx);
    float *r = malloc(sizeof(float) * (size_t)B), *tq = malloc(sizeof(float) * (size_t)B * A);
    float *tp = malloc(sizeof(float) * (size_t)B * N),
          *probs = malloc(sizeof(float) * (size_t)B * N);
    float *disc = malloc(sizeof(float) * (size_t)B);
    float *dout = malloc(sizeof(float) * (size_t)B * A * N);
    int32_t *a = malloc(sizeof(int32_t) * (size_t)B);
    prism_rng rng;
    prism_rng_seed(&rng, 1, PRISM_STREAM_ACTIONS);
    for (size_t i = 0; i < nx; i++) {
        x[i] = (float)prism_rng_range(&rng, -1, 1);
        xn[i] = (float)prism_rng_range(&rng, -1, 1);
    }
    for (int b = 0; b < B; b++) {
        r[b] = (float)prism_rng_range(&rng, -1, 1);
        a[b] = (int32_t)prism_rng_below(&rng, (uint32_t)A);
    }
    /* warm up, then best-of-chunks */
    for (int i = 0; i < 3; i++)
        update(&on, &tg, &opt, x, xn, a, r, tq, tp, dout, probs, disc, B, NULL);
    double best = 1e30, t_end = prism_now() + seconds;
    int reps = 2;
    do {
        double t0 = prism_now();
        for (int i = 0; i < reps; i++)
            update(&on, &tg, &opt, x, xn, a, r, tq, tp, dout, probs, disc, B, NULL);
        double dt = (prism_now() - t0) / reps;
        best = dt < best ? dt : best;
        if (dt * reps < 0.02) reps *= 2;
    } while (prism_now() < t_end);
    res->update_us = best * 1e6;
    /* breakdown: best of 20 for each part (clock calls inside, so only indicative) */
    double bp[3] = {1e30, 1e30, 1e30};
    for (int i = 0; i < 20; i++) {
        double parts[3] = {0, 0, 0};
        update(&on, &tg, &opt, x, xn, a, r, tq, tp, dout, probs, disc, B, parts);
        for (int k = 0; k < 3; k++) bp[k] = parts[k] < bp[k] ? parts[k] : bp[k];
    }
    res->fwd_us = bp[0] * 1e6;
    res->bwd_us = bp[1] * 1e6;
    res->opt_us = bp[2] * 1e6;
    /* batch-1 action selection */
    volatile int sink = 0;
    best = 1e30;
    t_end = prism_now() + seconds / 4;
    do {
        double t0 = prism_now();
        for (int i = 0; i < 200; i++) sink += prism_nn_act(&on, x + (size_t)(i % B) * on.in_size);
        double dt = (prism_now() - t0) / 200;
        best = dt < best ? dt : best;
    } while (prism_now() < t_end);
    (void)sink;
    res->act_us = best * 1e6;
    free(x), free(xn), free(r), free(tq), free(tp), free(probs), free(disc), free(dout), free(a);
    prism_optim_free(&opt);
    prism_nn_free(&on), prism_nn_free(&tg);
    return 1;
}

int bench_nn(int argc, char **argv) {
    enum { O_JSON, O_SECONDS, O_NAIVE, O_ONLY, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_JSON] = {.name = "json", .help = "one JSON object per network"},
        [O_SECONDS] = {.name = "seconds",
                       .metavar = "S",
                       .help = "time per measurement (default 1)"},
        [O_NAIVE] = {.name = "naive", .help = "use the naive reference kernels"},
        [O_ONLY] = {.name = "only",
                    .metavar = "NAME",
                    .help = "only presets whose name contains NAME"},
    };
    const char *usage = "prism bench nn [--json] [--seconds S] [--naive] [--only NAME]";
    int npos;
    int rc = cli_parse("bench nn", usage, argc, argv, opts, NOPTS, NULL, 0, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    long long secs;
    if (!cli_int("bench nn", &opts[O_SECONDS], 1, 600, 1, &secs)) return CLI_USAGE;
    int json = opts[O_JSON].count > 0, naive = opts[O_NAIVE].count > 0;
    const char *only = cli_value(&opts[O_ONLY], NULL);
    preset ps[8];
    int n = make_presets(ps), matches = 0;
    for (int i = 0; i < n; i++) matches += !only || strstr(ps[i].name, only) != NULL;
    if (!matches) {
        fprintf(stderr, "prism bench nn: no preset matches '%s'; presets:", only);
        for (int i = 0; i < n; i++)
            if (i == 0 || strcmp(ps[i].name, ps[i - 1].name)) fprintf(stderr, " %s", ps[i].name);
        fprintf(stderr, "\n");
        return CLI_USAGE;
    }
    if (!json)
        printf("%-24s %5s %9s %9s %9s %9s %10s %10s %6s %8s\n", "NETWORK", "BATCH", "UPDATE_us",
               "FWD_us", "BWD_us", "OPT_us", "UPD_GF/s", "SGEMM_GF/s", "RATIO", "ACT1_us");
    for (int i = 0; i < n; i++) {
        if (only && !strstr(ps[i].name, only)) continue;
        result r;
        if (!run_preset(&ps[i], (double)secs, naive, &r))
            return cli_fail("bench nn", PRISM_ERR_NOMEM, NULL);
        prism_nn_flops fl = prism_nn_count_flops(&ps[i].cfg, ps[i].batch);
        int mnk[3] = {fl.largest_m, fl.largest_n, fl.largest_k};
        double flops = 2 * fl.forward + fl.backward; /* online + target forward, backward */
        double gf = flops / (r.update_us * 1e-6) / 1e9, sg = sgemm_gflops(mnk, (double)secs / 2);
        if (json) {
            prism_json j;
            prism_json_init(&j, 0);
            prism_json_object_begin(&j);
            prism_json_kv_string(&j, "name", ps[i].name);
            prism_json_kv_int(&j, "batch", ps[i].batch);
            prism_json_kv_bool(&j, "naive", naive);
            prism_json_kv_fixed(&j, "update_us", r.update_us, 2);
            prism_json_kv_fixed(&j, "forward_us", r.fwd_us, 2);
            prism_json_kv_fixed(&j, "backward_us", r.bwd_us, 2);
            prism_json_kv_fixed(&j, "optimizer_us", r.opt_us, 2);
            prism_json_kv_fixed(&j, "update_flops", flops, 0);
            prism_json_kv_fixed(&j, "update_gflops", gf, 2);
            prism_json_kv_int(&j, "sgemm_m", mnk[0]);
            prism_json_kv_int(&j, "sgemm_n", mnk[1]);
            prism_json_kv_int(&j, "sgemm_k", mnk[2]);
            prism_json_kv_fixed(&j, "sgemm_gflops", sg, 2);
            prism_json_kv_fixed(&j, "ratio", gf / sg, 3);
            prism_json_kv_fixed(&j, "act_us", r.act_us, 3);
            prism_json_object_end(&j);
            if ((rc = cli_json_print("bench nn", &j))) return rc;
        } else
            printf("%-24s %5d %9.1f %9.1f %9.1f %9.1f %10.1f %10.1f %6.2f %8.2f\n", ps[i].name,
                   ps[i].batch, r.update_us, r.fwd_us, r.bwd_us, r.opt_us, gf, sg, gf / sg,
                   r.act_us);
        fflush(stdout);
    }
    return CLI_OK;
}
