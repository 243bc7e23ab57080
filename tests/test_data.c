/* test_data.c - nn_data.h: gzip/inflate, IDX, CSV, helpers.

   Oracles are independent of the code under test:
     - gzip fixtures in tests/data/ made by the system gzip from corpora this program
       generates deterministically (`test_data --corpus KIND`, see tests/data/README);
     - DEFLATE streams built here bit by bit (stored, fixed and dynamic blocks, and
       invalid ones) with the RFC 1951 tables typed in from the RFC and a bitwise CRC-32;
     - if the system gzip is present, round trips of random data at levels 1, 6, 9;
     - strtof (correctly rounded) for the CSV number parser.
   Every allocation goes through a counting allocator: no test may leave one live.
   NN_DATA_MAX_BYTES is lowered to 48 MiB here so that the limit can be hit cheaply
   (Fashion-MNIST's largest file, 47,040,016 bytes, still fits). */
#define _POSIX_C_SOURCE 200809L
#ifndef NN_TEST_LINKED /* make links tests/nn_test_impl.c, built once */
#define NN_IMPLEMENTATION
#endif
#define NN_DATA_IMPLEMENTATION
#define NN_DATA_MAX_BYTES ((size_t)48 << 20)
#include "nn.h"
#include "nn_data.h"
#include "nn_test.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef NN_TEST_DATA_DIR
#  define NN_TEST_DATA_DIR "tests/data"
#endif
#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

/* ------------------------------------------------------------------ allocator */
typedef struct counter { long live, calls, fail_at; } counter;

static void *count_alloc(size_t size, size_t align, void *user)
{
    counter *c = (counter *)user;
    void *p = NULL;
    if (c->fail_at >= 0 && c->calls++ == c->fail_at) return NULL;
    if (c->fail_at < 0) c->calls++;
    if (posix_memalign(&p, align, size)) return NULL;
    c->live++;
    return p;
}

static void count_free(void *p, void *user)
{
    ((counter *)user)->live--;
    free(p);
}

static counter g_cnt = { 0, 0, -1 };
static nn_allocator g_alloc = { count_alloc, count_free, &g_cnt };

