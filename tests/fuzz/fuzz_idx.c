/* fuzz_idx.c - libFuzzer target for nn_data_parse_idx. An input is a 4-byte
   little-endian length n, then n bytes of the images file (raw or gzip), then the
   labels file (none when nothing is left); shorter inputs are an images file alone.
   Build and run: make fuzz (seeds: tests/fuzz/corpus_idx, from make_data_corpus). */
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *img = data, *lab = NULL;
    size_t img_n = size, lab_n = 0;
    nn_data d;
    nn_status st;
    if (size >= 4) {
        size_t n = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 |
                   (size_t)data[3] << 24;
        img = data + 4;
        img_n = n < size - 4 ? n : size - 4;
        if (size - 4 > img_n) {
            lab = img + img_n;
            lab_n = size - 4 - img_n;
        }
    }
    memset(&d, 0xab, sizeof d);
    st = nn_data_parse_idx(img, img_n, lab, lab_n, NULL, &d);
    fuzz_check_data(st, &d, 1);
    return 0;
}
