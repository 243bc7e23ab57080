/* nn_simd.h - v0.1 - CPU kernels for nn.h: GEMM, activations, softmax, reductions,
   optimizer updates. Backends: scalar (the reference), AVX2+FMA, AVX-512, NEON.

   QUICK START
      nn.h includes this file; most users never include it themselves. To use the
      kernels alone, in ONE C or C++ file:
          #define NN_SIMD_IMPLEMENTATION
          #include "nn_simd.h"
      and include it without the define everywhere else. (nn.h's NN_IMPLEMENTATION
      defines NN_SIMD_IMPLEMENTATION for you: define only one of the two.)

          nn_simd_gemm(0, 1, m, n, k, 1.0f, A, k, B, k, 0.0f, C, n);  // C = A * B^T

   OPTIONS (define before the implementing include)
      NN_MALLOC(sz) / NN_FREE(p)  default malloc/free; both or neither. The library
                                  builds 64-byte aligned allocation on top of them.
      NN_ASSERT(x)                default assert(x); for the library's own invariants only,
                                  never for user input (that gets an nn_status).
      NN_STATIC                   make every public function static to its file.
      NN_SIMD_NO_AVX2             leave the AVX2+FMA backend out of an x86-64 build (and
                                  with it the AVX-512 one, which builds on it).
      NN_SIMD_NO_AVX512           leave the AVX-512 backend out of an x86-64 build.
      NN_SIMD_NO_NEON             leave the NEON backend out of an aarch64 build.
      NN_SIMD_NO_SIMD             all of the above: scalar only.

   BACKENDS
      All kernels are reached through one table, chosen once (the library's only
      global state):
        1. nn_simd_set_backend() if the program called it;
        2. else the environment variable NN_BACKEND=scalar|avx2|avx512|neon; an unknown
           or unavailable name makes nn_simd_init() (and so nn_net_create) fail with
           NN_ERR_BACKEND: there is no silent fallback;
        3. else the best the CPU has: on x86-64 AVX-512 (AVX-512F with the OS saving
           the zmm and mask state), else AVX2+FMA, both detected at run time, so a plain
           -O2 build without -march uses them; NEON on aarch64; scalar otherwise.
      nn_simd_backend_name() tells which one is active.
      The avx512 backend is the avx2 one with 512-bit GEMM kernels (micro-kernels,
      packers, the unpacked path): its element-wise, softmax, reduction and optimizer
      kernels, and so their accuracy below, are avx2's.

   NUMERICS
      float32 throughout, row-major. The scalar backend is the reference: plain loops
      in a fixed order, no tricks. SIMD backends may use FMA and other summation orders;
      the tests bound their difference from a double-precision oracle.

   ACCURACY (exp, sigmoid, tanh)
      AVX2 and NEON use their own approximations, the same on both ISAs:
        exp      rr2_p6: n = round(x*log2e), r = x - n*ln2 in two FMA steps (Cody-Waite),
                 e^r = degree-6 polynomial (minimax fit, 4e-9 relative), times 2^n applied
                 as two factors so subnormal results are rounded once. Overflows to +inf
                 above x = 88.72 like libm, subnormal down to -103.97, then +0.
        sigmoid  rr2_p6_div: e = exp(-|z|), then 1/(1+e) or e/(1+e) with a true division;
                 exactly 1 above 17.3, exactly 0 below -103.97 (no inf/NaN on the way).
        tanh     p11_rr2_p6_div: |x| < 0.5493: x + x^3*Q(x^2) (odd degree 11, minimax);
                 else 1 - 2/(exp(2|x|)+1), sign restored; exactly +-1 above |x| = 9.01.
      All three propagate NaN, handle +-inf and -0 (tanh(-0) = -0), and give the same
      result for an element wherever it sits in the array (tails run the same code).
      The scalar backend calls libm (expf, tanhf) and is listed for comparison.

      Max error against double-precision libm (ulp of the correctly rounded float result;
      relative error where the result is normal), measured by tests/test_kernels.c over
      every 61st float in [-105, 105] (36.8M points, every 488th under qemu: 4.6M), 16
      points per binade over the whole float range, and the special values:

        backend  function  max ulp  max relative    where
        scalar   exp       0.50     5.96e-08        glibc expf
        scalar   sigmoid   2.33     1.70e-07        1/(1+expf(-z)), e/(1+e)
        scalar   tanh      2.12     1.65e-07        glibc tanhf
        avx2     exp       0.88     7.59e-08
        avx2     sigmoid   2.33     1.76e-07        (worst near z = -4.85)
        avx2     tanh      1.48     1.75e-07        (worst just above |x| = 0.5493)
        neon     exp       0.87     7.32e-08        (qemu-aarch64)
        neon     sigmoid   2.33     1.76e-07
        neon     tanh      1.37     1.63e-07
      The tests fail above 4 ulp. Softmax uses the same exp; its rows then carry the
      summation error too (the test allows (8 + cols) * FLT_EPSILON relative).
      Other kernels: identity, relu, leaky relu, hardtanh, sign (both directions) and
      col_sums are bit-identical to the scalar backend; axpy, sumsq, softmax backward and
      the optimizer updates use FMA and other summation orders (a few ulp, tested).

   LICENSE  MIT (see end of file).
*/
#ifndef NN_SIMD_H_INCLUDED
#define NN_SIMD_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifndef NN_SIMD_DEF
#  if defined(NN_STATIC) && (defined(__GNUC__) || defined(__clang__))
#    define NN_SIMD_DEF static __attribute__((unused)) /* no warning for the calls a file does not use */
#  elif defined(NN_STATIC)
#    define NN_SIMD_DEF static
#  else
#    define NN_SIMD_DEF extern
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* >>status ------------------------------------------------------------------ */
/* Every fallible call returns one of these. nn_status_str() gives the sentence. */
#define NN__STATUS_LIST(X)                                                          \
    X(OK,            "ok")                                                          \
    X(ERR_INVALID,   "invalid argument (NULL pointer, zero/negative size, bad option)") \
    X(ERR_SHAPE,     "sizes do not match")                                          \
    X(ERR_BATCH,     "batch is larger than the network's max_batch")                \
    X(ERR_NOMEM,     "out of memory")                                               \
    X(ERR_NONFINITE, "non-finite loss or gradient; nothing was changed")            \
    X(ERR_BACKEND,   "requested SIMD backend is unknown or not available here")     \
    X(ERR_IO,        "file could not be opened, read or written")                   \
    X(ERR_FORMAT,    "data is not in the expected format")                          \
    X(ERR_MAGIC,     "not an nn.h model (bad magic number)")                        \
    X(ERR_VERSION,   "model format version not supported by this build")            \
    X(ERR_TRUNCATED, "file or buffer ends too early")                               \
    X(ERR_CRC,       "checksum mismatch: the data is corrupt")                      \
    X(ERR_LIMIT,     "sizes beyond the documented limits, or overflowing")          \
    X(ERR_CORRUPT,   "invalid contents (unknown id or non-finite value)")       \
    X(ERR_COMM,      "communication with the other processes failed")

typedef enum nn_status {
#define NN__STATUS_ENUM(name, text) NN_##name,
    NN__STATUS_LIST(NN__STATUS_ENUM)
#undef NN__STATUS_ENUM
    NN_STATUS_COUNT
} nn_status;

NN_SIMD_DEF const char *nn_status_str(nn_status s);

/* >>types ------------------------------------------------------------------- */
/* Activations. The kernels and the network share these ids. Every derivative is
   computed from the activation's OUTPUT y, so pre-activations need not be kept:
     IDENTITY    y = z                          g' = 1
     SIGMOID     y = 1/(1+e^-z)                 g' = y(1-y)
     TANH        y = tanh z                     g' = 1-y^2
     RELU        y = max(z,0)                   g' = [y>0]
     LEAKY_RELU  y = z>0 ? z : a*z  (0<=a<1)    g' = y>0 ? 1 : a
     HARDTANH    y = min(max(z,-1),1)           g' = [|y|<1]
     SIGN        y = -1, 0 or 1                 g' = 0
     SOFTMAX     y_i = e^z_i / sum_j e^z_j over a row (max subtracted first);
                 backward: dz_i = y_i (dy_i - sum_j dy_j y_j)                      */
typedef enum nn_act {
    NN_ACT_DEFAULT = 0, /* in a desc: resolved by the library (see nn.h) */
    NN_ACT_IDENTITY,
    NN_ACT_SIGMOID,
    NN_ACT_TANH,
    NN_ACT_RELU,
    NN_ACT_LEAKY_RELU,
    NN_ACT_HARDTANH,
    NN_ACT_SIGN,
    NN_ACT_SOFTMAX,
    NN_ACT_COUNT
} nn_act;

NN_SIMD_DEF const char *nn_act_name(nn_act a); /* "relu", ...; "?" if out of range */

/* Allocator hook carried by descs. alloc_fn must return memory aligned to `align`
   (a power of two, at most 4096) or NULL. Both functions or neither. */
typedef struct nn_allocator {
    void *(*alloc_fn)(size_t size, size_t align, void *user);
    void  (*free_fn)(void *ptr, void *user);
    void   *user;
} nn_allocator;

typedef enum nn_simd_backend {
    NN_SIMD_BACKEND_AUTO = 0, /* best available (or NN_BACKEND) */
    NN_SIMD_BACKEND_SCALAR,
    NN_SIMD_BACKEND_AVX2,
    NN_SIMD_BACKEND_NEON,
    NN_SIMD_BACKEND_AVX512,
    NN_SIMD_BACKEND_COUNT
} nn_simd_backend;

/* >>api --------------------------------------------------------------------- */
/* Chooses the backend once (see BACKENDS). Idempotent and cheap after the first call.
   NN_ERR_BACKEND if NN_BACKEND names something unknown or unavailable. */
NN_SIMD_DEF nn_status nn_simd_init(void);
/* Forces a backend (AUTO re-runs detection, ignoring NN_BACKEND). NN_ERR_BACKEND and
   no change if it is not compiled in or the CPU lacks it. Not thread-safe: call it
   before starting work. */
NN_SIMD_DEF nn_status nn_simd_set_backend(nn_simd_backend b);
/* Same, by name: "auto", "scalar", "avx2", "avx512", "neon". */
NN_SIMD_DEF nn_status nn_simd_set_backend_name(const char *name);
NN_SIMD_DEF int nn_simd_backend_available(nn_simd_backend b);
NN_SIMD_DEF nn_simd_backend nn_simd_backend_active(void);
NN_SIMD_DEF const char *nn_simd_backend_name(void);     /* of the active backend */
NN_SIMD_DEF const char *nn_simd_backend_str(nn_simd_backend b);

/* Threads (OpenMP builds; without -fopenmp everything runs on the calling thread).
   A kernel call (a GEMM, an activation over a batch, an optimizer update) runs as one
   OpenMP parallel region over at most this many threads, and on one thread when it is
   too small to pay for them. n = 0 restores the default: omp_get_max_threads(), i.e.
   OMP_NUM_THREADS or the available cores. Results are bit-identical for every thread
   count (no reduction is split across threads). Inside a caller's own parallel region
   the kernels use one thread. When another process keeps a core busy, the kernels
   notice threads held up and fall back to one thread for a while (see README
   "Threads"). Not thread-safe: call it before starting work. */
NN_SIMD_DEF void nn_simd_set_threads(int n);
/* The thread count kernel calls may use: the value set, else omp_get_max_threads();
   1 in a build without OpenMP. */
NN_SIMD_DEF int nn_simd_get_threads(void);

/* C = act(alpha * op(A) * op(B) + beta * C + bias), row-major.
   op(A) is m x k: A is m x k (lda >= k) if transa == 0, else k x m (lda >= m).
   op(B) is k x n: B is k x n (ldb >= n) if transb == 0, else n x k (ldb >= k).
   C is m x n, ldc >= n. beta == 0 never reads C (it may hold NaN).
   bias: NULL or n floats added to every row. act: NN_ACT_DEFAULT or IDENTITY for none,
   any element-wise activation (act_param is the leaky slope), or SOFTMAX over rows.
   m, n or k == 0 is allowed (k == 0 gives C = beta*C + bias, then act). */
NN_SIMD_DEF nn_status nn_simd_gemm_ex(int transa, int transb, int m, int n, int k,
                                      float alpha, const float *A, int lda,
                                      const float *B, int ldb, float beta,
                                      float *C, int ldc,
                                      const float *bias, nn_act act, float act_param);
NN_SIMD_DEF nn_status nn_simd_gemm(int transa, int transb, int m, int n, int k,
                                   float alpha, const float *A, int lda,
                                   const float *B, int ldb, float beta,
                                   float *C, int ldc);

/* y[i] = g(x[i]) for i < n (y may equal x). param: leaky slope. SOFTMAX is not
   element-wise: use nn_simd_softmax_rows. */
NN_SIMD_DEF nn_status nn_simd_act_forward(nn_act act, float param, const float *x,
                                          float *y, size_t n);
/* dx[i] = dy[i] * g'(y[i]), from the activation output y (dx may equal dy). */
NN_SIMD_DEF nn_status nn_simd_act_backward(nn_act act, float param, const float *y,
                                           const float *dy, float *dx, size_t n);
/* Row-wise softmax of a rows x cols block (contiguous rows; y may equal x). */
NN_SIMD_DEF nn_status nn_simd_softmax_rows(const float *x, float *y, int rows, int cols);
/* dx = y * (dy - rowsum(dy * y)), row-wise (dx may equal dy). */
NN_SIMD_DEF nn_status nn_simd_softmax_backward_rows(const float *y, const float *dy,
                                                    float *dx, int rows, int cols);
/* out[j] = sum_i x[i*ldx + j], i < rows, j < cols (bias gradients). */
NN_SIMD_DEF nn_status nn_simd_col_sums(const float *x, int rows, int cols, int ldx,
                                       float *out);
/* y += a*x */
NN_SIMD_DEF nn_status nn_simd_axpy(size_t n, float a, const float *x, float *y);
/* sum of x[i]^2, accumulated in double in a fixed order */
NN_SIMD_DEF double nn_simd_sumsq(const float *x, size_t n);
/* 1 if every x[i] is finite, else 0 */
NN_SIMD_DEF int nn_simd_all_finite(const float *x, size_t n);

/* Optimizer updates on flat buffers (w weights, g gradients, state of the same length).
   lr is the learning rate eta; wd a decoupled weight decay applied first:
   w <- w - lr*wd*w (0 for none). Formulas are in nn.h (>>optim). */
typedef struct nn_simd_optim_args {
    float lr;       /* eta */
    float wd;       /* decoupled weight decay (AdamW); 0 = none */
    float mu;       /* momentum gamma (SGD momentum / Nesterov) */
    float beta1;    /* Adam first-moment decay */
    float beta2;    /* Adam second-moment decay; RMSProp and Adadelta decay rho */
    float eps;      /* added to the square root in Adagrad/RMSProp/Adam; inside both
                       square roots in Adadelta */
    float bc1;      /* Adam: 1/(1 - beta1^t) */
    float bc2;      /* Adam: 1/(1 - beta2^t) */
} nn_simd_optim_args;

typedef enum nn_simd_optim {
    NN_SIMD_OPTIM_SGD = 0,    /* w -= lr*g                                       */
    NN_SIMD_OPTIM_MOMENTUM,   /* v = mu*v + lr*g; w -= v                          */
    NN_SIMD_OPTIM_NESTEROV,   /* v = mu*v + lr*g; w -= mu*v + lr*g                */
    NN_SIMD_OPTIM_ADAGRAD,    /* s += g^2; w -= lr*g/(sqrt(s)+eps)                */
    NN_SIMD_OPTIM_RMSPROP,    /* s = b2*s + (1-b2)g^2; w -= lr*g/(sqrt(s)+eps)    */
    NN_SIMD_OPTIM_ADAM,       /* m,v moments; w -= lr*(m*bc1)/(sqrt(v*bc2)+eps)   */
    NN_SIMD_OPTIM_ADADELTA,   /* s = b2*s + (1-b2)g^2; u = sqrt(d+eps)/sqrt(s+eps)*g;
                                 d = b2*d + (1-b2)u^2; w -= lr*u                  */
    NN_SIMD_OPTIM_COUNT
} nn_simd_optim;

/* s1, s2: state buffers (s1 for momentum/Adagrad/RMSProp/Adam m/Adadelta E[g^2], s2
   for Adam v/Adadelta E[dx^2]); unused ones may be NULL. */
NN_SIMD_DEF nn_status nn_simd_optim_update(nn_simd_optim kind, const nn_simd_optim_args *args,
                                           float *w, const float *g, float *s1, float *s2,
                                           size_t n);

/* Aligned allocation through the hooks (a zero allocator means NN_MALLOC/NN_FREE). */
NN_SIMD_DEF void *nn_simd_alloc(const nn_allocator *a, size_t size);
NN_SIMD_DEF void  nn_simd_free(const nn_allocator *a, void *p);

#ifdef __cplusplus
}
#endif
#endif /* NN_SIMD_H_INCLUDED */

/* =========================================================================== */
/*                              IMPLEMENTATION                                 */
/* =========================================================================== */
#if defined(NN_SIMD_IMPLEMENTATION) && !defined(NN_SIMD_IMPLEMENTATION_INCLUDED)
#define NN_SIMD_IMPLEMENTATION_INCLUDED

/* >>config ------------------------------------------------------------------ */
#include <math.h>
#if defined(_OPENMP) && defined(__linux__) && !defined(NN_NO_STDIO)
#  define NN__PAR_PROBE 1
#  include <dirent.h> /* nn__par_contended */
#  include <stdio.h>
#endif
#include <string.h>
#include <stdlib.h>

#if defined(NN_MALLOC) != defined(NN_FREE)
#  error "nn_simd.h: define both NN_MALLOC and NN_FREE, or neither"
#endif
#ifndef NN_MALLOC
#  define NN_MALLOC(sz) malloc(sz)
#  define NN_FREE(p) free(p)
#endif
#ifndef NN_ASSERT
#  include <assert.h>
#  define NN_ASSERT(x) assert(x)
#endif

#ifdef NN_SIMD_NO_SIMD
#  ifndef NN_SIMD_NO_AVX2
#    define NN_SIMD_NO_AVX2
#  endif
#  ifndef NN_SIMD_NO_AVX512
#    define NN_SIMD_NO_AVX512
#  endif
#  ifndef NN_SIMD_NO_NEON
#    define NN_SIMD_NO_NEON
#  endif
#endif

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__)) \
    && !defined(NN_SIMD_NO_AVX2)
#  define NN__HAS_AVX2 1
#else
#  define NN__HAS_AVX2 0
#endif
/* AVX-512 builds on the AVX2 backend's kernels: without AVX2 there is none */
#if NN__HAS_AVX2 && !defined(NN_SIMD_NO_AVX512)
#  define NN__HAS_AVX512 1
#else
#  define NN__HAS_AVX512 0
#endif
#if defined(__aarch64__) && defined(__ARM_NEON) && !defined(NN_SIMD_NO_NEON)
#  define NN__HAS_NEON 1
#else
#  define NN__HAS_NEON 0
#endif

#ifdef _OPENMP
#  include <omp.h>
#endif

#define NN__MIN(a, b) ((a) < (b) ? (a) : (b))
#define NN__MAX(a, b) ((a) > (b) ? (a) : (b))
#define NN__ALIGN 64

/* Every kernel below is defined under its own full name, so grep finds its definition:
     nn__<op>__<isa>[_<method>]    e.g. nn__relu_fwd__avx2, nn__tanh_fwd__neon_p11_rr2_p6_div
     nn__<op><lanes>__<isa>        its lane function, e.g. nn__relu8__avx2, nn__adam4__neon
     nn__sgemm_<MR>x<NR>[_pf|_pfn]__<isa>
                                   GEMM micro-kernels (nn__ukr_fn), one per tile height,
                                   A and B strides at run time; _pf also prefetches C
                                   and B rows ahead, _pfn B columns ahead
     nn__sgemm_pack_a<MR>_rows/_cols__<isa>, nn__sgemm_pack_b<NR>_rows/_cols__<isa>
                                   packers (nn__gemm_cfg.pack_*)
   Kernels that share code are tiny named functions over one body: a `static NN__INLINE`
   function taking the differences (MR, strides) as constant arguments, which the
   compiler specializes per caller (GEMM micro-kernels, packers), or, for the
   element-wise and optimizer loops, a statement macro around a direct call of the
   lane function (an inline body taking it as a function pointer compiled to slightly
   different code). NN__NOINLINE keeps a kernel out of line where its caller would
   otherwise absorb it (GEMM micro-kernels: inlined into the driver, gcc keeps driver
   values in vector registers and spills an accumulator). */
#if defined(__GNUC__) || defined(__clang__)
#  define NN__INLINE inline __attribute__((always_inline))
#  define NN__NOINLINE __attribute__((noinline))
#else
#  define NN__INLINE inline
#  define NN__NOINLINE
#endif

/* A caller-owned GEMM workspace (nn.h: one per network), grown on demand to the
   largest packing buffer a call has needed and then reused, so a training step in the
   steady state allocates nothing. NULL: a call that needs more than the stack buffer
   allocates its own. Not shared between threads. */
typedef struct nn__gemm_ws {
    float       *p;
    size_t       cap;   /* usable floats at p (64-byte aligned) */
    nn_allocator alloc; /* used for p */
    long         grows; /* times p was (re)allocated */
} nn__gemm_ws;

/* Signatures shared by every backend's kernels. */
typedef void (*nn__gemm_fn)(int transa, int transb, int m, int n, int k, float alpha,
                            const float *A, int lda, const float *B, int ldb, float beta,
                            float *C, int ldc, const float *bias, nn_act act, float act_param,
                            nn__gemm_ws *ws);
typedef void (*nn__act_fwd_fn)(const float *x, float *y, size_t n, float param);
typedef void (*nn__act_bwd_fn)(const float *y, const float *dy, float *dx, size_t n, float param);
typedef void (*nn__softmax_fn)(const float *x, float *y, int rows, int cols);
typedef void (*nn__softmax_bwd_fn)(const float *y, const float *dy, float *dx, int rows, int cols);
typedef void (*nn__col_sums_fn)(const float *x, int rows, int cols, int ldx, float *out);
typedef void (*nn__axpy_fn)(size_t n, float a, const float *x, float *y);
typedef double (*nn__sumsq_fn)(const float *x, size_t n);
typedef int (*nn__all_finite_fn)(const float *x, size_t n);
typedef void (*nn__optim_fn)(const nn_simd_optim_args *p, float *w, const float *g,
                             float *s1, float *s2, size_t n);

/* One backend = one table. Filled from the scalar reference first, then the slots an
   ISA implements are overridden, so a backend can never have a gap. */
typedef struct nn__backend {
    const char        *name;
    nn_simd_backend    id;
    nn__gemm_fn        gemm;
    nn__act_fwd_fn     act_fwd[NN_ACT_COUNT];  /* element-wise ids; SOFTMAX slot unused */
    nn__act_bwd_fn     act_bwd[NN_ACT_COUNT];
    nn__softmax_fn     softmax_rows;
    nn__softmax_bwd_fn softmax_bwd_rows;
    nn__col_sums_fn    col_sums;
    nn__axpy_fn        axpy;
    nn__sumsq_fn       sumsq;
    nn__all_finite_fn  all_finite;
    nn__optim_fn       optim[NN_SIMD_OPTIM_COUNT];
} nn__backend;

/* >>scalar ------------------------------------------------------------------ */
/* The reference backend: written to be read. Every SIMD kernel is tested against the
   semantics below (and against a double-precision oracle in tests/). */

static float nn__sigmoid1(float z)
{
    /* exp of a non-positive argument never overflows; both branches are exact limits
       of the same function, so sigmoid saturates to 0 and 1 and NaN propagates. */
    if (z >= 0.0f) {
        return 1.0f / (1.0f + expf(-z));
    } else {
        float e = expf(z);
        return e / (1.0f + e);
    }
}

static float nn__act1(nn_act act, float z, float param)
{
    switch (act) {
    case NN_ACT_SIGMOID:    return nn__sigmoid1(z);
    case NN_ACT_TANH:       return tanhf(z);
    case NN_ACT_RELU:       return z > 0.0f ? z : (z == z ? 0.0f : z);
    case NN_ACT_LEAKY_RELU: return z > 0.0f ? z : param * z;
    case NN_ACT_HARDTANH:   return z > 1.0f ? 1.0f : (z < -1.0f ? -1.0f : z);
    case NN_ACT_SIGN:       return z > 0.0f ? 1.0f : (z < 0.0f ? -1.0f : (z == z ? 0.0f : z));
    default:                return z;
    }
}

/* g'(y) from the output y */
static float nn__dact1(nn_act act, float y, float param)
{
    switch (act) {
    case NN_ACT_SIGMOID:    return y * (1.0f - y);
    case NN_ACT_TANH:       return 1.0f - y * y;
    case NN_ACT_RELU:       return y > 0.0f ? 1.0f : 0.0f;
    case NN_ACT_LEAKY_RELU: return y > 0.0f ? 1.0f : param;
    case NN_ACT_HARDTANH:   return (y > -1.0f && y < 1.0f) ? 1.0f : 0.0f;
    case NN_ACT_SIGN:       return 0.0f;
    default:                return 1.0f;
    }
}

/* y = g(x) and dx = dy * g'(y), one kernel per activation (nn__act1 and nn__dact1 fold
   to the one case). */
static void nn__identity_fwd__scalar(const float *x, float *y, size_t n, float p)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = nn__act1(NN_ACT_IDENTITY, x[i], p);
}
static void nn__sigmoid_fwd__scalar(const float *x, float *y, size_t n, float p)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = nn__act1(NN_ACT_SIGMOID, x[i], p);
}
static void nn__tanh_fwd__scalar(const float *x, float *y, size_t n, float p)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = nn__act1(NN_ACT_TANH, x[i], p);
}
static void nn__relu_fwd__scalar(const float *x, float *y, size_t n, float p)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = nn__act1(NN_ACT_RELU, x[i], p);
}
static void nn__leaky_relu_fwd__scalar(const float *x, float *y, size_t n, float p)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = nn__act1(NN_ACT_LEAKY_RELU, x[i], p);
}
static void nn__hardtanh_fwd__scalar(const float *x, float *y, size_t n, float p)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = nn__act1(NN_ACT_HARDTANH, x[i], p);
}
static void nn__sign_fwd__scalar(const float *x, float *y, size_t n, float p)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = nn__act1(NN_ACT_SIGN, x[i], p);
}
static void nn__identity_bwd__scalar(const float *y, const float *dy, float *dx, size_t n, float p)
{
    size_t i;
    for (i = 0; i < n; i++) dx[i] = dy[i] * nn__dact1(NN_ACT_IDENTITY, y[i], p);
}
static void nn__sigmoid_bwd__scalar(const float *y, const float *dy, float *dx, size_t n, float p)
{
    size_t i;
    for (i = 0; i < n; i++) dx[i] = dy[i] * nn__dact1(NN_ACT_SIGMOID, y[i], p);
}
static void nn__tanh_bwd__scalar(const float *y, const float *dy, float *dx, size_t n, float p)
{
    size_t i;
    for (i = 0; i < n; i++) dx[i] = dy[i] * nn__dact1(NN_ACT_TANH, y[i], p);
}
static void nn__relu_bwd__scalar(const float *y, const float *dy, float *dx, size_t n, float p)
{
    size_t i;
    for (i = 0; i < n; i++) dx[i] = dy[i] * nn__dact1(NN_ACT_RELU, y[i], p);
}
static void nn__leaky_relu_bwd__scalar(const float *y, const float *dy, float *dx, size_t n, float p)
{
    size_t i;
    for (i = 0; i < n; i++) dx[i] = dy[i] * nn__dact1(NN_ACT_LEAKY_RELU, y[i], p);
}
static void nn__hardtanh_bwd__scalar(const float *y, const float *dy, float *dx, size_t n, float p)
{
    size_t i;
    for (i = 0; i < n; i++) dx[i] = dy[i] * nn__dact1(NN_ACT_HARDTANH, y[i], p);
}
static void nn__sign_bwd__scalar(const float *y, const float *dy, float *dx, size_t n, float p)
{
    size_t i;
    for (i = 0; i < n; i++) dx[i] = dy[i] * nn__dact1(NN_ACT_SIGN, y[i], p);
}

/* x, y: [rows][cols] */
static void nn__softmax_rows__scalar(const float *x, float *y, int rows, int cols)
{
    int i, j;
    for (i = 0; i < rows; i++) {
        const float *xr = x + (size_t)i * cols;
        float *yr = y + (size_t)i * cols;
        float mx = xr[0], sum = 0.0f, inv;
        for (j = 1; j < cols; j++) mx = xr[j] > mx ? xr[j] : mx;
        for (j = 0; j < cols; j++) {
            yr[j] = expf(xr[j] - mx);
            sum += yr[j];
        }
        inv = 1.0f / sum;
        for (j = 0; j < cols; j++) yr[j] *= inv;
    }
}

static void nn__softmax_bwd_rows__scalar(const float *y, const float *dy, float *dx,
                                         int rows, int cols)
{
    int i, j;
    for (i = 0; i < rows; i++) {
        const float *yr = y + (size_t)i * cols, *dyr = dy + (size_t)i * cols;
        float *dxr = dx + (size_t)i * cols;
        float dot = 0.0f;
        for (j = 0; j < cols; j++) dot += dyr[j] * yr[j];
        for (j = 0; j < cols; j++) dxr[j] = yr[j] * (dyr[j] - dot);
    }
}

/* Applies bias and activation to an m x n block of C (row stride ldc). */
static void nn__epilogue__scalar(float *C, int ldc, int m, int n, const float *bias,
                                 nn_act act, float act_param)
{
    int i, j;
    for (i = 0; i < m; i++) {
        float *c = C + (size_t)i * ldc;
        if (bias)
            for (j = 0; j < n; j++) c[j] += bias[j];
        if (act == NN_ACT_SOFTMAX)
            nn__softmax_rows__scalar(c, c, 1, n);
        else if (act != NN_ACT_IDENTITY && act != NN_ACT_DEFAULT)
            for (j = 0; j < n; j++) c[j] = nn__act1(act, c[j], act_param);
    }
}

/* The GEMM specification: C = act(alpha*op(A)*op(B) + beta*C + bias).
   Each C element is one dot product summed in increasing p. */
static void nn__gemm__scalar(int transa, int transb, int m, int n, int k, float alpha,
                             const float *A, int lda, const float *B, int ldb, float beta,
                             float *C, int ldc, const float *bias, nn_act act, float act_param,
                             nn__gemm_ws *ws)
{
    int i, j, p;
    (void)ws;
    for (i = 0; i < m; i++) {
        for (j = 0; j < n; j++) {
            float acc = 0.0f, *c = &C[(size_t)i * ldc + j];
            for (p = 0; p < k; p++) {
                float a = transa ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
                float b = transb ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
                acc += a * b;
            }
            *c = (beta == 0.0f) ? alpha * acc : alpha * acc + beta * *c;
        }
    }
    nn__epilogue__scalar(C, ldc, m, n, bias, act, act_param);
}

/* x: [rows][ldx], out: [cols] */
static void nn__col_sums__scalar(const float *x, int rows, int cols, int ldx, float *out)
{
    int i, j;
    for (j = 0; j < cols; j++) out[j] = 0.0f;
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++) out[j] += x[(size_t)i * ldx + j];
}

static void nn__axpy__scalar(size_t n, float a, const float *x, float *y)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] += a * x[i];
}

static double nn__sumsq__scalar(const float *x, size_t n)
{
    double s = 0.0;
    size_t i;
    for (i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}

static int nn__all_finite__scalar(const float *x, size_t n)
{
    /* x - x is 0 for every finite x and NaN for +-inf and NaN. */
    float acc = 0.0f;
    size_t i;
    for (i = 0; i < n; i++) acc += x[i] - x[i];
    return acc == 0.0f;
}

static void nn__sgd__scalar(const nn_simd_optim_args *p, float *w, const float *g,
                            float *s1, float *s2, size_t n)
{
    size_t i;
    (void)s1; (void)s2;
    for (i = 0; i < n; i++) {
        w[i] -= p->lr * p->wd * w[i];
        w[i] -= p->lr * g[i];
    }
}

static void nn__momentum__scalar(const nn_simd_optim_args *p, float *w, const float *g,
                                 float *v, float *s2, size_t n)
{
    size_t i;
    (void)s2;
    for (i = 0; i < n; i++) {
        w[i] -= p->lr * p->wd * w[i];
        v[i] = p->mu * v[i] + p->lr * g[i];
        w[i] -= v[i];
    }
}

static void nn__nesterov__scalar(const nn_simd_optim_args *p, float *w, const float *g,
                                 float *v, float *s2, size_t n)
{
    size_t i;
    (void)s2;
    for (i = 0; i < n; i++) {
        w[i] -= p->lr * p->wd * w[i];
        v[i] = p->mu * v[i] + p->lr * g[i];
        w[i] -= p->mu * v[i] + p->lr * g[i];
    }
}

static void nn__adagrad__scalar(const nn_simd_optim_args *p, float *w, const float *g,
                                float *s, float *s2, size_t n)
{
    size_t i;
    (void)s2;
    for (i = 0; i < n; i++) {
        w[i] -= p->lr * p->wd * w[i];
        s[i] += g[i] * g[i];
        w[i] -= p->lr * g[i] / (sqrtf(s[i]) + p->eps);
    }
}

static void nn__rmsprop__scalar(const nn_simd_optim_args *p, float *w, const float *g,
                                float *s, float *s2, size_t n)
{
    size_t i;
    (void)s2;
    for (i = 0; i < n; i++) {
        w[i] -= p->lr * p->wd * w[i];
        s[i] = p->beta2 * s[i] + (1.0f - p->beta2) * g[i] * g[i];
        w[i] -= p->lr * g[i] / (sqrtf(s[i]) + p->eps);
    }
}

static void nn__adam__scalar(const nn_simd_optim_args *p, float *w, const float *g,
                             float *m, float *v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        w[i] -= p->lr * p->wd * w[i];
        m[i] = p->beta1 * m[i] + (1.0f - p->beta1) * g[i];
        v[i] = p->beta2 * v[i] + (1.0f - p->beta2) * g[i] * g[i];
        w[i] -= p->lr * (m[i] * p->bc1) / (sqrtf(v[i] * p->bc2) + p->eps);
    }
}

static void nn__adadelta__scalar(const nn_simd_optim_args *p, float *w, const float *g,
                                 float *s, float *d, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float u;
        w[i] -= p->lr * p->wd * w[i];
        s[i] = p->beta2 * s[i] + (1.0f - p->beta2) * g[i] * g[i];
        u = sqrtf(d[i] + p->eps) / sqrtf(s[i] + p->eps) * g[i];
        d[i] = p->beta2 * d[i] + (1.0f - p->beta2) * u * u;
        w[i] -= p->lr * u;
    }
}

