/* test_cv.c - nn_cross_validate.
   - Folds: every sample in exactly one fold, fold sizes within 1 of n/k without labels;
     with labels each class spread over the folds within 1 of n_c/k (stratified); the same
     seed gives the same folds, another seed other folds.
   - Three Gaussian blobs (labels): 5-fold mean accuracy high, per-fold sizes and epochs
     reported, mean and sample sd recomputed from the folds; the same call twice gives
     the same report bit for bit (each fold's net is fresh, nothing carries over).
   - Fold 2 replayed by hand (the same split, nn_net_create, nn_optim_create, nn_fit,
     then fit's own evaluation over the fold) gives the same loss and accuracy, bit for bit.
   - Targets instead of labels (regression): accuracy NaN, loss finite.
   - Errors: k < 2, k > n, a class with fewer than k samples, val_x set, NULLs, both
     targets: NN_ERR_INVALID with the report zeroed. */
#define NN_IMPLEMENTATION
#include "nn.h"
#include "nn_test.h"
#include <math.h>

#define N 90
#define D 4

static float X[N * D], Y[N];
static int LAB[N];

static void make_data(void)
{
    nn_rng r;
    int i, j;
    nn_rng_seed(&r, 21);
    for (i = 0; i < N; i++) {
        LAB[i] = (i * 7) % 3;
        for (j = 0; j < D; j++) X[i * D + j] = 0.6f * nn_rng_normal(&r) + (j == LAB[i] ? 2.0f : 0.0f);
        Y[i] = X[i * D] - 0.5f * X[i * D + 1] + 0.1f * nn_rng_normal(&r);
    }
}

static void descs(nn_net_desc *nd, nn_optim_desc *od, nn_fit_desc *fd, int outputs)
{
    memset(nd, 0, sizeof *nd);
    memset(od, 0, sizeof *od);
    memset(fd, 0, sizeof *fd);
    nd->n_inputs = D;
    nd->layers[0].units = 8;
    nd->layers[0].act = NN_ACT_TANH;
    nd->layers[1].units = outputs;
    nd->layers[1].act = outputs > 1 ? NN_ACT_SOFTMAX : NN_ACT_IDENTITY;
    nd->max_batch = 16;
    nd->seed = 3;
    od->kind = NN_OPTIM_ADAM;
    od->lr = 0.02f;
    fd->epochs = 30;
    fd->batch = 16;
    fd->quiet = 1;
}

static void folds(void)
{
    int ord[N], cnt[4], fold[N], fold2[N], i, f, c, k;
    for (k = 2; k <= 10; k += 3) {
        for (c = 0; c < 2; c++) {
            int size[10] = { 0 }, per[10][3], ok = 1;
            memset(per, 0, sizeof per);
            nn__cv_folds(c ? LAB : NULL, N, 3, k, 99, ord, cnt, fold);
            for (i = 0; i < N; i++) {
                ok &= fold[i] >= 0 && fold[i] < k;
                if (fold[i] >= 0 && fold[i] < k) { size[fold[i]]++; per[fold[i]][LAB[i]]++; }
            }
            for (f = 0; f < k; f++) {
                ok &= abs(size[f] * k - N) < k + (c ? 3 * k : 0);
                if (c)
                    for (i = 0; i < 3; i++) ok &= abs(per[f][i] * k - N / 3) < k; /* 30 per class */
            }
            NN_CHECK(ok, "k=%d %s: fold sizes or class spread off", k, c ? "stratified" : "plain");
            nn__cv_folds(c ? LAB : NULL, N, 3, k, 99, ord, cnt, fold2);
            NN_CHECK(memcmp(fold, fold2, sizeof fold) == 0, "k=%d: the same seed, other folds", k);
            nn__cv_folds(c ? LAB : NULL, N, 3, k, 100, ord, cnt, fold2);
            NN_CHECK(memcmp(fold, fold2, sizeof fold) != 0, "k=%d: another seed, the same folds", k);
        }
    }
}

