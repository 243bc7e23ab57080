/* test_errors.c - every fallible public call with bad input: the right nn_status, nothing
   written, no crash.

   Contract under test (nn.h ERRORS): "a NULL, a zero or negative size, a batch over
   max_batch, an out-of-range label or a mismatched optimizer gives an error and changes
   nothing. An optimizer step whose gradients hold NaN or Inf returns NN_ERR_NONFINITE and
   leaves weights and optimizer state exactly as they were."

   "Changes nothing" is checked bit for bit: output pointers are pre-set to sentinels,
   the parameter and gradient buffers are memcmp'd against copies taken before the call,
   and the optimizer state (which is opaque) is checked through a twin network/optimizer
   pair that never saw the failing step: after the failure both take the same real steps
   and must stay bit-identical. Every error case has a positive control next to it (the
   same call with valid input succeeds and does write), so the sentinel checks can fail.

   Also covered: nn_net_clip_grads and nn_net_confusion argument checks, a legal but
   enormous network under a capped allocator (NN_ERR_NOMEM), destroy(NULL), the NULL
   getters, nn_status_str, and the nn_simd_* entry points' argument checks (C untouched).
   The run-time parts run on the active backend and then on every other available one.

   The allocation-failure sweep uses a counting allocator (posix_memalign) that fails the
   k-th call (and, separately, every call from the k-th on) for k = 1, 2, ... until
   create succeeds; each failure must return NN_ERR_NOMEM, leave *out alone and free all
   it allocated. */
#define _POSIX_C_SOURCE 200112L
#ifndef NN_TEST_LINKED /* make links tests/nn_test_impl.c, built once */
#define NN_IMPLEMENTATION
#endif
#include "nn.h"
#include "nn_test.h"
#include <limits.h>
#include <math.h>

/* ---------------------------------------------------------------- helpers */
static double sentinel_storage[4];
#define NET_SENTINEL ((nn_net *)(void *)&sentinel_storage[0])
#define OPT_SENTINEL ((nn_optim *)(void *)&sentinel_storage[1])
#define PTR_SENTINEL ((float *)(void *)&sentinel_storage[2])
#define LOSS_SENTINEL (-777.25f)

static const char *be_name = "?";

static int same_bits(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* A copy of a network's parameter and gradient buffers. */
typedef struct snap {
    float *p, *g;
    size_t n;
} snap;

static void snap_take(snap *s, nn_net *net)
{
    const float *p = nn_net_params(net, &s->n, NULL), *g = nn_net_grads(net, NULL, NULL);
    s->p = (float *)malloc(s->n * sizeof(float));
    s->g = (float *)malloc(s->n * sizeof(float));
    if (!s->p || !s->g) {
        fprintf(stderr, "test_errors: out of memory\n");
        exit(2);
    }
    memcpy(s->p, p, s->n * sizeof(float));
    memcpy(s->g, g, s->n * sizeof(float));
}

static void snap_free(snap *s)
{
    free(s->p);
    free(s->g);
    s->p = s->g = NULL;
}

static long first_diff(const float *a, const float *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!same_bits(a[i], b[i])) return (long)i;
    return -1;
}

/* Checks params and grads of net are bit-identical to the snapshot. */
static void check_unchanged(nn_net *net, const snap *s, const char *fn, const char *cs)
{
    size_t n;
    const float *p = nn_net_params(net, &n, NULL), *g = nn_net_grads(net, NULL, NULL);
    long dp = first_diff(p, s->p, s->n), dg = first_diff(g, s->g, s->n);
    NN_CHECK(n == s->n, "backend=%s %s case '%s': parameter count changed %lu -> %lu", be_name,
             fn, cs, (unsigned long)s->n, (unsigned long)n);
    NN_CHECK(dp < 0, "backend=%s %s case '%s': params changed at [%ld]: got %.9g want %.9g",
             be_name, fn, cs, dp, dp < 0 ? 0.0 : (double)p[dp], dp < 0 ? 0.0 : (double)s->p[dp]);
    NN_CHECK(dg < 0, "backend=%s %s case '%s': grads changed at [%ld]: got %.9g want %.9g",
             be_name, fn, cs, dg, dg < 0 ? 0.0 : (double)g[dg], dg < 0 ? 0.0 : (double)s->g[dg]);
}

#define CHECK_STATUS(st, want, fn, cs)                                                     \
    NN_CHECK((st) == (want), "backend=%s %s case '%s': got status %d (%s), want %d (%s)",  \
             be_name, fn, cs, (int)(st), nn_status_str(st), (int)(want), nn_status_str(want))

static nn_net *make_net(const nn_net_desc *d, const char *what)
{
    nn_net *net = NULL;
    nn_status st = nn_net_create(d, &net);
    if (st != NN_OK || !net) {
        fprintf(stderr, "test_errors: cannot create %s: %s\n", what, nn_status_str(st));
        exit(2);
    }
    return net;
}

static nn_optim *make_opt(const nn_net *net, nn_optim_kind kind, float wd, const char *what)
{
    nn_optim *opt = NULL;
    nn_optim_desc od;
    nn_status st;
    memset(&od, 0, sizeof od);
    od.kind = kind;
    od.weight_decay = wd;
    st = nn_optim_create(net, &od, &opt);
    if (st != NN_OK || !opt) {
        fprintf(stderr, "test_errors: cannot create optimizer %s: %s\n", what, nn_status_str(st));
        exit(2);
    }
    return opt;
}

/* 3 -> 5 (tanh) -> 4 outputs, max_batch 8 */
static nn_net_desc desc_small(nn_act out_act, float l2, uint64_t seed)
{
    nn_net_desc d;
    memset(&d, 0, sizeof d);
    d.n_inputs = 3;
    d.layers[0].units = 5;
    d.layers[0].act = NN_ACT_TANH;
    d.layers[1].units = 4;
    d.layers[1].act = out_act;
    d.max_batch = 8;
    d.l2 = l2;
    d.seed = seed;
    return d;
}

/* ------------------------------------------------------- nn_net_create */
static void expect_create(const nn_net_desc *d, nn_status want, const char *cs)
{
    nn_net *out = NET_SENTINEL;
    nn_status st = nn_net_create(d, &out);
    CHECK_STATUS(st, want, "nn_net_create", cs);
    if (want != NN_OK) {
        NN_CHECK(out == NET_SENTINEL, "nn_net_create case '%s': *out was written (%p) on failure",
                 cs, (void *)out);
    } else {
        NN_CHECK(out != NET_SENTINEL && out != NULL, "nn_net_create case '%s': *out not set", cs);
    }
    if (st == NN_OK && out != NET_SENTINEL && out != NULL) nn_net_destroy(out);
}

static void *dummy_alloc(size_t size, size_t align, void *user)
{
    (void)size; (void)align; (void)user;
    return NULL;
}

static void dummy_free(void *p, void *user)
{
    (void)p; (void)user;
}