static void nn__backend_init_scalar(nn__backend *b)
{
    memset(b, 0, sizeof *b);
    b->name = "scalar";
    b->id = NN_SIMD_BACKEND_SCALAR;
    b->gemm = nn__gemm__scalar;
    b->act_fwd[NN_ACT_DEFAULT] = nn__identity_fwd__scalar;
    b->act_bwd[NN_ACT_DEFAULT] = nn__identity_bwd__scalar;
    b->act_fwd[NN_ACT_IDENTITY] = nn__identity_fwd__scalar;
    b->act_bwd[NN_ACT_IDENTITY] = nn__identity_bwd__scalar;
    b->act_fwd[NN_ACT_SIGMOID] = nn__sigmoid_fwd__scalar;
    b->act_bwd[NN_ACT_SIGMOID] = nn__sigmoid_bwd__scalar;
    b->act_fwd[NN_ACT_TANH] = nn__tanh_fwd__scalar;
    b->act_bwd[NN_ACT_TANH] = nn__tanh_bwd__scalar;
    b->act_fwd[NN_ACT_RELU] = nn__relu_fwd__scalar;
    b->act_bwd[NN_ACT_RELU] = nn__relu_bwd__scalar;
    b->act_fwd[NN_ACT_LEAKY_RELU] = nn__leaky_relu_fwd__scalar;
    b->act_bwd[NN_ACT_LEAKY_RELU] = nn__leaky_relu_bwd__scalar;
    b->act_fwd[NN_ACT_HARDTANH] = nn__hardtanh_fwd__scalar;
    b->act_bwd[NN_ACT_HARDTANH] = nn__hardtanh_bwd__scalar;
    b->act_fwd[NN_ACT_SIGN] = nn__sign_fwd__scalar;
    b->act_bwd[NN_ACT_SIGN] = nn__sign_bwd__scalar;
    b->softmax_rows = nn__softmax_rows__scalar;
    b->softmax_bwd_rows = nn__softmax_bwd_rows__scalar;
    b->col_sums = nn__col_sums__scalar;
    b->axpy = nn__axpy__scalar;
    b->sumsq = nn__sumsq__scalar;
    b->all_finite = nn__all_finite__scalar;
    b->optim[NN_SIMD_OPTIM_SGD] = nn__sgd__scalar;
    b->optim[NN_SIMD_OPTIM_MOMENTUM] = nn__momentum__scalar;
    b->optim[NN_SIMD_OPTIM_NESTEROV] = nn__nesterov__scalar;
    b->optim[NN_SIMD_OPTIM_ADAGRAD] = nn__adagrad__scalar;
    b->optim[NN_SIMD_OPTIM_RMSPROP] = nn__rmsprop__scalar;
    b->optim[NN_SIMD_OPTIM_ADAM] = nn__adam__scalar;
    b->optim[NN_SIMD_OPTIM_ADADELTA] = nn__adadelta__scalar;
}

/* >>threads: OpenMP --------------------------------------------------------- */
/* How the kernels use threads (nn_simd_set_threads; built without OpenMP, this section
   compiles to plain calls on the calling thread):
     - a kernel call runs as one OpenMP parallel region of nt threads, nt = the threads
       set, capped by work / a per-thread minimum (small calls stay on one thread), and
       1 inside a caller's own parallel region (no nested teams);
     - work is cut only where the cut cannot change the arithmetic: whole micro-panels
       of a GEMM's C, 16-float groups of element-wise arrays, whole rows (softmax),
       whole 16-column groups (col_sums); no reduction is ever split, so results are
       bit-identical for any thread count and without OpenMP;
     - thread t of nt runs part t of nt contiguous parts (nn__par_range), the same part
       of the same call every time, so its data is in its own cache;
     - the regions live here, outside the ISA target regions (an outlined OpenMP body
       does not inherit clang's target attribute), and call the kernels through the
       backend table;
     - one contention guard (nn__par_after): when another process keeps a core busy,
       regions wait for a descheduled thread; after two such stalls the kernels run on
       the calling thread for a while. Results do not depend on it. */

/* Per-thread minimums below which a call stays on fewer threads (bench_threads
   --only thresholds measures them): GEMM flops (2 m n k), and cheap element-wise
   units (ReLU, axpy, SGD: 1 per element; exp-based and optimizer kernels cost more). */
#ifndef NN__PAR_GEMM_FLOPS
#  define NN__PAR_GEMM_FLOPS 5e5
#endif
#ifndef NN__PAR_EW_ELEMS
#  define NN__PAR_EW_ELEMS 16384.0
#endif
#define NN__PAR_SCALE_AVX512 4.0    /* avx512 packed GEMM: shorter tiles, higher minimum */
#define NN__PAR_COST_CHEAP 1.0      /* relu, identity, axpy, sgd, col sums: memory bound */
#define NN__PAR_COST_OPTIM 1.5      /* momentum .. adam: 3-7 streams, sqrt and divide */
#define NN__PAR_COST_EXP 4.0        /* sigmoid, tanh, softmax: exp and a divide */

static int nn__threads_req; /* nn_simd_set_threads; 0 = default */

#if defined(__GNUC__) || defined(__clang__)
#  define NN__MAYBE_UNUSED __attribute__((unused)) /* used by nn.h, not by nn_simd.h alone */
#else
#  define NN__MAYBE_UNUSED
#endif
typedef void (*nn__par_fn)(void *ctx, int tid, int nt);

/* The contention guard. A thread that loses its core to another process mid-region
   holds up the region's end for a scheduler time slice (milliseconds), and a training
   step has tens of regions: 2 threads then run several times slower than 1. So the
   calling thread times how long it waited for the others after its own part; a wait
   over NN__PAR_STALL_S that is also longer than (nt - 1) times its own part is a stall.
   A stall counts only if the system has more runnable threads than CPUs (/proc/loadavg,
   on Linux), since a host that briefly takes a virtual CPU away is not helped by backing
   off. After two counted stalls within NN__PAR_CLEAN regions, kernels run on one thread
   for NN__PAR_BACKOFF_S, doubling with each further stall up to 128x. */
#ifndef NN__PAR_STALL_S
#  define NN__PAR_STALL_S 150e-6
#endif
#define NN__PAR_BACKOFF_S 10e-3
#define NN__PAR_CLEAN 256
#ifdef _OPENMP
static struct { double until; int strikes, clean; } nn__guard; /* under critical(nn__guard) */

/* 1 if another process wants a CPU now: the runnable threads (/proc/loadavg) other
   than this process's own (/proc/self/task/N/stat), plus the team, exceed the CPUs.
   Without the files (another OS, NN_NO_STDIO) every stall counts. */
static int nn__par_contended(int nt)
{
#  ifdef NN__PAR_PROBE
    char path[64], buf[512];
    double l1, l5, l15;
    int running = 0, total = 0, ours = 0, ok;
    DIR *d;
    struct dirent *e;
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f) return 1;
    ok = fscanf(f, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &running, &total) == 5;
    fclose(f);
    if (!ok || !(d = opendir("/proc/self/task"))) return 1;
    while ((e = readdir(d)) != NULL) {
        const char *p;
        size_t n;
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "/proc/self/task/%.20s/stat", e->d_name);
        if (!(f = fopen(path, "r"))) continue;
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        p = strrchr(buf, ')'); /* "pid (comm) S ...": comm may hold anything */
        if (p && p[1] == ' ' && p[2] == 'R') ours++;
    }
    closedir(d);
    return running - ours + nt > omp_get_num_procs();
#  else
    (void)nt;
    return 1;
#  endif
}

/* After a region: the caller began at t0, ended its part at tdone, the region at t1. */
static void nn__par_after(double t0, double tdone, double t1, int nt)
{
    const double wait = t1 - tdone;
    const int stall = wait > NN__PAR_STALL_S && wait > (double)(nt - 1) * (tdone - t0) &&
                      nn__par_contended(nt);
#pragma omp critical(nn__guard)
    {
        if (stall) {
            if (nn__guard.strikes < 9) nn__guard.strikes++;
            nn__guard.clean = 0;
            if (nn__guard.strikes >= 2) /* a lone stall is not contention */
                nn__guard.until = t1 + NN__PAR_BACKOFF_S * (double)(1 << (nn__guard.strikes - 2));
        } else if (++nn__guard.clean >= NN__PAR_CLEAN) {
            nn__guard.strikes = 0;
            nn__guard.clean = 0;
        }
    }
}
#endif

/* Threads a kernel call may use when not backing off: 1 inside a parallel region. */
static int nn__threads_team(void)
{
#ifdef _OPENMP
    if (omp_in_parallel()) return 1;
    return nn__threads_req > 0 ? nn__threads_req : omp_get_max_threads();
#else
    return 1;
#endif
}

/* Threads a kernel call may use now: also 1 while backing off. */
static int nn__threads_max(void)
{
#ifdef _OPENMP
    double until;
#pragma omp atomic read
    until = nn__guard.until;
    if (until > 0.0 && omp_get_wtime() < until) return 1;
#endif
    return nn__threads_team();
}

/* Threads (of at most nt) for `work` units when each must get at least `min_per_thread`
   of them and there are `tasks` tasks to share. */
static int nn__threads_cap(int nt, double work, double min_per_thread, long tasks)
{
    double f;
    if (nt <= 1) return 1;
    f = work / min_per_thread;
    if (f < (double)nt) nt = (int)f;
    if ((long)nt > tasks) nt = (int)tasks;
    return nt < 1 ? 1 : nt;
}

static int nn__threads_for(double work, double min_per_thread, long tasks)
{
    return nn__threads_cap(nn__threads_max(), work, min_per_thread, tasks);
}

/* fn(ctx, tid, nt) on every thread of a region of nt threads (the runtime may give
   fewer: fn gets the real count), or fn(ctx, 0, 1) here. */
static void nn__par_run(nn__par_fn fn, void *ctx, int nt)
{
#ifdef _OPENMP
    if (nt > 1) {
        const double t0 = omp_get_wtime();
        double tdone = t0;
        int got = 1;
#pragma omp parallel num_threads(nt)
        {
            const int tid = omp_get_thread_num();
            fn(ctx, tid, omp_get_num_threads());
            if (tid == 0) {
                tdone = omp_get_wtime();
                got = omp_get_num_threads();
            }
        }
        if (got > 1) nn__par_after(t0, tdone, omp_get_wtime(), got);
        return;
    }
#endif
    (void)nt;
    fn(ctx, 0, 1);
}

/* The threads of nn__par_run's region wait here for each other. */
static void nn__par_barrier(int nt)
{
#ifdef _OPENMP
    if (nt > 1) {
#pragma omp barrier
    }
#endif
    (void)nt;
}

/* [lo, hi) of part t of `total` units split into `parts` near-equal parts, each a
   multiple of `gran` (except the end): fixed by (total, parts, gran) alone. */
static void nn__par_range(ptrdiff_t total, ptrdiff_t parts, ptrdiff_t gran, ptrdiff_t t,
                          ptrdiff_t *lo, ptrdiff_t *hi)
{
    ptrdiff_t units = (total + gran - 1) / gran;
    *lo = units * t / parts * gran;
    *hi = units * (t + 1) / parts * gran;
    if (*lo > total) *lo = total;
    if (*hi > total) *hi = total;
}

/* nn.h's one entry into this section: fn(ctx, tid, nt) on nt threads, nt chosen for
   `work` cheap element-wise units cut into at most `parts` parts (fn splits its work by
   tid and nt, and must give the same results for any nt). */
static NN__MAYBE_UNUSED void nn__simd_parallel(nn__par_fn fn, void *ctx, double work,
                                               long parts)
{
    nn__par_run(fn, ctx, nn__threads_for(work, NN__PAR_EW_ELEMS, parts));
}

/* Element-wise, row-wise and column-wise kernels on a team: thread t runs the backend's
   kernel on part t of whole 16-float groups (64 bytes: no false sharing), whole rows
   (softmax) or whole 16-column groups (col_sums: each column still summed over all rows
   in row order by one thread). A kernel gives an element the same value wherever it
   sits in the array, so any cut is bit-identical. sumsq is not cut (its summation order
   would change). */
enum { NN__EW_FWD, NN__EW_BWD, NN__EW_SOFTMAX, NN__EW_SOFTMAX_BWD, NN__EW_COLSUMS,
       NN__EW_AXPY, NN__EW_FINITE, NN__EW_OPTIM };

typedef struct nn__ew_job {
    const nn__backend *be;
    int op, act, kind;             /* NN__EW_*; activation; optimizer */
    const nn_simd_optim_args *args;
    const float *x, *y;            /* input; activation outputs (backward) */
    float *o, *s1, *s2;            /* output (or w); optimizer state */
    float a;                       /* act param, axpy factor */
    int rows, cols, ldx;
    ptrdiff_t total, gran;         /* units (elements, rows, columns), part granule */
    int bad;                       /* all_finite: a part was not */
} nn__ew_job;

static void nn__ew_worker(void *vjob, int tid, int nt)
{
    nn__ew_job *J = (nn__ew_job *)vjob;
    const nn__backend *be = J->be;
    const ptrdiff_t w = J->cols;
    ptrdiff_t lo, hi;
    size_t len;
    nn__par_range(J->total, nt, J->gran, tid, &lo, &hi);
    if (lo >= hi) return;
    len = (size_t)(hi - lo);
    switch (J->op) {
    case NN__EW_FWD: be->act_fwd[J->act](J->x + lo, J->o + lo, len, J->a); break;
    case NN__EW_BWD: be->act_bwd[J->act](J->y + lo, J->x + lo, J->o + lo, len, J->a); break;
    case NN__EW_SOFTMAX: be->softmax_rows(J->x + lo * w, J->o + lo * w, (int)len, J->cols); break;
    case NN__EW_SOFTMAX_BWD:
        be->softmax_bwd_rows(J->y + lo * w, J->x + lo * w, J->o + lo * w, (int)len, J->cols);
        break;
    case NN__EW_COLSUMS: be->col_sums(J->x + lo, J->rows, (int)len, J->ldx, J->o + lo); break;
    case NN__EW_AXPY: be->axpy(len, J->a, J->x + lo, J->o + lo); break;
    case NN__EW_FINITE:
        if (!be->all_finite(J->x + lo, len)) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
            J->bad = 1;
        }
        break;
    default:
        be->optim[J->kind](J->args, J->o + lo, J->x + lo, J->s1 ? J->s1 + lo : NULL,
                           J->s2 ? J->s2 + lo : NULL, len);
        break;
    }
}

/* Runs J over `total` units of `cost` each (in cheap element-wise units), in parts of
   whole `gran` units; on this thread alone when the call is too small. */
static void nn__ew_run(nn__ew_job *J, size_t total, ptrdiff_t gran, double cost)
{
    const ptrdiff_t units = ((ptrdiff_t)total + gran - 1) / gran;
    J->total = (ptrdiff_t)total;
    J->gran = gran;
    J->bad = 0;
    nn__par_run(nn__ew_worker, J,
                nn__threads_for((double)total * cost, NN__PAR_EW_ELEMS, (long)NN__MIN(units, 1L << 30)));
}

static void nn__ew_init(nn__ew_job *J, const nn__backend *be, int op)
{
    memset(J, 0, sizeof *J);
    J->be = be;
    J->op = op;
}

static void nn__par_act_fwd(const nn__backend *be, int act, const float *x, float *y,
                            size_t n, float p)
{
    nn__ew_job J;
    nn__ew_init(&J, be, NN__EW_FWD);
    J.act = act; J.x = x; J.o = y; J.a = p;
    nn__ew_run(&J, n, 16, (act == NN_ACT_SIGMOID || act == NN_ACT_TANH) ? NN__PAR_COST_EXP
                                                                         : NN__PAR_COST_CHEAP);
}

static void nn__par_act_bwd(const nn__backend *be, int act, const float *y, const float *dy,
                            float *dx, size_t n, float p)
{
    nn__ew_job J;
    nn__ew_init(&J, be, NN__EW_BWD);
    J.act = act; J.y = y; J.x = dy; J.o = dx; J.a = p;
    nn__ew_run(&J, n, 16, NN__PAR_COST_CHEAP); /* g'(y) from outputs: cheap for all */
}

static void nn__par_softmax(const nn__backend *be, const float *x, float *y, int rows, int cols)
{
    nn__ew_job J;
    nn__ew_init(&J, be, NN__EW_SOFTMAX);
    J.x = x; J.o = y; J.cols = cols;
    nn__ew_run(&J, (size_t)rows, 1, (double)cols * NN__PAR_COST_EXP);
}

static void nn__par_softmax_bwd(const nn__backend *be, const float *y, const float *dy,
                                float *dx, int rows, int cols)
{
    nn__ew_job J;
    nn__ew_init(&J, be, NN__EW_SOFTMAX_BWD);
    J.y = y; J.x = dy; J.o = dx; J.cols = cols;
    nn__ew_run(&J, (size_t)rows, 1, 2.0 * cols * NN__PAR_COST_CHEAP);
}

static void nn__par_col_sums(const nn__backend *be, const float *x, int rows, int cols,
                             int ldx, float *out)
{
    nn__ew_job J;
    nn__ew_init(&J, be, NN__EW_COLSUMS);
    J.x = x; J.o = out; J.rows = rows; J.ldx = ldx;
    nn__ew_run(&J, (size_t)cols, 16, (double)NN__MAX(rows, 1) * NN__PAR_COST_CHEAP);
}

static void nn__par_axpy(const nn__backend *be, size_t n, float a, const float *x, float *y)
{
    nn__ew_job J;
    nn__ew_init(&J, be, NN__EW_AXPY);
    J.x = x; J.o = y; J.a = a;
    nn__ew_run(&J, n, 16, NN__PAR_COST_CHEAP);
}

static int nn__par_all_finite(const nn__backend *be, const float *x, size_t n)
{
    nn__ew_job J;
    nn__ew_init(&J, be, NN__EW_FINITE);
    J.x = x;
    nn__ew_run(&J, n, 16, NN__PAR_COST_CHEAP);
    return !J.bad;
}

static void nn__par_optim(const nn__backend *be, int kind, const nn_simd_optim_args *args,
                          float *w, const float *g, float *s1, float *s2, size_t n)
{
    nn__ew_job J;
    nn__ew_init(&J, be, NN__EW_OPTIM);
    J.kind = kind; J.args = args; J.o = w; J.x = g; J.s1 = s1; J.s2 = s2;
    nn__ew_run(&J, n, 16, kind == NN_SIMD_OPTIM_SGD ? NN__PAR_COST_CHEAP : NN__PAR_COST_OPTIM);
}

/* The optimizer step with its finite check, in one region. The buffer is a list of
   segments (nn.h: each layer's weights, then each layer's biases), and thread t owns
   part t of every segment: for a layer's W [out][in] a range of its rows, the output
   features whose weight rows that thread's GEMM tiles read in the forward pass. Each
   thread checks its parts of the gradient, the team meets at a barrier, and only if
   every part was finite does each thread update its parts. */
typedef struct nn__optc_job {
    const nn__backend *be;
    int kind;
    const nn_simd_optim_args *aw, *ab;  /* weights [0, nw), the rest */
    float *w, *s1, *s2;
    const float *g;
    size_t nw;
    const size_t *seg;                  /* seg[0] = 0 < ... < seg[nseg] = n */
    int nseg, bad;
} nn__optc_job;

static void nn__optc_part(const nn__optc_job *J, size_t lo, size_t hi)
{
    const size_t mid = NN__MIN(NN__MAX(J->nw, lo), hi);
    const nn__optim_fn opt = J->be->optim[J->kind];
    if (lo < mid)
        opt(J->aw, J->w + lo, J->g + lo, J->s1 ? J->s1 + lo : NULL, J->s2 ? J->s2 + lo : NULL,
            mid - lo);
    if (mid < hi)
        opt(J->ab, J->w + mid, J->g + mid, J->s1 ? J->s1 + mid : NULL,
            J->s2 ? J->s2 + mid : NULL, hi - mid);
}

static void nn__optc_worker(void *vjob, int tid, int nt)
{
    nn__optc_job *J = (nn__optc_job *)vjob;
    ptrdiff_t lo, hi;
    int s, bad;
    for (s = 0; s < J->nseg; s++) {
        nn__par_range((ptrdiff_t)(J->seg[s + 1] - J->seg[s]), nt, 16, tid, &lo, &hi);
        if (lo < hi && !J->be->all_finite(J->g + J->seg[s] + lo, (size_t)(hi - lo))) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
            J->bad = 1;
            break;
        }
    }
    nn__par_barrier(nt);
#ifdef _OPENMP
#pragma omp atomic read
#endif
    bad = J->bad;
    if (bad) return;
    for (s = 0; s < J->nseg; s++) {
        nn__par_range((ptrdiff_t)(J->seg[s + 1] - J->seg[s]), nt, 16, tid, &lo, &hi);
        if (lo < hi) nn__optc_part(J, J->seg[s] + (size_t)lo, J->seg[s] + (size_t)hi);
    }
}

/* 0 if g[0, n) is not all finite, and then nothing was written; else the update of
   optimizer `kind` with aw on [0, nw) and ab on [nw, n), n = seg[nseg]. seg: the
   buffer's segments (nn.h's internal kernel entry for its optimizer step). */
static NN__MAYBE_UNUSED int nn__optim_checked(const nn__backend *be, int kind,
                                              const nn_simd_optim_args *aw,
                                              const nn_simd_optim_args *ab, float *w,
                                              const float *g, float *s1, float *s2,
                                              size_t nw, const size_t *seg, int nseg)
{
    nn__optc_job J;
    const size_t n = seg[nseg];
    const double cost = kind == NN_SIMD_OPTIM_SGD ? NN__PAR_COST_CHEAP : NN__PAR_COST_OPTIM;
    const int nt = nn__threads_for((double)n * (cost + NN__PAR_COST_CHEAP), NN__PAR_EW_ELEMS,
                                   (long)((n + 15) / 16));
    J.be = be; J.kind = kind; J.aw = aw; J.ab = ab; J.w = w; J.g = g; J.s1 = s1; J.s2 = s2;
    J.nw = nw; J.seg = seg; J.nseg = nseg; J.bad = 0;
    if (nt <= 1) {
        if (!be->all_finite(g, n)) return 0;
        nn__optc_part(&J, 0, n);
        return 1;
    }
    nn__par_run(nn__optc_worker, &J, nt);
    return !J.bad;
}

/* >>gemm_driver: ISA-agnostic BLIS-style blocked GEMM ----------------------- */
/* The loop nest below is shared by the AVX2 and NEON backends. It is written as
   always-inline functions that each ISA section instantiates inside its own target
   region with constant geometry (MR, NR, MC, KC, NC), so the packing loops get that
   ISA's vectorization and the micro-kernel calls become direct calls.

   C = act(alpha*op(A)*op(B) + beta*C + bias), row-major, as nn__gemm__scalar.

       jc: columns of C in blocks of NC        (B block: KC x NC, ends up in L3)
        pc: the reduction in blocks of KC      (beta applies only at pc == 0)
         ic: rows of C in blocks of MC         (A block: MC x KC, lives in L2)
          jr: NR-wide column panels            (B panel: KC x NR, lives in L1)
           ir: MR-tall row panels              (micro-kernel: MR x NR of C in registers)

   Packing (zero-padded to whole MR / NR panels, so the micro-kernel never needs
   a k or edge test):
       A panel  (k columns of MR floats)     B panel  (k rows of NR floats)
         p=0: a(0,0) a(1,0) .. a(MR-1,0)       p=0: b(0,0) b(0,1) .. b(0,NR-1)
         p=1: a(0,1) a(1,1) .. a(MR-1,1)       p=1: b(1,0) b(1,1) .. b(1,NR-1)
         ...                                   ...
   Packing is skipped where it does not pay:
     - A is read in place (row pointers a0..a5, or MR contiguous floats per k step when
       transa) when the A block is reused for few column panels (small n) or is
       already MR-contiguous per k step (transa, modest m); see nn__gemm_plan_for.
       A partial last MR panel is then still packed (once per ic block), so the
       micro-kernel never reads rows past m.
     - B is read in place when transb == 0 and there are few row panels to reuse a
       packed copy (small m: inference batches, weight gradients of narrow layers).
       Only the last partial NR panel is then packed, so nothing past column n is read.
   Threads (>>threads): per jc block, op(B) is packed once for all of K into a shared
   buffer (the team splits the NR panels, then one barrier); then the tiles of C (row
   blocks of whole MR panels, at most MC rows, times column blocks of whole NR panels)
   are numbered row-block-major and thread t takes part t of nt contiguous ranges of
   them, and each runs pc / jr / ir with its own packed A block
   (one per thread), epilogue included. Never split: pc (the reduction). A micro-tile's
   operands, K blocking and kernel are those of a 1-thread run, so C is bit-identical
   for any thread count. One thread runs the same code, without the barrier. A wide C
   whose B is packed is instead cut into column slices, each a one-thread run of its own
   (nn__gemm_plan_ws): no shared B at all.
   Workspace: the shared B and one A block per thread (or one slice's B and A). A call that fits
   NN__GEMM_STACK_FLOATS uses a stack buffer; a larger one uses the caller's
   nn__gemm_ws (nn.h: one per network, grown to the largest call it has seen and kept,
   so steady-state training steps allocate nothing: test_alloc_fail counts), or without
   one (nn_simd_gemm_ex) one NN_MALLOC per call. A static buffer would be hidden global state and
   not thread-safe. If no memory can be had the call falls back to the scalar reference
   (correct, slower).

   The epilogue (bias and ReLU in one vector pass, other activations by the backend's
   kernels) runs on each MC x NC block of C right after its last pc block, while it is
   still in L2. Softmax needs
   whole rows: it runs there when one NC block spans all of n, otherwise after the
   jc loop. */
#if NN__HAS_AVX2 || NN__HAS_NEON

#define NN__ALIGNAS64 __attribute__((aligned(64))) /* gcc and clang only, as the ISAs */

/* Micro-kernel: C[m x n] := alpha * A_panel * B_panel + beta * C[m x n], m <= MR,
   n <= NR, k >= 1. A element (i, p) is a[i*rsa + p*csa]; B element (p, j) is
   b[p*ldb + j] and the NR floats of every row may be read (packed or in place with
   n == NR). beta == 0 does not read C. Only the m x n part of C is touched. */
typedef void (*nn__ukr_fn)(int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                           const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                           float alpha, float beta, int m, int n);

/* One blocked-GEMM geometry with its kernels. Each backend defines its geometries once,
   as static const objects at file scope (nn__avx2_gemm_cfg_6x16, ...), initialized
   positionally in this field order (designated initializers are not C++11). */
typedef struct nn__gemm_cfg {
    int mr, nr;             /* micro-tile */
    int mc, kc, nc;         /* cache blocks (multiples of mr / nr) */
    /* the MR x NR micro-kernel: A packed (rsa = 1, csa = MR), row-major in place
       (csa = 1) or transposed storage in place (rsa = 1); B packed (ldb = NR) or in place */
    nn__ukr_fn ukr;
    /* optional: ukr for packed A and B that also prefetches its C rows and B ahead, for
       the tiles whose C block cannot stay in L2 between K blocks (NULL: ukr everywhere) */
    nn__ukr_fn ukr_pf;
    /* optional ISA packers of one full panel (NULL: the generic loops): MR rows of a
       row-major op(A) -> kc columns of MR; NR rows of B's storage (transb) -> kc rows
       of NR. They may store up to 16 floats past the panel (the workspace has slack;
       later panels overwrite it). */
    void (*pack_a_rows)(int kc, const float *src, int ld, float *dst);
    void (*pack_b_cols)(int kc, const float *src, int ld, float *dst);
    /* optional: kc rows of NR contiguous floats of B's storage (no transb) -> kc rows of
       NR (NULL: the generic loop); never reads or writes past the panel */
    void (*pack_b_rows)(int kc, const float *src, int ld, float *dst);
    /* MR columns of A's storage (transa: MR contiguous floats per k step, stride ld)
       -> kc columns of MR; never reads or writes past the panel */
    void (*pack_a_cols)(int kc, const float *src, int ld, float *dst);
    const nn__act_fwd_fn *act;  /* the backend's element-wise activations */
    /* the backend's softmax, through the variable its init copies it into from the
       backend table (the address is a constant, so the cfg can be const) */
    const nn__softmax_fn *softmax;
    /* the epilogue's bias and ReLU on an m x n block of C, rows ldc apart: c += bias[j]
       (bias may be NULL), then ReLU if relu, with the scalar reference's arithmetic and
       ReLU bit for bit */
    void (*bias_relu)(float *C, int ldc, int m, int n, const float *bias, int relu);
    int a_outer;            /* 1: A panel outer, B panels inner (see nn__gemm_work) */
    double par_scale;       /* the packed path's per-thread work threshold, in units of
                               NN__PAR_GEMM_FLOPS (>>threads) */
} nn__gemm_cfg;

#define NN__GEMM_KC_MAX 512     /* every cfg.kc <= this */
#ifndef NN__GEMM_PF_FLOATS
#  define NN__GEMM_PF_FLOATS 65536 /* cfg.ukr_pf for tiles whose C block is larger (256 KB) */
#endif
#ifndef NN__GEMM_BDIRECT_PANELS
#  define NN__GEMM_BDIRECT_PANELS 6 /* B read in place (transb == 0) up to this many MR panels */
#endif
#ifndef NN__GEMM_TA_PACK
#  define NN__GEMM_TA_PACK 1
#endif
#ifndef NN__GEMM_AKEEP_FLOATS
#  define NN__GEMM_AKEEP_FLOATS (4 * 1024 * 1024) /* per-thread packed A kept across jc blocks */
#endif
#ifndef NN__GEMM_ACACHE_FLOATS
#  define NN__GEMM_ACACHE_FLOATS (64 * 1024) /* per-thread packed A kept for all of K (>>threads) */
#endif
/* stack workspace: one KC_MAX x 16 B panel and a 4096-float A block (49 KB); larger
   calls, and most of the AVX-512 backend's (NR = 32), take the heap */
#define NN__GEMM_STACK_FLOATS (NN__GEMM_KC_MAX * 16 + 4096 + 64)

static void *nn__malloc_aligned(size_t size, size_t align); /* >>public */
static void nn__free_aligned(void *p);

/* ws holds at least `floats` (64-byte aligned) afterwards, or 0 (ws unchanged). Grows
   to 1.25x the request so a net's few GEMM sizes settle after one or two growths. */
static int nn__gemm_ws_reserve(nn__gemm_ws *ws, size_t floats)
{
    size_t want;
    float *p;
    if (ws->cap >= floats) return 1;
    if (floats > ((size_t)-1) / sizeof(float) / 2) return 0;
    want = (floats + floats / 4 + 1023) / 1024 * 1024;
    p = (float *)nn_simd_alloc(&ws->alloc, want * sizeof(float));
    if (!p) return 0;
    if (((uintptr_t)p & 63) != 0) { /* a user allocator that ignored the alignment */
        nn_simd_free(&ws->alloc, p);
        return 0;
    }
    nn_simd_free(&ws->alloc, ws->p);
    ws->p = p;
    ws->cap = want;
    ws->grows++;
    return 1;
}

/* Pack op(A)[ic.., pc..] (mc x kc) into MR-row panels, zero-padded. */
static NN__INLINE void nn__gemm_pack_a(const nn__gemm_cfg *cfg, int mr, int transa, int mc,
                                       int kc, const float *A, int lda, float *dst)
{
    int ir, i, p;
    for (ir = 0; ir < mc; ir += mr) {
        int mv = NN__MIN(mr, mc - ir);
        float *d = dst + (size_t)ir * kc;
        if (!transa && mv == mr && cfg->pack_a_rows) {
            cfg->pack_a_rows(kc, A + (size_t)ir * lda, lda, d);
        } else if (transa && mv == mr && cfg->pack_a_cols) {
            cfg->pack_a_cols(kc, A + ir, lda, d);
        } else if (transa) {
            const float *s = A + ir;
            for (p = 0; p < kc; p++) {
                for (i = 0; i < mv; i++) d[(size_t)p * mr + i] = s[(size_t)p * lda + i];
                for (; i < mr; i++) d[(size_t)p * mr + i] = 0.0f;
            }
        } else {
            for (i = 0; i < mv; i++) {
                const float *s = A + (size_t)(ir + i) * lda;
                for (p = 0; p < kc; p++) d[(size_t)p * mr + i] = s[p];
            }
            for (; i < mr; i++)
                for (p = 0; p < kc; p++) d[(size_t)p * mr + i] = 0.0f;
        }
    }
}

/* Pack one panel of op(B) (kc x nv, nv <= NR) starting at B as rows of NR, zero-padded. */
static NN__INLINE void nn__gemm_pack_b_panel(const nn__gemm_cfg *cfg, int nr, int transb,
                                             int kc, int nv, const float *B, int ldb, float *d)
{
    int j, p;
    if (transb && nv == nr && cfg->pack_b_cols) {
        cfg->pack_b_cols(kc, B, ldb, d);
        return;
    }
    if (!transb && nv == nr && cfg->pack_b_rows) {
        cfg->pack_b_rows(kc, B, ldb, d);
        return;
    }
    if (!transb) {
        for (p = 0; p < kc; p++) {
            const float *s = B + (size_t)p * ldb;
            for (j = 0; j < nv; j++) d[(size_t)p * nr + j] = s[j];
            for (; j < nr; j++) d[(size_t)p * nr + j] = 0.0f;
        }
    } else {
        for (j = 0; j < nv; j++) {
            const float *s = B + (size_t)j * ldb;
            for (p = 0; p < kc; p++) d[(size_t)p * nr + j] = s[p];
        }
        for (; j < nr; j++)
            for (p = 0; p < kc; p++) d[(size_t)p * nr + j] = 0.0f;
    }
}

/* bias + element-wise activation (or softmax when `whole_rows`) on an m x n block */
static NN__INLINE void nn__gemm_epilogue(const nn__gemm_cfg *cfg, float *C, int ldc, int m,
                                         int n, const float *bias, nn_act act, float act_param,
                                         int whole_rows)
{
    int i;
    const int ew = act != NN_ACT_DEFAULT && act != NN_ACT_IDENTITY && act != NN_ACT_SOFTMAX;
    /* Rows are handed to the activation or softmax kernel in groups, so narrow layers
       do not pay a call per row. When C's rows are contiguous a group is as many rows
       as fit ~16 KB; otherwise one row. The kernels' results do not depend on the
       grouping. */
    const int g = ldc == n ? NN__MAX(1, 4096 / NN__MAX(n, 1)) : 1;
    /* Bias and ReLU (or bias alone) in one vectorized pass over the block, also for a
       team's column tiles (rows shorter than ldc), where a scalar loop branching on the
       sign cost a noticeable share of the layer; before any other activation or
       softmax, bias group by group. */
    if (act == NN_ACT_RELU || (!ew && !(act == NN_ACT_SOFTMAX && whole_rows))) {
        if (bias || act == NN_ACT_RELU) cfg->bias_relu(C, ldc, m, n, bias, act == NN_ACT_RELU);
        return;
    }
    for (i = 0; i < m; i += g) { /* bias, then the activation, on a group still in L1 */
        const int r = NN__MIN(g, m - i);
        float *c = C + (size_t)i * ldc;
        if (bias) cfg->bias_relu(c, ldc, r, n, bias, 0);
        if (ew) cfg->act[act](c, c, (size_t)r * n, act_param);
        else (*cfg->softmax)(c, c, r, n);
    }
}

/* What to pack, decided once per call from the shape (rules chosen with
   bench/bench_gemm.c): 0 = read in place, 1 = pack.
   - A in place when n <= 4*NR (few column panels reuse a packed copy): e.g. the N=10
     output layer. Transposed A is packed when n or m is not small.
   - B (transb == 0) read in place, except when m is over 6 MR panels and
     - B's rows sit a multiple of 2 KB apart (the rows of a kc x NR panel in place
       would fall into a few L1 sets), or
     - they sit more than 4 KB apart and m is over 16 MR panels (every k step of a
       panel reads a new page), or
     - m is over 2 MC (the strided panel is fetched again for every row block).
     In place suits the layers of a network (a batch up to 256, a layer up to 1024
     wide: m <= 2 MC and rows <= 4 KB apart), where packing B costs a copy and, with
     threads, pulls B from another core's cache; large or badly strided B is packed,
     where in place loses to cache-set conflicts and page walks. */
