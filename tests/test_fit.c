/* test_fit.c - the training loop: determinism, validation, early stopping with the best
   weights and optimizer state restored, learning-rate schedules, gradient clipping,
   callbacks, non-finite steps, confusion matrix and precision/recall. */
#ifndef NN_TEST_LINKED /* make links tests/nn_test_impl.c, built once */
#define NN_IMPLEMENTATION
#endif
#include "nn.h"
#include "nn_test.h"
#include <math.h>

enum { N = 600, CLS = 3 };
static float X[N * 2];
static int Y[N];

/* Three Gaussian blobs, a little overlap. */
static void make_blobs(uint64_t seed)
{
    static const float cx[CLS] = { -1.5f, 1.5f, 0.0f }, cy[CLS] = { 0.0f, 0.0f, 2.0f };
    nn_rng r;
    int i;
    nn_rng_seed(&r, seed);
    for (i = 0; i < N; i++) {
        int c = i % CLS;
        X[2 * i] = cx[c] + 0.7f * nn_rng_normal(&r);
        X[2 * i + 1] = cy[c] + 0.7f * nn_rng_normal(&r);
        Y[i] = c;
    }
}

static nn_net *make_net(int hidden, uint64_t seed)
{
    nn_net_desc d;
    nn_net *net = NULL;
    memset(&d, 0, sizeof d);
    d.n_inputs = 2;
    d.layers[0].units = hidden;
    d.layers[1].units = CLS;
    d.layers[1].act = NN_ACT_SOFTMAX;
    d.max_batch = 64;
    d.seed = seed;
    NN_CHECK(nn_net_create(&d, &net) == NN_OK, "create");
    return net;
}

static nn_optim_kind opt_kind = NN_OPTIM_ADAM;
static nn_optim *make_opt(nn_net *net, float lr)
{
    nn_optim_desc od;
    nn_optim *o = NULL;
    memset(&od, 0, sizeof od);
    od.kind = opt_kind;
    od.lr = lr;
    NN_CHECK(nn_optim_create(net, &od, &o) == NN_OK, "optim create");
    return o;
}

static void basic_and_deterministic(void)
{
    nn_net *a = make_net(16, 3), *b = make_net(16, 3);
    nn_optim *oa = make_opt(a, 0.01f), *ob = make_opt(b, 0.01f);
    nn_fit_desc fd;
    nn_fit_report ra, rb;
    size_t n;
    float *pa, *pb, acc = 0.0f;
    int e;
    memset(&fd, 0, sizeof fd);
    fd.epochs = 8;
    fd.batch = 32;
    fd.val_fraction = 0.2f;
    fd.quiet = 1;
    NN_CHECK(nn_fit(a, oa, X, NULL, Y, N, &fd, &ra) == NN_OK, "fit a");
    NN_CHECK(nn_fit(b, ob, X, NULL, Y, N, &fd, &rb) == NN_OK, "fit b");
    pa = nn_net_params(a, &n, NULL);
    pb = nn_net_params(b, NULL, NULL);
    NN_CHECK(memcmp(pa, pb, n * sizeof(float)) == 0, "two identical fits differ");
    NN_CHECK(ra.epochs_run == 8 && !ra.stopped_early, "epochs_run %d", ra.epochs_run);
    for (e = 0; e < ra.epochs_run; e++) {
        const nn_epoch_stats *s = &ra.history[e];
        NN_CHECK(s->epoch == e + 1, "history[%d].epoch = %d", e, s->epoch);
        NN_CHECK(!isnan(s->val_loss) && !isnan(s->val_accuracy) && !isnan(s->train_accuracy),
                 "epoch %d: validation stats missing", e + 1);
        NN_CHECK(s->samples_per_sec > 0 && s->seconds >= 0, "epoch %d: timing", e + 1);
        NN_CHECK(fabsf(s->lr - 0.01f) < 1e-9f, "constant schedule: lr %g", (double)s->lr);
    }
    NN_CHECK(ra.history[7].train_loss < 0.6f * ra.history[0].train_loss,
             "train loss did not fall: %g -> %g", (double)ra.history[0].train_loss,
             (double)ra.history[7].train_loss);
    NN_CHECK(ra.history[7].val_accuracy > 0.85f, "val accuracy %g", (double)ra.history[7].val_accuracy);
    NN_CHECK(nn_optim_get_lr(oa) == 0.01f, "base lr restored after fit");
    NN_CHECK(nn_optim_steps(oa) == 8 * 15, "steps %lld, want 8 epochs x 15 batches (480/32)",
             nn_optim_steps(oa));
    nn_net_accuracy(a, X, Y, N, &acc);
    NN_CHECK(acc > 0.85f, "accuracy %g", (double)acc);
    nn_fit_report_free(&ra);
    nn_fit_report_free(&rb);
    nn_fit_report_free(&rb); /* twice is harmless */
    nn_optim_destroy(oa); nn_optim_destroy(ob);
    nn_net_destroy(a); nn_net_destroy(b);
}

