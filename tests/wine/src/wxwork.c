/* WXWork.exe: the stand-in WeCom client for the real-Wine tests (docs/wine.md).
 *
 *   WXWork.exe [--marker DIR] [--seconds N] [--no-helper]
 *   WXWork.exe --version-of FILE [--marker DIR]
 *
 * Like the real client it imports version.dll (GetFileVersionInfoSizeW at start: a
 * version.dll planted next to it is loaded) and starts a helper, WXWorkWeb.exe from its own
 * directory, with which it reads and writes memory across processes both ways, as Chromium's
 * browser and sandboxed processes do. Markers (in DIR):
 *   WXWork.started   "pid P verinfo N"          once, at start
 *   WXWork.tick      "pid P tick K"             every second
 *   WXWork.rw        "ok N exchanges ..." or "error ..."   each second it reads and writes the
 *                                               helper's memory
 *   WXWork.done      "pid P rw R exchanges N helper H"     when --seconds ran out
 * It runs N seconds (0: until killed) and exits 0 when the cross-process exchange worked.
 * --version-of prints FILE's version strings (one "Key=value" line each, UTF-8), writes them to
 * DIR\version.txt too, and exits 0 when FILE has a version resource. */
#include "wxgt_win.h"

#include <stdint.h>

/* What the helper reads (the magic) and writes (its pid and the address of its own share). */
struct share {
	char magic[16];
	volatile uint64_t helper_addr;
	volatile uint32_t helper_pid;
	volatile char from_helper[32];
};

static struct share g_share = { .magic = "WXGT-SHARE-P" };

static const wchar_t *const version_keys[] = {
	L"CompanyName",     L"ProductName", L"OriginalFilename",
	L"FileDescription", L"FileVersion", L"ProductVersion",
};

static int print_version(const wchar_t *file, const wchar_t *dir)
{
	struct {
		WORD lang, cp;
	} * tr;
	char out[2048] = "", *o = out;
	UINT trlen = 0;
	DWORD handle = 0, size = GetFileVersionInfoSizeW(file, &handle);
	void *buf;

	if (size == 0) {
		fprintf(stderr, "no version resource (error %lu)\n", GetLastError());
		return 1;
	}
	buf = malloc(size);
	if (!buf || !GetFileVersionInfoW(file, 0, size, buf) ||
	    !VerQueryValueW(buf, L"\\VarFileInfo\\Translation", (void **)&tr, &trlen) ||
	    trlen < sizeof(*tr)) {
		fprintf(stderr, "cannot read the version resource (error %lu)\n", GetLastError());
		free(buf);
		return 1;
	}
	for (size_t i = 0; i < sizeof(version_keys) / sizeof(version_keys[0]); i++) {
		wchar_t q[128], *val;
		char u8[512];
		UINT len = 0;

		_snwprintf(q, 128, L"\\StringFileInfo\\%04x%04x\\%ls", tr->lang, tr->cp,
			   version_keys[i]);
		q[127] = 0;
		if (!VerQueryValueW(buf, q, (void **)&val, &len) || len == 0)
			continue;
		if (!WideCharToMultiByte(CP_UTF8, 0, val, -1, u8, sizeof(u8), NULL, NULL))
			continue;
		o += snprintf(o, sizeof(out) - (size_t)(o - out), "%ls=%s\n", version_keys[i], u8);
		if (o >= out + sizeof(out))
			break;
	}
	fputs(out, stdout);
	wxgt_marker(dir, L"version.txt", "%s", out);
	free(buf);
	return 0;
}

static HANDLE start_helper(const wchar_t *dir, int seconds, PROCESS_INFORMATION *pi)
{
	wchar_t self[MAX_PATH], cmd[3 * MAX_PATH];
	STARTUPINFOW si = { .cb = sizeof(si) };

	if (wxgt_module_dir(NULL, self, MAX_PATH) < 0)
		return NULL;
	_snwprintf(cmd, 3 * MAX_PATH,
		   L"\"%ls\\WXWorkWeb.exe\" --parent %lu --addr 0x%llx --seconds %d%ls%ls%ls", self,
		   GetCurrentProcessId(), (unsigned long long)(uintptr_t)&g_share, seconds,
		   dir ? L" --marker \"" : L"", dir ? dir : L"", dir ? L"\"" : L"");
	cmd[3 * MAX_PATH - 1] = 0;
	if (!CreateProcessW(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, pi))
		return NULL;
	CloseHandle(pi->hThread);
	return pi->hProcess;
}