static void test_net_create(void)
{
    nn_net_desc base = desc_small(NN_ACT_SOFTMAX, 0.0f, 1), d;
    nn_net *out = NET_SENTINEL;
    nn_status st;

    expect_create(&base, NN_OK, "valid base desc (control)");

    st = nn_net_create(NULL, &out);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_create", "desc NULL");
    NN_CHECK(out == NET_SENTINEL, "nn_net_create case 'desc NULL': *out written");
    st = nn_net_create(&base, NULL);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_create", "out NULL");

#define CREATE_CASE(name, stmt, want) do { d = base; stmt; expect_create(&d, want, name); } while (0)
    CREATE_CASE("n_inputs 0", d.n_inputs = 0, NN_ERR_INVALID);
    CREATE_CASE("n_inputs -1", d.n_inputs = -1, NN_ERR_INVALID);
    CREATE_CASE("n_inputs INT_MIN", d.n_inputs = INT_MIN, NN_ERR_INVALID);
    CREATE_CASE("n_inputs NN_MAX_UNITS+1", d.n_inputs = NN_MAX_UNITS + 1, NN_ERR_INVALID);
    CREATE_CASE("n_inputs INT_MAX", d.n_inputs = INT_MAX, NN_ERR_INVALID);
    CREATE_CASE("no layers", memset(d.layers, 0, sizeof d.layers), NN_ERR_INVALID);
    CREATE_CASE("layer 0 units -1", d.layers[0].units = -1, NN_ERR_INVALID);
    CREATE_CASE("layer 1 units -3", d.layers[1].units = -3, NN_ERR_INVALID);
    CREATE_CASE("layer 0 units INT_MIN", d.layers[0].units = INT_MIN, NN_ERR_INVALID);
    CREATE_CASE("layer 1 units NN_MAX_UNITS+1", d.layers[1].units = NN_MAX_UNITS + 1, NN_ERR_INVALID);
    CREATE_CASE("negative units after the terminating 0",
                (d.layers[1].units = 0, d.layers[2].units = -2), NN_ERR_INVALID);
    CREATE_CASE("hidden act 99", d.layers[0].act = (nn_act)99, NN_ERR_INVALID);
    CREATE_CASE("hidden act NN_ACT_COUNT", d.layers[0].act = NN_ACT_COUNT, NN_ERR_INVALID);
    CREATE_CASE("hidden act -1", d.layers[0].act = (nn_act)-1, NN_ERR_INVALID);
    CREATE_CASE("output act NN_ACT_COUNT (loss MSE)",
                (d.layers[1].act = NN_ACT_COUNT, d.loss = NN_LOSS_MSE), NN_ERR_INVALID);
    CREATE_CASE("init 99", d.layers[0].init = (nn_init)99, NN_ERR_INVALID);
    CREATE_CASE("init NN_INIT_COUNT", d.layers[1].init = NN_INIT_COUNT, NN_ERR_INVALID);
    CREATE_CASE("init -1", d.layers[0].init = (nn_init)-1, NN_ERR_INVALID);
    CREATE_CASE("loss 99", d.loss = (nn_loss)99, NN_ERR_INVALID);
    CREATE_CASE("loss NN_LOSS_COUNT", d.loss = NN_LOSS_COUNT, NN_ERR_INVALID);
    CREATE_CASE("loss -1", d.loss = (nn_loss)-1, NN_ERR_INVALID);
    /* leaky slope must be in (0,1); 0 means the default 0.01 */
    CREATE_CASE("leaky slope 0 (default, control)",
                (d.layers[0].act = NN_ACT_LEAKY_RELU, d.layers[0].act_param = 0.0f), NN_OK);
    CREATE_CASE("leaky slope 0.5 (control)",
                (d.layers[0].act = NN_ACT_LEAKY_RELU, d.layers[0].act_param = 0.5f), NN_OK);
    CREATE_CASE("leaky slope -0.1",
                (d.layers[0].act = NN_ACT_LEAKY_RELU, d.layers[0].act_param = -0.1f), NN_ERR_INVALID);
    CREATE_CASE("leaky slope 1",
                (d.layers[0].act = NN_ACT_LEAKY_RELU, d.layers[0].act_param = 1.0f), NN_ERR_INVALID);
    CREATE_CASE("leaky slope 2.5",
                (d.layers[0].act = NN_ACT_LEAKY_RELU, d.layers[0].act_param = 2.5f), NN_ERR_INVALID);
    CREATE_CASE("leaky slope NaN",
                (d.layers[0].act = NN_ACT_LEAKY_RELU, d.layers[0].act_param = NAN), NN_ERR_INVALID);
    CREATE_CASE("leaky slope inf",
                (d.layers[0].act = NN_ACT_LEAKY_RELU, d.layers[0].act_param = INFINITY), NN_ERR_INVALID);
    CREATE_CASE("init_scale -1",
                (d.layers[0].init = NN_INIT_UNIFORM, d.layers[0].init_scale = -1.0f), NN_ERR_INVALID);
    CREATE_CASE("init_scale NaN",
                (d.layers[0].init = NN_INIT_UNIFORM, d.layers[0].init_scale = NAN), NN_ERR_INVALID);
    CREATE_CASE("dropout -0.1", d.layers[0].dropout = -0.1f, NN_ERR_INVALID);
    CREATE_CASE("dropout 1", d.layers[0].dropout = 1.0f, NN_ERR_INVALID);
    CREATE_CASE("dropout NaN", d.layers[0].dropout = NAN, NN_ERR_INVALID);
    CREATE_CASE("dropout on the output layer", d.layers[1].dropout = 0.5f, NN_ERR_INVALID);
    CREATE_CASE("dropout 0.5 hidden (control)", d.layers[0].dropout = 0.5f, NN_OK);
    CREATE_CASE("max_batch -1", d.max_batch = -1, NN_ERR_INVALID);
    CREATE_CASE("max_batch INT_MIN", d.max_batch = INT_MIN, NN_ERR_INVALID);
    CREATE_CASE("max_batch NN_MAX_BATCH+1", d.max_batch = NN_MAX_BATCH + 1, NN_ERR_INVALID);
    CREATE_CASE("l2 -0.1", d.l2 = -0.1f, NN_ERR_INVALID);
    CREATE_CASE("l2 NaN", d.l2 = NAN, NN_ERR_INVALID);
    CREATE_CASE("l2 +inf", d.l2 = INFINITY, NN_ERR_INVALID);
    CREATE_CASE("l2 -inf", d.l2 = -INFINITY, NN_ERR_INVALID);
    CREATE_CASE("l2 0.5 (control)", d.l2 = 0.5f, NN_OK);
    CREATE_CASE("allocator alloc_fn only", d.allocator.alloc_fn = dummy_alloc, NN_ERR_INVALID);
    CREATE_CASE("allocator free_fn only", d.allocator.free_fn = dummy_free, NN_ERR_INVALID);
    CREATE_CASE("loss SOFTMAX_CE, output SIGMOID",
                (d.loss = NN_LOSS_SOFTMAX_CE, d.layers[1].act = NN_ACT_SIGMOID), NN_ERR_INVALID);
    CREATE_CASE("loss SOFTMAX_CE, output IDENTITY",
                (d.loss = NN_LOSS_SOFTMAX_CE, d.layers[1].act = NN_ACT_IDENTITY), NN_ERR_INVALID);
    CREATE_CASE("loss BCE, output SOFTMAX",
                (d.loss = NN_LOSS_BCE, d.layers[1].act = NN_ACT_SOFTMAX), NN_ERR_INVALID);
    CREATE_CASE("loss BCE, output TANH",
                (d.loss = NN_LOSS_BCE, d.layers[1].act = NN_ACT_TANH), NN_ERR_INVALID);
    CREATE_CASE("loss BCE, output SIGMOID (control)",
                (d.loss = NN_LOSS_BCE, d.layers[1].act = NN_ACT_SIGMOID), NN_OK);
    CREATE_CASE("loss MSE, output SOFTMAX (control)",
                (d.loss = NN_LOSS_MSE, d.layers[1].act = NN_ACT_SOFTMAX), NN_OK);
#undef CREATE_CASE
}

/* --------------------------------------- forward / loss / backprop / train_step */
#define RT_ROWS 16 /* > max_batch (8), so an accepted over-size batch would stay in bounds */

typedef struct rt_case {
    const char *name;
    int use_mse_net;  /* labels with a non-softmax-CE loss */
    int null_net, null_x, pass_y, pass_labels;
    int batch;
    int bad_label;    /* 1: labels[batch-1] = -1, 2: = K, 3: = INT_MAX, 4: = INT_MIN */
    nn_status want;
} rt_case;

