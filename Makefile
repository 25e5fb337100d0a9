# nettune: one entry point.
#   make            build everything into build/
#   make demo       install deps, build, run the main job on its built-in workload
#   make test       install deps, build, run unit and integration tests, and
#                   load every family on Debian's 6.1 kernel in a VM
#   make bench      benchmarks (results in docs/benchmarks.md); not part of test
#   make vmlinux    regenerate vmlinux/$(ARCH)/vmlinux.h from this kernel's BTF
#   make test-kernel KERNEL=6.1 (or KERNELS="6.1 6.12", TESTS="test_x.sh ...")
#                   the integration suite inside a VM running a Debian kernel;
#                   not part of test (docs/kernels.md)
#   V=1             show commands; WERROR=1 (set in CI) turns warnings into errors

.DELETE_ON_ERROR:
.SUFFIXES:

OUT       := build
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
CLANG     ?= clang
CC        ?= cc
LLVM_STRIP ?= llvm-strip
BPFTOOL   ?= bpftool
VMLINUX   := vmlinux/$(ARCH)/vmlinux.h

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN      := -Wall -Wextra
ifneq ($(WERROR)$(CI),)
WARN      += -Werror
endif
CFLAGS    ?= -O2 -g
DEPS_CFLAGS := $(shell pkg-config --cflags libbpf json-c capstone libmicrohttpd 2>/dev/null)
# Every folder of user/ is an include folder: a header is named by its file
# name alone, wherever its concern put it (README.md, Layout).
USER_DIRS := $(sort $(patsubst %/,%,$(dir $(shell find user -name '*.[ch]'))))
ALL_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -MMD -MP \
	      -I$(OUT) -Ibpf $(addprefix -I,$(USER_DIRS)) $(DEPS_CFLAGS)
# capstone is opened with dlopen() on first use (user/lib/sym/retfind.c): its
# headers are needed here, not its library.
# libmicrohttpd: the HTTP server of `nettune serve` (user/lib/export/httpserve.c).
LDLIBS    := -lbpf -lelf -lz -ljson-c -lm -lpthread -lncursesw \
	     $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)

# BPF objects: one per bpf/<name>.bpf.c. A family is registered in
# user/family/probes.c (docs/probes.md, "Adding a family").
PROBES    := $(patsubst bpf/%.bpf.c,%,$(wildcard bpf/*.bpf.c))
# A tool is a directory of C sources under tools/ (tools/bench holds scripts).
TOOLS     := $(sort $(patsubst tools/%/,%,$(dir $(wildcard tools/*/*.c))))

