# mapcp: a file copier with interchangeable engines, and its lab.
#
#   make demo   build, make a test file, copy it, compare with GNU cp
#   make test   warnings as errors, unit + CLI tests, then again under
#               AddressSanitizer and UBSan; ends with "N passed, N failed"
#
# Missing Debian packages are installed by scripts/install-deps.sh first.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
CC ?= cc
CFLAGS ?= -O2 -g -Wall -Wextra
override CFLAGS += -std=c17 -MMD -MP
override CPPFLAGS += -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Iinclude
override LDLIBS += -luring -lpthread -lm

# O holds objects and test programs, B the binaries (the repository's root,
# so that ./mmap_cp works as in the exercise).
O ?= build
B ?= .

ifneq ($(SANITIZE),)
override CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
override LDFLAGS += -fsanitize=$(SANITIZE)
endif

# The tests' build: warnings are errors, and a failure that names no step
# aborts (report_checked()); never what make and make install build.
TEST_CFLAGS = -O2 -g -Wall -Wextra -Werror -DMAPCP_CHECK_STEPS
SANITIZERS = address,undefined

LIB_SRCS = \
	src/atomic.c \
	src/copy.c \
	src/engines/copy_file_range.c \
	src/engines/io_uring.c \
	src/engines/kernel.c \
	src/engines/mmap.c \
	src/engines/mmap_write.c \
	src/engines/reflink.c \
	src/engines/rw.c \
	src/engines/sendfile.c \
	src/engines/splice.c \
	src/entries.c \
	src/extents.c \
	src/guard.c \
	src/idmap.c \
	src/metadata.c \
	src/plan.c \
	src/pool.c \
	src/progress.c \
	src/report.c \
	src/scan.c \
	src/session.c \
	src/temps.c \
	src/util.c \
	src/verify.c \
	src/walk.c \
	src/window.c
CLI_SRCS = \
	cli/mapcp.c \
	cli/maps.c \
	cli/progress.c
# Test hooks, linked into the test binaries only (unit tests, fuzz targets,
# build/tests/mapcp-hooks), never into what all and install make: the
# engine "fail" and the MAPCP_FAIL variable that drives it.
HOOK_SRCS = \
	cli/hooks.c \
	src/engines/fail.c
BENCH_SRCS = \
	bench/cache.c \
	bench/data.c \
	bench/machine.c \
	bench/main.c \
	bench/output.c \
	bench/plot.c \
	bench/randread.c \
	bench/runner.c \
	bench/stats.c \
	bench/verdict.c
UNIT_TESTS = \
	atomic \
	copy \
	extents \
	guard \
	plan \
	report \
	stats \
	tree
# libFuzzer targets, tests/fuzz/fuzz_NAME.c: replayed over their corpora by
# make test, fuzzed for FUZZ_SECONDS each by make fuzz (tests/fuzz/run.sh).
FUZZ_TARGETS = \
	bench \
	cli \
	engines \
	extents \
	preserve \
	size \
	temps \
	window
FUZZ_SECONDS ?= 25

LIB_OBJS = $(LIB_SRCS:%.c=$(O)/%.o)
CLI_OBJS = $(CLI_SRCS:%.c=$(O)/%.o)
HOOK_OBJS = $(HOOK_SRCS:%.c=$(O)/%.o)
BENCH_OBJS = $(BENCH_SRCS:%.c=$(O)/%.o)
UNIT_BINS = $(UNIT_TESTS:%=$(O)/tests/test_%)
FUZZ_BINS = $(FUZZ_TARGETS:%=$(O)/tests/fuzz_%)
# What the fuzz targets link besides the library: the CLI's and the
# bench's objects less the files with main(), which they include.
FUZZ_LIB = $(O)/tests/fuzz/support.a
FUZZ_OBJS = $(filter-out $(O)/cli/mapcp.o $(O)/bench/main.o,\
	$(CLI_OBJS) $(BENCH_OBJS))
LIB = $(O)/libmapcp.a
LIB_ALL = $(O)/tests/libmapcp-all.a
OBJCOPY ?= objcopy

.PHONY: all check-coreutils check-faults clean demo deps fault-tools format \
	fuzz install install-cp-link large-file lint test test-file uninstall \
	unit-tests

all: $(B)/mapcp $(B)/mmap_cp $(B)/mapcp-bench

deps:
	@scripts/install-deps.sh

# Rebuild everything when the compiler or its flags change (git's GIT-CFLAGS).
FLAGS_NOW = $(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS)
$(O)/.flags: FORCE | deps
	@mkdir -p $(O)
	@echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' > $@
