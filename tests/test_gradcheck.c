/* test_gradcheck.c - backprop against centred finite differences computed in double.

   The test carries its own double-precision model of the network (forward pass and every
   loss, written from the formulas in nn.h's header, not from its code). It reads the
   library's float parameters, perturbs one at a time by +-h in double, and compares
   (L(w+h) - L(w-h)) / 2h with the gradient nn_net_backprop computed in float.

   Tolerance: |g - fd| <= 2e-3 |fd| + 2e-4 * gmax, gmax = largest |fd| of the network.
   - The finite difference is computed in double with h = 1e-5: truncation error
     h^2 f'''/6 ~ 1e-11 and rounding ~ 1e-16/h = 1e-11, negligible.
   - The library's gradient is float32: each element sums at most B*width products
     through <= 4 layers, so its relative error is ~ (B + width + depth) * 6e-8 < 1e-5
     of the magnitudes involved; gradients that cancel to near zero carry that error
     relative to gmax, hence the absolute term. Both terms leave >= 20x margin, while a
     wrong formula (a missing 1/B, a transposed weight, a wrong derivative) gives O(1)
     relative errors and fails.
   Kinks: ReLU, leaky ReLU, hardtanh and sign are not differentiable at their corners.
   The oracle records which piece each unit is on; a parameter whose +-h perturbation
   moves any unit to another piece is skipped (counted and printed), as kann does.
   Dropout: backprop draws a mask per hidden unit; the oracle reads that mask from the
   network and applies it, so the check covers the masked backward pass too. */
#define NN_IMPLEMENTATION
#include "nn.h"
#include "nn_test.h"
#include <math.h>

#define MAXW 8
#define MAXB 6
#define MAXL 4

typedef struct oracle {
    int L, n_in, B;
    int in[MAXL], out[MAXL];
    nn_act act[MAXL];
    float slope[MAXL];
    nn_loss loss;
    double l2;
    double W[MAXL][MAXW * MAXW], b[MAXL][MAXW];
    double x[MAXB * MAXW], y[MAXB * MAXW];
    const int *labels;
    const float *mask[MAXL]; /* dropout masks drawn by the library's backprop, or NULL */
} oracle;

static double act_d(nn_act a, double z, double slope, int *piece)
{
    *piece = 0;
    switch (a) {
    case NN_ACT_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case NN_ACT_TANH: return tanh(z);
    case NN_ACT_RELU: *piece = z > 0; return z > 0 ? z : 0.0;
    case NN_ACT_LEAKY_RELU: *piece = z > 0; return z > 0 ? z : slope * z;
    case NN_ACT_HARDTANH: *piece = z < -1 ? 0 : z > 1 ? 2 : 1; return z < -1 ? -1 : z > 1 ? 1 : z;
    case NN_ACT_SIGN: *piece = z < 0 ? 0 : z > 0 ? 2 : 1; return z < 0 ? -1 : z > 0 ? 1 : 0;
    default: return z;
    }
}

