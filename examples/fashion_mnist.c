/* fashion_mnist.c - Fashion-MNIST with a 784-256-128-10 network (ReLU, softmax
   cross-entropy, AdamW, cosine learning-rate schedule), trained with nn_fit on 55,000
   images, validated on 5,000 held out, and tested on the official 10,000.

   Data: the Debian package dataset-fashion-mnist (gzipped IDX files under
   /usr/share/datasets/fashion-mnist/), or --data DIR.
   Writes into --out DIR (default build/fashion): learning_curve.svg/.csv and
   confusion.svg/.csv.

   usage: fashion_mnist [--epochs N] [--batch B] [--lr LR] [--seed S] [--threads T]
                        [--data DIR] [--out DIR] [--quiet] */
#define _DEFAULT_SOURCE /* gettimeofday; madvise for nn_data.h */
#define NN_IMPLEMENTATION
#define NN_DATA_IMPLEMENTATION
#include "nn.h"
#include "nn_data.h"
#include "plot_svg.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

static const char *const CLASS_NAMES[10] = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

static double now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
}

static int load(const char *dir, const char *prefix, nn_data *out)
{
    char img[1024], lab[1024];
    nn_status st;
    snprintf(img, sizeof img, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    snprintf(lab, sizeof lab, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    st = nn_data_load_idx(img, lab, NULL, out);
    if (st != NN_OK) {
        fprintf(stderr, "cannot load %s: %s\n", img, nn_status_str(st));
        if (st == NN_ERR_IO)
            fprintf(stderr, "Fashion-MNIST comes from the Debian package dataset-fashion-mnist:\n"
                            "    sudo apt-get install dataset-fashion-mnist\n"
                            "or give the folder with the four .gz IDX files: --data DIR\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *data_dir = "/usr/share/datasets/fashion-mnist", *out_dir = "build/fashion";
    int epochs = 15, batch = 128, threads = 0, quiet = 0, i, m[100];
    float lr = 2e-3f, prec[10], rec[10], test_acc = 0.0f;
    uint64_t seed = 1;
    nn_data train, test;
    nn_net_desc d;
    nn_optim_desc od;
    nn_fit_desc fd;
    nn_fit_report rep;
    nn_net *net;
    nn_optim *opt;
    nn_status st;
    char path[1024], path2[1024];
    double t0 = now(), t_load, t_train;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quiet")) { quiet = 1; continue; }
        if (!v) { fprintf(stderr, "missing value for %s\n", a); return 2; }
        if (!strcmp(a, "--epochs")) epochs = atoi(v);
        else if (!strcmp(a, "--batch")) batch = atoi(v);
        else if (!strcmp(a, "--lr")) lr = (float)atof(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else if (!strcmp(a, "--data")) data_dir = v;
        else if (!strcmp(a, "--out")) out_dir = v;
        else { fprintf(stderr, "unknown option %s\n", a); return 2; }
        i++;
    }
    if (threads > 0) nn_simd_set_threads(threads);

    if (load(data_dir, "train", &train) || load(data_dir, "t10k", &test)) return 1;
    t_load = now() - t0;

    memset(&d, 0, sizeof d);
    d.n_inputs = train.dim;
    d.layers[0].units = 256; d.layers[0].act = NN_ACT_RELU;
    d.layers[1].units = 128; d.layers[1].act = NN_ACT_RELU;
    d.layers[2].units = 10;  d.layers[2].act = NN_ACT_SOFTMAX;
    d.max_batch = batch > 256 ? batch : 256;
    d.seed = seed;
    if ((st = nn_net_create(&d, &net)) != NN_OK) {
        fprintf(stderr, "nn_net_create: %s\n", nn_status_str(st));
        return 1;
    }
    memset(&od, 0, sizeof od);
    od.kind = NN_OPTIM_ADAMW;
    od.lr = lr;
    od.weight_decay = 0.02f;
    if ((st = nn_optim_create(net, &od, &opt)) != NN_OK) {
        fprintf(stderr, "nn_optim_create: %s\n", nn_status_str(st));
        return 1;
    }
    memset(&fd, 0, sizeof fd);
    fd.epochs = epochs;
    fd.batch = batch;
    fd.seed = seed;
    fd.val_fraction = 5000.0f / (float)train.n;
    fd.schedule = NN_SCHEDULE_COSINE;
    fd.warmup_epochs = 1;
    fd.quiet = quiet;
    printf("Fashion-MNIST: %d training images (%d held out for validation), %d test; loaded "
           "in %.2f s\nnetwork 784-256-128-10 ReLU/softmax, AdamW lr %g wd %g, cosine schedule, "
           "batch %d, %d epochs, backend %s, %d thread(s)\n",
           train.n, (int)(fd.val_fraction * (float)train.n), test.n, t_load, (double)lr,
           (double)od.weight_decay, batch, epochs, nn_simd_backend_name(), nn_simd_get_threads());
    fflush(stdout);

    t0 = now();
    st = nn_fit(net, opt, train.x, NULL, train.labels, train.n, &fd, &rep);
    t_train = now() - t0;
    if (st != NN_OK) {
        fprintf(stderr, "nn_fit: %s\n", nn_status_str(st));
        return 1;
    }
    nn_net_confusion(net, test.x, test.labels, test.n, m, prec, rec, &test_acc);
    printf("\ntest accuracy %.4f  (training %.2f s, %.0f samples/s; total with loading %.2f s)\n",
           (double)test_acc, t_train, (double)rep.epochs_run * (train.n - 5000) / t_train,
           t_train + t_load);
    printf("%-12s %9s %7s\n", "class", "precision", "recall");
    for (i = 0; i < 10; i++)
        printf("%-12s %9.3f %7.3f\n", CLASS_NAMES[i], (double)prec[i], (double)rec[i]);

    mkdir(out_dir, 0755);
    snprintf(path, sizeof path, "%s/learning_curve.svg", out_dir);
    snprintf(path2, sizeof path2, "%s/learning_curve.csv", out_dir);
    if (plot_learning_curve(path, path2, rep.history, rep.epochs_run) == 0)
        printf("wrote %s and %s\n", path, path2);
    snprintf(path, sizeof path, "%s/confusion.svg", out_dir);
    snprintf(path2, sizeof path2, "%s/confusion.csv", out_dir);
    if (plot_confusion(path, path2, m, 10, CLASS_NAMES) == 0) printf("wrote %s and %s\n", path, path2);

    nn_fit_report_free(&rep);
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    nn_data_free(&train);
    nn_data_free(&test);
    return 0;
}