/* Early stopping: validation labels are a shuffled (meaningless) copy, so validation
   loss rises as a big net memorizes a small train set. The callback snapshots the
   weights every epoch, and the model file with the optimizer's state; after fit the
   weights and the file (weights, step count, moments) must equal the best epoch's. */
typedef struct snap {
    nn_net *net;
    nn_optim *opt;
    float *w[64];
    unsigned char *file[64];
    size_t n, file_size[64];
    int stop_at;
} snap;

static int on_epoch(const nn_epoch_stats *s, void *user)
{
    snap *sp = (snap *)user;
    float *p = nn_net_params(sp->net, &sp->n, NULL);
    if (s->epoch <= 64) {
        int e = s->epoch - 1;
        sp->w[e] = (float *)malloc(sp->n * sizeof(float));
        memcpy(sp->w[e], p, sp->n * sizeof(float));
        if (sp->opt && nn_net_save_mem(sp->net, sp->opt, NULL, 0, &sp->file_size[e]) == NN_OK) {
            sp->file[e] = (unsigned char *)malloc(sp->file_size[e]);
            if (nn_net_save_mem(sp->net, sp->opt, sp->file[e], sp->file_size[e], &sp->file_size[e]) != NN_OK) {
                free(sp->file[e]);
                sp->file[e] = NULL;
            }
        }
    }
    return sp->stop_at && s->epoch >= sp->stop_at;
}

static void snap_free(snap *sp)
{
    int i;
    for (i = 0; i < 64; i++) {
        free(sp->w[i]);
        free(sp->file[i]);
    }
}

static void early_stopping(void)
{
    static float vx[60 * 2];
    static int vy[60];
    nn_net *net = make_net(64, 9);
    nn_optim *o = make_opt(net, 0.02f);
    nn_fit_desc fd;
    nn_fit_report r;
    snap sp;
    int i, best = 0;
    float bestv = INFINITY;
    memset(&sp, 0, sizeof sp);
    sp.net = net;
    sp.opt = o;
    for (i = 0; i < 60; i++) {
        vx[2 * i] = X[2 * i];
        vx[2 * i + 1] = X[2 * i + 1];
        vy[i] = (Y[i] + 1 + i % 2) % CLS; /* always wrong */
    }
    memset(&fd, 0, sizeof fd);
    fd.epochs = 60;
    fd.batch = 16;
    fd.val_x = vx; fd.val_labels = vy; fd.val_n = 60;
    fd.patience = 3;
    fd.quiet = 1;
    fd.on_epoch = on_epoch;
    fd.user = &sp;
    NN_CHECK(nn_fit(net, o, X, NULL, Y, 120, &fd, &r) == NN_OK, "fit");
    NN_CHECK(r.stopped_early && r.epochs_run < 60, "did not stop early (%d epochs)", r.epochs_run);
    for (i = 0; i < r.epochs_run; i++)
        if (r.history[i].val_loss < bestv) { bestv = r.history[i].val_loss; best = i + 1; }
    NN_CHECK(r.best_epoch == best, "best epoch %d, history says %d", r.best_epoch, best);
    NN_CHECK(r.epochs_run == best + 3, "stopped at %d, best %d, patience 3", r.epochs_run, best);
    NN_CHECK(best >= 1 && memcmp(nn_net_params(net, NULL, NULL), sp.w[best - 1], sp.n * sizeof(float)) == 0,
             "weights after fit are not the best epoch's (%d)", best);
    NN_CHECK(nn_optim_steps(o) == (long long)best * 8, "optimizer steps %lld, want the best epoch's %d",
             nn_optim_steps(o), best * 8);
    {
        size_t size = 0;
        unsigned char *now = NULL;
        if (nn_net_save_mem(net, o, NULL, 0, &size) == NN_OK) now = (unsigned char *)malloc(size);
        NN_CHECK(now && nn_net_save_mem(net, o, now, size, &size) == NN_OK, "save after fit");
        NN_CHECK(best >= 1 && now && sp.file[best - 1] && sp.file_size[best - 1] == size &&
                 memcmp(now, sp.file[best - 1], size) == 0,
                 "weights and optimizer state after fit are not the best epoch's (%d)", best);
        free(now);
    }
    snap_free(&sp);
    nn_fit_report_free(&r);

    /* on_epoch returning nonzero stops the run */
    memset(&sp, 0, sizeof sp);
    sp.net = net;
    sp.stop_at = 2;
    fd.patience = 0;
    NN_CHECK(nn_fit(net, o, X, NULL, Y, 120, &fd, &r) == NN_OK, "fit");
    NN_CHECK(r.epochs_run == 2 && r.stopped_early, "callback stop: %d epochs", r.epochs_run);
    snap_free(&sp);
    nn_fit_report_free(&r);
    nn_optim_destroy(o);
    nn_net_destroy(net);
}

