# nn.h - build, test, bench, examples, install.
#   make demo       train a small multi-class net on generated data
#   make test       every test: compile matrix, native (OpenMP), no-OpenMP determinism,
#                   sanitizers, NEON under qemu
#   make test-valgrind  the single-threaded build of the tests under valgrind memcheck
#   make fuzz       libFuzzer on the model-file loader for FUZZ_SECONDS (ASan+UBSan)
#   make examples   build examples/ into build/
#   make fashion    Fashion-MNIST example (10 epochs)
#   make bench      nn.h vs OpenBLAS and PyTorch; writes bench/RESULTS.md (peers: make bench-deps)
#   make install    headers + nn.pc into $(DESTDIR)$(PREFIX)

CC      ?= cc
CXX     ?= c++
PREFIX  ?= /usr/local
B       := build
WARN    := -Wall -Wextra -Werror -pedantic
CSTD    := -std=c99
OPT     ?= -O2
OMP     ?= -fopenmp
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) -g $(OMP) -I. $(CFLAGS)
LIBS    := -lm
, := ,
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

HEADERS := nn.h nn_simd.h nn_data.h
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TESTS   := $(patsubst tests/%.c,$(B)/%,$(TEST_SRC))
SAN_TESTS := $(patsubst tests/%.c,$(B)/san/%,$(TEST_SRC))
EX_SRC  := $(sort $(wildcard examples/*.c))
EXAMPLES := $(patsubst examples/%.c,$(B)/ex_%,$(EX_SRC))

# NEON: cross-compiled kernels tests run under qemu-aarch64.
AARCH64_CC ?= aarch64-linux-gnu-gcc
QEMU_AARCH64 ?= qemu-aarch64
NEON_TEST_SRC := $(filter $(addprefix tests/,test_gemm.c test_kernels.c test_backend.c),$(TEST_SRC))
NEON_TESTS := $(patsubst tests/%.c,$(B)/neon/%,$(NEON_TEST_SRC))

.PHONY: fashion bench-deps all test test-native test-san test-compile test-neon test-threads-noomp \
        test-valgrind fuzz fuzz-corpus demo examples bench bench-ab bench-quick bench-kernels clean install uninstall
all: demo-build examples

$(B) $(B)/san $(B)/neon $(B)/compile $(B)/noomp $(B)/vg:
	@mkdir -p $@

$(B)/%: tests/%.c $(HEADERS) tests/nn_test.h | $(B)
	$(CC) $(CFLAGS_ALL) $< -o $@ $(LIBS)

$(B)/san/%: tests/%.c $(HEADERS) tests/nn_test.h | $(B)/san
	$(CC) $(CSTD) $(WARN) -O1 -g $(SAN) -I. $(CFLAGS) $< -o $@ $(LIBS)

$(B)/neon/%: tests/%.c $(HEADERS) tests/nn_test.h | $(B)/neon
	$(AARCH64_CC) $(CSTD) $(WARN) -O2 -fopenmp -I. $(CFLAGS) $< -o $@ $(LIBS)

$(B)/noomp/%: tests/%.c $(HEADERS) tests/nn_test.h | $(B)/noomp
	$(CC) $(CSTD) $(WARN) $(OPT) -g -I. $(CFLAGS) $< -o $@ $(LIBS)

$(B)/vg/%: tests/%.c $(HEADERS) tests/nn_test.h | $(B)/vg
	$(CC) $(CSTD) $(WARN) -O1 -g -I. $(CFLAGS) $< -o $@ $(LIBS)

test: test-compile test-native test-threads-noomp test-san test-neon
	@echo "make test: all suites passed"

# Every test program is stopped after TEST_TIMEOUT seconds (valgrind's TEST_TIMEOUT_VG):
# a thread hand-off that hangs then fails its suite, with a message, instead of holding
# up the run. The longest here take ~20 s natively, a few minutes under valgrind or qemu.
TEST_TIMEOUT ?= 600
TEST_TIMEOUT_VG ?= 1800
limit = $(if $(shell command -v timeout 2>/dev/null),timeout -k 10 $(1),)

# Runs every test binary ($(4): seconds each may take); prints a closing "N passed, N
# failed" line.
define run_suite
	@pass=0; fail=0; for t in $(1); do \
	  echo "== $(2) $$t"; \
	  if $(call limit,$(4)) $(3) $$t; then pass=$$((pass+1)); else rc=$$?; fail=$$((fail+1)); \
	    if [ $$rc -eq 124 ] || [ $$rc -eq 137 ]; then echo "FAILED: $$t (stopped after $(4) s)"; \
	    else echo "FAILED: $$t"; fi; fi; \
	done; echo "$(2): $$pass passed, $$fail failed"; test $$fail -eq 0
endef

test-native: $(TESTS)
	$(call run_suite,$(TESTS),native,,$(TEST_TIMEOUT))

test-san: $(SAN_TESTS)
	$(call run_suite,$(SAN_TESTS),sanitizers,env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 NN_TEST_QUICK=1,$(TEST_TIMEOUT))

# The same training run, built with and without -fopenmp, must end in the same weights
# (test_threads already compares 1, 2, 3 and 8 threads inside the OpenMP build). Then
# the OpenMP build under OMP_THREAD_LIMIT=1, where the runtime gives every region fewer
# threads than the library asked for: all its checks must pass, with the same weights.
test-threads-noomp: $(B)/test_threads $(B)/noomp/test_threads
	@a=$$($(call limit,$(TEST_TIMEOUT)) ./$(B)/test_threads | grep '^params-checksum:'); \
	 b=$$($(call limit,$(TEST_TIMEOUT)) ./$(B)/noomp/test_threads | grep '^params-checksum:'); \
	 c=$$(OMP_THREAD_LIMIT=1 $(call limit,$(TEST_TIMEOUT)) ./$(B)/test_threads) && c=$$(echo "$$c" | grep '^params-checksum:') || c="failed: $$(echo "$$c" | tail -1)"; \
	 echo "OpenMP build:    $$a"; echo "no-OpenMP build: $$b"; echo "thread limit 1:  $$c"; \
	 if [ -n "$$a" ] && [ "$$a" = "$$b" ] && [ "$$a" = "$$c" ]; then echo "threads-noomp: 1 passed, 0 failed"; \
	 else echo "threads-noomp: a limited team failed, or the weights differ between the builds"; exit 1; fi

# valgrind memcheck over the single-threaded (no OpenMP) build, with the quick sweeps:
# uninitialised reads, invalid accesses and leaks fail the run.
VG_TESTS := $(patsubst tests/%.c,$(B)/vg/%,$(TEST_SRC))
VALGRIND ?= valgrind
test-valgrind: $(VG_TESTS)
	@command -v $(VALGRIND) >/dev/null 2>&1 || { echo "test-valgrind: valgrind not installed (apt-get install valgrind)"; exit 1; }
	$(call run_suite,$(VG_TESTS),valgrind,env NN_TEST_QUICK=1 $(VALGRIND) -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite$(,)indirect,$(TEST_TIMEOUT_VG))

# libFuzzer on nn_net_load_mem (clang, libclang-rt-14-dev), ASan+UBSan, any finding aborts.
# New inputs go to build/fuzz_corpus; the committed seeds are in tests/fuzz/corpus.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
$(B)/fuzz_load: tests/fuzz/fuzz_load.c $(HEADERS) | $(B)
	$(FUZZ_CC) -std=c99 $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I. $< -o $@ -lm
fuzz: $(B)/fuzz_load
	@mkdir -p $(B)/fuzz_corpus $(B)/fuzz_artifacts
	./$(B)/fuzz_load -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=$(B)/fuzz_artifacts/ $(B)/fuzz_corpus tests/fuzz/corpus
$(B)/make_corpus: tests/fuzz/make_corpus.c $(HEADERS) | $(B)
	$(CC) $(CSTD) $(WARN) -O1 -g -I. $< -o $@ $(LIBS)
fuzz-corpus: $(B)/make_corpus
	./$(B)/make_corpus tests/fuzz/corpus

test-neon:
	@if command -v $(AARCH64_CC) >/dev/null 2>&1 && command -v $(QEMU_AARCH64) >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(NEON_TESTS) && \
	  pass=0; fail=0; for t in $(NEON_TESTS); do echo "== neon $$t"; \
	    if $(call limit,$(TEST_TIMEOUT)) $(QEMU_AARCH64) -L /usr/aarch64-linux-gnu $$t; then pass=$$((pass+1)); else fail=$$((fail+1)); echo "FAILED: $$t"; fi; \
	  done; echo "neon: $$pass passed, $$fail failed"; test $$fail -eq 0; \
	else echo "test-neon: SKIPPED ($(AARCH64_CC) or $(QEMU_AARCH64) not installed; apt-get install gcc-aarch64-linux-gnu qemu-user libgomp1-arm64-cross)"; fi

# nn.h must compile cleanly as C99 and C++, gcc and clang, with and without OpenMP,
# and link from two translation units (only one defines NN_IMPLEMENTATION).
COMPILERS_C   := $(shell for c in gcc clang; do command -v $$c >/dev/null 2>&1 && echo $$c; done)
COMPILERS_CXX := $(shell for c in g++ clang++; do command -v $$c >/dev/null 2>&1 && echo $$c; done)
test-compile: tests/compile/impl.c tests/compile/user.c $(HEADERS) | $(B)/compile
	@set -e; for cc in $(COMPILERS_C); do for omp in "" "-fopenmp"; do for o in -O0 -O3; do \
	  echo "compile: $$cc -std=c99 -pedantic $$omp $$o"; \
	  $$cc -std=c99 $(WARN) $$omp $$o -I. -c tests/compile/impl.c -o $(B)/compile/impl.o; \
	  $$cc -std=c99 $(WARN) $$omp $$o -I. -c tests/compile/user.c -o $(B)/compile/user.o; \
	  $$cc $$omp $(B)/compile/impl.o $(B)/compile/user.o -o $(B)/compile/two_tu -lm; \
	  $(B)/compile/two_tu >/dev/null; \
	  $$cc -std=c99 $(WARN) $$omp $$o -DNN_SIMD_NO_SIMD -I. -c tests/compile/impl.c -o $(B)/compile/impl_nosimd.o; \
	  if [ $$o = -O0 ]; then $$cc -std=c99 $(WARN) $$omp $$o -DNN_SIMD_NO_AVX512 -I. -c tests/compile/impl.c \
	    -o $(B)/compile/impl_noavx512.o; fi; \
	  $$cc -std=c99 $(WARN) $$omp $$o -DNN_NO_STDIO -I. -c tests/compile/impl.c -o $(B)/compile/impl_nostdio.o; \
	  $$cc -std=c99 $(WARN) $$omp $$o -DNN_STATIC -I. -c tests/compile/impl.c -o $(B)/compile/impl_static.o; \
	done; done; done; \
	for cxx in $(COMPILERS_CXX); do for omp in "" "-fopenmp"; do for o in -O0 -O3; do \
	  echo "compile: $$cxx -x c++ -std=c++11 -pedantic $$omp $$o"; \
	  $$cxx -x c++ -std=c++11 $(WARN) $$omp $$o -I. -c tests/compile/impl.c -o $(B)/compile/impl_cxx.o; \
	  $$cxx -x c++ -std=c++11 $(WARN) $$omp $$o -I. -c tests/compile/user.c -o $(B)/compile/user_cxx.o; \
	  $$cxx $$omp $(B)/compile/impl_cxx.o $(B)/compile/user_cxx.o -o $(B)/compile/two_tu_cxx -lm; \
	  $$cxx -x c++ -std=c++11 $(WARN) $$omp $$o -DNN_STATIC -I. -c tests/compile/impl.c -o $(B)/compile/impl_static_cxx.o; \
	  $(B)/compile/two_tu_cxx >/dev/null; \
	done; done; done; \
	if nm $(B)/compile/impl.o | awk '$$2 ~ /^[TDBR]$$/ {print $$3}' | grep -v -e '^nn_' -e '^main$$' ; then \
	  echo "compile: exported symbols without the nn_ prefix (above)"; exit 1; fi; \
	echo "compile: all configurations built, linked and ran"

demo-build: $(B)/ex_demo
demo: $(B)/ex_demo
	./$(B)/ex_demo

$(B)/ex_%: examples/%.c $(HEADERS) $(wildcard examples/*.h) | $(B)
	$(CC) $(CSTD) $(WARN) -O2 -g $(OMP) -I. -Iexamples $(CFLAGS) $< -o $@ $(LIBS)

examples: $(EXAMPLES)

# Fashion-MNIST (Debian package dataset-fashion-mnist): 784-256-128-10, 10 epochs.
FASHION_DIR ?= /usr/share/datasets/fashion-mnist
fashion: $(B)/ex_fashion_mnist
	@test -e $(FASHION_DIR)/train-images-idx3-ubyte.gz || { echo "Fashion-MNIST not found in $(FASHION_DIR): sudo apt-get install dataset-fashion-mnist (or make fashion FASHION_DIR=...)"; exit 1; }
	./$(B)/ex_fashion_mnist --data $(FASHION_DIR) --epochs $${EPOCHS:-10}

# Benchmarks link OpenBLAS when it is installed: the OpenMP build (Debian
# libopenblas-openmp-dev) by explicit path, since plain -lopenblas resolves to the
# pthread build, which oversubscribes under OpenMP; the pthread build is the fallback.
OPENBLAS_OMP_LIB := /usr/lib/x86_64-linux-gnu/openblas-openmp
OPENBLAS_OMP_INC := /usr/include/x86_64-linux-gnu/openblas-openmp
ifneq ($(wildcard $(OPENBLAS_OMP_LIB)/libopenblas.so),)
BENCH_BLAS := -DNN_BENCH_OPENBLAS -DNN_BENCH_OPENBLAS_BUILD='"openmp"' -I$(OPENBLAS_OMP_INC) \
              -L$(OPENBLAS_OMP_LIB) -Wl,-rpath,$(OPENBLAS_OMP_LIB) -lopenblas
else ifneq ($(wildcard /usr/lib/x86_64-linux-gnu/libopenblas.so),)
BENCH_BLAS := -DNN_BENCH_OPENBLAS -DNN_BENCH_OPENBLAS_BUILD='"pthread"' -lopenblas
endif

# The peers the benchmarks compare against (Debian packages).
bench-deps:
	apt-get install -y hyperfine libopenblas-openmp-dev python3-torch dataset-fashion-mnist gnuplot-nox

BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCHES := $(patsubst bench/%.c,$(B)/%,$(BENCH_SRC))
$(B)/bench_%: bench/bench_%.c $(HEADERS) $(wildcard bench/*.h) | $(B)
	$(CC) $(CSTD) $(WARN) -O3 -g $(OMP) -I. $(CFLAGS) $< -o $@ $(BENCH_BLAS) $(LIBS)

# bench/run.sh: FMA peak, GEMM vs OpenBLAS, training/inference/latency vs PyTorch,
# hyperfine of the Fashion-MNIST example vs its torch twin; writes bench/RESULTS.md.
bench: $(BENCHES) $(B)/ex_fashion_mnist
	BUILD=$(B) bench/run.sh
# Same-run A/B of the headers at AB_REV against the working tree (bench/ab.sh, alternated
# runs of bench/bench_ab.c); the table goes to bench/results/ab.md and into RESULTS.md.
AB_REV ?= HEAD
AB_RUNS ?= 30
bench-ab:
	bench/ab.sh $(AB_REV) $(AB_RUNS) | tee bench/results/ab.md
	BUILD=$(B) bench/run.sh --report
# A few-minute development run; writes only bench/results/quick/.
bench-quick: $(BENCHES) $(B)/ex_fashion_mnist
	BUILD=$(B) bench/run.sh --quick
# Every bench_* binary on its own (kernels, threads, ...), 1 thread unless OMP_NUM_THREADS says.
bench-kernels: $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} ./$$b || exit 1; done

install: nn.pc
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 nn.h nn_simd.h nn_data.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 nn.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/nn.pc

nn.pc: Makefile
	@printf 'prefix=%s\nincludedir=$${prefix}/include\n\nName: nn\nDescription: header-only multilayer perceptron training (define NN_IMPLEMENTATION in one file)\nVersion: 0.1.0\nCflags: -I$${includedir} -fopenmp\nLibs: -fopenmp -lm\n' '$(PREFIX)' > $@

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/nn.h $(DESTDIR)$(PREFIX)/include/nn_simd.h $(DESTDIR)$(PREFIX)/include/nn_data.h $(DESTDIR)$(PREFIX)/lib/pkgconfig/nn.pc

clean:
	rm -rf $(B) nn.pc
