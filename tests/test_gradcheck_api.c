/* test_gradcheck_api.c - the user-callable nn_net_gradcheck.
   - Correct nets (every hidden activation with every loss, L2, dropout layers, 1 to 3
     hidden layers) give a small worst relative error: below 1e-3 (the float gradient's
     rounding; the values are printed, typically 1e-6 to 1e-4), with parameters at kinks
     skipped and counted.
   - A planted wrong gradient (the test hook scales one entry by 1.05, or zeroes a layer's
     bias gradients) is found: error above 1e-2, at the planted place.
   - The net is left as it was: parameters, gradients (prefilled with a pattern) and the
     dropout RNG bit for bit; a forward pass after the check gives the same outputs.
   - Sampling: a 784-64-10 net checked on 60 random parameters, the same result from the
     same seed; argument errors; ReLU units exactly at their kink are skipped and counted. */
#define NN_TEST_GRADCHECK_HOOK
#define NN_IMPLEMENTATION
#include "nn.h"
#include "nn_test.h"
#include <math.h>

static size_t g_plant = (size_t)-1; /* parameter index to corrupt; -1 none */
static int g_zero_bias = -1;         /* layer whose bias gradients are zeroed; -1 none */

static void hook(nn_net *net)
{
    if (g_plant != (size_t)-1) net->grads[g_plant] *= 1.05f;
    if (g_zero_bias >= 0) {
        nn__layer *ly = &net->layer[g_zero_bias];
        memset(ly->db, 0, (size_t)ly->out * sizeof(float));
    }
}

static void fill(float *v, size_t n, uint64_t seed, float scale)
{
    nn_rng r;
    size_t i;
    nn_rng_seed(&r, seed);
    for (i = 0; i < n; i++) v[i] = scale * (2.0f * nn_rng_uniform(&r) - 1.0f);
}

/* A net with hidden activation `act` and output/loss `loss`; checks it and returns the
   worst error (negative on failure to run). */