static void test_runtime(void)
{
    static const rt_case cases[] = {
        { "net NULL", 0, 1, 0, 0, 1, 4, 0, NN_ERR_INVALID },
        { "x NULL", 0, 0, 1, 0, 1, 4, 0, NN_ERR_INVALID },
        { "batch 0", 0, 0, 0, 0, 1, 0, 0, NN_ERR_INVALID },
        { "batch -1", 0, 0, 0, 0, 1, -1, 0, NN_ERR_INVALID },
        { "batch INT_MIN", 0, 0, 0, 0, 1, INT_MIN, 0, NN_ERR_INVALID },
        { "batch max_batch+1", 0, 0, 0, 0, 1, 9, 0, NN_ERR_BATCH },
        { "batch 2*max_batch", 0, 0, 0, 0, 1, 16, 0, NN_ERR_BATCH },
        { "both y and labels", 0, 0, 0, 1, 1, 4, 0, NN_ERR_INVALID },
        { "neither y nor labels", 0, 0, 0, 0, 0, 4, 0, NN_ERR_INVALID },
        { "labels with MSE loss", 1, 0, 0, 0, 1, 4, 0, NN_ERR_INVALID },
        { "label -1 in last row", 0, 0, 0, 0, 1, 4, 1, NN_ERR_INVALID },
        { "label == K in last row", 0, 0, 0, 0, 1, 4, 2, NN_ERR_INVALID },
        { "label INT_MAX in last row", 0, 0, 0, 0, 1, 8, 3, NN_ERR_INVALID },
        { "label INT_MIN in last row", 0, 0, 0, 0, 1, 8, 4, NN_ERR_INVALID },
    };
    nn_net_desc dce = desc_small(NN_ACT_SOFTMAX, 0.01f, 11), dmse = desc_small(NN_ACT_IDENTITY, 0.0f, 12);
    nn_net *ce = make_net(&dce, "softmax-CE net"), *mse = make_net(&dmse, "MSE net");
    nn_optim *opt_ce = make_opt(ce, NN_OPTIM_ADAM, 0.0f, "adam/ce");
    nn_optim *opt_mse = make_opt(mse, NN_OPTIM_ADAM, 0.0f, "adam/mse");
    float x[RT_ROWS * 3], y[RT_ROWS * 4], out[RT_ROWS * 4], out_ref[RT_ROWS * 4], loss, acc;
    int labels[RT_ROWS], i, K = 4;
    const float *yp;
    nn_status st;
    size_t c;
    snap s_ce, s_mse;

    for (i = 0; i < RT_ROWS * 3; i++) x[i] = (float)((i * 37) % 17) / 8.0f - 1.0f;
    for (i = 0; i < RT_ROWS; i++) {
        int k;
        labels[i] = (i * 3) % K;
        for (k = 0; k < K; k++) y[i * K + k] = k == labels[i] ? 1.0f : 0.0f;
    }
    /* Controls: valid calls succeed; grads become nonzero so an overwrite would show. */
    loss = LOSS_SENTINEL;
    st = nn_net_backprop(ce, x, NULL, labels, 8, &loss);
    CHECK_STATUS(st, NN_OK, "nn_net_backprop", "valid labels (control)");
    NN_CHECK(!same_bits(loss, LOSS_SENTINEL) && loss > 0.0f,
             "nn_net_backprop control: loss not written (%g)", (double)loss);
    st = nn_net_backprop(mse, x, y, NULL, 8, &loss);
    CHECK_STATUS(st, NN_OK, "nn_net_backprop", "valid y (control)");
    st = nn_net_backprop(ce, x, y, NULL, 8, NULL);
    CHECK_STATUS(st, NN_OK, "nn_net_backprop", "valid y, loss NULL (control)");
    yp = PTR_SENTINEL;
    st = nn_net_forward(ce, x, 8, &yp);
    CHECK_STATUS(st, NN_OK, "nn_net_forward", "valid (control)");
    NN_CHECK(yp != PTR_SENTINEL && yp != NULL, "nn_net_forward control: *y not written");
    loss = LOSS_SENTINEL;
    st = nn_net_loss(ce, x, NULL, labels, 8, &loss);
    CHECK_STATUS(st, NN_OK, "nn_net_loss", "valid (control)");
    NN_CHECK(!same_bits(loss, LOSS_SENTINEL), "nn_net_loss control: loss not written");

    snap_take(&s_ce, ce);
    snap_take(&s_mse, mse);
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const rt_case *t = &cases[c];
        nn_net *net = t->null_net ? NULL : t->use_mse_net ? mse : ce;
        nn_optim *opt = t->use_mse_net ? opt_mse : opt_ce;
        const float *xx = t->null_x ? NULL : x, *yy = t->pass_y ? y : NULL;
        int lab[RT_ROWS];
        const int *ll = t->pass_labels ? lab : NULL;
        memcpy(lab, labels, sizeof lab);
        if (t->bad_label && t->batch >= 1) {
            int bad = t->bad_label == 1 ? -1 : t->bad_label == 2 ? K
                    : t->bad_label == 3 ? INT_MAX : INT_MIN;
            lab[t->batch - 1] = bad;
        }
        /* nn_net_forward has no targets: only its net/x/batch cases apply */
        if (!t->use_mse_net && !t->bad_label && t->pass_y == 0 && t->pass_labels) {
            yp = PTR_SENTINEL;
            st = nn_net_forward(net, xx, t->batch, &yp);
            CHECK_STATUS(st, t->want, "nn_net_forward", t->name);
            NN_CHECK(yp == PTR_SENTINEL, "backend=%s nn_net_forward case '%s': *y written on failure",
                     be_name, t->name);
            check_unchanged(ce, &s_ce, "nn_net_forward", t->name);
        }
        loss = LOSS_SENTINEL;
        st = nn_net_loss(net, xx, yy, ll, t->batch, &loss);
        CHECK_STATUS(st, t->want, "nn_net_loss", t->name);
        NN_CHECK(same_bits(loss, LOSS_SENTINEL), "backend=%s nn_net_loss case '%s': *loss written (%g)",
                 be_name, t->name, (double)loss);
        check_unchanged(ce, &s_ce, "nn_net_loss", t->name);
        check_unchanged(mse, &s_mse, "nn_net_loss", t->name);

        loss = LOSS_SENTINEL;
        st = nn_net_backprop(net, xx, yy, ll, t->batch, &loss);
        CHECK_STATUS(st, t->want, "nn_net_backprop", t->name);
        NN_CHECK(same_bits(loss, LOSS_SENTINEL), "backend=%s nn_net_backprop case '%s': *loss written (%g)",
                 be_name, t->name, (double)loss);
        check_unchanged(ce, &s_ce, "nn_net_backprop", t->name);
        check_unchanged(mse, &s_mse, "nn_net_backprop", t->name);

        loss = LOSS_SENTINEL;
        st = nn_train_step(net, opt, xx, yy, ll, t->batch, &loss);
        CHECK_STATUS(st, t->want, "nn_train_step", t->name);
        NN_CHECK(same_bits(loss, LOSS_SENTINEL), "backend=%s nn_train_step case '%s': *loss written (%g)",
                 be_name, t->name, (double)loss);
        NN_CHECK(nn_optim_steps(opt) == 0, "backend=%s nn_train_step case '%s': optimizer step count %lld, want 0",
                 be_name, t->name, nn_optim_steps(opt));
        check_unchanged(ce, &s_ce, "nn_train_step", t->name);
        check_unchanged(mse, &s_mse, "nn_train_step", t->name);

        /* nn_net_accuracy takes labels only; n > max_batch is valid there (chunked) */
        if (!t->use_mse_net && t->pass_labels && !t->pass_y && t->batch <= 8) {
            acc = LOSS_SENTINEL;
            st = nn_net_accuracy(net, xx, ll, t->batch, &acc);
            CHECK_STATUS(st, t->want, "nn_net_accuracy", t->name);
            NN_CHECK(same_bits(acc, LOSS_SENTINEL), "backend=%s nn_net_accuracy case '%s': *accuracy written (%g)",
                     be_name, t->name, (double)acc);
            check_unchanged(ce, &s_ce, "nn_net_accuracy", t->name);
        }
    }

    /* Control for the train_step checks above: a valid step does change the weights and
       count (on a copy of the state: the snapshot is retaken afterwards). */
    loss = LOSS_SENTINEL;
    st = nn_train_step(ce, opt_ce, x, NULL, labels, 8, &loss);
    CHECK_STATUS(st, NN_OK, "nn_train_step", "valid (control)");
    NN_CHECK(nn_optim_steps(opt_ce) == 1 && !same_bits(loss, LOSS_SENTINEL),
             "nn_train_step control: step count %lld, loss %g", nn_optim_steps(opt_ce), (double)loss);
    NN_CHECK(first_diff(nn_net_params(ce, NULL, NULL), s_ce.p, s_ce.n) >= 0,
             "nn_train_step control: weights did not change");
    snap_free(&s_ce);
    snap_take(&s_ce, ce);

    /* Single extra cases. */
    st = nn_net_forward(ce, x, 4, NULL);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_forward", "y out NULL");
    st = nn_net_loss(ce, x, NULL, labels, 4, NULL);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_loss", "loss out NULL");
    loss = LOSS_SENTINEL;
    st = nn_train_step(ce, NULL, x, NULL, labels, 4, &loss);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_train_step", "opt NULL");
    NN_CHECK(same_bits(loss, LOSS_SENTINEL), "nn_train_step case 'opt NULL': *loss written");
    check_unchanged(ce, &s_ce, "single cases", "NULL outputs / opt NULL");

    /* nn_net_predict: n any count (chunked); invalid: NULL, n <= 0 (ERRORS: "a zero or
       negative size gives an error"). */
    for (i = 0; i < RT_ROWS * 4; i++) out_ref[i] = out[i] = LOSS_SENTINEL;
    st = nn_net_predict(NULL, x, 4, out);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_predict", "net NULL");
    st = nn_net_predict(ce, NULL, 4, out);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_predict", "x NULL");
    st = nn_net_predict(ce, x, 4, NULL);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_predict", "out NULL");
    st = nn_net_predict(ce, x, -1, out);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_predict", "n -1");
    st = nn_net_predict(ce, x, INT_MIN, out);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_predict", "n INT_MIN");
    st = nn_net_predict(ce, x, 0, out);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_predict", "n 0");
    NN_CHECK(memcmp(out, out_ref, sizeof out) == 0, "backend=%s nn_net_predict: out written on failure",
             be_name);
    check_unchanged(ce, &s_ce, "nn_net_predict", "invalid cases");
    st = nn_net_predict(ce, x, RT_ROWS, out); /* 16 > max_batch 8: two chunks */
    CHECK_STATUS(st, NN_OK, "nn_net_predict", "n 2*max_batch (control)");
    NN_CHECK(memcmp(out, out_ref, sizeof out) != 0, "nn_net_predict control: out not written");

    acc = LOSS_SENTINEL;
    st = nn_net_accuracy(ce, x, labels, 4, NULL);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_accuracy", "accuracy out NULL");
    st = nn_net_accuracy(ce, x, NULL, 4, &acc);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_accuracy", "labels NULL");
    NN_CHECK(same_bits(acc, LOSS_SENTINEL), "nn_net_accuracy case 'labels NULL': *accuracy written");
    st = nn_net_accuracy(ce, x, labels, RT_ROWS, &acc);
    CHECK_STATUS(st, NN_OK, "nn_net_accuracy", "n 2*max_batch (control)");
    NN_CHECK(acc >= 0.0f && acc <= 1.0f, "nn_net_accuracy control: accuracy %g outside [0,1]", (double)acc);

    /* nn_net_clip_grads: max_norm must be > 0 and finite; a non-finite gradient norm is
       reported and the gradients are left alone */
    {
        static const float bad_norm[4] = { 0.0f, -1.0f, 0.0f, 0.0f };
        float norm;
        int k;
        for (k = 0; k < 5; k++) {
            char cs[48];
            float mn = k < 2 ? bad_norm[k] : k == 2 ? NAN : k == 3 ? INFINITY : 1.0f;
            nn_net *target = k == 4 ? NULL : ce;
            sprintf(cs, k == 4 ? "net NULL" : "max_norm %g", (double)mn);
            norm = LOSS_SENTINEL;
            st = nn_net_clip_grads(target, mn, &norm);
            CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_clip_grads", cs);
            NN_CHECK(same_bits(norm, LOSS_SENTINEL), "backend=%s nn_net_clip_grads case '%s': *norm written",
                     be_name, cs);
            check_unchanged(ce, &s_ce, "nn_net_clip_grads", cs);
        }
        {
            size_t n;
            float *g = nn_net_grads(ce, &n, NULL), keep = g[1];
            g[1] = NAN;
            s_ce.g[1] = NAN;
            st = nn_net_clip_grads(ce, 1e-3f, &norm);
            CHECK_STATUS(st, NN_ERR_NONFINITE, "nn_net_clip_grads", "NaN gradient");
            check_unchanged(ce, &s_ce, "nn_net_clip_grads", "NaN gradient");
            g[1] = keep;
            s_ce.g[1] = keep;
        }
    }

    /* nn_net_confusion: NULLs, n <= 0, out-of-range labels; matrix untouched */
    {
        int m[16], mref[16], bad_lab[8], k;
        float prec[4], rec[4];
        for (k = 0; k < 16; k++) m[k] = mref[k] = -99;
        for (k = 0; k < 5; k++) {
            const char *cs = k == 0 ? "net NULL" : k == 1 ? "x NULL" : k == 2 ? "labels NULL"
                           : k == 3 ? "matrix NULL" : "n 0";
            st = nn_net_confusion(k == 0 ? NULL : ce, k == 1 ? NULL : x, k == 2 ? NULL : labels, k == 4 ? 0 : 8,
                                  k == 3 ? NULL : m, prec, rec, &acc);
            CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_confusion", cs);
        }
        st = nn_net_confusion(ce, x, labels, -1, m, prec, rec, &acc);
        CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_confusion", "n -1");
        for (k = 0; k < 2; k++) {
            const char *cs = k == 0 ? "label -1 in last row" : "label == K in last row";
            memcpy(bad_lab, labels, sizeof bad_lab);
            bad_lab[7] = k == 0 ? -1 : K;
            acc = LOSS_SENTINEL;
            st = nn_net_confusion(ce, x, bad_lab, 8, m, prec, rec, &acc);
            CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_confusion", cs);
            NN_CHECK(same_bits(acc, LOSS_SENTINEL), "nn_net_confusion case '%s': *accuracy written", cs);
        }
        NN_CHECK(memcmp(m, mref, sizeof m) == 0, "backend=%s nn_net_confusion failures: matrix written", be_name);
        check_unchanged(ce, &s_ce, "nn_net_confusion", "invalid cases");
        st = nn_net_confusion(ce, x, labels, 8, m, prec, rec, &acc);
        CHECK_STATUS(st, NN_OK, "nn_net_confusion", "valid (control)");
        {
            int total = 0;
            for (k = 0; k < 16; k++) total += m[k];
            NN_CHECK(total == 8, "nn_net_confusion control: matrix sums to %d, want 8", total);
        }
    }

    snap_free(&s_ce);
    snap_free(&s_mse);
    nn_optim_destroy(opt_ce);
    nn_optim_destroy(opt_mse);
    nn_net_destroy(ce);
    nn_net_destroy(mse);
}

