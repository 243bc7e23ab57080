/* test_loss.c - the losses at hand-computed points and at extreme logits, and their
   gradients against the closed forms.

   Nets whose logits the test controls exactly: n_inputs = K, one layer of K units with
   W = I and b = 0, so z = x bit for bit (each z_k is x_k * 1 plus zeros). The expected
   values are computed in the test in double from the formulas in nn.h's header:
     MSE         L = 1/(B K) sum (a - y)^2,           dZ = 2 (a - y) / (B K)
     BCE         L = 1/(B K) sum -[y log s + (1-y) log(1-s)], s = sigmoid(z)
                 (written per element as z (1-y) + log1p(e^-z) for z >= 0 and
                  -z y + log1p(e^z) for z < 0 only where the naive form would overflow),
                 dZ = (s - y) / (B K)
     SOFTMAX_CE  L = 1/B sum_i sum_k y_ik (log sum_j e^z_ij - z_ik),  dZ = (p sum_k y - y) / B
     L2          + lambda sum W^2 (biases excluded),  dW += 2 lambda W
   With z = x and one layer, the gradients read back are db_k = sum_i dZ_ik and
   dW_kj = sum_i dZ_ik x_ij (+ 2 lambda W_kj).

   Tolerances (from the float error of the library's path):
   - z is exact, the loss is accumulated in double and rounded once: |L - ref| <=
     4 eps |ref| + FLT_MIN (eps = FLT_EPSILON); for losses with a subnormal reference
     (BCE at z = +100, y = 1: 3.7e-44) that is an absolute 1.2e-38, i.e. "0 within
     float resolution", as the spec allows.
   - dZ is formed in float from the float activation a (sigmoid/softmax kernels: a few
     ulp, the AVX2 exp is <= 1 ulp + rounding): |dZ - ref| <= 16 eps (|a| + |y|) s + FLT_MIN,
     s = the 1/(BK) or 1/B factor. db and dW sum B such terms: the bound adds up their
     magnitudes (and B eps for the float sums).
   - The general (non-identity) layer used for MSE + L2 computes z = W x + b in float:
     |dz| <= 2 n_in eps sum|W x| + eps |b|, and the tolerance propagates that bound
     through the loss (2 |a - y| |dz| / (B K) per element).
   A wrong normalisation (B vs B K), a missing factor 2, a sign, the L2 term on the biases
   or an unstable log/exp at the extremes all miss these by orders of magnitude. */
#ifndef NN_TEST_LINKED /* make links tests/nn_test_impl.c, built once */
#define NN_IMPLEMENTATION
#endif
#include "nn.h"
#include "nn_test.h"
#include <float.h>
#include <math.h>

#define EPS ((double)FLT_EPSILON)
#define TINY ((double)FLT_MIN)

static const char *be_name = "?";

/* A 1-layer net with n_inputs = units = K, W = I, b = 0. */
static nn_net *identity_net(int K, nn_act act, nn_loss loss, float l2)
{
    nn_net_desc d;
    nn_net *net = NULL;
    float *W = NULL, *b = NULL;
    int i;
    nn_status st;
    memset(&d, 0, sizeof d);
    d.n_inputs = K;
    d.layers[0].units = K;
    d.layers[0].act = act;
    d.loss = loss;
    d.l2 = l2;
    d.max_batch = 8;
    st = nn_net_create(&d, &net);
    if (st != NN_OK || nn_net_layer(net, 0, NULL, NULL, &W, &b, NULL, NULL) != NN_OK || !W || !b) {
        fprintf(stderr, "test_loss: cannot create identity net K=%d: %s\n", K, nn_status_str(st));
        exit(2);
    }
    for (i = 0; i < K * K; i++) W[i] = (i % (K + 1) == 0) ? 1.0f : 0.0f;
    for (i = 0; i < K; i++) b[i] = 0.0f;
    return net;
}

static int close_to(double got, double want, double tol)
{
    return fabs(got - want) <= tol; /* false for NaN */
}

