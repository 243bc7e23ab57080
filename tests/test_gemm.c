/* test_gemm.c - nn_simd_gemm / nn_simd_gemm_ex on every available backend against a
   naive double-precision oracle written here (not the scalar backend, so that one is
   tested too).

   Tolerance, per element of C (u = FLT_EPSILON):
       |c - ref| <= 2*K*u * sum_p |alpha * a_ip * b_pj|      (4x the gamma_K dot bound)
                  + 2*u * |beta * c0_ij| + 2*u * |bias_j|     (the two extra roundings)
                  + 1e-30                                      (FLT_MIN-ish floor)
   then through the activation: every element-wise activation is 1-Lipschitz, so the
   bound carries over, plus the activation kernel's own error (4e-6 * (1 + |y|) for
   sigmoid and tanh, whose vector versions are polynomial approximations; exact for
   the piecewise-linear ones). sign() is only checked where |ref| exceeds the bound.
   Softmax: a row whose inputs are each within t of the truth gives outputs within
   y * (e^(2t) - 1) ~ 2t*y, plus 1e-5*y + 1e-7 for exp and the division.

   Every case: C is surrounded by sentinel floats (before, after, and in the ldc
   padding of each row), which must be untouched; beta == 0 cases pre-fill C with NaN;
   A and B are allocated to their exact extent (ASan catches any over-read); the
   "misaligned" cases offset A, B and C by one float from a 64-byte boundary.
   test_paths also checks each backend's planning function (which path a shape takes)
   and runs every path directly on the edges of its tiling.

   How much runs (main() picks the level from the environment, see nn_test.h):
     LEVEL_EDGE   the default (make test; NEON under qemu too): test_edges() in place of
                  the size sweeps, the tile-path cases thinned, 60 random shapes up to
                  150 (90 on aarch64), each large shape once (on aarch64 without the two
                  of ~1.5e8 multiply-adds)
     LEVEL_QEMU   aarch64 with NN_TEST_FULL=1 or NN_TEST_QUICK=1: the sweeps thinned
     LEVEL_QUICK  NN_TEST_QUICK=1 (make test-full's sanitizer suite, make test-valgrind)
     LEVEL_FULL   NN_TEST_FULL=1 (make test-full): every sweep at full size
   Every level runs the API errors, the epilogues, the ReLU special values,
   test_edges() and test_paths(); LEVEL_FULL runs every shape LEVEL_QUICK does (other
   random ones). Built on its own (it reaches the planning functions), not linked
   against tests/nn_test_impl.c. */
#define NN_SIMD_IMPLEMENTATION
#include "nn_simd.h"
#include "nn_test.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define GUARD 32
#define SENTINEL 1234.5f

static unsigned long long rng_state = 0x9E3779B97F4A7C15ull;
static unsigned rnd_u32(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state >> 32);
}
static float rnd_f(void) { return (float)(rnd_u32() >> 8) / 8388608.0f - 1.0f; } /* [-1,1) */
static int rnd_int(int lo, int hi) { return lo + (int)(rnd_u32() % (unsigned)(hi - lo + 1)); }

static const char *be_name = "?";
static long n_cases;

#if NN__HAS_AVX2 || NN__HAS_NEON
/* test_paths: run_case calls force_run(force_path, ...), one path of a backend's GEMM
   directly, instead of nn_simd_gemm_ex (which runs the path the backend plans) */
typedef nn__gemm_path (*plan_fn)(int transa, int transb, int m, int n, int k);
typedef void (*run_fn)(nn__gemm_path p, int transa, int transb, int m, int n, int k,
                       float alpha, const float *A, int lda, const float *B, int ldb,
                       float beta, float *C, int ldc, const float *bias, nn_act act,
                       float act_param, nn__gemm_ws *ws);
static run_fn force_run;
static nn__gemm_path force_path;
#endif
enum { LEVEL_EDGE = -1, LEVEL_QEMU = 0, LEVEL_QUICK = 1, LEVEL_FULL = 2 };

typedef struct gcase {
    int ta, tb, m, n, k;
    float alpha, beta;
    int pad_a, pad_b, pad_c; /* extra leading-dimension elements */
    int misalign;            /* offset pointers by one float */
    int use_bias;
    nn_act act;
    float act_param;
} gcase;

static double act_ref(nn_act act, double z, double p)
{
    switch (act) {
    case NN_ACT_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case NN_ACT_TANH: return tanh(z);
    case NN_ACT_RELU: return z > 0 ? z : 0;
    case NN_ACT_LEAKY_RELU: return z > 0 ? z : p * z;
    case NN_ACT_HARDTANH: return z > 1 ? 1 : (z < -1 ? -1 : z);
    case NN_ACT_SIGN: return z > 0 ? 1 : (z < 0 ? -1 : 0);
    default: return z;
    }
}

/* Allocates n floats (+1 when misaligned) and returns the user pointer; *base gets
   what to free. The user region ends exactly at the end of the allocation. */
static float *alloc_f(size_t n, int misalign, void **base)
{
    float *p = (float *)malloc((n + (size_t)misalign + 1) * sizeof(float));
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    *base = p;
    return p + misalign;
}

