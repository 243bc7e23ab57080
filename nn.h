/* nn.h - v0.1 - train multilayer perceptrons on the CPU, fast. Header-only C99/C++.

   QUICK START
      In ONE C or C++ file:
          #define NN_IMPLEMENTATION
          #include "nn.h"          // also brings in nn_simd.h (the kernels)
      and plain #include "nn.h" everywhere else. Build with -fopenmp for threads (optional)
      and link -lm.

          nn_net *net;
          nn_net_desc d = {0};
          d.n_inputs = 2;
          d.layers[0].units = 8;  d.layers[0].act = NN_ACT_TANH;
          d.layers[1].units = 1;  d.layers[1].act = NN_ACT_SIGMOID;   // loss -> BCE
          nn_net_create(&d, &net);
          nn_optim *opt;
          nn_optim_desc od = {0};
          od.kind = NN_OPTIM_ADAM;  od.lr = 0.05f;
          nn_optim_create(net, &od, &opt);
          for (int e = 0; e < 500; e++) nn_train_step(net, opt, x, y, NULL, 4, &loss);
          nn_optim_destroy(opt);  nn_net_destroy(net);

   CONVENTIONS (the formulas behind the numbers)
      Shapes: a batch is row-major [B][features]. Layer l has W[out][in] and b[out];
        Z = A_prev W^T + b, A = g(Z).
      Losses are means over the batch (B rows, K outputs per row):
        MSE          L = 1/(B K) sum_i sum_k (a_ik - y_ik)^2            (PyTorch MSELoss)
        BCE          L = 1/(B K) sum [ max(z,0) - z y + log1p(exp(-|z|)) ] on the output
                     LOGITS z (sigmoid output layer): exact at any |z|, never log(0).
        SOFTMAX_CE   L = 1/B sum_i sum_k y_ik (logsumexp(z_i) - z_ik) on the logits
                     (softmax output layer); y rows may be one-hot or probabilities, or
                     labels give class indices. Gradient dZ = (P sum_k y - Y)/B.
      L2 penalty (desc.l2 = lambda): L += lambda * sum of squares of all WEIGHTS (biases are
        not penalized); its gradient 2 lambda W is added to dW.
      Decoupled weight decay (optimizer weight_decay = wd, AdamW's default 0.01): before each
        update, W <- W - lr wd W on weights only (not biases). Not part of the loss.
      Optimizers: see >>optim below for each update written out.

   MEMORY
      Everything is allocated at create time: nn_net_create reserves the parameters, the
      gradients (same layout), and an arena of activations and deltas for desc.max_batch
      rows. nn_optim_create reserves the optimizer state. Forward, backprop and optimizer
      steps never allocate. Every create has a destroy; destroy(NULL) is a no-op.
      Pointers returned by nn_net_forward stay valid until the next call on that network.
      Input pointers are never retained.

   ERRORS
      Every fallible function returns nn_status (nn_status_str explains it). User input is
      validated and reported, never asserted: a NULL, a zero or negative size, a batch over
      max_batch, an out-of-range label or a mismatched optimizer gives an error and changes
      nothing. An optimizer step whose gradients hold NaN or Inf returns NN_ERR_NONFINITE
      and leaves weights and optimizer state exactly as they were.

   OPTIONS: see nn_simd.h (NN_MALLOC, NN_FREE, NN_ASSERT, NN_STATIC, NN_SIMD_NO_*).

   LICENSE  MIT (see the end of nn_simd.h).
*/
#ifndef NN_H_INCLUDED
#define NN_H_INCLUDED

#include "nn_simd.h"

#ifndef NNDEF
#  ifdef NN_STATIC
#    define NNDEF static
#  else
#    define NNDEF extern
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define NN_MAX_LAYERS 32          /* layers in one network (not counting the input) */
#define NN_MAX_UNITS  (1 << 24)   /* widest layer or input */
#define NN_MAX_BATCH  (1 << 20)   /* largest max_batch */

typedef enum nn_loss {
    NN_LOSS_DEFAULT = 0,  /* from the output activation: SOFTMAX -> SOFTMAX_CE,
                             SIGMOID -> BCE, anything else -> MSE */
    NN_LOSS_MSE,
    NN_LOSS_BCE,          /* needs a SIGMOID output layer */
    NN_LOSS_SOFTMAX_CE,   /* needs a SOFTMAX output layer */
    NN_LOSS_COUNT
} nn_loss;

typedef enum nn_init {
    NN_INIT_DEFAULT = 0,     /* HE_UNIFORM for RELU/LEAKY_RELU, XAVIER_UNIFORM otherwise */
    NN_INIT_UNIFORM,         /* U(-a, a), a = init_scale (0 -> 1/sqrt(fan_in)) */
    NN_INIT_XAVIER_UNIFORM,  /* U(-a, a), a = sqrt(6/(fan_in + fan_out))   (Glorot) */
    NN_INIT_XAVIER_NORMAL,   /* N(0, 2/(fan_in + fan_out)) */
    NN_INIT_HE_UNIFORM,      /* U(-a, a), a = sqrt(6/fan_in)               (Kaiming) */
    NN_INIT_HE_NORMAL,       /* N(0, 2/fan_in) */
    NN_INIT_COUNT
} nn_init;

typedef struct nn_layer_desc {
    int     units;       /* output width of the layer; the list ends at the first 0 */
    nn_act  act;         /* 0 -> RELU for hidden layers; output layer: from the loss
                            (SOFTMAX_CE -> SOFTMAX, BCE -> SIGMOID, else IDENTITY) */
    float   act_param;   /* LEAKY_RELU slope in (0,1): 0 -> 0.01 */
    nn_init init;        /* weight initialization; biases always start at 0 */
    float   init_scale;  /* NN_INIT_UNIFORM only: a of U(-a,a); 0 -> 1/sqrt(fan_in) */
    float   dropout;     /* fraction of this layer's outputs zeroed while training (inverted
                            dropout: kept ones scaled by 1/(1-p)), in [0,1); hidden layers
                            only; applied by nn_net_backprop, never by forward/predict */
} nn_layer_desc;