/* Read the helper's share (its magic must be there) and write ours into it: once a second
 * for as long as both run, as a browser process keeps talking to its sandboxed children. */
static int exchange(const wchar_t *dir, HANDLE *h, DWORD pid, uint64_t addr, unsigned *count)
{
	char magic[16] = "", mine[32];
	SIZE_T n = 0;

	if (!*h)
		*h = OpenProcess(PROCESS_VM_READ | PROCESS_VM_WRITE | PROCESS_VM_OPERATION |
					 PROCESS_QUERY_INFORMATION,
				 FALSE, pid);
	if (!*h)
		return wxgt_marker(dir, L"WXWork.rw", "error OpenProcess %lu: %lu", pid,
				   GetLastError()),
		       -1;
	if (!ReadProcessMemory(*h, (void *)(uintptr_t)addr, magic, sizeof(magic), &n) ||
	    n != sizeof(magic) || strcmp(magic, "WXGT-SHARE-H") != 0)
		return wxgt_marker(dir, L"WXWork.rw", "error ReadProcessMemory pid %lu: %lu", pid,
				   GetLastError()),
		       -1;
	snprintf(mine, sizeof(mine), "parent-was-here %u", *count + 1);
	if (!WriteProcessMemory(*h, (char *)(uintptr_t)addr + 16, mine, sizeof(mine), &n) ||
	    n != sizeof(mine))
		return wxgt_marker(dir, L"WXWork.rw", "error WriteProcessMemory pid %lu: %lu", pid,
				   GetLastError()),
		       -1;
	++*count;
	return wxgt_marker(dir, L"WXWork.rw",
			   "ok %u exchanges with WXWorkWeb.exe pid %lu; it wrote \"%s\" here",
			   *count, pid, (const char *)g_share.from_helper);
}

int wmain(int argc, wchar_t **argv)
{
	const wchar_t *dir = wxgt_marker_dir(argc, argv, NULL), *vfile;
	int seconds = wxgt_arg_int(argc, argv, L"--seconds", 0), rw = 1;
	PROCESS_INFORMATION pi = { 0 };
	wchar_t self[MAX_PATH];
	HANDLE helper = NULL, hh = NULL;
	unsigned count = 0;
	DWORD vsize, hcode = 0;
	bool no_helper = false;

	vfile = wxgt_arg(argc, argv, L"--version-of");
	if (vfile)
		return print_version(vfile, dir);
	for (int i = 1; i < argc; i++)
		no_helper |= wcscmp(argv[i], L"--no-helper") == 0;
	GetModuleFileNameW(NULL, self, MAX_PATH);
	vsize = GetFileVersionInfoSizeW(self, NULL);
	wxgt_marker(dir, L"WXWork.started", "pid %lu verinfo %lu", GetCurrentProcessId(), vsize);
	if (!no_helper) {
		helper = start_helper(dir, seconds, &pi);
		if (!helper)
			wxgt_marker(dir, L"WXWork.rw", "error CreateProcess WXWorkWeb.exe: %lu",
				    GetLastError());
	}
	for (int tick = 0; seconds == 0 || tick < seconds; tick++) {
		wxgt_marker(dir, L"WXWork.tick", "pid %lu tick %d", GetCurrentProcessId(), tick);
		if (helper && rw >= 0 && g_share.helper_addr &&
		    WaitForSingleObject(helper, 0) == WAIT_TIMEOUT)
			rw = exchange(dir, &hh, g_share.helper_pid, g_share.helper_addr, &count);
		Sleep(1000);
	}
	if (hh)
		CloseHandle(hh);
	if (helper) {
		if (WaitForSingleObject(helper, 5000) != WAIT_OBJECT_0)
			TerminateProcess(helper, 99);
		GetExitCodeProcess(helper, &hcode);
		CloseHandle(helper);
	}
	wxgt_marker(dir, L"WXWork.done", "pid %lu rw %d exchanges %u helper %lu",
		    GetCurrentProcessId(), rw, count, hcode);
	return no_helper ? 0 : rw == 0 && hcode == 0 ? 0 : 1;
}
