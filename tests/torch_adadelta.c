/* torch_adadelta.c - prints NN_OPTIM_ADADELTA trajectories for tests/torch_adadelta.py,
   which replays them with torch.optim.Adadelta (make test-torch, part of make test-full).
   Per configuration: a line "cfg BACKEND lr rho eps", the initial parameters, then for
   each of 8 steps the gradients written into the net and the parameters after the step;
   floats in C99 hex (%a) so Python reads the exact bits. Weight decay stays 0: torch's
   is an L2 term in the gradient, nn.h's is decoupled. */
#define NN_IMPLEMENTATION
#include "nn.h"
#include <stdio.h>
#include <string.h>

static void row(const char *tag, const float *p, size_t n)
{
    size_t i;
    printf("%s", tag);
    for (i = 0; i < n; i++) printf(" %a", (double)p[i]);
    printf("\n");
}

static int run(nn_simd_backend be, float lr, float rho, float eps)
{
    nn_net_desc nd;
    nn_optim_desc od;
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    size_t n, i;
    float *p, *g;
    nn_rng r;
    int t;
    if (nn_simd_set_backend(be) != NN_OK) return 0;
    memset(&nd, 0, sizeof nd);
    nd.n_inputs = 5;
    nd.layers[0].units = 7;
    nd.layers[1].units = 3;
    memset(&od, 0, sizeof od);
    od.kind = NN_OPTIM_ADADELTA;
    od.lr = lr; od.rho = rho; od.eps = eps;
    if (nn_net_create(&nd, &net) != NN_OK || nn_optim_create(net, &od, &opt) != NN_OK) return 1;
    od = *nn_optim_get_desc(opt);
    /* the padded layout's zero padding is updated too (0 stays 0): harmless to compare */
    p = nn_net_params(net, &n, NULL);
    g = nn_net_grads(net, NULL, NULL);
    printf("cfg %s %a %a %a\n", nn_simd_backend_name(), (double)od.lr, (double)od.rho, (double)od.eps);
    nn_rng_seed(&r, 11);
    for (i = 0; i < n; i++) p[i] = nn_rng_normal(&r);
    row("init", p, n);
    for (t = 0; t < 8; t++) {
        for (i = 0; i < n; i++) g[i] = (i % 9 == 4) ? 0.0f : (t % 3 == 2 ? 1e-3f : 1.0f) * nn_rng_normal(&r);
        row("grad", g, n);
        if (nn_optim_step(opt, net) != NN_OK) return 1;
        row("param", p, n);
    }
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    return 0;
}

int main(void)
{
    static const nn_simd_backend bes[] = { NN_SIMD_BACKEND_SCALAR, NN_SIMD_BACKEND_AVX2, NN_SIMD_BACKEND_AVX512,
                                           NN_SIMD_BACKEND_NEON };
    size_t b;
    int bad = 0;
    for (b = 0; b < sizeof bes / sizeof bes[0]; b++) {
        if (!nn_simd_backend_available(bes[b])) continue;
        bad |= run(bes[b], 0.0f, 0.0f, 0.0f);     /* torch's defaults: lr 1, rho 0.9, eps 1e-6 */
        bad |= run(bes[b], 0.5f, 0.95f, 1e-4f);
    }
    return bad;
}
