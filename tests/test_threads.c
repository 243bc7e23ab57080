/* test_threads.c - results do not depend on the thread count (DESIGN "Threads").

   Trains small networks for a few steps with 1, 2, 3 and 8 threads (nn_simd_set_threads;
   8 is more threads than this 2-core machine has) and compares, bit for bit, the loss of
   every step, the parameters, the last gradients and the optimizer state. Then the same
   for single GEMM calls covering every GEMM path (blocked with packed or in-place A/B,
   the skinny dot-product NT path, the direct narrow-M / tiny-K path, more than one NC
   column block, every transpose, beta != 0, bias + activation and softmax epilogues)
   and for the element-wise, row and column kernels through the public API.

   The per-thread work thresholds are lowered here (NN__PAR_*), so even these small
   problems run on a team and every parallel code path is exercised; with the shipped
   thresholds the same paths run, only on fewer threads. The contention back-off is
   switched off, so a team is really used for every call.

   Last line before the summary: "params-checksum: <16 hex digits>", an FNV-1a hash of
   the trained parameters and optimizer states. A build without OpenMP must print the
   same line (Makefile: test-threads-noomp). */
#if defined(__linux__)
#  define _POSIX_C_SOURCE 200809L /* fork, kill, waitpid, nanosleep: check_contention_probe */
#endif
#define NN__PAR_GEMM_FLOPS 2000.0
#define NN__PAR_EW_ELEMS 64.0
#define NN__PAR_STALL_S 1e30 /* never back off to one thread (8 threads on 2 cores stall) */
#define NN_IMPLEMENTATION
#include "nn.h"
#include "nn_test.h"

#include <math.h>
#if defined(_OPENMP) && defined(__linux__)
#  include <pthread.h>
#  include <signal.h>
#  include <sys/types.h>
#  include <sys/wait.h>
#  include <time.h>
#  include <unistd.h>
#endif

static const int thread_counts[] = {1, 2, 3, 8};
#ifdef _OPENMP
#  define NTC 4
#else
#  define NTC 1 /* without OpenMP every count runs on one thread: once is enough (the
                   params-checksum line is what make test-threads-noomp compares) */
