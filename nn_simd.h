/* nn_simd.h - v0.1 - CPU kernels for nn.h: GEMM, activations, softmax, reductions,
   optimizer updates. Backends: scalar (the reference), AVX2+FMA, NEON.

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
      NN_SIMD_NO_AVX2             leave the AVX2+FMA backend out of an x86-64 build.
      NN_SIMD_NO_NEON             leave the NEON backend out of an aarch64 build.
      NN_SIMD_NO_SIMD             both of the above: scalar only.

   BACKENDS
      All kernels are reached through one table, chosen once (the library's only
      global state):
        1. nn_simd_set_backend() if the program called it;
        2. else the environment variable NN_BACKEND=scalar|avx2|neon; an unknown or
           unavailable name makes nn_simd_init() (and so nn_net_create) fail with
           NN_ERR_BACKEND: there is no silent fallback;
        3. else the best the CPU has: AVX2+FMA on x86-64 (detected at run time, so a
           plain -O2 build without -march uses it), NEON on aarch64, scalar otherwise.
      nn_simd_backend_name() tells which one is active.

   NUMERICS
      float32 throughout, row-major. The scalar backend is the reference: plain loops
      in a fixed order, no tricks. SIMD backends may use FMA and other summation orders;
      the tests bound their difference from a double-precision oracle.

   LICENSE  MIT (see end of file).
*/
#ifndef NN_SIMD_H_INCLUDED
#define NN_SIMD_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifndef NN_SIMD_DEF
#  ifdef NN_STATIC
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
    X(ERR_FORMAT,    "data is not in the expected format")

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
/* Same, by name: "auto", "scalar", "avx2", "neon". */
NN_SIMD_DEF nn_status nn_simd_set_backend_name(const char *name);
NN_SIMD_DEF int nn_simd_backend_available(nn_simd_backend b);
NN_SIMD_DEF nn_simd_backend nn_simd_backend_active(void);
NN_SIMD_DEF const char *nn_simd_backend_name(void);     /* of the active backend */
NN_SIMD_DEF const char *nn_simd_backend_str(nn_simd_backend b);

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
    float beta2;    /* Adam second-moment decay; RMSProp decay rho */
    float eps;      /* added to the square root in Adagrad/RMSProp/Adam */
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
    NN_SIMD_OPTIM_COUNT
} nn_simd_optim;

/* s1, s2: state buffers (s1 for momentum/Adagrad/RMSProp/Adam m, s2 for Adam v);
   unused ones may be NULL. */
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

/* Signatures shared by every backend's kernels. */
typedef void (*nn__gemm_fn)(int transa, int transb, int m, int n, int k, float alpha,
                            const float *A, int lda, const float *B, int ldb, float beta,
                            float *C, int ldc, const float *bias, nn_act act, float act_param);
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

#define NN__SCALAR_ACT(lname, ID)                                                     \
    static void nn__##lname##_fwd__scalar(const float *x, float *y, size_t n, float p) \
    {                                                                                 \
        size_t i;                                                                     \
        for (i = 0; i < n; i++) y[i] = nn__act1(ID, x[i], p);                         \
    }                                                                                 \
    static void nn__##lname##_bwd__scalar(const float *y, const float *dy, float *dx, \
                                          size_t n, float p)                          \
    {                                                                                 \
        size_t i;                                                                     \
        for (i = 0; i < n; i++) dx[i] = dy[i] * nn__dact1(ID, y[i], p);               \
    }
NN__SCALAR_ACT(identity, NN_ACT_IDENTITY)
NN__SCALAR_ACT(sigmoid, NN_ACT_SIGMOID)
NN__SCALAR_ACT(tanh, NN_ACT_TANH)
NN__SCALAR_ACT(relu, NN_ACT_RELU)
NN__SCALAR_ACT(leaky_relu, NN_ACT_LEAKY_RELU)
NN__SCALAR_ACT(hardtanh, NN_ACT_HARDTANH)
NN__SCALAR_ACT(sign, NN_ACT_SIGN)
#undef NN__SCALAR_ACT

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
                             float *C, int ldc, const float *bias, nn_act act, float act_param)
{
    int i, j, p;
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
}

