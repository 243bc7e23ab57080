/* test_io.c - model files: round trips, resume, hostile input, atomic save.

   Contracts under test (nn.h >>io):
   - save/load through a file and through memory give the same desc, the same parameters
     bit for bit and the same predictions bit for bit; saving the loaded net again gives
     the same bytes;
   - training k steps, saving with the optimizer, loading and training m more steps is
     bit-identical to k+m uninterrupted steps (every optimizer, with dropout on);
   - every load error status is reached by a crafted file; every single-byte change and
     every truncation of a valid file is rejected, never crashes, never loads;
   - a frozen file (bytes below) loads to known parameters and is written back byte for
     byte, so the format cannot change silently;
   - a save that fails at any file operation (injected through NN_TEST_IO_FAULTS) leaves
     the previous file intact and no temporary file behind;
   - on any error *net_out and *opt_out are untouched and nothing leaks (counting allocator).
   Defines _POSIX_C_SOURCE so the POSIX save path (O_EXCL, fsync) is the one tested here;
   tests/test_alloc_fail.c is strict C99 and covers the plain C path. */
#define _POSIX_C_SOURCE 200809L
#define NN_TEST_IO_FAULTS
#define NN_IMPLEMENTATION
#include "nn.h"
#include "nn_test.h"
#include <math.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- helpers */
static double sentinel_storage[2];
#define NET_SENTINEL ((nn_net *)(void *)&sentinel_storage[0])
#define OPT_SENTINEL ((nn_optim *)(void *)&sentinel_storage[1])

/* Counting allocator: live blocks, and an optional failure of the k-th call. */
typedef struct counter {
    long live, calls, fail_at; /* fail_at 0: never */
} counter;

static void *count_alloc(size_t size, size_t align, void *user)
{
    counter *c = (counter *)user;
    void *p = NULL;
    c->calls++;
    if (c->fail_at && c->calls == c->fail_at) return NULL;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size) != 0) return NULL;
    c->live++;
    return p;
}

static void count_free(void *p, void *user)
{
    ((counter *)user)->live--;
    free(p);
}

static nn_allocator counting(counter *c)
{
    nn_allocator a;
    a.alloc_fn = count_alloc;
    a.free_fn = count_free;
    a.user = c;
    return a;
}

static uint64_t rng_state = 12345;
static float frand(void) /* [-1, 1) */
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng_state >> 40) & 0xffffff) / 8388608.0f - 1.0f;
}

typedef struct shape {
    const char *name;
    int n_in, L, units[4];
    nn_act act[4];
    float act_param[4], dropout[4];
    nn_loss loss;
    float l2;
    int max_batch;
    nn_optim_kind opt;
} shape;

static const shape shapes[] = {
    { "bce", 3, 2, { 5, 1 }, { NN_ACT_TANH, NN_ACT_SIGMOID }, { 0 }, { 0 }, NN_LOSS_BCE, 0.0f, 8, NN_OPTIM_ADAM },
    { "softmax", 4, 3, { 8, 6, 3 }, { NN_ACT_RELU, NN_ACT_LEAKY_RELU, NN_ACT_SOFTMAX }, { 0, 0.2f, 0 },
      { 0.25f, 0, 0 }, NN_LOSS_SOFTMAX_CE, 0.001f, 16, NN_OPTIM_ADAMW },
    { "tiny", 1, 1, { 1 }, { NN_ACT_IDENTITY }, { 0 }, { 0 }, NN_LOSS_MSE, 0.0f, 4, NN_OPTIM_SGD },
    { "mse", 5, 2, { 7, 2 }, { NN_ACT_HARDTANH, NN_ACT_IDENTITY }, { 0 }, { 0.5f, 0 }, NN_LOSS_MSE, 0.01f, 8,
      NN_OPTIM_RMSPROP },
    { "deep", 2, 4, { 3, 3, 4, 2 }, { NN_ACT_SIGMOID, NN_ACT_SIGN, NN_ACT_TANH, NN_ACT_SOFTMAX }, { 0 }, { 0 },
      NN_LOSS_MSE, 0.0f, 4, NN_OPTIM_NESTEROV },
    { "wide", 2, 3, { 40, 40, 3 }, { NN_ACT_RELU, NN_ACT_TANH, NN_ACT_IDENTITY }, { 0 }, { 0 }, NN_LOSS_MSE,
      0.0f, 32, NN_OPTIM_ADAGRAD },
};
#define N_SHAPES ((int)(sizeof shapes / sizeof shapes[0]))

static nn_net_desc desc_of(const shape *s)
{
    nn_net_desc d;
    int l;
    memset(&d, 0, sizeof d);
    d.n_inputs = s->n_in;
    for (l = 0; l < s->L; l++) {
        d.layers[l].units = s->units[l];
        d.layers[l].act = s->act[l];
        d.layers[l].act_param = s->act_param[l];
        d.layers[l].dropout = s->dropout[l];
    }
    d.loss = s->loss;
    d.l2 = s->l2;
    d.max_batch = s->max_batch;
    d.seed = 99;
    return d;
}

/* A batch of inputs and targets fitting the net's loss. */
typedef struct batch {
    float x[32 * 8], y[32 * 40];
    int labels[32];
    int n;
} batch;

static void make_batch(const nn_net *net, batch *b, int n)
{
    const nn_net_desc *d = nn_net_get_desc(net);
    int i, K = nn_net_n_outputs(net);
    b->n = n;
    for (i = 0; i < n * d->n_inputs; i++) b->x[i] = frand();
    for (i = 0; i < n * K; i++) b->y[i] = d->loss == NN_LOSS_BCE ? (frand() > 0 ? 1.0f : 0.0f) : frand();
    for (i = 0; i < n; i++) b->labels[i] = (int)((frand() + 1.0f) * 0.5f * (float)K) % K;
}

static nn_status step(nn_net *net, nn_optim *opt, const batch *b)
{
    int ce = nn_net_get_desc(net)->loss == NN_LOSS_SOFTMAX_CE;
    return nn_train_step(net, opt, b->x, ce ? NULL : b->y, ce ? b->labels : NULL, b->n, NULL);
}

static unsigned char *save_buf(const nn_net *net, const nn_optim *opt, size_t *n)
{
    unsigned char *p;
    if (nn_net_save_mem(net, opt, NULL, 0, n) != NN_OK) return NULL;
    p = (unsigned char *)malloc(*n);
    if (p && nn_net_save_mem(net, opt, p, *n, n) != NN_OK) {
        free(p);
        return NULL;
    }
    return p;
}