/* 1 if the n bytes at p are all zero (an output zeroed on entry). */
static int is_zero(const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

/* ------------------------------------------------------------------ corpora */
static uint64_t g_rs;
static uint32_t rnd(void)
{
    g_rs = g_rs * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(g_rs >> 33);
}

/* Deterministic inputs for the fixtures: "text" 200000 bytes of words, "small" its
   first 3000 bytes, "random" 100000 random bytes, "short" a sentence, "empty". */
static unsigned char *corpus(const char *kind, size_t *n)
{
    static const char *words[] = { "the", "of", "neural", "network", "gradient", "a",
                                   "descent", "layer", "weights", "and", "bias", "to",
                                   "relu", "softmax", "batch", "is", "loss", "in",
                                   "learning", "rate", "epoch", "zlib", "inflate", "x" };
    unsigned char *b;
    size_t i = 0, len;
    g_rs = 12345;
    if (!strcmp(kind, "text") || !strcmp(kind, "small")) len = !strcmp(kind, "text") ? 200000 : 3000;
    else if (!strcmp(kind, "random")) len = 100000;
    else if (!strcmp(kind, "short")) len = 64;
    else len = 0;
    b = (unsigned char *)malloc(len + 1);
    if (!strcmp(kind, "short")) memcpy(b, "The quick brown fox jumps over the lazy dog; the lazy dog sleeps.", 64);
    else if (!strcmp(kind, "random")) for (i = 0; i < len; i++) b[i] = (unsigned char)rnd();
    else {
        while (i < len) {
            uint32_t r = rnd();
            const char *w = words[((r % 24) * ((r >> 8) % 3 ? 1 : 0) + ((r >> 12) % 5)) % 24];
            char tmp[32];
            size_t k;
            if ((r >> 20) % 4 == 0) snprintf(tmp, sizeof tmp, "%u", (unsigned)(rnd() % 100000));
            else snprintf(tmp, sizeof tmp, "%s", w);
            for (k = 0; tmp[k] && i < len; k++) b[i++] = (unsigned char)tmp[k];
            if (i < len) b[i++] = (unsigned char)((r >> 28) == 0 ? '\n' : ' ');
        }
    }
    *n = len;
    return b;
}

/* ------------------------------------------------------------------ CRC, files */
static uint32_t crc32_ref(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    int k;
    while (n--) {
        c ^= *p++;
        for (k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long sz;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = (unsigned char *)malloc((size_t)sz + 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

static int spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    if (n) fwrite(p, 1, n, f);
    return fclose(f) == 0;
}

static char g_dir[64];
static const char *tmp_path(const char *name)
{
    static char buf[4][160];
    static int k;
    k = (k + 1) & 3;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

/* ------------------------------------------------------------------ bit writer */
typedef struct bw { unsigned char *b; size_t n, cap; uint32_t acc; unsigned nb; } bw;

static void bw_init(bw *w) { memset(w, 0, sizeof *w); w->cap = 1 << 16; w->b = (unsigned char *)malloc(w->cap); }
static void bw_byte(bw *w, unsigned v)
{
    if (w->n == w->cap) { w->cap *= 2; w->b = (unsigned char *)realloc(w->b, w->cap); }
    w->b[w->n++] = (unsigned char)v;
}
static void bw_put(bw *w, unsigned v, unsigned n)  /* LSB first */
{
    unsigned i;
    for (i = 0; i < n; i++) {
        w->acc |= ((v >> i) & 1u) << w->nb;
        if (++w->nb == 8) { bw_byte(w, w->acc); w->acc = 0; w->nb = 0; }
    }
}
static void bw_code(bw *w, unsigned code, unsigned len)  /* Huffman codes: MSB first */
{
    while (len--) bw_put(w, (code >> len) & 1u, 1);
}
static void bw_align(bw *w) { if (w->nb) bw_put(w, 0, 8 - w->nb); }

/* RFC 1951 3.2.5, typed from the RFC */
static const unsigned len_base[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27,
                                       31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
static const unsigned len_extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3,
                                        3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const unsigned dist_base[30] = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129,
                                        193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                                        4097, 6145, 8193, 12289, 16385, 24577 };
static const unsigned dist_extra[30] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7,
                                         8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

/* RFC 1951 3.2.6 fixed code */
static void fixed_sym(bw *w, unsigned s)
{
    if (s < 144) bw_code(w, 0x30 + s, 8);
    else if (s < 256) bw_code(w, 0x190 + s - 144, 9);
    else if (s < 280) bw_code(w, s - 256, 7);
    else bw_code(w, 0xc0 + s - 280, 8);
}
static void fixed_match(bw *w, unsigned len, unsigned dist)
{
    int i = 28, j = 29;
    while (len_base[i] > len) i--;
    fixed_sym(w, 257 + (unsigned)i);
    bw_put(w, len - len_base[i], len_extra[i]);
    while (dist_base[j] > dist) j--;
    bw_code(w, (unsigned)j, 5);
    bw_put(w, dist - dist_base[j], dist_extra[j]);
}

/* A fixed-Huffman block of content [n] (history: the hist bytes before it, already
   output), greedy matches at a few candidate distances. */
static void block_fixed(bw *w, const unsigned char *c, size_t n, size_t hist, int final)
{
    static const size_t cand[] = { 1, 2, 3, 4, 7, 8, 9, 16, 100, 257, 1000, 4097, 32768 };
    size_t i = 0, k;
    bw_put(w, (unsigned)final, 1);
    bw_put(w, 1, 2);
    while (i < n) {
        size_t best = 0, bd = 0;
        for (k = 0; k < sizeof cand / sizeof cand[0]; k++) {
            size_t d = cand[k], l = 0;
            if (d > hist + i) break;
            while (l < 258 && i + l < n && c[i + l] == c[i + l - d]) l++;
            if (l > best) { best = l; bd = d; }
        }
        if (best >= 3) { fixed_match(w, (unsigned)best, (unsigned)bd); i += best; }
        else fixed_sym(w, c[i++]);
    }
    fixed_sym(w, 256);
}

static void block_stored(bw *w, const unsigned char *c, size_t n, int final)
{
    size_t i;
    bw_put(w, (unsigned)final, 1);
    bw_put(w, 0, 2);
    bw_align(w);
    bw_put(w, (unsigned)n, 16);
    bw_put(w, (unsigned)~n & 0xffffu, 16);
    for (i = 0; i < n; i++) bw_byte(w, c[i]);
}

/* Canonical codes from lengths (RFC 1951 3.2.2). */
static void canon(const unsigned char *lens, unsigned n, unsigned *codes)
{
    unsigned bl[16] = { 0 }, next[16], code = 0, b, s;
    for (s = 0; s < n; s++) bl[lens[s]]++;
    bl[0] = 0;
    for (b = 1; b < 16; b++) { code = (code + bl[b - 1]) << 1; next[b] = code; }
    for (s = 0; s < n; s++) if (lens[s]) codes[s] = next[lens[s]]++;
}

/* A dynamic block with a hand-chosen code: literals 0..253 8 bits, 254..257 9 bits
   (257 = match length 3), 258..285 unused; one distance code (1) of 1 bit (an
   incomplete distance code, allowed by the RFC). The code lengths are sent with
   repeat codes 16 and 18. Content: literals, and length-3 distance-1 matches. */
static void block_dynamic(bw *w, const unsigned char *c, size_t n, size_t hist, int final)
{
    static const unsigned char order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };
    unsigned char cl[19] = { 0 }, lit[286] = { 0 };
    unsigned clc[19], litc[286], i, k;
    size_t p = 0;
    for (i = 0; i < 254; i++) lit[i] = 8;
    for (i = 254; i < 258; i++) lit[i] = 9;
    cl[8] = 2; cl[16] = 2; cl[9] = 3; cl[18] = 3; cl[1] = 3; cl[0] = 3;
    canon(cl, 19, clc);
    canon(lit, 286, litc);
    bw_put(w, (unsigned)final, 1);
    bw_put(w, 2, 2);
    bw_put(w, 286 - 257, 5);
    bw_put(w, 2 - 1, 5);
    bw_put(w, 18 - 4, 4);
    for (i = 0; i < 18; i++) bw_put(w, cl[order[i]], 3);
    bw_code(w, clc[8], 2);                                  /* 8 x 254 */
    for (k = 0; k < 42; k++) { bw_code(w, clc[16], 2); bw_put(w, 3, 2); }
    bw_code(w, clc[8], 2);
    bw_code(w, clc[9], 3);                                  /* 9 x 4 */
    bw_code(w, clc[16], 2); bw_put(w, 0, 2);
    bw_code(w, clc[18], 3); bw_put(w, 28 - 11, 7);          /* 0 x 28 */
    bw_code(w, clc[1], 3);                                  /* dist 0: 1 bit, dist 1: none */
    bw_code(w, clc[0], 3);
    while (p < n) {
        if (p + hist >= 1 && p + 3 <= n && c[p] == (p ? c[p - 1] : c[-1]) &&
            c[p + 1] == c[p] && c[p + 2] == c[p]) {
            bw_code(w, litc[257], 9);
            bw_code(w, 0, 1);
            p += 3;
        } else {
            bw_code(w, litc[c[p]], lit[c[p]]);
            p++;
        }
    }
    bw_code(w, litc[256], 9);
}

/* A gzip member around raw DEFLATE data. flg may have FEXTRA/FNAME/FCOMMENT/FHCRC. */
static size_t gz_wrap(unsigned char *out, const unsigned char *defl, size_t dn,
                      const unsigned char *content, size_t cn, unsigned flg)
{
    size_t n = 10;
    uint32_t crc = crc32_ref(content, cn);
    static const unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, 0x78, 0x56, 0x34, 0x12, 2, 3 };
    memcpy(out, hdr, 10);
    out[3] = (unsigned char)flg;
    if (flg & 4) { out[n++] = 5; out[n++] = 0; memcpy(out + n, "AB\3\0x", 5); n += 5; }
    if (flg & 8) { memcpy(out + n, "name.bin", 9); n += 9; }
    if (flg & 16) { memcpy(out + n, "a comment", 10); n += 10; }
    if (flg & 2) {
        uint32_t h = crc32_ref(out, n);
        out[n++] = (unsigned char)h;
        out[n++] = (unsigned char)(h >> 8);
    }
    memcpy(out + n, defl, dn);
    n += dn;
    out[n++] = (unsigned char)crc; out[n++] = (unsigned char)(crc >> 8);
    out[n++] = (unsigned char)(crc >> 16); out[n++] = (unsigned char)(crc >> 24);
    out[n++] = (unsigned char)cn; out[n++] = (unsigned char)(cn >> 8);
    out[n++] = (unsigned char)(cn >> 16); out[n++] = (unsigned char)(cn >> 24);
    return n;
}

/* gz_wrap of a bit writer's stream (flushing its last partial byte first). */
static size_t gz_bw(unsigned char *out, bw *w, const unsigned char *content, size_t cn, unsigned flg)
{
    bw_align(w);
    return gz_wrap(out, w->b, w->n, content, cn, flg);
}

/* Stored-only gzip of content (blocks of at most `block` bytes). malloc'ed. */
static unsigned char *gz_stored(const unsigned char *c, size_t n, size_t block, size_t *gn)
{
    bw w;
    size_t i = 0;
    unsigned char *g;
    bw_init(&w);
    do {
        size_t k = n - i < block ? n - i : block;
        block_stored(&w, c + i, k, i + k == n);
        i += k;
    } while (i < n);
    g = (unsigned char *)malloc(w.n + 64);
    *gn = gz_bw(g, &w, c, n, 0);
    free(w.b);
    return g;
}

/* gunzip through the counting allocator; checks no allocation stays live. */
static nn_status gunzip_check(const unsigned char *src, size_t n, unsigned char **out, size_t *on)
{
    void *d = NULL;
    size_t dn = 0;
    long live0 = g_cnt.live;
    nn_status st = nn_data_gunzip(src, n, &d, &dn, &g_alloc);
    if (st == NN_OK) {
        NN_CHECK(g_cnt.live == live0 + 1, "gunzip ok: %ld live allocations, want 1",
                 g_cnt.live - live0);
        *out = (unsigned char *)malloc(dn + 1);
        memcpy(*out, d, dn);
        *on = dn;
        nn_data_free_buf(d, &g_alloc);
    } else {
        NN_CHECK(g_cnt.live == live0, "gunzip error %s leaked %ld allocations",
                 nn_status_str(st), g_cnt.live - live0);
        *out = NULL;
        *on = 0;
    }
    return st;
}

static void expect_inflate(const char *what, const unsigned char *gz, size_t gn,
                           const unsigned char *want, size_t wn)
{
    unsigned char *o;
    size_t on;
    nn_status st = gunzip_check(gz, gn, &o, &on);
    NN_CHECK(st == NN_OK, "%s: gunzip: %s", what, nn_status_str(st));
    if (st == NN_OK) {
        NN_CHECK(on == wn && (wn == 0 || memcmp(o, want, wn) == 0),
                 "%s: output differs (%zu bytes, want %zu)", what, on, wn);
    }
    free(o);
}

static void expect_status(const char *what, const unsigned char *gz, size_t gn, nn_status want)
{
    unsigned char *o;
    size_t on;
    nn_status st = gunzip_check(gz, gn, &o, &on);
    NN_CHECK(st == want, "%s: got %s, want %s", what, nn_status_str(st), nn_status_str(want));
    free(o);
}

/* ------------------------------------------------------------------ fixtures */
static unsigned first_block_type(const unsigned char *gz)  /* header without options */
{
    return (gz[10] >> 1) & 3;
}

static void test_fixtures(void)
{
    static const struct { const char *file, *kind; int type; unsigned flg; } fx[] = {
        { "text_9.gz", "text", 2, 0 },   { "text_1.gz", "text", 2, 0 },
        { "small_9.gz", "small", 2, 0 }, { "random_9.gz", "random", 0, 0 },
        { "short_9.gz", "short", 1, 0 }, { "empty.gz", "empty", -1, 0 },
        { "short_named.gz", "short", -1, 8 },
    };
    size_t i;
    for (i = 0; i < sizeof fx / sizeof fx[0]; i++) {
        char path[256];
        size_t gn, cn;
        unsigned char *gz, *c;
        snprintf(path, sizeof path, "%s/%s", NN_TEST_DATA_DIR, fx[i].file);
        gz = slurp(path, &gn);
        NN_CHECK(gz != NULL, "fixture %s missing (run from the repository root)", path);
        if (!gz) continue;
        c = corpus(fx[i].kind, &cn);
        NN_CHECK((gz[3] & 0x1c) == fx[i].flg, "%s: header flags %#x", fx[i].file, gz[3]);
        if (fx[i].type >= 0)
            NN_CHECK((int)first_block_type(gz) == fx[i].type, "%s: first block type %u, want %d",
                     fx[i].file, first_block_type(gz), fx[i].type);
        expect_inflate(fx[i].file, gz, gn, c, cn);
        free(gz);
        free(c);
    }
}

/* Every truncation and every single-bit flip of a small dynamic-Huffman file and of a
   fixed-Huffman one: an error (truncations: NN_ERR_TRUNCATED exactly) or, for bytes
   nothing checks (MTIME, XFL, OS, FTEXT, padding bits after the last block), the
   same output. Never a crash (ASan run), never a leak (counter). */
static void test_corruption(void)
{
    static const struct { const char *file, *kind; } fx[] = { { "small_9.gz", "small" },
                                                             { "short_9.gz", "short" } };
    size_t f;
    for (f = 0; f < 2; f++) {
        char path[256];
        size_t gn, cn, i, ok_same = 0, errors = 0;
        unsigned char *gz, *c, *m, *o;
        snprintf(path, sizeof path, "%s/%s", NN_TEST_DATA_DIR, fx[f].file);
        gz = slurp(path, &gn);
        if (!gz) { NN_CHECK(0, "fixture %s missing", path); continue; }
        c = corpus(fx[f].kind, &cn);
        m = (unsigned char *)malloc(gn + 2);
        for (i = 0; i < gn; i++) {
            size_t on;
            nn_status st;
            memcpy(m, gz, i);
            st = gunzip_check(m, i, &o, &on);
            NN_CHECK(st == NN_ERR_TRUNCATED, "%s cut to %zu bytes: %s", fx[f].file, i,
                     nn_status_str(st));
            free(o);
        }
        for (i = 0; i < gn * 8; i++) {
            size_t on;
            nn_status st;
            memcpy(m, gz, gn);
            m[i / 8] ^= (unsigned char)(1u << (i % 8));
            st = gunzip_check(m, gn, &o, &on);
            if (st == NN_OK) {
                NN_CHECK(on == cn && memcmp(o, c, cn) == 0, "%s bit %zu flipped: wrong output, no error",
                         fx[f].file, i);
                ok_same++;   /* MTIME/XFL/OS/FTEXT, padding bits, or a distance extra bit
                                that points at identical bytes: the CRC agrees */
            } else {
                errors++;
            }
            if (i / 8 < 3) NN_CHECK(st == NN_ERR_FORMAT, "%s magic bit %zu: %s", fx[f].file, i, nn_status_str(st));
            if (i / 8 >= gn - 8) NN_CHECK(st == NN_ERR_CRC, "%s trailer bit %zu: %s", fx[f].file, i, nn_status_str(st));
            free(o);
        }
        printf("corruption %s: %zu truncations, %zu bit flips: %zu errors, %zu harmless\n",
               fx[f].file, gn, gn * 8, errors, ok_same);
        /* trailing bytes after the member */
        memcpy(m, gz, gn);
        m[gn] = 0;
        expect_status("trailing zero byte", m, gn + 1, NN_ERR_FORMAT);
        m[gn] = 0x1f;
        m[gn + 1] = 0x8b;
        expect_status("trailing partial member", m, gn + 2, NN_ERR_TRUNCATED);
        free(m);
        free(gz);
        free(c);
    }
}

/* Streams built here: every block type, mixed in one stream, multi-member, header
   options, and each kind of invalid data. */
static void test_handmade(void)
{
    size_t tn, i;
    unsigned char *text = corpus("text", &tn), *g = (unsigned char *)malloc(1 << 20);
    unsigned char *content = (unsigned char *)malloc(40000);
    size_t gn, cn = 0;
    bw w;
    /* content: text, a long run, more text */
    memcpy(content, text, 20000);
    memset(content + 20000, 'z', 1000);
    memcpy(content + 21000, text + 50000, 19000);
    cn = 40000;

    /* stored: one block, many blocks, an empty file */
    {
        unsigned char *s = gz_stored(content, cn, 65535, &gn);
        expect_inflate("stored, 1 block", s, gn, content, cn);
        free(s);
        s = gz_stored(content, cn, 997, &gn);
        expect_inflate("stored, 41 blocks", s, gn, content, cn);
        free(s);
        s = gz_stored(content, 0, 10, &gn);
        expect_inflate("stored, empty", s, gn, content, 0);
        free(s);
    }
    /* fixed: literals and matches of all lengths, distances up to 32768 */
    bw_init(&w);
    block_fixed(&w, content, cn, 0, 1);
    gn = gz_bw(g, &w, content, cn, 0);
    expect_inflate("fixed, 1 block", g, gn, content, cn);
    free(w.b);
    /* dynamic (hand-made code, repeat codes, incomplete distance code) */
    bw_init(&w);
    block_dynamic(&w, content, cn, 0, 1);
    gn = gz_bw(g, &w, content, cn, 0);
    expect_inflate("dynamic, 1 block", g, gn, content, cn);
    free(w.b);
    /* all kinds in one stream, matches reaching back into earlier blocks */
    bw_init(&w);
    block_stored(&w, content, 5000, 0);
    block_fixed(&w, content + 5000, 10000, 5000, 0);
    block_stored(&w, content, 0, 0);
    block_dynamic(&w, content + 15000, 10000, 15000, 0);
    block_fixed(&w, content + 25000, 15000, 25000, 0);
    block_fixed(&w, content, 0, 0, 1);
    gn = gz_bw(g, &w, content, cn, 0);
    expect_inflate("stored+fixed+stored0+dynamic+fixed+fixed0", g, gn, content, cn);
    free(w.b);

    /* header options, each alone and all together; bad header CRC */
    {
        static const unsigned flags[] = { 1, 2, 4, 8, 16, 1 | 2 | 4 | 8 | 16 };
        bw_init(&w);
        block_fixed(&w, content, 3000, 0, 1);
        for (i = 0; i < sizeof flags / sizeof flags[0]; i++) {
            char what[64];
            gn = gz_bw(g, &w, content, 3000, flags[i]);
            snprintf(what, sizeof what, "header FLG %#x", flags[i]);
            expect_inflate(what, g, gn, content, 3000);
            if (flags[i] & 2) {
                size_t h = gn - 8 - w.n - 1;                 /* high byte of the CRC16 */
                NN_CHECK(w.nb == 0, "stream not flushed");
                g[h] ^= 1;
                expect_status("bad FHCRC", g, gn, NN_ERR_CRC);
            }
        }
        gn = gz_bw(g, &w, content, 3000, 32);
        expect_status("reserved FLG bit", g, gn, NN_ERR_FORMAT);
        gn = gz_bw(g, &w, content, 3000, 0);
        g[2] = 7;
        expect_status("CM 7", g, gn, NN_ERR_FORMAT);
        g[2] = 8;
        g[gn - 1] ^= 1;
        expect_status("wrong ISIZE", g, gn, NN_ERR_CRC);
        g[gn - 1] ^= 1;
        g[gn - 8] ^= 1;
        expect_status("wrong CRC", g, gn, NN_ERR_CRC);
        g[gn - 8] ^= 1;
        /* two members: the output is the concatenation */
        memcpy(g + gn, g, gn);
        {
            unsigned char *two = (unsigned char *)malloc(6000);
            memcpy(two, content, 3000);
            memcpy(two + 3000, content, 3000);
            expect_inflate("two members", g, 2 * gn, two, 6000);
            free(two);
        }
        free(w.b);
    }
    /* a member may not reach back into the previous member's output */
    {
        size_t n1;
        bw_init(&w);
        block_stored(&w, (const unsigned char *)"abc", 3, 1);
        n1 = gz_bw(g, &w, (const unsigned char *)"abc", 3, 0);
        free(w.b);
        bw_init(&w);
        bw_put(&w, 1, 1);
        bw_put(&w, 1, 2);
        fixed_match(&w, 3, 3);
        fixed_sym(&w, 256);
        gn = gz_bw(g + n1, &w, (const unsigned char *)"abc", 3, 0);
        free(w.b);
        expect_status("match into the previous member", g, n1 + gn, NN_ERR_FORMAT);
    }

    /* invalid DEFLATE data */
#define BAD_STREAM(what, want, ...)                                            \
    do {                                                                       \
        bw_init(&w);                                                           \
        __VA_ARGS__;                                                           \
        bw_align(&w);                                                          \
        for (i = 0; i < 16; i++) bw_byte(&w, 0);                               \
        gn = gz_bw(g, &w, content, 0, 0);                              \
        expect_status(what, g, gn, want);                                      \
        free(w.b);                                                             \
    } while (0)
    BAD_STREAM("block type 3", NN_ERR_FORMAT, bw_put(&w, 1, 1); bw_put(&w, 3, 2));
    BAD_STREAM("stored NLEN", NN_ERR_FORMAT, bw_put(&w, 1, 3); bw_align(&w); bw_put(&w, 5, 16);
               bw_put(&w, 5, 16));
    BAD_STREAM("distance before start", NN_ERR_FORMAT, bw_put(&w, 1, 1); bw_put(&w, 1, 2);
               fixed_sym(&w, 'a'); fixed_match(&w, 3, 2));
    BAD_STREAM("length symbol 286", NN_ERR_FORMAT, bw_put(&w, 1, 1); bw_put(&w, 1, 2);
               fixed_sym(&w, 286));
    BAD_STREAM("distance symbol 30", NN_ERR_FORMAT, bw_put(&w, 1, 1); bw_put(&w, 1, 2);
               fixed_sym(&w, 'a'); fixed_sym(&w, 257); bw_code(&w, 30, 5));
    BAD_STREAM("HLIT 287", NN_ERR_FORMAT, bw_put(&w, 1, 1); bw_put(&w, 2, 2); bw_put(&w, 30, 5);
               bw_put(&w, 0, 5); bw_put(&w, 0, 4));
    BAD_STREAM("HDIST 31", NN_ERR_FORMAT, bw_put(&w, 1, 1); bw_put(&w, 2, 2); bw_put(&w, 0, 5);
               bw_put(&w, 30, 5); bw_put(&w, 0, 4));
    BAD_STREAM("over-subscribed code-length code", NN_ERR_FORMAT, bw_put(&w, 1, 1);
               bw_put(&w, 2, 2); bw_put(&w, 0, 5); bw_put(&w, 0, 5); bw_put(&w, 15, 4);
               for (i = 0; i < 19; i++) bw_put(&w, 1, 3));
    BAD_STREAM("incomplete code-length code", NN_ERR_FORMAT, bw_put(&w, 1, 1);
               bw_put(&w, 2, 2); bw_put(&w, 0, 5); bw_put(&w, 0, 5); bw_put(&w, 15, 4);
               for (i = 0; i < 19; i++) bw_put(&w, 2, 3));
    /* code-length code: symbols 16, 17, 18, 0 get 2 bits each: canonical codes in symbol
       order, 0 -> 00, 16 -> 01, 17 -> 10, 18 -> 11 */
    BAD_STREAM("repeat with nothing before", NN_ERR_FORMAT, bw_put(&w, 1, 1); bw_put(&w, 2, 2);
               bw_put(&w, 0, 5); bw_put(&w, 0, 5); bw_put(&w, 0, 4);
               for (i = 0; i < 4; i++) bw_put(&w, 2, 3);
               bw_code(&w, 1, 2); bw_put(&w, 0, 2));
    BAD_STREAM("repeat past HLIT+HDIST", NN_ERR_FORMAT, bw_put(&w, 1, 1); bw_put(&w, 2, 2);
               bw_put(&w, 0, 5); bw_put(&w, 0, 5); bw_put(&w, 0, 4);
               for (i = 0; i < 4; i++) bw_put(&w, 2, 3);
               for (i = 0; i < 3; i++) { bw_code(&w, 3, 2); bw_put(&w, 127, 7); });
    BAD_STREAM("no end-of-block code", NN_ERR_FORMAT, bw_put(&w, 1, 1); bw_put(&w, 2, 2);
               bw_put(&w, 0, 5); bw_put(&w, 0, 5); bw_put(&w, 0, 4);
               for (i = 0; i < 4; i++) bw_put(&w, 2, 3);
               bw_code(&w, 3, 2); bw_put(&w, 127, 7);       /* 138 zeros */
               bw_code(&w, 3, 2); bw_put(&w, 108, 7);       /* 119 zeros: 257 */
               bw_code(&w, 0, 2));                          /* dist 0: length 0 */
#undef BAD_STREAM
    expect_status("empty input", g, 0, NN_ERR_TRUNCATED);
    expect_status("not gzip", (const unsigned char *)"PK\3\4 zip file", 14, NN_ERR_FORMAT);
    {
        void *d;
        size_t dn;
        NN_CHECK(nn_data_gunzip(NULL, 1, &d, &dn, NULL) == NN_ERR_INVALID, "gunzip NULL src");
        NN_CHECK(nn_data_gunzip(g, 1, NULL, &dn, NULL) == NN_ERR_INVALID, "gunzip NULL dst");
        NN_CHECK(nn_data_is_gzip("\x1f\x8b", 2) && !nn_data_is_gzip("\x1f", 1), "is_gzip");
    }
    free(text);
    free(g);
    free(content);
}

/* Limits: a small stream whose output passes NN_DATA_MAX_BYTES (48 MiB here), and
   every allocation failing in turn. */
static void test_limits(void)
{
    bw w;
    size_t gn, i, k;
    unsigned char *g;
    bw_init(&w);
    bw_put(&w, 1, 1);
    bw_put(&w, 1, 2);
    fixed_sym(&w, 'a');
    for (k = 0; k < (NN_DATA_MAX_BYTES / 258) + 2; k++) fixed_match(&w, 258, 1);
    fixed_sym(&w, 256);
    g = (unsigned char *)malloc(w.n + 64);
    gn = gz_bw(g, &w, (const unsigned char *)"", 0, 0);
    g[gn - 1] = 0x7f;                          /* ISIZE claims 2 GiB */
    expect_status("zip bomb past NN_DATA_MAX_BYTES", g, gn, NN_ERR_LIMIT);
    free(w.b);
    free(g);
    /* allocation failures: each allocation of a gunzip in turn */
    {
        size_t cn;
        unsigned char *c = corpus("small", &cn);
        g = gz_stored(c, cn, 1000, &gn);
        for (i = 0;; i++) {
            void *d = NULL;
            size_t dn;
            nn_status st;
            g_cnt.fail_at = (long)i;
            g_cnt.calls = 0;
            st = nn_data_gunzip(g, gn, &d, &dn, &g_alloc);
            g_cnt.fail_at = -1;
            NN_CHECK(g_cnt.live == (st == NN_OK), "alloc failure %zu: %ld live", i, g_cnt.live);
            if (st == NN_OK) nn_data_free_buf(d, &g_alloc);
            /* the one-pass buffer (call 1) failing falls back to the two passes */
            NN_CHECK(st == (i == 1 ? NN_OK : NN_ERR_NOMEM) || (long)i >= g_cnt.calls,
                     "alloc failure %zu: %s", i, nn_status_str(st));
            if ((long)i >= g_cnt.calls || i > 10) break;
        }
        NN_CHECK(i == 2, "gunzip made %zu allocations", i);
        free(g);
        free(c);
    }
}

/* Peak resident memory of this process so far, in KiB (Linux: ru_maxrss). */
static long max_rss_kib(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

/* A gzip member of 'a' followed by k matches of 258 at distance 1 (1 + 258 k bytes
   of 'a' from ~1.6 bytes per KiB), with the trailer's CRC and ISIZE given. */
static unsigned char *gz_bomb(size_t k, uint32_t crc, uint32_t isize, size_t *gn)
{
    bw w;
    size_t i;
    unsigned char *g;
    bw_init(&w);
    bw_put(&w, 1, 1);
    bw_put(&w, 1, 2);
    fixed_sym(&w, 'a');
    for (i = 0; i < k; i++) fixed_match(&w, 258, 1);
    fixed_sym(&w, 256);
    g = (unsigned char *)malloc(w.n + 64);
    *gn = gz_bw(g, &w, (const unsigned char *)"", 0, 0);
    free(w.b);
    for (i = 0; i < 4; i++) {
        g[*gn - 8 + i] = (unsigned char)(crc >> (8 * i));
        g[*gn - 4 + i] = (unsigned char)(isize >> (8 * i));
    }
    return g;
}

/* Gzip bombs cost decoding time, not memory: whatever the trailer says, gunzip holds
   the output (only when it succeeds) plus its 256 KiB window. Runs first in main, so
   the peak RSS before it is the program's start-up (ru_maxrss only grows: the refused
   cases come before the one that allocates). */
static void test_bomb_memory(void)
{
    static const struct { const char *what; size_t out; int honest; uint32_t isize; nn_status want; } c[] = {
        { "trailer claims 2 GiB, output past the limit", NN_DATA_MAX_BYTES + 2048, 0, 0x80000000u, NN_ERR_LIMIT },
        { "trailer claims 100 bytes (wrapped), output past the limit", NN_DATA_MAX_BYTES + 2048, 0, 100, NN_ERR_LIMIT },
        { "trailer claims 1000 bytes, 20 MiB inflate to a CRC error", (size_t)20 << 20, 0, 1000, NN_ERR_CRC },
        { "trailer claims the limit, 20 MiB inflate to a CRC error", (size_t)20 << 20, 0, (uint32_t)NN_DATA_MAX_BYTES, NN_ERR_CRC },
        { "honest 16 MiB", (size_t)16 << 20, 1, 0, NN_OK },
    };
    size_t i;
    /* first (ru_maxrss only grows): a trailer within 32x of the input is trusted for one pass into a buffer of its
       size: claiming 32x (1 MiB stored -> 32 MiB) costs the pages written, not 32 MiB */
    {
        size_t n = (size_t)1 << 20, gn, dn = 0, j;
        unsigned char *c = (unsigned char *)malloc(n), *g;
        void *d = NULL;
        uint32_t claim;
        long r0, grow;
        nn_status st;
        for (j = 0; j < n; j++) c[j] = (unsigned char)(j * 2654435761u >> 13);
        g = gz_stored(c, n, 65535, &gn);
        claim = (uint32_t)(32 * gn);
        for (j = 0; j < 4; j++) g[gn - 4 + j] = (unsigned char)(claim >> (8 * j));
        r0 = max_rss_kib();
        st = nn_data_gunzip(g, gn, &d, &dn, &g_alloc);
        grow = max_rss_kib() - r0;
        printf("gzip: trailer claims 32x the input (%zu -> %zu bytes): %s, max RSS +%ld KiB\n",
               gn, n, nn_status_str(st), grow);
        NN_CHECK(st == NN_ERR_CRC && !d && !dn, "trailer 32x: got %s", nn_status_str(st));
        NN_CHECK(grow < 8 * 1024, "trailer 32x: max RSS grew %ld KiB", grow); /* ASan: + shadow */
        free(g);
        free(c);
    }
    for (i = 0; i < sizeof c / sizeof c[0]; i++) {
        size_t k = (c[i].out - 1 + 257) / 258, out = 1 + 258 * k, gn, dn = 0;
        uint32_t crc = 0, isize = c[i].isize;
        unsigned char *g;
        void *d = NULL;
        long r0, grow;
        nn_status st;
        if (c[i].honest) {
            nn__data_crc_tab *t = (nn__data_crc_tab *)malloc(sizeof *t);
            unsigned char a[4096];
            size_t left = out;
            memset(a, 'a', sizeof a);
            nn__data_crc_init(t);
            while (left) {
                size_t m = left < sizeof a ? left : sizeof a;
                crc = nn__data_crc(t, crc, a, m);
                left -= m;
            }
            free(t);
            isize = (uint32_t)out;
        }
        g = gz_bomb(k, crc, isize, &gn);
        r0 = max_rss_kib();
        st = nn_data_gunzip(g, gn, &d, &dn, &g_alloc);
        grow = max_rss_kib() - r0;
        printf("gzip bomb: %s (%zu -> %zu bytes): %s, max RSS +%ld KiB\n", c[i].what, gn, out,
               nn_status_str(st), grow);
        NN_CHECK(st == c[i].want, "bomb %s: got %s, want %s", c[i].what, nn_status_str(st),
                 nn_status_str(c[i].want));
        if (st != NN_OK) NN_CHECK(d == NULL && dn == 0, "bomb %s: outputs not cleared", c[i].what);
        /* refused: the window and the state, far below the 20-48 MiB the file inflates to */
        if (st != NN_OK) NN_CHECK(grow < 8 * 1024, "bomb %s: max RSS grew %ld KiB", c[i].what, grow);
        else NN_CHECK(dn == out, "bomb %s: %zu bytes", c[i].what, dn);
        nn_data_free_buf(d, &g_alloc);
        free(g);
    }
}

/* One pass when the trailer is plausible, two otherwise; the same output either way.
   Counted with the allocator: the state, then the output (one pass), or the window
   and the output (two passes), or a failed one-pass buffer first. */
static void test_gunzip_passes(void)
{
    static const struct { const char *what; long calls; } r[3] = {
        { "one member", 2 }, { "two members (the trailer is the second's)", 4 },
        { "ratio over 32 (1 MiB of 'a')", 3 } };
    const size_t k = 4000, bn = 1 + 258 * k;
    size_t cn, j;
    unsigned char *c = corpus("small", &cn);
    for (j = 0; j < 3; j++) {
        unsigned char *g, *o, *want;
        size_t gn, wn, on;
        nn_status st;
        if (j == 0) {
            g = gz_stored(c, cn, 1000, &gn);
            wn = cn;
            want = (unsigned char *)malloc(wn);
            memcpy(want, c, cn);
        } else if (j == 1) {
            unsigned char *g1 = gz_stored(c, cn, 1000, &gn);
            g = (unsigned char *)malloc(2 * gn);
            memcpy(g, g1, gn);
            memcpy(g + gn, g1, gn);
            free(g1);
            gn *= 2;
            wn = 2 * cn;
            want = (unsigned char *)malloc(wn);
            memcpy(want, c, cn);
            memcpy(want + cn, c, cn);
        } else {
            nn__data_crc_tab *t = (nn__data_crc_tab *)malloc(sizeof *t);
            wn = bn;
            want = (unsigned char *)malloc(wn);
            memset(want, 'a', wn);
            nn__data_crc_init(t);
            g = gz_bomb(k, nn__data_crc(t, 0, want, wn), (uint32_t)wn, &gn);
            free(t);
        }
        g_cnt.calls = 0;
        st = gunzip_check(g, gn, &o, &on);
        NN_CHECK(st == NN_OK && on == wn && !memcmp(o, want, wn), "passes, %s: %s, %zu bytes",
                 r[j].what, nn_status_str(st), on);
        NN_CHECK(g_cnt.calls == r[j].calls, "passes, %s: %ld allocations, want %ld", r[j].what,
                 g_cnt.calls, r[j].calls);
        free(want);
        free(o);
        free(g);
    }
    free(c);
}

/* Outputs are zeroed on entry: freeing them after any failing call is safe. */
static void test_outputs_zeroed(void)
{
    void *buf = (void *)&g_cnt;
    size_t n = 123;
    nn_data d, h;
    nn_status st;
    memset(&d, 0xab, sizeof d);
    NN_CHECK(nn_data_gunzip("x", 1, &buf, &n, NULL) == NN_ERR_FORMAT && !buf && !n, "gunzip outputs");
    nn_data_free_buf(buf, NULL);
    buf = (void *)&g_cnt;
    n = 123;
    NN_CHECK(nn_data_gunzip(NULL, 1, &buf, &n, NULL) == NN_ERR_INVALID && !buf && !n, "gunzip NULL outputs");
    buf = (void *)&g_cnt;
    n = 123;
    NN_CHECK(nn_data_read_file(tmp_path("no-such-file"), &buf, &n, &g_alloc) == NN_ERR_IO && !buf && !n,
             "read_file outputs");
    nn_data_free_buf(buf, &g_alloc);
    buf = (void *)&g_cnt;
    n = 123;
    NN_CHECK(nn_data_load_file(tmp_path("no-such-file"), &buf, &n, &g_alloc) == NN_ERR_IO && !buf && !n,
             "load_file outputs");
    nn_data_free_buf(buf, &g_alloc);
    NN_CHECK(nn_data_parse_idx(NULL, 0, NULL, 0, NULL, &d) == NN_ERR_INVALID && is_zero(&d, sizeof d),
             "parse_idx output");
    nn_data_free(&d);
    memset(&d, 0xab, sizeof d);
    NN_CHECK(nn_data_load_idx(tmp_path("no-such-file"), NULL, &g_alloc, &d) == NN_ERR_IO &&
             is_zero(&d, sizeof d), "load_idx output");
    nn_data_free(&d);
    memset(&d, 0xab, sizeof d);
    NN_CHECK(nn_data_load_csv(tmp_path("no-such-file"), -1, 0, &g_alloc, &d, NULL) == NN_ERR_IO &&
             is_zero(&d, sizeof d), "load_csv output");
    nn_data_free(&d);
    memset(&d, 0xab, sizeof d);
    NN_CHECK(nn_data_load_csv(NULL, -1, 0, &g_alloc, &d, NULL) == NN_ERR_INVALID &&
             is_zero(&d, sizeof d), "load_csv NULL path output");
    nn_data_free(&d);
    /* a directory where a file is expected: NN_ERR_IO, as nn_net_load says (ext4 reports
       a directory's size as huge, which read as NN_ERR_LIMIT) */
    buf = (void *)&g_cnt;
    n = 123;
    st = nn_data_read_file(g_dir, &buf, &n, &g_alloc);
    NN_CHECK(st == NN_ERR_IO && !buf && !n, "read_file of a directory: %s", nn_status_str(st));
    st = nn_data_load_file(g_dir, &buf, &n, &g_alloc);
    NN_CHECK(st == NN_ERR_IO && !buf && !n, "load_file of a directory: %s", nn_status_str(st));
    memset(&d, 0xab, sizeof d);
    st = nn_data_load_idx(g_dir, NULL, &g_alloc, &d);
    NN_CHECK(st == NN_ERR_IO && is_zero(&d, sizeof d), "load_idx of a directory: %s", nn_status_str(st));
    memset(&d, 0xab, sizeof d);
    st = nn_data_load_csv(g_dir, -1, 0, &g_alloc, &d, NULL);
    NN_CHECK(st == NN_ERR_IO && is_zero(&d, sizeof d), "load_csv of a directory: %s", nn_status_str(st));
    { /* a pipe (no size, no seek): every byte, the first one read to tell it from a directory too */
        const char *fifo = tmp_path("fifo");
        pid_t pid;
        if (mkfifo(fifo, 0600) == 0 && (pid = fork()) >= 0) {
            if (pid == 0) { /* the writer: only async-signal-safe calls after fork */
                int w = open(fifo, O_WRONLY);
                _exit(w >= 0 && write(w, "1,2\n3,4\n", 8) == 8 && close(w) == 0 ? 0 : 1);
            }
            st = nn_data_read_file(fifo, &buf, &n, &g_alloc);
            NN_CHECK(st == NN_OK && n == 8 && memcmp(buf, "1,2\n3,4\n", 8) == 0,
                     "read_file of a pipe: %s, %zu bytes", nn_status_str(st), n);
            nn_data_free_buf(buf, &g_alloc);
            waitpid(pid, NULL, 0);
        } else {
            NN_CHECK(0, "mkfifo or fork failed");
        }
        remove(fifo);
    }
    /* split: a refused fraction zeroes the holdout, never the source */
    NN_CHECK(nn_data_parse_csv("1\n2\n3\n", 6, -1, 0, &g_alloc, &d, NULL) == NN_OK, "split source");
    memset(&h, 0xab, sizeof h);
    NN_CHECK(nn_data_split(&d, 1.5f, &h) == NN_ERR_INVALID && is_zero(&h, sizeof h), "split output");
    nn_data_free(&h);
    NN_CHECK(nn_data_split(&d, 0.5f, &d) == NN_ERR_INVALID && d.n == 3, "split into itself");
    nn_data_free(&d);
    NN_CHECK(g_cnt.live == 0, "outputs: %ld leaked", g_cnt.live);
}

/* Round trips through the system gzip, if there is one. */
static void test_system_gzip(void)
{
    static const size_t sizes[] = { 0, 1, 2, 100, 5000, 65535, 65536, 70000, 300000 };
    static const char levels[] = { '1', '6', '9' };
    size_t s, l, runs = 0;
    if (system("gzip --version >/dev/null 2>&1") != 0) {
        printf("system gzip: skipped (no gzip)\n");
        return;
    }
    for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s], i;
        unsigned char *c = (unsigned char *)malloc(n + 1);
        if (nn_test_quick() && n > 70000) { free(c); continue; }
        g_rs = 99 + s;
        for (i = 0; i < n; i++) {                      /* runs, text-like, noise */
            uint32_t r = rnd();
            if (i > 10 && r % 7 == 0) c[i] = c[i - 1 - (r >> 8) % 10];
            else if (r % 3 == 0) c[i] = (unsigned char)('a' + (r >> 8) % 26);
            else if (r % 3 == 1) c[i] = (unsigned char)(i > 300 ? c[i - 300] : ' ');
            else c[i] = (unsigned char)(r >> 16);
        }
        spit(tmp_path("sys.bin"), c, n);
        for (l = 0; l < sizeof levels; l++) {
            char cmd[512], what[64];
            size_t gn;
            unsigned char *g;
            snprintf(cmd, sizeof cmd, "gzip -%c -c '%s' > '%s'", levels[l], tmp_path("sys.bin"),
                     tmp_path("sys.gz"));
            if (system(cmd) != 0) { NN_CHECK(0, "%s failed", cmd); continue; }
            g = slurp(tmp_path("sys.gz"), &gn);
            snprintf(what, sizeof what, "system gzip -%c, %zu bytes", levels[l], n);
            expect_inflate(what, g, gn, c, n);
            free(g);
            runs++;
        }
        free(c);
    }
    unlink(tmp_path("sys.bin"));
    unlink(tmp_path("sys.gz"));
    printf("system gzip: %zu round trips\n", runs);
}

/* ------------------------------------------------------------------ IDX */
static unsigned char *idx_images(int n, int rows, int cols, size_t *len)
{
    unsigned char *b = (unsigned char *)malloc(16 + (size_t)n * rows * cols);
    size_t i;
    uint32_t h[4];
    h[0] = 0x803; h[1] = (uint32_t)n; h[2] = (uint32_t)rows; h[3] = (uint32_t)cols;
    for (i = 0; i < 16; i++) b[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
    for (i = 0; i < (size_t)n * rows * cols; i++) b[16 + i] = (unsigned char)(i * 37 + (i >> 3));
    *len = 16 + (size_t)n * rows * cols;
    return b;
}

static unsigned char *idx_labels(int n, size_t *len)
{
    unsigned char *b = (unsigned char *)malloc(8 + (size_t)n);
    int i;
    b[0] = 0; b[1] = 0; b[2] = 8; b[3] = 1;
    b[4] = (unsigned char)(n >> 24); b[5] = (unsigned char)(n >> 16);
    b[6] = (unsigned char)(n >> 8); b[7] = (unsigned char)n;
    for (i = 0; i < n; i++) b[8 + i] = (unsigned char)((i * 3) % 7);
    *len = 8 + (size_t)n;
    return b;
}

static void expect_idx(const char *what, const char *ip, const char *lp, nn_status want)
{
    nn_data d;
    nn_status st;
    memset(&d, 0xab, sizeof d);
    st = nn_data_load_idx(ip, lp, &g_alloc, &d);
    NN_CHECK(st == want, "idx %s: got %s, want %s", what, nn_status_str(st), nn_status_str(want));
    if (st != NN_OK) {
        NN_CHECK(is_zero(&d, sizeof d), "idx %s: *out not zeroed on error", what);
    }
    nn_data_free(&d);                  /* safe after any return: *out was zeroed first */
    NN_CHECK(g_cnt.live == 0, "idx %s: %ld allocations leaked", what, g_cnt.live);
}

static void test_idx(void)
{
    const int N = 7, R = 5, C = 4;
    size_t il, ll, gl, i;
    unsigned char *img = idx_images(N, R, C, &il), *lab = idx_labels(N, &ll), *g;
    nn_data d;
    nn_status st;
    spit(tmp_path("img.idx"), img, il);
    spit(tmp_path("lab.idx"), lab, ll);
    g = gz_stored(img, il, 50, &gl);
    spit(tmp_path("img.idx.gz"), g, gl);
    free(g);
    g = gz_stored(lab, ll, 3, &gl);
    spit(tmp_path("lab.gz"), g, gl);
    free(g);
    for (i = 0; i < 4; i++) {
        const char *ip = tmp_path(i & 1 ? "img.idx.gz" : "img.idx");
        const char *lp = tmp_path(i & 2 ? "lab.gz" : "lab.idx");
        int j, bad = 0;
        st = nn_data_load_idx(ip, lp, &g_alloc, &d);
        NN_CHECK(st == NN_OK, "idx load %s %s: %s", ip, lp, nn_status_str(st));
        if (st) continue;
        NN_CHECK(d.n == N && d.dim == R * C && d.classes == 7, "idx shape n=%d dim=%d classes=%d",
                 d.n, d.dim, d.classes);
        for (j = 0; j < N * R * C; j++) bad += d.x[j] != (float)img[16 + j] / 255.0f;
        for (j = 0; j < N; j++) bad += d.labels[j] != lab[8 + j];
        NN_CHECK(bad == 0, "idx values: %d differ", bad);
        NN_CHECK(((uintptr_t)d.x & 63) == 0, "idx x not 64-byte aligned");
        nn_data_free(&d);
        NN_CHECK(d.x == NULL && d.n == 0, "nn_data_free zeroes");
    }
    nn_data_free(&d);                                   /* twice: fine */
    nn_data_free(NULL);
    st = nn_data_load_idx(tmp_path("img.idx"), NULL, NULL, &d);
    NN_CHECK(st == NN_OK && d.labels == NULL && d.classes == 0, "idx without labels: %s", nn_status_str(st));
    if (st == NN_OK) nn_data_free(&d);
    /* errors */
    expect_idx("missing images", tmp_path("nope"), tmp_path("lab.idx"), NN_ERR_IO);
    expect_idx("missing labels", tmp_path("img.idx"), tmp_path("nope"), NN_ERR_IO);
    expect_idx("bad images, missing labels", tmp_path("lab.idx"), tmp_path("nope"), NN_ERR_FORMAT);
    expect_idx("labels as images", tmp_path("lab.idx"), tmp_path("lab.idx"), NN_ERR_FORMAT);
    expect_idx("images as labels", tmp_path("img.idx"), tmp_path("img.idx"), NN_ERR_FORMAT);
    {
        unsigned char *m = (unsigned char *)malloc(il + 1);
        size_t ln2;
        unsigned char *lab6 = idx_labels(N - 1, &ln2);
        spit(tmp_path("lab6.idx"), lab6, ln2);
        expect_idx("count mismatch", tmp_path("img.idx"), tmp_path("lab6.idx"), NN_ERR_SHAPE);
        free(lab6);
        memcpy(m, img, il);
        spit(tmp_path("bad.idx"), m, il - 1);
        expect_idx("truncated pixels", tmp_path("bad.idx"), NULL, NN_ERR_TRUNCATED);
        spit(tmp_path("bad.idx"), m, 10);
        expect_idx("truncated header", tmp_path("bad.idx"), NULL, NN_ERR_TRUNCATED);
        spit(tmp_path("bad.idx"), m, 0);
        expect_idx("empty file", tmp_path("bad.idx"), NULL, NN_ERR_TRUNCATED);
        m[il] = 0;
        spit(tmp_path("bad.idx"), m, il + 1);
        expect_idx("trailing byte", tmp_path("bad.idx"), NULL, NN_ERR_FORMAT);
        m[3] = 2;
        spit(tmp_path("bad.idx"), m, il);
        expect_idx("magic 0x802", tmp_path("bad.idx"), NULL, NN_ERR_FORMAT);
        m[3] = 3;
        m[2] = 0x0d;
        spit(tmp_path("bad.idx"), m, il);
        expect_idx("float IDX (0x0d03)", tmp_path("bad.idx"), NULL, NN_ERR_FORMAT);
        m[2] = 8;
        m[11] = 0;
        spit(tmp_path("bad.idx"), m, il);
        expect_idx("zero rows", tmp_path("bad.idx"), NULL, NN_ERR_FORMAT);
        m[8] = 0xff; m[12] = 0xff; m[11] = 5;
        spit(tmp_path("bad.idx"), m, il);
        expect_idx("rows*cols > INT_MAX", tmp_path("bad.idx"), NULL, NN_ERR_LIMIT);
        m[8] = 0; m[12] = 0;
        m[4] = 0x7f;
        spit(tmp_path("bad.idx"), m, il);
        expect_idx("count*dim beyond the limit", tmp_path("bad.idx"), NULL, NN_ERR_LIMIT);
        m[4] = 0x80;
        spit(tmp_path("bad.idx"), m, il);
        expect_idx("count > INT_MAX", tmp_path("bad.idx"), NULL, NN_ERR_LIMIT);
        /* gzipped with a bad CRC */
        g = gz_stored(img, il, 50, &gl);
        g[gl - 6] ^= 0x40;
        spit(tmp_path("bad.idx"), g, gl);
        expect_idx("gzip CRC", tmp_path("bad.idx"), NULL, NN_ERR_CRC);
        spit(tmp_path("bad.idx"), g, gl - 9);
        expect_idx("gzip truncated", tmp_path("bad.idx"), NULL, NN_ERR_TRUNCATED);
        free(g);
        free(m);
        unlink(tmp_path("lab6.idx"));
        unlink(tmp_path("bad.idx"));
    }
    /* file bigger than NN_DATA_MAX_BYTES: refused without reading it */
    {
        FILE *f = fopen(tmp_path("big.idx"), "wb");
        if (f && fseek(f, (long)NN_DATA_MAX_BYTES, SEEK_SET) == 0 && fputc(0, f) != EOF) {
            fclose(f);
            expect_idx("file beyond the limit", tmp_path("big.idx"), NULL, NN_ERR_LIMIT);
        } else if (f) {
            fclose(f);
        }
        unlink(tmp_path("big.idx"));
    }
    /* every allocation failing in turn (gzipped files: the most allocations); a failed
       one-pass gunzip buffer falls back to the two passes, so some still succeed */
    {
        int nomem = 0, fallback = 0;
        for (i = 0;; i++) {
            memset(&d, 0xab, sizeof d);
            g_cnt.fail_at = (long)i;
            g_cnt.calls = 0;
            st = nn_data_load_idx(tmp_path("img.idx.gz"), tmp_path("lab.gz"), &g_alloc, &d);
            g_cnt.fail_at = -1;
            if ((long)i >= g_cnt.calls) { /* nothing failed: every allocation was tried */
                NN_CHECK(st == NN_OK, "idx load: %s", nn_status_str(st));
                nn_data_free(&d);
                break;
            }
            if (st == NN_OK) fallback++;
            else nomem++;
            NN_CHECK(st == NN_OK || (st == NN_ERR_NOMEM && is_zero(&d, sizeof d)),
                     "idx alloc failure %zu: %s", i, nn_status_str(st));
            nn_data_free(&d);
            NN_CHECK(g_cnt.live == 0, "idx alloc failure %zu: %ld leaked", i, g_cnt.live);
            if (i > 30) break;
        }
        NN_CHECK(i > 4 && i <= 30 && fallback == 2 && nomem == (int)i - 2,
                 "idx load made %zu allocations, %d fell back, %d NOMEM", i, fallback, nomem);
    }
    /* in memory */
    st = nn_data_parse_idx(img, il, lab, ll, &g_alloc, &d);
    NN_CHECK(st == NN_OK && d.n == N, "parse_idx: %s", nn_status_str(st));
    if (st == NN_OK) nn_data_free(&d);
    NN_CHECK(nn_data_parse_idx(NULL, 0, NULL, 0, NULL, &d) == NN_ERR_INVALID, "parse_idx NULL");
    {
        nn_allocator half = { count_alloc, NULL, &g_cnt };
        NN_CHECK(nn_data_load_idx(tmp_path("img.idx"), NULL, &half, &d) == NN_ERR_INVALID,
                 "allocator with only alloc_fn");
    }
    unlink(tmp_path("img.idx"));
    unlink(tmp_path("lab.idx"));
    unlink(tmp_path("img.idx.gz"));
    unlink(tmp_path("lab.gz"));
    free(img);
    free(lab);
}

/* ------------------------------------------------------------------ CSV */
static nn_status csv(const char *text, int label, int header, nn_data *d, int *line)
{
    nn_status st = nn_data_parse_csv(text, strlen(text), label, header, &g_alloc, d, line);
    return st;
}

static void expect_csv_error(const char *text, int label, int header, nn_status want, int want_line)
{
    nn_data d;
    int line = -5;
    nn_status st;
    memset(&d, 0xcd, sizeof d);
    st = csv(text, label, header, &d, &line);
    NN_CHECK(st == want && line == want_line, "csv \"%s\": got %s line %d, want %s line %d", text,
             nn_status_str(st), line, nn_status_str(want), want_line);
    if (st != NN_OK) NN_CHECK(is_zero(&d, sizeof d), "csv \"%s\": *out not zeroed on error", text);
    nn_data_free(&d);                  /* safe after any return */
    NN_CHECK(g_cnt.live == 0, "csv \"%s\": %ld leaked", text, g_cnt.live);
}

static void expect_rows(const char *what, const nn_data *d, int n, int dim, const float *x,
                        const int *labels, int classes)
{
    int i, bad = 0;
    NN_CHECK(d->n == n && d->dim == dim && d->classes == classes,
             "%s: n=%d dim=%d classes=%d, want %d %d %d", what, d->n, d->dim, d->classes, n, dim,
             classes);
    if (d->n != n || d->dim != dim) return;
    for (i = 0; i < n * dim; i++) bad += d->x[i] != x[i];
    for (i = 0; labels && i < n; i++) bad += d->labels[i] != labels[i];
    NN_CHECK(bad == 0 && (labels != NULL) == (d->labels != NULL), "%s: %d values differ", what, bad);
}

static void test_csv(void)
{
    nn_data d;
    int line;
    nn_status st;
    {
        const float x[] = { 1, 2, 3.5f, -0.4f };
        const int lab[] = { 0, 2 };
        st = csv("a,b,label\n1,2,0\n3.5,-4e-1,2\n", NN_DATA_LAST_COLUMN, 1, &d, &line);
        NN_CHECK(st == NN_OK && line == 0, "csv basic: %s", nn_status_str(st));
        if (!st) { expect_rows("basic", &d, 2, 2, x, lab, 3); nn_data_free(&d); }
        st = csv("a,b,label\n1,2,0\n3.5,-4e-1,2", 2, -1, &d, &line);   /* detected, no final \n */
        if (!st) { expect_rows("auto header", &d, 2, 2, x, lab, 3); nn_data_free(&d); }
        NN_CHECK(st == NN_OK, "auto header: %s", nn_status_str(st));
        st = csv("\xef\xbb\xbf\r\nlabel;a;b\r\n\r\n 0 ; 1 ;2\r\n2;\"3.5\"; -.4\r\n\r\n", 0, 1, &d, &line);
        NN_CHECK(st == NN_OK, "semicolon+CRLF+BOM+quotes+blank lines: %s (line %d)", nn_status_str(st), line);
        if (!st) { expect_rows("semicolon", &d, 2, 2, x, lab, 3); nn_data_free(&d); }
        /* a BOM before the first row: both passes must start after it */
        st = csv("\xef\xbb\xbf" "1,2,0\n3.5,-4e-1,2\n", 2, 0, &d, &line);
        NN_CHECK(st == NN_OK, "BOM, no header: %s (line %d)", nn_status_str(st), line);
        if (!st) { expect_rows("BOM, no header", &d, 2, 2, x, lab, 3); nn_data_free(&d); }
        st = csv("\xef\xbb\xbf" "1,2,0\n3.5,-4e-1,2", 2, -1, &d, &line);
        NN_CHECK(st == NN_OK, "BOM, detected no header: %s (line %d)", nn_status_str(st), line);
        if (!st) { expect_rows("BOM, detected no header", &d, 2, 2, x, lab, 3); nn_data_free(&d); }
        st = csv("\xef\xbb\xbf" "a,b,label\r\n1,2,0\r\n3.5,-4e-1,2\r\n", 2, 1, &d, &line);
        NN_CHECK(st == NN_OK, "BOM + header: %s (line %d)", nn_status_str(st), line);
        if (!st) { expect_rows("BOM + header", &d, 2, 2, x, lab, 3); nn_data_free(&d); }
        st = csv("\xef\xbb\xbf" "a,b,label\n1,2,0\n3.5,-4e-1,2\n", 2, -1, &d, &line);
        NN_CHECK(st == NN_OK, "BOM + detected header: %s (line %d)", nn_status_str(st), line);
        if (!st) { expect_rows("BOM + detected header", &d, 2, 2, x, lab, 3); nn_data_free(&d); }
        st = csv("\xef\xbb\xbf\n \n1,2,0\n\n3.5,-4e-1,2\n", 2, 0, &d, &line);
        NN_CHECK(st == NN_OK, "BOM, blank lines, no header: %s (line %d)", nn_status_str(st), line);
        if (!st) { expect_rows("BOM, blank lines", &d, 2, 2, x, lab, 3); nn_data_free(&d); }
        st = csv("\xef\xbb\xbf" "\"1\",2,0\n3.5,-4e-1,2\n", 2, -1, &d, &line);
        NN_CHECK(st == NN_OK, "BOM, quoted first cell: %s (line %d)", nn_status_str(st), line);
        if (!st) { expect_rows("BOM, quoted first cell", &d, 2, 2, x, lab, 3); nn_data_free(&d); }
        st = csv("1\t2\t0\n3.5\t-0.4\t2.0\n", 2, 0, &d, &line);
        NN_CHECK(st == NN_OK, "tab: %s (line %d)", nn_status_str(st), line);
        if (!st) { expect_rows("tab", &d, 2, 2, x, lab, 3); nn_data_free(&d); }
    }
    {
        const float x[] = { 1, 2, 0, 3.5f, -0.4f, 2 };
        st = csv("1,2,0\n3.5,-4e-1,2\n", -1, 0, &d, &line);
        NN_CHECK(st == NN_OK, "no header, no label: %s", nn_status_str(st));
        if (!st) { expect_rows("unlabeled", &d, 2, 3, x, NULL, 0); nn_data_free(&d); }
        st = csv("1,2,0\n3.5,-4e-1,2\n", -1, -1, &d, &line);
        NN_CHECK(st == NN_OK && d.n == 2, "auto: numbers are not a header: %s", nn_status_str(st));
        if (!st) nn_data_free(&d);
    }
    {
        const float x[] = { 5 };
        st = csv("7\n", -1, 0, &d, &line);
        NN_CHECK(st == NN_OK && d.n == 1 && d.dim == 1 && d.x[0] == 7.0f, "one cell: %s", nn_status_str(st));
        if (!st) nn_data_free(&d);
        st = csv("x\n\"5\"\n", -1, 1, &d, &line);
        if (!st) { expect_rows("quoted single", &d, 1, 1, x, NULL, 0); nn_data_free(&d); }
        NN_CHECK(st == NN_OK, "quoted single: %s", nn_status_str(st));
    }
    expect_csv_error("", -1, 0, NN_ERR_FORMAT, 0);
    expect_csv_error("\xef\xbb\xbf", -1, 0, NN_ERR_FORMAT, 0);        /* BOM only */
    expect_csv_error("\xef\xbb\xbf\r\n", -1, 1, NN_ERR_FORMAT, 0);
    expect_csv_error("\xef\xbb\xbf" "a,b\n", -1, 1, NN_ERR_FORMAT, 1);   /* BOM + header only */
    expect_csv_error("\xef\xbb\xbf" "1,2\n3\n", -1, 0, NN_ERR_FORMAT, 2); /* BOM, ragged */
    expect_csv_error("\xef\xbb\xbf" "1,x\n3,4\n", -1, 0, NN_ERR_FORMAT, 1); /* forced no header */
    expect_csv_error("\xef\xbb\xbf\xef\xbb\xbf" "1,2\n", -1, 0, NN_ERR_FORMAT, 1); /* two BOMs */
    expect_csv_error("\n\n  \n", -1, 0, NN_ERR_FORMAT, 0);
    expect_csv_error("a,b\n", -1, 1, NN_ERR_FORMAT, 1);                 /* header only */
    expect_csv_error("1,2\n3,4\n5\n", -1, 0, NN_ERR_FORMAT, 3);         /* ragged: short */
    expect_csv_error("1,2\n\n3,4,5\n", -1, 0, NN_ERR_FORMAT, 3);        /* ragged: long */
    expect_csv_error("a,b\n1,2\n3,x\n", -1, 1, NN_ERR_FORMAT, 3);       /* not a number */
    expect_csv_error("1,2\n3,\n", -1, 0, NN_ERR_FORMAT, 2);             /* empty cell */
    expect_csv_error("1,2\n3,nan\n", -1, 0, NN_ERR_FORMAT, 2);
    expect_csv_error("1,2\n3,inf\n", -1, 0, NN_ERR_FORMAT, 2);
    expect_csv_error("1,2\n3,1e39\n", -1, 0, NN_ERR_FORMAT, 2);         /* beyond FLT_MAX */
    expect_csv_error("1,2\n3,0x10\n", -1, 0, NN_ERR_FORMAT, 2);
    expect_csv_error("1,2\n3,1.2.3\n", -1, 0, NN_ERR_FORMAT, 2);
    expect_csv_error("1;2\n3;1,5\n", -1, 0, NN_ERR_FORMAT, 2);          /* decimal comma */
    expect_csv_error("1,2\n3,\"4\n", -1, 0, NN_ERR_FORMAT, 2);          /* open quote */
    expect_csv_error("1,0\n2,1.5\n", 1, 0, NN_ERR_FORMAT, 2);           /* label 1.5 */
    expect_csv_error("1,0\n2,-1\n", 1, 0, NN_ERR_FORMAT, 2);            /* label -1 */
    expect_csv_error("1,0\n2,1\n", 2, 0, NN_ERR_FORMAT, 1);             /* no column 2 */
    expect_csv_error("1\n2\n", 0, 0, NN_ERR_FORMAT, 1);                 /* label, no features */
    expect_csv_error("1,0\n2,1\n", -3, 0, NN_ERR_INVALID, 0);
    {
        const char bin[] = "1,2\n3\0,4\n";
        st = nn_data_parse_csv(bin, sizeof bin - 1, -1, 0, &g_alloc, &d, &line);
        NN_CHECK(st == NN_ERR_FORMAT, "NUL byte: %s", nn_status_str(st));
    }
    /* numbers vs strtof (correctly rounded): exact except rare near-halfway cases */
    {
        char buf[96];
        int i, exact = 0, total = 0, far = 0, n = nn_test_quick() ? 20000 : 200000;
        g_rs = 7;
        for (i = 0; i < n; i++) {
            uint32_t r = rnd(), r2 = rnd();
            float want, got;
            if (i & 1) {                                 /* float printed with 9 digits */
                float f;
                uint32_t bits = r;
                memcpy(&f, &bits, 4);
                if (!(fabsf(f) <= FLT_MAX)) continue;
                snprintf(buf, sizeof buf, "%.9g", (double)f);
            } else {                                     /* long decimals, wide exponents */
                int nd = 1 + (int)(r % 24), k, p = 0, ex = (int)(r2 % 90) - 60;
                if (r2 & 0x100) buf[p++] = '-';
                for (k = 0; k < nd; k++) {
                    if (k == (int)((r2 >> 9) % 8)) buf[p++] = '.';
                    buf[p++] = (char)('0' + rnd() % 10);
                }
                p += snprintf(buf + p, sizeof buf - (size_t)p, "e%d", ex);
            }
            want = strtof(buf, NULL);
            if (!(fabsf(want) <= FLT_MAX)) continue;
            total++;
            if (!nn__data_parse_float(buf, buf + strlen(buf), &got)) {
                NN_CHECK(0, "parse_float(\"%s\") rejected", buf);
                continue;
            }
            if (got == want) exact++;
            else {
                float up = nextafterf(want, INFINITY), dn = nextafterf(want, -INFINITY);
                if (got != up && got != dn) {
                    far++;
                    if (far < 5) NN_CHECK(0, "parse_float(\"%s\") = %.9g, strtof %.9g", buf, (double)got, (double)want);
                }
            }
            if ((i & 1) && got != want) NN_CHECK(0, "9-digit float \"%s\" did not round trip", buf);
        }
        NN_CHECK(far == 0, "%d parses more than 1 ulp from strtof", far);
        printf("csv numbers: %d/%d equal to strtof, the rest within 1 ulp\n", exact, total);
        /* a locale with a decimal comma must not change anything */
        if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
            st = csv("1.5,2\n", -1, 0, &d, &line);
            NN_CHECK(st == NN_OK && d.x[0] == 1.5f, "decimal-comma locale: %s", nn_status_str(st));
            if (!st) nn_data_free(&d);
            setlocale(LC_NUMERIC, "C");
        } else {
            printf("csv locale: skipped (no de_DE/fr_FR locale installed)\n");
        }
    }
    /* from a file, raw and gzipped */
    {
        const char *t = "f1,f2,y\n0.25,8,1\n-1,1e3,0\n";
        const float x[] = { 0.25f, 8, -1, 1000 };
        const int lab[] = { 1, 0 };
        size_t gl;
        unsigned char *g;
        spit(tmp_path("t.csv"), t, strlen(t));
        st = nn_data_load_csv(tmp_path("t.csv"), NN_DATA_LAST_COLUMN, 1, &g_alloc, &d, &line);
        NN_CHECK(st == NN_OK, "load_csv: %s", nn_status_str(st));
        if (!st) { expect_rows("file", &d, 2, 2, x, lab, 2); nn_data_free(&d); }
        g = gz_stored((const unsigned char *)t, strlen(t), 7, &gl);
        spit(tmp_path("t.csv.gz"), g, gl);
        free(g);
        st = nn_data_load_csv(tmp_path("t.csv.gz"), 2, -1, &g_alloc, &d, &line);
        NN_CHECK(st == NN_OK, "load_csv gz: %s", nn_status_str(st));
        if (!st) { expect_rows("gz file", &d, 2, 2, x, lab, 2); nn_data_free(&d); }
        st = nn_data_load_csv(tmp_path("none.csv"), -1, 0, &g_alloc, &d, &line);
        NN_CHECK(st == NN_ERR_IO, "load_csv missing: %s", nn_status_str(st));
        unlink(tmp_path("t.csv"));
        unlink(tmp_path("t.csv.gz"));
        NN_CHECK(g_cnt.live == 0, "csv files: %ld leaked", g_cnt.live);
    }
}

/* ------------------------------------------------------------------ helpers */
static void test_helpers(void)
{
    nn_data d, h;
    float mean[3], sd[3], x[12 * 3];
    int i, j, labels[12], bad = 0;
    nn_status st;
    memset(&d, 0, sizeof d);
    d.alloc = g_alloc;
    d.n = 12;
    d.dim = 3;
    d.classes = 4;
    d.x = (float *)nn_simd_alloc(&d.alloc, sizeof x);
    d.labels = (int *)nn_simd_alloc(&d.alloc, sizeof labels);
    for (i = 0; i < 12; i++) {
        d.x[i * 3 + 0] = (float)(i * 1000 + 0);  /* row id lives in the data */
        d.x[i * 3 + 1] = (float)(i % 5) * 0.5f - 1.0f;
        d.x[i * 3 + 2] = 7.0f;                   /* constant feature */
        d.labels[i] = i % 4;
    }
    memcpy(x, d.x, sizeof x);
    memcpy(labels, d.labels, sizeof labels);
    /* shuffle: a permutation, rows stay whole, deterministic */
    NN_CHECK(nn_data_shuffle(&d, 42) == NN_OK, "shuffle");
    {
        int seen[12] = { 0 }, moved = 0;
        for (i = 0; i < 12; i++) {
            int id = (int)(d.x[i * 3] / 1000.0f);
            if (id < 0 || id >= 12) { bad++; continue; }
            seen[id]++;
            moved += id != i;
            bad += d.labels[i] != labels[id] || d.x[i * 3 + 1] != x[id * 3 + 1];
        }
        for (i = 0; i < 12; i++) bad += seen[i] != 1;
        NN_CHECK(bad == 0 && moved > 0, "shuffle is not a row permutation (bad %d moved %d)", bad, moved);
    }
    {
        float first[12 * 3];
        memcpy(first, d.x, sizeof first);
        memcpy(d.x, x, sizeof x);
        memcpy(d.labels, labels, sizeof labels);
        nn_data_shuffle(&d, 42);
        NN_CHECK(memcmp(first, d.x, sizeof first) == 0, "shuffle with the same seed differs");
        memcpy(d.x, x, sizeof x);
        memcpy(d.labels, labels, sizeof labels);
        nn_data_shuffle(&d, 43);
        NN_CHECK(memcmp(first, d.x, sizeof first) != 0, "shuffle ignores the seed");
        memcpy(d.x, x, sizeof x);
        memcpy(d.labels, labels, sizeof labels);
    }
    /* normalize */
    NN_CHECK(nn_data_normalize(&d, mean, sd) == NN_OK, "normalize");
    for (j = 0; j < 3; j++) {
        double m = 0, v = 0;
        for (i = 0; i < 12; i++) m += d.x[i * 3 + j];
        m /= 12;
        for (i = 0; i < 12; i++) v += (d.x[i * 3 + j] - m) * (d.x[i * 3 + j] - m);
        v /= 12;
        NN_CHECK(fabs(m) < 1e-6, "feature %d mean %g after normalize", j, m);
        if (j < 2) NN_CHECK(fabs(v - 1) < 1e-5, "feature %d variance %g after normalize", j, v);
    }
    NN_CHECK(mean[0] == 5500.0f && sd[2] == 1.0f && mean[2] == 7.0f && d.x[2] == 0.0f,
             "normalize stats mean0 %g sd2 %g", (double)mean[0], (double)sd[2]);
    {
        float y[12 * 3];
        memcpy(y, d.x, sizeof y);
        memcpy(d.x, x, sizeof x);
        NN_CHECK(nn_data_apply_normalization(&d, mean, sd) == NN_OK, "apply");
        NN_CHECK(memcmp(y, d.x, sizeof y) == 0, "apply_normalization != normalize");
        sd[1] = 0;
        NN_CHECK(nn_data_apply_normalization(&d, mean, sd) == NN_ERR_INVALID, "apply std 0");
        NN_CHECK(memcmp(y, d.x, sizeof y) == 0, "failed apply changed x");
        d.x[4] = NAN;
        memcpy(y, d.x, sizeof y);
        NN_CHECK(nn_data_normalize(&d, NULL, NULL) == NN_ERR_NONFINITE, "normalize NaN");
        NN_CHECK(memcmp(y, d.x, sizeof y) == 0, "failed normalize changed x");
        memcpy(d.x, x, sizeof x);
    }
    /* one-hot */
    {
        float oh[12 * 4], keep[12 * 4];
        NN_CHECK(nn_data_one_hot(d.labels, 12, 4, oh) == NN_OK, "one_hot");
        for (i = 0; i < 12; i++)
            for (j = 0; j < 4; j++) bad += oh[i * 4 + j] != (j == d.labels[i] ? 1.0f : 0.0f);
        NN_CHECK(bad == 0, "one_hot values");
        memcpy(keep, oh, sizeof oh);
        NN_CHECK(nn_data_one_hot(d.labels, 12, 3, oh) == NN_ERR_INVALID, "one_hot label >= classes");
        NN_CHECK(memcmp(keep, oh, sizeof oh) == 0, "failed one_hot wrote");
    }
    /* split: the last round(f*n) rows */
    memset(&h, 0x5a, sizeof h);
    NN_CHECK(nn_data_split(&d, 0.0f, &h) == NN_ERR_INVALID, "split 0");
    NN_CHECK(nn_data_split(&d, 1.0f, &h) == NN_ERR_INVALID, "split 1");
    NN_CHECK(nn_data_split(&d, NAN, &h) == NN_ERR_INVALID, "split NaN");
    NN_CHECK(nn_data_split(&d, 0.02f, &h) == NN_ERR_INVALID, "split to an empty holdout");
    NN_CHECK(nn_data_split(&d, 0.25f, &d) == NN_ERR_INVALID, "split into itself");
    NN_CHECK(is_zero(&h, sizeof h), "failed split did not zero *holdout");
    st = nn_data_split(&d, 0.25f, &h);
    NN_CHECK(st == NN_OK && d.n == 9 && h.n == 3 && h.dim == 3 && h.classes == 4, "split 0.25 of 12: %d + %d",
             d.n, h.n);
    if (!st) {
        NN_CHECK(memcmp(h.x, x + 9 * 3, 3 * 3 * sizeof(float)) == 0 &&
                 memcmp(h.labels, labels + 9, 3 * sizeof(int)) == 0, "holdout rows");
        nn_data_free(&h);
    }
    NN_CHECK(nn_data_normalize(NULL, NULL, NULL) == NN_ERR_INVALID, "normalize NULL");
    NN_CHECK(nn_data_shuffle(NULL, 1) == NN_ERR_INVALID, "shuffle NULL");
    nn_data_free(&d);
    NN_CHECK(g_cnt.live == 0, "helpers: %ld leaked", g_cnt.live);
}

/* ------------------------------------------------------------------ real data */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);   /* CPU time: steadier on a busy machine */
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void test_fashion(void)
{
    nn_data d;
    nn_status st;
    FILE *f = fopen(FASHION_DIR "/t10k-images-idx3-ubyte.gz", "rb");
    if (!f) {
        printf("fashion-mnist: skipped (%s not found; apt-get install dataset-fashion-mnist)\n", FASHION_DIR);
        return;
    }
    fclose(f);
    st = nn_data_load_idx(FASHION_DIR "/t10k-images-idx3-ubyte.gz",
                          FASHION_DIR "/t10k-labels-idx1-ubyte.gz", &g_alloc, &d);
    NN_CHECK(st == NN_OK, "fashion t10k: %s", nn_status_str(st));
    if (st == NN_OK) {
        int per[10] = { 0 }, i, bad = 0;
        float lo = 1, hi = 0;
        NN_CHECK(d.n == 10000 && d.dim == 784 && d.classes == 10, "t10k n=%d dim=%d classes=%d", d.n, d.dim, d.classes);
        for (i = 0; i < d.n; i++) {
            if (d.labels[i] < 0 || d.labels[i] > 9) bad++;
            else per[d.labels[i]]++;
        }
        for (i = 0; i < 10; i++) bad += per[i] != 1000;
        for (i = 0; i < d.n * d.dim; i++) {
            if (d.x[i] < lo) lo = d.x[i];
            if (d.x[i] > hi) hi = d.x[i];
        }
        NN_CHECK(bad == 0 && lo == 0.0f && hi == 1.0f, "t10k labels/classes/range (bad %d, x in [%g,%g])", bad,
                 (double)lo, (double)hi);
        nn_data_free(&d);
        printf("fashion-mnist t10k: 10000 x 784, 1000 per class\n");
    }
    if (!nn_test_quick()) {
        void *raw, *out;
        size_t rn, on;
        double best = 1e9, t0;
        int r;
        st = nn_data_read_file(FASHION_DIR "/train-images-idx3-ubyte.gz", &raw, &rn, NULL);
        NN_CHECK(st == NN_OK, "read train images: %s", nn_status_str(st));
        if (st) return;
        for (r = 0; r < 5; r++) {
            t0 = now();
            st = nn_data_gunzip(raw, rn, &out, &on, NULL);
            t0 = now() - t0;
            if (st) break;
            if (t0 < best) best = t0;
            nn_data_free_buf(out, NULL);
        }
        NN_CHECK(st == NN_OK && on == 47040016, "gunzip train images: %s, %zu bytes", nn_status_str(st), on);
        printf("gunzip train-images (%.1f MB -> %.1f MB): best of 5 %.3f s CPU = %.0f MB/s output\n",
               rn / 1e6, on / 1e6, best, on / 1e6 / best);
        nn_data_free_buf(raw, NULL);
        t0 = now();
        st = nn_data_load_idx(FASHION_DIR "/train-images-idx3-ubyte.gz",
                              FASHION_DIR "/train-labels-idx1-ubyte.gz", &g_alloc, &d);
        t0 = now() - t0;
        NN_CHECK(st == NN_OK && d.n == 60000 && d.dim == 784, "fashion train: %s", nn_status_str(st));
        if (!st) {
            int per[10] = { 0 }, i, bad = 0;
            for (i = 0; i < d.n; i++) per[d.labels[i]]++;
            for (i = 0; i < 10; i++) bad += per[i] != 6000;
            NN_CHECK(bad == 0, "train: 6000 per class");
            nn_data_free(&d);
            printf("fashion-mnist train: 60000 x 784 loaded in %.3f s CPU\n", t0);
        }
    }
    NN_CHECK(g_cnt.live == 0, "fashion: %ld leaked", g_cnt.live);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--corpus")) {        /* for tests/data/README */
        size_t n;
        unsigned char *c = corpus(argv[2], &n);
        fwrite(c, 1, n, stdout);
        free(c);
        return 0;
    }
    nn_test_begin("test_data");
    snprintf(g_dir, sizeof g_dir, "/tmp/nn_data_test_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_bomb_memory();
    test_fixtures();
    test_corruption();
    test_handmade();
    test_limits();
    test_gunzip_passes();
    test_system_gzip();
    test_idx();
    test_csv();
    test_outputs_zeroed();
    test_helpers();
    test_fashion();
    NN_CHECK(g_cnt.live == 0, "%ld allocations live at exit", g_cnt.live);
    rmdir(g_dir);
    return nn_test_done();
}
