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
        update, W <- W - lr wd W on weights only (not biases). Not part of the loss. Every
        optimizer decays this way; torch.optim's weight_decay (except AdamW's) adds wd W to g.
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
#  if defined(NN_STATIC) && (defined(__GNUC__) || defined(__clang__))
#    define NNDEF static __attribute__((unused)) /* no warning for the calls a file does not use */
#  elif defined(NN_STATIC)
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
    int           inference_only;         /* 1: no gradient buffer and no training arena
                                             (two ping-pong activation buffers instead of
                                             one per layer): forward/predict/accuracy only;
                                             backprop, optimizers and fit give
                                             NN_ERR_INVALID */
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
    NN_OPTIM_ADADELTA,    /* Zeiler 2012; torch.optim.Adadelta's defaults */
    NN_OPTIM_ADAFACTOR,   /* Shazeer & Stern 2018: factored second moments, relative step */
    NN_OPTIM_COUNT
} nn_optim_kind;

typedef struct nn_optim_desc {
    nn_optim_kind kind;         /* 0 -> ADAM */
    float lr;                   /* 0 -> 0.01 (SGD, MOMENTUM, NESTEROV, ADAGRAD, ADAFACTOR),
                                   1 (ADADELTA), 0.001 (others) */
    float momentum;             /* gamma of MOMENTUM/NESTEROV: 0 -> 0.9 */
    float beta1, beta2;         /* ADAM/ADAMW: 0 -> 0.9, 0.999; ADAFACTOR beta1: 0 = off */
    float rho;                  /* RMSPROP, ADADELTA decay: 0 -> 0.9 */
    float eps;                  /* 0 -> 1e-8; ADADELTA 1e-6; ADAFACTOR (eps1) 1e-30 */
    float weight_decay;         /* decoupled, weights only: ADAMW 0 -> 0.01; others 0 -> none */
    float eps2;                 /* ADAFACTOR: floor of the parameter scale: 0 -> 1e-3 */
    float clip;                 /* ADAFACTOR: update clipping threshold d: 0 -> 1 */
    int   explicit_lr;          /* ADAFACTOR: 1 = step size lr itself (no relative step) */
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

/* Re-draws all weights from `seed` (biases to 0) with the same formulas as nn_net_create.
   The seed is used as given (0 is a seed like any other here; only the desc maps 0 to
   its default). */
NNDEF nn_status nn_net_init_params(nn_net *net, uint64_t seed);

/* The resolved desc the network was built from. */
NNDEF const nn_net_desc *nn_net_get_desc(const nn_net *net);
NNDEF int nn_net_n_inputs(const nn_net *net);
NNDEF int nn_net_n_outputs(const nn_net *net);
NNDEF int nn_net_n_layers(const nn_net *net);

/* The flat parameter and gradient buffers (identical layout): all weights first, then all
   biases; *count is the number of floats (including alignment padding, which stays zero:
   an update of a zero weight with a zero gradient leaves +0 or -0).
   An inference-only network has no gradients: nn_net_grads gives NULL and *count 0.
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

/* Gradient check: the gradient nn_net_backprop computes for this batch (float, dropout
   off) against centred finite differences (L(w+h) - L(w-h)) / 2h, h = 1e-5 max(1, |w|),
   of the loss evaluated in double precision from the net's float parameters. Checks every
   parameter (samples <= 0) or `samples` drawn at random from `seed`. The worst relative
   error |a - n| / max(|a|, |n|, 1e-3 gmax) (gmax: the largest |gradient| of the net) and
   where it is go to *res. A parameter whose +-h moves a unit across a kink of ReLU, leaky
   ReLU, hardtanh or sign (where the derivative jumps) is counted in res->kinks and not
   compared. Expect ~1e-6 to 1e-4 (the float gradient's rounding); over 1e-2 is a wrong
   gradient. Parameters, gradients and the dropout RNG are left as they were; the
   activations a forward pass returned are not kept. Allocates its workspace here. */
typedef struct nn_gradcheck_result {
    double max_rel_err;        /* worst relative error (0 when nothing was compared) */
    int    layer, row, col;    /* where: W[row][col] of layer, col -1 for b[row] */
    double analytic, numeric;  /* the two gradients there */
    long   checked, kinks;     /* parameters compared; skipped at a kink */
} nn_gradcheck_result;
NNDEF nn_status nn_net_gradcheck(nn_net *net, const float *x, const float *y, const int *labels,
                                 int batch, long samples, uint64_t seed,
                                 nn_gradcheck_result *res);

/* Outputs for n samples of any count (in chunks of max_batch) into out [n][n_outputs]. */
NNDEF nn_status nn_net_predict(nn_net *net, const float *x, int n, float *out);
/* Fraction of n samples classified right: argmax of the outputs against labels (a single
   output is thresholded at 0.5 for SIGMOID, 0 otherwise, against labels 0/1).
   NN_ERR_INVALID if a label is out of range. */
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
/* Scales the gradient buffer so its global L2 norm is at most max_norm (> 0). *norm
   (may be NULL) receives the norm before clipping. */
NNDEF nn_status nn_net_clip_grads(nn_net *net, float max_norm, float *norm);

typedef enum nn_schedule {
    NN_SCHEDULE_DEFAULT = 0, /* -> CONSTANT */
    NN_SCHEDULE_CONSTANT,
    NN_SCHEDULE_STEP,        /* lr * gamma^floor(epoch / step_epochs) */
    NN_SCHEDULE_EXP,         /* lr * gamma^epoch  (epoch counted fractionally, per step) */
    NN_SCHEDULE_COSINE,      /* lr_min + (lr - lr_min) (1 + cos(pi t / T)) / 2 over the run */
    NN_SCHEDULE_COUNT
} nn_schedule;

typedef enum nn_monitor {
    NN_MONITOR_DEFAULT = 0,  /* -> VAL_LOSS */
    NN_MONITOR_VAL_LOSS,     /* lower is better */
    NN_MONITOR_VAL_ACCURACY, /* higher is better */
    NN_MONITOR_COUNT
} nn_monitor;

/* One epoch of training, as reported to the callback and in the report. */
typedef struct nn_epoch_stats {
    int    epoch;            /* 1-based */
    float  train_loss;       /* mean over the epoch's batches (dropout on) */
    float  train_accuracy;   /* from the same forward passes; NaN for 1-output regression */
    float  val_loss;         /* NaN without a validation set */
    float  val_accuracy;     /* NaN without a validation set or for 1-output regression */
    float  lr;               /* learning rate at the epoch's last step */
    double seconds;          /* wall time of the epoch, validation included */
    double samples_per_sec;  /* training samples / training time */
    int    skipped_steps;    /* steps refused for non-finite gradients */
} nn_epoch_stats;

/* Data-parallel training: several processes run nn_fit together, each on part of every
   batch, and apply the same summed gradient (nn_mpi.h provides one over MPI; any
   transport will do). Every process calls nn_fit with the same arguments except the
   data in sharded mode and `rank`. The functions return 0 on success; they are
   collective (every process calls them in the same order). */
typedef struct nn_fit_comm {
    int rank, size;          /* this process, of `size` >= 1 */
    int sharded;             /* 0: every process passes all the data (the same x, y,
                                labels, n, validation set); 1: each passes its own shard */
    /* sum n floats (doubles) over the processes, in place, the same bits on all */
    int (*sum_floats)(float *buf, size_t n, void *ctx);
    int (*sum_doubles)(double *buf, size_t n, void *ctx);
    /* buf holds `count` blocks of `block` floats and process p has filled blocks
       [count p / size, count (p + 1) / size); afterwards every process holds all */
    int (*gather_floats)(float *buf, size_t block, int count, void *ctx);
    void *ctx;
} nn_fit_comm;

typedef struct nn_fit_desc {
    int   epochs;            /* 0 -> 10 */
    int   batch;             /* 0 -> min(32, max_batch); must be <= the net's max_batch */
    int   no_shuffle;        /* 0: reshuffle the training order every epoch (seeded) */
    uint64_t seed;           /* shuffling and validation split: 0 -> the net's seed + 1 */
    /* validation: either an explicit set or a held-out fraction of the training data */
    const float *val_x;      /* [val_n][n_inputs] */
    const float *val_y;      /* targets, or NULL when val_labels is given */
    const int   *val_labels;
    int   val_n;
    float val_fraction;      /* without val_x: hold out this fraction, chosen at random
                                (seeded) before training; 0 -> none */
    /* early stopping */
    int   patience;          /* stop after this many epochs without improvement: 0 -> never */
    nn_monitor monitor;      /* what improves: 0 -> validation loss */
    float min_delta;         /* smallest change that counts as improvement (>= 0) */
    int   keep_last;         /* 0: with patience, end with the best epoch's weights
                                and optimizer state (step count, moments) */
    /* learning rate: the optimizer's lr is the base; restored after fit */
    nn_schedule schedule;    /* 0 -> constant */
    float gamma;             /* STEP / EXP factor: 0 -> 0.1 (STEP), 0.95 (EXP) */
    int   step_epochs;       /* STEP period: 0 -> 10 */
    float lr_min;            /* COSINE floor: default 0 */
    int   warmup_epochs;     /* linear warm-up from lr/warmup_steps to lr: 0 -> none */
    float clip_norm;         /* clip gradients to this global norm: 0 -> no clipping */
    int   max_bad_steps;     /* consecutive non-finite steps before giving up: 0 -> 20 */
    /* reporting */
    int   quiet;             /* 0: progress on stderr (one line per epoch; refreshed in
                                place within an epoch when stderr is a terminal) */
    int (*on_epoch)(const nn_epoch_stats *stats, void *user); /* nonzero return stops */
    void *user;
    /* data parallelism (see nn_fit_comm): NULL -> one process */
    const nn_fit_comm *comm;
    int   micro_shards;      /* > 0: each batch's gradient is the sum, in a fixed order, of
                                the gradients of this many fixed parts of it: the same
                                bits for any comm->size (not with sharded data) */
} nn_fit_desc;

typedef struct nn_fit_report {
    int   epochs_run;
    int   best_epoch;        /* by the monitor (train loss without validation) */
    int   stopped_early;     /* patience ran out or on_epoch asked to stop */
    nn_epoch_stats *history; /* epochs_run entries; free with nn_fit_report_free */
    nn_allocator alloc;
} nn_fit_report;

NNDEF nn_fit_desc nn_fit_desc_defaults(const nn_fit_desc *desc, const nn_net *net);
/* Trains net with opt on n samples x [n][n_inputs] with targets y [n][n_outputs] or
   labels [n] (exactly one). Allocates its index and batch buffers (and a copy of the
   best weights and optimizer state when early stopping restores them) at the start,
   none per step. report may be NULL;
   it is zeroed first, so nn_fit_report_free(report) is safe after any return, and
   filled on NN_OK and NN_ERR_NONFINITE. Steps with non-finite gradients are skipped
   (weights untouched) and counted; after max_bad_steps in a row fit stops with
   NN_ERR_NONFINITE. */
NNDEF nn_status nn_fit(nn_net *net, nn_optim *opt, const float *x, const float *y,
                       const int *labels, int n, const nn_fit_desc *desc,
                       nn_fit_report *report);
NNDEF void nn_fit_report_free(nn_fit_report *report);
/* The learning rate fit uses at a global step (0-based) of a run with steps_per_epoch. */
NNDEF float nn_schedule_lr(const nn_fit_desc *desc, float base_lr, long long step,
                           long long steps_per_epoch);

/* k-fold cross-validation. The n samples are dealt into k folds from `seed`: shuffled,
   then with labels stratified (each class spread evenly over the folds). For each fold a
   fresh net is built from nd and trained with a fresh optimizer from od by nn_fit with fd
   on the other k-1 folds (fd->val_fraction, if any, is held out of those for early
   stopping; fd->val_x must be NULL), then evaluated on the fold. Same nd/fd seeds in
   every fold, so the folds differ by their data only. Allocates the report's folds and
   one working copy of the data at the start, and each fold's net and optimizer.
   NN_ERR_INVALID: a NULL, both or neither of y/labels, k < 2, k > n, a class with fewer
   than k samples (labels), fd->val_x set, or a desc nn_net_create / nn_optim_create /
   nn_fit refuses; their other statuses pass through. *report is zeroed first (free it
   after any return) and filled on NN_OK. */
typedef struct nn_cv_fold {
    float val_loss;          /* mean loss (with L2) on the fold after training */
    float val_accuracy;      /* NaN where nn_fit reports none (1-output regression) */
    int   epochs_run;
    int   n_val;             /* samples in the fold */
} nn_cv_fold;

typedef struct nn_cv_report {
    int   k;
    nn_cv_fold *folds;       /* k entries */
    float mean_loss, sd_loss, mean_accuracy, sd_accuracy, mean_epochs; /* sd: over k-1 */
    nn_allocator alloc;
} nn_cv_report;

NNDEF nn_status nn_cross_validate(const nn_net_desc *nd, const nn_optim_desc *od,
                                  const nn_fit_desc *fd, const float *x, const float *y,
                                  const int *labels, int n, int k, uint64_t seed,
                                  nn_cv_report *report);
NNDEF void nn_cv_report_free(nn_cv_report *report);

/* Confusion matrix of n samples: m[true][predicted], classes x classes ints (classes is
   the output count, or 2 for a single sigmoid output). Also per-class precision and recall
   (may be NULL; NaN where undefined) and overall accuracy (may be NULL). */
NNDEF nn_status nn_net_confusion(nn_net *net, const float *x, const int *labels, int n,
                                 int *matrix, float *precision, float *recall,
                                 float *accuracy);

/* >>io declarations (model files) */
/* Model files: the network description, its parameters and optionally the optimizer
   state, in a fixed little-endian binary format with a CRC-32 (layout in >>io of the
   implementation, and in the README). A file written on any platform loads to the same
   network, bit for bit.
   Loading validates everything before it allocates or touches anything: the errors are
   NN_ERR_MAGIC (not a model file), NN_ERR_VERSION (format version unknown to this build),
   NN_ERR_TRUNCATED (the data ends before the size the header states), NN_ERR_CRC,
   NN_ERR_LIMIT (sizes beyond NN_MAX_LAYERS/UNITS/BATCH or the two limits below),
   NN_ERR_CORRUPT (unknown id, invalid or non-finite value, bytes after the end), and
   NN_ERR_NOMEM / NN_ERR_IO. On any error *net_out and *opt_out are left untouched and
   nothing is leaked. The limits below may be defined before the implementing include. */
#ifndef NN_MAX_PARAMS
#  define NN_MAX_PARAMS (1L << 28)  /* real parameters (weights + biases) of a model file */
#endif
#ifndef NN_MAX_ARENA
#  define NN_MAX_ARENA  (1L << 28)  /* floats (1 GiB) of activations a loaded net may
                                       reserve: max_batch x (padded widths, x3 with dropout,
                                       + output + 2 x widest). A file is small, its max_batch
                                       is not: this bounds what a hostile file can allocate */
#endif

/* File arguments follow the rule of every call here, inputs first and outputs last:
   nn_net_save(net, opt, path) writes to path, nn_net_load(path, ..., &net, &opt) reads
   from it, as the _mem pair and nn_data_load_* do. This order stays for 1.0. */
/* Writes net (and opt's state, when opt is not NULL) to `path` atomically: a temporary
   file in the same directory is written, flushed (and fsync'ed where POSIX is
   available), closed and renamed over `path`. On any failure the temporary file is
   removed and a previous `path` is left as it was (NN_ERR_IO). Where POSIX is
   available, an existing file keeps its rwx permission bits (not its owner), and a
   symbolic link stays a link: the save goes through to the file the links end at
   (temporary file in that file's directory); a link loop is NN_ERR_IO.
   NN_ERR_NONFINITE if a parameter or state value is NaN/Inf (such a file could not be
   loaded), NN_ERR_SHAPE if opt was made for another layout, NN_ERR_LIMIT beyond the
   load limits. */
#ifndef NN_NO_STDIO
NNDEF nn_status nn_net_save(const nn_net *net, const nn_optim *opt, const char *path);
#endif
/* The same bytes into memory. *size receives the bytes needed; buf NULL only asks for
   that size. NN_ERR_INVALID (and *size set) when cap is smaller. */
NNDEF nn_status nn_net_save_mem(const nn_net *net, const nn_optim *opt, void *buf,
                                size_t cap, size_t *size);
/* Reads a whole model file (NN_ERR_LIMIT without reading if it is larger than any valid
   model can be) and parses it as nn_net_load_mem does. */
#ifndef NN_NO_STDIO
NNDEF nn_status nn_net_load(const char *path, const nn_allocator *alloc, nn_net **net_out,
                            nn_optim **opt_out);
#endif
/* Builds a network (with nn_net_create, through `alloc`, NULL for the default) from the
   `size` bytes at buf, which must be exactly one model: trailing bytes are NN_ERR_CORRUPT.
   opt_out NULL ignores any optimizer state; otherwise *opt_out receives an optimizer with
   the saved hyperparameters, step count and state (training resumes bit-identically), or
   NULL (and NN_OK) when the file has no optimizer state. buf is not retained. The
   network is always a full, trainable one: inference_only is a run-time choice, not
   part of the file. */
NNDEF nn_status nn_net_load_mem(const void *buf, size_t size, const nn_allocator *alloc,
                                nn_net **net_out, nn_optim **opt_out);

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
    double      *row_loss;        /* arena: loss of each row of a batch [max_batch] */
    float       *delta[2];        /* ping-pong [max_batch][max_width] */
    nn_rng       drop_rng;        /* dropout masks; seeded from desc.seed */
    const int   *drop_ids;        /* nn_fit: the batch's sample indices (masks keyed by */
    uint64_t     drop_key;        /*   drop_key and index); NULL: a fresh key per pass */
    int          loss_rows;       /* nn_fit: the whole batch's rows when backprop takes a
                                     part of it (means over them); 0: the part itself */
    nn_allocator alloc;
    nn__gemm_ws  gws;             /* GEMM packing workspace, grown on first use */
};