static int same_desc(const nn_net_desc *a, const nn_net_desc *b)
{
    int l;
    if (a->n_inputs != b->n_inputs || a->max_batch != b->max_batch || a->loss != b->loss ||
        memcmp(&a->l2, &b->l2, 4) != 0 || a->seed != b->seed)
        return 0;
    for (l = 0; l < NN_MAX_LAYERS; l++) {
        const nn_layer_desc *x = &a->layers[l], *y = &b->layers[l];
        if (x->units != y->units || x->act != y->act || x->init != y->init ||
            memcmp(&x->act_param, &y->act_param, 4) != 0 ||
            memcmp(&x->init_scale, &y->init_scale, 4) != 0 || memcmp(&x->dropout, &y->dropout, 4) != 0)
            return 0;
    }
    return 1;
}

/* The real W and b entries, bit for bit. (Not the alignment padding: the format does not
   store it, and under valgrind's AVX2 emulation an optimizer step can turn a padding 0
   into -0.) */
static int same_params(nn_net *a, nn_net *b)
{
    int l, ia = 0, oa = 0, ib = 0, ob = 0;
    float *Wa = NULL, *ba = NULL, *Wb = NULL, *bb = NULL;
    if (nn_net_n_layers(a) != nn_net_n_layers(b)) return 0;
    for (l = 0; l < nn_net_n_layers(a); l++) {
        if (nn_net_layer(a, l, &ia, &oa, &Wa, &ba, NULL, NULL) != NN_OK ||
            nn_net_layer(b, l, &ib, &ob, &Wb, &bb, NULL, NULL) != NN_OK || ia != ib || oa != ob || memcmp(Wa, Wb, sizeof(float) * (size_t)(ia * oa)) != 0 ||
            memcmp(ba, bb, sizeof(float) * (size_t)oa) != 0)
            return 0;
    }
    return 1;
}

static int same_predictions(nn_net *a, nn_net *b)
{
    float x[20 * 8], ya[20 * 40], yb[20 * 40];
    int i, n = 20, D = nn_net_n_inputs(a), K = nn_net_n_outputs(a);
    for (i = 0; i < n * D; i++) x[i] = frand() * 2.0f;
    if (nn_net_predict(a, x, n, ya) != NN_OK || nn_net_predict(b, x, n, yb) != NN_OK) return 0;
    return memcmp(ya, yb, sizeof(float) * (size_t)(n * K)) == 0;
}

/* Real entries of two buffers with net's parameter layout (optimizer state). */
static int same_real(nn_net *net, const float *x, const float *y)
{
    int l, in = 0, out = 0;
    float *W = NULL, *b = NULL;
    for (l = 0; l < nn_net_n_layers(net); l++) {
        if (nn_net_layer(net, l, &in, &out, &W, &b, NULL, NULL) != NN_OK ||
            memcmp(x + (W - net->params), y + (W - net->params), sizeof(float) * (size_t)(in * out)) != 0 ||
            memcmp(x + (b - net->params), y + (b - net->params), sizeof(float) * (size_t)out) != 0)
            return 0;
    }
    return 1;
}

static int same_optim(nn_net *net, const nn_optim *a, const nn_optim *b)
{
    const nn_optim_desc *x = nn_optim_get_desc(a), *y = nn_optim_get_desc(b);
    return x->kind == y->kind && x->lr == y->lr && x->momentum == y->momentum &&
           x->beta1 == y->beta1 && x->beta2 == y->beta2 && x->rho == y->rho && x->eps == y->eps &&
           x->weight_decay == y->weight_decay && nn_optim_steps(a) == nn_optim_steps(b) &&
           a->n == b->n && (a->s1 == NULL) == (b->s1 == NULL) && (a->s2 == NULL) == (b->s2 == NULL) &&
           (!a->s1 || same_real(net, a->s1, b->s1)) && (!a->s2 || same_real(net, a->s2, b->s2));
}

static char tmpdir[256];

static void path_in_tmp(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

/* Number of directory entries containing ".tmp." */
static int temp_files_left(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp.")) n++;
    closedir(d);
    return n;
}

static unsigned char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p;
    long end;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    end = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = (unsigned char *)malloc(end > 0 ? (size_t)end : 1);
    *n = fread(p, 1, (size_t)end, f);
    fclose(f);
    return p;
}

static void put32(unsigned char *p, uint32_t v) { nn__put_u32(p, v); }
static void put64(unsigned char *p, uint64_t v) { nn__put_u32(p, (uint32_t)v); nn__put_u32(p + 4, (uint32_t)(v >> 32)); }
static void fix_crc(unsigned char *b, size_t n)
{
    put32(b + n - 4, nn__crc32(0xFFFFFFFFu, b, n - 4) ^ 0xFFFFFFFFu);
}

/* Loads buf expecting `want`; on error checks that the outputs are untouched and that the
   counting allocator has nothing live. */
static nn_status load_expect(const unsigned char *b, size_t n, nn_status want, const char *what)
{
    counter c = { 0, 0, 0 };
    nn_allocator a = counting(&c);
    nn_net *net = NET_SENTINEL;
    nn_optim *opt = OPT_SENTINEL;
    nn_status st = nn_net_load_mem(b, n, &a, &net, &opt);
    NN_CHECK(st == want, "%s: got %s (%d), want %s", what, nn_status_str(st), (int)st, nn_status_str(want));
    if (st != NN_OK) {
        NN_CHECK(net == NET_SENTINEL && opt == OPT_SENTINEL, "%s: outputs written on error", what);
    } else {
        nn_optim_destroy(opt);
        nn_net_destroy(net);
    }
    NN_CHECK(c.live == 0, "%s: %ld blocks leaked", what, c.live);
    return st;
}

/* ---------------------------------------------------------------- tests */
static void test_crc(void)
{
    const char *s = "123456789";
    uint32_t c = nn__crc32(0xFFFFFFFFu, (const unsigned char *)s, 9) ^ 0xFFFFFFFFu;
    NN_CHECK(c == 0xCBF43926u, "crc32(\"123456789\") = %08x, want cbf43926", (unsigned)c);
}

