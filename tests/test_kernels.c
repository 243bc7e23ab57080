/* test_kernels.c - every non-GEMM kernel of nn_simd.h, for every backend available here.

   Each kernel is checked against a double-precision oracle written below (not the scalar
   backend, so the scalar backend is tested too) AND against the scalar backend, on sizes
   0..67 and a few large ones, pointers offset by one float, in place, with guard zones
   (sentinel floats before and after every output, checked bit for bit afterwards).
   Inputs are allocated to their exact size so that the sanitizer run catches over-reads.

   Tolerances (u = FLT_EPSILON):
     exact ops (identity, relu, leaky relu, hardtanh, sign, fwd and bwd; col_sums):
       bit-identical to the oracle and to the scalar backend (NaN and the sign of 0 too);
     exp, sigmoid, tanh: <= NN_TEST_ULP_MAX ulp of the correctly rounded result (dense
       sweep, maxima printed), the target stated in nn_simd.h's ACCURACY table;
     sigmoid/tanh backward: 4u*|dy|*(1+|y|+y^2) (the rounding of y*(1-y), 1-y*y, *dy);
     softmax: (8+cols)*u*y + 1e-37 (exp error + summation); its backward
       (cols+4)*u*|y|*(|dy| + sum|dy*y|);
     axpy: 2u*(|y|+|a*x|); sumsq: 1e-12 relative (double accumulation);
     optimizers, one step from the same float state: 8u*(|w|+|lr*wd*w|+|update|) for w,
       4u*(each term) for the states.

   The exp/sigmoid/tanh sweep runs 16x sparser except under NN_TEST_FULL=1 (make test-full),
   and 8x sparser again on non-x86 builds (qemu). */
#define NN_SIMD_IMPLEMENTATION
#include "nn_simd.h"
#include "nn_test.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NN_TEST_ULP_MAX 4.0
#define GUARD 16

static const char *g_backend = "?";

/* ---- helpers ------------------------------------------------------------------ */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rng_u32(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}
static float rng_uniform(float lo, float hi)
{
    return lo + (hi - lo) * (float)((rng_u32() >> 8) * (1.0 / 16777216.0));
}

