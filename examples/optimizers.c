/* optimizers.c - the same 30-16-2 tanh net on the Wisconsin breast cancer table (Debian's
   python3-sklearn), trained by nn_fit with every optimizer at its default settings, from
   the same initial weights, batches and 20% validation split: final losses and accuracy
   in a table, and the validation-loss curves of all of them in optimizers.svg.

       optimizers [CSV [SVG]]    default: sklearn's breast_cancer.csv, optimizers.svg */
#define NN_IMPLEMENTATION
#define NN_DATA_IMPLEMENTATION
#include "nn.h"
#include "nn_data.h"
#include "sklearn_csv.h"
#include "plot_svg.h"
#include <stdio.h>

#define EPOCHS 40
#define NK (NN_OPTIM_COUNT - 1)

int main(int argc, char **argv)
{
    const char *csv = argc > 1 ? argv[1] : SKLEARN_DATA "/breast_cancer.csv";
    const char *svg = argc > 2 ? argv[2] : "optimizers.svg";
    static float curve[NK][EPOCHS];
    const float *series[NK];
    const char *names[NK];
    nn_data d;
    nn_status st = load_sklearn_csv(csv, &d);
    int k, e, bad = 0;
    if (st == NN_ERR_IO) {
        printf("%s: not found. SKIPPED (%s)\n", csv, SKLEARN_HINT);
        return 0;
    }
    if (st != NN_OK) {
        printf("%s: %s\n", csv, nn_status_str(st));
        return 1;
    }
    printf("%s: %d samples, %d features; 30-16-2 tanh, batch 32, %d epochs (backend %s)\n", csv, d.n,
           d.dim, EPOCHS, nn_simd_backend_name());
    printf("  optimizer   lr       train loss  val loss  val accuracy\n");
    for (k = 0; k < NK; k++) {
        nn_net_desc nd;
        nn_optim_desc od;
        nn_fit_desc fd;
        nn_fit_report rep;
        nn_net *net = NULL;
        nn_optim *opt = NULL;
        memset(&nd, 0, sizeof nd);
        memset(&od, 0, sizeof od);
        memset(&fd, 0, sizeof fd);
        memset(&rep, 0, sizeof rep);
        nd.n_inputs = d.dim;
        nd.layers[0].units = 16;
        nd.layers[0].act = NN_ACT_TANH;
        nd.layers[1].units = d.classes;
        nd.layers[1].act = NN_ACT_SOFTMAX;
        nd.max_batch = 32;
        nd.seed = 7;
        od.kind = (nn_optim_kind)(k + 1);
        fd.epochs = EPOCHS;
        fd.batch = 32;
        fd.val_fraction = 0.2f;
        fd.quiet = 1;
        st = nn_net_create(&nd, &net);
        if (st == NN_OK) st = nn_optim_create(net, &od, &opt);
        if (st == NN_OK) st = nn_fit(net, opt, d.x, NULL, d.labels, d.n, &fd, &rep);
        names[k] = nn_optim_name(od.kind);
        series[k] = curve[k];
        for (e = 0; e < EPOCHS; e++) curve[k][e] = NAN;
        if (st == NN_OK) {
            const nn_epoch_stats *last = &rep.history[rep.epochs_run - 1];
            for (e = 0; e < rep.epochs_run; e++) curve[k][e] = rep.history[e].val_loss;
            printf("  %-10s  %-7g  %.4f      %.4f    %.3f\n", names[k], (double)nn_optim_get_lr(opt),
                   (double)last->train_loss, (double)last->val_loss, (double)last->val_accuracy);
        } else {
            printf("  %-10s  %s\n", names[k], nn_status_str(st));
            bad = 1;
        }
        nn_fit_report_free(&rep);
        nn_optim_destroy(opt);
        nn_net_destroy(net);
    }
    if (plot_curves(svg, "validation loss, breast cancer 30-16-2", "loss", series, names, NK, EPOCHS) == 0)
        printf("learning curves: %s\n", svg);
    nn_data_free(&d);
    return bad;
}
