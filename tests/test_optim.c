/* test_optim.c - every optimizer's first steps against an independent double-precision
   computation of its formula (as documented in nn.h >>optim), to 1e-6 relative.

   The gradient buffer is written directly (three different gradients, one per step), so
   the test isolates the update rule from backprop. Decoupled weight decay must touch
   weights only, never biases. The reference keeps its own state in double; the library
   keeps float state, so the two differ by float rounding only: a few ulp of the largest
   magnitude the parameter had during the three steps (a step can cancel a parameter down
   to near zero, and the earlier rounding stays). 1e-6 of that leaves ~10x margin, and any formula slip (a missing bias correction, eps inside the root,
   decay on biases) is off by far more. ADADELTA's defaults (lr 1, eps 1e-6) are checked
   here too; tests/torch_adadelta.py compares it with torch.optim.Adadelta (make test-full). */
#ifndef NN_TEST_LINKED /* make links tests/nn_test_impl.c, built once */
#define NN_IMPLEMENTATION
#endif
#include "nn.h"
#include "nn_test.h"
#include <math.h>

#define NP 64 /* upper bound on real parameters in the test net */

typedef struct slot {
    float *w, *g; /* into the library's buffers */
    int is_weight;
} slot;

static int collect(nn_net *net, slot *s)
{
    int l, n = 0, k;
    for (l = 0; l < nn_net_n_layers(net); l++) {
        int in = 0, out = 0;
        float *W = NULL, *b = NULL, *dW = NULL, *db = NULL;
        nn_net_layer(net, l, &in, &out, &W, &b, &dW, &db);
        for (k = 0; k < in * out; k++, n++) { s[n].w = W + k; s[n].g = dW + k; s[n].is_weight = 1; }
        for (k = 0; k < out; k++, n++) { s[n].w = b + k; s[n].g = db + k; s[n].is_weight = 0; }
    }
    return n;
}

/* The reference: one step of `kind` in double. */
static void ref_step(const nn_optim_desc *d, int t, double *w, const double *g, double *s1,
                     double *s2, int is_weight)
{
    double lr = d->lr, wd = is_weight ? d->weight_decay : 0.0;
    *w -= lr * wd * *w;
    switch (d->kind) {
    case NN_OPTIM_SGD: *w -= lr * *g; break;
    case NN_OPTIM_MOMENTUM: *s1 = d->momentum * *s1 + lr * *g; *w -= *s1; break;
    case NN_OPTIM_NESTEROV: *s1 = d->momentum * *s1 + lr * *g; *w -= d->momentum * *s1 + lr * *g; break;
    case NN_OPTIM_ADAGRAD: *s1 += *g * *g; *w -= lr * *g / (sqrt(*s1) + d->eps); break;
    case NN_OPTIM_RMSPROP:
        *s1 = d->rho * *s1 + (1 - d->rho) * *g * *g;
        *w -= lr * *g / (sqrt(*s1) + d->eps);
        break;
    case NN_OPTIM_ADADELTA: {
        double u;
        *s1 = d->rho * *s1 + (1 - d->rho) * *g * *g;
        u = sqrt(*s2 + d->eps) / sqrt(*s1 + d->eps) * *g;
        *s2 = d->rho * *s2 + (1 - d->rho) * u * u;
        *w -= lr * u;
        break;
    }
    default: {
        double mh, vh;
        *s1 = d->beta1 * *s1 + (1 - d->beta1) * *g;
        *s2 = d->beta2 * *s2 + (1 - d->beta2) * *g * *g;
        mh = *s1 / (1 - pow(d->beta1, t));
        vh = *s2 / (1 - pow(d->beta2, t));
        *w -= lr * mh / (sqrt(vh) + d->eps);
        break;
    }
    }
}

