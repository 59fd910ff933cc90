# SPDX-License-Identifier: GPL-2.0-only
#
# hv_sock: build, test and demo entry points.
#
#   make check     every gate and test; ends with "N passed, M failed"
#   make demo      the whole path shown in the test VM
#   make vm-run RUN=script-or-program [FILES=dir] [TIMEOUT=secs]
#   make htmldocs  the kernel's documentation build for our page
#
# Everything generated lives under build/.

SHELL		:= /bin/bash
TOP		:= $(CURDIR)
# SRC: where the files overlaid into the kernel tree come from.
SRC		?= $(TOP)
B		:= $(TOP)/build
KVER		:= 6.12
TARBALL		:= /usr/src/linux-source-$(KVER).tar.xz
KSRC		:= $(B)/linux-source-$(KVER)
KTEST		:= $(B)/test
KPROD		:= $(B)/prod
VMDIR		:= $(TOP)/tools/testing/hv_sock/vm
JOBS		?= $(shell nproc)
KMAKE		:= $(MAKE) -C $(KSRC) -j$(JOBS)
LOCK		:= flock $(B)/.lock
# Held while the staged modules change and while an initramfs is packed
# from them, so parallel vm-runs never pack a half-installed stage.
STAGE_LOCK	:= flock $(B)/.lock-stage
# generate and check both move the series repository's branches and work tree
SERIES_LOCK	:= flock $(B)/.lock-series
HDR		:= $(B)/hdr
STAGE		:= $(B)/stage
# The external module build works on a copy of the sources it needs, so its
# objects never land in the source tree where O= builds would find them.
EXT		:= $(B)/extmod
EXTMOD		:= $(EXT)/tools/testing/hv_sock
EXTSRC		:= tools/testing/hv_sock net/hv_sock
EXTMOD_SRC	:= tools/testing/hv_sock
SELFTESTS	:= tools/testing/selftests/hv_sock
TIMEOUT		?= 600
KUNIT_MODULES	:= hv_ring_iter_test hv_sock_kunit hv_sock_state_kunit vmbus_sim_test

# Overlaid into the kernel tree on every build; only changed files are
# rewritten, so make rebuilds only what changed.
OVERLAY		:= drivers include net Documentation tools

.PHONY: all deps tree tree-sync test-kernel prod-build modules selftests guest-tools initramfs \
	vm-run check demo shell htmldocs clean distclean series series-check

# The patch series (make series): Signed-off-by:, author and the M: line of
# MAINTAINERS, "Name <email>"; git's user.name and user.email by default.
SERIES_IDENTITY	?= $(shell git -C $(TOP) config user.name) <$(shell git -C $(TOP) config user.email)>
# Commit dates: the last commit's, so that a rerun gives the same files.
SERIES_DATE	?= $(shell git -C $(TOP) log -1 --format=%ct 2>/dev/null || echo 0)
SERIES_PY	:= python3 $(TOP)/tools/testing/hv_sock/series/series.py
SERIES_GIT	:= $(B)/series-git
SERIES_OUT	:= $(B)/series

all: modules

.DELETE_ON_ERROR:

deps:
	@$(TOP)/tools/testing/hv_sock/vm/install-deps.sh

$(B)/.stamp-unpacked: | deps
	@mkdir -p $(B)
	@echo "== unpacking $(TARBALL)"
	@rm -rf $(KSRC) $(B)/pristine
	@tar -C $(B) -xf $(TARBALL)
	@touch $@

# Kconfig.patch is applied once; when it changes, the previous copy is
# reverted first so the tree always carries exactly the current one.
# The manifest's "local" files (this repository's machinery) stay out of
# the tree, as out of the series; MAINTAINERS gets our entry as the series
# adds it, so the tree is exactly what git am of the series gives.
# One at a time: make check runs steps that each make the tree side by side.
tree: $(B)/.stamp-unpacked
	@flock $(B)/.lock-tree $(MAKE) -s --no-print-directory tree-sync

