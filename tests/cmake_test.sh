#!/bin/sh
# cmake_test.sh - the CMake target nn::nn, used both ways, from a small consumer project
# whose C and C++ programs each create a net, take one training step and run:
#   1. add_subdirectory(<repository>)                       (OpenMP on: _OPENMP must be set)
#   2. add_subdirectory with -DNN_USE_OPENMP=OFF            (_OPENMP must not be set)
#   3. find_package(nn 0.1) after cmake --install --prefix  (into a temporary prefix)
#   4. find_package(nn 0.1) after make install DESTDIR=... PREFIX=/opt/nn (a staged tree)
# The two installs must hold the same nnConfig.cmake and nnConfigVersion.cmake (the
# Makefile and CMakeLists.txt each carry the version), and find_package(nn 9) must fail.
# Skipped, with a message, when cmake is not installed.
# Usage, from the repository root: sh tests/cmake_test.sh [BUILD]   (default build)
set -u
MAKE=${MAKE:-make}
if ! command -v cmake >/dev/null 2>&1; then
    echo "cmake: SKIPPED (cmake not installed; apt-get install cmake)"
    exit 0
fi
root=$(pwd)
t=${1:-build}/cmake_test
rm -rf "$t"
mkdir -p "$t/consumer" || exit 1
t=$(cd "$t" && pwd)
fail=0
pass=0
cat > "$t/consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.14)
project(consumer C CXX)
if(NN_SOURCE_DIR)
    add_subdirectory(${NN_SOURCE_DIR} nn)
else()
    find_package(nn ${NN_WANT} REQUIRED CONFIG)
endif()
add_executable(prog_c prog.c)
add_executable(prog_cxx prog.cpp)
set_target_properties(prog_c PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
set_target_properties(prog_cxx PROPERTIES CXX_STANDARD 11 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
foreach(p prog_c prog_cxx)
    target_compile_options(${p} PRIVATE -Wall -Wextra -Werror -pedantic)
    target_link_libraries(${p} PRIVATE nn::nn)
endforeach()
CM
cat > "$t/consumer/prog.c" <<'PROG'
#define NN_IMPLEMENTATION
#include <nn.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    static const float x[2][2] = { { 0, 1 }, { 1, 0 } };
    static const int labels[2] = { 1, 0 };
    nn_net_desc d;
    nn_optim_desc od;
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    float loss = 0;
    nn_status st;
    memset(&d, 0, sizeof d);
    memset(&od, 0, sizeof od);
    d.n_inputs = 2;
    d.layers[0].units = 4;
    d.layers[1].units = 2;
    d.layers[1].act = NN_ACT_SOFTMAX;
    d.max_batch = 2;
    st = nn_net_create(&d, &net);
    if (st == NN_OK) st = nn_optim_create(net, &od, &opt);
    if (st == NN_OK) st = nn_train_step(net, opt, &x[0][0], NULL, labels, 2, &loss);
#ifdef _OPENMP
    printf("openmp=1 ");
#else
    printf("openmp=0 ");
#endif
    printf("%s loss %.4f (%s)\n", nn_status_str(st), loss, nn_simd_backend_name());
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    return st == NN_OK && loss > 0 ? 0 : 1;
}
PROG
cp "$t/consumer/prog.c" "$t/consumer/prog.cpp"

# $1 name, $2 the openmp= the programs must print, then cmake -D options
consume() {
    name=$1 omp=$2
    shift 2
    b=$t/build_$name
    if ! cmake -S "$t/consumer" -B "$b" "$@" > "$t/$name.log" 2>&1 ||
       ! cmake --build "$b" >> "$t/$name.log" 2>&1; then
        echo "FAILED: cmake $name: configure or build"; cat "$t/$name.log"; fail=$((fail + 1)); return
    fi
    for p in prog_c prog_cxx; do
        out=$("$b/$p" 2>&1)
        case $? in 0) ;; *) echo "FAILED: cmake $name: $p: $out"; fail=$((fail + 1)); return ;; esac
        case $out in openmp=$omp*) ;; *) echo "FAILED: cmake $name: $p: want openmp=$omp: $out"; fail=$((fail + 1)); return ;; esac
    done
    echo "cmake $name: C and C++ programs built and ran: $out"
    pass=$((pass + 1))
}

consume add_subdirectory 1 -DNN_SOURCE_DIR="$root"
consume add_subdirectory_no_openmp 0 -DNN_SOURCE_DIR="$root" -DNN_USE_OPENMP=OFF

# cmake --install into a temporary prefix
if cmake -S "$root" -B "$t/nn_build" > "$t/install.log" 2>&1 &&
   cmake --install "$t/nn_build" --prefix "$t/prefix" >> "$t/install.log" 2>&1; then
    consume find_package_after_cmake_install 1 -DNN_WANT=0.1 -DCMAKE_PREFIX_PATH="$t/prefix"
else
    echo "FAILED: cmake --install"; cat "$t/install.log"; fail=$((fail + 1))
fi
# make install, staged: the package finds its headers from its own location
if $MAKE --no-print-directory -s install DESTDIR="$t/dest" PREFIX=/opt/nn > "$t/make_install.log" 2>&1; then
    consume find_package_after_make_install 1 -DNN_WANT=0.1 -DCMAKE_PREFIX_PATH="$t/dest/opt/nn"
    for f in nnConfig.cmake nnConfigVersion.cmake; do
        if ! cmp "$t/prefix/lib/cmake/nn/$f" "$t/dest/opt/nn/lib/cmake/nn/$f"; then
            echo "FAILED: cmake --install and make install wrote different $f"; fail=$((fail + 1))
        fi
    done
else
    echo "FAILED: make install"; cat "$t/make_install.log"; fail=$((fail + 1))
fi
# a version this install does not provide is refused
if cmake -S "$t/consumer" -B "$t/build_v9" -DNN_WANT=9 -DCMAKE_PREFIX_PATH="$t/prefix" > "$t/v9.log" 2>&1; then
    echo "FAILED: find_package(nn 9) accepted version $(sed -n 's/.*PACKAGE_VERSION "\(.*\)".*/\1/p' "$t/prefix/lib/cmake/nn/nnConfigVersion.cmake")"
    fail=$((fail + 1))
else
    echo "cmake find_package(nn 9): refused"
    pass=$((pass + 1))
fi
[ "$fail" -eq 0 ] && rm -rf "$t"
echo "cmake: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
