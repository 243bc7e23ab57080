#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c99 */
/* bench_gemm.c - nn_simd_gemm against OpenBLAS cblas_sgemm and oneDNN dnnl_sgemm in
   the same run (each peer when linked: NN_BENCH_OPENBLAS, NN_BENCH_ONEDNN).

   For every shape: validate nn's C against a double-precision reference (sampled
   entries for the big ones) and refuse to time a wrong kernel; then time nn and the
   peers in turn, many repetitions, and print best and median GFLOP/s (2*m*n*k / t) and
   the ratios, as a Markdown table on stdout. With NN_BACKEND=avx2, run it with
   ONEDNN_MAX_CPU_ISA=AVX2 so that oneDNN is held to the same ISA.

   Shapes: squares 64..2048 (1000 and 2000 among them: rows not a power of two apart
   take other packing decisions) and the nine GEMMs of a 784-256-128-10 training step at
   batch 32, 128 and 256 (fwd NT: M=B, N=out, K=in; bwd-data NN: M=B, N=in, K=out;
   weight-grad TN: M=out, N=in, K=B); then with one and two rows (m = 1, 2: batch-1 and
   batch-2 passes) the forward and backward-data GEMMs of 784->256, 256->128 and
   1024->1024.

   --sweep: instead, the layer shapes a user meets: in -> out for in = out = 64, 256,
   512, 1024, 2048, 4096 and for a 784 input to each of those, at batch 32, 128, 256,
   512, as forward (NT), backward-data (NN) and weight-gradient (TN) GEMMs, nn.h against
   oneDNN (31 samples each), then the geometric mean of the ratios and the lowest one:
     SWEEP n=<shapes> geomean=<x> min=<x> at <shape>

   usage: bench_gemm [--quick] [--sweep] [--shape SUBSTRING] [--reps N]
   Single thread unless OMP_NUM_THREADS says otherwise (make bench sets 1). */
#define NN_SIMD_IMPLEMENTATION
#include "nn_simd.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"
#ifdef NN_BENCH_OPENBLAS
#  include <cblas.h>
#endif
#ifdef NN_BENCH_ONEDNN
#  include <oneapi/dnnl/dnnl.h>
#endif

typedef struct shape { char name[48]; int ta, tb, m, n, k; } shape;

static unsigned long long rs = 88172645463325252ull;
static float rnd_f(void)
{
    rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
    return (float)((rs >> 40) & 0xFFFFFF) / 8388608.0f - 1.0f;
}

static void run_nn(const shape *s, const float *A, const float *B, float *C)
{
    nn_simd_gemm(s->ta, s->tb, s->m, s->n, s->k, 1.0f, A, s->ta ? s->m : s->k, B,
                 s->tb ? s->k : s->n, 0.0f, C, s->n);
}

#ifdef NN_BENCH_OPENBLAS
static void run_blas(const shape *s, const float *A, const float *B, float *C)
{
    cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                s->tb ? CblasTrans : CblasNoTrans, s->m, s->n, s->k, 1.0f, A,
                s->ta ? s->m : s->k, B, s->tb ? s->k : s->n, 0.0f, C, s->n);
}
#endif

#ifdef NN_BENCH_ONEDNN
static void run_dnnl(const shape *s, const float *A, const float *B, float *C)
{
    dnnl_sgemm(s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->m, s->n, s->k, 1.0f, A,
               s->ta ? s->m : s->k, B, s->tb ? s->k : s->n, 0.0f, C, s->n);
}
#endif

/* |c - ref| <= 2*K*eps*sum|a*b| + tiny, on all entries (small) or a sample (big). */
static int validate(const shape *s, const float *A, const float *B, const float *C)
{
    const int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    long total = (long)s->m * s->n, step = total > 20000 ? total / 2000 + 1 : 1, t;
    for (t = 0; t < total; t += step) {
        int i = (int)(t / s->n), j = (int)(t % s->n), p;
        double acc = 0, aab = 0;
        for (p = 0; p < s->k; p++) {
            double a = s->ta ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
            double b = s->tb ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
            acc += a * b;
            aab += fabs(a * b);
        }
        if (!(fabs(C[(size_t)i * s->n + j] - acc) <= 2.0 * s->k * FLT_EPSILON * aab + 1e-30)) {
            fprintf(stderr, "bench_gemm: %s WRONG at (%d,%d): got %g want %g; not timing\n",
                    s->name, i, j, C[(size_t)i * s->n + j], acc);
            return 0;
        }
    }
    return 1;
}

/* Seconds per call, best and median over `reps` samples of `iters` calls each;
   the libraries take turns sample by sample. */