typedef struct nn__gemm_plan { int pack_a, pack_b; } nn__gemm_plan;

static NN__INLINE nn__gemm_plan nn__gemm_plan_for(const nn__gemm_cfg *cfg, int transa,
                                                  int transb, int m, int n, int k, int ldb)
{
    nn__gemm_plan pl;
    (void)k;
    /* A block is reused by ceil(n / NR) column panels: packing pays when that is large */
    pl.pack_a = n > 4 * cfg->nr;
    if (transa) pl.pack_a = NN__GEMM_TA_PACK ? (n > 4 * cfg->nr || m > 4 * cfg->mr) : 0;
    /* B panel is reused by ceil(m / MR) row panels */
    pl.pack_b = transb || (m > NN__GEMM_BDIRECT_PANELS * cfg->mr &&
                           (ldb % 512 == 0 || (ldb > 1024 && m > 16 * cfg->mr) ||
                            m > 2 * cfg->mc));
    return pl;
}

/* One GEMM call, shared by a team (>>threads). Tasks are tiles of C: `nrt` row blocks
   of whole MR panels times `nct` column blocks of whole NR panels (per jc block).
   Every micro-tile of C (MR x NR, anchored at row 0 and column jc) is computed by one
   thread, from the same operands, with the same K blocking and the same micro-kernel
   body (its instances differ only in the strides they read A and B with: packed or in
   place, the same values meet the same FMAs), so C does not depend on the thread count,
   on which thread took a tile, or on what the team size made the plan pack. */
typedef struct nn__gemm_job {
    const nn__gemm_cfg *cfg;
    nn__gemm_plan pl;
    int transa, transb, m, n, k, lda, ldb, ldc;
    float alpha, beta;
    const float *A, *B;
    float *C;
    const float *bias;
    nn_act act;
    float act_param;
    int nrt, nct;      /* row and column tiles per jc block */
    /* acache: a thread keeps its row block's op(A) packed for all of K (block pc at
       apack + pc * arows); its tiles are consecutive in the rb-major order, so the
       tiles it takes in a row mostly share that row block and pack A once.
       akeep: with one column tile and several jc blocks, a thread keeps the packed A of
       every row block it takes (block rb at apack + (rb - its first) * arows * k), packed
       in the first jc block and read by the others */
    int acache, akeep, arows;
    float *bpack;      /* shared: op(B) of one jc block packed for all of K */
    float *apack;      /* per thread: apack + tid * astride */
    size_t astride;
    /* blocal: no shared B. Tiles are column blocks of all m rows, and each packs its own
       B panels, K block by K block, into its thread's workspace (apack + tid * astride
       + bofs) just before using them: no B phase, no barrier, no B from the other core */
    int blocal;
    size_t bofs;
    /* csplit: C is cut into csplit column slices of whole NR panels, each a one-thread
       job of its own (nn__gemm_csplit_work) in workspace slice * astride: no shared B,
       no barrier. Same K blocks and kernels: the same bits as one thread. */
    int csplit;
} nn__gemm_job;

/* The packed path's team body (one for every backend: the ISA is in the cfg's kernels
   and packers, which it calls through pointers). */
static void nn__gemm_work(void *vjob, int tid, int nt)
{
    nn__gemm_job *J = (nn__gemm_job *)vjob;
    const nn__gemm_cfg *cfg = J->cfg;
    const int MR = cfg->mr, NR = cfg->nr, KC = cfg->kc, NC = cfg->nc;
    const int m = J->m, n = J->n, k = J->k, transa = J->transa, transb = J->transb;
    const int lda = J->lda, ldb = J->ldb, ldc = J->ldc;
    const float *A = J->A, *B = J->B;
    const nn__gemm_plan pl = J->pl;
    const int nkb = (k + KC - 1) / KC, P = (m + MR - 1) / MR;
    const int ntiles = J->nrt * J->nct;
    /* tiles span whole rows: softmax per tile */
    const int whole = n <= NC && J->nct == 1;
    float *apack = J->apack + (size_t)tid * J->astride;
    ptrdiff_t t0, t1;
    int jc, t, arb = -1; /* arb: row block whose packed A (all K blocks) is in apack */

    for (jc = 0; jc < n; jc += NC) {
        const int nc = NN__MIN(NC, n - jc), npb = (nc + NR - 1) / NR, nfull = nc / NR * NR;
        /* 1. shared B: every NR panel of every K block (pack_b), or only the partial
              last panel of each K block (B read in place); then a barrier */
        if (!J->blocal && (pl.pack_b || nfull < nc)) {
            const int per = pl.pack_b ? npb : 1;
            nn__par_range((ptrdiff_t)nkb * per, nt, 1, tid, &t0, &t1);
            for (t = (int)t0; t < (int)t1; t++) {
                const int pc = t / per * KC, kc = NN__MIN(KC, k - pc);
                const float *Bp = transb ? B + (size_t)jc * ldb + pc : B + (size_t)pc * ldb + jc;
                if (pl.pack_b) {
                    const int jr = t % per * NR;
                    nn__gemm_pack_b_panel(cfg, NR, transb, kc, NN__MIN(NR, nc - jr),
                                          transb ? Bp + (size_t)jr * ldb : Bp + jr, ldb,
                                          J->bpack + (size_t)pc * npb * NR + (size_t)jr * kc);
                } else {
                    nn__gemm_pack_b_panel(cfg, NR, 0, kc, nc - nfull, Bp + nfull, ldb,
                                          J->bpack + (size_t)pc * NR);
                }
            }
            nn__par_barrier(nt);
        }
        /* 2. tiles (row-block-major; this thread's contiguous share): per K block, pack
              this thread's A rows, then jr / ir */
        nn__par_range(ntiles, nt, 1, tid, &t0, &t1);
        for (t = (int)t0; t < (int)t1; t++) {
            ptrdiff_t r0, r1, c0, c1;
            int i0, mc, j0, j1, pc;
            nn__ukr_fn ukr_pp;
            const int rb = t / J->nct;
            const int cached = J->acache && (rb == arb || (J->akeep && jc > 0));
            float *ablk = J->akeep ? apack + (size_t)(rb - t0) * J->arows * k : apack;
            nn__par_range(P, J->nrt, 1, rb, &r0, &r1);
            nn__par_range(npb, J->nct, 1, t % J->nct, &c0, &c1);
            i0 = (int)r0 * MR;
            mc = NN__MIN(m, (int)r1 * MR) - i0;
            j0 = (int)c0 * NR;
            j1 = NN__MIN(nc, (int)c1 * NR);
            if (mc <= 0 || j1 <= j0) continue;
            ukr_pp = cfg->ukr_pf && (size_t)mc * (size_t)(j1 - j0) > NN__GEMM_PF_FLOATS
                         ? cfg->ukr_pf : cfg->ukr;
            for (pc = 0; pc < k; pc += KC) {
                const int kc = NN__MIN(KC, k - pc), last = pc + kc == k;
                const float beta_p = pc == 0 ? J->beta : 1.0f;
                const float *Ab = transa ? A + (size_t)pc * lda + i0 : A + (size_t)i0 * lda + pc;
                const float *Bp = B + (size_t)pc * ldb + jc; /* B in place: transb == 0 */
                const int mfull = pl.pack_a ? mc : mc / MR * MR;
                float *ap = J->acache ? ablk + (size_t)pc * J->arows : apack;
                float *bl = apack + J->bofs;
                if (J->blocal) {
                    int jr;
                    for (jr = j0; jr < j1; jr += NR)
                        nn__gemm_pack_b_panel(cfg, NR, transb, kc, NN__MIN(NR, j1 - jr),
                                              transb ? B + (size_t)(jc + jr) * ldb + pc
                                                     : B + (size_t)pc * ldb + jc + jr,
                                              ldb, bl + (size_t)(jr - j0) * kc);
                }
                if (pl.pack_a) {
                    if (!cached) nn__gemm_pack_a(cfg, MR, transa, mc, kc, Ab, lda, ap);
                } else if (mfull < mc)
                    nn__gemm_pack_a(cfg, MR, transa, mc - mfull, kc,
                                    transa ? Ab + mfull : Ab + (size_t)mfull * lda, lda, apack);
                /* micro-tiles of this tile: B panel outer (it stays in L1 across the A
                   panels of the block) or, with cfg->a_outer, A panel outer (it stays
                   in L1 while the block's B panels stream from L2) */
                {
                    const int nj = (j1 - j0 + NR - 1) / NR, ni = (mc + MR - 1) / MR;
                    int u, v;
                    for (u = 0; u < (cfg->a_outer ? ni : nj); u++)
                        for (v = 0; v < (cfg->a_outer ? nj : ni); v++) {
                            const int jr = j0 + (cfg->a_outer ? v : u) * NR;
                            const int ir = (cfg->a_outer ? u : v) * MR;
                            const int nv = NN__MIN(NR, nc - jr), mv = NN__MIN(MR, mc - ir);
                            float *c = J->C + (size_t)(i0 + ir) * ldc + jc + jr;
                            const float *bp;
                            ptrdiff_t ldbp = NR;
                            int bd = 0;
                            if (J->blocal) {
                                bp = bl + (size_t)(jr - j0) * kc;
                            } else if (pl.pack_b) {
                                bp = J->bpack + (size_t)pc * npb * NR + (size_t)jr * kc;
                            } else if (nv == NR) {
                                bp = Bp + jr;
                                ldbp = ldb;
                                bd = 1;
                            } else {
                                bp = J->bpack + (size_t)pc * NR;
                            }
                            if (pl.pack_a)
                                (bd ? cfg->ukr : ukr_pp)(kc, ap + (size_t)ir * kc, 1, MR, bp,
                                                         ldbp, c, ldc, J->alpha, beta_p, mv, nv);
                            else if (ir >= mfull)
                                cfg->ukr(kc, apack, 1, MR, bp, ldbp, c, ldc, J->alpha, beta_p,
                                         mv, nv);
                            else if (transa)
                                cfg->ukr(kc, Ab + ir, 1, lda, bp, ldbp, c, ldc, J->alpha, beta_p,
                                         mv, nv);
                            else
                                cfg->ukr(kc, Ab + (size_t)ir * lda, lda, 1, bp, ldbp, c, ldc,
                                         J->alpha, beta_p, mv, nv);
                        }
                }
                if (last)
                    nn__gemm_epilogue(cfg, J->C + (size_t)i0 * ldc + jc + j0, ldc, mc, j1 - j0,
                                      J->bias ? J->bias + jc + j0 : NULL, J->act,
                                      J->act_param, whole);
            }
            arb = rb;
        }
        if (jc + NC < n) nn__par_barrier(nt); /* the next jc block repacks B */
    }
    if (J->act == NN_ACT_SOFTMAX && !whole) { /* whole rows only now */
        nn__par_barrier(nt);
        nn__par_range(J->nrt, nt, 1, tid, &t0, &t1);
        for (t = (int)t0; t < (int)t1; t++) {
            ptrdiff_t r0, r1;
            nn__par_range(P, J->nrt, 1, t, &r0, &r1);
            r1 = NN__MIN((ptrdiff_t)m, r1 * MR);
            if (r0 * MR < r1)
                nn__gemm_epilogue(cfg, J->C + (size_t)r0 * MR * ldc, ldc, (int)(r1 - r0 * MR),
                                  n, NULL, J->act, J->act_param, 1);
        }
    }
}

static size_t nn__gemm_tiling(const nn__gemm_cfg *cfg, nn__gemm_job *J, int nt, size_t *nbp);

/* Slice s of a csplit job as a one-thread job (its workspace set by the caller), or 0
   when the slice is empty. */
static int nn__gemm_slice(const nn__gemm_job *J, int s, nn__gemm_job *T, size_t *nbp,
                          size_t *need)
{
    const int NR = J->cfg->nr;
    ptrdiff_t c0, c1;
    int j0, j1;
    nn__par_range((J->n + NR - 1) / NR, J->csplit, 1, s, &c0, &c1);
    j0 = (int)c0 * NR;
    j1 = NN__MIN(J->n, (int)c1 * NR);
    if (j1 <= j0) return 0;
    *T = *J;
    T->n = j1 - j0;
    T->B = J->transb ? J->B + (size_t)j0 * J->ldb : J->B + j0;
    T->C = J->C + j0;
    T->bias = J->bias ? J->bias + j0 : NULL;
    T->pl = nn__gemm_plan_for(J->cfg, J->transa, J->transb, J->m, T->n, J->k, J->ldb);
    T->csplit = 0;
    *need = nn__gemm_tiling(J->cfg, T, 1, nbp);
    return 1;
}

static void nn__gemm_csplit_work(void *vjob, int tid, int nt)
{
    const nn__gemm_job *J = (const nn__gemm_job *)vjob;
    int s;
    for (s = tid; s < J->csplit; s += nt) {
        nn__gemm_job T;
        size_t nb, need;
        if (!nn__gemm_slice(J, s, &T, &nb, &need)) continue;
        T.bpack = J->apack + (size_t)tid * J->astride;
        T.apack = T.bpack + nb;
        nn__gemm_work(&T, 0, 1);
    }
}

/* Unpacked paths (dot products, direct micro-kernels: no shared workspace): a team
   splits C into row blocks of whole `rg` rows or, when m is short, column blocks of
   whole `cg` columns, and each block is one call of fn on the sub-problem, then its
   epilogue. fn must give an element the same value in any block anchored at such
   multiples (true of both paths: an element is one dot product in a fixed order). */
typedef void (*nn__gemm_part_fn)(int transa, int transb, int m, int n, int k, float alpha,
                                 const float *A, int lda, const float *B, int ldb,
                                 float beta, float *C, int ldc);
typedef struct nn__gemm_split_job {
    const nn__gemm_cfg *cfg;
    nn__gemm_part_fn fn;
    int transa, transb, m, n, k, lda, ldb, ldc, rg, cg, nrt, nct;
    float alpha, beta;
    const float *A, *B;
    float *C;
    const float *bias;
    nn_act act;
    float act_param;
} nn__gemm_split_job;

static void nn__gemm_split_worker(void *vjob, int tid, int nt)
{
    nn__gemm_split_job *J = (nn__gemm_split_job *)vjob;
    ptrdiff_t r0, r1, c0, c1;
    ptrdiff_t t0, t1;
    int t;
    nn__par_range((ptrdiff_t)J->nrt * J->nct, nt, 1, tid, &t0, &t1);
    for (t = (int)t0; t < (int)t1; t++) {
        float *C;
        nn__par_range(J->m, J->nrt, J->rg, t / J->nct, &r0, &r1);
        nn__par_range(J->n, J->nct, J->cg, t % J->nct, &c0, &c1);
        if (r0 >= r1 || c0 >= c1) continue;
        C = J->C + r0 * J->ldc + c0;
        J->fn(J->transa, J->transb, (int)(r1 - r0), (int)(c1 - c0), J->k, J->alpha,
              J->transa ? J->A + r0 : J->A + r0 * J->lda, J->lda,
              J->transb ? J->B + c0 * J->ldb : J->B + c0, J->ldb, J->beta, C, J->ldc);
        if (J->act != NN_ACT_SOFTMAX || J->nct == 1)
            nn__gemm_epilogue(J->cfg, C, J->ldc, (int)(r1 - r0), (int)(c1 - c0),
                              J->bias ? J->bias + c0 : NULL, J->act, J->act_param, 1);
    }
}

/* (unused by backends without unpacked paths: NEON) */
static __attribute__((unused)) void nn__gemm_split(const nn__gemm_cfg *cfg, nn__gemm_part_fn fn, int rg, int cg,
                           int transa, int transb, int m, int n, int k, float alpha,
                           const float *A, int lda, const float *B, int ldb, float beta,
                           float *C, int ldc, const float *bias, nn_act act, float act_param)
{
    nn__gemm_split_job J;
    const int ru = (m + rg - 1) / rg, cu = (n + cg - 1) / cg;
    const int nt = nn__threads_for(2.0 * m * n * k, NN__PAR_GEMM_FLOPS, (long)ru * cu);
    if (nt <= 1) {
        fn(transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
        nn__gemm_epilogue(cfg, C, ldc, m, n, bias, act, act_param, 1);
        return;
    }
    J.cfg = cfg; J.fn = fn; J.transa = transa; J.transb = transb; J.m = m; J.n = n; J.k = k;
    J.lda = lda; J.ldb = ldb; J.ldc = ldc; J.rg = rg; J.cg = cg;
    J.alpha = alpha; J.beta = beta; J.A = A; J.B = B; J.C = C;
    J.bias = bias; J.act = act; J.act_param = act_param;
    J.nrt = NN__MIN(ru, nt);
    J.nct = J.nrt < nt ? NN__MIN(cu, (nt + J.nrt - 1) / J.nrt) : 1;
    nn__par_run(nn__gemm_split_worker, &J, nt);
    if (act == NN_ACT_SOFTMAX && J.nct > 1) /* rows were cut: softmax now */
        nn__gemm_epilogue(cfg, C, ldc, m, n, bias, act, act_param, 1);
}

/* Unpacked path (the backends' "direct" GEMM): A and B read in place, no shared
   workspace. Rows are split into ceil(m / MR) panels of near-equal height (10 = 5 + 5,
   128 = 18 x 6 + 4 x 5 for MR = 6), each run by an exact-height kernel tab[h] (A as rows
   in place, or as h contiguous floats per k step when transa), so no FMA lane works on
   padding. Only a partial last column panel of B is copied (zero-padded) into `edge`
   (kcmax x NR floats), or with transb every panel is packed by `pack_bt`. k is cut into
   near-equal chunks of <= kcmax rows. Column panel outside, so its kc x NR floats of B
   stay in L1 across row panels. When B is read in place and holds at least
   NN__DIRECT_PF_FLOATS, the first row panel of each column panel runs pfn, which also
   prefetches each B row's floats [32, 32 + NR) (a later column panel): a B row of a
   wide layer is in another page than the next, so nothing else fetches ahead. */
#ifndef NN__DIRECT_PF_FLOATS
#  define NN__DIRECT_PF_FLOATS 2097152.0 /* 8 MB of B (chosen with bench_gemm --sweep) */
#endif
static NN__INLINE void nn__gemm_direct(const int MR, const int NR, const int kcmax,
                                       const nn__ukr_fn *tab, nn__ukr_fn pfn,
                                       void (*pack_bt)(int kc, const float *src, int ld, float *dst),
                                       float *edge, int transa, int transb, int m, int n, int k,
                                       float alpha, const float *A, int lda, const float *B,
                                       int ldb, float beta, float *C, int ldc)
{
    const int npan = (m + MR - 1) / MR, hlo = m / npan, nhi = m % npan; /* nhi of hlo+1 */
    const int pf = pfn && !transb && (double)k * n >= NN__DIRECT_PF_FLOATS;
    const int nch = (k + kcmax - 1) / kcmax, kcs = (k + nch - 1) / nch;
    int pc, jr, pn, p, j;
    for (pc = 0; pc < k; pc += kcs) {
        const int kc = NN__MIN(kcs, k - pc);
        const float beta_p = pc == 0 ? beta : 1.0f;
        const float *Ap = transa ? A + (size_t)pc * lda : A + pc;
        const float *Bp = transb ? B + pc : B + (size_t)pc * ldb;
        for (jr = 0; jr < n; jr += NR) {
            const int nv = NN__MIN(NR, n - jr);
            const float *bp = transb ? Bp + (size_t)jr * ldb : Bp + jr;
            ptrdiff_t ldbp = ldb;
            int i0 = 0;
            if (transb) {
                if (nv == NR) {
                    pack_bt(kc, bp, ldb, edge);
                } else {
                    for (p = 0; p < kc; p++) {
                        for (j = 0; j < nv; j++) edge[p * NR + j] = bp[(size_t)j * ldb + p];
                        for (; j < NR; j++) edge[p * NR + j] = 0.0f;
                    }
                }
                bp = edge;
                ldbp = NR;
            } else if (nv < NR) {
                for (p = 0; p < kc; p++) {
                    for (j = 0; j < nv; j++) edge[p * NR + j] = bp[(size_t)p * ldb + j];
                    for (; j < NR; j++) edge[p * NR + j] = 0.0f;
                }
                bp = edge;
                ldbp = NR;
            }
            for (pn = 0; pn < npan; pn++) {
                const int h = hlo + (pn < nhi);
                const float *ap = transa ? Ap + i0 : Ap + (size_t)i0 * lda;
                (pf && pn == 0 && h == MR && jr + NR + 32 <= n ? pfn : tab[h])(
                    kc, ap, transa ? 1 : lda, transa ? lda : 1, bp, ldbp,
                    C + (size_t)i0 * ldc + jr, ldc, alpha, beta_p, h, nv);
                i0 += h;
            }
        }
    }
}

/* Returns 0 if the workspace could not be allocated (nothing was written to C). */
/* The tiles of a call shared by nt threads (J->pl, m, n, k, transa set; J->pl.pack_a
   may be cleared), and the workspace they need: returns its floats, *nbp of them the
   shared B. */
static size_t nn__gemm_tiling(const nn__gemm_cfg *cfg, nn__gemm_job *J, int nt, size_t *nbp)
{
    const int MR = cfg->mr, NR = cfg->nr, MC = cfg->mc, KC = cfg->kc, NC = cfg->nc;
    const int m = J->m, n = J->n, k = J->k;
    const int P = (m + MR - 1) / MR, npb = (NN__MIN(NC, n) + NR - 1) / NR;
    const int nfull = NN__MIN(NC, n) / NR * NR;
    const size_t kcm = (size_t)NN__MIN(KC, k);
    size_t rows, na, nb;
    /* tiles: row blocks of at most MC rows; with a team, at least one row block per
       thread (a multiple of nt where there are more), then columns cut until every
       thread has a tile. Rows are cut no further than that: each packed B panel is then
       reused by as many rows as possible. */
    J->nrt = (P + MC / MR - 1) / (MC / MR);
    J->nct = 1;
    if (nt > 1) {
        if (J->nrt < nt) J->nrt = NN__MIN(P, nt);
        else if (J->nrt < P) J->nrt = NN__MIN(P, (J->nrt + nt - 1) / nt * nt);
        if (J->nrt < nt) J->nct = NN__MIN(npb, (nt + J->nrt - 1) / J->nrt);
    }
    /* A team on a packed B with one row block and one column block, and at least two
       column panels per thread (the layers of a network at batch <= MC): two column
       tiles per thread that pack their own B panels K block by K block (no shared B
       phase, no barrier, no B read from the other core), and a row-major A read in
       place (a tile of a few NR panels reuses a packed A too little). */
    J->blocal = nt > 1 && J->pl.pack_b && n <= NC && m <= MC && npb >= 2 * nt;
    if (J->blocal) {
        if (!J->transa) J->pl.pack_a = 0;
        J->nrt = 1;
        J->nct = NN__MIN(npb, 2 * nt);
    }

    rows = (size_t)((P + J->nrt - 1) / J->nrt) * MR; /* tallest row block */
    J->acache = nt > 1 && J->nct > 1 && J->pl.pack_a && rows * k <= NN__GEMM_ACACHE_FLOATS;
    J->akeep = 0;
    /* only a transposed A (its packer reads 8 floats from rows lda apart; a row-major A's
       8x8 transposes cost less than the L2 the kept copy takes) and k >= KC / 2 */
    if (J->transa && 2 * k >= KC && n > NC && J->nct == 1 && J->pl.pack_a && !J->blocal) {
        /* row blocks of the thread with the most (tiles are row blocks here) */
        const size_t most = (size_t)(J->nrt + nt - 1) / nt;
        if (most * rows * (size_t)k <= NN__GEMM_AKEEP_FLOATS) J->acache = J->akeep = (int)most;
    }
    J->arows = (int)rows;
    na = J->pl.pack_a ? rows * (J->acache ? (size_t)k * (J->akeep ? (size_t)J->akeep : 1) : kcm)
                      : kcm * MR; /* A block(s), or one edge A panel */
    na = (na + 16 + 15) / 16 * 16;   /* slack: vector packing may store 16 floats past a panel */
    J->bofs = na;
    if (J->blocal) /* + the thread's B panels of one K block (widest tile), with slack */
        na += (kcm * (size_t)((npb + J->nct - 1) / J->nct) * NR + 16 + 15) / 16 * 16;
    nb = J->blocal ? 0 : J->pl.pack_b ? (size_t)k * npb * NR : (nfull < NN__MIN(NC, n) || n > NC) ? (size_t)k * NR : 0;
    nb = (nb + 15) / 16 * 16;
    J->astride = na;
    *nbp = nb;
    return nb + na * (size_t)nt;
}

/* The tiling of a call on nt threads (in *J) and the workspace it needs (*nbp of it the
   shared B). A team cuts C into column slices (J->csplit) when B is packed and C is
   wider than tall and larger than one MC x NC block: each thread then packs only its
   own columns of B and reads all of A, where row blocks would have each thread read all
   of the packed B, half of it from the other core. */
static size_t nn__gemm_plan_ws(const nn__gemm_cfg *cfg, nn__gemm_job *J, int nt, size_t *nbp)
{
    J->csplit = 0;
    if (nt > 1 && J->pl.pack_b && J->act != NN_ACT_SOFTMAX && J->n > J->m &&
        (J->n > cfg->nc || J->m > cfg->mc) && J->n >= 8 * cfg->nr * nt) {
        nn__gemm_job T;
        size_t nb, need;
        int s;
        J->csplit = nt;
        J->astride = 0;
        for (s = 0; s < nt; s++)
            if (nn__gemm_slice(J, s, &T, &nb, &need)) J->astride = NN__MAX(J->astride, need);
        *nbp = 0;
        return J->astride * (size_t)nt;
    }
    return nn__gemm_tiling(cfg, J, nt, nbp);
}

static NN__INLINE int nn__gemm_blocked(const nn__gemm_cfg *cfg, int transa, int transb,
                                       int m, int n, int k, float alpha, const float *A,
                                       int lda, const float *B, int ldb, float beta, float *C,
                                       int ldc, const float *bias, nn_act act, float act_param,
                                       nn__gemm_ws *wsp)
{
    const int MR = cfg->mr, NR = cfg->nr, NC = cfg->nc;
    const nn__gemm_plan pl0 = nn__gemm_plan_for(cfg, transa, transb, m, n, k, ldb);
    float stackbuf[NN__GEMM_STACK_FLOATS + 16]; /* + alignment */
    float *ws, *heap = NULL;
    size_t need, nb;
    int i, j, nt, P, npb;
    nn__gemm_job J;

    if (k == 0) {
        for (i = 0; i < m; i++) {
            float *c = C + (size_t)i * ldc;
            if (beta == 0.0f) for (j = 0; j < n; j++) c[j] = 0.0f;
            else for (j = 0; j < n; j++) c[j] = beta * c[j];
        }
        nn__gemm_epilogue(cfg, C, ldc, m, n, bias, act, act_param, 1);
        return 1;
    }

    J.cfg = cfg;
    J.pl = pl0;
    J.transa = transa; J.transb = transb; J.m = m; J.n = n; J.k = k;
    J.lda = lda; J.ldb = ldb; J.ldc = ldc; J.alpha = alpha; J.beta = beta;
    J.A = A; J.B = B; J.C = C; J.bias = bias; J.act = act; J.act_param = act_param;

    P = (m + MR - 1) / MR;
    npb = (NN__MIN(NC, n) + NR - 1) / NR;
    nt = nn__threads_for(2.0 * m * n * k, NN__PAR_GEMM_FLOPS * cfg->par_scale, (long)P * npb);
    need = nn__gemm_plan_ws(cfg, &J, nt, &nb);
    if (wsp) {
        /* Room also for the plans a back-off (one thread) and its end (the whole team)
           give this call, which differ in size (one thread packs all of B, an own-B
           team only its tiles'): a steady state then allocates nothing whichever
           comes first. */
        const int alt[2] = {1, nn__threads_cap(nn__threads_team(), 2.0 * m * n * k,
                                                NN__PAR_GEMM_FLOPS * cfg->par_scale, (long)P * npb)};
        size_t most = need, nb2;
        int q;
        for (q = 0; q < 2; q++)
            if (alt[q] != nt) {
                nn__gemm_job T = J;
                T.pl = pl0;
                most = NN__MAX(most, nn__gemm_plan_ws(cfg, &T, alt[q], &nb2));
            }
        if (most > NN__GEMM_STACK_FLOATS) (void)nn__gemm_ws_reserve(wsp, most);
    }
    if (need <= NN__GEMM_STACK_FLOATS) {
        ws = stackbuf;
    } else if (wsp && nn__gemm_ws_reserve(wsp, need)) {
        ws = wsp->p;
    } else {
        heap = (float *)nn__malloc_aligned(need * sizeof(float), NN__ALIGN);
        if (!heap) return 0;
        ws = heap;
    }
    ws = (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63);
    J.bpack = ws;               /* nb floats */
    J.apack = ws + nb;          /* J.astride floats per thread */
    nn__par_run(J.csplit ? nn__gemm_csplit_work : nn__gemm_work, &J, nt);
    if (heap) nn__free_aligned(heap);
    return 1;
}

/* The paths of a backend's GEMM. Its entry nn__gemm__<isa> is nn__gemm_plan__<isa>
   (which path, from the shape alone) then nn__gemm_run__<isa> (a switch calling it);
   tests call both directly. */
typedef enum nn__gemm_path_kind {
    NN__GEMM_PATH_DOT_NT,   /* NT as dot products of k-contiguous rows, unpacked */
    NN__GEMM_PATH_DIRECT,   /* exact-height micro-kernels on A and B in place (nn__gemm_direct) */
    NN__GEMM_PATH_BLOCKED   /* the packed loop nest (nn__gemm_blocked) with path.cfg */
} nn__gemm_path_kind;
typedef struct nn__gemm_path {
    nn__gemm_path_kind kind;
    const nn__gemm_cfg *cfg; /* BLOCKED: its geometry; every path: the epilogue's kernels */
} nn__gemm_path;

/* A backend's path thresholds (one static const table per backend, next to its
   planning function), tested in this order; k == 0 always takes BLOCKED, which then
   only scales C and runs the epilogue. */
typedef struct nn__gemm_limits {
    int dot_n, dot_m;   /* DOT_NT: transb, !transa and (n <= dot_n or m <= dot_m) */
    int direct_m;       /* DIRECT: transb == 0 and (m <= direct_m */
    int direct_k;       /*   or k <= direct_k), */
    int direct_nx_m;    /*   or transa == 0 (NN, NT) and m <= direct_nx_m */
    const nn__gemm_cfg *blocked;       /* BLOCKED: this geometry, */
    const nn__gemm_cfg *blocked_large; /*   this one (NULL: none) when 2 m n k >= */
    double large_flops;                /*   large_flops */
} nn__gemm_limits;

/* The rules above, shared by the backends' planning functions. */
static NN__INLINE nn__gemm_path nn__gemm_plan_by(const nn__gemm_limits *L, int transa,
                                                 int transb, int m, int n, int k)
{
    nn__gemm_path p;
    p.cfg = L->blocked;
    if (k > 0 && !transa && transb && (n <= L->dot_n || m <= L->dot_m)) {
        p.kind = NN__GEMM_PATH_DOT_NT;
    } else if (k > 0 && ((!transb && (m <= L->direct_m || k <= L->direct_k)) ||
                         (!transa && m <= L->direct_nx_m))) {
        p.kind = NN__GEMM_PATH_DIRECT;
    } else {
        p.kind = NN__GEMM_PATH_BLOCKED;
        if (L->blocked_large && 2.0 * m * n * k >= L->large_flops) p.cfg = L->blocked_large;
    }
    return p;
}
#endif /* NN__HAS_AVX2 || NN__HAS_NEON */

/* The body of every optimizer kernel nn__<rule>__<isa> (each written out under its own
   name in its ISA's section): whole W-lane vectors through the rule's lane function
   STEP, then the tail through the same STEP in a zero-padded stack vector (KT / KINIT:
   the backend's broadcast constants). A statement body, not an inline helper taking
   STEP as a function pointer: gcc and clang compiled that to slightly different code.
   The weights NN__OPT_PF_FLOATS ahead are prefetched for writing (x86 PREFETCHW, NEON
   PRFM PSTL1KEEP), one 64-byte line per 16 floats. In a 2-thread training step another
   core has just read many of the weight lines a thread rewrites here (the backward
   data GEMM reads all of a layer's W), and every such line must be taken back from
   that core before the store completes; the prefetch starts those transfers early, so
   more of them overlap. It helps 2-thread steps and costs 1 thread nothing; a few
   hundred floats ahead is the useful range. (The x86 regions enable prfchw for it;
   every AVX2 CPU runs the instruction: Intel ones before Broadwell, which do not report
   the flag, execute it as a no-op.) */
#ifndef NN__OPT_PF_FLOATS
#  define NN__OPT_PF_FLOATS 384
#endif
#if defined(__GNUC__) || defined(__clang__)
#  define NN__PREFETCH_W(p) __builtin_prefetch((p), 1, 3)
#else
#  define NN__PREFETCH_W(p) ((void)(p))
#endif
#define NN__OPTIM_LOOP(KT, KINIT, STEP, W, p, w, g, s1, s2, n)               \
    do {                                                                     \
        KT k;                                                                \
        size_t i = 0, r;                                                     \
        KINIT(&k, p);                                                        \
        for (; i + (W) <= n; i += (W)) {                                     \
            if ((i & 15) == 0 && i + NN__OPT_PF_FLOATS < n)                  \
                NN__PREFETCH_W(w + i + NN__OPT_PF_FLOATS);                   \
            STEP(&k, w + i, g + i, s1 ? s1 + i : NULL, s2 ? s2 + i : NULL);  \
        }                                                                    \
        r = n - i;                                                           \
        if (r) {                                                             \
            float bw[W] = {0}, bg[W] = {0}, b1[W] = {0}, b2[W] = {0};        \
            memcpy(bw, w + i, r * sizeof(float));                            \
            memcpy(bg, g + i, r * sizeof(float));                            \
            if (s1) memcpy(b1, s1 + i, r * sizeof(float));                   \
            if (s2) memcpy(b2, s2 + i, r * sizeof(float));                   \
            STEP(&k, bw, bg, s1 ? b1 : NULL, s2 ? b2 : NULL);                \
            memcpy(w + i, bw, r * sizeof(float));                            \
            if (s1) memcpy(s1 + i, b1, r * sizeof(float));                   \
            if (s2) memcpy(s2 + i, b2, r * sizeof(float));                   \
        }                                                                    \
    } while (0)

/* >>avx2 -------------------------------------------------------------------- */
/* Everything between NN__AVX2_BEGIN and NN__AVX2_END is compiled for AVX2+FMA whatever
   the command-line flags, and is only ever reached through the backend table after the
   CPU was checked, so a plain -O2 build runs AVX2 where it exists and nothing breaks
   where it does not. */
#if NN__HAS_AVX2
#  include <immintrin.h>
#  if defined(__clang__)
#    define NN__AVX2_BEGIN _Pragma("clang attribute push(__attribute__((target(\"avx2,fma,prfchw\"))), apply_to=function)")
#    define NN__AVX2_END   _Pragma("clang attribute pop")
#  else
#    define NN__AVX2_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma,prfchw\")")
#    define NN__AVX2_END   _Pragma("GCC pop_options")
#  endif

NN__AVX2_BEGIN

/* >>avx2_vec: element-wise, softmax, reduction and optimizer kernels ------- */
/* Conventions of this section (>>neon_vec mirrors it lane for lane):
   - Main loops run on whole vectors with loadu/storeu: no alignment is assumed and no
     byte past n is read or written.
   - Tails (n % 8 elements) are copied into a zero-padded stack vector, pushed through the
     SAME vector code and copied back. Every element thus gets the same instruction
     sequence wherever it sits in the array: results never depend on n, the offset or
     the alignment, and the tail is exactly as accurate as the body. (This is the
     "scalar tail with the same semantics", done by construction instead of by a second
     copy of each formula.)
   - Lane semantics equal the scalar reference (>>scalar), including NaN, -0 and +-inf.
     identity, relu, leaky relu, hardtanh and sign (forward and backward) are
     bit-identical to it; the transcendental ones use the approximations below (error
     in the ACCURACY table at the top); sums and optimizer updates use FMA and other
     summation orders, except col_sums which adds in row order like the reference and
     so is bit-identical too. */

#define NN__V8_SIGN() _mm256_set1_ps(-0.0f)

/* exp, "rr2_p6". Range reduction x = n*ln2 + r with n = round(x*log2e), |r| <= ~ln2/2,
   in two FMA steps (Cody-Waite, ln2 = L_hi + L_lo; x - n*L_hi is exact under FMA).
   e^r = 1 + r + r^2*q(r), q of degree 4 fitted (Lawson minimax) to (e^r-1-r)/r^2 on
   [-ln2/2, ln2/2] for the relative error of e^r: 4e-9 with the float coefficients, so
   the result error is dominated by rounding (<= 1 ulp measured).
   2^n is applied as two factors 2^(n>>1) * 2^(n-(n>>1)): subnormal results are rounded
   once (no flush), and n = 130 cannot overflow the exponent field. x is clamped to
   [-110, 90] first (the clamps pass NaN through): exp(x) = +inf for x > 88.7228 like
   libm, subnormal down to x = -103.97, then +0. exp(-inf) = 0, exp(NaN) = NaN. */
#define NN__EXP_XMIN   -110.0f
#define NN__EXP_XMAX     90.0f
#define NN__EXP_LOG2E  1.442695022e+00f
#define NN__EXP_LN2HI  6.931471825e-01f
#define NN__EXP_LN2LO -1.904654212e-09f
#define NN__EXP_C2     4.999999404e-01f
#define NN__EXP_C3     1.666652113e-01f
#define NN__EXP_C4     4.166838899e-02f
#define NN__EXP_C5     8.368710056e-03f
#define NN__EXP_C6     1.381461276e-03f
/* tanh, "p11" part: tanh x = x + x^3*Q(x^2) for |x| < 0.5493 (where tanh = 1/2), Q of
   degree 4 fitted (Lawson minimax) for relative error 5e-9. Above, 1 - 2/(e^(2|x|)+1)
   has no cancellation (the subtracted term is <= 1/2). */
#define NN__TANH_SMALL 5.493000150e-01f
#define NN__TANH_Q0   -3.333331645e-01f
#define NN__TANH_Q1    1.333259344e-01f
#define NN__TANH_Q2   -5.385310203e-02f
#define NN__TANH_Q3    2.107518166e-02f
#define NN__TANH_Q4   -6.279515568e-03f

static inline __m256 nn__exp8__avx2_rr2_p6(__m256 x)
{
    __m256 n, r, p, s1, s2;
    __m256i k, k1, k2;
    /* max/min return their SECOND operand when either is NaN: NaN passes through. */
    x = _mm256_max_ps(_mm256_set1_ps(NN__EXP_XMIN), x);
    x = _mm256_min_ps(_mm256_set1_ps(NN__EXP_XMAX), x);
    n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(NN__EXP_LOG2E)),
                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(NN__EXP_LN2HI), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(NN__EXP_LN2LO), r);
    p = _mm256_set1_ps(NN__EXP_C6);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(NN__EXP_C5));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(NN__EXP_C4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(NN__EXP_C3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(NN__EXP_C2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    k = _mm256_cvtps_epi32(n);                  /* NaN gives garbage here, but p is NaN */
    k1 = _mm256_srai_epi32(k, 1);
    k2 = _mm256_sub_epi32(k, k1);
    s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, _mm256_set1_epi32(127)), 23));
    s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