struct nn_optim {
    nn_optim_desc desc;           /* resolved */
    size_t        n, n_weights;   /* layout it was made for */
    int           n_layers;
    int           shape[NN_MAX_LAYERS][2]; /* in, out of every layer */
    float        *s1, *s2;        /* state; NULL when unused */
    float        *fac;            /* ADAFACTOR: per layer R [out], C [in], bias v [out] */
    size_t        n_fac;
    double       *acc;            /* ADAFACTOR: column sums, [widest layer input] */
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
    nn_simd_free(&a, net->gws.p);
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
    net->gws.alloc = d.allocator;
    net->n_layers = L;

    /* Layout: weights of every layer, then biases of every layer, each segment padded to
       64 bytes; the arena holds each layer's outputs, the output logits and two deltas.
       Inference-only: two activation buffers used in turn, the logits, nothing else. */
    in = d.n_inputs;
    for (l = 0; l < L; l++) {
        nn__layer *ly = &net->layer[l];
        ly->in = in;
        ly->out = d.layers[l].units;
        ly->act = d.layers[l].act;
        ly->act_param = d.layers[l].act_param;
        ly->drop = d.inference_only ? 0.0f : d.layers[l].dropout;
        if (!nn__size_mad((size_t)ly->out, (size_t)ly->in, 0, &sz) ||
            !nn__size_mad(ly->drop > 0 ? 2 * mb : 0, nn__pad((size_t)ly->out), arena, &arena) ||
            !nn__size_mad(1, nn__pad(sz), off_w, &off_w) ||
            !nn__size_mad(1, nn__pad((size_t)ly->out), off_b, &off_b) ||
            !nn__size_mad(d.inference_only ? 0 : mb, nn__pad((size_t)ly->out), arena, &arena)) {
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
        !nn__size_mad(1, nn__pad(2 * mb), arena, &arena) ||     /* row losses (double) */
        !nn__size_mad(2 * mb, nn__pad((size_t)net->max_width), arena, &arena) || /* deltas, or
                                                            the inference ping-pong pair */
        net->n_params > ((size_t)-1) / sizeof(float) || arena > ((size_t)-1) / sizeof(float)) {
        nn_net_destroy(net);
        return NN_ERR_NOMEM;
    }
    net->params = (float *)nn_simd_alloc(&net->alloc, net->n_params * sizeof(float));
    if (!d.inference_only)
        net->grads = (float *)nn_simd_alloc(&net->alloc, net->n_params * sizeof(float));
    net->arena = (float *)nn_simd_alloc(&net->alloc, arena * sizeof(float));
    if (!net->params || (!net->grads && !d.inference_only) || !net->arena) {
        nn_net_destroy(net);
        return NN_ERR_NOMEM;
    }
    memset(net->params, 0, net->n_params * sizeof(float));
    if (net->grads) memset(net->grads, 0, net->n_params * sizeof(float));
    memset(net->arena, 0, arena * sizeof(float));

    off_w = 0; off_b = net->n_weights; arena = 0;
    for (l = 0; l < L; l++) {
        nn__layer *ly = &net->layer[l];
        ly->W = net->params + off_w;  ly->dW = net->grads ? net->grads + off_w : NULL;
        ly->b = net->params + off_b;  ly->db = net->grads ? net->grads + off_b : NULL;
        off_w += nn__pad((size_t)ly->out * ly->in);
        off_b += nn__pad((size_t)ly->out);
        if (d.inference_only) continue; /* A is set below */
        ly->A = net->arena + arena;
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
    net->row_loss = (double *)(void *)(net->arena + arena);
    arena += nn__pad(2 * mb);
    net->delta[0] = net->arena + arena;
    arena += mb * nn__pad((size_t)net->max_width);
    net->delta[1] = net->arena + arena;
    if (d.inference_only) {
        for (l = 0; l < L; l++) net->layer[l].A = net->delta[l & 1];
        net->delta[0] = net->delta[1] = NULL;
    }

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
    if (count) *count = (net && net->grads) ? net->n_params : 0;
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
    /* 16 random bits per unit: unit kept iff bits >= p * 65536 (p resolved to 1/65536).
       Row r's bits come from a stream keyed by (pass key, layer, sample id): in nn_fit
       the id is the sample's index in the data set and the key is the epoch's, so a
       sample's mask does not depend on its place in the batch or on which process
       computes it. */
    const uint64_t key = net->drop_ids ? net->drop_key : nn_rng_u64(&net->drop_rng);
    const uint32_t thr = (uint32_t)(ly->drop * 65536.0f);
    const float keep = 1.0f / (1.0f - ly->drop);
    const uint64_t lkey = key ^ (0xd6e8feb86659fd93ull * (uint64_t)(ly - net->layer + 1));
    int r, j;
    for (r = 0; r < B; r++) {
        const uint64_t id = (uint64_t)(net->drop_ids ? net->drop_ids[r] : r);
        const size_t o = (size_t)r * ly->out;
        uint64_t bits = 0;
        nn_rng rr;
        nn_rng_seed(&rr, lkey + 0x9e3779b97f4a7c15ull * id);
        rr.s = nn_rng_u64(&rr); /* decorrelate neighbouring ids */
        for (j = 0; j < ly->out; j++) {
            if ((j & 3) == 0) bits = nn_rng_u64(&rr);
            ly->mask[o + j] = ((uint32_t)(bits & 0xffff) >= thr) ? keep : 0.0f;
            ly->D[o + j] = ly->A[o + j] * ly->mask[o + j];
            bits >>= 16;
        }
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
                     ly->A, ly->out, ly->b, ly->act, ly->act_param, &net->gws);
        } else {
            size_t n = (size_t)B * ly->out;
            be->gemm(0, 1, B, ly->out, ly->in, 1.0f, a_prev, ly->in, ly->W, ly->in, 0.0f,
                     net->z_out, ly->out, ly->b, NN_ACT_IDENTITY, 0.0f, &net->gws);
            if (ly->act == NN_ACT_SOFTMAX) nn_simd_softmax_rows(net->z_out, ly->A, B, ly->out);
            else nn_simd_act_forward(ly->act, ly->act_param, net->z_out, ly->A, n);
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

/* Work-sharing the loss: rows are independent, so the threads split the batch into
   contiguous row ranges; each row's loss is summed in double within the row, and the
   row losses in row order by the caller, so the value does not depend on the thread
   count. The per-element cost is counted in cheap element-wise units (a double exp and
   a log per softmax row). */
#define NN__LOSS_COST 64.0

typedef struct nn__loss_job {
    const nn_net *net;
    const float *y;
    const int *labels;
    float *dz;
    double *rl; /* [B] loss of each row */
    int B;
    float div;  /* the means' row count: B, or nn_fit's whole batch (net->loss_rows) */
} nn__loss_job;

static void nn__loss_rows(const nn__loss_job *J, int r0, int r1)
{
    const nn__layer *ly = &J->net->layer[J->net->n_layers - 1];
    const float *Z = J->net->z_out;
    const float *y = J->y;
    float *dz = J->dz;
    const int K = ly->out;
    const float B = J->div;
    int i, k;
    for (i = r0; i < r1; i++) {
        const size_t o = (size_t)i * K;
        const float *z = Z + o, *p = ly->A + o;
        float *d = dz ? dz + o : NULL;
        double sum = 0.0;
        switch (J->net->desc.loss) {
        case NN_LOSS_MSE: {
            const float s = 2.0f / (B * (float)K);
            for (k = 0; k < K; k++) {
                double e = (double)p[k] - (double)y[o + k];
                sum += e * e;
                if (d) d[k] = s * (p[k] - y[o + k]);
            }
            break;
        }
        case NN_LOSS_BCE: {
            /* per element max(z,0) - z y + log1p(exp(-|z|)) = softplus(z) - z y;
               d/dz = sigmoid(z) - y */
            const float s = 1.0f / (B * (float)K);
            for (k = 0; k < K; k++) {
                sum += nn__softplus((double)z[k]) - (double)z[k] * (double)y[o + k];
                if (d) d[k] = s * (p[k] - y[o + k]);
            }
            break;
        }
        case NN_LOSS_SOFTMAX_CE: {
            /* sum_k y_k (lse - z_k); d/dz_k = p_k sum_j y_j - y_k. lse - z_k is formed as
               (max - z_k) + log(se): adding log(se) (at most log K) to a huge max first
               would round it away */
            const float s = 1.0f / B;
            double mx = z[0], se = 0.0, lse;
            for (k = 1; k < K; k++) mx = z[k] > mx ? z[k] : mx;
            for (k = 0; k < K; k++) se += exp((double)z[k] - mx);
            lse = log(se);
            if (J->labels) {
                const int c = J->labels[i];
                sum = (mx - z[c]) + lse;
                if (d) {
                    for (k = 0; k < K; k++) d[k] = s * p[k];
                    d[c] -= s;
                }
            } else {
                const float *t = y + o;
                float ysum = 0.0f;
                for (k = 0; k < K; k++) {
                    sum += (double)t[k] * ((mx - z[k]) + lse);
                    ysum += t[k];
                }
                if (d)
                    for (k = 0; k < K; k++) d[k] = s * (p[k] * ysum - t[k]);
            }
            break;
        }
        default:
            NN_ASSERT(0);
            break;
        }
        J->rl[i] = sum;
    }
}

static void nn__loss_part(void *ctx, int tid, int nt)
{
    const nn__loss_job *J = (const nn__loss_job *)ctx;
    nn__loss_rows(J, (int)((long long)J->B * tid / nt), (int)((long long)J->B * (tid + 1) / nt));
}

/* Mean data loss of the batch (double accumulation); when dz is not NULL also writes the
   gradient with respect to the output layer's pre-activation, dz [B][K]. */
static double nn__loss(nn_net *net, const float *y, const int *labels, int B, float *dz)
{
    const nn__layer *ly = &net->layer[net->n_layers - 1];
    const int K = ly->out;
    nn__loss_job J;
    double sum = 0.0;
    int i;
    const double div = net->loss_rows > 0 ? net->loss_rows : B;
    J.net = net; J.y = y; J.labels = labels; J.dz = dz; J.rl = net->row_loss; J.B = B;
    J.div = (float)div;
    nn__simd_parallel(nn__loss_part, &J, (double)B * K * NN__LOSS_COST, B);
    for (i = 0; i < B; i++) sum += J.rl[i];
    if (net->desc.loss == NN_LOSS_SOFTMAX_CE) return sum / div;
    if (dz && net->desc.loss == NN_LOSS_MSE) {
        if (ly->act == NN_ACT_SOFTMAX) nn_simd_softmax_backward_rows(ly->A, dz, dz, B, K);
        else nn_simd_act_backward(ly->act, ly->act_param, ly->A, dz, dz, (size_t)B * K);
    }
    return sum / (div * K);
}

static double nn__l2_term(nn_net *net)
{
    if (net->desc.l2 == 0.0f) return 0.0;
    return (double)net->desc.l2 * nn_simd_sumsq(net->params, net->n_weights);
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
/* Layer ly's weight gradient and bias sums, from dz and the layer's input a_prev. */
static void nn__bwd_weights(nn_net *net, nn__layer *ly, const float *dz, const float *a_prev,
                            int B)
{
    nn__active->gemm(1, 0, ly->out, ly->in, B, 1.0f, dz, ly->out, a_prev, ly->in, 0.0f,
                     ly->dW, ly->in, NULL, NN_ACT_IDENTITY, 0.0f, &net->gws);
    nn_simd_col_sums(dz, B, ly->out, ly->out, ly->db);
}

/* The gradient into the layer below layer l (l > 0), through its dropout mask and
   activation derivative: da = (dz W) * mask * g'(A). */
static void nn__bwd_data(nn_net *net, int l, const float *dz, float *da, int B, int train)
{
    const nn__layer *ly = &net->layer[l], *prev = &net->layer[l - 1];
    nn__active->gemm(0, 0, B, ly->in, ly->out, 1.0f, dz, ly->out, ly->W, ly->in, 0.0f, da,
                     ly->in, NULL, NN_ACT_IDENTITY, 0.0f, &net->gws);
    if (train && prev->drop > 0) { /* d/dA of D = A * mask */
        size_t i, n = (size_t)B * prev->out;
        for (i = 0; i < n; i++) da[i] *= prev->mask[i];
    }
    if (prev->act == NN_ACT_SOFTMAX) nn_simd_softmax_backward_rows(prev->A, da, da, B, prev->out);
    else nn_simd_act_backward(prev->act, prev->act_param, prev->A, da, da, (size_t)B * prev->out);
}

/* The chain rule walked backwards over the layers, from dZ of the output layer:
     dW_l = dZ_l^T A_{l-1}        GEMM TN: M=OUT, N=IN, K=B
     db_l = column sums of dZ_l
     dA_{l-1} = dZ_l W_l          GEMM NN: M=B, N=IN, K=OUT   (not for l = 0)
     dZ_{l-1} = dA_{l-1} * mask_{l-1} * g'(A_{l-1})  from the stored outputs
   where A_{l-1} is replaced by the dropped-out D_{l-1} in dW_l, and mask = 1 without
   dropout. Dropout is on (train 1) on the training path; the gradient check turns it
   off (train 0: the gradient of the loss nn_net_loss computes).                    */
static nn_status nn__backprop(nn_net *net, const float *x, const float *y,
                              const int *labels, int batch, float *loss, int train)
{
    nn_status st = nn__check_batch(net, x, batch);
    double v;
    float *dz;
    int l, cur = 0, B = batch;
    if (st != NN_OK) return st;
    if (!net->grads) return NN_ERR_INVALID; /* inference-only network */
    if ((st = nn__check_targets(net, y, labels, batch)) != NN_OK) return st;

    nn__forward(net, x, B, train);
    dz = net->delta[cur];
    v = nn__loss(net, y, labels, B, dz);
    for (l = net->n_layers - 1; l >= 0; l--) {
        const float *a_prev = l > 0 ? nn__layer_output(&net->layer[l - 1], train) : x;
        nn__bwd_weights(net, &net->layer[l], dz, a_prev, B);
        if (l > 0) {
            float *da = net->delta[cur ^ 1];
            nn__bwd_data(net, l, dz, da, B, train);
            cur ^= 1;
            dz = da;
        }
    }
    if (net->desc.l2 != 0.0f) {
        /* a part of nn_fit's batch carries its share of the penalty */
        const double share = net->loss_rows > 0 ? (double)B / net->loss_rows : 1.0;
        nn_simd_axpy(net->n_weights, (float)(2.0 * net->desc.l2 * share), net->params, net->grads);
        v += nn__l2_term(net) * share;
    }
    if (loss) *loss = (float)v;
    return isfinite((float)v) ? NN_OK : NN_ERR_NONFINITE;
}

static nn_status nn__backprop_step(nn_net *net, nn_optim *opt, const float *x, const float *y,
                                   const int *labels, int batch, float *loss)
{
    nn_status st = nn__backprop(net, x, y, labels, batch, loss, 1);
    if (st == NN_OK && opt) st = nn_optim_step(opt, net);
    return st;
}

NNDEF nn_status nn_net_backprop(nn_net *net, const float *x, const float *y,
                                const int *labels, int batch, float *loss)
{
    return nn__backprop_step(net, NULL, x, y, labels, batch, loss);
}

/* >>gradcheck --------------------------------------------------------------- */
/* Test hook (tests define NN_TEST_GRADCHECK_HOOK): called on the analytic gradient
   before the comparison, so a test can plant a wrong one. */
#ifdef NN_TEST_GRADCHECK_HOOK
static void (*nn__gradcheck_hook)(nn_net *net);
#endif

/* The double-precision model of a net: its input, every hidden layer's outputs and the
   piece (side of a kink) of every hidden unit at the unperturbed parameters, and two
   ping-pong buffers for the layers above a perturbed one. */
typedef struct nn__gc {
    const nn_net *net;
    const float *y;
    const int *labels;
    int B;
    double *xin, *hid[NN_MAX_LAYERS], *buf[2];
    unsigned char *piece[NN_MAX_LAYERS];
} nn__gc;

static double nn__gc_act(nn_act a, double z, double p, unsigned char *piece)
{
    *piece = 0;
    switch (a) {
    case NN_ACT_SIGMOID:    return 1.0 / (1.0 + exp(-z));
    case NN_ACT_TANH:       return tanh(z);
    case NN_ACT_RELU:       *piece = z > 0; return z > 0 ? z : 0.0;
    case NN_ACT_LEAKY_RELU: *piece = z > 0; return z > 0 ? z : p * z;
    case NN_ACT_HARDTANH:   *piece = z < -1 ? 0 : z > 1 ? 2 : 1; return z < -1 ? -1 : z > 1 ? 1 : z;
    case NN_ACT_SIGN:       *piece = z < 0 ? 0 : z > 0 ? 2 : 1; return z < 0 ? -1 : z > 0 ? 1 : 0;
    default:                return z;
    }
}

/* In-place softmax of the B rows of K values at v. */
static void nn__gc_softmax(double *v, int B, int K)
{
    int i, k;
    for (i = 0; i < B; i++, v += K) {
        double mx = v[0], s = 0;
        for (k = 1; k < K; k++) mx = v[k] > mx ? v[k] : mx;
        for (k = 0; k < K; k++) s += (v[k] = exp(v[k] - mx));
        for (k = 0; k < K; k++) v[k] /= s;
    }
}

/* The data loss (no L2) with parameter k of layer l0 (W row-major, then b) moved by dw,
   from the cached input of l0 up. l0 = L (no layer) caches every hidden layer instead.
   *kink: a hidden unit ended on another piece than at the unperturbed point. */
static double nn__gc_loss(nn__gc *g, int l0, size_t k, double dw, int *kink)
{
    const nn_net *net = g->net;
    const int L = net->n_layers, B = g->B, base = l0 >= L;
    const double *in = base ? g->xin : l0 == 0 ? g->xin : g->hid[l0 - 1];
    double *z = NULL, sum = 0.0;
    int l, i, j, r, K, cur = 0;
    *kink = 0;
    for (l = base ? 0 : l0; l < L; l++) {
        const nn__layer *ly = &net->layer[l];
        double *o = (base && l < L - 1) ? g->hid[l] : g->buf[cur];
        for (r = 0; r < B; r++) {
            const double *a = in + (size_t)r * ly->in;
            for (i = 0; i < ly->out; i++) {
                const float *w = ly->W + (size_t)i * ly->in;
                double v = (double)ly->b[i];
                for (j = 0; j < ly->in; j++) v += (double)w[j] * a[j];
                if (l == l0) {
                    if (k < (size_t)ly->out * ly->in) {
                        if (k / ly->in == (size_t)i) v += dw * a[k % ly->in];
                    } else if (k - (size_t)ly->out * ly->in == (size_t)i) {
                        v += dw;
                    }
                }
                if (l < L - 1 && ly->act != NN_ACT_SOFTMAX) {
                    unsigned char pc;
                    v = nn__gc_act(ly->act, v, ly->act_param, &pc);
                    if (base) g->piece[l][(size_t)r * ly->out + i] = pc;
                    else if (pc != g->piece[l][(size_t)r * ly->out + i]) *kink = 1;
                }
                o[(size_t)r * ly->out + i] = v;
            }
        }
        if (l < L - 1 && ly->act == NN_ACT_SOFTMAX) nn__gc_softmax(o, B, ly->out);
        in = o;
        z = o;
        if (!(base && l < L - 1)) cur ^= 1;
    }
    /* z: the output logits [B][K] */
    K = net->layer[L - 1].out;
    if (net->desc.loss == NN_LOSS_SOFTMAX_CE) {
        for (r = 0; r < B; r++) {
            const double *zr = z + (size_t)r * K;
            double mx = zr[0], se = 0.0, lse;
            for (i = 1; i < K; i++) mx = zr[i] > mx ? zr[i] : mx;
            for (i = 0; i < K; i++) se += exp(zr[i] - mx);
            lse = mx + log(se);
            if (g->labels) sum += lse - zr[g->labels[r]];
            else for (i = 0; i < K; i++) sum += (double)g->y[(size_t)r * K + i] * (lse - zr[i]);
        }
        return sum / B;
    }
    if (net->desc.loss == NN_LOSS_BCE) {
        for (i = 0; i < B * K; i++) sum += nn__softplus(z[i]) - z[i] * (double)g->y[i];
        return sum / ((double)B * K);
    }
    if (net->layer[L - 1].act == NN_ACT_SOFTMAX) {
        nn__gc_softmax(z, B, K);
    } else {
        unsigned char pc;
        const nn__layer *ly = &net->layer[L - 1];
        for (i = 0; i < B * K; i++) z[i] = nn__gc_act(ly->act, z[i], ly->act_param, &pc);
    }
    for (i = 0; i < B * K; i++) sum += (z[i] - g->y[i]) * (z[i] - g->y[i]);
    return sum / ((double)B * K);
}

NNDEF nn_status nn_net_gradcheck(nn_net *net, const float *x, const float *y, const int *labels,
                                 int batch, long samples, uint64_t seed,
                                 nn_gradcheck_result *res)
{
    nn__gc g;
    nn_status st;
    nn_rng rng, drop_rng;
    float *saved, loss;
    double *ws, gmax = 0.0;
    size_t i, total = 0, nd, P = 0, nps = 0;
    long s, count;
    int l, L;
    if (!res) return NN_ERR_INVALID;
    memset(res, 0, sizeof *res);
    res->layer = res->row = res->col = -1;
    if ((st = nn__check_batch(net, x, batch)) != NN_OK) return st;
    if (!net->grads) return NN_ERR_INVALID;
    if ((st = nn__check_targets(net, y, labels, batch)) != NN_OK) return st;
    L = net->n_layers;
    nd = (size_t)batch * ((size_t)net->desc.n_inputs + 2 * (size_t)net->max_width);
    for (l = 0; l < L; l++) {
        P += (size_t)net->layer[l].out * ((size_t)net->layer[l].in + 1);
        if (l < L - 1) {   /* hidden outputs, and their pieces */
            nd += (size_t)batch * net->layer[l].out;
            nps += (size_t)batch * net->layer[l].out;
        }
    }
    total = nd * sizeof(double) + net->n_params * sizeof(float) + nps;
    ws = (double *)nn_simd_alloc(&net->alloc, total);
    if (!ws) return NN_ERR_NOMEM;
    saved = (float *)(ws + nd);
    memcpy(saved, net->grads, net->n_params * sizeof(float));
    drop_rng = net->drop_rng;
    st = nn__backprop(net, x, y, labels, batch, &loss, 0);
#ifdef NN_TEST_GRADCHECK_HOOK
    if (nn__gradcheck_hook) nn__gradcheck_hook(net);
#endif
    if (st == NN_OK) {
        double *d = ws;
        unsigned char *pc = (unsigned char *)(saved + net->n_params);
        int kink;
        g.net = net; g.y = y; g.labels = labels; g.B = batch;
        g.xin = d; d += (size_t)batch * net->desc.n_inputs;
        for (l = 0; l < L - 1; l++) {
            g.hid[l] = d; d += (size_t)batch * net->layer[l].out;
            g.piece[l] = pc; pc += (size_t)batch * net->layer[l].out;
        }
        g.buf[0] = d; d += (size_t)batch * net->max_width;
        g.buf[1] = d;
        for (i = 0; i < (size_t)batch * net->desc.n_inputs; i++) g.xin[i] = x[i];
        (void)nn__gc_loss(&g, L, 0, 0.0, &kink);   /* caches the hidden layers and pieces */
        for (i = 0; i < net->n_params; i++) gmax = NN__MAX(gmax, fabs((double)net->grads[i]));
        nn_rng_seed(&rng, seed);
        count = samples <= 0 || (size_t)samples >= P ? (long)P : samples;
        for (s = 0; s < count; s++) {
            size_t k = count == (long)P ? (size_t)s : (size_t)(nn_rng_u64(&rng) % P), nl;
            const nn__layer *ly;
            float *wp;
            double w, h, a, num, den, err, kw;
            int k1, k2;
            for (l = 0; ; l++) {   /* k: index among the real parameters -> layer, offset */
                nl = (size_t)net->layer[l].out * ((size_t)net->layer[l].in + 1);
                if (k < nl) break;
                k -= nl;
            }
            ly = &net->layer[l];
            kw = (double)ly->out * ly->in;
            wp = k < (size_t)kw ? ly->W + k : ly->b + (k - (size_t)kw);
            w = *wp;
            h = 1e-5 * NN__MAX(1.0, fabs(w));
            num = (nn__gc_loss(&g, l, k, h, &k1) - nn__gc_loss(&g, l, k, -h, &k2)) / (2 * h);
            if (k < (size_t)kw && net->desc.l2 != 0.0f)   /* L2: d/dw of l2 w^2, as a difference */
                num += (double)net->desc.l2 * ((w + h) * (w + h) - (w - h) * (w - h)) / (2 * h);
            if (k1 || k2) { res->kinks++; continue; }
            a = net->grads[wp - net->params];
            den = NN__MAX(NN__MAX(fabs(a), fabs(num)), 1e-3 * gmax);
            err = den > 0 ? fabs(a - num) / den : 0.0;
            res->checked++;
            if (err > res->max_rel_err || res->layer < 0) {
                res->max_rel_err = err;
                res->layer = l;
                res->row = k < (size_t)kw ? (int)(k / ly->in) : (int)(k - (size_t)kw);
                res->col = k < (size_t)kw ? (int)(k % ly->in) : -1;
                res->analytic = a;
                res->numeric = num;
            }
        }
    }
    memcpy(net->grads, saved, net->n_params * sizeof(float));
    net->drop_rng = drop_rng;
    nn_simd_free(&net->alloc, ws);
    return st;
}

/* >>predict ----------------------------------------------------------------- */
NNDEF nn_status nn_net_predict(nn_net *net, const float *x, int n, float *out)
{
    int i, K, D;
    if (!net || !x || !out || n <= 0) return NN_ERR_INVALID;
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
    for (i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= (K == 1 ? 2 : K)) return NN_ERR_INVALID;
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
                MOMENTUM and NESTEROV keep lr in v: torch.optim's v <- gamma v + g,
                w <- w - lr v differs once lr changes (schedules, warm-up)
     ADAGRAD    s <- s + g^2;                  w <- w - lr g / (sqrt(s) + eps)
     RMSPROP    s <- rho s + (1 - rho) g^2;    w <- w - lr g / (sqrt(s) + eps)
     ADAM/W     m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  at step t = 1, 2, ...
                w <- w - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
     ADADELTA   s <- rho s + (1 - rho) g^2;  u = sqrt(d + eps) / sqrt(s + eps) g;
                d <- rho d + (1 - rho) u^2;  w <- w - lr u
                (Zeiler 2012 with lr; defaults lr 1, rho 0.9, eps 1e-6 as torch.optim.Adadelta,
                 whose weight_decay is an L2 term in g: here it is decoupled as above)
     ADAFACTOR  per parameter tensor X (a layer's W [n][m], or its b [n]), at step t:
                b2 = 1 - t^-0.8;  rho_t = min(lr, 1/sqrt(t));  Q = G^2 + eps1
                a = max(eps2, RMS(X)) rho_t  (explicit_lr: a = lr, no RMS scale);
                defaults are the paper's: lr 0.01, eps1 1e-30, eps2 1e-3, clip 1, beta1 0
                W: R <- b2 R + (1-b2) Q 1_m (row sums);  C <- b2 C + (1-b2) 1_n^T Q (column
                   sums);  V = R C^T / sum(R)          b: V <- b2 V + (1-b2) Q (unfactored)
                U = G / sqrt(V);  U <- U / max(1, RMS(U) / clip);  with beta1 > 0:
                m <- b1 m + (1-b1) U, U = m;  then X <- X - a wd X (weights) and X <- X - a U.
                This is the paper's Algorithm 4/5 as fairseq and Hugging Face write it (eps1
                inside Q, update clipping, decay scaled by a). torch.optim.Adafactor (>= 2.5)
                differs: no update clipping, eps1 as a floor max(sqrt(V), eps1) and
                max(sum(R), eps1) instead of added to G^2, decay scaled by lr. State: a
                layer's W keeps n + m floats instead of Adam's 2 n m. Written in scalar
                loops on one thread (sums in double): it does not use the kernels or
                threads, so it is the same on every backend and thread count.   */
NNDEF nn_optim_desc nn_optim_desc_defaults(const nn_optim_desc *desc)
{
    nn_optim_desc d;
    memset(&d, 0, sizeof d);
    if (!desc) return d;
    d = *desc;
    d.kind = NN__DEF(d.kind, NN_OPTIM_ADAM);
    switch (d.kind) {
    case NN_OPTIM_SGD: case NN_OPTIM_MOMENTUM: case NN_OPTIM_NESTEROV: case NN_OPTIM_ADAGRAD:
    case NN_OPTIM_ADAFACTOR:
        d.lr = NN__DEF(d.lr, 0.01f);
        break;
    case NN_OPTIM_ADADELTA:
        d.lr = NN__DEF(d.lr, 1.0f);
        break;
    default:
        d.lr = NN__DEF(d.lr, 0.001f);
        break;
    }
    d.momentum = NN__DEF(d.momentum, 0.9f);
    if (d.kind != NN_OPTIM_ADAFACTOR) d.beta1 = NN__DEF(d.beta1, 0.9f);
    d.beta2 = NN__DEF(d.beta2, 0.999f);
    d.rho = NN__DEF(d.rho, 0.9f);
    d.eps = NN__DEF(d.eps, d.kind == NN_OPTIM_ADADELTA ? 1e-6f :
                           d.kind == NN_OPTIM_ADAFACTOR ? 1e-30f : 1e-8f);
    d.eps2 = NN__DEF(d.eps2, 1e-3f);
    d.clip = NN__DEF(d.clip, 1.0f);
    if (d.kind == NN_OPTIM_ADAMW) d.weight_decay = NN__DEF(d.weight_decay, 0.01f);
    return d;
}

/* Full-size state buffers of a resolved desc: ADAM/ADAMW m and v, ADADELTA E[g^2] and
   E[dx^2], ADAFACTOR m only with beta1 (its second moments are in opt->fac). */
static int nn__state_buffers(const nn_optim_desc *d)
{
    switch (d->kind) {
    case NN_OPTIM_SGD: return 0;
    case NN_OPTIM_ADAM: case NN_OPTIM_ADAMW: case NN_OPTIM_ADADELTA: return 2;
    case NN_OPTIM_ADAFACTOR: return d->beta1 > 0.0f ? 1 : 0;
    default: return 1;
    }
}

/* Whether opt was created for a network of net's exact layer shapes. */
static int nn__same_layout(const nn_optim *opt, const nn_net *net)
{
    int l;
    if (opt->n != net->n_params || opt->n_weights != net->n_weights || opt->n_layers != net->n_layers)
        return 0;
    for (l = 0; l < net->n_layers; l++)
        if (opt->shape[l][0] != net->layer[l].in || opt->shape[l][1] != net->layer[l].out) return 0;
    return 1;
}

/* Floats of optimizer state (s1, s2, Adafactor's factors); nn__optim_copy_state copies them and the step
   count between opt and a buffer of that size (to_opt 1: buffer -> opt). nn_fit keeps
   the best epoch's state with its weights. */
static size_t nn__optim_state_floats(const nn_optim *opt)
{
    return (opt->s1 ? opt->n : 0) + (opt->s2 ? opt->n : 0) + (opt->fac ? opt->n_fac : 0);
}

static void nn__optim_copy_state(nn_optim *opt, float *buf, long long *t, int to_opt)
{
    float *s[2];
    int k;
    s[0] = opt->s1;
    s[1] = opt->s2;
    for (k = 0; k < 2; k++) {
        if (!s[k]) continue;
        if (to_opt) memcpy(s[k], buf, sizeof(float) * opt->n);
        else memcpy(buf, s[k], sizeof(float) * opt->n);
        buf += opt->n;
    }
    if (opt->fac) {
        if (to_opt) memcpy(opt->fac, buf, sizeof(float) * opt->n_fac);
        else memcpy(buf, opt->fac, sizeof(float) * opt->n_fac);
    }
    if (to_opt) opt->t = *t;
    else *t = opt->t;
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
    if (!net || !desc || !out || !net->grads) return NN_ERR_INVALID;
    d = nn_optim_desc_defaults(desc);
    if ((int)d.kind <= 0 || d.kind >= NN_OPTIM_COUNT) return NN_ERR_INVALID;
    if (!(d.lr > 0.0f && d.lr < INFINITY) || !(d.eps > 0.0f && d.eps < INFINITY)) return NN_ERR_INVALID;
    if (!nn__in01(d.momentum) || !nn__in01(d.beta1) || !nn__in01(d.beta2) || !nn__in01(d.rho))
        return NN_ERR_INVALID;
    if (!(d.weight_decay >= 0.0f && d.weight_decay < INFINITY)) return NN_ERR_INVALID;
    if (!(d.eps2 > 0.0f && d.eps2 < INFINITY) || !(d.clip > 0.0f && d.clip < INFINITY) ||
        (d.explicit_lr != 0 && d.explicit_lr != 1))
        return NN_ERR_INVALID;
    if ((d.allocator.alloc_fn == NULL) != (d.allocator.free_fn == NULL)) return NN_ERR_INVALID;
    if (!d.allocator.alloc_fn) d.allocator = net->alloc;
    a = &d.allocator;
    o = (nn_optim *)nn_simd_alloc(a, sizeof *o);
    if (!o) return NN_ERR_NOMEM;
    memset(o, 0, sizeof *o);
    o->desc = d;
    o->n = net->n_params;
    o->n_weights = net->n_weights;
    o->n_layers = net->n_layers;
    {
        int l;
        for (l = 0; l < net->n_layers; l++) {
            o->shape[l][0] = net->layer[l].in;
            o->shape[l][1] = net->layer[l].out;
        }
    }
    one = nn__state_buffers(&d) >= 1;
    two = nn__state_buffers(&d) >= 2;
    if (one) o->s1 = (float *)nn_simd_alloc(a, o->n * sizeof(float));
    if (two) o->s2 = (float *)nn_simd_alloc(a, o->n * sizeof(float));
    if (d.kind == NN_OPTIM_ADAFACTOR) {
        int l, widest = 0;
        for (l = 0; l < net->n_layers; l++) {
            o->n_fac += 2 * (size_t)net->layer[l].out + (size_t)net->layer[l].in;
            widest = net->layer[l].in > widest ? net->layer[l].in : widest;
        }
        o->fac = (float *)nn_simd_alloc(a, o->n_fac * sizeof(float));
        o->acc = (double *)nn_simd_alloc(a, (size_t)widest * sizeof(double));
    }
    if ((one && !o->s1) || (two && !o->s2) || (o->n_fac && (!o->fac || !o->acc))) {
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
    nn_simd_free(&a, opt->fac);
    nn_simd_free(&a, opt->acc);
    nn_simd_free(&a, opt);
}

NNDEF void nn_optim_reset(nn_optim *opt)
{
    if (!opt) return;
    if (opt->s1) memset(opt->s1, 0, opt->n * sizeof(float));
    if (opt->s2) memset(opt->s2, 0, opt->n * sizeof(float));
    if (opt->fac) memset(opt->fac, 0, opt->n_fac * sizeof(float));
    opt->t = 0;
}

/* ADAFACTOR on one tensor (>>optim): W [rows][cols] with its factored R [rows] and
   C [cols], or with C NULL a vector of `rows` with its full second moment R. m: the
   momentum (NULL without beta1); wd: 0 for biases. */
static void nn__adafactor_tensor(const nn_optim_desc *d, double b2, double rho_t, double wd,
                                 float *X, const float *G, float *m, float *R, float *C,
                                 double *acc, int rows, int cols)
{
    const double eps1 = d->eps, c2 = 1.0 - b2, b1 = d->beta1;
    const size_t n = (size_t)rows * (size_t)cols;
    double ss = 0.0, sum_r = 0.0, su = 0.0, a, clip;
    size_t i, j;
    for (i = 0; i < n; i++) ss += (double)X[i] * X[i];
    a = d->explicit_lr ? (double)d->lr : NN__MAX((double)d->eps2, sqrt(ss / (double)n)) * rho_t;
    if (C) {
        for (j = 0; j < (size_t)cols; j++) acc[j] = 0.0;
        for (i = 0; i < (size_t)rows; i++) {
            const float *g = G + i * (size_t)cols;
            double rs = 0.0;
            for (j = 0; j < (size_t)cols; j++) {
                double q = (double)g[j] * g[j] + eps1;
                rs += q;
                acc[j] += q;
            }
            R[i] = (float)(b2 * R[i] + c2 * rs);
            sum_r += R[i];
        }
        /* V_ij = R_i C_j / sum(R): U_ij = G_ij r_i c_j with r_i = 1/sqrt(R_i / sum R) and
           acc[j] = c_j = 1/sqrt(C_j); two passes, the first for RMS(U) */
        for (j = 0; j < (size_t)cols; j++) {
            C[j] = (float)(b2 * C[j] + c2 * acc[j]);
            acc[j] = C[j] > 0.0f ? 1.0 / sqrt((double)C[j]) : 0.0;
        }
        for (i = 0; i < (size_t)rows; i++) {
            const double r = R[i] > 0.0f ? 1.0 / sqrt(R[i] / sum_r) : 0.0;
            for (j = 0; j < (size_t)cols; j++) {
                double u = G[i * (size_t)cols + j] * r * acc[j];
                su += u * u;
            }
        }
    } else {
        for (i = 0; i < n; i++) {
            double u;
            R[i] = (float)(b2 * R[i] + c2 * ((double)G[i] * G[i] + eps1));
            u = R[i] > 0.0f ? G[i] / sqrt((double)R[i]) : 0.0;
            su += u * u;
        }
    }
    clip = 1.0 / NN__MAX(1.0, sqrt(su / (double)n) / d->clip);
    for (i = 0; i < (size_t)rows; i++) {
        const double r = !C ? 1.0 : R[i] > 0.0f ? 1.0 / sqrt(R[i] / sum_r) : 0.0;
        for (j = 0; j < (size_t)cols; j++) {
            const size_t k = i * (size_t)cols + j;
            double u, x = X[k];
            if (C) u = G[k] * r * acc[j];
            else u = R[k] > 0.0f ? G[k] / sqrt((double)R[k]) : 0.0;
            u *= clip;
            if (m) {
                m[k] = (float)(b1 * m[k] + (1.0 - b1) * u);
                u = m[k];
            }
            x -= a * wd * x;
            X[k] = (float)(x - a * u);
        }
    }
}

/* ADAFACTOR's step (>>optim): refused as a whole when a gradient is not finite. */
static nn_status nn__adafactor_step(nn_optim *opt, nn_net *net)
{
    const nn_optim_desc *d = &opt->desc;
    const double t = (double)(opt->t + 1);
    const double b2 = 1.0 - pow(t, -0.8), rho_t = NN__MIN((double)d->lr, 1.0 / sqrt(t));
    float *f = opt->fac;
    int l;
    if (!nn_simd_all_finite(net->grads, opt->n)) return NN_ERR_NONFINITE;
    for (l = 0; l < net->n_layers; l++) {
        nn__layer *ly = &net->layer[l];
        const size_t ow = (size_t)(ly->W - net->params), ob = (size_t)(ly->b - net->params);
        float *mw = opt->s1 ? opt->s1 + ow : NULL, *mb = opt->s1 ? opt->s1 + ob : NULL;
        nn__adafactor_tensor(d, b2, rho_t, d->weight_decay, ly->W, ly->dW, mw, f,
                             f + ly->out, opt->acc, ly->out, ly->in);
        f += (size_t)ly->out + (size_t)ly->in;
        nn__adafactor_tensor(d, b2, rho_t, 0.0, ly->b, ly->db, mb, f, NULL, NULL, ly->out, 1);
        f += (size_t)ly->out;
    }
    opt->t++;
    return NN_OK;
}

NNDEF nn_status nn_optim_step(nn_optim *opt, nn_net *net)
{
    const nn__backend *be = nn__active;
    nn_simd_optim_args p, pb;
    nn_simd_optim kind;
    const nn_optim_desc *d;
    size_t nw, seg[2 * NN_MAX_LAYERS + 1];
    int l;
    if (!opt || !net) return NN_ERR_INVALID;
    if (!nn__same_layout(opt, net)) return NN_ERR_SHAPE;
    if (!be) return NN_ERR_BACKEND;
    d = &opt->desc;
    if (d->kind == NN_OPTIM_ADAFACTOR) return nn__adafactor_step(opt, net);
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
    case NN_OPTIM_ADADELTA: kind = NN_SIMD_OPTIM_ADADELTA; p.beta2 = d->rho; break;
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
    pb = p; /* decoupled decay on the weights only */
    p.wd = d->weight_decay;
    pb.wd = 0.0f;
    /* segments: each layer's weights, then each layer's biases (the threads share each
       by rows: the output features their GEMM tiles own) */
    for (l = 0; l < net->n_layers; l++) {
        seg[l] = (size_t)(net->layer[l].W - net->params);
        seg[net->n_layers + l] = (size_t)(net->layer[l].b - net->params);
    }
    seg[2 * net->n_layers] = opt->n;
    /* the finite check and the update in one pass: nothing is written unless every
       gradient is finite */
    if (!nn__optim_checked(be, (int)kind, &p, &pb, net->params, net->grads, opt->s1, opt->s2,
                           nw, seg, 2 * net->n_layers))
        return NN_ERR_NONFINITE;
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
    if (!opt) return NN_ERR_INVALID;
    if (net && !nn__same_layout(opt, net)) return NN_ERR_SHAPE;
    return nn__backprop_step(net, opt, x, y, labels, batch, loss);
}

/* >>train ------------------------------------------------------------------- */
#if !defined(NN_NO_STDIO)
#  include <stdio.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#  include <sys/time.h>
#  include <unistd.h>
#  define NN__POSIX 1
#else
#  include <time.h>
#  define NN__POSIX 0
#endif

static double nn__now(void)
{
#if defined(_OPENMP)
    return omp_get_wtime();
#elif NN__POSIX
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
#else
    return (double)clock() / CLOCKS_PER_SEC; /* CPU time: the best plain C offers */
#endif
}

NNDEF nn_status nn_net_clip_grads(nn_net *net, float max_norm, float *norm)
{
    double nrm;
    if (!net || !net->grads || !(max_norm > 0.0f && max_norm < INFINITY)) return NN_ERR_INVALID;
    if (!nn__active) return NN_ERR_BACKEND;
    nrm = sqrt(nn_simd_sumsq(net->grads, net->n_params));
    if (norm) *norm = (float)nrm;
    if (!isfinite(nrm)) return NN_ERR_NONFINITE;
    if (nrm > max_norm) /* g <- g + (s - 1) g = s g */
        nn_simd_axpy(net->n_params, (float)(max_norm / nrm) - 1.0f, net->grads, net->grads);
    return NN_OK;
}

NNDEF nn_fit_desc nn_fit_desc_defaults(const nn_fit_desc *desc, const nn_net *net)
{
    nn_fit_desc d;
    memset(&d, 0, sizeof d);
    if (!desc) return d;
    d = *desc;
    d.epochs = NN__DEF(d.epochs, 10);
    if (d.batch == 0) d.batch = net ? NN__MIN(32, net->desc.max_batch) : 32;
    if (d.seed == 0) d.seed = (net ? net->desc.seed : 0) + 1;
    d.monitor = NN__DEF(d.monitor, NN_MONITOR_VAL_LOSS);
    d.schedule = NN__DEF(d.schedule, NN_SCHEDULE_CONSTANT);
    if (d.gamma == 0.0f) d.gamma = d.schedule == NN_SCHEDULE_EXP ? 0.95f : 0.1f;
    d.step_epochs = NN__DEF(d.step_epochs, 10);
    d.max_bad_steps = NN__DEF(d.max_bad_steps, 20);
    return d;
}

NNDEF float nn_schedule_lr(const nn_fit_desc *desc, float base_lr, long long step,
                           long long steps_per_epoch)
{
    nn_fit_desc d = nn_fit_desc_defaults(desc, NULL);
    long long spe = steps_per_epoch > 0 ? steps_per_epoch : 1;
    long long warm = (long long)d.warmup_epochs * spe, total = (long long)d.epochs * spe;
    double lr = base_lr;
    if (step < warm) {
        lr = base_lr * (double)(step + 1) / (double)warm;
    } else {
        switch (d.schedule) {
        case NN_SCHEDULE_STEP: lr = base_lr * pow(d.gamma, (double)(step / spe / d.step_epochs)); break;
        case NN_SCHEDULE_EXP: lr = base_lr * pow(d.gamma, (double)step / (double)spe); break;
        case NN_SCHEDULE_COSINE: {
            double t = (double)(step - warm), T = (double)(total - warm);
            if (T < 1) T = 1;
            if (t > T) t = T;
            lr = d.lr_min + (base_lr - d.lr_min) * 0.5 * (1.0 + cos(3.141592653589793 * t / T));
            break;
        }
        default: break;
        }
    }
    if (!(lr >= 1e-30)) lr = 1e-30; /* optimizers need lr > 0 */
    return (float)lr;
}

/* Rows of a batch pulled from the data set through an index list. */
typedef struct nn__gather_job {
    float *dst;
    const float *src;
    const int *idx;
    int b, width;
} nn__gather_job;

static void nn__gather_part(void *ctx, int tid, int nt)
{
    const nn__gather_job *J = (const nn__gather_job *)ctx;
    const int i0 = (int)((long long)J->b * tid / nt), i1 = (int)((long long)J->b * (tid + 1) / nt);
    int i;
    for (i = i0; i < i1; i++)
        memcpy(J->dst + (size_t)i * J->width, J->src + (size_t)J->idx[i] * J->width,
               sizeof(float) * (size_t)J->width);
}

/* dst[i] = src[idx[i]], rows of `width` floats. The rows of a shuffled batch come from
   anywhere in a data set far larger than the caches (Fashion-MNIST: 188 MB), so this
   is a DRAM-bound copy: with threads, each copies disjoint rows. */
static void nn__gather(float *dst, const float *src, const int *idx, int b, int width)
{
    nn__gather_job J;
    J.dst = dst; J.src = src; J.idx = idx; J.b = b; J.width = width;
    nn__simd_parallel(nn__gather_part, &J, (double)b * width, b);
}

/* Whether accuracy means something for this network's outputs and targets. */
static int nn__has_accuracy(const nn_net *net, const int *labels)
{
    const nn__layer *ly = &net->layer[net->n_layers - 1];
    return labels || ly->out > 1 || net->desc.loss == NN_LOSS_BCE;
}

static int nn__argmax(const float *v, int n)
{
    int k, best = 0;
    for (k = 1; k < n; k++) if (v[k] > v[best]) best = k;
    return best;
}

/* Correct predictions among b rows of outputs A against y or labels. */
static int nn__count_correct(const nn_net *net, const float *A, const float *y,
                             const int *labels, int b)
{
    const nn__layer *ly = &net->layer[net->n_layers - 1];
    int r, K = ly->out, right = 0;
    float thr = ly->act == NN_ACT_SIGMOID ? 0.5f : 0.0f;
    for (r = 0; r < b; r++) {
        const float *o = A + (size_t)r * K;
        if (K == 1) {
            int truth = labels ? labels[r] : (y[r] > thr);
            right += (o[0] > thr) == truth;
        } else {
            int truth = labels ? labels[r] : nn__argmax(y + (size_t)r * K, K);
            right += nn__argmax(o, K) == truth;
        }
    }
    return right;
}

/* Summed data loss (sums[0]) and correct predictions (sums[1]) over rows [i0, i1) of a
   set given by an index list (or the rows themselves when idx is NULL), in chunks of
   max_batch, gathered through the buffers bx/by/bl. */
static void nn__evaluate(nn_net *net, const float *x, const float *y, const int *labels,
                         const int *idx, int i0, int i1, float *bx, float *by, int *bl,
                         double *sums)
{
    int i, D = net->desc.n_inputs, K = nn_net_n_outputs(net), mb = net->desc.max_batch;
    double sum = 0.0;
    long right = 0;
    for (i = i0; i < i1; i += mb) {
        int b = NN__MIN(mb, i1 - i), r;
        const float *cx = x + (size_t)i * D, *cy = y ? y + (size_t)i * K : NULL;
        const int *cl = labels ? labels + i : NULL;
        if (idx) {
            nn__gather(bx, x, idx + i, b, D);
            if (y) nn__gather(by, y, idx + i, b, K);
            if (labels) for (r = 0; r < b; r++) bl[r] = labels[idx[i + r]];
            cx = bx; cy = y ? by : NULL; cl = labels ? bl : NULL;
        }
        nn__forward(net, cx, b, 0);
        sum += nn__loss(net, cy, cl, b, NULL) * b;
        right += nn__count_correct(net, net->layer[net->n_layers - 1].A, cy, cl, b);
    }
    sums[0] = sum;
    sums[1] = (double)right;
}

#if !defined(NN_NO_STDIO)
static void nn__fmt_secs(char *buf, size_t cap, double s)
{
    if (s < 60) snprintf(buf, cap, "%.1fs", s);
    else snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

static void nn__progress_line(const nn_epoch_stats *e, int epochs, double elapsed, double eta)
{
    char el[32], et[32];
    nn__fmt_secs(el, sizeof el, elapsed);
    nn__fmt_secs(et, sizeof et, eta);
    fprintf(stderr, "epoch %d/%d  loss %.4f", e->epoch, epochs, (double)e->train_loss);
    if (!isnan(e->train_accuracy)) fprintf(stderr, "  acc %.4f", (double)e->train_accuracy);
    if (!isnan(e->val_loss)) fprintf(stderr, "  val_loss %.4f", (double)e->val_loss);
    if (!isnan(e->val_accuracy)) fprintf(stderr, "  val_acc %.4f", (double)e->val_accuracy);
    fprintf(stderr, "  lr %.3g  %.0f samples/s  elapsed %s  ETA %s", (double)e->lr,
            e->samples_per_sec, el, et);
}
#endif

NNDEF void nn_fit_report_free(nn_fit_report *report)
{
    if (!report) return;
    nn_simd_free(&report->alloc, report->history);
    report->history = NULL;
    report->epochs_run = 0;
}

NNDEF void nn_cv_report_free(nn_cv_report *report)
{
    if (!report) return;
    nn_simd_free(&report->alloc, report->folds);
    report->folds = NULL;
    report->k = 0;
}

/* Mean and sample standard deviation (over k - 1) of the folds' loss (acc 0) or
   accuracy (acc 1). */
static void nn__cv_mean_sd(const nn_cv_fold *f, int k, int acc, float *mean, float *sd)
{
    double s = 0.0, q = 0.0, m;
    int i;
    for (i = 0; i < k; i++) s += acc ? f[i].val_accuracy : f[i].val_loss;
    m = s / k;
    for (i = 0; i < k; i++) {
        double e = (acc ? f[i].val_accuracy : f[i].val_loss) - m;
        q += e * e;
    }
    *mean = (float)m;
    *sd = (float)sqrt(q / (k - 1));
}

/* The fold of every sample: a seeded shuffle, with labels then sorted by class (stable),
   dealt out in turn, so each class is spread over the folds. ord [n] and cnt [K + 1] are
   scratch; fold [n] receives the folds. */
static void nn__cv_folds(const int *labels, int n, int K, int k, uint64_t seed, int *ord,
                         int *cnt, int *fold)
{
    nn_rng r;
    int i, c;
    nn_rng_seed(&r, seed);
    for (i = 0; i < n; i++) ord[i] = i;
    for (i = n - 1; i > 0; i--) {
        int j = (int)(nn_rng_u64(&r) % (uint64_t)(i + 1)), t = ord[i];
        ord[i] = ord[j];
        ord[j] = t;
    }
    if (labels) {   /* counting sort by class, keeping the shuffled order within a class */
        for (c = 0; c <= K; c++) cnt[c] = 0;
        for (i = 0; i < n; i++) cnt[labels[i] + 1]++;
        for (c = 1; c <= K; c++) cnt[c] += cnt[c - 1];
        for (i = 0; i < n; i++) fold[cnt[labels[ord[i]]]++] = ord[i];
        memcpy(ord, fold, (size_t)n * sizeof(int));
    }
    for (i = 0; i < n; i++) fold[ord[i]] = i % k;
}

NNDEF nn_status nn_cross_validate(const nn_net_desc *nd, const nn_optim_desc *od,
                                  const nn_fit_desc *fd, const float *x, const float *y,
                                  const int *labels, int n, int k, uint64_t seed,
                                  nn_cv_report *report)
{
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    nn_allocator a;
    nn_status st;
    nn_fit_desc f;
    nn_fit_report fr;
    int D, K, i, c, fi, *ord, *cnt, *fold, *ls = NULL;
    float *xs, *ts = NULL;
    size_t words;
    void *ws = NULL;
    if (report) memset(report, 0, sizeof *report);
    if (!nd || !od || !fd || !x || !report || n <= 0 || k < 2 || k > n || fd->val_x)
        return NN_ERR_INVALID;
    if ((y == NULL) == (labels == NULL)) return NN_ERR_INVALID;
    if ((nd->allocator.alloc_fn == NULL) != (nd->allocator.free_fn == NULL)) return NN_ERR_INVALID;
    a = nd->allocator;
    if ((st = nn_net_create(nd, &net)) != NN_OK) return st;   /* validates nd */
    D = net->desc.n_inputs;
    K = nn_net_n_outputs(net);
    if ((st = nn__check_targets(net, y, labels, n)) != NN_OK) goto done;
    /* one block: ord, fold [n] ints, cnt [K + 1], then the data copy (floats, or labels) */
    words = 2 * (size_t)n + (size_t)K + 1 + (size_t)n * D + (labels ? (size_t)n : (size_t)n * K);
    report->alloc = a;
    ws = nn_simd_alloc(&a, words * 4);
    report->folds = (nn_cv_fold *)nn_simd_alloc(&a, (size_t)k * sizeof(nn_cv_fold));
    if (!ws || !report->folds) { st = NN_ERR_NOMEM; goto done; }
    memset(report->folds, 0, (size_t)k * sizeof(nn_cv_fold));
    ord = (int *)ws;
    fold = ord + n;
    cnt = fold + n;
    xs = (float *)(void *)(cnt + K + 1);
    if (labels) ls = (int *)(void *)(xs + (size_t)n * D);
    else ts = xs + (size_t)n * D;
    if (labels) {   /* every class needs a sample in every fold */
        for (c = 0; c < K; c++) cnt[c] = 0;
        for (i = 0; i < n; i++) cnt[labels[i]]++;
        for (c = 0; c < K; c++)
            if (cnt[c] > 0 && cnt[c] < k) { st = NN_ERR_INVALID; goto done; }
    }
    nn__cv_folds(labels, n, K, k, seed, ord, cnt, fold);
    for (fi = 0; fi < k; fi++) {
        int nt = 0, nv = 0, row;
        nn_cv_fold *cf = &report->folds[fi];
        for (i = 0; i < n; i++) nv += fold[i] == fi;
        /* training rows first, the fold's after them, each in sample order */
        for (i = 0; i < n; i++) {
            row = fold[i] == fi ? n - nv + (cf->n_val++) : nt++;
            memcpy(xs + (size_t)row * D, x + (size_t)i * D, (size_t)D * sizeof(float));
            if (labels) ls[row] = labels[i];
            else memcpy(ts + (size_t)row * K, y + (size_t)i * K, (size_t)K * sizeof(float));
        }
        if (!net && (st = nn_net_create(nd, &net)) != NN_OK) goto done;
        if ((st = nn_optim_create(net, od, &opt)) != NN_OK) goto done;
        f = *fd;
        st = nn_fit(net, opt, xs, ts, ls, nt, &f, &fr);
        cf->epochs_run = fr.epochs_run;
        nn_fit_report_free(&fr);
        if (st != NN_OK) goto done;
        {
            double vs[2];
            nn__evaluate(net, xs + (size_t)nt * D, ts ? ts + (size_t)nt * K : NULL,
                         ls ? ls + nt : NULL, NULL, 0, nv, NULL, NULL, NULL, vs);
            cf->val_loss = (float)(vs[0] / nv + nn__l2_term(net));
            cf->val_accuracy = nn__has_accuracy(net, ls) ? (float)(vs[1] / nv) : NAN;
        }
        nn_optim_destroy(opt);
        nn_net_destroy(net);
        opt = NULL;
        net = NULL;
    }
    report->k = k;
    nn__cv_mean_sd(report->folds, k, 0, &report->mean_loss, &report->sd_loss);
    nn__cv_mean_sd(report->folds, k, 1, &report->mean_accuracy, &report->sd_accuracy);
    {
        double e = 0.0;
        for (fi = 0; fi < k; fi++) e += report->folds[fi].epochs_run;
        report->mean_epochs = (float)(e / k);
    }
done:
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    nn_simd_free(&a, ws);
    if (st != NN_OK) {
        nn_cv_report_free(report);
        memset(report, 0, sizeof *report);
    }
    return st;
}

/* The state of one nn_fit run that its steps share. */
typedef struct nn__fit_run {
    nn_net *net;
    nn_optim *opt;
    const nn_fit_comm *comm;     /* NULL: one process */
    const float *x, *y;
    const int *labels;
    float *bx, *by;
    int *bl;
    float *shard_g;              /* micro_shards x n_params: the parts' gradients */
    double *shard_s;             /* micro_shards x 2: the parts' loss sums and correct counts */
    int part, parts;             /* this process computes part `part` of `parts` of a batch */
    int procs;                   /* processes whose gradients are summed */
    int micro;
    float clip;
} nn__fit_run;

/* A collective call failed: every later one is skipped and fit ends with NN_ERR_COMM. */
#define NN__COMM_OK(call) ((call) == 0)

/* The gradient of rows idx[0..cnt), a part of a batch of b rows (means over b), in
   net->grads, and their loss sum and correct count added to sums. A non-finite loss leaves NaN in
   the gradient, so that every process sees the step refused. */
static void nn__fit_part(nn__fit_run *R, const int *idx, int cnt, int b, double *sums)
{
    nn_net *net = R->net;
    float loss = 0.0f;
    nn_status st;
    int r;
    if (cnt == 0) {
        memset(net->grads, 0, sizeof(float) * net->n_params);
        return;
    }
    nn__gather(R->bx, R->x, idx, cnt, net->desc.n_inputs);
    if (R->y) nn__gather(R->by, R->y, idx, cnt, nn_net_n_outputs(net));
    else for (r = 0; r < cnt; r++) R->bl[r] = R->labels[idx[r]];
    net->drop_ids = idx;
    net->loss_rows = cnt != b ? b : 0;
    st = nn__backprop(net, R->bx, R->y ? R->by : NULL, R->y ? NULL : R->bl, cnt, &loss, 1);
    net->drop_ids = NULL;
    net->loss_rows = 0;
    if (st != NN_OK) {
        net->grads[0] = NAN;
        return;
    }
    sums[0] += (double)loss * b;
    sums[1] += nn__count_correct(net, net->layer[net->n_layers - 1].A, R->y ? R->by : NULL,
                                 R->y ? NULL : R->bl, cnt);
}

/* One step on b rows idx[0..b) of a batch of `total` rows (b < total: this process's
   own rows of a sharded batch): this process's part of the gradient, summed over the
   processes, clipped, applied. sums[0..1] collect this process's loss sum and correct
   count. NN_ERR_NONFINITE (nothing changed) is the same on every process. */
static nn_status nn__fit_step(nn__fit_run *R, const int *idx, int b, int total, double *sums)
{
    nn_net *net = R->net;
    nn_status st = NN_OK;
    int s;
    if (R->micro > 0) { /* parts at fixed rows, summed in a fixed tree: the same bits for any size */
        const int S = R->micro, s0 = S * R->part / R->parts, s1 = S * (R->part + 1) / R->parts;
        int w;
        for (s = s0; s < s1; s++) {
            const int r0 = (int)((long long)b * s / S), r1 = (int)((long long)b * (s + 1) / S);
            double *ps = R->shard_s + 2 * s;
            ps[0] = ps[1] = 0.0;
            nn__fit_part(R, idx + r0, r1 - r0, total, ps);
            memcpy(R->shard_g + (size_t)s * net->n_params, net->grads, sizeof(float) * net->n_params);
        }
        if (R->procs > 1 &&
            !NN__COMM_OK(R->comm->gather_floats(R->shard_g, net->n_params, S, R->comm->ctx)))
            return NN_ERR_COMM;
        for (w = 1; w < S; w *= 2)
            for (s = 0; s + w < S; s += 2 * w)
                nn_simd_axpy(net->n_params, 1.0f, R->shard_g + (size_t)(s + w) * net->n_params,
                             R->shard_g + (size_t)s * net->n_params);
        memcpy(net->grads, R->shard_g, sizeof(float) * net->n_params);
    } else {
        const int r0 = (int)((long long)b * R->part / R->parts);
        const int r1 = (int)((long long)b * (R->part + 1) / R->parts);
        nn__fit_part(R, idx + r0, r1 - r0, total, sums);
        if (R->procs > 1 &&
            !NN__COMM_OK(R->comm->sum_floats(net->grads, net->n_params, R->comm->ctx)))
            return NN_ERR_COMM;
    }
    if (R->clip > 0.0f) st = nn_net_clip_grads(net, R->clip, NULL);
    if (st == NN_OK) st = nn_optim_step(R->opt, net);
    return st;
}

/* The processes' statuses agreed: the first non-OK in rank order, on every process
   (through a stack buffer: it also runs when nothing could be allocated). */
static nn_status nn__fit_agree(const nn_fit_comm *c, nn_status st)
{
    nn_status first = NN_OK;
    double v[4];
    int p, q;
    if (!c || c->size == 1) return st;
    for (p = 0; p < c->size; p += 4) { /* every process takes part in every round */
        for (q = 0; q < 4; q++) v[q] = p + q == c->rank ? (double)st : 0.0;
        if (!NN__COMM_OK(c->sum_doubles(v, 4, c->ctx))) return NN_ERR_COMM;
        for (q = 0; q < 4 && first == NN_OK; q++)
            if (v[q] != 0.0) first = (nn_status)(int)v[q];
    }
    return first;
}

/* nn_fit's arguments checked and resolved into *d (n_val: the validation rows). */
static nn_status nn__fit_check(nn_net *net, nn_optim *opt, const float *x, const float *y,
                               const int *labels, int n, const nn_fit_desc *desc,
                               nn_fit_desc *d, int *n_val)
{
    const nn_fit_comm *c = desc->comm;
    const int P = c ? c->size : 1;
    int lmax;
    nn_status st;
    if (!net || !opt || !x || n <= 0) return NN_ERR_INVALID;
    if (!nn__same_layout(opt, net)) return NN_ERR_SHAPE;
    if (!nn__active) return NN_ERR_BACKEND;
    if ((st = nn__check_targets(net, y, labels, n)) != NN_OK) return st;
    *d = nn_fit_desc_defaults(desc, net);
    if (d->epochs < 0 || d->batch < 0 || d->patience < 0 || d->warmup_epochs < 0 ||
        d->step_epochs < 0 || d->max_bad_steps < 0 || (int)d->schedule < 0 ||
        d->schedule >= NN_SCHEDULE_COUNT || (int)d->monitor < 0 || d->monitor >= NN_MONITOR_COUNT ||
        !(d->min_delta >= 0.0f) || !(d->clip_norm >= 0.0f && d->clip_norm < INFINITY) ||
        !(d->val_fraction >= 0.0f && d->val_fraction < 1.0f) || !(d->gamma > 0.0f && d->gamma <= 1.0f) ||
        !(d->lr_min >= 0.0f && d->lr_min < INFINITY) || d->micro_shards < 0 ||
        (c && c->sharded && d->micro_shards > 0))
        return NN_ERR_INVALID;
    /* the most rows one backprop takes: a micro-shard, or this process's share */
    lmax = d->micro_shards > 0 ? (d->batch + d->micro_shards - 1) / d->micro_shards
                               : (d->batch + P - 1) / P;
    if (lmax > net->desc.max_batch) return NN_ERR_BATCH;
    *n_val = 0;
    if (d->val_x) {
        if (d->val_n <= 0) return NN_ERR_INVALID;
        if ((st = nn__check_targets(net, d->val_y, d->val_labels, d->val_n)) != NN_OK) return st;
        if ((labels == NULL) != (d->val_labels == NULL)) return NN_ERR_INVALID;
        *n_val = d->val_n;
    } else if (d->val_fraction > 0.0f) {
        *n_val = (int)((double)n * d->val_fraction);
        if (*n_val < 1 || n - *n_val < 1) return NN_ERR_INVALID;
    }
    return NN_OK;
}

NNDEF nn_status nn_fit(nn_net *net, nn_optim *opt, const float *x, const float *y,
                       const int *labels, int n, const nn_fit_desc *desc,
                       nn_fit_report *report)
{
    nn_fit_desc d;
    nn_status st = NN_OK;
    nn_rng rng;
    int *idx = NULL, *bl = NULL, *train_idx, n_train = 0, n_val = 0, e, i, D, K, mb, bad = 0;
    float *bx = NULL, *by = NULL, *best = NULL, *shard_g = NULL, base_lr = 0.0f, best_score = 0.0f;
    double *slots = NULL;
    nn_epoch_stats *hist = NULL;
    long long step = 0, spe = 0, best_t = 0;
    int epochs_run = 0, best_epoch = 0, since_best = 0, stopped = 0, has_val, tty = 0;
    int P = 1, rk = 0, lb = 0, S, nslots;
    double t_start;
    const float *vx = NULL, *vy = NULL;
    const int *vl = NULL;
    const nn_fit_comm *c;
    nn__fit_run R;

    if (report) memset(report, 0, sizeof *report);   /* valid to free on every return */
    if (!desc) return NN_ERR_INVALID;
    c = desc->comm;
    if (c) { /* without a valid comm the processes cannot even agree on an error */
        if (c->size < 1 || c->rank < 0 || c->rank >= c->size || !c->sum_floats ||
            !c->sum_doubles || !c->gather_floats)
            return NN_ERR_INVALID;
        P = c->size;
        rk = c->rank;
    }
    memset(&d, 0, sizeof d);
    st = nn__fit_check(net, opt, x, y, labels, n, desc, &d, &n_val);
    S = st == NN_OK ? d.micro_shards : 0;
    nslots = NN__MAX(P, 4) + 2 * S;
    if (st == NN_OK) {
        base_lr = nn_optim_get_lr(opt);
        D = net->desc.n_inputs;
        K = nn_net_n_outputs(net);
        mb = net->desc.max_batch;
        idx = (int *)nn_simd_alloc(&net->alloc, sizeof(int) * (size_t)n);
        bl = (int *)nn_simd_alloc(&net->alloc, sizeof(int) * (size_t)mb);
        bx = (float *)nn_simd_alloc(&net->alloc, sizeof(float) * (size_t)mb * D);
        by = (float *)nn_simd_alloc(&net->alloc, sizeof(float) * (size_t)mb * K);
        hist = (nn_epoch_stats *)nn_simd_alloc(&net->alloc, sizeof(nn_epoch_stats) * (size_t)NN__MAX(d.epochs, 1));
        slots = (double *)nn_simd_alloc(&net->alloc, sizeof(double) * (size_t)nslots);
        if (d.patience > 0 && !d.keep_last) /* the best weights, then the optimizer's state */
            best = (float *)nn_simd_alloc(&net->alloc,
                                          sizeof(float) * (net->n_params + nn__optim_state_floats(opt)));
        if (S > 0)
            shard_g = (float *)nn_simd_alloc(&net->alloc, sizeof(float) * net->n_params * (size_t)S);
        if (!idx || !bl || !bx || !by || !hist || !slots || (d.patience > 0 && !d.keep_last && !best) ||
            (S > 0 && !shard_g))
            st = NN_ERR_NOMEM;
    }
    st = nn__fit_agree(c, st); /* every process returns the same status from here on */
    if (st != NN_OK) goto done;
    vx = d.val_x; vy = d.val_y; vl = d.val_labels;
    has_val = n_val > 0;
    n_train = d.val_x ? n : n - n_val;

    nn_rng_seed(&rng, d.seed);
    if (c && c->sharded) /* each shard its own stream of the shared seed */
        nn_rng_seed(&rng, d.seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(rk + 1)));
    for (i = 0; i < n; i++) idx[i] = i;
    if (!d.val_x && n_val > 0) { /* a seeded random hold-out: the first n_val of a shuffle */
        for (i = n - 1; i > 0; i--) {
            int k = (int)(nn_rng_u64(&rng) % (uint64_t)(i + 1)), t = idx[i];
            idx[i] = idx[k]; idx[k] = t;
        }
    }
    train_idx = d.val_x ? idx : idx + n_val;
    if (c && c->sharded) {
        /* full steps only: each process takes its share lb of every batch from its
           own shard, for as many steps as the smallest shard allows */
        lb = (int)((long long)d.batch * (rk + 1) / P - (long long)d.batch * rk / P);
        for (i = 0; i < P; i++) slots[i] = 0.0;
        slots[rk] = lb > 0 ? (double)(n_train / lb) : -1.0;
        if (!NN__COMM_OK(c->sum_doubles(slots, (size_t)P, c->ctx))) { st = NN_ERR_COMM; goto done; }
        spe = -1;
        for (i = 0; i < P; i++)
            if (slots[i] >= 0.0 && (spe < 0 || slots[i] < (double)spe)) spe = (long long)slots[i];
        if (spe < 1) { st = NN_ERR_INVALID; goto done; } /* a shard smaller than its share */
    } else {
        spe = (n_train + d.batch - 1) / d.batch;
    }
    memset(&R, 0, sizeof R);
    R.net = net; R.opt = opt; R.comm = c; R.x = x; R.y = y; R.labels = labels;
    R.bx = bx; R.by = by; R.bl = bl; R.clip = d.clip_norm;
    R.shard_g = shard_g; R.shard_s = slots + NN__MAX(P, 4); R.micro = S;
    R.part = c && !c->sharded ? rk : 0;
    R.parts = c && !c->sharded ? P : 1;
    R.procs = P;
#if !defined(NN_NO_STDIO) && NN__POSIX
    tty = !d.quiet && rk == 0 && isatty(2);
#endif
    t_start = nn__now();
    (void)tty; (void)t_start; /* used only for progress output */

    for (e = 1; e <= d.epochs && !stopped; e++) {
        nn_epoch_stats *es = &hist[e - 1];
        double t0 = nn__now(), t_train, sums[3] = {0.0, 0.0, 0.0}, last_draw = t0; /* loss, right, rows */
        (void)last_draw;
        memset(es, 0, sizeof *es);
        es->epoch = e;
        if (!d.no_shuffle)
            for (i = n_train - 1; i > 0; i--) {
                int k = (int)(nn_rng_u64(&rng) % (uint64_t)(i + 1)), t = train_idx[i];
                train_idx[i] = train_idx[k]; train_idx[k] = t;
            }
        for (i = 0; i < net->n_layers; i++) /* this epoch's dropout masks */
            if (net->layer[i].drop > 0) {
                net->drop_key = nn_rng_u64(&net->drop_rng);
                break;
            }
        for (i = 0; i < spe; i++, step++) {
            const int *bi = train_idx + (size_t)i * (c && c->sharded ? lb : d.batch);
            const int b = c && c->sharded ? lb : NN__MIN(d.batch, n_train - i * d.batch);
            float lr = nn_schedule_lr(&d, base_lr, step, spe);
            nn_optim_set_lr(opt, lr);
            es->lr = lr;
            if (S > 0) {
                int s;
                for (s = 0; s < 2 * S; s++) R.shard_s[s] = 0.0;
            }
            st = nn__fit_step(&R, bi, b, c && c->sharded ? d.batch : b, sums);
            if (st == NN_ERR_NONFINITE) {
                es->skipped_steps++;
                if (++bad >= d.max_bad_steps) { stopped = 1; break; }
                st = NN_OK;
                continue;
            }
            if (st != NN_OK) goto done;
            bad = 0;
            if (S > 0) { /* each part's sums, exactly once, in part order */
                int s;
                if (c && P > 1 && !NN__COMM_OK(c->sum_doubles(R.shard_s, 2 * (size_t)S, c->ctx))) {
                    st = NN_ERR_COMM;
                    goto done;
                }
                for (s = 0; s < S; s++) { sums[0] += R.shard_s[2 * s]; sums[1] += R.shard_s[2 * s + 1]; }
            }
            sums[2] += b;
#if !defined(NN_NO_STDIO)
            if (tty && nn__now() - last_draw > 0.2) {
                double el = nn__now() - t0;
                last_draw = nn__now();
                fprintf(stderr, "\repoch %d/%d  %3d%%  loss %.4f  %.0f samples/s\033[K", e, d.epochs,
                        (int)(100.0 * (i + 1) / spe), sums[0] / NN__MAX(sums[2], 1.0),
                        sums[2] * (c && c->sharded ? P : 1) / el);
                fflush(stderr);
            }
#endif
        }
        if (c && P > 1 && S == 0) { /* loss and correct counts of every process's rows */
            double t = sums[2];
            if (!NN__COMM_OK(c->sum_doubles(sums, 2, c->ctx))) { st = NN_ERR_COMM; goto done; }
            if (c->sharded) {
                slots[0] = t;
                if (!NN__COMM_OK(c->sum_doubles(slots, 1, c->ctx))) { st = NN_ERR_COMM; goto done; }
                sums[2] = slots[0];
            }
        }
        t_train = nn__now() - t0;
        es->train_loss = sums[2] > 0 ? (float)(sums[0] / sums[2]) : NAN;
        es->train_accuracy = (sums[2] > 0 && nn__has_accuracy(net, labels)) ? (float)(sums[1] / sums[2]) : NAN;
        es->val_loss = es->val_accuracy = NAN;
        if (has_val) {
            /* with the same validation set everywhere each process takes a share (all of
               it with micro_shards: the same sums for any size); sharded, its own */
            const int share = c && P > 1 && !c->sharded && S == 0;
            const int v0 = share ? (int)((long long)n_val * rk / P) : 0;
            const int v1 = share ? (int)((long long)n_val * (rk + 1) / P) : n_val;
            double vs[3];
            if (d.val_x) nn__evaluate(net, vx, vy, vl, NULL, v0, v1, bx, by, bl, vs);
            else nn__evaluate(net, x, y, labels, idx, v0, v1, bx, by, bl, vs);
            vs[2] = (double)(v1 - v0);
            if ((share || (c && c->sharded && P > 1)) &&
                !NN__COMM_OK(c->sum_doubles(vs, 3, c->ctx))) {
                st = NN_ERR_COMM;
                goto done;
            }
            es->val_loss = (float)(vs[0] / vs[2] + nn__l2_term(net));
            es->val_accuracy = nn__has_accuracy(net, labels) ? (float)(vs[1] / vs[2]) : NAN;
        }
        es->seconds = nn__now() - t0;
        es->samples_per_sec = t_train > 0 ? sums[2] / t_train : 0.0;
        epochs_run = e;
        { /* early stopping bookkeeping; without validation the train loss is watched */
            int acc_mode = has_val && d.monitor == NN_MONITOR_VAL_ACCURACY;
            float score = has_val ? (acc_mode ? es->val_accuracy : es->val_loss) : es->train_loss;
            int better = best_epoch == 0 ||
                         (acc_mode ? score > best_score + d.min_delta : score < best_score - d.min_delta);
            if (isnan(score)) better = 0;
            if (better) {
                best_score = score;
                best_epoch = e;
                since_best = 0;
                if (best) {
                    memcpy(best, net->params, sizeof(float) * net->n_params);
                    nn__optim_copy_state(opt, best + net->n_params, &best_t, 0);
                }
            } else if (++since_best >= d.patience && d.patience > 0) {
                stopped = 1;
            }
        }
#if !defined(NN_NO_STDIO)
        if (!d.quiet && rk == 0) {
            double el = nn__now() - t_start;
            if (tty) fputc('\r', stderr);
            nn__progress_line(es, d.epochs, el, el / e * (d.epochs - e));
            fputs(tty ? "\033[K\n" : "\n", stderr);
        }
#endif
        if (d.on_epoch) {
            double ask = d.on_epoch(es, d.user) ? 1.0 : 0.0;
            if (c && P > 1 && !NN__COMM_OK(c->sum_doubles(&ask, 1, c->ctx))) { /* one asks: all stop */
                st = NN_ERR_COMM;
                goto done;
            }
            if (ask > 0.0) stopped = 1;
        }
        if (bad >= d.max_bad_steps) break;
    }
    if (bad >= d.max_bad_steps) st = NN_ERR_NONFINITE;
    if (best && best_epoch > 0) { /* weights and optimizer state as they were together */
        memcpy(net->params, best, sizeof(float) * net->n_params);
        nn__optim_copy_state(opt, best + net->n_params, &best_t, 1);
    }

done:
    if (opt && base_lr > 0.0f) nn_optim_set_lr(opt, base_lr);
    if (net) net->drop_ids = NULL;
    if (report && st != NN_ERR_NOMEM && st != NN_ERR_INVALID && st != NN_ERR_COMM && hist) {
        report->epochs_run = epochs_run;
        report->best_epoch = best_epoch;
        report->stopped_early = stopped && epochs_run < d.epochs;
        report->history = hist;
        report->alloc = net->alloc;
        hist = NULL;
    }
    if (net) {
        nn_simd_free(&net->alloc, idx);
        nn_simd_free(&net->alloc, bl);
        nn_simd_free(&net->alloc, bx);
        nn_simd_free(&net->alloc, by);
        nn_simd_free(&net->alloc, best);
        nn_simd_free(&net->alloc, hist);
        nn_simd_free(&net->alloc, slots);
        nn_simd_free(&net->alloc, shard_g);
    }
    return st;
}

NNDEF nn_status nn_net_confusion(nn_net *net, const float *x, const int *labels, int n,
                                 int *matrix, float *precision, float *recall,
                                 float *accuracy)
{
    const nn__layer *ly;
    int i, r, c, K, C, D, diag = 0;
    if (!net || !x || !labels || !matrix || n <= 0) return NN_ERR_INVALID;
    if (!nn__active) return NN_ERR_BACKEND;
    ly = &net->layer[net->n_layers - 1];
    K = ly->out;
    C = K == 1 ? 2 : K;
    D = net->desc.n_inputs;
    for (i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= C) return NN_ERR_INVALID;
    memset(matrix, 0, sizeof(int) * (size_t)C * C);
    for (i = 0; i < n; i += net->desc.max_batch) {
        int b = NN__MIN(net->desc.max_batch, n - i);
        nn__forward(net, x + (size_t)i * D, b, 0);
        for (r = 0; r < b; r++) {
            const float *o = ly->A + (size_t)r * K;
            int pred = K == 1 ? o[0] > (ly->act == NN_ACT_SIGMOID ? 0.5f : 0.0f) : nn__argmax(o, K);
            matrix[labels[i + r] * C + pred]++;
        }
    }
    for (c = 0; c < C; c++) {
        long tp = matrix[c * C + c], col = 0, row = 0;
        for (r = 0; r < C; r++) {
            col += matrix[r * C + c];
            row += matrix[c * C + r];
        }
        diag += (int)tp;
        if (precision) precision[c] = col ? (float)tp / (float)col : NAN;
        if (recall) recall[c] = row ? (float)tp / (float)row : NAN;
    }
    if (accuracy) *accuracy = (float)diag / (float)n;
    return NN_OK;
}


/* >>io ---------------------------------------------------------------------- */
/* MODEL FILE FORMAT, version 2 (version 1 files still load: see E below). Every field
   is little-endian and written byte by byte, so the host's byte order never matters;
   f32 is the IEEE-754 binary32 bit pattern, u32/u64 are unsigned. P = number of real
   parameters, L = number of layers.
     offset     size   field
     0          8      magic 89 4E 4E 48 0D 0A 1A 0A  ("\x89NNH\r\n\x1a\n", PNG-style:
                       a text-mode or 7-bit transfer breaks it visibly)
     8          4      u32 format version = 2 (1 is read too)
     12         4      u32 flags: bit 0 = optimizer state present; other bits must be 0
     16         8      u64 file size in bytes, this header and the CRC included
     24         4      u32 n_inputs                      (1 .. NN_MAX_UNITS)
     28         4      u32 L, number of layers           (1 .. NN_MAX_LAYERS)
     32         4      u32 max_batch                     (1 .. NN_MAX_BATCH)
     36         4      u32 loss id (nn_loss, resolved: never DEFAULT)
     40         4      f32 l2
     44         8      u64 seed (resolved: never 0)
     52         8      u64 dropout RNG state (so that training resumes with the same masks)
     60         24 L   per layer: u32 units, u32 act id (nn_act), f32 act_param,
                       u32 init id (nn_init), f32 init_scale, f32 dropout
     H=60+24L   8      u64 P = sum over layers of out * (in + 1)   (<= NN_MAX_PARAMS)
     H+8        4 P    f32 parameters, layer by layer: W [out][in] row-major, then b [out]
                       (the real entries only, never the in-memory alignment padding)
     -- only when flags bit 0 is set --
     Q=H+8+4P   4      u32 optimizer kind (nn_optim_kind, resolved: never DEFAULT)
     Q+4        28     f32 lr (the current one), momentum, beta1, beta2, rho, eps,
                       weight_decay: the resolved desc
     Q+32       E      version 2 (E = 12): f32 eps2, f32 clip, u32 explicit_lr (0 or 1);
                       version 1 (E = 0): nothing (ids up to ADAMW only; eps2, clip default)
     Q+32+E     8      u64 step count t (< 2^63)
     Q+40+E     4      u32 S = number of state buffers (0 SGD, ADAFACTOR without beta1;
                       2 ADAM, ADAMW, ADADELTA; 1 others)
     Q+44+E     4 P S  f32 state buffer s1, then s2, each in the parameter order above
     then       4 F    ADAFACTOR only: its second moments, per layer R [out], C [in], then
                       the bias's [out]: F = sum over layers of 2 out + in
     --
     end-4      4      u32 CRC-32 of every byte before it (IEEE 802.3: reflected
                       polynomial 0xEDB88320, initial value and final xor 0xFFFFFFFF)
   The ids are this header's enum values, which are frozen (new ones are only appended).
   Loading checks, in this order, before allocating anything: magic (ERR_MAGIC), version
   (ERR_VERSION), the buffer against the stated file size (shorter: ERR_TRUNCATED,
   longer: ERR_CORRUPT; one model is exactly one file), the CRC (ERR_CRC), then every
   field: sizes against the limits (ERR_LIMIT; NN_MAX_ARENA also bounds what max_batch
   makes nn_net_create reserve), zero sizes, ids, flags, hyperparameter ranges, a desc
   nn_net_create would reject, the stated P and section sizes, non-finite values and
   negative squared-gradient state (all ERR_CORRUPT).
   Saving is atomic: see nn_net_save. Where POSIX.1-2001 is visible in the implementing
   translation unit (unistd.h's _POSIX_VERSION >= 200112L: e.g. gnu99, or
   -D_POSIX_C_SOURCE=200809L; strict -std=c99 hides it), the temporary file is created
   with open(O_CREAT | O_EXCL) (never an existing file; the replaced file's permission
   bits, or the usual ones for a new file) and fsync'ed before the rename; symbolic
   links are followed to the file they end at. Otherwise plain C: a name no file has
   yet (checked with fopen "rb"; not race-free), no fsync, and rename (a link is
   replaced by the file); on Windows, whose rename does not replace, the old file is
   removed first (not atomic there). Define NN_NO_POSIX to force the plain C path. The
   directory itself is not fsync'ed. */
#ifndef NN_NO_STDIO
#  include <stdio.h>
#  include <time.h>
#  if (defined(__unix__) || defined(__APPLE__)) && !defined(NN_NO_POSIX)
#    include <unistd.h>
#    if defined(_POSIX_VERSION) && _POSIX_VERSION >= 200112L
#      include <fcntl.h>
#      include <errno.h>
#      include <sys/stat.h>
#      define NN__POSIX_IO 1
#    endif
#  endif
#endif
#ifndef NN__POSIX_IO
#  define NN__POSIX_IO 0
#endif

typedef char nn__float_is_binary32[sizeof(float) == 4 ? 1 : -1];

#define NN__FORMAT_VERSION 2u
#define NN__HDR_FIXED      60u   /* bytes before the per-layer records */
#define NN__HDR_LAYER      24u   /* bytes per layer record */
#define NN__OPT_HDR        56u   /* optimizer section before its state (version 1: 44) */
/* No valid model file is larger than this (parameters and two state buffers at
   NN_MAX_PARAMS, or ADAFACTOR's at most 2 P factored floats). */
#define NN__MAX_FILE ((uint64_t)NN__HDR_FIXED + (uint64_t)NN__HDR_LAYER * NN_MAX_LAYERS + 12u + \
                      NN__OPT_HDR + (uint64_t)NN_MAX_PARAMS * 16u)

static const unsigned char nn__magic[8] = { 0x89, 'N', 'N', 'H', 0x0D, 0x0A, 0x1A, 0x0A };

/* Test hook (tests define NN_TEST_IO_FAULTS): when >= 0, the file operation after this
   many more successful ones (open, each write, flush, fsync, close, rename) fails. */
#ifdef NN_TEST_IO_FAULTS
static long nn__io_fail_after = -1;
#  define NN__IO_FAULT() (nn__io_fail_after >= 0 && nn__io_fail_after-- == 0)
#else
#  define NN__IO_FAULT() 0
#endif

/* CRC-32 (IEEE), 4 bits at a time from a 16-entry table of the reflected polynomial's
   remainders. Start with crc = 0xFFFFFFFF and xor the result with 0xFFFFFFFF. */
static uint32_t nn__crc32(uint32_t crc, const unsigned char *p, size_t n)
{
    static const uint32_t t[16] = {
        0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
        0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
        0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu
    };
    while (n--) {
        crc ^= *p++;
        crc = (crc >> 4) ^ t[crc & 15u];
        crc = (crc >> 4) ^ t[crc & 15u];
    }
    return crc;
}

static void nn__put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t nn__get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t nn__get_u64(const unsigned char *p)
{
    return (uint64_t)nn__get_u32(p) | (uint64_t)nn__get_u32(p + 4) << 32;
}

static uint32_t nn__f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float nn__bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Output: bytes are staged in buf, and each full chunk goes to memory (dst) or, with
   stdio, to a file; the CRC runs over everything staged. */
#define NN__WCHUNK 4096
typedef struct nn__writer {
    unsigned char *dst;          /* memory target, or NULL */
#ifndef NN_NO_STDIO
    FILE          *f;            /* file target when dst is NULL */
#endif
    size_t         pos, fill;    /* bytes delivered, bytes staged */
    uint32_t       crc;
    int            failed;
    unsigned char  buf[NN__WCHUNK];
} nn__writer;

static void nn__w_flush(nn__writer *w)
{
    if (w->failed) w->fill = 0; /* discard: the save fails anyway */
    if (w->fill == 0) return;
    if (w->dst) memcpy(w->dst + w->pos, w->buf, w->fill);
#ifndef NN_NO_STDIO
    else if (NN__IO_FAULT() || fwrite(w->buf, 1, w->fill, w->f) != w->fill) w->failed = 1;
#endif
    w->pos += w->fill;
    w->fill = 0;
}

static void nn__w_bytes(nn__writer *w, const unsigned char *p, size_t n)
{
    w->crc = nn__crc32(w->crc, p, n);
    while (n > 0) {
        size_t k = NN__WCHUNK - w->fill;
        if (k > n) k = n;
        memcpy(w->buf + w->fill, p, k);
        w->fill += k;
        p += k;
        n -= k;
        if (w->fill == NN__WCHUNK) nn__w_flush(w);
    }
}

static void nn__w_u32(nn__writer *w, uint32_t v)
{
    unsigned char b[4];
    nn__put_u32(b, v);
    nn__w_bytes(w, b, 4);
}

static void nn__w_u64(nn__writer *w, uint64_t v)
{
    nn__w_u32(w, (uint32_t)v);
    nn__w_u32(w, (uint32_t)(v >> 32));
}

static void nn__w_f32(nn__writer *w, float f)
{
    nn__w_u32(w, nn__f32_bits(f));
}

static void nn__w_floats(nn__writer *w, const float *x, size_t n)
{
    unsigned char b[1024];
    while (n > 0) {
        size_t i, k = n < 256 ? n : 256;
        for (i = 0; i < k; i++) nn__put_u32(b + 4 * i, nn__f32_bits(x[i]));
        nn__w_bytes(w, b, 4 * k);
        x += k;
        n -= k;
    }
}

/* The real entries of a buffer with the parameter layout (base = params, or an
   optimizer state buffer), in file order: per layer W then b. */
static void nn__w_real(nn__writer *w, const nn_net *net, const float *base)
{
    int l;
    for (l = 0; l < net->n_layers; l++) {
        const nn__layer *ly = &net->layer[l];
        nn__w_floats(w, base + (ly->W - net->params), (size_t)ly->out * ly->in);
        nn__w_floats(w, base + (ly->b - net->params), (size_t)ly->out);
    }
}

static void nn__r_real(const nn_net *net, float *base, const unsigned char *p)
{
    int l;
    size_t i, n;
    for (l = 0; l < net->n_layers; l++) {
        const nn__layer *ly = &net->layer[l];
        float *W = base + (ly->W - net->params), *b = base + (ly->b - net->params);
        n = (size_t)ly->out * ly->in;
        for (i = 0; i < n; i++, p += 4) W[i] = nn__bits_f32(nn__get_u32(p));
        for (i = 0; i < (size_t)ly->out; i++, p += 4) b[i] = nn__bits_f32(nn__get_u32(p));
    }
}

/* Floats nn_net_create reserves for activations and deltas (exact, with padding). Within
   the unit and batch limits this cannot overflow 64 bits. */
static uint64_t nn__arena_floats(const nn_net_desc *d, int L)
{
    uint64_t sum = 0, widest = 0, u = 0;
    int l;
    for (l = 0; l < L; l++) {
        u = nn__pad((size_t)d->layers[l].units);
        sum += d->layers[l].dropout > 0.0f ? 3 * u : u;   /* A, and mask and D */
        if (u > widest) widest = u;
    }
    return (uint64_t)d->max_batch * (sum + u + 2 * widest) + nn__pad(2 * (size_t)d->max_batch);
}

/* Size of net's model file, after the checks save needs. */
static nn_status nn__save_check(const nn_net *net, const nn_optim *opt, uint64_t *P,
                                uint64_t *total)
{
    int l, s;
    uint64_t p = 0;
    size_t i;
    for (l = 0; l < net->n_layers; l++)
        p += (uint64_t)net->layer[l].out * ((uint64_t)net->layer[l].in + 1);
    if (p > (uint64_t)NN_MAX_PARAMS || nn__arena_floats(&net->desc, net->n_layers) > (uint64_t)NN_MAX_ARENA)
        return NN_ERR_LIMIT;
    if (opt && !nn__same_layout(opt, net)) return NN_ERR_SHAPE;
    for (i = 0; i < net->n_params; i++)
        if (!isfinite(net->params[i])) return NN_ERR_NONFINITE;
    s = opt ? nn__state_buffers(&opt->desc) : 0;
    for (i = 0; i < (size_t)s * net->n_params; i++)
        if (!isfinite(i < net->n_params ? opt->s1[i] : opt->s2[i - net->n_params]))
            return NN_ERR_NONFINITE;
    for (i = 0; opt && i < opt->n_fac; i++)
        if (!isfinite(opt->fac[i])) return NN_ERR_NONFINITE;
    *P = p;
    *total = NN__HDR_FIXED + (uint64_t)NN__HDR_LAYER * net->n_layers + 8 + 4 * p + 4;
    if (opt) *total += NN__OPT_HDR + 4 * p * (uint64_t)s + 4 * (uint64_t)opt->n_fac;
    if (*total > (size_t)-1) return NN_ERR_LIMIT;
    return NN_OK;
}

static void nn__serialize(nn__writer *w, const nn_net *net, const nn_optim *opt, uint64_t P,
                          uint64_t total)
{
    const nn_net_desc *d = &net->desc;
    unsigned char crc[4];
    int l;
    w->crc = 0xFFFFFFFFu;
    nn__w_bytes(w, nn__magic, 8);
    nn__w_u32(w, NN__FORMAT_VERSION);
    nn__w_u32(w, opt ? 1u : 0u);
    nn__w_u64(w, total);
    nn__w_u32(w, (uint32_t)d->n_inputs);
    nn__w_u32(w, (uint32_t)net->n_layers);
    nn__w_u32(w, (uint32_t)d->max_batch);
    nn__w_u32(w, (uint32_t)d->loss);
    nn__w_f32(w, d->l2);
    nn__w_u64(w, d->seed);
    nn__w_u64(w, net->drop_rng.s);
    for (l = 0; l < net->n_layers; l++) {
        const nn_layer_desc *ld = &d->layers[l];
        nn__w_u32(w, (uint32_t)ld->units);
        nn__w_u32(w, (uint32_t)ld->act);
        nn__w_f32(w, ld->act_param);
        nn__w_u32(w, (uint32_t)ld->init);
        nn__w_f32(w, ld->init_scale);
        nn__w_f32(w, ld->dropout);
    }
    nn__w_u64(w, P);
    nn__w_real(w, net, net->params);
    if (opt) {
        const nn_optim_desc *od = &opt->desc;
        nn__w_u32(w, (uint32_t)od->kind);
        nn__w_f32(w, od->lr);
        nn__w_f32(w, od->momentum);
        nn__w_f32(w, od->beta1);
        nn__w_f32(w, od->beta2);
        nn__w_f32(w, od->rho);
        nn__w_f32(w, od->eps);
        nn__w_f32(w, od->weight_decay);
        nn__w_f32(w, od->eps2);
        nn__w_f32(w, od->clip);
        nn__w_u32(w, (uint32_t)od->explicit_lr);
        nn__w_u64(w, (uint64_t)opt->t);
        nn__w_u32(w, (uint32_t)nn__state_buffers(od));
        if (nn__state_buffers(od) >= 1) nn__w_real(w, net, opt->s1);
        if (nn__state_buffers(od) >= 2) nn__w_real(w, net, opt->s2);
        nn__w_floats(w, opt->fac, opt->n_fac);
    }
    nn__put_u32(crc, w->crc ^ 0xFFFFFFFFu);
    nn__w_bytes(w, crc, 4);
    nn__w_flush(w);
}

NNDEF nn_status nn_net_save_mem(const nn_net *net, const nn_optim *opt, void *buf,
                                size_t cap, size_t *size)
{
    nn__writer w;
    uint64_t P, total;
    nn_status st;
    if (!net || !size) return NN_ERR_INVALID;
    if ((st = nn__save_check(net, opt, &P, &total)) != NN_OK) return st;
    *size = (size_t)total;
    if (!buf) return NN_OK;
    if (cap < total) return NN_ERR_INVALID;
    memset(&w, 0, sizeof w);
    w.dst = (unsigned char *)buf;
    nn__serialize(&w, net, opt, P, total);
    NN_ASSERT(w.pos == total);
    return NN_OK;
}

/* One parsed and fully validated model; params and state point into the buffer. */
typedef struct nn__model {
    nn_net_desc          nd;
    nn_optim_desc        od;
    int                  has_opt, n_state;
    uint64_t             P, F, t, drop_state;   /* F: ADAFACTOR's factored floats */
    const unsigned char *params, *state, *fac;
} nn__model;

/* Bounded little-endian reader: reading past the end sets bad and yields zeros. */
typedef struct nn__reader {
    const unsigned char *p;
    size_t               n, pos;
    int                  bad;
} nn__reader;

static const unsigned char *nn__r_take(nn__reader *r, uint64_t n)
{
    const unsigned char *q;
    if (r->bad || n > (uint64_t)(r->n - r->pos)) {
        r->bad = 1;
        return NULL;
    }
    q = r->p + r->pos;
    r->pos += (size_t)n;
    return q;
}

static uint32_t nn__r_u32(nn__reader *r)
{
    const unsigned char *q = nn__r_take(r, 4);
    return q ? nn__get_u32(q) : 0;
}

static uint64_t nn__r_u64(nn__reader *r)
{
    const unsigned char *q = nn__r_take(r, 8);
    return q ? nn__get_u64(q) : 0;
}

static float nn__r_f32(nn__reader *r)
{
    return nn__bits_f32(nn__r_u32(r));
}

/* 1 if all n floats at p are finite (and >= 0 when nonneg). */
static int nn__floats_ok(const unsigned char *p, uint64_t n, int nonneg)
{
    uint64_t i;
    for (i = 0; i < n; i++, p += 4) {
        float v = nn__bits_f32(nn__get_u32(p));
        if (!isfinite(v) || (nonneg && v < 0.0f)) return 0;
    }
    return 1;
}

/* The resolved optimizer desc nn_optim_create accepts and leaves as it is. */
static int nn__optim_desc_ok(const nn_optim_desc *d)
{
    nn_optim_desc r = nn_optim_desc_defaults(d);
    if (r.lr != d->lr || r.momentum != d->momentum || r.beta1 != d->beta1 ||
        r.beta2 != d->beta2 || r.rho != d->rho || r.eps != d->eps ||
        r.weight_decay != d->weight_decay || r.eps2 != d->eps2 || r.clip != d->clip ||
        (d->explicit_lr != 0 && d->explicit_lr != 1) || !(d->eps2 < INFINITY) ||
        !(d->clip < INFINITY))
        return 0;
    return d->lr > 0.0f && d->lr < INFINITY && d->eps > 0.0f && d->eps < INFINITY &&
           nn__in01(d->momentum) && nn__in01(d->beta1) && nn__in01(d->beta2) &&
           nn__in01(d->rho) && d->weight_decay >= 0.0f && d->weight_decay < INFINITY;
}

/* Checks a whole model file in memory without allocating; fills m. */
static nn_status nn__parse(const unsigned char *b, size_t size, nn__model *m)
{
    nn__reader r;
    uint64_t fsize, in, P = 0;
    uint32_t flags, n_in, L, mb, loss, kind, version;
    uint64_t F = 0;
    int l;
    memset(m, 0, sizeof *m);
    if (size == 0) return NN_ERR_TRUNCATED;
    if (size < 8) return memcmp(b, nn__magic, size) == 0 ? NN_ERR_TRUNCATED : NN_ERR_MAGIC;
    if (memcmp(b, nn__magic, 8) != 0) return NN_ERR_MAGIC;
    if (size < 12) return NN_ERR_TRUNCATED;
    version = nn__get_u32(b + 8);
    if (version != 1u && version != NN__FORMAT_VERSION) return NN_ERR_VERSION;
    if (size < 24) return NN_ERR_TRUNCATED;
    fsize = nn__get_u64(b + 16);
    if (fsize > (uint64_t)size) return NN_ERR_TRUNCATED;
    if (fsize < (uint64_t)size) return NN_ERR_CORRUPT; /* bytes after the model */
    if (size < NN__HDR_FIXED + NN__HDR_LAYER + 12u) return NN_ERR_CORRUPT;
    if ((nn__crc32(0xFFFFFFFFu, b, size - 4) ^ 0xFFFFFFFFu) != nn__get_u32(b + size - 4))
        return NN_ERR_CRC;

    r.p = b;
    r.n = size - 4;
    r.pos = 24;
    r.bad = 0;
    flags = nn__get_u32(b + 12);
    if (flags & ~1u) return NN_ERR_CORRUPT;
    m->has_opt = (int)(flags & 1u);
    n_in = nn__r_u32(&r);
    L = nn__r_u32(&r);
    mb = nn__r_u32(&r);
    loss = nn__r_u32(&r);
    m->nd.l2 = nn__r_f32(&r);
    m->nd.seed = nn__r_u64(&r);
    m->drop_state = nn__r_u64(&r);
    if (L > NN_MAX_LAYERS || n_in > NN_MAX_UNITS || mb > NN_MAX_BATCH) return NN_ERR_LIMIT;
    if (L == 0 || n_in == 0 || mb == 0 || m->nd.seed == 0) return NN_ERR_CORRUPT;
    if (loss == 0 || loss >= NN_LOSS_COUNT || !isfinite(m->nd.l2)) return NN_ERR_CORRUPT;
    m->nd.n_inputs = (int)n_in;
    m->nd.max_batch = (int)mb;
    m->nd.loss = (nn_loss)loss;
    in = n_in;
    for (l = 0; l < (int)L; l++) {
        nn_layer_desc *ld = &m->nd.layers[l];
        uint32_t units = nn__r_u32(&r), act = nn__r_u32(&r);
        float ap = nn__r_f32(&r);
        uint32_t init = nn__r_u32(&r);
        float is = nn__r_f32(&r), dropout = nn__r_f32(&r);
        if (r.bad) return NN_ERR_CORRUPT;
        if (units > NN_MAX_UNITS) return NN_ERR_LIMIT;
        if (units == 0 || act == 0 || act >= NN_ACT_COUNT || init == 0 || init >= NN_INIT_COUNT ||
            !isfinite(ap) || !isfinite(is) || !isfinite(dropout))
            return NN_ERR_CORRUPT;
        ld->units = (int)units;
        ld->act = (nn_act)act;
        ld->act_param = ap;
        ld->init = (nn_init)init;
        ld->init_scale = is;
        ld->dropout = dropout;
        P += (uint64_t)units * (in + 1);
        F += 2 * (uint64_t)units + in;
        in = units;
    }
    if (P > (uint64_t)NN_MAX_PARAMS || nn__arena_floats(&m->nd, (int)L) > (uint64_t)NN_MAX_ARENA)
        return NN_ERR_LIMIT;
    if (nn__validate_desc(&m->nd) != NN_OK) return NN_ERR_CORRUPT;
    if (nn__r_u64(&r) != P) return NN_ERR_CORRUPT;
    m->P = P;
    m->params = nn__r_take(&r, 4 * P);
    if (m->has_opt) {
        kind = nn__r_u32(&r);
        m->od.lr = nn__r_f32(&r);
        m->od.momentum = nn__r_f32(&r);
        m->od.beta1 = nn__r_f32(&r);
        m->od.beta2 = nn__r_f32(&r);
        m->od.rho = nn__r_f32(&r);
        m->od.eps = nn__r_f32(&r);
        m->od.weight_decay = nn__r_f32(&r);
        if (version >= 2) {
            uint32_t e;
            m->od.eps2 = nn__r_f32(&r);
            m->od.clip = nn__r_f32(&r);
            e = nn__r_u32(&r);
            if (e > 1) return NN_ERR_CORRUPT;
            m->od.explicit_lr = (int)e;
        } else {
            m->od.eps2 = 1e-3f;     /* the defaults: no kind version 1 knew uses them */
            m->od.clip = 1.0f;
        }
        m->t = nn__r_u64(&r);
        m->n_state = (int)nn__r_u32(&r);   /* compared below, so any value is safe */
        if (r.bad) return NN_ERR_CORRUPT;
        if (kind == 0 || kind >= NN_OPTIM_COUNT || (version < 2 && kind > NN_OPTIM_ADAMW))
            return NN_ERR_CORRUPT;
        m->od.kind = (nn_optim_kind)kind;
        if (!nn__optim_desc_ok(&m->od) || (m->t >> 63) != 0 ||
            (uint32_t)m->n_state != (uint32_t)nn__state_buffers(&m->od))
            return NN_ERR_CORRUPT;
        m->state = nn__r_take(&r, 4 * P * (uint64_t)m->n_state);
        if (m->od.kind == NN_OPTIM_ADAFACTOR) {
            m->F = F;
            m->fac = nn__r_take(&r, 4 * F);
        }
    }
    if (r.bad || r.pos != r.n) return NN_ERR_CORRUPT;  /* sections do not add up */
    if (!nn__floats_ok(m->params, P, 0)) return NN_ERR_CORRUPT;
    if (m->n_state >= 1) {
        /* Adagrad, RMSProp and Adadelta accumulate squares: a negative one would give
           NaN steps */
        int sq = m->od.kind == NN_OPTIM_ADAGRAD || m->od.kind == NN_OPTIM_RMSPROP ||
                 m->od.kind == NN_OPTIM_ADADELTA;
        if (!nn__floats_ok(m->state, P, sq)) return NN_ERR_CORRUPT;
    }
    if (m->n_state >= 2 && !nn__floats_ok(m->state + 4 * P, P, 1)) return NN_ERR_CORRUPT;
    if (m->F && !nn__floats_ok(m->fac, m->F, 1)) return NN_ERR_CORRUPT;
    return NN_OK;
}

NNDEF nn_status nn_net_load_mem(const void *buf, size_t size, const nn_allocator *alloc,
                                nn_net **net_out, nn_optim **opt_out)
{
    nn__model m;
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    nn_status st;
    if (!buf || !net_out) return NN_ERR_INVALID;
    if (alloc && (alloc->alloc_fn == NULL) != (alloc->free_fn == NULL)) return NN_ERR_INVALID;
    if ((st = nn__parse((const unsigned char *)buf, size, &m)) != NN_OK) return st;
    if (alloc) m.nd.allocator = *alloc;
    /* the desc was validated above, so only NOMEM or BACKEND can fail here */
    if ((st = nn_net_create(&m.nd, &net)) != NN_OK) return st == NN_ERR_INVALID ? NN_ERR_CORRUPT : st;
    nn__r_real(net, net->params, m.params);
    net->drop_rng.s = m.drop_state;
    if (opt_out && m.has_opt) {
        if ((st = nn_optim_create(net, &m.od, &opt)) != NN_OK) {
            nn_net_destroy(net);
            return st == NN_ERR_INVALID ? NN_ERR_CORRUPT : st;
        }
        if (m.n_state >= 1) nn__r_real(net, opt->s1, m.state);
        if (m.n_state >= 2) nn__r_real(net, opt->s2, m.state + 4 * m.P);
        {
            size_t i;
            for (i = 0; i < opt->n_fac; i++) opt->fac[i] = nn__bits_f32(nn__get_u32(m.fac + 4 * i));
        }
        opt->t = (long long)m.t;
    }
    *net_out = net;
    if (opt_out) *opt_out = opt;
    return NN_OK;
}

#ifndef NN_NO_STDIO
/* Creates a new file named path + ".tmp." + 12 hex digits (tmp holds plen + 18 bytes),
   with permissions `mode` (POSIX; the umask applies). */
static FILE *nn__open_temp(const void *salt, const char *path, size_t plen, char *tmp,
                           unsigned mode)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t h = (uint64_t)(uintptr_t)salt ^ ((uint64_t)time(NULL) << 24) ^ (uint64_t)clock();
    int attempt, i;
#if NN__POSIX_IO
    h ^= (uint64_t)getpid() << 40;
#endif
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.", 5);
    for (attempt = 0; attempt < 64; attempt++) {
        nn_rng r;
        uint64_t v;
        FILE *f;
        nn_rng_seed(&r, h + (uint64_t)attempt);
        v = nn_rng_u64(&r);
        for (i = 0; i < 12; i++) tmp[plen + 5 + i] = hex[(v >> (4 * i)) & 15u];
        tmp[plen + 17] = '\0';
        if (NN__IO_FAULT()) return NULL;
#if NN__POSIX_IO
        {
            int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, (mode_t)mode);
            if (fd < 0) {
                if (errno == EEXIST) continue;
                return NULL;
            }
            f = fdopen(fd, "wb");
            if (!f) {
                close(fd);
                remove(tmp);
            }
            return f;
        }
#else
        (void)mode;
        f = fopen(tmp, "rb");
        if (f) {
            fclose(f);
            continue;
        }
        return fopen(tmp, "wb");
#endif
    }
    return NULL;
}

/* rename() replaces atomically on POSIX. Windows' refuses an existing target, so there the
   old file is removed first; 1 then means the old file is gone and tmp must be kept. */
static int nn__replace(const char *tmp, const char *path)
{
    if (rename(tmp, path) == 0) return 0;
#if defined(_WIN32)
    if (remove(path) == 0) return rename(tmp, path) == 0 ? 0 : 1;
#endif
    return -1;
}

#if NN__POSIX_IO
/* The file a save replaces: path, or where its chain of symbolic links ends (a relative
   link is resolved against the link's own directory), so that a link stays a link and
   its target gets the new contents. Returns a copy (net's allocator) or NULL with *st. */
static char *nn__save_target(const nn_net *net, const char *path, nn_status *st)
{
    size_t n = strlen(path);
    char *cur = (char *)nn_simd_alloc(&net->alloc, n + 1);
    int hops;
    if (!cur) { *st = NN_ERR_NOMEM; return NULL; }
    memcpy(cur, path, n + 1);
    for (hops = 0;; hops++) {
        struct stat sb;
        char *link, *next, *slash;
        size_t cap, dir;
        ssize_t got;
        if (lstat(cur, &sb) != 0 || !S_ISLNK(sb.st_mode)) return cur;  /* the end (or none yet) */
        if (hops == 40) break;                                          /* a loop, as ELOOP */
        cap = (size_t)sb.st_size + 2;
        if (cap < 64) cap = 64;
        for (;;) {                              /* st_size may be 0 or stale: grow until it fits */
            link = (char *)nn_simd_alloc(&net->alloc, cap);
            if (!link) { nn_simd_free(&net->alloc, cur); *st = NN_ERR_NOMEM; return NULL; }
            got = readlink(cur, link, cap);
            if (got < 0 || (size_t)got < cap || cap > ((size_t)1 << 20)) break;
            nn_simd_free(&net->alloc, link);
            cap *= 2;
        }
        if (got <= 0 || (size_t)got >= cap) { nn_simd_free(&net->alloc, link); break; }
        slash = strrchr(cur, '/');
        dir = link[0] == '/' || !slash ? 0 : (size_t)(slash - cur) + 1;  /* keeps the '/' */
        next = (char *)nn_simd_alloc(&net->alloc, dir + (size_t)got + 1);
        if (next) {
            memcpy(next, cur, dir);
            memcpy(next + dir, link, (size_t)got);
            next[dir + (size_t)got] = '\0';
        }
        nn_simd_free(&net->alloc, link);
        nn_simd_free(&net->alloc, cur);
        if (!next) { *st = NN_ERR_NOMEM; return NULL; }
        cur = next;
    }
    nn_simd_free(&net->alloc, cur);
    *st = NN_ERR_IO;
    return NULL;
}
#endif

NNDEF nn_status nn_net_save(const nn_net *net, const nn_optim *opt, const char *path)
{
    nn__writer w;
    uint64_t P, total;
    nn_status st;
    size_t plen;
    const char *target = path;
    char *tmp, *owned = NULL;
    FILE *f;
    int ok, bad, rc, keep = 0;
    unsigned mode = 0666;                /* a new file: the usual permissions (umask) */
    if (!net || !path || !*path) return NN_ERR_INVALID;
    if ((st = nn__save_check(net, opt, &P, &total)) != NN_OK) return st;
#if NN__POSIX_IO
    {
        struct stat sb;
        if (!(owned = nn__save_target(net, path, &st))) return st;
        target = owned;
        if (stat(target, &sb) == 0) {
            mode = (unsigned)sb.st_mode & 0777u;  /* no setuid/setgid/sticky for a new owner */
            keep = 1;
        }
    }
#endif
    plen = strlen(target);
    tmp = plen <= (size_t)-1 - 18 ? (char *)nn_simd_alloc(&net->alloc, plen + 18) : NULL;
    f = tmp ? nn__open_temp(net, target, plen, tmp, mode) : NULL;
#if NN__POSIX_IO
    /* the old file's exact mode (open applied the umask); if fchmod fails (a file
       system without modes), the umasked old bits: never wider than before */
    if (f && keep) (void)fchmod(fileno(f), (mode_t)mode);
#else
    (void)keep;
#endif
    if (!f) {
        nn_simd_free(&net->alloc, tmp);
        nn_simd_free(&net->alloc, owned);
        return tmp ? NN_ERR_IO : plen > (size_t)-1 - 18 ? NN_ERR_INVALID : NN_ERR_NOMEM;
    }
    memset(&w, 0, sizeof w);
    w.f = f;
    nn__serialize(&w, net, opt, P, total);
    ok = !w.failed;
    if (ok && (NN__IO_FAULT() || fflush(f) != 0)) ok = 0;
#if NN__POSIX_IO
    if (ok && (NN__IO_FAULT() || fsync(fileno(f)) != 0)) ok = 0;
#endif
    bad = ok && NN__IO_FAULT();
    if (fclose(f) != 0 || bad) ok = 0;
    rc = -1;
    if (ok && (NN__IO_FAULT() || (rc = nn__replace(tmp, target)) != 0)) ok = 0;
    if (!ok && rc != 1) remove(tmp);
    nn_simd_free(&net->alloc, tmp);
    nn_simd_free(&net->alloc, owned);
    return ok ? NN_OK : NN_ERR_IO;
}

NNDEF nn_status nn_net_load(const char *path, const nn_allocator *alloc, nn_net **net_out,
                            nn_optim **opt_out)
{
    FILE *f;
    long end;
    size_t n;
    unsigned char *buf;
    nn_status st;
    if (!path || !net_out) return NN_ERR_INVALID;
    if (alloc && (alloc->alloc_fn == NULL) != (alloc->free_fn == NULL)) return NN_ERR_INVALID;
    f = fopen(path, "rb");
    if (!f) return NN_ERR_IO;
    /* a first read tells a directory or unreadable file (NN_ERR_IO) from a large one */
    if ((getc(f) == EOF && ferror(f)) || fseek(f, 0, SEEK_END) != 0 || (end = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NN_ERR_IO;
    }
    if ((uint64_t)end > NN__MAX_FILE || (unsigned long)end > (size_t)-1) {
        fclose(f);
        return NN_ERR_LIMIT;
    }
    n = (size_t)end;
    buf = (unsigned char *)nn_simd_alloc(alloc, n);
    if (!buf) {
        fclose(f);
        return NN_ERR_NOMEM;
    }
    st = NN_OK;
    if (fread(buf, 1, n, f) != n || getc(f) != EOF || ferror(f)) st = NN_ERR_IO;
    fclose(f);
    if (st == NN_OK) st = nn_net_load_mem(buf, n, alloc, net_out, opt_out);
    nn_simd_free(alloc, buf);
    return st;
}
#endif /* NN_NO_STDIO */


/* >>names ------------------------------------------------------------------- */
NNDEF const char *nn_loss_name(nn_loss l)
{
    static const char *const names[NN_LOSS_COUNT] = { "default", "mse", "bce", "softmax_ce" };
    return ((int)l >= 0 && l < NN_LOSS_COUNT) ? names[l] : "?";
}

NNDEF const char *nn_optim_name(nn_optim_kind k)
{
    static const char *const names[NN_OPTIM_COUNT] = {
        "default", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
        "adadelta", "adafactor"
    };
    return ((int)k >= 0 && k < NN_OPTIM_COUNT) ? names[k] : "?";
}

#endif /* NN_IMPLEMENTATION */