/* ------------------------------------------------------------- nn_optim_create */
static void expect_optim_create(const nn_net *net, const nn_optim_desc *d, nn_status want,
                                const char *cs)
{
    nn_optim *out = OPT_SENTINEL;
    nn_status st = nn_optim_create(net, d, &out);
    CHECK_STATUS(st, want, "nn_optim_create", cs);
    if (want != NN_OK)
        NN_CHECK(out == OPT_SENTINEL, "nn_optim_create case '%s': *out written on failure", cs);
    if (st == NN_OK && out != OPT_SENTINEL && out != NULL) nn_optim_destroy(out);
}

static void test_optim_create(void)
{
    nn_net_desc nd = desc_small(NN_ACT_SOFTMAX, 0.0f, 3);
    nn_net *net = make_net(&nd, "optim-create net");
    nn_optim_desc base, d;
    nn_optim *out = OPT_SENTINEL;
    nn_status st;
    int k;
    memset(&base, 0, sizeof base);

    for (k = 0; k < NN_OPTIM_COUNT; k++) {
        char name[64];
        d = base;
        d.kind = (nn_optim_kind)k;
        sprintf(name, "kind %s defaults (control)", nn_optim_name(d.kind));
        expect_optim_create(net, &d, NN_OK, name);
    }
    st = nn_optim_create(NULL, &base, &out);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_optim_create", "net NULL");
    NN_CHECK(out == OPT_SENTINEL, "nn_optim_create case 'net NULL': *out written");
    st = nn_optim_create(net, NULL, &out);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_optim_create", "desc NULL");
    NN_CHECK(out == OPT_SENTINEL, "nn_optim_create case 'desc NULL': *out written");
    st = nn_optim_create(net, &base, NULL);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_optim_create", "out NULL");

#define OPT_CASE(name, stmt, want) do { d = base; stmt; expect_optim_create(net, &d, want, name); } while (0)
    OPT_CASE("kind 99", d.kind = (nn_optim_kind)99, NN_ERR_INVALID);
    OPT_CASE("kind NN_OPTIM_COUNT", d.kind = NN_OPTIM_COUNT, NN_ERR_INVALID);
    OPT_CASE("kind -1", d.kind = (nn_optim_kind)-1, NN_ERR_INVALID);
    OPT_CASE("lr -0.1", (d.kind = NN_OPTIM_SGD, d.lr = -0.1f), NN_ERR_INVALID);
    OPT_CASE("lr -denormal", (d.kind = NN_OPTIM_SGD, d.lr = -1e-45f), NN_ERR_INVALID);
    OPT_CASE("lr NaN", (d.kind = NN_OPTIM_ADAM, d.lr = NAN), NN_ERR_INVALID);
    OPT_CASE("lr +inf", (d.kind = NN_OPTIM_ADAM, d.lr = INFINITY), NN_ERR_INVALID);
    OPT_CASE("lr -inf", (d.kind = NN_OPTIM_ADAM, d.lr = -INFINITY), NN_ERR_INVALID);
    OPT_CASE("momentum 1", (d.kind = NN_OPTIM_MOMENTUM, d.momentum = 1.0f), NN_ERR_INVALID);
    OPT_CASE("momentum 1.5", (d.kind = NN_OPTIM_NESTEROV, d.momentum = 1.5f), NN_ERR_INVALID);
    OPT_CASE("momentum -0.1", (d.kind = NN_OPTIM_MOMENTUM, d.momentum = -0.1f), NN_ERR_INVALID);
    OPT_CASE("momentum NaN", (d.kind = NN_OPTIM_MOMENTUM, d.momentum = NAN), NN_ERR_INVALID);
    OPT_CASE("momentum 0.5 (control)", (d.kind = NN_OPTIM_MOMENTUM, d.momentum = 0.5f), NN_OK);
    OPT_CASE("beta1 1", (d.kind = NN_OPTIM_ADAM, d.beta1 = 1.0f), NN_ERR_INVALID);
    OPT_CASE("beta1 -0.5", (d.kind = NN_OPTIM_ADAM, d.beta1 = -0.5f), NN_ERR_INVALID);
    OPT_CASE("beta1 NaN", (d.kind = NN_OPTIM_ADAMW, d.beta1 = NAN), NN_ERR_INVALID);
    OPT_CASE("beta2 1", (d.kind = NN_OPTIM_ADAM, d.beta2 = 1.0f), NN_ERR_INVALID);
    OPT_CASE("beta2 2", (d.kind = NN_OPTIM_ADAMW, d.beta2 = 2.0f), NN_ERR_INVALID);
    OPT_CASE("beta2 -1e-3", (d.kind = NN_OPTIM_ADAM, d.beta2 = -1e-3f), NN_ERR_INVALID);
    OPT_CASE("beta2 inf", (d.kind = NN_OPTIM_ADAM, d.beta2 = INFINITY), NN_ERR_INVALID);
    OPT_CASE("rho 1", (d.kind = NN_OPTIM_RMSPROP, d.rho = 1.0f), NN_ERR_INVALID);
    OPT_CASE("rho -0.5", (d.kind = NN_OPTIM_RMSPROP, d.rho = -0.5f), NN_ERR_INVALID);
    OPT_CASE("rho NaN", (d.kind = NN_OPTIM_RMSPROP, d.rho = NAN), NN_ERR_INVALID);
    OPT_CASE("weight_decay -0.01", (d.kind = NN_OPTIM_ADAMW, d.weight_decay = -0.01f), NN_ERR_INVALID);
    OPT_CASE("weight_decay -0.01 (SGD)", (d.kind = NN_OPTIM_SGD, d.weight_decay = -0.01f), NN_ERR_INVALID);
    OPT_CASE("weight_decay NaN", (d.kind = NN_OPTIM_ADAMW, d.weight_decay = NAN), NN_ERR_INVALID);
    OPT_CASE("weight_decay inf", (d.kind = NN_OPTIM_ADAMW, d.weight_decay = INFINITY), NN_ERR_INVALID);
    OPT_CASE("eps -1e-8", (d.kind = NN_OPTIM_ADAGRAD, d.eps = -1e-8f), NN_ERR_INVALID);
    OPT_CASE("eps NaN", (d.kind = NN_OPTIM_ADAM, d.eps = NAN), NN_ERR_INVALID);
    OPT_CASE("eps inf", (d.kind = NN_OPTIM_RMSPROP, d.eps = INFINITY), NN_ERR_INVALID);
    OPT_CASE("eps2 0 (set 0 -> default, control)", (d.kind = NN_OPTIM_ADAFACTOR, d.eps2 = 0.0f), NN_OK);
    OPT_CASE("eps2 -1e-3", (d.kind = NN_OPTIM_ADAFACTOR, d.eps2 = -1e-3f), NN_ERR_INVALID);
    OPT_CASE("eps2 inf", (d.kind = NN_OPTIM_ADAFACTOR, d.eps2 = INFINITY), NN_ERR_INVALID);
    OPT_CASE("clip -1", (d.kind = NN_OPTIM_ADAFACTOR, d.clip = -1.0f), NN_ERR_INVALID);
    OPT_CASE("clip NaN", (d.kind = NN_OPTIM_ADAFACTOR, d.clip = NAN), NN_ERR_INVALID);
    OPT_CASE("explicit_lr 2", (d.kind = NN_OPTIM_ADAFACTOR, d.explicit_lr = 2), NN_ERR_INVALID);
    OPT_CASE("explicit_lr 1 (control)", (d.kind = NN_OPTIM_ADAFACTOR, d.explicit_lr = 1), NN_OK);
    OPT_CASE("adafactor beta1 1", (d.kind = NN_OPTIM_ADAFACTOR, d.beta1 = 1.0f), NN_ERR_INVALID);
    OPT_CASE("adadelta rho 1", (d.kind = NN_OPTIM_ADADELTA, d.rho = 1.0f), NN_ERR_INVALID);
    OPT_CASE("allocator alloc_fn only", d.allocator.alloc_fn = dummy_alloc, NN_ERR_INVALID);
    OPT_CASE("allocator free_fn only", d.allocator.free_fn = dummy_free, NN_ERR_INVALID);
#undef OPT_CASE
    nn_net_destroy(net);
}

