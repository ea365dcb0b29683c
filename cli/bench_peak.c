/* prism bench peak [--json] [--reps N] [--count M] [--isa auto|avx512|avx2]: this core's
 * arithmetic peak, the ceiling every other benchmark's GFLOP/s is read against: FP32 fused
 * multiply-adds and BF16 dot products (AVX512_BF16 vdpbf16ps, FP32 accumulation).
 *
 * The micro-benchmark the reference numbers of docs/benchmarks-training.md came from: twelve
 * independent accumulator chains of one vector instruction (more than latency x throughput
 * needs, so the FMA latency is hidden and the loop is bound by the FMA pipes alone), timed in
 * this thread's CPU time, M million instructions per repetition, N repetitions after one
 * untimed warm-up; the best and the median repetition are reported. FLOPs: an FMA counts 2 per
 * fp32 lane (32 per zmm instruction, 16 per ymm); vdpbf16ps does 32 bf16 products and their
 * sums into 16 fp32 lanes (64 per instruction). The accumulators' sum goes to a volatile sink,
 * so the compiler cannot drop the loop; the values converge (FMA) or grow slowly (BF16), never
 * reaching denormals or infinities that could change the timing.
 *
 * The kernels are compiled for their instruction sets by target attributes and chosen at run
 * time from the CPU's features, so they build whatever MARCH says (MARCH= without AVX-512
 * included). FP32 uses zmm when the CPU has AVX-512F, else ymm with AVX2 and FMA; BF16 needs
 * AVX512_BF16 and is reported as not supported without it. Not here: memory bandwidth, sgemm
 * (prism bench nn), several cores. bench_peak_fp32 gives prism bench train its floor. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define PEAK_X86 1
#else
#define PEAK_X86 0
#endif

enum { CHAINS = 12, MAX_REPS = PEAK_MAX_REPS };

/* Inputs and result pass through volatiles: the compiler knows neither the values the loops
 * start from nor that their result is unused. */
static volatile float in_mul = 0.999f, in_add = 0.001f, in_bf16 = 0.00390625f; /* 2^-8 */
static volatile float sink;

#if PEAK_X86
/* One kernel: NAME(iters, p, q) runs `iters` steps of 12 independent accumulator chains of
 * vector type V, acc = STEP(acc) with the operands OPERANDS declares from p and q, and returns
 * the horizontal sum SUM of the chains (ADD adds two vectors, SET1 broadcasts a float). */
#define CHAIN_KERNEL(NAME, TARGET, V, SET1, ADD, SUM, STEP, OPERANDS)                              \
    __attribute__((target(TARGET))) static float NAME(long long iters, float p, float q) {         \
        OPERANDS                                                                                   \
        V a0 = SET1(0.0f), a1 = SET1(1.0f), a2 = SET1(2.0f), a3 = SET1(3.0f), a4 = SET1(4.0f),     \
          a5 = SET1(5.0f), a6 = SET1(6.0f), a7 = SET1(7.0f), a8 = SET1(8.0f), a9 = SET1(9.0f),     \
          a10 = SET1(10.0f), a11 = SET1(11.0f);                                                    \
        for (long long k = 0; k < iters; k++) {                                                    \
            a0 = STEP(a0), a1 = STEP(a1), a2 = STEP(a2), a3 = STEP(a3), a4 = STEP(a4);             \
            a5 = STEP(a5), a6 = STEP(a6), a7 = STEP(a7), a8 = STEP(a8), a9 = STEP(a9);             \
            a10 = STEP(a10), a11 = STEP(a11);                                                      \
        }                                                                                          \
        V s = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)));                   \
        return SUM(ADD(s, ADD(ADD(a8, a9), ADD(a10, a11))));                                       \
    }

__attribute__((target("avx2,fma"))) static float sum_ymm(__m256 v) {
    float lanes[8], t = 0;
    _mm256_storeu_ps(lanes, v);
    for (int i = 0; i < 8; i++) t += lanes[i];
    return t;
}

/* FP32: acc = acc * p + q, which converges to q / (1 - p) (no denormals, no overflow). */
#define FMA_ZMM(acc) _mm512_fmadd_ps(acc, m, c)
CHAIN_KERNEL(fma_zmm, "avx512f", __m512, _mm512_set1_ps, _mm512_add_ps, _mm512_reduce_add_ps,
             FMA_ZMM, const __m512 m = _mm512_set1_ps(p);
             const __m512 c = _mm512_set1_ps(q);)
#define FMA_YMM(acc) _mm256_fmadd_ps(acc, m, c)
CHAIN_KERNEL(fma_ymm, "avx2,fma", __m256, _mm256_set1_ps, _mm256_add_ps, sum_ymm, FMA_YMM,
             const __m256 m = _mm256_set1_ps(p);
             const __m256 c = _mm256_set1_ps(q);)
/* BF16: acc += x . x over bf16 pairs (q unused): each lane grows by 2 p^2 a step, 2^-15 for
 * p = 2^-8, a few hundred at most over a repetition (far from overflow, never denormal). */
