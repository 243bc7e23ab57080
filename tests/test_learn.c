/* test_learn.c - the library learns what it should, from fixed seeds:
   - AND (one sigmoid neuron) and XOR (2-4-1) reach 100% accuracy;
   - XOR is learned by every optimizer, and by SGD as full-batch, mini-batch and
     per-sample (batch 1) descent;
   - logistic regression (one sigmoid neuron, BCE) separates a linearly separable set;
   - a 1-D regression of a noisy sine (MSE) gets within a stated error of sin(x). */
#ifndef NN_TEST_LINKED /* make links tests/nn_test_impl.c, built once */
#define NN_IMPLEMENTATION
#endif
#include "nn.h"
#include "nn_test.h"
#include <math.h>

static const float X4[8] = { 0, 0, 0, 1, 1, 0, 1, 1 };

static nn_net *make(int n_in, int hidden, nn_act hact, int out, nn_act oact, uint64_t seed)
{
    nn_net_desc d;
    nn_net *net = NULL;
    memset(&d, 0, sizeof d);
    d.n_inputs = n_in;
    if (hidden) {
        d.layers[0].units = hidden;
        d.layers[0].act = hact;
        d.layers[1].units = out;
        d.layers[1].act = oact;
    } else {
        d.layers[0].units = out;
        d.layers[0].act = oact;
    }
    d.seed = seed;
    NN_CHECK(nn_net_create(&d, &net) == NN_OK, "create");
    return net;
}

/* Trains on the 4 rows of a truth table with the given batch size; returns accuracy. */
static float train_table(nn_net *net, const nn_optim_desc *od, const int *labels, int batch,
                         int epochs)
{
    nn_optim *opt = NULL;
    float y[4], acc = 0.0f, loss;
    int e, i;
    for (i = 0; i < 4; i++) y[i] = (float)labels[i];
    NN_CHECK(nn_optim_create(net, od, &opt) == NN_OK, "optim create");
    for (e = 0; e < epochs; e++)
        for (i = 0; i < 4; i += batch)
            NN_CHECK(nn_train_step(net, opt, X4 + 2 * i, y + i, NULL, batch, &loss) == NN_OK,
                     "train step");
    nn_net_accuracy(net, X4, labels, 4, &acc);
    nn_optim_destroy(opt);
    return acc;
}

static void logic_gates(void)
{
    static const int AND[4] = { 0, 0, 0, 1 }, XOR[4] = { 0, 1, 1, 0 };
    static const struct { nn_optim_kind kind; float lr; int batch; int epochs; const char *what; } cfg[] = {
        { NN_OPTIM_SGD, 0.5f, 4, 3000, "sgd full-batch" },
        { NN_OPTIM_SGD, 0.5f, 2, 2000, "sgd mini-batch" },
        { NN_OPTIM_SGD, 0.2f, 1, 2000, "sgd per-sample" },
        { NN_OPTIM_MOMENTUM, 0.1f, 4, 1500, "momentum" },
        { NN_OPTIM_NESTEROV, 0.1f, 4, 1500, "nesterov" },
        { NN_OPTIM_ADAGRAD, 0.3f, 4, 1500, "adagrad" },
        { NN_OPTIM_RMSPROP, 0.01f, 4, 1500, "rmsprop" },
        { NN_OPTIM_ADAM, 0.05f, 4, 1000, "adam" },
        { NN_OPTIM_ADAMW, 0.05f, 4, 1000, "adamw" },
    };
    size_t c;
    nn_optim_desc od;
    nn_net *net;
    float acc;

    memset(&od, 0, sizeof od);
    od.kind = NN_OPTIM_SGD;
    od.lr = 1.0f;
    net = make(2, 0, NN_ACT_DEFAULT, 1, NN_ACT_SIGMOID, 3);
    acc = train_table(net, &od, AND, 4, 2000);
    NN_CHECK(acc == 1.0f, "AND with one sigmoid neuron: accuracy %.2f", (double)acc);
    nn_net_destroy(net);

    for (c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        memset(&od, 0, sizeof od);
        od.kind = cfg[c].kind;
        od.lr = cfg[c].lr;
        net = make(2, 4, NN_ACT_TANH, 1, NN_ACT_SIGMOID, 11);
        acc = train_table(net, &od, XOR, cfg[c].batch, cfg[c].epochs);
        NN_CHECK(acc == 1.0f, "XOR 2-4-1 tanh/sigmoid BCE, %s: accuracy %.2f", cfg[c].what, (double)acc);
        nn_net_destroy(net);
    }
    /* softmax output with class labels */
    memset(&od, 0, sizeof od);
    od.lr = 0.05f;
    net = make(2, 8, NN_ACT_RELU, 2, NN_ACT_SOFTMAX, 4);
    {
        nn_optim *opt = NULL;
        float loss;
        int e;
        nn_optim_create(net, &od, &opt);
        for (e = 0; e < 500; e++) nn_train_step(net, opt, X4, NULL, XOR, 4, &loss);
        nn_net_accuracy(net, X4, XOR, 4, &acc);
        NN_CHECK(acc == 1.0f && loss < 0.05f, "XOR 2-8-2 relu/softmax CE: accuracy %.2f loss %.3f",
                 (double)acc, (double)loss);
        nn_optim_destroy(opt);
    }
    nn_net_destroy(net);
}