typedef struct nn_net_desc {
    int           n_inputs;               /* features per sample (required) */
    nn_layer_desc layers[NN_MAX_LAYERS];  /* hidden layers then the output layer */
    int           max_batch;              /* largest batch forward/backprop take: 0 -> 256 */
    nn_loss       loss;                   /* 0 -> from the output activation */
    float         l2;                     /* lambda of the L2 penalty on weights: 0 -> none */
    uint64_t      seed;                   /* initialization RNG seed: 0 -> 0x6e6e2e68 */
    nn_allocator  allocator;              /* 0 -> NN_MALLOC/NN_FREE (64-byte aligned) */
} nn_net_desc;

typedef enum nn_optim_kind {
    NN_OPTIM_DEFAULT = 0, /* -> ADAM */
    NN_OPTIM_SGD,         /* plain gradient descent; batch size makes it full-batch,
                             mini-batch or per-sample */
    NN_OPTIM_MOMENTUM,
    NN_OPTIM_NESTEROV,
    NN_OPTIM_ADAGRAD,
    NN_OPTIM_RMSPROP,
    NN_OPTIM_ADAM,
    NN_OPTIM_ADAMW,       /* Adam + decoupled weight decay (default 0.01) */
    NN_OPTIM_COUNT
} nn_optim_kind;

typedef struct nn_optim_desc {
    nn_optim_kind kind;         /* 0 -> ADAM */
    float lr;                   /* 0 -> 0.01 (SGD, MOMENTUM, NESTEROV, ADAGRAD), 0.001 (others) */
    float momentum;             /* gamma of MOMENTUM/NESTEROV: 0 -> 0.9 */
    float beta1, beta2;         /* ADAM/ADAMW: 0 -> 0.9, 0.999 */
    float rho;                  /* RMSPROP decay: 0 -> 0.9 */
    float eps;                  /* ADAGRAD/RMSPROP/ADAM/ADAMW: 0 -> 1e-8 */
    float weight_decay;         /* decoupled, weights only: ADAMW 0 -> 0.01; others 0 -> none */
    nn_allocator allocator;     /* 0 -> the allocator of the network it is created for */
} nn_optim_desc;

typedef struct nn_net nn_net;       /* opaque */
typedef struct nn_optim nn_optim;   /* opaque */

/* The desc with every default resolved, as nn_net_create would use it. Does not
   validate; nn_net_create does. */
NNDEF nn_net_desc nn_net_desc_defaults(const nn_net_desc *desc);

/* Builds a network: validates desc, allocates parameters, gradients and the arena, and
   initializes the weights from desc->seed. *out is written only on success.
   NN_ERR_INVALID for a bad desc, NN_ERR_NOMEM, NN_ERR_BACKEND for a bad NN_BACKEND. */
NNDEF nn_status nn_net_create(const nn_net_desc *desc, nn_net **out);
NNDEF void      nn_net_destroy(nn_net *net);

/* Re-draws all weights from `seed` (biases to 0), as nn_net_create does. */
NNDEF nn_status nn_net_init_params(nn_net *net, uint64_t seed);

/* The resolved desc the network was built from. */
NNDEF const nn_net_desc *nn_net_get_desc(const nn_net *net);
NNDEF int nn_net_n_inputs(const nn_net *net);
NNDEF int nn_net_n_outputs(const nn_net *net);
NNDEF int nn_net_n_layers(const nn_net *net);

/* The flat parameter and gradient buffers (identical layout): all weights first, then all
   biases; *count is the number of floats (including alignment padding, which is always 0).
   *n_weights (may be NULL) is where the biases begin. Writing parameters is allowed. */
NNDEF float *nn_net_params(nn_net *net, size_t *count, size_t *n_weights);
NNDEF float *nn_net_grads(nn_net *net, size_t *count, size_t *n_weights);
/* Layer l's W [out][in] and b [out] (and their gradients), any pointer may be NULL. */
NNDEF nn_status nn_net_layer(nn_net *net, int l, int *in, int *out, float **W, float **b,
                             float **dW, float **db);
/* Copies all parameters of src into dst. NN_ERR_SHAPE unless the layer sizes match. */
NNDEF nn_status nn_net_copy_params(nn_net *dst, const nn_net *src);

/* Forward pass of a batch: x [batch][n_inputs] -> *y [batch][n_outputs], owned by the
   network, valid until the next call on it. NN_ERR_BATCH if batch > max_batch. */
NNDEF nn_status nn_net_forward(nn_net *net, const float *x, int batch, const float **y);

/* Forward + mean loss (with the L2 term) of a batch, no gradients. Targets are either
   y [batch][n_outputs] or labels [batch] (class indices, SOFTMAX_CE only): pass exactly
   one. NN_ERR_NONFINITE if the loss is not finite (*loss is still written). */
NNDEF nn_status nn_net_loss(nn_net *net, const float *x, const float *y, const int *labels,
                            int batch, float *loss);

/* Forward + backward: fills the gradient buffer with d(loss)/d(params) for the batch,
   walking the layers in reverse, and writes the mean loss (loss may be NULL). The input
   layer's own gradient is not computed. Targets as for nn_net_loss. */
NNDEF nn_status nn_net_backprop(nn_net *net, const float *x, const float *y,
                                const int *labels, int batch, float *loss);

/* Outputs for n samples of any count (in chunks of max_batch) into out [n][n_outputs]. */
NNDEF nn_status nn_net_predict(nn_net *net, const float *x, int n, float *out);
/* Fraction of n samples classified right: argmax of the outputs against labels (a single
   output is thresholded at 0.5 for SIGMOID, 0 otherwise). */
NNDEF nn_status nn_net_accuracy(nn_net *net, const float *x, const int *labels, int n,
                                float *accuracy);

/* Optimizer: its state is allocated here for net's parameter layout. */
NNDEF nn_optim_desc nn_optim_desc_defaults(const nn_optim_desc *desc);
NNDEF nn_status nn_optim_create(const nn_net *net, const nn_optim_desc *desc, nn_optim **out);
NNDEF void      nn_optim_destroy(nn_optim *opt);
/* Applies one update from net's gradient buffer. NN_ERR_NONFINITE (nothing changed) if a
   gradient is NaN/Inf; NN_ERR_SHAPE if opt was made for a different layout. */
NNDEF nn_status nn_optim_step(nn_optim *opt, nn_net *net);
NNDEF nn_status nn_optim_set_lr(nn_optim *opt, float lr);   /* lr > 0, finite */
NNDEF float     nn_optim_get_lr(const nn_optim *opt);
NNDEF long long nn_optim_steps(const nn_optim *opt);         /* updates applied so far */
NNDEF void      nn_optim_reset(nn_optim *opt);               /* zero state, step count 0 */
NNDEF const nn_optim_desc *nn_optim_get_desc(const nn_optim *opt);

