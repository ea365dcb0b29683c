/* CRC-32C (Castagnoli polynomial, reflected 0x82F63B78), table-driven. Used for TFRecord
 * framing and our own file checksums; speed is irrelevant next to the I/O it guards. */
#include "prism/core.h"

static uint32_t table[256];
static int table_ready;

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
    table_ready = 1;
}

uint32_t prism_crc32c(uint32_t crc, const void *data, size_t len) {
    if (!table_ready) build_table();
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}
