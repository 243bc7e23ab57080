/* bench_kernels.c - the non-GEMM kernels of nn_simd.h: scalar backend vs the SIMD backend,
   in the same run. For each kernel: reference (scalar) -> validate (SIMD against it, or the
   kernel is not timed and the bench exits non-zero) -> time both.

   Reports elements per second, best and median of many repetitions (each repetition
   loops the kernel long enough for the clock), and the speedup of the best times.
   Options: --backend NAME (the SIMD side; default auto), --reps N (default 31).

   make bench  or  cc -std=c99 -O3 -fopenmp -I. bench/bench_kernels.c -lm */
#define _POSIX_C_SOURCE 199309L
#define NN_SIMD_IMPLEMENTATION
#include "nn_simd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"

enum { K_FWD, K_BWD, K_SOFTMAX, K_SOFTMAX_BWD, K_COLSUMS, K_OPTIM, K_AXPY, K_SUMSQ, K_FINITE };

typedef struct bcase {
    const char *name;
    int kind;
    nn_act act;
    nn_simd_optim opt;
    float wd;
    int rows, cols; /* softmax, col_sums */
    size_t n;       /* element-wise kernels */
} bcase;

#define NBIG ((size_t)1 << 20)
#define NACT ((size_t)1 << 16) /* 256 KiB per array: stays in L2 */

static const bcase k_cases[] = {
    { "identity fwd", K_FWD, NN_ACT_IDENTITY, NN_SIMD_OPTIM_SGD, 0, 0, 0, NACT },
    { "identity bwd", K_BWD, NN_ACT_IDENTITY, NN_SIMD_OPTIM_SGD, 0, 0, 0, NACT },
    { "sigmoid fwd", K_FWD, NN_ACT_SIGMOID, NN_SIMD_OPTIM_SGD, 0, 0, 0, NACT },
    { "sigmoid bwd", K_BWD, NN_ACT_SIGMOID, NN_SIMD_OPTIM_SGD, 0, 0, 0, NACT },
    { "tanh fwd", K_FWD, NN_ACT_TANH, NN_SIMD_OPTIM_SGD, 0, 0, 0, NACT },
    { "tanh bwd", K_BWD, NN_ACT_TANH, NN_SIMD_OPTIM_SGD, 0, 0, 0, NACT },
    { "relu fwd", K_FWD, NN_ACT_RELU, NN_SIMD_OPTIM_SGD, 0, 0, 0, NACT },
    { "relu bwd", K_BWD, NN_ACT_RELU, NN_SIMD_OPTIM_SGD, 0, 0, 0, NACT },
    { "leaky_relu fwd", K_FWD, NN_ACT_LEAKY_RELU, NN_SIMD_OPTIM_SGD, 0, 0, 0, NACT },
    { "leaky_relu bwd", K_BWD, NN_ACT_LEAKY_RELU, NN_SIMD_OPTIM_SGD, 0, 0, 0, NACT },
    { "hardtanh fwd", K_FWD, NN_ACT_HARDTANH, NN_SIMD_OPTIM_SGD, 0, 0, 0, NACT },
    { "hardtanh bwd", K_BWD, NN_ACT_HARDTANH, NN_SIMD_OPTIM_SGD, 0, 0, 0, NACT },
    { "sign fwd", K_FWD, NN_ACT_SIGN, NN_SIMD_OPTIM_SGD, 0, 0, 0, NACT },
    { "sign bwd", K_BWD, NN_ACT_SIGN, NN_SIMD_OPTIM_SGD, 0, 0, 0, NACT },
    { "softmax rows", K_SOFTMAX, NN_ACT_SOFTMAX, NN_SIMD_OPTIM_SGD, 0, 256, 10, 0 },
    { "softmax rows", K_SOFTMAX, NN_ACT_SOFTMAX, NN_SIMD_OPTIM_SGD, 0, 128, 1000, 0 },
    { "softmax bwd rows", K_SOFTMAX_BWD, NN_ACT_SOFTMAX, NN_SIMD_OPTIM_SGD, 0, 128, 1000, 0 },
    { "col sums", K_COLSUMS, NN_ACT_IDENTITY, NN_SIMD_OPTIM_SGD, 0, 128, 256, 0 },
    { "col sums", K_COLSUMS, NN_ACT_IDENTITY, NN_SIMD_OPTIM_SGD, 0, 128, 10, 0 },
    { "sgd", K_OPTIM, NN_ACT_IDENTITY, NN_SIMD_OPTIM_SGD, 0, 0, 0, NBIG },
    { "momentum", K_OPTIM, NN_ACT_IDENTITY, NN_SIMD_OPTIM_MOMENTUM, 0, 0, 0, NBIG },
    { "nesterov", K_OPTIM, NN_ACT_IDENTITY, NN_SIMD_OPTIM_NESTEROV, 0, 0, 0, NBIG },
    { "adagrad", K_OPTIM, NN_ACT_IDENTITY, NN_SIMD_OPTIM_ADAGRAD, 0, 0, 0, NBIG },
    { "rmsprop", K_OPTIM, NN_ACT_IDENTITY, NN_SIMD_OPTIM_RMSPROP, 0, 0, 0, NBIG },
    { "adam", K_OPTIM, NN_ACT_IDENTITY, NN_SIMD_OPTIM_ADAM, 0, 0, 0, NBIG },
    { "adamw (wd 0.01)", K_OPTIM, NN_ACT_IDENTITY, NN_SIMD_OPTIM_ADAM, 0.01f, 0, 0, NBIG },
    { "axpy", K_AXPY, NN_ACT_IDENTITY, NN_SIMD_OPTIM_SGD, 0, 0, 0, NBIG },
    { "sumsq", K_SUMSQ, NN_ACT_IDENTITY, NN_SIMD_OPTIM_SGD, 0, 0, 0, NBIG },
    { "all_finite", K_FINITE, NN_ACT_IDENTITY, NN_SIMD_OPTIM_SGD, 0, 0, 0, NBIG },
};
#define NCASES ((int)(sizeof k_cases / sizeof k_cases[0]))