static int run_case(const gcase *g)
{
    const int m = g->m, n = g->n, k = g->k;
    const int lda = (g->ta ? m : k) + g->pad_a, ldb = (g->tb ? k : n) + g->pad_b;
    const int ldc = n + g->pad_c;
    const size_t a_rows = (size_t)(g->ta ? k : m), b_rows = (size_t)(g->tb ? n : k);
    const size_t a_len = a_rows ? (a_rows - 1) * lda + (g->ta ? m : k) : 0;
    const size_t b_len = b_rows ? (b_rows - 1) * ldb + (g->tb ? k : n) : 0;
    const size_t c_len = (size_t)(m - 1) * ldc + n;
    void *abase, *bbase, *cbase;
    float *A = alloc_f(a_len ? a_len : 1, g->misalign, &abase);
    float *B = alloc_f(b_len ? b_len : 1, g->misalign, &bbase);
    float *Cg = alloc_f(c_len + 2 * GUARD, g->misalign, &cbase);
    float *C = Cg + GUARD;
    float *C0 = (float *)malloc(c_len * sizeof(float));
    float *bias = NULL;
    double *ref = (double *)malloc((size_t)m * n * sizeof(double));
    double *tol = (double *)malloc((size_t)m * n * sizeof(double));
    /* the oracle's operands: op(A) (m x k) and op(B)^T (n x k), row-major doubles, so
       its dot products run along contiguous memory whatever the transposes */
    double *Ad = (double *)malloc(((size_t)m * k + 1) * sizeof(double));
    double *Bd = (double *)malloc(((size_t)n * k + 1) * sizeof(double));
    const double u = FLT_EPSILON;
    size_t t;
    int i, j, p, bad = 0;
    nn_status st;

    for (t = 0; t < a_len; t++) A[t] = rnd_f();
    for (t = 0; t < b_len; t++) B[t] = rnd_f();
    for (t = 0; t < c_len + 2 * GUARD; t++) Cg[t] = SENTINEL;
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++)
            C[(size_t)i * ldc + j] = g->beta == 0.0f ? NAN : rnd_f();
    memcpy(C0, C, c_len * sizeof(float));
    if (g->use_bias) {
        bias = (float *)malloc((size_t)n * sizeof(float));
        for (j = 0; j < n; j++) bias[j] = rnd_f();
    }

    /* oracle */
    if (!ref || !tol || !Ad || !Bd) { fprintf(stderr, "out of memory\n"); exit(2); }
    for (i = 0; i < m; i++)
        for (p = 0; p < k; p++)
            Ad[(size_t)i * k + p] = g->ta ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
    for (j = 0; j < n; j++)
        for (p = 0; p < k; p++)
            Bd[(size_t)j * k + p] = g->tb ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
    for (i = 0; i < m; i++) {
        for (j = 0; j < n; j++) {
            const double *ai = Ad + (size_t)i * k, *bj = Bd + (size_t)j * k;
            double s = 0, sa = 0, z, e;
            for (p = 0; p < k; p++) {
                double ab = ai[p] * bj[p];
                s += ab;
                sa += fabs(ab);
            }
            z = (double)g->alpha * s;
            e = 2.0 * k * u * fabs((double)g->alpha) * sa + 1e-30;
            if (g->beta != 0.0f) {
                double c0 = (double)g->beta * C0[(size_t)i * ldc + j];
                z += c0;
                e += 2.0 * u * fabs(c0) + 2.0 * u * fabs(z);
            }
            if (bias) {
                z += bias[j];
                e += 2.0 * u * (fabs((double)bias[j]) + fabs(z));
            }
            ref[(size_t)i * n + j] = z;
            tol[(size_t)i * n + j] = e;
        }
    }
    if (g->act == NN_ACT_SOFTMAX) {
        for (i = 0; i < m; i++) {
            double mx = -INFINITY, sum = 0, tmax = 0;
            double *r = ref + (size_t)i * n, *tl = tol + (size_t)i * n;
            for (j = 0; j < n; j++) { mx = r[j] > mx ? r[j] : mx; tmax = tl[j] > tmax ? tl[j] : tmax; }
            for (j = 0; j < n; j++) { r[j] = exp(r[j] - mx); sum += r[j]; }
            for (j = 0; j < n; j++) {
                r[j] /= sum;
                tl[j] = r[j] * (2.5 * tmax + 1e-5) + 1e-7;
            }
        }
    } else if (g->act != NN_ACT_DEFAULT && g->act != NN_ACT_IDENTITY) {
        for (t = 0; t < (size_t)m * n; t++) {
            double z = ref[t];
            double y = act_ref(g->act, z, g->act_param);
            if (g->act == NN_ACT_SIGN && fabs(z) <= tol[t]) tol[t] = 2.0; /* either side */
            if (g->act == NN_ACT_SIGMOID || g->act == NN_ACT_TANH) tol[t] += 4e-6 * (1 + fabs(y));
            ref[t] = y;
        }
    }

#if NN__HAS_AVX2 || NN__HAS_NEON
    if (force_run) {
        force_run(force_path, g->ta, g->tb, m, n, k, g->alpha, A, lda, B, ldb, g->beta, C, ldc,
                  bias, g->act, g->act_param, NULL);
        st = NN_OK;
    } else
#endif
    st = nn_simd_gemm_ex(g->ta, g->tb, m, n, k, g->alpha, A, lda, B, ldb, g->beta, C, ldc,
                         bias, g->act, g->act_param);
    NN_CHECK(st == NN_OK, "backend=%s op=gemm status %s", be_name, nn_status_str(st));

    for (i = 0; i < m && bad < 3; i++) {
        for (j = 0; j < n && bad < 3; j++) {
            double got = C[(size_t)i * ldc + j], want = ref[(size_t)i * n + j];
            double tl = tol[(size_t)i * n + j];
            int ok = fabs(got - want) <= tl; /* false for NaN */
            if (!ok) bad++;
            NN_CHECK(ok,
                     "backend=%s op=gemm tA=%d tB=%d m=%d n=%d k=%d alpha=%g beta=%g "
                     "ld+=(%d,%d,%d) mis=%d bias=%d act=%s at (%d,%d): got %.9g want %.9g tol %.3g",
                     be_name, g->ta, g->tb, m, n, k, g->alpha, g->beta, g->pad_a, g->pad_b,
                     g->pad_c, g->misalign, g->use_bias, nn_act_name(g->act), i, j, got, want, tl);
        }
    }
    /* guards: before, after, and the ldc padding of every row */
    {
        int gbad = 0;
        for (t = 0; t < GUARD; t++) {
            if (Cg[t] != SENTINEL) gbad++;
            if (C[c_len + t] != SENTINEL) gbad++;
        }
        for (i = 0; i + 1 < m; i++)
            for (j = n; j < ldc; j++)
                if (C[(size_t)i * ldc + j] != SENTINEL) gbad++;
        NN_CHECK(gbad == 0,
                 "backend=%s op=gemm tA=%d tB=%d m=%d n=%d k=%d ldc=%d: %d guard floats overwritten",
                 be_name, g->ta, g->tb, m, n, k, ldc, gbad);
        if (gbad) bad++;
    }
    n_cases++;
    free(abase); free(bbase); free(cbase); free(C0); free(bias); free(ref); free(tol);
    free(Ad); free(Bd);
    return bad == 0;
}

static const float alphas[3] = {1.0f, -0.5f, 0.0f};
static const float betas[3] = {0.0f, 1.0f, -0.5f};

static void plain_case(int ta, int tb, int m, int n, int k, int idx)
{
    gcase g;
    memset(&g, 0, sizeof g);
    g.ta = ta; g.tb = tb; g.m = m; g.n = n; g.k = k;
    g.alpha = alphas[idx % 3];
    g.beta = betas[(idx / 3) % 3];
    if (g.alpha == 0.0f && idx % 2) g.alpha = 1.0f; /* keep alpha == 0 rarer */
    g.pad_a = idx % 4 == 1 ? 3 : 0;
    g.pad_b = idx % 4 == 2 ? 5 : 0;
    g.pad_c = idx % 4 == 3 ? 2 : (idx % 5 == 0 ? 17 : 0);
    g.misalign = idx % 7 == 3;
    g.act = NN_ACT_IDENTITY;
    run_case(&g);
}