static void schedules(void)
{
    nn_fit_desc d;
    memset(&d, 0, sizeof d);
    d.epochs = 10;
    d.schedule = NN_SCHEDULE_STEP;
    d.step_epochs = 3;
    d.gamma = 0.5f;
    NN_CHECK(nn_schedule_lr(&d, 1.0f, 0, 100) == 1.0f, "step at 0");
    NN_CHECK(nn_schedule_lr(&d, 1.0f, 299, 100) == 1.0f, "step at epoch 2 end");
    NN_CHECK(nn_schedule_lr(&d, 1.0f, 300, 100) == 0.5f, "step at epoch 3");
    NN_CHECK(nn_schedule_lr(&d, 1.0f, 650, 100) == 0.25f, "step at epoch 6");
    d.schedule = NN_SCHEDULE_EXP;
    d.gamma = 0.9f;
    NN_CHECK(fabsf(nn_schedule_lr(&d, 2.0f, 200, 100) - 2.0f * 0.81f) < 1e-6f, "exp at epoch 2");
    NN_CHECK(fabsf(nn_schedule_lr(&d, 2.0f, 50, 100) - 2.0f * powf(0.9f, 0.5f)) < 1e-6f, "exp at 0.5");
    d.schedule = NN_SCHEDULE_COSINE;
    d.lr_min = 0.1f;
    NN_CHECK(fabsf(nn_schedule_lr(&d, 1.0f, 0, 100) - 1.0f) < 1e-6f, "cosine start");
    NN_CHECK(fabsf(nn_schedule_lr(&d, 1.0f, 500, 100) - 0.55f) < 1e-6f, "cosine middle");
    NN_CHECK(fabsf(nn_schedule_lr(&d, 1.0f, 999, 100) - 0.1f) < 1e-4f, "cosine end");
    d.warmup_epochs = 2;
    NN_CHECK(fabsf(nn_schedule_lr(&d, 1.0f, 0, 100) - 0.005f) < 1e-7f, "warm-up first step");
    NN_CHECK(fabsf(nn_schedule_lr(&d, 1.0f, 99, 100) - 0.5f) < 1e-7f, "warm-up middle");
    NN_CHECK(fabsf(nn_schedule_lr(&d, 1.0f, 200, 100) - 1.0f) < 1e-6f, "after warm-up: cosine start");
    NN_CHECK(fabsf(nn_schedule_lr(&d, 1.0f, 600, 100) - 0.55f) < 1e-6f, "cosine middle after warm-up");
}

