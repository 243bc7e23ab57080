/* regression.c - fit a noisy curve, y = sin(2x) + x/2 + noise, with a 1-32-32-1 tanh
   network and mean squared error; prints the fitted curve against the true one. */
#define NN_IMPLEMENTATION
#include "nn.h"
#include <stdio.h>
#include <math.h>

static float truth(float x) { return sinf(2.0f * x) + 0.5f * x; }

int main(void)
{
    enum { N = 800, G = 13 };
    static float x[N], y[N], xg[G], pg[G];
    nn_net_desc d = { 0 };
    nn_optim_desc od = { 0 };
    nn_fit_desc fd = { 0 };
    nn_fit_report rep;
    nn_net *net;
    nn_optim *opt;
    nn_rng r;
    double err = 0.0;
    int i;
    nn_rng_seed(&r, 3);
    for (i = 0; i < N; i++) {
        x[i] = -3.0f + 6.0f * nn_rng_uniform(&r);
        y[i] = truth(x[i]) + 0.15f * nn_rng_normal(&r);
    }
    d.n_inputs = 1;
    d.layers[0].units = 32; d.layers[0].act = NN_ACT_TANH;
    d.layers[1].units = 32; d.layers[1].act = NN_ACT_TANH;
    d.layers[2].units = 1;  /* identity output: MSE */
    nn_net_create(&d, &net);
    od.kind = NN_OPTIM_ADAM;
    od.lr = 0.01f;
    nn_optim_create(net, &od, &opt);
    fd.epochs = 150;
    fd.batch = 32;
    fd.schedule = NN_SCHEDULE_COSINE;
    fd.val_fraction = 0.1f;
    fd.quiet = 1;
    nn_fit(net, opt, x, y, NULL, N, &fd, &rep);
    printf("noisy-curve regression (noise sd 0.15, so the best possible MSE is ~0.0225)\n");
    for (i = 0; i < rep.epochs_run; i += 30)
        printf("  epoch %3d  train MSE %.4f  validation MSE %.4f\n", rep.history[i].epoch,
               (double)rep.history[i].train_loss, (double)rep.history[i].val_loss);
    for (i = 0; i < G; i++) xg[i] = -3.0f + 0.5f * (float)i;
    nn_net_predict(net, xg, G, pg);
    printf("     x    fitted    true\n");
    for (i = 0; i < G; i++) {
        printf("  %5.2f  %7.3f  %7.3f\n", (double)xg[i], (double)pg[i], (double)truth(xg[i]));
        err += (pg[i] - truth(xg[i])) * (pg[i] - truth(xg[i])) / G;
    }
    printf("MSE of the fit against the true curve: %.4f\n", err);
    nn_fit_report_free(&rep);
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    return 0;
}
