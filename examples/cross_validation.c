/* cross_validation.c - 10-fold stratified cross-validation on real tabular data: the
   Wisconsin breast cancer table (569 x 30, 2 classes) and the wine table (178 x 13, 3
   classes) that Debian's python3-sklearn ships. A small MLP against a logistic-regression
   baseline (one softmax layer: multinomial logistic regression), both trained by nn_fit
   with early stopping on 10% of each training part, same folds, same seeds.

       cross_validation [DIR]    DIR: where the CSVs are (default: sklearn's data directory)

   The tables are read by sklearn_csv.h. Features are z-scored over the whole table first
   (a small leak into each held-out fold: fine for a comparison of models, not for a
   reported error rate). Skips with a message when the files are absent. */
#define NN_IMPLEMENTATION
#define NN_DATA_IMPLEMENTATION
#include "nn.h"
#include "nn_data.h"
#include "sklearn_csv.h"
#include <stdio.h>
#include <string.h>

/* 10-fold CV of a net with `hidden` tanh units (0: logistic regression). */
static nn_status run(const nn_data *d, int hidden, const char *name)
{
    nn_net_desc nd;
    nn_optim_desc od;
    nn_fit_desc fd;
    nn_cv_report r;
    nn_status st;
    int l = 0;
    memset(&nd, 0, sizeof nd);
    memset(&od, 0, sizeof od);
    memset(&fd, 0, sizeof fd);
    nd.n_inputs = d->dim;
    if (hidden) {
        nd.layers[l].units = hidden;
        nd.layers[l++].act = NN_ACT_TANH;
    }
    nd.layers[l].units = d->classes;
    nd.layers[l].act = NN_ACT_SOFTMAX;
    nd.max_batch = 32;
    nd.l2 = 1e-4f;
    nd.seed = 1;
    od.kind = NN_OPTIM_ADAM;
    od.lr = 0.01f;
    fd.epochs = 200;
    fd.batch = 32;
    fd.val_fraction = 0.1f; /* early stopping inside each training part */
    fd.patience = 10;
    fd.quiet = 1;
    st = nn_cross_validate(&nd, &od, &fd, d->x, NULL, d->labels, d->n, 10, 42, &r);
    if (st == NN_OK)
        printf("  %-24s accuracy %.3f +- %.3f   loss %.3f +- %.3f   %.0f epochs\n", name,
               (double)r.mean_accuracy, (double)r.sd_accuracy, (double)r.mean_loss, (double)r.sd_loss,
               (double)r.mean_epochs);
    else
        printf("  %-24s %s\n", name, nn_status_str(st));
    nn_cv_report_free(&r);
    return st;
}

int main(int argc, char **argv)
{
    static const char *files[2] = { "breast_cancer.csv", "wine_data.csv" };
    const char *dir = argc > 1 ? argv[1] : SKLEARN_DATA;
    int f, found = 0, bad = 0;
    printf("10-fold stratified cross-validation (backend %s)\n", nn_simd_backend_name());
    for (f = 0; f < 2; f++) {
        char path[1024];
        nn_data d;
        nn_status st;
        snprintf(path, sizeof path, "%s/%s", dir, files[f]);
        st = load_sklearn_csv(path, &d);
        if (st == NN_ERR_IO) {
            printf("%s: not found\n", path);
            continue;
        }
        found++;
        if (st != NN_OK) {
            printf("%s: %s\n", path, nn_status_str(st));
            bad = 1;
            continue;
        }
        printf("%s: %d samples, %d features, %d classes\n", files[f], d.n, d.dim, d.classes);
        bad |= run(&d, 0, "logistic regression") != NN_OK;
        bad |= run(&d, 16, "MLP, 16 tanh units") != NN_OK;
        nn_data_free(&d);
    }
    if (!found)
        printf("SKIPPED: no data (%s; or pass their directory)\n", SKLEARN_HINT);
    return bad;
}