/* sigmoid, "rr2_p6_div": e = exp(-|z|) in [0,1] never overflows; y = 1/(1+e) for z >= 0
   and e/(1+e) otherwise (the reference's two branches), with a true division. Saturates
   to exactly 1 (z > 17.3) and to subnormals then 0 (z < -103.3). NaN propagates. */
static inline __m256 nn__sigmoid8__avx2_rr2_p6_div(__m256 z)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 e = nn__exp8__avx2_rr2_p6(_mm256_or_ps(z, NN__V8_SIGN()));
    __m256 num = _mm256_blendv_ps(e, one, _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GE_OQ));
    return _mm256_div_ps(num, _mm256_add_ps(one, e));
}

/* tanh, "p11_rr2_p6_div": on |x|, then the sign of x is put back (tanh(-0) = -0).
   Small: |x| + |x|^3*Q(x^2). Large: 1 - 2/(exp(2|x|)+1), exactly 1 from |x| > 9.01
   (exp overflowing to +inf also gives 1). NaN propagates (it takes the large path). */
static inline __m256 nn__tanh8__avx2_p11_rr2_p6_div(__m256 x)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 sign = _mm256_and_ps(x, NN__V8_SIGN());
    __m256 ax = _mm256_andnot_ps(NN__V8_SIGN(), x);
    __m256 u = _mm256_mul_ps(ax, ax);
    __m256 q = _mm256_set1_ps(NN__TANH_Q4), small, large, e;
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(NN__TANH_Q3));
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(NN__TANH_Q2));
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(NN__TANH_Q1));
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(NN__TANH_Q0));
    small = _mm256_fmadd_ps(_mm256_mul_ps(ax, u), q, ax);
    e = nn__exp8__avx2_rr2_p6(_mm256_add_ps(ax, ax));
    large = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
    return _mm256_or_ps(sign, _mm256_blendv_ps(large, small,
                        _mm256_cmp_ps(ax, _mm256_set1_ps(NN__TANH_SMALL), _CMP_LT_OQ)));
}

/* Lane functions for the element-wise activations: (input, param) -> output and
   (y, dy, param) -> dx. The comparisons are the reference's, so NaN and -0 agree. */
static inline __m256 nn__identity8__avx2(__m256 x, __m256 p) { (void)p; return x; }
static inline __m256 nn__sigmoid8__avx2(__m256 x, __m256 p) { (void)p; return nn__sigmoid8__avx2_rr2_p6_div(x); }
static inline __m256 nn__tanh8__avx2(__m256 x, __m256 p) { (void)p; return nn__tanh8__avx2_p11_rr2_p6_div(x); }
static inline __m256 nn__relu8__avx2(__m256 x, __m256 p)
{
    /* z > 0 ? z : (z == z ? 0 : z): keep z where z > 0 or z is NaN, else +0 */
    __m256 keep = _mm256_or_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ),
                               _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
    (void)p;
    return _mm256_and_ps(x, keep);
}
static inline __m256 nn__leaky_relu8__avx2(__m256 x, __m256 p)
{
    return _mm256_blendv_ps(_mm256_mul_ps(p, x), x,
                            _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ));
}
static inline __m256 nn__hardtanh8__avx2(__m256 x, __m256 p)
{
    /* min(a,b) = a < b ? a : b and max(a,b) = a > b ? a : b, so this is exactly
       z > 1 ? 1 : (z < -1 ? -1 : z), NaN and -0 passing through. */
    (void)p;
    return _mm256_max_ps(_mm256_set1_ps(-1.0f), _mm256_min_ps(_mm256_set1_ps(1.0f), x));
}
static inline __m256 nn__sign8__avx2(__m256 x, __m256 p)
{
    const __m256 zero = _mm256_setzero_ps();
    __m256 pos = _mm256_and_ps(_mm256_cmp_ps(x, zero, _CMP_GT_OQ), _mm256_set1_ps(1.0f));
    __m256 neg = _mm256_and_ps(_mm256_cmp_ps(x, zero, _CMP_LT_OQ), _mm256_set1_ps(-1.0f));
    __m256 nan = _mm256_and_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q), x);
    (void)p;
    return _mm256_or_ps(_mm256_or_ps(pos, neg), nan);
}

static inline __m256 nn__identity_d8__avx2(__m256 y, __m256 dy, __m256 p) { (void)y; (void)p; return dy; }
static inline __m256 nn__sigmoid_d8__avx2(__m256 y, __m256 dy, __m256 p)
{
    (void)p;
    return _mm256_mul_ps(dy, _mm256_mul_ps(y, _mm256_sub_ps(_mm256_set1_ps(1.0f), y)));
}
static inline __m256 nn__tanh_d8__avx2(__m256 y, __m256 dy, __m256 p)
{
    (void)p;
    return _mm256_mul_ps(dy, _mm256_sub_ps(_mm256_set1_ps(1.0f), _mm256_mul_ps(y, y)));
}
static inline __m256 nn__relu_d8__avx2(__m256 y, __m256 dy, __m256 p)
{
    __m256 gt = _mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_GT_OQ);
    (void)p;
    return _mm256_mul_ps(dy, _mm256_and_ps(gt, _mm256_set1_ps(1.0f)));
}
static inline __m256 nn__leaky_relu_d8__avx2(__m256 y, __m256 dy, __m256 p)
{
    __m256 gt = _mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_GT_OQ);
    return _mm256_mul_ps(dy, _mm256_blendv_ps(p, _mm256_set1_ps(1.0f), gt));
}
static inline __m256 nn__hardtanh_d8__avx2(__m256 y, __m256 dy, __m256 p)
{
    __m256 in = _mm256_and_ps(_mm256_cmp_ps(y, _mm256_set1_ps(-1.0f), _CMP_GT_OQ),
                              _mm256_cmp_ps(y, _mm256_set1_ps(1.0f), _CMP_LT_OQ));
    (void)p;
    return _mm256_mul_ps(dy, _mm256_and_ps(in, _mm256_set1_ps(1.0f)));
}
static inline __m256 nn__sign_d8__avx2(__m256 y, __m256 dy, __m256 p)
{
    (void)y; (void)p;
    return _mm256_mul_ps(dy, _mm256_setzero_ps()); /* +-0, NaN for inf/NaN dy */
}

/* The loops of the element-wise kernels below (each written out under its own name),
   as statement bodies around a direct call of the lane function OP. Forward:
   y[i] = OP(x[i], param), two vectors per iteration, then one, then the padded tail.
   Backward: dx[i] = OP(y[i], dy[i], param) (dx may equal dy). Macros, not inline
   helpers: taking OP as a function pointer, gcc and clang compiled some kernels to
   slightly different code. */
#define NN__AVX2_ACT_FWD_LOOP(OP, x, y, n, param)                                               \
    do {                                                                                        \
        const __m256 vp = _mm256_set1_ps(param);                                                \
        size_t i = 0;                                                                           \
        for (; i + 16 <= n; i += 16) {                                                          \
            __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);                  \
            _mm256_storeu_ps(y + i, OP(a, vp));                                                 \
            _mm256_storeu_ps(y + i + 8, OP(b, vp));                                             \
        }                                                                                       \
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, OP(_mm256_loadu_ps(x + i), vp));     \
        if (i < n) {                                                                            \
            float buf[8] = {0};                                                                 \
            memcpy(buf, x + i, (n - i) * sizeof(float));                                        \
            _mm256_storeu_ps(buf, OP(_mm256_loadu_ps(buf), vp));                                \
            memcpy(y + i, buf, (n - i) * sizeof(float));                                        \
        }                                                                                       \
    } while (0)
#define NN__AVX2_ACT_BWD_LOOP(OP, y, dy, dx, n, param)                                          \
    do {                                                                                        \
        const __m256 vp = _mm256_set1_ps(param);                                                \
        size_t i = 0;                                                                           \
        for (; i + 8 <= n; i += 8)                                                              \
            _mm256_storeu_ps(dx + i, OP(_mm256_loadu_ps(y + i), _mm256_loadu_ps(dy + i), vp));  \
        if (i < n) {                                                                            \
            float by[8] = {0}, bd[8] = {0};                                                     \
            memcpy(by, y + i, (n - i) * sizeof(float));                                         \
            memcpy(bd, dy + i, (n - i) * sizeof(float));                                        \
            _mm256_storeu_ps(bd, OP(_mm256_loadu_ps(by), _mm256_loadu_ps(bd), vp));             \
            memcpy(dx + i, bd, (n - i) * sizeof(float));                                        \
        }                                                                                       \
    } while (0)

static void nn__identity_fwd__avx2(const float *x, float *y, size_t n, float p)
{
    NN__AVX2_ACT_FWD_LOOP(nn__identity8__avx2, x, y, n, p);
}
static void nn__sigmoid_fwd__avx2_rr2_p6_div(const float *x, float *y, size_t n, float p)
{
    NN__AVX2_ACT_FWD_LOOP(nn__sigmoid8__avx2, x, y, n, p);
}
static void nn__tanh_fwd__avx2_p11_rr2_p6_div(const float *x, float *y, size_t n, float p)
{
    NN__AVX2_ACT_FWD_LOOP(nn__tanh8__avx2, x, y, n, p);
}
static void nn__relu_fwd__avx2(const float *x, float *y, size_t n, float p)
{
    NN__AVX2_ACT_FWD_LOOP(nn__relu8__avx2, x, y, n, p);
}
static void nn__leaky_relu_fwd__avx2(const float *x, float *y, size_t n, float p)
{
    NN__AVX2_ACT_FWD_LOOP(nn__leaky_relu8__avx2, x, y, n, p);
}
static void nn__hardtanh_fwd__avx2(const float *x, float *y, size_t n, float p)
{
    NN__AVX2_ACT_FWD_LOOP(nn__hardtanh8__avx2, x, y, n, p);
}
static void nn__sign_fwd__avx2(const float *x, float *y, size_t n, float p)
{
    NN__AVX2_ACT_FWD_LOOP(nn__sign8__avx2, x, y, n, p);
}
static void nn__identity_bwd__avx2(const float *y, const float *dy, float *dx, size_t n, float p)
{
    NN__AVX2_ACT_BWD_LOOP(nn__identity_d8__avx2, y, dy, dx, n, p);
}
static void nn__sigmoid_bwd__avx2(const float *y, const float *dy, float *dx, size_t n, float p)
{
    NN__AVX2_ACT_BWD_LOOP(nn__sigmoid_d8__avx2, y, dy, dx, n, p);
}
static void nn__tanh_bwd__avx2(const float *y, const float *dy, float *dx, size_t n, float p)
{
    NN__AVX2_ACT_BWD_LOOP(nn__tanh_d8__avx2, y, dy, dx, n, p);
}
static void nn__relu_bwd__avx2(const float *y, const float *dy, float *dx, size_t n, float p)
{
    NN__AVX2_ACT_BWD_LOOP(nn__relu_d8__avx2, y, dy, dx, n, p);
}
static void nn__leaky_relu_bwd__avx2(const float *y, const float *dy, float *dx, size_t n, float p)
{
    NN__AVX2_ACT_BWD_LOOP(nn__leaky_relu_d8__avx2, y, dy, dx, n, p);
}
static void nn__hardtanh_bwd__avx2(const float *y, const float *dy, float *dx, size_t n, float p)
{
    NN__AVX2_ACT_BWD_LOOP(nn__hardtanh_d8__avx2, y, dy, dx, n, p);
}
static void nn__sign_bwd__avx2(const float *y, const float *dy, float *dx, size_t n, float p)
{
    NN__AVX2_ACT_BWD_LOOP(nn__sign_d8__avx2, y, dy, dx, n, p);
}
#undef NN__AVX2_ACT_FWD_LOOP
#undef NN__AVX2_ACT_BWD_LOOP

/* y[i] = e^x[i] (y may equal x). Not in the backend table (nothing outside needs a bare
   exp); used by the narrow softmax, and by tests/test_kernels.c to measure the
   approximation directly. */
static void nn__exp__avx2_rr2_p6(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, nn__exp8__avx2_rr2_p6(_mm256_loadu_ps(x + i)));
    if (i < n) {
        float buf[8] = {0};
        memcpy(buf, x + i, (n - i) * sizeof(float));
        _mm256_storeu_ps(buf, nn__exp8__avx2_rr2_p6(_mm256_loadu_ps(buf)));
        memcpy(y + i, buf, (n - i) * sizeof(float));
    }
}

static inline float nn__hsum8__avx2(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float nn__hmax8__avx2(__m256 v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* All-ones in the first `count` lanes (0 <= count <= 8). */
static inline __m256 nn__lanes8__avx2(size_t count)
{
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)count),
                                                  _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
}

/* Softmax of each row with the rr2_p6 exp. x, y: [rows][cols], y may equal x.
   The max is exact whatever the order; a NaN anywhere in a row makes the whole row NaN
   (as in the reference). The sum is accumulated per lane, then reduced. */
/* Narrow rows (cols < 32, e.g. the 10 classes of an output layer), where the per-row
   vector loops would be mostly tail: y = x - rowmax for every row, then ONE exp pass over
   the whole block in full vectors across row boundaries, then each row's sum (in order)
   and scale. */
static void nn__softmax_narrow__avx2_rr2_p6(const float *x, float *y, int rows, int cols)
{
    const size_t n = (size_t)cols;
    size_t j;
    int i;
    for (i = 0; i < rows; i++) {
        const float *xr = x + (size_t)i * n;
        float *yr = y + (size_t)i * n;
        float mx = xr[0];
        for (j = 1; j < n; j++) mx = xr[j] > mx ? xr[j] : mx;
        for (j = 0; j < n; j++) yr[j] = xr[j] - mx;
    }
    nn__exp__avx2_rr2_p6(y, y, (size_t)rows * n);
    for (i = 0; i < rows; i++) {
        float *yr = y + (size_t)i * n;
        float sum = 0.0f, inv;
        for (j = 0; j < n; j++) sum += yr[j];
        inv = 1.0f / sum;
        for (j = 0; j < n; j++) yr[j] *= inv;
    }
}

static void nn__softmax_rows__avx2_rr2_p6(const float *x, float *y, int rows, int cols)
{
    const size_t n = (size_t)cols;
    int i;
    if (cols < 32) {
        nn__softmax_narrow__avx2_rr2_p6(x, y, rows, cols);
        return;
    }
    for (i = 0; i < rows; i++) {
        const float *xr = x + (size_t)i * n;
        float *yr = y + (size_t)i * n;
        float mx = xr[0], inv;
        __m256 vmx, vsum = _mm256_setzero_ps(), vinv;
        size_t j = 0;
        if (n >= 8) {
            vmx = _mm256_loadu_ps(xr);
            for (j = 8; j + 8 <= n; j += 8) vmx = _mm256_max_ps(vmx, _mm256_loadu_ps(xr + j));
            mx = nn__hmax8__avx2(vmx);
        }
        for (; j < n; j++) mx = xr[j] > mx ? xr[j] : mx;
        vmx = _mm256_set1_ps(mx);
        for (j = 0; j + 8 <= n; j += 8) {
            __m256 e = nn__exp8__avx2_rr2_p6(_mm256_sub_ps(_mm256_loadu_ps(xr + j), vmx));
            _mm256_storeu_ps(yr + j, e);
            vsum = _mm256_add_ps(vsum, e);
        }
        if (j < n) {
            float buf[8] = {0};
            __m256 e;
            memcpy(buf, xr + j, (n - j) * sizeof(float));
            e = nn__exp8__avx2_rr2_p6(_mm256_sub_ps(_mm256_loadu_ps(buf), vmx));
            e = _mm256_and_ps(e, nn__lanes8__avx2(n - j));
            _mm256_storeu_ps(buf, e);
            memcpy(yr + j, buf, (n - j) * sizeof(float));
            vsum = _mm256_add_ps(vsum, e);
        }
        inv = 1.0f / nn__hsum8__avx2(vsum);
        vinv = _mm256_set1_ps(inv);
        for (j = 0; j + 8 <= n; j += 8) _mm256_storeu_ps(yr + j, _mm256_mul_ps(_mm256_loadu_ps(yr + j), vinv));
        for (; j < n; j++) yr[j] *= inv;
    }
}

/* dx = y * (dy - dot(dy, y)) per row; dx may equal dy. */
static void nn__softmax_bwd_rows__avx2(const float *y, const float *dy, float *dx,
                                       int rows, int cols)
{
    const size_t n = (size_t)cols;
    int i;
    for (i = 0; i < rows; i++) {
        const float *yr = y + (size_t)i * n, *dyr = dy + (size_t)i * n;
        float *dxr = dx + (size_t)i * n;
        __m256 acc = _mm256_setzero_ps(), vdot;
        float dot;
        size_t j = 0;
        for (; j + 8 <= n; j += 8)
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(dyr + j), _mm256_loadu_ps(yr + j), acc);
        dot = nn__hsum8__avx2(acc);
        for (; j < n; j++) dot += dyr[j] * yr[j];
        vdot = _mm256_set1_ps(dot);
        for (j = 0; j + 8 <= n; j += 8)
            _mm256_storeu_ps(dxr + j, _mm256_mul_ps(_mm256_loadu_ps(yr + j),
                                                    _mm256_sub_ps(_mm256_loadu_ps(dyr + j), vdot)));
        for (; j < n; j++) dxr[j] = yr[j] * (dyr[j] - dot);
    }
}

/* out[j] = sum_i x[i*ldx + j]: each column is summed in row order from 0.0f, exactly as
   the reference, so the result is bit-identical to it and independent of the blocking.
   Columns go 32 (4 accumulators), then 8 at a time; the rest one by one. */
static void nn__col_sums__avx2(const float *x, int rows, int cols, int ldx, float *out)
{
    const size_t ld = (size_t)ldx;
    int i, j = 0;
    for (; j + 32 <= cols; j += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (i = 0; i < rows; i++) {
            const float *r = x + (size_t)i * ld + j;
            a0 = _mm256_add_ps(a0, _mm256_loadu_ps(r));
            a1 = _mm256_add_ps(a1, _mm256_loadu_ps(r + 8));
            a2 = _mm256_add_ps(a2, _mm256_loadu_ps(r + 16));
            a3 = _mm256_add_ps(a3, _mm256_loadu_ps(r + 24));
        }
        _mm256_storeu_ps(out + j, a0);
        _mm256_storeu_ps(out + j + 8, a1);
        _mm256_storeu_ps(out + j + 16, a2);
        _mm256_storeu_ps(out + j + 24, a3);
    }
    for (; j + 8 <= cols; j += 8) {
        __m256 a0 = _mm256_setzero_ps();
        for (i = 0; i < rows; i++) a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + (size_t)i * ld + j));
        _mm256_storeu_ps(out + j, a0);
    }
    for (; j < cols; j++) {
        float s = 0.0f;
        for (i = 0; i < rows; i++) s += x[(size_t)i * ld + j];
        out[j] = s;
    }
}

/* y += a*x with FMA */
static void nn__axpy__avx2(size_t n, float a, const float *x, float *y)
{
    const __m256 va = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
        _mm256_storeu_ps(y + i + 8, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i + 8),
                                                    _mm256_loadu_ps(y + i + 8)));
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    if (i < n) {
        float bx[8] = {0}, by[8] = {0};
        memcpy(bx, x + i, (n - i) * sizeof(float));
        memcpy(by, y + i, (n - i) * sizeof(float));
        _mm256_storeu_ps(by, _mm256_fmadd_ps(va, _mm256_loadu_ps(bx), _mm256_loadu_ps(by)));
        memcpy(y + i, by, (n - i) * sizeof(float));
    }
}

/* sum x^2 in double: 4 accumulators of 4 doubles over blocks of 16, combined in a fixed
   order, then the tail in order. Deterministic for a given n. */
static double nn__sumsq__avx2(const float *x, size_t n)
{
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    __m128d h;
    double s;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
        __m256d d0 = _mm256_cvtps_pd(_mm256_castps256_ps128(v0));
        __m256d d1 = _mm256_cvtps_pd(_mm256_extractf128_ps(v0, 1));
        __m256d d2 = _mm256_cvtps_pd(_mm256_castps256_ps128(v1));
        __m256d d3 = _mm256_cvtps_pd(_mm256_extractf128_ps(v1, 1));
        a0 = _mm256_fmadd_pd(d0, d0, a0);
        a1 = _mm256_fmadd_pd(d1, d1, a1);
        a2 = _mm256_fmadd_pd(d2, d2, a2);
        a3 = _mm256_fmadd_pd(d3, d3, a3);
    }
    a0 = _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3));
    h = _mm_add_pd(_mm256_castpd256_pd128(a0), _mm256_extractf128_pd(a0, 1));
    s = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    for (; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}

/* 1 iff no element has the all-ones exponent (inf or NaN). */
static int nn__all_finite__avx2(const float *x, size_t n)
{
    const __m256i em = _mm256_set1_epi32(0x7f800000);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i e0 = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(const void *)(x + i)), em);
        __m256i e1 = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(const void *)(x + i + 8)), em);
        __m256i e2 = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(const void *)(x + i + 16)), em);
        __m256i e3 = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(const void *)(x + i + 24)), em);
        __m256i bad = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi32(e0, em), _mm256_cmpeq_epi32(e1, em)),
                                      _mm256_or_si256(_mm256_cmpeq_epi32(e2, em), _mm256_cmpeq_epi32(e3, em)));
        if (!_mm256_testz_si256(bad, bad)) return 0;
    }
    for (; i + 8 <= n; i += 8) {
        __m256i e0 = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(const void *)(x + i)), em);
        __m256i bad = _mm256_cmpeq_epi32(e0, em);
        if (!_mm256_testz_si256(bad, bad)) return 0;
    }
    for (; i < n; i++)
        if (x[i] - x[i] != 0.0f) return 0; /* NaN for inf and NaN, 0 otherwise */
    return 1;
}

/* Optimizer updates: the rules of >>scalar on one vector of lanes (nn__<rule>8__avx2),
   with FMA where a multiply feeds an add; the decoupled decay w -= lr*wd*w comes first.
   >>avx512 repeats them at 16 lanes, intrinsic for intrinsic (_mm512 for _mm256): lanes
   are independent and both widths run the same operations in the same order, so the
   AVX2 and AVX-512 backends write the same bits (tests/test_kernels.c checks). The
   AVX-512 width pays: Adam is bound by its square root and divide, and where zmm ones
   retire twice the lanes of ymm ones the rule runs up to twice as fast. */
typedef struct nn__optk_avx2 {
    __m256 lr, lrwd, mu, b1, omb1, b2, omb2, eps, bc1, bc2;
} nn__optk_avx2;

static void nn__optk_init__avx2(nn__optk_avx2 *k, const nn_simd_optim_args *p)
{
    k->lr = _mm256_set1_ps(p->lr);
    k->lrwd = _mm256_set1_ps(p->lr * p->wd);
    k->mu = _mm256_set1_ps(p->mu);
    k->b1 = _mm256_set1_ps(p->beta1);
    k->omb1 = _mm256_set1_ps(1.0f - p->beta1);
    k->b2 = _mm256_set1_ps(p->beta2);
    k->omb2 = _mm256_set1_ps(1.0f - p->beta2);
    k->eps = _mm256_set1_ps(p->eps);
    k->bc1 = _mm256_set1_ps(p->bc1);
    k->bc2 = _mm256_set1_ps(p->bc2);
}

static inline void nn__sgd8__avx2(const nn__optk_avx2 *k, float *w, const float *g, float *s1, float *s2)
{
    __m256 vw = _mm256_loadu_ps(w);
    (void)s1; (void)s2;
    vw = _mm256_fnmadd_ps(k->lrwd, vw, vw);
    _mm256_storeu_ps(w, _mm256_fnmadd_ps(k->lr, _mm256_loadu_ps(g), vw));
}
static inline void nn__momentum8__avx2(const nn__optk_avx2 *k, float *w, const float *g, float *v, float *s2)
{
    __m256 vw = _mm256_loadu_ps(w);
    __m256 vv = _mm256_fmadd_ps(k->mu, _mm256_loadu_ps(v), _mm256_mul_ps(k->lr, _mm256_loadu_ps(g)));
    (void)s2;
    vw = _mm256_fnmadd_ps(k->lrwd, vw, vw);
    _mm256_storeu_ps(v, vv);
    _mm256_storeu_ps(w, _mm256_sub_ps(vw, vv));
}
static inline void nn__nesterov8__avx2(const nn__optk_avx2 *k, float *w, const float *g, float *v, float *s2)
{
    __m256 vw = _mm256_loadu_ps(w);
    __m256 lrg = _mm256_mul_ps(k->lr, _mm256_loadu_ps(g));
    __m256 vv = _mm256_fmadd_ps(k->mu, _mm256_loadu_ps(v), lrg);
    (void)s2;
    vw = _mm256_fnmadd_ps(k->lrwd, vw, vw);
    _mm256_storeu_ps(v, vv);
    _mm256_storeu_ps(w, _mm256_sub_ps(vw, _mm256_fmadd_ps(k->mu, vv, lrg)));
}
static inline void nn__adagrad8__avx2(const nn__optk_avx2 *k, float *w, const float *g, float *s, float *s2)
{
    __m256 vw = _mm256_loadu_ps(w), vg = _mm256_loadu_ps(g);
    __m256 vs = _mm256_fmadd_ps(vg, vg, _mm256_loadu_ps(s));
    (void)s2;
    vw = _mm256_fnmadd_ps(k->lrwd, vw, vw);
    _mm256_storeu_ps(s, vs);
    _mm256_storeu_ps(w, _mm256_sub_ps(vw, _mm256_div_ps(_mm256_mul_ps(k->lr, vg),
                                                     _mm256_add_ps(_mm256_sqrt_ps(vs), k->eps))));
}
static inline void nn__rmsprop8__avx2(const nn__optk_avx2 *k, float *w, const float *g, float *s, float *s2)
{
    __m256 vw = _mm256_loadu_ps(w), vg = _mm256_loadu_ps(g);
    __m256 vs = _mm256_fmadd_ps(k->b2, _mm256_loadu_ps(s), _mm256_mul_ps(_mm256_mul_ps(k->omb2, vg), vg));
    (void)s2;
    vw = _mm256_fnmadd_ps(k->lrwd, vw, vw);
    _mm256_storeu_ps(s, vs);
    _mm256_storeu_ps(w, _mm256_sub_ps(vw, _mm256_div_ps(_mm256_mul_ps(k->lr, vg),
                                                     _mm256_add_ps(_mm256_sqrt_ps(vs), k->eps))));
}
static inline void nn__adam8__avx2(const nn__optk_avx2 *k, float *w, const float *g, float *m, float *v)
{
    __m256 vw = _mm256_loadu_ps(w), vg = _mm256_loadu_ps(g);
    __m256 vm = _mm256_fmadd_ps(k->b1, _mm256_loadu_ps(m), _mm256_mul_ps(k->omb1, vg));
    __m256 vv = _mm256_fmadd_ps(k->b2, _mm256_loadu_ps(v), _mm256_mul_ps(_mm256_mul_ps(k->omb2, vg), vg));
    __m256 num = _mm256_mul_ps(k->lr, _mm256_mul_ps(vm, k->bc1));
    __m256 den = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(vv, k->bc2)), k->eps);
    vw = _mm256_fnmadd_ps(k->lrwd, vw, vw);
    _mm256_storeu_ps(m, vm);
    _mm256_storeu_ps(v, vv);
    _mm256_storeu_ps(w, _mm256_sub_ps(vw, _mm256_div_ps(num, den)));
}

static inline void nn__adadelta8__avx2(const nn__optk_avx2 *k, float *w, const float *g, float *s, float *d)
{
    __m256 vw = _mm256_loadu_ps(w), vg = _mm256_loadu_ps(g), vd = _mm256_loadu_ps(d);
    __m256 vs = _mm256_fmadd_ps(k->b2, _mm256_loadu_ps(s), _mm256_mul_ps(_mm256_mul_ps(k->omb2, vg), vg));
    __m256 u = _mm256_mul_ps(_mm256_div_ps(_mm256_sqrt_ps(_mm256_add_ps(vd, k->eps)),
                                           _mm256_sqrt_ps(_mm256_add_ps(vs, k->eps))), vg);
    vd = _mm256_fmadd_ps(k->b2, vd, _mm256_mul_ps(_mm256_mul_ps(k->omb2, u), u));
    vw = _mm256_fnmadd_ps(k->lrwd, vw, vw);
    _mm256_storeu_ps(s, vs);
    _mm256_storeu_ps(d, vd);
    _mm256_storeu_ps(w, _mm256_fnmadd_ps(k->lr, u, vw));
}

static void nn__sgd__avx2(const nn_simd_optim_args *p, float *w, const float *g,
                          float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_avx2, nn__optk_init__avx2, nn__sgd8__avx2, 8,
                   p, w, g, s1, s2, n);
}
static void nn__momentum__avx2(const nn_simd_optim_args *p, float *w, const float *g,
                               float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_avx2, nn__optk_init__avx2, nn__momentum8__avx2, 8,
                   p, w, g, s1, s2, n);
}
static void nn__nesterov__avx2(const nn_simd_optim_args *p, float *w, const float *g,
                               float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_avx2, nn__optk_init__avx2, nn__nesterov8__avx2, 8,
                   p, w, g, s1, s2, n);
}
static void nn__adagrad__avx2(const nn_simd_optim_args *p, float *w, const float *g,
                              float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_avx2, nn__optk_init__avx2, nn__adagrad8__avx2, 8,
                   p, w, g, s1, s2, n);
}
static void nn__rmsprop__avx2(const nn_simd_optim_args *p, float *w, const float *g,
                              float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_avx2, nn__optk_init__avx2, nn__rmsprop8__avx2, 8,
                   p, w, g, s1, s2, n);
}
static void nn__adam__avx2(const nn_simd_optim_args *p, float *w, const float *g,
                           float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_avx2, nn__optk_init__avx2, nn__adam8__avx2, 8,
                   p, w, g, s1, s2, n);
}

static void nn__adadelta__avx2(const nn_simd_optim_args *p, float *w, const float *g,
                               float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_avx2, nn__optk_init__avx2, nn__adadelta8__avx2, 8,
                   p, w, g, s1, s2, n);
}