/* --------------------------------------------------- optimizer step failures */
static void test_optim_shape(void)
{
    nn_net_desc da = desc_small(NN_ACT_SOFTMAX, 0.0f, 5), db = da, dc, dd;
    nn_net *a, *b, *c, *e;
    nn_optim *opt_a, *opt_c;
    float x[16 * 16], loss;
    int labels[8] = { 0, 1, 2, 3, 0, 1, 2, 3 }, i;
    nn_status st;
    snap s;
    size_t nc, nwc, ne, nwe;

    db.layers[0].units = 6; /* different hidden width */
    a = make_net(&da, "shape net A (3-5-4)");
    b = make_net(&db, "shape net B (3-6-4)");
    opt_a = make_opt(a, NN_OPTIM_ADAM, 0.0f, "adam for A");
    for (i = 0; i < 16 * 16; i++) x[i] = (float)((i * 29) % 13) / 6.0f - 1.0f;
    st = nn_net_backprop(b, x, NULL, labels, 8, NULL);
    CHECK_STATUS(st, NN_OK, "nn_net_backprop", "net B (control)");
    snap_take(&s, b);
    st = nn_optim_step(opt_a, b);
    CHECK_STATUS(st, NN_ERR_SHAPE, "nn_optim_step", "optimizer of 3-5-4 on 3-6-4");
    check_unchanged(b, &s, "nn_optim_step", "optimizer of 3-5-4 on 3-6-4");
    loss = LOSS_SENTINEL;
    st = nn_train_step(b, opt_a, x, NULL, labels, 8, &loss);
    CHECK_STATUS(st, NN_ERR_SHAPE, "nn_train_step", "optimizer of 3-5-4 on 3-6-4");
    check_unchanged(b, &s, "nn_train_step", "optimizer of 3-5-4 on 3-6-4");
    NN_CHECK(same_bits(loss, LOSS_SENTINEL), "nn_train_step shape mismatch: *loss written");
    NN_CHECK(nn_optim_steps(opt_a) == 0, "nn_optim_step shape mismatch: step count %lld, want 0",
             nn_optim_steps(opt_a));
    st = nn_optim_step(opt_a, NULL);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_optim_step", "net NULL");
    st = nn_optim_step(NULL, a);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_optim_step", "opt NULL");
    st = nn_optim_step(opt_a, a);
    CHECK_STATUS(st, NN_OK, "nn_optim_step", "own net (control)");
    snap_free(&s);

    /* Same flat sizes, different architecture: 16 -> 2 and 2 -> 16 both have 32 weights
       and 16 (padded) biases, but the optimizer state of one means nothing for the other. */
    memset(&dc, 0, sizeof dc);
    dc.n_inputs = 16;
    dc.layers[0].units = 2;
    dc.layers[0].act = NN_ACT_IDENTITY;
    dc.max_batch = 8;
    dd = dc;
    dd.n_inputs = 2;
    dd.layers[0].units = 16;
    c = make_net(&dc, "16->2 net");
    e = make_net(&dd, "2->16 net");
    nn_net_params(c, &nc, &nwc);
    nn_net_params(e, &ne, &nwe);
    NN_CHECK(nc == ne && nwc == nwe, "precondition: 16->2 and 2->16 should have equal buffer sizes (%lu/%lu vs %lu/%lu)",
             (unsigned long)nc, (unsigned long)nwc, (unsigned long)ne, (unsigned long)nwe);
    opt_c = make_opt(c, NN_OPTIM_ADAM, 0.0f, "adam for 16->2");
    {
        float y[8 * 16];
        for (i = 0; i < 8 * 16; i++) y[i] = (float)(i % 3) - 1.0f;
        st = nn_net_backprop(e, x, y, NULL, 8, NULL);
        CHECK_STATUS(st, NN_OK, "nn_net_backprop", "2->16 net (control)");
        snap_take(&s, e);
        st = nn_optim_step(opt_c, e);
        CHECK_STATUS(st, NN_ERR_SHAPE, "nn_optim_step",
                     "optimizer of 16->2 on 2->16 (same n_params/n_weights)");
        check_unchanged(e, &s, "nn_optim_step", "optimizer of 16->2 on 2->16");
        st = nn_train_step(e, opt_c, x, y, NULL, 8, NULL);
        CHECK_STATUS(st, NN_ERR_SHAPE, "nn_train_step",
                     "optimizer of 16->2 on 2->16 (same n_params/n_weights)");
        check_unchanged(e, &s, "nn_train_step", "optimizer of 16->2 on 2->16");
        snap_free(&s);
    }
    nn_optim_destroy(opt_a);
    nn_optim_destroy(opt_c);
    nn_net_destroy(a);
    nn_net_destroy(b);
    nn_net_destroy(c);
    nn_net_destroy(e);
}

/* A NaN/Inf gradient: the step fails and changes neither weights nor optimizer state.
   net1/opt1 see the failing step, net2/opt2 do not; afterwards both take the same real
   steps and must stay bit-identical. Gradients are computed once (on net1) and copied to
   net2, so no kernel nondeterminism can enter. */
static void test_optim_nonfinite(void)
{
    float bad_vals[3];
    nn_net_desc nd = desc_small(NN_ACT_SOFTMAX, 0.0f, 21);
    float x[8 * 3];
    int labels[8] = { 0, 1, 2, 3, 3, 2, 1, 0 }, i, kind, bi, pi, round;
    nn_status st;
    bad_vals[0] = NAN;
    bad_vals[1] = INFINITY;
    bad_vals[2] = -INFINITY;
    for (i = 0; i < 8 * 3; i++) x[i] = (float)((i * 7) % 11) / 5.0f - 1.0f;

    for (kind = NN_OPTIM_SGD; kind < NN_OPTIM_COUNT; kind++) {
        for (bi = 0; bi < 3; bi++) {
            for (pi = 0; pi < 4; pi++) {
                nn_net *n1 = make_net(&nd, "twin 1"), *n2 = make_net(&nd, "twin 2");
                nn_optim *o1 = make_opt(n1, (nn_optim_kind)kind, 0.05f, "twin 1");
                nn_optim *o2 = make_opt(n2, (nn_optim_kind)kind, 0.05f, "twin 2");
                size_t n, nw, pos;
                float *g1 = nn_net_grads(n1, &n, &nw), *g2 = nn_net_grads(n2, NULL, NULL);
                float *p1 = nn_net_params(n1, NULL, NULL), *p2 = nn_net_params(n2, NULL, NULL);
                float *W1 = NULL, *b1 = NULL;
                int in1 = 0, out1 = 0;
                char cs[128];
                snap s;
                long d;
                nn_net_layer(n1, 1, &in1, &out1, &W1, &b1, NULL, NULL);
                switch (pi) {
                case 0: pos = 0; break;                                         /* first weight */
                case 1: pos = (size_t)(W1 - p1) + (size_t)in1 * out1 - 1; break; /* last weight */
                case 2: pos = nw; break;                                        /* first bias */
                default: pos = (size_t)(b1 - p1) + (size_t)out1 - 1; break;       /* last bias */
                }
                sprintf(cs, "optim=%s grad[%lu]=%g", nn_optim_name((nn_optim_kind)kind),
                        (unsigned long)pos, (double)bad_vals[bi]);
                /* one real step first, so the optimizer state is not all zero */
                st = nn_net_backprop(n1, x, NULL, labels, 8, NULL);
                memcpy(g2, g1, n * sizeof(float));
                st = nn_optim_step(o1, n1);
                CHECK_STATUS(st, NN_OK, "nn_optim_step", cs);
                st = nn_optim_step(o2, n2);
                CHECK_STATUS(st, NN_OK, "nn_optim_step", cs);
                st = nn_net_backprop(n1, x, NULL, labels, 8, NULL);
                CHECK_STATUS(st, NN_OK, "nn_net_backprop", cs);
                memcpy(g2, g1, n * sizeof(float));
                {
                    float keep = g1[pos];
                    snap_take(&s, n1);
                    s.g[pos] = bad_vals[bi];
                    g1[pos] = bad_vals[bi];
                    st = nn_optim_step(o1, n1);
                    CHECK_STATUS(st, NN_ERR_NONFINITE, "nn_optim_step", cs);
                    check_unchanged(n1, &s, "nn_optim_step (non-finite gradient)", cs);
                    NN_CHECK(nn_optim_steps(o1) == 1, "backend=%s nn_optim_step %s: step count %lld after the failed step, want 1",
                             be_name, cs, nn_optim_steps(o1));
                    g1[pos] = keep;
                    snap_free(&s);
                }
                for (round = 0; round < 2; round++) {
                    st = nn_optim_step(o1, n1);
                    CHECK_STATUS(st, NN_OK, "nn_optim_step after clearing", cs);
                    st = nn_optim_step(o2, n2);
                    CHECK_STATUS(st, NN_OK, "nn_optim_step (twin)", cs);
                    d = first_diff(p1, p2, n);
                    NN_CHECK(d < 0, "backend=%s nn_optim_step %s round %d: params differ from the twin that never saw the failed step at [%ld]: got %.9g want %.9g (optimizer state or weights were touched)",
                             be_name, cs, round, d, d < 0 ? 0.0 : (double)p1[d], d < 0 ? 0.0 : (double)p2[d]);
                    NN_CHECK(nn_optim_steps(o1) == nn_optim_steps(o2), "backend=%s %s: step counts %lld vs twin %lld",
                             be_name, cs, nn_optim_steps(o1), nn_optim_steps(o2));
                    st = nn_net_backprop(n1, x, NULL, labels, 8, NULL);
                    memcpy(g2, g1, n * sizeof(float));
                }
                nn_optim_destroy(o1);
                nn_optim_destroy(o2);
                nn_net_destroy(n1);
                nn_net_destroy(n2);
            }
        }
    }
}

/* nn_train_step with a non-finite input or target: an error, weights untouched. */
static void test_train_nonfinite(void)
{
    static const nn_act hidden[2] = { NN_ACT_TANH, NN_ACT_RELU };
    int h, which, i;
    for (h = 0; h < 2; h++) {
        for (which = 0; which < 4; which++) {
            nn_net_desc nd = desc_small(NN_ACT_IDENTITY, 0.0f, 31);
            nn_net *net;
            nn_optim *opt;
            float x[4 * 3], y[4 * 4], loss = LOSS_SENTINEL;
            char cs[96];
            nn_status st;
            snap s;
            nd.layers[0].act = hidden[h];
            net = make_net(&nd, "nonfinite-input net");
            opt = make_opt(net, NN_OPTIM_ADAM, 0.0f, "nonfinite-input");
            for (i = 0; i < 12; i++) x[i] = 0.25f * (float)(i % 5) - 0.5f;
            for (i = 0; i < 16; i++) y[i] = 0.1f * (float)(i % 4);
            switch (which) {
            case 0: x[4] = NAN; break;
            case 1: x[11] = INFINITY; break;
            case 2: x[0] = -INFINITY; break;
            default: y[5] = NAN; break;
            }
            sprintf(cs, "hidden %s, %s", nn_act_name(hidden[h]),
                    which == 0 ? "x[4] = NaN" : which == 1 ? "x[11] = +inf"
                    : which == 2 ? "x[0] = -inf" : "y[5] = NaN");
            snap_take(&s, net);
            st = nn_train_step(net, opt, x, y, NULL, 4, &loss);
            CHECK_STATUS(st, NN_ERR_NONFINITE, "nn_train_step", cs);
            {
                const float *p = nn_net_params(net, NULL, NULL);
                long d = first_diff(p, s.p, s.n);
                NN_CHECK(d < 0, "backend=%s nn_train_step %s: weight [%ld] changed: got %.9g want %.9g",
                         be_name, cs, d, d < 0 ? 0.0 : (double)p[d], d < 0 ? 0.0 : (double)s.p[d]);
            }
            NN_CHECK(nn_optim_steps(opt) == 0, "backend=%s nn_train_step %s: step count %lld, want 0",
                     be_name, cs, nn_optim_steps(opt));
            if (which == 0 && h == 0) {
                /* nn_net_loss: NN_ERR_NONFINITE and *loss is still written */
                loss = LOSS_SENTINEL;
                st = nn_net_loss(net, x, y, NULL, 4, &loss);
                CHECK_STATUS(st, NN_ERR_NONFINITE, "nn_net_loss", cs);
                NN_CHECK(!isfinite(loss), "backend=%s nn_net_loss %s: *loss = %g, want the non-finite value written",
                         be_name, cs, (double)loss);
            }
            snap_free(&s);
            nn_optim_destroy(opt);
            nn_net_destroy(net);
        }
    }
}