typedef struct bufs {
    float *x, *y, *dy, *w, *g, *m, *v, *w0, *m0, *v0;
    double sink;
} bufs;

static size_t case_elems(const bcase *c)
{
    return c->rows ? (size_t)c->rows * (size_t)c->cols : c->n;
}

static void run_case(const bcase *c, bufs *b)
{
    nn_simd_optim_args a;
    switch (c->kind) {
    case K_FWD: nn_simd_act_forward(c->act, 0.1f, b->x, b->y, c->n); break;
    case K_BWD: nn_simd_act_backward(c->act, 0.1f, b->w, b->dy, b->y, c->n); break;
    case K_SOFTMAX: nn_simd_softmax_rows(b->x, b->y, c->rows, c->cols); break;
    case K_SOFTMAX_BWD: nn_simd_softmax_backward_rows(b->w, b->dy, b->y, c->rows, c->cols); break;
    case K_COLSUMS: nn_simd_col_sums(b->x, c->rows, c->cols, c->cols, b->y); break;
    case K_AXPY: nn_simd_axpy(c->n, 1e-7f, b->x, b->y); break;
    case K_SUMSQ: b->sink += nn_simd_sumsq(b->x, c->n); break;
    case K_FINITE: b->sink += nn_simd_all_finite(b->x, c->n); break;
    case K_OPTIM:
        memset(&a, 0, sizeof a);
        a.lr = 1e-3f;
        a.wd = c->wd;
        a.mu = 0.9f;
        a.beta1 = 0.9f;
        a.beta2 = 0.999f;
        a.eps = 1e-8f;
        a.bc1 = 10.0f;
        a.bc2 = 1000.0f;
        nn_simd_optim_update(c->opt, &a, b->w, b->g, b->m, b->v, c->n);
        break;
    default: break;
    }
}

