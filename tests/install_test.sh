#!/bin/sh
# install_test.sh - make install writes nn.pc from the PREFIX of that run, and the CMake
# package (lib/cmake/nn, its version nn.pc's; tests/cmake_test.sh uses it): two installs
# in a row (DESTDIR staging with PREFIX=/opt/nn-a, then PREFIX=/usr) must each carry
# their own prefix (a .pc made once used to keep the first). With pkg-config present,
# its flags must build and run a program against the installed headers: in one step
# for the first install, compiling and linking separately for the second (which is why
# -fopenmp is in both Cflags and Libs).
# Usage, from the repository root: sh tests/install_test.sh [BUILD]   (default build)
set -u
MAKE=${MAKE:-make}
CC=${CC:-cc}
t=${1:-build}/install_test
rm -rf "$t"
mkdir -p "$t" || exit 1
t=$(cd "$t" && pwd)
fail=0
cat > "$t/prog.c" <<'PROG'
#define NN_IMPLEMENTATION
#include <nn.h>
#include <stdio.h>
int main(void)
{
    nn_net_desc d;
    nn_net *net = NULL;
    nn_status st;
    memset(&d, 0, sizeof d);
    d.n_inputs = 2;
    d.layers[0].units = 3;
    st = nn_net_create(&d, &net);
    nn_net_destroy(net);
    printf("installed nn.h: %s (%s)\n", nn_status_str(st), nn_simd_backend_name());
    return st == NN_OK ? 0 : 1;
}
PROG
n=0
for prefix in /opt/nn-a /usr; do
    n=$((n + 1))
    dest=$t/dest$n
    if ! $MAKE --no-print-directory -s install DESTDIR="$dest" PREFIX="$prefix" > "$t/install$n.log" 2>&1; then
        echo "FAILED: make install DESTDIR=$dest PREFIX=$prefix"; cat "$t/install$n.log"; fail=$((fail + 1)); continue
    fi
    pc=$dest$prefix/lib/pkgconfig/nn.pc
    if [ "$(sed -n 's/^prefix=//p' "$pc" 2>/dev/null)" != "$prefix" ] || [ ! -f "$dest$prefix/include/nn_data.h" ] || [ ! -f "$dest$prefix/include/nn_mpi.h" ]; then
        echo "FAILED: install $n: $pc should say prefix=$prefix:"; cat "$pc"; fail=$((fail + 1)); continue
    fi
    cm=$dest$prefix/lib/cmake/nn
    if [ ! -f "$cm/nnConfig.cmake" ] ||
       [ "$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")$/\1/p' "$cm/nnConfigVersion.cmake" 2>/dev/null)" != "$(sed -n 's/^Version: //p' "$pc")" ]; then
        echo "FAILED: install $n: $cm should hold nnConfig.cmake and a version file with nn.pc's version"; ls -l "$cm"
        fail=$((fail + 1)); continue
    fi
    if [ "$(grep -o -- -fopenmp "$pc" | wc -l)" -ne 2 ]; then
        echo "FAILED: install $n: -fopenmp should be once in Cflags and once in Libs:"; cat "$pc"; fail=$((fail + 1)); continue
    fi
    msg="prefix=$prefix"
    if command -v pkg-config >/dev/null 2>&1; then
        # the staged tree stands in for /: sysroot prepends DESTDIR to the -I path
        cflags=$(PKG_CONFIG_PATH="$dest$prefix/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" pkg-config --cflags nn)
        libs=$(PKG_CONFIG_PATH="$dest$prefix/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" pkg-config --libs nn)
        if [ $n -eq 1 ]; then
            how="one step"; cmd="$CC $cflags prog.c -o prog$n $libs"
            (cd "$t" && $CC $cflags prog.c -o prog$n $libs) > "$t/build$n.log" 2>&1
        else
            how="compile, then link"; cmd="$CC $cflags -c prog.c; $CC prog.o $libs"
            (cd "$t" && $CC $cflags -c prog.c -o prog$n.o && $CC prog$n.o -o prog$n $libs) > "$t/build$n.log" 2>&1
        fi
        if [ $? -ne 0 ] || ! "$t/prog$n" >> "$t/build$n.log" 2>&1; then
            echo "FAILED: install $n: building with pkg-config's flags ($how): $cmd"; cat "$t/build$n.log"
            fail=$((fail + 1)); continue
        fi
        msg="$msg, pkg-config flags '$cflags' / '$libs' build and run ($how)"
    else
        msg="$msg (pkg-config not installed: build with its flags not checked)"
    fi
    echo "install $n: DESTDIR=$dest: $msg"
done
rm -rf "$t"
echo "install: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