/* nn_net_backprop then nn_optim_step. */
NNDEF nn_status nn_train_step(nn_net *net, nn_optim *opt, const float *x, const float *y,
                              const int *labels, int batch, float *loss);

/* The network's deterministic RNG (splitmix64), also usable by callers for shuffling. */
typedef struct nn_rng { uint64_t s; } nn_rng;
NNDEF void     nn_rng_seed(nn_rng *r, uint64_t seed);
NNDEF uint64_t nn_rng_u64(nn_rng *r);
NNDEF float    nn_rng_uniform(nn_rng *r);  /* [0, 1), 24 random bits */
NNDEF float    nn_rng_normal(nn_rng *r);   /* N(0, 1), Box-Muller in double */

/* >>train declarations (fit, schedules, metrics) */

/* >>io declarations (model files) */

NNDEF const char *nn_loss_name(nn_loss l);
NNDEF const char *nn_optim_name(nn_optim_kind k);

#ifdef __cplusplus
}
#endif
#endif /* NN_H_INCLUDED */

/* =========================================================================== */
/*                              IMPLEMENTATION                                 */
/* =========================================================================== */
#if defined(NN_IMPLEMENTATION) && !defined(NN_IMPLEMENTATION_INCLUDED)
#define NN_IMPLEMENTATION_INCLUDED

#ifndef NN_SIMD_IMPLEMENTATION
#  define NN_SIMD_IMPLEMENTATION
#endif
#include "nn_simd.h"

#include <math.h>
#include <string.h>

/* Legend for this file: B = batch rows, IN/OUT = features into/out of a layer,
   L = number of layers, l = layer index (0 = first hidden layer). */

/* >>net --------------------------------------------------------------------- */
typedef struct nn__layer {
    int    in, out;
    nn_act act;
    float  act_param;
    float *W, *b;      /* into net->params: W [out][in], b [out] */
    float *dW, *db;    /* same offsets into net->grads */
    float *A;          /* arena: outputs [max_batch][out] */
    float  drop;       /* dropout rate; 0 = none */
    float *mask;       /* arena, dropout only: 0 or 1/(1-p) per output [max_batch][out] */
    float *D;          /* arena, dropout only: A * mask, the next layer's input */
} nn__layer;

struct nn_net {
    nn_net_desc  desc;            /* resolved */
    int          n_layers;
    int          max_width;       /* widest layer output */
    nn__layer    layer[NN_MAX_LAYERS];
    float       *params, *grads;  /* n_params floats each, same layout */
    size_t       n_params, n_weights;
    float       *arena;
    float       *z_out;           /* output-layer logits [max_batch][K] */
    float       *delta[2];        /* ping-pong [max_batch][max_width] */
    nn_rng       drop_rng;        /* dropout masks; seeded from desc.seed */
    nn_allocator alloc;
};

struct nn_optim {
    nn_optim_desc desc;           /* resolved */
    size_t        n, n_weights;   /* layout it was made for */
    float        *s1, *s2;        /* state; NULL when unused */
    long long     t;              /* steps applied */
};

#define NN__DEF(v, d) ((v) == 0 ? (d) : (v))
#define NN__PAD 16                /* floats: every buffer segment starts 64-byte aligned */

static size_t nn__pad(size_t n)
{
    return (n + NN__PAD - 1) / NN__PAD * NN__PAD;
}

static int nn__n_layers(const nn_net_desc *d)
{
    int l = 0;
    while (l < NN_MAX_LAYERS && d->layers[l].units != 0) l++;
    return l;
}

NNDEF nn_net_desc nn_net_desc_defaults(const nn_net_desc *desc)
{
    nn_net_desc d;
    int l, L;
    nn_act out_act;
    memset(&d, 0, sizeof d);
    if (!desc) return d;
    d = *desc;
    L = nn__n_layers(&d);
    d.max_batch = NN__DEF(d.max_batch, 256);
    d.seed = NN__DEF(d.seed, 0x6e6e2e68u);
    if (L == 0) return d;
    out_act = d.layers[L - 1].act;
    if (d.loss == NN_LOSS_DEFAULT)
        d.loss = out_act == NN_ACT_SOFTMAX ? NN_LOSS_SOFTMAX_CE
               : out_act == NN_ACT_SIGMOID ? NN_LOSS_BCE : NN_LOSS_MSE;
    for (l = 0; l < L; l++) {
        nn_layer_desc *ld = &d.layers[l];
        if (ld->act == NN_ACT_DEFAULT) {
            if (l < L - 1) ld->act = NN_ACT_RELU;
            else ld->act = d.loss == NN_LOSS_SOFTMAX_CE ? NN_ACT_SOFTMAX
                         : d.loss == NN_LOSS_BCE ? NN_ACT_SIGMOID : NN_ACT_IDENTITY;
        }
        if (ld->act == NN_ACT_LEAKY_RELU) ld->act_param = NN__DEF(ld->act_param, 0.01f);
        if (ld->init == NN_INIT_DEFAULT)
            ld->init = (ld->act == NN_ACT_RELU || ld->act == NN_ACT_LEAKY_RELU)
                     ? NN_INIT_HE_UNIFORM : NN_INIT_XAVIER_UNIFORM;
    }
    return d;
}