static void test_round_trip(void)
{
    int s, with_opt;
    for (s = 0; s < N_SHAPES; s++) {
        for (with_opt = 0; with_opt < 2; with_opt++) {
            nn_net_desc d = desc_of(&shapes[s]);
            nn_optim_desc od;
            nn_net *net = NULL, *m = NULL, *f = NULL;
            nn_optim *opt = NULL, *mo = OPT_SENTINEL, *fo = OPT_SENTINEL;
            batch b;
            unsigned char *buf, *buf2;
            size_t n, n2;
            char path[512];
            int i;
            memset(&od, 0, sizeof od);
            od.kind = shapes[s].opt;
            NN_CHECK(nn_net_create(&d, &net) == NN_OK, "%s: create", shapes[s].name);
            NN_CHECK(nn_optim_create(net, &od, &opt) == NN_OK, "%s: optim", shapes[s].name);
            make_batch(net, &b, shapes[s].max_batch);
            for (i = 0; i < 3; i++) step(net, opt, &b);
            buf = save_buf(net, with_opt ? opt : NULL, &n);
            NN_CHECK(buf != NULL, "%s: save_mem", shapes[s].name);
            if (!buf) continue;
            /* memory */
            NN_CHECK(nn_net_load_mem(buf, n, NULL, &m, &mo) == NN_OK, "%s: load_mem", shapes[s].name);
            /* file */
            path_in_tmp(path, sizeof path, "rt.nn");
            NN_CHECK(nn_net_save(net, with_opt ? opt : NULL, path) == NN_OK, "%s: save", shapes[s].name);
            NN_CHECK(nn_net_load(path, NULL, &f, &fo) == NN_OK, "%s: load", shapes[s].name);
            if (m && f) {
                NN_CHECK(same_desc(nn_net_get_desc(net), nn_net_get_desc(m)), "%s opt=%d: desc (mem)", shapes[s].name, with_opt);
                NN_CHECK(same_desc(nn_net_get_desc(net), nn_net_get_desc(f)), "%s opt=%d: desc (file)", shapes[s].name, with_opt);
                NN_CHECK(same_params(net, m) && same_params(net, f), "%s opt=%d: params", shapes[s].name, with_opt);
                NN_CHECK(same_predictions(net, m) && same_predictions(net, f), "%s opt=%d: predictions", shapes[s].name, with_opt);
                NN_CHECK(m->drop_rng.s == net->drop_rng.s, "%s: dropout rng state", shapes[s].name);
                if (with_opt) {
                    NN_CHECK(mo && fo && same_optim(net, opt, mo) && same_optim(net, opt, fo), "%s: optimizer state", shapes[s].name);
                } else {
                    NN_CHECK(mo == NULL && fo == NULL, "%s: no optimizer in the file -> *opt_out = NULL", shapes[s].name);
                }
                buf2 = save_buf(m, with_opt ? mo : NULL, &n2);
                NN_CHECK(buf2 && n2 == n && memcmp(buf, buf2, n) == 0, "%s opt=%d: re-save differs", shapes[s].name, with_opt);
                free(buf2);
                {
                    size_t fn = 0;
                    unsigned char *fb = read_file(path, &fn);
                    NN_CHECK(fb && fn == n && memcmp(fb, buf, n) == 0, "%s: file bytes == memory bytes", shapes[s].name);
                    free(fb);
                }
            }
            /* opt_out NULL ignores the optimizer section */
            {
                nn_net *g = NULL;
                NN_CHECK(nn_net_load_mem(buf, n, NULL, &g, NULL) == NN_OK && g && same_params(net, g),
                         "%s: load without opt_out", shapes[s].name);
                nn_net_destroy(g);
            }
            if (mo != OPT_SENTINEL) nn_optim_destroy(mo);
            if (fo != OPT_SENTINEL) nn_optim_destroy(fo);
            nn_net_destroy(m);
            nn_net_destroy(f);
            nn_optim_destroy(opt);
            nn_net_destroy(net);
            free(buf);
        }
    }
    NN_CHECK(temp_files_left() == 0, "temporary files left after successful saves");
}

/* An inference-only network saves like any other; the loaded one is a full (trainable)
   network with the same parameters and the same predictions. */
static void test_inference_only(void)
{
    nn_net_desc d = desc_of(&shapes[1]);
    nn_net *net = NULL, *m = NULL;
    unsigned char *buf;
    size_t n;
    d.inference_only = 1;
    NN_CHECK(nn_net_create(&d, &net) == NN_OK, "inference-only create");
    if (!net) return;
    buf = save_buf(net, NULL, &n);
    NN_CHECK(buf && nn_net_load_mem(buf, n, NULL, &m, NULL) == NN_OK, "inference-only save/load");
    if (m) {
        NN_CHECK(same_params(net, m) && same_predictions(net, m), "inference-only: params, predictions");
        NN_CHECK(nn_net_get_desc(m)->inference_only == 0, "loaded nets are trainable");
    }
    nn_net_destroy(m);
    nn_net_destroy(net);
    free(buf);
}

/* k steps, save+load, m steps == k+m steps, compared through the saved bytes (parameters,
   optimizer state, step count, dropout RNG) and the parameters directly. */
static void test_resume(void)
{
    /* the last entry twice: ADAFACTOR without, then with beta1 momentum */
    static const nn_optim_kind kinds[] = { NN_OPTIM_ADAM, NN_OPTIM_ADAMW, NN_OPTIM_MOMENTUM, NN_OPTIM_RMSPROP,
                                           NN_OPTIM_SGD, NN_OPTIM_NESTEROV, NN_OPTIM_ADAGRAD,
                                           NN_OPTIM_ADADELTA, NN_OPTIM_ADAFACTOR, NN_OPTIM_ADAFACTOR };
    int ki, si, k = 7, m = 9, i;
    for (ki = 0; ki < (int)(sizeof kinds / sizeof kinds[0]); ki++) {
        for (si = 0; si < 2; si++) {
            const shape *sh = &shapes[si == 0 ? 1 : 3]; /* both have dropout */
            nn_net_desc d = desc_of(sh);
            nn_optim_desc od;
            nn_net *a = NULL, *b = NULL;
            nn_optim *ao = NULL, *bo = NULL;
            batch bt[16];
            unsigned char *buf, *ba, *bb;
            size_t n, na, nb;
            char path[512];
            memset(&od, 0, sizeof od);
            od.kind = kinds[ki];
            if (ki == (int)(sizeof kinds / sizeof kinds[0]) - 1) od.beta1 = 0.9f;
            nn_net_create(&d, &a);
            nn_optim_create(a, &od, &ao);
            for (i = 0; i < k + m; i++) make_batch(a, &bt[i], sh->max_batch - i % 3);
            for (i = 0; i < k; i++) step(a, ao, &bt[i]);
            path_in_tmp(path, sizeof path, "resume.nn");
            NN_CHECK(nn_net_save(a, ao, path) == NN_OK, "resume %s: save", nn_optim_name(kinds[ki]));
            NN_CHECK(nn_net_load(path, NULL, &b, &bo) == NN_OK && b && bo, "resume %s: load", nn_optim_name(kinds[ki]));
            if (!b || !bo) continue;
            buf = save_buf(a, ao, &n);
            for (i = k; i < k + m; i++) {
                step(a, ao, &bt[i]);
                step(b, bo, &bt[i]);
            }
            ba = save_buf(a, ao, &na);
            bb = save_buf(b, bo, &nb);
            NN_CHECK(ba && bb && na == nb && memcmp(ba, bb, na) == 0 && same_params(a, b),
                     "resume %s shape %s: k+m steps differ from k, save/load, m", nn_optim_name(kinds[ki]), sh->name);
            NN_CHECK(nn_optim_steps(bo) == k + m, "resume: step count %lld", nn_optim_steps(bo));
            NN_CHECK(buf && memcmp(buf, ba, na) != 0, "resume: training after the save changed nothing");
            free(buf);
            free(ba);
            free(bb);
            nn_optim_destroy(ao);
            nn_optim_destroy(bo);
            nn_net_destroy(a);
            nn_net_destroy(b);
        }
    }
}