static void nn__backend_init_avx2_vec(nn__backend *b)
{
    b->act_fwd[NN_ACT_DEFAULT] = nn__identity_fwd__avx2;
    b->act_bwd[NN_ACT_DEFAULT] = nn__identity_bwd__avx2;
    b->act_fwd[NN_ACT_IDENTITY] = nn__identity_fwd__avx2;
    b->act_bwd[NN_ACT_IDENTITY] = nn__identity_bwd__avx2;
    b->act_fwd[NN_ACT_SIGMOID] = nn__sigmoid_fwd__avx2_rr2_p6_div;
    b->act_bwd[NN_ACT_SIGMOID] = nn__sigmoid_bwd__avx2;
    b->act_fwd[NN_ACT_TANH] = nn__tanh_fwd__avx2_p11_rr2_p6_div;
    b->act_bwd[NN_ACT_TANH] = nn__tanh_bwd__avx2;
    b->act_fwd[NN_ACT_RELU] = nn__relu_fwd__avx2;
    b->act_bwd[NN_ACT_RELU] = nn__relu_bwd__avx2;
    b->act_fwd[NN_ACT_LEAKY_RELU] = nn__leaky_relu_fwd__avx2;
    b->act_bwd[NN_ACT_LEAKY_RELU] = nn__leaky_relu_bwd__avx2;
    b->act_fwd[NN_ACT_HARDTANH] = nn__hardtanh_fwd__avx2;
    b->act_bwd[NN_ACT_HARDTANH] = nn__hardtanh_bwd__avx2;
    b->act_fwd[NN_ACT_SIGN] = nn__sign_fwd__avx2;
    b->act_bwd[NN_ACT_SIGN] = nn__sign_bwd__avx2;
    b->softmax_rows = nn__softmax_rows__avx2_rr2_p6;
    b->softmax_bwd_rows = nn__softmax_bwd_rows__avx2;
    b->col_sums = nn__col_sums__avx2;
    b->axpy = nn__axpy__avx2;
    b->sumsq = nn__sumsq__avx2;
    b->all_finite = nn__all_finite__avx2;
    b->optim[NN_SIMD_OPTIM_SGD] = nn__sgd__avx2;
    b->optim[NN_SIMD_OPTIM_MOMENTUM] = nn__momentum__avx2;
    b->optim[NN_SIMD_OPTIM_NESTEROV] = nn__nesterov__avx2;
    b->optim[NN_SIMD_OPTIM_ADAGRAD] = nn__adagrad__avx2;
    b->optim[NN_SIMD_OPTIM_RMSPROP] = nn__rmsprop__avx2;
    b->optim[NN_SIMD_OPTIM_ADAM] = nn__adam__avx2;
    b->optim[NN_SIMD_OPTIM_ADADELTA] = nn__adadelta__avx2;
}

/* >>avx2_gemm: GEMM micro-kernel, packing and driver ------------------------ */

/* nn__sgemm_body__avx2 - the AVX2+FMA micro-kernel (contract: nn__ukr_fn), whose named
   instances nn__sgemm_<MR>x16[_pf]__avx2 follow it.

     C[m x n] := alpha * A_panel * B_panel + beta * C[m x n]      m <= 6, n <= 16

   Per k step: 2 loads of B (16 floats), 6 broadcasts of A, 12 FMAs. k is NOT unrolled:
   unrolled by 4 (or by 2 at -O3), gcc 12 runs out of ymm registers and spills an
   accumulator inside the loop (a store/reload in an FMA chain); with one step per
   iteration gcc and clang keep all 12 accumulators in registers and the loop overhead
   (pointer adds, compare, branch) fits a 6-wide dispatch beside the 12 FMAs, which
   made the un-unrolled loop the faster one.
   Register map (16 ymm):
       ymm0, ymm1      b(p, 0..7), b(p, 8..15)
       ymm2, ymm3      broadcast a(i, p)
       ymm4  .. ymm15  acc0x0 acc0x8 acc1x0 acc1x8 ... acc5x0 acc5x8  (rows 0..5)
   12 independent FMA chains cover 2 FMA pipes x 4-cycle latency (8 needed).
   A may be packed (rsa = 1, csa = 6), or read in place: rows of a row-major op(A)
   (rsa = lda, csa = 1) or MR contiguous floats per k step (rsa = 1, csa = lda). In
   place, the driver only passes full 6-row panels (a partial one is packed), so
   nothing outside the user's A is read. B rows are 16 floats (a packed panel, or the user's B when
   n == 16). Full 6x16 tiles are stored straight to C; edge tiles go through an aligned
   stack tile and only the m x n part is written (beta == 0 never reads C).
   PF = 1 (the _pf instance, A and B packed; the driver takes it for tiles whose C block
   is over NN__GEMM_PF_FLOATS, so C comes from L3 or memory in every K block): the m C
   rows are prefetched before the k loop and B NN__UKR_PF_DIST rows ahead inside it
   (never past the panel), the same FMAs in the same order, so C is bit-identical to the
   plain instance's. It is for large squares, which otherwise stall on C misses and the
   start of each B panel. Tiles whose C block stays in L2 keep the plain kernel (at 144
   rows: up to 455 columns, so the layers of a typical network), since prefetching
   every tile slows those down. PF = 2 (the _pfn instance): floats [32, 48) of each B
   row are prefetched (the direct path's column panel after next). */
#define NN__UKR_PF_DIST 32
static NN__INLINE void nn__sgemm_body__avx2(const int PF, const int MR, int k, const float *a,
                                            ptrdiff_t rsa, ptrdiff_t csa, const float *b,
                                            ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                                            float alpha, float beta, int m, int n)
{
    __m256 acc0x0 = _mm256_setzero_ps(), acc0x8 = _mm256_setzero_ps();
    __m256 acc1x0 = _mm256_setzero_ps(), acc1x8 = _mm256_setzero_ps();
    __m256 acc2x0 = _mm256_setzero_ps(), acc2x8 = _mm256_setzero_ps();
    __m256 acc3x0 = _mm256_setzero_ps(), acc3x8 = _mm256_setzero_ps();
    __m256 acc4x0 = _mm256_setzero_ps(), acc4x8 = _mm256_setzero_ps();
    __m256 acc5x0 = _mm256_setzero_ps(), acc5x8 = _mm256_setzero_ps();
    /* two row pointers: rows 1, 2, 4, 5 are a0 / a3 + rsa or 2 * rsa, one addressing
       mode each (A in place as rows: 2 pointer updates per k step instead of 6) */
    const float *a0 = a, *a3 = a + 3 * rsa;
    int p = 0;
#define NN__UKR_A(i) ((i) < 3 ? a0 + (i) * rsa : a3 + ((i) - 3) * rsa)
#define NN__UKR_FMA(i, q)                                                             \
    if (MR > (i)) {                                                                   \
        const __m256 x = _mm256_broadcast_ss(NN__UKR_A(i) + (q) * csa);               \
        acc##i##x0 = _mm256_fmadd_ps(x, b0, acc##i##x0);                              \
        acc##i##x8 = _mm256_fmadd_ps(x, b1, acc##i##x8);                              \
    }
#define NN__UKR_STEP(q)                                                               \
    do {                                                                              \
        const __m256 b0 = _mm256_loadu_ps(b + (q) * ldb);                             \
        const __m256 b1 = _mm256_loadu_ps(b + (q) * ldb + 8);                         \
        NN__UKR_FMA(0, q) NN__UKR_FMA(1, q) NN__UKR_FMA(2, q)                         \
        NN__UKR_FMA(3, q) NN__UKR_FMA(4, q) NN__UKR_FMA(5, q)                         \
    } while (0)
    if (PF == 1) { /* C's rows now (they arrive while the k loop runs); B 32 steps ahead */
        int i;
        for (i = 0; i < m; i++) {
            _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(c + i * ldc + n - 1), _MM_HINT_T0);
        }
        for (; p + NN__UKR_PF_DIST < k; p++) {
            _mm_prefetch((const char *)(b + NN__UKR_PF_DIST * ldb), _MM_HINT_T0);
            NN__UKR_STEP(0);
            a0 += csa; a3 += csa;
            b += ldb;
        }
    }
    for (; p < k; p++) {
        if (PF == 2) _mm_prefetch((const char *)(b + 32), _MM_HINT_T0);
        NN__UKR_STEP(0);
        a0 += csa; a3 += csa;
        b += ldb;
    }
#undef NN__UKR_STEP
#undef NN__UKR_FMA
#undef NN__UKR_A
    {
        if (alpha != 1.0f) { /* skipped in training (alpha = 1): 12 FP ops of 120 at k = 10 */
            const __m256 va = _mm256_set1_ps(alpha);
#define NN__UKR_SCALE(i)                                                                \
    if (MR > (i)) {                                                                     \
        acc##i##x0 = _mm256_mul_ps(va, acc##i##x0);                                     \
        acc##i##x8 = _mm256_mul_ps(va, acc##i##x8);                                     \
    }
            NN__UKR_SCALE(0) NN__UKR_SCALE(1) NN__UKR_SCALE(2)
            NN__UKR_SCALE(3) NN__UKR_SCALE(4) NN__UKR_SCALE(5)
#undef NN__UKR_SCALE
        }
        if (m == MR && n == 16) {
#define NN__UKR_ROW(i)                                                                  \
    if (MR > (i)) {                                                                     \
        float *ci = c + (i) * ldc;                                                      \
        __m256 v0 = acc##i##x0, v1 = acc##i##x8;                                        \
        if (beta != 0.0f) {                                                             \
            const __m256 vb = _mm256_set1_ps(beta);                                     \
            v0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci), v0);                          \
            v1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci + 8), v1);                      \
        }                                                                               \
        _mm256_storeu_ps(ci, v0);                                                       \
        _mm256_storeu_ps(ci + 8, v1);                                                   \
    }
            NN__UKR_ROW(0) NN__UKR_ROW(1) NN__UKR_ROW(2)
            NN__UKR_ROW(3) NN__UKR_ROW(4) NN__UKR_ROW(5)
#undef NN__UKR_ROW
        } else {
            NN__ALIGNAS64 float ct[6 * 16];
            int i, j;
            _mm256_store_ps(ct + 0, acc0x0);  _mm256_store_ps(ct + 8, acc0x8);
            _mm256_store_ps(ct + 16, acc1x0); _mm256_store_ps(ct + 24, acc1x8);
            _mm256_store_ps(ct + 32, acc2x0); _mm256_store_ps(ct + 40, acc2x8);
            _mm256_store_ps(ct + 48, acc3x0); _mm256_store_ps(ct + 56, acc3x8);
            _mm256_store_ps(ct + 64, acc4x0); _mm256_store_ps(ct + 72, acc4x8);
            _mm256_store_ps(ct + 80, acc5x0); _mm256_store_ps(ct + 88, acc5x8);
            for (i = 0; i < m; i++) {
                float *ci = c + i * ldc;
                const float *t = ct + i * 16;
                if (beta == 0.0f)
                    for (j = 0; j < n; j++) ci[j] = t[j];
                else
                    for (j = 0; j < n; j++) ci[j] = t[j] + beta * ci[j];
            }
        }
    }
}

/* The instances, one per height (strides and ldb at run time): 6 is the packed path's
   tile; 1..6 are the direct path's exact heights. */
