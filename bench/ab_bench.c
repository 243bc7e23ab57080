/* ab_bench.c - one measurement per run, for A/B comparisons of two versions of the
   headers (bench/ab.sh builds this file against each and alternates the runs).
   Public API only, so any version of nn.h builds it.

   usage: ab_bench WHAT THREADS     prints "<value> <unit>" (one line)
     step     784-256-128-10, batch 128, Adam: nn_train_step, us per step (median of
              the run's steps, after a warm-up); stepN: batch N (e.g. step32)
     fit      nn_fit, one epoch of 12,800 random samples, batch 128: samples/s
     gemm1024 nn_simd_gemm 1024^3: GFLOP/s (best of the run)
     gemm9    the nine training GEMMs of 784-256-128-10 at batch 128 (forward NT,
              backward-data NN, weight-gradient TN): total us (sum of per-shape medians);
              gemm9_N: at batch N
     infer    nn_net_predict of 1,000 samples (max_batch 1000): samples/s (median)
     latency  nn_net_forward of one sample: us (median) */
#define _POSIX_C_SOURCE 199309L
#define NN_IMPLEMENTATION
#include "nn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_util.h"

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

static void fill(float *x, size_t n, unsigned s)
{
    size_t i;
    for (i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
}

static nn_net *make_net(int max_batch)
{
    nn_net_desc d;
    nn_net *net = NULL;
    memset(&d, 0, sizeof d);
    d.n_inputs = 784;
    d.layers[0].units = 256; d.layers[0].act = NN_ACT_RELU;
    d.layers[1].units = 128; d.layers[1].act = NN_ACT_RELU;
    d.layers[2].units = 10;  d.layers[2].act = NN_ACT_SOFTMAX;
    d.max_batch = max_batch;
    d.seed = 7;
    if (nn_net_create(&d, &net) != NN_OK) { fprintf(stderr, "ab_bench: net\n"); exit(1); }
    return net;
}

int main(int argc, char **argv)
{
    enum { NS = 200 };
    static double t[NS];
    const char *what = argc > 1 ? argv[1] : "";
    int threads = argc > 2 ? atoi(argv[2]) : 1, i, r;
    if (argc != 3 || nn_simd_init() != NN_OK) {
        fprintf(stderr, "usage: ab_bench step|fit|gemm1024|gemm9|infer|latency THREADS\n");
        return 2;
    }
    nn_simd_set_threads(threads);
    if (!strncmp(what, "step", 4) || !strcmp(what, "fit")) {
        const int n = 12800, B = what[0] == 's' && what[4] ? atoi(what + 4) : 128;
        float *x = (float *)malloc(sizeof(float) * 784 * n);
        int *lab = (int *)malloc(sizeof(int) * n);
        nn_net *net = make_net(B);
        nn_optim *opt = NULL;
        nn_optim_desc od;
        float loss;
        memset(&od, 0, sizeof od);
        od.kind = NN_OPTIM_ADAM;
        fill(x, (size_t)784 * n, 1);
        for (i = 0; i < n; i++) lab[i] = (i * 7) % 10;
        if (nn_optim_create(net, &od, &opt) != NN_OK) return 1;
        if (B < 1 || B > n) { fprintf(stderr, "ab_bench: batch %d\n", B); return 2; }
        if (what[0] == 's') {
            for (i = 0; i < 20; i++) nn_train_step(net, opt, x + (size_t)(i % (n / B)) * B * 784, NULL, lab + (i % (n / B)) * B, B, &loss);
            for (r = 0; r < NS; r++) {
                double t0 = now_s();
                nn_train_step(net, opt, x + (size_t)(r % (n / B)) * B * 784, NULL, lab + (r % (n / B)) * B, B, &loss);
                t[r] = (now_s() - t0) * 1e6;
            }
            printf("%.2f us\n", median(t, NS));
        } else {
            nn_fit_desc fd;
            double t0;
            memset(&fd, 0, sizeof fd);
            fd.epochs = 1; fd.batch = B; fd.quiet = 1;
            nn_fit(net, opt, x, NULL, lab, n, &fd, NULL); /* warm-up */
            t0 = now_s();
            nn_fit(net, opt, x, NULL, lab, n, &fd, NULL);
            printf("%.0f samples/s\n", n / (now_s() - t0));
        }
        nn_optim_destroy(opt);
        nn_net_destroy(net);
        free(x);
        free(lab);
    } else if (!strcmp(what, "gemm1024")) {
        const int N = 1024;
        float *A = (float *)malloc(sizeof(float) * N * N), *B = (float *)malloc(sizeof(float) * N * N),
              *C = (float *)malloc(sizeof(float) * N * N);
        double best = 1e30;
        fill(A, (size_t)N * N, 2); fill(B, (size_t)N * N, 3);
        for (r = 0; r < 12; r++) {
            double t0 = now_s(), dt;
            nn_simd_gemm(0, 0, N, N, N, 1.0f, A, N, B, N, 0.0f, C, N);
            dt = now_s() - t0;
            if (r >= 2 && dt < best) best = dt;
        }
        printf("%.1f GFLOP/s\n", 2.0 * N * N * N / best * 1e-9);
        free(A); free(B); free(C);
    } else if (!strncmp(what, "gemm9", 5)) {
        static const int L[3][2] = {{784, 256}, {256, 128}, {128, 10}};
        const int Bt = what[5] == '_' ? atoi(what + 6) : 128;
        const size_t big = (size_t)784 * (Bt > 256 ? Bt : 256);
        float *A = (float *)malloc(sizeof(float) * big), *Bm = (float *)malloc(sizeof(float) * big),
              *C = (float *)malloc(sizeof(float) * big);
        double total = 0.0;
        int l, op;
        if (Bt < 1 || Bt > 4096) { fprintf(stderr, "ab_bench: batch %d\n", Bt); return 2; }
        fill(A, big, 4); fill(Bm, big, 5);
        for (l = 0; l < 3; l++)
            for (op = 0; op < 3; op++) {
                const int in = L[l][0], out = L[l][1];
                int ta = 0, tb = 0, m = Bt, nn = out, k = in, ld_a, ld_b;
                if (op == 0) { tb = 1; }                          /* forward: Z = A W^T */
                else if (op == 1) { nn = in; k = out; }           /* backward-data: dA = dZ W */
                else { ta = 1; m = out; nn = in; k = Bt; }        /* weight gradient: dW = dZ^T A */
                ld_a = ta ? m : k;
                ld_b = tb ? k : nn;
                for (r = 0; r < NS; r++) {
                    double t0 = now_s();
                    nn_simd_gemm(ta, tb, m, nn, k, 1.0f, A, ld_a, Bm, ld_b, 0.0f, C, nn);
                    t[r] = (now_s() - t0) * 1e6;
                }
                total += median(t + 10, NS - 10);
            }
        printf("%.2f us\n", total);
        free(A); free(Bm); free(C);
    } else if (!strcmp(what, "infer") || !strcmp(what, "latency")) {
        const int lat = !strcmp(what, "latency"), n = lat ? 1 : 1000;
        nn_net *net = make_net(n);
        float *x = (float *)malloc(sizeof(float) * 784 * n), *out = (float *)malloc(sizeof(float) * 10 * n);
        const float *y;
        fill(x, (size_t)784 * n, 6);
        for (r = 0; r < NS + 20; r++) {
            double t0 = now_s();
            if (lat) nn_net_forward(net, x, 1, &y);
            else nn_net_predict(net, x, n, out);
            if (r >= 20) t[r - 20] = now_s() - t0;
        }
        if (lat) printf("%.3f us\n", median(t, NS) * 1e6);
        else printf("%.0f samples/s\n", n / median(t, NS));
        nn_net_destroy(net);
        free(x); free(out);
    } else {
        fprintf(stderr, "ab_bench: unknown measurement %s\n", what);
        return 2;
    }
    return 0;
}
