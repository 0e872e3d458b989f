# lenetc: a code-generating compiler for small convolutional networks.
# `make` builds ./lenetc and runtime/liblenet.a; `make test` runs every test.

CC      ?= cc
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN     = -Wall -Wextra -Wshadow -Wno-unused-parameter
PKGS     = yaml-0.1 zlib jansson libpng libjpeg
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) $(shell pkg-config --cflags $(PKGS))
LIBS     = $(shell pkg-config --libs $(PKGS)) -ltcc -ldl -lm -lpthread

ifeq ($(SANITIZE),1)
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
# Objects remember how they were built: switching SANITIZE rebuilds everything.
BUILD_KIND := $(if $(SAN),asan,plain)
$(shell [ "$$(cat .build-kind 2>/dev/null)" = "$(BUILD_KIND)" ] || echo $(BUILD_KIND) > .build-kind)

# The runtime's folders, one concern each (README's Layout); the headers are
# found by name (-I per folder), so installed they can lie in one directory.
RUNTIME_DIRS = runtime runtime/kernels runtime/core runtime/data runtime/io runtime/app
RUNTIME_INC  = $(addprefix -I,$(RUNTIME_DIRS))
RUNTIME_SRC  = $(sort $(wildcard $(addsuffix /*.c,$(RUNTIME_DIRS))))
RUNTIME_OBJ  = $(RUNTIME_SRC:.c=.o)
RUNTIME_HDR  = $(sort $(wildcard $(addsuffix /*.h,$(RUNTIME_DIRS))))
# what `make install` puts in PREFIX/include, flat: all but the kernels' bodies
PUBLIC_HDR   = $(filter-out %/kernels.h %/kernels_target.h,$(RUNTIME_HDR))
COMPILER_SRC = $(sort $(filter-out compiler/main.c,$(wildcard compiler/*.c)))
COMPILER_OBJ = $(COMPILER_SRC:.c=.o)
TEST_SRC     = $(sort $(wildcard tests/*.c))
TEST_OBJ     = $(TEST_SRC:.c=.o)
HEADERS      = $(RUNTIME_HDR) $(wildcard compiler/*.h tests/*.h) compiler/TEMPLATE

all: lenetc runtime/liblenet.a

# the runtime's per-step loops (Adam, tile loading) are worth vectorising;
# sqrtf of v >= 0 never sets errno, and -fno-math-errno lets it vectorise
runtime/core/optim.o runtime/core/tile.o runtime/core/trainer.o runtime/core/augment.o: OPT = -O3 -fno-math-errno

# Kernels: one object per target, each built for its instruction set, with
# multiply-adds fused where it has FMA (kernels/target.c picks one at start-up).
KERNEL_OPT = -O3 -ffp-contract=fast -fno-math-errno
ifeq ($(shell uname -m),x86_64)
runtime/kernels/kernels_sse2.o: OPT = $(KERNEL_OPT) -march=x86-64
runtime/kernels/kernels_avx2.o: OPT = $(KERNEL_OPT) -march=x86-64-v3
runtime/kernels/kernels_avx512.o: OPT = $(KERNEL_OPT) -march=x86-64-v4 -mprefer-vector-width=512
endif
runtime/kernels/kernels_neon.o: OPT = $(KERNEL_OPT)

# The runtime sees only its own headers; the compiler and tests see all.
runtime/%.o: runtime/%.c $(RUNTIME_HDR) .build-kind
	$(CC) $(ALL_CFLAGS) $(RUNTIME_INC) -c -o $@ $<

%.o: %.c $(HEADERS) .build-kind
	$(CC) $(ALL_CFLAGS) $(RUNTIME_INC) -Icompiler -c -o $@ $<

runtime/liblenet.a: $(RUNTIME_OBJ)
	rm -f $@ && ar rcs $@ $^

lenetc: compiler/main.o $(COMPILER_OBJ) runtime/liblenet.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# The golden lenet5 code, built by gcc as the emitted trainer builds it, so
# the tests can compare it with the JIT step by step: the kernels style (for
# avx2, as its Makefile says), and the loop style under other names, with
# FMA contraction off as tcc computes.
GEN_CFLAGS = -O3 -march=native -ffp-contract=off $(SAN)
tests/lenet5_gcc.o: generated/lenet5/lenet5.c generated/lenet5/lenet5.h $(HEADERS) .build-kind
	$(CC) -O3 -march=x86-64-v3 $(SAN) $(RUNTIME_INC) -Igenerated/lenet5 -c -o $@ $<
LOOPS_NAMES = -Dlenet5_forward=lenet5_loops_forward -Dlenet5_backward=lenet5_loops_backward \
              -Dlenet5_model=lenet5_loops_model
tests/lenet5_loops.o: generated/loops/lenet5/lenet5.c generated/loops/lenet5/lenet5.h $(HEADERS) .build-kind
	$(CC) $(GEN_CFLAGS) $(LOOPS_NAMES) $(RUNTIME_INC) -Igenerated/loops/lenet5 -c -o $@ $<

tests/run_tests: $(TEST_OBJ) tests/lenet5_gcc.o tests/lenet5_loops.o $(COMPILER_OBJ) runtime/liblenet.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(shell pkg-config --libs check) $(LIBS)

# Every test: spec, golden files, gradients, numerics, data, weights, and the
# trainers end to end on MNIST. LENETC_SUITE=name runs one suite.
test: all tests/run_tests
	LENETC_GEN_CFLAGS="$(GEN_CFLAGS)" LENETC_SANITIZE="$(SANITIZE)" tests/run_tests

# Each installed header compiles on its own, included twice (what it needs
# it includes; its guard holds): part of make check.
HEADER_OK = $(PUBLIC_HDR:%.h=build/headers/%.ok)
build/headers/%.ok: %.h $(RUNTIME_HDR)
	@mkdir -p $(dir $@)
	@printf '#include "%s"\n#include "%s"\n' $(notdir $<) $(notdir $<) | \
	  $(CC) -std=c11 -D_GNU_SOURCE $(WARN) -Werror $(RUNTIME_INC) -fsyntax-only -x c - && touch $@
headers: $(HEADER_OK)

# The fast tier: every test but the test cases tagged slow (those that train
# on MNIST: the trainers end to end, checkpoints); under 10 s on two cores,
# the gradient checks (most of it) on one and the rest on the other, each
# with its own closing line (the gradient checks' second).
CHECK_ENV = CK_EXCLUDE_TAGS=slow LENETC_GEN_CFLAGS="$(GEN_CFLAGS)" LENETC_SANITIZE="$(SANITIZE)"
check: all headers tests/run_tests
	@mkdir -p build
	@$(CHECK_ENV) LENETC_SUITE=gradcheck tests/run_tests > build/check-gradcheck.log 2>&1 & g=$$!; \
	  $(CHECK_ENV) LENETC_SUITE='!gradcheck' tests/run_tests; r=$$?; \
	  wait $$g; rg=$$?; cat build/check-gradcheck.log; [ $$r -eq 0 ] && [ $$rg -eq 0 ]

# The weights of the pinned standalone export: trained by tcc's scalar code
# on one thread, the same bits on every machine.
EXPORT_WEIGHTS = ./lenetc train tests/models/mnist_tiny.yaml --style loops --threads 1 \
                 --limit 2048 --epochs 1 --quiet --save

# Rewrites generated/, and what lenetc says of each spec in tests/specs/
# (bad/NAME.err: its stderr; good/NAME.summary: its stdout), from the current
# compiler: run it on purpose, then review `git diff` like any code change.
golden: lenetc
	@for f in models/*.yaml; do \
	  n=$$(sed -n 's/^name: *\([A-Za-z0-9_]*\).*/\1/p' $$f); \
	  ./lenetc $$f --target avx2 -o generated/$$n --runtime ../../runtime || exit 1; \
	  ./lenetc $$f --target avx2 --style loops -o generated/loops/$$n \
	    --runtime ../../../runtime || exit 1; done
	@for f in tests/models/*.yaml; do \
	  ./lenetc $$f --target avx2 --style unrolled -o generated/tests/$$(basename $$f .yaml) \
	    --runtime ../../../runtime || exit 1; done
	@./lenetc models/lenet5.yaml --target avx2 --style unrolled -o build/unroll
	@sha256sum < build/unroll/lenet5.c | cut -c1-64 > generated/lenet5-unroll.sha256
	@for f in tests/specs/bad/*.yaml; do \
	  if ./lenetc summary $$f > /dev/null 2> $${f%.yaml}.err; then \
	    echo "golden: $$f was accepted: a bad spec must fail"; exit 1; fi; done
	@for f in tests/specs/good/*.yaml; do \
	  ./lenetc summary $$f > $${f%.yaml}.summary || exit 1; done
	@mkdir -p build && $(EXPORT_WEIGHTS) build/export-w.safetensors > /dev/null
	@./lenetc tests/models/mnist_tiny.yaml --weights build/export-w.safetensors --inference \
	  -o generated/export/mnist_tiny
	@./lenetc tests/models/mnist_tiny.yaml --weights build/export-w.safetensors --inference \
	  --int8 -o generated/export-int8/mnist_tiny > /dev/null
	@mkdir -p generated/summary
	@for f in models/*.yaml tests/models/*.yaml; do \
	  ./lenetc summary --json $$f > generated/summary/$$(basename $$f .yaml).json || exit 1; done
	@git status --short generated/ tests/specs/

# A colour image-folder data set from MNIST (scripts/color-mnist.c):
# 32x32 RGB PNGs in COLOR_OUT/train/<class>/ and COLOR_OUT/test/<class>/
# (COLOR_ARGS: its options, e.g. --train 3000 --test 500 for a cut).
COLOR_OUT ?= build/color-mnist-data
COLOR_ARGS ?=
build/color-mnist: scripts/color-mnist.c runtime/liblenet.a
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) $(RUNTIME_INC) -o $@ $< runtime/liblenet.a $(LIBS)
color-mnist: build/color-mnist
	build/color-mnist $(MNIST) $(COLOR_OUT) $(COLOR_ARGS)

# The main job: LeNet-5 as the seed trains it, through the emitted trainer.
EPOCHS ?= 2
train: all
	./lenetc models/lenet5.yaml -o gen
	$(MAKE) -C gen
	gen/lenet5-train --epochs $(EPOCHS)

# Installs lenetc, lenetc-torch (tools/lenetc_torch.py), the runtime (library,
# header, pkg-config file), the models, fetch-mnist.sh and the man pages
# (lenetc(1), the spec format lenetc-spec(5)) under DESTDIR/PREFIX. An
# installed lenetc writes Makefiles that build against its own prefix; other
# code can use `pkg-config lenet`.
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(DESTDIR)$(PREFIX)/bin
LIBDIR   = $(DESTDIR)$(PREFIX)/lib
INCDIR   = $(DESTDIR)$(PREFIX)/include
DATADIR  = $(DESTDIR)$(PREFIX)/share/lenetc
MANDIR   = $(DESTDIR)$(PREFIX)/share/man
# one version, lenet.h's (what lenetc --version prints)
VERSION  = $(shell sed -n 's/^\#define LENET_VERSION "\(.*\)"/\1/p' $(RUNTIME_HDR))
install: all
	install -d $(BINDIR) $(LIBDIR)/pkgconfig $(INCDIR) $(DATADIR)/models $(MANDIR)/man1 $(MANDIR)/man5
	install -m 755 lenetc $(BINDIR)/lenetc
	install -m 755 tools/lenetc_torch.py $(BINDIR)/lenetc-torch
	install -m 644 runtime/liblenet.a $(LIBDIR)/liblenet.a
	install -m 644 $(PUBLIC_HDR) $(INCDIR)/
	install -m 644 models/*.yaml $(DATADIR)/models/
	install -m 755 scripts/fetch-mnist.sh $(DATADIR)/fetch-mnist.sh
	install -m 644 doc/lenetc.1 $(MANDIR)/man1/lenetc.1
	install -m 644 doc/lenetc-spec.5 $(MANDIR)/man5/lenetc-spec.5
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	  'Name: lenet' 'Description: the lenetc runtime: data, loss, Adam, training loop' \
	  'Version: $(VERSION)' 'Requires.private: zlib jansson libpng libjpeg' \
	  'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -llenet' 'Libs.private: -lm -lpthread' \
	  > $(LIBDIR)/pkgconfig/lenet.pc

uninstall:
	rm -f $(BINDIR)/lenetc $(BINDIR)/lenetc-torch $(LIBDIR)/liblenet.a $(addprefix $(INCDIR)/,$(notdir $(PUBLIC_HDR))) \
	  $(LIBDIR)/pkgconfig/lenet.pc $(MANDIR)/man1/lenetc.1 $(MANDIR)/man5/lenetc-spec.5
	rm -rf $(DATADIR)

# libFuzzer targets (clang): the spec front end and emitter, the data and
# weights loaders, and the image readers (PNG, JPEG, PGM) with predict's
# preparations. `make fuzz` runs each for FUZZ_TIME seconds from the
# seed corpora in tests/fuzz/corpus/ (new inputs go to build/fuzz/, crashes
# to build/fuzz/crash-*); CI runs it. FUZZ_TIME=0 runs until stopped.
# Objects are shared by both targets. fuzz_spec runs the sse2 kernels (every
# x86-64 has them), built instrumented like the rest; the wider targets'
# kernels are linked uninstrumented (instrumented, clang needs minutes each).
FUZZ_CC    ?= clang
FUZZ_FLAGS  = -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -Wno-psabi
FUZZ_TIME  ?= 60
FUZZ_PLAIN  = runtime/kernels/kernels_avx2.c runtime/kernels/kernels_avx512.c
FUZZ_SRC    = $(filter-out $(FUZZ_PLAIN),$(COMPILER_SRC) $(RUNTIME_SRC))
FUZZ_OBJ    = $(FUZZ_SRC:%.c=build/fuzz/obj/%.o) $(FUZZ_PLAIN:%.c=build/fuzz/obj/%.o)
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -Icompiler $(RUNTIME_INC) $(shell pkg-config --cflags $(PKGS))
build/fuzz/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
build/fuzz/obj/runtime/kernels/kernels_avx2.o: runtime/kernels/kernels_avx2.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -O2 -Wno-psabi -ffp-contract=fast -march=x86-64-v3 -c -o $@ $<
build/fuzz/obj/runtime/kernels/kernels_avx512.o: runtime/kernels/kernels_avx512.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -O2 -Wno-psabi -ffp-contract=fast -march=x86-64-v4 -c -o $@ $<
.SECONDARY: $(FUZZ_OBJ)
# a fuzz target's own mistakes in types are errors: it calls the API the
# way the code under test is called
build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_FLAGS) -Wall -Werror -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) \
	  $(LIBS)

fuzz: build/fuzz/fuzz_spec build/fuzz/fuzz_data build/fuzz/fuzz_image
	@for t in spec data image; do \
	  mkdir -p build/fuzz/corpus-$$t; \
	  echo "fuzz: $$t for $(FUZZ_TIME) s"; \
	  build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -max_len=8192 -timeout=20 \
	    -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix=build/fuzz/ \
	    build/fuzz/corpus-$$t tests/fuzz/corpus/$$t > build/fuzz/$$t.log 2>&1; \
	  rc=$$?; grep -E "^stat::number_of_executed_units|^#[0-9]+ *DONE" build/fuzz/$$t.log; \
	  if [ $$rc -ne 0 ]; then tail -40 build/fuzz/$$t.log; exit 1; fi; done

# Both trainers under valgrind on a cut of MNIST (600 training, 200 test
# images): no error, no leak. Both use the avx2 kernels, as valgrind does not
# decode AVX-512.
MNIST ?= ../shared/mnist
VALGRIND = valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect
valgrind: all
	python3 scripts/mini-mnist.py $(MNIST) build/mini-mnist 600 200
	./lenetc models/lenet5.yaml --target avx2 -o build/valgrind
	$(MAKE) -s -C build/valgrind CFLAGS="-O2 -g"
	rm -f build/valgrind/ck.safetensors
	$(VALGRIND) build/valgrind/lenet5-train --data build/mini-mnist --epochs 1 --threads 2 \
	  --checkpoint build/valgrind/ck.safetensors --checkpoint-every 2 --quiet
	$(VALGRIND) build/valgrind/lenet5-train --data build/mini-mnist --epochs 2 --threads 2 \
	  --resume build/valgrind/ck.safetensors --save build/valgrind/w.safetensors --quiet
	$(VALGRIND) ./lenetc train models/lenet5.yaml --target avx2 --data build/mini-mnist --epochs 1 --quiet
	@# batchnorm's parts, dropout, augmentation, a validation split, 3 threads
	$(VALGRIND) ./lenetc train tests/models/every_kind.yaml --target avx2 --data build/mini-mnist \
	  --epochs 1 --val 100 --threads 3 --quiet
	@echo "valgrind: no errors, no leaks"

# aarch64: lenet5 emitted --target neon, cross-compiled (gcc-aarch64-linux-gnu)
# with the runtime's core (runtime/core/: the trainer and its arithmetic),
# the target choice and the NEON kernels, run under qemu-user: 100 steps
# of 64 images on a cut of MNIST must follow this machine's own kernels
# (native target) within 1e-4. The driver (tests/cross/steps.c) links no
# zlib, JSON or PNG code, so the cross build needs only a C library.
NEON_CC   ?= aarch64-linux-gnu-gcc
NEON_QEMU ?= qemu-aarch64
CROSS_RT   = $(wildcard runtime/core/*.c) runtime/kernels/target.c tests/cross/steps.c
NEON_STEPS ?= 100
check-neon: all
	@command -v $(NEON_CC) >/dev/null && command -v $(NEON_QEMU) >/dev/null || \
	  { echo "check-neon needs $(NEON_CC) and $(NEON_QEMU) (make test-deps installs them)"; exit 1; }
	python3 scripts/mini-mnist.py $(MNIST) build/neon/data $$(($(NEON_STEPS) * 64)) 16
	gzip -dcf build/neon/data/train-images-idx3-ubyte.gz > build/neon/data/train-images
	gzip -dcf build/neon/data/train-labels-idx1-ubyte.gz > build/neon/data/train-labels
	./lenetc models/lenet5.yaml --target neon -o build/neon/arm
	./lenetc models/lenet5.yaml -o build/neon/host
	$(NEON_CC) -std=c11 -D_GNU_SOURCE $(KERNEL_OPT) $(RUNTIME_INC) -c -o build/neon/arm/kernels_neon.o \
	  runtime/kernels/kernels_neon.c
	$(NEON_CC) -std=c11 -D_GNU_SOURCE -O2 -static $(RUNTIME_INC) -Ibuild/neon/arm -o build/neon/arm/steps \
	  build/neon/arm/lenet5.c $(CROSS_RT) build/neon/arm/kernels_neon.o -lm -lpthread
	$(CC) -std=c11 -D_GNU_SOURCE -O2 $(RUNTIME_INC) -Ibuild/neon/host -o build/neon/host/steps \
	  build/neon/host/lenet5.c tests/cross/steps.c runtime/liblenet.a -lm -lpthread
	build/neon/host/steps build/neon/data/train-images build/neon/data/train-labels \
	  $(NEON_STEPS) > build/neon/host/losses
	$(NEON_QEMU) build/neon/arm/steps build/neon/data/train-images \
	  build/neon/data/train-labels $(NEON_STEPS) build/neon/host/losses > build/neon/arm/losses
	@echo "check-neon: $(NEON_STEPS) steps on aarch64 (NEON kernels, qemu) follow the host's" \
	  "$$(sed -n 's/^#define LENET_TARGET //p' build/neon/host/lenet5.c) kernels within 1e-4;" \
	  "last loss $$(tail -1 build/neon/arm/losses | cut -d' ' -f2)"

# The int8 export on a Cortex-M4 and a Cortex-M0 under qemu-system-arm:
# tests/mcu/mcu.mk.
include tests/mcu/mcu.mk

# Every path side by side on full MNIST, with PyTorch if python3-torch is
# installed: a report, not a test (no thresholds). See bench/run.py.
BENCH_EPOCHS ?= 3
bench: all
	python3 bench/run.py --epochs $(BENCH_EPOCHS)

.PHONY: all bench check check-neon clean color-mnist deps fuzz golden headers install test test-deps train uninstall valgrind
# What building and training need (small); test-deps adds what only the
# tests need (Check, valgrind, clang, the cross tools, PyTorch: hundreds of MB).
deps:
	bash scripts/install-deps.sh
test-deps:
	bash scripts/install-deps.sh --test

clean:
	rm -rf lenetc compiler/*.o $(RUNTIME_OBJ) runtime/liblenet.a tests/*.o tests/run_tests \
	  tests/tmp build .build-kind