/* Loss in double; pieces[] (size >= L*B*MAXW) receives the piece of every unit. */
static double oracle_loss(const oracle *o, int *pieces)
{
    double a[MAXB * MAXW], z[MAXB * MAXW], next[MAXB * MAXW];
    double sum = 0.0, sq = 0.0;
    int l, i, j, k, np = 0, K = o->out[o->L - 1];
    memcpy(a, o->x, sizeof(double) * (size_t)o->B * o->n_in);
    for (l = 0; l < o->L; l++) {
        for (i = 0; i < o->B; i++) {
            for (j = 0; j < o->out[l]; j++) {
                double s = o->b[l][j];
                for (k = 0; k < o->in[l]; k++) s += a[i * o->in[l] + k] * o->W[l][j * o->in[l] + k];
                z[i * o->out[l] + j] = s;
            }
            if (o->act[l] == NN_ACT_SOFTMAX) {
                double mx = -INFINITY, se = 0.0;
                for (j = 0; j < o->out[l]; j++) mx = fmax(mx, z[i * o->out[l] + j]);
                for (j = 0; j < o->out[l]; j++) se += exp(z[i * o->out[l] + j] - mx);
                for (j = 0; j < o->out[l]; j++) next[i * o->out[l] + j] = exp(z[i * o->out[l] + j] - mx) / se;
            } else {
                for (j = 0; j < o->out[l]; j++)
                    next[i * o->out[l] + j] = act_d(o->act[l], z[i * o->out[l] + j], o->slope[l], &pieces[np++]);
            }
        }
        if (l < o->L - 1) {
            for (i = 0; i < o->B * o->out[l]; i++) a[i] = next[i] * (o->mask[l] ? o->mask[l][i] : 1.0f);
        }
    }
    /* z: output logits, next: output activations */
    for (i = 0; i < o->B; i++) {
        const double *zi = z + i * K, *pi = next + i * K, *yi = o->y + i * K;
        if (o->loss == NN_LOSS_MSE) {
            for (k = 0; k < K; k++) sum += (pi[k] - yi[k]) * (pi[k] - yi[k]) / ((double)o->B * K);
        } else if (o->loss == NN_LOSS_BCE) {
            for (k = 0; k < K; k++) /* -[y log s + (1-y) log(1-s)] in a form exact for small |z| */
                sum += (fmax(zi[k], 0) - zi[k] * yi[k] + log1p(exp(-fabs(zi[k])))) / ((double)o->B * K);
        } else {
            double mx = -INFINITY, se = 0.0, lse;
            for (k = 0; k < K; k++) mx = fmax(mx, zi[k]);
            for (k = 0; k < K; k++) se += exp(zi[k] - mx);
            lse = mx + log(se);
            if (o->labels) sum += (lse - zi[o->labels[i]]) / o->B;
            else for (k = 0; k < K; k++) sum += yi[k] * (lse - zi[k]) / o->B;
        }
    }
    for (l = 0; l < o->L; l++)
        for (k = 0; k < o->out[l] * o->in[l]; k++) sq += o->W[l][k] * o->W[l][k];
    return sum + o->l2 * sq;
}

typedef struct combo {
    nn_act out_act;
    nn_loss loss;
    int use_labels;
    const char *name;
} combo;

static long n_checked, n_skipped;

