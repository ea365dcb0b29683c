/* Sum tree: the priority index behind prioritized replay. A complete binary tree in one array
 * (root at 1, children of k at 2k and 2k+1, leaves at L..2L-1 for L a power of two), each
 * internal node the sum of its children. It is only the index: which leaves mean what, and
 * how priorities are computed, is replay.c's business.
 *
 * Parents are recomputed as left + right on every set instead of adjusted by a delta, so the
 * tree is an exact function of its leaves (a delta update would drift by rounding over
 * millions of updates, and a loaded tree would differ from the saved one). */
#include "prism/replay.h"

#include <math.h>
#include <string.h>

/* 2^28 leaves is 4 GiB of doubles: far beyond the 10M-transition ceiling of the replay. */
#define MAX_LEAVES (1 << 28)

prism_status prism_sum_tree_init(prism_sum_tree *t, int capacity) {
    memset(t, 0, sizeof *t);
    if (capacity < 1 || capacity > MAX_LEAVES)
        return prism_error(PRISM_ERR_INVALID, "sum tree capacity %d is out of range 1..%d",
                           capacity, MAX_LEAVES);
    int leaves = 1;
    while (leaves < capacity) leaves *= 2;
    t->nodes = prism_calloc(2 * (size_t)leaves, sizeof(double));
    if (!t->nodes)
        return prism_error(PRISM_ERR_NOMEM, "out of memory for a sum tree of %d leaves (%zu MB)",
                           capacity, 2 * (size_t)leaves * sizeof(double) >> 20);
    t->capacity = capacity;
    t->leaves = leaves;
    return PRISM_OK;
}

void prism_sum_tree_free(prism_sum_tree *t) {
    prism_free(t->nodes);
    memset(t, 0, sizeof *t);
}

void prism_sum_tree_set(prism_sum_tree *t, int i, double value) {
    PRISM_ASSERT(i >= 0 && i < t->capacity);
    PRISM_ASSERT(value >= 0 && isfinite(value));
    size_t k = (size_t)t->leaves + (size_t)i;
    t->nodes[k] = value;
    for (k /= 2; k >= 1; k /= 2) t->nodes[k] = t->nodes[2 * k] + t->nodes[2 * k + 1];
}

double prism_sum_tree_get(const prism_sum_tree *t, int i) {
    PRISM_ASSERT(i >= 0 && i < t->capacity);
    return t->nodes[(size_t)t->leaves + (size_t)i];
}

double prism_sum_tree_total(const prism_sum_tree *t) {
    return t->nodes[1];
}

int prism_sum_tree_find(const prism_sum_tree *t, double u) {
    const double *n = t->nodes;
    PRISM_ASSERT(n[1] > 0);
    if (!(u >= 0)) u = 0; /* also catches NaN */
    size_t k = 1;
    while (k < (size_t)t->leaves) {
        double left = n[2 * k], right = n[2 * k + 1];
        /* Go left when u falls in the left mass, or when rounding pushed u past a right
         * subtree that holds nothing (u at or beyond the total, or a sum that lost the last
         * ulp): a zero leaf must never be returned. Go right likewise when the left is empty. */
        /* Branch-free, as the direction is a coin flip per level (a few percent faster
         * sampling: the dependent loads down the tree cost more than the mispredictions). */
        size_t go_right = !((u < left && left > 0) || right <= 0);
        u -= go_right ? left : 0.0;
        k = 2 * k + go_right;
    }
    return (int)(k - (size_t)t->leaves);
}

void prism_sum_tree_clear(prism_sum_tree *t) {
    if (t->nodes) memset(t->nodes, 0, 2 * (size_t)t->leaves * sizeof(double));
}

void prism_sum_tree_rebuild(prism_sum_tree *t) {
    for (size_t k = (size_t)t->leaves - 1; k >= 1; k--)
        t->nodes[k] = t->nodes[2 * k] + t->nodes[2 * k + 1];
}
