/* make_data_corpus.c - writes the seed corpora of the nn_data.h fuzz targets: the edge
   cases known to matter (a BOM first, with and without a header, blank lines, CRLF,
   quotes, truncated IDX headers, huge dimensions, gzip with a lying trailer, bombs,
   several members, every header flag). The files are tiny and committed.
   Usage: make_data_corpus DIR   (writes DIR/corpus_csv, DIR/corpus_idx, DIR/corpus_gzip) */
#define NN_IMPLEMENTATION
#include "nn.h"
#include <stdio.h>
#include <stdlib.h>

static const char *g_dir;
static int g_fail;

static void put(const char *sub, const char *name, const void *p, size_t n)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s/%s", g_dir, sub, name);
    f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "make_data_corpus: cannot write %s\n", path);
        g_fail = 1;
    }
}

/* ---- gzip writing: stored blocks, or a fixed-Huffman run of one byte ---- */
typedef struct buf { unsigned char b[65536]; size_t n; uint64_t acc; unsigned nb; } buf;

static void bits(buf *o, unsigned v, unsigned k)
{
    o->acc |= (uint64_t)v << o->nb;
    o->nb += k;
    while (o->nb >= 8) { o->b[o->n++] = (unsigned char)o->acc; o->acc >>= 8; o->nb -= 8; }
}

static void code(buf *o, unsigned c, unsigned len)   /* Huffman codes go MSB first */
{
    unsigned r = 0, i;
    for (i = 0; i < len; i++) r |= ((c >> i) & 1u) << (len - 1 - i);
    bits(o, r, len);
}

static void le32(buf *o, uint32_t v)
{
    int i;
    for (i = 0; i < 4; i++) o->b[o->n++] = (unsigned char)(v >> (8 * i));
}

static uint32_t crc(const void *p, size_t n)
{
    return nn__crc32(0xFFFFFFFFu, (const unsigned char *)p, n) ^ 0xFFFFFFFFu;
}