/* One dimension over 1..67 (every value at LEVEL_FULL), the other two from a small set. */
static void test_sweeps(int level)
{
    static const int others_full[] = {1, 5, 16, 33};
    static const int others_small[] = {3, 17};
    const int *others = level >= LEVEL_QUICK ? others_full : others_small;
    int no = level >= LEVEL_QUICK ? 4 : 2;
    int step = level == LEVEL_FULL ? 1 : (level == LEVEL_QUICK ? 2 : 3);
    int ta, tb, d, x, y, v, idx = 0;
    for (ta = 0; ta < 2; ta++)
        for (tb = 0; tb < 2; tb++)
            for (d = 0; d < 3; d++)
                for (v = 1; v <= 67; v += step)
                    for (x = 0; x < no; x++)
                        for (y = 0; y < no; y++) {
                            int s[3];
                            if (level < LEVEL_FULL && y != x && (x + y + v) % 2) continue;
                            s[d] = v;
                            s[(d + 1) % 3] = others[x];
                            s[(d + 2) % 3] = others[y];
                            plain_case(ta, tb, s[0], s[1], s[2], idx++);
                        }
}

/* Named edge cases, at every level (in place of test_sweeps by default): all four
   transposes; each dimension in turn at the tile edges of every backend and just past
   them (MR 6 / 8 / 12 and their multiples, NR 12 / 16 / 32 / 64, the m <= 12 and m <= 36
   direct paths, n <= 12 dot products, k <= 12 and k <= 16 paths), the other two from
   {1, 5, 16, 33}; then k = 1 and k on both sides of the cache blocks (KC = 256, the
   512-deep direct chunks) on m x n at and past tile edges. alpha, beta, the leading
   dimensions' padding and the misalignment rotate with the case number (beta == 0: C is
   NaN-filled). */
static void test_edges(void)
{
    static const int edge[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 23, 24, 25,
                               31, 32, 33, 35, 36, 37, 47, 48, 49, 63, 64, 65};
    static const int others[] = {1, 5, 16, 33};
    static const int ks[] = {1, 255, 256, 257, 511, 512, 513};
    static const int mns[][2] = {{1, 1}, {6, 16}, {13, 33}, {37, 65}};
    const int ne = (int)(sizeof edge / sizeof edge[0]);
    int ta, tb, d, v, x, y, q, idx = 0;
    for (ta = 0; ta < 2; ta++)
        for (tb = 0; tb < 2; tb++) {
            for (d = 0; d < 3; d++)
                for (v = 0; v < ne; v++)
                    for (x = 0; x < 4; x++)
                        for (y = 0; y < 4; y++) {
                            int s[3];
                            if (y != x && (others[x] + others[y] + edge[v]) % 2) continue;
                            s[d] = edge[v];
                            s[(d + 1) % 3] = others[x];
                            s[(d + 2) % 3] = others[y];
                            plain_case(ta, tb, s[0], s[1], s[2], idx++);
                        }
            for (q = 0; q < (int)(sizeof ks / sizeof ks[0]); q++)
                for (x = 0; x < (int)(sizeof mns / sizeof mns[0]); x++)
                    plain_case(ta, tb, mns[x][0], mns[x][1], ks[q], idx++);
        }
}

static void test_random(int count, int maxdim)
{
    int c;
    for (c = 0; c < count; c++) {
        gcase g;
        memset(&g, 0, sizeof g);
        g.ta = rnd_int(0, 1); g.tb = rnd_int(0, 1);
        g.m = rnd_int(1, maxdim); g.n = rnd_int(1, maxdim); g.k = rnd_int(1, maxdim);
        g.alpha = alphas[rnd_int(0, 2)];
        g.beta = betas[rnd_int(0, 2)];
        g.pad_a = rnd_int(0, 1) * rnd_int(1, 9);
        g.pad_b = rnd_int(0, 1) * rnd_int(1, 9);
        g.pad_c = rnd_int(0, 1) * rnd_int(1, 9);
        g.misalign = rnd_int(0, 1);
        g.use_bias = rnd_int(0, 1);
        g.act = (nn_act)rnd_int(0, NN_ACT_COUNT - 1);
        g.act_param = 0.1f;
        run_case(&g);
    }
}

/* Shapes around the cache blocks (KC, MC, NC of both ISAs) and a few big ones. LEVEL_EDGE:
   each shape once, the transposes rotating, without 512^3 (the AVX-512 large-GEMM path
   is also 513 x 515 x 600's), and on aarch64 (qemu) without 513 x 515 x 600. */
static void test_large(int level)
{
    static const int shapes[][3] = {
        {512, 512, 512}, {513, 515, 600}, {130, 50, 1030}, {300, 40, 257}, {7, 4100, 5},
        {200, 4097, 3}, {1, 1000, 700}, {8, 784, 256}, {128, 10, 128}, {128, 128, 10},
        {10, 128, 128}, {250, 33, 520},
        /* B packed by shape (rows > 4 KB apart, m over 2 MC) vs in place just below
           (AVX2's blocks; results cannot show the plan, only that each path is right);
           the first's 100 x 1030 tile also takes the prefetching kernel (C over 256 KB) */
        {100, 1030, 300}, {290, 70, 260}, {96, 1030, 40},
        /* TN taller than wide over two NC blocks: a team keeps its packed A across them */
        {700, 600, 300},
    };
    int s, ta, tb, ns = (int)(sizeof shapes / sizeof shapes[0]);
    for (s = 0; s < ns; s++) {
        for (ta = 0; ta < 2; ta++)
            for (tb = 0; tb < 2; tb++) {
                gcase g;
                if (level == LEVEL_EDGE) {
                    if (ta != s % 2 || tb != (s / 2) % 2 || s == 0) continue;
#if defined(__aarch64__)
                    if (s == 1) continue;
#endif
                }
                if (level == LEVEL_QEMU && (s == 0 || s == 1) && (ta || tb)) continue;
                if ((level == LEVEL_QEMU || level == LEVEL_QUICK) && s == 1 && ta != tb) continue;
                memset(&g, 0, sizeof g);
                g.ta = ta; g.tb = tb;
                g.m = shapes[s][0]; g.n = shapes[s][1]; g.k = shapes[s][2];
                g.alpha = (s + ta) % 2 ? 1.0f : -0.5f;
                g.beta = betas[(s + tb) % 3];
                g.pad_c = s % 2 ? 3 : 0;
                g.pad_a = (ta + s) % 3 == 0 ? 1 : 0;
                g.misalign = s % 3 == 1;
                g.use_bias = s % 2;
                g.act = s == 4 || s == 5 ? NN_ACT_SOFTMAX : (nn_act)(s % 5);
                run_case(&g);
            }
    }
}