/* Loss through nn_net_loss and nn_net_backprop: both must give ref within tol, finite. */
static void check_loss(nn_net *net, const float *x, const float *y, const int *labels, int B,
                       double ref, double tol, const char *cs)
{
    float l1 = -1.0f, l2 = -1.0f;
    nn_status s1 = nn_net_loss(net, x, y, labels, B, &l1);
    nn_status s2 = nn_net_backprop(net, x, y, labels, B, &l2);
    NN_CHECK(s1 == NN_OK, "backend=%s nn_net_loss %s: status %s", be_name, cs, nn_status_str(s1));
    NN_CHECK(s2 == NN_OK, "backend=%s nn_net_backprop %s: status %s", be_name, cs, nn_status_str(s2));
    NN_CHECK(isfinite(l1) && close_to(l1, ref, tol), "backend=%s nn_net_loss %s: got %.9g want %.9g tol %.2g",
             be_name, cs, (double)l1, ref, tol);
    NN_CHECK(isfinite(l2) && close_to(l2, ref, tol), "backend=%s nn_net_backprop loss %s: got %.9g want %.9g tol %.2g",
             be_name, cs, (double)l2, ref, tol);
}

/* After nn_net_backprop on an identity net: db and dW against dz_ref [B][K] (double).
   dz_mag [B][K] holds the error scale of each dz element (see the header). */
static void check_grads_identity(nn_net *net, const float *x, int B, int K, const double *dz_ref,
                                 const double *dz_mag, const char *cs)
{
    float *dW = NULL, *db = NULL, *g;
    size_t n, i;
    int j, k, r, nonfinite = 0;
    nn_net_layer(net, 0, NULL, NULL, NULL, NULL, &dW, &db);
    g = nn_net_grads(net, &n, NULL);
    for (i = 0; i < n; i++) nonfinite += !isfinite(g[i]);
    NN_CHECK(nonfinite == 0, "backend=%s %s: %d non-finite gradients", be_name, cs, nonfinite);
    if (!dW || !db) return;
    for (k = 0; k < K; k++) {
        double want = 0, tol = TINY;
        for (r = 0; r < B; r++) {
            want += dz_ref[r * K + k];
            tol += dz_mag[r * K + k] + B * EPS * fabs(dz_ref[r * K + k]);
        }
        NN_CHECK(close_to(db[k], want, tol), "backend=%s %s: db[%d] got %.9g want %.9g tol %.2g", be_name,
                 cs, k, (double)db[k], want, tol);
        for (j = 0; j < K; j++) {
            double w2 = 0, t2 = TINY;
            for (r = 0; r < B; r++) {
                double xv = x[r * K + j];
                w2 += dz_ref[r * K + k] * xv;
                t2 += (dz_mag[r * K + k] + B * EPS * fabs(dz_ref[r * K + k])) * fabs(xv);
            }
            NN_CHECK(close_to(dW[k * K + j], w2, t2), "backend=%s %s: dW[%d][%d] got %.9g want %.9g tol %.2g",
                     be_name, cs, k, j, (double)dW[k * K + j], w2, t2);
        }
    }
}