/* Puts the inputs of a case in a fixed state (outputs and optimizer state included). */
static void reset(const bcase *c, bufs *b)
{
    size_t i, n = case_elems(c);
    unsigned s = 12345u;
    for (i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        b->x[i] = ((float)(s >> 8) / 16777216.0f - 0.5f) * 12.0f;
        b->dy[i] = (float)(s >> 16 & 255) / 256.0f - 0.5f;
        b->y[i] = 0.25f;
        /* backward input y: a valid activation output (in (0,1) for sigmoid, (-1,1) tanh) */
        b->w[i] = c->kind == K_SOFTMAX_BWD ? 1.0f / (float)c->cols : (float)(s >> 12 & 1023) / 1024.0f * 0.98f + 0.01f;
        if (c->kind == K_BWD && (c->act == NN_ACT_TANH || c->act == NN_ACT_HARDTANH || c->act == NN_ACT_SIGN))
            b->w[i] = b->w[i] * 2.0f - 1.0f;
        if (c->kind == K_BWD && (c->act == NN_ACT_RELU || c->act == NN_ACT_LEAKY_RELU))
            b->w[i] = b->x[i] > 0 ? b->x[i] : 0.0f;
        b->g[i] = b->dy[i];
        b->m[i] = 0.01f * fabsf(b->dy[i]); /* also the Adagrad/RMSProp sum of squares: >= 0 */
        b->v[i] = 1e-4f;
    }
    if (c->kind == K_OPTIM)
        for (i = 0; i < n; i++) b->w[i] = b->x[i] * 0.1f;
}

