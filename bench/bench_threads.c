#define _GNU_SOURCE /* sched_setaffinity, CPU_SET, fork, kill */
/* bench_threads.c - what the OpenMP threads buy, and what they cost.

   1. GEMM 1024^3 (NN) and the wide net's first forward GEMM (NT 256 x 2048 x 784): 1
      thread vs 2 threads, GFLOP/s; OpenBLAS 1 and 2 threads in the same loop when
      linked (NN_BENCH_OPENBLAS), the configurations taking turns.
   2. A training step (forward, backprop, Adam) of 784-256-128-10 at batch 128 on
      random data: samples/s with 1 and 2 threads; the cross-core round trip before
      each pair of blocks, and the speedup by where the host had put the two vCPUs
      (near or far apart); then the time of its phases (forward, forward + backprop,
      the Adam step) with 1 and 2 threads.
   3. Contention: a busy-loop child process pinned to CPU 0, then the same training
      step with 2 threads, 1 thread (free to run on CPU 1) and 1 thread pinned to CPU 1,
      in rotating blocks, after 1.5 s of 2-thread training (the steady state of a long
      run: nn_simd.h's contention back-off has seen the busy process).
   4. Thresholds: for small GEMMs and element-wise kernels, the time of one call with
      1 thread and with 2 threads forced (the per-thread work thresholds set to 1):
      where 2 threads stop losing is where NN__PAR_GEMM_FLOPS / NN__PAR_EW_ELEMS sit.

   Every figure: best and median of many repetitions (the machine is shared and noisy).
   Output: Markdown. usage: bench_threads [--quick] [--no-contention] [--only SECTION]
   (SECTION: gemm, train, contention, thresholds). */
/* the per-thread work thresholds, read through nn_simd.h's tuning macros: the
   thresholds section lowers them to force 2 threads (defaults: nn_simd.h >>threads) */
static double bench_par_min[2] = {5e5, 16384.0};
#define NN__PAR_GEMM_FLOPS bench_par_min[0]
#define NN__PAR_EW_ELEMS bench_par_min[1]
#define NN_IMPLEMENTATION
#include "nn.h"

#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include "bench_util.h"
#include <unistd.h>
#ifdef NN_BENCH_OPENBLAS
#  include <cblas.h>
#endif

static int quick;

typedef struct stat2 { double best, median; } stat2;

/* best and median of t[0..n) (sorts t) */
static stat2 summarize(double *t, int n)
{
    stat2 r;
    qsort(t, (size_t)n, sizeof t[0], cmp_d);
    r.best = t[0];
    r.median = t[n / 2];
    return r;
}

/* the median over i < n of num[i] / den[i] (n <= 256) */
static double pair_median(const double *num, const double *den, int n)
{
    static double pr[256];
    int i;
    for (i = 0; i < n; i++) pr[i] = num[i] / den[i];
    return summarize(pr, n).median;
}

/* A cache line's round trip between two threads (ns, mean of `iters`): thread 0 writes
   a, thread 1 answers in b. On a VM the host decides where the two vCPUs run; here it
   moved them now and then between two placements, ~130 ns apart (sharing a cache) and
   ~600 ns apart, minutes at a time, and every 2-thread figure moved with it. 0 without
   OpenMP or with fewer than 2 CPUs (the threads could not both spin). */
static double roundtrip_ns(int iters)
{
#ifdef _OPENMP
    static int a[32], b[32]; /* a[0] and b[16]: 64 bytes apart, lines of their own */
    double t0 = 0.0, t1 = 0.0;
    if (omp_get_num_procs() < 2) return 0.0;
    a[0] = b[16] = 0;
#pragma omp parallel num_threads(2)
    {
        const int tid = omp_get_thread_num();
        int i;
        if (omp_get_num_threads() == 2) {
#pragma omp barrier
            if (tid == 0) {
                t0 = omp_get_wtime();
                for (i = 1; i <= iters; i++) {
                    __atomic_store_n(&a[0], i, __ATOMIC_RELEASE);
                    while (__atomic_load_n(&b[16], __ATOMIC_ACQUIRE) != i) {}
                }
                t1 = omp_get_wtime();
            } else {
                for (i = 1; i <= iters; i++) {
                    while (__atomic_load_n(&a[0], __ATOMIC_ACQUIRE) != i) {}
                    __atomic_store_n(&b[16], i, __ATOMIC_RELEASE);
                }
            }
        }
    }
    return t1 > t0 ? (t1 - t0) / iters * 1e9 : 0.0;
#else
    (void)iters;
    return 0.0;
#endif
}

