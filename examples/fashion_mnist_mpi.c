/* fashion_mnist_mpi.c - the Fashion-MNIST example (784-256-128-10, AdamW, cosine
   schedule, 55,000 images trained, 5,000 validated, 10,000 tested) on several MPI
   ranks with nn_mpi_fit: every rank loads the data, computes its share of every batch
   of 128, and the gradients are summed over the ranks each step.

     make build/ex_fashion_mnist_mpi
     mpirun -np 2 build/ex_fashion_mnist_mpi [--epochs N] [--threads T]
            [--reproducible] [--data DIR]

   --reproducible gives the same final weights for any number of ranks (8 parts per
   batch). Only rank 0 prints and writes build/fashion_mpi.nn. */
#define NN_IMPLEMENTATION
#define NN_DATA_IMPLEMENTATION
#include "nn.h"
#include "nn_data.h"
#include "nn_mpi.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load(const char *dir, const char *prefix, nn_data *out, int rank)
{
    char img[1024], lab[1024];
    nn_status st;
    snprintf(img, sizeof img, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    snprintf(lab, sizeof lab, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    st = nn_data_load_idx(img, lab, NULL, out);
    if (st != NN_OK && rank == 0)
        fprintf(stderr, "cannot load %s: %s (sudo apt-get install dataset-fashion-mnist, "
                        "or --data DIR)\n", img, nn_status_str(st));
    return st != NN_OK;
}

int main(int argc, char **argv)
{
    const char *data_dir = "/usr/share/datasets/fashion-mnist";
    int epochs = 15, threads = 0, rank = 0, size = 1, i, bad, any_bad = 0;
    float test_acc = 0.0f;
    double t0;
    nn_data train, test;
    nn_net_desc d;
    nn_optim_desc od;
    nn_fit_desc fd;
    nn_mpi_desc md;
    nn_fit_report rep;
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    nn_status st;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    memset(&md, 0, sizeof md);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--reproducible")) { md.reproducible = 1; continue; }
        if (!v) { if (rank == 0) fprintf(stderr, "missing value for %s\n", a); MPI_Finalize(); return 2; }
        if (!strcmp(a, "--epochs")) epochs = atoi(v);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else if (!strcmp(a, "--data")) data_dir = v;
        else { if (rank == 0) fprintf(stderr, "unknown option %s\n", a); MPI_Finalize(); return 2; }
        i++;
    }
    if (threads > 0) nn_simd_set_threads(threads);
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    bad = load(data_dir, "train", &train, rank) || load(data_dir, "t10k", &test, rank);
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (any_bad) { nn_data_free(&train); nn_data_free(&test); MPI_Finalize(); return 1; }

    memset(&d, 0, sizeof d);
    d.n_inputs = train.dim;
    d.layers[0].units = 256; d.layers[0].act = NN_ACT_RELU;
    d.layers[1].units = 128; d.layers[1].act = NN_ACT_RELU;
    d.layers[2].units = 10;  d.layers[2].act = NN_ACT_SOFTMAX;
    d.max_batch = 256;
    d.seed = 1;                  /* the same on every rank */
    memset(&od, 0, sizeof od);
    od.kind = NN_OPTIM_ADAMW;
    od.lr = 2e-3f;
    od.weight_decay = 0.02f;
    if ((st = nn_net_create(&d, &net)) != NN_OK || (st = nn_optim_create(net, &od, &opt)) != NN_OK) {
        fprintf(stderr, "rank %d: %s\n", rank, nn_status_str(st));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    memset(&fd, 0, sizeof fd);
    fd.epochs = epochs;
    fd.batch = 128;              /* the global batch: each rank computes 128 / size rows */
    fd.seed = 1;
    fd.val_fraction = 5000.0f / (float)train.n;
    fd.schedule = NN_SCHEDULE_COSINE;
    fd.warmup_epochs = 1;
    if (rank == 0)
        printf("Fashion-MNIST on %d rank(s) x %d thread(s), global batch 128%s\n", size,
               nn_simd_get_threads(), md.reproducible ? ", reproducible" : "");
    t0 = MPI_Wtime();
    st = nn_mpi_fit(MPI_COMM_WORLD, net, opt, train.x, NULL, train.labels, train.n, &fd, &md, &rep);
    if (st != NN_OK) {
        if (rank == 0) fprintf(stderr, "nn_mpi_fit: %s\n", nn_status_str(st));
    } else {
        nn_net_accuracy(net, test.x, test.labels, test.n, &test_acc);
        if (rank == 0)
            printf("test accuracy %.4f  (training %.2f s, %.0f samples/s)\n", (double)test_acc,
                   MPI_Wtime() - t0, (double)rep.epochs_run * (train.n - 5000) / (MPI_Wtime() - t0));
        st = nn_mpi_save(MPI_COMM_WORLD, net, opt, "build/fashion_mpi.nn");
        if (rank == 0) printf("build/fashion_mpi.nn: %s\n", nn_status_str(st));
    }
    nn_fit_report_free(&rep);
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    nn_data_free(&train);
    nn_data_free(&test);
    MPI_Finalize();
    return st == NN_OK ? 0 : 1;
}