static NN__NOINLINE void nn__sgemm_1x16__avx2(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx2(0, 1, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}
static NN__NOINLINE void nn__sgemm_2x16__avx2(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx2(0, 2, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}
static NN__NOINLINE void nn__sgemm_3x16__avx2(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx2(0, 3, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}
static NN__NOINLINE void nn__sgemm_4x16__avx2(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx2(0, 4, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}
static NN__NOINLINE void nn__sgemm_5x16__avx2(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx2(0, 5, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}
static NN__NOINLINE void nn__sgemm_6x16__avx2(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx2(0, 6, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}

/* cfg.ukr_pf: the packed 6x16 tile with prefetches (PF = 1 in the comment above) */
static NN__NOINLINE void nn__sgemm_6x16_pf__avx2(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx2(1, 6, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}

/* The direct path's first 6-row panel for a large B: also prefetches floats [32, 48) of
   each B row, the column panel after next (see nn__gemm_direct; the next one measured
   slower, as the line beside the one read often comes with it). */
static NN__NOINLINE void nn__sgemm_6x16_pfn__avx2(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx2(2, 6, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}

/* Unpacked path for transb == 0 when packing cannot pay: narrow M (a 10-row weight
   gradient, TN 10 x N x batch) or tiny K (the backward-data GEMM of a 10-wide layer,
   NN batch x N x 10, where packing costs as much as the FMAs). A and B are read in
   place. Rows are split into ceil(m / 6) panels of near-equal height (10 = 5 + 5,
   128 = 18 x 6 + 4 x 5), each run by an exact-height MR x 16 kernel, so no FMA lane
   works on padding (a 6-row tiling of 10 rows wastes 17%). Only a partial last column
   panel of B is copied (zero-padded), or with transb every panel is packed by
   8x8 transposes, once, as the driver does for a single MC block. Also used for
   m <= 36 (batch 32) NN and NT, where the driver's 6-row panels waste 11% on 32 rows
   (6,6,5,5,5,5 here). k is cut into near-equal
   chunks of <= NN__DIRECT_KC rows. Loop order: column panel outside, so its kc x 16
   floats of B stay in L1 across row panels. */
#ifndef NN__DIRECT_KC
#  define NN__DIRECT_KC 512
#endif
/* C[R x n] (R = 1 or 2, n <= 1024) over k, B read in place: each row of C is summed in
   a stack row y, four rows of B at a time (one FMA chain per column, in k order), so B
   is read row after row in memory order whatever n is (the 16-column panels read a
   wide B in 64-byte pieces a row apart). As nn__sgemm_rows__avx512, in 8-float pieces. */
static NN__INLINE void nn__sgemm_rows_body__avx2(const int R, int k, const float *a,
                                                 ptrdiff_t rsa, ptrdiff_t csa, const float *b,
                                                 ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                                                 float alpha, float beta, int n)
{
    static const int lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    NN__ALIGNAS64 float y[2][1024];
    const __m256i tail = _mm256_loadu_si256((const __m256i *)(lanes + 8 - (n & 7)));
    const float *a1 = a + (R > 1 ? rsa : 0);
    int p, j, r;
    for (j = 0; j < n; j += 8) {
        _mm256_store_ps(y[0] + j, _mm256_setzero_ps());
        if (R > 1) _mm256_store_ps(y[1] + j, _mm256_setzero_ps());
    }
    for (p = 0; p < k; p += 4) {
        const int u = NN__MIN(4, k - p); /* rows of B this step: 4, or 1-3 at the end */
        const float *b0 = b + p * ldb, *b1 = b0 + (u > 1) * ldb, *b2 = b0 + (u > 2) * 2 * ldb;
        const float *b3 = b0 + (u > 3) * 3 * ldb;
        const __m256 x0 = _mm256_set1_ps(a[p * csa]);
        const __m256 x1 = _mm256_set1_ps(u > 1 ? a[(p + 1) * csa] : 0.0f);
        const __m256 x2 = _mm256_set1_ps(u > 2 ? a[(p + 2) * csa] : 0.0f);
        const __m256 x3 = _mm256_set1_ps(u > 3 ? a[(p + 3) * csa] : 0.0f);
        const __m256 z0 = _mm256_set1_ps(a1[p * csa]);
        const __m256 z1 = _mm256_set1_ps(u > 1 ? a1[(p + 1) * csa] : 0.0f);
        const __m256 z2 = _mm256_set1_ps(u > 2 ? a1[(p + 2) * csa] : 0.0f);
        const __m256 z3 = _mm256_set1_ps(u > 3 ? a1[(p + 3) * csa] : 0.0f);
        for (j = 0; j < n; j += 8) {
            __m256 v0, v1, v2, v3, t;
            if (j + 8 <= n) {
                v0 = _mm256_loadu_ps(b0 + j); v1 = _mm256_loadu_ps(b1 + j);
                v2 = _mm256_loadu_ps(b2 + j); v3 = _mm256_loadu_ps(b3 + j);
            } else {
                v0 = _mm256_maskload_ps(b0 + j, tail); v1 = _mm256_maskload_ps(b1 + j, tail);
                v2 = _mm256_maskload_ps(b2 + j, tail); v3 = _mm256_maskload_ps(b3 + j, tail);
            }
            t = _mm256_fmadd_ps(x0, v0, _mm256_load_ps(y[0] + j));
            if (u > 1) t = _mm256_fmadd_ps(x1, v1, t);
            if (u > 2) t = _mm256_fmadd_ps(x2, v2, t);
            if (u > 3) t = _mm256_fmadd_ps(x3, v3, t);
            _mm256_store_ps(y[0] + j, t);
            if (R > 1) {
                t = _mm256_fmadd_ps(z0, v0, _mm256_load_ps(y[1] + j));
                if (u > 1) t = _mm256_fmadd_ps(z1, v1, t);
                if (u > 2) t = _mm256_fmadd_ps(z2, v2, t);
                if (u > 3) t = _mm256_fmadd_ps(z3, v3, t);
                _mm256_store_ps(y[1] + j, t);
            }
        }
    }
    for (r = 0; r < R; r++) {
        float *cr = c + r * ldc;
        for (j = 0; j < n; j++) { /* (vmaskmovps stores are slow on AMD cores) */
            const float v = alpha * y[r][j];
            cr[j] = beta == 0.0f ? v : v + beta * cr[j];
        }
    }
}
static NN__NOINLINE void nn__sgemm_rows__avx2(int R, int k, const float *a, ptrdiff_t rsa,
                                              ptrdiff_t csa, const float *b, ptrdiff_t ldb,
                                              float *c, ptrdiff_t ldc, float alpha, float beta,
                                              int n)
{
    if (R > 1) nn__sgemm_rows_body__avx2(2, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, n);
    else nn__sgemm_rows_body__avx2(1, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, n);
}

static void nn__sgemm_pack_b16_cols__avx2(int kc, const float *src, int ld, float *dst);
static void nn__sgemm_direct__avx2(int transa, int transb, int m, int n, int k, float alpha,
                                   const float *A, int lda, const float *B, int ldb,
                                   float beta, float *C, int ldc)
{
    static const nn__ukr_fn tab[7] = {0, nn__sgemm_1x16__avx2, nn__sgemm_2x16__avx2,
        nn__sgemm_3x16__avx2, nn__sgemm_4x16__avx2, nn__sgemm_5x16__avx2,
        nn__sgemm_6x16__avx2};
    NN__ALIGNAS64 float edge[NN__DIRECT_KC * 16];
    if (m <= 2 && !transb) { /* one or two rows: B streamed row by row, 1024 columns at a time */
        int j;
        for (j = 0; j < n; j += 1024)
            nn__sgemm_rows__avx2(m, k, A, transa ? 1 : lda, transa ? lda : 1, B + j, ldb, C + j,
                                 ldc, alpha, beta, NN__MIN(1024, n - j));
        return;
    }
    nn__gemm_direct(6, 16, NN__DIRECT_KC, tab, nn__sgemm_6x16_pfn__avx2, nn__sgemm_pack_b16_cols__avx2,
                    edge, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Packing by 8x8 transposes in registers: 8 floats of each source row in, 8 columns
   out. The scalar form of these loops moves one element at a time with strided
   stores, a visible share of a large GEMM's time. */
static NN__INLINE void nn__transpose8__avx2(__m256 *r0, __m256 *r1, __m256 *r2, __m256 *r3,
                                            __m256 *r4, __m256 *r5, __m256 *r6, __m256 *r7)
{
    __m256 t0 = _mm256_unpacklo_ps(*r0, *r1), t1 = _mm256_unpackhi_ps(*r0, *r1);
    __m256 t2 = _mm256_unpacklo_ps(*r2, *r3), t3 = _mm256_unpackhi_ps(*r2, *r3);
    __m256 t4 = _mm256_unpacklo_ps(*r4, *r5), t5 = _mm256_unpackhi_ps(*r4, *r5);
    __m256 t6 = _mm256_unpacklo_ps(*r6, *r7), t7 = _mm256_unpackhi_ps(*r6, *r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    *r0 = _mm256_permute2f128_ps(u0, u4, 0x20); *r1 = _mm256_permute2f128_ps(u1, u5, 0x20);
    *r2 = _mm256_permute2f128_ps(u2, u6, 0x20); *r3 = _mm256_permute2f128_ps(u3, u7, 0x20);
    *r4 = _mm256_permute2f128_ps(u0, u4, 0x31); *r5 = _mm256_permute2f128_ps(u1, u5, 0x31);
    *r6 = _mm256_permute2f128_ps(u2, u6, 0x31); *r7 = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/* 6 rows of row-major op(A) (stride ld) -> kc columns of 6. Column p is stored as 8
   floats at dst + 6p (2 of them junk, overwritten by column p+1 or 16 floats of slack). */
static void nn__sgemm_pack_a6_rows__avx2(int kc, const float *src, int ld, float *dst)
{
    const float *s0 = src, *s1 = src + ld, *s2 = src + 2 * (size_t)ld;
    const float *s3 = src + 3 * (size_t)ld, *s4 = src + 4 * (size_t)ld, *s5 = src + 5 * (size_t)ld;
    int p = 0, i;
    for (; p + 8 <= kc; p += 8) {
        __m256 r0 = _mm256_loadu_ps(s0 + p), r1 = _mm256_loadu_ps(s1 + p);
        __m256 r2 = _mm256_loadu_ps(s2 + p), r3 = _mm256_loadu_ps(s3 + p);
        __m256 r4 = _mm256_loadu_ps(s4 + p), r5 = _mm256_loadu_ps(s5 + p);
        __m256 r6 = r5, r7 = r5;
        float *d = dst + (size_t)p * 6;
        nn__transpose8__avx2(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7);
        _mm256_storeu_ps(d, r0);      _mm256_storeu_ps(d + 6, r1);
        _mm256_storeu_ps(d + 12, r2); _mm256_storeu_ps(d + 18, r3);
        _mm256_storeu_ps(d + 24, r4); _mm256_storeu_ps(d + 30, r5);
        _mm256_storeu_ps(d + 36, r6); _mm256_storeu_ps(d + 42, r7);
    }
    for (; p < kc; p++) {
        float *d = dst + (size_t)p * 6;
        for (i = 0; i < 6; i++) d[i] = src[(size_t)i * ld + p];
    }
}

/* Transposed A (transa: A's storage row p holds op(A)(., p)): 6 contiguous floats per
   k step -> kc columns of 6, as one 16-byte and one 8-byte load and store per column
   (the generic loop moved one float at a time, a visible share of a TN weight
   gradient). */
static void nn__sgemm_pack_a6_cols__avx2(int kc, const float *src, int ld, float *dst)
{
    int p;
    for (p = 0; p < kc; p++) {
        const float *s = src + (size_t)p * ld;
        float *d = dst + (size_t)p * 6;
        _mm_storeu_ps(d, _mm_loadu_ps(s));
        _mm_storel_pi((__m64 *)(d + 4), _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(s + 4)));
    }
}

/* kc rows of 16 contiguous floats of B (rows ld apart) -> kc rows of 16, in 32-byte
   moves: the generic loop, compiled for the baseline ISA with a variable width, moved
   them in 16-byte pieces and was markedly slower. */
static void nn__sgemm_pack_b16_rows__avx2(int kc, const float *src, int ld, float *dst)
{
    int p;
    for (p = 0; p < kc; p++) {
        const float *s = src + (size_t)p * ld;
        _mm256_storeu_ps(dst + (size_t)p * 16, _mm256_loadu_ps(s));
        _mm256_storeu_ps(dst + (size_t)p * 16 + 8, _mm256_loadu_ps(s + 8));
    }
}

/* nn__gemm_cfg.bias_relu (the AVX-512 backend uses it too): 8 floats at a time, the
   row's last n % 8 masked. */
static void nn__gemm_bias_relu__avx2(float *C, int ldc, int m, int n, const float *bias,
                                     int relu)
{
    const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(n % 8),
                                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const int n8 = n / 8 * 8;
    int i, j;
    for (i = 0; i < m; i++) {
        float *c = C + (size_t)i * ldc;
        for (j = 0; j < n8; j += 8) {
            __m256 v = _mm256_loadu_ps(c + j);
            if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + j));
            if (relu) v = nn__relu8__avx2(v, v);
            _mm256_storeu_ps(c + j, v);
        }
        if (j < n) {
            __m256 v = _mm256_maskload_ps(c + j, tail);
            if (bias) v = _mm256_add_ps(v, _mm256_maskload_ps(bias + j, tail));
            if (relu) v = nn__relu8__avx2(v, v);
            _mm256_maskstore_ps(c + j, tail, v);
        }
    }
}

/* 16 rows of B's storage (transb: row j holds op(B)(., j)) -> kc rows of 16. */
static void nn__sgemm_pack_b16_cols__avx2(int kc, const float *src, int ld, float *dst)
{
    int p = 0, j, h;
    for (; p + 8 <= kc; p += 8) {
        for (h = 0; h < 2; h++) {
            const float *s = src + (size_t)(8 * h) * ld + p;
            __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ld);
            __m256 r2 = _mm256_loadu_ps(s + 2 * (size_t)ld), r3 = _mm256_loadu_ps(s + 3 * (size_t)ld);
            __m256 r4 = _mm256_loadu_ps(s + 4 * (size_t)ld), r5 = _mm256_loadu_ps(s + 5 * (size_t)ld);
            __m256 r6 = _mm256_loadu_ps(s + 6 * (size_t)ld), r7 = _mm256_loadu_ps(s + 7 * (size_t)ld);
            float *d = dst + (size_t)p * 16 + 8 * h;
            nn__transpose8__avx2(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7);
            _mm256_storeu_ps(d, r0);       _mm256_storeu_ps(d + 16, r1);
            _mm256_storeu_ps(d + 32, r2);  _mm256_storeu_ps(d + 48, r3);
            _mm256_storeu_ps(d + 64, r4);  _mm256_storeu_ps(d + 80, r5);
            _mm256_storeu_ps(d + 96, r6);  _mm256_storeu_ps(d + 112, r7);
        }
    }
    for (; p < kc; p++)
        for (j = 0; j < 16; j++) dst[(size_t)p * 16 + j] = src[(size_t)j * ld + p];
}

/* Skinny NT path: C = alpha * A * B^T + beta * C with A [m][k] and B [n][k] both
   k-contiguous, as dot products, without packing. Used for narrow outputs (n <= 12:
   a 10-class output layer, where a 16-wide tile would waste 6 columns) and tiny
   batches (m <= 4: inference, where packing B^T would cost as much as the math).
   Tiles of 4 rows x NC columns (NC = 3, 2 or 1, a constant per instance): 4*NC ymm
   accumulators over k, 8 floats at a time (the k tail by masked loads, which never
   touch memory past k). Columns are split into ceil(n / 3) near-equal groups
   (10 = 3 + 3 + 2 + 2), so no accumulator works on a duplicate column. Rows past m
   are clamped to the last valid one (read, never stored). Each row's NC sums come out
   of one hadd tree (4 rows x 3 columns: 12 hadd instead of 36 shuffle/add pairs). */
static NN__INLINE __m128 nn__gemm_hsum4__avx2(__m256 v0, __m256 v1, __m256 v2, __m256 v3)
{
    /* [sum v0, sum v1, sum v2, sum v3] */
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(v0, v1), _mm256_hadd_ps(v2, v3));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

/* Rows per dot tile (overridable only for tuning runs). 4 rows x 3 columns = 12
   accumulators + 3 B vectors + 1 A vector: all 16 ymm, so the k-tail mask is loaded
   only in the tail step; with it held through the loop gcc read B from memory in every
   FMA (16 loads per 12 FMAs instead of 7). 4 rows beat 3. */
#ifndef NN__DOT_R
#  define NN__DOT_R 4
#endif
static NN__INLINE void nn__sgemm_dot_tile__avx2(const int R, const int NC, int mi, int k,
                                                float alpha, const float *A, int lda,
                                                const float *B, int ldb, float beta,
                                                float *C, int ldc)
{
    static const int lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    const int k8 = k & ~7;
    const float *a0 = A;
    const float *a1 = A + (size_t)NN__MIN(1, mi - 1) * lda;
    const float *a2 = A + (size_t)NN__MIN(2, mi - 1) * lda;
    const float *a3 = A + (size_t)NN__MIN(3, mi - 1) * lda;
    const float *b0 = B, *b1 = B + (NC > 1 ? ldb : 0), *b2 = B + (NC > 2 ? 2 * (size_t)ldb : 0);
    __m256 acc0x0 = _mm256_setzero_ps(), acc0x1 = acc0x0, acc0x2 = acc0x0;
    __m256 acc1x0 = acc0x0, acc1x1 = acc0x0, acc1x2 = acc0x0;
    __m256 acc2x0 = acc0x0, acc2x1 = acc0x0, acc2x2 = acc0x0;
    __m256 acc3x0 = acc0x0, acc3x1 = acc0x0, acc3x2 = acc0x0;
    int p, r;
#define NN__DOT_ROW(i, LOAD)                                                               \
    if (R > (i)) {                                                                         \
        const __m256 va = LOAD(a##i + p);                                                  \
        acc##i##x0 = _mm256_fmadd_ps(va, vb0, acc##i##x0);                                 \
        if (NC > 1) acc##i##x1 = _mm256_fmadd_ps(va, vb1, acc##i##x1);                     \
        if (NC > 2) acc##i##x2 = _mm256_fmadd_ps(va, vb2, acc##i##x2);                     \
    }
#define NN__DOT_STEP(LOAD)                                                                 \
    do {                                                                                   \
        const __m256 vb0 = LOAD(b0 + p);                                                   \
        const __m256 vb1 = NC > 1 ? LOAD(b1 + p) : vb0;                                    \
        const __m256 vb2 = NC > 2 ? LOAD(b2 + p) : vb0;                                    \
        NN__DOT_ROW(0, LOAD) NN__DOT_ROW(1, LOAD) NN__DOT_ROW(2, LOAD) NN__DOT_ROW(3, LOAD) \
    } while (0)
#define NN__LOADU(x) _mm256_loadu_ps(x)
#define NN__LOADM(x) _mm256_maskload_ps((x), tail)
    for (p = 0; p < k8; p += 8) NN__DOT_STEP(NN__LOADU);
    if (k8 < k) { /* the mask is loaded here, not held in a register through the loop */
        const __m256i tail = _mm256_loadu_si256((const __m256i *)(lanes + 8 - (k & 7)));
        NN__DOT_STEP(NN__LOADM);
    }
#undef NN__LOADU
#undef NN__LOADM
#undef NN__DOT_STEP
#undef NN__DOT_ROW
    {
        const __m128 va = _mm_set1_ps(alpha);
        __m128 s[4];
        s[0] = nn__gemm_hsum4__avx2(acc0x0, acc0x1, acc0x2, acc0x2);
        s[1] = nn__gemm_hsum4__avx2(acc1x0, acc1x1, acc1x2, acc1x2);
        s[2] = nn__gemm_hsum4__avx2(acc2x0, acc2x1, acc2x2, acc2x2);
        s[3] = nn__gemm_hsum4__avx2(acc3x0, acc3x1, acc3x2, acc3x2);
        for (r = 0; r < mi; r++) { /* (vmaskmovps stores are slow on AMD cores) */
            float *cr = C + (size_t)r * ldc, t[4];
            int c;
            _mm_storeu_ps(t, _mm_mul_ps(va, s[r]));
            if (beta == 0.0f)
                for (c = 0; c < NC; c++) cr[c] = t[c];
            else
                for (c = 0; c < NC; c++) cr[c] = t[c] + beta * cr[c];
        }
    }
}

/* R = 1 or 2 rows of A against NC rows of B (NC <= 8 for one row, <= 6 for two; R and
   NC constants per instance): the shapes of batch-1 and batch-2 forward passes. A
   4-row tile clamped to one row would spend 3/4 of its FMAs on copies of that row;
   here R A vectors + NC B vectors per k step feed R x NC independent accumulators
   (1 row: 9 loads per 8 FMAs; 2 rows: 8 per 12). Each output's sum comes from the
   same per-lane FMA chain and the same hadd tree (nn__gemm_hsum4__avx2) as in
   nn__sgemm_dot_tile__avx2, so C is bit-identical whichever tile computes it (and so
   for any thread split). */
static NN__INLINE void nn__sgemm_dot_rows__avx2(const int R, const int NC, int k, float alpha,
                                                const float *A, int lda, const float *B, int ldb,
                                                float beta, float *C, int ldc)
{
    static const int lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    const int k8 = k & ~7;
    const float *a0 = A, *a1 = A + (R > 1 ? (size_t)lda : 0);
    const float *b[8];
    __m256 acc0[8], acc1[8];
    int p, q, r;
    for (q = 0; q < 8; q++) {
        b[q] = B + (size_t)(q < NC ? q : 0) * ldb;
        acc0[q] = acc1[q] = _mm256_setzero_ps();
    }
    for (p = 0; p < k8; p += 8) {
        const __m256 v0 = _mm256_loadu_ps(a0 + p);
        const __m256 v1 = R > 1 ? _mm256_loadu_ps(a1 + p) : v0;
        for (q = 0; q < NC; q++) {
            const __m256 vb = _mm256_loadu_ps(b[q] + p);
            acc0[q] = _mm256_fmadd_ps(v0, vb, acc0[q]);
            if (R > 1) acc1[q] = _mm256_fmadd_ps(v1, vb, acc1[q]);
        }
    }
    if (k8 < k) {
        const __m256i tail = _mm256_loadu_si256((const __m256i *)(lanes + 8 - (k & 7)));
        const __m256 v0 = _mm256_maskload_ps(a0 + p, tail);
        const __m256 v1 = R > 1 ? _mm256_maskload_ps(a1 + p, tail) : v0;
        for (q = 0; q < NC; q++) {
            const __m256 vb = _mm256_maskload_ps(b[q] + p, tail);
            acc0[q] = _mm256_fmadd_ps(v0, vb, acc0[q]);
            if (R > 1) acc1[q] = _mm256_fmadd_ps(v1, vb, acc1[q]);
        }
    }
    for (r = 0; r < R; r++) {
        const __m256 *acc = r ? acc1 : acc0;
        const __m128 vl = _mm_set1_ps(alpha);
        float t[8], *c = C + (size_t)r * ldc;
        _mm_storeu_ps(t, _mm_mul_ps(vl, nn__gemm_hsum4__avx2(acc[0], acc[1], acc[2], acc[3])));
        if (NC > 4)
            _mm_storeu_ps(t + 4, _mm_mul_ps(vl, nn__gemm_hsum4__avx2(acc[4], acc[5], acc[6], acc[7])));
        if (beta == 0.0f)
            for (q = 0; q < NC; q++) c[q] = t[q];
        else
            for (q = 0; q < NC; q++) c[q] = t[q] + beta * c[q];
    }
}

/* R rows against n columns: groups of 8 columns (one row) or 6 (two rows), then 4, 2
   and 1 for the rest. */
static void nn__sgemm_dot_rows_n__avx2(int R, int n, int k, float alpha, const float *A,
                                       int lda, const float *B, int ldb, float beta, float *C,
                                       int ldc)
{
    const int maxw = R > 1 ? 6 : 8;
    int j, w;
    for (j = 0; j < n; j += w) {
        const float *Bj = B + (size_t)j * ldb;
        float *c = C + j;
        w = n - j >= maxw ? maxw : n - j >= 4 ? 4 : n - j >= 2 ? 2 : 1;
        if (R > 1) {
            if (w == 6) nn__sgemm_dot_rows__avx2(2, 6, k, alpha, A, lda, Bj, ldb, beta, c, ldc);
            else if (w == 4) nn__sgemm_dot_rows__avx2(2, 4, k, alpha, A, lda, Bj, ldb, beta, c, ldc);
            else if (w == 2) nn__sgemm_dot_rows__avx2(2, 2, k, alpha, A, lda, Bj, ldb, beta, c, ldc);
            else nn__sgemm_dot_rows__avx2(2, 1, k, alpha, A, lda, Bj, ldb, beta, c, ldc);
        } else {
            if (w == 8) nn__sgemm_dot_rows__avx2(1, 8, k, alpha, A, lda, Bj, ldb, beta, c, ldc);
            else if (w == 4) nn__sgemm_dot_rows__avx2(1, 4, k, alpha, A, lda, Bj, ldb, beta, c, ldc);
            else if (w == 2) nn__sgemm_dot_rows__avx2(1, 2, k, alpha, A, lda, Bj, ldb, beta, c, ldc);
            else nn__sgemm_dot_rows__avx2(1, 1, k, alpha, A, lda, Bj, ldb, beta, c, ldc);
        }
    }
}

static void nn__sgemm_dot_nt__avx2(int m, int n, int k, float alpha, const float *A,
                                   int lda, const float *B, int ldb, float beta, float *C,
                                   int ldc)
{
    const int ng = (n + 2) / 3, wlo = n / ng, nhi = n % ng; /* nhi groups of wlo + 1 */
    int i, g, j;
    for (i = 0; i < m; i += NN__DOT_R) {
        const int mi = NN__MIN(NN__DOT_R, m - i);
        if (mi <= 2) { /* 1 or 2 rows left: 1 x 8 or 2 x 6 tiles */
            nn__sgemm_dot_rows_n__avx2(mi, n, k, alpha, A + (size_t)i * lda, lda, B, ldb, beta,
                                       C + (size_t)i * ldc, ldc);
            break;
        }
        const float *Ai = A + (size_t)i * lda;
        float *Ci = C + (size_t)i * ldc;
        for (g = 0, j = 0; g < ng; g++) {
            const int w = wlo + (g < nhi);
            const float *Bj = B + (size_t)j * ldb;
            if (w == 3)
                nn__sgemm_dot_tile__avx2(NN__DOT_R, 3, mi, k, alpha, Ai, lda, Bj, ldb, beta, Ci + j, ldc);
            else if (w == 2)
                nn__sgemm_dot_tile__avx2(NN__DOT_R, 2, mi, k, alpha, Ai, lda, Bj, ldb, beta, Ci + j, ldc);
            else
                nn__sgemm_dot_tile__avx2(NN__DOT_R, 1, mi, k, alpha, Ai, lda, Bj, ldb, beta, Ci + j, ldc);
            j += w;
        }
    }
}

/* The AVX2 backend's element-wise activations and softmax, for the fused epilogue.
   Copied from the table by nn__backend_init_avx2_gemm (after >>avx2_vec filled it),
   so the epilogue uses the same kernels as nn_simd_act_forward. */
static nn__act_fwd_fn nn__avx2_gemm_act[NN_ACT_COUNT];
static nn__softmax_fn nn__avx2_gemm_softmax;

/* Block sizes for a 32 KiB L1d and 512 KiB L2, chosen with bench/bench_gemm.c:
   KC x NR x 4 B = 16 KiB B panel in L1; MC x KC x 4 B = 144 KiB
   A block in L2; NC = 4080 (B block in L3). */
#ifndef NN__AVX2_MC /* overridable only for tuning runs */
#  define NN__AVX2_MC 144
#  define NN__AVX2_KC 256
#  define NN__AVX2_NC 4080
#endif
/* The unpacked paths as nn__gemm_part_fn, for nn__gemm_split (>>threads). */
static void nn__sgemm_dot_nt_part__avx2(int transa, int transb, int m, int n, int k,
                                        float alpha, const float *A, int lda, const float *B,
                                        int ldb, float beta, float *C, int ldc)
{
    (void)transa; (void)transb;
    nn__sgemm_dot_nt__avx2(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
static void nn__sgemm_direct_part__avx2(int transa, int transb, int m, int n, int k,
                                        float alpha, const float *A, int lda, const float *B,
                                        int ldb, float beta, float *C, int ldc)
{
    nn__sgemm_direct__avx2(transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* The packed path's one geometry (positional: nn__gemm_cfg's field order). */
static const nn__gemm_cfg nn__avx2_gemm_cfg_6x16 = {
    6, 16,                                      /* mr, nr */
    NN__AVX2_MC, NN__AVX2_KC, NN__AVX2_NC,      /* mc, kc, nc */
    nn__sgemm_6x16__avx2,                       /* ukr */
    nn__sgemm_6x16_pf__avx2,                    /* ukr_pf */
    nn__sgemm_pack_a6_rows__avx2,               /* pack_a_rows */
    nn__sgemm_pack_b16_cols__avx2,              /* pack_b_cols */
    nn__sgemm_pack_b16_rows__avx2,              /* pack_b_rows */
    nn__sgemm_pack_a6_cols__avx2,               /* pack_a_cols */
    nn__avx2_gemm_act,                          /* act */
    &nn__avx2_gemm_softmax,                     /* softmax */
    nn__gemm_bias_relu__avx2,                   /* bias_relu */
    0,                                          /* a_outer: B panel outer */
    1.0                                         /* par_scale */
};
/* Large problems: the same kernels with A panel outer and NC 512, so that a block of
   packed B (K x NC) stays a few MB however large K is (NC 4080 at K 4096: 64 MB). */
static const nn__gemm_cfg nn__avx2_gemm_cfg_6x16_large = {
    6, 16,                                      /* mr, nr */
    NN__AVX2_MC, NN__AVX2_KC, 512,              /* mc, kc, nc */
    nn__sgemm_6x16__avx2,                       /* ukr */
    nn__sgemm_6x16_pf__avx2,                    /* ukr_pf */
    nn__sgemm_pack_a6_rows__avx2,               /* pack_a_rows */
    nn__sgemm_pack_b16_cols__avx2,              /* pack_b_cols */
    nn__sgemm_pack_b16_rows__avx2,              /* pack_b_rows */
    nn__sgemm_pack_a6_cols__avx2,               /* pack_a_cols */
    nn__avx2_gemm_act,                          /* act */
    &nn__avx2_gemm_softmax,                     /* softmax */
    nn__gemm_bias_relu__avx2,                   /* bias_relu */
    1,                                          /* a_outer: A panel outer */
    1.0                                         /* par_scale */
};
#ifndef NN__AVX2_LARGE_FLOPS
#  define NN__AVX2_LARGE_FLOPS 2.5e8
#endif

/* The AVX2 path thresholds (chosen with bench/bench_gemm.c; see nn__gemm_limits). */
static const nn__gemm_limits nn__avx2_gemm_limits = {
    12,  /* dot_n: NT output layers (n = 10): a 16-wide tile would waste 6 of 16 columns */
    4,   /* dot_m: NT at tiny batches (inference): packing B^T costs as much as the math */
    12,  /* direct_m: narrow M (a 10-row weight gradient): two balanced panels, no packing */
    16,  /* direct_k: tiny K (backward data of a 10-wide layer): packing costs as much as the FMAs */
    36,  /* direct_nx_m: NN / NT batch 32: panels 6,6,5,5,5,5 instead of 6-row ones (11% padding) */
    &nn__avx2_gemm_cfg_6x16,        /* blocked */
    &nn__avx2_gemm_cfg_6x16_large,  /* blocked_large: B blocks of NC 512, */
    NN__AVX2_LARGE_FLOPS            /*   from this size on */
};

static nn__gemm_path nn__gemm_plan__avx2(int transa, int transb, int m, int n, int k)
{
    return nn__gemm_plan_by(&nn__avx2_gemm_limits, transa, transb, m, n, k);
}

/* Runs path p (nn__gemm_plan__avx2's, or a test's choice). */
static void nn__gemm_run__avx2(nn__gemm_path p, int transa, int transb, int m, int n, int k,
                               float alpha, const float *A, int lda, const float *B, int ldb,
                               float beta, float *C, int ldc, const float *bias, nn_act act,
                               float act_param, nn__gemm_ws *ws)
{
    switch (p.kind) {
    case NN__GEMM_PATH_DOT_NT:
        nn__gemm_split(p.cfg, nn__sgemm_dot_nt_part__avx2, 4, 3, transa, transb, m, n, k,
                       alpha, A, lda, B, ldb, beta, C, ldc, bias, act, act_param);
        return;
    case NN__GEMM_PATH_DIRECT:
        nn__gemm_split(p.cfg, nn__sgemm_direct_part__avx2, 6, 16, transa, transb, m, n, k,
                       alpha, A, lda, B, ldb, beta, C, ldc, bias, act, act_param);
        return;
    default: /* NN__GEMM_PATH_BLOCKED */
        if (!nn__gemm_blocked(p.cfg, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C,
                              ldc, bias, act, act_param, ws))
            nn__gemm__scalar(transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
                             bias, act, act_param, NULL);
        return;
    }
}

static void nn__gemm__avx2(int transa, int transb, int m, int n, int k, float alpha,
                           const float *A, int lda, const float *B, int ldb, float beta,
                           float *C, int ldc, const float *bias, nn_act act, float act_param,
                           nn__gemm_ws *ws)
{
    nn__gemm_run__avx2(nn__gemm_plan__avx2(transa, transb, m, n, k), transa, transb, m, n, k,
                       alpha, A, lda, B, ldb, beta, C, ldc, bias, act, act_param, ws);
}

static void nn__backend_init_avx2_gemm(nn__backend *b)
{
    int i;
    for (i = 0; i < (int)NN_ACT_COUNT; i++) nn__avx2_gemm_act[i] = b->act_fwd[i];
    nn__avx2_gemm_softmax = b->softmax_rows;
    b->gemm = nn__gemm__avx2;
}

NN__AVX2_END
#endif /* NN__HAS_AVX2 */

/* >>avx512 ------------------------------------------------------------------ */
/* The AVX-512 backend: the AVX2 backend's tables (element-wise, softmax, reductions,
   the skinny-NT GEMM path) with the rest of the GEMM and the optimizer updates on
   512-bit vectors: micro-kernels, packers, the direct path. The GEMM is where the
   doubled FMA width counts (on a core with two 512-bit FMA pipes, 2x the AVX2 peak).
   Everything between NN__AVX512_BEGIN and NN__AVX512_END is compiled for AVX-512F
   (+ AVX2, FMA) and reached only after the CPU and OS were checked. */
#if NN__HAS_AVX512
#  if defined(__clang__)
#    define NN__AVX512_BEGIN _Pragma("clang attribute push(__attribute__((target(\"avx512f,avx2,fma,prfchw\"))), apply_to=function)")
#    define NN__AVX512_END   _Pragma("clang attribute pop")
#  else
#    define NN__AVX512_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f,avx2,fma,prfchw\")")
#    define NN__AVX512_END   _Pragma("GCC pop_options")
#  endif

NN__AVX512_BEGIN

/* >>avx512_gemm ------------------------------------------------------------- */
/* nn__sgemm_body__avx512 - the AVX-512 micro-kernel (contract: nn__ukr_fn), whose named
   instances nn__sgemm_<MR>x32__avx512 follow it.

     C[m x n] := alpha * A_panel * B_panel + beta * C[m x n]      m <= MR <= 8, n <= 32

   Per k step: 2 loads of B (32 floats), MR broadcasts of A (vbroadcastss from memory),
   2*MR FMAs. Register map (32 zmm):
       zmm b0, b1          b(p, 0..15), b(p, 16..31)
       2*MR accumulators   acc<i>a, acc<i>b = row i, columns 0..15 and 16..31
   MR = 8 (16 chains) covers 2 FMA pipes x 4-cycle latency (8 needed); a 12-row
   geometry measured no faster, even on large squares. k is not unrolled (as the AVX2
   kernel). A may be
   packed (rsa = 1, csa = MR), rows of a row-major op(A) in place (rsa = lda, csa = 1)
   or MR contiguous floats per k step in place (rsa = 1, csa = lda); in place, only full
   panels are passed (the driver packs a partial one). B rows are 32 floats (a packed
   panel, or the user's B when n == 32). C is written through lane masks: only the
   m x n part is touched, and beta == 0 never reads C. PF = 2 (the _pfn instance, as in
   the AVX2 body):
   floats [32, 64) of each B row are prefetched (the direct path's next column panel). */
static NN__INLINE void nn__sgemm_body__avx512(const int PF, const int MR, int k,
                                              const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                                              const float *b, ptrdiff_t ldb, float *c,
                                              ptrdiff_t ldc, float alpha, float beta, int m,
                                              int n)
{
#define NN__Z_DECL(i) __m512 acc##i##a = _mm512_setzero_ps(), acc##i##b = _mm512_setzero_ps();
    NN__Z_DECL(0) NN__Z_DECL(1) NN__Z_DECL(2) NN__Z_DECL(3)
    NN__Z_DECL(4) NN__Z_DECL(5) NN__Z_DECL(6) NN__Z_DECL(7)
#undef NN__Z_DECL
    /* one pointer per 3 rows: rows base, base + rsa, base + 2 rsa (one addressing mode
       each when A is in place as rows) */
    const float *a0 = a;
    const float *a3 = MR > 3 ? a + 3 * rsa : a, *a6 = MR > 6 ? a + 6 * rsa : a;
    int p;
#define NN__ZA(i) ((i) < 3 ? a0 : (i) < 6 ? a3 : a6)[((i) % 3) * rsa]
#define NN__Z_FMA(i)                                                                    \
    if (MR > (i)) {                                                                     \
        const __m512 x = _mm512_set1_ps(NN__ZA(i));                                     \
        acc##i##a = _mm512_fmadd_ps(x, b0, acc##i##a);                                  \
        acc##i##b = _mm512_fmadd_ps(x, b1, acc##i##b);                                  \
    }
    for (p = 0; p < k; p++) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        if (PF == 2) {
            _mm_prefetch((const char *)(b + 32), _MM_HINT_T0);
            _mm_prefetch((const char *)(b + 48), _MM_HINT_T0);
        }
        NN__Z_FMA(0) NN__Z_FMA(1) NN__Z_FMA(2) NN__Z_FMA(3)
        NN__Z_FMA(4) NN__Z_FMA(5) NN__Z_FMA(6) NN__Z_FMA(7)
        a0 += csa;
        if (MR > 3) a3 += csa;
        if (MR > 6) a6 += csa;
        b += ldb;
    }
#undef NN__Z_FMA
#undef NN__ZA
    {
        const __mmask16 ma = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
        const __mmask16 mb = n <= 16 ? (__mmask16)0 : n >= 32 ? (__mmask16)0xFFFF
                                                              : (__mmask16)((1u << (n - 16)) - 1u);
        const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#define NN__Z_ROW(i)                                                                    \
    if (MR > (i) && (i) < m) {                                                          \
        float *ci = c + (i) * ldc;                                                      \
        __m512 v0 = acc##i##a, v1 = acc##i##b;                                          \
        if (alpha != 1.0f) { v0 = _mm512_mul_ps(va, v0); v1 = _mm512_mul_ps(va, v1); }  \
        if (beta != 0.0f) { /* (the second half only where it exists: n > 16) */       \
            v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(ma, ci), v0);                \
            if (n > 16) v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mb, ci + 16), v1); \
        }                                                                               \
        _mm512_mask_storeu_ps(ci, ma, v0);                                              \
        if (n > 16) _mm512_mask_storeu_ps(ci + 16, mb, v1);                             \
    }
        NN__Z_ROW(0) NN__Z_ROW(1) NN__Z_ROW(2) NN__Z_ROW(3)
        NN__Z_ROW(4) NN__Z_ROW(5) NN__Z_ROW(6) NN__Z_ROW(7)
#undef NN__Z_ROW
    }
}

/* The instances, one per height (strides and ldb at run time): 8 is the packed path's
   tile; 1..8 are the direct path's exact heights. */
static NN__NOINLINE void nn__sgemm_1x32__avx512(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx512(0, 1, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}
static NN__NOINLINE void nn__sgemm_2x32__avx512(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx512(0, 2, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}
static NN__NOINLINE void nn__sgemm_3x32__avx512(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx512(0, 3, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}
static NN__NOINLINE void nn__sgemm_4x32__avx512(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx512(0, 4, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}
static NN__NOINLINE void nn__sgemm_5x32__avx512(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx512(0, 5, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}
static NN__NOINLINE void nn__sgemm_6x32__avx512(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx512(0, 6, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}
static NN__NOINLINE void nn__sgemm_7x32__avx512(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx512(0, 7, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}
static NN__NOINLINE void nn__sgemm_8x32__avx512(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx512(0, 8, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}
/* The direct path's first 8-row panel for a large B: also prefetches the next column
   panel, floats [32, 64) of each B row (see nn__gemm_direct). */
static NN__NOINLINE void nn__sgemm_8x32_pfn__avx512(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    nn__sgemm_body__avx512(2, 8, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}
static const nn__ukr_fn nn__avx512_h[9] = {0, nn__sgemm_1x32__avx512,
    nn__sgemm_2x32__avx512, nn__sgemm_3x32__avx512, nn__sgemm_4x32__avx512,
    nn__sgemm_5x32__avx512, nn__sgemm_6x32__avx512, nn__sgemm_7x32__avx512,
    nn__sgemm_8x32__avx512};

/* MR rows of row-major op(A) (stride ld) -> kc columns of MR: 8 rows at a time by the
   AVX2 8x8 register transpose, columns stored through a lane mask (rows past MR in a
   group are duplicates, never stored). Never writes past the panel. */
static NN__INLINE void nn__sgemm_pack_a_rows_body__avx512(const int MR, int kc, const float *src,
                                                          int ld, float *dst)
{
    int p = 0, g, i;
    for (; p + 8 <= kc; p += 8) {
        for (g = 0; g < MR; g += 8) {
            const int h = NN__MIN(8, MR - g);
            const __mmask16 mk = (__mmask16)((1u << h) - 1u);
            const float *s = src + (size_t)g * ld + p;
#define NN__PA_ROW(i) _mm256_loadu_ps(s + (size_t)NN__MIN(i, h - 1) * ld)
            __m256 r0 = NN__PA_ROW(0), r1 = NN__PA_ROW(1), r2 = NN__PA_ROW(2), r3 = NN__PA_ROW(3);
            __m256 r4 = NN__PA_ROW(4), r5 = NN__PA_ROW(5), r6 = NN__PA_ROW(6), r7 = NN__PA_ROW(7);
#undef NN__PA_ROW
            float *d = dst + (size_t)p * MR + g;
            nn__transpose8__avx2(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7);
            _mm512_mask_storeu_ps(d, mk, _mm512_castps256_ps512(r0));
            _mm512_mask_storeu_ps(d + MR, mk, _mm512_castps256_ps512(r1));
            _mm512_mask_storeu_ps(d + 2 * MR, mk, _mm512_castps256_ps512(r2));
            _mm512_mask_storeu_ps(d + 3 * MR, mk, _mm512_castps256_ps512(r3));
            _mm512_mask_storeu_ps(d + 4 * MR, mk, _mm512_castps256_ps512(r4));
            _mm512_mask_storeu_ps(d + 5 * MR, mk, _mm512_castps256_ps512(r5));
            _mm512_mask_storeu_ps(d + 6 * MR, mk, _mm512_castps256_ps512(r6));
            _mm512_mask_storeu_ps(d + 7 * MR, mk, _mm512_castps256_ps512(r7));
        }
    }
    for (; p < kc; p++)
        for (i = 0; i < MR; i++) dst[(size_t)p * MR + i] = src[(size_t)i * ld + p];
}

/* Transposed A (MR contiguous floats per k step, stride ld) -> kc columns of MR: one
   masked load and store per column; nothing past the panel is read or written. */
static NN__INLINE void nn__sgemm_pack_a_cols_body__avx512(const int MR, int kc, const float *src,
                                                          int ld, float *dst)
{
    const __mmask16 mk = (__mmask16)((1u << MR) - 1u);
    int p;
    for (p = 0; p < kc; p++)
        _mm512_mask_storeu_ps(dst + (size_t)p * MR, mk, _mm512_maskz_loadu_ps(mk, src + (size_t)p * ld));
}
static void nn__sgemm_pack_a8_rows__avx512(int kc, const float *src, int ld, float *dst)
{
    nn__sgemm_pack_a_rows_body__avx512(8, kc, src, ld, dst);
}
static void nn__sgemm_pack_a8_cols__avx512(int kc, const float *src, int ld, float *dst)
{
    nn__sgemm_pack_a_cols_body__avx512(8, kc, src, ld, dst);
}
/* 32 floats per row of B (row-major, stride ld) -> kc rows of 32. */
static void nn__sgemm_pack_b32_rows__avx512(int kc, const float *src, int ld, float *dst)
{
    int p;
    for (p = 0; p < kc; p++) {
        const float *s = src + (size_t)p * ld;
        _mm512_storeu_ps(dst + (size_t)p * 32, _mm512_loadu_ps(s));
        _mm512_storeu_ps(dst + (size_t)p * 32 + 16, _mm512_loadu_ps(s + 16));
    }
}
/* 32 rows of B's storage (transb: row j holds op(B)(., j)) -> kc rows of 32. */
static void nn__sgemm_pack_b32_cols__avx512(int kc, const float *src, int ld, float *dst)
{
    int p = 0, j, h;
    for (; p + 8 <= kc; p += 8) {
        for (h = 0; h < 4; h++) {
            const float *s = src + (size_t)(8 * h) * ld + p;
            __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ld);
            __m256 r2 = _mm256_loadu_ps(s + 2 * (size_t)ld), r3 = _mm256_loadu_ps(s + 3 * (size_t)ld);
            __m256 r4 = _mm256_loadu_ps(s + 4 * (size_t)ld), r5 = _mm256_loadu_ps(s + 5 * (size_t)ld);
            __m256 r6 = _mm256_loadu_ps(s + 6 * (size_t)ld), r7 = _mm256_loadu_ps(s + 7 * (size_t)ld);
            float *d = dst + (size_t)p * 32 + 8 * h;
            nn__transpose8__avx2(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7);
            _mm256_storeu_ps(d, r0);       _mm256_storeu_ps(d + 32, r1);
            _mm256_storeu_ps(d + 64, r2);  _mm256_storeu_ps(d + 96, r3);
            _mm256_storeu_ps(d + 128, r4); _mm256_storeu_ps(d + 160, r5);
            _mm256_storeu_ps(d + 192, r6); _mm256_storeu_ps(d + 224, r7);
        }
    }
    for (; p < kc; p++)
        for (j = 0; j < 32; j++) dst[(size_t)p * 32 + j] = src[(size_t)j * ld + p];
}

#ifndef NN__AVX512_DIRECT_H
#  define NN__AVX512_DIRECT_H 8 /* tallest row panel of the direct path (<= 8) */
#endif
#ifndef NN__AVX512_DIRECT_KC
#  define NN__AVX512_DIRECT_KC 256 /* edge panel: 256 x 32 floats = 32 KiB of stack */
#endif
/* C[R x n] (R = 1 or 2, n <= 1024) over k, B read in place: each row of C is summed in
   a stack row y, four rows of B at a time (y += a[p] B[p] + ... + a[p+3] B[p+3], one
   FMA chain per column), so B is read row after row in memory order whatever n is (a
   register block of columns reads a wide B in pieces a row apart, which is slower). */
static NN__INLINE void nn__sgemm_rows_body__avx512(const int R, int k, const float *a,
                                                    ptrdiff_t rsa, ptrdiff_t csa,
                                                    const float *b, ptrdiff_t ldb, float *c,
                                                    ptrdiff_t ldc, float alpha, float beta,
                                                    int n)
{
    NN__ALIGNAS64 float y[2][1024];
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    const float *a1 = a + (R > 1 ? rsa : 0);
    int p, j, r;
    for (j = 0; j < n; j += 16) {
        _mm512_store_ps(y[0] + j, _mm512_setzero_ps());
        if (R > 1) _mm512_store_ps(y[1] + j, _mm512_setzero_ps());
    }
    for (p = 0; p + 4 <= k; p += 4) {
        const float *b0 = b + p * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
        const __m512 x0 = _mm512_set1_ps(a[p * csa]), x1 = _mm512_set1_ps(a[(p + 1) * csa]);
        const __m512 x2 = _mm512_set1_ps(a[(p + 2) * csa]), x3 = _mm512_set1_ps(a[(p + 3) * csa]);
        const __m512 z0 = _mm512_set1_ps(a1[p * csa]), z1 = _mm512_set1_ps(a1[(p + 1) * csa]);
        const __m512 z2 = _mm512_set1_ps(a1[(p + 2) * csa]), z3 = _mm512_set1_ps(a1[(p + 3) * csa]);
        for (j = 0; j < n; j += 16) {
            const __mmask16 mk = n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1u);
            const __m512 v0 = _mm512_maskz_loadu_ps(mk, b0 + j), v1 = _mm512_maskz_loadu_ps(mk, b1 + j);
            const __m512 v2 = _mm512_maskz_loadu_ps(mk, b2 + j), v3 = _mm512_maskz_loadu_ps(mk, b3 + j);
            __m512 t = _mm512_load_ps(y[0] + j);
            t = _mm512_fmadd_ps(x0, v0, t);
            t = _mm512_fmadd_ps(x1, v1, t);
            t = _mm512_fmadd_ps(x2, v2, t);
            _mm512_store_ps(y[0] + j, _mm512_fmadd_ps(x3, v3, t));
            if (R > 1) {
                t = _mm512_load_ps(y[1] + j);
                t = _mm512_fmadd_ps(z0, v0, t);
                t = _mm512_fmadd_ps(z1, v1, t);
                t = _mm512_fmadd_ps(z2, v2, t);
                _mm512_store_ps(y[1] + j, _mm512_fmadd_ps(z3, v3, t));
            }
        }
    }
    for (; p < k; p++) {
        const float *b0 = b + p * ldb;
        const __m512 x0 = _mm512_set1_ps(a[p * csa]), z0 = _mm512_set1_ps(a1[p * csa]);
        for (j = 0; j < n; j += 16) {
            const __mmask16 mk = n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1u);
            const __m512 v0 = _mm512_maskz_loadu_ps(mk, b0 + j);
            _mm512_store_ps(y[0] + j, _mm512_fmadd_ps(x0, v0, _mm512_load_ps(y[0] + j)));
            if (R > 1) _mm512_store_ps(y[1] + j, _mm512_fmadd_ps(z0, v0, _mm512_load_ps(y[1] + j)));
        }
    }
    for (r = 0; r < R; r++)
        for (j = 0; j < n; j += 16) {
            const __mmask16 mk = n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1u);
            float *cj = c + r * ldc + j;
            __m512 v = _mm512_mul_ps(va, _mm512_load_ps(y[r] + j));
            if (beta != 0.0f) v = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mk, cj), v);
            _mm512_mask_storeu_ps(cj, mk, v);
        }
}
static NN__NOINLINE void nn__sgemm_rows__avx512(int R, int k, const float *a, ptrdiff_t rsa,
                                                ptrdiff_t csa, const float *b, ptrdiff_t ldb,
                                                float *c, ptrdiff_t ldc, float alpha,
                                                float beta, int n)
{
    if (R > 1) nn__sgemm_rows_body__avx512(2, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, n);
    else nn__sgemm_rows_body__avx512(1, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, n);
}

/* *c = alpha * (the sum of v's lanes) + beta * *c; *c not read when beta == 0 */
static NN__INLINE void nn__dot_store__avx512(__m512 v, float alpha, float beta, float *c)
{
    /* (zero-masked extracts: the plain ones, and gcc 12's _mm512_castps512_ps256, start
       from _mm256_undefined_pd, which g++ flags as maybe uninitialized) */
    const __m512d vd = _mm512_castps_pd(v);
    const __m256 lo = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd((__mmask8)0xFF, vd, 0));
    const __m256 hi = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd((__mmask8)0xFF, vd, 1));
    const float d = alpha * nn__hsum8__avx2(_mm256_add_ps(lo, hi));
    *c = beta == 0.0f ? d : d + beta * *c;
}
/* R = 1 or 2 rows of A against B^T one B row at a time (batch-1 and batch-2 forward
   passes): B is read once, in memory order, which the hardware fetches ahead better
   than the AVX2 tiles' 8 rows of B at once (AVX2 keeps those: a ymm row-at-a-time
   kernel runs twice the instructions and is not faster). Each output is four
   16-lane FMA chains over k (the last < 64 floats on the first chain, masked), then a
   fixed sum tree, whichever rows and columns share the call. */
static NN__INLINE void nn__sgemm_dot_rows_body__avx512(const int R, int n, int k, float alpha,
                                                       const float *A, int lda,
                                                       const float *B, int ldb, float beta,
                                                       float *C, int ldc)
{
    const int k64 = k & ~63;
    const float *a0 = A, *a1 = A + (R > 1 ? (size_t)lda : 0);
    int j, p;
    for (j = 0; j < n; j++) {
        const float *b = B + (size_t)j * ldb;
        __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0; /* row 0 */
        __m512 t0 = s0, t1 = s0, t2 = s0, t3 = s0;                  /* row 1 */
        for (p = 0; p < k64; p += 64) {
            __m512 b0 = _mm512_loadu_ps(b + p), b1 = _mm512_loadu_ps(b + p + 16);
            __m512 b2 = _mm512_loadu_ps(b + p + 32), b3 = _mm512_loadu_ps(b + p + 48);
            /* two rows: B stays in registers (gcc otherwise reads it again as each FMA's
               memory operand: 16 loads per 8 FMAs instead of 12) */
            if (R > 1) __asm__("" : "+v"(b0), "+v"(b1), "+v"(b2), "+v"(b3));
            s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a0 + p), b0, s0);
            s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a0 + p + 16), b1, s1);
            s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a0 + p + 32), b2, s2);
            s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a0 + p + 48), b3, s3);
            if (R > 1) {
                t0 = _mm512_fmadd_ps(_mm512_loadu_ps(a1 + p), b0, t0);
                t1 = _mm512_fmadd_ps(_mm512_loadu_ps(a1 + p + 16), b1, t1);
                t2 = _mm512_fmadd_ps(_mm512_loadu_ps(a1 + p + 32), b2, t2);
                t3 = _mm512_fmadd_ps(_mm512_loadu_ps(a1 + p + 48), b3, t3);
            }
        }
        for (; p < k; p += 16) {
            const __mmask16 mk = k - p >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (k - p)) - 1);
            const __m512 bv = _mm512_maskz_loadu_ps(mk, b + p);
            s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, a0 + p), bv, s0);
            if (R > 1) t0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, a1 + p), bv, t0);
        }
        nn__dot_store__avx512(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)),
                              alpha, beta, C + j);
        if (R > 1)
            nn__dot_store__avx512(_mm512_add_ps(_mm512_add_ps(t0, t1), _mm512_add_ps(t2, t3)),
                                  alpha, beta, C + (size_t)ldc + j);
    }
}
static void nn__sgemm_dot_rows__avx512(int R, int n, int k, float alpha, const float *A,
                                       int lda, const float *B, int ldb, float beta, float *C,
                                       int ldc)
{
    if (R > 1) nn__sgemm_dot_rows_body__avx512(2, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    else nn__sgemm_dot_rows_body__avx512(1, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* The dot path: the AVX2 4-row tiles, and the last 1 or 2 rows (all of them at batch 1
   and 2) through nn__sgemm_dot_rows__avx512. */
static void nn__sgemm_dot_nt_part__avx512(int transa, int transb, int m, int n, int k,
                                          float alpha, const float *A, int lda,
                                          const float *B, int ldb, float beta, float *C,
                                          int ldc)
{
    NN__ALIGNAS64 float arow[2 * 2048];
    const int rest = m % NN__DOT_R <= 2 ? m % NN__DOT_R : 0, mt = m - rest;
    const float *Ar = A + (size_t)mt * lda;
    (void)transa; (void)transb;
    if (mt > 0) nn__sgemm_dot_nt__avx2(mt, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    if (rest == 0) return;
    if (k <= 2048 && (((uintptr_t)Ar | (uintptr_t)(Ar + (size_t)(rest - 1) * lda)) & 63)) {
        /* rows of A off a cache line (a caller's malloc'd input): copied to aligned
           ones, else every A load of the stream splits across two lines */
        memcpy(arow, Ar, (size_t)k * sizeof(float));
        if (rest > 1) memcpy(arow + 2048, Ar + lda, (size_t)k * sizeof(float));
        Ar = arow;
        lda = 2048;
    }
    nn__sgemm_dot_rows__avx512(rest, n, k, alpha, Ar, lda, B, ldb, beta, C + (size_t)mt * ldc,
                               ldc);
}

static void nn__sgemm_direct_part__avx512(int transa, int transb, int m, int n, int k,
                                          float alpha, const float *A, int lda,
                                          const float *B, int ldb, float beta, float *C,
                                          int ldc)
{
    NN__ALIGNAS64 float edge[NN__AVX512_DIRECT_KC * 32];
    if (m <= 2 && !transb) { /* one or two rows: B streamed row by row, 1024 columns at a time */
        int j;
        for (j = 0; j < n; j += 1024)
            nn__sgemm_rows__avx512(m, k, A, transa ? 1 : lda, transa ? lda : 1, B + j, ldb,
                                   C + j, ldc, alpha, beta, NN__MIN(1024, n - j));
        return;
    }
    nn__gemm_direct(NN__AVX512_DIRECT_H, 32, NN__AVX512_DIRECT_KC,
                    nn__avx512_h, nn__sgemm_8x32_pfn__avx512, nn__sgemm_pack_b32_cols__avx512,
                    edge, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

static nn__act_fwd_fn nn__avx512_gemm_act[NN_ACT_COUNT];
static nn__softmax_fn nn__avx512_gemm_softmax;

/* Two geometries of the same 8 x 32 kernels, chosen per call by size with
   bench/bench_gemm.c (for a core with two 512-bit FMA pipes, 48 KiB L1d, 2 MiB L2):
   - "small" (the layers of a network): B panel outer (KC x 32 floats in L1 across the
     block's A panels), MC = 192, KC = 256, NC = 4064. 8 rows divide every batch size
     in use (32, 128, 256: no padded rows). MC = 192 puts m = 128 in one row block,
     which two threads then cut into two equal halves.
   - "large" (2 m n k >= NN__AVX512_LARGE_FLOPS): A panel outer (8 x KC in L1 while the
     KC x NC block of B streams from L2: the BLIS skx arrangement), MC = 144, KC = 256,
     NC = 512, the faster arrangement for large squares.
   The packed path takes a team only from 4x NN__PAR_GEMM_FLOPS per thread (2 MFLOP):
   the shared B packing and its barrier cost as much as on AVX2 while the tiles are half
   as long, so smaller calls do not gain from a second thread. */
#ifndef NN__AVX512_LARGE_FLOPS
#  define NN__AVX512_LARGE_FLOPS 2.5e8
#endif
#ifndef NN__AVX512_DIRECT_M
#  define NN__AVX512_DIRECT_M 36 /* NN / NT with m <= this take the direct path */
#endif

/* The packed path's geometries (positional: nn__gemm_cfg's field order). */
static const nn__gemm_cfg nn__avx512_gemm_cfg_8x32 = {
    8, 32,                                      /* mr, nr */
    192, 256, 4064,                             /* mc, kc, nc */
    nn__sgemm_8x32__avx512,                     /* ukr */
    NULL,                                       /* ukr_pf: none */
    nn__sgemm_pack_a8_rows__avx512,             /* pack_a_rows */
    nn__sgemm_pack_b32_cols__avx512,            /* pack_b_cols */
    nn__sgemm_pack_b32_rows__avx512,            /* pack_b_rows */
    nn__sgemm_pack_a8_cols__avx512,             /* pack_a_cols */
    nn__avx512_gemm_act,                        /* act */
    &nn__avx512_gemm_softmax,                   /* softmax */
    nn__gemm_bias_relu__avx2,                   /* bias_relu */
    0,                                          /* a_outer: B panel outer */
    NN__PAR_SCALE_AVX512                        /* par_scale */
};
static const nn__gemm_cfg nn__avx512_gemm_cfg_8x32_large = {
    8, 32,                                      /* mr, nr */
    144, 256, 512,                              /* mc, kc, nc */
    nn__sgemm_8x32__avx512,                     /* ukr */
    NULL,                                       /* ukr_pf: none */
    nn__sgemm_pack_a8_rows__avx512,             /* pack_a_rows */
    nn__sgemm_pack_b32_cols__avx512,            /* pack_b_cols */
    nn__sgemm_pack_b32_rows__avx512,            /* pack_b_rows */
    nn__sgemm_pack_a8_cols__avx512,             /* pack_a_cols */
    nn__avx512_gemm_act,                        /* act */
    &nn__avx512_gemm_softmax,                   /* softmax */
    nn__gemm_bias_relu__avx2,                   /* bias_relu */
    1,                                          /* a_outer: A panel outer (BLIS skx) */
    NN__PAR_SCALE_AVX512                        /* par_scale */
};

/* The AVX-512 path thresholds (chosen with bench/bench_gemm.c; see nn__gemm_limits). */
static const nn__gemm_limits nn__avx512_gemm_limits = {
    12,  /* dot_n: NT output layers (n = 10): a 32-wide tile would waste 22 of 32 columns */
    4,   /* dot_m: NT at tiny batches (inference): packing B^T costs as much as the math */
    16,  /* direct_m: narrow M (a 10-row weight gradient): two balanced panels */
    16,  /* direct_k: tiny K: packing costs as much as the FMAs */
    NN__AVX512_DIRECT_M,   /* direct_nx_m: NN / NT batch 32: balanced panels, no packing */
    &nn__avx512_gemm_cfg_8x32,  /* blocked: 8-row tiles divide the batch sizes in use */
    &nn__avx512_gemm_cfg_8x32_large, /* blocked_large: faster on large squares, */
    NN__AVX512_LARGE_FLOPS      /*   from this size on */
};

static nn__gemm_path nn__gemm_plan__avx512(int transa, int transb, int m, int n, int k)
{
    return nn__gemm_plan_by(&nn__avx512_gemm_limits, transa, transb, m, n, k);
}

/* Runs path p (nn__gemm_plan__avx512's, or a test's choice). */
static void nn__gemm_run__avx512(nn__gemm_path p, int transa, int transb, int m, int n, int k,
                                 float alpha, const float *A, int lda, const float *B, int ldb,
                                 float beta, float *C, int ldc, const float *bias, nn_act act,
                                 float act_param, nn__gemm_ws *ws)
{
    switch (p.kind) {
    case NN__GEMM_PATH_DOT_NT:
        nn__gemm_split(p.cfg, nn__sgemm_dot_nt_part__avx512, NN__DOT_R, 3, transa, transb, m, n, k,
                       alpha, A, lda, B, ldb, beta, C, ldc, bias, act, act_param);
        return;
    case NN__GEMM_PATH_DIRECT:
        nn__gemm_split(p.cfg, nn__sgemm_direct_part__avx512, NN__AVX512_DIRECT_H, 32, transa,
                       transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, bias, act,
                       act_param);
        return;
    default: /* NN__GEMM_PATH_BLOCKED */
        if (!nn__gemm_blocked(p.cfg, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C,
                              ldc, bias, act, act_param, ws))
            nn__gemm__scalar(transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
                             bias, act, act_param, NULL);
        return;
    }
}

static void nn__gemm__avx512(int transa, int transb, int m, int n, int k, float alpha,
                             const float *A, int lda, const float *B, int ldb, float beta,
                             float *C, int ldc, const float *bias, nn_act act, float act_param,
                             nn__gemm_ws *ws)
{
    nn__gemm_run__avx512(nn__gemm_plan__avx512(transa, transb, m, n, k), transa, transb, m, n,
                         k, alpha, A, lda, B, ldb, beta, C, ldc, bias, act, act_param, ws);
}

/* _mm512_sqrt_ps starts from gcc 12's _mm512_undefined_ps, which g++ flags as maybe
   uninitialized; the all-lanes zero-masked form is the same vsqrtps */
static inline __m512 nn__sqrt__avx512(__m512 x)
{
    return _mm512_maskz_sqrt_ps((__mmask16)0xFFFF, x);
}

/* The optimizer rules of >>avx2_vec at 16 lanes, intrinsic for intrinsic. */
typedef struct nn__optk_avx512 {
    __m512 lr, lrwd, mu, b1, omb1, b2, omb2, eps, bc1, bc2;
} nn__optk_avx512;

static void nn__optk_init__avx512(nn__optk_avx512 *k, const nn_simd_optim_args *p)
{
    k->lr = _mm512_set1_ps(p->lr);
    k->lrwd = _mm512_set1_ps(p->lr * p->wd);
    k->mu = _mm512_set1_ps(p->mu);
    k->b1 = _mm512_set1_ps(p->beta1);
    k->omb1 = _mm512_set1_ps(1.0f - p->beta1);
    k->b2 = _mm512_set1_ps(p->beta2);
    k->omb2 = _mm512_set1_ps(1.0f - p->beta2);
    k->eps = _mm512_set1_ps(p->eps);
    k->bc1 = _mm512_set1_ps(p->bc1);
    k->bc2 = _mm512_set1_ps(p->bc2);
}

static inline void nn__sgd16__avx512(const nn__optk_avx512 *k, float *w, const float *g, float *s1, float *s2)
{
    __m512 vw = _mm512_loadu_ps(w);
    (void)s1; (void)s2;
    vw = _mm512_fnmadd_ps(k->lrwd, vw, vw);
    _mm512_storeu_ps(w, _mm512_fnmadd_ps(k->lr, _mm512_loadu_ps(g), vw));
}
static inline void nn__momentum16__avx512(const nn__optk_avx512 *k, float *w, const float *g, float *v, float *s2)
{
    __m512 vw = _mm512_loadu_ps(w);
    __m512 vv = _mm512_fmadd_ps(k->mu, _mm512_loadu_ps(v), _mm512_mul_ps(k->lr, _mm512_loadu_ps(g)));
    (void)s2;
    vw = _mm512_fnmadd_ps(k->lrwd, vw, vw);
    _mm512_storeu_ps(v, vv);
    _mm512_storeu_ps(w, _mm512_sub_ps(vw, vv));
}
static inline void nn__nesterov16__avx512(const nn__optk_avx512 *k, float *w, const float *g, float *v, float *s2)
{
    __m512 vw = _mm512_loadu_ps(w);
    __m512 lrg = _mm512_mul_ps(k->lr, _mm512_loadu_ps(g));
    __m512 vv = _mm512_fmadd_ps(k->mu, _mm512_loadu_ps(v), lrg);
    (void)s2;
    vw = _mm512_fnmadd_ps(k->lrwd, vw, vw);
    _mm512_storeu_ps(v, vv);
    _mm512_storeu_ps(w, _mm512_sub_ps(vw, _mm512_fmadd_ps(k->mu, vv, lrg)));
}
static inline void nn__adagrad16__avx512(const nn__optk_avx512 *k, float *w, const float *g, float *s, float *s2)
{
    __m512 vw = _mm512_loadu_ps(w), vg = _mm512_loadu_ps(g);
    __m512 vs = _mm512_fmadd_ps(vg, vg, _mm512_loadu_ps(s));
    (void)s2;
    vw = _mm512_fnmadd_ps(k->lrwd, vw, vw);
    _mm512_storeu_ps(s, vs);
    _mm512_storeu_ps(w, _mm512_sub_ps(vw, _mm512_div_ps(_mm512_mul_ps(k->lr, vg),
                                                     _mm512_add_ps(nn__sqrt__avx512(vs), k->eps))));
}
static inline void nn__rmsprop16__avx512(const nn__optk_avx512 *k, float *w, const float *g, float *s, float *s2)
{
    __m512 vw = _mm512_loadu_ps(w), vg = _mm512_loadu_ps(g);
    __m512 vs = _mm512_fmadd_ps(k->b2, _mm512_loadu_ps(s), _mm512_mul_ps(_mm512_mul_ps(k->omb2, vg), vg));
    (void)s2;
    vw = _mm512_fnmadd_ps(k->lrwd, vw, vw);
    _mm512_storeu_ps(s, vs);
    _mm512_storeu_ps(w, _mm512_sub_ps(vw, _mm512_div_ps(_mm512_mul_ps(k->lr, vg),
                                                     _mm512_add_ps(nn__sqrt__avx512(vs), k->eps))));
}
static inline void nn__adam16__avx512(const nn__optk_avx512 *k, float *w, const float *g, float *m, float *v)
{
    __m512 vw = _mm512_loadu_ps(w), vg = _mm512_loadu_ps(g);
    __m512 vm = _mm512_fmadd_ps(k->b1, _mm512_loadu_ps(m), _mm512_mul_ps(k->omb1, vg));
    __m512 vv = _mm512_fmadd_ps(k->b2, _mm512_loadu_ps(v), _mm512_mul_ps(_mm512_mul_ps(k->omb2, vg), vg));
    __m512 num = _mm512_mul_ps(k->lr, _mm512_mul_ps(vm, k->bc1));
    __m512 den = _mm512_add_ps(nn__sqrt__avx512(_mm512_mul_ps(vv, k->bc2)), k->eps);
    vw = _mm512_fnmadd_ps(k->lrwd, vw, vw);
    _mm512_storeu_ps(m, vm);
    _mm512_storeu_ps(v, vv);
    _mm512_storeu_ps(w, _mm512_sub_ps(vw, _mm512_div_ps(num, den)));
}

static inline void nn__adadelta16__avx512(const nn__optk_avx512 *k, float *w, const float *g, float *s, float *d)
{
    __m512 vw = _mm512_loadu_ps(w), vg = _mm512_loadu_ps(g), vd = _mm512_loadu_ps(d);
    __m512 vs = _mm512_fmadd_ps(k->b2, _mm512_loadu_ps(s), _mm512_mul_ps(_mm512_mul_ps(k->omb2, vg), vg));
    __m512 u = _mm512_mul_ps(_mm512_div_ps(nn__sqrt__avx512(_mm512_add_ps(vd, k->eps)),
                                           nn__sqrt__avx512(_mm512_add_ps(vs, k->eps))), vg);
    vd = _mm512_fmadd_ps(k->b2, vd, _mm512_mul_ps(_mm512_mul_ps(k->omb2, u), u));
    vw = _mm512_fnmadd_ps(k->lrwd, vw, vw);
    _mm512_storeu_ps(s, vs);
    _mm512_storeu_ps(d, vd);
    _mm512_storeu_ps(w, _mm512_fnmadd_ps(k->lr, u, vw));
}

static void nn__sgd__avx512(const nn_simd_optim_args *p, float *w, const float *g,
                            float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_avx512, nn__optk_init__avx512, nn__sgd16__avx512, 16,
                   p, w, g, s1, s2, n);
}
static void nn__momentum__avx512(const nn_simd_optim_args *p, float *w, const float *g,
                                 float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_avx512, nn__optk_init__avx512, nn__momentum16__avx512, 16,
                   p, w, g, s1, s2, n);
}
static void nn__nesterov__avx512(const nn_simd_optim_args *p, float *w, const float *g,
                                 float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_avx512, nn__optk_init__avx512, nn__nesterov16__avx512, 16,
                   p, w, g, s1, s2, n);
}
static void nn__adagrad__avx512(const nn_simd_optim_args *p, float *w, const float *g,
                                float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_avx512, nn__optk_init__avx512, nn__adagrad16__avx512, 16,
                   p, w, g, s1, s2, n);
}
static void nn__rmsprop__avx512(const nn_simd_optim_args *p, float *w, const float *g,
                                float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_avx512, nn__optk_init__avx512, nn__rmsprop16__avx512, 16,
                   p, w, g, s1, s2, n);
}
static void nn__adam__avx512(const nn_simd_optim_args *p, float *w, const float *g,
                             float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_avx512, nn__optk_init__avx512, nn__adam16__avx512, 16,
                   p, w, g, s1, s2, n);
}

