/* src/nn/orthogonal.c — orthogonal weight initialisation (Saxe et al. 2014) as
 * torch.nn.init.orthogonal_ defines it: Q of the QR decomposition of a normal matrix, with Q's
 * columns multiplied by the signs of diag(R), so Q is the unique factor whose R has a positive
 * diagonal. Gram-Schmidt produces exactly that factor (its R diagonal is a norm), so it is used
 * here, twice over each vector ("twice is enough", Giraud et al. 2005) to keep the columns
 * orthogonal to double rounding. Init-time only: it allocates. */
#include "nn_internal.h"

#include <math.h>
#include <string.h>

prism_status nn_orthogonalize(float *w, double *a, int rows, int cols, double gain) {
    /* The k = min(rows, cols) vectors of length L to orthonormalise: a's columns when
     * rows >= cols, else its rows (torch transposes a wide matrix before the QR). */
    const int tall = rows >= cols, k = tall ? cols : rows, L = tall ? rows : cols;
    double *v = prism_alloc(sizeof(double) * (size_t)k * (size_t)L);
    if (!v) return prism_error(PRISM_ERR_NOMEM, "nn: out of memory for orthogonal init");
    for (int j = 0; j < k; j++)
        for (int i = 0; i < L; i++)
            v[(size_t)j * L + i] = tall ? a[(size_t)i * cols + j] : a[(size_t)j * cols + i];
    for (int j = 0; j < k; j++) {
        double *vj = v + (size_t)j * L;
        for (int pass = 0; pass < 2; pass++)
            for (int p = 0; p < j; p++) {
                const double *vp = v + (size_t)p * L;
                double dot = 0;
                for (int i = 0; i < L; i++) dot += vp[i] * vj[i];
                for (int i = 0; i < L; i++) vj[i] -= dot * vp[i];
            }
        double nrm = 0;
        for (int i = 0; i < L; i++) nrm += vj[i] * vj[i];
        nrm = sqrt(nrm);
        for (int i = 0; i < L; i++) vj[i] = nrm > 0 ? vj[i] / nrm : 0.0;
    }
    for (int j = 0; j < k; j++)
        for (int i = 0; i < L; i++) {
            float x = (float)(gain * v[(size_t)j * L + i]);
            if (tall)
                w[(size_t)i * cols + j] = x;
            else
                w[(size_t)j * cols + i] = x;
        }
    prism_free(v);
    return PRISM_OK;
}

prism_status nn_init_orthogonal(float *w, int rows, int cols, double gain, prism_rng *rng) {
    size_t n = (size_t)rows * (size_t)cols;
    double *a = prism_alloc(sizeof(double) * n);
    if (!a) return prism_error(PRISM_ERR_NOMEM, "nn: out of memory for orthogonal init");
    for (size_t i = 0; i < n; i++) a[i] = prism_rng_normal(rng);
    prism_status st = nn_orthogonalize(w, a, rows, cols, gain);
    prism_free(a);
    return st;
}
