/* bench_mpi.c - nn_mpi_fit on this machine, and a cost model for clusters.

   usage: mpirun -np P bench_mpi [--threads T] [--epochs E] [--reproducible] [--model]
     Trains 784-256-128-10 (Adam, global batch 128, 25,600 random samples) with
     nn_mpi_fit and prints, on rank 0, one line:
       mpi ranks P threads T samples/s S allreduce_us A
     where A is the median time of one MPI_Allreduce of the whole gradient (in place,
     floats, sum). A single process (P = 1) runs the same loop. --reproducible: with
     mpi.reproducible (8 parts per batch).
     --model: also time, on rank 0 alone with one thread, a training step of the local
     batch (128 rows: every rank keeps its batch as ranks are added) for 784-256-128-10
     and 784-2048-2048-10, and print the predicted samples/s and efficiency of P = 2..64
     ranks on 10, 25 and 100 Gb/s networks:
       t(P) = t_step + 2 (P - 1) / P * bytes / bandwidth + 2 (P - 1) * latency
     (a ring all-reduce without overlap; latency 20 us per message), as Markdown. */
#define _POSIX_C_SOURCE 199309L
#define NN_IMPLEMENTATION
#include "nn.h"
#include "nn_mpi.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_util.h"

static nn_net *make_net(int w1, int w2, int max_batch)
{
    nn_net_desc d;
    nn_net *net = NULL;
    memset(&d, 0, sizeof d);
    d.n_inputs = 784;
    d.layers[0].units = w1; d.layers[0].act = NN_ACT_RELU;
    d.layers[1].units = w2; d.layers[1].act = NN_ACT_RELU;
    d.layers[2].units = 10; d.layers[2].act = NN_ACT_SOFTMAX;
    d.max_batch = max_batch;
    d.seed = 7;
    if (nn_net_create(&d, &net) != NN_OK) { fprintf(stderr, "bench_mpi: net\n"); MPI_Abort(MPI_COMM_WORLD, 1); }
    return net;
}

static void fill(float *x, size_t n, unsigned s)
{
    size_t i;
    for (i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((s >> 8) & 0xffff) / 65536.0f;
    }
}

/* median seconds of one training step at batch B, one thread */
static double step_seconds(int w1, int w2, int B)
{
    enum { R = 30 };
    nn_net *net = make_net(w1, w2, B);
    nn_optim *opt = NULL;
    nn_optim_desc od;
    float *x = (float *)malloc(sizeof(float) * 784 * (size_t)B), loss;
    int *lab = (int *)malloc(sizeof(int) * (size_t)B), i;
    double t[R];
    memset(&od, 0, sizeof od);
    od.kind = NN_OPTIM_ADAM;
    nn_optim_create(net, &od, &opt);
    fill(x, (size_t)784 * B, 3);
    for (i = 0; i < B; i++) lab[i] = i % 10;
    for (i = 0; i < 5; i++) nn_train_step(net, opt, x, NULL, lab, B, &loss);
    for (i = 0; i < R; i++) {
        double t0 = now_s();
        nn_train_step(net, opt, x, NULL, lab, B, &loss);
        t[i] = now_s() - t0;
    }
    qsort(t, R, sizeof t[0], cmp_d);
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    free(x);
    free(lab);
    return t[R / 2];
}

int main(int argc, char **argv)
{
    enum { N = 25600, B = 128, REPS = 50 };
    int rank = 0, size = 1, threads = 1, epochs = 2, model = 0, repro = 0, i;
    nn_net *net;
    nn_optim *opt = NULL;
    nn_optim_desc od;
    nn_fit_desc fd;
    nn_mpi_desc md;
    float *x, *g;
    int *lab;
    size_t np;
    double t0, sps, ar[REPS];
    nn_status st;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--model")) model = 1;
        else if (!strcmp(argv[i], "--reproducible")) repro = 1;
        else { if (rank == 0) fprintf(stderr, "bench_mpi: unknown option %s\n", argv[i]); MPI_Finalize(); return 2; }
    }
    if (nn_simd_init() != NN_OK) MPI_Abort(MPI_COMM_WORLD, 1);
    nn_simd_set_threads(threads);
    x = (float *)malloc(sizeof(float) * 784 * (size_t)N);
    lab = (int *)malloc(sizeof(int) * (size_t)N);
    fill(x, (size_t)784 * N, 1);
    for (i = 0; i < N; i++) lab[i] = (i * 7) % 10;
    net = make_net(256, 128, B);
    memset(&od, 0, sizeof od);
    od.kind = NN_OPTIM_ADAM;
    nn_optim_create(net, &od, &opt);
    memset(&fd, 0, sizeof fd);
    memset(&md, 0, sizeof md);
    md.reproducible = repro;
    fd.epochs = 1; fd.batch = B; fd.quiet = 1;
    nn_mpi_fit(MPI_COMM_WORLD, net, opt, x, NULL, lab, N, &fd, &md, NULL); /* warm-up */
    fd.epochs = epochs;
    MPI_Barrier(MPI_COMM_WORLD);
    t0 = MPI_Wtime();
    st = nn_mpi_fit(MPI_COMM_WORLD, net, opt, x, NULL, lab, N, &fd, &md, NULL);
    sps = (double)N * epochs / (MPI_Wtime() - t0);
    g = nn_net_grads(net, &np, NULL);
    for (i = 0; i < REPS; i++) {
        MPI_Barrier(MPI_COMM_WORLD);
        t0 = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, g, (int)np, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        ar[i] = MPI_Wtime() - t0;
    }
    qsort(ar, REPS, sizeof ar[0], cmp_d);
    if (rank == 0)
        printf("mpi ranks %d threads %d samples/s %.0f allreduce_us %.1f status %s%s\n", size,
               threads, sps, ar[REPS / 2] * 1e6, nn_status_str(st), repro ? " reproducible" : "");
    if (model && rank == 0) {
        static const int P[] = {2, 4, 8, 16, 32, 64};
        static const double gbps[] = {10, 25, 100};
        static const int W[2][2] = {{256, 128}, {2048, 2048}};
        const double lat = 20e-6;
        int w, k, p;
        nn_simd_set_threads(1);
        for (w = 0; w < 2; w++) {
            const double bytes = 4.0 * ((784.0 + 1) * W[w][0] + (W[w][0] + 1.0) * W[w][1] + (W[w][1] + 1.0) * 10);
            const double ts = step_seconds(W[w][0], W[w][1], B);
            printf("\nmodel 784-%d-%d-10: step %.0f us at batch %d (1 thread), gradient %.2f MB\n\n",
                   W[w][0], W[w][1], ts * 1e6, B, bytes / 1e6);
            printf("| ranks |");
            for (k = 0; k < 3; k++) printf(" %g Gb/s: samples/s | efficiency |", gbps[k]);
            printf("\n|---|");
            for (k = 0; k < 3; k++) printf("---|---|");
            printf("\n");
            for (p = 0; p < (int)(sizeof P / sizeof P[0]); p++) {
                printf("| %d |", P[p]);
                for (k = 0; k < 3; k++) {
                    const double comm = 2.0 * (P[p] - 1) / P[p] * bytes / (gbps[k] * 1e9 / 8) +
                                        2.0 * (P[p] - 1) * lat;
                    printf(" %.0f | %.0f%% |", P[p] * B / (ts + comm), 100.0 * ts / (ts + comm));
                }
                printf("\n");
            }
        }
    }
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    free(x);
    free(lab);
    MPI_Finalize();
    return st == NN_OK ? 0 : 1;
}