/* ------------------------------------------------------------------ MSE */
static void test_mse(void)
{
    enum { B = 4, K = 3 };
    static const float x[B * K] = { 0.5f, -1.25f, 2.0f, 3.0f, 0.0f, -0.75f,
                                    -2.5f, 1.5f, 0.125f, 1.0f, 1.0f, -4.0f };
    static const float y[B * K] = { 1.0f, -1.0f, 0.0f, 2.5f, 0.5f, -0.75f,
                                    -2.0f, 0.0f, 1.0f, 0.0f, 3.0f, -3.5f };
    nn_net *net = identity_net(K, NN_ACT_IDENTITY, NN_LOSS_MSE, 0.0f);
    double ref = 0, dz[B * K], mag[B * K];
    int i;
    for (i = 0; i < B * K; i++) {
        double e = (double)x[i] - y[i];
        ref += e * e;
        dz[i] = 2.0 * e / (B * K);
        mag[i] = 16 * EPS * (fabs((double)x[i]) + fabs((double)y[i])) * 2.0 / (B * K);
    }
    ref /= B * K;
    /* by hand: squared errors 0.25 0.0625 4 0.25 0.25 0 0.25 2.25 0.765625 1 4 0.25 */
    NN_CHECK(fabs(ref - 13.328125 / 12.0) < 1e-15, "MSE oracle self-check: %.17g", ref);
    check_loss(net, x, y, NULL, B, ref, 4 * EPS * ref + TINY, "MSE identity B=4 K=3");
    check_grads_identity(net, x, B, K, dz, mag, "MSE dZ = 2(a-y)/(BK)");
    nn_net_destroy(net);

    /* MSE on a sigmoid output: the mean is over the activations, not the logits */
    net = identity_net(K, NN_ACT_SIGMOID, NN_LOSS_MSE, 0.0f);
    ref = 0;
    for (i = 0; i < B * K; i++) {
        double a = 1.0 / (1.0 + exp(-(double)x[i])), e = a - y[i];
        ref += e * e;
    }
    ref /= B * K;
    /* the sigmoid kernel's few-ulp error enters each squared error: 2|a-y| * 16 eps */
    {
        double tol = TINY;
        for (i = 0; i < B * K; i++) {
            double a = 1.0 / (1.0 + exp(-(double)x[i]));
            tol += 2 * fabs(a - y[i]) * 16 * EPS * a / (B * K);
        }
        check_loss(net, x, y, NULL, B, ref, tol + 4 * EPS * ref, "MSE on sigmoid output");
    }
    nn_net_destroy(net);
}

/* MSE + L2 on a general layer (z = W x + b with b != 0), loss and gradient. */
static void test_mse_l2(void)
{
    enum { B = 4, NI = 5, K = 3 };
    const float lambda = 0.0625f;
    nn_net_desc d;
    nn_net *net = NULL, *net0 = NULL;
    float *W = NULL, *b = NULL, *dW = NULL, *db = NULL, x[B * NI], y[B * K];
    double z[B * K], zerr[B * K], ref = 0, reg = 0, tol = TINY, dz[B * K], dzt[B * K];
    int i, j, k, r;
    memset(&d, 0, sizeof d);
    d.n_inputs = NI;
    d.layers[0].units = K;
    d.layers[0].act = NN_ACT_IDENTITY;
    d.l2 = lambda;
    d.max_batch = B;
    if (nn_net_create(&d, &net) != NN_OK) exit(2);
    d.l2 = 0.0f;
    if (nn_net_create(&d, &net0) != NN_OK) exit(2);
    nn_net_layer(net, 0, NULL, NULL, &W, &b, &dW, &db);
    for (i = 0; i < K * NI; i++) W[i] = 0.25f * (float)((i * 7) % 9) - 1.0f;
    for (k = 0; k < K; k++) b[k] = 0.5f + (float)k; /* large biases: they must not enter L2 */
    for (i = 0; i < B * NI; i++) x[i] = 0.5f * (float)((i * 5) % 7) - 1.5f;
    for (i = 0; i < B * K; i++) y[i] = 0.75f * (float)(i % 4) - 1.0f;
    NN_CHECK(nn_net_copy_params(net0, net) == NN_OK, "copy_params to the l2=0 twin failed");
    for (r = 0; r < B; r++)
        for (k = 0; k < K; k++) {
            double s = b[k], sa = fabs((double)b[k]) * EPS;
            for (j = 0; j < NI; j++) {
                s += (double)W[k * NI + j] * x[r * NI + j];
                sa += 2.0 * NI * EPS * fabs((double)W[k * NI + j] * x[r * NI + j]);
            }
            z[r * K + k] = s;
            zerr[r * K + k] = sa;
        }
    for (i = 0; i < B * K; i++) {
        double e = z[i] - y[i];
        ref += e * e / (B * K);
        tol += 2.0 * (fabs(e) + zerr[i]) * zerr[i] / (B * K);
        dz[i] = 2.0 * e / (B * K);
        dzt[i] = 2.0 * zerr[i] / (B * K) + 16 * EPS * (fabs(z[i]) + fabs((double)y[i])) * 2.0 / (B * K);
    }
    for (i = 0; i < K * NI; i++) reg += (double)W[i] * W[i];
    reg *= lambda;
    tol += 4 * EPS * (ref + reg);
    check_loss(net, x, y, NULL, B, ref + reg, tol, "MSE + L2 (lambda 1/16, biases 0.5..2.5 excluded)");
    check_loss(net0, x, y, NULL, B, ref, tol, "MSE, l2 = 0 twin");
    /* gradient: dW = dz^T x + 2 lambda W, db = column sums of dz (no L2) */
    NN_CHECK(nn_net_backprop(net, x, y, NULL, B, NULL) == NN_OK, "backprop MSE+L2 failed");
    for (k = 0; k < K; k++) {
        double want = 0, t = TINY;
        for (r = 0; r < B; r++) {
            want += dz[r * K + k];
            t += dzt[r * K + k] + B * EPS * fabs(dz[r * K + k]);
        }
        NN_CHECK(close_to(db[k], want, t), "backend=%s MSE+L2: db[%d] got %.9g want %.9g tol %.2g (L2 must not touch biases)",
                 be_name, k, (double)db[k], want, t);
        for (j = 0; j < NI; j++) {
            double w = 2.0 * lambda * W[k * NI + j], tw = 2 * EPS * fabs(w) + TINY;
            for (r = 0; r < B; r++) {
                w += dz[r * K + k] * x[r * NI + j];
                tw += (dzt[r * K + k] + (B + 1) * EPS * fabs(dz[r * K + k])) * fabs((double)x[r * NI + j]);
            }
            NN_CHECK(close_to(dW[k * NI + j], w, tw), "backend=%s MSE+L2: dW[%d][%d] got %.9g want %.9g tol %.2g",
                     be_name, k, j, (double)dW[k * NI + j], w, tw);
        }
    }
    nn_net_destroy(net);
    nn_net_destroy(net0);
}

