/* Shared helpers of the Windows test programs (tests/wine/src, built with mingw-w64 and run
 * under real Wine by tests/wine/test_wine_*.sh; docs/wine.md). Header-only: each program is one
 * translation unit. A marker is a small file a test waits for or asserts is absent; its
 * directory comes from `--marker DIR` or the environment variable WXGT_MARKER_DIR (a Windows
 * path: under Wine, Z:\tmp\x is /tmp/x). */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>

#define WXGT_MARKER_ENV L"WXGT_MARKER_DIR"

/* The value after `--NAME` in argv, or NULL. */
static inline const wchar_t *wxgt_arg(int argc, wchar_t **argv, const wchar_t *name)
{
	for (int i = 1; i + 1 < argc; i++)
		if (wcscmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static inline int wxgt_arg_int(int argc, wchar_t **argv, const wchar_t *name, int dflt)
{
	const wchar_t *v = wxgt_arg(argc, argv, name);

	return v ? (int)wcstol(v, NULL, 0) : dflt;
}

/* The marker directory: --marker DIR, else $WXGT_MARKER_DIR, else `fallback` (may be NULL). */
static inline const wchar_t *wxgt_marker_dir(int argc, wchar_t **argv, const wchar_t *fallback)
{
	static wchar_t env[MAX_PATH];
	const wchar_t *v = argv ? wxgt_arg(argc, argv, L"--marker") : NULL;

	if (v)
		return v;
	if (GetEnvironmentVariableW(WXGT_MARKER_ENV, env, MAX_PATH) - 1u < MAX_PATH - 1u)
		return env;
	return fallback;
}

/* Write DIR\NAME (replaced whole) with a printf-formatted UTF-8 line. Returns 0 or -1. */
static inline int wxgt_marker(const wchar_t *dir, const wchar_t *name, const char *fmt, ...)
{
	wchar_t path[MAX_PATH];
	char text[1024];
	DWORD done = 0;
	va_list ap;
	HANDLE h;
	int n;

	if (!dir || _snwprintf(path, MAX_PATH, L"%ls\\%ls", dir, name) < 0)
		return -1;
	path[MAX_PATH - 1] = 0;
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	h = CreateFileW(path, GENERIC_WRITE, FILE_SHARE_READ, NULL, CREATE_ALWAYS,
			FILE_ATTRIBUTE_NORMAL, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return -1;
	WriteFile(h, text, (DWORD)n, &done, NULL);
	CloseHandle(h);
	return done == (DWORD)n ? 0 : -1;
}

/* This module's (exe or DLL) full path as UTF-8, for markers. */
static inline const char *wxgt_module_path(HMODULE mod, char *buf, size_t size)
{
	wchar_t w[MAX_PATH];
	DWORD n = GetModuleFileNameW(mod, w, MAX_PATH);

	if (n == 0 || n >= MAX_PATH ||
	    !WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, (int)size, NULL, NULL))
		snprintf(buf, size, "?");
	return buf;
}

/* The directory of this module (no trailing backslash) into `dir`. */
static inline int wxgt_module_dir(HMODULE mod, wchar_t *dir, size_t size)
{
	DWORD n = GetModuleFileNameW(mod, dir, (DWORD)size);
	wchar_t *slash;

	if (n == 0 || n >= size)
		return -1;
	slash = wcsrchr(dir, L'\\');
	if (!slash)
		return -1;
	*slash = 0;
	return 0;
}
