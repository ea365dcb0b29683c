/* src/nn/flops.c — the arithmetic a network's matrix products cost, counted from its config
 * (prism_nn_count_flops). It is a count, not a measurement: prism bench nn and prism bench
 * train divide it by measured times and by this core's peak (docs/benchmarks-training.md). */
#include "prism/nn.h"

/* One product of M rows, N outputs and inner dimension K: 2 M N K FLOPs forward; backward the
 * weight gradient costs as much again, and the input gradient as much once more unless the
 * layer reads the network's input (nothing below it needs that gradient). */
static void layer(prism_nn_flops *f, int M, int N, int K, int reads_input) {
    double fl = 2.0 * (double)M * (double)N * (double)K;
    f->forward += fl;
    f->backward += reads_input ? fl : 2 * fl;
    if (fl > 2.0 * (double)f->largest_m * (double)f->largest_n * (double)f->largest_k)
        f->largest_m = M, f->largest_n = N, f->largest_k = K;
}

prism_nn_flops prism_nn_count_flops(const prism_nn_config *c, int B) {
    return prism_nn_count_flops_taus(c, B, 1);
}

prism_nn_flops prism_nn_count_flops_taus(const prism_nn_config *c, int B, int T) {
    prism_nn_flops f = {0};
    int width, features_are_input = 0;
    if (c->conv_filters) {
        /* im2col: every output position is a row, every 3x3xC patch the inner dimension */
        int pad = c->conv_padding == PRISM_NN_PAD_SAME, ho = c->in_h + 2 * pad - 2,
            wo = c->in_w + 2 * pad - 2;
        layer(&f, B * ho * wo, c->conv_filters, 9 * c->in_c, 1);
        width = ho * wo * c->conv_filters;
    } else {
        width = prism_nn_config_in_size(c);
        features_are_input = 1;
    }
    for (int i = 0; i < c->n_hidden; i++) {
        layer(&f, B, c->hidden[i], width, features_are_input);
        width = c->hidden[i];
        features_are_input = 0;
    }
    int rows = B;
    if (c->quantile_embedding_dim > 0) {
        /* the embedding reads cosines of the fractions: no input gradient below it */
        layer(&f, B * T, width, c->quantile_embedding_dim, 1);
        rows = B * T;
        features_are_input = 0;
    }
    /* the head (advantages when dueling) and the value stream read the same features */
    layer(&f, rows, c->n_actions * c->n_atoms, width, features_are_input);
    if (c->dueling) layer(&f, rows, c->n_atoms, width, features_are_input);
    return f;
}
