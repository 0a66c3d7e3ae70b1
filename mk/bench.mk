# Benchmark helpers (bench/, `make bench`): tiny static programs, no project code.
# bench/getppid_loop.c: the per-syscall cost loop of bench/syscall_overhead.sh.
$(BUILD)/bench/getppid_loop: bench/getppid_loop.c
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -static -Wall -Wextra -Werror -o $@ $<

bench: $(BUILD)/bench/getppid_loop