static void nn__adadelta__avx512(const nn_simd_optim_args *p, float *w, const float *g,
                                 float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_avx512, nn__optk_init__avx512, nn__adadelta16__avx512, 16,
                   p, w, g, s1, s2, n);
}

static void nn__backend_init_avx512_gemm(nn__backend *b)
{
    int i;
    b->optim[NN_SIMD_OPTIM_SGD] = nn__sgd__avx512;
    b->optim[NN_SIMD_OPTIM_MOMENTUM] = nn__momentum__avx512;
    b->optim[NN_SIMD_OPTIM_NESTEROV] = nn__nesterov__avx512;
    b->optim[NN_SIMD_OPTIM_ADAGRAD] = nn__adagrad__avx512;
    b->optim[NN_SIMD_OPTIM_RMSPROP] = nn__rmsprop__avx512;
    b->optim[NN_SIMD_OPTIM_ADAM] = nn__adam__avx512;
    b->optim[NN_SIMD_OPTIM_ADADELTA] = nn__adadelta__avx512;
    for (i = 0; i < (int)NN_ACT_COUNT; i++) nn__avx512_gemm_act[i] = b->act_fwd[i];
    nn__avx512_gemm_softmax = b->softmax_rows;
    b->gemm = nn__gemm__avx512;
}

NN__AVX512_END
#endif /* NN__HAS_AVX512 */

/* >>neon -------------------------------------------------------------------- */
/* NEON is part of the aarch64 baseline: no target region and no run-time check. */
#if NN__HAS_NEON
#  include <arm_neon.h>

/* >>neon_vec ---------------------------------------------------------------- */
/* The same kernels as >>avx2_vec on 4 lanes, with the same approximations, constants,
   padded-tail scheme and lane semantics (see the conventions there). aarch64 FMAX/FMIN
   return NaN when either operand is NaN, so the exp clamps pass NaN in either order. */
#ifndef NN__EXP_XMIN
#  define NN__EXP_XMIN   -110.0f
#  define NN__EXP_XMAX     90.0f
#  define NN__EXP_LOG2E  1.442695022e+00f
#  define NN__EXP_LN2HI  6.931471825e-01f
#  define NN__EXP_LN2LO -1.904654212e-09f
#  define NN__EXP_C2     4.999999404e-01f
#  define NN__EXP_C3     1.666652113e-01f
#  define NN__EXP_C4     4.166838899e-02f
#  define NN__EXP_C5     8.368710056e-03f
#  define NN__EXP_C6     1.381461276e-03f
#  define NN__TANH_SMALL 5.493000150e-01f
#  define NN__TANH_Q0   -3.333331645e-01f
#  define NN__TANH_Q1    1.333259344e-01f
#  define NN__TANH_Q2   -5.385310203e-02f
#  define NN__TANH_Q3    2.107518166e-02f
#  define NN__TANH_Q4   -6.279515568e-03f
#endif

/* exp, "rr2_p6" (see the AVX2 version for the derivation and the special values). */
static inline float32x4_t nn__exp4__neon_rr2_p6(float32x4_t x)
{
    float32x4_t n, r, p, s1, s2;
    int32x4_t k, k1, k2;
    x = vmaxq_f32(x, vdupq_n_f32(NN__EXP_XMIN));
    x = vminq_f32(x, vdupq_n_f32(NN__EXP_XMAX));
    n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(NN__EXP_LOG2E)));
    r = vfmsq_f32(x, n, vdupq_n_f32(NN__EXP_LN2HI));
    r = vfmsq_f32(r, n, vdupq_n_f32(NN__EXP_LN2LO));
    p = vdupq_n_f32(NN__EXP_C6);
    p = vfmaq_f32(vdupq_n_f32(NN__EXP_C5), p, r);
    p = vfmaq_f32(vdupq_n_f32(NN__EXP_C4), p, r);
    p = vfmaq_f32(vdupq_n_f32(NN__EXP_C3), p, r);
    p = vfmaq_f32(vdupq_n_f32(NN__EXP_C2), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    k = vcvtq_s32_f32(n);                       /* n is integral; NaN gives 0, p is NaN */
    k1 = vshrq_n_s32(k, 1);
    k2 = vsubq_s32(k, k1);
    s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(k1, vdupq_n_s32(127)), 23));
    s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(k2, vdupq_n_s32(127)), 23));
    return vmulq_f32(vmulq_f32(p, s1), s2);
}

/* sigmoid, "rr2_p6_div" */
static inline float32x4_t nn__sigmoid4__neon_rr2_p6_div(float32x4_t z)
{
    const float32x4_t one = vdupq_n_f32(1.0f);
    float32x4_t e = nn__exp4__neon_rr2_p6(vnegq_f32(vabsq_f32(z)));
    float32x4_t num = vbslq_f32(vcgeq_f32(z, vdupq_n_f32(0.0f)), one, e);
    return vdivq_f32(num, vaddq_f32(one, e));
}

/* tanh, "p11_rr2_p6_div" */
static inline float32x4_t nn__tanh4__neon_p11_rr2_p6_div(float32x4_t x)
{
    const float32x4_t one = vdupq_n_f32(1.0f);
    uint32x4_t sign = vandq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x80000000u));
    float32x4_t ax = vabsq_f32(x);
    float32x4_t u = vmulq_f32(ax, ax);
    float32x4_t q = vdupq_n_f32(NN__TANH_Q4), small, large, e, t;
    q = vfmaq_f32(vdupq_n_f32(NN__TANH_Q3), q, u);
    q = vfmaq_f32(vdupq_n_f32(NN__TANH_Q2), q, u);
    q = vfmaq_f32(vdupq_n_f32(NN__TANH_Q1), q, u);
    q = vfmaq_f32(vdupq_n_f32(NN__TANH_Q0), q, u);
    small = vfmaq_f32(ax, vmulq_f32(ax, u), q);
    e = nn__exp4__neon_rr2_p6(vaddq_f32(ax, ax));
    large = vsubq_f32(one, vdivq_f32(vdupq_n_f32(2.0f), vaddq_f32(e, one)));
    t = vbslq_f32(vcltq_f32(ax, vdupq_n_f32(NN__TANH_SMALL)), small, large);
    return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(t), sign));
}

static inline float32x4_t nn__identity4__neon(float32x4_t x, float32x4_t p) { (void)p; return x; }
static inline float32x4_t nn__sigmoid4__neon(float32x4_t x, float32x4_t p) { (void)p; return nn__sigmoid4__neon_rr2_p6_div(x); }
static inline float32x4_t nn__tanh4__neon(float32x4_t x, float32x4_t p) { (void)p; return nn__tanh4__neon_p11_rr2_p6_div(x); }
static inline float32x4_t nn__relu4__neon(float32x4_t x, float32x4_t p)
{
    /* keep z where z > 0 or z is NaN, else +0 */
    uint32x4_t keep = vorrq_u32(vcgtq_f32(x, vdupq_n_f32(0.0f)), vmvnq_u32(vceqq_f32(x, x)));
    (void)p;
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(x), keep));
}
static inline float32x4_t nn__leaky_relu4__neon(float32x4_t x, float32x4_t p)
{
    return vbslq_f32(vcgtq_f32(x, vdupq_n_f32(0.0f)), x, vmulq_f32(p, x));
}
static inline float32x4_t nn__hardtanh4__neon(float32x4_t x, float32x4_t p)
{
    (void)p;
    return vbslq_f32(vcgtq_f32(x, vdupq_n_f32(1.0f)), vdupq_n_f32(1.0f),
                     vbslq_f32(vcltq_f32(x, vdupq_n_f32(-1.0f)), vdupq_n_f32(-1.0f), x));
}
static inline float32x4_t nn__sign4__neon(float32x4_t x, float32x4_t p)
{
    const float32x4_t zero = vdupq_n_f32(0.0f);
    float32x4_t r = vbslq_f32(vceqq_f32(x, x), zero, x);            /* 0, or NaN */
    r = vbslq_f32(vcltq_f32(x, zero), vdupq_n_f32(-1.0f), r);
    (void)p;
    return vbslq_f32(vcgtq_f32(x, zero), vdupq_n_f32(1.0f), r);
}

static inline float32x4_t nn__identity_d4__neon(float32x4_t y, float32x4_t dy, float32x4_t p) { (void)y; (void)p; return dy; }
static inline float32x4_t nn__sigmoid_d4__neon(float32x4_t y, float32x4_t dy, float32x4_t p)
{
    (void)p;
    return vmulq_f32(dy, vmulq_f32(y, vsubq_f32(vdupq_n_f32(1.0f), y)));
}
static inline float32x4_t nn__tanh_d4__neon(float32x4_t y, float32x4_t dy, float32x4_t p)
{
    (void)p;
    return vmulq_f32(dy, vsubq_f32(vdupq_n_f32(1.0f), vmulq_f32(y, y)));
}
static inline float32x4_t nn__relu_d4__neon(float32x4_t y, float32x4_t dy, float32x4_t p)
{
    (void)p;
    return vmulq_f32(dy, vbslq_f32(vcgtq_f32(y, vdupq_n_f32(0.0f)), vdupq_n_f32(1.0f), vdupq_n_f32(0.0f)));
}
static inline float32x4_t nn__leaky_relu_d4__neon(float32x4_t y, float32x4_t dy, float32x4_t p)
{
    return vmulq_f32(dy, vbslq_f32(vcgtq_f32(y, vdupq_n_f32(0.0f)), vdupq_n_f32(1.0f), p));
}
static inline float32x4_t nn__hardtanh_d4__neon(float32x4_t y, float32x4_t dy, float32x4_t p)
{
    uint32x4_t in = vandq_u32(vcgtq_f32(y, vdupq_n_f32(-1.0f)), vcltq_f32(y, vdupq_n_f32(1.0f)));
    (void)p;
    return vmulq_f32(dy, vbslq_f32(in, vdupq_n_f32(1.0f), vdupq_n_f32(0.0f)));
}
static inline float32x4_t nn__sign_d4__neon(float32x4_t y, float32x4_t dy, float32x4_t p)
{
    (void)y; (void)p;
    return vmulq_f32(dy, vdupq_n_f32(0.0f));
}

/* The loops of >>avx2_vec's element-wise kernels on 4 lanes (statement bodies, as
   there). */
#define NN__NEON_ACT_FWD_LOOP(OP, x, y, n, param)                               \
    do {                                                                        \
        const float32x4_t vp = vdupq_n_f32(param);                              \
        size_t i = 0;                                                           \
        for (; i + 8 <= n; i += 8) {                                            \
            float32x4_t a = vld1q_f32(x + i), b = vld1q_f32(x + i + 4);         \
            vst1q_f32(y + i, OP(a, vp));                                        \
            vst1q_f32(y + i + 4, OP(b, vp));                                    \
        }                                                                       \
        for (; i + 4 <= n; i += 4) vst1q_f32(y + i, OP(vld1q_f32(x + i), vp));  \
        if (i < n) {                                                            \
            float buf[4] = {0};                                                 \
            memcpy(buf, x + i, (n - i) * sizeof(float));                        \
            vst1q_f32(buf, OP(vld1q_f32(buf), vp));                             \
            memcpy(y + i, buf, (n - i) * sizeof(float));                        \
        }                                                                       \
    } while (0)
#define NN__NEON_ACT_BWD_LOOP(OP, y, dy, dx, n, param)                          \
    do {                                                                        \
        const float32x4_t vp = vdupq_n_f32(param);                              \
        size_t i = 0;                                                           \
        for (; i + 4 <= n; i += 4)                                              \
            vst1q_f32(dx + i, OP(vld1q_f32(y + i), vld1q_f32(dy + i), vp));     \
        if (i < n) {                                                            \
            float by[4] = {0}, bd[4] = {0};                                     \
            memcpy(by, y + i, (n - i) * sizeof(float));                         \
            memcpy(bd, dy + i, (n - i) * sizeof(float));                        \
            vst1q_f32(bd, OP(vld1q_f32(by), vld1q_f32(bd), vp));                \
            memcpy(dx + i, bd, (n - i) * sizeof(float));                        \
        }                                                                       \
    } while (0)

static void nn__identity_fwd__neon(const float *x, float *y, size_t n, float p)
{
    NN__NEON_ACT_FWD_LOOP(nn__identity4__neon, x, y, n, p);
}
static void nn__sigmoid_fwd__neon_rr2_p6_div(const float *x, float *y, size_t n, float p)
{
    NN__NEON_ACT_FWD_LOOP(nn__sigmoid4__neon, x, y, n, p);
}
static void nn__tanh_fwd__neon_p11_rr2_p6_div(const float *x, float *y, size_t n, float p)
{
    NN__NEON_ACT_FWD_LOOP(nn__tanh4__neon, x, y, n, p);
}
static void nn__relu_fwd__neon(const float *x, float *y, size_t n, float p)
{
    NN__NEON_ACT_FWD_LOOP(nn__relu4__neon, x, y, n, p);
}
static void nn__leaky_relu_fwd__neon(const float *x, float *y, size_t n, float p)
{
    NN__NEON_ACT_FWD_LOOP(nn__leaky_relu4__neon, x, y, n, p);
}
static void nn__hardtanh_fwd__neon(const float *x, float *y, size_t n, float p)
{
    NN__NEON_ACT_FWD_LOOP(nn__hardtanh4__neon, x, y, n, p);
}
static void nn__sign_fwd__neon(const float *x, float *y, size_t n, float p)
{
    NN__NEON_ACT_FWD_LOOP(nn__sign4__neon, x, y, n, p);
}
static void nn__identity_bwd__neon(const float *y, const float *dy, float *dx, size_t n, float p)
{
    NN__NEON_ACT_BWD_LOOP(nn__identity_d4__neon, y, dy, dx, n, p);
}
static void nn__sigmoid_bwd__neon(const float *y, const float *dy, float *dx, size_t n, float p)
{
    NN__NEON_ACT_BWD_LOOP(nn__sigmoid_d4__neon, y, dy, dx, n, p);
}
static void nn__tanh_bwd__neon(const float *y, const float *dy, float *dx, size_t n, float p)
{
    NN__NEON_ACT_BWD_LOOP(nn__tanh_d4__neon, y, dy, dx, n, p);
}
static void nn__relu_bwd__neon(const float *y, const float *dy, float *dx, size_t n, float p)
{
    NN__NEON_ACT_BWD_LOOP(nn__relu_d4__neon, y, dy, dx, n, p);
}
static void nn__leaky_relu_bwd__neon(const float *y, const float *dy, float *dx, size_t n, float p)
{
    NN__NEON_ACT_BWD_LOOP(nn__leaky_relu_d4__neon, y, dy, dx, n, p);
}
static void nn__hardtanh_bwd__neon(const float *y, const float *dy, float *dx, size_t n, float p)
{
    NN__NEON_ACT_BWD_LOOP(nn__hardtanh_d4__neon, y, dy, dx, n, p);
}
static void nn__sign_bwd__neon(const float *y, const float *dy, float *dx, size_t n, float p)
{
    NN__NEON_ACT_BWD_LOOP(nn__sign_d4__neon, y, dy, dx, n, p);
}
#undef NN__NEON_ACT_FWD_LOOP
#undef NN__NEON_ACT_BWD_LOOP

/* y[i] = e^x[i] (y may equal x); see nn__exp__avx2_rr2_p6. */
static void nn__exp__neon_rr2_p6(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, nn__exp4__neon_rr2_p6(vld1q_f32(x + i)));
    if (i < n) {
        float buf[4] = {0};
        memcpy(buf, x + i, (n - i) * sizeof(float));
        vst1q_f32(buf, nn__exp4__neon_rr2_p6(vld1q_f32(buf)));
        memcpy(y + i, buf, (n - i) * sizeof(float));
    }
}

/* All-ones in the first `count` lanes (0 <= count <= 4). */
static inline uint32x4_t nn__lanes4__neon(size_t count)
{
    static const int32_t iota[4] = { 0, 1, 2, 3 };
    return vcgtq_s32(vdupq_n_s32((int32_t)count), vld1q_s32(iota));
}

/* Narrow rows (cols < 32, e.g. the 10 classes of an output layer), where the per-row
   vector loops would be mostly tail: y = x - rowmax for every row, then ONE exp pass over
   the whole block in full vectors across row boundaries, then each row's sum (in order)
   and scale. */
static void nn__softmax_narrow__neon_rr2_p6(const float *x, float *y, int rows, int cols)
{
    const size_t n = (size_t)cols;
    size_t j;
    int i;
    for (i = 0; i < rows; i++) {
        const float *xr = x + (size_t)i * n;
        float *yr = y + (size_t)i * n;
        float mx = xr[0];
        for (j = 1; j < n; j++) mx = xr[j] > mx ? xr[j] : mx;
        for (j = 0; j < n; j++) yr[j] = xr[j] - mx;
    }
    nn__exp__neon_rr2_p6(y, y, (size_t)rows * n);
    for (i = 0; i < rows; i++) {
        float *yr = y + (size_t)i * n;
        float sum = 0.0f, inv;
        for (j = 0; j < n; j++) sum += yr[j];
        inv = 1.0f / sum;
        for (j = 0; j < n; j++) yr[j] *= inv;
    }
}

static void nn__softmax_rows__neon_rr2_p6(const float *x, float *y, int rows, int cols)
{
    const size_t n = (size_t)cols;
    int i;
    if (cols < 32) {
        nn__softmax_narrow__neon_rr2_p6(x, y, rows, cols);
        return;
    }
    for (i = 0; i < rows; i++) {
        const float *xr = x + (size_t)i * n;
        float *yr = y + (size_t)i * n;
        float mx = xr[0], inv;
        float32x4_t vmx, vsum = vdupq_n_f32(0.0f), vinv;
        size_t j = 0;
        if (n >= 4) {
            vmx = vld1q_f32(xr);
            for (j = 4; j + 4 <= n; j += 4) vmx = vmaxq_f32(vmx, vld1q_f32(xr + j));
            mx = vmaxvq_f32(vmx);
        }
        for (; j < n; j++) mx = xr[j] > mx ? xr[j] : mx;
        vmx = vdupq_n_f32(mx);
        for (j = 0; j + 4 <= n; j += 4) {
            float32x4_t e = nn__exp4__neon_rr2_p6(vsubq_f32(vld1q_f32(xr + j), vmx));
            vst1q_f32(yr + j, e);
            vsum = vaddq_f32(vsum, e);
        }
        if (j < n) {
            float buf[4] = {0};
            float32x4_t e;
            memcpy(buf, xr + j, (n - j) * sizeof(float));
            e = nn__exp4__neon_rr2_p6(vsubq_f32(vld1q_f32(buf), vmx));
            e = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(e), nn__lanes4__neon(n - j)));
            vst1q_f32(buf, e);
            memcpy(yr + j, buf, (n - j) * sizeof(float));
            vsum = vaddq_f32(vsum, e);
        }
        inv = 1.0f / vaddvq_f32(vsum);
        vinv = vdupq_n_f32(inv);
        for (j = 0; j + 4 <= n; j += 4) vst1q_f32(yr + j, vmulq_f32(vld1q_f32(yr + j), vinv));
        for (; j < n; j++) yr[j] *= inv;
    }
}

static void nn__softmax_bwd_rows__neon(const float *y, const float *dy, float *dx,
                                       int rows, int cols)
{
    const size_t n = (size_t)cols;
    int i;
    for (i = 0; i < rows; i++) {
        const float *yr = y + (size_t)i * n, *dyr = dy + (size_t)i * n;
        float *dxr = dx + (size_t)i * n;
        float32x4_t acc = vdupq_n_f32(0.0f), vdot;
        float dot;
        size_t j = 0;
        for (; j + 4 <= n; j += 4) acc = vfmaq_f32(acc, vld1q_f32(dyr + j), vld1q_f32(yr + j));
        dot = vaddvq_f32(acc);
        for (; j < n; j++) dot += dyr[j] * yr[j];
        vdot = vdupq_n_f32(dot);
        for (j = 0; j + 4 <= n; j += 4)
            vst1q_f32(dxr + j, vmulq_f32(vld1q_f32(yr + j), vsubq_f32(vld1q_f32(dyr + j), vdot)));
        for (; j < n; j++) dxr[j] = yr[j] * (dyr[j] - dot);
    }
}

/* Row-order column sums, bit-identical to the reference (see the AVX2 version). */
static void nn__col_sums__neon(const float *x, int rows, int cols, int ldx, float *out)
{
    const size_t ld = (size_t)ldx;
    int i, j = 0;
    for (; j + 16 <= cols; j += 16) {
        float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
        for (i = 0; i < rows; i++) {
            const float *r = x + (size_t)i * ld + j;
            a0 = vaddq_f32(a0, vld1q_f32(r));
            a1 = vaddq_f32(a1, vld1q_f32(r + 4));
            a2 = vaddq_f32(a2, vld1q_f32(r + 8));
            a3 = vaddq_f32(a3, vld1q_f32(r + 12));
        }
        vst1q_f32(out + j, a0);
        vst1q_f32(out + j + 4, a1);
        vst1q_f32(out + j + 8, a2);
        vst1q_f32(out + j + 12, a3);
    }
    for (; j + 4 <= cols; j += 4) {
        float32x4_t a0 = vdupq_n_f32(0.0f);
        for (i = 0; i < rows; i++) a0 = vaddq_f32(a0, vld1q_f32(x + (size_t)i * ld + j));
        vst1q_f32(out + j, a0);
    }
    for (; j < cols; j++) {
        float s = 0.0f;
        for (i = 0; i < rows; i++) s += x[(size_t)i * ld + j];
        out[j] = s;
    }
}

static void nn__axpy__neon(size_t n, float a, const float *x, float *y)
{
    const float32x4_t va = vdupq_n_f32(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        vst1q_f32(y + i, vfmaq_f32(vld1q_f32(y + i), va, vld1q_f32(x + i)));
        vst1q_f32(y + i + 4, vfmaq_f32(vld1q_f32(y + i + 4), va, vld1q_f32(x + i + 4)));
    }
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_f32(vld1q_f32(y + i), va, vld1q_f32(x + i)));
    if (i < n) {
        float bx[4] = {0}, by[4] = {0};
        memcpy(bx, x + i, (n - i) * sizeof(float));
        memcpy(by, y + i, (n - i) * sizeof(float));
        vst1q_f32(by, vfmaq_f32(vld1q_f32(by), va, vld1q_f32(bx)));
        memcpy(y + i, by, (n - i) * sizeof(float));
    }
}

/* sum x^2 in double: 4 accumulators of 2 doubles over blocks of 8, fixed order. */
static double nn__sumsq__neon(const float *x, size_t n)
{
    float64x2_t a0 = vdupq_n_f64(0.0), a1 = a0, a2 = a0, a3 = a0;
    double s;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t v0 = vld1q_f32(x + i), v1 = vld1q_f32(x + i + 4);
        float64x2_t d0 = vcvt_f64_f32(vget_low_f32(v0)), d1 = vcvt_high_f64_f32(v0);
        float64x2_t d2 = vcvt_f64_f32(vget_low_f32(v1)), d3 = vcvt_high_f64_f32(v1);
        a0 = vfmaq_f64(a0, d0, d0);
        a1 = vfmaq_f64(a1, d1, d1);
        a2 = vfmaq_f64(a2, d2, d2);
        a3 = vfmaq_f64(a3, d3, d3);
    }
    s = vaddvq_f64(vaddq_f64(vaddq_f64(a0, a1), vaddq_f64(a2, a3)));
    for (; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}

static int nn__all_finite__neon(const float *x, size_t n)
{
    const uint32x4_t em = vdupq_n_u32(0x7f800000u);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint32x4_t b0 = vceqq_u32(vandq_u32(vreinterpretq_u32_f32(vld1q_f32(x + i)), em), em);
        uint32x4_t b1 = vceqq_u32(vandq_u32(vreinterpretq_u32_f32(vld1q_f32(x + i + 4)), em), em);
        uint32x4_t b2 = vceqq_u32(vandq_u32(vreinterpretq_u32_f32(vld1q_f32(x + i + 8)), em), em);
        uint32x4_t b3 = vceqq_u32(vandq_u32(vreinterpretq_u32_f32(vld1q_f32(x + i + 12)), em), em);
        if (vmaxvq_u32(vorrq_u32(vorrq_u32(b0, b1), vorrq_u32(b2, b3)))) return 0;
    }
    for (; i + 4 <= n; i += 4)
        if (vmaxvq_u32(vceqq_u32(vandq_u32(vreinterpretq_u32_f32(vld1q_f32(x + i)), em), em))) return 0;
    for (; i < n; i++)
        if (x[i] - x[i] != 0.0f) return 0;
    return 1;
}