FORCE:

$(O)/%.o: %.c $(O)/.flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# libmapcp.a exports mapcp.h's API and nothing else: the objects are
# linked into one (ld -r) whose other symbols are made local. The tests,
# which call the core's own functions, link every object as built.
$(LIB): $(LIB_OBJS)
	rm -f $@ $(O)/libmapcp.o
	$(LD) -r -o $(O)/libmapcp.o $^
	$(OBJCOPY) --wildcard --keep-global-symbol='mapcp_*' $(O)/libmapcp.o
	$(AR) rcs $@ $(O)/libmapcp.o

$(LIB_ALL): $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/mapcp: $(CLI_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lxxhash $(LDLIBS)

$(B)/mapcp-bench: $(BENCH_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lxxhash -lm $(LDLIBS)

# The exercise's program is mapcp under its second name.
$(B)/mmap_cp: $(B)/mapcp
	ln -sf mapcp $@

TEST_CPPFLAGS = -Isrc -Ibench -Itests/support
$(O)/tests/test_%: tests/unit/test_%.c $(O)/tests/support/compare.o \
		$(O)/bench/stats.o $(HOOK_OBJS) $(LIB_ALL)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(TEST_CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(O)/tests/support/compare.o $(O)/bench/stats.o \
		$(O)/src/engines/fail.o $(LIB_ALL) -lcmocka -lxxhash -lm $(LDLIBS)

# mapcp with the test hooks, for the tests that drive the engine "fail".
$(O)/tests/mapcp-hooks: $(CLI_OBJS) $(HOOK_OBJS) $(LIB_ALL)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lxxhash $(LDLIBS)

$(O)/tests/sparsecmp: $(O)/tests/support/sparsecmp.o $(O)/tests/support/compare.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(FUZZ_LIB): $(FUZZ_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# A fuzz target with replay.c's main(); tests/fuzz/run.sh empties
# FUZZ_MAIN and links with -fsanitize=fuzzer for libFuzzer's instead.
FUZZ_MAIN = $(O)/tests/fuzz/replay.o
$(O)/tests/fuzz/replay.o: tests/fuzz/replay.c
$(O)/tests/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_MAIN) $(HOOK_OBJS) $(FUZZ_LIB) \
		$(LIB_ALL)
	$(CC) $(CPPFLAGS) $(TEST_CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(FUZZ_MAIN) $(HOOK_OBJS) $(FUZZ_LIB) $(LIB_ALL) -lxxhash -lm \
		$(LDLIBS)

TOOLS = deeptree holemap mksock pin sparsecmp treecmp
$(O)/tests/%: $(O)/tests/support/%.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

unit-tests: $(UNIT_BINS) $(FUZZ_BINS) $(TOOLS:%=$(O)/tests/%) fault-tools \
	$(O)/tests/mapcp-hooks $(O)/tests/oracle $(O)/tests/eiofs

# A FUSE filesystem of files that fail reads or change (libfuse3).
$(O)/tests/eiofs: tests/support/eiofs.c $(O)/.flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $$(pkg-config --cflags fuse3) $(LDFLAGS) \
		-o $@ $< \
		$$(pkg-config --libs fuse3)

# The differential tester: mapcp against GNU cp (tests/oracle/oracle.c).
$(O)/tests/oracle: tests/oracle/oracle.c $(O)/.flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -lxxhash

# The fault shim (LD_PRELOAD; built without _FILE_OFFSET_BITS, so that it
# defines the *64 symbols mapcp calls) and the injection driver.
# Never sanitized: it goes into LD_PRELOAD, ahead of a sanitizer's runtime.
$(O)/tests/fault-shim.so: tests/faults/shim.c $(O)/.flags
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE $(TEST_CFLAGS) -std=c17 -fPIC -shared -o $@ $< -ldl
$(O)/tests/inject: tests/faults/inject.c $(O)/.flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<
$(O)/tests/attack: tests/faults/attack.c $(O)/.flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<
fault-tools: $(O)/tests/fault-shim.so $(O)/tests/inject $(O)/tests/attack

# mapcp under faults (tests/faults/check.sh): injected errors in every
# call of the copy path, full disks, races, kill -9, concurrent writers,
# hostile paths, fuzzing; ends with the counts. Within 20 minutes.
check-faults: | deps
	$(MAKE) --no-print-directory CFLAGS='$(TEST_CFLAGS)' all unit-tests
	$(MAKE) --no-print-directory CFLAGS='$(TEST_CFLAGS)' \
		SANITIZE=$(SANITIZERS) O=$(O)/san B=$(O)/san all
	MAKE='$(MAKE)' tests/faults/check.sh $(B) $(O)/tests $(O)/san

# GNU coreutils 9.1's cp tests, with GNU cp and then with mapcp as cp
# (scripts/check-coreutils.sh); deliberate differences are listed in
# tests/coreutils/differences. Needs root; caches in CU_CACHE.
check-coreutils: $(B)/mapcp | deps
	scripts/check-coreutils.sh $(B)/mapcp

# Each fuzz target under libFuzzer for FUZZ_SECONDS, clang, in build/fuzz/.
fuzz: | deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_TARGETS)

# Two complete builds, each tested: plain with -Werror, then sanitized.
test: | deps
	scripts/lint.sh
	$(MAKE) --no-print-directory CFLAGS='$(TEST_CFLAGS)' all unit-tests
	$(MAKE) --no-print-directory CFLAGS='$(TEST_CFLAGS)' \
		SANITIZE=$(SANITIZERS) O=$(O)/san B=$(O)/san all unit-tests
	tests/run.sh plain $(B) $(O)/tests sanitizers $(O)/san $(O)/san/tests

demo: all
	scripts/demo.sh

test-file: test-file.txt
test-file.txt:
	head -c 1M /dev/urandom > $@

large-file: large-file.txt
large-file.txt:
	head -c 1G /dev/urandom > $@

format:
	clang-format -i $(LIB_SRCS) $(CLI_SRCS) $(HOOK_SRCS) $(BENCH_SRCS) src/*.h cli/*.h \
		bench/*.h include/*.h \
		tests/unit/*.c tests/unit/*.h

lint: | deps
	scripts/lint.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(B)/mapcp $(B)/mapcp-bench $(DESTDIR)$(BINDIR)/
	ln -sf mapcp $(DESTDIR)$(BINDIR)/mmap_cp
	install -m 644 man/mapcp.1 man/mapcp-bench.1 $(DESTDIR)$(MANDIR)/man1/
	ln -sf mapcp.1 $(DESTDIR)$(MANDIR)/man1/mmap_cp.1
	install -d $(DESTDIR)$(COMPLETIONDIR)
	install -m 644 completion/mapcp.bash $(DESTDIR)$(COMPLETIONDIR)/mapcp
	ln -sf mapcp $(DESTDIR)$(COMPLETIONDIR)/mmap_cp
	ln -sf mapcp $(DESTDIR)$(COMPLETIONDIR)/mapcp-bench
	@echo "mapcp: installed. To use it in cp's place (never done by default):"
	@echo "  make install-cp-link CPLINK=\$$HOME/bin/cp   (a link named cp, first in PATH)"

# mapcp as cp for whoever puts CPLINK's directory first in PATH: a link
# named cp (messages then read "cp: ..."). Only where asked, never
# /usr/bin/cp's place, never by install.
install-cp-link:
	@test -n "$(CPLINK)" || { echo "usage: make install-cp-link CPLINK=DIR/cp" >&2; exit 1; }
	@test "$$(basename "$(CPLINK)")" = cp || { echo "CPLINK must end in /cp" >&2; exit 1; }
	@case "$(CPLINK)" in /bin/cp | /usr/bin/cp) echo "refusing to replace $(CPLINK)" >&2; exit 1 ;; esac
	install -d "$$(dirname "$(CPLINK)")"
	ln -sf $(BINDIR)/mapcp "$(CPLINK)"

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mapcp $(DESTDIR)$(BINDIR)/mmap_cp \
		$(DESTDIR)$(BINDIR)/mapcp-bench \
		$(DESTDIR)$(MANDIR)/man1/mapcp.1 $(DESTDIR)$(MANDIR)/man1/mmap_cp.1 \
		$(DESTDIR)$(MANDIR)/man1/mapcp-bench.1 \
		$(DESTDIR)$(COMPLETIONDIR)/mapcp \
		$(DESTDIR)$(COMPLETIONDIR)/mmap_cp \
		$(DESTDIR)$(COMPLETIONDIR)/mapcp-bench

clean:
	rm -rf $(O) mapcp mmap_cp mapcp-bench

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(HOOK_OBJS:.o=.d) $(BENCH_OBJS:.o=.d) $(UNIT_BINS:=.d) \
	$(FUZZ_BINS:=.d) $(O)/tests/fuzz/replay.d $(O)/tests/support/compare.d \
	$(TOOLS:%=$(O)/tests/support/%.d)
