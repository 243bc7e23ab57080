# nn.h - build, test, bench, examples, install.
#   make demo       train a small multi-class net on generated data
#   make test       every test program natively (OpenMP), the no-OpenMP determinism check,
#                   sanitizers and NEON under qemu at the default sizes (named edge cases,
#                   the quick sweeps), a representative compile matrix, README's code
#                   blocks as C and C++, and two installs: ~2.5 min on 2 idle cores
#                   (builds in parallel, then runs the suites one by one)
#   make test-full  the same suites with the exhaustive sweeps (sanitizers at the quick
#                   sizes), the full compile matrix, the CMake target both ways, and
#                   Adadelta against torch.optim (make test-torch; skipped without
#                   python3-torch)
#   make test-mpi   nn_mpi.h under mpirun -np 1, 2, 4 (make test runs it when mpicc exists)
#   make test-valgrind  the single-threaded build of the tests under valgrind memcheck
#   make fuzz       libFuzzer (ASan+UBSan) on the model-file loader for FUZZ_SECONDS, then
#                   on the CSV, IDX and gzip readers for FUZZ_DATA_SECONDS each
#   make examples   build examples/ into build/
#   make fashion    Fashion-MNIST example (10 epochs)
#   make bench      nn.h vs OpenBLAS, oneDNN and PyTorch; writes bench/RESULTS.md (peers: make bench-deps)
#   make install    headers, nn.pc and the CMake package into $(DESTDIR)$(PREFIX)

CC      ?= cc
CXX     ?= c++
PREFIX  ?= /usr/local
B       := build
WARN    := -Wall -Wextra -Werror -pedantic
CSTD    := -std=c99
OPT     ?= -O2
OMP     ?= -fopenmp
# Test builds: -g1 (line tables: backtraces and sanitizer reports still name file:line)
# compiles the implementation ~35% faster than -g (-O2: 7.7 vs 10.9 s; ASan -O1: 13 vs
# 22 s); make TEST_G=-g for full debug info.
TEST_G  ?= -g1
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(TEST_G) $(OMP) -I. $(CFLAGS)
LIBS    := -lm
, := ,
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The sanitizer build at -O0: the implementation compiles in 6.6 s against 12.3 at -O1
# (ASan+UBSan, gcc 12), which saves more than the suite then runs longer (25 vs 14 s).
SAN_OPT ?= -O0

