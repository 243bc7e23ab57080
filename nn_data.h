/* nn_data.h - v0.1 - datasets for nn.h: MNIST-style IDX files, numeric CSV tables,
   gzip (a small inflate of its own), and the usual helpers (normalize, one-hot,
   shuffle, hold-out split). Header-only C99/C++.

   WHY A SEPARATE HEADER
      nn.h trains from float arrays in memory. File formats, text parsing and
      decompression are a different concern with a different attack surface (they read
      untrusted bytes), so they live here: programs that build their data in memory never
      compile any of it, and nn.h needs neither stdio for datasets nor zlib. Gzip is
      handled by the inflate below (RFC 1951 + RFC 1952), so there is no dependency either.

   QUICK START
      In ONE C or C++ file:
          #define NN_IMPLEMENTATION
          #define NN_DATA_IMPLEMENTATION
          #include "nn.h"
          #include "nn_data.h"
      and plain #include "nn_data.h" everywhere else.

          nn_data train, val;
          nn_status st = nn_data_load_idx("train-images-idx3-ubyte.gz",
                                          "train-labels-idx1-ubyte.gz", NULL, &train);
          if (st != NN_OK) { fprintf(stderr, "%s\n", nn_status_str(st)); return 1; }
          nn_data_shuffle(&train, 42);
          nn_data_split(&train, 0.1f, &val);   // last 10% -> val
          // train.x [train.n][train.dim] floats in [0,1], train.labels [train.n]
          nn_data_free(&val);  nn_data_free(&train);

      The implementation calls nn.h's nn_simd_alloc/nn_simd_free and nn_rng_*, so the
      program must define NN_IMPLEMENTATION in some file (with NN_STATIC: in the same
      file as NN_DATA_IMPLEMENTATION).

   OPTIONS (define before the implementing include)
      NN_DATA_MAX_BYTES  default 1 GiB (1 << 30). The largest file nn_data_read_file
                         reads and the largest output nn_data_gunzip produces; beyond it
                         they fail with NN_ERR_LIMIT. A zip bomb stops there.
      NN_DATA_DEF        linkage of the public functions: extern, or static under
                         NN_STATIC (nn.h's option).
      NN_NO_STDIO        (nn.h's option) leaves out the functions that take a path; the
                         in-memory ones (nn_data_parse_*, nn_data_gunzip) remain.
      NN_NO_POSIX        (nn.h's option) no madvise (see MEMORY).

   MEMORY
      Every allocation goes through the nn_allocator passed in (NULL or a zeroed one:
      NN_MALLOC/NN_FREE, 64-byte aligned, via nn_simd_alloc). An nn_data keeps a copy of
      its allocator; nn_data_free(&d) releases it. Buffers returned by nn_data_read_file,
      nn_data_load_file and nn_data_gunzip are freed with nn_data_free_buf(p, a), with
      the same allocator. Every output (an nn_data, a buffer and its size) is zeroed on
      entry, before any check, so nn_data_free / nn_data_free_buf on it is safe after
      any return (zeroing does not free what it held). On error nothing is leaked.
      On Linux, where madvise is visible in the implementing file (gnu99, or
      _DEFAULT_SOURCE), buffers of 4 MiB or more from the default allocator are marked
      for transparent huge pages (512x fewer page faults when they are filled).

   ERRORS (nn_status, see nn_status_str)
      NN_ERR_INVALID    NULL pointer, bad argument, allocator with only one function
      NN_ERR_IO         the file could not be opened or read
      NN_ERR_FORMAT     wrong magic number, zero dimension, bad gzip header or DEFLATE
                        data, trailing bytes, CSV cell that is not a number, ragged row
      NN_ERR_TRUNCATED  the file or stream ends too early
      NN_ERR_CRC        gzip CRC-32 or ISIZE (or header CRC-16) does not match the data
      NN_ERR_LIMIT      a size beyond NN_DATA_MAX_BYTES or INT_MAX, or overflowing
      NN_ERR_SHAPE      images and labels files disagree on the sample count
      NN_ERR_NOMEM      an allocation failed
      NN_ERR_NONFINITE  nn_data_normalize met a NaN or Inf

   IDX (MNIST, Fashion-MNIST, ...)
      Big-endian. Images: magic 0x00000803 (unsigned bytes, 3 dimensions), count, rows,
      cols, then count*rows*cols pixels; labels: magic 0x00000801, count, then count
      bytes. The file must be exactly that long (fewer bytes: NN_ERR_TRUNCATED, more:
      NN_ERR_FORMAT). Pixels become x = p / 255 (in [0,1], exactly the float nearest to
      p/255); dim = rows*cols. Either file may be gzip-compressed: a file starting with
      1f 8b is gunzipped first, whatever its name.

   CSV
      One sample per line, every line the same number of cells. The delimiter is found
      on the first non-blank line: the most frequent of ',' ';' TAB outside quotes
      (ties in that order; none: one column). Blank lines are skipped; CRLF, a UTF-8 BOM,
      spaces around cells and "quoted" cells are accepted. Numbers are parsed by our own
      locale-independent parser: [+-]digits[.digits][(e|E)[+-]digits], '.' is ALWAYS the
      decimal point (so "1,5" is not a number, whatever setlocale says); values are
      rounded to the nearest float except in rare near-halfway cases (error <= 1 ulp).
      NaN, Inf, empty cells and values beyond FLT_MAX are NN_ERR_FORMAT. The label
      column holds integer class ids in [0, NN_MAX_UNITS) ("3" or "3.0"). The file may
      be gzip-compressed.

   INFLATE (nn_data_gunzip)
      RFC 1951 stored, fixed-Huffman and dynamic-Huffman blocks, RFC 1952 members with
      FTEXT/FEXTRA/FNAME/FCOMMENT/FHCRC; several members are concatenated (as gzip -d
      does). Every member's CRC-32 and ISIZE are verified, FHCRC too. Not accepted:
      trailing bytes after the last member (NN_ERR_FORMAT; gzip only warns), reserved
      FLG bits, compression methods other than 8, zlib (RFC 1950) or raw streams.
      The whole input and the whole output are in memory (no streaming). When the
      last 4 bytes (the ISIZE of a one-member file) give a size within the limit and at
      most 32 times the input, the input is inflated once, checked, into a buffer of
      that size. Otherwise, or if that pass fails in any way (several members, a wrong
      trailer, damaged data), it is inflated twice: first into a 256 KiB sliding window,
      which measures the output and checks every member's CRC-32 and ISIZE and the
      limit, then into one buffer of exactly the measured size; the status comes from
      these two passes. So memory is the output, or a trailer's claim of at most 32x
      the input (of which only the pages written become resident), plus 256 KiB: a
      bomb or a wrong CRC costs decoding time (up to NN_DATA_MAX_BYTES of output), not
      memory. The trailer is not used to refuse early: ISIZE is the size
      mod 2^32 and only a complete file's last 4 bytes are a trailer, so a cut-off
      download would read as a random "size" and be misreported as NN_ERR_LIMIT
      instead of NN_ERR_TRUNCATED (most cut points of a real file read as more than
      1 GiB). Decoding is table-driven: a 10-bit lookup table per Huffman code (codes
      longer than 10 bits take a canonical bit-by-bit path), a 64-bit bit buffer
      refilled 8 bytes at a time (two literals per refill when they fit), and 8-byte
      match copies; CRC-32 is slicing-by-8.

   THREADS
      No global state: every function may run concurrently on different data.

   LICENSE  MIT (see the end of nn_simd.h).
*/
#ifndef NN_DATA_H_INCLUDED
#define NN_DATA_H_INCLUDED

#include "nn.h"

#ifndef NN_DATA_DEF
#  if defined(NN_STATIC) && (defined(__GNUC__) || defined(__clang__))
#    define NN_DATA_DEF static __attribute__((unused)) /* no warning for the calls a file does not use */
#  elif defined(NN_STATIC)
#    define NN_DATA_DEF static
#  else
#    define NN_DATA_DEF extern
#  endif
#endif

#ifndef NN_DATA_MAX_BYTES
#  define NN_DATA_MAX_BYTES ((size_t)1 << 30)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* label_column value for nn_data_load_csv / nn_data_parse_csv: the last column. */
#define NN_DATA_LAST_COLUMN (-2)

typedef struct nn_data {
    float       *x;        /* [n][dim] features, row-major, 64-byte aligned */
    int         *labels;   /* [n] class ids in [0, classes); NULL when unlabeled */
    int          n;        /* samples */
    int          dim;      /* features per sample */
    int          classes;  /* largest label + 1 (0 when unlabeled) */
    nn_allocator alloc;    /* x and labels were allocated with this; nn_data_free uses it */
} nn_data;

/* Frees x and labels and zeroes *d. NULL, or an already freed/zeroed nn_data, is ok. */
NN_DATA_DEF void nn_data_free(nn_data *d);