tree-sync:
	@$(VMDIR)/prepare-tree.sh $(KSRC) $(TOP)/Kconfig.patch $(B)/pristine
	@$(SERIES_PY) excludes > $(B)/overlay-excludes
	@rsync -rc --exclude-from=$(B)/overlay-excludes \
		$(wildcard $(addprefix $(SRC)/,$(OVERLAY))) $(KSRC)/
	@# A file overlaid before and gone from this repository since (removed
	@# or renamed) leaves the tree too, or make check would still build it.
	@cd $(SRC) && find $(OVERLAY) -type f 2>/dev/null | sed 's|^|/|' | \
		grep -v -F -f $(B)/overlay-excludes | sort > $(B)/overlay-files.new
	@[ ! -f $(B)/overlay-files ] || comm -23 $(B)/overlay-files \
		$(B)/overlay-files.new | sed 's|^/||' | (cd $(KSRC) && xargs -r rm -fv)
	@mv $(B)/overlay-files.new $(B)/overlay-files
	@[ -s $(B)/MAINTAINERS.pristine ] || \
		tar -xOf $(TARBALL) linux-source-$(KVER)/MAINTAINERS > $(B)/MAINTAINERS.pristine
	@$(SERIES_PY) maintainers $(B)/MAINTAINERS.tree --top $(SRC) \
		--identity "$(SERIES_IDENTITY)" --pristine-maintainers $(B)/MAINTAINERS.pristine
	@cmp -s $(B)/MAINTAINERS.tree $(KSRC)/MAINTAINERS || cp $(B)/MAINTAINERS.tree $(KSRC)/MAINTAINERS

# ---------------------------------------------------------------- test kernel

$(KTEST)/.config: $(VMDIR)/test.config | tree
	@mkdir -p $(KTEST)
	@echo "== configuring the test kernel"
	@$(KMAKE) O=$(KTEST) tinyconfig >/dev/null
	@cd $(KSRC) && KCONFIG_CONFIG=$(KTEST)/.config scripts/kconfig/merge_config.sh \
		-m -O $(KTEST) $(KTEST)/.config $< >/dev/null
	@$(KMAKE) O=$(KTEST) olddefconfig >/dev/null
	@$(VMDIR)/check-config.sh $< $@

test-kernel: tree $(KTEST)/.config
	@echo "== building the test kernel (debug config)"
	@$(LOCK) $(KMAKE) O=$(KTEST) bzImage modules
	@mkdir -p $(STAGE)
	@$(STAGE_LOCK) $(KMAKE) O=$(KTEST) INSTALL_MOD_PATH=$(STAGE) \
		INSTALL_MOD_STRIP=1 modules_install >/dev/null
	@$(KMAKE) O=$(KTEST) INSTALL_HDR_PATH=$(HDR) headers_install >/dev/null

# The simulator, af_hvsock.ko and the mainline Hyper-V vsock transport, all
# linked against the simulator (as tools/testing/cxl builds its mocks).
# The stage gets exactly this build's external modules: one renamed or
# removed must not stay loadable there.
modules: test-kernel
	@echo "== building the external modules in $(EXTMOD)"
	@mkdir -p $(EXT) && cd $(KSRC) && rsync -rcR $(EXTSRC) $(EXT)/
	@$(LOCK) $(KMAKE) O=$(KTEST) M=$(EXTMOD) W=1 modules
	@$(STAGE_LOCK) bash -c 'rel=$$(cat $(KTEST)/include/config/kernel.release) && \
		rm -rf $(STAGE)/lib/modules/$$rel/updates && \
		$(KMAKE) O=$(KTEST) M=$(EXTMOD) \
		INSTALL_MOD_PATH=$(STAGE) INSTALL_MOD_STRIP=1 modules_install \
		>/dev/null && depmod -b $(STAGE) $$rel'

# ---------------------------------------------------------------- prod kernel

$(KPROD)/.config: $(VMDIR)/prod.config | tree
	@mkdir -p $(KPROD)
	@echo "== configuring the prod kernel"
	@$(KMAKE) O=$(KPROD) tinyconfig >/dev/null
	@cd $(KSRC) && KCONFIG_CONFIG=$(KPROD)/.config scripts/kconfig/merge_config.sh \
		-m -O $(KPROD) $(KPROD)/.config $< >/dev/null
	@$(KMAKE) O=$(KPROD) olddefconfig >/dev/null
	@$(VMDIR)/check-config.sh $< $@

# The whole prod kernel and its modules, so modpost checks af_hvsock.ko
# against the symbols real VMBus exports; then our directory again with
# W=1 and sparse; the uapi header test.
prod-build: tree $(KPROD)/.config
	@echo "== prod build: vmlinux and modules, net/hv_sock with W=1 C=2, uapi"
	@$(LOCK) $(KMAKE) O=$(KPROD) vmlinux modules
	@$(LOCK) $(KMAKE) O=$(KPROD) W=1 C=2 net/hv_sock/ drivers/hv/ring_iter.o \
		2>&1 | tee $(B)/prod-warnings.log
	@! grep -E 'warning:|error:' $(B)/prod-warnings.log
	@$(LOCK) $(KMAKE) O=$(KPROD) headers >/dev/null
	@$(VMDIR)/uapi-check.sh $(KSRC) $(KPROD)/usr/include