HEADERS := nn.h nn_simd.h nn_data.h
TEST_SRC := $(sort $(filter-out tests/test_mpi.c,$(wildcard tests/test_*.c)))
TEST_NAMES := $(patsubst tests/%.c,%,$(TEST_SRC))
TESTS   := $(addprefix $(B)/,$(TEST_NAMES))
SAN_TESTS := $(addprefix $(B)/san/,$(TEST_NAMES))
EX_SRC  := $(sort $(filter-out %_mpi.c,$(wildcard examples/*.c)))
EXAMPLES := $(patsubst examples/%.c,$(B)/ex_%,$(EX_SRC))

# NEON: cross-compiled kernels tests run under qemu-aarch64.
AARCH64_CC ?= aarch64-linux-gnu-gcc
QEMU_AARCH64 ?= qemu-aarch64
AARCH64_SYSROOT ?= /usr/aarch64-linux-gnu
NEON_TEST_SRC := $(filter $(addprefix tests/,test_gemm.c test_kernels.c test_backend.c),$(TEST_SRC))
NEON_TESTS := $(patsubst tests/%.c,$(B)/neon/%,$(NEON_TEST_SRC))
HAVE_NEON := $(shell command -v $(AARCH64_CC) >/dev/null 2>&1 && command -v $(QEMU_AARCH64) >/dev/null 2>&1 && echo 1)

.PHONY: fashion bench-deps all test test-full test-build test-build-full test-native test-san \
        test-compile test-compile-full test-neon test-threads-noomp test-torch \
        test-valgrind test-mpi test-readme test-install test-cmake fuzz fuzz-data fuzz-corpus demo examples bench bench-ab bench-quick bench-kernels clean install uninstall
all: demo-build examples

$(B) $(B)/san $(B)/neon $(B)/compile $(B)/noomp $(B)/vg:
	@mkdir -p $@

# Each test program is built once per configuration. Most of a build is the
# implementation (~8 s at -O2 here, ~13 s with the sanitizers; a test's own code takes
# 0.2-2 s), so the programs that use only the public API (they define NN_IMPLEMENTATION
# only #ifndef NN_TEST_LINKED) link one object of it per configuration,
# tests/nn_test_impl.c; the others include it themselves to reach internals.
LINKED  := $(patsubst tests/%.c,%,$(shell grep -l 'ifndef NN_TEST_LINKED' $(TEST_SRC) /dev/null))
# $(1) directory, $(2) compiler and flags, $(3) the programs that link the object
define test_rules
$(1)/nn_test_impl.o: tests/nn_test_impl.c $(HEADERS) | $(1)
	$(2) -c $$< -o $$@
$(if $(3),$(addprefix $(1)/,$(3)): $(1)/%: tests/%.c $(1)/nn_test_impl.o $(HEADERS) tests/nn_test.h
	$(2) -DNN_TEST_LINKED $$< $(1)/nn_test_impl.o -o $$@ $(LIBS))
$(addprefix $(1)/,$(filter-out $(3),$(TEST_NAMES))): $(1)/%: tests/%.c $(HEADERS) tests/nn_test.h | $(1)
	$(2) $$< -o $$@ $(LIBS)
endef
$(eval $(call test_rules,$(B),$(CC) $(CFLAGS_ALL),$(LINKED)))
$(eval $(call test_rules,$(B)/san,$(CC) $(CSTD) $(WARN) $(SAN_OPT) $(TEST_G) $(SAN) -I. $(CFLAGS),$(LINKED)))
$(eval $(call test_rules,$(B)/noomp,$(CC) $(CSTD) $(WARN) $(OPT) $(TEST_G) -I. $(CFLAGS),$(LINKED)))
$(eval $(call test_rules,$(B)/vg,$(CC) $(CSTD) $(WARN) -O1 $(TEST_G) -I. $(CFLAGS),$(LINKED)))
# (three programs under qemu: each builds on its own, cheaper than the object here)
$(eval $(call test_rules,$(B)/neon,$(AARCH64_CC) $(CSTD) $(WARN) -O2 -fopenmp -I. $(CFLAGS),))

# Every test program is stopped after TEST_TIMEOUT seconds (valgrind's TEST_TIMEOUT_VG):
# a thread hand-off that hangs then fails its suite, with a message, instead of holding
# up the run. The longest take ~10 s natively (make test-full), about a minute under
# qemu (make test-full), a few minutes under valgrind.
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

# The suites; $(1): variables for the test programs' environment (their sizes, see
# tests/nn_test.h: NN_TEST_FULL=1 for the exhaustive sweeps).
native_suite = $(call run_suite,$(TESTS),native,$(if $(1),env $(1)),$(TEST_TIMEOUT))
SAN_ENV := ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
san_suite = $(call run_suite,$(SAN_TESTS),sanitizers,env $(SAN_ENV) $(1),$(TEST_TIMEOUT))
neon_suite = $(if $(HAVE_NEON),$(call run_suite,$(NEON_TESTS),neon,$(if $(1),env $(1)) $(QEMU_AARCH64) -L $(AARCH64_SYSROOT),$(TEST_TIMEOUT)),\
	@echo "test-neon: SKIPPED ($(AARCH64_CC) or $(QEMU_AARCH64) not installed; apt-get install gcc-aarch64-linux-gnu qemu-user libgomp1-arm64-cross)")

# The same training run, built with and without -fopenmp, must end in the same weights
# (test_threads already compares 1, 2, 3 and 8 threads inside the OpenMP build). Then
# the OpenMP build under OMP_THREAD_LIMIT=1, where the runtime gives every region fewer
# threads than the library asked for: all its checks must pass, with the same weights.
define threads_noomp_suite
	@$(if $(1),export $(1);) \
	 a=$$($(call limit,$(TEST_TIMEOUT)) ./$(B)/test_threads | grep '^params-checksum:'); \
	 b=$$($(call limit,$(TEST_TIMEOUT)) ./$(B)/noomp/test_threads | grep '^params-checksum:'); \
	 c=$$(OMP_THREAD_LIMIT=1 $(call limit,$(TEST_TIMEOUT)) ./$(B)/test_threads) && c=$$(echo "$$c" | grep '^params-checksum:') || c="failed: $$(echo "$$c" | tail -1)"; \
	 echo "OpenMP build:    $$a"; echo "no-OpenMP build: $$b"; echo "thread limit 1:  $$c"; \
	 if [ -n "$$a" ] && [ "$$a" = "$$b" ] && [ "$$a" = "$$c" ]; then echo "threads-noomp: 1 passed, 0 failed"; \
	 else echo "threads-noomp: a limited team failed, or the weights differ between the builds"; exit 1; fi
endef

test-native: $(TESTS)
	$(call native_suite,)

test-san: $(SAN_TESTS)
	$(call san_suite,)

test-threads-noomp: $(B)/test_threads $(B)/noomp/test_threads
	$(call threads_noomp_suite,)

test-neon: $(if $(HAVE_NEON),$(NEON_TESTS))
	$(call neon_suite,)

# The compile matrix: nn.h must compile cleanly as C99 and C++, gcc and clang, with and
# without OpenMP, at -O0 and -O3, with the build options; "link" configurations also
# build a second translation unit (tests/compile/user.c, declarations only), link the
# two and run the program. Each configuration is a target of its own (built in parallel).
COMPILERS_C   := $(shell for c in gcc clang; do command -v $$c >/dev/null 2>&1 && echo $$c; done)
COMPILERS_CXX := $(shell for c in g++ clang++; do command -v $$c >/dev/null 2>&1 && echo $$c; done)
# $(1) name, $(2) compiler, $(3) language, $(4) flags, $(5) "link" or empty
define compile_cfg
COMPILE_ALL += $(1)
$(if $(5),COMPILE_LINKED += $(1))
$(B)/compile/$(1).ok: tests/compile/impl.c tests/compile/user.c $(HEADERS) | $(B)/compile
	@echo "compile: $(2) $(3) -pedantic $(strip $(4))$(if $(5), (two TUs linked, run))"
	@$(2) $(3) $(WARN) $(4) -I. -c tests/compile/impl.c -o $(B)/compile/$(1).o
	$(if $(5),@$(2) $(3) $(WARN) $(4) -I. -c tests/compile/user.c -o $(B)/compile/$(1)_user.o && \
	  $(2) $(4) $(B)/compile/$(1).o $(B)/compile/$(1)_user.o -o $(B)/compile/$(1) -lm && \
	  $(B)/compile/$(1) >/dev/null)
	@touch $$@
endef
omp_flag = $(if $(filter omp,$(1)),-fopenmp)
$(foreach cc,$(COMPILERS_C),$(foreach omp,noomp omp,$(foreach o,O0 O3,\
  $(eval $(call compile_cfg,$(cc)-$(omp)-$(o),$(cc),-std=c99,$(call omp_flag,$(omp)) -$(o),link))\
  $(eval $(call compile_cfg,$(cc)-$(omp)-$(o)-nosimd,$(cc),-std=c99,$(call omp_flag,$(omp)) -$(o) -DNN_SIMD_NO_SIMD,))\
  $(if $(filter O0,$(o)),$(eval $(call compile_cfg,$(cc)-$(omp)-$(o)-noavx512,$(cc),-std=c99,$(call omp_flag,$(omp)) -$(o) -DNN_SIMD_NO_AVX512,)))\
  $(eval $(call compile_cfg,$(cc)-$(omp)-$(o)-nostdio,$(cc),-std=c99,$(call omp_flag,$(omp)) -$(o) -DNN_NO_STDIO,))\
  $(eval $(call compile_cfg,$(cc)-$(omp)-$(o)-static,$(cc),-std=c99,$(call omp_flag,$(omp)) -$(o) -DNN_STATIC,)))))
$(foreach cxx,$(COMPILERS_CXX),$(foreach omp,noomp omp,$(foreach o,O0 O3,\
  $(eval $(call compile_cfg,$(cxx)-$(omp)-$(o),$(cxx),-x c++ -std=c++11,$(call omp_flag,$(omp)) -$(o),link))\
  $(eval $(call compile_cfg,$(cxx)-$(omp)-$(o)-static,$(cxx),-x c++ -std=c++11,$(call omp_flag,$(omp)) -$(o) -DNN_STATIC,)))))
# make test's share: each compiler with and without OpenMP, C and C++, -O0 and -O3, every
# build option once (the test programs add gcc -O2 with and without OpenMP, and -O1
# with the sanitizers). Without clang the clang ones drop out.
COMPILE_QUICK := $(filter $(COMPILE_ALL),gcc-noomp-O0 clang-omp-O3 g++-omp-O0 clang++-noomp-O0 \
                 gcc-omp-O3-nosimd gcc-noomp-O0-noavx512 clang-omp-O0-nostdio gcc-omp-O0-static \
                 g++-omp-O0-static)
COMPILE_ALL_OK := $(patsubst %,$(B)/compile/%.ok,$(COMPILE_ALL))
COMPILE_QUICK_OK := $(patsubst %,$(B)/compile/%.ok,$(COMPILE_QUICK))
# After the configurations $(1) built: the library exports nothing without the nn_
# prefix (every linked configuration's implementation object).
define compile_report
	@for o in $(patsubst %,$(B)/compile/%.o,$(filter $(COMPILE_LINKED),$(1))); do \
	  if nm $$o | awk '$$2 ~ /^[TDBR]$$/ {print $$3}' | grep -v -e '^nn_' -e '^main$$' ; then \
	    echo "compile: exported symbols without the nn_ prefix in $$o (above)"; exit 1; fi; done; \
	echo "compile: $(words $(1)) configurations built, $(words $(filter $(COMPILE_LINKED),$(1))) linked and ran, exported symbols nn_-prefixed"; \
	echo "compile: $(words $(1)) passed, 0 failed"
endef
# Every ```c block of README.md built as C and C++ and run (tests/readme_snippets.sh);
# two installs in a row, each nn.pc with its own PREFIX, built against (tests/install_test.sh).
test-readme:
	@CC=gcc CXX=g++ sh tests/readme_snippets.sh $(B)
test-install:
	@MAKE="$(MAKE)" sh tests/install_test.sh $(B)
# nn::nn through add_subdirectory and through find_package after cmake --install and
# after make install (tests/cmake_test.sh; skipped without cmake).
test-cmake:
	@MAKE="$(MAKE)" sh tests/cmake_test.sh $(B)

# NN_OPTIM_ADADELTA against torch.optim.Adadelta (tests/torch_adadelta.py; prints SKIPPED
# without torch: apt-get install python3-torch). Part of make test-full.
PYTHON_TORCH ?= /usr/bin/python3
$(B)/torch_adadelta: tests/torch_adadelta.c $(HEADERS) | $(B)
	$(CC) $(CFLAGS_ALL) $< -o $@ $(LIBS)
torch_run = @if command -v $(PYTHON_TORCH) >/dev/null 2>&1; then $(PYTHON_TORCH) tests/torch_adadelta.py $(B)/torch_adadelta; \
	else echo "torch_adadelta: SKIPPED ($(PYTHON_TORCH) not found)"; fi
test-torch: $(B)/torch_adadelta
	$(torch_run)

test-compile: $(COMPILE_QUICK_OK)
	$(call compile_report,$(COMPILE_QUICK))
test-compile-full: $(COMPILE_ALL_OK)
	$(call compile_report,$(COMPILE_ALL))

# make test: everything built first, in parallel (TEST_JOBS compilers, or the -j this
# make was given), then each suite's programs run one at a time.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
SUBMAKE = $(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(TEST_JOBS)) --output-sync=target
# the implementation objects first: most programs wait for them
TEST_BUILD = $(B)/san/nn_test_impl.o $(B)/nn_test_impl.o $(SAN_TESTS) $(TESTS) \
             $(B)/noomp/test_threads $(if $(HAVE_NEON),$(NEON_TESTS))
test-build: $(TEST_BUILD) $(COMPILE_QUICK_OK)
test-build-full: $(TEST_BUILD) $(COMPILE_ALL_OK) $(B)/torch_adadelta

test:
	@$(SUBMAKE) test-build
	$(call compile_report,$(COMPILE_QUICK))
	$(call native_suite,)
	$(call threads_noomp_suite,)
	$(call san_suite,)
	$(call neon_suite,)
	@CC=gcc CXX=g++ sh tests/readme_snippets.sh $(B)
	@MAKE="$(MAKE)" sh tests/install_test.sh $(B)
	$(mpi_suite)
	@echo "make test: all suites passed"

# The exhaustive sweeps natively and under qemu, the sanitizers at the quick sizes
# (make test's sizes before the edge cases), every compile configuration.
test-full:
	@$(SUBMAKE) test-build-full
	$(call compile_report,$(COMPILE_ALL))
	$(call native_suite,NN_TEST_FULL=1)
	$(call threads_noomp_suite,NN_TEST_FULL=1)
	$(call san_suite,NN_TEST_QUICK=1)
	$(call neon_suite,NN_TEST_FULL=1)
	$(torch_run)
	@CC=gcc CXX=g++ sh tests/readme_snippets.sh $(B)
	@MAKE="$(MAKE)" sh tests/install_test.sh $(B)
	@MAKE="$(MAKE)" sh tests/cmake_test.sh $(B)
	$(mpi_suite)
	@echo "make test-full: all suites passed"

# nn_mpi.h: the test under mpirun on 1, 2 and 4 ranks of one thread each, over
# loopback; the 1-rank run writes the checkpoint the others resume.
MPICC  ?= mpicc
MPIRUN ?= mpirun --oversubscribe $(if $(filter 0,$(shell id -u)),--allow-run-as-root) --mca btl self,vader,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo
HAVE_MPI := $(shell command -v $(MPICC) >/dev/null 2>&1 && command -v mpirun >/dev/null 2>&1 && echo 1)
$(B)/test_mpi: tests/test_mpi.c tests/nn_test.h $(HEADERS) nn_mpi.h | $(B)
	$(MPICC) $(CFLAGS_ALL) $< -o $@ $(LIBS)
$(B)/ex_fashion_mnist_mpi: examples/fashion_mnist_mpi.c $(HEADERS) nn_mpi.h | $(B)
	$(MPICC) $(CFLAGS_ALL) $< -o $@ $(LIBS)
# libtorch C++ (Debian libtorch-dev): the PyTorch recipe without Python, in make bench.
TORCH_INC := /usr/include/torch/csrc/api/include
HAVE_LIBTORCH := $(if $(wildcard $(TORCH_INC)/torch/torch.h),1)
$(B)/libtorch_bench: bench/libtorch_bench.cpp $(HEADERS) | $(B)
	$(CXX) -std=c++17 -O2 $(OMP) -I. -I$(TORCH_INC) $< -o $@ -ltorch -ltorch_cpu -lc10 $(LIBS)
$(B)/bench_mpi: bench/bench_mpi.c $(HEADERS) nn_mpi.h bench/bench_util.h | $(B)
	$(MPICC) $(CSTD) $(WARN) -O3 -g $(OMP) -I. $(CFLAGS) $< -o $@ $(LIBS)
test-mpi: $(B)/test_mpi
	@rm -f $(B)/mpi_ckpt.nn $(B)/mpi_ckpt.nn.ref
	@for np in 1 2 4; do MPI_CKPT=$(B)/mpi_ckpt.nn OMP_NUM_THREADS=1 $(MPIRUN) -np $$np $(B)/test_mpi || exit 1; done
define mpi_suite
	@if [ -n "$(HAVE_MPI)" ]; then $(SUBMAKE) test-mpi; else echo "MPI suite skipped: $(MPICC) not found (sudo apt-get install openmpi-bin libopenmpi-dev)"; fi
endef

# valgrind memcheck over the single-threaded (no OpenMP) build, with the quick sweeps:
# uninitialised reads, invalid accesses and leaks fail the run.
VG_TESTS := $(addprefix $(B)/vg/,$(TEST_NAMES))
VALGRIND ?= valgrind
test-valgrind: $(VG_TESTS)
	@command -v $(VALGRIND) >/dev/null 2>&1 || { echo "test-valgrind: valgrind not installed (apt-get install valgrind)"; exit 1; }
	$(call run_suite,$(VG_TESTS),valgrind,env NN_TEST_QUICK=1 $(VALGRIND) -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite$(,)indirect,$(TEST_TIMEOUT_VG))

# libFuzzer (clang, libclang-rt-14-dev), ASan+UBSan, any finding aborts: nn_net_load_mem
# for FUZZ_SECONDS, then nn_data.h's CSV, IDX and gzip readers for FUZZ_DATA_SECONDS each
# (inputs up to FUZZ_DATA_MAX_LEN bytes). New inputs go to build/fuzz_corpus (loader) and
# build/fuzz_NAME_corpus; the committed seeds are in tests/fuzz/corpus*, written by
# make fuzz-corpus. make fuzz-data runs only the three readers.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DATA_SECONDS ?= 45
FUZZ_DATA_MAX_LEN ?= 16384
FUZZ_FLAGS := -std=c99 $(WARN) -g -O1 -fno-sanitize-recover=all -I.
# the readers' implementation, compiled once: NN_DATA_MAX_BYTES at 1 MiB, so a bomb
# reaches it in milliseconds (the limit logic is the same at any value)
FUZZ_DATA_DEFS := -DNN_DATA_MAX_BYTES='((size_t)1 << 20)'
FUZZ_DATA := csv idx gzip
FUZZ_DATA_BINS := $(addprefix $(B)/fuzz_,$(FUZZ_DATA))
$(B)/fuzz_load: tests/fuzz/fuzz_load.c $(HEADERS) | $(B)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined $< -o $@ -lm
$(B)/fuzz_data_impl.o: tests/fuzz/fuzz_data_impl.c $(HEADERS) | $(B)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_DATA_DEFS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@
$(FUZZ_DATA_BINS): $(B)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_data.h $(B)/fuzz_data_impl.o
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_DATA_DEFS) -fsanitize=fuzzer,address,undefined $< $(B)/fuzz_data_impl.o -o $@ -lm
# $(1) target, $(2) seconds, $(3) seed directories
define fuzz_data_run
	@mkdir -p $(B)/fuzz_$(1)_corpus $(B)/fuzz_artifacts
	./$(B)/fuzz_$(1) -max_total_time=$(2) -max_len=$(FUZZ_DATA_MAX_LEN) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(B)/fuzz_artifacts/$(1)- $(B)/fuzz_$(1)_corpus $(3)
endef
fuzz: $(B)/fuzz_load $(FUZZ_DATA_BINS)
	@mkdir -p $(B)/fuzz_corpus $(B)/fuzz_artifacts
	./$(B)/fuzz_load -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=$(B)/fuzz_artifacts/ $(B)/fuzz_corpus tests/fuzz/corpus
	@$(MAKE) --no-print-directory fuzz-data
fuzz-data: $(FUZZ_DATA_BINS)
	$(call fuzz_data_run,csv,$(FUZZ_DATA_SECONDS),tests/fuzz/corpus_csv)
	$(call fuzz_data_run,idx,$(FUZZ_DATA_SECONDS),tests/fuzz/corpus_idx)
	$(call fuzz_data_run,gzip,$(FUZZ_DATA_SECONDS),tests/fuzz/corpus_gzip tests/data)
$(B)/make_corpus: tests/fuzz/make_corpus.c $(HEADERS) | $(B)
	$(CC) $(CSTD) $(WARN) -O1 -g -I. $< -o $@ $(LIBS)
$(B)/make_data_corpus: tests/fuzz/make_data_corpus.c $(HEADERS) | $(B)
	$(CC) $(CSTD) $(WARN) -O1 -g -I. $< -o $@ $(LIBS)
fuzz-corpus: $(B)/make_corpus $(B)/make_data_corpus
	./$(B)/make_corpus tests/fuzz/corpus
	@mkdir -p tests/fuzz/corpus_csv tests/fuzz/corpus_idx tests/fuzz/corpus_gzip
	./$(B)/make_data_corpus tests/fuzz

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
	apt-get install -y hyperfine libopenblas-openmp-dev libdnnl-dev libtorch-dev python3-torch dataset-fashion-mnist gnuplot-nox openmpi-bin libopenmpi-dev

BENCH_SRC := $(sort $(filter-out bench/bench_mpi.c,$(wildcard bench/bench_*.c)))
BENCHES := $(patsubst bench/%.c,$(B)/%,$(BENCH_SRC))
# oneDNN (Debian libdnnl-dev): dnnl_sgemm beside OpenBLAS in bench_gemm.
ifneq ($(wildcard /usr/include/oneapi/dnnl/dnnl.h),)
BENCH_BLAS += -DNN_BENCH_ONEDNN -ldnnl
endif
$(B)/bench_%: bench/bench_%.c $(HEADERS) $(wildcard bench/*.h) | $(B)
	$(CC) $(CSTD) $(WARN) -O3 -g $(OMP) -I. $(CFLAGS) $< -o $@ $(BENCH_BLAS) $(LIBS)

# bench/run.sh: FMA peak, GEMM vs OpenBLAS and oneDNN, training/inference/latency vs PyTorch,
# hyperfine of the Fashion-MNIST example vs its torch twin; writes bench/RESULTS.md.
bench: $(BENCHES) $(B)/ex_fashion_mnist $(if $(HAVE_MPI),$(B)/bench_mpi) $(if $(HAVE_LIBTORCH),$(B)/libtorch_bench)
	BUILD=$(B) MPIRUN="$(MPIRUN)" bench/run.sh
# Same-run A/B of the headers at AB_REV against the working tree (bench/ab.sh, alternated
# runs of bench/ab_bench.c); the table goes to bench/results/ab.md and into RESULTS.md.
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

# nn.pc is written by each install from that run's PREFIX (a file made once kept the
# first PREFIX). -fopenmp is in Cflags and in Libs: builds that compile and link in
# separate steps (meson, automake) need it in both (tests/install_test.sh). The CMake
# package (find_package(nn)) is the one cmake --install writes: cmake/nnConfig.cmake
# finds the prefix from its own path, and the version file is filled in here as
# CMakeLists.txt does (tests/cmake_test.sh compares the two installs).
NN_VERSION := 0.1.0
install:
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/lib/cmake/nn
	install -m 644 nn.h nn_simd.h nn_data.h nn_mpi.h $(DESTDIR)$(PREFIX)/include/
	printf 'prefix=%s\nincludedir=$${prefix}/include\n\nName: nn\nDescription: header-only multilayer perceptron training (define NN_IMPLEMENTATION in one file)\nVersion: $(NN_VERSION)\nCflags: -I$${includedir} -fopenmp\nLibs: -fopenmp -lm\n' '$(PREFIX)' > $(DESTDIR)$(PREFIX)/lib/pkgconfig/nn.pc
	chmod 644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/nn.pc
	install -m 644 cmake/nnConfig.cmake $(DESTDIR)$(PREFIX)/lib/cmake/nn/
	sed 's/@NN_VERSION@/$(NN_VERSION)/g' cmake/nnConfigVersion.cmake.in > $(DESTDIR)$(PREFIX)/lib/cmake/nn/nnConfigVersion.cmake
	chmod 644 $(DESTDIR)$(PREFIX)/lib/cmake/nn/nnConfigVersion.cmake

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/nn.h $(DESTDIR)$(PREFIX)/include/nn_simd.h $(DESTDIR)$(PREFIX)/include/nn_data.h $(DESTDIR)$(PREFIX)/include/nn_mpi.h $(DESTDIR)$(PREFIX)/lib/pkgconfig/nn.pc \
	      $(DESTDIR)$(PREFIX)/lib/cmake/nn/nnConfig.cmake $(DESTDIR)$(PREFIX)/lib/cmake/nn/nnConfigVersion.cmake
	-rmdir $(DESTDIR)$(PREFIX)/lib/cmake/nn 2>/dev/null

clean:
	rm -rf $(B)