/* >>avx2 -------------------------------------------------------------------- */
/* Everything between NN__AVX2_BEGIN and NN__AVX2_END is compiled for AVX2+FMA whatever
   the command-line flags, and is only ever reached through the backend table after the
   CPU was checked, so a plain -O2 build runs AVX2 where it exists and nothing breaks
   where it does not. */
#if NN__HAS_AVX2
#  include <immintrin.h>
#  if defined(__clang__)
#    define NN__AVX2_BEGIN _Pragma("clang attribute push(__attribute__((target(\"avx2,fma\"))), apply_to=function)")
#    define NN__AVX2_END   _Pragma("clang attribute pop")
#  else
#    define NN__AVX2_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma\")")
#    define NN__AVX2_END   _Pragma("GCC pop_options")
#  endif

NN__AVX2_BEGIN

/* >>avx2_vec: element-wise, softmax, reduction and optimizer kernels ------- */

static void nn__backend_init_avx2_vec(nn__backend *b)
{
    (void)b;
}

/* >>avx2_gemm: GEMM micro-kernel, packing and driver ------------------------ */

static void nn__backend_init_avx2_gemm(nn__backend *b)
{
    (void)b;
}

NN__AVX2_END
#endif /* NN__HAS_AVX2 */

/* >>neon -------------------------------------------------------------------- */
/* NEON is part of the aarch64 baseline: no target region and no run-time check. */
#if NN__HAS_NEON
#  include <arm_neon.h>

/* >>neon_vec ---------------------------------------------------------------- */

static void nn__backend_init_neon_vec(nn__backend *b)
{
    (void)b;
}

/* >>neon_gemm --------------------------------------------------------------- */

static void nn__backend_init_neon_gemm(nn__backend *b)
{
    (void)b;
}
#endif /* NN__HAS_NEON */

/* >>dispatch ---------------------------------------------------------------- */
static nn__backend nn__backend_scalar_tbl;
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
#if NN__HAS_NEON
    case NN_SIMD_BACKEND_NEON: return 1;
#endif
    default: return 0;
    }
}

/* Builds the tables on first use: scalar everywhere, then each ISA's overrides. */
static const nn__backend *nn__backend_table(nn_simd_backend b)
{
    if (!nn__backend_scalar_tbl.name) nn__backend_init_scalar(&nn__backend_scalar_tbl);
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
    default: return "?";
    }
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
             bias, act, act_param);
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
    be->act_fwd[act](x, y, n, param);
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
    be->act_bwd[act](y, dy, dx, n, param);
    return NN_OK;
}

NN_SIMD_DEF nn_status nn_simd_softmax_rows(const float *x, float *y, int rows, int cols)
{
    const nn__backend *be = nn__be();
    if (!be) return NN_ERR_BACKEND;
    if (rows < 0 || cols < 0) return NN_ERR_INVALID;
    if (rows == 0 || cols == 0) return NN_OK;
    if (!x || !y) return NN_ERR_INVALID;
    be->softmax_rows(x, y, rows, cols);
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
    be->softmax_bwd_rows(y, dy, dx, rows, cols);
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
    be->col_sums(x, rows, cols, ldx, out);
    return NN_OK;
}

NN_SIMD_DEF nn_status nn_simd_axpy(size_t n, float a, const float *x, float *y)
{
    const nn__backend *be = nn__be();
    if (!be) return NN_ERR_BACKEND;
    if (n == 0) return NN_OK;
    if (!x || !y) return NN_ERR_INVALID;
    be->axpy(n, a, x, y);
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
    return be ? be->all_finite(x, n) : nn__all_finite__scalar(x, n);
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
    if (kind == NN_SIMD_OPTIM_ADAM && !s2) return NN_ERR_INVALID;
    be->optim[kind](args, w, g, s1, s2, n);
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
