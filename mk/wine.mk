# Windows test programs for the real-Wine tests (tests/wine, docs/wine.md), built with mingw-w64
# into $(BUILD)/tests/wine/ when x86_64-w64-mingw32-gcc is installed (`packaging/deps.sh wine`;
# `make test` installs it). Without it nothing is built and tests/wine skips.
#   make test-wine       build them and run the wine suite alone
MINGW_CC ?= x86_64-w64-mingw32-gcc
MINGW_WINDRES ?= x86_64-w64-mingw32-windres
WINE_OUT := $(BUILD)/tests/wine
# -static: no mingw runtime DLLs to copy; no timestamp: the same source gives the same bytes.
MINGW_CFLAGS := -O2 -s -Wall -Wextra -Werror -municode -static -Wl,--no-insert-timestamp
WINE_SRC := tests/wine/src
WINE_HDR := $(WINE_SRC)/wxgt_win.h mk/wine.mk

ifneq ($(shell command -v $(MINGW_CC) 2>/dev/null),)
WINE_BINS := $(addprefix $(WINE_OUT)/,WXWork.exe WXWorkWeb.exe inject.exe plugin.dll \
	version.dll WeChat.exe)
endif
TEST_DEPS += $(WINE_BINS)

$(WINE_OUT)/%.res.o: $(WINE_SRC)/%.rc
	$(call msg,WINDRES,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MINGW_WINDRES) -c 65001 -O coff -o $@ $<

# WXWork.exe imports version.dll (GetFileVersionInfo*, VerQueryValueW), as the real client does.
$(WINE_OUT)/WXWork.exe: $(WINE_SRC)/wxwork.c $(WINE_OUT)/wxwork.res.o $(WINE_HDR)
	$(call msg,MINGW,$@)
	$(Q)$(MINGW_CC) $(MINGW_CFLAGS) -o $@ $< $(WINE_OUT)/wxwork.res.o -lversion

$(WINE_OUT)/WeChat.exe: $(WINE_SRC)/wechat.c $(WINE_OUT)/wechat.res.o $(WINE_HDR)
	$(call msg,MINGW,$@)
	$(Q)$(MINGW_CC) $(MINGW_CFLAGS) -o $@ $< $(WINE_OUT)/wechat.res.o

$(WINE_OUT)/WXWorkWeb.exe: $(WINE_SRC)/wxworkweb.c $(WINE_HDR)
$(WINE_OUT)/inject.exe: $(WINE_SRC)/inject.c $(WINE_HDR)
$(WINE_OUT)/WXWorkWeb.exe $(WINE_OUT)/inject.exe:
	$(call msg,MINGW,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MINGW_CC) $(MINGW_CFLAGS) -o $@ $<

$(WINE_OUT)/plugin.dll: $(WINE_SRC)/plugin.c $(WINE_HDR)
	$(call msg,MINGW,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MINGW_CC) $(MINGW_CFLAGS) -shared -o $@ $<

$(WINE_OUT)/version.dll: $(WINE_SRC)/version_hijack.c $(WINE_SRC)/version_hijack.def $(WINE_HDR)
	$(call msg,MINGW,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(MINGW_CC) $(MINGW_CFLAGS) -shared -o $@ $< $(WINE_SRC)/version_hijack.def

.PHONY: test-wine wine-bins
# The programs alone (a sub-make after `packaging/deps.sh wine`: WINE_BINS is set at parse time).
wine-bins: $(WINE_BINS)

test-wine: deps
	$(Q)$(MAKE) --no-print-directory wine-bins
	$(Q)WXG_BUILD=$(BUILD) WXG_SANITIZE=$(SANITIZE) tests/run.sh wine
