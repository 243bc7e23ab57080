/* logistic.c - logistic regression: one sigmoid neuron trained with binary cross-entropy
   and plain SGD on two Gaussian clouds. Prints the learned boundary w.x + b = 0. */
#define NN_IMPLEMENTATION
#include "nn.h"
#include <stdio.h>

int main(void)
{
    enum { N = 1000 };
    static float x[2 * N], y[N];
    static int labels[N];
    nn_net_desc d = { 0 };
    nn_optim_desc od = { 0 };
    nn_fit_desc fd = { 0 };
    nn_net *net;
    nn_optim *opt;
    nn_rng r;
    float *W = NULL, *b = NULL, acc = 0.0f;
    int i;
    nn_rng_seed(&r, 5);
    for (i = 0; i < N; i++) { /* class 1 around (1, 1), class 0 around (-1, -0.5) */
        int c = i % 2;
        x[2 * i] = (c ? 1.0f : -1.0f) + 0.6f * nn_rng_normal(&r);
        x[2 * i + 1] = (c ? 1.0f : -0.5f) + 0.6f * nn_rng_normal(&r);
        y[i] = (float)c;
        labels[i] = c;
    }
    d.n_inputs = 2;
    d.layers[0].units = 1;
    d.layers[0].act = NN_ACT_SIGMOID; /* loss defaults to BCE */
    nn_net_create(&d, &net);
    od.kind = NN_OPTIM_SGD;
    od.lr = 0.5f;
    nn_optim_create(net, &od, &opt);
    fd.epochs = 20;
    fd.batch = 50;
    fd.val_fraction = 0.2f;
    printf("logistic regression, %d points, SGD lr 0.5, batch 50 (backend %s)\n", N,
           nn_simd_backend_name());
    fflush(stdout); /* progress goes to stderr */
    nn_fit(net, opt, x, y, NULL, N, &fd, NULL);
    nn_net_layer(net, 0, NULL, NULL, &W, &b, NULL, NULL);
    nn_net_accuracy(net, x, labels, N, &acc);
    printf("boundary: %.3f*x0 + %.3f*x1 + %.3f = 0, accuracy %.3f\n", (double)W[0],
           (double)W[1], (double)b[0], (double)acc);
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    return 0;
}