static void header(buf *o, unsigned flg)
{
    static const unsigned char h[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
    size_t start = o->n;
    memcpy(o->b + o->n, h, 10);
    o->b[o->n + 3] = (unsigned char)flg;
    o->n += 10;
    if (flg & 4) { memcpy(o->b + o->n, "\4\0ab\0\1", 6); o->n += 6; }
    if (flg & 8) { memcpy(o->b + o->n, "x.csv", 6); o->n += 6; }
    if (flg & 16) { memcpy(o->b + o->n, "note", 5); o->n += 5; }
    if (flg & 2) {
        uint32_t c = crc(o->b + start, o->n - start);
        o->b[o->n++] = (unsigned char)c;
        o->b[o->n++] = (unsigned char)(c >> 8);
    }
}

/* Appends one gzip member holding p [n] in one stored block. */
static void member(buf *o, const void *p, size_t n, unsigned flg)
{
    header(o, flg);
    o->b[o->n++] = 1;                                   /* final, stored */
    o->b[o->n++] = (unsigned char)n;
    o->b[o->n++] = (unsigned char)(n >> 8);
    o->b[o->n++] = (unsigned char)~n;
    o->b[o->n++] = (unsigned char)(~n >> 8);
    memcpy(o->b + o->n, p, n);
    o->n += n;
    le32(o, crc(p, n));
    le32(o, (uint32_t)n);
}

static void gz_put(const char *sub, const char *name, const void *p, size_t n, unsigned flg)
{
    static buf o;
    memset(&o, 0, sizeof o);
    member(&o, p, n, flg);
    put(sub, name, o.b, o.n);
}

/* A fixed-Huffman member: 'a' then k matches of 258 at distance 1, with the trailer's
   CRC and ISIZE as given (so it may lie). */
static void bomb(const char *name, size_t k, uint32_t c, uint32_t isize)
{
    static buf o;
    size_t i;
    memset(&o, 0, sizeof o);
    header(&o, 0);
    bits(&o, 1, 1);
    bits(&o, 1, 2);
    code(&o, 0x30 + 'a', 8);
    for (i = 0; i < k; i++) { code(&o, 0xC5, 8); code(&o, 0, 5); }  /* 285: 258; dist 1 */
    code(&o, 0, 7);                                                  /* end of block */
    if (o.nb) bits(&o, 0, 8 - o.nb);
    le32(&o, c);
    le32(&o, isize);
    put("corpus_gzip", name, o.b, o.n);
}

/* ---- IDX ---- */
static size_t idx_images(unsigned char *b, uint32_t count, uint32_t rows, uint32_t cols, size_t pixels)
{
    size_t i;
    unsigned char h[16] = { 0, 0, 8, 3 };
    for (i = 0; i < 4; i++) {
        h[4 + i] = (unsigned char)(count >> (24 - 8 * i));
        h[8 + i] = (unsigned char)(rows >> (24 - 8 * i));
        h[12 + i] = (unsigned char)(cols >> (24 - 8 * i));
    }
    memcpy(b, h, 16);
    for (i = 0; i < pixels; i++) b[16 + i] = (unsigned char)(i * 37);
    return 16 + pixels;
}

static size_t idx_labels(unsigned char *b, uint32_t count, size_t n)
{
    size_t i;
    unsigned char h[8] = { 0, 0, 8, 1 };
    for (i = 0; i < 4; i++) h[4 + i] = (unsigned char)(count >> (24 - 8 * i));
    memcpy(b, h, 8);
    for (i = 0; i < n; i++) b[8 + i] = (unsigned char)(i % 3);
    return 8 + n;
}

/* The fuzz_idx framing: 4-byte little-endian images length, images, labels. */
static void idx_put(const char *name, const unsigned char *img, size_t in, const unsigned char *lab, size_t ln)
{
    static unsigned char b[8192];
    b[0] = (unsigned char)in; b[1] = (unsigned char)(in >> 8);
    b[2] = (unsigned char)(in >> 16); b[3] = (unsigned char)(in >> 24);
    memcpy(b + 4, img, in);
    if (ln) memcpy(b + 4 + in, lab, ln);
    put("corpus_idx", name, b, 4 + in + ln);
}

int main(int argc, char **argv)
{
    static const char *csv[][2] = {
        { "bom_noheader.csv", "\xef\xbb\xbf" "1,2,0\n3.5,-4e-1,2\n" },
        { "bom_header.csv", "\xef\xbb\xbf" "a,b,label\r\n1,2,0\r\n3,4,1\r\n" },
        { "bom_blank_header.csv", "\xef\xbb\xbf\r\n\r\nlabel;a;b\r\n0;1;2\r\n\r\n1;3;4\r\n" },
        { "bom_blank_noheader.csv", "\xef\xbb\xbf\n \n1\t2\t0\n\n3\t4\t1\n" },
        { "bom_only.csv", "\xef\xbb\xbf" },
        { "bom_twice.csv", "\xef\xbb\xbf\xef\xbb\xbf" "1,2\n" },
        { "empty.csv", "" },
        { "blank.csv", "\n\r\n  \t\n" },
        { "crlf.csv", "x,y,c\r\n0.5,1e3,1\r\n-2,+3.25,0\r\n" },
        { "quoted.csv", "\"a\",\"b \"\"q\"\"\",c\n\"1\", \"2.5\" ,3\n\"4\",\"5\",\"6\"\n" },
        { "quoted_open.csv", "1,\"2\n3,4\n" },
        { "semicolon.csv", "a;b;c\n1;2;3\n4;5;6\n" },
        { "tab.csv", "1\t2\t3\n4\t5\t6\n" },
        { "ragged.csv", "1,2,3\n4,5\n6,7,8,9\n" },
        { "numbers.csv", "0.1,1e-46,3.4028235e38,-0,007,123456789012345678901234567890\n"
                         "1E+2,-.5,5.,1e400,0x10,nan\n" },
        { "labels.csv", "1,2,3.0\n4,5,16777215\n6,7,-1\n8,9,2.5\n" },
        { "header_only.csv", "a,b,c\n" },
        { "no_newline.csv", "1,2,0\n3,4,1" },
        { "nul.csv", "1,2\n3,4\n\0\n" },
    };
    unsigned char img[4096], lab[256];
    size_t i, in, ln;
    static const char text[] = "a,b,label\n1,2,0\n3,4,1\n";
    if (argc != 2) {
        fprintf(stderr, "usage: make_data_corpus DIR\n");
        return 2;
    }
    g_dir = argv[1];
    /* CSV */
    for (i = 0; i < sizeof csv / sizeof csv[0]; i++)
        put("corpus_csv", csv[i][0], csv[i][1], strcmp(csv[i][0], "nul.csv") ? strlen(csv[i][1]) : 10);
    gz_put("corpus_csv", "gzip.csv.gz", text, sizeof text - 1, 0);
    gz_put("corpus_csv", "gzip_bom.csv.gz", "\xef\xbb\xbf" "1,2\n3,4\n", 11, 8);
    /* IDX: valid, unlabeled, gzipped, then damaged */
    in = idx_images(img, 3, 2, 2, 12);
    ln = idx_labels(lab, 3, 3);
    idx_put("valid.idx", img, in, lab, ln);
    idx_put("unlabeled.idx", img, in, NULL, 0);
    {
        static buf gi, gl;
        unsigned char b[8192];
        memset(&gi, 0, sizeof gi);
        memset(&gl, 0, sizeof gl);
        member(&gi, img, in, 0);
        member(&gl, lab, ln, 0);
        memcpy(b, gl.b, gl.n);
        idx_put("gzip.idx", gi.b, gi.n, b, gl.n);
    }
    for (i = 0; i < 16; i += 5) {
        char name[64];
        snprintf(name, sizeof name, "truncated_header_%zu.idx", i);
        idx_put(name, img, i, NULL, 0);
    }
    idx_put("truncated_labels_header.idx", img, in, lab, 6);
    idx_put("truncated_pixels.idx", img, in - 3, lab, ln);
    lab[ln] = 9;
    idx_put("trailing_label.idx", img, in, lab, ln + 1);
    in = idx_images(img, 3, 2, 2, 13);
    idx_put("trailing_pixel.idx", img, in, lab, ln);
    in = idx_images(img, 0xffffffffu, 0xffffffffu, 0xffffffffu, 4);
    idx_put("huge_dims.idx", img, in, NULL, 0);
    in = idx_images(img, 1, 65536, 65536, 4);
    idx_put("rows_cols_overflow.idx", img, in, NULL, 0);
    in = idx_images(img, 0, 2, 2, 0);
    idx_put("zero_count.idx", img, in, NULL, 0);
    in = idx_images(img, 3, 2, 2, 12);
    ln = idx_labels(lab, 4, 4);
    idx_put("count_mismatch.idx", img, in, lab, ln);
    img[3] = 1;
    idx_put("wrong_magic.idx", img, in, NULL, 0);
    /* gzip */
    gz_put("corpus_gzip", "stored.gz", text, sizeof text - 1, 0);
    gz_put("corpus_gzip", "empty_member.gz", "", 0, 0);
    gz_put("corpus_gzip", "all_flags.gz", text, sizeof text - 1, 2 | 4 | 8 | 16 | 1);
    {
        static buf o;
        memset(&o, 0, sizeof o);
        member(&o, "one,", 4, 0);
        member(&o, "two\n", 4, 8);
        put("corpus_gzip", "two_members.gz", o.b, o.n);
        put("corpus_gzip", "truncated.gz", o.b, o.n - 11);
        o.b[o.n - 1] = 0xff;                            /* last ISIZE: 4 GiB - ... */
        put("corpus_gzip", "lying_isize.gz", o.b, o.n);
    }
    bomb("bomb_honest.gz", 1000, 0, 1 + 258 * 1000);    /* CRC wrong, size right */
    bomb("bomb_claims_4g.gz", 4000, 0, 0xfffffff0u);    /* ~1 MiB, trailer says 4 GiB */
    bomb("bomb_claims_small.gz", 4000, 0, 100);         /* wraps: the true size is larger */
    bomb("bomb_over_limit.gz", 5000, 0, 1 + 258 * 5000);
    return g_fail;
}
