/* test_adafactor.c - NN_OPTIM_ADAFACTOR against an independent double-precision
   computation of the algorithm written in nn.h (>>optim), over six steps on the weight
   shapes 1x1, 1xn, nx1, 3x5 and 256x784 (the first layer of 784-256-...), in three
   modes: the defaults (relative step, no momentum), explicit lr with weight decay, and
   beta1 momentum with a clipping threshold that clips. The gradients are written
   directly, so the update rule is isolated from backprop; they mix magnitudes, with exact
   zeros and one all-zero row (V then rests on eps1 alone).

   Tolerance: the library keeps float parameters and state and sums in double, so each
   parameter may differ from the reference by float rounding of itself (1e-6 of the
   largest |w| it had) plus a few ulp of each step it took (1e-5 of the summed step
   sizes a_t max|U_t|). A slip in the formula (sums vs means without the matching
   division, a missing clip, eps1 outside the square, the wrong beta2 schedule, the
   parameter scale of the wrong tensor) moves parameters by a sizeable part of a step.
   Also: the factored state's size (rows + cols + rows floats per layer) and values, a
   step with a NaN gradient refused with nothing changed, and the state bytes of
   784-256-128-10 against Adam's (printed; README quotes them). */
#define NN_IMPLEMENTATION
#include "nn.h"
#include "nn_test.h"
#include <math.h>

typedef struct ref_tensor {
    double *x, *m, *R, *C, *v; /* parameters, momentum, row/column sums or full moment */
} ref_tensor;

/* One reference step of one tensor: rows x cols (cols 0: a vector of rows entries). */
static double ref_step(const nn_optim_desc *d, int t, double *x, const float *gf, double *m,
                       double *R, double *C, int rows, int cols, double wd)
{
    const double b2 = 1.0 - pow((double)t, -0.8), rho = fmin(d->lr, 1.0 / sqrt((double)t));
    const int n = cols ? rows * cols : rows;
    double ss = 0, a, sr = 0, su = 0, clip, umax = 0;
    double *u = (double *)malloc((size_t)n * sizeof(double));
    int i, j;
    for (i = 0; i < n; i++) ss += x[i] * x[i];
    a = d->explicit_lr ? d->lr : fmax(d->eps2, sqrt(ss / n)) * rho;
    if (cols) {
        for (i = 0; i < rows; i++) {
            double s = 0;
            for (j = 0; j < cols; j++) s += (double)gf[i * cols + j] * gf[i * cols + j] + d->eps;
            R[i] = b2 * R[i] + (1 - b2) * s;
            sr += R[i];
        }
        for (j = 0; j < cols; j++) {
            double s = 0;
            for (i = 0; i < rows; i++) s += (double)gf[i * cols + j] * gf[i * cols + j] + d->eps;
            C[j] = b2 * C[j] + (1 - b2) * s;
        }
        for (i = 0; i < rows; i++)
            for (j = 0; j < cols; j++) u[i * cols + j] = gf[i * cols + j] / sqrt(R[i] * C[j] / sr);
    } else {
        for (i = 0; i < n; i++) {
            R[i] = b2 * R[i] + (1 - b2) * ((double)gf[i] * gf[i] + d->eps);
            u[i] = gf[i] / sqrt(R[i]);
        }
    }
    for (i = 0; i < n; i++) su += u[i] * u[i];
    clip = fmax(1.0, sqrt(su / n) / d->clip);
    for (i = 0; i < n; i++) {
        double ui = u[i] / clip;
        if (d->beta1 > 0) {
            m[i] = d->beta1 * m[i] + (1 - d->beta1) * ui;
            ui = m[i];
        }
        x[i] -= a * wd * x[i];
        x[i] -= a * ui;
        if (fabs(a * ui) > umax) umax = fabs(a * ui);
    }
    free(u);
    return umax;
}

static int fcmp(const float *a, const float *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof(float)) == 0;
}