static void check_one(nn_act hidden, const combo *c, int depth, int batch, float l2,
                      float dropout, uint64_t seed)
{
    nn_net_desc d;
    nn_net *net = NULL;
    nn_rng r;
    oracle o;
    float xf[MAXB * MAXW], yf[MAXB * MAXW], loss_f = 0.0f;
    int labels[MAXB], l, i, k, K, st;
    /* zeroed: a softmax layer writes no pieces, so its slots must compare equal as zeros */
    int base_p[MAXL * MAXB * MAXW] = {0}, p_plus[MAXL * MAXB * MAXW] = {0}, p_minus[MAXL * MAXB * MAXW] = {0};
    double gmax = 0.0, loss_d;
    double fd[MAXL][MAXW * MAXW + MAXW];
    const double h = 1e-5;

    memset(&d, 0, sizeof d);
    memset(&o, 0, sizeof o);
    nn_rng_seed(&r, seed);
    d.n_inputs = 1 + (int)(nn_rng_u64(&r) % 5);
    for (l = 0; l < depth; l++) {
        d.layers[l].units = 1 + (int)(nn_rng_u64(&r) % 6);
        d.layers[l].act = hidden;
        if (hidden == NN_ACT_LEAKY_RELU) d.layers[l].act_param = 0.1f;
        d.layers[l].dropout = l < depth - 1 ? dropout : 0.0f;
    }
    /* output layer */
    d.layers[depth - 1].act = c->out_act;
    d.layers[depth - 1].act_param = 0.0f;
    if (c->out_act == NN_ACT_SOFTMAX && d.layers[depth - 1].units < 2) d.layers[depth - 1].units = 3;
    d.loss = c->loss;
    d.l2 = l2;
    d.max_batch = MAXB;
    d.seed = seed * 7 + 1;
    st = nn_net_create(&d, &net);
    NN_CHECK(st == NN_OK, "create %s hidden=%s depth=%d: %s", c->name, nn_act_name(hidden), depth,
             nn_status_str((nn_status)st));
    if (st != NN_OK) return;
    K = nn_net_n_outputs(net);

    /* Non-zero biases so the check covers them. */
    for (l = 0; l < depth; l++) {
        float *b = NULL;
        int out = 0;
        nn_net_layer(net, l, NULL, &out, NULL, &b, NULL, NULL);
        for (k = 0; k < out; k++) b[k] = 0.3f * nn_rng_normal(&r);
    }
    for (i = 0; i < batch * d.n_inputs; i++) xf[i] = nn_rng_normal(&r);
    for (i = 0; i < batch; i++) labels[i] = (int)(nn_rng_u64(&r) % (uint64_t)K);
    for (i = 0; i < batch * K; i++) {
        if (c->loss == NN_LOSS_BCE) yf[i] = (i % 3 == 0) ? 0.25f : (float)(i % 2);
        else if (c->loss == NN_LOSS_SOFTMAX_CE) yf[i] = 0.0f;
        else yf[i] = nn_rng_normal(&r);
    }
    if (c->loss == NN_LOSS_SOFTMAX_CE && !c->use_labels) { /* probability rows */
        for (i = 0; i < batch; i++) {
            double s = 0.0;
            for (k = 0; k < K; k++) s += (yf[i * K + k] = nn_rng_uniform(&r) + 0.1f);
            for (k = 0; k < K; k++) yf[i * K + k] = (float)(yf[i * K + k] / s);
        }
    }

    st = nn_net_backprop(net, xf, c->use_labels ? NULL : yf, c->use_labels ? labels : NULL,
                         batch, &loss_f);
    NN_CHECK(st == NN_OK, "backprop %s: %s", c->name, nn_status_str((nn_status)st));

    /* Build the oracle from the float parameters. */
    o.L = depth; o.n_in = d.n_inputs; o.B = batch; o.loss = c->loss; o.l2 = l2;
    o.labels = c->use_labels ? labels : NULL;
    for (l = 0; l < depth; l++) {
        float *W = NULL, *b = NULL;
        nn_net_layer(net, l, &o.in[l], &o.out[l], &W, &b, NULL, NULL);
        o.act[l] = nn_net_get_desc(net)->layers[l].act;
        o.slope[l] = nn_net_get_desc(net)->layers[l].act_param;
        o.mask[l] = net->layer[l].mask; /* internal: this file includes the implementation */
        for (k = 0; k < o.out[l] * o.in[l]; k++) o.W[l][k] = W[k];
        for (k = 0; k < o.out[l]; k++) o.b[l][k] = b[k];
    }
    for (i = 0; i < batch * d.n_inputs; i++) o.x[i] = xf[i];
    for (i = 0; i < batch * K; i++) o.y[i] = yf[i];
    loss_d = oracle_loss(&o, base_p);
    NN_CHECK(fabs(loss_d - loss_f) <= 1e-5 * fabs(loss_d) + 1e-6,
             "loss %s hidden=%s: library %.9g, double oracle %.9g", c->name, nn_act_name(hidden),
             (double)loss_f, loss_d);

    /* Finite differences of every weight and bias. */
    for (l = 0; l < depth; l++) {
        int np = o.out[l] * o.in[l] + o.out[l];
        for (k = 0; k < np; k++) {
            double *w = k < o.out[l] * o.in[l] ? &o.W[l][k] : &o.b[l][k - o.out[l] * o.in[l]];
            double save = *w, fp, fm;
            int same = 1, q, total = 0;
            *w = save + h; fp = oracle_loss(&o, p_plus);
            *w = save - h; fm = oracle_loss(&o, p_minus);
            *w = save;
            for (q = 0; q < depth; q++) total += batch * o.out[q];
            for (q = 0; q < total; q++)
                if (p_plus[q] != base_p[q] || p_minus[q] != base_p[q]) same = 0;
            fd[l][k] = same ? (fp - fm) / (2 * h) : NAN;
            if (same && fabs(fd[l][k]) > gmax) gmax = fabs(fd[l][k]);
        }
    }
    for (l = 0; l < depth; l++) {
        float *dW = NULL, *db = NULL;
        int np = o.out[l] * o.in[l] + o.out[l];
        nn_net_layer(net, l, NULL, NULL, NULL, NULL, &dW, &db);
        for (k = 0; k < np; k++) {
            double g = k < o.out[l] * o.in[l] ? dW[k] : db[k - o.out[l] * o.in[l]];
            double tol;
            if (isnan(fd[l][k])) { n_skipped++; continue; }
            tol = 2e-3 * fabs(fd[l][k]) + 2e-4 * gmax + 1e-9;
            n_checked++;
            NN_CHECK(fabs(g - fd[l][k]) <= tol,
                     "backend=%s %s hidden=%s depth=%d B=%d l2=%g: layer %d %s[%d]: backprop %.8g, "
                     "finite difference %.8g, tol %.2g", nn_simd_backend_name(), c->name,
                     nn_act_name(hidden), depth, batch, (double)l2, l,
                     k < o.out[l] * o.in[l] ? "dW" : "db",
                     k < o.out[l] * o.in[l] ? k : k - o.out[l] * o.in[l], g, fd[l][k], tol);
        }
    }
    nn_net_destroy(net);
}