/* SIMD vs scalar on this case's shape; returns 1 when they agree. */
static int validate(const bcase *c, bufs *b, nn_simd_backend simd)
{
    size_t n = case_elems(c), i;
    float *ry = (float *)malloc(n * sizeof(float)), *rw = (float *)malloc(n * sizeof(float));
    float *rm = (float *)malloc(n * sizeof(float)), *rv = (float *)malloc(n * sizeof(float));
    double rs, tol;
    int ok = 1, exact;
    exact = (c->kind == K_FWD || c->kind == K_BWD) &&
            !(c->act == NN_ACT_SIGMOID || c->act == NN_ACT_TANH);
    exact = exact || c->kind == K_COLSUMS || c->kind == K_FINITE;
    tol = c->kind == K_OPTIM ? 2e-5 : c->kind == K_SOFTMAX_BWD ? 1e-4 : 4e-6;
    nn_simd_set_backend(NN_SIMD_BACKEND_SCALAR);
    reset(c, b);
    b->sink = 0;
    run_case(c, b);
    rs = b->sink;
    memcpy(ry, b->y, n * sizeof(float));
    memcpy(rw, b->w, n * sizeof(float));
    memcpy(rm, b->m, n * sizeof(float));
    memcpy(rv, b->v, n * sizeof(float));
    nn_simd_set_backend(simd);
    reset(c, b);
    b->sink = 0;
    run_case(c, b);
    if (c->kind == K_SUMSQ || c->kind == K_FINITE) {
        ok = fabs(b->sink - rs) <= 1e-12 * fabs(rs);
    } else {
        /* relative to the largest reference value: w - update and dy - dot cancel */
        const float *ref = c->kind == K_OPTIM ? rw : ry;
        double scale = 0, scale_m = 0, scale_v = 0;
        for (i = 0; i < n; i++) {
            scale = fabs((double)ref[i]) > scale ? fabs((double)ref[i]) : scale;
            scale_m = fabs((double)rm[i]) > scale_m ? fabs((double)rm[i]) : scale_m;
            scale_v = fabs((double)rv[i]) > scale_v ? fabs((double)rv[i]) : scale_v;
        }
        for (i = 0; i < n && ok; i++) {
            float got = c->kind == K_OPTIM ? b->w[i] : b->y[i], want = ref[i];
            if (exact) ok = memcmp(&got, &want, sizeof got) == 0;
            else ok = fabs((double)got - want) <= tol * scale;
            if (ok && c->kind == K_OPTIM && c->opt != NN_SIMD_OPTIM_SGD)
                ok = fabs((double)b->m[i] - rm[i]) <= tol * scale_m && fabs((double)b->v[i] - rv[i]) <= tol * scale_v;
            if (!ok)
                fprintf(stderr, "VALIDATION FAILED %s at %zu: simd %.9g scalar %.9g\n", c->name, i, (double)got,
                        (double)want);
        }
    }
    free(ry);
    free(rw);
    free(rm);
    free(rv);
    return ok;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* best and median seconds per call */
static void time_case(const bcase *c, bufs *b, int reps, double *best, double *median)
{
    double *t = (double *)malloc((size_t)reps * sizeof(double)), t0, dt;
    long inner = 1, k;
    int r;
    reset(c, b);
    /* calibrate: each repetition at least ~2 ms */
    for (;;) {
        t0 = now_s();
        for (k = 0; k < inner; k++) run_case(c, b);
        dt = now_s() - t0;
        if (dt >= 2e-3 || inner > (1L << 24)) break;
        inner *= 2;
    }
    for (r = 0; r < reps; r++) {
        if (c->kind == K_OPTIM || c->kind == K_AXPY) reset(c, b); /* keep the state bounded */
        t0 = now_s();
        for (k = 0; k < inner; k++) run_case(c, b);
        t[r] = (now_s() - t0) / (double)inner;
    }
    qsort(t, (size_t)reps, sizeof(double), cmp_double);
    *best = t[0];
    *median = t[reps / 2];
    free(t);
}

int main(int argc, char **argv)
{
    const char *want = "auto";
    int reps = 31, i, failed = 0;
    nn_simd_backend simd;
    bufs b;
    char cpu[256];
    size_t cap = NBIG;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) want = argv[++i];
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--backend auto|scalar|avx2|neon] [--reps N]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    if (nn_simd_set_backend_name(want) != NN_OK) {
        fprintf(stderr, "backend %s is not available here\n", want);
        return 1;
    }
    simd = nn_simd_backend_active();
    /* self-check: the SIMD side is what was asked for */
    if (strcmp(want, "auto") != 0 && strcmp(nn_simd_backend_name(), want) != 0) {
        fprintf(stderr, "asked for %s, got %s\n", want, nn_simd_backend_name());
        return 1;
    }
    cpu_model(cpu, sizeof cpu);
    printf("backend: %s (compared with scalar)\n", nn_simd_backend_name());
    printf("cpu: %s\n", cpu);
    printf("repetitions: %d, each >= 2 ms; element-wise arrays %zu floats, optimizers %zu\n\n", reps, (size_t)NACT,
           (size_t)NBIG);
    memset(&b, 0, sizeof b);
    b.x = (float *)nn_simd_alloc(NULL, cap * sizeof(float));
    b.y = (float *)nn_simd_alloc(NULL, cap * sizeof(float));
    b.dy = (float *)nn_simd_alloc(NULL, cap * sizeof(float));
    b.w = (float *)nn_simd_alloc(NULL, cap * sizeof(float));
    b.g = (float *)nn_simd_alloc(NULL, cap * sizeof(float));
    b.m = (float *)nn_simd_alloc(NULL, cap * sizeof(float));
    b.v = (float *)nn_simd_alloc(NULL, cap * sizeof(float));
    if (!b.x || !b.y || !b.dy || !b.w || !b.g || !b.m || !b.v) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    printf("| kernel | shape | scalar best Melem/s | scalar median | %s best Melem/s | %s median | speedup (best) |\n",
           nn_simd_backend_name(), nn_simd_backend_name());
    printf("|---|---|---:|---:|---:|---:|---:|\n");
    for (i = 0; i < NCASES; i++) {
        const bcase *c = &k_cases[i];
        double sb, sm, vb, vm, el = (double)case_elems(c);
        char shape[64];
        if (c->rows) snprintf(shape, sizeof shape, "%dx%d", c->rows, c->cols);
        else snprintf(shape, sizeof shape, "%zu", c->n);
        if (!validate(c, &b, simd)) {
            printf("| %s | %s | not timed: SIMD result differs from scalar |||||\n", c->name, shape);
            failed++;
            continue;
        }
        nn_simd_set_backend(NN_SIMD_BACKEND_SCALAR);
        time_case(c, &b, reps, &sb, &sm);
        nn_simd_set_backend(simd);
        time_case(c, &b, reps, &vb, &vm);
        printf("| %s | %s | %.0f | %.0f | %.0f | %.0f | %.1fx |\n", c->name, shape, el / sb * 1e-6, el / sm * 1e-6,
               el / vb * 1e-6, el / vm * 1e-6, sb / vb);
        fflush(stdout);
    }
    if (b.sink == 12345.0) printf("\n"); /* keep the reductions alive */
    nn_simd_free(NULL, b.x);
    nn_simd_free(NULL, b.y);
    nn_simd_free(NULL, b.dy);
    nn_simd_free(NULL, b.w);
    nn_simd_free(NULL, b.g);
    nn_simd_free(NULL, b.m);
    nn_simd_free(NULL, b.v);
    if (failed) fprintf(stderr, "%d kernels failed validation and were not timed\n", failed);
    return failed ? 1 : 0;
}