static nn_status nn__validate_desc(const nn_net_desc *d)
{
    int l, L = nn__n_layers(d);
    if (d->n_inputs <= 0 || d->n_inputs > NN_MAX_UNITS) return NN_ERR_INVALID;
    if (L == 0) return NN_ERR_INVALID;
    if (d->max_batch <= 0 || d->max_batch > NN_MAX_BATCH) return NN_ERR_INVALID;
    if ((int)d->loss <= 0 || d->loss >= NN_LOSS_COUNT) return NN_ERR_INVALID;
    if (!(d->l2 >= 0.0f && d->l2 < INFINITY)) return NN_ERR_INVALID;
    if ((d->allocator.alloc_fn == NULL) != (d->allocator.free_fn == NULL)) return NN_ERR_INVALID;
    for (l = 0; l < L; l++) {
        const nn_layer_desc *ld = &d->layers[l];
        if (ld->units < 0 || ld->units > NN_MAX_UNITS) return NN_ERR_INVALID;
        if ((int)ld->act <= 0 || ld->act >= NN_ACT_COUNT) return NN_ERR_INVALID;
        if ((int)ld->init <= 0 || ld->init >= NN_INIT_COUNT) return NN_ERR_INVALID;
        if (ld->act == NN_ACT_LEAKY_RELU && !(ld->act_param > 0.0f && ld->act_param < 1.0f))
            return NN_ERR_INVALID;
        if (!(ld->init_scale >= 0.0f && ld->init_scale < INFINITY)) return NN_ERR_INVALID;
        if (!(ld->dropout >= 0.0f && ld->dropout < 1.0f)) return NN_ERR_INVALID;
        if (l == L - 1 && ld->dropout != 0.0f) return NN_ERR_INVALID;
    }
    /* A negative units value ends nn__n_layers' count only at 0, so check the rest. */
    for (l = L; l < NN_MAX_LAYERS; l++)
        if (d->layers[l].units < 0) return NN_ERR_INVALID;
    if (d->loss == NN_LOSS_SOFTMAX_CE && d->layers[L - 1].act != NN_ACT_SOFTMAX) return NN_ERR_INVALID;
    if (d->loss == NN_LOSS_BCE && d->layers[L - 1].act != NN_ACT_SIGMOID) return NN_ERR_INVALID;
    return NN_OK;
}

/* a*b + c with overflow check; returns 0 on overflow. */
static int nn__size_mad(size_t a, size_t b, size_t c, size_t *out)
{
    if (b != 0 && a > ((size_t)-1 - c) / b) return 0;
    *out = a * b + c;
    return 1;
}

/* >>rng --------------------------------------------------------------------- */
/* splitmix64: one 64-bit state word, every seed valid, the same stream everywhere. */
NNDEF void nn_rng_seed(nn_rng *r, uint64_t seed)
{
    r->s = seed;
}