static void classify(void)
{
    nn_net_desc nd;
    nn_optim_desc od;
    nn_fit_desc fd;
    nn_cv_report a, b;
    nn_status st;
    int f, total = 0;
    double s = 0, q = 0;
    descs(&nd, &od, &fd, 3);
    st = nn_cross_validate(&nd, &od, &fd, X, NULL, LAB, N, 5, 7, &a);
    NN_CHECK(st == NN_OK && a.k == 5 && a.folds, "5-fold: %s", nn_status_str(st));
    if (st != NN_OK) return;
    for (f = 0; f < 5; f++) {
        printf("fold %d: %d samples, %d epochs, loss %.4f, accuracy %.3f\n", f, a.folds[f].n_val,
               a.folds[f].epochs_run, (double)a.folds[f].val_loss, (double)a.folds[f].val_accuracy);
        total += a.folds[f].n_val;
        NN_CHECK(a.folds[f].n_val == 18 && a.folds[f].epochs_run == 30 && isfinite(a.folds[f].val_loss),
                 "fold %d: %d samples, %d epochs", f, a.folds[f].n_val, a.folds[f].epochs_run);
        s += a.folds[f].val_accuracy;
    }
    for (f = 0; f < 5; f++) q += (a.folds[f].val_accuracy - s / 5) * (a.folds[f].val_accuracy - s / 5);
    printf("mean accuracy %.3f +- %.3f, mean loss %.4f +- %.4f\n", (double)a.mean_accuracy, (double)a.sd_accuracy,
           (double)a.mean_loss, (double)a.sd_loss);
    NN_CHECK(total == N && a.mean_accuracy > 0.85f && fabs(a.mean_accuracy - s / 5) < 1e-6 &&
             fabs(a.sd_accuracy - sqrt(q / 4)) < 1e-6 && a.mean_epochs == 30.0f,
             "5-fold summary: mean %.4f sd %.4f", (double)a.mean_accuracy, (double)a.sd_accuracy);
    st = nn_cross_validate(&nd, &od, &fd, X, NULL, LAB, N, 5, 7, &b);
    NN_CHECK(st == NN_OK && memcmp(a.folds, b.folds, 5 * sizeof *a.folds) == 0 && a.mean_loss == b.mean_loss,
             "the same call twice: different reports");
    nn_cv_report_free(&b);
    /* fold 2 by hand */
    {
        int ord[N], cnt[4], fold[N], i, nt = 0, nv = 0, lt[N], lv[N];
        float xt[N * D], xv[N * D], loss = 0, acc = 0;
        nn_net *net = NULL;
        nn_optim *opt = NULL;
        nn__cv_folds(LAB, N, 3, 5, 7, ord, cnt, fold);
        for (i = 0; i < N; i++) {
            if (fold[i] == 2) { memcpy(xv + nv * D, X + i * D, sizeof(float) * D); lv[nv++] = LAB[i]; }
            else { memcpy(xt + nt * D, X + i * D, sizeof(float) * D); lt[nt++] = LAB[i]; }
        }
        nn_net_create(&nd, &net);
        nn_optim_create(net, &od, &opt);
        st = nn_fit(net, opt, xt, NULL, lt, nt, &fd, NULL);
        if (st == NN_OK) { /* the fold's 18 rows in max_batch chunks, as nn_fit validates */
            double vs[2];
            nn__evaluate(net, xv, NULL, lv, NULL, 0, nv, NULL, NULL, NULL, vs);
            loss = (float)(vs[0] / nv + nn__l2_term(net));
            acc = (float)(vs[1] / nv);
        }
        NN_CHECK(st == NN_OK && loss == a.folds[2].val_loss && acc == a.folds[2].val_accuracy,
                 "fold 2 by hand: loss %.9g accuracy %.6g, cross_validate %.9g %.6g", (double)loss, (double)acc,
                 (double)a.folds[2].val_loss, (double)a.folds[2].val_accuracy);
        nn_optim_destroy(opt);
        nn_net_destroy(net);
    }
    nn_cv_report_free(&a);
    NN_CHECK(a.folds == NULL && a.k == 0, "report_free");
    nn_cv_report_free(&a); /* twice is fine */
}

