/* fuzz_load.c - libFuzzer target for nn_net_load_mem (the one model-file parser).

   Build: clang -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
              tests/fuzz/fuzz_load.c -o build/fuzz_load -lm
   Run:   ./build/fuzz_load -max_total_time=60 build/fuzz_corpus tests/fuzz/corpus

   Each input is loaded twice: as it is (reaching magic, version, size and CRC checks) and
   with its last four bytes replaced by the correct CRC-32 of the rest, so that mutations
   get past the checksum into the field validation. Whatever loads must:
   - run a forward pass without tripping a sanitizer, and
   - save back to exactly the input bytes (a loaded model is canonical: every field is
     stored bit for bit, so a difference means the parser accepted something it then
     misrepresents); a version-1 input saves as version 2, which must do the same.
   NN_MAX_ARENA is lowered so a hostile max_batch x width cannot make one run reserve
   more than libFuzzer's malloc limit (the limit logic is the same at any value). */
#define NN_MAX_ARENA (1L << 22)
#define NN_IMPLEMENTATION
#include "nn.h"
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_loaded(const uint8_t *data, size_t size, int want_opt)
{
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    if (nn_net_load_mem(data, size, NULL, &net, want_opt ? &opt : NULL) != NN_OK) return;
    {
        int D = nn_net_n_inputs(net);
        float *x = (float *)calloc((size_t)D, sizeof(float));
        const float *y;
        unsigned char *again;
        size_t n = 0;
        if (!x || nn_net_forward(net, x, 1, &y) != NN_OK) abort();
        free(x);
        /* with the optimizer requested, the re-save must reproduce every byte; a version-1
           input is re-saved as version 2 (12 more bytes with an optimizer section), which
           must then load and re-save to itself */
        if (want_opt) {
            const int v1 = nn__get_u32(data + 8) == 1;
            const size_t want = size + (v1 && opt ? 12u : 0u);
            if (nn_net_save_mem(net, opt, NULL, 0, &n) != NN_OK || n != want) abort();
            again = (unsigned char *)malloc(n);
            if (!again || nn_net_save_mem(net, opt, again, n, &n) != NN_OK) abort();
            if (v1) check_loaded(again, n, 1);
            else if (memcmp(again, data, size) != 0) abort();
            free(again);
        }
    }
    nn_optim_destroy(opt);
    nn_net_destroy(net);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_loaded(data, size, 1);
    check_loaded(data, size, 0);
    if (size >= 28) {
        uint8_t *copy = (uint8_t *)malloc(size);
        if (!copy) return 0;
        memcpy(copy, data, size);
        nn__put_u32(copy + size - 4, nn__crc32(0xFFFFFFFFu, copy, size - 4) ^ 0xFFFFFFFFu);
        check_loaded(copy, size, 1);
        free(copy);
    }
    return 0;
}
