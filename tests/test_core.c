/* Tests for core/: rng streams and uniformity, numpy RandomState parity, crc32c, errors,
 * allocation hooks. */
#include "harness.h"
#include "prism/core.h"
#include "prism/rng.h"

#include <string.h>

TEST(rng_same_seed_same_sequence) {
    prism_rng a, b;
    prism_rng_seed(&a, 42, 7);
    prism_rng_seed(&b, 42, 7);
    for (int i = 0; i < 1000; i++) CHECK(prism_rng_next(&a) == prism_rng_next(&b));
}

TEST(rng_streams_and_seeds_differ) {
    prism_rng a, b, c;
    prism_rng_seed(&a, 42, 7);
    prism_rng_seed(&b, 42, 8);
    prism_rng_seed(&c, 43, 7);
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = prism_rng_next(&a), y = prism_rng_next(&b), z = prism_rng_next(&c);
        same_ab += x == y;
        same_ac += x == z;
    }
    CHECK_EQ_INT(same_ab, 0);
    CHECK_EQ_INT(same_ac, 0);
}

TEST(rng_uniform_moments_and_range) {
    prism_rng r;
    prism_rng_seed(&r, 1, 1);
    const int n = 200000;
    double sum = 0, sum2 = 0;
    int buckets[10] = {0};
    for (int i = 0; i < n; i++) {
        double u = prism_rng_uniform(&r);
        CHECK(u >= 0.0 && u < 1.0);
        sum += u;
        sum2 += u * u;
        buckets[(int)(u * 10)]++;
    }
    CHECK_NEAR(sum / n, 0.5, 0.005);
    CHECK_NEAR(sum2 / n - (sum / n) * (sum / n), 1.0 / 12.0, 0.002);
    /* chi-square with 9 degrees of freedom: 99.9% quantile is 27.9 */
    double chi2 = 0;
    for (int i = 0; i < 10; i++)
        chi2 += (buckets[i] - n / 10.0) * (buckets[i] - n / 10.0) / (n / 10.0);
    CHECK(chi2 < 27.9);
}

TEST(rng_below_unbiased_and_in_range) {
    prism_rng r;
    prism_rng_seed(&r, 3, 1);
    int counts[7] = {0};
    const int n = 70000;
    for (int i = 0; i < n; i++) {
        uint32_t k = prism_rng_below(&r, 7);
        REQUIRE(k < 7);
        counts[k]++;
    }
    double chi2 = 0;
    for (int i = 0; i < 7; i++) chi2 += (counts[i] - n / 7.0) * (counts[i] - n / 7.0) / (n / 7.0);
    CHECK(chi2 < 22.5); /* 99.9% quantile, 6 dof */
}

TEST(rng_normal_moments) {
    prism_rng r;
    prism_rng_seed(&r, 5, 1);
    const int n = 200000;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; i++) {
        double x = prism_rng_normal(&r);
        sum += x;
        sum2 += x * x;
    }
    CHECK_NEAR(sum / n, 0.0, 0.01);
    CHECK_NEAR(sum2 / n, 1.0, 0.01);
}

TEST(np_random_matches_numpy_legacy) {
    /* Values printed by numpy 1.24: RandomState(42): rand(), randint(0,10), randint(3,7),
     * randint(0,100); RandomState(7): randint(0,2), rand(). */
    prism_np_random r;
    prism_np_random_seed(&r, 42);
    CHECK(prism_np_random_rand(&r) == 0.3745401188473625);
    CHECK_EQ_INT(prism_np_random_randint(&r, 0, 10), 7);
    CHECK_EQ_INT(prism_np_random_randint(&r, 3, 7), 3);
    CHECK_EQ_INT(prism_np_random_randint(&r, 0, 100), 20);
    prism_np_random_seed(&r, 7);
    CHECK_EQ_INT(prism_np_random_randint(&r, 0, 2), 1);
    CHECK(prism_np_random_rand(&r) == 0.22733907982646517);
}

TEST(crc32c_known_vectors) {
    /* RFC 3720 test vector: 32 bytes of zeros -> 0x8A9136AA; "123456789" -> 0xE3069283. */
    unsigned char zeros[32] = {0};
    CHECK(prism_crc32c(0, zeros, 32) == 0x8A9136AAu);
    CHECK(prism_crc32c(0, "123456789", 9) == 0xE3069283u);
    /* chaining equals one call */
    CHECK(prism_crc32c(prism_crc32c(0, "1234", 4), "56789", 5) == 0xE3069283u);
}

TEST(error_message_is_recorded) {
    prism_status st = prism_error(PRISM_ERR_INVALID, "unknown key '%s'", "agent.foo");
    CHECK(st == PRISM_ERR_INVALID);
    CHECK(strcmp(prism_error_message(), "unknown key 'agent.foo'") == 0);
    CHECK(strcmp(prism_status_name(PRISM_ERR_IO), "i/o error") == 0);
}

TEST(alloc_is_aligned_and_failure_injection_works) {
    void *p = prism_alloc(100);
    REQUIRE(p != NULL);
    CHECK(((uintptr_t)p & 63) == 0);
    prism_free(p);
    prism_alloc_fail_after(1);
    void *a = prism_alloc(8), *b = prism_alloc(8);
    prism_alloc_fail_after(-1);
    CHECK(a != NULL);
    CHECK(b == NULL);
    prism_free(a);
}

TEST(core_parse_u64_takes_plain_decimal_in_range_only) {
    uint64_t v = 7;
    CHECK(prism_parse_u64("0", &v) && v == 0);
    CHECK(prism_parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
    CHECK(prism_parse_u64("18446744073709551614", &v) && v == UINT64_MAX - 1);
    CHECK(prism_parse_u64("007", &v) && v == 7);
    const char *bad[] = {
        "", "-1", "+1", " 1", "1 ", "0x1", "1e3", "18446744073709551616", "184467440737095516150"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 42;
        if (prism_parse_u64(bad[i], &v) || v != 42)
            test_fail(__FILE__, __LINE__, "'%s' was accepted", bad[i]);
    }
}