static void regress(void)
{
    nn_net_desc nd;
    nn_optim_desc od;
    nn_fit_desc fd;
    nn_cv_report r;
    nn_status st;
    descs(&nd, &od, &fd, 1);
    fd.val_fraction = 0.2f; /* an inner split for early stopping */
    fd.patience = 3;
    fd.epochs = 60;
    st = nn_cross_validate(&nd, &od, &fd, X, Y, NULL, N, 4, 1, &r);
    NN_CHECK(st == NN_OK && r.k == 4 && isnan(r.mean_accuracy) && isfinite(r.mean_loss) && r.mean_loss < 0.5f,
             "regression 4-fold: %s, loss %.4f", nn_status_str(st), (double)r.mean_loss);
    if (st == NN_OK) printf("regression 4-fold: mse %.4f +- %.4f, %.1f epochs\n", (double)r.mean_loss,
                            (double)r.sd_loss, (double)r.mean_epochs);
    nn_cv_report_free(&r);
}

static void errors(void)
{
    nn_net_desc nd;
    nn_optim_desc od;
    nn_fit_desc fd;
    nn_cv_report r;
    int lab[N], i;
    descs(&nd, &od, &fd, 3);
#define CV_CASE(what, call)                                                                   \
    do {                                                                                      \
        nn_status st;                                                                         \
        memset(&r, 0x5a, sizeof r);                                                           \
        st = call;                                                                            \
        NN_CHECK(st == NN_ERR_INVALID && r.folds == NULL && r.k == 0,                         \
                 "%s: %s, or report not zeroed", what, nn_status_str(st));                   \
    } while (0)
    CV_CASE("k 1", nn_cross_validate(&nd, &od, &fd, X, NULL, LAB, N, 1, 1, &r));
    CV_CASE("k > n", nn_cross_validate(&nd, &od, &fd, X, NULL, LAB, 5, 6, 1, &r));
    CV_CASE("both targets", nn_cross_validate(&nd, &od, &fd, X, Y, LAB, N, 5, 1, &r));
    CV_CASE("no targets", nn_cross_validate(&nd, &od, &fd, X, NULL, NULL, N, 5, 1, &r));
    CV_CASE("x NULL", nn_cross_validate(&nd, &od, &fd, NULL, NULL, LAB, N, 5, 1, &r));
    CV_CASE("nd NULL", nn_cross_validate(NULL, &od, &fd, X, NULL, LAB, N, 5, 1, &r));
    NN_CHECK(nn_cross_validate(&nd, &od, &fd, X, NULL, LAB, N, 5, 1, NULL) == NN_ERR_INVALID, "report NULL");
    for (i = 0; i < N; i++) lab[i] = i < 4 ? 2 : i % 2; /* class 2 has 4 samples */
    CV_CASE("class with 4 < k samples", nn_cross_validate(&nd, &od, &fd, X, NULL, lab, N, 5, 1, &r));
    lab[0] = 3;
    CV_CASE("label 3 of 3 classes", nn_cross_validate(&nd, &od, &fd, X, NULL, lab, N, 2, 1, &r));
    fd.val_x = X;
    fd.val_labels = LAB;
    fd.val_n = 10;
    CV_CASE("val_x set", nn_cross_validate(&nd, &od, &fd, X, NULL, LAB, N, 5, 1, &r));
    descs(&nd, &od, &fd, 3);
    fd.batch = 64; /* > max_batch: nn_fit's NN_ERR_BATCH passes through */
    memset(&r, 0x5a, sizeof r);
    NN_CHECK(nn_cross_validate(&nd, &od, &fd, X, NULL, LAB, N, 5, 1, &r) == NN_ERR_BATCH && r.folds == NULL,
             "fit batch > max_batch");
    descs(&nd, &od, &fd, 3);
    nd.n_inputs = 0;
    CV_CASE("bad net desc", nn_cross_validate(&nd, &od, &fd, X, NULL, LAB, N, 5, 1, &r));
#undef CV_CASE
}

int main(void)
{
    nn_test_begin("test_cv");
    make_data();
    folds();
    classify();
    regress();
    errors();
    return nn_test_done();
}