/* L2 through a 3-layer net: loss and gradients with l2 = lambda minus the l2 = 0 twin
   (same parameters, same data) must be lambda sum W^2 over every layer's weights and
   2 lambda W, with the biases untouched. */
static void test_l2_deep(void)
{
    const float lambda = 0.03125f;
    nn_net_desc d;
    nn_net *a = NULL, *z = NULL;
    float x[6 * 4], y[6 * 2], la, lz, *ga, *gz, *pa;
    size_t n, nw;
    double sumsq = 0, want, tol;
    int i, l, bad_w = 0, bad_b = 0;
    long worst = -1;
    memset(&d, 0, sizeof d);
    d.n_inputs = 4;
    d.layers[0].units = 7; d.layers[0].act = NN_ACT_TANH;
    d.layers[1].units = 5; d.layers[1].act = NN_ACT_SIGMOID;
    d.layers[2].units = 2; d.layers[2].act = NN_ACT_IDENTITY;
    d.seed = 5;
    d.max_batch = 6;
    if (nn_net_create(&d, &z) != NN_OK) exit(2);
    d.l2 = lambda;
    if (nn_net_create(&d, &a) != NN_OK) exit(2);
    /* nonzero biases, so including them in L2 would show */
    for (l = 0; l < 3; l++) {
        float *b = NULL;
        int out = 0, k;
        nn_net_layer(a, l, NULL, &out, NULL, &b, NULL, NULL);
        for (k = 0; b && k < out; k++) b[k] = 0.3f * (float)(k + 1) - 0.5f * (float)l;
    }
    NN_CHECK(nn_net_copy_params(z, a) == NN_OK, "copy_params to the l2=0 twin failed");
    for (i = 0; i < 24; i++) x[i] = 0.2f * (float)((i * 3) % 11) - 1.0f;
    for (i = 0; i < 12; i++) y[i] = 0.5f * (float)(i % 3) - 0.5f;
    for (l = 0; l < 3; l++) {
        float *W = NULL;
        int in = 0, out = 0, k;
        nn_net_layer(a, l, &in, &out, &W, NULL, NULL, NULL);
        for (k = 0; W && k < in * out; k++) sumsq += (double)W[k] * W[k];
    }
    NN_CHECK(nn_net_backprop(a, x, y, NULL, 6, &la) == NN_OK, "backprop l2 net failed");
    NN_CHECK(nn_net_backprop(z, x, y, NULL, 6, &lz) == NN_OK, "backprop l2=0 net failed");
    want = lambda * sumsq;
    tol = 2 * EPS * (fabs((double)la) + fabs((double)lz)) + TINY;
    NN_CHECK(close_to((double)la - lz, want, tol),
             "backend=%s L2 3-layer: loss(l2) - loss(0) = %.9g, want lambda sum W^2 = %.9g tol %.2g (biases excluded)",
             be_name, (double)la - lz, want, tol);
    ga = nn_net_grads(a, &n, &nw);
    gz = nn_net_grads(z, NULL, NULL);
    pa = nn_net_params(a, NULL, NULL);
    for (l = 0; l < 3; l++) {
        float *W = NULL, *b = NULL;
        int in = 0, out = 0, k;
        nn_net_layer(a, l, &in, &out, &W, &b, NULL, NULL);
        for (k = 0; W && k < in * out; k++) {
            size_t p = (size_t)(W - pa) + (size_t)k;
            double dv = (double)ga[p] - gz[p], wv = 2.0 * lambda * W[k];
            double t = 2 * EPS * (fabs((double)ga[p]) + fabs((double)gz[p])) + TINY;
            if (!close_to(dv, wv, t)) {
                if (!bad_w) worst = (long)p;
                bad_w++;
            }
        }
        for (k = 0; b && k < out; k++) {
            size_t p = (size_t)(b - pa) + (size_t)k;
            double t = 2 * EPS * fabs((double)gz[p]) + TINY;
            if (!close_to(ga[p], gz[p], t)) bad_b++;
        }
    }
    NN_CHECK(bad_w == 0, "backend=%s L2 3-layer: %d weight gradients != data gradient + 2 lambda W (first at [%ld]: %.9g vs %.9g + %.9g)",
             be_name, bad_w, worst, worst < 0 ? 0.0 : (double)ga[worst], worst < 0 ? 0.0 : (double)gz[worst],
             worst < 0 ? 0.0 : 2.0 * lambda * pa[worst]);
    NN_CHECK(bad_b == 0, "backend=%s L2 3-layer: %d bias gradients changed by l2 (biases must be excluded)",
             be_name, bad_b);
    nn_net_destroy(a);
    nn_net_destroy(z);
}

