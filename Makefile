# hearth — build, test, demo, bench, install.
#
#   make                 release build: build/hearth, build/libhearth.{a,so}
#   make check           install missing Debian packages, build release + ASan/UBSan, run all tests
#   make demo            install missing Debian packages, build, run the offline showcase
#   make bench           build and run the benchmarks in bench/
#   make install PREFIX=/usr/local
#   make CC=clang        any C11 compiler; gcc and clang are both kept -Werror clean
#   make SAN=1           ASan+UBSan build (into build-asan unless BUILD is given)
#   make BUILD=dir       out-of-tree build directory (lets several builds coexist)
#
# Sources are found by wildcard: a new file in src/<module>/ is built without touching this file.
# Files named *_avx2.c / *_avx512.c / *_amx.c get the matching -m flags; everything else is baseline x86-64,
# and the kernels pick a path at run time with CPUID, so the shipped binary runs on any x86-64.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
CC        ?= cc
SAN       ?= 0
ifeq ($(SAN),1)
BUILD     ?= build-asan
OPT       := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDSAN     := -fsanitize=address,undefined
else
BUILD     ?= build
OPT       := -O3 -g
LDSAN     :=
endif

PKGS      := sqlite3 libpcre2-8 libutf8proc jansson libcurl libmicrohttpd yaml-0.1 libxml-2.0
PDF_PKGS  := poppler-glib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) $(PDF_PKGS) 2>/dev/null)
PDF_CFLAGS := $(shell pkg-config --cflags $(PDF_PKGS) 2>/dev/null)
TEST_LIBS  := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN      := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wvla
CFLAGS    ?=
CFLAGS    += -std=c11 -D_GNU_SOURCE -fPIC $(OPT) $(WARN) -Iinclude -Isrc $(PKG_CFLAGS) \
             -DHEARTH_VERSION_STRING='"$(VERSION)"' -MMD -MP
LDLIBS    := $(PKG_LIBS) -lm -lpthread
AVX2_FLAGS   := -mavx2 -mfma -mf16c
AVX512_FLAGS := $(AVX2_FLAGS) -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16
AMX_FLAGS    := $(AVX512_FLAGS) -mamx-tile -mamx-int8