/* The AVX-512 tiles (8 x 32 and 12 x 32, exact-height direct kernels 1..14, 256-row
   direct k chunks, KC = 256, the k <= 12 NN path), around their edges, on every
   backend: m across row panels and the m <= 36 direct cutoff, n across 32-wide panels,
   k across the chunk and KC. */
static void test_wide_tiles(int level) /* LEVEL_EDGE: as LEVEL_QEMU */
{
    static const int ms[] = {11, 12, 13, 14, 24, 25, 28, 35, 36, 37, 48, 49};
    static const int ns[] = {31, 32, 33, 64, 65, 100};
    static const int ks[] = {1, 16, 17, 255, 257};
    int i, j, q, ta, tb, idx = 0;
    for (ta = 0; ta < 2; ta++)
        for (tb = 0; tb < 2; tb++)
            for (i = 0; i < 12; i++)
                for (j = 0; j < 6; j++)
                    for (q = 0; q < 5; q++)
                        if ((i + j + q + ta + tb) % 5 == 0 ||
                            (level == LEVEL_FULL && (i + j + q + ta + tb) % 2 == 0))
                            plain_case(ta, tb, ms[i], ns[j], ks[q], idx++);
    /* NN with k <= 12 (AVX-512: B held in registers, one instance per k; rows in pairs) */
    {
        static const int msk[] = {1, 2, 3, 33};
        static const int nsk[] = {5, 32, 47};
        for (q = 1; q <= 13; q++)
            for (i = 0; i < 4; i++)
                for (j = 0; j < 3; j++)
                    if (level >= LEVEL_QUICK || (i + j + q) % 3 == 0)
                        plain_case(0, 0, msk[i], nsk[j], q, idx++);
    }
}

/* The AVX2 narrow paths, around their tile shapes (every backend runs them too):
   unpacked transb == 0 (m <= 12: panels of near-equal height 1..6; k <= 16 with any m;
   k past the 512-row chunk), the NT dot-product path (n <= 12: column groups of
   3/2/1, row tiles of 4, k tails of 1..7), and NN / NT with m <= 36 (the same balanced
   panels, B^T packed per panel). beta == 0 cases see NaN in C. */
static void test_narrow_paths(int level) /* LEVEL_EDGE: as LEVEL_QEMU and LEVEL_QUICK */
{
    static const int ns_direct[] = {1, 15, 16, 17, 33, 128};
    static const int ks_direct[] = {1, 7, 10, 100};
    static const int ms_k[] = {13, 25, 31, 37, 128, 130};
    static const int ms_dot[] = {1, 3, 4, 5, 9, 13, 32};
    static const int ks_dot[] = {1, 7, 8, 9, 128, 131};
    static const int ms_small[] = {5, 7, 12, 13, 25, 31, 32, 36};
    static const int ns_small[] = {13, 16, 17, 40};
    static const int ks_small[] = {1, 9, 100, 600};
    int m, n, k, ta, i, idx = 0;
    int mstep = level == LEVEL_FULL ? 1 : 3;
    for (ta = 0; ta < 2; ta++) {
        for (m = 1; m <= 12; m += mstep)
            for (n = 0; n < 6; n++)
                for (k = 0; k < 4; k++)
                    if (level == LEVEL_FULL || (m + n + k) % 2 == 0)
                        plain_case(ta, 0, m, ns_direct[n], ks_direct[k], idx++);
        for (i = 0; i < 6; i++)
            for (k = 1; k <= 16; k += level == LEVEL_FULL ? 3 : 5)
                plain_case(ta, 0, ms_k[i], 16 + 17 * (i % 3), k, idx++);
        plain_case(ta, 0, 10, 37, 1100, idx++); /* three k chunks of the unpacked path */
        plain_case(ta, 0, 7, 20, 513, idx++);
    }
    for (n = 1; n <= 12; n++)
        for (m = 0; m < 7; m++)
            for (k = 0; k < 6; k++)
                if (level == LEVEL_FULL || (m + n + k) % 3 == 0)
                    plain_case(0, 1, ms_dot[m], n, ks_dot[k], idx++);
    /* NN and NT with m <= 36 (balanced row panels; NT packs each B^T panel) */
    for (i = 0; i < 8; i++)
        for (n = 0; n < 4; n++)
            for (k = 0; k < 4; k++)
                for (ta = 0; ta < 2; ta++) /* here: transb */
                    if (level == LEVEL_FULL || (i + n + k + ta) % 2 == 0)
                        plain_case(0, ta, ms_small[i], ns_small[n], ks_small[k], idx++);
    plain_case(0, 1, 32, 37, 1100, idx++);
    plain_case(0, 0, 36, 20, 1025, idx++);
}

/* Every activation (and softmax) with and without bias, on shapes with edge tiles;
   k == 0 (C = beta*C + bias, then act). */
static void test_epilogues(void)
{
    static const int shapes[][3] = {{1, 1, 1}, {7, 17, 33}, {13, 40, 9}, {6, 16, 4}, {25, 70, 300}, {4, 9, 0}, {9, 31, 0}};
    int a, s, bi, idx = 0;
    for (a = 0; a < NN_ACT_COUNT; a++)
        for (s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++)
            for (bi = 0; bi < 2; bi++) {
                gcase g;
                memset(&g, 0, sizeof g);
                g.ta = idx % 2; g.tb = (idx / 2) % 2;
                g.m = shapes[s][0]; g.n = shapes[s][1]; g.k = shapes[s][2];
                g.alpha = 1.0f;
                g.beta = betas[idx % 3];
                g.pad_c = idx % 3;
                g.misalign = idx % 4 == 1;
                g.use_bias = bi;
                g.act = (nn_act)a;
                g.act_param = 0.25f;
                run_case(&g);
                idx++;
            }
}

/* ReLU's special values through the fused epilogue, bit for bit: ReLU(NaN) is NaN,
   ReLU(-0) and ReLU(x < 0) are +0. Rows of A hold a NaN (a NaN row of C) or zeros (with
   alpha = -1 and a bias of -0, C is -0 there), and bias holds -0, NaN and negatives. The expected C is the same call
   without the activation, through the scalar reference's ReLU; 1, 2 and 3 threads,
   on shapes whose team tiles are column blocks (the epilogue on rows shorter than
   ldc) and whole rows, with row tails of n % 8 and n % 4. */