/* ------------------------------------------------------------------ BCE */
/* -[y log s + (1-y) log(1-s)], naive where it is accurate in double (|z| <= 30), else
   the overflow-free closed form */
static double bce_ref(double z, double y)
{
    if (fabs(z) <= 30) {
        double s = 1.0 / (1.0 + exp(-z));
        return -(y * log(s) + (1 - y) * log(1 - s));
    }
    return z >= 0 ? z * (1 - y) + log1p(exp(-z)) : -z * y + log1p(exp(z));
}

static double sigmoid_ref(double z)
{
    return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
}

static void test_bce(void)
{
    enum { B = 3, K = 3 };
    /* a batch with y in {0, 1, 0.3} against moderate logits */
    static const float x[B * K] = { 0.0f, 2.5f, -1.0f, -3.0f, 0.75f, 4.0f, 1.5f, -0.5f, -6.0f };
    static const float y[B * K] = { 0.0f, 1.0f, 0.3f, 1.0f, 0.3f, 0.0f, 0.3f, 0.0f, 1.0f };
    nn_net *net = identity_net(K, NN_ACT_SIGMOID, NN_LOSS_BCE, 0.0f);
    double ref = 0, dz[B * K], mag[B * K];
    int i;
    for (i = 0; i < B * K; i++) {
        double s = sigmoid_ref(x[i]);
        ref += bce_ref(x[i], y[i]);
        dz[i] = (s - y[i]) / (B * K);
        mag[i] = 16 * EPS * (s + fabs((double)y[i])) / (B * K);
    }
    ref /= B * K;
    NN_CHECK(fabs(bce_ref(0.0, 0.0) - log(2.0)) < 1e-15, "BCE oracle self-check");
    check_loss(net, x, y, NULL, B, ref, 4 * EPS * ref + TINY, "BCE B=3 K=3, y in {0,1,0.3}");
    check_grads_identity(net, x, B, K, dz, mag, "BCE dZ = (sigmoid(z)-y)/(BK)");
    nn_net_destroy(net);

    /* single elements at extreme logits: value by hand, loss and dZ = s - y (B = K = 1) */
    {
        static const struct { float z, y; double want; const char *note; } t[] = {
            { 100.0f, 1.0f, 3.7200759760208361e-44, "log1p(e^-100) = 3.7e-44 -> 0" },
            { -100.0f, 1.0f, 100.0, "100 + 3.7e-44" },
            { 100.0f, 0.0f, 100.0, "100 + 3.7e-44" },
            { -100.0f, 0.0f, 3.7200759760208361e-44, "-> 0" },
            { 100.0f, 0.3f, -1.0, "70 (y as float)" },
            { 1e4f, 1.0f, 0.0, "exactly 0" },
            { -1e4f, 1.0f, 1e4, "1e4" },
            { 1e4f, 0.0f, 1e4, "1e4" },
            { -1e4f, 0.0f, 0.0, "0" },
            { 1e4f, 0.3f, -1.0, "7e3" },
            { -1e4f, 0.3f, -1.0, "3e3" },
            { 1e30f, 0.0f, 1e30, "1e30" },
            { 1e30f, 1.0f, 0.0, "0" },
            { -1e30f, 1.0f, 1e30, "1e30" },
            { 1e30f, 0.3f, -1.0, "7e29" },
            { -1e30f, 0.3f, -1.0, "3e29" },
            { 0.0f, 0.3f, 0.69314718055994531, "log 2" },
            { 20.0f, 1.0f, 2.0611536181902037e-09, "log1p(e^-20)" },
        };
        size_t c;
        net = identity_net(1, NN_ACT_SIGMOID, NN_LOSS_BCE, 0.0f);
        for (c = 0; c < sizeof t / sizeof t[0]; c++) {
            double z = t[c].z, yy = t[c].y, want = t[c].want, s = sigmoid_ref(z);
            double dzr = s - yy, mg = 16 * EPS * (s + fabs(yy));
            char cs[96];
            if (want < 0) want = z >= 0 ? z * (1 - yy) : -z * yy; /* the e^-|z| tail is < 1e-43 */
            sprintf(cs, "BCE z=%g y=%g (%s)", (double)t[c].z, (double)t[c].y, t[c].note);
            check_loss(net, &t[c].z, &t[c].y, NULL, 1, want, 4 * EPS * want + TINY, cs);
            check_grads_identity(net, &t[c].z, 1, 1, &dzr, &mg, cs);
        }
        nn_net_destroy(net);
    }
    /* the whole extreme set as one batch: every element is averaged, nothing overflows */
    {
        static const float xz[2 * 4] = { 1e30f, -1e30f, 1e4f, -100.0f, -1e4f, 100.0f, 1e30f, -1e30f };
        static const float yz[2 * 4] = { 0.0f, 1.0f, 0.3f, 1.0f, 1.0f, 0.0f, 1.0f, 0.0f };
        double r = 0, dzb[8], mg[8];
        net = identity_net(4, NN_ACT_SIGMOID, NN_LOSS_BCE, 0.0f);
        for (i = 0; i < 8; i++) {
            double s = sigmoid_ref(xz[i]);
            r += bce_ref(xz[i], yz[i]);
            dzb[i] = (s - yz[i]) / 8.0;
            mg[i] = 16 * EPS * (s + fabs((double)yz[i])) / 8.0;
        }
        r /= 8.0;
        check_loss(net, xz, yz, NULL, 2, r, 4 * EPS * r + TINY, "BCE extreme batch B=2 K=4");
        check_grads_identity(net, xz, 2, 4, dzb, mg, "BCE extreme batch B=2 K=4");
        nn_net_destroy(net);
    }
}

