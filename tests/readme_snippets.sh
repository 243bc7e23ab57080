#!/bin/sh
# readme_snippets.sh - every ```c block of README.md compiles as printed, as C99 (gcc)
# and as C++11 (g++), with -Wall -Wextra -Werror -pedantic, and runs.
#
# A block with a main is built and run as it is. A block that only defines functions is
# followed by tests/readme_glue/NAME.c (NAME: the first function the block defines),
# which adds the implementation and a main that calls it; the block's own lines stay
# first, so compiler messages give README-relative line numbers. A block with neither
# main nor glue is only compiled (-c). Runs happen in BUILD/readme (no data files there).
# Usage, from the repository root: sh tests/readme_snippets.sh [BUILD]   (default build)
set -u
out=${1:-build}/readme
CC=${CC:-gcc}
CXX=${CXX:-g++}
WARN="-Wall -Wextra -Werror -pedantic"
limit=""
command -v timeout >/dev/null 2>&1 && limit="timeout -k 5 120"
mkdir -p "$out" || exit 1
rm -f "$out"/snippet_*
# README.md -> snippet_N.c (N counts the ```c blocks from 1), each starting at its line
awk -v dir="$out" '
    /^```c[ \t]*$/ { n++; f = sprintf("%s/snippet_%d.c", dir, n); printf "" > f; next }
    /^```/         { if (f != "") close(f); f = ""; next }
    f != ""        { print > f }' README.md
pass=0
fail=0
for f in "$out"/snippet_*.c; do
    [ -e "$f" ] || { echo "readme: no \`\`\`c blocks found in README.md"; exit 1; }
    base=${f%.c}
    name=$(sed -n 's/^[A-Za-z_][A-Za-z_0-9]*[ *][ *]*\([A-Za-z_][A-Za-z_0-9]*\)(.*/\1/p' "$f" | head -n 1)
    src=$f
    how="compile"
    if [ "$name" = main ]; then
        how="build, run"
    elif [ -n "$name" ] && [ -f "tests/readme_glue/$name.c" ]; then
        src=${base}_glued.c
        cat "$f" "tests/readme_glue/$name.c" > "$src"
        how="build with tests/readme_glue/$name.c, run"
    fi
    for lang in c c++; do
        if [ "$lang" = c ]; then cc="$CC -x c -std=c99"; else cc="$CXX -x c++ -std=c++11"; fi
        exe=${base}_$(echo "$lang" | tr + x)
        if [ "$how" = compile ]; then
            cmd="$cc $WARN -O0 -fopenmp -I. -c $src -o $exe.o"
        else
            cmd="$cc $WARN -O0 -fopenmp -I. $src -o $exe -lm"
        fi
        if ! $cmd > "$exe.log" 2>&1; then
            echo "FAILED: README block $(basename "$f") as $lang: $cmd"; cat "$exe.log"
            fail=$((fail + 1)); continue
        fi
        if [ "$how" != compile ] && ! (cd "$out" && $limit "./$(basename "$exe")") >> "$exe.log" 2>&1; then
            echo "FAILED: README block $(basename "$f") as $lang: the program failed"; tail -n 20 "$exe.log"
            fail=$((fail + 1)); continue
        fi
        echo "readme: $(basename "$f") ($name) as $lang: $how: ok"
        pass=$((pass + 1))
    done
done
echo "readme: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