static void run(nn_optim_kind kind, float wd, float lr, float eps)
{
    nn_net_desc nd;
    nn_optim_desc od;
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    slot s[NP];
    double w[NP], s1[NP], s2[NP], g[NP], wmax[NP];
    int n, i, t;
    nn_rng r;
    nn_status st;

    memset(&nd, 0, sizeof nd);
    nd.n_inputs = 3;
    nd.layers[0].units = 4;
    nd.layers[1].units = 2;
    nd.seed = 5;
    st = nn_net_create(&nd, &net);
    NN_CHECK(st == NN_OK, "create: %s", nn_status_str(st));
    if (st != NN_OK) return;
    memset(&od, 0, sizeof od);
    od.kind = kind;
    od.lr = lr;
    od.weight_decay = wd;
    od.eps = eps;
    st = nn_optim_create(net, &od, &opt);
    NN_CHECK(st == NN_OK, "optim create %s: %s", nn_optim_name(kind), nn_status_str(st));
    if (st != NN_OK) { nn_net_destroy(net); return; }
    od = *nn_optim_get_desc(opt); /* resolved defaults (betas, momentum, ...) */

    n = collect(net, s);
    nn_rng_seed(&r, 99 + (uint64_t)kind);
    for (i = 0; i < n; i++) {
        *s[i].w = nn_rng_normal(&r); /* biases non-zero too, so decay on them would show */
        w[i] = *s[i].w;
        wmax[i] = fabs(w[i]);
        s1[i] = s2[i] = 0.0;
    }
    for (t = 1; t <= 3; t++) {
        for (i = 0; i < n; i++) {
            /* mixed magnitudes, including an exact zero and a tiny gradient */
            float gv = (i % 7 == 0) ? 0.0f : (i % 5 == 0 ? 1e-6f : nn_rng_normal(&r));
            *s[i].g = gv;
            g[i] = gv;
        }
        st = nn_optim_step(opt, net);
        NN_CHECK(st == NN_OK, "%s step %d: %s", nn_optim_name(kind), t, nn_status_str(st));
        for (i = 0; i < n; i++) {
            double err;
            ref_step(&od, t, &w[i], &g[i], &s1[i], &s2[i], s[i].is_weight);
            err = fabs((double)*s[i].w - w[i]);
            if (fabs(w[i]) > wmax[i]) wmax[i] = fabs(w[i]);
            NN_CHECK(err <= 1e-6 * wmax[i] + 1e-12,
                     "backend=%s %s wd=%g step %d param %d (%s): library %.9g, double reference "
                     "%.9g, err/max|w| %.2g", nn_simd_backend_name(), nn_optim_name(kind), (double)wd,
                     t, i, s[i].is_weight ? "weight" : "bias", (double)*s[i].w, w[i],
                     err / wmax[i]);
        }
    }
    NN_CHECK(nn_optim_steps(opt) == 3, "%s: steps %lld, want 3", nn_optim_name(kind),
             nn_optim_steps(opt));
    nn_optim_destroy(opt);
    nn_net_destroy(net);
}

/* set_lr takes effect on the next step: two nets with the same parameters, gradients and
   Adam state take one step at the default rate, then a's rate is set to 0.5 and both
   step again: each of a's updates must be b's times 0.5 / the default rate (Adam's update
   is linear in lr). Then reset zeroes the state and the step count: the reset optimizer
   (rate still 0.5) steps exactly like a new one created with lr 0.5. */