static void run(int rows, int cols, int mode)
{
    nn_net_desc nd;
    nn_optim_desc od;
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    float *W = NULL, *b = NULL, *dW = NULL, *db = NULL;
    const int nw = rows * cols;
    double *x = (double *)calloc((size_t)nw + rows, sizeof(double));
    double *m = (double *)calloc((size_t)nw + rows, sizeof(double));
    double *R = (double *)calloc((size_t)rows, sizeof(double)), *C = (double *)calloc((size_t)cols, sizeof(double));
    double *v = (double *)calloc((size_t)rows, sizeof(double)), *xmax = (double *)calloc((size_t)nw + rows, sizeof(double));
    double steps = 0;
    int i, t, bad = 0;
    nn_rng r;
    nn_status st;
    char what[96];
    sprintf(what, "%dx%d mode %d", rows, cols, mode);
    memset(&nd, 0, sizeof nd);
    nd.n_inputs = cols;
    nd.layers[0].units = rows;
    nd.layers[0].act = NN_ACT_IDENTITY;
    nd.max_batch = 1;
    memset(&od, 0, sizeof od);
    od.kind = NN_OPTIM_ADAFACTOR;
    if (mode == 1) { od.explicit_lr = 1; od.lr = 0.05f; od.weight_decay = 0.1f; }
    if (mode == 2) { od.beta1 = 0.9f; od.clip = 0.5f; od.weight_decay = 0.01f; }
    st = nn_net_create(&nd, &net);
    if (st == NN_OK) st = nn_optim_create(net, &od, &opt);
    NN_CHECK(st == NN_OK && x && m && R && C && v && xmax, "%s: create: %s", what, nn_status_str(st));
    if (st != NN_OK || !x || !m || !R || !C || !v || !xmax) goto done;
    od = *nn_optim_get_desc(opt);
    NN_CHECK(od.lr == (mode == 1 ? 0.05f : 0.01f) && od.eps == 1e-30f && od.eps2 == 1e-3f &&
             od.clip == (mode == 2 ? 0.5f : 1.0f) && od.beta1 == (mode == 2 ? 0.9f : 0.0f),
             "%s: resolved defaults lr %g eps %g eps2 %g clip %g beta1 %g", what, (double)od.lr,
             (double)od.eps, (double)od.eps2, (double)od.clip, (double)od.beta1);
    NN_CHECK(opt->n_fac == (size_t)(2 * rows + cols) && (mode == 2) == (opt->s1 != NULL) && !opt->s2,
             "%s: state: %zu factored floats, want %d", what, opt->n_fac, 2 * rows + cols);
    nn_net_layer(net, 0, NULL, NULL, &W, &b, &dW, &db);
    nn_rng_seed(&r, (uint64_t)(rows * 1000 + cols * 10 + mode));
    for (i = 0; i < nw + rows; i++) {
        float *p = i < nw ? &W[i] : &b[i - nw];
        *p = 0.5f * nn_rng_normal(&r); /* biases non-zero too: their own RMS scale */
        x[i] = *p;
        xmax[i] = fabs(x[i]);
    }
    for (t = 1; t <= 6; t++) {
        double s1, s2;
        for (i = 0; i < nw + rows; i++) {
            float g = (i % 11 == 3) ? 0.0f : (i % 5 == 0 ? 1e-4f : 1.0f) * nn_rng_normal(&r);
            if (rows > 2 && i < nw && i / cols == 1) g = 0.0f; /* row 1 all zero */
            if (i < nw) dW[i] = g; else db[i - nw] = g;
        }
        st = nn_optim_step(opt, net);
        NN_CHECK(st == NN_OK, "%s step %d: %s", what, t, nn_status_str(st));
        s1 = ref_step(&od, t, x, dW, m, R, C, rows, cols, od.weight_decay);
        s2 = ref_step(&od, t, x + nw, db, m + nw, v, NULL, rows, 0, 0.0);
        steps += fmax(s1, s2);
        for (i = 0; i < nw + rows; i++) {
            const float lib = i < nw ? W[i] : b[i - nw];
            double tol;
            if (fabs(x[i]) > xmax[i]) xmax[i] = fabs(x[i]);
            tol = 1e-6 * xmax[i] + 1e-5 * steps + 1e-30;
            if (!(fabs(lib - x[i]) <= tol) && bad++ < 4)
                NN_CHECK(0, "%s step %d %s %d: library %.9g, reference %.9g (tolerance %.3g)", what, t,
                         i < nw ? "weight" : "bias", i < nw ? i : i - nw, (double)lib, x[i], tol);
        }
        for (i = 0; i < rows; i++) {
            if (!(fabs(opt->fac[i] - R[i]) <= 1e-6 * R[i]) && bad++ < 4)
                NN_CHECK(0, "%s step %d: R[%d] %.9g, reference %.9g", what, t, i, (double)opt->fac[i], R[i]);
            if (!(fabs(opt->fac[rows + cols + i] - v[i]) <= 1e-6 * v[i]) && bad++ < 4)
                NN_CHECK(0, "%s step %d: bias v[%d] %.9g, reference %.9g", what, t, i,
                         (double)opt->fac[rows + cols + i], v[i]);
        }
        for (i = 0; i < cols; i++)
            if (!(fabs(opt->fac[rows + i] - C[i]) <= 1e-6 * C[i]) && bad++ < 4)
                NN_CHECK(0, "%s step %d: C[%d] %.9g, reference %.9g", what, t, i, (double)opt->fac[rows + i], C[i]);
    }
    NN_CHECK(bad == 0, "%s: %d mismatches", what, bad);
    /* a NaN gradient: refused, nothing changed */
    {
        size_t n = 0;
        float *p = nn_net_params(net, &n, NULL);
        float *p0 = (float *)malloc(n * sizeof(float)), *f0 = (float *)malloc(opt->n_fac * sizeof(float));
        float *m0 = opt->s1 ? (float *)malloc(n * sizeof(float)) : NULL;
        memcpy(p0, p, n * sizeof(float));
        memcpy(f0, opt->fac, opt->n_fac * sizeof(float));
        if (m0) memcpy(m0, opt->s1, n * sizeof(float));
        db[rows - 1] = NAN;
        st = nn_optim_step(opt, net);
        NN_CHECK(st == NN_ERR_NONFINITE && fcmp(p, p0, n) && fcmp(opt->fac, f0, opt->n_fac) &&
                 (!m0 || fcmp(opt->s1, m0, n)) && nn_optim_steps(opt) == 6,
                 "%s: NaN step: %s, or something changed", what, nn_status_str(st));
        free(p0); free(f0); free(m0);
    }
done:
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    free(x); free(m); free(R); free(C); free(v); free(xmax);
}