static void logistic_regression(void)
{
    enum { N = 400 };
    static float x[2 * N], y[N];
    static int lab[N];
    nn_rng r;
    nn_net *net = make(2, 0, NN_ACT_DEFAULT, 1, NN_ACT_SIGMOID, 8);
    nn_optim *opt = NULL;
    nn_optim_desc od;
    float acc = 0.0f, loss = 0.0f;
    int i, e;
    nn_rng_seed(&r, 21);
    for (i = 0; i < N; i++) { /* separable: label = [1.5 x0 - x1 + 0.3 > 0], margin 0.1 */
        float a, b, s;
        do {
            a = 4.0f * nn_rng_uniform(&r) - 2.0f;
            b = 4.0f * nn_rng_uniform(&r) - 2.0f;
            s = 1.5f * a - b + 0.3f;
        } while (fabsf(s) < 0.1f);
        x[2 * i] = a;
        x[2 * i + 1] = b;
        lab[i] = s > 0;
        y[i] = (float)lab[i];
    }
    memset(&od, 0, sizeof od);
    od.kind = NN_OPTIM_SGD;
    od.lr = 1.0f;
    nn_optim_create(net, &od, &opt);
    for (e = 0; e < 300; e++) /* mini-batches of 100 (max_batch is 256) */
        for (i = 0; i < N; i += 100) nn_train_step(net, opt, x + 2 * i, y + i, NULL, 100, &loss);
    nn_net_accuracy(net, x, lab, N, &acc);
    NN_CHECK(acc == 1.0f, "logistic regression on a separable set: accuracy %.4f (loss %.4f)",
             (double)acc, (double)loss);
    {   /* the learned boundary points the right way: w0/-w1 ~ 1.5 */
        float *W = NULL;
        nn_net_layer(net, 0, NULL, NULL, &W, NULL, NULL, NULL);
        NN_CHECK(W[0] > 0 && W[1] < 0 && fabsf(W[0] / -W[1] - 1.5f) < 0.3f,
                 "logistic regression weights %g %g, want ratio ~1.5", (double)W[0], (double)W[1]);
    }
    nn_optim_destroy(opt);
    nn_net_destroy(net);
}

/* y = sin(x) + N(0, 0.1^2) on [-pi, pi], 1-32-32-1 tanh, MSE, Adam, mini-batch 32.
   The noise alone gives MSE 0.01 against the noisy targets; the check is against the clean
   function: mean (f(x) - sin x)^2 over a grid < 0.003 (a straight line scores ~0.2). */
static void sine_regression(void)
{
    enum { N = 512, G = 200 };
    static float x[N], y[N], xg[G], pg[G];
    nn_net_desc d;
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    nn_optim_desc od;
    nn_rng r;
    double mse = 0.0;
    float loss;
    int i, e;
    nn_rng_seed(&r, 1);
    for (i = 0; i < N; i++) {
        x[i] = (float)(-3.14159265358979 + 2 * 3.14159265358979 * nn_rng_uniform(&r));
        y[i] = sinf(x[i]) + 0.1f * nn_rng_normal(&r);
    }
    memset(&d, 0, sizeof d);
    d.n_inputs = 1;
    d.layers[0].units = 32; d.layers[0].act = NN_ACT_TANH;
    d.layers[1].units = 32; d.layers[1].act = NN_ACT_TANH;
    d.layers[2].units = 1;  /* identity output, MSE (defaults) */
    d.seed = 2;
    NN_CHECK(nn_net_create(&d, &net) == NN_OK, "create");
    NN_CHECK(nn_net_get_desc(net)->loss == NN_LOSS_MSE, "default loss for identity output is MSE");
    memset(&od, 0, sizeof od);
    od.lr = 0.01f;
    nn_optim_create(net, &od, &opt);
    for (e = 0; e < 200; e++)
        for (i = 0; i < N; i += 32) nn_train_step(net, opt, x + i, y + i, NULL, 32, &loss);
    for (i = 0; i < G; i++) xg[i] = (float)(-3.14159265358979 + 2 * 3.14159265358979 * (i + 0.5) / G);
    nn_net_predict(net, xg, G, pg);
    for (i = 0; i < G; i++) mse += (pg[i] - sin(xg[i])) * (pg[i] - sin(xg[i])) / G;
    printf("sine regression: mean squared error against sin(x) = %.5f\n", mse);
    NN_CHECK(mse < 0.003, "sine regression: MSE vs sin(x) %.5f, want < 0.003", mse);
    nn_optim_destroy(opt);
    nn_net_destroy(net);
}

int main(void)
{
    nn_test_begin("learn");
    printf("backend %s\n", nn_simd_backend_name());
    logic_gates();
    logistic_regression();
    sine_regression();
    return nn_test_done();
}