static void lr_and_reset(void)
{
    nn_net_desc nd;
    nn_optim_desc od;
    nn_net *a = NULL, *b = NULL;
    nn_optim *oa = NULL, *ob = NULL;
    size_t n, i;
    float *pa, *pb, *ga, *gb, *p0, lr0;
    int bad = 0, moved = 0;
    memset(&nd, 0, sizeof nd);
    nd.n_inputs = 2;
    nd.layers[0].units = 3;
    nd.layers[1].units = 1;
    memset(&od, 0, sizeof od);
    od.kind = NN_OPTIM_ADAM;
    nn_net_create(&nd, &a);
    nn_net_create(&nd, &b);
    nn_optim_create(a, &od, &oa);
    nn_optim_create(b, &od, &ob);
    pa = nn_net_params(a, &n, NULL);
    pb = nn_net_params(b, NULL, NULL);
    ga = nn_net_grads(a, NULL, NULL);
    gb = nn_net_grads(b, NULL, NULL);
    p0 = (float *)malloc(n * sizeof(float));
    memcpy(pa, pb, n * sizeof(float));
    for (i = 0; i < n; i++) ga[i] = gb[i] = (float)(i % 3) - 1.0f;
    lr0 = nn_optim_get_lr(ob);
    NN_CHECK(lr0 > 0.0f && lr0 < 0.1f, "default lr %g", (double)lr0);
    nn_optim_step(oa, a);
    nn_optim_step(ob, b);
    NN_CHECK(memcmp(pa, pb, n * sizeof(float)) == 0, "the same step at the same rate differs");
    NN_CHECK(nn_optim_set_lr(oa, 0.5f) == NN_OK && nn_optim_get_lr(oa) == 0.5f, "set_lr");
    NN_CHECK(nn_optim_get_lr(ob) == lr0, "set_lr on one optimizer changed another's rate");
    memcpy(p0, pa, n * sizeof(float));
    nn_optim_step(oa, a);
    nn_optim_step(ob, b);
    for (i = 0; i < n; i++) {
        const double da = (double)pa[i] - p0[i], db = (double)pb[i] - p0[i];
        if (ga[i] == 0.0f) { /* Adam: zero gradients so far, no move at either rate */
            bad += da != 0.0 || db != 0.0;
            continue;
        }
        moved++;
        /* b's update is ~1e-3 of O(1) parameters: ~1e-4 relative float rounding */
        if (!(db != 0.0 && fabs(da / db - 0.5 / lr0) <= 1e-3 * (0.5 / lr0))) {
            if (++bad <= 3)
                NN_CHECK(0, "after set_lr(0.5): param %zu moved %.9g, at the default rate %g it moved "
                         "%.9g: ratio %.6g, want %.6g", i, da, (double)lr0, db, da / db, 0.5 / lr0);
        }
    }
    NN_CHECK(bad == 0 && moved > 0, "set_lr: %d of %zu updates not in the ratio of the rates (%d moved)",
             bad, n, moved);
    nn_optim_reset(oa);
    NN_CHECK(nn_optim_steps(oa) == 0, "reset: steps %lld", nn_optim_steps(oa));
    NN_CHECK(nn_optim_get_lr(oa) == 0.5f, "reset changed the rate to %g", (double)nn_optim_get_lr(oa));
    nn_optim_destroy(ob);
    ob = NULL;
    od.lr = 0.5f;
    nn_optim_create(b, &od, &ob);
    memcpy(pa, pb, n * sizeof(float));
    nn_optim_step(oa, a);
    nn_optim_step(ob, b);
    NN_CHECK(memcmp(pa, pb, n * sizeof(float)) == 0, "after reset the optimizer must act as new");
    free(p0);
    nn_optim_destroy(oa); nn_optim_destroy(ob);
    nn_net_destroy(a); nn_net_destroy(b);
}

int main(void)
{
    static const nn_simd_backend backends[] = { NN_SIMD_BACKEND_SCALAR, NN_SIMD_BACKEND_AVX2, NN_SIMD_BACKEND_AVX512,
                                                NN_SIMD_BACKEND_NEON };
    size_t bi;
    int k;
    nn_test_begin("optim");
    for (bi = 0; bi < sizeof backends / sizeof backends[0]; bi++) {
        if (!nn_simd_backend_available(backends[bi])) continue;
        nn_simd_set_backend(backends[bi]);
        printf("backend %s\n", nn_simd_backend_name());
        for (k = NN_OPTIM_SGD; k < NN_OPTIM_COUNT; k++) {
            if (k == NN_OPTIM_ADAFACTOR) continue; /* not element-wise: tests/test_adafactor.c */
            run((nn_optim_kind)k, 0.0f, 0.0f, 0.0f);          /* defaults (AdamW: wd 0.01) */
            run((nn_optim_kind)k, 0.1f, 0.05f, 1e-3f);        /* decay, larger lr, big eps */
        }
        lr_and_reset();
    }
    return nn_test_done();
}