/* seconds per call of fn: `reps` samples, each timing `inner` calls; best and median */
static stat2 measure(void (*fn)(void *), void *ctx, int reps, int inner)
{
    double t[256];
    int i, j;
    if (reps > 256) reps = 256;
    fn(ctx); /* warm */
    for (i = 0; i < reps; i++) {
        double t0 = now_s();
        for (j = 0; j < inner; j++) fn(ctx);
        t[i] = (now_s() - t0) / inner;
    }
    return summarize(t, reps);
}

static void fill(float *x, size_t n, uint64_t seed)
{
    nn_rng r;
    size_t i;
    nn_rng_seed(&r, seed);
    for (i = 0; i < n; i++) x[i] = 2.0f * nn_rng_uniform(&r) - 1.0f;
}

static void pin_to(int cpu) /* cpu < 0: every CPU */
{
    cpu_set_t s;
    int i;
    CPU_ZERO(&s);
    if (cpu >= 0) CPU_SET(cpu, &s);
    else for (i = 0; i < CPU_SETSIZE; i++) CPU_SET(i, &s);
    sched_setaffinity(0, sizeof s, &s);
}

/* ---- GEMM ---------------------------------------------------------------- */
typedef struct gemm_ctx { int tb, m, n, k; const float *A, *B; float *C; } gemm_ctx;

static void run_nn_gemm(void *v)
{
    gemm_ctx *g = (gemm_ctx *)v;
    nn_simd_gemm(0, g->tb, g->m, g->n, g->k, 1.0f, g->A, g->k, g->B, g->tb ? g->k : g->n, 0.0f,
                 g->C, g->n);
}

#ifdef NN_BENCH_OPENBLAS
static void run_blas_gemm(void *v)
{
    gemm_ctx *g = (gemm_ctx *)v;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, g->m, g->n,
                g->k, 1.0f, g->A, g->k, g->B, g->tb ? g->k : g->n, 0.0f, g->C, g->n);
}
#endif

/* The four configurations (nn.h, OpenBLAS) x (1, 2 threads) take turns call by call, in
   rotating order, each call after one untimed call of the same configuration: on this
   kind of VM the host's load drifts over seconds, and 25 back-to-back calls per
   configuration (the earlier section) moved nn.h's 2-thread figure by +-10% from run
   to run while the other configurations' turns came at other moments. "pairs": the
   median over rotations of (1-thread call / 2-thread call) of the same library, and of
   (OpenBLAS call / nn.h call) at the same thread count, > 1: nn.h faster. */