static void test_relu_specials(void)
{
    static const int shapes[][5] = {
        {0, 1, 128, 256, 784}, {0, 1, 100, 70, 33}, {0, 0, 37, 45, 19}, {1, 0, 64, 200, 128},
        {0, 1, 3, 300, 200}, {0, 0, 256, 96, 64}, {1, 1, 9, 13, 5}, {0, 0, 130, 83, 300}};
    int s, th;
    for (s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++) {
        const int ta = shapes[s][0], tb = shapes[s][1], m = shapes[s][2], n = shapes[s][3];
        const int k = shapes[s][4], lda = ta ? m : k, ldb = tb ? k : n, ldc = n + 3;
        const float alpha = s % 2 ? -1.0f : 1.0f; /* -1: the zero rows of C are -0 */
        float *A = (float *)malloc(sizeof(float) * (size_t)m * k);
        float *B = (float *)malloc(sizeof(float) * (size_t)k * n);
        float *bias = (float *)malloc(sizeof(float) * (size_t)n);
        float *want = (float *)malloc(sizeof(float) * (size_t)m * ldc);
        float *got = (float *)malloc(sizeof(float) * (size_t)m * ldc);
        size_t t;
        int i, j, p;
        for (t = 0; t < (size_t)m * k; t++) A[t] = rnd_f();
        for (t = 0; t < (size_t)k * n; t++) B[t] = rnd_f();
        for (i = 0; i < m; i++) {
            for (p = 0; p < k && i % 7 == 3; p++) A[ta ? (size_t)p * lda + i : (size_t)i * lda + p] = 0.0f;
            if (i % 11 == 1) A[ta ? (size_t)(k / 2) * lda + i : (size_t)i * lda + k / 2] = NAN;
        }
        for (j = 0; j < n; j++)
            bias[j] = j % 5 == 0 ? -0.0f : j == n - 1 || j % 17 == 8 ? NAN : rnd_f() - 2.0f * (j % 3 == 1);
        nn_simd_set_threads(1);
        NN_CHECK(nn_simd_gemm_ex(ta, tb, m, n, k, alpha, A, lda, B, ldb, 0.0f, want, ldc, bias,
                                 NN_ACT_DEFAULT, 0.0f) == NN_OK, "relu specials: gemm status");
        for (i = 0; i < m; i++)
            for (j = 0; j < n; j++) {
                float *w = want + (size_t)i * ldc + j;
                *w = *w > 0.0f ? *w : (*w == *w ? 0.0f : *w);
            }
        for (th = 1; th <= 3; th++) {
            int bad = 0;
            nn_simd_set_threads(th);
            NN_CHECK(nn_simd_gemm_ex(ta, tb, m, n, k, alpha, A, lda, B, ldb, 0.0f, got, ldc, bias,
                                     NN_ACT_RELU, 0.0f) == NN_OK, "relu specials: gemm status");
            for (i = 0; i < m && bad < 3; i++)
                for (j = 0; j < n && bad < 3; j++) {
                    const float g = got[(size_t)i * ldc + j], w = want[(size_t)i * ldc + j];
                    const int ok = memcmp(&g, &w, sizeof g) == 0;
                    bad += !ok;
                    NN_CHECK(ok, "backend=%s relu specials tA=%d tB=%d m=%d n=%d k=%d threads=%d at "
                             "(%d,%d): got %g (sign %d) want %g (sign %d)", be_name, ta, tb, m, n, k,
                             th, i, j, g, signbit(g) != 0, w, signbit(w) != 0);
                }
        }
        nn_simd_set_threads(0);
        free(A); free(B); free(bias); free(want); free(got);
    }
}

#if NN__HAS_AVX2 || NN__HAS_NEON
/* Every path of a backend's GEMM, directly. First its planning function
   (nn__gemm_plan__<isa>) on shapes either side of every threshold in its table, against
   the path each backend is expected to take there (a changed threshold shows here).
   Then each path run directly (nn__gemm_run__<isa>, whatever the planner would pick)
   through run_case's oracle and tolerance on the edges of its tiling: m at MR-1, MR,
   MR+1 and n at NR-1, NR, NR+1 of its tile, k = 1 and the two sides of its k block (a
   packed path's KC, the direct path's k chunk, the dot tiles' vector width), each in two variants: beta == 0 with NaN in C,
   lda, ldb, ldc padded, bias + ReLU; and alpha = beta = -0.5, misaligned, no epilogue.
   A packed geometry also gets m = MC+1 and n = NC+1. */
enum { X_DOT, X_DIRECT, X_BLK, X_BLK_LARGE }; /* X_BLK: the backend's first geometry */
static const char *const x_names[] = {"dot_nt", "direct", "blocked", "blocked(large)"};
static const struct plan_case { int ta, tb, m, n, k; signed char avx2, avx512; } plan_cases[] = {
    /* dot_n = 12, dot_m = 4 (NT only) */
    {0, 1, 128, 12, 784, X_DOT, X_DOT},       {0, 1, 128, 13, 784, X_BLK, X_BLK},
    {0, 1, 4, 500, 300, X_DOT, X_DOT},        {0, 1, 5, 500, 300, X_DIRECT, X_DIRECT},
    {1, 1, 4, 10, 300, X_BLK, X_BLK},         {0, 1, 1, 1, 1, X_DOT, X_DOT},
    /* direct_nx_m = 36 (NN, NT) */
    {0, 1, 36, 500, 300, X_DIRECT, X_DIRECT}, {0, 1, 37, 500, 300, X_BLK, X_BLK},
    {0, 0, 36, 500, 500, X_DIRECT, X_DIRECT}, {0, 0, 37, 500, 500, X_BLK, X_BLK},
    /* direct_k = 16 */
    {0, 0, 128, 128, 1, X_DIRECT, X_DIRECT},  {0, 0, 128, 128, 12, X_DIRECT, X_DIRECT},
    {0, 0, 128, 128, 13, X_DIRECT, X_DIRECT}, {0, 0, 128, 128, 16, X_DIRECT, X_DIRECT},
    {0, 0, 128, 128, 17, X_BLK, X_BLK},       {1, 0, 128, 128, 12, X_DIRECT, X_DIRECT},
    {1, 0, 128, 128, 17, X_BLK, X_BLK},
    /* direct_m = 12 (AVX2) / 16 (AVX-512), transb == 0 */
    {1, 0, 12, 500, 500, X_DIRECT, X_DIRECT}, {1, 0, 13, 500, 500, X_BLK, X_DIRECT},
    {1, 0, 16, 500, 500, X_BLK, X_DIRECT},    {1, 0, 17, 500, 500, X_BLK, X_BLK},
    /* large_flops = 2.5e8 (AVX2 and AVX-512): 2 m n k just below and at it */
    {0, 0, 500, 500, 499, X_BLK, X_BLK},      {0, 0, 500, 500, 500, X_BLK_LARGE, X_BLK_LARGE},
    {1, 1, 512, 512, 512, X_BLK_LARGE, X_BLK_LARGE},
    /* k == 0: the blocked path scales C */
    {0, 1, 4, 10, 0, X_BLK, X_BLK},           {0, 0, 3, 3, 0, X_BLK, X_BLK},
};