static double check_net(nn_act act, nn_loss loss, int hidden, float l2, float dropout, const char *name)
{
    nn_net_desc d;
    nn_net *net = NULL;
    nn_gradcheck_result r;
    float x[6 * 5], y[6 * 3], *p0, *g0, *o0;
    int labels[6], i, B = 6, K = 3;
    size_t n;
    nn_rng rng0;
    const float *out;
    nn_status st;
    memset(&d, 0, sizeof d);
    d.n_inputs = 5;
    for (i = 0; i < hidden; i++) {
        d.layers[i].units = 4 + i;
        d.layers[i].act = act;
        d.layers[i].dropout = dropout;
    }
    d.layers[hidden].units = K;
    d.loss = loss;
    d.layers[hidden].act = loss == NN_LOSS_SOFTMAX_CE ? NN_ACT_SOFTMAX : loss == NN_LOSS_BCE ? NN_ACT_SIGMOID : NN_ACT_TANH;
    d.l2 = l2;
    d.max_batch = B;
    d.seed = 3 + (uint64_t)act;
    if (nn_net_create(&d, &net) != NN_OK) { NN_CHECK(0, "%s: create", name); return -1; }
    fill(x, sizeof x / sizeof x[0], 17, 1.5f);
    fill(y, sizeof y / sizeof y[0], 18, 1.0f);
    for (i = 0; i < B * K; i++) y[i] = loss == NN_LOSS_MSE ? y[i] : 0.5f + 0.5f * y[i];
    for (i = 0; i < B; i++) labels[i] = (i * 5 + 1) % K;
    {   /* biases away from 0, so a bias-gradient bug cannot hide */
        float *b = NULL;
        int l;
        for (l = 0; l <= hidden; l++) {
            int out = 0;
            nn_net_layer(net, l, NULL, &out, NULL, &b, NULL, NULL);
            fill(b, (size_t)out, 40 + (uint64_t)l, 0.3f);
        }
    }
    nn_net_params(net, &n, NULL);
    fill(nn_net_grads(net, NULL, NULL), n, 5, 9.0f); /* a pattern the check must put back */
    p0 = (float *)malloc(n * sizeof(float));
    g0 = (float *)malloc(n * sizeof(float));
    o0 = (float *)malloc((size_t)B * K * sizeof(float));
    memcpy(p0, nn_net_params(net, NULL, NULL), n * sizeof(float));
    memcpy(g0, nn_net_grads(net, NULL, NULL), n * sizeof(float));
    nn_net_forward(net, x, B, &out);
    memcpy(o0, out, (size_t)B * K * sizeof(float));
    rng0 = net->drop_rng;
    st = nn_net_gradcheck(net, x, loss == NN_LOSS_SOFTMAX_CE && (act % 2) ? NULL : y,
                          loss == NN_LOSS_SOFTMAX_CE && (act % 2) ? labels : NULL, B, 0, 1, &r);
    NN_CHECK(st == NN_OK, "%s: %s", name, nn_status_str(st));
    NN_CHECK(memcmp(p0, nn_net_params(net, NULL, NULL), n * sizeof(float)) == 0, "%s: parameters changed", name);
    NN_CHECK(memcmp(g0, nn_net_grads(net, NULL, NULL), n * sizeof(float)) == 0, "%s: gradients not restored", name);
    NN_CHECK(net->drop_rng.s == rng0.s, "%s: dropout RNG moved", name);
    nn_net_forward(net, x, B, &out);
    NN_CHECK(memcmp(o0, out, (size_t)B * K * sizeof(float)) == 0, "%s: outputs differ after the check", name);
    printf("%-36s worst %.2e at layer %d row %d col %2d (analytic %+.6e numeric %+.6e), %ld checked, %ld at kinks\n",
           name, r.max_rel_err, r.layer, r.row, r.col, r.analytic, r.numeric, r.checked, r.kinks);
    NN_CHECK(r.checked + r.kinks == (long)(5 * 4 + 4 + (hidden > 1 ? 4 * 5 + 5 : 0) + (hidden > 2 ? 5 * 6 + 6 : 0) +
                                          (3 + hidden) * K + K),
             "%s: %ld checked + %ld kinks", name, r.checked, r.kinks);
    NN_CHECK(r.checked > 0 && r.max_rel_err < 1e-3, "%s: worst relative error %.3g (want < 1e-3)", name, r.max_rel_err);
    /* a planted error in one weight of the last layer, then zeroed first-layer biases */
    {
        float *W = NULL;
        nn_gradcheck_result rb;
        nn_net_layer(net, hidden, NULL, NULL, &W, NULL, NULL, NULL);
        g_plant = (size_t)(W - nn_net_params(net, NULL, NULL)) + 2;
        nn_net_gradcheck(net, x, loss == NN_LOSS_SOFTMAX_CE && (act % 2) ? NULL : y,
                         loss == NN_LOSS_SOFTMAX_CE && (act % 2) ? labels : NULL, B, 0, 1, &rb);
        g_plant = (size_t)-1;
        NN_CHECK(rb.max_rel_err > 1e-2 && rb.layer == hidden && rb.row == 0 && rb.col == 2,
                 "%s: planted 5%% error at layer %d W[0][2] not found: worst %.3g at layer %d row %d col %d",
                 name, hidden, rb.max_rel_err, rb.layer, rb.row, rb.col);
        g_zero_bias = 0;
        nn_net_gradcheck(net, x, loss == NN_LOSS_SOFTMAX_CE && (act % 2) ? NULL : y,
                         loss == NN_LOSS_SOFTMAX_CE && (act % 2) ? labels : NULL, B, 0, 1, &rb);
        g_zero_bias = -1;
        NN_CHECK(rb.max_rel_err > 1e-2 && rb.layer == 0 && rb.col == -1 && act != NN_ACT_SIGN,
                 "%s: zeroed bias gradients of layer 0 not found: worst %.3g at layer %d row %d col %d", name,
                 rb.max_rel_err, rb.layer, rb.row, rb.col);
        NN_CHECK(memcmp(g0, nn_net_grads(net, NULL, NULL), n * sizeof(float)) == 0, "%s: gradients not restored", name);
    }
    free(p0); free(g0); free(o0);
    nn_net_destroy(net);
    return r.max_rel_err;
}