static void clipping_and_nonfinite(void)
{
    nn_net *net = make_net(8, 4);
    nn_optim *o = make_opt(net, 0.01f);
    size_t n, i;
    float norm = 0.0f, norm2 = 0.0f, *g, *p, *before;
    double s = 0.0;
    nn_fit_desc fd;
    nn_fit_report r;
    static float bad[N * 2];

    nn_net_backprop(net, X, NULL, Y, 64, NULL);
    g = nn_net_grads(net, &n, NULL);
    before = (float *)malloc(n * sizeof(float));
    memcpy(before, g, n * sizeof(float));
    NN_CHECK(nn_net_clip_grads(net, 1e-3f, &norm) == NN_OK, "clip");
    for (i = 0; i < n; i++) s += (double)g[i] * g[i];
    NN_CHECK(fabs(sqrt(s) - 1e-3) < 1e-6, "norm after clipping %g, want 1e-3", sqrt(s));
    for (i = 0; i < n; i++)
        NN_CHECK(fabs(g[i] - before[i] * (1e-3 / norm)) <= 1e-6 * fabs(before[i]) + 1e-12,
                 "clipping changed the direction at %zu", i);
    NN_CHECK(nn_net_clip_grads(net, 10.0f, &norm2) == NN_OK && fabsf(norm2 - 1e-3f) < 1e-6f,
             "a norm under the limit is reported, not changed (%g)", (double)norm2);
    NN_CHECK(nn_net_clip_grads(net, 0.0f, NULL) == NN_ERR_INVALID, "clip 0 rejected");

    /* every input NaN: every step refused, weights untouched, NN_ERR_NONFINITE */
    for (i = 0; i < N * 2; i++) bad[i] = NAN;
    p = nn_net_params(net, &n, NULL);
    memcpy(before, p, n * sizeof(float));
    memset(&fd, 0, sizeof fd);
    fd.epochs = 3;
    fd.quiet = 1;
    fd.max_bad_steps = 5;
    NN_CHECK(nn_fit(net, o, bad, NULL, Y, 320, &fd, &r) == NN_ERR_NONFINITE, "all-NaN data");
    NN_CHECK(memcmp(p, before, n * sizeof(float)) == 0, "weights changed by NaN steps");
    NN_CHECK(r.epochs_run == 1 && r.history[0].skipped_steps == 5, "skipped %d",
             r.history[0].skipped_steps);
    nn_fit_report_free(&r);
    /* a few NaN rows: those batches are skipped, training goes on */
    memcpy(bad, X, sizeof X);
    bad[0] = NAN;
    fd.no_shuffle = 1;
    fd.batch = 32;
    NN_CHECK(nn_fit(net, o, bad, NULL, Y, N, &fd, &r) == NN_OK, "fit with one NaN row");
    NN_CHECK(r.history[0].skipped_steps == 1 && r.history[2].skipped_steps == 1,
             "one batch per epoch skipped (got %d)", r.history[0].skipped_steps);
    for (i = 0; i < n; i++) NN_CHECK(isfinite(p[i]), "non-finite weight %zu", i);
    nn_fit_report_free(&r);
    free(before);
    nn_optim_destroy(o);
    nn_net_destroy(net);
}

static void confusion(void)
{
    nn_net *net = make_net(16, 5);
    nn_optim *o = make_opt(net, 0.02f);
    nn_fit_desc fd;
    int m[CLS * CLS], i, c, k, total = 0, correct = 0;
    float prec[CLS], rec[CLS], acc = 0.0f, acc2 = 0.0f;
    const float *out;
    memset(&fd, 0, sizeof fd);
    fd.epochs = 5;
    fd.quiet = 1;
    nn_fit(net, o, X, NULL, Y, N, &fd, NULL);
    NN_CHECK(nn_net_confusion(net, X, Y, N, m, prec, rec, &acc) == NN_OK, "confusion");
    nn_net_accuracy(net, X, Y, N, &acc2);
    NN_CHECK(acc == acc2, "confusion accuracy %g vs nn_net_accuracy %g", (double)acc, (double)acc2);
    for (c = 0; c < CLS; c++) {
        int row = 0, col = 0;
        for (k = 0; k < CLS; k++) { row += m[c * CLS + k]; col += m[k * CLS + c]; total += m[c * CLS + k]; }
        NN_CHECK(row == N / CLS, "class %d row sum %d", c, row);
        NN_CHECK(fabsf(rec[c] - (float)m[c * CLS + c] / row) < 1e-6f, "recall %d", c);
        NN_CHECK(col == 0 || fabsf(prec[c] - (float)m[c * CLS + c] / col) < 1e-6f, "precision %d", c);
    }
    NN_CHECK(total == N, "matrix total %d", total);
    /* independent count over the first 64 predictions */
    nn_net_forward(net, X, 64, &out);
    for (i = 0; i < 64; i++) {
        int best = 0;
        for (k = 1; k < CLS; k++) if (out[i * CLS + k] > out[i * CLS + best]) best = k;
        correct += best == Y[i];
    }
    NN_CHECK(correct > 48, "first 64 predictions: %d right", correct);
    {
        int badlab[2] = { 0, 7 };
        NN_CHECK(nn_net_confusion(net, X, badlab, 2, m, NULL, NULL, NULL) == NN_ERR_INVALID,
                 "label out of range");
    }
    nn_optim_destroy(o);
    nn_net_destroy(net);
}

