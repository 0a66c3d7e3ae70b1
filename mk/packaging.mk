# mk/packaging.mk: `make install`, `make deb`, `make rpm` (docs/packaging.md).
#
#   make install DESTDIR=/tmp/root   the runtime layout under DESTDIR (what the packages hold)
#   make deb                         build/pkg/deb/*.deb   (dpkg-buildpackage, packaging/debian)
#   make rpm                         build/pkg/rpm/*.rpm   (rpmbuild, packaging/rpm)
#   make deb DEB_REVISION=2          a newer package of the same VERSION (upgrade tests)
#
# The version comes from the file VERSION only: debian/changelog and the spec's Version are
# written from it when the package is built. Packages build from a copy of the tree in
# build/pkg/ with VMLINUX=pinned, so the embedded BPF objects are built against the pinned
# vmlinux.h (CO-RE) and not the build machine's kernel.

PREFIX      ?= /usr
SBINDIR     ?= $(PREFIX)/sbin
LIBEXECDIR  ?= $(PREFIX)/lib/wxguard
SYSCONFDIR  ?= /etc
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR     ?=

PKG_OUT      ?= build/pkg
DEB_REVISION ?= 1
RPM_RELEASE  ?= 1
# Where the copy of the tree goes; the packaging recipes build there, never in $(BUILD).
PKG_TREE_EXCLUDES := --exclude=./build --exclude=./.git --exclude=node_modules --exclude='*.swp'

MAN8 := docs/man/wxguard.8 docs/man/wxguard-server.8
MAN5 := docs/man/wxguard-policy.5 docs/man/wxguard-agent.conf.5

.PHONY: install install-agent install-server deb rpm

install: install-agent install-server

install-agent: $(BUILD)/wxguard
	$(call msg,INSTALL,wxguard -> $(DESTDIR)/)
	$(Q)install -D -m 0755 $(BUILD)/wxguard $(DESTDIR)$(SBINDIR)/wxguard
	$(Q)install -D -m 0755 packaging/libexec/write-enroll-dropin \
		$(DESTDIR)$(LIBEXECDIR)/write-enroll-dropin
	$(Q)install -D -m 0755 packaging/libexec/write-backend-dropin \
		$(DESTDIR)$(LIBEXECDIR)/write-backend-dropin
	$(Q)install -D -m 0644 systemd/wxguard-fanotify.conf $(DESTDIR)$(LIBEXECDIR)/systemd/fanotify.conf
	$(Q)install -D -m 0644 packaging/conf/agent.conf $(DESTDIR)$(SYSCONFDIR)/wxguard/agent.conf
	$(Q)install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/wxguard/agent.conf.d
	$(Q)install -D -m 0644 policy/default.ini $(DESTDIR)$(SYSCONFDIR)/wxguard/policy.d/00-default.ini
	$(Q)install -D -m 0644 systemd/wxguard.service $(DESTDIR)$(UNITDIR)/wxguard.service
	$(Q)install -D -m 0644 systemd/wxguard.sysusers $(DESTDIR)$(SYSUSERSDIR)/wxguard.conf
	$(Q)install -D -m 0644 packaging/completion/wxguard $(DESTDIR)$(BASHCOMPDIR)/wxguard
	$(Q)install -D -m 0644 docs/man/wxguard.8 $(DESTDIR)$(MANDIR)/man8/wxguard.8
	$(Q)install -D -m 0644 docs/man/wxguard-policy.5 $(DESTDIR)$(MANDIR)/man5/wxguard-policy.5
	$(Q)install -D -m 0644 docs/man/wxguard-agent.conf.5 $(DESTDIR)$(MANDIR)/man5/wxguard-agent.conf.5