/* Frees a buffer from nn_data_read_file, nn_data_load_file or nn_data_gunzip (same
   allocator as was passed there). NULL is ok. */
NN_DATA_DEF void nn_data_free_buf(void *p, const nn_allocator *a);

/* 1 if the n bytes at src start with the gzip magic 1f 8b, else 0. */
NN_DATA_DEF int nn_data_is_gzip(const void *src, size_t n);

/* Decompresses a whole gzip file held in memory: src [n] -> *dst [*dst_n] (allocated with
   a; NULL = default; free with nn_data_free_buf). NN_ERR_FORMAT (not gzip, bad DEFLATE
   data, trailing bytes), NN_ERR_TRUNCATED, NN_ERR_CRC, NN_ERR_LIMIT (output beyond
   NN_DATA_MAX_BYTES), NN_ERR_NOMEM. *dst and *dst_n are set to NULL and 0 first. Holds
   at most the output (or a plausible trailer's claim) plus 256 KiB (see INFLATE). */
NN_DATA_DEF nn_status nn_data_gunzip(const void *src, size_t n, void **dst, size_t *dst_n,
                                     const nn_allocator *a);

/* Builds a dataset from IDX bytes in memory (each raw or gzip-compressed): images [images_n]
   and labels [labels_n] (labels NULL: unlabeled). Checks as described under IDX above.
   *out is zeroed first (so nn_data_free(out) is always safe) and filled on success. */
NN_DATA_DEF nn_status nn_data_parse_idx(const void *images, size_t images_n,
                                        const void *labels, size_t labels_n,
                                        const nn_allocator *a, nn_data *out);

/* Parses a CSV table held in memory (text [len], may be gzip-compressed). label_column:
   the column holding integer class ids, -1 for none, NN_DATA_LAST_COLUMN for the last;
   the other columns are the features, in order. has_header: 1 the first non-blank line
   is a header (skipped; it must have as many cells as the rows), 0 none, -1 detect (a
   header if any cell of the first line is not a number). err_line (may be NULL)
   receives the 1-based line of an NN_ERR_FORMAT, else 0 (a BOM is not a line). *out
   is zeroed first (so nn_data_free(out) is always safe) and filled on success. */
NN_DATA_DEF nn_status nn_data_parse_csv(const char *text, size_t len, int label_column,
                                        int has_header, const nn_allocator *a, nn_data *out,
                                        int *err_line);

#ifndef NN_NO_STDIO
/* Reads a whole file into *buf [*size] (allocated with a, free with nn_data_free_buf;
   NULL and 0 on error). NN_ERR_IO if it cannot be opened or read (a directory too, as
   for nn_net_load), NN_ERR_LIMIT beyond NN_DATA_MAX_BYTES. */
NN_DATA_DEF nn_status nn_data_read_file(const char *path, void **buf, size_t *size,
                                        const nn_allocator *a);
/* nn_data_read_file, then nn_data_gunzip if the file starts with 1f 8b. */
NN_DATA_DEF nn_status nn_data_load_file(const char *path, void **buf, size_t *size,
                                        const nn_allocator *a);
/* Loads an IDX image file and its label file (labels_path NULL: unlabeled), each raw or
   gzipped: x [n][rows*cols] in [0,1], labels [n]. NN_ERR_SHAPE if the counts differ. */
NN_DATA_DEF nn_status nn_data_load_idx(const char *images_path, const char *labels_path,
                                       const nn_allocator *a, nn_data *out);
/* Loads a CSV file (raw or gzipped); arguments as nn_data_parse_csv. */
NN_DATA_DEF nn_status nn_data_load_csv(const char *path, int label_column, int has_header,
                                       const nn_allocator *a, nn_data *out, int *err_line);
#endif

/* Per-feature z-score in place: x[i][j] = (x[i][j] - mean[j]) / std[j], with the
   population std (divide by n) computed in double; a constant feature gets std 1 (it
   becomes 0). mean_out, std_out [dim] (either may be NULL) receive the statistics for
   nn_data_apply_normalization on a test set. NN_ERR_NONFINITE (d unchanged) if a mean
   or std is not finite. */
NN_DATA_DEF nn_status nn_data_normalize(nn_data *d, float *mean_out, float *std_out);
/* x[i][j] = (x[i][j] - mean[j]) / std[j] with given statistics [dim] (std > 0, finite).
   Gives bit-identical results to nn_data_normalize for the same statistics. */
NN_DATA_DEF nn_status nn_data_apply_normalization(nn_data *d, const float *mean,
                                                  const float *std);
/* out [n][classes] = one-hot rows of labels [n]. NN_ERR_INVALID (out untouched) if a
   label is outside [0, classes). */
NN_DATA_DEF nn_status nn_data_one_hot(const int *labels, int n, int classes, float *out);
/* Shuffles the samples (rows of x with their labels) in place: Fisher-Yates with nn_rng
   seeded by seed, so the same seed gives the same order on every platform. */
NN_DATA_DEF nn_status nn_data_shuffle(nn_data *d, uint64_t seed);
/* Moves the LAST round(fraction * n) samples of d into *holdout (new buffers, same
   allocator and classes) and shrinks d->n; d keeps its buffers. Deterministic: shuffle
   first for a random split. fraction in (0,1) and both parts non-empty, else
   NN_ERR_INVALID. *holdout is zeroed first (unless it is d) and filled on success. */
NN_DATA_DEF nn_status nn_data_split(nn_data *d, float fraction, nn_data *holdout);

#ifdef __cplusplus
}
#endif
#endif /* NN_DATA_H_INCLUDED */

/* =========================================================================== */
/*                              IMPLEMENTATION                                 */
/* =========================================================================== */
#if defined(NN_DATA_IMPLEMENTATION) && !defined(NN_DATA_IMPLEMENTATION_INCLUDED)
#define NN_DATA_IMPLEMENTATION_INCLUDED

#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#ifndef NN_NO_STDIO
#  include <stdio.h>
#endif
#if defined(__linux__) && !defined(NN_NO_POSIX)
#  include <stdint.h>
#  include <sys/mman.h>  /* madvise, where visible (see nn__data_alloc) */
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* >>alloc ------------------------------------------------------------------- */

static int nn__data_alloc_ok(const nn_allocator *a)
{
    return !a || (a->alloc_fn == NULL) == (a->free_fn == NULL);
}

/* Every allocation of this file goes through here (size 0 is fine: one byte). Large
   default-allocator buffers ask for transparent huge pages (see MEMORY). */
static void *nn__data_alloc(const nn_allocator *a, size_t size)
{
    void *p = nn_simd_alloc(a, size);
#if defined(MADV_HUGEPAGE)
    if (p && !(a && a->alloc_fn) && size >= ((size_t)4 << 20)) {
        const uintptr_t huge = (uintptr_t)2 << 20;
        const uintptr_t b = ((uintptr_t)p + huge - 1) & ~(huge - 1);
        const uintptr_t e = ((uintptr_t)p + size) & ~(huge - 1);
        if (e > b) (void)madvise((void *)b, (size_t)(e - b), MADV_HUGEPAGE);
    }
#endif
    return p;
}

static void nn__data_free(const nn_allocator *a, void *p)
{
    nn_simd_free(a, p);
}

/* *r = x * y; 0 if it overflows size_t. */
static int nn__data_mul(size_t x, size_t y, size_t *r)
{
    if (y && x > (size_t)-1 / y) return 0;
    *r = x * y;
    return 1;
}

NN_DATA_DEF void nn_data_free_buf(void *p, const nn_allocator *a)
{
    nn__data_free(a, p);
}

NN_DATA_DEF void nn_data_free(nn_data *d)
{
    if (!d) return;
    nn__data_free(&d->alloc, d->x);
    nn__data_free(&d->alloc, d->labels);
    memset(d, 0, sizeof *d);
}

static inline uint32_t nn__data_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint32_t nn__data_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* The bit reader's 8-byte load: one unaligned load on little-endian targets. */
static inline uint64_t nn__data_le64(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#else
    return (uint64_t)nn__data_le32(p) | (uint64_t)nn__data_le32(p + 4) << 32;
#endif
}

/* >>crc32 ------------------------------------------------------------------- */
/* CRC-32 of RFC 1952 (reflected polynomial 0xEDB88320), slicing-by-8: t[0] is the
   byte-at-a-time table, t[k][b] is the CRC of byte b followed by k zero bytes. The
   tables are built per gunzip call (8 KB, ~20k operations) so there is no global
   state to initialize or race on. */
typedef struct nn__data_crc_tab { uint32_t t[8][256]; } nn__data_crc_tab;

