# wxguard-server: extra link flags and generated inputs.
# Alert webhooks are sent with libcurl (server/alerts.c).
SERVER_LIBS += $(call pkg_libs,libcurl) -lpthread
# The dashboard page is embedded with .incbin (server/dashboard.c).
$(BUILD)/obj/server/dashboard.o: server/dashboard.html

# Benchmark load generator (bench/server_load.c) and its driver script.
# The simulated agent it drives is test code (tests/lib/simclient.c).
$(BUILD)/bench/server_load: bench/server_load.c $(call obj,tests/lib/simclient.c) $(LIBSERVER) $(LIBCOMMON)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests/lib -o $@ $< $(call obj,tests/lib/simclient.c) $(LIBSERVER) \
		$(LIBCOMMON) $(TEST_LIBS) -lpthread
