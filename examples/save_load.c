/* save_load.c - train, save (with the optimizer state), load into a new network, and
   check that the loaded network predicts exactly the same outputs; then resume training
   from the file and check it matches training that never stopped.

   usage: save_load [PATH]   (default build/spiral_model.nnm) */
#define NN_IMPLEMENTATION
#include "nn.h"
#include <stdio.h>
#include <string.h>
#include <math.h>

enum { N = 900, K = 3 };
static float X[2 * N];
static int Y[N];

static void data(void)
{
    nn_rng r;
    int i;
    nn_rng_seed(&r, 8);
    for (i = 0; i < N; i++) {
        float rad = (float)(i / K + 1) / (N / K), t = 8.0f * rad + 2.0944f * (float)(i % K);
        X[2 * i] = rad * sinf(t) + 0.02f * nn_rng_normal(&r);
        X[2 * i + 1] = rad * cosf(t) + 0.02f * nn_rng_normal(&r);
        Y[i] = i % K;
    }
}

static void train(nn_net *net, nn_optim *opt, int epochs)
{
    nn_fit_desc fd;
    memset(&fd, 0, sizeof fd);
    fd.epochs = epochs;
    fd.batch = 30;
    fd.quiet = 1;
    nn_fit(net, opt, X, NULL, Y, N, &fd, NULL);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "build/spiral_model.nnm";
    static float before[N * K], after[N * K];
    nn_net_desc d;
    nn_optim_desc od;
    nn_net *net, *loaded = NULL, *twin;
    nn_optim *opt, *lopt = NULL, *topt;
    nn_status st;
    size_t n;
    float acc;
    int same;

    data();
    memset(&d, 0, sizeof d);
    d.n_inputs = 2;
    d.layers[0].units = 64; d.layers[0].act = NN_ACT_RELU;
    d.layers[1].units = 64; d.layers[1].act = NN_ACT_RELU;
    d.layers[2].units = K;  d.layers[2].act = NN_ACT_SOFTMAX;
    d.seed = 4;
    memset(&od, 0, sizeof od);
    od.kind = NN_OPTIM_ADAMW;
    od.lr = 0.01f;
    nn_net_create(&d, &net);
    nn_optim_create(net, &od, &opt);
    nn_net_create(&d, &twin); /* trains without interruption, for comparison */
    nn_optim_create(twin, &od, &topt);

    train(net, opt, 20);
    train(twin, topt, 20);
    nn_net_accuracy(net, X, Y, N, &acc);
    printf("trained 20 epochs: accuracy %.3f (backend %s)\n", (double)acc, nn_simd_backend_name());

    if ((st = nn_net_save(net, opt, path)) != NN_OK) {
        fprintf(stderr, "save %s: %s\n", path, nn_status_str(st));
        return 1;
    }
    if ((st = nn_net_load(path, NULL, &loaded, &lopt)) != NN_OK) {
        fprintf(stderr, "load %s: %s\n", path, nn_status_str(st));
        return 1;
    }
    nn_net_predict(net, X, N, before);
    nn_net_predict(loaded, X, N, after);
    same = memcmp(before, after, sizeof before) == 0;
    printf("saved to %s and loaded: predictions %s\n", path,
           same ? "bit-identical" : "DIFFER");

    train(loaded, lopt, 10); /* resume from the file ... */
    train(twin, topt, 10);   /* ... and without stopping */
    nn_net_params(loaded, &n, NULL);
    same = same && memcmp(nn_net_params(loaded, NULL, NULL), nn_net_params(twin, NULL, NULL),
                          n * sizeof(float)) == 0;
    nn_net_accuracy(loaded, X, Y, N, &acc);
    printf("resumed 10 more epochs from the file: accuracy %.3f, weights %s uninterrupted "
           "training\n", (double)acc,
           same ? "bit-identical to" : "DIFFERENT from");

    nn_optim_destroy(lopt); nn_net_destroy(loaded);
    nn_optim_destroy(topt); nn_net_destroy(twin);
    nn_optim_destroy(opt);  nn_net_destroy(net);
    return same ? 0 : 1;
}