/* ------------------------------------------------ set_lr, copy_params, layer */
static void test_misc(void)
{
    nn_net_desc d1 = desc_small(NN_ACT_SOFTMAX, 0.0f, 41), d2 = d1, d3 = d1, d4 = d1;
    nn_net *a, *b, *c, *e, *f;
    nn_optim *opt;
    float bl[8];
    int i, in = -5, out = -5;
    float *W = PTR_SENTINEL, *bb = PTR_SENTINEL, *dW = PTR_SENTINEL, *db = PTR_SENTINEL;
    nn_status st;
    snap s;

    a = make_net(&d1, "misc net");
    opt = make_opt(a, NN_OPTIM_SGD, 0.0f, "misc");
    bl[0] = 0.0f;
    bl[1] = -0.0f;
    bl[2] = -1.0f;
    bl[3] = -1e-30f;
    bl[4] = NAN;
    bl[5] = INFINITY;
    bl[6] = -INFINITY;
    bl[7] = -NAN;
    st = nn_optim_set_lr(opt, 0.125f);
    CHECK_STATUS(st, NN_OK, "nn_optim_set_lr", "0.125 (control)");
    NN_CHECK(nn_optim_get_lr(opt) == 0.125f, "nn_optim_set_lr control: lr %g, want 0.125",
             (double)nn_optim_get_lr(opt));
    for (i = 0; i < 8; i++) {
        char cs[48];
        sprintf(cs, "lr %g", (double)bl[i]);
        st = nn_optim_set_lr(opt, bl[i]);
        CHECK_STATUS(st, NN_ERR_INVALID, "nn_optim_set_lr", cs);
        NN_CHECK(nn_optim_get_lr(opt) == 0.125f, "nn_optim_set_lr case '%s': lr changed to %g",
                 cs, (double)nn_optim_get_lr(opt));
    }
    st = nn_optim_set_lr(NULL, 0.5f);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_optim_set_lr", "opt NULL");

    /* copy_params between different shapes */
    d2.layers[0].units = 6;                                     /* wider hidden */
    d3.layers[2].units = 4; d3.layers[1].units = 5;              /* extra layer */
    d3.layers[1].act = NN_ACT_TANH; d3.layers[2].act = NN_ACT_SOFTMAX;
    d4.n_inputs = 2;                                            /* fewer inputs */
    b = make_net(&d2, "3-6-4");
    c = make_net(&d3, "3-5-5-4");
    e = make_net(&d4, "2-5-4");
    {
        nn_net *dsts[3];
        const char *names[3] = { "src 3-5-4 -> dst 3-6-4", "src 3-5-4 -> dst 3-5-5-4",
                                 "src 3-5-4 -> dst 2-5-4" };
        int k;
        dsts[0] = b; dsts[1] = c; dsts[2] = e;
        for (k = 0; k < 3; k++) {
            snap_take(&s, dsts[k]);
            st = nn_net_copy_params(dsts[k], a);
            CHECK_STATUS(st, NN_ERR_SHAPE, "nn_net_copy_params", names[k]);
            check_unchanged(dsts[k], &s, "nn_net_copy_params", names[k]);
            snap_free(&s);
            snap_take(&s, a);
            st = nn_net_copy_params(a, dsts[k]);
            CHECK_STATUS(st, NN_ERR_SHAPE, "nn_net_copy_params", "reverse direction");
            check_unchanged(a, &s, "nn_net_copy_params", "reverse direction");
            snap_free(&s);
        }
    }
    {
        /* 16->2 and 2->16: equal parameter counts, different shapes */
        nn_net_desc dc, dd;
        nn_net *g, *h;
        memset(&dc, 0, sizeof dc);
        dc.n_inputs = 16;
        dc.layers[0].units = 2;
        dc.layers[0].act = NN_ACT_IDENTITY;
        dd = dc;
        dd.n_inputs = 2;
        dd.layers[0].units = 16;
        dd.seed = 99;
        g = make_net(&dc, "16->2");
        h = make_net(&dd, "2->16");
        snap_take(&s, h);
        st = nn_net_copy_params(h, g);
        CHECK_STATUS(st, NN_ERR_SHAPE, "nn_net_copy_params", "src 16->2 -> dst 2->16 (same count)");
        check_unchanged(h, &s, "nn_net_copy_params", "src 16->2 -> dst 2->16");
        snap_free(&s);
        nn_net_destroy(g);
        nn_net_destroy(h);
    }
    st = nn_net_copy_params(NULL, a);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_copy_params", "dst NULL");
    st = nn_net_copy_params(a, NULL);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_copy_params", "src NULL");
    d1.seed = 4242;
    f = make_net(&d1, "3-5-4 other seed");
    st = nn_net_copy_params(f, a);
    CHECK_STATUS(st, NN_OK, "nn_net_copy_params", "same shape (control)");
    {
        size_t n;
        const float *pa = nn_net_params(a, &n, NULL), *pf = nn_net_params(f, NULL, NULL);
        NN_CHECK(memcmp(pa, pf, n * sizeof(float)) == 0, "nn_net_copy_params control: dst != src after copy");
    }

    /* nn_net_layer out of range: nothing written */
    {
        static const int bad_l[4] = { -1, 2, 32, INT_MIN };
        int k;
        for (k = 0; k < 4; k++) {
            char cs[32];
            sprintf(cs, "l = %d", bad_l[k]);
            st = nn_net_layer(a, bad_l[k], &in, &out, &W, &bb, &dW, &db);
            CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_layer", cs);
            NN_CHECK(in == -5 && out == -5 && W == PTR_SENTINEL && bb == PTR_SENTINEL &&
                     dW == PTR_SENTINEL && db == PTR_SENTINEL,
                     "nn_net_layer case '%s': an output was written on failure", cs);
        }
        st = nn_net_layer(NULL, 0, &in, &out, &W, &bb, &dW, &db);
        CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_layer", "net NULL");
        NN_CHECK(in == -5 && W == PTR_SENTINEL, "nn_net_layer case 'net NULL': output written");
        st = nn_net_layer(a, 1, &in, &out, &W, &bb, &dW, &db);
        CHECK_STATUS(st, NN_OK, "nn_net_layer", "l = 1 (control)");
        NN_CHECK(in == 5 && out == 4 && W != PTR_SENTINEL && db != PTR_SENTINEL,
                 "nn_net_layer control: got in=%d out=%d, want 5, 4", in, out);
        st = nn_net_layer(a, 0, NULL, NULL, NULL, NULL, NULL, NULL);
        CHECK_STATUS(st, NN_OK, "nn_net_layer", "all outputs NULL (control)");
    }
    st = nn_net_init_params(NULL, 1);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_net_init_params", "net NULL");

    /* destroy(NULL) is a no-op; NULL getters are safe */
    nn_net_destroy(NULL);
    nn_optim_destroy(NULL);
    nn_optim_reset(NULL);
    NN_CHECK(nn_net_get_desc(NULL) == NULL, "nn_net_get_desc(NULL) != NULL");
    NN_CHECK(nn_optim_get_desc(NULL) == NULL, "nn_optim_get_desc(NULL) != NULL");
    NN_CHECK(nn_net_n_inputs(NULL) == 0 && nn_net_n_outputs(NULL) == 0 && nn_net_n_layers(NULL) == 0,
             "nn_net_n_*(NULL) not 0");
    NN_CHECK(nn_net_params(NULL, NULL, NULL) == NULL && nn_net_grads(NULL, NULL, NULL) == NULL,
             "nn_net_params/grads(NULL) not NULL");
    NN_CHECK(nn_optim_steps(NULL) == 0, "nn_optim_steps(NULL) = %lld", nn_optim_steps(NULL));

    nn_optim_destroy(opt);
    nn_net_destroy(a);
    nn_net_destroy(b);
    nn_net_destroy(c);
    nn_net_destroy(e);
    nn_net_destroy(f);
}

/* ------------------------------------------------------------- status strings */
static void test_status_str(void)
{
    int s, t;
    for (s = 0; s < NN_STATUS_COUNT; s++) {
        const char *a = nn_status_str((nn_status)s);
        NN_CHECK(a != NULL && a[0] != '\0', "nn_status_str(%d) is NULL or empty", s);
        if (!a) continue;
        for (t = 0; t < s; t++) {
            const char *b = nn_status_str((nn_status)t);
            NN_CHECK(b == NULL || strcmp(a, b) != 0, "nn_status_str(%d) == nn_status_str(%d) = \"%s\"",
                     s, t, a);
        }
    }
    NN_CHECK(nn_status_str(NN_STATUS_COUNT) != NULL, "nn_status_str(NN_STATUS_COUNT) is NULL");
    NN_CHECK(nn_status_str((nn_status)-1) != NULL, "nn_status_str(-1) is NULL");
    NN_CHECK(nn_status_str((nn_status)1000) != NULL, "nn_status_str(1000) is NULL");
    NN_CHECK(nn_act_name((nn_act)-1) != NULL && nn_act_name(NN_ACT_COUNT) != NULL,
             "nn_act_name out of range is NULL");
    NN_CHECK(nn_loss_name((nn_loss)-1) != NULL && nn_loss_name(NN_LOSS_COUNT) != NULL,
             "nn_loss_name out of range is NULL");
    NN_CHECK(nn_optim_name((nn_optim_kind)-1) != NULL && nn_optim_name(NN_OPTIM_COUNT) != NULL,
             "nn_optim_name out of range is NULL");
}

/* --------------------------------------------------------- allocation failure */
#define TRACK_MAX 64
typedef struct alloc_ctx {
    long calls, fail_at;   /* fail the fail_at-th call (1-based); 0: never */
    int fail_from;         /* 1: fail every call from fail_at on */
    long live, bad_align, bad_free;
    size_t max_size;       /* nonzero: refuse larger requests */
    void *ptrs[TRACK_MAX];
} alloc_ctx;