typedef struct path_spec {
    const char *name;
    int kind;                  /* X_* */
    const nn__gemm_cfg *cfg;
    int mr, nr, kb;            /* tile rows and columns, k block */
    int tmask;                 /* bit ta*2+tb: the transposes the path serves */
} path_spec;

static void test_path_runs(run_fn run, const path_spec *ps, int nps, const char *be)
{
    static const int kinds[] = {NN__GEMM_PATH_DOT_NT, NN__GEMM_PATH_DIRECT, NN__GEMM_PATH_BLOCKED,
                                NN__GEMM_PATH_BLOCKED};
    char label[64];
    int s, t, i, j, q, v;
    force_run = run;
    for (s = 0; s < nps; s++) {
        const path_spec *P = &ps[s];
        const int ms[3] = {P->mr - 1, P->mr, P->mr + 1}, ns[3] = {P->nr - 1, P->nr, P->nr + 1};
        const int ks[3] = {1, P->kb, P->kb + 1};
        snprintf(label, sizeof label, "%s path=%s", be, P->name);
        be_name = label;
        force_path.kind = (nn__gemm_path_kind)kinds[P->kind];
        force_path.cfg = P->cfg;
        for (t = 0; t < 4; t++) {
            if (!(P->tmask >> t & 1)) continue;
            for (i = 0; i < 3; i++)
                for (j = 0; j < 3; j++)
                    for (q = 0; q < 3; q++)
                        for (v = 0; v < 2; v++) {
                            gcase g;
                            memset(&g, 0, sizeof g);
                            g.ta = t >> 1; g.tb = t & 1;
                            g.m = ms[i]; g.n = ns[j]; g.k = ks[q];
                            if (v == 0) {
                                g.alpha = 1.0f; g.beta = 0.0f;
                                g.pad_a = 3; g.pad_b = 5; g.pad_c = 7;
                                g.use_bias = 1; g.act = NN_ACT_RELU;
                            } else {
                                g.alpha = -0.5f; g.beta = -0.5f;
                                g.misalign = 1; g.act = NN_ACT_IDENTITY;
                            }
                            run_case(&g);
                        }
            if (P->kind == X_DOT) {
                /* 1- and 2-row tails: every column grouping to 17; k below, at and past
                   the AVX-512 row kernel's 64-float step, with and without a masked end */
                static const int kr[4] = {13, 64, 80, 131};
                for (i = 1; i <= 2; i++)
                    for (j = 1; j <= 17; j++)
                        for (q = 0; q < 4; q++) {
                            gcase g;
                            memset(&g, 0, sizeof g);
                            g.ta = t >> 1; g.tb = t & 1; g.alpha = 1.0f; g.beta = 0.5f;
                            g.m = i; g.n = j; g.k = kr[q]; g.pad_c = 1; g.act = NN_ACT_IDENTITY;
                            run_case(&g);
                        }
                /* the same tails under 4-row tiles (m = 5, 6), beta == 0 over NaN; A off
                   a cache line with k past the AVX-512 kernel's aligned copy of A (2048) */
                for (i = 5; i <= 8; i++) {
                    gcase g;
                    memset(&g, 0, sizeof g);
                    g.ta = t >> 1; g.tb = t & 1; g.alpha = -0.5f; g.beta = 0.0f;
                    g.m = i <= 6 ? i : i - 6; g.n = i <= 6 ? 11 : 5; g.k = i <= 6 ? 131 : 2100;
                    g.pad_a = 2; g.pad_b = 1; g.pad_c = 3; g.misalign = 1;
                    g.act = NN_ACT_IDENTITY;
                    run_case(&g);
                }
            }
            if (P->kind == X_DIRECT && !(t & 1)) {
                /* one or two rows (AVX-512: B streamed row by row, four rows per step,
                   1024 columns at a time): n of 255, 256 and 1041 (a 16-column mask and a
                   second block); k of 1, 13 (4-row steps and single rows) and 300 */
                static const int kr[3] = {1, 13, 300};
                int mm, nn_, kk;
                gcase g;
                for (mm = 1; mm <= 2; mm++)
                    for (nn_ = 0; nn_ < 3; nn_++)
                        for (kk = 0; kk < 3; kk++)
                            for (v = 0; v < 2; v++) {
                                memset(&g, 0, sizeof g);
                                g.ta = t >> 1; g.m = mm; g.k = kr[kk];
                                g.n = nn_ == 0 ? 255 : nn_ == 1 ? 256 : 1041;
                                g.act = v ? NN_ACT_IDENTITY : NN_ACT_RELU;
                                g.alpha = v ? -0.5f : 1.0f; g.beta = v ? -0.5f : 0.0f;
                                g.pad_a = v ? 0 : 3; g.pad_b = v ? 0 : 5; g.pad_c = v ? 0 : 7;
                                g.use_bias = !v; g.misalign = v;
                                run_case(&g);
                            }
                /* B in place of NN__DIRECT_PF_FLOATS: each column panel's first full
                   row panel runs the _pfn kernel, the last two panels do not */
                memset(&g, 0, sizeof g);
                g.ta = t >> 1; g.alpha = 1.0f; g.beta = 0.5f; g.pad_b = 3; g.pad_c = 1;
                g.m = 2 * P->mr; g.n = 3 * P->nr + 5; g.k = (int)(NN__DIRECT_PF_FLOATS / g.n) + 1;
                g.act = NN_ACT_IDENTITY;
                run_case(&g);
            }
            if (P->kind >= X_BLK) { /* across the row block and the column block */
                gcase g;
                memset(&g, 0, sizeof g);
                g.ta = t >> 1; g.tb = t & 1; g.alpha = 1.0f; g.beta = 0.0f;
                g.pad_a = 1; g.pad_b = 2; g.pad_c = 3; g.use_bias = 1; g.act = NN_ACT_RELU;
                g.m = P->cfg->mc + 1; g.n = P->nr + 1; g.k = P->kb + 1;
                run_case(&g);
                g.m = P->mr + 1; g.n = P->cfg->nc + 1; g.k = 3;
                run_case(&g);
            }
        }
    }
    force_run = NULL;
}