int main(void)
{
    static const combo combos[] = {
        { NN_ACT_IDENTITY, NN_LOSS_MSE, 0, "identity+mse" },
        { NN_ACT_SIGMOID, NN_LOSS_MSE, 0, "sigmoid+mse" },
        { NN_ACT_TANH, NN_LOSS_MSE, 0, "tanh+mse" },
        { NN_ACT_LEAKY_RELU, NN_LOSS_MSE, 0, "leaky_relu+mse" },
        { NN_ACT_HARDTANH, NN_LOSS_MSE, 0, "hardtanh+mse" },
        { NN_ACT_SOFTMAX, NN_LOSS_MSE, 0, "softmax+mse" },
        { NN_ACT_SIGMOID, NN_LOSS_BCE, 0, "sigmoid+bce" },
        { NN_ACT_SOFTMAX, NN_LOSS_SOFTMAX_CE, 1, "softmax+ce(labels)" },
        { NN_ACT_SOFTMAX, NN_LOSS_SOFTMAX_CE, 0, "softmax+ce(probabilities)" },
    };
    static const nn_act hidden[] = { NN_ACT_IDENTITY, NN_ACT_SIGMOID, NN_ACT_TANH, NN_ACT_RELU,
                                     NN_ACT_LEAKY_RELU, NN_ACT_HARDTANH, NN_ACT_SIGN, NN_ACT_SOFTMAX };
    static const nn_simd_backend backends[] = { NN_SIMD_BACKEND_SCALAR, NN_SIMD_BACKEND_AVX2, NN_SIMD_BACKEND_AVX512,
                                                NN_SIMD_BACKEND_NEON };
    size_t bi, c, h;
    int depth;
    nn_test_begin("gradcheck");
    for (bi = 0; bi < sizeof backends / sizeof backends[0]; bi++) {
        if (!nn_simd_backend_available(backends[bi])) continue;
        NN_CHECK(nn_simd_set_backend(backends[bi]) == NN_OK, "set backend");
        printf("backend %s\n", nn_simd_backend_name());
        for (c = 0; c < sizeof combos / sizeof combos[0]; c++)
            for (h = 0; h < sizeof hidden / sizeof hidden[0]; h++)
                for (depth = 1; depth <= MAXL; depth++) {
                    uint64_t seed = 1000 * c + 10 * h + (uint64_t)depth;
                    int batch = 2 + (int)(seed % 5);
                    float l2 = (seed % 3 == 0) ? 0.05f : 0.0f;
                    if (depth == 1 && h > 0) continue; /* no hidden layer: one case per combo */
                    check_one(hidden[h], &combos[c], depth, batch, l2, 0.0f, seed);
                    if (depth > 1 && h < 6) /* dropout on the hidden layers */
                        check_one(hidden[h], &combos[c], depth, batch, l2, 0.4f, seed + 77);
                }
    }
    printf("gradients compared: %ld, skipped at kinks: %ld\n", n_checked, n_skipped);
    NN_CHECK(n_checked > 2000, "too few gradients compared (%ld)", n_checked);
    NN_CHECK(n_skipped * 10 < n_checked, "too many skipped at kinks (%ld of %ld)", n_skipped,
             n_checked + n_skipped);
    return nn_test_done();
}