/* Optimizer state of 784-256-128-10: Adam's two buffers against Adafactor's factors. */
static void state_bytes(void)
{
    nn_net_desc nd;
    nn_optim_desc od;
    nn_net *net = NULL;
    nn_optim *adam = NULL, *af = NULL;
    long real = 0;
    int l, in = 784;
    memset(&nd, 0, sizeof nd);
    nd.n_inputs = 784;
    nd.layers[0].units = 256;
    nd.layers[1].units = 128;
    nd.layers[2].units = 10;
    memset(&od, 0, sizeof od);
    for (l = 0; l < 3; l++) { real += (long)nd.layers[l].units * (in + 1); in = nd.layers[l].units; }
    if (nn_net_create(&nd, &net) != NN_OK) { NN_CHECK(0, "784-256-128-10"); return; }
    od.kind = NN_OPTIM_ADAM;
    nn_optim_create(net, &od, &adam);
    od.kind = NN_OPTIM_ADAFACTOR;
    nn_optim_create(net, &od, &af);
    NN_CHECK(adam && af && af->n_fac == 1956 && !af->s1 && !af->s2, "784-256-128-10 adafactor state %zu floats",
             af ? af->n_fac : 0);
    if (adam && af)
        printf("784-256-128-10 (%ld parameters): optimizer state Adam %ld bytes (2 x parameters), "
               "Adafactor %zu bytes (%.2f%%)\n", real, 8 * real, 4 * af->n_fac,
               100.0 * (double)(4 * af->n_fac) / (double)(8 * real));
    nn_optim_destroy(adam);
    nn_optim_destroy(af);
    nn_net_destroy(net);
}

int main(void)
{
    static const int shapes[][2] = { { 1, 1 }, { 1, 7 }, { 9, 1 }, { 3, 5 }, { 256, 784 } };
    int s, mode;
    nn_test_begin("test_adafactor");
    printf("backend %s\n", nn_simd_backend_name());
    for (s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++)
        for (mode = 0; mode < 3; mode++) run(shapes[s][0], shapes[s][1], mode);
    state_bytes();
    return nn_test_done();
}