# The kernel's make htmldocs for Documentation/networking; fails on any
# warning about our page or the kernel-doc it includes.
htmldocs: tree
	@echo "== htmldocs: Documentation/networking"
	@$(LOCK) $(VMDIR)/htmldocs.sh $(KSRC) $(B)/docs

# ---------------------------------------------------------------- tests

# Guest programs are static: the initramfs has no C library.
selftests: test-kernel
	@echo "== building the kselftests"
	@mkdir -p $(B)/selftests
	@$(TOOLS_LOCK) $(MAKE) -C $(KSRC)/$(SELFTESTS) OUTPUT=$(B)/selftests \
		KHDR_INCLUDES="-isystem $(HDR)/include" CC="gcc -static" >/dev/null
	@cp $(KSRC)/$(SELFTESTS)/*.sh $(B)/selftests/ 2>/dev/null || true
	@find $(B)/selftests -maxdepth 1 -type f -perm -u+x -printf '%f\n' | \
		sort > $(B)/selftests/kselftests
	@echo "$(KUNIT_MODULES)" | tr ' ' '\n' > $(B)/selftests/kunit-modules

# Host-side and guest tools for the VM, static, into $(STAGE)/bin. The
# guest tools are built as for a Hyper-V guest (into $(STAGE)/guest-tools,
# so that build keeps compiling); the VM gets their hvcat and hvss and the hvperf
# that plays the simulated host's side too.
guest-tools: modules
	@mkdir -p $(STAGE)/bin
	@CFLAGS="-O2 -isystem $(HDR)/include" $(TOOLS_LOCK) $(MAKE) -s -C $(KSRC)/$(EXTMOD_SRC)/hvhost \
		OUTPUT=$(STAGE)/bin
	@$(TOOLS_LOCK) $(MAKE) -s -C $(KSRC)/tools/hv_sock OUTPUT=$(STAGE)/guest-tools \
		CC="gcc -static" KHDR_INCLUDES="-isystem $(HDR)/include" >/dev/null
	@cp -p $(STAGE)/guest-tools/hvcat $(STAGE)/guest-tools/hvss $(STAGE)/bin/
	@$(TOOLS_LOCK) $(MAKE) -s -C $(KSRC)/$(EXTMOD_SRC)/hvperf OUTPUT=$(STAGE)/bin \
		CC="gcc -static" KHDR_INCLUDES="-isystem $(HDR)/include" >/dev/null

# INITRD and VMLOG may be set per invocation, so that several vm-runs of
# one checkout do not overwrite each other's initramfs and console log.
INITRD		?= $(B)/initramfs.cpio.gz
VMLOG		?= $(B)/vm-run.log
TOOLS_LOCK	:= flock $(B)/.lock-tools

initramfs: modules selftests guest-tools
	@$(STAGE_LOCK) $(VMDIR)/mkinitramfs.sh $(STAGE) $(B)/selftests $(INITRD) \
		$(EXTRA_INIT) $(if $(RUN),--run $(abspath $(RUN))) \
		$(if $(FILES),--files $(abspath $(FILES)))

vm-run: initramfs
	@$(VMDIR)/run-vm.sh $(KTEST)/arch/x86/boot/bzImage $(INITRD) \
		$(TIMEOUT) $(VMLOG)

check:
	@$(VMDIR)/check.sh

# The main job: the whole path in the test VM, ending with one verdict line.
demo:
	@$(MAKE) -s deps
	@MAKE="$(MAKE)" $(TOP)/tools/testing/hv_sock/demo/run-demo.sh

# An interactive shell in the same VM, with the tools on the PATH.
shell:
	@$(MAKE) -s initramfs RUN=$(VMDIR)/shell.sh
	@HVT_INTERACTIVE=1 $(VMDIR)/run-vm.sh $(KTEST)/arch/x86/boot/bzImage \
		$(INITRD) 0 $(B)/vm-shell.log

# ---------------------------------------------------------------- fuzzing

# make fuzz [FUZZ_SECONDS=N] [SEED=S]: the syscall and host fuzzers side by
# side for N seconds (default 300), then allocation failure injection, in
# the test VM; SEED (default random) replays a run. Ends with
# "N passed, M failed" (tools/testing/hv_sock/fuzz/fuzz.sh).
FUZZ_SECONDS	?= 300
SEED		?=

.PHONY: fuzz

fuzz:
	@MAKE="$(MAKE)" FUZZ_SECONDS="$(FUZZ_SECONDS)" SEED="$(SEED)" \
		$(TOP)/tools/testing/hv_sock/fuzz/fuzz.sh

# ---------------------------------------------------------------- benchmark

# make bench: hvperf in the VM on a kernel without the debug options
# (test.config, then bench.config on top): REPS repetitions on QEMU's
# instruction-counted clock (the primary, deterministic table), then
# WALL_REPS on the ordinary clock (0: none); min, median and max in
# build/bench/results.{md,csv} and throughput.svg. It has its own kernel,
# external modules, stage and headers, so it never clobbers make check's.
KBENCH		:= $(B)/bench
BENCHDIR	:= $(TOP)/tools/testing/hv_sock/bench
BENCH_VARS	:= KTEST=$(KBENCH) EXT=$(B)/extmod-bench STAGE=$(B)/stage-bench \
		   HDR=$(KBENCH)/hdr
REPS		?= 5
WALL_REPS	?= 1

.PHONY: bench

# The fragment applied: test.config less what bench.config overrides, then
# bench.config; every option of it must survive olddefconfig. (In the
# sub-make KTEST is KBENCH, and this .config is already up to date.)
ifneq ($(KTEST),$(KBENCH))
$(KBENCH)/.config: $(VMDIR)/test.config $(VMDIR)/bench.config | tree
	@mkdir -p $(KBENCH)
	@echo "== configuring the bench kernel"
	@awk -F= 'NR == FNR { if (/^CONFIG_/) o[$$1] = 1; next } !($$1 in o)' \
		$(VMDIR)/bench.config $(VMDIR)/test.config > $(KBENCH)/fragment.config
	@cat $(VMDIR)/bench.config >> $(KBENCH)/fragment.config
	@$(KMAKE) O=$(KBENCH) tinyconfig >/dev/null
	@cd $(KSRC) && KCONFIG_CONFIG=$@ scripts/kconfig/merge_config.sh \
		-m -O $(KBENCH) $@ $(KBENCH)/fragment.config >/dev/null
	@$(KMAKE) O=$(KBENCH) olddefconfig >/dev/null
	@$(VMDIR)/check-config.sh $(KBENCH)/fragment.config $@
endif

bench: $(KBENCH)/.config
	@$(MAKE) -s $(BENCH_VARS) guest-tools
	@REPS=$(REPS) WALL_REPS=$(WALL_REPS) $(BENCHDIR)/run-bench.sh $(KBENCH) $(B)/stage-bench

# ---------------------------------------------------------------- series

# make series: build/series/, the three series for netdev, each with its cover
# letter
# (tools/testing/hv_sock/series/manifest says which file goes where).
# make series-check: git am onto the pristine tree gives exactly the tree
# make check builds, checkpatch --strict and get_maintainer.pl on every
# patch; FULL=1 then builds the prod and test configurations with W=1
# after every patch and the kselftests (bisect.sh, about an hour).
$(SERIES_GIT)/.git/hv-sock-pristine: | deps
	@$(TOP)/tools/testing/hv_sock/series/base.sh $(TARBALL) $(SERIES_GIT)

series: tree $(SERIES_GIT)/.git/hv-sock-pristine
	@echo "== series: $(SERIES_OUT)"
	@$(SERIES_LOCK) $(SERIES_PY) generate --base $(SERIES_GIT) --out $(SERIES_OUT) \
		--identity "$(SERIES_IDENTITY)" --date "$(SERIES_DATE)"

series-check: series
	@$(SERIES_LOCK) $(SERIES_PY) check --base $(SERIES_GIT) --out $(SERIES_OUT) --ksrc $(KSRC) \
		--identity "$(SERIES_IDENTITY)" $(if $(V),-v)
	$(if $(FULL),@FROM=$(FROM) nice -n 19 $(TOP)/tools/testing/hv_sock/series/bisect.sh \
		$(SERIES_GIT) $(VMDIR) $(B)/bisect)

clean:
	@rm -rf $(KTEST) $(KPROD) $(STAGE) $(HDR) $(B)/selftests $(INITRD)

distclean:
	@rm -rf $(B)