static void sampled(void)
{
    nn_net_desc d;
    nn_net *net = NULL;
    nn_gradcheck_result a, b;
    float *x = (float *)malloc(8 * 784 * sizeof(float));
    int labels[8], i;
    memset(&d, 0, sizeof d);
    d.n_inputs = 784;
    d.layers[0].units = 64;
    d.layers[0].act = NN_ACT_TANH;
    d.layers[1].units = 10;
    d.layers[1].act = NN_ACT_SOFTMAX;
    d.max_batch = 8;
    if (!x || nn_net_create(&d, &net) != NN_OK) { NN_CHECK(0, "784-64-10"); free(x); return; }
    fill(x, 8 * 784, 9, 1.0f);
    for (i = 0; i < 8; i++) labels[i] = i;
    NN_CHECK(nn_net_gradcheck(net, x, NULL, labels, 8, 60, 77, &a) == NN_OK &&
             nn_net_gradcheck(net, x, NULL, labels, 8, 60, 77, &b) == NN_OK, "784-64-10 sampled");
    printf("784-64-10 tanh, 60 sampled: worst %.2e at layer %d row %d col %d, %ld checked\n", a.max_rel_err, a.layer,
           a.row, a.col, a.checked);
    NN_CHECK(a.checked == 60 && a.kinks == 0 && a.max_rel_err < 1e-3, "784-64-10 sampled: %ld checked, worst %.3g",
             a.checked, a.max_rel_err);
    NN_CHECK(memcmp(&a, &b, sizeof a) == 0, "784-64-10: the same seed gave another result");
    /* errors: nothing changed, result zeroed */
    NN_CHECK(nn_net_gradcheck(net, x, NULL, labels, 8, 0, 1, NULL) == NN_ERR_INVALID, "res NULL");
    NN_CHECK(nn_net_gradcheck(net, x, NULL, labels, 9, 0, 1, &a) == NN_ERR_BATCH && a.checked == 0, "batch 9");
    NN_CHECK(nn_net_gradcheck(net, NULL, NULL, labels, 8, 0, 1, &a) == NN_ERR_INVALID, "x NULL");
    NN_CHECK(nn_net_gradcheck(net, x, NULL, NULL, 8, 0, 1, &a) == NN_ERR_INVALID, "no targets");
    labels[3] = 10;
    NN_CHECK(nn_net_gradcheck(net, x, NULL, labels, 8, 0, 1, &a) == NN_ERR_INVALID, "label 10");
    nn_net_destroy(net);
    d.inference_only = 1;
    net = NULL;
    labels[3] = 3;
    if (nn_net_create(&d, &net) == NN_OK)
        NN_CHECK(nn_net_gradcheck(net, x, NULL, labels, 8, 0, 1, &a) == NN_ERR_INVALID, "inference-only net");
    nn_net_destroy(net);
    free(x);
}

/* ReLU units sitting exactly at their kink (input 0, bias 0): the +-h of their biases
   and of the weights after them straddle the corner; those are skipped and counted. */
static void kinks(void)
{
    nn_net_desc d;
    nn_net *net = NULL;
    nn_gradcheck_result r;
    const float x[2] = { 0.0f, 1.0f }, y[2] = { 0.5f, -0.25f };
    memset(&d, 0, sizeof d);
    d.n_inputs = 1;
    d.layers[0].units = 3;
    d.layers[0].act = NN_ACT_RELU;
    d.layers[1].units = 1;
    d.max_batch = 2;
    if (nn_net_create(&d, &net) != NN_OK) { NN_CHECK(0, "1-3-1"); return; }
    NN_CHECK(nn_net_gradcheck(net, x, y, NULL, 2, 0, 1, &r) == NN_OK, "1-3-1 relu");
    printf("1-3-1 relu at its kinks: worst %.2e, %ld checked, %ld at kinks\n", r.max_rel_err, r.checked, r.kinks);
    NN_CHECK(r.kinks >= 3 && r.checked + r.kinks == 10 && r.max_rel_err < 1e-3,
             "1-3-1 relu at 0: %ld kinks (want >= 3, the biases), worst %.3g", r.kinks, r.max_rel_err);
    nn_net_destroy(net);
}

int main(void)
{
    static const nn_act acts[] = { NN_ACT_SIGMOID, NN_ACT_TANH, NN_ACT_RELU, NN_ACT_LEAKY_RELU, NN_ACT_HARDTANH,
                                   NN_ACT_IDENTITY };
    static const nn_loss losses[] = { NN_LOSS_MSE, NN_LOSS_BCE, NN_LOSS_SOFTMAX_CE };
    size_t a, l;
    char name[96];
    nn_test_begin("test_gradcheck_api");
    nn__gradcheck_hook = hook;
    printf("backend %s\n", nn_simd_backend_name());
    for (a = 0; a < sizeof acts / sizeof acts[0]; a++)
        for (l = 0; l < sizeof losses / sizeof losses[0]; l++) {
            sprintf(name, "%s/%s, 2 hidden", nn_act_name(acts[a]), nn_loss_name(losses[l]));
            check_net(acts[a], losses[l], 2, 0.0f, 0.0f, name);
        }
    check_net(NN_ACT_TANH, NN_LOSS_SOFTMAX_CE, 3, 0.01f, 0.0f, "tanh/softmax_ce, 3 hidden, l2 0.01");
    check_net(NN_ACT_RELU, NN_LOSS_MSE, 1, 0.001f, 0.0f, "relu/mse, 1 hidden, l2 1e-3");
    check_net(NN_ACT_SIGMOID, NN_LOSS_BCE, 2, 0.0f, 0.3f, "sigmoid/bce, dropout 0.3 (off)");
    sampled();
    kinks();
    return nn_test_done();
}
