/* The library's implementation as one object per build configuration (make builds it
   once and links it into every test program that uses only the public API: those
   define NN_IMPLEMENTATION themselves only #ifndef NN_TEST_LINKED, and still build on
   their own). The tests that reach internals include the implementation. */
#define NN_IMPLEMENTATION
#include "nn.h"
