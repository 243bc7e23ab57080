/* bench_fma_peak.c - the machine's measured fp32 FMA peak: the ceiling every GFLOP/s
   figure in bench/RESULTS.md is read against.

   Each thread runs ACC (12) independent 8-lane FMA chains (ymm, AVX2+FMA via
   __attribute__((target("avx2,fma"))), chosen at run time; no -mavx2 needed), and, on a
   CPU with AVX-512F, the same with 16-lane zmm chains (the avx512 backend's ceiling: on
   cores with two 512-bit FMA pipes it is twice the ymm one, on Zen 4 the same). A chain
   must have latency x pipes in flight to saturate the FMA units: Zen3 has 2 pipes of
   latency 4, so 8 chains are the minimum and 12 leave slack. Flops per chain step:
   8 lanes x 2 (multiply + add).

   Measured at 1 thread and at the OpenMP maximum (OMP_NUM_THREADS, or every CPU) if
   that is more. Best and median GFLOP/s over the repetitions.
   Output: RESULT fma_peak <threads> 0 <best> <median> GFLOP/s (ymm) and
   RESULT fma_peak512 <threads> 0 <best> <median> GFLOP/s (zmm), then a table.

   usage: bench_fma_peak [--quick] [--reps N] */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c99 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"
#ifdef _OPENMP
#  include <omp.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#  include <immintrin.h>
#  define HAVE_X86 1
#else
#  define HAVE_X86 0
#endif

#define ACC 12

#if HAVE_X86
/* acc_i = acc_i * m + c on ACC independent registers, `iters` times. The recurrence
   converges to c / (1 - m), so nothing overflows or goes denormal. Returns the lane sum
   of all accumulators so the loop cannot be removed. */
__attribute__((target("avx2,fma"))) static float fma_chains(long iters, float seed)
{
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-6f);
    __m256 a0 = _mm256_set1_ps(seed), a1 = _mm256_set1_ps(seed + 1), a2 = _mm256_set1_ps(seed + 2),
           a3 = _mm256_set1_ps(seed + 3), a4 = _mm256_set1_ps(seed + 4), a5 = _mm256_set1_ps(seed + 5),
           a6 = _mm256_set1_ps(seed + 6), a7 = _mm256_set1_ps(seed + 7), a8 = _mm256_set1_ps(seed + 8),
           a9 = _mm256_set1_ps(seed + 9), a10 = _mm256_set1_ps(seed + 10), a11 = _mm256_set1_ps(seed + 11);
    float out[8], s = 0.0f;
    long i;
    int k;
    for (i = 0; i < iters; i++) {
        a0 = _mm256_fmadd_ps(a0, m, c);   a1 = _mm256_fmadd_ps(a1, m, c);
        a2 = _mm256_fmadd_ps(a2, m, c);   a3 = _mm256_fmadd_ps(a3, m, c);
        a4 = _mm256_fmadd_ps(a4, m, c);   a5 = _mm256_fmadd_ps(a5, m, c);
        a6 = _mm256_fmadd_ps(a6, m, c);   a7 = _mm256_fmadd_ps(a7, m, c);
        a8 = _mm256_fmadd_ps(a8, m, c);   a9 = _mm256_fmadd_ps(a9, m, c);
        a10 = _mm256_fmadd_ps(a10, m, c); a11 = _mm256_fmadd_ps(a11, m, c);
    }
    a0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                       _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    a0 = _mm256_add_ps(a0, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    _mm256_storeu_ps(out, a0);
    for (k = 0; k < 8; k++) s += out[k];
    return s;
}

