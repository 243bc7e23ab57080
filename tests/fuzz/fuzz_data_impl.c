/* fuzz_data_impl.c - nn.h and nn_data.h implemented once for the three nn_data.h fuzz
   targets (built with -fsanitize=fuzzer-no-link,address,undefined and the Makefile's
   lowered NN_DATA_MAX_BYTES). */
#define NN_IMPLEMENTATION
#define NN_DATA_IMPLEMENTATION
#include "nn.h"
#include "nn_data.h"