/* A refused nn_fit: the status, a zeroed report (it was filled with garbage), and
   nn_fit_report_free on it, as the README's loop does after every call. */
static void fit_refused(nn_net *net, nn_optim *o, const float *y, const int *labels, int n,
                        const nn_fit_desc *fd, nn_status want, const char *what)
{
    nn_fit_report rep;
    nn_fit_report zero;
    nn_status st;
    memset(&rep, 0xab, sizeof rep);
    memset(&zero, 0, sizeof zero);
    st = nn_fit(net, o, X, y, labels, n, fd, &rep);
    NN_CHECK(st == want, "%s: got %s, want %s", what, nn_status_str(st), nn_status_str(want));
    NN_CHECK(memcmp(&rep, &zero, sizeof rep) == 0, "%s: report not zeroed", what);
    nn_fit_report_free(&rep);
}

/* An allocator that refuses once `fail` is set (for nn_fit's NN_ERR_NOMEM). */
static int g_fail;
static void *fail_alloc(size_t size, size_t align, void *user)
{
    (void)user;
    (void)align;                       /* nn_simd_alloc aligns to 64, all the library asks */
    return g_fail ? NULL : nn_simd_alloc(NULL, size);
}
static void fail_free(void *p, void *user) { (void)user; nn_simd_free(NULL, p); }

static void errors(void)
{
    nn_net *net = make_net(4, 6), *other;
    nn_optim *o = make_opt(net, 0.01f), *o2;
    nn_fit_desc fd;
    nn_net_desc d;
    memset(&fd, 0, sizeof fd);
    fd.quiet = 1;
    fd.batch = 65;
    fit_refused(net, o, NULL, Y, N, &fd, NN_ERR_BATCH, "batch > max_batch");
    fd.batch = 0;
    fit_refused(net, o, NULL, NULL, N, &fd, NN_ERR_INVALID, "no targets");
    fit_refused(net, o, NULL, Y, 0, &fd, NN_ERR_INVALID, "n = 0");
    fit_refused(net, o, NULL, Y, N, NULL, NN_ERR_INVALID, "no desc");
    fit_refused(NULL, o, NULL, Y, N, &fd, NN_ERR_INVALID, "no net");
    fd.val_fraction = 1.0f;
    fit_refused(net, o, NULL, Y, N, &fd, NN_ERR_INVALID, "val_fraction 1");
    fd.val_fraction = 0.0f;
    fd.schedule = NN_SCHEDULE_COUNT;
    fit_refused(net, o, NULL, Y, N, &fd, NN_ERR_INVALID, "bad schedule");
    fd.schedule = NN_SCHEDULE_DEFAULT;
    fd.clip_norm = -1.0f;
    fit_refused(net, o, NULL, Y, N, &fd, NN_ERR_INVALID, "negative clip");
    NN_CHECK(nn_fit(net, o, X, NULL, Y, N, &fd, NULL) == NN_ERR_INVALID, "negative clip, no report");
    memset(&d, 0, sizeof d);
    d.n_inputs = 2; d.layers[0].units = 5; d.layers[1].units = CLS; d.layers[1].act = NN_ACT_SOFTMAX;
    nn_net_create(&d, &other);
    o2 = make_opt(other, 0.01f);
    fd.clip_norm = 0.0f;
    fit_refused(net, o2, NULL, Y, N, &fd, NN_ERR_SHAPE, "optimizer of another net");
    nn_optim_destroy(o2);
    nn_net_destroy(other);
    /* allocations refused once the net exists: NN_ERR_NOMEM */
    d.allocator.alloc_fn = fail_alloc;
    d.allocator.free_fn = fail_free;
    g_fail = 0;
    if (nn_net_create(&d, &other) == NN_OK) {
        o2 = make_opt(other, 0.01f);
        g_fail = 1;
        fit_refused(other, o2, NULL, Y, N, &fd, NN_ERR_NOMEM, "allocation failure");
        g_fail = 0;
        nn_optim_destroy(o2);
        nn_net_destroy(other);
    }
    nn_optim_destroy(o);
    nn_net_destroy(net);
}

