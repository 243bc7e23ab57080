/* Translation unit 1 of the two-TU link test: the only one defining NN_IMPLEMENTATION. */
#define NN_IMPLEMENTATION
#define NN_DATA_IMPLEMENTATION
#include "nn.h"
#include "nn_data.h"

int nn_compile_test_user(void); /* in user.c */

int main(void)
{
    return nn_compile_test_user();
}
