/* fuzz_csv.c - libFuzzer target for nn_data_parse_csv (text, or gzip of it): each input
   is parsed with no label / the last column as label and with the header given,
   absent and detected. Build and run: make fuzz (seeds: tests/fuzz/corpus_csv). */
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int labels[2] = { -1, NN_DATA_LAST_COLUMN };
    int l, h;
    for (l = 0; l < 2; l++)
        for (h = -1; h <= 1; h++) {
            nn_data d;
            int line = -7;
            nn_status st;
            memset(&d, 0xab, sizeof d);
            st = nn_data_parse_csv((const char *)data, size, labels[l], h, NULL, &d, &line);
            if (line < 0 || (st == NN_OK && line != 0)) abort();
            fuzz_check_data(st, &d, 0);
        }
    return 0;
}
