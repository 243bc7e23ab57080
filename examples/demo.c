/* demo.c - classify a 3-arm spiral (data generated here) with a 2-64-64-3 network.
   Mini-batch Adam on softmax cross-entropy, data shuffled every epoch; prints the loss
   and accuracy per epoch and the final accuracy on a held-out set. */
#define _POSIX_C_SOURCE 199309L
#define NN_IMPLEMENTATION
#include "nn.h"
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>

#define CLASSES 3
#define PER_CLASS 600

/* Arm c: radius r in (0,1], angle 10r + 2*pi*c/3 (1.6 turns) plus Gaussian noise. */
static void make_spiral(nn_rng *r, float *x, int *labels, int n_per_class)
{
    int c, i, k = 0;
    for (c = 0; c < CLASSES; c++) {
        for (i = 0; i < n_per_class; i++, k++) {
            float rad = (float)(i + 1) / (float)n_per_class;
            float t = 10.0f * rad + 2.0943951f * (float)c + 0.2f * nn_rng_normal(r);
            x[2 * k] = rad * sinf(t);
            x[2 * k + 1] = rad * cosf(t);
            labels[k] = c;
        }
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void)
{
    enum { N = CLASSES * PER_CLASS, NT = CLASSES * 200, BATCH = 32, EPOCHS = 40 };
    static float x[2 * N], xt[2 * NT], xb[2 * BATCH];
    static int y[N], yt[NT], yb[BATCH], order[N];
    nn_net_desc d = { 0 };
    nn_optim_desc od = { 0 };
    nn_net *net;
    nn_optim *opt;
    nn_rng rng;
    nn_status st;
    int e, i, j;
    float acc = 0.0f, tacc = 0.0f;
    double t0 = now();

    nn_rng_seed(&rng, 42);
    make_spiral(&rng, x, y, PER_CLASS);
    make_spiral(&rng, xt, yt, NT / CLASSES);

    d.n_inputs = 2;
    d.layers[0].units = 64;  d.layers[0].act = NN_ACT_RELU;
    d.layers[1].units = 64;  d.layers[1].act = NN_ACT_RELU;
    d.layers[2].units = CLASSES;  d.layers[2].act = NN_ACT_SOFTMAX;  /* loss: softmax CE */
    d.max_batch = 256;
    d.seed = 7;
    if ((st = nn_net_create(&d, &net)) != NN_OK) {
        fprintf(stderr, "nn_net_create: %s\n", nn_status_str(st));
        return 1;
    }
    od.kind = NN_OPTIM_ADAM;
    od.lr = 0.01f;
    if ((st = nn_optim_create(net, &od, &opt)) != NN_OK) {
        fprintf(stderr, "nn_optim_create: %s\n", nn_status_str(st));
        return 1;
    }
    printf("nn.h demo: 3-arm spiral, %d training / %d test points, network 2-64-64-3 "
           "(ReLU, softmax CE), Adam lr %.3g, batch %d, backend %s\n",
           N, NT, (double)od.lr, BATCH, nn_simd_backend_name());

    for (i = 0; i < N; i++) order[i] = i;
    for (e = 1; e <= EPOCHS; e++) {
        double sum = 0.0;
        int batches = 0;
        for (i = N - 1; i > 0; i--) { /* Fisher-Yates with the seeded RNG */
            int k = (int)(nn_rng_u64(&rng) % (uint64_t)(i + 1)), t = order[i];
            order[i] = order[k];
            order[k] = t;
        }
        for (i = 0; i + BATCH <= N; i += BATCH) {
            float loss;
            for (j = 0; j < BATCH; j++) {
                xb[2 * j] = x[2 * order[i + j]];
                xb[2 * j + 1] = x[2 * order[i + j] + 1];
                yb[j] = y[order[i + j]];
            }
            if ((st = nn_train_step(net, opt, xb, NULL, yb, BATCH, &loss)) != NN_OK) {
                fprintf(stderr, "nn_train_step: %s\n", nn_status_str(st));
                return 1;
            }
            sum += loss;
            batches++;
        }
        nn_net_accuracy(net, x, y, N, &acc);
        if (e == 1 || e % 5 == 0)
            printf("epoch %2d  loss %.4f  train accuracy %.3f\n", e, sum / batches, (double)acc);
    }
    nn_net_accuracy(net, xt, yt, NT, &tacc);
    printf("final: train accuracy %.3f, test accuracy %.3f (%.2f s)\n", (double)acc,
           (double)tacc, now() - t0);
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    return tacc > 0.9f ? 0 : 1;
}