/* An inference-only net (no gradients, two ping-pong buffers) predicts exactly what the
   full net predicts, and refuses every training call. */
static void inference_only(void)
{
    nn_net_desc d;
    nn_net *full = NULL, *inf = NULL;
    nn_optim *o = NULL;
    nn_optim_desc od;
    static float pf[N * CLS], pi[N * CLS];
    size_t cnt = 1;
    float acc_f = 0.0f, acc_i = 0.0f, loss;
    memset(&d, 0, sizeof d);
    d.n_inputs = 2;
    d.layers[0].units = 16; d.layers[0].act = NN_ACT_TANH;
    d.layers[1].units = 16; d.layers[1].dropout = 0.3f;
    d.layers[2].units = 8;
    d.layers[3].units = CLS; d.layers[3].act = NN_ACT_SOFTMAX;
    d.max_batch = 64;
    NN_CHECK(nn_net_create(&d, &full) == NN_OK, "create full");
    o = make_opt(full, 0.01f);
    {
        nn_fit_desc fd;
        memset(&fd, 0, sizeof fd);
        fd.epochs = 2;
        fd.quiet = 1;
        nn_fit(full, o, X, NULL, Y, N, &fd, NULL);
    }
    d.inference_only = 1;
    d.seed = 999; /* different init: the weights come from the copy */
    NN_CHECK(nn_net_create(&d, &inf) == NN_OK, "create inference-only");
    NN_CHECK(nn_net_copy_params(inf, full) == NN_OK, "copy params");
    NN_CHECK(nn_net_predict(full, X, N, pf) == NN_OK && nn_net_predict(inf, X, N, pi) == NN_OK, "predict");
    NN_CHECK(memcmp(pf, pi, sizeof pf) == 0, "inference-only predictions differ from the full net's");
    nn_net_accuracy(full, X, Y, N, &acc_f);
    nn_net_accuracy(inf, X, Y, N, &acc_i);
    NN_CHECK(acc_f == acc_i, "accuracy %g vs %g", (double)acc_f, (double)acc_i);
    NN_CHECK(nn_net_grads(inf, &cnt, NULL) == NULL && cnt == 0, "inference-only net has no gradients");
    NN_CHECK(nn_net_backprop(inf, X, NULL, Y, 8, &loss) == NN_ERR_INVALID, "backprop refused");
    memset(&od, 0, sizeof od);
    NN_CHECK(nn_optim_create(inf, &od, &o) == NN_ERR_INVALID, "optimizer refused");
    NN_CHECK(nn_net_clip_grads(inf, 1.0f, NULL) == NN_ERR_INVALID, "clip refused");
    NN_CHECK(nn_net_loss(inf, X, NULL, Y, 8, &loss) == NN_OK, "loss (forward only) allowed");
    nn_optim_destroy(o);
    nn_net_destroy(full);
    nn_net_destroy(inf);
}

int main(void)
{
    nn_test_begin("fit");
    printf("backend %s\n", nn_simd_backend_name());
    make_blobs(17);
    basic_and_deterministic();
    early_stopping();
    opt_kind = NN_OPTIM_ADAFACTOR; /* its factored state is restored with the weights too */
    early_stopping();
    opt_kind = NN_OPTIM_ADAM;
    schedules();
    clipping_and_nonfinite();
    confusion();
    errors();
    inference_only();
    return nn_test_done();
}