static uint32_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float u2f(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* same value, same NaN-ness, same sign of zero */
static int same_float(float a, float b)
{
    if (a != a) return b != b;
    return f2u(a) == f2u(b);
}

/* Output buffer with sentinel zones before and after. */
#define SENTINEL 0x7fa5c3e1u
typedef struct gbuf {
    float *base, *p;
    size_t n, total;
} gbuf;
static float *gb_make(gbuf *g, size_t n, int off)
{
    size_t i;
    g->n = n;
    g->total = n + 2 * GUARD + (size_t)off;
    g->base = (float *)malloc(g->total * sizeof(float));
    if (!g->base) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (i = 0; i < g->total; i++) g->base[i] = u2f(SENTINEL);
    g->p = g->base + GUARD + off;
    return g->p;
}
static int gb_intact(const gbuf *g)
{
    size_t i;
    for (i = 0; i < g->total; i++) {
        float *q = g->base + i;
        if (q >= g->p && q < g->p + g->n) continue;
        if (f2u(*q) != SENTINEL) return 0;
    }
    return 1;
}
static void gb_free(gbuf *g)
{
    free(g->base);
}
/* Input of exactly n floats (+off before): reading past the end is an ASan error. */
static float *in_make(float **base, const float *src, size_t n, int off)
{
    *base = (float *)malloc((n + (size_t)off) * sizeof(float) + 1);
    if (!*base) exit(2);
    if (n) memcpy(*base + off, src, n * sizeof(float));
    return *base + off;
}

static double ulp_of(double a)
{
    int e;
    a = fabs(a);
    if (a < FLT_MIN) return ldexp(1.0, -149);
    if (a >= FLT_MAX) return ldexp(1.0, 104);
    frexp(a, &e);
    return ldexp(1.0, e - 24);
}
/* error of a float result against a double reference, in ulps of the rounded reference */
static double ulp_err(float got, double ref)
{
    float rf = (float)ref;
    if (ref != ref) return got != got ? 0.0 : HUGE_VAL;
    if (isinf(rf)) return got == rf ? 0.0 : HUGE_VAL;
    if (got != got || isinf(got)) return HUGE_VAL;
    return fabs((double)got - ref) / ulp_of(ref);
}

/* ---- double oracles --------------------------------------------------------------- */
static double sigmoid_d(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    return exp(x) / (1.0 + exp(x));
}
/* exact for the piecewise-linear activations: every result is a float op done once */
static float act_exact(nn_act a, float z, float p)
{
    switch (a) {
    case NN_ACT_RELU: return z > 0.0f ? z : (z != z ? z : 0.0f);
    case NN_ACT_LEAKY_RELU: return z > 0.0f ? z : (float)((double)p * (double)z);
    case NN_ACT_HARDTANH: return z > 1.0f ? 1.0f : (z < -1.0f ? -1.0f : z);
    case NN_ACT_SIGN: return z != z ? z : (z > 0.0f ? 1.0f : (z < 0.0f ? -1.0f : 0.0f));
    default: return z;
    }
}
static double dact_d(nn_act a, double y, double p)
{
    switch (a) {
    case NN_ACT_SIGMOID: return y * (1.0 - y);
    case NN_ACT_TANH: return 1.0 - y * y;
    case NN_ACT_RELU: return y > 0 ? 1.0 : 0.0;
    case NN_ACT_LEAKY_RELU: return y > 0 ? 1.0 : p;
    case NN_ACT_HARDTANH: return (y > -1.0 && y < 1.0) ? 1.0 : 0.0;
    case NN_ACT_SIGN: return 0.0;
    default: return 1.0;
    }
}

static nn_simd_backend g_cur;
static void use_backend(nn_simd_backend b)
{
    nn_status s = nn_simd_set_backend(b);
    NN_CHECK(s == NN_OK, "set_backend(%s) = %d", nn_simd_backend_str(b), (int)s);
}

static const nn_act k_acts[] = { NN_ACT_IDENTITY, NN_ACT_SIGMOID, NN_ACT_TANH, NN_ACT_RELU,
                                 NN_ACT_LEAKY_RELU, NN_ACT_HARDTANH, NN_ACT_SIGN };
#define NACTS ((int)(sizeof k_acts / sizeof k_acts[0]))

static size_t g_sizes[80];
static int g_nsizes;
static void make_sizes(void)
{
    int i;
    g_nsizes = 0;
    for (i = 0; i <= 67; i++) g_sizes[g_nsizes++] = (size_t)i;
    g_sizes[g_nsizes++] = 255;
    g_sizes[g_nsizes++] = 1000;
    g_sizes[g_nsizes++] = 4099;
}

/* A value for activation tests: mostly uniform in [-4, 4], with specials sprinkled. */
static float test_value(int special_ok)
{
    static const float sp[] = { 0.0f, -0.0f, 1.0f, -1.0f, 1e-40f, -1e-40f, 30.0f, -30.0f,
                                1e4f, -1e4f, 0.5f };
    uint32_t r = rng_u32();
    if (special_ok && (r & 15) == 0) {
        switch ((r >> 4) % 14) {
        case 0: return u2f(0x7fc00000u);     /* NaN */
        case 1: return HUGE_VALF;
        case 2: return -HUGE_VALF;
        default: return sp[((r >> 4) % 14 - 3) % (sizeof sp / sizeof sp[0])];
        }
    }
    return rng_uniform(-4.0f, 4.0f);
}

/* ---- activations ------------------------------------------------------------------ */
static void test_act(void)
{
    int si, ai, off, inplace;
    const float param = 0.1f;
    for (ai = 0; ai < NACTS; ai++) {
        nn_act a = k_acts[ai];
        int transc = (a == NN_ACT_SIGMOID || a == NN_ACT_TANH);
        long bad_fwd = 0, bad_bwd = 0, bad_guard = 0, bad_scalar = 0;
        for (si = 0; si < g_nsizes; si++) {
            size_t n = g_sizes[si], i;
            float *x = (float *)malloc(n * sizeof(float) + 1);
            float *y = (float *)malloc(n * sizeof(float) + 1);
            float *dy = (float *)malloc(n * sizeof(float) + 1);
            float *ref_s = (float *)malloc(n * sizeof(float) + 1);
            float *refb_s = (float *)malloc(n * sizeof(float) + 1);
            for (i = 0; i < n; i++) {
                x[i] = test_value(1);
                dy[i] = test_value(!transc);
            }
            /* backward inputs: y from the exact forward in double (finite y for the
               transcendental ones, so the tolerance is meaningful) */
            for (i = 0; i < n; i++) {
                if (a == NN_ACT_SIGMOID) y[i] = (float)sigmoid_d(rng_uniform(-12.0f, 12.0f));
                else if (a == NN_ACT_TANH) y[i] = (float)tanh(rng_uniform(-6.0f, 6.0f));
                else y[i] = act_exact(a, x[i], param);
            }
            if (transc && n > 3) {
                y[0] = u2f(0x7fc00000u); /* NaN propagates */
                y[1] = 1.0f;
                y[2] = -0.0f;
            }
            /* scalar backend results */
            use_backend(NN_SIMD_BACKEND_SCALAR);
            nn_simd_act_forward(a, param, x, ref_s, n);
            nn_simd_act_backward(a, param, y, dy, refb_s, n);
            use_backend(g_cur);
            for (off = 0; off <= 1; off++) {
                for (inplace = 0; inplace <= 1; inplace++) {
                    gbuf go;
                    float *xb, *xin, *out = gb_make(&go, n, off);
                    nn_status s;
                    /* forward */
                    if (inplace) {
                        memcpy(out, x, n * sizeof(float));
                        xb = NULL;
                        xin = out;
                    } else {
                        xin = in_make(&xb, x, n, off);
                    }
                    s = nn_simd_act_forward(a, param, xin, out, n);
                    NN_CHECK(s == NN_OK, "act_forward status %d", (int)s);
                    for (i = 0; i < n; i++) {
                        if (transc) {
                            double r = a == NN_ACT_SIGMOID ? sigmoid_d(x[i]) : tanh((double)x[i]);
                            double e = ulp_err(out[i], r), es = ulp_err(ref_s[i], r);
                            if (!(e <= NN_TEST_ULP_MAX) || (a == NN_ACT_TANH && x[i] == 0.0f && !same_float(out[i], x[i]))) {
                                if (bad_fwd++ < 5)
                                    NN_CHECK(0, "backend=%s op=%s_fwd n=%zu off=%d inplace=%d at %zu: x=%.9g got %.9g want %.9g (%.2f ulp)",
                                             g_backend, nn_act_name(a), n, off, inplace, i, (double)x[i], (double)out[i], r, e);
                            }
                            if (!(e <= NN_TEST_ULP_MAX && es <= NN_TEST_ULP_MAX) && bad_scalar++ < 5)
                                NN_CHECK(0, "backend=%s op=%s_fwd vs scalar at %zu: got %.9g scalar %.9g", g_backend,
                                         nn_act_name(a), i, (double)out[i], (double)ref_s[i]);
                        } else {
                            float want = act_exact(a, x[i], param);
                            if (!same_float(out[i], want) && bad_fwd++ < 5)
                                NN_CHECK(0, "backend=%s op=%s_fwd n=%zu off=%d inplace=%d at %zu: x=%.9g got %.9g want %.9g",
                                         g_backend, nn_act_name(a), n, off, inplace, i, (double)x[i], (double)out[i], (double)want);
                            if (!same_float(out[i], ref_s[i]) && bad_scalar++ < 5)
                                NN_CHECK(0, "backend=%s op=%s_fwd vs scalar at %zu: got %.9g scalar %.9g", g_backend,
                                         nn_act_name(a), i, (double)out[i], (double)ref_s[i]);
                        }
                    }
                    if (!gb_intact(&go) && bad_guard++ < 5)
                        NN_CHECK(0, "backend=%s op=%s_fwd n=%zu off=%d: guard zone overwritten", g_backend, nn_act_name(a), n, off);
                    free(xb);
                    /* backward */
                    {
                        float *yb, *yin = in_make(&yb, y, n, off), *dyb = NULL, *dyin;
                        if (inplace) {
                            memcpy(out, dy, n * sizeof(float));
                            dyin = out;
                        } else {
                            dyin = in_make(&dyb, dy, n, off);
                        }
                        s = nn_simd_act_backward(a, param, yin, dyin, out, n);
                        NN_CHECK(s == NN_OK, "act_backward status %d", (int)s);
                        for (i = 0; i < n; i++) {
                            if (transc) {
                                double r = (double)dy[i] * dact_d(a, y[i], param);
                                double tol = 4.0 * FLT_EPSILON * fabs((double)dy[i]) *
                                             (1.0 + fabs((double)y[i]) + (double)y[i] * y[i]);
                                int ok = (r != r) ? (out[i] != out[i]) : fabs(out[i] - r) <= tol;
                                int oks = (r != r) ? (refb_s[i] != refb_s[i]) : fabs(out[i] - refb_s[i]) <= 2 * tol;
                                if (!ok && bad_bwd++ < 5)
                                    NN_CHECK(0, "backend=%s op=%s_bwd n=%zu off=%d inplace=%d at %zu: y=%.9g dy=%.9g got %.9g want %.9g tol %.2g",
                                             g_backend, nn_act_name(a), n, off, inplace, i, (double)y[i], (double)dy[i], (double)out[i], r, tol);
                                if (!oks && bad_scalar++ < 5)
                                    NN_CHECK(0, "backend=%s op=%s_bwd vs scalar at %zu: got %.9g scalar %.9g", g_backend,
                                             nn_act_name(a), i, (double)out[i], (double)refb_s[i]);
                            } else {
                                float want = (float)((double)dy[i] * dact_d(a, y[i], param));
                                if (!same_float(out[i], want) && bad_bwd++ < 5)
                                    NN_CHECK(0, "backend=%s op=%s_bwd n=%zu off=%d inplace=%d at %zu: y=%.9g dy=%.9g got %.9g want %.9g",
                                             g_backend, nn_act_name(a), n, off, inplace, i, (double)y[i], (double)dy[i], (double)out[i], (double)want);
                                if (!same_float(out[i], refb_s[i]) && bad_scalar++ < 5)
                                    NN_CHECK(0, "backend=%s op=%s_bwd vs scalar at %zu: got %.9g scalar %.9g", g_backend,
                                             nn_act_name(a), i, (double)out[i], (double)refb_s[i]);
                            }
                        }
                        if (!gb_intact(&go) && bad_guard++ < 5)
                            NN_CHECK(0, "backend=%s op=%s_bwd n=%zu off=%d: guard zone overwritten", g_backend, nn_act_name(a), n, off);
                        free(yb);
                        free(dyb);
                    }
                    gb_free(&go);
                }
            }
            free(x);
            free(y);
            free(dy);
            free(ref_s);
            free(refb_s);
        }
        NN_CHECK(bad_fwd == 0 && bad_bwd == 0 && bad_guard == 0 && bad_scalar == 0,
                 "backend=%s op=%s: %ld fwd, %ld bwd, %ld guard, %ld vs-scalar mismatches", g_backend,
                 nn_act_name(a), bad_fwd, bad_bwd, bad_guard, bad_scalar);
    }
}

/* ---- accuracy sweep of exp / sigmoid / tanh ------------------------------------------- */
typedef void (*vec_fn)(const float *x, float *y, size_t n);
static void exp_scalar(const float *x, float *y, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = expf(x[i]);
}
static void sigmoid_active(const float *x, float *y, size_t n)
{
    nn_simd_act_forward(NN_ACT_SIGMOID, 0.0f, x, y, n);
}
static void tanh_active(const float *x, float *y, size_t n)
{
    nn_simd_act_forward(NN_ACT_TANH, 0.0f, x, y, n);
}
static vec_fn exp_kernel(nn_simd_backend b)
{
#if NN__HAS_AVX2
    if (b == NN_SIMD_BACKEND_AVX2 || b == NN_SIMD_BACKEND_AVX512) return nn__exp__avx2_rr2_p6; /* avx512 uses it */
#endif
#if NN__HAS_NEON
    if (b == NN_SIMD_BACKEND_NEON) return nn__exp__neon_rr2_p6;
#endif
    (void)b;
    return exp_scalar;
}

typedef struct acc_stat {
    double max_ulp, max_rel, x_ulp, x_rel;
    long count;
} acc_stat;

#define CHUNK 4096
static void acc_chunk(vec_fn f, int which, const float *x, size_t n, acc_stat *st)
{
    static float y[CHUNK];
    size_t i;
    f(x, y, n);
    for (i = 0; i < n; i++) {
        double r = which == 0 ? exp((double)x[i]) : which == 1 ? sigmoid_d(x[i]) : tanh((double)x[i]);
        double e = ulp_err(y[i], r);
        if (e > st->max_ulp || e != e) {
            st->max_ulp = e;
            st->x_ulp = x[i];
        }
        if (fabs(r) >= FLT_MIN && fabs(r) <= FLT_MAX && y[i] == y[i]) {
            double rel = fabs(y[i] - r) / fabs(r);
            if (rel > st->max_rel) {
                st->max_rel = rel;
                st->x_rel = x[i];
            }
        }
    }
    st->count += (long)n;
}

static void test_accuracy(void)
{
    static const char *names[3] = { "exp", "sigmoid", "tanh" };
    static float buf[CHUNK];
    const float specials[] = { 0.0f, -0.0f, 1e-45f, -1e-45f, 1e-40f, -1e-40f, FLT_MIN, -FLT_MIN,
                               1e-20f, -1e-20f, 0.5493f, -0.5493f, 0.55f, 9.0f, 9.02f, 17.4f,
                               -17.4f, 88.72f, 88.7228f, 88.73f, 89.0f, -87.3f, -87.34f, -100.0f,
                               -103.0f, -103.97f, -104.0f, -110.0f, -1000.0f, 1e4f, -1e4f,
                               FLT_MAX, -FLT_MAX, HUGE_VALF, -HUGE_VALF, u2f(0x7fc00000u),
                               u2f(0xffc00000u) };
    uint32_t stride = 61, top = f2u(105.0f), u;
    int which, sgn, e, k;
    vec_fn fns[3];
    if (nn_test_quick()) stride *= 16;
#if !(defined(__x86_64__) || defined(__i386__))
    stride *= 8; /* emulated (qemu): keep the run short */
#endif
    fns[0] = exp_kernel(g_cur);
    fns[1] = sigmoid_active;
    fns[2] = tanh_active;
    for (which = 0; which < 3; which++) {
        acc_stat st;
        size_t m = 0;
        memset(&st, 0, sizeof st);
        /* dense: every stride-th float in [-105, 105] */
        for (sgn = 0; sgn <= 1; sgn++) {
            for (u = 0; u <= top; u += stride) {
                buf[m++] = u2f(u | (sgn ? 0x80000000u : 0u));
                if (m == CHUNK) {
                    acc_chunk(fns[which], which, buf, m, &st);
                    m = 0;
                }
            }
        }
        /* log-spaced magnitudes over the whole float range */
        for (e = -149; e <= 127; e++) {
            for (k = 0; k < 16; k++) {
                float v = (float)ldexp(1.0 + k / 16.0, e);
                if (isinf(v)) continue;
                buf[m++] = v;
                buf[m++] = -v;
                if (m >= CHUNK - 2) {
                    acc_chunk(fns[which], which, buf, m, &st);
                    m = 0;
                }
            }
        }
        for (k = 0; k < (int)(sizeof specials / sizeof specials[0]); k++) buf[m++] = specials[k];
        acc_chunk(fns[which], which, buf, m, &st);
        printf("accuracy backend=%s %-7s max %.3f ulp (x=%.9g)  max rel %.3g (x=%.9g)  over %ld points\n",
               g_backend, names[which], st.max_ulp, st.x_ulp, st.max_rel, st.x_rel, st.count);
        NN_CHECK(st.max_ulp <= NN_TEST_ULP_MAX, "backend=%s %s: max error %.3f ulp at x=%.9g > %.1f", g_backend,
                 names[which], st.max_ulp, st.x_ulp, NN_TEST_ULP_MAX);
    }
    /* exact limits and special values */
    {
        float in[12], out[12];
        int i;
        in[0] = -1e4f; in[1] = 1e4f; in[2] = HUGE_VALF; in[3] = -HUGE_VALF; in[4] = u2f(0x7fc00000u);
        in[5] = -0.0f; in[6] = 0.0f; in[7] = 89.0f; in[8] = -104.0f; in[9] = -200.0f; in[10] = FLT_MAX; in[11] = -FLT_MAX;
        fns[1](in, out, 12);
        NN_CHECK(out[0] == 0.0f && out[1] == 1.0f && out[2] == 1.0f && out[3] == 0.0f && out[4] != out[4] &&
                 out[5] == 0.5f && out[6] == 0.5f && out[10] == 1.0f && out[11] == 0.0f,
                 "backend=%s sigmoid specials: %g %g %g %g %g %g %g %g %g", g_backend, (double)out[0], (double)out[1],
                 (double)out[2], (double)out[3], (double)out[4], (double)out[5], (double)out[6], (double)out[10], (double)out[11]);
        fns[2](in, out, 12);
        NN_CHECK(out[0] == -1.0f && out[1] == 1.0f && out[2] == 1.0f && out[3] == -1.0f && out[4] != out[4] &&
                 same_float(out[5], -0.0f) && same_float(out[6], 0.0f) && out[7] == 1.0f && out[9] == -1.0f &&
                 out[10] == 1.0f && out[11] == -1.0f,
                 "backend=%s tanh specials: %g %g %g %g %g %g %g", g_backend, (double)out[0], (double)out[1],
                 (double)out[2], (double)out[3], (double)out[4], (double)out[5], (double)out[6]);
        fns[0](in, out, 12);
        NN_CHECK(out[0] == 0.0f && isinf(out[1]) && isinf(out[2]) && out[3] == 0.0f && out[4] != out[4] &&
                 out[5] == 1.0f && out[6] == 1.0f && isinf(out[7]) && out[8] >= 0.0f && out[8] < FLT_MIN &&
                 out[9] == 0.0f && isinf(out[10]) && out[11] == 0.0f,
                 "backend=%s exp specials: %g %g %g %g %g %g %g %g %g", g_backend, (double)out[0], (double)out[1],
                 (double)out[2], (double)out[3], (double)out[4], (double)out[5], (double)out[6], (double)out[7], (double)out[8]);
        /* the same input gives the same output at every position (tails included) */
        for (i = 0; i < 12; i++) in[i] = 0.3f;
        for (which = 0; which < 3; which++) {
            size_t n;
            for (n = 1; n <= 12; n++) {
                fns[which](in, out, n);
                for (i = 1; i < (int)n; i++)
                    NN_CHECK(same_float(out[i], out[0]), "backend=%s %s: position-dependent result n=%zu i=%d",
                             g_backend, names[which], n, i);
            }
        }
    }
}

/* ---- softmax ---------------------------------------------------------------------------- */
static void test_softmax(void)
{
    static const int rows_list[] = { 1, 2, 3, 7 };
    int ri, ci, off, inplace, i, j;
    long bad = 0;
    for (ri = 0; ri < 4; ri++) {
        for (ci = 1; ci <= 70; ci++) {
            int rows = rows_list[ri];
            int cols = ci <= 67 ? ci : (ci == 68 ? 128 : ci == 69 ? 1000 : 10);
            size_t n = (size_t)rows * cols;
            float *x = (float *)malloc(n * sizeof(float)), *dy = (float *)malloc(n * sizeof(float));
            float *ys = (float *)malloc(n * sizeof(float)), *dxs = (float *)malloc(n * sizeof(float));
            double *yd = (double *)malloc(n * sizeof(double));
            for (i = 0; i < rows; i++) {
                float spread = (i % 3 == 2) ? 100.0f : 10.0f; /* some rows underflow */
                double mx = -HUGE_VAL, sum = 0;
                for (j = 0; j < cols; j++) {
                    x[i * cols + j] = rng_uniform(-spread, spread);
                    dy[i * cols + j] = rng_uniform(-1.0f, 1.0f);
                    mx = x[i * cols + j] > mx ? x[i * cols + j] : mx;
                }
                for (j = 0; j < cols; j++) sum += (yd[i * cols + j] = exp(x[i * cols + j] - mx));
                for (j = 0; j < cols; j++) yd[i * cols + j] /= sum;
            }
            use_backend(NN_SIMD_BACKEND_SCALAR);
            nn_simd_softmax_rows(x, ys, rows, cols);
            nn_simd_softmax_backward_rows(ys, dy, dxs, rows, cols);
            use_backend(g_cur);
            for (off = 0; off <= 1; off++) {
                for (inplace = 0; inplace <= 1; inplace++) {
                    gbuf go;
                    float *out = gb_make(&go, n, off), *xb = NULL, *xin;
                    if (inplace) {
                        memcpy(out, x, n * sizeof(float));
                        xin = out;
                    } else {
                        xin = in_make(&xb, x, n, off);
                    }
                    NN_CHECK(nn_simd_softmax_rows(xin, out, rows, cols) == NN_OK, "softmax status");
                    for (i = 0; i < (int)n; i++) {
                        double tol = (8.0 + cols) * FLT_EPSILON * yd[i] + 1e-37;
                        if (!(fabs(out[i] - yd[i]) <= tol) || !(fabs(out[i] - ys[i]) <= 2 * tol)) {
                            if (bad++ < 5)
                                NN_CHECK(0, "backend=%s op=softmax rows=%d cols=%d off=%d inplace=%d at %d: got %.9g want %.9g scalar %.9g tol %.2g",
                                         g_backend, rows, cols, off, inplace, i, (double)out[i], yd[i], (double)ys[i], tol);
                        }
                    }
                    NN_CHECK(gb_intact(&go), "backend=%s op=softmax rows=%d cols=%d off=%d: guard zone overwritten", g_backend, rows, cols, off);
                    free(xb);
                    xb = NULL;
                    /* backward, from the scalar y (so both see the same input) */
                    {
                        float *yb, *yin = in_make(&yb, ys, n, off), *dyin;
                        if (inplace) {
                            memcpy(out, dy, n * sizeof(float));
                            dyin = out;
                        } else {
                            dyin = in_make(&xb, dy, n, off);
                        }
                        NN_CHECK(nn_simd_softmax_backward_rows(yin, dyin, out, rows, cols) == NN_OK, "softmax bwd status");
                        for (i = 0; i < rows; i++) {
                            double dot = 0, adot = 0;
                            for (j = 0; j < cols; j++) {
                                dot += (double)dy[i * cols + j] * ys[i * cols + j];
                                adot += fabs((double)dy[i * cols + j] * ys[i * cols + j]);
                            }
                            for (j = 0; j < cols; j++) {
                                int k = i * cols + j;
                                double r = (double)ys[k] * (dy[k] - dot);
                                double tol = (cols + 4.0) * FLT_EPSILON * fabs((double)ys[k]) * (fabs((double)dy[k]) + adot) + 1e-37;
                                if ((!(fabs(out[k] - r) <= tol) || !(fabs(out[k] - dxs[k]) <= 2 * tol)) && bad++ < 5)
                                    NN_CHECK(0, "backend=%s op=softmax_bwd rows=%d cols=%d off=%d inplace=%d at %d: got %.9g want %.9g scalar %.9g",
                                             g_backend, rows, cols, off, inplace, k, (double)out[k], r, (double)dxs[k]);
                            }
                        }
                        NN_CHECK(gb_intact(&go), "backend=%s op=softmax_bwd rows=%d cols=%d: guard zone overwritten", g_backend, rows, cols);
                        free(yb);
                        free(xb);
                    }
                    gb_free(&go);
                }
            }
            free(x);
            free(dy);
            free(ys);
            free(dxs);
            free(yd);
        }
    }
    NN_CHECK(bad == 0, "backend=%s softmax: %ld mismatches", g_backend, bad);
    /* a NaN anywhere makes the row NaN; a row of equal huge values is uniform */
    {
        float x[2 * 11], y[2 * 11];
        for (j = 0; j < 22; j++) x[j] = (float)j;
        x[5] = u2f(0x7fc00000u);
        for (j = 11; j < 22; j++) x[j] = 1e30f;
        nn_simd_softmax_rows(x, y, 2, 11);
        for (j = 0; j < 11; j++) NN_CHECK(y[j] != y[j], "backend=%s softmax: NaN row gives %g at %d", g_backend, (double)y[j], j);
        for (j = 11; j < 22; j++)
            NN_CHECK(fabs(y[j] - 1.0 / 11) <= 4 * FLT_EPSILON, "backend=%s softmax: equal row gives %g", g_backend, (double)y[j]);
    }
}

/* ---- col_sums, axpy, sumsq, all_finite ------------------------------------------------- */
static void test_reductions(void)
{
    int si, off, rows;
    long bad = 0;
    for (si = 0; si < g_nsizes; si++) {
        size_t n = g_sizes[si], i;
        int cols = (int)n;
        float *x = (float *)malloc(n * sizeof(float) + 1), *y0 = (float *)malloc(n * sizeof(float) + 1);
        for (i = 0; i < n; i++) {
            x[i] = rng_uniform(-2.0f, 2.0f);
            y0[i] = rng_uniform(-2.0f, 2.0f);
        }
        /* col_sums: rows 0..9, ldx = cols and cols + 3 */
        if (cols <= 1000) {
            for (rows = 0; rows <= 9; rows += (cols > 67 ? 4 : 1)) {
                int pad;
                for (pad = 0; pad <= 3; pad += 3) {
                    int ldx = cols + pad;
                    size_t tot = (size_t)rows * ldx;
                    float *m = (float *)malloc(tot * sizeof(float) + 1), *ref = (float *)malloc(n * sizeof(float) + 1);
                    for (i = 0; i < tot; i++) m[i] = rng_uniform(-3.0f, 3.0f);
                    use_backend(NN_SIMD_BACKEND_SCALAR);
                    nn_simd_col_sums(m, rows, cols, ldx, ref);
                    use_backend(g_cur);
                    for (off = 0; off <= 1; off++) {
                        gbuf go;
                        float *mb, *min = in_make(&mb, m, tot, off), *out = gb_make(&go, n, off);
                        int j, r;
                        NN_CHECK(nn_simd_col_sums(min, rows, cols, ldx, out) == NN_OK, "col_sums status");
                        for (j = 0; j < cols; j++) {
                            float s = 0.0f; /* the oracle order: row order, float */
                            double sd = 0, sa = 0;
                            for (r = 0; r < rows; r++) {
                                s += m[(size_t)r * ldx + j];
                                sd += m[(size_t)r * ldx + j];
                                sa += fabs(m[(size_t)r * ldx + j]);
                            }
                            if ((!same_float(out[j], s) || !same_float(out[j], ref[j]) ||
                                 !(fabs(out[j] - sd) <= rows * FLT_EPSILON * sa)) && bad++ < 5)
                                NN_CHECK(0, "backend=%s op=col_sums rows=%d cols=%d ldx=%d off=%d at %d: got %.9g want %.9g scalar %.9g",
                                         g_backend, rows, cols, ldx, off, j, (double)out[j], (double)s, (double)ref[j]);
                        }
                        NN_CHECK(gb_intact(&go), "backend=%s op=col_sums rows=%d cols=%d: guard zone overwritten", g_backend, rows, cols);
                        gb_free(&go);
                        free(mb);
                    }
                    free(m);
                    free(ref);
                }
            }
        }
        /* axpy, out of place and with x == y */
        {
            const float a = -0.75f;
            float *ref = (float *)malloc(n * sizeof(float) + 1);
            memcpy(ref, y0, n * sizeof(float));
            use_backend(NN_SIMD_BACKEND_SCALAR);
            nn_simd_axpy(n, a, x, ref);
            use_backend(g_cur);
            for (off = 0; off <= 1; off++) {
                int same;
                for (same = 0; same <= 1; same++) {
                    gbuf go;
                    float *xb = NULL, *xin, *out = gb_make(&go, n, off);
                    const float *xs = same ? y0 : x;
                    memcpy(out, y0, n * sizeof(float));
                    xin = same ? out : in_make(&xb, x, n, off);
                    NN_CHECK(nn_simd_axpy(n, a, xin, out) == NN_OK, "axpy status");
                    for (i = 0; i < n; i++) {
                        double r = (double)y0[i] + (double)a * xs[i];
                        double tol = 2 * FLT_EPSILON * (fabs((double)y0[i]) + fabs((double)a * xs[i]));
                        if ((!(fabs(out[i] - r) <= tol) || (!same && !(fabs(out[i] - ref[i]) <= 2 * tol))) && bad++ < 5)
                            NN_CHECK(0, "backend=%s op=axpy n=%zu off=%d x==y=%d at %zu: got %.9g want %.9g", g_backend, n,
                                     off, same, i, (double)out[i], r);
                    }
                    NN_CHECK(gb_intact(&go), "backend=%s op=axpy n=%zu: guard zone overwritten", g_backend, n);
                    gb_free(&go);
                    free(xb);
                }
            }
            free(ref);
        }
        /* sumsq and all_finite */
        for (off = 0; off <= 1; off++) {
            float *xb, *xin = in_make(&xb, x, n, off);
            double r = 0, got, gs;
            size_t p;
            for (i = 0; i < n; i++) r += (double)x[i] * x[i];
            got = nn_simd_sumsq(xin, n);
            use_backend(NN_SIMD_BACKEND_SCALAR);
            gs = nn_simd_sumsq(xin, n);
            use_backend(g_cur);
            NN_CHECK(fabs(got - r) <= 1e-12 * r && fabs(got - gs) <= 1e-12 * r,
                     "backend=%s op=sumsq n=%zu off=%d: got %.17g want %.17g scalar %.17g", g_backend, n, off, got, r, gs);
            NN_CHECK(nn_simd_all_finite(xin, n) == 1, "backend=%s op=all_finite n=%zu: finite data reported non-finite", g_backend, n);
            if (n) {
                xin[n - 1] = FLT_MAX;
                xin[0] = -FLT_MAX;
                NN_CHECK(nn_simd_all_finite(xin, n) == 1, "backend=%s op=all_finite n=%zu: FLT_MAX reported non-finite", g_backend, n);
            }
            for (p = 0; p < n; p += (n > 67 ? 97 : 1)) {
                static const uint32_t bads[3] = { 0x7f800000u, 0xff800000u, 0x7fc00001u };
                int b;
                for (b = 0; b < 3; b++) {
                    float keep = xin[p];
                    xin[p] = u2f(bads[b]);
                    NN_CHECK(nn_simd_all_finite(xin, n) == 0, "backend=%s op=all_finite n=%zu: %08x at %zu not found", g_backend,
                             n, (unsigned)bads[b], p);
                    xin[p] = keep;
                }
            }
            free(xb);
        }
        free(x);
        free(y0);
    }
    NN_CHECK(bad == 0, "backend=%s reductions: %ld mismatches", g_backend, bad);
}

/* ---- optimizers -------------------------------------------------------------------------- */
/* One step in double from float state; returns the w tolerance through *tolw. */
static void optim_ref(nn_simd_optim kind, const nn_simd_optim_args *p, double *w, double g, double *s1, double *s2,
                      double *tolw, double *tol1, double *tol2)
{
    double lr = p->lr, decay = lr * p->wd * *w, upd = 0;
    double u = FLT_EPSILON;
    *w -= decay;
    *tol1 = *tol2 = 0;
    switch (kind) {
    case NN_SIMD_OPTIM_SGD: upd = lr * g; break;
    case NN_SIMD_OPTIM_MOMENTUM:
        *tol1 = 4 * u * (fabs(p->mu * *s1) + fabs(lr * g));
        *s1 = p->mu * *s1 + lr * g;
        upd = *s1;
        break;
    case NN_SIMD_OPTIM_NESTEROV:
        *tol1 = 4 * u * (fabs(p->mu * *s1) + fabs(lr * g));
        *s1 = p->mu * *s1 + lr * g;
        upd = p->mu * *s1 + lr * g;
        break;
    case NN_SIMD_OPTIM_ADAGRAD:
        *s1 += g * g;
        *tol1 = 4 * u * *s1;
        upd = lr * g / (sqrt(*s1) + p->eps);
        break;
    case NN_SIMD_OPTIM_RMSPROP:
        *s1 = p->beta2 * *s1 + (double)(1.0f - p->beta2) * g * g;
        *tol1 = 4 * u * *s1;
        upd = lr * g / (sqrt(*s1) + p->eps);
        break;
    case NN_SIMD_OPTIM_ADADELTA: {
        double d0 = *s2;
        *s1 = p->beta2 * *s1 + (double)(1.0f - p->beta2) * g * g;
        upd = sqrt(d0 + p->eps) / sqrt(*s1 + p->eps) * g;
        *s2 = p->beta2 * d0 + (double)(1.0f - p->beta2) * upd * upd;
        *tol1 = 4 * u * *s1;
        *tol2 = 8 * u * (*s2 + fabs(upd) * fabs(upd));
        upd *= lr;
        break;
    }
    case NN_SIMD_OPTIM_ADAM:
        *s1 = p->beta1 * *s1 + (double)(1.0f - p->beta1) * g;
        *s2 = p->beta2 * *s2 + (double)(1.0f - p->beta2) * g * g;
        *tol1 = 4 * u * (fabs(p->beta1 * *s1) + fabs(g));
        *tol2 = 4 * u * *s2;
        upd = lr * (*s1 * p->bc1) / (sqrt(*s2 * p->bc2) + p->eps);
        break;
    default: break;
    }
    *w -= upd;
    /* momentum/Nesterov: upd is (built from) the new v, so v's rounding (tol1, large when
       mu v and lr g cancel) carries into w */
    *tolw = 8 * u * (fabs(*w) + fabs(decay) + fabs(upd)) + 1e-30 +
            (kind == NN_SIMD_OPTIM_MOMENTUM || kind == NN_SIMD_OPTIM_NESTEROV ? 2 * *tol1 : 0.0);
}

static void test_optim(void)
{
    static const char *names[NN_SIMD_OPTIM_COUNT] = { "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam",
                                                      "adadelta" };
    int kind, si, off, wdi, step;
    long bad = 0;
    for (kind = 0; kind < NN_SIMD_OPTIM_COUNT; kind++) {
        const int two = kind == NN_SIMD_OPTIM_ADAM || kind == NN_SIMD_OPTIM_ADADELTA;
        for (si = 0; si < g_nsizes; si++) {
            size_t n = g_sizes[si], i;
            for (wdi = 0; wdi <= 1; wdi++) {
                for (off = 0; off <= 1; off++) {
                    nn_simd_optim_args a;
                    gbuf gw, g1, g2;
                    float *w = gb_make(&gw, n, off), *s1 = gb_make(&g1, n, off), *s2 = gb_make(&g2, n, off);
                    float *sw = (float *)malloc(n * sizeof(float) + 1), *ss1 = (float *)malloc(n * sizeof(float) + 1);
                    float *ss2 = (float *)malloc(n * sizeof(float) + 1), *gr = (float *)malloc(n * sizeof(float) + 1);
                    memset(&a, 0, sizeof a);
                    a.lr = 0.01f;
                    a.wd = wdi ? 0.05f : 0.0f;
                    a.mu = 0.9f;
                    a.beta1 = 0.9f;
                    a.beta2 = kind == NN_SIMD_OPTIM_RMSPROP ? 0.99f : kind == NN_SIMD_OPTIM_ADADELTA ? 0.9f : 0.999f;
                    a.eps = kind == NN_SIMD_OPTIM_ADADELTA ? 1e-6f : 1e-8f;
                    if (kind == NN_SIMD_OPTIM_ADADELTA) a.lr = 1.0f;
                    for (i = 0; i < n; i++) {
                        w[i] = rng_uniform(-1.0f, 1.0f);
                        s1[i] = kind == NN_SIMD_OPTIM_ADAGRAD || kind == NN_SIMD_OPTIM_RMSPROP ||
                                kind == NN_SIMD_OPTIM_ADADELTA ? rng_uniform(0.0f, 0.1f) : 0.0f;
                        s2[i] = kind == NN_SIMD_OPTIM_ADADELTA ? rng_uniform(0.0f, 1e-4f) : 0.0f;
                    }
                    memcpy(sw, w, n * sizeof(float));
                    memcpy(ss1, s1, n * sizeof(float));
                    memcpy(ss2, s2, n * sizeof(float));
                    for (step = 1; step <= 3; step++) {
                        float *gb = NULL, *gin;
                        a.bc1 = (float)(1.0 / (1.0 - pow(a.beta1, step)));
                        a.bc2 = (float)(1.0 / (1.0 - pow(a.beta2, step)));
                        for (i = 0; i < n; i++) gr[i] = rng_uniform(-1.0f, 1.0f);
                        if (n > 3) gr[1] = 0.0f;
                        gin = in_make(&gb, gr, n, off);
                        {
                            float *w0 = (float *)malloc(n * sizeof(float) + 1), *a0 = (float *)malloc(n * sizeof(float) + 1);
                            float *b0 = (float *)malloc(n * sizeof(float) + 1);
                            nn_status st;
                            memcpy(w0, w, n * sizeof(float));
                            memcpy(a0, s1, n * sizeof(float));
                            memcpy(b0, s2, n * sizeof(float));
                            st = nn_simd_optim_update((nn_simd_optim)kind, &a, w, gin,
                                                      kind == NN_SIMD_OPTIM_SGD ? NULL : s1,
                                                      two ? s2 : NULL, n);
                            NN_CHECK(st == NN_OK, "optim status %d", (int)st);
                            use_backend(NN_SIMD_BACKEND_SCALAR);
                            nn_simd_optim_update((nn_simd_optim)kind, &a, sw, gr, kind == NN_SIMD_OPTIM_SGD ? NULL : ss1,
                                                 two ? ss2 : NULL, n);
                            use_backend(g_cur);
                            for (i = 0; i < n; i++) {
                                double rw = w0[i], r1 = a0[i], r2 = b0[i], tw, t1, t2;
                                optim_ref((nn_simd_optim)kind, &a, &rw, gr[i], &r1, &r2, &tw, &t1, &t2);
                                if ((!(fabs(w[i] - rw) <= tw) ||
                                     (kind != NN_SIMD_OPTIM_SGD && !(fabs(s1[i] - r1) <= t1 + 1e-30)) ||
                                     (two && !(fabs(s2[i] - r2) <= t2 + 1e-30))) && bad++ < 5)
                                    NN_CHECK(0, "backend=%s op=%s n=%zu wd=%g off=%d step=%d at %zu: w %.9g want %.9g s1 %.9g want %.9g s2 %.9g want %.9g",
                                             g_backend, names[kind], n, (double)a.wd, off, step, i, (double)w[i], rw,
                                             (double)s1[i], r1, (double)s2[i], r2);
                                /* vs the scalar backend: the trajectories stay within a few steps' tolerance */
                                if (!(fabs(w[i] - sw[i]) <= 4 * step * tw) && bad++ < 5)
                                    NN_CHECK(0, "backend=%s op=%s vs scalar n=%zu step=%d at %zu: w %.9g scalar %.9g", g_backend,
                                             names[kind], n, step, i, (double)w[i], (double)sw[i]);
                            }
                            if (g_cur == NN_SIMD_BACKEND_AVX512 && nn_simd_backend_available(NN_SIMD_BACKEND_AVX2)) {
                                /* the same rules in the same order on independent lanes: the
                                   two x86 widths write the same bits, tails included */
                                use_backend(NN_SIMD_BACKEND_AVX2);
                                nn_simd_optim_update((nn_simd_optim)kind, &a, w0, gin,
                                                     kind == NN_SIMD_OPTIM_SGD ? NULL : a0,
                                                     two ? b0 : NULL, n);
                                use_backend(g_cur);
                                if ((memcmp(w0, w, n * sizeof(float)) != 0 ||
                                     (kind != NN_SIMD_OPTIM_SGD && memcmp(a0, s1, n * sizeof(float)) != 0) ||
                                     (two && memcmp(b0, s2, n * sizeof(float)) != 0)) &&
                                    bad++ < 5)
                                    NN_CHECK(0, "backend=%s op=%s n=%zu wd=%g off=%d step=%d: differs from avx2",
                                             g_backend, names[kind], n, (double)a.wd, off, step);
                            }
                            free(w0);
                            free(a0);
                            free(b0);
                        }
                        free(gb);
                    }
                    NN_CHECK(gb_intact(&gw) && gb_intact(&g1) && gb_intact(&g2),
                             "backend=%s op=%s n=%zu off=%d: guard zone overwritten", g_backend, names[kind], n, off);
                    gb_free(&gw);
                    gb_free(&g1);
                    gb_free(&g2);
                    free(sw);
                    free(ss1);
                    free(ss2);
                    free(gr);
                }
            }
        }
    }
    NN_CHECK(bad == 0, "backend=%s optimizers: %ld mismatches", g_backend, bad);
}

int main(void)
{
    static const nn_simd_backend all[] = { NN_SIMD_BACKEND_SCALAR, NN_SIMD_BACKEND_AVX2, NN_SIMD_BACKEND_AVX512, NN_SIMD_BACKEND_NEON };
    int bi, tested = 0;
    nn_test_begin("test_kernels");
    printf("backend (auto): %s\n", nn_simd_backend_name());
    make_sizes();
    for (bi = 0; bi < (int)(sizeof all / sizeof all[0]); bi++) {
        if (!nn_simd_backend_available(all[bi])) {
            printf("SKIP %s (not available on this machine/build)\n", nn_simd_backend_str(all[bi]));
            continue;
        }
        g_cur = all[bi];
        use_backend(g_cur);
        g_backend = nn_simd_backend_name();
        printf("== backend=%s\n", g_backend);
        test_accuracy();
        test_act();
        test_softmax();
        test_reductions();
        test_optim();
        tested++;
    }
    NN_CHECK(tested >= 1, "no backend tested");
    return nn_test_done();
}