static void nn__data_crc_init(nn__data_crc_tab *c)
{
    unsigned i, k;
    for (i = 0; i < 256; i++) {
        uint32_t r = i;
        for (k = 0; k < 8; k++) r = (r & 1) ? 0xEDB88320u ^ (r >> 1) : r >> 1;
        c->t[0][i] = r;
    }
    for (i = 0; i < 256; i++)
        for (k = 1; k < 8; k++)
            c->t[k][i] = (c->t[k - 1][i] >> 8) ^ c->t[0][c->t[k - 1][i] & 255];
}

static uint32_t nn__data_crc(const nn__data_crc_tab *c, uint32_t crc, const unsigned char *p,
                             size_t n)
{
    crc = ~crc;
    while (n >= 8) {
        uint32_t lo = crc ^ nn__data_le32(p), hi = nn__data_le32(p + 4);
        crc = c->t[7][lo & 255] ^ c->t[6][(lo >> 8) & 255] ^ c->t[5][(lo >> 16) & 255] ^
              c->t[4][lo >> 24] ^ c->t[3][hi & 255] ^ c->t[2][(hi >> 8) & 255] ^
              c->t[1][(hi >> 16) & 255] ^ c->t[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ c->t[0][(crc ^ *p++) & 255];
    return ~crc;
}

/* >>inflate ----------------------------------------------------------------- */
/* DEFLATE (RFC 1951) into one growing output buffer; back-references are plain copies
   inside it, so there is no separate 32 KB window.

   Bit reading: bits are consumed LSB-first from a 64-bit buffer `bb` holding `bits`
   valid bits. A refill tops it up to 56..63 bits, which covers the longest
   literal/length + extra + distance + extra sequence (15+5+15+13 = 48 bits), so the
   decoder refills once per symbol. With 8 or more input bytes left the refill is one
   little-endian 64-bit load (p advances by whole bytes, bits |= 56); near the end it
   goes byte by byte and, past the end, feeds zero bytes counted in `pad`. Consuming
   a padded bit means the stream is truncated: checked at every slow refill (at most
   one symbol late, and that symbol's output is discarded with the error).

   Huffman tables: `fast` is indexed by the next NN__DATA_FAST input bits and holds,
   for every code up to that length, an entry with everything the decoder needs:
       bits 0-3  code length (0: not in the table: longer code or no code)
       bits 4-7  extra bits to read after it
       bits 8-9  kind: literal / length-or-distance / end-of-block / invalid symbol
       bits 16+  literal byte, or base length / base distance
   Longer codes use canonical decoding (count of codes per length, symbols sorted by
   length then value) bit by bit. */

#define NN__DATA_FAST 10
#define NN__DATA_FAST_MASK ((1u << NN__DATA_FAST) - 1)
#define NN__DATA_K_LIT 0u
#define NN__DATA_K_LEN 1u
#define NN__DATA_K_END 2u
#define NN__DATA_K_BAD 3u
#define NN__DATA_T_CL 0   /* table kinds: code-length code, literal/length, distance */
#define NN__DATA_T_LIT 1
#define NN__DATA_T_DIST 2

typedef struct nn__data_huff {
    uint32_t fast[1u << NN__DATA_FAST];
    uint16_t count[16];      /* number of codes of each length */
    uint16_t sorted[288];    /* symbols ordered by (length, value) */
    int      type;           /* NN__DATA_T_* */
} nn__data_huff;

typedef struct nn__data_inflate {
    const unsigned char *p, *end;  /* input not yet in bb */
    uint64_t      bb;              /* bit buffer, next bit in bit 0 */
    unsigned      bits;            /* valid bits in bb */
    size_t        pad;             /* zero bytes fed past the end of the input */
    unsigned char *out;            /* output buffer [cap], pos bytes written */
    size_t        pos, cap;
    size_t        start;           /* where the current member's output begins in out */
    int           measure;         /* 1: out is a sliding window (see nn__data_reserve) */
    int           check;           /* 1: verify each member's CRC-32 and ISIZE */
    size_t        dropped;         /* measuring: bytes slid out of the window so far */
    size_t        crc_pos;         /* measuring: out[start, crc_pos) is in mcrc already */
    uint32_t      mcrc;            /* measuring: CRC-32 of the current member so far */
    const nn_allocator *a;
    int           have_fixed;
    nn__data_huff lit, dist, fixlit, fixdist, cl;
    nn__data_crc_tab crc;
} nn__data_inflate;

/* The table entry of symbol sym with a code of len bits (see above). */
static uint32_t nn__data_entry(int type, unsigned sym, unsigned len)
{
    unsigned kind = NN__DATA_K_BAD, extra = 0, value = 0;
    if (type == NN__DATA_T_CL) {
        kind = NN__DATA_K_LIT;
        value = sym;
    } else if (type == NN__DATA_T_DIST) {
        if (sym < 4) {
            kind = NN__DATA_K_LEN;
            value = sym + 1;
        } else if (sym < 30) {                  /* 5,7 | 9,13 | ... | 24577 */
            kind = NN__DATA_K_LEN;
            extra = sym / 2 - 1;
            value = ((2u + (sym & 1)) << extra) + 1;
        }                                       /* 30, 31: invalid */
    } else if (sym < 256) {
        kind = NN__DATA_K_LIT;
        value = sym;
    } else if (sym == 256) {
        kind = NN__DATA_K_END;
    } else if (sym < 265) {                     /* lengths 3..10 */
        kind = NN__DATA_K_LEN;
        value = sym - 254;
    } else if (sym < 285) {                     /* 11,13,15,17 | 19.. | ... | 227 */
        unsigned i = sym - 257;
        kind = NN__DATA_K_LEN;
        extra = (i >> 2) - 1;
        value = ((4u + (i & 3)) << extra) + 3;
    } else if (sym == 285) {
        kind = NN__DATA_K_LEN;
        value = 258;
    }                                           /* 286, 287: invalid */
    return len | extra << 4 | kind << 8 | value << 16;
}

/* Builds a canonical Huffman table from code lengths lens [n] (n <= 288, lengths <= 15).
   Over-subscribed sets are errors. Incomplete sets are errors too, except the two the
   RFC implies: a single code of length 1, and a distance code with no codes at all
   (a block of literals only); the unused bit patterns decode as errors. */
static nn_status nn__data_huff_build(nn__data_huff *h, const unsigned char *lens, unsigned n,
                                     int type)
{
    unsigned len, sym, left = 1, maxlen = 0;
    uint16_t offs[16], next[16];
    memset(h->count, 0, sizeof h->count);
    memset(h->fast, 0, sizeof h->fast);
    h->type = type;
    for (sym = 0; sym < n; sym++) h->count[lens[sym]]++;
    h->count[0] = 0;
    for (len = 1; len < 16; len++) {
        left <<= 1;
        if (h->count[len] > left) return NN_ERR_FORMAT;  /* over-subscribed */
        left -= h->count[len];
        if (h->count[len]) maxlen = len;
    }
    if (left && !(maxlen == 1 && h->count[1] == 1) && !(maxlen == 0 && type == NN__DATA_T_DIST))
        return NN_ERR_FORMAT;                               /* incomplete */
    offs[1] = 0;
    next[1] = 0;
    for (len = 1; len < 15; len++) {
        offs[len + 1] = (uint16_t)(offs[len] + h->count[len]);
        next[len + 1] = (uint16_t)((next[len] + h->count[len]) << 1);
    }
    for (sym = 0; sym < n; sym++) {
        unsigned l = lens[sym], code, rev = 0, i;
        if (!l) continue;
        h->sorted[offs[l]++] = (uint16_t)sym;
        code = next[l]++;
        if (l > NN__DATA_FAST) continue;
        for (i = 0; i < l; i++) rev |= ((code >> i) & 1u) << (l - 1 - i);
        for (i = rev; i <= NN__DATA_FAST_MASK; i += 1u << l)
            h->fast[i] = nn__data_entry(type, sym, l);
    }
    return NN_OK;
}

/* Canonical decoding of the code at the bottom of bb, one bit at a time (codes longer
   than NN__DATA_FAST, and invalid bit patterns, which return 0). */
static uint32_t nn__data_huff_slow(const nn__data_huff *h, uint64_t bb)
{
    unsigned len, code = 0, first = 0, index = 0;
    for (len = 1; len < 16; len++) {
        unsigned cnt = h->count[len];
        code |= (unsigned)(bb >> (len - 1)) & 1u;
        if (code - first < cnt) return nn__data_entry(h->type, h->sorted[index + code - first], len);
        index += cnt;
        first = (first + cnt) << 1;
        code <<= 1;
    }
    return 0;
}

/* Makes room for `more` (<= 65535) bytes after pos. Storing, out was sized by the
   measuring pass and never grows. Measuring, out is a window: when it is full, all but
   its last NN__DATA_WINDOW bytes (the farthest a distance reaches) are CRC'd into the
   member's CRC and dropped, so memory stays at NN__DATA_WINDOW + NN__DATA_SPAN. */
#define NN__DATA_WINDOW ((size_t)32768)
#define NN__DATA_SPAN   ((size_t)224 << 10)
static nn_status nn__data_reserve(nn__data_inflate *s, size_t more)
{
    size_t shift;
    if (more <= s->cap - s->pos) return NN_OK;
    if (!s->measure || s->dropped + s->pos > NN_DATA_MAX_BYTES ||
        more > NN_DATA_MAX_BYTES - s->dropped - s->pos)
        return NN_ERR_LIMIT;                  /* (the window may have run past the limit) */
    shift = s->pos - NN__DATA_WINDOW;         /* pos > cap - more >= NN__DATA_WINDOW */
    if (s->crc_pos < shift) {
        s->mcrc = nn__data_crc(&s->crc, s->mcrc, s->out + s->crc_pos, shift - s->crc_pos);
        s->crc_pos = shift;
    }
    memmove(s->out, s->out + shift, NN__DATA_WINDOW);
    s->crc_pos -= shift;
    s->start = s->start > shift ? s->start - shift : 0;  /* 0: pos - start >= any distance */
    s->pos -= shift;
    s->dropped += shift;
    return NN_OK;
}

/* Refill for the functions that keep the bit buffer in the state (block headers). */
static int nn__data_refill(nn__data_inflate *s)
{
    if (s->end - s->p >= 8) {
        s->bb |= nn__data_le64(s->p) << s->bits;
        s->p += (63 - s->bits) >> 3;
        s->bits |= 56;
        return 1;
    }
    if (s->bits < 8 * s->pad) return 0;
    while (s->bits <= 55) {
        if (s->p < s->end) s->bb |= (uint64_t)*s->p++ << s->bits;
        else s->pad++;
        s->bits += 8;
    }
    return 1;
}

static unsigned nn__data_take(nn__data_inflate *s, unsigned n)  /* n <= 32, after refill */
{
    unsigned v = (unsigned)(s->bb & ((1u << n) - 1u));
    s->bb >>= n;
    s->bits -= n;
    return v;
}

/* Drops the bits up to the next byte boundary and hands the unread whole bytes in bb
   back to p, so byte-oriented reading can continue. */
static nn_status nn__data_align(nn__data_inflate *s)
{
    s->bits &= ~7u;
    if (s->bits < 8 * s->pad) return NN_ERR_TRUNCATED;
    s->p -= s->bits / 8 - s->pad;
    s->bb = 0;
    s->bits = 0;
    s->pad = 0;
    return NN_OK;
}

/* Decodes one Huffman-coded block with the given tables, up to its end-of-block. */
static nn_status nn__data_codes(nn__data_inflate *s, const nn__data_huff *lit,
                                const nn__data_huff *dist)
{
    const unsigned char *p = s->p, *end = s->end;
    uint64_t bb = s->bb;
    unsigned bits = s->bits;
    size_t pad = s->pad, pos = s->pos, cap = s->cap;
    unsigned char *out = s->out;
    nn_status st = NN_OK;
    for (;;) {
        uint32_t e;
        unsigned n;
        size_t length, d;
        if (end - p >= 8) {
            bb |= nn__data_le64(p) << bits;
            p += (63 - bits) >> 3;
            bits |= 56;
        } else {
            if (bits < 8 * pad) { st = NN_ERR_TRUNCATED; break; }
            while (bits <= 55) {
                if (p < end) bb |= (uint64_t)*p++ << bits;
                else pad++;
                bits += 8;
            }
        }
        e = lit->fast[bb & NN__DATA_FAST_MASK];
        if (!(e & 15)) {
            e = nn__data_huff_slow(lit, bb);
            if (!e) { st = NN_ERR_FORMAT; break; }
        }
        n = e & 15;
        bb >>= n;
        bits -= n;
        if (((e >> 8) & 3) == NN__DATA_K_LIT) {
            if (pos == cap) {
                s->pos = pos;
                st = nn__data_reserve(s, 1);
                if (st) break;
                out = s->out;
                pos = s->pos;
                cap = s->cap;
            }
            out[pos++] = (unsigned char)(e >> 16);
            /* >= 41 bits are left: a second literal from the fast table fits */
            e = lit->fast[bb & NN__DATA_FAST_MASK];
            if ((e & 15) && ((e >> 8) & 3) == NN__DATA_K_LIT && pos < cap) {
                n = e & 15;
                bb >>= n;
                bits -= n;
                out[pos++] = (unsigned char)(e >> 16);
            }
            continue;
        }
        if (((e >> 8) & 3) == NN__DATA_K_END) break;
        if (((e >> 8) & 3) == NN__DATA_K_BAD) { st = NN_ERR_FORMAT; break; }
        n = (e >> 4) & 15;
        length = (e >> 16) + (size_t)(bb & ((1u << n) - 1u));
        bb >>= n;
        bits -= n;
        e = dist->fast[bb & NN__DATA_FAST_MASK];
        if (!(e & 15)) {
            e = nn__data_huff_slow(dist, bb);
            if (!e) { st = NN_ERR_FORMAT; break; }
        }
        n = e & 15;
        bb >>= n;
        bits -= n;
        if (((e >> 8) & 3) != NN__DATA_K_LEN) { st = NN_ERR_FORMAT; break; }
        n = (e >> 4) & 15;
        d = (e >> 16) + (size_t)(bb & ((1u << n) - 1u));
        bb >>= n;
        bits -= n;
        if (d > pos - s->start) { st = NN_ERR_FORMAT; break; }  /* before the member */
        if (length > cap - pos) {
            s->pos = pos;
            st = nn__data_reserve(s, length);
            if (st) break;
            out = s->out;
            pos = s->pos;
            cap = s->cap;
        }
        {
            unsigned char *dst = out + pos;
            const unsigned char *src = dst - d;
            size_t i;
            if (d >= 8 && cap - pos >= length + 8) {
                /* 8 bytes at a time: each chunk's source lies wholly before it */
                for (i = 0; i < length; i += 8) memcpy(dst + i, src + i, 8);
            } else if (d == 1) {
                memset(dst, *src, length);
            } else {
                for (i = 0; i < length; i++) dst[i] = src[i];
            }
            pos += length;
        }
    }
    s->p = p;
    s->bb = bb;
    s->bits = bits;
    s->pad = pad;
    s->pos = pos;
    return st;
}

/* Reads the code lengths of a dynamic block (RFC 1951 3.2.7) and builds s->lit/dist. */
static nn_status nn__data_dynamic(nn__data_inflate *s)
{
    static const unsigned char order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                             11, 4, 12, 3, 13, 2, 14, 1, 15 };
    unsigned char lens[286 + 30 + 2];
    unsigned char cllens[19];
    unsigned hlit, hdist, hclen, i, n = 0;
    nn_status st;
    if (!nn__data_refill(s)) return NN_ERR_TRUNCATED;
    hlit = nn__data_take(s, 5) + 257;
    hdist = nn__data_take(s, 5) + 1;
    hclen = nn__data_take(s, 4) + 4;
    if (hlit > 286 || hdist > 30) return NN_ERR_FORMAT;
    memset(cllens, 0, sizeof cllens);
    for (i = 0; i < hclen; i++) {
        if (s->bits < 3 && !nn__data_refill(s)) return NN_ERR_TRUNCATED;
        cllens[order[i]] = (unsigned char)nn__data_take(s, 3);
    }
    st = nn__data_huff_build(&s->cl, cllens, 19, NN__DATA_T_CL);
    if (st) return st;
    while (n < hlit + hdist) {
        uint32_t e;
        unsigned sym, rep, val = 0;
        if (!nn__data_refill(s)) return NN_ERR_TRUNCATED;
        e = s->cl.fast[s->bb & NN__DATA_FAST_MASK];     /* code lengths are <= 7 bits */
        if (!(e & 15)) return NN_ERR_FORMAT;
        nn__data_take(s, e & 15);
        sym = e >> 16;
        if (sym < 16) {
            lens[n++] = (unsigned char)sym;
            continue;
        }
        if (sym == 16) {
            if (n == 0) return NN_ERR_FORMAT;            /* nothing to repeat */
            val = lens[n - 1];
            rep = 3 + nn__data_take(s, 2);
        } else if (sym == 17) {
            rep = 3 + nn__data_take(s, 3);
        } else {
            rep = 11 + nn__data_take(s, 7);
        }
        if (rep > hlit + hdist - n) return NN_ERR_FORMAT;
        memset(lens + n, (int)val, rep);
        n += rep;
    }
    if (lens[256] == 0) return NN_ERR_FORMAT;            /* no end-of-block code */
    st = nn__data_huff_build(&s->lit, lens, hlit, NN__DATA_T_LIT);
    if (st) return st;
    return nn__data_huff_build(&s->dist, lens + hlit, hdist, NN__DATA_T_DIST);
}

/* One DEFLATE stream starting at s->p (byte aligned); leaves s->p after its last byte.
   A data error found after bits past the end of the input were consumed is reported
   as what it is: a truncation (the zero padding decoded into nonsense). */
static nn_status nn__data_blocks(nn__data_inflate *s);
static nn_status nn__data_inflate_stream(nn__data_inflate *s)
{
    nn_status st = nn__data_blocks(s);
    if (st == NN_ERR_FORMAT && s->bits < 8 * s->pad) st = NN_ERR_TRUNCATED;
    return st;
}

static nn_status nn__data_blocks(nn__data_inflate *s)
{
    unsigned final;
    do {
        unsigned type;
        nn_status st = NN_OK;
        if (!nn__data_refill(s)) return NN_ERR_TRUNCATED;
        final = nn__data_take(s, 1);
        type = nn__data_take(s, 2);
        if (type == 0) {                                 /* stored */
            unsigned len, nlen;
            st = nn__data_align(s);
            if (st) return st;
            if (s->end - s->p < 4) return NN_ERR_TRUNCATED;
            len = s->p[0] | (unsigned)s->p[1] << 8;
            nlen = s->p[2] | (unsigned)s->p[3] << 8;
            if (len != (~nlen & 0xffffu)) return NN_ERR_FORMAT;
            s->p += 4;
            if ((size_t)(s->end - s->p) < len) return NN_ERR_TRUNCATED;
            st = nn__data_reserve(s, len);
            if (st) return st;
            if (len) memcpy(s->out + s->pos, s->p, len);
            s->pos += len;
            s->p += len;
        } else if (type == 1) {                          /* fixed Huffman */
            if (!s->have_fixed) {
                unsigned char lens[288];
                memset(lens, 8, 144);
                memset(lens + 144, 9, 112);
                memset(lens + 256, 7, 24);
                memset(lens + 280, 8, 8);
                st = nn__data_huff_build(&s->fixlit, lens, 288, NN__DATA_T_LIT);
                if (st) return st;
                memset(lens, 5, 32);
                st = nn__data_huff_build(&s->fixdist, lens, 32, NN__DATA_T_DIST);
                if (st) return st;
                s->have_fixed = 1;
            }
            st = nn__data_codes(s, &s->fixlit, &s->fixdist);
        } else if (type == 2) {                          /* dynamic Huffman */
            st = nn__data_dynamic(s);
            if (st) return st;
            st = nn__data_codes(s, &s->lit, &s->dist);
        } else {
            return NN_ERR_FORMAT;                        /* reserved block type */
        }
        if (st) return st;
    } while (!final);
    return nn__data_align(s);
}

/* RFC 1952 member header at s->p (byte aligned). */
static nn_status nn__data_gz_header(nn__data_inflate *s)
{
    const unsigned char *p = s->p, *q;
    size_t avail = (size_t)(s->end - p);
    unsigned flg;
    if ((avail >= 1 && p[0] != 0x1f) || (avail >= 2 && p[1] != 0x8b) ||
        (avail >= 3 && p[2] != 8))
        return NN_ERR_FORMAT;                            /* not gzip, or not deflate */
    if (avail < 10) return NN_ERR_TRUNCATED;
    flg = p[3];
    if (flg & 0xe0) return NN_ERR_FORMAT;                /* reserved flag bits */
    q = p + 10;                                          /* MTIME, XFL, OS: not checked */
    if (flg & 4) {                                       /* FEXTRA */
        size_t xlen;
        if (s->end - q < 2) return NN_ERR_TRUNCATED;
        xlen = q[0] | (size_t)q[1] << 8;
        if ((size_t)(s->end - q - 2) < xlen) return NN_ERR_TRUNCATED;
        q += 2 + xlen;
    }
    if (flg & 8) {                                       /* FNAME */
        const unsigned char *z = (const unsigned char *)memchr(q, 0, (size_t)(s->end - q));
        if (!z) return NN_ERR_TRUNCATED;
        q = z + 1;
    }
    if (flg & 16) {                                      /* FCOMMENT */
        const unsigned char *z = (const unsigned char *)memchr(q, 0, (size_t)(s->end - q));
        if (!z) return NN_ERR_TRUNCATED;
        q = z + 1;
    }
    if (flg & 2) {                                       /* FHCRC: low 16 bits of CRC-32 */
        if (s->end - q < 2) return NN_ERR_TRUNCATED;
        if ((nn__data_crc(&s->crc, 0, p, (size_t)(q - p)) & 0xffffu) !=
            (q[0] | (unsigned)q[1] << 8))
            return NN_ERR_CRC;
        q += 2;
    }
    s->p = q;
    return NN_OK;
}

NN_DATA_DEF int nn_data_is_gzip(const void *src, size_t n)
{
    const unsigned char *p = (const unsigned char *)src;
    return src && n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* Every member of the input, from the start: header, DEFLATE data, CRC-32 and ISIZE
   (checked if s->check; the storing pass after a measuring one decodes the same bytes
   again). *total receives the output size. */
static nn_status nn__data_members(nn__data_inflate *s, size_t *total)
{
    nn_status st;
    for (;;) {
        size_t first = s->dropped + s->pos;              /* the member's first byte */
        s->start = s->crc_pos = s->pos;
        s->mcrc = 0;
        if ((st = nn__data_gz_header(s)) != NN_OK) return st;
        if ((st = nn__data_inflate_stream(s)) != NN_OK) return st;
        if (s->end - s->p < 8) return NN_ERR_TRUNCATED;
        *total = s->dropped + s->pos;
        if (*total > NN_DATA_MAX_BYTES) return NN_ERR_LIMIT;  /* past it within the window */
        if (s->check) {
            uint32_t crc = nn__data_crc(&s->crc, s->mcrc, s->out + s->crc_pos, s->pos - s->crc_pos);
            if (crc != nn__data_le32(s->p) ||
                (uint32_t)((*total - first) & 0xffffffffu) != nn__data_le32(s->p + 4))
                return NN_ERR_CRC;
        }
        s->p += 8;
        if (s->p == s->end) return NN_OK;                /* else: another member */
    }
}

/* One pass over every member from the start of src into s->out (cap bytes), which is
   a sliding window if measure; check: verify CRC-32 and ISIZE. */
static nn_status nn__data_pass(nn__data_inflate *s, const unsigned char *src, int measure,
                               int check, size_t *total)
{
    s->p = src;
    s->bb = 0;
    s->bits = 0;
    s->pad = 0;
    s->pos = 0;
    s->dropped = 0;
    s->measure = measure;
    s->check = check;
    return s->out ? nn__data_members(s, total) : NN_ERR_NOMEM;
}

/* The single pass is tried when the trailer's size is at most this many times the
   input: real data compresses far less (Fashion-MNIST 1.8x, text 3-10x), so a lying
   trailer costs at most this multiple of the input in memory. */
#define NN__DATA_GUESS_RATIO 32
NN_DATA_DEF nn_status nn_data_gunzip(const void *src, size_t n, void **dst, size_t *dst_n,
                                     const nn_allocator *a)
{
    const unsigned char *in = (const unsigned char *)src;
    nn__data_inflate *s;
    nn_status st = NN_ERR_LIMIT;
    size_t total = 0, guess;
    if (dst) *dst = NULL;
    if (dst_n) *dst_n = 0;
    if ((!src && n) || !dst || !dst_n || !nn__data_alloc_ok(a)) return NN_ERR_INVALID;
    if (n == 0) return NN_ERR_TRUNCATED;
    s = (nn__data_inflate *)nn__data_alloc(a, sizeof *s);
    if (!s) return NN_ERR_NOMEM;
    memset(s, 0, sizeof *s);
    s->a = a;
    s->end = in + n;
    nn__data_crc_init(&s->crc);
    /* One checked pass into a buffer of the trailer's size, if that is plausible. Any
       failure (a wrong trailer, several members, a damaged stream) falls back to the
       two passes below, which give the status. */
    guess = n >= 18 ? nn__data_le32(in + n - 4) : 0;
    if (guess > 0 && guess <= NN_DATA_MAX_BYTES && guess / NN__DATA_GUESS_RATIO <= n) {
        s->cap = guess;
        s->out = (unsigned char *)nn__data_alloc(a, guess);
        st = nn__data_pass(s, in, 0, 1, &total);
        if (st != NN_OK) {
            nn__data_free(a, s->out);
            s->out = NULL;
        }
    }
    if (st != NN_OK) {
        /* Pass 1 measures and checks everything in a sliding window; the trailer is not
           trusted for anything (see INFLATE above). */
        s->cap = NN__DATA_WINDOW + NN__DATA_SPAN;
        s->out = (unsigned char *)nn__data_alloc(a, s->cap);
        st = nn__data_pass(s, in, 1, 1, &total);
        nn__data_free(a, s->out);
        s->out = NULL;
        /* Pass 2 decodes the same input into a buffer of exactly the measured size. */
        if (st == NN_OK) {
            s->cap = total;
            s->out = (unsigned char *)nn__data_alloc(a, total);
            st = nn__data_pass(s, in, 0, 0, &total);
        }
    }
    if (st == NN_OK) {
        *dst = s->out;
        *dst_n = s->pos;
    } else {
        nn__data_free(a, s->out);
    }
    nn__data_free(a, s);
    return st;
}

/* >>file -------------------------------------------------------------------- */
#ifndef NN_NO_STDIO
NN_DATA_DEF nn_status nn_data_read_file(const char *path, void **buf, size_t *size,
                                        const nn_allocator *a)
{
    FILE *f;
    unsigned char *b = NULL;
    size_t cap = 65536, n = 0;
    long hint;
    int first, rewound = 0;
    nn_status st = NN_OK;
    if (buf) *buf = NULL;
    if (size) *size = 0;
    if (!path || !buf || !size || !nn__data_alloc_ok(a)) return NN_ERR_INVALID;
    f = fopen(path, "rb");
    if (!f) return NN_ERR_IO;
    /* a first read tells a directory or unreadable file (NN_ERR_IO, as nn_net_load says)
       from a large one: ext4 gives a directory a huge size */
    if ((first = getc(f)) == EOF && ferror(f)) {
        fclose(f);
        return NN_ERR_IO;
    }
    /* The size is a hint only (pipes, files that change while being read): reading
       stops at end of file, and one spare byte shows the end without a regrowth. */
    if (fseek(f, 0, SEEK_END) == 0 && (hint = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        if ((unsigned long)hint > (unsigned long)NN_DATA_MAX_BYTES) {
            fclose(f);
            return NN_ERR_LIMIT;
        }
        rewound = 1;
        cap = (size_t)hint + 1;
        if (cap < 4096) cap = 4096;
    }
    clearerr(f);
    b = (unsigned char *)nn__data_alloc(a, cap);
    if (!b) st = NN_ERR_NOMEM;
    else if (!rewound && first != EOF) b[n++] = (unsigned char)first; /* a pipe: keep it */
    while (st == NN_OK) {
        size_t got;
        if (n == cap) {
            size_t ncap = cap <= NN_DATA_MAX_BYTES / 2 ? 2 * cap : NN_DATA_MAX_BYTES + 1;
            unsigned char *q;
            if (cap > NN_DATA_MAX_BYTES) { st = NN_ERR_LIMIT; break; }
            q = (unsigned char *)nn__data_alloc(a, ncap);
            if (!q) { st = NN_ERR_NOMEM; break; }
            memcpy(q, b, n);
            nn__data_free(a, b);
            b = q;
            cap = ncap;
        }
        got = fread(b + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            if (ferror(f)) st = NN_ERR_IO;
            break;
        }
    }
    fclose(f);
    if (st == NN_OK && n > NN_DATA_MAX_BYTES) st = NN_ERR_LIMIT;
    if (st) {
        nn__data_free(a, b);
        return st;
    }
    *buf = b;
    *size = n;
    return NN_OK;
}

NN_DATA_DEF nn_status nn_data_load_file(const char *path, void **buf, size_t *size,
                                        const nn_allocator *a)
{
    void *raw, *z;
    size_t n, zn;
    nn_status st;
    if (buf) *buf = NULL;
    if (size) *size = 0;
    if (!buf || !size) return NN_ERR_INVALID;
    st = nn_data_read_file(path, &raw, &n, a);
    if (st) return st;
    if (!nn_data_is_gzip(raw, n)) {
        *buf = raw;
        *size = n;
        return NN_OK;
    }
    st = nn_data_gunzip(raw, n, &z, &zn, a);
    nn__data_free(a, raw);
    if (st) return st;
    *buf = z;
    *size = zn;
    return NN_OK;
}
#endif /* NN_NO_STDIO */

/* >>idx --------------------------------------------------------------------- */

/* Validates one raw IDX buffer: images (magic 0x803: count, rows, cols) or labels
   (0x801: count). *count and *dim (1 for labels) on success. */
static nn_status nn__data_idx_check(const unsigned char *b, size_t n, int images,
                                    size_t *count, size_t *dim)
{
    const unsigned char magic[4] = { 0, 0, 8, (unsigned char)(images ? 3 : 1) };
    size_t hdr = images ? 16 : 8, i;
    uint64_t cnt, d = 1, total;
    for (i = 0; i < 4 && i < n; i++)
        if (b[i] != magic[i]) return NN_ERR_FORMAT;
    if (n < hdr) return NN_ERR_TRUNCATED;
    cnt = nn__data_be32(b + 4);
    if (images) d = (uint64_t)nn__data_be32(b + 8) * nn__data_be32(b + 12);
    if (cnt == 0 || d == 0) return NN_ERR_FORMAT;
    if (cnt > INT_MAX || d > INT_MAX) return NN_ERR_LIMIT;
    total = cnt * d;                                     /* < 2^62: no overflow */
    if (total > (uint64_t)NN_DATA_MAX_BYTES) return NN_ERR_LIMIT;
    if (total > n - hdr) return NN_ERR_TRUNCATED;
    if (total < n - hdr) return NN_ERR_FORMAT;           /* trailing bytes */
    *count = (size_t)cnt;
    *dim = (size_t)d;
    return NN_OK;
}

/* From raw (already gunzipped) IDX buffers; lab may be NULL. */
static nn_status nn__data_idx_build(const unsigned char *img, size_t img_n,
                                    const unsigned char *lab, size_t lab_n,
                                    const nn_allocator *a, nn_data *out)
{
    size_t n, dim, ln = 0, one, i, xbytes;
    float lut[256];
    nn_data d;
    nn_status st = nn__data_idx_check(img, img_n, 1, &n, &dim);
    if (st) return st;
    if (lab) {
        st = nn__data_idx_check(lab, lab_n, 0, &ln, &one);
        if (st) return st;
        if (ln != n) return NN_ERR_SHAPE;
    }
    if (!nn__data_mul(n * dim, sizeof(float), &xbytes)) return NN_ERR_LIMIT;
    memset(&d, 0, sizeof d);
    if (a) d.alloc = *a;
    d.n = (int)n;
    d.dim = (int)dim;
    d.x = (float *)nn__data_alloc(a, xbytes);
    if (lab) d.labels = (int *)nn__data_alloc(a, n * sizeof(int));
    if (!d.x || (lab && !d.labels)) {
        nn_data_free(&d);
        return NN_ERR_NOMEM;
    }
    for (i = 0; i < 256; i++) lut[i] = (float)i / 255.0f;  /* correctly rounded p/255 */
    img += 16;
    for (i = 0; i < n * dim; i++) d.x[i] = lut[img[i]];
    if (lab) {
        int maxl = 0;
        for (i = 0; i < n; i++) {
            d.labels[i] = lab[8 + i];
            if (d.labels[i] > maxl) maxl = d.labels[i];
        }
        d.classes = maxl + 1;
    }
    *out = d;
    return NN_OK;
}

NN_DATA_DEF nn_status nn_data_parse_idx(const void *images, size_t images_n,
                                        const void *labels, size_t labels_n,
                                        const nn_allocator *a, nn_data *out)
{
    void *zi = NULL, *zl = NULL;
    const unsigned char *img = (const unsigned char *)images, *lab = (const unsigned char *)labels;
    nn_status st = NN_OK;
    if (out) memset(out, 0, sizeof *out);
    if (!images || !out || !nn__data_alloc_ok(a)) return NN_ERR_INVALID;
    if (nn_data_is_gzip(img, images_n)) {
        st = nn_data_gunzip(img, images_n, &zi, &images_n, a);
        img = (const unsigned char *)zi;
    }
    if (st == NN_OK && lab && nn_data_is_gzip(lab, labels_n)) {
        st = nn_data_gunzip(lab, labels_n, &zl, &labels_n, a);
        lab = (const unsigned char *)zl;
    }
    if (st == NN_OK) st = nn__data_idx_build(img, images_n, lab, labels_n, a, out);
    nn__data_free(a, zi);
    nn__data_free(a, zl);
    return st;
}

#ifndef NN_NO_STDIO
NN_DATA_DEF nn_status nn_data_load_idx(const char *images_path, const char *labels_path,
                                       const nn_allocator *a, nn_data *out)
{
    void *img = NULL, *lab = NULL;
    size_t img_n = 0, lab_n = 0;
    nn_status st;
    if (out) memset(out, 0, sizeof *out);
    if (!images_path || !out || !nn__data_alloc_ok(a)) return NN_ERR_INVALID;
    st = nn_data_load_file(images_path, &img, &img_n, a);
    if (st == NN_OK) {                   /* report a bad images file before reading labels */
        size_t n, dim;
        st = nn__data_idx_check((const unsigned char *)img, img_n, 1, &n, &dim);
    }
    if (st == NN_OK && labels_path) st = nn_data_load_file(labels_path, &lab, &lab_n, a);
    if (st == NN_OK)
        st = nn__data_idx_build((const unsigned char *)img, img_n, (const unsigned char *)lab,
                                lab_n, a, out);
    nn__data_free(a, img);
    nn__data_free(a, lab);
    return st;
}
#endif

/* >>csv --------------------------------------------------------------------- */

/* Locale-independent decimal to float for the whole of [s, e). Up to 19 significant
   digits are kept (exact in uint64); the value m * 10^e10 is formed in double with
   exact powers of ten (<= 1e22) and rounded once more to float. Returns 0 if [s, e)
   is not a number or is beyond FLT_MAX. */
static int nn__data_parse_float(const char *s, const char *e, float *out)
{
    static const double p10[23] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    uint64_t m = 0;
    long long e10 = 0, ex = 0;
    int neg = 0, digits = 0, any = 0, eneg = 0;
    double v;
    if (s < e && (*s == '+' || *s == '-')) neg = *s++ == '-';
    for (; s < e && *s >= '0' && *s <= '9'; s++) {
        any = 1;
        if (m == 0 && *s == '0') continue;               /* leading zero */
        if (digits < 19) { m = m * 10 + (unsigned)(*s - '0'); digits++; }
        else e10++;                                      /* dropped integer digit */
    }
    if (s < e && *s == '.') {
        for (s++; s < e && *s >= '0' && *s <= '9'; s++) {
            any = 1;
            if (m == 0 && *s == '0') { e10--; continue; }
            if (digits < 19) { m = m * 10 + (unsigned)(*s - '0'); digits++; e10--; }
        }
    }
    if (!any) return 0;
    if (s < e && (*s == 'e' || *s == 'E')) {
        int edig = 0;
        s++;
        if (s < e && (*s == '+' || *s == '-')) eneg = *s++ == '-';
        for (; s < e && *s >= '0' && *s <= '9'; s++, edig++)
            if (ex < 1000000) ex = ex * 10 + (*s - '0');
        if (!edig) return 0;
    }
    if (s != e) return 0;
    e10 += eneg ? -ex : ex;
    if (m == 0 || e10 < -90) {
        v = 0.0;                       /* < 1e-71: zero in float */
    } else if (e10 > 40) {
        return 0;                      /* >= 1e40: beyond FLT_MAX */
    } else {
        v = (double)m;
        while (e10 > 22) { v *= 1e22; e10 -= 22; }
        while (e10 < -22) { v /= 1e22; e10 += 22; }
        v = e10 >= 0 ? v * p10[e10] : v / p10[-e10];
    }
    if (v > FLT_MAX) return 0;
    *out = (float)(neg ? -v : v);
    return 1;
}

typedef struct nn__data_line { const char *s, *e; } nn__data_line;

/* The next line at *pp (without "\n" or "\r\n"); 0 at the end. */
static int nn__data_next_line(const char **pp, const char *end, nn__data_line *l)
{
    const char *p = *pp, *q;
    if (p >= end) return 0;
    q = (const char *)memchr(p, '\n', (size_t)(end - p));
    if (!q) q = end;
    *pp = q < end ? q + 1 : end;
    l->s = p;
    l->e = (q > p && q[-1] == '\r') ? q - 1 : q;
    return 1;
}

static int nn__data_blank(const nn__data_line *l)
{
    const char *p;
    for (p = l->s; p < l->e; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r') return 0;
    return 1;
}

static int nn__data_space(char c, char delim)
{
    return c == ' ' || (c == '\t' && delim != '\t') || c == '\r';
}

/* Splits the next cell off [*pp, e): its contents (without quotes and surrounding
   spaces) are [*cs, *ce). *last is set when it was the line's last cell. Returns 0
   for a malformed quoted cell. */
static int nn__data_cell(const char **pp, const char *e, char delim, const char **cs,
                         const char **ce, int *last)
{
    const char *p = *pp;
    while (p < e && nn__data_space(*p, delim)) p++;
    if (p < e && *p == '"') {
        *cs = ++p;
        for (;;) {
            if (p >= e) return 0;                        /* no closing quote */
            if (*p == '"') {
                if (p + 1 < e && p[1] == '"') { p += 2; continue; }
                break;
            }
            p++;
        }
        *ce = p++;
        while (p < e && nn__data_space(*p, delim)) p++;
        if (p < e && *p != delim) return 0;              /* text after the quote */
    } else {
        const char *q = (const char *)memchr(p, delim, (size_t)(e - p));
        if (!q) q = e;
        *cs = p;
        *ce = q;
        while (*ce > *cs && nn__data_space((*ce)[-1], delim)) (*ce)--;
        p = q;
    }
    *last = p >= e;
    *pp = p < e ? p + 1 : e;
    return 1;
}

/* Cells of a line; -1 if a quoted cell is malformed. */
static long nn__data_count_cells(const nn__data_line *l, char delim, int *all_numbers)
{
    const char *p = l->s, *cs, *ce;
    int last = 0;
    long n = 0;
    float f;
    *all_numbers = 1;
    while (!last) {
        if (!nn__data_cell(&p, l->e, delim, &cs, &ce, &last)) return -1;
        if (!nn__data_parse_float(cs, ce, &f)) *all_numbers = 0;
        n++;
    }
    return n;
}

static char nn__data_guess_delim(const nn__data_line *l)
{
    const char *p;
    size_t c = 0, sc = 0, t = 0;
    int quoted = 0;
    for (p = l->s; p < l->e; p++) {
        if (*p == '"') quoted = !quoted;
        else if (!quoted) {
            c += *p == ',';
            sc += *p == ';';
            t += *p == '\t';
        }
    }
    if (sc > c && sc >= t) return ';';
    if (t > c && t > sc) return '\t';
    return ',';
}

NN_DATA_DEF nn_status nn_data_parse_csv(const char *text, size_t len, int label_column,
                                        int has_header, const nn_allocator *a, nn_data *out,
                                        int *err_line)
{
    const char *p, *end, *start, *body;
    nn__data_line l;
    void *z = NULL;
    char delim = ',';
    int line = 0, first_line = 0, label = -1, row = 0, maxl = -1, all_num;
    long ncols = -1;
    size_t rows = 0, xbytes;
    nn_data d;
    nn_status st = NN_OK;
    if (err_line) *err_line = 0;
    if (out) memset(out, 0, sizeof *out);
    if ((!text && len) || !out || !nn__data_alloc_ok(a) || label_column < NN_DATA_LAST_COLUMN)
        return NN_ERR_INVALID;
    if (nn_data_is_gzip(text, len)) {
        st = nn_data_gunzip(text, len, &z, &len, a);
        if (st) return st;
        text = (const char *)z;
    }
    memset(&d, 0, sizeof d);
    if (a) d.alloc = *a;
    p = text;
    end = text + len;
    if (len >= 3 && (unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb &&
        (unsigned char)p[2] == 0xbf)
        p += 3;                                          /* UTF-8 byte order mark */
    if (len && memchr(text, 0, len)) { st = NN_ERR_FORMAT; goto done; }  /* binary */
    /* Both passes walk the same lines from the same start (after the BOM) with the
       same blank-line test; pass 2 also checks every row against pass 1's counts. */
    start = p;
    /* pass 1: delimiter, columns, header, row count */
    body = p;
    while (nn__data_next_line(&p, end, &l)) {
        line++;
        if (nn__data_blank(&l)) continue;
        if (ncols < 0) {
            first_line = line;
            delim = nn__data_guess_delim(&l);
            ncols = nn__data_count_cells(&l, delim, &all_num);
            if (ncols < 0 || ncols > INT_MAX) { st = NN_ERR_FORMAT; break; }
            if (has_header > 0 || (has_header < 0 && !all_num)) {
                body = p;                                /* rows start after it */
                continue;
            }
            body = l.s;
        }
        rows++;
    }
    if (st == NN_OK && rows == 0) st = NN_ERR_FORMAT;    /* no data rows */
    if (st) { if (err_line) *err_line = first_line; goto done; }
    if (rows > INT_MAX) { st = NN_ERR_LIMIT; goto done; }
    label = label_column == NN_DATA_LAST_COLUMN ? (int)ncols - 1 : label_column;
    if (label >= ncols || (label >= 0 && ncols == 1)) {
        if (err_line) *err_line = first_line;
        st = NN_ERR_FORMAT;                              /* no such column / no features */
        goto done;
    }
    d.n = (int)rows;
    d.dim = (int)ncols - (label >= 0);
    if (!nn__data_mul(rows, (size_t)d.dim, &xbytes) ||
        !nn__data_mul(xbytes, sizeof(float), &xbytes)) {
        st = NN_ERR_LIMIT;
        goto done;
    }
    d.x = (float *)nn__data_alloc(a, xbytes);
    if (label >= 0) d.labels = (int *)nn__data_alloc(a, rows * sizeof(int));
    if (!d.x || (label >= 0 && !d.labels)) { st = NN_ERR_NOMEM; goto done; }
    /* pass 2: the numbers */
    p = start;
    line = 0;
    while (nn__data_next_line(&p, end, &l)) {
        const char *c = l.s, *cs, *ce;
        int last = 0, col = 0, j = 0;
        float *xr = d.x + (size_t)row * (size_t)d.dim;
        line++;
        if (l.s < body || nn__data_blank(&l)) continue;  /* header, blank lines */
        if (row >= d.n) { st = NN_ERR_FORMAT; if (err_line) *err_line = line; goto done; }
        while (!last) {
            float f;
            if (col >= ncols || !nn__data_cell(&c, l.e, delim, &cs, &ce, &last) ||
                !nn__data_parse_float(cs, ce, &f)) {
                st = NN_ERR_FORMAT;
                break;
            }
            if (col == label) {
                if (!(f >= 0.0f && f < (float)NN_MAX_UNITS && f == (float)(int)f)) {
                    st = NN_ERR_FORMAT;                  /* not a class id */
                    break;
                }
                d.labels[row] = (int)f;
                if ((int)f > maxl) maxl = (int)f;
            } else {
                xr[j++] = f;
            }
            col++;
        }
        if (st == NN_OK && col != ncols) st = NN_ERR_FORMAT;  /* ragged row */
        if (st) {
            if (err_line) *err_line = line;
            goto done;
        }
        row++;
    }
    if (row != d.n) { st = NN_ERR_FORMAT; goto done; }  /* the passes disagree */
    d.classes = maxl + 1;
done:
    nn__data_free(a, z);
    if (st) {
        nn_data_free(&d);
        return st;
    }
    *out = d;
    return NN_OK;
}

#ifndef NN_NO_STDIO
NN_DATA_DEF nn_status nn_data_load_csv(const char *path, int label_column, int has_header,
                                       const nn_allocator *a, nn_data *out, int *err_line)
{
    void *buf;
    size_t n;
    nn_status st;
    if (err_line) *err_line = 0;
    if (out) memset(out, 0, sizeof *out);
    if (!path || !out || !nn__data_alloc_ok(a)) return NN_ERR_INVALID;
    st = nn_data_read_file(path, &buf, &n, a);
    if (st) return st;
    st = nn_data_parse_csv((const char *)buf, n, label_column, has_header, a, out, err_line);
    nn__data_free(a, buf);
    return st;
}
#endif

/* >>helpers ----------------------------------------------------------------- */

static int nn__data_valid(const nn_data *d)
{
    return d && d->x && d->n > 0 && d->dim > 0;
}

static void nn__data_apply(nn_data *d, const float *mean, const float *sd)
{
    size_t i, j, n = (size_t)d->n, dim = (size_t)d->dim;
    for (i = 0; i < n; i++) {
        float *r = d->x + i * dim;
        for (j = 0; j < dim; j++) r[j] = (r[j] - mean[j]) / sd[j];
    }
}

NN_DATA_DEF nn_status nn_data_normalize(nn_data *d, float *mean_out, float *std_out)
{
    size_t i, j, n, dim;
    double *acc;
    float *mean, *sd;
    nn_status st = NN_OK;
    if (!nn__data_valid(d)) return NN_ERR_INVALID;
    n = (size_t)d->n;
    dim = (size_t)d->dim;
    acc = (double *)nn__data_alloc(&d->alloc, dim * (2 * sizeof(double) + 2 * sizeof(float)));
    if (!acc) return NN_ERR_NOMEM;
    mean = (float *)(acc + 2 * dim);
    sd = mean + dim;
    memset(acc, 0, 2 * dim * sizeof(double));
    for (i = 0; i < n; i++)                              /* two passes, in double */
        for (j = 0; j < dim; j++) acc[j] += d->x[i * dim + j];
    for (j = 0; j < dim; j++) acc[j] /= (double)n;
    for (i = 0; i < n; i++)
        for (j = 0; j < dim; j++) {
            double t = d->x[i * dim + j] - acc[j];
            acc[dim + j] += t * t;
        }
    for (j = 0; j < dim; j++) {
        double s = sqrt(acc[dim + j] / (double)n);
        if (!(fabs(acc[j]) <= FLT_MAX) || !(s <= FLT_MAX)) { st = NN_ERR_NONFINITE; break; }
        mean[j] = (float)acc[j];
        sd[j] = s > 0.0 && (float)s > 0.0f ? (float)s : 1.0f;
    }
    if (st == NN_OK) {
        nn__data_apply(d, mean, sd);
        if (mean_out) memcpy(mean_out, mean, dim * sizeof(float));
        if (std_out) memcpy(std_out, sd, dim * sizeof(float));
    }
    nn__data_free(&d->alloc, acc);
    return st;
}

NN_DATA_DEF nn_status nn_data_apply_normalization(nn_data *d, const float *mean,
                                                  const float *std)
{
    int j;
    if (!nn__data_valid(d) || !mean || !std) return NN_ERR_INVALID;
    for (j = 0; j < d->dim; j++)
        if (!(fabsf(mean[j]) <= FLT_MAX) || !(std[j] > 0.0f && std[j] <= FLT_MAX))
            return NN_ERR_INVALID;
    nn__data_apply(d, mean, std);
    return NN_OK;
}

NN_DATA_DEF nn_status nn_data_one_hot(const int *labels, int n, int classes, float *out)
{
    size_t i, total;
    if (!labels || !out || n <= 0 || classes <= 0 ||
        !nn__data_mul((size_t)n, (size_t)classes, &total))
        return NN_ERR_INVALID;
    for (i = 0; i < (size_t)n; i++)
        if (labels[i] < 0 || labels[i] >= classes) return NN_ERR_INVALID;
    memset(out, 0, total * sizeof(float));
    for (i = 0; i < (size_t)n; i++) out[i * (size_t)classes + (size_t)labels[i]] = 1.0f;
    return NN_OK;
}

/* Uniform in [0, bound): rejection removes the modulo bias. */
static uint64_t nn__data_below(nn_rng *r, uint64_t bound)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % bound, v;
    do v = nn_rng_u64(r); while (v >= lim);
    return v % bound;
}

NN_DATA_DEF nn_status nn_data_shuffle(nn_data *d, uint64_t seed)
{
    nn_rng r;
    size_t i, k, dim;
    if (!nn__data_valid(d)) return NN_ERR_INVALID;
    dim = (size_t)d->dim;
    nn_rng_seed(&r, seed);
    for (i = (size_t)d->n - 1; i > 0; i--) {
        size_t j = (size_t)nn__data_below(&r, (uint64_t)i + 1);
        float *a = d->x + i * dim, *b = d->x + j * dim;
        if (j == i) continue;
        for (k = 0; k < dim; k++) {
            float t = a[k];
            a[k] = b[k];
            b[k] = t;
        }
        if (d->labels) {
            int t = d->labels[i];
            d->labels[i] = d->labels[j];
            d->labels[j] = t;
        }
    }
    return NN_OK;
}

NN_DATA_DEF nn_status nn_data_split(nn_data *d, float fraction, nn_data *holdout)
{
    nn_data h;
    double k;
    size_t dim;
    if (holdout && holdout != d) memset(holdout, 0, sizeof *holdout);
    if (!nn__data_valid(d) || !holdout || holdout == d || !(fraction > 0.0f && fraction < 1.0f))
        return NN_ERR_INVALID;
    k = floor((double)fraction * d->n + 0.5);
    if (k < 1 || k > d->n - 1) return NN_ERR_INVALID;
    dim = (size_t)d->dim;
    memset(&h, 0, sizeof h);
    h.alloc = d->alloc;
    h.n = (int)k;
    h.dim = d->dim;
    h.classes = d->classes;
    h.x = (float *)nn__data_alloc(&h.alloc, (size_t)h.n * dim * sizeof(float));
    if (d->labels) h.labels = (int *)nn__data_alloc(&h.alloc, (size_t)h.n * sizeof(int));
    if (!h.x || (d->labels && !h.labels)) {
        nn_data_free(&h);
        return NN_ERR_NOMEM;
    }
    d->n -= h.n;
    memcpy(h.x, d->x + (size_t)d->n * dim, (size_t)h.n * dim * sizeof(float));
    if (d->labels) memcpy(h.labels, d->labels + d->n, (size_t)h.n * sizeof(int));
    *holdout = h;
    return NN_OK;
}

#ifdef __cplusplus
}
#endif
#endif /* NN_DATA_IMPLEMENTATION */