install-server: $(BUILD)/wxguard-server
	$(call msg,INSTALL,wxguard-server -> $(DESTDIR)/)
	$(Q)install -D -m 0755 $(BUILD)/wxguard-server $(DESTDIR)$(SBINDIR)/wxguard-server
	$(Q)install -D -m 0644 packaging/conf/server.conf $(DESTDIR)$(SYSCONFDIR)/wxguard/server.conf
	$(Q)install -D -m 0644 systemd/wxguard-server.service $(DESTDIR)$(UNITDIR)/wxguard-server.service
	$(Q)install -D -m 0644 systemd/wxguard-server.sysusers $(DESTDIR)$(SYSUSERSDIR)/wxguard-server.conf
	$(Q)install -D -m 0644 packaging/completion/wxguard-server \
		$(DESTDIR)$(BASHCOMPDIR)/wxguard-server
	$(Q)install -D -m 0644 docs/man/wxguard-server.8 $(DESTDIR)$(MANDIR)/man8/wxguard-server.8

# A clean copy of the tree (no build/, no .git) for the package builders.
define pkg_copy_tree
	$(Q)rm -rf $(1) && mkdir -p $(1)
	$(Q)tar -cf - $(PKG_TREE_EXCLUDES) . | tar -xf - -C $(1)
endef

DEB_VERSION := $(VERSION)-$(DEB_REVISION)
DEB_TREE := $(PKG_OUT)/deb/wxguard-$(VERSION)
# Debian's changelog date: the last commit's, so the same tree gives the same package.
PKG_DATE_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || date +%s)

deb:
	$(call msg,DEB,wxguard $(DEB_VERSION))
	$(Q)rm -rf $(PKG_OUT)/deb
	$(call pkg_copy_tree,$(DEB_TREE))
	$(Q)cp -a packaging/debian $(DEB_TREE)/debian
	$(Q)printf '%s\n' \
		'wxguard ($(DEB_VERSION)) unstable; urgency=medium' '' \
		'  * wxguard $(VERSION), built from the source tree (version from the file VERSION).' '' \
		" -- wxguard maintainers <wxguard@example.com>  $$(date -R -u -d @$(PKG_DATE_EPOCH))" \
		> $(DEB_TREE)/debian/changelog
	$(Q)cd $(DEB_TREE) && dpkg-buildpackage -b -us -uc --no-sign \
		> ../build.log 2>&1 || { tail -n 60 ../build.log; exit 1; }
	$(Q)ls $(PKG_OUT)/deb/*.deb

RPM_TOP := $(abspath $(PKG_OUT)/rpm/top)
# rpmbuild on a Debian host has no RPM database to check BuildRequires against.
RPMBUILD_FLAGS ?= $(if $(shell rpm -q glibc >/dev/null 2>&1 || echo nodb),--nodeps)

rpm:
	$(call msg,RPM,wxguard $(VERSION)-$(RPM_RELEASE))
	$(Q)rm -rf $(PKG_OUT)/rpm && mkdir -p $(RPM_TOP)/SOURCES $(RPM_TOP)/SPECS
	$(call pkg_copy_tree,$(PKG_OUT)/rpm/wxguard-$(VERSION))
	$(Q)tar -czf $(RPM_TOP)/SOURCES/wxguard-$(VERSION).tar.gz -C $(PKG_OUT)/rpm wxguard-$(VERSION)
	$(Q)sed -e 's/@VERSION@/$(VERSION)/g' -e 's/@RELEASE@/$(RPM_RELEASE)/g' \
		-e "s/@DATE@/$$(LC_ALL=C date -u -d @$(PKG_DATE_EPOCH) '+%a %b %d %Y')/" \
		packaging/rpm/wxguard.spec.in > $(RPM_TOP)/SPECS/wxguard.spec
	$(Q)rpmbuild -bb $(RPMBUILD_FLAGS) --define '_topdir $(RPM_TOP)' --define '_build_id_links none' \
		$(RPM_TOP)/SPECS/wxguard.spec > $(PKG_OUT)/rpm/build.log 2>&1 \
		|| { tail -n 60 $(PKG_OUT)/rpm/build.log; exit 1; }
	$(Q)find $(RPM_TOP)/RPMS -name '*.rpm' -exec mv {} $(PKG_OUT)/rpm/ \;
	$(Q)ls $(PKG_OUT)/rpm/*.rpm