static void section_gemm(int tb, int m, int n, int k, const char *what)
{
    enum { NCFG = 4 };
    gemm_ctx g;
    float *A = (float *)malloc(sizeof(float) * m * k), *B = (float *)malloc(sizeof(float) * k * n);
    float *C = (float *)malloc(sizeof(float) * m * n);
    double flops = 2.0 * m * n * k;
    /* pairs: 1T / 2T of nn.h, of OpenBLAS; OpenBLAS / nn.h at 1T, at 2T */
    static const int pnum[NCFG] = {0, 2, 2, 3}, pden[NCFG] = {1, 3, 0, 1};
    static double t[NCFG][256];
    stat2 s[NCFG];
    double pair[NCFG];
    int reps = quick ? 7 : 41, ncfg = 2, i, q, c;
#ifdef NN_BENCH_OPENBLAS
    ncfg = NCFG;
#endif
    if (!A || !B || !C) { printf("out of memory\n"); free(A); free(B); free(C); return; }
    fill(A, (size_t)m * k, 1);
    fill(B, (size_t)k * n, 2);
    g.tb = tb; g.m = m; g.n = n; g.k = k; g.A = A; g.B = B; g.C = C;
    for (i = 0; i < reps; i++)
        for (q = 0; q < ncfg; q++) {
            const int th = 1 + (c = (i + q) % ncfg) % 2; /* c: 0 nn 1T, 1 nn 2T, 2 blas 1T, 3 blas 2T */
            void (*fn)(void *) = run_nn_gemm;
            double t0;
            nn_simd_set_threads(th);
#ifdef NN_BENCH_OPENBLAS
            openblas_set_num_threads(th);
            if (c >= 2) fn = run_blas_gemm;
#endif
            fn(&g); /* untimed */
            t0 = now_s();
            fn(&g);
            t[c][i] = now_s() - t0;
        }
    nn_simd_set_threads(0);
    for (c = 0; c < NCFG; c++)
        pair[c] = pnum[c] < ncfg ? pair_median(t[pnum[c]], t[pden[c]], reps) : 0.0;
    for (c = 0; c < ncfg; c++) s[c] = summarize(t[c], reps);
    printf("## GEMM %d x %d x %d (N%c%s), GFLOP/s\n\n", m, n, k, tb ? 'T' : 'N', what);
    printf("%d calls per configuration, the %d configurations taking turns call by call.\n\n",
           reps, ncfg);
    printf("| library | 1 thread best | median | 2 threads best | median | speedup best | median | pairs |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    for (c = 0; c < ncfg; c += 2)
        printf("| %s%s%s | %.1f | %.1f | %.1f | %.1f | %.2fx | %.2fx | %.2fx |\n",
               c ? "OpenBLAS" : "nn.h (", c ? "" : nn_simd_backend_name(), c ? "" : ")",
               flops / s[c].best * 1e-9, flops / s[c].median * 1e-9,
               flops / s[c + 1].best * 1e-9, flops / s[c + 1].median * 1e-9,
               s[c].best / s[c + 1].best, s[c].median / s[c + 1].median, pair[c / 2]);
    if (ncfg == NCFG)
        printf("\nOpenBLAS / nn.h time, median over rotations: 1 thread %.2fx, 2 threads %.2fx "
               "(> 1: nn.h faster).\n", pair[2], pair[3]);
    printf("\n");
    fflush(stdout);
    free(A); free(B); free(C);
}

/* ---- training step ------------------------------------------------------- */
typedef struct train_ctx { nn_net *net; nn_optim *opt; float *x; int *labels; int batch, steps; } train_ctx;

static void run_steps(void *v)
{
    train_ctx *t = (train_ctx *)v;
    int s;
    float loss;
    for (s = 0; s < t->steps; s++)
        nn_train_step(t->net, t->opt, t->x + (size_t)(s % 4) * t->batch * 784,
                      NULL, t->labels + (s % 4) * t->batch, t->batch, &loss);
}

static int train_setup(train_ctx *t, int batch)
{
    nn_net_desc d;
    nn_optim_desc od;
    int i;
    memset(t, 0, sizeof *t);
    memset(&d, 0, sizeof d);
    d.n_inputs = 784;
    d.layers[0].units = 256;
    d.layers[1].units = 128;
    d.layers[2].units = 10;
    d.max_batch = batch;
    d.loss = NN_LOSS_SOFTMAX_CE;
    if (nn_net_create(&d, &t->net) != NN_OK) return 0;
    memset(&od, 0, sizeof od); /* Adam */
    if (nn_optim_create(t->net, &od, &t->opt) != NN_OK) return 0;
    t->batch = batch;
    t->x = (float *)malloc(sizeof(float) * 4 * batch * 784);
    t->labels = (int *)malloc(sizeof(int) * 4 * batch);
    if (!t->x || !t->labels) return 0;
    fill(t->x, (size_t)4 * batch * 784, 3);
    for (i = 0; i < 4 * batch; i++) t->labels[i] = (i * 7) % 10;
    return 1;
}

static void train_free(train_ctx *t)
{
    nn_optim_destroy(t->opt);
    nn_net_destroy(t->net);
    free(t->x);
    free(t->labels);
}

static void print_train_row(const char *what, stat2 s, int batch, int steps, stat2 ref)
{
    double sb = batch * steps / s.best, sm = batch * steps / s.median;
    printf("| %s | %.1fk | %.1fk | %.0f | %.2fx | %.2fx |\n", what, sb * 1e-3,
           sm * 1e-3, s.best / steps * 1e6, ref.best / s.best, ref.median / s.median);
}

/* the step's phases, one call each: forward alone, forward + backprop, Adam step */
typedef struct phase_ctx { train_ctx *t; int which, s; } phase_ctx;

static void run_phase(void *v)
{
    phase_ctx *p = (phase_ctx *)v;
    train_ctx *t = p->t;
    const float *x = t->x + (size_t)(p->s % 4) * t->batch * 784, *y;
    float loss;
    if (p->which == 0) nn_net_forward(t->net, x, t->batch, &y);
    else if (p->which == 1) nn_net_backprop(t->net, x, NULL, t->labels + (p->s % 4) * t->batch, t->batch, &loss);
    else nn_optim_step(t->opt, t->net);
    p->s++;
}

static void section_phases(train_ctx *t)
{
    static const char *name[3] = {"forward", "forward + backprop", "Adam step (incl. the finite check)"};
    stat2 s1[3], s2[3];
    phase_ctx p;
    int w, reps = quick ? 41 : 201;
    p.t = t;
    p.s = 0;
    for (w = 0; w < 3; w++) { /* thread counts alternate per phase: the same host noise for both */
        p.which = w;
        nn_simd_set_threads(2);
        s2[w] = measure(run_phase, &p, reps, 1);
        nn_simd_set_threads(1);
        s1[w] = measure(run_phase, &p, reps, 1);
    }
    nn_simd_set_threads(0);
    printf("Where the step's time goes (one call, best / median of %d):\n\n", reps);
    printf("| phase | 1 thread us | 2 threads us | speedup best | median |\n"
           "|---|---|---|---|---|\n");
    for (w = 0; w < 3; w++)
        printf("| %s | %.0f / %.0f | %.0f / %.0f | %.2fx | %.2fx |\n", name[w],
               s1[w].best * 1e6, s1[w].median * 1e6, s2[w].best * 1e6, s2[w].median * 1e6,
               s1[w].best / s2[w].best, s1[w].median / s2[w].median);
    printf("\n");
}

/* Configurations of a training run: thread count and the CPU the calling thread is
   pinned to (-1: none). */
typedef struct run_cfg { int threads, cpu; } run_cfg;

/* The configurations in rotating blocks (block i starts at configuration i % ncfg; one
   untimed step after each switch), so all meet the same host: on these VMs the noise
   drifts over seconds, and two full runs of make bench 20 minutes apart, 1 thread
   measured after 2, had given the same code 1.14x-2.05x. s[c]: seconds per block;
   pair[c]: the median over blocks of (configuration 1's block / configuration c's in
   the same rotation). reps <= 256. nn_simd_set_threads forgets the contention back-off
   (>>threads), so each configuration's back-off state is carried from its block to its
   next, as in one long run (it was entered when the function was; its timer keeps
   running while the other configurations' blocks run). */
static double rot_rt[256]; /* the cross-core round trip before each rotation (ns) */
static double rot_tb[4][256];
static void measure_rot(train_ctx *t, int reps, const run_cfg *cfg, int ncfg, stat2 *s,
                        double *pair)
{
    double (*tb)[256] = rot_tb;
    int i, q, c, steps = t->steps;
    if (reps > 256) reps = 256;
    for (i = 0; i < reps; i++) {
        rot_rt[i] = roundtrip_ns(500);
        for (q = 0; q < ncfg; q++) {
            double t0;
            c = (i + q) % ncfg;
            nn_simd_set_threads(cfg[c].threads);
            pin_to(cfg[c].cpu);
            t->steps = 1;
            run_steps(t); /* untimed: the first step after a switch */
            t->steps = steps;
            t0 = now_s();
            run_steps(t);
            tb[c][i] = now_s() - t0;
        }
    }
    pin_to(-1);
    for (c = 0; c < ncfg; c++) pair[c] = pair_median(tb[1], tb[c], reps);
    for (c = 0; c < ncfg; c++) s[c] = summarize(tb[c], reps);
}

/* The pairs of blocks by where the host had put the two vCPUs (the round trip measured
   just before each pair): the 2-thread speedup in each placement. */
static void print_placement(int reps)
{
    static double rt[256], near[256], far[256];
    int i, nn = 0, nf = 0;
    stat2 r;
    if (roundtrip_ns(10) == 0.0) return;
    for (i = 0; i < reps; i++) {
        rt[i] = rot_rt[i];
        if (rot_rt[i] < 300.0) near[nn++] = rot_tb[1][i] / rot_tb[0][i];
        else far[nf++] = rot_tb[1][i] / rot_tb[0][i];
    }
    r = summarize(rt, reps);
    printf("Cross-core round trip (a cache line between the two threads and back, measured "
           "before each pair of blocks): best %.0f ns, median %.0f ns, worst %.0f ns.\n",
           r.best, r.median, rt[reps - 1]);
    printf("2-thread speedup, median over the pairs of blocks in each placement:\n\n");
    printf("- the threads < 300 ns apart: ");
    if (nn) printf("%.2fx (%d pairs)\n", summarize(near, nn).median, nn);
    else printf("no pair\n");
    printf("- 300 ns or more apart: ");
    if (nf) printf("%.2fx (%d pairs)\n\n", summarize(far, nf).median, nf);
    else printf("no pair\n\n");
}

static void section_train(void)
{
    train_ctx t;
    static const run_cfg cfg[2] = {{2, -1}, {1, -1}};
    stat2 st[2];
    double pm[2];
    int reps = quick ? 9 : 61;
    if (!train_setup(&t, 128)) { printf("setup failed\n"); return; }
    t.steps = 20;
    printf("## Training step 784-256-128-10, batch 128, Adam, softmax CE (random data)\n\n");
    printf("%d blocks of %d steps per thread count, 1 and 2 threads alternating block by block.\n\n",
           reps, t.steps);
    printf("| threads | samples/s best | median | us/step best | speedup best | median |\n");
    printf("|---|---|---|---|---|---|\n");
    run_steps(&t); /* warm */
    measure_rot(&t, reps, cfg, 2, st, pm);
    nn_simd_set_threads(0);
    print_train_row("1", st[1], 128, t.steps, st[1]);
    print_train_row("2", st[0], 128, t.steps, st[1]);
    printf("\nSpeedup, median over the %d pairs of neighbouring blocks: %.2fx\n\n", reps, pm[0]);
    print_placement(reps);
    section_phases(&t);
    fflush(stdout);
    train_free(&t);
}

/* ---- contention ---------------------------------------------------------- */
static void section_contention(void)
{
    /* 2 threads, 1 thread unpinned, 1 thread pinned to the free CPU: in rotating blocks */
    static const run_cfg cfg[3] = {{2, -1}, {1, -1}, {1, 1}};
    static const char *name[3] = {"2", "1 (unpinned)", "1 (pinned to the free CPU 1)"};
    train_ctx t;
    stat2 st[3];
    double pm[3];
    pid_t child;
    int c, reps = quick ? 9 : 45;
    const char *wp = getenv("OMP_WAIT_POLICY"), *sc = getenv("GOMP_SPINCOUNT");
    if (!train_setup(&t, 128)) { printf("setup failed\n"); return; }
    t.steps = 20;
    nn_simd_set_threads(2); /* the team's threads exist before anything is pinned */
    run_steps(&t);
    child = fork();
    if (child == 0) {
        volatile unsigned long spin = 0;
        pin_to(0);
        for (;;) spin++;
    }
    if (child < 0) { printf("fork failed\n"); return; }
    printf("## Contention: a busy-loop process pinned to CPU 0 (OMP_WAIT_POLICY=%s, GOMP_SPINCOUNT=%s)\n\n",
           wp ? wp : "unset", sc ? sc : "unset");
    printf("%d blocks of %d steps per configuration, the three in rotating order; \"pairs\": the\n"
           "median over rotations of (1 thread unpinned / this configuration), > 1: faster.\n\n",
           reps, t.steps);
    printf("| threads | samples/s best | median | us/step best | vs 1 thread best | median | pairs |\n");
    printf("|---|---|---|---|---|---|---|\n");
    nn_simd_set_threads(2);
    { /* steady state: the back-off has seen the busy process (1.5 s of training) */
        double t0 = now_s();
        while (now_s() - t0 < 1.5) run_steps(&t);
    }
    measure_rot(&t, reps, cfg, 3, st, pm);
    nn_simd_set_threads(0);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    for (c = 1; c <= 3; c++) {
        const int k = c % 3; /* the 1-thread rows first */
        const double sb = 128.0 * t.steps / st[k].best, sm = 128.0 * t.steps / st[k].median;
        printf("| %s | %.1fk | %.1fk | %.0f | %.2fx | %.2fx | %.2fx |\n", name[k], sb * 1e-3,
               sm * 1e-3, st[k].best / t.steps * 1e6, st[1].best / st[k].best,
               st[1].median / st[k].median, pm[k]);
    }
    printf("\n");
    fflush(stdout);
    train_free(&t);
}

/* ---- thresholds ---------------------------------------------------------- */
typedef struct ew_ctx { int kind; size_t n; float *x, *y, *s1, *s2; } ew_ctx;

static void run_ew(void *v)
{
    ew_ctx *e = (ew_ctx *)v;
    nn_simd_optim_args a;
    switch (e->kind) {
    case 0: nn_simd_act_forward(NN_ACT_RELU, 0.0f, e->x, e->y, e->n); break;
    case 1: nn_simd_act_forward(NN_ACT_SIGMOID, 0.0f, e->x, e->y, e->n); break;
    case 2: nn_simd_act_backward(NN_ACT_RELU, 0.0f, e->x, e->y, e->s1, e->n); break;
    default:
        memset(&a, 0, sizeof a);
        a.lr = 1e-9f; a.beta1 = 0.9f; a.beta2 = 0.999f; a.eps = 1e-8f; a.bc1 = 1.0f; a.bc2 = 1.0f;
        nn_simd_optim_update(NN_SIMD_OPTIM_ADAM, &a, e->y, e->x, e->s1, e->s2, e->n);
        break;
    }
}

static void section_thresholds(void)
{
    static const int gsz[][3] = {{16, 16, 16}, {32, 32, 32}, {48, 48, 48}, {64, 64, 64},
                                 {32, 128, 128}, {96, 96, 96}, {128, 128, 128}, {128, 256, 128},
                                 {160, 160, 160}, {256, 256, 256}};
    static const size_t esz[] = {4096, 8192, 16384, 32768, 65536, 131072, 262144};
    static const char *ename[] = {"relu fwd", "sigmoid fwd", "relu bwd", "adam"};
    const double saved[2] = {bench_par_min[0], bench_par_min[1]};
    int reps = quick ? 7 : 41, i, kd;
    float *A = (float *)malloc(sizeof(float) * 262144), *B = (float *)malloc(sizeof(float) * 262144);
    float *C = (float *)malloc(sizeof(float) * 262144), *S = (float *)calloc(262144, sizeof(float));
    if (!A || !B || !C || !S) { printf("out of memory\n"); return; }
    fill(A, 262144, 4);
    fill(B, 262144, 5);
    bench_par_min[0] = bench_par_min[1] = 1.0; /* force 2 threads */
    printf("## Thresholds: one call, 1 thread vs 2 threads forced (us, best / median)\n\n");
    printf("| GEMM NN m x n x k | kFLOP | 1 thread | 2 threads | 2T speedup (best) | (median) |\n");
    printf("|---|---|---|---|---|---|\n");
    for (i = 0; i < (int)(sizeof gsz / sizeof gsz[0]); i++) {
        gemm_ctx g;
        stat2 s1, s2;
        int inner;
        double fl = 2.0 * gsz[i][0] * gsz[i][1] * gsz[i][2];
        g.m = gsz[i][0]; g.n = gsz[i][1]; g.k = gsz[i][2]; g.A = A; g.B = B; g.C = C;
        inner = (int)(2e7 / fl) + 1;
        nn_simd_set_threads(2);
        s2 = measure(run_nn_gemm, &g, reps, inner);
        nn_simd_set_threads(1);
        s1 = measure(run_nn_gemm, &g, reps, inner);
        printf("| %d x %d x %d | %.0f | %.2f / %.2f | %.2f / %.2f | %.2fx | %.2fx |\n",
               g.m, g.n, g.k, fl * 1e-3, s1.best * 1e6, s1.median * 1e6, s2.best * 1e6,
               s2.median * 1e6, s1.best / s2.best, s1.median / s2.median);
        fflush(stdout);
    }
    printf("\n| kernel | elements | 1 thread | 2 threads | 2T speedup (best) | (median) |\n");
    printf("|---|---|---|---|---|---|\n");
    for (kd = 0; kd < 4; kd++)
        for (i = 0; i < (int)(sizeof esz / sizeof esz[0]); i++) {
            ew_ctx e;
            stat2 s1, s2;
            int inner = (int)(4e6 / (double)esz[i]) + 1;
            e.kind = kd; e.n = esz[i]; e.x = A; e.y = C; e.s1 = S; e.s2 = B;
            if (kd == 3) { memset(S, 0, sizeof(float) * esz[i]); }
            if (kd == 3) { size_t q; for (q = 0; q < esz[i]; q++) B[q] = 0.5f; }
            nn_simd_set_threads(2);
            s2 = measure(run_ew, &e, reps, inner);
            nn_simd_set_threads(1);
            s1 = measure(run_ew, &e, reps, inner);
            printf("| %s | %lu | %.2f / %.2f | %.2f / %.2f | %.2fx | %.2fx |\n",
                   ename[kd], (unsigned long)esz[i], s1.best * 1e6, s1.median * 1e6,
                   s2.best * 1e6, s2.median * 1e6, s1.best / s2.best, s1.median / s2.median);
            fflush(stdout);
        }
    printf("\n");
    bench_par_min[0] = saved[0];
    bench_par_min[1] = saved[1];
    nn_simd_set_threads(0);
    free(A); free(B); free(C); free(S);
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    int i, contention = 1;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--no-contention")) contention = 0;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else { fprintf(stderr, "usage: %s [--quick] [--no-contention] [--only gemm|train|contention|thresholds]\n", argv[0]); return 2; }
    }
    if (nn_simd_init() != NN_OK) { fprintf(stderr, "bench_threads: bad NN_BACKEND\n"); return 1; }
    printf("# bench_threads: backend=%s, default threads=%d, CPUs online=%ld, OpenBLAS %s\n\n",
           nn_simd_backend_name(), nn_simd_get_threads(), sysconf(_SC_NPROCESSORS_ONLN),
#ifdef NN_BENCH_OPENBLAS
           "linked"
#else
           "not linked"
#endif
    );
#ifndef _OPENMP
    printf("built without OpenMP: every run below uses one thread\n\n");
#endif
    if (!only || !strcmp(only, "gemm")) {
        section_gemm(0, 1024, 1024, 1024, "");
        section_gemm(1, 256, 2048, 784, ": the wide net's first layer, forward");
    }
    if (!only || !strcmp(only, "train")) section_train();
    if (contention && (!only || !strcmp(only, "contention"))) section_contention();
    if (!only || !strcmp(only, "thresholds")) section_thresholds();
    return 0;
}
