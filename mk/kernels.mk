# Kernel matrix (docs/kernels.md): the BPF tests on stock distribution kernels under qemu (TCG).
#   make test-kernels                       every kernel in tests/kernels/matrix.sh
#   make test-kernels KERNELS="bookworm"    some of them
# Not part of `make test`: it downloads kernels (cached) and takes minutes.
.PHONY: test-kernels
test-kernels:
	$(Q)./packaging/deps.sh kernels
	$(Q)$(MAKE) --no-print-directory all $(filter $(BUILD)/tests/bpf/%,$(UNIT_BINS)) $(STANDIN_BINS)
	$(Q)WXG_BUILD=$(BUILD) tests/kernels/matrix.sh $(KERNELS)