NNDEF uint64_t nn_rng_u64(nn_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

NNDEF float nn_rng_uniform(nn_rng *r)
{
    return (float)(nn_rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

/* Box-Muller in double, rounded to float: the double-precision log/cos errors are far
   below float resolution, so the same seed gives the same floats on every libm. */
NNDEF float nn_rng_normal(nn_rng *r)
{
    double u1 = ((double)(nn_rng_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0); /* (0,1] */
    double u2 = (double)(nn_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);         /* [0,1) */
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* >>init -------------------------------------------------------------------- */
static void nn__init_layer(nn__layer *ly, const nn_layer_desc *ld, nn_rng *r)
{
    size_t i, n = (size_t)ly->out * ly->in;
    double fan_in = ly->in, fan_out = ly->out;
    double a = 0.0, sd = 0.0;
    int normal = 0;
    switch (ld->init) {
    case NN_INIT_UNIFORM:        a = ld->init_scale > 0 ? ld->init_scale : 1.0 / sqrt(fan_in); break;
    case NN_INIT_XAVIER_UNIFORM: a = sqrt(6.0 / (fan_in + fan_out)); break;
    case NN_INIT_XAVIER_NORMAL:  sd = sqrt(2.0 / (fan_in + fan_out)); normal = 1; break;
    case NN_INIT_HE_UNIFORM:     a = sqrt(6.0 / fan_in); break;
    case NN_INIT_HE_NORMAL:      sd = sqrt(2.0 / fan_in); normal = 1; break;
    default: NN_ASSERT(0); break;
    }
    for (i = 0; i < n; i++)
        ly->W[i] = normal ? (float)(sd * nn_rng_normal(r))
                          : (float)(a * (2.0 * nn_rng_uniform(r) - 1.0));
    memset(ly->b, 0, sizeof(float) * (size_t)ly->out);
}

NNDEF nn_status nn_net_init_params(nn_net *net, uint64_t seed)
{
    nn_rng r;
    int l;
    if (!net) return NN_ERR_INVALID;
    nn_rng_seed(&r, seed);
    for (l = 0; l < net->n_layers; l++) nn__init_layer(&net->layer[l], &net->desc.layers[l], &r);
    return NN_OK;
}

/* >>create ------------------------------------------------------------------ */
NNDEF void nn_net_destroy(nn_net *net)
{
    nn_allocator a;
    if (!net) return;
    a = net->alloc;
    nn_simd_free(&a, net->params);
    nn_simd_free(&a, net->grads);
    nn_simd_free(&a, net->arena);
    nn_simd_free(&a, net);
}

NNDEF nn_status nn_net_create(const nn_net_desc *desc, nn_net **out)
{
    nn_net_desc d;
    nn_net *net;
    nn_status st;
    size_t off_w = 0, off_b = 0, arena = 0, mb, sz;
    int l, L, in;

    if (!desc || !out) return NN_ERR_INVALID;
    d = nn_net_desc_defaults(desc);
    if ((st = nn__validate_desc(&d)) != NN_OK) return st;
    if ((st = nn_simd_init()) != NN_OK) return st;
    L = nn__n_layers(&d);
    mb = (size_t)d.max_batch;

    net = (nn_net *)nn_simd_alloc(&d.allocator, sizeof *net);
    if (!net) return NN_ERR_NOMEM;
    memset(net, 0, sizeof *net);
    net->desc = d;
    net->alloc = d.allocator;
    net->n_layers = L;

    /* Layout: weights of every layer, then biases of every layer, each segment padded to
       64 bytes; the arena holds each layer's outputs, the output logits and two deltas. */
    in = d.n_inputs;
    for (l = 0; l < L; l++) {
        nn__layer *ly = &net->layer[l];
        ly->in = in;
        ly->out = d.layers[l].units;
        ly->act = d.layers[l].act;
        ly->act_param = d.layers[l].act_param;
        ly->drop = d.layers[l].dropout;
        if (!nn__size_mad((size_t)ly->out, (size_t)ly->in, 0, &sz) ||
            !nn__size_mad(ly->drop > 0 ? 2 * mb : 0, nn__pad((size_t)ly->out), arena, &arena) ||
            !nn__size_mad(1, nn__pad(sz), off_w, &off_w) ||
            !nn__size_mad(1, nn__pad((size_t)ly->out), off_b, &off_b) ||
            !nn__size_mad(mb, nn__pad((size_t)ly->out), arena, &arena)) {
            nn_net_destroy(net);
            return NN_ERR_NOMEM;
        }
        if (ly->out > net->max_width) net->max_width = ly->out;
        in = ly->out;
    }
    net->n_weights = off_w;
    net->n_params = off_w + off_b;
    if (net->n_params < off_w ||
        !nn__size_mad(mb, nn__pad((size_t)in), arena, &arena) ||
        !nn__size_mad(2 * mb, nn__pad((size_t)net->max_width), arena, &arena) ||
        net->n_params > ((size_t)-1) / sizeof(float) || arena > ((size_t)-1) / sizeof(float)) {
        nn_net_destroy(net);
        return NN_ERR_NOMEM;
    }
    net->params = (float *)nn_simd_alloc(&net->alloc, net->n_params * sizeof(float));
    net->grads = (float *)nn_simd_alloc(&net->alloc, net->n_params * sizeof(float));
    net->arena = (float *)nn_simd_alloc(&net->alloc, arena * sizeof(float));
    if (!net->params || !net->grads || !net->arena) {
        nn_net_destroy(net);
        return NN_ERR_NOMEM;
    }
    memset(net->params, 0, net->n_params * sizeof(float));
    memset(net->grads, 0, net->n_params * sizeof(float));
    memset(net->arena, 0, arena * sizeof(float));

    off_w = 0; off_b = net->n_weights; arena = 0;
    for (l = 0; l < L; l++) {
        nn__layer *ly = &net->layer[l];
        ly->W = net->params + off_w;  ly->dW = net->grads + off_w;
        ly->b = net->params + off_b;  ly->db = net->grads + off_b;
        ly->A = net->arena + arena;
        off_w += nn__pad((size_t)ly->out * ly->in);
        off_b += nn__pad((size_t)ly->out);
        arena += mb * nn__pad((size_t)ly->out);
        if (ly->drop > 0) {
            ly->mask = net->arena + arena;
            arena += mb * nn__pad((size_t)ly->out);
            ly->D = net->arena + arena;
            arena += mb * nn__pad((size_t)ly->out);
        }
    }
    net->z_out = net->arena + arena;
    arena += mb * nn__pad((size_t)in);
    net->delta[0] = net->arena + arena;
    arena += mb * nn__pad((size_t)net->max_width);
    net->delta[1] = net->arena + arena;

    nn_net_init_params(net, d.seed);
    nn_rng_seed(&net->drop_rng, d.seed ^ 0x64726f706f7574ull);
    *out = net;
    return NN_OK;
}

NNDEF const nn_net_desc *nn_net_get_desc(const nn_net *net)
{
    return net ? &net->desc : NULL;
}

NNDEF int nn_net_n_inputs(const nn_net *net)
{
    return net ? net->desc.n_inputs : 0;
}

NNDEF int nn_net_n_outputs(const nn_net *net)
{
    return net ? net->layer[net->n_layers - 1].out : 0;
}

NNDEF int nn_net_n_layers(const nn_net *net)
{
    return net ? net->n_layers : 0;
}

NNDEF float *nn_net_params(nn_net *net, size_t *count, size_t *n_weights)
{
    if (count) *count = net ? net->n_params : 0;
    if (n_weights) *n_weights = net ? net->n_weights : 0;
    return net ? net->params : NULL;
}

NNDEF float *nn_net_grads(nn_net *net, size_t *count, size_t *n_weights)
{
    if (count) *count = net ? net->n_params : 0;
    if (n_weights) *n_weights = net ? net->n_weights : 0;
    return net ? net->grads : NULL;
}

NNDEF nn_status nn_net_layer(nn_net *net, int l, int *in, int *out, float **W, float **b,
                             float **dW, float **db)
{
    nn__layer *ly;
    if (!net || l < 0 || l >= net->n_layers) return NN_ERR_INVALID;
    ly = &net->layer[l];
    if (in) *in = ly->in;
    if (out) *out = ly->out;
    if (W) *W = ly->W;
    if (b) *b = ly->b;
    if (dW) *dW = ly->dW;
    if (db) *db = ly->db;
    return NN_OK;
}

NNDEF nn_status nn_net_copy_params(nn_net *dst, const nn_net *src)
{
    int l;
    if (!dst || !src) return NN_ERR_INVALID;
    if (dst->n_layers != src->n_layers || dst->n_params != src->n_params) return NN_ERR_SHAPE;
    for (l = 0; l < dst->n_layers; l++)
        if (dst->layer[l].in != src->layer[l].in || dst->layer[l].out != src->layer[l].out)
            return NN_ERR_SHAPE;
    if (dst != src) memcpy(dst->params, src->params, dst->n_params * sizeof(float));
    return NN_OK;
}

/* >>forward ----------------------------------------------------------------- */
/* Z = A_prev W^T + b (GEMM NT: M=B, N=OUT, K=IN) with bias and activation fused into
   the GEMM epilogue. The output layer keeps its logits Z (the stable losses need them)
   and applies its activation separately. In training (train != 0) a layer with dropout
   also draws its mask and hands D = A * mask to the next layer. */
static void nn__dropout(nn_net *net, nn__layer *ly, int B)
{
    /* 16 random bits per unit: unit kept iff bits >= p * 65536 (p resolved to 1/65536) */
    size_t i, n = (size_t)B * ly->out;
    uint32_t thr = (uint32_t)(ly->drop * 65536.0f);
    float keep = 1.0f / (1.0f - ly->drop);
    uint64_t bits = 0;
    for (i = 0; i < n; i++) {
        if ((i & 3) == 0) bits = nn_rng_u64(&net->drop_rng);
        ly->mask[i] = ((uint32_t)(bits & 0xffff) >= thr) ? keep : 0.0f;
        ly->D[i] = ly->A[i] * ly->mask[i];
        bits >>= 16;
    }
}

/* The input the layer after ly sees. */
static const float *nn__layer_output(const nn__layer *ly, int train)
{
    return (train && ly->drop > 0) ? ly->D : ly->A;
}

static void nn__forward(nn_net *net, const float *x, int B, int train)
{
    const nn__backend *be = nn__active;
    const float *a_prev = x;
    int l, L = net->n_layers;
    for (l = 0; l < L; l++) {
        nn__layer *ly = &net->layer[l];
        if (l < L - 1) {
            be->gemm(0, 1, B, ly->out, ly->in, 1.0f, a_prev, ly->in, ly->W, ly->in, 0.0f,
                     ly->A, ly->out, ly->b, ly->act, ly->act_param);
        } else {
            size_t n = (size_t)B * ly->out;
            be->gemm(0, 1, B, ly->out, ly->in, 1.0f, a_prev, ly->in, ly->W, ly->in, 0.0f,
                     net->z_out, ly->out, ly->b, NN_ACT_IDENTITY, 0.0f);
            if (ly->act == NN_ACT_SOFTMAX) be->softmax_rows(net->z_out, ly->A, B, ly->out);
            else be->act_fwd[ly->act](net->z_out, ly->A, n, ly->act_param);
        }
        if (train && ly->drop > 0) nn__dropout(net, ly, B);
        a_prev = nn__layer_output(ly, train);
    }
}

static nn_status nn__check_batch(nn_net *net, const float *x, int batch)
{
    if (!net || !x) return NN_ERR_INVALID;
    if (batch <= 0) return NN_ERR_INVALID;
    if (batch > net->desc.max_batch) return NN_ERR_BATCH;
    if (!nn__active) return NN_ERR_BACKEND;
    return NN_OK;
}

NNDEF nn_status nn_net_forward(nn_net *net, const float *x, int batch, const float **y)
{
    nn_status st = nn__check_batch(net, x, batch);
    if (st != NN_OK) return st;
    if (!y) return NN_ERR_INVALID;
    nn__forward(net, x, batch, 0);
    *y = net->layer[net->n_layers - 1].A;
    return NN_OK;
}

/* >>loss -------------------------------------------------------------------- */
static nn_status nn__check_targets(const nn_net *net, const float *y, const int *labels, int B)
{
    int i, K = net->layer[net->n_layers - 1].out;
    if ((y == NULL) == (labels == NULL)) return NN_ERR_INVALID;
    if (labels) {
        if (net->desc.loss != NN_LOSS_SOFTMAX_CE) return NN_ERR_INVALID;
        for (i = 0; i < B; i++)
            if (labels[i] < 0 || labels[i] >= K) return NN_ERR_INVALID;
    }
    return NN_OK;
}

/* log(1 + e^x) without overflow */
static double nn__softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* Mean data loss of the batch (double accumulation); when dz is not NULL also writes the
   gradient with respect to the output layer's pre-activation, dz [B][K]. */
static double nn__loss(nn_net *net, const float *y, const int *labels, int B, float *dz)
{
    const nn__layer *ly = &net->layer[net->n_layers - 1];
    const float *A = ly->A, *Z = net->z_out;
    int i, k, K = ly->out;
    double sum = 0.0;
    switch (net->desc.loss) {
    case NN_LOSS_MSE: {
        float s = 2.0f / ((float)B * (float)K);
        for (i = 0; i < B * K; i++) {
            double e = (double)A[i] - (double)y[i];
            sum += e * e;
            if (dz) dz[i] = s * (A[i] - y[i]);
        }
        if (dz) {
            if (ly->act == NN_ACT_SOFTMAX) nn__active->softmax_bwd_rows(A, dz, dz, B, K);
            else nn__active->act_bwd[ly->act](A, dz, dz, (size_t)B * K, ly->act_param);
        }
        return sum / ((double)B * K);
    }
    case NN_LOSS_BCE: {
        /* per element max(z,0) - z y + log1p(exp(-|z|)) = softplus(z) - z y;
           d/dz = sigmoid(z) - y */
        float s = 1.0f / ((float)B * (float)K);
        for (i = 0; i < B * K; i++) {
            double z = Z[i];
            sum += nn__softplus(z) - z * (double)y[i];
            if (dz) dz[i] = s * (A[i] - y[i]);
        }
        return sum / ((double)B * K);
    }
    case NN_LOSS_SOFTMAX_CE: {
        /* per row: sum_k y_k (lse - z_k); d/dz_k = p_k sum_j y_j - y_k */
        float s = 1.0f / (float)B;
        for (i = 0; i < B; i++) {
            const float *z = Z + (size_t)i * K, *p = A + (size_t)i * K;
            float *d = dz ? dz + (size_t)i * K : NULL;
            double mx = z[0], se = 0.0, lse;
            for (k = 1; k < K; k++) mx = z[k] > mx ? z[k] : mx;
            for (k = 0; k < K; k++) se += exp((double)z[k] - mx);
            lse = mx + log(se);
            if (labels) {
                sum += lse - z[labels[i]];
                if (d) {
                    for (k = 0; k < K; k++) d[k] = s * p[k];
                    d[labels[i]] -= s;
                }
            } else {
                const float *t = y + (size_t)i * K;
                float ysum = 0.0f;
                for (k = 0; k < K; k++) {
                    sum += (double)t[k] * (lse - z[k]);
                    ysum += t[k];
                }
                if (d)
                    for (k = 0; k < K; k++) d[k] = s * (p[k] * ysum - t[k]);
            }
        }
        return sum / B;
    }
    default:
        NN_ASSERT(0);
        return 0.0;
    }
}

static double nn__l2_term(nn_net *net)
{
    if (net->desc.l2 == 0.0f) return 0.0;
    return (double)net->desc.l2 * nn__active->sumsq(net->params, net->n_weights);
}

NNDEF nn_status nn_net_loss(nn_net *net, const float *x, const float *y, const int *labels,
                            int batch, float *loss)
{
    nn_status st = nn__check_batch(net, x, batch);
    double v;
    if (st != NN_OK) return st;
    if (!loss) return NN_ERR_INVALID;
    if ((st = nn__check_targets(net, y, labels, batch)) != NN_OK) return st;
    nn__forward(net, x, batch, 0);
    v = nn__loss(net, y, labels, batch, NULL) + nn__l2_term(net);
    *loss = (float)v;
    return isfinite(*loss) ? NN_OK : NN_ERR_NONFINITE;
}

/* >>backward ---------------------------------------------------------------- */
/* The chain rule walked backwards over the layers, from dZ of the output layer:
     dW_l = dZ_l^T A_{l-1}        GEMM TN: M=OUT, N=IN, K=B
     db_l = column sums of dZ_l
     dA_{l-1} = dZ_l W_l          GEMM NN: M=B, N=IN, K=OUT   (not for l = 0)
     dZ_{l-1} = dA_{l-1} * mask_{l-1} * g'(A_{l-1})  from the stored outputs
   where A_{l-1} is replaced by the dropped-out D_{l-1} in dW_l, and mask = 1 without
   dropout. Dropout is on here: this is the training path.                          */
NNDEF nn_status nn_net_backprop(nn_net *net, const float *x, const float *y,
                                const int *labels, int batch, float *loss)
{
    const nn__backend *be;
    nn_status st = nn__check_batch(net, x, batch);
    double v;
    float *dz;
    int l, cur = 0, B = batch;
    if (st != NN_OK) return st;
    if ((st = nn__check_targets(net, y, labels, batch)) != NN_OK) return st;
    be = nn__active;

    nn__forward(net, x, B, 1);
    dz = net->delta[cur];
    v = nn__loss(net, y, labels, B, dz);
    for (l = net->n_layers - 1; l >= 0; l--) {
        nn__layer *ly = &net->layer[l];
        const float *a_prev = l > 0 ? nn__layer_output(&net->layer[l - 1], 1) : x;
        be->gemm(1, 0, ly->out, ly->in, B, 1.0f, dz, ly->out, a_prev, ly->in, 0.0f,
                 ly->dW, ly->in, NULL, NN_ACT_IDENTITY, 0.0f);
        be->col_sums(dz, B, ly->out, ly->out, ly->db);
        if (l > 0) {
            nn__layer *prev = &net->layer[l - 1];
            float *da = net->delta[cur ^ 1];
            be->gemm(0, 0, B, ly->in, ly->out, 1.0f, dz, ly->out, ly->W, ly->in, 0.0f,
                     da, ly->in, NULL, NN_ACT_IDENTITY, 0.0f);
            if (prev->drop > 0) { /* d/dA of D = A * mask */
                size_t i, n = (size_t)B * prev->out;
                for (i = 0; i < n; i++) da[i] *= prev->mask[i];
            }
            if (prev->act == NN_ACT_SOFTMAX) be->softmax_bwd_rows(prev->A, da, da, B, prev->out);
            else be->act_bwd[prev->act](prev->A, da, da, (size_t)B * prev->out, prev->act_param);
            cur ^= 1;
            dz = da;
        }
    }
    if (net->desc.l2 != 0.0f) {
        be->axpy(net->n_weights, 2.0f * net->desc.l2, net->params, net->grads);
        v += nn__l2_term(net);
    }
    if (loss) *loss = (float)v;
    return isfinite((float)v) ? NN_OK : NN_ERR_NONFINITE;
}

/* >>predict ----------------------------------------------------------------- */
NNDEF nn_status nn_net_predict(nn_net *net, const float *x, int n, float *out)
{
    int i, K, D;
    if (!net || !x || !out || n < 0) return NN_ERR_INVALID;
    if (!nn__active) return NN_ERR_BACKEND;
    K = nn_net_n_outputs(net);
    D = net->desc.n_inputs;
    for (i = 0; i < n; i += net->desc.max_batch) {
        int b = NN__MIN(net->desc.max_batch, n - i);
        nn__forward(net, x + (size_t)i * D, b, 0);
        memcpy(out + (size_t)i * K, net->layer[net->n_layers - 1].A, sizeof(float) * (size_t)b * K);
    }
    return NN_OK;
}

NNDEF nn_status nn_net_accuracy(nn_net *net, const float *x, const int *labels, int n,
                                float *accuracy)
{
    int i, r, k, K, D, right = 0;
    const nn__layer *ly;
    if (!net || !x || !labels || !accuracy || n <= 0) return NN_ERR_INVALID;
    if (!nn__active) return NN_ERR_BACKEND;
    K = nn_net_n_outputs(net);
    D = net->desc.n_inputs;
    ly = &net->layer[net->n_layers - 1];
    for (i = 0; i < n; i += net->desc.max_batch) {
        int b = NN__MIN(net->desc.max_batch, n - i);
        nn__forward(net, x + (size_t)i * D, b, 0);
        for (r = 0; r < b; r++) {
            const float *o = ly->A + (size_t)r * K;
            int pred = 0;
            if (K == 1) {
                pred = o[0] > (ly->act == NN_ACT_SIGMOID ? 0.5f : 0.0f);
            } else {
                for (k = 1; k < K; k++) if (o[k] > o[pred]) pred = k;
            }
            right += pred == labels[i + r];
        }
    }
    *accuracy = (float)right / (float)n;
    return NN_OK;
}

/* >>optim ------------------------------------------------------------------- */
/* One step from the gradient g, learning rate lr, decoupled decay wd (weights only):
     every kind first:  W <- W - lr wd W
     SGD        w <- w - lr g
     MOMENTUM   v <- gamma v + lr g;  w <- w - v
     NESTEROV   v <- gamma v + lr g;  w <- w - (gamma v + lr g)
                (the look-ahead gradient of w - gamma v, rewritten in the variables the
                 step keeps; identical trajectory to the classic form)
     ADAGRAD    s <- s + g^2;                  w <- w - lr g / (sqrt(s) + eps)
     RMSPROP    s <- rho s + (1 - rho) g^2;    w <- w - lr g / (sqrt(s) + eps)
     ADAM/W     m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  at step t = 1, 2, ...
                w <- w - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)          */
NNDEF nn_optim_desc nn_optim_desc_defaults(const nn_optim_desc *desc)
{
    nn_optim_desc d;
    memset(&d, 0, sizeof d);
    if (!desc) return d;
    d = *desc;
    d.kind = NN__DEF(d.kind, NN_OPTIM_ADAM);
    switch (d.kind) {
    case NN_OPTIM_SGD: case NN_OPTIM_MOMENTUM: case NN_OPTIM_NESTEROV: case NN_OPTIM_ADAGRAD:
        d.lr = NN__DEF(d.lr, 0.01f);
        break;
    default:
        d.lr = NN__DEF(d.lr, 0.001f);
        break;
    }
    d.momentum = NN__DEF(d.momentum, 0.9f);
    d.beta1 = NN__DEF(d.beta1, 0.9f);
    d.beta2 = NN__DEF(d.beta2, 0.999f);
    d.rho = NN__DEF(d.rho, 0.9f);
    d.eps = NN__DEF(d.eps, 1e-8f);
    if (d.kind == NN_OPTIM_ADAMW) d.weight_decay = NN__DEF(d.weight_decay, 0.01f);
    return d;
}

static int nn__in01(float v)
{
    return v >= 0.0f && v < 1.0f;
}

NNDEF nn_status nn_optim_create(const nn_net *net, const nn_optim_desc *desc, nn_optim **out)
{
    nn_optim_desc d;
    nn_optim *o;
    const nn_allocator *a;
    int two, one;
    if (!net || !desc || !out) return NN_ERR_INVALID;
    d = nn_optim_desc_defaults(desc);
    if ((int)d.kind <= 0 || d.kind >= NN_OPTIM_COUNT) return NN_ERR_INVALID;
    if (!(d.lr > 0.0f && d.lr < INFINITY) || !(d.eps > 0.0f && d.eps < INFINITY)) return NN_ERR_INVALID;
    if (!nn__in01(d.momentum) || !nn__in01(d.beta1) || !nn__in01(d.beta2) || !nn__in01(d.rho))
        return NN_ERR_INVALID;
    if (!(d.weight_decay >= 0.0f && d.weight_decay < INFINITY)) return NN_ERR_INVALID;
    if ((d.allocator.alloc_fn == NULL) != (d.allocator.free_fn == NULL)) return NN_ERR_INVALID;
    if (!d.allocator.alloc_fn) d.allocator = net->alloc;
    a = &d.allocator;
    o = (nn_optim *)nn_simd_alloc(a, sizeof *o);
    if (!o) return NN_ERR_NOMEM;
    memset(o, 0, sizeof *o);
    o->desc = d;
    o->n = net->n_params;
    o->n_weights = net->n_weights;
    one = d.kind != NN_OPTIM_SGD;
    two = d.kind == NN_OPTIM_ADAM || d.kind == NN_OPTIM_ADAMW;
    if (one) o->s1 = (float *)nn_simd_alloc(a, o->n * sizeof(float));
    if (two) o->s2 = (float *)nn_simd_alloc(a, o->n * sizeof(float));
    if ((one && !o->s1) || (two && !o->s2)) {
        nn_optim_destroy(o);
        return NN_ERR_NOMEM;
    }
    nn_optim_reset(o);
    *out = o;
    return NN_OK;
}

NNDEF void nn_optim_destroy(nn_optim *opt)
{
    nn_allocator a;
    if (!opt) return;
    a = opt->desc.allocator;
    nn_simd_free(&a, opt->s1);
    nn_simd_free(&a, opt->s2);
    nn_simd_free(&a, opt);
}

NNDEF void nn_optim_reset(nn_optim *opt)
{
    if (!opt) return;
    if (opt->s1) memset(opt->s1, 0, opt->n * sizeof(float));
    if (opt->s2) memset(opt->s2, 0, opt->n * sizeof(float));
    opt->t = 0;
}

NNDEF nn_status nn_optim_step(nn_optim *opt, nn_net *net)
{
    const nn__backend *be = nn__active;
    nn_simd_optim_args p;
    nn_simd_optim kind;
    const nn_optim_desc *d;
    size_t nw;
    if (!opt || !net) return NN_ERR_INVALID;
    if (opt->n != net->n_params || opt->n_weights != net->n_weights) return NN_ERR_SHAPE;
    if (!be) return NN_ERR_BACKEND;
    if (!be->all_finite(net->grads, net->n_params)) return NN_ERR_NONFINITE;
    d = &opt->desc;
    memset(&p, 0, sizeof p);
    p.lr = d->lr;
    p.mu = d->momentum;
    p.eps = d->eps;
    switch (d->kind) {
    case NN_OPTIM_SGD:      kind = NN_SIMD_OPTIM_SGD; break;
    case NN_OPTIM_MOMENTUM: kind = NN_SIMD_OPTIM_MOMENTUM; break;
    case NN_OPTIM_NESTEROV: kind = NN_SIMD_OPTIM_NESTEROV; break;
    case NN_OPTIM_ADAGRAD:  kind = NN_SIMD_OPTIM_ADAGRAD; break;
    case NN_OPTIM_RMSPROP:  kind = NN_SIMD_OPTIM_RMSPROP; p.beta2 = d->rho; break;
    default: {
        /* bias corrections in double: 1 - beta^t loses precision in float for small t */
        double t = (double)(opt->t + 1);
        kind = NN_SIMD_OPTIM_ADAM;
        p.beta1 = d->beta1;
        p.beta2 = d->beta2;
        p.bc1 = (float)(1.0 / (1.0 - pow((double)d->beta1, t)));
        p.bc2 = (float)(1.0 / (1.0 - pow((double)d->beta2, t)));
        break;
    }
    }
    nw = opt->n_weights;
    p.wd = d->weight_decay;
    be->optim[kind](&p, net->params, net->grads, opt->s1, opt->s2, nw);
    p.wd = 0.0f;
    be->optim[kind](&p, net->params + nw, net->grads + nw, opt->s1 ? opt->s1 + nw : NULL,
                    opt->s2 ? opt->s2 + nw : NULL, opt->n - nw);
    opt->t++;
    return NN_OK;
}

NNDEF nn_status nn_optim_set_lr(nn_optim *opt, float lr)
{
    if (!opt || !(lr > 0.0f && lr < INFINITY)) return NN_ERR_INVALID;
    opt->desc.lr = lr;
    return NN_OK;
}

NNDEF float nn_optim_get_lr(const nn_optim *opt)
{
    return opt ? opt->desc.lr : 0.0f;
}

NNDEF long long nn_optim_steps(const nn_optim *opt)
{
    return opt ? opt->t : 0;
}

NNDEF const nn_optim_desc *nn_optim_get_desc(const nn_optim *opt)
{
    return opt ? &opt->desc : NULL;
}

NNDEF nn_status nn_train_step(nn_net *net, nn_optim *opt, const float *x, const float *y,
                              const int *labels, int batch, float *loss)
{
    nn_status st;
    if (!opt) return NN_ERR_INVALID;
    if (net && (opt->n != net->n_params || opt->n_weights != net->n_weights)) return NN_ERR_SHAPE;
    st = nn_net_backprop(net, x, y, labels, batch, loss);
    if (st != NN_OK) return st;
    return nn_optim_step(opt, net);
}

/* >>train ------------------------------------------------------------------- */

/* >>io ---------------------------------------------------------------------- */

/* >>names ------------------------------------------------------------------- */
NNDEF const char *nn_loss_name(nn_loss l)
{
    static const char *const names[NN_LOSS_COUNT] = { "default", "mse", "bce", "softmax_ce" };
    return ((int)l >= 0 && l < NN_LOSS_COUNT) ? names[l] : "?";
}

NNDEF const char *nn_optim_name(nn_optim_kind k)
{
    static const char *const names[NN_OPTIM_COUNT] = {
        "default", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"
    };
    return ((int)k >= 0 && k < NN_OPTIM_COUNT) ? names[k] : "?";
}

#endif /* NN_IMPLEMENTATION */
