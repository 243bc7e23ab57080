/* fuzz_gzip.c - libFuzzer target for nn_data_gunzip: any input gives a status; on
   success a buffer of at most NN_DATA_MAX_BYTES, and the same bytes a second time
   (the measuring and the storing pass agree); on error NULL and 0.
   Build and run: make fuzz (seeds: tests/fuzz/corpus_gzip and tests/data). */
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *out = &out, *again = NULL;
    size_t n = 1, n2 = 0;
    nn_status st = nn_data_gunzip(data, size, &out, &n, NULL);
    if (st != NN_OK) {
        if (out || n) abort();
        return 0;
    }
    if (!out || n > NN_DATA_MAX_BYTES) abort();
    if (nn_data_gunzip(data, size, &again, &n2, NULL) != NN_OK || n2 != n ||
        memcmp(out, again, n) != 0)
        abort();
    nn_data_free_buf(again, NULL);
    nn_data_free_buf(out, NULL);
    return 0;
}
