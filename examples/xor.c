/* xor.c - the two classic truth tables. AND is linearly separable: one sigmoid neuron
   learns it. XOR is not: it needs a hidden layer (here 2-4-1, tanh then sigmoid). */
#define NN_IMPLEMENTATION
#include "nn.h"
#include <stdio.h>

static const float X[8] = { 0, 0, 0, 1, 1, 0, 1, 1 };

static void train_and_show(const char *name, const float *y, int hidden)
{
    nn_net_desc d = { 0 };
    nn_optim_desc od = { 0 };
    nn_net *net;
    nn_optim *opt;
    const float *out;
    float loss = 0.0f;
    int e, i;
    d.n_inputs = 2;
    if (hidden) {
        d.layers[0].units = hidden;
        d.layers[0].act = NN_ACT_TANH;
        d.layers[1].units = 1;
        d.layers[1].act = NN_ACT_SIGMOID; /* -> binary cross-entropy */
    } else {
        d.layers[0].units = 1;
        d.layers[0].act = NN_ACT_SIGMOID;
    }
    d.seed = 11;
    nn_net_create(&d, &net);
    od.kind = NN_OPTIM_ADAM;
    od.lr = 0.05f;
    nn_optim_create(net, &od, &opt);
    for (e = 0; e < 1000; e++) nn_train_step(net, opt, X, y, NULL, 4, &loss); /* full batch */
    nn_net_forward(net, X, 4, &out);
    printf("%s (%s): loss %.5f after 1000 full-batch Adam steps\n", name,
           hidden ? "2-4-1 tanh/sigmoid" : "one sigmoid neuron", (double)loss);
    for (i = 0; i < 4; i++)
        printf("  %g %g -> %.4f  (want %g)\n", (double)X[2 * i], (double)X[2 * i + 1],
               (double)out[i], (double)y[i]);
    nn_optim_destroy(opt);
    nn_net_destroy(net);
}

int main(void)
{
    static const float AND[4] = { 0, 0, 0, 1 }, XOR[4] = { 0, 1, 1, 0 };
    printf("backend: %s\n", nn_simd_backend_name());
    train_and_show("AND", AND, 0);
    train_and_show("XOR", XOR, 4);
    return 0;
}