#define DPBF16(acc) _mm512_dpbf16_ps(acc, x, x)
CHAIN_KERNEL(dpbf16_zmm, "avx512bf16,avx512f", __m512, _mm512_set1_ps, _mm512_add_ps,
             _mm512_reduce_add_ps, DPBF16, (void)q;
             const __m512bh x = _mm512_cvtne2ps_pbh(_mm512_set1_ps(p), _mm512_set1_ps(p));)

/* AVX512_BF16: CPUID leaf 7 subleaf 1, EAX bit 5, read directly (older compilers'
 * __builtin_cpu_supports has no name for it), on top of AVX-512F, whose check includes the OS
 * saving zmm state. */
static bool cpu_has_avx512bf16(void) {
    unsigned a, b, c, d;
    if (!__builtin_cpu_supports("avx512f")) return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || a < 1) return false;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return false;
    return (a >> 5) & 1u;
}
#endif

/* Whether `isa` runs here (and in this build). */
static bool isa_available(peak_isa isa) {
#if PEAK_X86
    __builtin_cpu_init();
    switch (isa) {
    case PEAK_ISA_AVX512:
        return __builtin_cpu_supports("avx512f");
    case PEAK_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case PEAK_ISA_AVX512_BF16:
        return cpu_has_avx512bf16();
    case PEAK_ISA_AUTO:
        break;
    }
    return false;
#else
    (void)isa;
    return false;
#endif
}

/* One run of `iters` loop iterations (12 instructions each) of the kernel for isa. */
static float run_kernel(peak_isa isa, long long iters) {
#if PEAK_X86
    switch (isa) {
    case PEAK_ISA_AVX512:
        return fma_zmm(iters, in_mul, in_add);
    case PEAK_ISA_AVX2:
        return fma_ymm(iters, in_mul, in_add);
    case PEAK_ISA_AVX512_BF16:
        return dpbf16_zmm(iters, in_bf16, 0);
    case PEAK_ISA_AUTO:
        break;
    }
#endif
    (void)iters;
    PRISM_ASSERT(!"no kernel for this instruction set");
    return 0;
}

/* The instruction sets' names in the output. */
static const char *const isa_names[] = {[PEAK_ISA_AUTO] = "auto",
                                        [PEAK_ISA_AVX512] = "avx512f",
                                        [PEAK_ISA_AVX2] = "avx2+fma",
                                        [PEAK_ISA_AVX512_BF16] = "avx512bf16"};

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bench_peak_measure(bool bf16, peak_isa isa, int reps, long long instructions, peak_result *r) {
    PRISM_ASSERT(reps >= 1 && reps <= MAX_REPS && instructions >= CHAINS);
    memset(r, 0, sizeof *r);
    if (bf16) {
        isa = PEAK_ISA_AVX512_BF16;
    } else if (isa == PEAK_ISA_AUTO) {
        isa = isa_available(PEAK_ISA_AVX512) ? PEAK_ISA_AVX512 : PEAK_ISA_AVX2;
    }
    r->isa = isa_names[isa];
    r->instruction = bf16 ? "vdpbf16ps zmm" : isa == PEAK_ISA_AVX2 ? "vfmadd ymm" : "vfmadd zmm";
    r->flop_per_instruction = bf16 ? 64 : isa == PEAK_ISA_AVX2 ? 16 : 32;
    r->chains = CHAINS;
    r->reps = reps;
    if (!isa_available(isa)) {
        r->reason = !PEAK_X86                ? "not an x86 CPU"
                    : bf16                   ? "this CPU lacks AVX512_BF16 (vdpbf16ps)"
                    : isa == PEAK_ISA_AVX512 ? "this CPU lacks AVX-512F"
                                             : "this CPU lacks AVX2 and FMA";
        return;
    }
    r->supported = true;
    const long long iters = (instructions + CHAINS - 1) / CHAINS;
    r->instructions = iters * CHAINS;
    sink = run_kernel(isa, iters / 10 + 1); /* warm-up: clocks and power state settle */
    double t_wall = prism_now(), t_cpu = 0;
    for (int k = 0; k < reps; k++) {
        double t0 = prism_thread_cpu_now();
        float s = run_kernel(isa, iters);
        double dt = prism_thread_cpu_now() - t0;
        sink = s;
        t_cpu += dt;
        r->gflops[k] = dt > 0 ? (double)r->instructions * r->flop_per_instruction / dt / 1e9 : 0;
    }
    double wall = prism_now() - t_wall;
    r->cpu_per_wall = wall > 0 ? t_cpu / wall : 1.0;
    double sorted[MAX_REPS];
    memcpy(sorted, r->gflops, sizeof(double) * (size_t)reps);
    qsort(sorted, (size_t)reps, sizeof(double), cmp_double);
    r->best_gflops = sorted[reps - 1];
    r->median_gflops =
        reps % 2 ? sorted[reps / 2] : 0.5 * (sorted[reps / 2 - 1] + sorted[reps / 2]);
}

