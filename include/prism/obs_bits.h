/* prism/obs_bits.h — compact storage of binary observations (MinAtar's 10x10xC 0/1 grids):
 * one bit per element, so a Seaquest observation (1000 floats, 4000 bytes) takes 125 bytes
 * and 100k replay transitions of it about 12.5 MB.
 *
 *     uint8_t packed[PRISM_OBS_BITS_BYTES(1000)];
 *     prism_obs_pack_bits(obs, 1000, packed);
 *     prism_obs_unpack_bits(packed, 1000, obs);   (obs is again exactly the 0/1 floats)
 *
 * Bit i of the observation (its flat index, (H, W, C) row-major for images) is bit i % 8 of
 * byte i / 8. Not for observations with other values: packing treats any non-zero as 1.
 */
#ifndef PRISM_OBS_BITS_H
#define PRISM_OBS_BITS_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed for n elements. */
#define PRISM_OBS_BITS_BYTES(n) (((size_t)(n) + 7) / 8)

/* Packs n floats (0 or 1; any non-zero counts as 1) into PRISM_OBS_BITS_BYTES(n) bytes of
 * `bits` (the caller's); unused high bits of the last byte are written as 0. */
void prism_obs_pack_bits(const float *obs, size_t n, uint8_t *bits);
/* Writes n floats (0.0f or 1.0f) into obs (the caller's) from bits packed as above. */
void prism_obs_unpack_bits(const uint8_t *bits, size_t n, float *obs);

#endif