static void *count_alloc(size_t size, size_t align, void *user)
{
    alloc_ctx *c = (alloc_ctx *)user;
    void *p = NULL;
    int i;
    c->calls++;
    if (c->fail_at && (c->calls == c->fail_at || (c->fail_from && c->calls > c->fail_at)))
        return NULL;
    if (c->max_size && size > c->max_size) return NULL;
    if (align == 0 || (align & (align - 1)) != 0 || align > 4096) {
        c->bad_align++;
        return NULL;
    }
    if (align < sizeof(void *)) align = sizeof(void *);
    if (posix_memalign(&p, align, size) != 0) return NULL;
    for (i = 0; i < TRACK_MAX; i++)
        if (!c->ptrs[i]) {
            c->ptrs[i] = p;
            break;
        }
    if (i == TRACK_MAX) {
        free(p);
        return NULL;
    }
    c->live++;
    return p;
}

static void count_free(void *p, void *user)
{
    alloc_ctx *c = (alloc_ctx *)user;
    int i;
    if (!p) return; /* free(NULL)-style no-op */
    for (i = 0; i < TRACK_MAX; i++)
        if (c->ptrs[i] == p) {
            c->ptrs[i] = NULL;
            c->live--;
            free(p);
            return;
        }
    c->bad_free++; /* not ours, or already freed */
}

static void test_alloc_fail(void)
{
    int mode, kind_i;
    static const nn_optim_kind kinds[3] = { NN_OPTIM_SGD, NN_OPTIM_MOMENTUM, NN_OPTIM_ADAM };
    for (mode = 0; mode < 2; mode++) {
        long k, n_fail = 0;
        int ok = 0;
        for (k = 1; k <= 64 && !ok; k++) {
            alloc_ctx ctx;
            nn_net_desc d = desc_small(NN_ACT_SOFTMAX, 0.0f, 7);
            nn_net *out = NET_SENTINEL;
            nn_status st;
            memset(&ctx, 0, sizeof ctx);
            ctx.fail_at = k;
            ctx.fail_from = mode;
            d.allocator.alloc_fn = count_alloc;
            d.allocator.free_fn = count_free;
            d.allocator.user = &ctx;
            st = nn_net_create(&d, &out);
            if (st == NN_OK) {
                ok = 1;
                NN_CHECK(out != NET_SENTINEL && out != NULL, "nn_net_create: OK but *out not set");
                NN_CHECK(ctx.live > 0, "nn_net_create: custom allocator not used (live %ld)", ctx.live);
                if (out != NET_SENTINEL && out != NULL) nn_net_destroy(out);
            } else {
                n_fail++;
                NN_CHECK(st == NN_ERR_NOMEM, "nn_net_create alloc fails at call %ld%s: got %s, want NN_ERR_NOMEM",
                         k, mode ? " and after" : "", nn_status_str(st));
                NN_CHECK(out == NET_SENTINEL, "nn_net_create alloc fails at call %ld%s: *out written",
                         k, mode ? " and after" : "");
            }
            NN_CHECK(ctx.live == 0, "nn_net_create alloc fails at call %ld%s: %ld allocations leaked",
                     k, mode ? " and after" : "", ctx.live);
            NN_CHECK(ctx.bad_free == 0 && ctx.bad_align == 0,
                     "nn_net_create alloc fails at call %ld: %ld frees of unknown pointers, %ld bad alignments requested",
                     k, ctx.bad_free, ctx.bad_align);
        }
        NN_CHECK(ok, "nn_net_create never succeeded with the counting allocator (mode %d)", mode);
        NN_CHECK(n_fail >= 2, "nn_net_create: only %ld failing allocation points (want >= 2: net + buffers)", n_fail);

        /* optimizer: its own allocator, and inheriting the network's */
        for (kind_i = 0; kind_i < 4; kind_i++) {
            nn_net_desc nd = desc_small(NN_ACT_SOFTMAX, 0.0f, 8);
            alloc_ctx net_ctx;
            nn_net *net;
            int inherit = kind_i == 3;
            nn_optim_kind kind = inherit ? NN_OPTIM_ADAMW : kinds[kind_i];
            memset(&net_ctx, 0, sizeof net_ctx);
            if (inherit) {
                nd.allocator.alloc_fn = count_alloc;
                nd.allocator.free_fn = count_free;
                nd.allocator.user = &net_ctx;
            }
            net = make_net(&nd, "alloc-fail optim net");
            ok = 0;
            n_fail = 0;
            for (k = 1; k <= 64 && !ok; k++) {
                alloc_ctx ctx, *cp = inherit ? &net_ctx : &ctx;
                long base_live = net_ctx.live;
                nn_optim_desc od;
                nn_optim *out = OPT_SENTINEL;
                nn_status st;
                memset(&ctx, 0, sizeof ctx);
                memset(&od, 0, sizeof od);
                od.kind = kind;
                cp->calls = 0;
                cp->fail_at = k;
                cp->fail_from = mode;
                if (!inherit) {
                    od.allocator.alloc_fn = count_alloc;
                    od.allocator.free_fn = count_free;
                    od.allocator.user = &ctx;
                }
                st = nn_optim_create(net, &od, &out);
                if (st == NN_OK) {
                    ok = 1;
                    NN_CHECK(cp->live - (inherit ? base_live : 0) > 0,
                             "nn_optim_create %s: custom allocator not used", nn_optim_name(kind));
                    if (out != OPT_SENTINEL && out != NULL) nn_optim_destroy(out);
                } else {
                    n_fail++;
                    NN_CHECK(st == NN_ERR_NOMEM, "nn_optim_create %s%s alloc fails at call %ld%s: got %s, want NN_ERR_NOMEM",
                             nn_optim_name(kind), inherit ? " (net's allocator)" : "", k,
                             mode ? " and after" : "", nn_status_str(st));
                    NN_CHECK(out == OPT_SENTINEL, "nn_optim_create %s alloc fails at call %ld: *out written",
                             nn_optim_name(kind), k);
                }
                NN_CHECK(cp->live == (inherit ? base_live : 0),
                         "nn_optim_create %s%s alloc fails at call %ld%s: %ld allocations leaked",
                         nn_optim_name(kind), inherit ? " (net's allocator)" : "", k,
                         mode ? " and after" : "", cp->live - (inherit ? base_live : 0));
                NN_CHECK(cp->bad_free == 0 && cp->bad_align == 0,
                         "nn_optim_create %s alloc fails at call %ld: %ld bad frees, %ld bad alignments",
                         nn_optim_name(kind), k, cp->bad_free, cp->bad_align);
                cp->fail_at = 0;
            }
            NN_CHECK(ok, "nn_optim_create %s never succeeded with the counting allocator", nn_optim_name(kind));
            NN_CHECK(n_fail >= 1, "nn_optim_create %s: no failing allocation point", nn_optim_name(kind));
            nn_net_destroy(net);
            if (inherit)
                NN_CHECK(net_ctx.live == 0 && net_ctx.bad_free == 0,
                         "nn_net_destroy with custom allocator: %ld leaked, %ld bad frees",
                         net_ctx.live, net_ctx.bad_free);
        }
    }
}

/* A legal but enormous network (2^24 inputs and units, max_batch 2^20: petabytes) with
   an allocator that refuses anything over 256 MiB: NN_ERR_NOMEM, nothing leaked. */
static void test_huge_net(void)
{
    alloc_ctx ctx;
    nn_net_desc d;
    nn_net *out = NET_SENTINEL;
    nn_status st;
    memset(&ctx, 0, sizeof ctx);
    memset(&d, 0, sizeof d);
    ctx.max_size = (size_t)1 << 28;
    d.n_inputs = NN_MAX_UNITS;
    d.layers[0].units = NN_MAX_UNITS;
    d.layers[1].units = NN_MAX_UNITS;
    d.max_batch = NN_MAX_BATCH;
    d.allocator.alloc_fn = count_alloc;
    d.allocator.free_fn = count_free;
    d.allocator.user = &ctx;
    st = nn_net_create(&d, &out);
    CHECK_STATUS(st, NN_ERR_NOMEM, "nn_net_create", "2^24 x 2^24 x 2^24, max_batch 2^20, allocator <= 256 MiB");
    NN_CHECK(out == NET_SENTINEL, "nn_net_create huge net: *out written");
    NN_CHECK(ctx.live == 0 && ctx.bad_free == 0, "nn_net_create huge net: %ld allocations leaked, %ld bad frees",
             ctx.live, ctx.bad_free);
    if (st == NN_OK && out != NET_SENTINEL) nn_net_destroy(out);
}

/* --------------------------------------------------- nn_simd_* argument checks */
static void fill(float *p, int n, float v)
{
    int i;
    for (i = 0; i < n; i++) p[i] = v;
}