static void test_paths(nn_simd_backend id)
{
    const unsigned long long rng_saved = rng_state; /* the other tests' cases stay as they were */
    const char *be = be_name;
    plan_fn plan = NULL;
    run_fn run = NULL;
    const nn__gemm_cfg *blk = NULL, *blk_large = NULL;
    int c, col = -1, nps = 0;
    path_spec ps[4];
    memset(ps, 0, sizeof ps);
#if NN__HAS_AVX2
    if (id == NN_SIMD_BACKEND_AVX2) {
        const path_spec p[4] = {
            {"dot_nt", X_DOT, &nn__avx2_gemm_cfg_6x16, NN__DOT_R, 3, 8, 1 << 1},
            {"direct", X_DIRECT, &nn__avx2_gemm_cfg_6x16, 6, 16, NN__DIRECT_KC, 1 | 1 << 1 | 1 << 2},
            {"blocked 6x16", X_BLK, &nn__avx2_gemm_cfg_6x16, 6, 16, NN__AVX2_KC, 15},
            {"blocked 6x16 large", X_BLK_LARGE, &nn__avx2_gemm_cfg_6x16_large, 6, 16, NN__AVX2_KC, 15}};
        plan = nn__gemm_plan__avx2; run = nn__gemm_run__avx2; col = 0;
        blk = &nn__avx2_gemm_cfg_6x16; blk_large = &nn__avx2_gemm_cfg_6x16_large;
        nps = 4; memcpy(ps, p, sizeof p);
    }
#endif
#if NN__HAS_AVX512
    if (id == NN_SIMD_BACKEND_AVX512) {
        const path_spec p[4] = {
            {"dot_nt", X_DOT, &nn__avx512_gemm_cfg_8x32, NN__DOT_R, 3, 8, 1 << 1},
            {"direct", X_DIRECT, &nn__avx512_gemm_cfg_8x32, NN__AVX512_DIRECT_H, 32,
             NN__AVX512_DIRECT_KC, 1 | 1 << 1 | 1 << 2},
            {"blocked 8x32", X_BLK, &nn__avx512_gemm_cfg_8x32, 8, 32, 256, 15},
            {"blocked 8x32 large", X_BLK_LARGE, &nn__avx512_gemm_cfg_8x32_large, 8, 32, 256, 15}};
        plan = nn__gemm_plan__avx512; run = nn__gemm_run__avx512; col = 1;
        blk = &nn__avx512_gemm_cfg_8x32; blk_large = &nn__avx512_gemm_cfg_8x32_large;
        nps = 4; memcpy(ps, p, sizeof p);
    }
#endif
#if NN__HAS_NEON
    if (id == NN_SIMD_BACKEND_NEON) {
        const path_spec p[1] = {{"blocked 8x12", X_BLK, &nn__neon_gemm_cfg_8x12, 8, 12, 256, 15}};
        plan = nn__gemm_plan__neon; run = nn__gemm_run__neon; col = 2; /* blocked only */
        blk = &nn__neon_gemm_cfg_8x12;
        nps = 1; memcpy(ps, p, sizeof p);
    }
#endif
    if (!plan) return; /* scalar: one reference loop, no paths */

    for (c = 0; c < (int)(sizeof plan_cases / sizeof plan_cases[0]); c++) {
        const struct plan_case *pc = &plan_cases[c];
        const int want = col == 0 ? pc->avx2 : col == 1 ? pc->avx512 : X_BLK;
        const nn__gemm_path p = plan(pc->ta, pc->tb, pc->m, pc->n, pc->k);
        const int got = p.kind == NN__GEMM_PATH_DOT_NT ? X_DOT
                      : p.kind == NN__GEMM_PATH_DIRECT ? X_DIRECT
                      : p.cfg == blk_large && blk_large ? X_BLK_LARGE : X_BLK;
        NN_CHECK(got == want && p.cfg == (want == X_BLK_LARGE ? blk_large : blk),
                 "backend=%s plan tA=%d tB=%d m=%d n=%d k=%d: got %s (cfg %dx%d), want %s", be,
                 pc->ta, pc->tb, pc->m, pc->n, pc->k, x_names[got], p.cfg ? p.cfg->mr : 0,
                 p.cfg ? p.cfg->nr : 0, x_names[want]);
    }
    /* the table's cfgs are the geometries the specs above assume */
    for (c = 0; c < nps; c++)
        if (ps[c].kind >= X_BLK)
            NN_CHECK(ps[c].cfg->mr == ps[c].mr && ps[c].cfg->nr == ps[c].nr &&
                     ps[c].cfg->kc == ps[c].kb, "backend=%s %s: cfg is %dx%d kc=%d", be,
                     ps[c].name, ps[c].cfg->mr, ps[c].cfg->nr, ps[c].cfg->kc);
    test_path_runs(run, ps, nps, be);
    be_name = be;
    rng_state = rng_saved;
}
#endif

