/* Packing binary observations into bits and back (see prism/obs_bits.h). Plain loops over
 * whole bytes: a Seaquest observation packs or unpacks in well under a microsecond, far
 * below the cost of a network update, so nothing cleverer is needed. */
#include "prism/obs_bits.h"

void prism_obs_pack_bits(const float *obs, size_t n, uint8_t *bits) {
    size_t full = n / 8;
    for (size_t b = 0; b < full; b++) {
        const float *o = obs + 8 * b;
        unsigned v = 0;
        for (int k = 0; k < 8; k++) v |= (unsigned)(o[k] != 0.0f) << k;
        bits[b] = (uint8_t)v;
    }
    if (n % 8) {
        unsigned v = 0;
        for (size_t k = 0; k < n % 8; k++) v |= (unsigned)(obs[8 * full + k] != 0.0f) << k;
        bits[full] = (uint8_t)v;
    }
}

void prism_obs_unpack_bits(const uint8_t *bits, size_t n, float *obs) {
    for (size_t i = 0; i < n; i++) obs[i] = (float)((bits[i / 8] >> (i % 8)) & 1u);
}