typedef struct nn__optk_neon {
    float32x4_t lr, lrwd, mu, b1, omb1, b2, omb2, eps, bc1, bc2;
} nn__optk_neon;

static void nn__optk_init__neon(nn__optk_neon *k, const nn_simd_optim_args *p)
{
    k->lr = vdupq_n_f32(p->lr);
    k->lrwd = vdupq_n_f32(p->lr * p->wd);
    k->mu = vdupq_n_f32(p->mu);
    k->b1 = vdupq_n_f32(p->beta1);
    k->omb1 = vdupq_n_f32(1.0f - p->beta1);
    k->b2 = vdupq_n_f32(p->beta2);
    k->omb2 = vdupq_n_f32(1.0f - p->beta2);
    k->eps = vdupq_n_f32(p->eps);
    k->bc1 = vdupq_n_f32(p->bc1);
    k->bc2 = vdupq_n_f32(p->bc2);
}

static inline void nn__sgd4__neon(const nn__optk_neon *k, float *w, const float *g, float *s1, float *s2)
{
    float32x4_t vw = vld1q_f32(w);
    (void)s1; (void)s2;
    vw = vfmsq_f32(vw, k->lrwd, vw);
    vst1q_f32(w, vfmsq_f32(vw, k->lr, vld1q_f32(g)));
}
static inline void nn__momentum4__neon(const nn__optk_neon *k, float *w, const float *g, float *v, float *s2)
{
    float32x4_t vw = vld1q_f32(w);
    float32x4_t vv = vfmaq_f32(vmulq_f32(k->lr, vld1q_f32(g)), k->mu, vld1q_f32(v));
    (void)s2;
    vw = vfmsq_f32(vw, k->lrwd, vw);
    vst1q_f32(v, vv);
    vst1q_f32(w, vsubq_f32(vw, vv));
}
static inline void nn__nesterov4__neon(const nn__optk_neon *k, float *w, const float *g, float *v, float *s2)
{
    float32x4_t vw = vld1q_f32(w);
    float32x4_t lrg = vmulq_f32(k->lr, vld1q_f32(g));
    float32x4_t vv = vfmaq_f32(lrg, k->mu, vld1q_f32(v));
    (void)s2;
    vw = vfmsq_f32(vw, k->lrwd, vw);
    vst1q_f32(v, vv);
    vst1q_f32(w, vsubq_f32(vw, vfmaq_f32(lrg, k->mu, vv)));
}
static inline void nn__adagrad4__neon(const nn__optk_neon *k, float *w, const float *g, float *s, float *s2)
{
    float32x4_t vw = vld1q_f32(w), vg = vld1q_f32(g);
    float32x4_t vs = vfmaq_f32(vld1q_f32(s), vg, vg);
    (void)s2;
    vw = vfmsq_f32(vw, k->lrwd, vw);
    vst1q_f32(s, vs);
    vst1q_f32(w, vsubq_f32(vw, vdivq_f32(vmulq_f32(k->lr, vg), vaddq_f32(vsqrtq_f32(vs), k->eps))));
}
static inline void nn__rmsprop4__neon(const nn__optk_neon *k, float *w, const float *g, float *s, float *s2)
{
    float32x4_t vw = vld1q_f32(w), vg = vld1q_f32(g);
    float32x4_t vs = vfmaq_f32(vmulq_f32(vmulq_f32(k->omb2, vg), vg), k->b2, vld1q_f32(s));
    (void)s2;
    vw = vfmsq_f32(vw, k->lrwd, vw);
    vst1q_f32(s, vs);
    vst1q_f32(w, vsubq_f32(vw, vdivq_f32(vmulq_f32(k->lr, vg), vaddq_f32(vsqrtq_f32(vs), k->eps))));
}
static inline void nn__adam4__neon(const nn__optk_neon *k, float *w, const float *g, float *m, float *v)
{
    float32x4_t vw = vld1q_f32(w), vg = vld1q_f32(g);
    float32x4_t vm = vfmaq_f32(vmulq_f32(k->omb1, vg), k->b1, vld1q_f32(m));
    float32x4_t vv = vfmaq_f32(vmulq_f32(vmulq_f32(k->omb2, vg), vg), k->b2, vld1q_f32(v));
    float32x4_t num = vmulq_f32(k->lr, vmulq_f32(vm, k->bc1));
    float32x4_t den = vaddq_f32(vsqrtq_f32(vmulq_f32(vv, k->bc2)), k->eps);
    vw = vfmsq_f32(vw, k->lrwd, vw);
    vst1q_f32(m, vm);
    vst1q_f32(v, vv);
    vst1q_f32(w, vsubq_f32(vw, vdivq_f32(num, den)));
}

static inline void nn__adadelta4__neon(const nn__optk_neon *k, float *w, const float *g, float *s, float *d)
{
    float32x4_t vw = vld1q_f32(w), vg = vld1q_f32(g), vd = vld1q_f32(d);
    float32x4_t vs = vfmaq_f32(vmulq_f32(vmulq_f32(k->omb2, vg), vg), k->b2, vld1q_f32(s));
    float32x4_t u = vmulq_f32(vdivq_f32(vsqrtq_f32(vaddq_f32(vd, k->eps)),
                                        vsqrtq_f32(vaddq_f32(vs, k->eps))), vg);
    vd = vfmaq_f32(vmulq_f32(vmulq_f32(k->omb2, u), u), k->b2, vd);
    vw = vfmsq_f32(vw, k->lrwd, vw);
    vst1q_f32(s, vs);
    vst1q_f32(d, vd);
    vst1q_f32(w, vfmsq_f32(vw, k->lr, u));
}

static void nn__sgd__neon(const nn_simd_optim_args *p, float *w, const float *g,
                          float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_neon, nn__optk_init__neon, nn__sgd4__neon, 4,
                   p, w, g, s1, s2, n);
}
static void nn__momentum__neon(const nn_simd_optim_args *p, float *w, const float *g,
                               float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_neon, nn__optk_init__neon, nn__momentum4__neon, 4,
                   p, w, g, s1, s2, n);
}
static void nn__nesterov__neon(const nn_simd_optim_args *p, float *w, const float *g,
                               float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_neon, nn__optk_init__neon, nn__nesterov4__neon, 4,
                   p, w, g, s1, s2, n);
}
static void nn__adagrad__neon(const nn_simd_optim_args *p, float *w, const float *g,
                              float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_neon, nn__optk_init__neon, nn__adagrad4__neon, 4,
                   p, w, g, s1, s2, n);
}
static void nn__rmsprop__neon(const nn_simd_optim_args *p, float *w, const float *g,
                              float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_neon, nn__optk_init__neon, nn__rmsprop4__neon, 4,
                   p, w, g, s1, s2, n);
}
static void nn__adam__neon(const nn_simd_optim_args *p, float *w, const float *g,
                           float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_neon, nn__optk_init__neon, nn__adam4__neon, 4,
                   p, w, g, s1, s2, n);
}

static void nn__adadelta__neon(const nn_simd_optim_args *p, float *w, const float *g,
                               float *s1, float *s2, size_t n)
{
    NN__OPTIM_LOOP(nn__optk_neon, nn__optk_init__neon, nn__adadelta4__neon, 4,
                   p, w, g, s1, s2, n);
}

static void nn__backend_init_neon_vec(nn__backend *b)
{
    b->act_fwd[NN_ACT_DEFAULT] = nn__identity_fwd__neon;
    b->act_bwd[NN_ACT_DEFAULT] = nn__identity_bwd__neon;
    b->act_fwd[NN_ACT_IDENTITY] = nn__identity_fwd__neon;
    b->act_bwd[NN_ACT_IDENTITY] = nn__identity_bwd__neon;
    b->act_fwd[NN_ACT_SIGMOID] = nn__sigmoid_fwd__neon_rr2_p6_div;
    b->act_bwd[NN_ACT_SIGMOID] = nn__sigmoid_bwd__neon;
    b->act_fwd[NN_ACT_TANH] = nn__tanh_fwd__neon_p11_rr2_p6_div;
    b->act_bwd[NN_ACT_TANH] = nn__tanh_bwd__neon;
    b->act_fwd[NN_ACT_RELU] = nn__relu_fwd__neon;
    b->act_bwd[NN_ACT_RELU] = nn__relu_bwd__neon;
    b->act_fwd[NN_ACT_LEAKY_RELU] = nn__leaky_relu_fwd__neon;
    b->act_bwd[NN_ACT_LEAKY_RELU] = nn__leaky_relu_bwd__neon;
    b->act_fwd[NN_ACT_HARDTANH] = nn__hardtanh_fwd__neon;
    b->act_bwd[NN_ACT_HARDTANH] = nn__hardtanh_bwd__neon;
    b->act_fwd[NN_ACT_SIGN] = nn__sign_fwd__neon;
    b->act_bwd[NN_ACT_SIGN] = nn__sign_bwd__neon;
    b->softmax_rows = nn__softmax_rows__neon_rr2_p6;
    b->softmax_bwd_rows = nn__softmax_bwd_rows__neon;
    b->col_sums = nn__col_sums__neon;
    b->axpy = nn__axpy__neon;
    b->sumsq = nn__sumsq__neon;
    b->all_finite = nn__all_finite__neon;
    b->optim[NN_SIMD_OPTIM_SGD] = nn__sgd__neon;
    b->optim[NN_SIMD_OPTIM_MOMENTUM] = nn__momentum__neon;
    b->optim[NN_SIMD_OPTIM_NESTEROV] = nn__nesterov__neon;
    b->optim[NN_SIMD_OPTIM_ADAGRAD] = nn__adagrad__neon;
    b->optim[NN_SIMD_OPTIM_RMSPROP] = nn__rmsprop__neon;
    b->optim[NN_SIMD_OPTIM_ADAM] = nn__adam__neon;
    b->optim[NN_SIMD_OPTIM_ADADELTA] = nn__adadelta__neon;
}

/* >>neon_gemm --------------------------------------------------------------- */

/* nn__sgemm_body__neon - the NEON micro-kernel (contract: nn__ukr_fn), same driver as
   AVX2 (>>gemm_driver); its instance nn__sgemm_8x12__neon follows it.

     C[m x n] := alpha * A_panel * B_panel + beta * C[m x n]      m <= 8, n <= 12

   Register map (32 q registers): acc<i>x0/x4/x8 = 24 accumulators (rows 0..7, 12
   columns as 3 x float32x4), b0..b2 = one row of B, va0/va1 = 8 floats of A (packed A:
   one vld1q pair per k step, then FMA by lane); 29 live. A read in place as rows uses
   scalar broadcasts (vfmaq_n_f32). Edge tiles go through a stack tile; beta == 0 never reads C. */
static NN__INLINE void nn__sgemm_body__neon(const int packed, int k, const float *a,
                                            ptrdiff_t rsa, ptrdiff_t csa, const float *b,
                                            ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                                            float alpha, float beta, int m, int n)
{
    float32x4_t acc0x0 = vdupq_n_f32(0), acc0x4 = acc0x0, acc0x8 = acc0x0;
    float32x4_t acc1x0 = acc0x0, acc1x4 = acc0x0, acc1x8 = acc0x0;
    float32x4_t acc2x0 = acc0x0, acc2x4 = acc0x0, acc2x8 = acc0x0;
    float32x4_t acc3x0 = acc0x0, acc3x4 = acc0x0, acc3x8 = acc0x0;
    float32x4_t acc4x0 = acc0x0, acc4x4 = acc0x0, acc4x8 = acc0x0;
    float32x4_t acc5x0 = acc0x0, acc5x4 = acc0x0, acc5x8 = acc0x0;
    float32x4_t acc6x0 = acc0x0, acc6x4 = acc0x0, acc6x8 = acc0x0;
    float32x4_t acc7x0 = acc0x0, acc7x4 = acc0x0, acc7x8 = acc0x0;
    int p;
#define NN__NEON_ROW(i, s)                                                \
    acc##i##x0 = vfmaq_n_f32(acc##i##x0, b0, s);                          \
    acc##i##x4 = vfmaq_n_f32(acc##i##x4, b1, s);                          \
    acc##i##x8 = vfmaq_n_f32(acc##i##x8, b2, s)
#define NN__NEON_ROWL(i, v, l)                                            \
    acc##i##x0 = vfmaq_laneq_f32(acc##i##x0, b0, v, l);                   \
    acc##i##x4 = vfmaq_laneq_f32(acc##i##x4, b1, v, l);                   \
    acc##i##x8 = vfmaq_laneq_f32(acc##i##x8, b2, v, l)
    for (p = 0; p < k; p++) {
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
        if (packed) {
            const float32x4_t va0 = vld1q_f32(a), va1 = vld1q_f32(a + 4);
            NN__NEON_ROWL(0, va0, 0); NN__NEON_ROWL(1, va0, 1);
            NN__NEON_ROWL(2, va0, 2); NN__NEON_ROWL(3, va0, 3);
            NN__NEON_ROWL(4, va1, 0); NN__NEON_ROWL(5, va1, 1);
            NN__NEON_ROWL(6, va1, 2); NN__NEON_ROWL(7, va1, 3);
        } else {
            NN__NEON_ROW(0, a[0]);       NN__NEON_ROW(1, a[rsa]);
            NN__NEON_ROW(2, a[2 * rsa]); NN__NEON_ROW(3, a[3 * rsa]);
            NN__NEON_ROW(4, a[4 * rsa]); NN__NEON_ROW(5, a[5 * rsa]);
            NN__NEON_ROW(6, a[6 * rsa]); NN__NEON_ROW(7, a[7 * rsa]);
        }
        a += csa;
        b += ldb;
    }
#undef NN__NEON_ROW
#undef NN__NEON_ROWL
    {
        float ct[8 * 12];
        const int full = m == 8 && n == 12;
        float *t = full ? c : ct;
        ptrdiff_t ldt = full ? ldc : 12;
        int i, j;
        const float32x4_t va = vdupq_n_f32(alpha), vb = vdupq_n_f32(beta);
#define NN__NEON_STORE(i)                                                                  \
    do {                                                                                   \
        float *ti = t + (i) * ldt;                                                         \
        float32x4_t v0 = vmulq_f32(va, acc##i##x0), v1 = vmulq_f32(va, acc##i##x4);        \
        float32x4_t v2 = vmulq_f32(va, acc##i##x8);                                        \
        if (full && beta != 0.0f) {                                                        \
            v0 = vfmaq_f32(v0, vb, vld1q_f32(ti));                                         \
            v1 = vfmaq_f32(v1, vb, vld1q_f32(ti + 4));                                     \
            v2 = vfmaq_f32(v2, vb, vld1q_f32(ti + 8));                                     \
        }                                                                                  \
        vst1q_f32(ti, v0); vst1q_f32(ti + 4, v1); vst1q_f32(ti + 8, v2);                   \
    } while (0)
        NN__NEON_STORE(0); NN__NEON_STORE(1); NN__NEON_STORE(2); NN__NEON_STORE(3);
        NN__NEON_STORE(4); NN__NEON_STORE(5); NN__NEON_STORE(6); NN__NEON_STORE(7);
#undef NN__NEON_STORE
        if (!full) {
            for (i = 0; i < m; i++) {
                float *ci = c + i * ldc;
                const float *ti = ct + i * 12;
                if (beta == 0.0f)
                    for (j = 0; j < n; j++) ci[j] = ti[j];
                else
                    for (j = 0; j < n; j++) ci[j] = ti[j] + beta * ci[j];
            }
        }
    }
}

/* The instance (strides and ldb at run time): the 8 floats of A of a k step are one
   vld1q pair whenever they are contiguous (rsa == 1: packed, or columns in place). */
static NN__NOINLINE void nn__sgemm_8x12__neon(
    int k, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, float alpha, float beta, int m, int n)
{
    if (rsa == 1)
        nn__sgemm_body__neon(1, k, a, 1, csa, b, ldb, c, ldc, alpha, beta, m, n);
    else
        nn__sgemm_body__neon(0, k, a, rsa, csa, b, ldb, c, ldc, alpha, beta, m, n);
}

static nn__act_fwd_fn nn__neon_gemm_act[NN_ACT_COUNT];
static nn__softmax_fn nn__neon_gemm_softmax;

/* nn__gemm_cfg.bias_relu: 4 floats at a time, the row's last n % 4 one by one. */
static void nn__gemm_bias_relu__neon(float *C, int ldc, int m, int n, const float *bias,
                                     int relu)
{
    int i, j;
    for (i = 0; i < m; i++) {
        float *c = C + (size_t)i * ldc;
        for (j = 0; j + 4 <= n; j += 4) {
            float32x4_t v = vld1q_f32(c + j);
            if (bias) v = vaddq_f32(v, vld1q_f32(bias + j));
            if (relu) v = nn__relu4__neon(v, v);
            vst1q_f32(c + j, v);
        }
        for (; j < n; j++) {
            float z = bias ? c[j] + bias[j] : c[j];
            c[j] = relu ? nn__act1(NN_ACT_RELU, z, 0.0f) : z;
        }
    }
}

/* Block sizes: KC x NR x 4 B = 12 KiB B panel for a 32-64 KiB L1; MC x KC = 128 KiB
   A block for a >= 256 KiB L2 (typical Cortex-A7x / Neoverse); not tuned on hardware
   (this project only runs NEON under qemu).
   The packed path's one geometry (positional: nn__gemm_cfg's field order). */
static const nn__gemm_cfg nn__neon_gemm_cfg_8x12 = {
    8, 12,                                      /* mr, nr */
    128, 256, 4080,                             /* mc, kc, nc */
    nn__sgemm_8x12__neon,                       /* ukr */
    NULL,                                       /* ukr_pf: none */
    NULL, NULL, NULL, NULL,                     /* pack_a_rows .. pack_a_cols: the generic loops */
    nn__neon_gemm_act,                          /* act */
    &nn__neon_gemm_softmax,                     /* softmax */
    nn__gemm_bias_relu__neon,                   /* bias_relu */
    0,                                          /* a_outer: B panel outer */
    1.0                                         /* par_scale */
};

/* NEON has only the blocked path (no unpacked kernels), so no thresholds. */
static nn__gemm_path nn__gemm_plan__neon(int transa, int transb, int m, int n, int k)
{
    nn__gemm_path p;
    (void)transa; (void)transb; (void)m; (void)n; (void)k;
    p.kind = NN__GEMM_PATH_BLOCKED;
    p.cfg = &nn__neon_gemm_cfg_8x12;
    return p;
}

/* Runs path p (every p.kind runs BLOCKED here). */
static void nn__gemm_run__neon(nn__gemm_path p, int transa, int transb, int m, int n, int k,
                               float alpha, const float *A, int lda, const float *B, int ldb,
                               float beta, float *C, int ldc, const float *bias, nn_act act,
                               float act_param, nn__gemm_ws *ws)
{
    if (!nn__gemm_blocked(p.cfg, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C,
                          ldc, bias, act, act_param, ws))
        nn__gemm__scalar(transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, bias,
                         act, act_param, NULL);
}

static void nn__gemm__neon(int transa, int transb, int m, int n, int k, float alpha,
                           const float *A, int lda, const float *B, int ldb, float beta,
                           float *C, int ldc, const float *bias, nn_act act, float act_param,
                           nn__gemm_ws *ws)
{
    nn__gemm_run__neon(nn__gemm_plan__neon(transa, transb, m, n, k), transa, transb, m, n, k,
                       alpha, A, lda, B, ldb, beta, C, ldc, bias, act, act_param, ws);
}

static void nn__backend_init_neon_gemm(nn__backend *b)
{
    int i;
    for (i = 0; i < (int)NN_ACT_COUNT; i++) nn__neon_gemm_act[i] = b->act_fwd[i];
    nn__neon_gemm_softmax = b->softmax_rows;
    b->gemm = nn__gemm__neon;
}
#endif /* NN__HAS_NEON */

/* >>dispatch ---------------------------------------------------------------- */
static nn__backend nn__backend_scalar_tbl;
#if NN__HAS_AVX512
static nn__backend nn__backend_avx512_tbl;
#endif
#if NN__HAS_AVX2
static nn__backend nn__backend_avx2_tbl;
#endif
#if NN__HAS_NEON
static nn__backend nn__backend_neon_tbl;
#endif
static const nn__backend *nn__active;

/* Feature-based, never model-based. __builtin_cpu_supports checks CPUID and that the OS
   saves the ymm state (XGETBV), so AVX2 is only reported where it can run. */
static int nn__cpu_has(nn_simd_backend b)
{
    switch (b) {
    case NN_SIMD_BACKEND_SCALAR: return 1;
#if NN__HAS_AVX2
    case NN_SIMD_BACKEND_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
#if NN__HAS_AVX512
    case NN_SIMD_BACKEND_AVX512: /* (the check includes XGETBV's opmask and zmm state) */
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
#endif
#if NN__HAS_NEON
    case NN_SIMD_BACKEND_NEON: return 1;
#endif
    default: return 0;
    }
}

/* Builds the tables on first use: scalar everywhere, then each ISA's overrides. */
static const nn__backend *nn__backend_table(nn_simd_backend b)
{
    if (!nn__backend_scalar_tbl.name) {
        nn__backend t;
        nn__backend_init_scalar(&t);
        nn__backend_scalar_tbl = t;
    }
    switch (b) {
    case NN_SIMD_BACKEND_SCALAR: return &nn__backend_scalar_tbl;
#if NN__HAS_AVX2
    case NN_SIMD_BACKEND_AVX2:
        if (!nn__backend_avx2_tbl.name) {
            nn__backend t;
            nn__backend_init_scalar(&t);
            nn__backend_init_avx2_vec(&t);
            nn__backend_init_avx2_gemm(&t);
            t.name = "avx2";
            t.id = NN_SIMD_BACKEND_AVX2;
            nn__backend_avx2_tbl = t;
        }
        return &nn__backend_avx2_tbl;
#endif
#if NN__HAS_AVX512
    case NN_SIMD_BACKEND_AVX512:
        if (!nn__backend_avx512_tbl.name) {
            nn__backend t;
            nn__backend_init_scalar(&t);
            nn__backend_init_avx2_vec(&t);
            nn__backend_init_avx2_gemm(&t);
            nn__backend_init_avx512_gemm(&t);
            t.name = "avx512";
            t.id = NN_SIMD_BACKEND_AVX512;
            nn__backend_avx512_tbl = t;
        }
        return &nn__backend_avx512_tbl;
#endif
#if NN__HAS_NEON
    case NN_SIMD_BACKEND_NEON:
        if (!nn__backend_neon_tbl.name) {
            nn__backend t;
            nn__backend_init_scalar(&t);
            nn__backend_init_neon_vec(&t);
            nn__backend_init_neon_gemm(&t);
            t.name = "neon";
            t.id = NN_SIMD_BACKEND_NEON;
            nn__backend_neon_tbl = t;
        }
        return &nn__backend_neon_tbl;
#endif
    default: return NULL;
    }
}

static nn_simd_backend nn__best_backend(void)
{
    if (nn__cpu_has(NN_SIMD_BACKEND_AVX512)) return NN_SIMD_BACKEND_AVX512;
    if (nn__cpu_has(NN_SIMD_BACKEND_AVX2)) return NN_SIMD_BACKEND_AVX2;
    if (nn__cpu_has(NN_SIMD_BACKEND_NEON)) return NN_SIMD_BACKEND_NEON;
    return NN_SIMD_BACKEND_SCALAR;
}

static int nn__streq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static nn_simd_backend nn__backend_from_name(const char *s)
{
    if (nn__streq(s, "auto")) return NN_SIMD_BACKEND_AUTO;
    if (nn__streq(s, "scalar")) return NN_SIMD_BACKEND_SCALAR;
    if (nn__streq(s, "avx2")) return NN_SIMD_BACKEND_AVX2;
    if (nn__streq(s, "neon")) return NN_SIMD_BACKEND_NEON;
    if (nn__streq(s, "avx512")) return NN_SIMD_BACKEND_AVX512;
    return NN_SIMD_BACKEND_COUNT;
}

/* >>public ------------------------------------------------------------------ */
NN_SIMD_DEF const char *nn_status_str(nn_status s)
{
    static const char *const text[] = {
#define NN__STATUS_TEXT(name, text) text,
        NN__STATUS_LIST(NN__STATUS_TEXT)
#undef NN__STATUS_TEXT
    };
    if ((int)s < 0 || (int)s >= (int)NN_STATUS_COUNT) return "unknown status";
    return text[s];
}

NN_SIMD_DEF const char *nn_act_name(nn_act a)
{
    static const char *const names[NN_ACT_COUNT] = {
        "default", "identity", "sigmoid", "tanh", "relu", "leaky_relu", "hardtanh", "sign", "softmax"
    };
    if ((int)a < 0 || (int)a >= (int)NN_ACT_COUNT) return "?";
    return names[a];
}

NN_SIMD_DEF const char *nn_simd_backend_str(nn_simd_backend b)
{
    switch (b) {
    case NN_SIMD_BACKEND_AUTO: return "auto";
    case NN_SIMD_BACKEND_SCALAR: return "scalar";
    case NN_SIMD_BACKEND_AVX2: return "avx2";
    case NN_SIMD_BACKEND_NEON: return "neon";
    case NN_SIMD_BACKEND_AVX512: return "avx512";
    default: return "?";
    }
}

NN_SIMD_DEF void nn_simd_set_threads(int n)
{
    nn__threads_req = n > 0 ? n : 0;
}

NN_SIMD_DEF int nn_simd_get_threads(void)
{
#ifdef _OPENMP
    return nn__threads_req > 0 ? nn__threads_req : omp_get_max_threads();
#else
    return 1;
#endif
}

NN_SIMD_DEF int nn_simd_backend_available(nn_simd_backend b)
{
    if (b == NN_SIMD_BACKEND_AUTO) return 1;
    return nn__cpu_has(b) && nn__backend_table(b) != NULL;
}

NN_SIMD_DEF nn_status nn_simd_set_backend(nn_simd_backend b)
{
    const nn__backend *t;
    if ((int)b < 0 || b >= NN_SIMD_BACKEND_COUNT) return NN_ERR_BACKEND;
    if (b == NN_SIMD_BACKEND_AUTO) b = nn__best_backend();
    if (!nn_simd_backend_available(b)) return NN_ERR_BACKEND;
    t = nn__backend_table(b);
    if (!t) return NN_ERR_BACKEND;
    nn__active = t;
    return NN_OK;
}

NN_SIMD_DEF nn_status nn_simd_set_backend_name(const char *name)
{
    if (!name) return NN_ERR_INVALID;
    return nn_simd_set_backend(nn__backend_from_name(name));
}

NN_SIMD_DEF nn_status nn_simd_init(void)
{
    const char *env;
    nn_simd_backend b;
    if (nn__active) return NN_OK;
    env = getenv("NN_BACKEND");
    if (env && *env) {
        b = nn__backend_from_name(env);
        if (b == NN_SIMD_BACKEND_COUNT) return NN_ERR_BACKEND;
        if (b == NN_SIMD_BACKEND_AUTO) b = nn__best_backend();
        if (!nn_simd_backend_available(b)) return NN_ERR_BACKEND;
    } else {
        b = nn__best_backend();
    }
    nn__active = nn__backend_table(b);
    return nn__active ? NN_OK : NN_ERR_BACKEND;
}

/* The active table, initializing on first use. NULL only if NN_BACKEND is bad. */
static const nn__backend *nn__be(void)
{
    if (!nn__active && nn_simd_init() != NN_OK) return NULL;
    return nn__active;
}

NN_SIMD_DEF nn_simd_backend nn_simd_backend_active(void)
{
    const nn__backend *b = nn__be();
    return b ? b->id : NN_SIMD_BACKEND_AUTO;
}

NN_SIMD_DEF const char *nn_simd_backend_name(void)
{
    const nn__backend *b = nn__be();
    return b ? b->name : "none (bad NN_BACKEND)";
}

static int nn__act_valid(nn_act a)
{
    return (int)a >= 0 && (int)a < (int)NN_ACT_COUNT;
}

NN_SIMD_DEF nn_status nn_simd_gemm_ex(int transa, int transb, int m, int n, int k,
                                      float alpha, const float *A, int lda,
                                      const float *B, int ldb, float beta,
                                      float *C, int ldc,
                                      const float *bias, nn_act act, float act_param)
{
    const nn__backend *be = nn__be();
    if (!be) return NN_ERR_BACKEND;
    if (m < 0 || n < 0 || k < 0 || !nn__act_valid(act)) return NN_ERR_INVALID;
    if (m == 0 || n == 0) return NN_OK;
    if (!C || ldc < n) return NN_ERR_INVALID;
    if (k > 0) {
        if (!A || !B) return NN_ERR_INVALID;
        if (lda < (transa ? m : k) || ldb < (transb ? k : n)) return NN_ERR_INVALID;
    }
    be->gemm(transa != 0, transb != 0, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
             bias, act, act_param, NULL);
    return NN_OK;
}

NN_SIMD_DEF nn_status nn_simd_gemm(int transa, int transb, int m, int n, int k,
                                   float alpha, const float *A, int lda,
                                   const float *B, int ldb, float beta,
                                   float *C, int ldc)
{
    return nn_simd_gemm_ex(transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
                           NULL, NN_ACT_IDENTITY, 0.0f);
}

NN_SIMD_DEF nn_status nn_simd_act_forward(nn_act act, float param, const float *x,
                                          float *y, size_t n)
{
    const nn__backend *be = nn__be();
    if (!be) return NN_ERR_BACKEND;
    if (!nn__act_valid(act) || act == NN_ACT_SOFTMAX) return NN_ERR_INVALID;
    if (n == 0) return NN_OK;
    if (!x || !y) return NN_ERR_INVALID;
    nn__par_act_fwd(be, act, x, y, n, param);
    return NN_OK;
}

NN_SIMD_DEF nn_status nn_simd_act_backward(nn_act act, float param, const float *y,
                                           const float *dy, float *dx, size_t n)
{
    const nn__backend *be = nn__be();
    if (!be) return NN_ERR_BACKEND;
    if (!nn__act_valid(act) || act == NN_ACT_SOFTMAX) return NN_ERR_INVALID;
    if (n == 0) return NN_OK;
    if (!y || !dy || !dx) return NN_ERR_INVALID;
    nn__par_act_bwd(be, act, y, dy, dx, n, param);
    return NN_OK;
}

NN_SIMD_DEF nn_status nn_simd_softmax_rows(const float *x, float *y, int rows, int cols)
{
    const nn__backend *be = nn__be();
    if (!be) return NN_ERR_BACKEND;
    if (rows < 0 || cols < 0) return NN_ERR_INVALID;
    if (rows == 0 || cols == 0) return NN_OK;
    if (!x || !y) return NN_ERR_INVALID;
    nn__par_softmax(be, x, y, rows, cols);
    return NN_OK;
}

NN_SIMD_DEF nn_status nn_simd_softmax_backward_rows(const float *y, const float *dy,
                                                    float *dx, int rows, int cols)
{
    const nn__backend *be = nn__be();
    if (!be) return NN_ERR_BACKEND;
    if (rows < 0 || cols < 0) return NN_ERR_INVALID;
    if (rows == 0 || cols == 0) return NN_OK;
    if (!y || !dy || !dx) return NN_ERR_INVALID;
    nn__par_softmax_bwd(be, y, dy, dx, rows, cols);
    return NN_OK;
}

NN_SIMD_DEF nn_status nn_simd_col_sums(const float *x, int rows, int cols, int ldx,
                                       float *out)
{
    const nn__backend *be = nn__be();
    if (!be) return NN_ERR_BACKEND;
    if (rows < 0 || cols < 0 || ldx < cols) return NN_ERR_INVALID;
    if (cols == 0) return NN_OK;
    if (!out || (rows > 0 && !x)) return NN_ERR_INVALID;
    nn__par_col_sums(be, x, rows, cols, ldx, out);
    return NN_OK;
}

NN_SIMD_DEF nn_status nn_simd_axpy(size_t n, float a, const float *x, float *y)
{
    const nn__backend *be = nn__be();
    if (!be) return NN_ERR_BACKEND;
    if (n == 0) return NN_OK;
    if (!x || !y) return NN_ERR_INVALID;
    nn__par_axpy(be, n, a, x, y);
    return NN_OK;
}

NN_SIMD_DEF double nn_simd_sumsq(const float *x, size_t n)
{
    const nn__backend *be = nn__be();
    if (!x || n == 0) return 0.0;
    return be ? be->sumsq(x, n) : nn__sumsq__scalar(x, n);
}

NN_SIMD_DEF int nn_simd_all_finite(const float *x, size_t n)
{
    const nn__backend *be = nn__be();
    if (!x || n == 0) return 1;
    return be ? nn__par_all_finite(be, x, n) : nn__all_finite__scalar(x, n);
}

NN_SIMD_DEF nn_status nn_simd_optim_update(nn_simd_optim kind, const nn_simd_optim_args *args,
                                           float *w, const float *g, float *s1, float *s2,
                                           size_t n)
{
    const nn__backend *be = nn__be();
    if (!be) return NN_ERR_BACKEND;
    if ((int)kind < 0 || kind >= NN_SIMD_OPTIM_COUNT || !args) return NN_ERR_INVALID;
    if (n == 0) return NN_OK;
    if (!w || !g) return NN_ERR_INVALID;
    if (kind != NN_SIMD_OPTIM_SGD && !s1) return NN_ERR_INVALID;
    if ((kind == NN_SIMD_OPTIM_ADAM || kind == NN_SIMD_OPTIM_ADADELTA) && !s2) return NN_ERR_INVALID;
    nn__par_optim(be, (int)kind, args, w, g, s1, s2, n);
    return NN_OK;
}

/* Aligned allocation on top of NN_MALLOC: over-allocate, align, and keep the original
   pointer just below the returned block. */
static void *nn__malloc_aligned(size_t size, size_t align)
{
    unsigned char *raw, *p;
    if (size > (size_t)-1 - align - sizeof(void *)) return NULL;
    raw = (unsigned char *)NN_MALLOC(size + align + sizeof(void *));
    if (!raw) return NULL;
    p = raw + sizeof(void *);
    p += (align - ((uintptr_t)p & (align - 1))) & (align - 1);
    memcpy(p - sizeof(void *), &raw, sizeof(void *));
    return p;
}

static void nn__free_aligned(void *p)
{
    void *raw;
    if (!p) return;
    memcpy(&raw, (unsigned char *)p - sizeof(void *), sizeof(void *));
    NN_FREE(raw);
}

NN_SIMD_DEF void *nn_simd_alloc(const nn_allocator *a, size_t size)
{
    if (size == 0) size = 1;
    if (a && a->alloc_fn) return a->alloc_fn(size, NN__ALIGN, a->user);
    return nn__malloc_aligned(size, NN__ALIGN);
}

NN_SIMD_DEF void nn_simd_free(const nn_allocator *a, void *p)
{
    if (!p) return;
    if (a && a->free_fn) a->free_fn(p, a->user);
    else nn__free_aligned(p);
}

#endif /* NN_SIMD_IMPLEMENTATION */

/*
MIT License

Copyright (c) 2026 the nn.h authors

Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify, merge,
publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
DEALINGS IN THE SOFTWARE.
*/