static void test_api_errors(void)
{
    float A[16], B[16], C[16];
    int i, untouched = 1;
    for (i = 0; i < 16; i++) { A[i] = 1; B[i] = 1; C[i] = SENTINEL; }
#define EXPECT_INVALID(call)                                                                 \
    do {                                                                                     \
        nn_status st_ = (call);                                                              \
        NN_CHECK(st_ == NN_ERR_INVALID, "backend=%s op=gemm %s returned %s, want invalid",   \
                 be_name, #call, nn_status_str(st_));                                        \
    } while (0)
    EXPECT_INVALID(nn_simd_gemm(0, 0, -1, 2, 2, 1, A, 2, B, 2, 0, C, 2));
    EXPECT_INVALID(nn_simd_gemm(0, 0, 2, -1, 2, 1, A, 2, B, 2, 0, C, 2));
    EXPECT_INVALID(nn_simd_gemm(0, 0, 2, 2, -1, 1, A, 2, B, 2, 0, C, 2));
    EXPECT_INVALID(nn_simd_gemm(0, 0, 2, 2, 2, 1, NULL, 2, B, 2, 0, C, 2));
    EXPECT_INVALID(nn_simd_gemm(0, 0, 2, 2, 2, 1, A, 2, NULL, 2, 0, C, 2));
    EXPECT_INVALID(nn_simd_gemm(0, 0, 2, 2, 2, 1, A, 2, B, 2, 0, NULL, 2));
    EXPECT_INVALID(nn_simd_gemm(0, 0, 2, 3, 2, 1, A, 1, B, 3, 0, C, 3));  /* lda < k */
    EXPECT_INVALID(nn_simd_gemm(1, 0, 3, 2, 2, 1, A, 2, B, 2, 0, C, 2));  /* lda < m */
    EXPECT_INVALID(nn_simd_gemm(0, 0, 2, 3, 2, 1, A, 2, B, 2, 0, C, 3));  /* ldb < n */
    EXPECT_INVALID(nn_simd_gemm(0, 1, 2, 2, 3, 1, A, 3, B, 2, 0, C, 2));  /* ldb < k */
    EXPECT_INVALID(nn_simd_gemm(0, 0, 2, 3, 2, 1, A, 2, B, 3, 0, C, 2));  /* ldc < n */
    EXPECT_INVALID(nn_simd_gemm_ex(0, 0, 2, 2, 2, 1, A, 2, B, 2, 0, C, 2, NULL, (nn_act)99, 0));
    EXPECT_INVALID(nn_simd_gemm_ex(0, 0, 2, 2, 2, 1, A, 2, B, 2, 0, C, 2, NULL, (nn_act)-1, 0));
#undef EXPECT_INVALID
    for (i = 0; i < 16; i++) untouched &= C[i] == SENTINEL;
    NN_CHECK(untouched, "backend=%s op=gemm: C written by a call that failed", be_name);
    /* empty problems succeed and write nothing */
    NN_CHECK(nn_simd_gemm(0, 0, 0, 2, 2, 1, A, 2, B, 2, 0, C, 2) == NN_OK, "m=0");
    NN_CHECK(nn_simd_gemm(0, 0, 2, 0, 2, 1, A, 2, B, 2, 0, C, 2) == NN_OK, "n=0");
    for (i = 0; i < 16; i++) untouched &= C[i] == SENTINEL;
    NN_CHECK(untouched, "backend=%s op=gemm: C written by an empty problem", be_name);
}

#if NN__HAS_AVX512
/* The AVX-512 dot path's 1- and 2-row kernel copies rows of A that start off a cache
   line: the same values from a 64-byte aligned A (read in place) must give the same
   bits (run_case checks the results against the oracle; malloc decides there which
   rows are aligned). */
static void test_dot_rows_copy(void)
{
    static const int ks[] = {13, 64, 80, 131, 784};
    const int n = 37, ldb = 800;
    float *a = (float *)nn_simd_alloc(NULL, 2 * 1024 * sizeof(float));
    float *am = (float *)nn_simd_alloc(NULL, (2 * 1024 + 1) * sizeof(float));
    float *b = (float *)nn_simd_alloc(NULL, (size_t)n * ldb * sizeof(float));
    float *c0 = (float *)nn_simd_alloc(NULL, 2 * 64 * sizeof(float));
    float *c1 = (float *)nn_simd_alloc(NULL, 2 * 64 * sizeof(float));
    int i, r, q, bad;
    if (!a || !am || !b || !c0 || !c1) { fprintf(stderr, "out of memory\n"); exit(2); }
    for (i = 0; i < 2 * 1024; i++) a[i] = am[i + 1] = rnd_f();
    for (i = 0; i < n * ldb; i++) b[i] = rnd_f();
    for (r = 1; r <= 2; r++)
        for (q = 0; q < (int)(sizeof ks / sizeof ks[0]); q++) {
            nn__sgemm_dot_nt_part__avx512(0, 1, r, n, ks[q], 0.75f, a, 1024, b, ldb, 0.0f, c0, 64);
            nn__sgemm_dot_nt_part__avx512(0, 1, r, n, ks[q], 0.75f, am + 1, 1024, b, ldb, 0.0f, c1, 64);
            for (i = 0, bad = 0; i < r * 64; i++)
                bad += (i % 64 < n) && memcmp(&c0[i], &c1[i], sizeof(float)) != 0;
            NN_CHECK(bad == 0, "backend=avx512 dot rows m=%d k=%d: %d outputs differ between an "
                     "aligned and an unaligned A", r, ks[q], bad);
        }
    nn_simd_free(NULL, a); nn_simd_free(NULL, am); nn_simd_free(NULL, b);
    nn_simd_free(NULL, c0); nn_simd_free(NULL, c1);
}
#endif

int main(void)
{
    static const nn_simd_backend all[] = {NN_SIMD_BACKEND_SCALAR, NN_SIMD_BACKEND_AVX2, NN_SIMD_BACKEND_AVX512,
                                          NN_SIMD_BACKEND_NEON};
    int level, maxdim, b;
#if defined(__aarch64__)
    /* runs under qemu: keep the sweeps modest */
    level = nn_test_full() || nn_test_env("NN_TEST_QUICK") ? LEVEL_QEMU : LEVEL_EDGE;
    maxdim = 90;
#else
    level = nn_test_full() ? LEVEL_FULL : nn_test_env("NN_TEST_QUICK") ? LEVEL_QUICK : LEVEL_EDGE;
    maxdim = level == LEVEL_EDGE ? 150 : 200;
#endif
    nn_test_begin("test_gemm");
    printf("sizes: %s\n", level == LEVEL_FULL    ? "full (NN_TEST_FULL)"
                          : level == LEVEL_QUICK ? "quick (NN_TEST_QUICK)"
                          : level == LEVEL_QEMU  ? "qemu"
                                                 : "edge cases (NN_TEST_FULL=1: the full sweeps)");
    for (b = 0; b < (int)(sizeof all / sizeof all[0]); b++) {
        long before = n_cases;
        if (!nn_simd_backend_available(all[b])) {
            printf("SKIP %s (not compiled in or the cpu lacks it)\n", nn_simd_backend_str(all[b]));
            continue;
        }
        NN_CHECK(nn_simd_set_backend(all[b]) == NN_OK, "set_backend %s", nn_simd_backend_str(all[b]));
        be_name = nn_simd_backend_name();
        printf("backend=%s\n", be_name);
        test_api_errors();
        test_epilogues();
        test_relu_specials();
        test_edges();
        if (level != LEVEL_EDGE) test_sweeps(level);
        test_random(level == LEVEL_FULL ? 400 : (level == LEVEL_QUICK ? 150 : 60), maxdim);
        test_large(level);
        test_narrow_paths(level);
        test_wide_tiles(level);
#if NN__HAS_AVX2 || NN__HAS_NEON
        test_paths(all[b]);
#endif
#if NN__HAS_AVX512
        if (all[b] == NN_SIMD_BACKEND_AVX512) test_dot_rows_copy();
#endif
        printf("backend=%s: %ld gemm cases\n", be_name, n_cases - before);
        fflush(stdout);
    }
    return nn_test_done();
}