/* A valid model with the optimizer (shape "softmax", RMSProp so state must be >= 0). */
static unsigned char *valid_file(size_t *n, nn_optim_kind kind, int with_opt)
{
    nn_net_desc d = desc_of(&shapes[1]);
    nn_optim_desc od;
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    batch b;
    unsigned char *buf;
    memset(&od, 0, sizeof od);
    od.kind = kind;
    nn_net_create(&d, &net);
    nn_optim_create(net, &od, &opt);
    make_batch(net, &b, 8);
    step(net, opt, &b);
    step(net, opt, &b);
    buf = save_buf(net, with_opt ? opt : NULL, n);
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    return buf;
}

/* Offsets in a file of shape "softmax" (L = 3). */
#define HDR(L) (60u + 24u * (L))
static void test_crafted(void)
{
    size_t n, i, L = 3, P, Q;
    unsigned char *v = valid_file(&n, NN_OPTIM_RMSPROP, 1), *c;
    if (!v) { NN_CHECK(0, "valid file"); return; }
    P = (size_t)nn__get_u64(v + HDR(L));
    Q = HDR(L) + 8 + 4 * P;
    c = (unsigned char *)malloc(n + 16);
    load_expect(v, n, NN_OK, "valid");

#define CASE(want, what, edit)          \
    do {                                \
        memcpy(c, v, n);                \
        edit;                           \
        load_expect(c, n, want, what);  \
    } while (0)
    CASE(NN_ERR_MAGIC, "magic", c[1] = 'X');
    load_expect((const unsigned char *)"GIF8", 4, NN_ERR_MAGIC, "magic (short)");
    CASE(NN_ERR_VERSION, "version 3", put32(c + 8, 3));
    CASE(NN_ERR_VERSION, "version 0", put32(c + 8, 0));
    CASE(NN_ERR_CRC, "crc", c[Q - 5] ^= 0x10);
    CASE(NN_ERR_CRC, "crc field", c[n - 1] ^= 1);
    CASE(NN_ERR_LIMIT, "layers", (put32(c + 28, NN_MAX_LAYERS + 1), fix_crc(c, n)));
    CASE(NN_ERR_LIMIT, "n_inputs", (put32(c + 24, NN_MAX_UNITS + 1), fix_crc(c, n)));
    CASE(NN_ERR_LIMIT, "max_batch", (put32(c + 32, NN_MAX_BATCH + 1), fix_crc(c, n)));
    CASE(NN_ERR_LIMIT, "units", (put32(c + 60 + 24, 0xFFFFFFFFu), fix_crc(c, n)));
    CASE(NN_ERR_LIMIT, "params", (put32(c + 24, 1 << 20), put32(c + 60, 1 << 20), fix_crc(c, n)));
    CASE(NN_ERR_LIMIT, "arena", (put32(c + 32, NN_MAX_BATCH), put32(c + 60, 4096), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "zero layers", (put32(c + 28, 0), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "layer count vs size", (put32(c + 28, 32), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "zero units", (put32(c + 60, 0), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "flags", (put32(c + 12, 3), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "loss 0", (put32(c + 36, 0), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "loss 99", (put32(c + 36, 99), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "loss vs output act", (put32(c + 36, NN_LOSS_BCE), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "seed 0", (put64(c + 44, 0), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "act 99", (put32(c + 60 + 4, 99), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "init 0", (put32(c + 60 + 12, 0), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "l2 NaN", (put32(c + 40, 0x7fc00000u), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "l2 < 0", (put32(c + 40, 0xbf800000u), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "leaky slope 2", (put32(c + 60 + 24 + 8, 0x40000000u), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "dropout on output", (put32(c + 60 + 48 + 20, 0x3e800000u), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "dropout inf", (put32(c + 60 + 20, 0x7f800000u), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "P field", (put64(c + HDR(L), P + 1), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "param NaN", (put32(c + HDR(L) + 8 + 4 * 5, 0x7fc00001u), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "param -inf", (put32(c + HDR(L) + 8 + 4 * (P - 1), 0xff800000u), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "optim kind 0", (put32(c + Q, 0), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "optim kind 99", (put32(c + Q, 99), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "optim kind vs S", (put32(c + Q, NN_OPTIM_ADAM), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "lr 0", (put32(c + Q + 4, 0), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "lr -1", (put32(c + Q + 4, 0xbf800000u), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "rho 1", (put32(c + Q + 20, 0x3f800000u), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "eps NaN", (put32(c + Q + 24, 0x7fc00000u), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "eps2 0", (put32(c + Q + 32, 0), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "clip inf", (put32(c + Q + 36, 0x7f800000u), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "explicit_lr 2", (put32(c + Q + 40, 2), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "t >= 2^63", (put64(c + Q + 44, (uint64_t)1 << 63), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "S 7", (put32(c + Q + 52, 7), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "rmsprop state < 0", (put32(c + Q + 56 + 8, 0xbf800000u), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "state inf", (put32(c + Q + 56, 0x7f800000u), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "optim kind adadelta (S 2) vs rmsprop's 1", (put32(c + Q, NN_OPTIM_ADADELTA), fix_crc(c, n)));
    CASE(NN_ERR_CORRUPT, "optim kind adafactor (S 0, F floats) vs rmsprop's", (put32(c + Q, NN_OPTIM_ADAFACTOR), fix_crc(c, n)));
    memcpy(c, v, n);
    put64(c + 16, 40);
    fix_crc(c, 40);
    load_expect(c, 40, NN_ERR_CORRUPT, "file size < minimum");
    CASE(NN_ERR_TRUNCATED, "file size field larger", (put64(c + 16, n + 1), fix_crc(c, n)));
    load_expect(v, 0, NN_ERR_TRUNCATED, "empty");
    /* trailing byte */
    memcpy(c, v, n);
    c[n] = 0;
    load_expect(c, n + 1, NN_ERR_CORRUPT, "trailing byte");
    /* flags says no optimizer, but the bytes are there: sizes do not add up */
    CASE(NN_ERR_CORRUPT, "flags 0 with state", (put32(c + 12, 0), fix_crc(c, n)));
#undef CASE
    /* every truncation */
    for (i = 0; i < n; i++) {
        nn_net *net = NET_SENTINEL;
        nn_status st = nn_net_load_mem(v, i, NULL, &net, NULL);
        if (st != NN_ERR_TRUNCATED || net != NET_SENTINEL) {
            NN_CHECK(0, "truncated at %zu: %s", i, nn_status_str(st));
            break;
        }
    }
    NN_CHECK(i == n, "every truncation gives NN_ERR_TRUNCATED");
    /* every single-byte change, two patterns */
    {
        int pat, bad = 0;
        for (pat = 0; pat < 2 && !bad; pat++) {
            for (i = 0; i < n; i++) {
                nn_net *net = NET_SENTINEL;
                nn_optim *opt = OPT_SENTINEL;
                nn_status st;
                memcpy(c, v, n);
                c[i] ^= pat ? 0x01 : 0xFF;
                st = nn_net_load_mem(c, n, NULL, &net, &opt);
                if (st == NN_OK || net != NET_SENTINEL || opt != OPT_SENTINEL) {
                    NN_CHECK(0, "byte %zu ^ %s loaded (%s)", i, pat ? "01" : "ff", nn_status_str(st));
                    bad = 1;
                    if (st == NN_OK) {
                        nn_optim_destroy(opt);
                        nn_net_destroy(net);
                    }
                    break;
                }
            }
        }
        NN_CHECK(!bad, "every single-byte change is rejected (%zu bytes x 2 patterns)", n);
    }
    /* API misuse */
    {
        nn_net *net = NET_SENTINEL;
        size_t sz = 0;
        nn_allocator half;
        memset(&half, 0, sizeof half);
        half.alloc_fn = count_alloc;
        NN_CHECK(nn_net_load_mem(NULL, n, NULL, &net, NULL) == NN_ERR_INVALID, "load_mem NULL buf");
        NN_CHECK(nn_net_load_mem(v, n, NULL, NULL, NULL) == NN_ERR_INVALID, "load_mem NULL out");
        NN_CHECK(nn_net_load_mem(v, n, &half, &net, NULL) == NN_ERR_INVALID, "half allocator");
        NN_CHECK(nn_net_load(NULL, NULL, &net, NULL) == NN_ERR_INVALID, "load NULL path");
        NN_CHECK(net == NET_SENTINEL, "outputs untouched");
        NN_CHECK(nn_net_save_mem(NULL, NULL, NULL, 0, &sz) == NN_ERR_INVALID, "save_mem NULL net");
    }
    free(c);
    free(v);
}

static void test_save_errors(void)
{
    nn_net_desc d = desc_of(&shapes[0]), d2 = desc_of(&shapes[2]);
    nn_net *net = NULL, *other = NULL;
    nn_optim *opt = NULL;
    nn_optim_desc od;
    size_t need = 0, got = 0;
    unsigned char small[16];
    float *p;
    char path[512];
    memset(&od, 0, sizeof od);
    nn_net_create(&d, &net);
    nn_net_create(&d2, &other);
    nn_optim_create(other, &od, &opt);
    NN_CHECK(nn_net_save_mem(net, NULL, NULL, 0, &need) == NN_OK && need > 0, "size query");
    NN_CHECK(nn_net_save_mem(net, NULL, small, sizeof small, &got) == NN_ERR_INVALID && got == need,
             "too small a buffer: NN_ERR_INVALID and the size");
    NN_CHECK(nn_net_save_mem(net, NULL, NULL, 0, NULL) == NN_ERR_INVALID, "size NULL");
    NN_CHECK(nn_net_save_mem(net, opt, NULL, 0, &got) == NN_ERR_SHAPE, "optimizer of another net");
    {
        /* 5 -> 3 -> 1 has the padded buffer sizes of 3 -> 5 -> 1, not its shapes */
        nn_net_desc d3 = d;
        nn_net *twin = NULL;
        nn_optim *topt = NULL;
        d3.n_inputs = 5;
        d3.layers[0].units = 3;
        nn_net_create(&d3, &twin);
        nn_optim_create(twin, &od, &topt);
        NN_CHECK(twin && topt && twin->n_params == net->n_params && twin->n_weights == net->n_weights,
                 "twin layout has the same sizes");
        NN_CHECK(nn_net_save_mem(net, topt, NULL, 0, &got) == NN_ERR_SHAPE, "optimizer of same-size other shape");
        nn_optim_destroy(topt);
        nn_net_destroy(twin);
    }
    NN_CHECK(nn_net_save(net, NULL, "/nonexistent-dir-nn-test/m.nn") == NN_ERR_IO, "unwritable path");
    NN_CHECK(nn_net_save(net, NULL, tmpdir) == NN_ERR_IO, "path is a directory");
    NN_CHECK(nn_net_save(net, NULL, NULL) == NN_ERR_INVALID, "NULL path");
    NN_CHECK(nn_net_save(net, NULL, "") == NN_ERR_INVALID, "empty path");
    NN_CHECK(temp_files_left() == 0, "no temporary file after a failed rename");
    {
        nn_net *out = NET_SENTINEL;
        NN_CHECK(nn_net_load("/nonexistent-dir-nn-test/m.nn", NULL, &out, NULL) == NN_ERR_IO, "missing file");
        NN_CHECK(nn_net_load(tmpdir, NULL, &out, NULL) == NN_ERR_IO, "load a directory");
        NN_CHECK(out == NET_SENTINEL, "outputs untouched");
    }
    p = nn_net_params(net, NULL, NULL);
    p[0] = NAN;
    path_in_tmp(path, sizeof path, "nan.nn");
    NN_CHECK(nn_net_save_mem(net, NULL, NULL, 0, &got) == NN_ERR_NONFINITE, "NaN parameter");
    NN_CHECK(nn_net_save(net, NULL, path) == NN_ERR_NONFINITE && access(path, F_OK) != 0, "NaN parameter (file)");
    nn_optim_destroy(opt);
    nn_net_destroy(other);
    nn_net_destroy(net);
}

/* Save B over A with the k-th file operation failing, k = 0, 1, ...: each failure leaves
   A's bytes and no temporary file. */
static void test_atomic_save(void)
{
    nn_net_desc d = desc_of(&shapes[5]), d2 = desc_of(&shapes[0]);
    nn_optim_desc od;
    nn_net *big = NULL, *small = NULL;
    nn_optim *opt = NULL;
    unsigned char *a, *bb, *f;
    size_t na, nb, nf;
    char path[512];
    long k;
    int failures = 0;
    memset(&od, 0, sizeof od);
    od.kind = NN_OPTIM_ADAM;
    nn_net_create(&d, &big);
    nn_optim_create(big, &od, &opt);
    nn_net_create(&d2, &small);
    path_in_tmp(path, sizeof path, "atomic.nn");
    NN_CHECK(nn_net_save(small, NULL, path) == NN_OK, "first save");
    a = save_buf(small, NULL, &na);
    bb = save_buf(big, opt, &nb); /* > 6 chunks of 4096 bytes */
    for (k = 0; k < 100; k++) {
        nn_status st;
        nn__io_fail_after = k;
        st = nn_net_save(big, opt, path);
        nn__io_fail_after = -1;
        f = read_file(path, &nf);
        if (st == NN_OK) {
            NN_CHECK(f && nf == nb && memcmp(f, bb, nb) == 0, "save after %ld operations: new bytes", k);
            free(f);
            break;
        }
        failures++;
        NN_CHECK(st == NN_ERR_IO, "fault at %ld: %s", k, nn_status_str(st));
        NN_CHECK(f && nf == na && memcmp(f, a, na) == 0, "fault at %ld: old file changed", k);
        NN_CHECK(temp_files_left() == 0, "fault at %ld: temporary file left", k);
        free(f);
    }
    NN_CHECK(failures >= 10, "only %d injected failures (open, 6+ writes, flush, fsync, close, rename)", failures);
    printf("atomic save: %d injected failures, all left the old file intact\n", failures);
    free(a);
    free(bb);
    nn_optim_destroy(opt);
    nn_net_destroy(big);
    nn_net_destroy(small);
}

/* 1 if the file at path holds exactly net's bytes (no optimizer). */
static int holds(const char *path, const nn_net *net)
{
    size_t nf, nw;
    unsigned char *f = read_file(path, &nf), *w = save_buf(net, NULL, &nw);
    int same = f && nf == nw && memcmp(f, w, nw) == 0;
    free(f);
    free(w);
    return same;
}

/* POSIX saves keep an existing file's permission bits (0600 stays 0600, whatever the
   umask) and write through symbolic links: the link stays a link, the file it ends at
   (following a chain, relative links against their own directory) gets the bytes. */
static void test_save_mode_and_links(void)
{
    nn_net_desc d = desc_of(&shapes[0]);
    nn_net *a = NULL, *b = NULL;
    char file[512], sub[512], target[512], link1[512], link2[512], loop1[512], loop2[512];
    char buf[512];
    struct stat sb;
    static const unsigned modes[] = { 0600, 0640, 0666, 0604, 0400 };
    size_t i;
    ssize_t got;
    mode_t old_umask;
    if (!NN__POSIX_IO) { printf("save mode and links: skipped (plain C save path)\n"); return; }
    d.seed = 1;
    nn_net_create(&d, &a);
    d.seed = 2;
    nn_net_create(&d, &b);
    old_umask = umask(022);
    /* permissions */
    path_in_tmp(file, sizeof file, "mode.nn");
    for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        NN_CHECK(nn_net_save(a, NULL, file) == NN_OK && chmod(file, (mode_t)modes[i]) == 0, "mode setup");
        NN_CHECK(nn_net_save(i % 2 ? a : b, NULL, file) == NN_OK, "save over mode %o", modes[i]);
        NN_CHECK(stat(file, &sb) == 0 && (sb.st_mode & 07777) == modes[i], "mode %o became %o",
                 modes[i], (unsigned)(sb.st_mode & 07777));
        NN_CHECK(holds(file, i % 2 ? a : b), "mode %o: contents", modes[i]);
    }
    remove(file);
    NN_CHECK(nn_net_save(a, NULL, file) == NN_OK && stat(file, &sb) == 0 && (sb.st_mode & 0777) == 0644,
             "a new file: 0666 under umask 022, got %o", (unsigned)(sb.st_mode & 0777));
    remove(file);
    /* a relative link into a subdirectory, and a link to that link */
    path_in_tmp(sub, sizeof sub, "sub");
    NN_CHECK(mkdir(sub, 0700) == 0, "mkdir");
    path_in_tmp(target, sizeof target, "sub/target.nn");
    path_in_tmp(link1, sizeof link1, "link1.nn");
    path_in_tmp(link2, sizeof link2, "link2.nn");
    NN_CHECK(nn_net_save(a, NULL, target) == NN_OK && chmod(target, 0600) == 0, "target");
    NN_CHECK(symlink("sub/target.nn", link1) == 0 && symlink(link1, link2) == 0, "symlinks");
    NN_CHECK(nn_net_save(b, NULL, link2) == NN_OK, "save through two links");
    NN_CHECK(lstat(link1, &sb) == 0 && S_ISLNK(sb.st_mode) && lstat(link2, &sb) == 0 &&
             S_ISLNK(sb.st_mode), "the links are still links");
    got = readlink(link1, buf, sizeof buf - 1);
    NN_CHECK(got == 13 && memcmp(buf, "sub/target.nn", 13) == 0, "link1 still points at sub/target.nn");
    NN_CHECK(holds(target, b) && holds(link2, b), "the target has the new bytes");
    NN_CHECK(stat(target, &sb) == 0 && (sb.st_mode & 07777) == 0600, "target mode kept: %o",
             (unsigned)(sb.st_mode & 07777));
    NN_CHECK(nn_net_save(a, NULL, link1) == NN_OK && holds(target, a) && lstat(link1, &sb) == 0 &&
             S_ISLNK(sb.st_mode), "save through one relative link");
    NN_CHECK(temp_files_left() == 0, "links: temporary file left");
    /* a dangling link: the save creates the file it points at */
    remove(target);
    NN_CHECK(nn_net_save(b, NULL, link2) == NN_OK && holds(target, b) && lstat(link2, &sb) == 0 &&
             S_ISLNK(sb.st_mode), "dangling link: target created");
    /* a loop: NN_ERR_IO, nothing written */
    path_in_tmp(loop1, sizeof loop1, "loop1.nn");
    path_in_tmp(loop2, sizeof loop2, "loop2.nn");
    NN_CHECK(symlink("loop2.nn", loop1) == 0 && symlink("loop1.nn", loop2) == 0, "loop links");
    NN_CHECK(nn_net_save(a, NULL, loop1) == NN_ERR_IO, "link loop");
    NN_CHECK(temp_files_left() == 0, "loop: temporary file left");
    remove(loop1);
    remove(loop2);
    remove(link2);
    remove(link1);
    remove(target);
    rmdir(sub);
    umask(old_umask);
    nn_net_destroy(a);
    nn_net_destroy(b);
}

/* The frozen file: 2 -> 2 tanh -> 1 sigmoid (BCE), max_batch 4, seed 7, parameters set by
   hand, momentum optimizer (lr 0.125) at step 2 with hand-set state. Written once by
   freeze_model() below (NN_TEST_IO_DUMP=1 printed it) when the format was version 1, and
   kept as it was: version-1 files must load forever. The writer now writes version 2,
   checked against these bytes converted by v1_to_v2. */
static const unsigned char frozen[] = {
    0x89, 0x4e, 0x4e, 0x48, 0x0d, 0x0a, 0x1a, 0x0a, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0xec, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x73, 0x75, 0x6f, 0x70, 0x6f, 0x72, 0x64, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f,
    0x00, 0x00, 0x80, 0xbe, 0x00, 0x00, 0x00, 0x3e, 0x00, 0x00, 0x80, 0x3f,
    0x00, 0x00, 0x80, 0x3d, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x00, 0x40,
    0x00, 0x00, 0xc0, 0xbf, 0x00, 0x00, 0x40, 0x3f, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x3e, 0x66, 0x66, 0x66, 0x3f, 0x66, 0x66, 0x66, 0x3f,
    0x77, 0xbe, 0x7f, 0x3f, 0x66, 0x66, 0x66, 0x3f, 0x77, 0xcc, 0x2b, 0x32,
    0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x80, 0x3e,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x3f,
    0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0xc0, 0x3e, 0x00, 0x00, 0x00, 0x3f,
    0x00, 0x00, 0x00, 0xbe, 0xad, 0xac, 0x28, 0x14
};
static const float frozen_params[9] = { 0.5f, -0.25f, 0.125f, 1.0f, 0.0625f, -0.5f, 2.0f, -1.5f, 0.75f };
static const float frozen_state[9] = { -0.5f, 0.25f, 0.0f, 3.0f, 1.0f, -2.0f, 0.375f, 0.5f, -0.125f };

static void set_layerwise(nn_net *net, float *base, const float *v)
{
    int l, k, in, out;
    float *W, *b;
    for (l = 0; l < nn_net_n_layers(net); l++) {
        nn_net_layer(net, l, &in, &out, &W, &b, NULL, NULL);
        for (k = 0; k < in * out; k++) base[W - net->params + k] = *v++;
        for (k = 0; k < out; k++) base[b - net->params + k] = *v++;
    }
}

static unsigned char *freeze_model(size_t *n)
{
    nn_net_desc d;
    nn_optim_desc od;
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    unsigned char *buf;
    memset(&d, 0, sizeof d);
    memset(&od, 0, sizeof od);
    d.n_inputs = 2;
    d.layers[0].units = 2;
    d.layers[0].act = NN_ACT_TANH;
    d.layers[1].units = 1;
    d.layers[1].act = NN_ACT_SIGMOID;
    d.max_batch = 4;
    d.seed = 7;
    od.kind = NN_OPTIM_MOMENTUM;
    od.lr = 0.125f;
    nn_net_create(&d, &net);
    nn_optim_create(net, &od, &opt);
    set_layerwise(net, net->params, frozen_params);
    set_layerwise(net, opt->s1, frozen_state);
    opt->t = 2;
    buf = save_buf(net, opt, n);
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    return buf;
}

/* A version-1 file with an optimizer section as version 2 writes it: version 2, 12 more
   bytes (eps2 1e-3, clip 1, explicit_lr 0) after weight_decay, the size and CRC updated. */
static unsigned char *v1_to_v2(const unsigned char *v1, size_t n1, size_t *n2)
{
    const size_t L = nn__get_u32(v1 + 28), P = (size_t)nn__get_u64(v1 + HDR(L));
    const size_t cut = HDR(L) + 8 + 4 * P + 32;
    unsigned char *v2 = (unsigned char *)malloc(n1 + 12);
    if (!v2) return NULL;
    memcpy(v2, v1, cut);
    put32(v2 + cut, 0x3a83126fu);     /* 1e-3f */
    put32(v2 + cut + 4, 0x3f800000u); /* 1.0f */
    put32(v2 + cut + 8, 0);
    memcpy(v2 + cut + 12, v1 + cut, n1 - cut);
    put32(v2 + 8, 2);
    put64(v2 + 16, n1 + 12);
    fix_crc(v2, n1 + 12);
    *n2 = n1 + 12;
    return v2;
}

/* tests/data/model_v1_adam.nnh: a 3-4-2 net trained 3 steps with Adam, written by the
   version-1 writer (7a8e4c8). It must load with its parameters and both moment buffers
   as the file holds them (read here at the version-1 offsets), and train on. */
static void test_v1_file(void)
{
    FILE *f = fopen("tests/data/model_v1_adam.nnh", "rb");
    unsigned char buf[1024];
    size_t n, L, P, Q, i;
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    float want[3][64];
    if (!f) { NN_CHECK(0, "tests/data/model_v1_adam.nnh: cannot open (run from the repository root)"); return; }
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    NN_CHECK(n > 200 && n < sizeof buf && nn__get_u32(buf + 8) == 1, "v1 file: %zu bytes, version %u", n,
             (unsigned)nn__get_u32(buf + 8));
    L = nn__get_u32(buf + 28);
    P = (size_t)nn__get_u64(buf + HDR(L));
    Q = HDR(L) + 8 + 4 * P;
    NN_CHECK(L == 2 && P == 26 && n == Q + 44 + 8 * P + 4, "v1 file layout: L %zu P %zu", L, P);
    if (!(L == 2 && P == 26)) return;
    NN_CHECK(nn_net_load_mem(buf, n, NULL, &net, &opt) == NN_OK && net && opt, "v1 file loads");
    if (!net || !opt) { nn_net_destroy(net); return; }
    for (i = 0; i < 3 * P; i++) {
        const size_t off = i < P ? HDR(L) + 8 + 4 * i : Q + 44 + 4 * (i - P);
        want[i / P][i % P] = nn__bits_f32(nn__get_u32(buf + off));
    }
    {
        float pw[128], s1[128], s2[128];
        NN_CHECK(net->n_params <= 128, "v1 file: padded size");
        memset(pw, 0, sizeof pw); memset(s1, 0, sizeof s1); memset(s2, 0, sizeof s2);
        set_layerwise(net, pw, want[0]);
        set_layerwise(net, s1, want[1]);
        set_layerwise(net, s2, want[2]);
        NN_CHECK(memcmp(net->params, pw, net->n_params * sizeof(float)) == 0, "v1 file: parameters");
        NN_CHECK(memcmp(opt->s1, s1, opt->n * sizeof(float)) == 0 && memcmp(opt->s2, s2, opt->n * sizeof(float)) == 0,
                 "v1 file: Adam moments");
    }
    NN_CHECK(nn_optim_get_desc(opt)->kind == NN_OPTIM_ADAM && nn_optim_steps(opt) == 3 &&
             nn_optim_get_lr(opt) == 0.01f && nn_optim_get_desc(opt)->eps2 == 1e-3f &&
             nn_optim_get_desc(opt)->clip == 1.0f, "v1 file: optimizer desc");
    {
        static const float x[2][3] = { { 0, 1, 2 }, { 1, 0, -1 } };
        static const int lab[2] = { 0, 1 };
        float loss = 0;
        NN_CHECK(nn_train_step(net, opt, &x[0][0], NULL, lab, 2, &loss) == NN_OK && isfinite(loss) &&
                 nn_optim_steps(opt) == 4, "v1 file: trains on");
    }
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    /* version 1 knew kinds up to ADAMW only */
    put32(buf + Q, NN_OPTIM_ADADELTA);
    fix_crc(buf, n);
    load_expect(buf, n, NN_ERR_CORRUPT, "v1 file with kind adadelta");
}

/* ADAFACTOR's factored state is the last section: F = sum of 2 out + in floats, all >= 0. */
static void test_adafactor_file(void)
{
    size_t n, L = 3, P, Q, F = 0;
    unsigned char *v = valid_file(&n, NN_OPTIM_ADAFACTOR, 1), *c;
    nn_net_desc d = desc_of(&shapes[1]);
    int l, in = d.n_inputs;
    if (!v) { NN_CHECK(0, "adafactor file"); return; }
    for (l = 0; l < (int)L; l++) { F += 2 * (size_t)d.layers[l].units + (size_t)in; in = d.layers[l].units; }
    P = (size_t)nn__get_u64(v + HDR(L));
    Q = HDR(L) + 8 + 4 * P;
    NN_CHECK(nn__get_u32(v + Q) == NN_OPTIM_ADAFACTOR && nn__get_u32(v + Q + 52) == 0 && n == Q + 56 + 4 * F + 4,
             "adafactor file layout: %zu bytes, want %zu", n, Q + 56 + 4 * F + 4);
    c = (unsigned char *)malloc(n);
    load_expect(v, n, NN_OK, "adafactor valid");
    memcpy(c, v, n); put32(c + n - 8, 0xbf800000u); fix_crc(c, n);
    load_expect(c, n, NN_ERR_CORRUPT, "adafactor second moment < 0");
    memcpy(c, v, n); put32(c + Q + 56, 0x7fc00000u); fix_crc(c, n);
    load_expect(c, n, NN_ERR_CORRUPT, "adafactor second moment NaN");
    memcpy(c, v, n); put64(c + 16, n - 4); fix_crc(c, n - 4);
    load_expect(c, n - 4, NN_ERR_CORRUPT, "adafactor state one float short");
    memcpy(c, v, n); put32(c + Q + 52, 1); fix_crc(c, n);
    load_expect(c, n, NN_ERR_CORRUPT, "adafactor S 1 without beta1");
    free(c);
    free(v);
}

static void test_frozen(void)
{
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    size_t n, i;
    unsigned char *now = freeze_model(&n), *again, *v2;
    size_t n2 = 0;
    float want[128], state[128]; /* the padded layout: 4 segments of 16 */
    if (getenv("NN_TEST_IO_DUMP")) {
        for (i = 0; i < n; i++) printf("0x%02x,%s", now[i], i % 12 == 11 ? "\n" : " ");
        printf("\n");
    }
    v2 = v1_to_v2(frozen, sizeof frozen, &n2);
    NN_CHECK(v2 && n == n2 && memcmp(now, v2, n) == 0,
             "the writer's bytes differ from the frozen file as version 2 (format changed?)");
    NN_CHECK(nn_net_load_mem(frozen, sizeof frozen, NULL, &net, &opt) == NN_OK && net && opt, "frozen loads");
    if (net && opt) {
        const nn_net_desc *d = nn_net_get_desc(net);
        NN_CHECK(net->n_params <= 128, "padded size %zu", net->n_params);
        if (net->n_params > 128) return;
        memset(want, 0, sizeof want);
        memset(state, 0, sizeof state);
        set_layerwise(net, want, frozen_params);
        set_layerwise(net, state, frozen_state);
        NN_CHECK(memcmp(net->params, want, net->n_params * sizeof(float)) == 0, "frozen parameters");
        NN_CHECK(memcmp(opt->s1, state, opt->n * sizeof(float)) == 0, "frozen optimizer state");
        NN_CHECK(d->n_inputs == 2 && nn_net_n_layers(net) == 2 && d->layers[0].units == 2 &&
                 d->layers[1].units == 1 && d->layers[0].act == NN_ACT_TANH &&
                 d->layers[1].act == NN_ACT_SIGMOID && d->loss == NN_LOSS_BCE && d->max_batch == 4 &&
                 d->seed == 7, "frozen desc");
        NN_CHECK(nn_optim_get_desc(opt)->kind == NN_OPTIM_MOMENTUM && nn_optim_get_lr(opt) == 0.125f &&
                 nn_optim_steps(opt) == 2, "frozen optimizer desc");
        again = save_buf(net, opt, &n);
        NN_CHECK(again && v2 && n == n2 && memcmp(again, v2, n) == 0, "frozen v1 re-saves as the same model in v2");
        free(again);
        {
            const float x[2] = { 1.0f, -1.0f };
            const float *y;
            /* sigmoid(2 tanh(0.5+0.25+0.0625) - 1.5 tanh(0.125-1-0.5) + 0.75), in double */
            double h0 = tanh(0.8125), h1 = tanh(-1.375), z = 2.0 * h0 - 1.5 * h1 + 0.75;
            double ref = 1.0 / (1.0 + exp(-z));
            nn_net_forward(net, x, 1, &y);
            NN_CHECK(fabs(y[0] - ref) < 1e-5, "frozen prediction %.7f want %.7f", (double)y[0], ref);
        }
    }
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    free(now);
    free(v2);
}

int main(void)
{
    char tmpl[] = "/tmp/nn_test_io.XXXXXX";
    nn_test_begin("test_io");
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(tmpdir, sizeof tmpdir, "%s", tmpl);
    printf("io path: %s, backend %s\n", NN__POSIX_IO ? "posix (O_EXCL, fsync)" : "plain C", nn_simd_backend_name());
    test_crc();
    test_round_trip();
    test_inference_only();
    test_resume();
    test_crafted();
    test_save_errors();
    test_atomic_save();
    test_save_mode_and_links();
    test_frozen();
    test_v1_file();
    test_adafactor_file();
    {
        char p[512];
        path_in_tmp(p, sizeof p, "rt.nn");
        remove(p);
        path_in_tmp(p, sizeof p, "resume.nn");
        remove(p);
        path_in_tmp(p, sizeof p, "atomic.nn");
        remove(p);
        rmdir(tmpdir);
    }
    return nn_test_done();
}