static void time_shape(const shape *s, const float *A, const float *B, float *C, int reps,
                       double *nn_best, double *nn_med, double *bl_best, double *bl_med,
                       double *dn_best, double *dn_med)
{
    double flops = 2.0 * s->m * s->n * s->k;
    int iters = (int)(2e-3 * 60e9 / flops) + 1; /* ~2 ms per sample */
    double *tn = (double *)malloc(sizeof(double) * reps), *tb = (double *)malloc(sizeof(double) * reps);
    double *td = (double *)malloc(sizeof(double) * reps);
    int r, it;
    run_nn(s, A, B, C);
#ifdef NN_BENCH_OPENBLAS
    run_blas(s, A, B, C);
#endif
#ifdef NN_BENCH_ONEDNN
    run_dnnl(s, A, B, C);
#endif
    for (r = 0; r < reps; r++) {
        double t0 = now_s();
        for (it = 0; it < iters; it++) run_nn(s, A, B, C);
        tn[r] = (now_s() - t0) / iters;
#ifdef NN_BENCH_OPENBLAS
        t0 = now_s();
        for (it = 0; it < iters; it++) run_blas(s, A, B, C);
        tb[r] = (now_s() - t0) / iters;
#else
        tb[r] = 0;
#endif
#ifdef NN_BENCH_ONEDNN
        t0 = now_s();
        for (it = 0; it < iters; it++) run_dnnl(s, A, B, C);
        td[r] = (now_s() - t0) / iters;
#else
        td[r] = 0;
#endif
    }
    qsort(tn, reps, sizeof(double), cmp_d);
    qsort(tb, reps, sizeof(double), cmp_d);
    qsort(td, reps, sizeof(double), cmp_d);
    *nn_best = tn[0]; *nn_med = tn[reps / 2];
    *bl_best = tb[0]; *bl_med = tb[reps / 2];
    *dn_best = td[0]; *dn_med = td[reps / 2];
    free(tn); free(tb); free(td);
}

/* The three GEMMs of a layer in -> out at batch B, appended at shapes[ns]: forward NT
   (M=B, N=out, K=in), backward-data NN (M=B, N=in, K=out), weight-gradient TN
   (M=out, N=in, K=B). Returns the new count. */
static int add_layer(shape *shapes, int ns, int B, int in, int out)
{
    static const char *const what[3] = {"fwd", "bwd-data", "weight-grad"};
    int g;
    for (g = 0; g < 3; g++) {
        shape *s = &shapes[ns++];
        snprintf(s->name, sizeof s->name, "b%d %s %d->%d", B, what[g], in, out);
        s->ta = g == 2; s->tb = g == 0;
        s->m = g == 2 ? out : B;
        s->n = g == 0 ? out : in;
        s->k = g == 0 ? in : g == 1 ? out : B;
    }
    return ns;
}

int main(int argc, char **argv)
{
    static const int sq[] = {64, 128, 256, 512, 1000, 1024, 2000, 2048};
    static const int batches[] = {32, 128, 256};
    static const int layers[][2] = {{784, 256}, {256, 128}, {128, 10}};
    static const int widths[] = {64, 256, 512, 1024, 2048, 4096};
    static const int sweep_batches[] = {32, 128, 256, 512};
    static shape shapes[200];
    int ns = 0, quick = 0, reps = 0, sweep = 0, i, b, l, failed = 0, nsw = 0;
    double logsum = 0, minr = 1e30;
    char minname[sizeof shapes[0].name] = "";
    const char *filter = NULL;
    char cpu[256];
    int threads = 1;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--shape") && i + 1 < argc) filter = argv[++i];
        else if (!strcmp(argv[i], "--sweep")) sweep = 1;
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else { fprintf(stderr, "usage: %s [--quick] [--sweep] [--shape SUBSTRING] [--reps N]\n", argv[0]); return 2; }
    }
    if (reps <= 0) reps = quick ? 7 : sweep ? 31 : 101; /* 2 ms samples: best-of over ~0.4 s per shape rides out host noise */

    for (i = 0; sweep && i < 12; i++)
        for (b = 0; b < 4; b++)
            ns = add_layer(shapes, ns, sweep_batches[b], i < 6 ? widths[i] : 784, widths[i % 6]);
    for (i = 0; !sweep && i < (int)(sizeof sq / sizeof sq[0]); i++) {
        shape *s = &shapes[ns++];
        snprintf(s->name, sizeof s->name, "square %d", sq[i]);
        s->ta = 0; s->tb = 0; s->m = s->n = s->k = sq[i];
    }
    for (b = 0; !sweep && b < 3; b++)
        for (l = 0; l < 3; l++) ns = add_layer(shapes, ns, batches[b], layers[l][0], layers[l][1]);
    for (b = 1; !sweep && b <= 2; b++) /* one or two rows: forward NT and backward-data NN */
        for (l = 0; l < 3; l++) {
            const int in = l < 2 ? layers[l][0] : 1024, out = l < 2 ? layers[l][1] : 1024;
            for (i = 0; i < 2; i++) {
                shape *s = &shapes[ns++];
                snprintf(s->name, sizeof s->name, "m%d %s %d->%d", b, i ? "bwd-data" : "fwd", in, out);
                s->ta = 0; s->tb = !i; s->m = b;
                s->n = i ? in : out;
                s->k = i ? out : in;
            }
        }

    if (nn_simd_init() != NN_OK) { fprintf(stderr, "bench_gemm: bad NN_BACKEND\n"); return 1; }
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
#ifdef NN_BENCH_OPENBLAS
    openblas_set_num_threads(threads);