/* The same on 16-lane zmm registers (AVX-512F). */
__attribute__((target("avx512f"))) static float fma_chains512(long iters, float seed)
{
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-6f);
    __m512 a0 = _mm512_set1_ps(seed), a1 = _mm512_set1_ps(seed + 1), a2 = _mm512_set1_ps(seed + 2),
           a3 = _mm512_set1_ps(seed + 3), a4 = _mm512_set1_ps(seed + 4), a5 = _mm512_set1_ps(seed + 5),
           a6 = _mm512_set1_ps(seed + 6), a7 = _mm512_set1_ps(seed + 7), a8 = _mm512_set1_ps(seed + 8),
           a9 = _mm512_set1_ps(seed + 9), a10 = _mm512_set1_ps(seed + 10), a11 = _mm512_set1_ps(seed + 11);
    long i;
    for (i = 0; i < iters; i++) {
        a0 = _mm512_fmadd_ps(a0, m, c);   a1 = _mm512_fmadd_ps(a1, m, c);
        a2 = _mm512_fmadd_ps(a2, m, c);   a3 = _mm512_fmadd_ps(a3, m, c);
        a4 = _mm512_fmadd_ps(a4, m, c);   a5 = _mm512_fmadd_ps(a5, m, c);
        a6 = _mm512_fmadd_ps(a6, m, c);   a7 = _mm512_fmadd_ps(a7, m, c);
        a8 = _mm512_fmadd_ps(a8, m, c);   a9 = _mm512_fmadd_ps(a9, m, c);
        a10 = _mm512_fmadd_ps(a10, m, c); a11 = _mm512_fmadd_ps(a11, m, c);
    }
    a0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                       _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    a0 = _mm512_add_ps(a0, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    return _mm512_reduce_add_ps(a0);
}
#endif

int main(int argc, char **argv)
{
    int reps = 0, quick = 0, i, maxt = 1, nt, tc[2];
    double res[2][2][2]; /* [ymm, zmm][thread counts][best, median] */
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else { fprintf(stderr, "usage: %s [--quick] [--reps N]\n", argv[0]); return 2; }
    }
    if (reps <= 0) reps = quick ? 5 : 15;
#if HAVE_X86
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        printf("bench_fma_peak: SKIP (cpu lacks avx2/fma)\n");
        return 0;
    }
#else
    printf("bench_fma_peak: SKIP (not x86-64)\n");
    return 0;
#endif
#ifdef _OPENMP
    maxt = omp_get_max_threads();
#endif
    tc[0] = 1;
    tc[1] = maxt;
    nt = maxt > 1 ? 2 : 1;
    printf("bench_fma_peak accumulators=%d (8-lane ymm; 16-lane zmm where the cpu has avx512f) reps=%d "
           "max_threads=%d\n", ACC, reps, maxt);
#if HAVE_X86
    {
        const long iters = quick ? 2000000L : 6000000L; /* ~25 / 75 ms per thread at 100 GF/s */
        double *t = (double *)malloc(sizeof(double) * (size_t)reps);
        volatile float sink = 0.0f;
        int k, r, w, nw = __builtin_cpu_supports("avx512f") ? 2 : 1;
        if (!t) return 1;
        for (w = 0; w < nw; w++) { /* w = 0: ymm, 1: zmm */
            const int lanes = w ? 16 : 8;
            const double flop = (double)iters * ACC * lanes * 2;
            for (k = 0; k < nt; k++) {
                int T = tc[k];
                sink += w ? fma_chains512(iters / 10, 0.5f) : fma_chains(iters / 10, 0.5f); /* clocks up */
                for (r = 0; r < reps; r++) {
                    double t0 = now_s();
                    float s = 0.0f;
#ifdef _OPENMP
#pragma omp parallel num_threads(T) reduction(+ : s)
#endif
                    s += w ? fma_chains512(iters, (float)r) : fma_chains(iters, (float)r);
                    t[r] = now_s() - t0;
                    if (!isfinite(s)) {
                        fprintf(stderr, "bench_fma_peak: non-finite sum; not reporting\n");
                        return 1;
                    }
                    sink += s;
                }
                qsort(t, (size_t)reps, sizeof(double), cmp_d);
                res[w][k][0] = flop * T / t[0] * 1e-9;
                res[w][k][1] = flop * T / t[reps / 2] * 1e-9;
                printf("RESULT %s %d 0 %.1f %.1f GFLOP/s\n", w ? "fma_peak512" : "fma_peak", T,
                       res[w][k][0], res[w][k][1]);
                fflush(stdout);
            }
        }
        (void)sink;
        free(t);
        printf("\n| registers | threads | best GFLOP/s | median GFLOP/s |\n|---|---|---|---|\n");
        for (w = 0; w < nw; w++)
            for (i = 0; i < nt; i++)
                printf("| %s | %d | %.1f | %.1f |\n", w ? "zmm (16 lanes)" : "ymm (8 lanes)", tc[i],
                       res[w][i][0], res[w][i][1]);
    }
#endif
    return 0;
}