double bench_peak_fp32(void) {
    peak_result r;
    bench_peak_measure(false, PEAK_ISA_AUTO, 5, 100 * 1000 * 1000LL, &r);
    return r.supported ? r.best_gflops : 0;
}

static void print_json(const char *kind, const peak_result *r, int *rc) {
    prism_json j;
    prism_json_init(&j, 0);
    prism_json_object_begin(&j);
    prism_json_kv_string(&j, "kind", kind);
    prism_json_kv_bool(&j, "supported", r->supported);
    prism_json_kv_string(&j, "isa", r->isa);
    prism_json_kv_string(&j, "instruction", r->instruction);
    if (!r->supported) {
        prism_json_kv_string(&j, "reason", r->reason);
    } else {
        prism_json_kv_int(&j, "chains", r->chains);
        prism_json_kv_int(&j, "flop_per_instruction", r->flop_per_instruction);
        prism_json_kv_int(&j, "instructions", r->instructions);
        prism_json_kv_int(&j, "reps", r->reps);
        prism_json_kv_fixed(&j, "best_gflops", r->best_gflops, 2);
        prism_json_kv_fixed(&j, "median_gflops", r->median_gflops, 2);
        prism_json_key(&j, "gflops");
        prism_json_array_begin(&j);
        for (int k = 0; k < r->reps; k++) prism_json_fixed(&j, r->gflops[k], 2);
        prism_json_array_end(&j);
        prism_json_kv_fixed(&j, "cpu_per_wall", r->cpu_per_wall, 3);
    }
    prism_json_object_end(&j);
    if (!*rc) *rc = cli_json_print("bench peak", &j);
}

static void print_line(const char *title, const peak_result *r) {
    if (!r->supported) {
        printf("%-9s %-11s not supported: %s\n", title, r->isa, r->reason);
        return;
    }
    printf("%-9s %-11s %-14s %8.1f %10.1f %7d %6lldM %6.2f\n", title, r->isa, r->instruction,
           r->best_gflops, r->median_gflops, r->reps, r->instructions / 1000000, r->cpu_per_wall);
}

int bench_peak(int argc, char **argv) {
    enum { O_JSON, O_REPS, O_COUNT, O_ISA, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_JSON] = {.name = "json", .help = "one JSON object per measurement"},
        [O_REPS] = {.name = "reps", .metavar = "N", .help = "timed repetitions (default 7)"},
        [O_COUNT] = {.name = "count",
                     .metavar = "M",
                     .help = "million instructions per repetition (default 200)"},
        [O_ISA] = {.name = "isa",
                   .metavar = "auto|avx512|avx2",
                   .help = "FP32 kernel: zmm (avx512), ymm (avx2) or the widest here (auto)"},
    };
    const char *usage = "prism bench peak [--json] [--reps N] [--count M] [--isa auto|avx512|avx2]";
    int npos;
    int rc = cli_parse("bench peak", usage, argc, argv, opts, NOPTS, NULL, 0, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    long long reps, count;
    if (!cli_int("bench peak", &opts[O_REPS], 1, MAX_REPS, 7, &reps) ||
        !cli_int("bench peak", &opts[O_COUNT], 1, 100000, 200, &count))
        return CLI_USAGE;
    const char *isa_text = cli_value(&opts[O_ISA], "auto");
    peak_isa isa;
    if (!strcmp(isa_text, "auto"))
        isa = PEAK_ISA_AUTO;
    else if (!strcmp(isa_text, "avx512"))
        isa = PEAK_ISA_AVX512;
    else if (!strcmp(isa_text, "avx2"))
        isa = PEAK_ISA_AVX2;
    else {
        fprintf(stderr, "prism bench peak: --isa must be auto, avx512 or avx2 (got '%s')\n",
                isa_text);
        return CLI_USAGE;
    }
    if (isa != PEAK_ISA_AUTO && !isa_available(isa)) {
        fprintf(stderr, "prism bench peak: --isa %s: this CPU cannot run it (try --isa auto)\n",
                isa_text);
        return CLI_USAGE;
    }
    int json = opts[O_JSON].count > 0;
    if (!json)
        printf("%-9s %-11s %-14s %8s %10s %7s %7s %6s\n", "PEAK", "ISA", "INSTRUCTION", "BEST_GF",
               "MEDIAN_GF", "REPS", "COUNT", "CPU/WALL");
    peak_result r;
    bench_peak_measure(false, isa, (int)reps, count * 1000000, &r);
    if (json)
        print_json("fp32_fma", &r, &rc);
    else
        print_line("FP32 FMA", &r);
    fflush(stdout);
    bench_peak_measure(true, PEAK_ISA_AUTO, (int)reps, count * 1000000, &r);
    if (json)
        print_json("bf16_dot", &r, &rc);
    else
        print_line("BF16 dot", &r);
    return rc;
}
