/* fuzz_data.h - shared by the libFuzzer targets for nn_data.h (fuzz_csv.c, fuzz_idx.c,
   fuzz_gzip.c): the includes and the invariants every result must meet. The
   implementation is compiled once, in fuzz_data_impl.c, with the same lowered
   NN_DATA_MAX_BYTES (the Makefile passes it), so a bomb hits the limit in a few ms. */
#ifndef NN_FUZZ_DATA_H
#define NN_FUZZ_DATA_H
#include "nn.h"
#include "nn_data.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* (clang only: the targets that do not use a helper get no warning for it) */
#define FUZZ_HELPER static __attribute__((unused))

/* 1 if the n bytes at p are all zero. */
FUZZ_HELPER int fuzz_zero(const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

/* A loaded dataset: sizes positive, features finite (in [0,1] for IDX), labels in
   [0, classes); a refused one: zeroed. Then freed. Any violation aborts. */
FUZZ_HELPER void fuzz_check_data(nn_status st, nn_data *d, int unit_range)
{
    size_t i, total;
    if (st != NN_OK) {
        if (!fuzz_zero(d, sizeof *d)) abort();
        nn_data_free(d);
        return;
    }
    if (!d->x || d->n < 1 || d->dim < 1 || d->classes < 0 || d->classes > NN_MAX_UNITS) abort();
    total = (size_t)d->n * (size_t)d->dim;
    for (i = 0; i < total; i++) {
        if (!isfinite(d->x[i])) abort();
        if (unit_range && !(d->x[i] >= 0.0f && d->x[i] <= 1.0f)) abort();
    }
    if (d->labels) {
        for (i = 0; i < (size_t)d->n; i++)
            if (d->labels[i] < 0 || d->labels[i] >= d->classes) abort();
    } else if (d->classes != 0) {
        abort();
    }
    nn_data_free(d);
}
#endif