#endif
    cpu_model(cpu, sizeof cpu);
    /* OpenBLAS picks its kernels at run time: on Zen 4 it runs its AVX-512 (Cooperlake)
       ones, nn.h its AVX2 ones; the header line says which. */
    printf("backend=%s cpu=\"%s\" threads=%d reps=%d", nn_simd_backend_name(), cpu, threads, reps);
#ifdef NN_BENCH_OPENBLAS
    printf(" openblas_core=%s", openblas_get_corename());
#else
    printf(" (OpenBLAS not linked)");
#endif
#ifdef NN_BENCH_ONEDNN
    {
        const char *isa = getenv("ONEDNN_MAX_CPU_ISA");
        const dnnl_version_t *v = dnnl_version();
        printf(" onednn=%d.%d.%d onednn_max_isa=%s\n\n", v->major, v->minor, v->patch, isa ? isa : "(all)");
    }
#else
    printf(" (oneDNN not linked)\n\n");
#endif
    printf("| shape | op | m | n | k | nn best GF/s | nn median | OpenBLAS best | OpenBLAS median | ratio best | ratio median | oneDNN best | oneDNN median | ratio best | ratio median |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    fflush(stdout);

    for (i = 0; i < ns; i++) {
        const shape *s = &shapes[i];
        size_t na = (size_t)s->m * s->k, nb = (size_t)s->k * s->n, nc = (size_t)s->m * s->n, t;
        float *A, *B, *C;
        double nb_, nm, bb, bm, db, dm, fl = 2.0 * s->m * s->n * s->k * 1e-9;
        if (filter && !strstr(s->name, filter)) continue;
        if (quick && s->m * (double)s->n * s->k > 600e6) continue;
        A = (float *)nn_simd_alloc(NULL, na * sizeof(float));
        B = (float *)nn_simd_alloc(NULL, nb * sizeof(float));
        C = (float *)nn_simd_alloc(NULL, nc * sizeof(float));
        for (t = 0; t < na; t++) A[t] = rnd_f();
        for (t = 0; t < nb; t++) B[t] = rnd_f();
        for (t = 0; t < nc; t++) C[t] = NAN;
        run_nn(s, A, B, C);
        if (!validate(s, A, B, C)) {
            failed = 1;
        } else {
            time_shape(s, A, B, C, reps, &nb_, &nm, &bb, &bm, &db, &dm);
            printf("| %s | %s%s | %d | %d | %d | %.1f | %.1f |", s->name, s->ta ? "T" : "N",
                   s->tb ? "T" : "N", s->m, s->n, s->k, fl / nb_, fl / nm);
#ifdef NN_BENCH_OPENBLAS
            printf(" %.1f | %.1f | %.2f | %.2f |", fl / bb, fl / bm, bb / nb_, bm / nm);
#else
            (void)bb; (void)bm;
            printf(" - | - | - | - |");
#endif
#ifdef NN_BENCH_ONEDNN
            printf(" %.1f | %.1f | %.2f | %.2f |\n", fl / db, fl / dm, db / nb_, dm / nm);
            logsum += log(db / nb_);
            nsw++;
            if (db / nb_ < minr) { minr = db / nb_; memcpy(minname, s->name, sizeof minname); }
#else
            (void)db; (void)dm;
            printf(" - | - | - | - |\n");
#endif
            fflush(stdout);
        }
        nn_simd_free(NULL, A); nn_simd_free(NULL, B); nn_simd_free(NULL, C);
    }
    if (sweep && nsw > 0) /* nn.h against oneDNN, best times */
        printf("\nSWEEP n=%d geomean=%.3f min=%.3f at %s\n", nsw, exp(logsum / nsw), minr, minname);
    return failed;
}