/* ----------------------------------------------------------- SOFTMAX_CE */
/* dz [B][K] and the per-element error scale for targets y (rows) */
static double ce_ref(const float *z, const float *y, int B, int K, double *dz, double *mag)
{
    double L = 0;
    int i, k;
    for (i = 0; i < B; i++) {
        const float *zr = z + i * K, *yr = y + i * K;
        double mx = zr[0], se = 0, ysum = 0;
        for (k = 1; k < K; k++) if (zr[k] > mx) mx = zr[k];
        for (k = 0; k < K; k++) se += exp((double)zr[k] - mx);
        /* lse - z_k as (max - z_k) + log(se): no cancellation even at |z| = 1e30 */
        for (k = 0; k < K; k++) {
            if (yr[k] != 0.0f) L += yr[k] * ((mx - zr[k]) + log(se));
            ysum += yr[k];
        }
        for (k = 0; k < K; k++) {
            double p = exp((double)zr[k] - mx) / se;
            dz[i * K + k] = (p * ysum - yr[k]) / B;
            mag[i * K + k] = 16 * EPS * (p * fabs(ysum) + fabs((double)yr[k])) / B;
        }
    }
    return L / B;
}

static void test_softmax_ce(void)
{
    enum { B = 4, K = 3 };
    static const float x[B * K] = { 0.5f, -1.0f, 2.0f, 1.0f, 1.0f, 1.0f, -3.0f, 0.25f, 1.5f,
                                    4.0f, -2.0f, 0.0f };
    static const int labels[B] = { 2, 0, 1, 0 };
    float onehot[B * K], prob[B * K];
    static const float probs[B * K] = { 0.2f, 0.5f, 0.3f, 0.0f, 0.25f, 0.75f, 1.0f, 0.0f, 0.0f,
                                        0.5f, 0.5f, 0.5f /* sums to 1.5: dZ = (1.5 p - y)/B */ };
    double ref_l, ref_h, ref_p, dz[B * K], mag[B * K], by_hand;
    nn_net *net = identity_net(K, NN_ACT_SOFTMAX, NN_LOSS_SOFTMAX_CE, 0.0f);
    int i, k;
    for (i = 0; i < B * K; i++) onehot[i] = (i % K == labels[i / K]) ? 1.0f : 0.0f;
    memcpy(prob, probs, sizeof prob);
    /* by hand, row 1 (logits 1,1,1, label 0): log 3 */
    by_hand = log(3.0);
    ref_l = 0;
    for (i = 0; i < B; i++) {
        double se = 0;
        for (k = 0; k < K; k++) se += exp((double)x[i * K + k]); /* naive: logits are small */
        ref_l += log(se) - x[i * K + labels[i]];
        if (i == 1)
            NN_CHECK(fabs(log(se) - x[i * K + labels[i]] - by_hand) < 1e-15, "CE oracle self-check");
    }
    ref_l /= B;
    ref_h = ce_ref(x, onehot, B, K, dz, mag);
    NN_CHECK(fabs(ref_h - ref_l) < 1e-12, "CE oracle: one-hot %.17g vs labels %.17g", ref_h, ref_l);
    check_loss(net, x, NULL, labels, B, ref_l, 4 * EPS * ref_l + TINY, "SOFTMAX_CE labels B=4 K=3");
    check_grads_identity(net, x, B, K, dz, mag, "SOFTMAX_CE labels dZ = (p - onehot)/B");
    check_loss(net, x, onehot, NULL, B, ref_h, 4 * EPS * ref_h + TINY, "SOFTMAX_CE one-hot rows");
    check_grads_identity(net, x, B, K, dz, mag, "SOFTMAX_CE one-hot dZ");
    ref_p = ce_ref(x, prob, B, K, dz, mag);
    check_loss(net, x, prob, NULL, B, ref_p, 4 * EPS * ref_p + TINY, "SOFTMAX_CE probability rows");
    check_grads_identity(net, x, B, K, dz, mag, "SOFTMAX_CE probability rows dZ = (p sum(y) - y)/B");
    nn_net_destroy(net);

    /* extreme logits, by hand: loss = lse - z_label with lse = max (the rest underflow) */
    {
        static const struct { float z[3]; int label; double want; } t[] = {
            { { 1e4f, 0.0f, -1e4f }, 0, 0.0 },
            { { 1e4f, 0.0f, -1e4f }, 1, 1e4 },
            { { 1e4f, 0.0f, -1e4f }, 2, 2e4 },
            { { -1e4f, 1e4f, 0.0f }, 1, 0.0 },
            { { 100.0f, -100.0f, 0.0f }, 1, 200.0 },
            { { 100.0f, -100.0f, 0.0f }, 0, 3.7200759760208361e-44 },
            { { 1e30f, 0.0f, -1e30f }, 0, 0.0 },
            { { 1e30f, 0.0f, -1e30f }, 2, 2e30 },
            { { -1e30f, -1e30f, -1e30f }, 1, 1.0986122886681098 }, /* all equal: log 3 */
            { { 1e30f, 1e30f, 0.0f }, 0, 0.69314718055994531 },      /* log 2 */
        };
        size_t c;
        net = identity_net(3, NN_ACT_SOFTMAX, NN_LOSS_SOFTMAX_CE, 0.0f);
        for (c = 0; c < sizeof t / sizeof t[0]; c++) {
            char cs[96];
            float oh[3] = { 0.0f, 0.0f, 0.0f };
            double d3[3], m3[3];
            oh[t[c].label] = 1.0f;
            sprintf(cs, "SOFTMAX_CE logits [%g, %g, %g] label %d", (double)t[c].z[0], (double)t[c].z[1],
                    (double)t[c].z[2], t[c].label);
            ce_ref(t[c].z, oh, 1, 3, d3, m3);
            check_loss(net, t[c].z, NULL, &t[c].label, 1, t[c].want, 4 * EPS * t[c].want + TINY, cs);
            check_grads_identity(net, t[c].z, 1, 3, d3, m3, cs);
            check_loss(net, t[c].z, oh, NULL, 1, t[c].want, 4 * EPS * t[c].want + TINY, cs);
        }
        nn_net_destroy(net);
    }
    /* the extreme rows in one batch (B = 3): mean (0 + 1e4 + 2e4)/3 = 1e4 */
    {
        static const float xz[9] = { 1e4f, 0.0f, -1e4f, 1e4f, 0.0f, -1e4f, 1e4f, 0.0f, -1e4f };
        static const int lz[3] = { 0, 1, 2 };
        float oh[9];
        double d9[9], m9[9];
        for (i = 0; i < 9; i++) oh[i] = (i % 3 == lz[i / 3]) ? 1.0f : 0.0f;
        ce_ref(xz, oh, 3, 3, d9, m9);
        net = identity_net(3, NN_ACT_SOFTMAX, NN_LOSS_SOFTMAX_CE, 0.0f);
        check_loss(net, xz, NULL, lz, 3, 1e4, 4 * EPS * 1e4, "SOFTMAX_CE extreme batch B=3");
        check_grads_identity(net, xz, 3, 3, d9, m9, "SOFTMAX_CE extreme batch B=3 dZ = (p - y)/3");
        nn_net_destroy(net);
    }
}

int main(void)
{
    static const nn_simd_backend all[4] = { NN_SIMD_BACKEND_SCALAR, NN_SIMD_BACKEND_AVX2, NN_SIMD_BACKEND_AVX512,
                                            NN_SIMD_BACKEND_NEON };
    nn_simd_backend first;
    int b;
    nn_test_begin("loss");
    printf("backend %s\n", nn_simd_backend_name());
    first = nn_simd_backend_active();
    /* the active backend first, then every other available one */
    for (b = -1; b < 4; b++) {
        if (b >= 0 && (all[b] == first || !nn_simd_backend_available(all[b]))) continue;
        if (b >= 0) {
            NN_CHECK(nn_simd_set_backend(all[b]) == NN_OK, "nn_simd_set_backend(%s) failed",
                     nn_simd_backend_str(all[b]));
            printf("backend %s\n", nn_simd_backend_name());
        }
        be_name = nn_simd_backend_name();
        test_mse();
        test_mse_l2();
        test_l2_deep();
        test_bce();
        test_softmax_ce();
    }
    return nn_test_done();
}