BPF_OBJS  := $(patsubst %,$(OUT)/bpf/%.bpf.o,$(PROBES))
SKELS     := $(patsubst %,$(OUT)/%.skel.h,$(PROBES))
# The library: user/lib and its concern folders. The program: the rest of
# user/ (main.c, cmd/, family/, tracer/).
LIB_SRCS  := $(sort $(shell find user/lib -name '*.c'))
LIB_OBJS  := $(patsubst user/lib/%.c,$(OUT)/lib/%.o,$(LIB_SRCS))
APP_SRCS  := $(sort $(filter-out user/lib/%,$(shell find user -name '*.c')))
APP_OBJS  := $(patsubst user/%.c,$(OUT)/user/%.o,$(APP_SRCS))
LIBNT     := $(OUT)/libnettune.a
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
TOOL_BINS := $(patsubst %,$(OUT)/%,$(TOOLS))
TEST_HELPER_SRCS := $(wildcard tests/integration/helpers/*.c)
TEST_HELPERS := $(patsubst tests/integration/helpers/%.c,$(OUT)/tests/helpers/%,$(TEST_HELPER_SRCS))

VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

# make install: PREFIX and DESTDIR as usual.
PREFIX    ?= /usr/local
SBINDIR   := $(PREFIX)/sbin
MANDIR    := $(PREFIX)/share/man/man8
DOCDIR    := $(PREFIX)/share/doc/nettune
UNITDIR   := $(PREFIX)/lib/systemd/system
MAN_STAMP := $(OUT)/man/.stamp
DEPLOY_DOCS := docs/metrics.md docs/deploy/prometheus.yml docs/deploy/prometheus-kubernetes.yml \
	       docs/deploy/kubernetes-daemonset.yaml docs/deploy/grafana-dashboard.json

.PHONY: all deps demo test unit integration bench bench-server vmlinux clean install man test-kernel soak
all: deps-stamp $(BPF_OBJS) $(OUT)/nettune $(TOOL_BINS) $(UNIT_BINS) $(TEST_HELPERS) $(MAN_STAMP)

# Dependencies come from Debian's archive; the script installs only what is
# missing, so this costs a dpkg query when everything is there.
deps-stamp:
	$(Q)tools/install-deps.sh
.PHONY: deps-stamp
deps: deps-stamp

$(OUT) $(OUT)/bpf $(OUT)/lib $(OUT)/user $(OUT)/tests $(OUT)/tests/helpers:
	$(Q)mkdir -p $@

# Kernel side: .bpf.c -> .bpf.o (BTF kept, DWARF stripped) -> .skel.h
$(BPF_OBJS): $(OUT)/bpf/%.bpf.o: bpf/%.bpf.c $(VMLINUX) | $(OUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) $(WARN) \
		-Wno-unused-parameter -Ivmlinux/$(ARCH) -Ibpf \
		-MMD -MP -MF $@.d -MT $@ -c $< -o $@.tmp
	$(Q)$(LLVM_STRIP) -g $@.tmp -o $@ && rm -f $@.tmp

$(SKELS): $(OUT)/%.skel.h: $(OUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# User side
$(OUT)/lib/%.o: user/lib/%.c | $(OUT)/lib
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUT)/user/%.o: user/%.c $(SKELS) | $(OUT)/user
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -DNETTUNE_VERSION='"$(VERSION)"' -c $< -o $@

$(LIBNT): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/nettune: $(APP_OBJS) $(LIBNT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Tools shipped with nettune: tools/<name>/*.c -> build/<name>
$(OUT)/tools/%.o: tools/%.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

define tool_rule
$(OUT)/$(1): $(patsubst tools/%.c,$(OUT)/tools/%.o,$(wildcard tools/$(1)/*.c)) $(LIBNT)
	$$(call msg,LINK,$$@)
	$$(Q)$$(CC) $$(CFLAGS) $$^ $$(LDLIBS) -o $$@
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

# Tests
$(OUT)/tests/test_%: tests/unit/test_%.c $(LIBNT) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIBNT) $(LDLIBS) -lcmocka -o $@

$(OUT)/tests/helpers/%: tests/integration/helpers/%.c $(LIBNT) | $(OUT)/tests/helpers
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIBNT) $(LDLIBS) -o $@

# Fixture binaries (Go default/stripped/PIE, C PIE/non-PIE/shared) and the
# truth about them from nm/readelf/objdump; truth.txt is written last.
FIXTURES  := $(OUT)/fixtures
$(FIXTURES)/truth.txt: tests/fixtures/build.sh $(wildcard tests/fixtures/goserver/*.go tests/fixtures/goserver/go.mod tests/fixtures/cfunc/*.[ch] tests/fixtures/spin/*)
	$(call msg,FIXTURES,$(FIXTURES))
	$(Q)tests/fixtures/build.sh $(FIXTURES)

# Absolute: the test runners change directory.
TEST_ENV  := NT_FIXTURES=$(abspath $(FIXTURES)) NT_BUILD=$(abspath $(OUT))

unit: all $(FIXTURES)/truth.txt
	$(Q)$(TEST_ENV) tests/run-unit.sh $(UNIT_BINS)

integration: all $(FIXTURES)/truth.txt
	$(Q)$(TEST_ENV) tests/integration/run.sh

test: all $(FIXTURES)/truth.txt
	$(Q)$(TEST_ENV) tests/run-unit.sh $(UNIT_BINS) && $(TEST_ENV) tests/integration/run.sh
	$(Q)$(MAKE) --no-print-directory test-kernel KERNEL=6.1 TESTS="$(KERNEL_SMOKE)"
	$(Q)grep -q "integration: $(words $(KERNEL_SMOKE)) passed, 0 failed, 0 skipped" \
		$(OUT)/kernel-matrix/6.1*/run.log || \
		{ echo "make test: on 6.1, $(KERNEL_SMOKE) did not all pass (skipped is not passed)"; exit 1; }

# What make test runs on the oldest supported kernel, 6.1 (Debian 12's): a
# verifier older than this machine's refused every accept and read program
# for a whole round without a test noticing. These two load every family,
# method and filter variant and check exact counts, with no timing checks
# that an emulated CPU could miss (docs/kernels.md). About a minute and a
# half under TCG, plus the VM's packages and the kernel's download once.
KERNEL_SMOKE := test_hooks.sh test_filters.sh

# The kernel matrix: binaries built here once, the suite run in a VM per
# kernel. Its packages (qemu...) are installed only for this target.
KERNEL    ?= 6.1
KERNELS   ?= $(KERNEL)
test-kernel: all $(FIXTURES)/truth.txt
	$(Q)tools/install-deps.sh kernel-matrix
	$(Q)tools/kernel-matrix/run.sh $(if $(TESTS),--tests "$(TESTS)") $(KERNELS)

demo: all
	$(Q)tools/demo.sh

# nettune's overhead, the reference server against nginx, and a scrape of
# nettune serve with 10,000 listeners; each writes its section of
# docs/benchmarks.md.
bench: all $(FIXTURES)/truth.txt
	$(Q)NT_BUILD=$(abspath $(OUT)) tools/bench.sh
	$(Q)NT_BUILD=$(abspath $(OUT)) tools/bench-server.sh
	$(Q)NT_BUILD=$(abspath $(OUT)) tools/bench-serve.sh
	$(Q)$(TEST_ENV) tools/bench-uprobe.sh

# serve for 10 minutes under churn (processes, ports, namespaces), its row
# tables at their real sizes; writes its section of docs/benchmarks.md. Not
# in `make test`, which runs the 40 s version (test_reclaim.sh).
soak: all
	$(Q)$(TEST_ENV) tools/soak.sh

# The reference server against Debian's nginx, and loadgen's own rate.
bench-server: all
	$(Q)NT_BUILD=$(OUT) tools/bench-server.sh

vmlinux:
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX).tmp
	$(Q)mv $(VMLINUX).tmp $(VMLINUX)
	$(Q)printf 'generated from %s (%s) on %s\n' "$$(uname -r)" "$$(uname -v)" "$$(date -u +%F)" > vmlinux/$(ARCH)/SOURCE
	@echo "vmlinux: regenerated $(VMLINUX) from $$(uname -r)"

# Man pages from each command's --help: the parser's own text, so the two
# cannot disagree.
$(MAN_STAMP): $(OUT)/nettune tools/gen-man.sh
	$(call msg,MAN,$(OUT)/man)
	$(Q)tools/gen-man.sh $(OUT)/nettune $(OUT)/man $(VERSION) && touch $@
man: $(MAN_STAMP)

install: $(OUT)/nettune $(MAN_STAMP)
	install -D -m 0755 $(OUT)/nettune $(DESTDIR)$(SBINDIR)/nettune
	install -d $(DESTDIR)$(MANDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)
	install -m 0644 $(OUT)/man/*.8 $(DESTDIR)$(MANDIR)/
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
		docs/deploy/nettune-serve.service >$(DESTDIR)$(UNITDIR)/nettune-serve.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/nettune-serve.service
	install -m 0644 $(DEPLOY_DOCS) $(DESTDIR)$(DOCDIR)/

clean:
	rm -rf $(OUT)

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
