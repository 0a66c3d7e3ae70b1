# wxguard-server: extra link flags and generated inputs.
# Alert webhooks are sent with libcurl (server/alerts.c).
SERVER_LIBS += $(call pkg_libs,libcurl) -lpthread
# The dashboard page is embedded with .incbin (server/dashboard.c).
$(BUILD)/obj/server/dashboard.o: server/dashboard.html

# Benchmark load generator (bench/server_load.c) and its driver script.
$(BUILD)/bench/server_load: bench/server_load.c $(LIBSERVER) $(LIBCOMMON)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBSERVER) $(LIBCOMMON) $(TEST_LIBS) -lpthread