LIB_SRC   := $(sort $(wildcard src/base/*.c src/gguf/*.c src/kernels/*.c src/model/*.c src/cuda/*.c \
               src/tokenizer/*.c src/chat/*.c src/sample/*.c src/rag/*.c src/agent/*.c src/server/*.c))
CLI_SRC   := $(sort $(wildcard src/cli/*.c))
TEST_SRC  := $(sort $(wildcard tests/unit/test_*.c))
TOOL_SRC  := $(sort $(wildcard tests/tools/*.c))
EX_SRC    := $(sort $(wildcard examples/*.c))

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)

# make CUDA=1: the CUDA backend (src/cuda/*.cu, compiled by nvcc) joins libhearth, and the
# C side is built with HEARTH_CUDA. Only this build needs nvcc, the CUDA runtime and cuBLAS.
CUDA      ?= 0
ifeq ($(CUDA),1)
CUDA_HOME ?= /usr/local/cuda
NVCC      ?= $(CUDA_HOME)/bin/nvcc
CUDA_ARCH ?= -gencode arch=compute_75,code=sm_75 -gencode arch=compute_80,code=sm_80 \
             -gencode arch=compute_86,code=sm_86 -gencode arch=compute_89,code=sm_89 \
             -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90
NVFLAGS   := -O3 -std=c++17 $(CUDA_ARCH) -Xcompiler -fPIC,-Wall,-Wextra,-Werror,-Wno-unused-parameter \
             -Werror all-warnings -Isrc -DHEARTH_CUDA
CU_SRC    := $(sort $(wildcard src/cuda/*.cu))
LIB_OBJ   += $(CU_SRC:%.cu=$(BUILD)/%.o)
CFLAGS    += -DHEARTH_CUDA -I$(CUDA_HOME)/include
LDLIBS    += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublas -lcudart -lstdc++
endif
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_BIN  := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
EX_BIN    := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)

.PHONY: all lib tests check demo bench install uninstall clean deps check-deps FORCE
all: $(BUILD)/hearth $(BUILD)/libhearth.so $(BUILD)/hearth.pc $(EX_BIN)
lib: $(BUILD)/libhearth.a $(BUILD)/libhearth.so

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo 'CC   $<'
	@$(CC) $(CFLAGS) -c $< -o $@
$(BUILD)/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	@echo 'CC   $< (avx2)'
	@$(CC) $(CFLAGS) $(AVX2_FLAGS) -c $< -o $@
$(BUILD)/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	@echo 'CC   $< (avx512)'
	@$(CC) $(CFLAGS) $(AVX512_FLAGS) -c $< -o $@
$(BUILD)/%_amx.o: %_amx.c
	@mkdir -p $(dir $@)
	@echo 'CC   $< (amx)'
	@$(CC) $(CFLAGS) $(AMX_FLAGS) -c $< -o $@
$(BUILD)/%.o: %.cu $(wildcard src/cuda/hc*.h)
	@mkdir -p $(dir $@)
	@echo 'NVCC $<'
	@$(NVCC) $(NVFLAGS) -c $< -o $@
$(BUILD)/src/rag/%.o: src/rag/%.c
	@mkdir -p $(dir $@)
	@echo 'CC   $<'
	@$(CC) $(CFLAGS) $(PDF_CFLAGS) -c $< -o $@

$(BUILD)/libhearth.a: $(LIB_OBJ)
	@rm -f $@
	@echo 'AR   $@'
	@ar rcs $@ $^
$(BUILD)/libhearth.so: $(LIB_OBJ)
	@echo 'LD   $@'
	@$(CC) -shared -Wl,-soname,libhearth.so.0 $(LDSAN) -o $@ $^ $(LDLIBS)
$(BUILD)/hearth: $(CLI_OBJ) $(BUILD)/libhearth.a
	@echo 'LD   $@'
	@$(CC) $(LDSAN) -o $@ $(CLI_OBJ) $(BUILD)/libhearth.a $(LDLIBS)
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libhearth.a $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	@echo 'LD   $@'
	@$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libhearth.a $(LDSAN) $(LDLIBS) $(TEST_LIBS)
$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libhearth.a
	@mkdir -p $(dir $@)
	@echo 'LD   $@'
	@$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libhearth.a $(LDSAN) $(LDLIBS)
# The example is built exactly as an outside program would be: public header only.
$(BUILD)/examples/%: examples/%.c $(BUILD)/libhearth.a
	@mkdir -p $(dir $@)
	@echo 'LD   $@'
	@$(CC) -std=c11 $(OPT) $(WARN) -Iinclude -o $@ $< $(BUILD)/libhearth.a $(LDSAN) $(LDLIBS)
# pkg-config file; PREFIX is baked in, so it is written again whenever PREFIX changes.
$(BUILD)/hearth.pc: FORCE
	@mkdir -p $(BUILD)
	@printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: hearth\nDescription: local-first AI agent runtime\nVersion: %s\nLibs: -L$${libdir} -lhearth\nLibs.private: -lm -lpthread\nCflags: -I$${includedir}\nRequires.private: %s\n' \
		'$(PREFIX)' '$(VERSION)' '$(PKGS) $(PDF_PKGS)' > $@.tmp
	@cmp -s $@.tmp $@ 2>/dev/null && rm -f $@.tmp || mv $@.tmp $@
FORCE:

tests: $(BUILD)/hearth $(TEST_BIN) $(TOOL_BIN) $(EX_BIN)

deps:
	@./scripts/deps.sh
check-deps:
	@./scripts/deps.sh --check

# check: the release build runs the CLI tests and valgrind; the sanitizer build runs everything;
# clang (when installed) must compile everything warning-free too.
check: check-deps
	@$(MAKE) --no-print-directory tests BUILD=build
	@$(MAKE) --no-print-directory tests SAN=1 BUILD=build-asan
	@if command -v clang >/dev/null 2>&1; then $(MAKE) --no-print-directory tests CC=clang BUILD=build-clang; \
	 else echo "check: clang is not installed; skipping the clang -Werror build"; fi
	@./tests/run.sh build build-asan

demo: deps
	@$(MAKE) --no-print-directory all
	@./scripts/demo.sh build

bench: all
	@./bench/run-all build

install: all $(BUILD)/libhearth.a $(BUILD)/hearth.pc
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(BUILD)/hearth $(DESTDIR)$(PREFIX)/bin/hearth
	install -m 644 $(BUILD)/libhearth.a $(DESTDIR)$(PREFIX)/lib/libhearth.a
	install -m 755 $(BUILD)/libhearth.so $(DESTDIR)$(PREFIX)/lib/libhearth.so.0
	ln -sf libhearth.so.0 $(DESTDIR)$(PREFIX)/lib/libhearth.so
	install -m 644 include/hearth.h $(DESTDIR)$(PREFIX)/include/hearth.h
	install -m 644 $(BUILD)/hearth.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/hearth.pc
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/hearth $(DESTDIR)$(PREFIX)/lib/libhearth.* \
	      $(DESTDIR)$(PREFIX)/include/hearth.h $(DESTDIR)$(PREFIX)/lib/pkgconfig/hearth.pc

clean:
	rm -rf build build-asan build-*

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
