# lenetc: a code-generating compiler for small convolutional networks.
# `make` builds ./lenetc and runtime/liblenet.a; `make test` runs every test.

CC      ?= cc
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN     = -Wall -Wextra -Wshadow -Wno-unused-parameter
PKGS     = yaml-0.1 zlib jansson
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) $(shell pkg-config --cflags $(PKGS))
LIBS     = $(shell pkg-config --libs $(PKGS)) -ltcc -ldl -lm -lpthread

ifeq ($(SANITIZE),1)
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

RUNTIME_SRC  = $(sort $(wildcard runtime/*.c))
RUNTIME_OBJ  = $(RUNTIME_SRC:.c=.o)
COMPILER_SRC = $(sort $(filter-out compiler/main.c,$(wildcard compiler/*.c)))
COMPILER_OBJ = $(COMPILER_SRC:.c=.o)
TEST_SRC     = $(sort $(wildcard tests/*.c))
TEST_OBJ     = $(TEST_SRC:.c=.o)
HEADERS      = $(wildcard runtime/*.h compiler/*.h tests/*.h)

all: lenetc runtime/liblenet.a

%.o: %.c $(HEADERS)
	$(CC) $(ALL_CFLAGS) -Iruntime -Icompiler -c -o $@ $<

runtime/liblenet.a: $(RUNTIME_OBJ)
	rm -f $@ && ar rcs $@ $^

lenetc: compiler/main.o $(COMPILER_OBJ) runtime/liblenet.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

tests/run_tests: $(TEST_OBJ) $(COMPILER_OBJ) runtime/liblenet.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(shell pkg-config --libs check) $(LIBS)

.PHONY: all clean deps
deps:
	bash scripts/install-deps.sh

clean:
	rm -f lenetc compiler/*.o runtime/*.o runtime/liblenet.a tests/*.o tests/run_tests
