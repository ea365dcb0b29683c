/* tests/ref_file.h — reading the PyTorch reference fixtures of tests/ref/ (written by
 * nn_ref.py and heads_ref.py): magic "PRNNREF\0", u32 version 1, u32 record count, then per
 * record a 32-byte NUL-padded name, u32 n, n float32 values. */
#ifndef PRISM_TEST_REF_FILE_H
#define PRISM_TEST_REF_FILE_H

#include <stdint.h>

typedef struct ref_rec {
    char name[33];
    uint32_t n;
    float *v;
} ref_rec;

typedef struct ref_file {
    int count;
    ref_rec rec[16];
} ref_file;

/* 1 when the whole file was read, 0 otherwise (nothing left to free then). */
int ref_load(ref_file *r, const char *path);
void ref_free(ref_file *r);
/* The values of record `name`, which must hold n of them; NULL (and the test fails) otherwise. */
const float *ref_get(const ref_file *r, const char *name, uint32_t n);

#endif