static void test_simd_args(void)
{
    float A[64], B[64], C[64], Cref[64], bias[8];
    nn_status st;
    int i;
    struct gcase {
        const char *name;
        int ta, tb, m, n, k, nullA, nullB, nullC, lda, ldb, ldc;
    };
    static const struct gcase gc[] = {
        { "m -1", 0, 0, -1, 4, 4, 0, 0, 0, 4, 4, 4 },
        { "n -1", 0, 0, 4, -1, 4, 0, 0, 0, 4, 4, 4 },
        { "k -1", 0, 0, 4, 4, -1, 0, 0, 0, 4, 4, 4 },
        { "m INT_MIN", 0, 0, INT_MIN, 4, 4, 0, 0, 0, 4, 4, 4 },
        { "A NULL", 0, 0, 4, 4, 4, 1, 0, 0, 4, 4, 4 },
        { "B NULL", 0, 0, 4, 4, 4, 0, 1, 0, 4, 4, 4 },
        { "C NULL", 0, 0, 4, 4, 4, 0, 0, 1, 4, 4, 4 },
        { "lda < k (tA=0)", 0, 0, 4, 4, 5, 0, 0, 0, 4, 4, 4 },
        { "lda < m (tA=1)", 1, 0, 5, 4, 3, 0, 0, 0, 4, 4, 4 },
        { "ldb < n (tB=0)", 0, 0, 4, 5, 3, 0, 0, 0, 3, 4, 5 },
        { "ldb < k (tB=1)", 0, 1, 4, 4, 5, 0, 0, 0, 5, 4, 4 },
        { "ldc < n", 0, 0, 4, 5, 4, 0, 0, 0, 4, 5, 4 },
        { "lda 0", 0, 0, 2, 2, 2, 0, 0, 0, 0, 2, 2 },
        { "ldc -1", 0, 0, 2, 2, 2, 0, 0, 0, 2, 2, -1 },
    };
    size_t c;
    for (i = 0; i < 64; i++) {
        A[i] = 0.5f + (float)(i % 7);
        B[i] = 1.0f - 0.25f * (float)(i % 5);
    }
    fill(bias, 8, 0.5f);
    fill(Cref, 64, LOSS_SENTINEL);
    for (c = 0; c < sizeof gc / sizeof gc[0]; c++) {
        const struct gcase *g = &gc[c];
        fill(C, 64, LOSS_SENTINEL);
        st = nn_simd_gemm(g->ta, g->tb, g->m, g->n, g->k, 1.0f, g->nullA ? NULL : A, g->lda,
                          g->nullB ? NULL : B, g->ldb, 0.0f, g->nullC ? NULL : C, g->ldc);
        CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_gemm", g->name);
        NN_CHECK(memcmp(C, Cref, sizeof C) == 0, "nn_simd_gemm case '%s': C written on failure", g->name);
        fill(C, 64, LOSS_SENTINEL);
        st = nn_simd_gemm_ex(g->ta, g->tb, g->m, g->n, g->k, 1.0f, g->nullA ? NULL : A, g->lda,
                             g->nullB ? NULL : B, g->ldb, 0.0f, g->nullC ? NULL : C, g->ldc,
                             bias, NN_ACT_RELU, 0.0f);
        CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_gemm_ex", g->name);
        NN_CHECK(memcmp(C, Cref, sizeof C) == 0, "nn_simd_gemm_ex case '%s': C written on failure", g->name);
    }
    fill(C, 64, LOSS_SENTINEL);
    st = nn_simd_gemm_ex(0, 0, 4, 4, 4, 1.0f, A, 4, B, 4, 0.0f, C, 4, bias, (nn_act)99, 0.0f);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_gemm_ex", "act 99");
    st = nn_simd_gemm_ex(0, 0, 4, 4, 4, 1.0f, A, 4, B, 4, 0.0f, C, 4, bias, (nn_act)-1, 0.0f);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_gemm_ex", "act -1");
    st = nn_simd_gemm_ex(0, 0, 4, 4, 4, 1.0f, A, 4, B, 4, 0.0f, C, 4, bias, NN_ACT_COUNT, 0.0f);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_gemm_ex", "act NN_ACT_COUNT");
    NN_CHECK(memcmp(C, Cref, sizeof C) == 0, "nn_simd_gemm_ex bad act: C written on failure");
    st = nn_simd_gemm(0, 0, 4, 4, 4, 1.0f, A, 4, B, 4, 0.0f, C, 4);
    CHECK_STATUS(st, NN_OK, "nn_simd_gemm", "valid 4x4x4 (control)");
    NN_CHECK(memcmp(C, Cref, 16 * sizeof(float)) != 0 && memcmp(C + 16, Cref + 16, 48 * sizeof(float)) == 0,
             "nn_simd_gemm control: C[0..15] not written or C[16..] written");

    /* element-wise activations: SOFTMAX is not element-wise, out-of-range ids invalid */
    {
        static const nn_act bad_acts[3] = { NN_ACT_SOFTMAX, NN_ACT_COUNT, (nn_act)99 };
        int k;
        for (k = 0; k < 4; k++) {
            nn_act act = k < 3 ? bad_acts[k] : (nn_act)-1;
            char cs[32];
            sprintf(cs, "act %d", (int)act);
            fill(C, 64, LOSS_SENTINEL);
            st = nn_simd_act_forward(act, 0.0f, A, C, 16);
            CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_act_forward", cs);
            NN_CHECK(memcmp(C, Cref, sizeof C) == 0, "nn_simd_act_forward case '%s': y written", cs);
            st = nn_simd_act_backward(act, 0.0f, A, B, C, 16);
            CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_act_backward", cs);
            NN_CHECK(memcmp(C, Cref, sizeof C) == 0, "nn_simd_act_backward case '%s': dx written", cs);
        }
        st = nn_simd_act_forward(NN_ACT_TANH, 0.0f, NULL, C, 16);
        CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_act_forward", "x NULL");
        st = nn_simd_act_forward(NN_ACT_TANH, 0.0f, A, NULL, 16);
        CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_act_forward", "y NULL");
        st = nn_simd_act_backward(NN_ACT_TANH, 0.0f, A, NULL, C, 16);
        CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_act_backward", "dy NULL");
        NN_CHECK(memcmp(C, Cref, sizeof C) == 0, "nn_simd_act_* NULL cases: output written");
        st = nn_simd_act_forward(NN_ACT_TANH, 0.0f, A, C, 16);
        CHECK_STATUS(st, NN_OK, "nn_simd_act_forward", "tanh (control)");
        NN_CHECK(memcmp(C, Cref, 16 * sizeof(float)) != 0, "nn_simd_act_forward control: y not written");
    }
    fill(C, 64, LOSS_SENTINEL);
    st = nn_simd_softmax_rows(A, C, -1, 4);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_softmax_rows", "rows -1");
    st = nn_simd_softmax_rows(A, C, 4, -1);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_softmax_rows", "cols -1");
    st = nn_simd_softmax_rows(NULL, C, 4, 4);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_softmax_rows", "x NULL");
    st = nn_simd_softmax_backward_rows(A, NULL, C, 4, 4);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_softmax_backward_rows", "dy NULL");
    st = nn_simd_softmax_backward_rows(A, B, C, -2, 4);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_softmax_backward_rows", "rows -2");
    st = nn_simd_col_sums(A, 4, 4, 3, C);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_col_sums", "ldx < cols");
    st = nn_simd_col_sums(A, -1, 4, 4, C);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_col_sums", "rows -1");
    st = nn_simd_col_sums(A, 4, 4, 4, NULL);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_col_sums", "out NULL");
    st = nn_simd_axpy(4, 1.0f, NULL, C);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_axpy", "x NULL");
    st = nn_simd_axpy(4, 1.0f, A, NULL);
    CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_axpy", "y NULL");
    NN_CHECK(memcmp(C, Cref, sizeof C) == 0, "nn_simd softmax/col_sums/axpy failures: output written");
    {
        nn_simd_optim_args args;
        float s1[16], s2[16];
        memset(&args, 0, sizeof args);
        args.lr = 0.1f;
        args.beta1 = 0.9f;
        args.beta2 = 0.999f;
        args.eps = 1e-8f;
        args.bc1 = args.bc2 = 1.0f;
        fill(s1, 16, 0.0f);
        fill(s2, 16, 0.0f);
        st = nn_simd_optim_update((nn_simd_optim)-1, &args, C, B, s1, s2, 16);
        CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_optim_update", "kind -1");
        st = nn_simd_optim_update(NN_SIMD_OPTIM_COUNT, &args, C, B, s1, s2, 16);
        CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_optim_update", "kind COUNT");
        st = nn_simd_optim_update(NN_SIMD_OPTIM_SGD, NULL, C, B, s1, s2, 16);
        CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_optim_update", "args NULL");
        st = nn_simd_optim_update(NN_SIMD_OPTIM_SGD, &args, C, NULL, s1, s2, 16);
        CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_optim_update", "g NULL");
        st = nn_simd_optim_update(NN_SIMD_OPTIM_MOMENTUM, &args, C, B, NULL, s2, 16);
        CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_optim_update", "momentum s1 NULL");
        st = nn_simd_optim_update(NN_SIMD_OPTIM_ADAM, &args, C, B, s1, NULL, 16);
        CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_optim_update", "adam s2 NULL");
        NN_CHECK(memcmp(C, Cref, sizeof C) == 0, "nn_simd_optim_update failures: w written");
    }
    NN_CHECK(nn_simd_all_finite(NULL, 0) == 1, "nn_simd_all_finite(NULL, 0) != 1");
    NN_CHECK(nn_simd_sumsq(NULL, 0) == 0.0, "nn_simd_sumsq(NULL, 0) != 0");
    {
        nn_simd_backend before = nn_simd_backend_active();
        st = nn_simd_set_backend(NN_SIMD_BACKEND_COUNT);
        CHECK_STATUS(st, NN_ERR_BACKEND, "nn_simd_set_backend", "NN_SIMD_BACKEND_COUNT");
        st = nn_simd_set_backend((nn_simd_backend)-1);
        CHECK_STATUS(st, NN_ERR_BACKEND, "nn_simd_set_backend", "-1");
        st = nn_simd_set_backend_name("no-such-backend");
        CHECK_STATUS(st, NN_ERR_BACKEND, "nn_simd_set_backend_name", "\"no-such-backend\"");
        st = nn_simd_set_backend_name(NULL);
        CHECK_STATUS(st, NN_ERR_INVALID, "nn_simd_set_backend_name", "NULL");
        NN_CHECK(nn_simd_backend_active() == before, "failed nn_simd_set_backend changed the backend %s -> %s",
                 nn_simd_backend_str(before), nn_simd_backend_str(nn_simd_backend_active()));
    }
}

int main(void)
{
    static const nn_simd_backend all[4] = { NN_SIMD_BACKEND_SCALAR, NN_SIMD_BACKEND_AVX2, NN_SIMD_BACKEND_AVX512,
                                            NN_SIMD_BACKEND_NEON };
    nn_simd_backend first;
    int b;
    nn_test_begin("errors");
    printf("backend %s\n", nn_simd_backend_name());
    first = nn_simd_backend_active();

    test_net_create();
    test_optim_create();
    test_status_str();
    test_alloc_fail();
    test_huge_net();
    test_misc();
    /* the run-time checks go through the backend table (all_finite, kernels): run them on
       the active backend, then on every other available one */
    for (b = -1; b < 4; b++) {
        if (b >= 0 && (all[b] == first || !nn_simd_backend_available(all[b]))) continue;
        if (b >= 0) {
            NN_CHECK(nn_simd_set_backend(all[b]) == NN_OK, "nn_simd_set_backend(%s) failed",
                     nn_simd_backend_str(all[b]));
            printf("backend %s\n", nn_simd_backend_name());
        }
        be_name = nn_simd_backend_name();
        test_runtime();
        test_optim_shape();
        test_optim_nonfinite();
        test_train_nonfinite();
        test_simd_args();
    }
    return nn_test_done();
}
