/* spirals.c - two-class (sigmoid output, BCE) and multi-class (softmax, cross-entropy)
   spirals, trained with nn_fit, early stopping on a held-out fraction, and a
   step learning-rate schedule. Prints per-epoch progress and the confusion matrix. */
#define NN_IMPLEMENTATION
#include "nn.h"
#include <stdio.h>
#include <math.h>

#define MAXC 5
#define PER 400

static void spiral(nn_rng *r, int classes, float *x, int *labels, float *y01)
{
    int c, i, k = 0;
    for (c = 0; c < classes; c++)
        for (i = 0; i < PER; i++, k++) {
            float rad = (float)(i + 1) / PER;
            float t = 9.0f * rad + 6.2831853f * (float)c / (float)classes + 0.15f * nn_rng_normal(r);
            x[2 * k] = rad * sinf(t);
            x[2 * k + 1] = rad * cosf(t);
            labels[k] = c;
            if (y01) y01[k] = (float)c;
        }
}

static void run(int classes)
{
    static float x[2 * MAXC * PER], y01[MAXC * PER];
    static int labels[MAXC * PER];
    int n = classes * PER, m[MAXC * MAXC], i, j;
    nn_net_desc d = { 0 };
    nn_optim_desc od = { 0 };
    nn_fit_desc fd = { 0 };
    nn_fit_report rep;
    nn_net *net;
    nn_optim *opt;
    nn_rng r;
    float acc;
    nn_rng_seed(&r, 100 + (uint64_t)classes);
    spiral(&r, classes, x, labels, y01);
    d.n_inputs = 2;
    d.layers[0].units = 64; d.layers[0].act = NN_ACT_RELU;
    d.layers[1].units = 64; d.layers[1].act = NN_ACT_RELU;
    if (classes == 2) { d.layers[2].units = 1; d.layers[2].act = NN_ACT_SIGMOID; }
    else { d.layers[2].units = classes; d.layers[2].act = NN_ACT_SOFTMAX; }
    nn_net_create(&d, &net);
    od.kind = NN_OPTIM_ADAMW;
    od.lr = 0.01f;
    nn_optim_create(net, &od, &opt);
    fd.epochs = 60;
    fd.batch = 32;
    fd.val_fraction = 0.2f;
    fd.patience = 8;
    fd.monitor = NN_MONITOR_VAL_ACCURACY;
    fd.schedule = NN_SCHEDULE_STEP;
    fd.step_epochs = 20;
    fd.gamma = 0.3f;
    printf("\n%d-class spiral, 2-64-64-%d, %s, AdamW\n", classes, classes == 2 ? 1 : classes,
           classes == 2 ? "sigmoid + binary cross-entropy" : "softmax + cross-entropy");
    fflush(stdout); /* progress goes to stderr */
    if (classes == 2) nn_fit(net, opt, x, y01, NULL, n, &fd, &rep);
    else nn_fit(net, opt, x, NULL, labels, n, &fd, &rep);
    nn_net_confusion(net, x, labels, n, m, NULL, NULL, &acc);
    printf("best epoch %d of %d%s, accuracy on all points %.3f\nconfusion (rows: true, columns: predicted)\n",
           rep.best_epoch, rep.epochs_run, rep.stopped_early ? " (stopped early)" : "", (double)acc);
    for (i = 0; i < classes; i++) {
        for (j = 0; j < classes; j++) printf(" %4d", m[i * classes + j]);
        printf("\n");
    }
    nn_fit_report_free(&rep);
    nn_optim_destroy(opt);
    nn_net_destroy(net);
}

int main(void)
{
    printf("backend: %s\n", nn_simd_backend_name());
    run(2);
    run(5);
    return 0;
}
