/* tests/ref_file.c — the reader of tests/ref/'s PyTorch fixtures (see ref_file.h). */
#include "ref_file.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ref_free(ref_file *r) {
    for (int i = 0; i < r->count; i++) free(r->rec[i].v);
    r->count = 0;
}

int ref_load(ref_file *r, const char *path) {
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char magic[8];
    uint32_t hdr[2];
    int ok = fread(magic, 1, 8, f) == 8 && !memcmp(magic, "PRNNREF", 8) &&
             fread(hdr, 4, 2, f) == 2 && hdr[0] == 1 && hdr[1] <= 16;
    for (uint32_t i = 0; ok && i < hdr[1]; i++) {
        ref_rec *c = &r->rec[i];
        ok = fread(c->name, 1, 32, f) == 32 && fread(&c->n, 4, 1, f) == 1 && c->n < (1u << 24);
        if (!ok) break;
        c->v = malloc(sizeof(float) * (c->n ? c->n : 1));
        ok = c->v && fread(c->v, 4, c->n, f) == c->n;
        r->count = (int)i + 1;
    }
    fclose(f);
    if (!ok) ref_free(r);
    return ok;
}

const float *ref_get(const ref_file *r, const char *name, uint32_t n) {
    for (int i = 0; i < r->count; i++)
        if (!strcmp(r->rec[i].name, name)) {
            if (r->rec[i].n != n) {
                test_fail(__FILE__, __LINE__, "fixture record %s has %u values, expected %u", name,
                          r->rec[i].n, n);
                return NULL;
            }
            return r->rec[i].v;
        }
    test_fail(__FILE__, __LINE__, "fixture record %s is missing", name);
    return NULL;
}
