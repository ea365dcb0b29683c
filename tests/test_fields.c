/* Tests of named binary fields (prism/fields.h): values come back bit for bit by name; a
 * missing field, a field of another size, a field nobody asked for and a malformed section
 * are each refused with a message naming the source and the field.
 */
#include "harness.h"
#include "prism/fields.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The section w writes, in a malloc'd buffer. */
static unsigned char *written(const prism_fields *w, size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f) return NULL;
    prism_status st = prism_fields_write(w, f);
    fclose(f);
    if (st) {
        free(buf);
        return NULL;
    }
    return (unsigned char *)buf;
}

static void sample(prism_fields *w) {
    prism_fields_init(w);
    prism_fields_i64(w, "steps", -1234567890123LL);
    prism_fields_f64(w, "nan", -(double)NAN);
    prism_fields_f64(w, "zero", -0.0);
    const uint64_t u[3] = {0, UINT64_MAX, 42};
    prism_fields_u64s(w, "u", u, 3);
    const uint32_t v[2] = {7, UINT32_MAX};
    prism_fields_u32s(w, "v", v, 2);
    const int64_t k[2] = {INT64_MIN, INT64_MAX};
    prism_fields_i64s(w, "k", k, 2);
}

/* The sample's section in a malloc'd buffer. */
static unsigned char *sample_section(size_t *len) {
    prism_fields w;
    sample(&w);
    unsigned char *buf = written(&w, len);
    prism_fields_free(&w);
    return buf;
}

TEST(fields_round_trip_bit_for_bit_in_any_order) {
    size_t len;
    unsigned char *buf = sample_section(&len);
    REQUIRE(buf != NULL);
    prism_fields_view v;
    size_t used = 0;
    REQUIRE(prism_fields_parse(&v, buf, len, &used, "x.bin") == PRISM_OK);
    CHECK(used == len);
    uint32_t vv[2];
    int64_t k[2], steps;
    uint64_t u[3];
    double nan_back, zero;
    CHECK(prism_fields_get_u32s(&v, "v", vv, 2) == PRISM_OK && vv[0] == 7 && vv[1] == UINT32_MAX);
    CHECK(prism_fields_get_i64(&v, "steps", &steps) == PRISM_OK && steps == -1234567890123LL);
    CHECK(prism_fields_get_i64s(&v, "k", k, 2) == PRISM_OK && k[0] == INT64_MIN &&
          k[1] == INT64_MAX);
    CHECK(prism_fields_get_u64s(&v, "u", u, 3) == PRISM_OK && u[1] == UINT64_MAX && u[2] == 42);
    CHECK(prism_fields_get_f64(&v, "zero", &zero) == PRISM_OK && zero == 0 && signbit(zero));
    double want = -(double)NAN;
    CHECK(prism_fields_get_f64(&v, "nan", &nan_back) == PRISM_OK &&
          !memcmp(&nan_back, &want, sizeof want));
    CHECK(prism_fields_done(&v) == PRISM_OK);
    free(buf);
}

TEST(fields_missing_resized_and_unknown_are_refused_by_name) {
    size_t len, used;
    unsigned char *buf = sample_section(&len);
    REQUIRE(buf != NULL);
    prism_fields_view v;
    REQUIRE(prism_fields_parse(&v, buf, len, &used, "x.bin") == PRISM_OK);
    int64_t x;
    CHECK(prism_fields_get_i64(&v, "absent", &x) == PRISM_ERR_CORRUPT);
    CHECK(strstr(prism_error_message(), "x.bin") && strstr(prism_error_message(), "absent"));
    uint64_t u[2];
    CHECK(prism_fields_get_u64s(&v, "u", u, 2) == PRISM_ERR_CORRUPT);
    CHECK(strstr(prism_error_message(), "field u has 24 bytes"));
    CHECK(prism_fields_get_i64(&v, "steps", &x) == PRISM_OK);
    /* everything but "steps" is unread: done names the first of them */
    CHECK(prism_fields_done(&v) == PRISM_ERR_CORRUPT);
    CHECK(strstr(prism_error_message(), "(nan)") && strstr(prism_error_message(), "newer prism"));
    free(buf);
}

TEST(fields_malformed_sections_are_refused_never_overread) {
    size_t len, used;
    prism_fields_view v;
    unsigned char *buf = sample_section(&len);
    REQUIRE(buf != NULL);
    /* every truncation: the section's own length no longer fits (ASan would see an overread) */
    for (size_t cut = 0; cut < len; cut++) {
        unsigned char *part = malloc(cut ? cut : 1);
        REQUIRE(part);
        memcpy(part, buf, cut);
        CHECK(prism_fields_parse(&v, part, cut, &used, "cut.bin") == PRISM_ERR_CORRUPT);
        free(part);
    }
    /* every single byte changed: parse either refuses or yields fields that stay in bounds */
    int refused = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char *copy = malloc(len);
        REQUIRE(copy);
        memcpy(copy, buf, len);
        copy[i] ^= 0xa5;
        if (prism_fields_parse(&v, copy, len, &used, "flip.bin"))
            refused++;
        else
            CHECK(used <= len);
        free(copy);
    }
    CHECK(refused > 12); /* the header and every length byte */
    /* a name twice */
    prism_fields w;
    prism_fields_init(&w);
    prism_fields_i64(&w, "a", 1);
    prism_fields_i64(&w, "a", 2);
    unsigned char *dup = written(&w, &len);
    prism_fields_free(&w);
    REQUIRE(dup != NULL);
    CHECK(prism_fields_parse(&v, dup, len, &used, "dup.bin") == PRISM_ERR_CORRUPT);
    CHECK(strstr(prism_error_message(), "appears twice") != NULL);
    free(dup);
    free(buf);
}