#endif

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= c[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void fill(float *x, size_t n, uint64_t seed, float scale)
{
    nn_rng r;
    size_t i;
    nn_rng_seed(&r, seed);
    for (i = 0; i < n; i++) x[i] = scale * (2.0f * nn_rng_uniform(&r) - 1.0f);
}

typedef struct run_cfg {
    const char *name;
    int n_in, units[5], batch, steps;
    nn_act act;
    float dropout, l2;
    nn_loss loss;
    nn_optim_kind optim;
} run_cfg;

typedef struct run_out {
    float *params, *grads, *s1, *s2, *fac, loss[16];
    size_t n, nf;
    nn_status st;
} run_out;

static void run_free(run_out *o)
{
    free(o->params); free(o->grads); free(o->s1); free(o->s2); free(o->fac);
    memset(o, 0, sizeof *o);
}

static float *dupf(const float *p, size_t n)
{
    float *q;
    if (!p) return NULL;
    q = (float *)malloc(n * sizeof *q);
    if (q) memcpy(q, p, n * sizeof *q);
    return q;
}

/* Trains cfg from the same seed with `threads` threads (0: as set by the caller). */
static void train(const run_cfg *cfg, int threads, run_out *o)
{
    nn_net_desc d;
    nn_optim_desc od;
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    int l, s, K = 0, nl = 0;
    float *x, *y;
    int *labels;
    size_t n = 0, nw = 0;
    memset(o, 0, sizeof *o);
    memset(&d, 0, sizeof d);
    d.n_inputs = cfg->n_in;
    for (l = 0; l < 5 && cfg->units[l]; l++) {
        d.layers[l].units = cfg->units[l];
        if (cfg->units[l + 1]) { /* hidden */
            d.layers[l].act = cfg->act;
            d.layers[l].dropout = cfg->dropout;
        }
        K = cfg->units[l];
        nl = l + 1;
    }
    (void)nl;
    d.max_batch = cfg->batch;
    d.loss = cfg->loss;
    d.l2 = cfg->l2;
    d.seed = 12345;
    memset(&od, 0, sizeof od);
    od.kind = cfg->optim;
    if (threads > 0) nn_simd_set_threads(threads);
    o->st = nn_net_create(&d, &net);
    if (o->st != NN_OK) return;
    o->st = nn_optim_create(net, &od, &opt);
    if (o->st != NN_OK) { nn_net_destroy(net); return; }
    x = (float *)malloc(sizeof(float) * (size_t)cfg->batch * cfg->n_in);
    y = (float *)malloc(sizeof(float) * (size_t)cfg->batch * K);
    labels = (int *)malloc(sizeof(int) * (size_t)cfg->batch);
    for (s = 0; s < cfg->steps && x && y && labels; s++) {
        int i;
        fill(x, (size_t)cfg->batch * cfg->n_in, 100 + s, 1.0f);
        fill(y, (size_t)cfg->batch * K, 200 + s, 1.0f);
        for (i = 0; i < cfg->batch; i++) labels[i] = (i * 7 + s) % K;
        if (cfg->loss == NN_LOSS_SOFTMAX_CE)
            o->st = nn_train_step(net, opt, x, NULL, labels, cfg->batch, &o->loss[s]);
        else
            o->st = nn_train_step(net, opt, x, y, NULL, cfg->batch, &o->loss[s]);
        if (o->st != NN_OK) break;
    }
    {
        const float *pp = nn_net_params(net, &n, &nw), *gp = nn_net_grads(net, &n, &nw);
        o->params = dupf(pp, n);
        o->grads = dupf(gp, n);
    }
    o->s1 = dupf(opt->s1, opt->n);
    o->s2 = dupf(opt->s2, opt->n);
    o->fac = dupf(opt->fac, opt->n_fac);
    o->nf = opt->n_fac;
    o->n = n;
    free(x); free(y); free(labels);
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    if (threads > 0) nn_simd_set_threads(0);
}

static int same(const float *a, const float *b, size_t n)
{
    if (!a || !b) return a == b;
    return memcmp(a, b, n * sizeof *a) == 0;
}

static uint64_t check_training(const run_cfg *cfg, uint64_t h)
{
    run_out ref, o;
    int t;
    train(cfg, 1, &ref);
    NN_CHECK(ref.st == NN_OK && ref.params, "%s: 1 thread: %s", cfg->name, nn_status_str(ref.st));
    if (ref.st != NN_OK || !ref.params) { run_free(&ref); return h; }
    for (t = 1; t < NTC; t++) {
        int nt = thread_counts[t];
        train(cfg, nt, &o);
        NN_CHECK(o.st == NN_OK, "%s: %d threads: %s", cfg->name, nt, nn_status_str(o.st));
        NN_CHECK(o.n == ref.n, "%s: %d threads: size", cfg->name, nt);
        if (o.n == ref.n && o.st == NN_OK) {
            NN_CHECK(memcmp(o.loss, ref.loss, sizeof o.loss) == 0, "%s: %d threads: losses differ (%.9g vs %.9g at step 0)",
                     cfg->name, nt, o.loss[0], ref.loss[0]);
            NN_CHECK(same(o.params, ref.params, o.n), "%s: %d threads: parameters differ", cfg->name, nt);
            NN_CHECK(same(o.grads, ref.grads, o.n), "%s: %d threads: gradients differ", cfg->name, nt);
            NN_CHECK(same(o.s1, ref.s1, o.n) && same(o.s2, ref.s2, o.n) && o.nf == ref.nf &&
                     same(o.fac, ref.fac, o.nf),
                     "%s: %d threads: optimizer state differs", cfg->name, nt);
        }
        run_free(&o);
    }
    NN_CHECK(isfinite(ref.loss[0]) && isfinite(ref.loss[cfg->steps - 1]), "%s: loss not finite", cfg->name);
    h = fnv(h, ref.params, ref.n * sizeof(float));
    if (ref.s1) h = fnv(h, ref.s1, ref.n * sizeof(float));
    if (ref.s2) h = fnv(h, ref.s2, ref.n * sizeof(float));
    if (ref.fac) h = fnv(h, ref.fac, ref.nf * sizeof(float));
    h = fnv(h, ref.loss, sizeof ref.loss);
    run_free(&ref);
    return h;
}

/* One GEMM shape through nn_simd_gemm_ex with every thread count. */
static void check_gemm(int ta, int tb, int m, int n, int k, float beta, int with_bias, nn_act act)
{
    /* with_bias 2: NaN in two bias entries, and C's rows contiguous (1 thread then
       takes the whole-row epilogue, a team its column tiles' own) */
    int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + (with_bias == 2 ? 0 : 2), t;
    size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb, nc = (size_t)m * ldc;
    float *A = (float *)malloc(sizeof(float) * (na + 1)), *B = (float *)malloc(sizeof(float) * (nb + 1));
    float *C0 = (float *)malloc(sizeof(float) * nc), *C = (float *)malloc(sizeof(float) * nc);
    float *bias = (float *)malloc(sizeof(float) * (size_t)(n + 1));
    if (!A || !B || !C0 || !C || !bias) { NN_CHECK(0, "out of memory"); goto done; }
    fill(A, na, 1 + (uint64_t)m, 1.0f);
    fill(B, nb, 2 + (uint64_t)n, 1.0f);
    fill(bias, (size_t)n, 3, 0.5f);
    if (with_bias == 2) bias[1] = bias[n - 1] = NAN; /* ReLU keeps NaN */
    for (t = 0; t < NTC; t++) {
        float *out = t == 0 ? C0 : C;
        nn_status st;
        fill(out, nc, 4, 1.0f);
        nn_simd_set_threads(thread_counts[t]);
        st = nn_simd_gemm_ex(ta, tb, m, n, k, 0.75f, A, lda, B, ldb, beta, out, ldc,
                             with_bias ? bias : NULL, act, 0.1f);
        NN_CHECK(st == NN_OK, "gemm %c%c %dx%dx%d: %s", ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, nn_status_str(st));
        if (t > 0)
            NN_CHECK(memcmp(C, C0, nc * sizeof(float)) == 0,
                     "gemm %c%c %dx%dx%d beta %g bias %d act %s: %d threads differ from 1",
                     ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, beta, with_bias, nn_act_name(act),
                     thread_counts[t]);
    }
done:
    nn_simd_set_threads(0);
    free(A); free(B); free(C0); free(C); free(bias);
}

/* Element-wise and row/column kernels through the public API. */
static void check_kernels(void)
{
    const size_t n = 100003;
    const int rows = 333, cols = 37;
    float *x = (float *)malloc(sizeof(float) * n), *y = (float *)malloc(sizeof(float) * n);
    float *r0 = (float *)malloc(sizeof(float) * n), *r = (float *)malloc(sizeof(float) * n);
    float *s1 = (float *)malloc(sizeof(float) * n), *s2 = (float *)malloc(sizeof(float) * n);
    int a, t, k;
    if (!x || !y || !r0 || !r || !s1 || !s2) { NN_CHECK(0, "out of memory"); goto done; }
    fill(x, n, 7, 3.0f);
    fill(y, n, 8, 1.0f);
    for (a = NN_ACT_IDENTITY; a < NN_ACT_SOFTMAX; a++)
        for (t = 0; t < NTC; t++) {
            nn_simd_set_threads(thread_counts[t]);
#ifdef _OPENMP
            NN_CHECK(nn_simd_get_threads() == thread_counts[t], "get_threads %d", nn_simd_get_threads());
#else
            NN_CHECK(nn_simd_get_threads() == 1, "get_threads %d without OpenMP", nn_simd_get_threads());
#endif
            nn_simd_act_forward((nn_act)a, 0.1f, x, t == 0 ? r0 : r, n);
            if (t > 0)
                NN_CHECK(memcmp(r, r0, n * sizeof(float)) == 0, "act_forward %s, %d threads",
                         nn_act_name((nn_act)a), thread_counts[t]);
            nn_simd_act_backward((nn_act)a, 0.1f, y, x, t == 0 ? s1 : s2, n);
            if (t > 0)
                NN_CHECK(memcmp(s2, s1, n * sizeof(float)) == 0, "act_backward %s, %d threads",
                         nn_act_name((nn_act)a), thread_counts[t]);
        }
    /* softmax rows, softmax backward, col sums, axpy, optimizer updates: 1 vs t threads */
    for (t = 1; t < NTC; t++) {
        nn_simd_optim_args oa;
        memset(&oa, 0, sizeof oa);
        oa.lr = 0.01f; oa.wd = 0.001f; oa.mu = 0.9f; oa.beta1 = 0.9f; oa.beta2 = 0.999f;
        oa.eps = 1e-8f; oa.bc1 = 10.0f; oa.bc2 = 1000.0f;
        for (k = 0; k < 2; k++) {
            nn_simd_set_threads(k == 0 ? 1 : thread_counts[t]);
            nn_simd_softmax_rows(x, k == 0 ? r0 : r, rows, cols);
        }
        NN_CHECK(memcmp(r, r0, sizeof(float) * rows * cols) == 0, "softmax_rows, %d threads", thread_counts[t]);
        for (k = 0; k < 2; k++) {
            nn_simd_set_threads(k == 0 ? 1 : thread_counts[t]);
            nn_simd_softmax_backward_rows(y, x, k == 0 ? r0 : r, rows, cols);
        }
        NN_CHECK(memcmp(r, r0, sizeof(float) * rows * cols) == 0, "softmax_backward_rows, %d threads", thread_counts[t]);
        for (k = 0; k < 2; k++) {
            nn_simd_set_threads(k == 0 ? 1 : thread_counts[t]);
            nn_simd_col_sums(x, 250, 397, 400, k == 0 ? r0 : r);
        }
        NN_CHECK(memcmp(r, r0, sizeof(float) * 397) == 0, "col_sums, %d threads", thread_counts[t]);
        for (k = 0; k < 2; k++) {
            float *o = k == 0 ? r0 : r;
            memcpy(o, y, n * sizeof(float));
            nn_simd_set_threads(k == 0 ? 1 : thread_counts[t]);
            nn_simd_axpy(n, 0.3f, x, o);
        }
        NN_CHECK(memcmp(r, r0, n * sizeof(float)) == 0, "axpy, %d threads", thread_counts[t]);
        for (a = 0; a < (int)NN_SIMD_OPTIM_COUNT; a++) {
            uint64_t h[2];
            for (k = 0; k < 2; k++) {
                float *w = k == 0 ? r0 : r;
                memcpy(w, y, n * sizeof(float));
                fill(s1, n, 9, 0.1f);
                fill(s2, n, 10, 0.1f);
                for (size_t i = 0; i < n; i++) s2[i] = fabsf(s2[i]);
                nn_simd_set_threads(k == 0 ? 1 : thread_counts[t]);
                nn_simd_optim_update((nn_simd_optim)a, &oa, w, x, s1, s2, n);
                h[k] = fnv(fnv(fnv(14695981039346656037ull, w, n * sizeof(float)), s1, n * sizeof(float)), s2, n * sizeof(float));
            }
            NN_CHECK(h[0] == h[1], "optimizer %d, %d threads", a, thread_counts[t]);
        }
        nn_simd_set_threads(thread_counts[t]);
        NN_CHECK(nn_simd_all_finite(x, n) == 1, "all_finite, %d threads", thread_counts[t]);
        x[n - 5] = NAN;
        NN_CHECK(nn_simd_all_finite(x, n) == 0, "all_finite NaN, %d threads", thread_counts[t]);
        x[n - 5] = 0.5f;
        x[17] = INFINITY;
        NN_CHECK(nn_simd_all_finite(x, n) == 0, "all_finite inf, %d threads", thread_counts[t]);
        x[17] = 0.5f;
        {
            double s1, st;
            nn_simd_set_threads(1);
            s1 = nn_simd_sumsq(x, n);
            nn_simd_set_threads(thread_counts[t]);
            st = nn_simd_sumsq(x, n);
            NN_CHECK(s1 == st, "sumsq, %d threads: %.17g, 1 thread %.17g", thread_counts[t], st, s1);
        }
    }
done:
    nn_simd_set_threads(0);
    free(x); free(y); free(r0); free(r); free(s1); free(s2);
}

/* nn_fit at every thread count: its shuffled batch gather is shared by a team once a
   batch holds >= 2 x 16K floats (here 128 x 300), so a gather that dropped, repeated or
   misplaced rows would change the weights. Returns the checksum folded with them. */
static uint64_t check_fit(uint64_t h)
{
    enum { N = 700, D = 300, K = 10 };
    static float x[N * D];
    static int labels[N];
    float *ref = NULL;
    size_t n = 0, nw = 0;
    int t, i;
    fill(x, (size_t)N * D, 77, 1.0f);
    for (i = 0; i < N; i++) labels[i] = (i * 13) % K;
    for (t = 0; t < NTC; t++) {
        nn_net_desc d;
        nn_optim_desc od;
        nn_fit_desc fd;
        nn_net *net = NULL;
        nn_optim *opt = NULL;
        nn_status st;
        const float *p;
        memset(&d, 0, sizeof d);
        d.n_inputs = D;
        d.layers[0].units = 64; d.layers[0].act = NN_ACT_RELU;
        d.layers[1].units = K;  d.layers[1].act = NN_ACT_SOFTMAX;
        d.max_batch = 128;
        d.seed = 99;
        memset(&od, 0, sizeof od);
        od.kind = NN_OPTIM_ADAM;
        memset(&fd, 0, sizeof fd);
        fd.epochs = 2;
        fd.batch = 128;
        fd.val_fraction = 0.1f;
        fd.quiet = 1;
        nn_simd_set_threads(thread_counts[t]);
        st = nn_net_create(&d, &net);
        if (st == NN_OK) st = nn_optim_create(net, &od, &opt);
        if (st == NN_OK) st = nn_fit(net, opt, x, NULL, labels, N, &fd, NULL);
        NN_CHECK(st == NN_OK, "nn_fit, %d threads: %s", thread_counts[t], nn_status_str(st));
        if (st == NN_OK) {
            p = nn_net_params(net, &n, &nw);
            if (t == 0) {
                ref = (float *)malloc(n * sizeof *ref);
                if (ref) memcpy(ref, p, n * sizeof *ref);
                h = fnv(h, p, n * sizeof *p);
            } else {
                NN_CHECK(ref && memcmp(ref, p, n * sizeof *p) == 0,
                         "nn_fit: weights after 2 epochs differ between 1 and %d threads",
                         thread_counts[t]);
            }
        }
        nn_optim_destroy(opt);
        nn_net_destroy(net);
    }
    free(ref);
    nn_simd_set_threads(0);
    return h;
}

static void check_all_gemms(void)
{
    static const int sh[][3] = {
        {128, 256, 784}, {128, 784, 256}, {256, 784, 128}, {128, 10, 128}, {10, 128, 128},
        {128, 128, 10}, {3, 300, 200}, {1, 1000, 64}, {7, 500, 40}, {12, 600, 33},
        {200, 4100, 20}, {40, 4200, 300}, {1000, 37, 260}, {61, 61, 61}, {150, 150, 600},
        {5, 9, 1000}, {600, 20, 8}, {601, 700, 330}, /* the large-problem tiling: column */
        {700, 600, 300}};                                 /* slices; rows, A kept (TN) */
    int i, ta, tb;
    for (i = 0; i < (int)(sizeof sh / sizeof sh[0]); i++)
        for (ta = 0; ta < 2; ta++)
            for (tb = 0; tb < 2; tb++) {
                check_gemm(ta, tb, sh[i][0], sh[i][1], sh[i][2], 0.0f, 1, NN_ACT_RELU);
                check_gemm(ta, tb, sh[i][0], sh[i][1], sh[i][2], 0.5f, 0, NN_ACT_IDENTITY);
            }
    check_gemm(0, 1, 128, 256, 784, 0.0f, 2, NN_ACT_RELU);   /* column tiles, NaN columns */
    check_gemm(0, 1, 128, 128, 256, 0.0f, 2, NN_ACT_RELU);
    check_gemm(0, 1, 64, 4200, 50, 0.0f, 1, NN_ACT_SOFTMAX); /* softmax over 2 NC blocks */
    check_gemm(0, 0, 64, 300, 500, 0.0f, 1, NN_ACT_SOFTMAX);
    check_gemm(0, 1, 64, 300, 500, 0.0f, 1, NN_ACT_SOFTMAX);  /* column tiles, own B */
    check_gemm(0, 1, 100, 10, 300, 0.0f, 1, NN_ACT_SOFTMAX);  /* dot path */
    check_gemm(1, 0, 8, 700, 100, 0.0f, 1, NN_ACT_SOFTMAX);   /* direct path, column split */
    check_gemm(0, 0, 1, 4000, 700, 0.5f, 1, NN_ACT_RELU);     /* 1 and 2 rows: B streamed row */
    check_gemm(0, 0, 2, 3000, 600, 0.0f, 0, NN_ACT_IDENTITY); /*   by row, 1024-column blocks */
    check_gemm(1, 0, 1, 2500, 900, 0.0f, 1, NN_ACT_IDENTITY);
    check_gemm(0, 1, 1, 4000, 700, 0.5f, 1, NN_ACT_RELU);     /* NT, 1, 2 and 4 + 2 rows: */
    check_gemm(0, 1, 2, 3000, 600, 0.0f, 0, NN_ACT_IDENTITY); /*   B rows one at a time */
    check_gemm(0, 1, 6, 2000, 131, 0.0f, 1, NN_ACT_RELU);
    check_gemm(0, 0, 300, 700, 30, 0.25f, 1, NN_ACT_TANH);
    check_gemm(0, 1, 300, 700, 0, 0.25f, 1, NN_ACT_SIGMOID);  /* k == 0 */
}

/* The optimizer's finite check and update share one region (each thread checks, then
   updates, its own share): a NaN or Inf in any thread's share, at its first or last
   element, must refuse the whole step at every thread count and leave the weights and
   optimizer state untouched; the next finite step must match the 1-thread one. */
static void check_nonfinite_team(void)
{
    static const float bad[2] = {NAN, -INFINITY};
    nn_net_desc d;
    nn_optim_desc od;
    int t, q, b;
    memset(&d, 0, sizeof d);
    d.n_inputs = 50;
    d.layers[0].units = 40;
    d.layers[1].units = 5;
    d.max_batch = 4;
    d.loss = NN_LOSS_SOFTMAX_CE;
    d.seed = 9;
    memset(&od, 0, sizeof od);
    od.kind = NN_OPTIM_ADAMW;
    for (t = 0; t < NTC; t++) {
        for (q = 0; q <= 16; q++) {
            nn_net *net = NULL, *ref = NULL;
            nn_optim *opt = NULL, *ropt = NULL;
            size_t n = 0, nw = 0, pos;
            float *g, *keep_p = NULL, *keep_s1 = NULL, *keep_s2 = NULL, *gr;
            nn_status st;
            if (nn_net_create(&d, &net) != NN_OK || nn_optim_create(net, &od, &opt) != NN_OK ||
                nn_net_create(&d, &ref) != NN_OK || nn_optim_create(ref, &od, &ropt) != NN_OK) {
                NN_CHECK(0, "nonfinite team: create failed");
                return;
            }
            g = nn_net_grads(net, &n, &nw);
            gr = nn_net_grads(ref, NULL, NULL);
            fill(g, n, 40 + (uint64_t)q, 0.1f);
            memcpy(gr, g, n * sizeof *g);
            nn_simd_set_threads(thread_counts[t]);
            st = nn_optim_step(opt, net); /* a real step: the state is not all zero */
            nn_simd_set_threads(1);
            st = st == NN_OK ? nn_optim_step(ropt, ref) : st;
            NN_CHECK(st == NN_OK, "nonfinite team: first step: %s", nn_status_str(st));
            /* q / 16 of the way through, on a 16-float boundary or the last element */
            pos = q == 16 ? n - 1 : (n * (size_t)q / 16) / 16 * 16 + (size_t)(q % 2);
            b = q % 2;
            fill(g, n, 80 + (uint64_t)q, 0.1f);
            memcpy(gr, g, n * sizeof *g);
            keep_p = dupf(nn_net_params(net, NULL, NULL), n);
            keep_s1 = dupf(opt->s1, n);
            keep_s2 = dupf(opt->s2, n);
            g[pos] = bad[b];
            nn_simd_set_threads(thread_counts[t]);
            st = nn_optim_step(opt, net);
            NN_CHECK(st == NN_ERR_NONFINITE, "nonfinite team: %d threads, grad[%lu] = %g: %s",
                     thread_counts[t], (unsigned long)pos, (double)bad[b], nn_status_str(st));
            NN_CHECK(keep_p && same(keep_p, nn_net_params(net, NULL, NULL), n) && same(keep_s1, opt->s1, n) &&
                     same(keep_s2, opt->s2, n) && nn_optim_steps(opt) == 1,
                     "nonfinite team: %d threads, grad[%lu]: weights or state touched", thread_counts[t],
                     (unsigned long)pos);
            g[pos] = gr[pos];
            st = nn_optim_step(opt, net);
            nn_simd_set_threads(1);
            st = st == NN_OK ? nn_optim_step(ropt, ref) : st;
            NN_CHECK(st == NN_OK && same(nn_net_params(net, NULL, NULL), nn_net_params(ref, NULL, NULL), n) &&
                     same(opt->s1, ropt->s1, n) && same(opt->s2, ropt->s2, n),
                     "nonfinite team: %d threads, grad[%lu]: the next step differs from 1 thread",
                     thread_counts[t], (unsigned long)pos);
            nn_simd_set_threads(0);
            free(keep_p); free(keep_s1); free(keep_s2);
            nn_optim_destroy(opt); nn_optim_destroy(ropt);
            nn_net_destroy(net); nn_net_destroy(ref);
        }
    }
}

/* The checked optimizer step on its own, over buffers cut into segments (nn.h passes
   each layer's weights, then each layer's biases; the threads own the same share of
   every segment): tiny and large segments, more segments than the step handles apart
   (taken as one), at every thread count against one thread, bit for bit; and a NaN at
   the first or last element of any one segment refuses the step and writes nothing. */
static void check_optim_segments(void)
{
    enum { MAXS = 80 };
    static const int nsegs[3] = {1, 5, 70};
    size_t seg[MAXS + 1];
    nn_simd_optim_args aw, ab;
    int c, s, t, q;
    memset(&aw, 0, sizeof aw);
    aw.lr = 1e-3f; aw.beta1 = 0.9f; aw.beta2 = 0.999f; aw.eps = 1e-8f; aw.bc1 = 1.5f;
    aw.bc2 = 2.5f; aw.wd = 0.01f;
    ab = aw;
    ab.wd = 0.0f;
    for (c = 0; c < 3; c++) {
        const int ns = nsegs[c];
        float *g, *w[2], *m[2], *v[2];
        size_t n, nw;
        seg[0] = 0;
        for (s = 0; s < ns; s++) /* 16 floats up to ~40K, the last not a multiple of 16 */
            seg[s + 1] = seg[s] + (s % 4 == 1 ? 16 : (size_t)(16 * (1 + (s * 977) % 2500))) +
                         (s == ns - 1 ? 5 : 0);
        n = seg[ns];
        nw = seg[(ns + 1) / 2];
        g = (float *)malloc(n * sizeof *g);
        for (q = 0; q < 2; q++) {
            w[q] = (float *)malloc(n * sizeof(float));
            m[q] = (float *)malloc(n * sizeof(float));
            v[q] = (float *)malloc(n * sizeof(float));
        }
        if (!g || !w[0] || !w[1] || !m[0] || !m[1] || !v[0] || !v[1]) {
            NN_CHECK(0, "optim segments: out of memory");
            return;
        }
        fill(g, n, 91, 0.1f);
        for (t = 0; t < NTC; t++) {
            for (q = 0; q < 2; q++) { /* q = 0: 1 thread, q = 1: thread_counts[t] */
                size_t i;
                fill(w[q], n, 92, 1.0f);
                fill(m[q], n, 93, 0.1f);
                fill(v[q], n, 94, 0.1f);
                for (i = 0; i < n; i++) v[q][i] = fabsf(v[q][i]);
                nn_simd_set_threads(q == 0 ? 1 : thread_counts[t]);
                NN_CHECK(nn__optim_checked(nn__active, NN_SIMD_OPTIM_ADAM, &aw, &ab, w[q], g, m[q], v[q],
                                                   nw, seg, ns) == 1,
                         "optim segments: %d segments, %d threads: refused", ns, thread_counts[t]);
            }
            NN_CHECK(same(w[0], w[1], n) && same(m[0], m[1], n) && same(v[0], v[1], n),
                     "optim segments: %d segments, %d threads differ from 1", ns, thread_counts[t]);
            for (s = 0; s < ns; s++) {
                const size_t pos = (s % 2) ? seg[s + 1] - 1 : seg[s];
                const float keep = g[pos];
                memcpy(w[0], w[1], n * sizeof(float));
                memcpy(m[0], m[1], n * sizeof(float));
                memcpy(v[0], v[1], n * sizeof(float));
                g[pos] = s % 3 ? NAN : INFINITY;
                NN_CHECK(nn__optim_checked(nn__active, NN_SIMD_OPTIM_ADAM, &aw, &ab, w[1], g, m[1], v[1],
                                                   nw, seg, ns) == 0 &&
                             same(w[0], w[1], n) && same(m[0], m[1], n) && same(v[0], v[1], n),
                         "optim segments: %d segments, %d threads: g[%lu] (segment %d) not finite, "
                         "yet the step ran or wrote", ns, thread_counts[t], (unsigned long)pos, s);
                g[pos] = keep;
            }
        }
        nn_simd_set_threads(0);
        free(g);
        for (q = 0; q < 2; q++) { free(w[q]); free(m[q]); free(v[q]); }
    }
}

#if defined(_OPENMP) && defined(__linux__)
/* The back-off's contention probe: with a busy process on every CPU, a stall must count
   as contention. (With nothing else running it must not, but a test machine cannot
   promise an idle system, so that half is only measured: bench_threads' "host's".) */
static void check_contention_probe(void)
{
    pid_t kid[64];
    struct timespec ts;
    int n = omp_get_num_procs(), i, k = 0, got;
    if (n > 64) n = 64;
    for (i = 0; i < n; i++) {
        pid_t p = fork();
        if (p == 0) {
            volatile unsigned long spin = 0;
            for (;;) spin++;
        }
        if (p < 0) break;
        kid[k++] = p;
    }
    ts.tv_sec = 0;
    ts.tv_nsec = 30 * 1000 * 1000; /* the children are running */
    nanosleep(&ts, NULL);
    got = nn__par_contended(2);
    for (i = 0; i < k; i++) {
        kill(kid[i], SIGKILL);
        waitpid(kid[i], NULL, 0);
    }
    NN_CHECK(k == n, "fork: %d of %d busy processes", k, n);
    NN_CHECK(got == 1, "a busy process on each of %d CPUs was not seen as contention", n);
}
#endif

#ifdef _OPENMP
/* The region helper itself (nn__par_run, nn__par_barrier): fn runs once on each of
   threads 0..got-1 with got = the threads the runtime gave (at most the nt asked), the
   barrier holds them all, and kernel calls made inside a region get one thread. */
typedef struct region_probe { int job, hits[8], nts[8], val[8], bad[8], inner[8]; } region_probe;

static void region_probe_fn(void *ctx, int tid, int nt)
{
    region_probe *P = (region_probe *)ctx;
    int t;
    P->hits[tid]++;
    P->nts[tid] = nt;
    P->val[tid] = P->job;
    nn__par_barrier(nt);
    for (t = 0; t < nt; t++) P->bad[tid] += P->val[t] != P->job;
    nn__par_barrier(nt); /* nobody writes val again before all have read it */
    P->inner[tid] += nt > 1 && nn__threads_max() != 1;
}

static void check_regions(void)
{
    static const int sizes[4] = {1, 2, 3, 8};
    int i, t;
    for (i = 0; i < 4; i++) {
        region_probe P;
        int got = 0;
        memset(&P, 0, sizeof P);
        P.job = 7 + i;
        nn__par_run(region_probe_fn, &P, sizes[i]);
        for (t = 0; t < 8; t++) got += P.hits[t] > 0;
        NN_CHECK(got >= 1 && got <= sizes[i], "region of %d: ran on %d threads", sizes[i], got);
        for (t = 0; t < 8; t++) {
            NN_CHECK(P.hits[t] == (t < got) && (t >= got || P.nts[t] == got),
                     "region of %d, thread %d: %d runs, nt %d", sizes[i], t, P.hits[t], P.nts[t]);
            NN_CHECK(P.bad[t] == 0 && P.inner[t] == 0, "region of %d, thread %d: %d barrier misses, "
                     "%d calls inside given more than one thread", sizes[i], t, P.bad[t], P.inner[t]);
        }
        NN_CHECK(sizes[i] > omp_get_thread_limit() || got == sizes[i],
                 "region of %d: the runtime gave %d threads", sizes[i], got);
    }
}
#endif

#if defined(_OPENMP) && defined(__linux__)
/* Two threads of the program each train their own network at the same time, each
   opening 2-thread regions of its own: both must still get the 1-thread result. */
typedef struct caller { const run_cfg *cfg; run_out out; int reps, bad; } caller;

static void *caller_main(void *p)
{
    caller *c = (caller *)p;
    int r;
    for (r = 0; r < c->reps; r++) {
        run_free(&c->out);
        train(c->cfg, 0, &c->out); /* the count main set: set_threads is not thread-safe */
        if (c->out.st != NN_OK) c->bad++;
    }
    return NULL;
}

static void check_two_callers(const run_cfg *cfg)
{
    run_out ref;
    caller c[2];
    pthread_t th;
    int i, started;
    train(cfg, 1, &ref);
    nn_simd_set_threads(2);
    memset(c, 0, sizeof c);
    for (i = 0; i < 2; i++) {
        c[i].cfg = cfg;
        c[i].reps = 4;
    }
    started = pthread_create(&th, NULL, caller_main, &c[1]) == 0;
    NN_CHECK(started, "two callers: pthread_create failed");
    caller_main(&c[0]);
    if (started) pthread_join(th, NULL);
    for (i = 0; i < 1 + started; i++) {
        NN_CHECK(c[i].bad == 0 && c[i].out.n == ref.n, "two callers: caller %d failed", i);
        if (c[i].out.n == ref.n && ref.params)
            NN_CHECK(same(c[i].out.params, ref.params, ref.n) && same(c[i].out.s1, ref.s1, ref.n) &&
                     same(c[i].out.s2, ref.s2, ref.n) && memcmp(c[i].out.loss, ref.loss, sizeof ref.loss) == 0,
                     "two callers: caller %d's network differs from 1 thread", i);
        run_free(&c[i].out);
    }
    run_free(&ref);
    nn_simd_set_threads(0);
}
#endif

/* Backend b (when it runs here): two steps of training run `cfg` and `more`, at every
   thread count against one thread; then back to the automatic backend. */
static void check_other_backend(nn_simd_backend b, const run_cfg *cfg, void (*more)(void))
{
    run_cfg c = *cfg;
    if (nn_simd_set_backend(b) != NN_OK) return;
    c.steps = 2;
    (void)check_training(&c, 0);
    more();
    nn_simd_set_backend(NN_SIMD_BACKEND_AUTO);
}

int main(void)
{
    static const run_cfg cfgs[] = {
        /* name, in, units, batch, steps, act, dropout, l2, loss, optim */
        {"300-200-100-10 b128 dropout l2 adamw", 300, {200, 100, 10, 0, 0}, 128, 6, NN_ACT_RELU, 0.2f, 1e-4f, NN_LOSS_SOFTMAX_CE, NN_OPTIM_ADAMW},
        {"784-256-128-10 b128 adam", 784, {256, 128, 10, 0, 0}, 128, 3, NN_ACT_RELU, 0.0f, 0.0f, NN_LOSS_SOFTMAX_CE, NN_OPTIM_ADAM},
        {"64-4100-10 b32 tanh mse momentum", 64, {4100, 10, 0, 0, 0}, 32, 3, NN_ACT_TANH, 0.1f, 1e-3f, NN_LOSS_MSE, NN_OPTIM_MOMENTUM},
        {"12-300-7 b3 sigmoid rmsprop", 12, {300, 7, 0, 0, 0}, 3, 4, NN_ACT_SIGMOID, 0.0f, 0.0f, NN_LOSS_SOFTMAX_CE, NN_OPTIM_RMSPROP},
        {"40-500-200-3 b200 leaky nesterov", 40, {500, 200, 3, 0, 0}, 200, 3, NN_ACT_LEAKY_RELU, 0.3f, 0.0f, NN_LOSS_SOFTMAX_CE, NN_OPTIM_NESTEROV},
        /* 16 -> 4 at batch 16: tiny GEMMs, still shared under the lowered thresholds */
        {"8-16-4 b16 dropout adam", 8, {16, 4, 0, 0, 0}, 16, 6, NN_ACT_RELU, 0.25f, 0.0f, NN_LOSS_SOFTMAX_CE, NN_OPTIM_ADAM},
        {"100-300-20 b64 tanh adadelta", 100, {300, 20, 0, 0, 0}, 64, 4, NN_ACT_TANH, 0.0f, 0.0f, NN_LOSS_SOFTMAX_CE, NN_OPTIM_ADADELTA},
        {"100-300-20 b64 relu adafactor", 100, {300, 20, 0, 0, 0}, 64, 4, NN_ACT_RELU, 0.1f, 0.0f, NN_LOSS_SOFTMAX_CE, NN_OPTIM_ADAFACTOR},
    };
    uint64_t h = 14695981039346656037ull;
    int i, quick = nn_test_quick();
    nn_test_begin("test_threads");
    if (nn_simd_init() != NN_OK) { printf("bad NN_BACKEND\n"); return 1; }
    printf("backend=%s threads(default)=%d\n", nn_simd_backend_name(), nn_simd_get_threads());
    for (i = 0; i < (int)(sizeof cfgs / sizeof cfgs[0]); i++) {
        if (quick && i == 1) continue;
        h = check_training(&cfgs[i], h);
    }
    h = check_fit(h);
    check_all_gemms();
    check_kernels();
    check_nonfinite_team();
    check_optim_segments();
#if defined(_OPENMP) && defined(__linux__)
    check_contention_probe();
#endif
    if (!quick && nn_simd_backend_active() != NN_SIMD_BACKEND_SCALAR)
        check_other_backend(NN_SIMD_BACKEND_SCALAR, &cfgs[0], check_kernels); /* the reference too */
    if (!quick && nn_simd_backend_active() == NN_SIMD_BACKEND_AVX512)
        check_other_backend(NN_SIMD_BACKEND_AVX2, &cfgs[0], check_all_gemms); /* its own GEMM blocking */
#ifdef _OPENMP
    check_regions();
#  if defined(__linux__)
    check_two_callers(&cfgs[0]);
#  endif
#endif
    printf("params-checksum: %016llx\n", (unsigned long long)h);
    return nn_test_done();
}
