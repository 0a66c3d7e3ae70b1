# Kernel matrix (docs/kernels.md): the BPF tests on stock distribution kernels under qemu (TCG).
#   make test-kernels                       every kernel in tests/kernels/matrix.sh
#   make test-kernels KERNELS="bookworm"    some of them
# Not part of `make test`: it downloads kernels (cached) and takes minutes.
.PHONY: test-kernels
test-kernels:
	$(Q)./packaging/deps.sh kernels
	$(Q)./packaging/deps.sh wine
	$(Q)$(MAKE) --no-print-directory wine-bins
	$(Q)$(MAKE) --no-print-directory all $(filter $(BUILD)/tests/bpf/%,$(UNIT_BINS)) $(STANDIN_BINS) \
		$(BUILD)/tests/standins/dynamic/wxgt_client
	$(Q)WXG_BUILD=$(BUILD) tests/kernels/matrix.sh $(KERNELS)

# A dynamically linked build of the stand-in client: tests/e2e/test_enforce.sh runs it through
# ld.so (the static stand-ins are exec'd by ld.so, a dynamic one is mapped by it).
$(BUILD)/tests/standins/dynamic/wxgt_client: tests/standins/wxgt_client.c
	$(call msg,STANDIN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -o $@ $<
TEST_DEPS += $(BUILD)/tests/standins/dynamic/wxgt_client
