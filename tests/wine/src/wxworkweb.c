/* WXWorkWeb.exe: the helper WXWork.exe starts (its Chromium process in the real client).
 *
 *   WXWorkWeb.exe --parent PID --addr 0xADDR [--marker DIR] [--seconds N]
 *
 * Opens its parent, reads the parent's share at ADDR (must hold the parent's magic) and writes
 * its own pid, a greeting and (last) the address of its share there, then waits for the parent to
 * write into its memory in turn. Markers: WXWorkWeb.tick every second, WXWorkWeb.rw "ok ..." or
 * "error ...". Exits after N seconds (0: when the parent is gone), 0 when both directions worked.
 */
#include "wxgt_win.h"

#include <stdint.h>

struct share {
	char magic[16];
	volatile char from_parent[32];
};

static struct share g_mine = { .magic = "WXGT-SHARE-H" };

int wmain(int argc, wchar_t **argv)
{
	const wchar_t *dir = wxgt_marker_dir(argc, argv, NULL), *addr_s;
	DWORD ppid = (DWORD)wxgt_arg_int(argc, argv, L"--parent", 0);
	int seconds = wxgt_arg_int(argc, argv, L"--seconds", 0), ok = 0;
	uint64_t addr, mine = (uintptr_t)&g_mine;
	DWORD pid = GetCurrentProcessId();
	char magic[16] = "";
	SIZE_T n = 0;
	HANDLE h;

	addr_s = wxgt_arg(argc, argv, L"--addr");
	if (!ppid || !addr_s) {
		fprintf(stderr, "usage: WXWorkWeb.exe --parent PID --addr 0xADDR\n");
		return 2;
	}
	addr = wcstoull(addr_s, NULL, 0);
	h = OpenProcess(PROCESS_VM_READ | PROCESS_VM_WRITE | PROCESS_VM_OPERATION | SYNCHRONIZE |
				PROCESS_QUERY_INFORMATION,
			FALSE, ppid);
	if (!h) {
		wxgt_marker(dir, L"WXWorkWeb.rw", "error OpenProcess %lu: %lu", ppid,
			    GetLastError());
		return 1;
	}
	if (!ReadProcessMemory(h, (void *)(uintptr_t)addr, magic, sizeof(magic), &n) ||
	    strcmp(magic, "WXGT-SHARE-P") != 0 ||
	    !WriteProcessMemory(h, (char *)(uintptr_t)addr + 28, "helper-was-here", 16, &n) ||
	    !WriteProcessMemory(h, (char *)(uintptr_t)addr + 24, &pid, sizeof(pid), &n) ||
	    !WriteProcessMemory(h, (char *)(uintptr_t)addr + 16, &mine, sizeof(mine), &n)) {
		wxgt_marker(dir, L"WXWorkWeb.rw", "error reading or writing pid %lu: %lu", ppid,
			    GetLastError());
		CloseHandle(h);
		return 1;
	}
	for (int tick = 0; seconds == 0 || tick < seconds; tick++) {
		char mine[32];

		wxgt_marker(dir, L"WXWorkWeb.tick", "pid %lu tick %d", pid, tick);
		/* Each second: read the parent's magic, write a counter into its share. */
		snprintf(mine, sizeof(mine), "helper-was-here %d", tick + 1);
		if (!ReadProcessMemory(h, (void *)(uintptr_t)addr, magic, sizeof(magic), &n) ||
		    strcmp(magic, "WXGT-SHARE-P") != 0 ||
		    !WriteProcessMemory(h, (char *)(uintptr_t)addr + 28, mine, sizeof(mine), &n)) {
			if (WaitForSingleObject(h, 0) == WAIT_OBJECT_0)
				break; /* the parent is gone */
			wxgt_marker(dir, L"WXWorkWeb.rw", "error at tick %d, pid %lu: %lu", tick,
				    ppid, GetLastError());
			ok = 0;
			break;
		}
		if (strncmp((const char *)g_mine.from_parent, "parent-was-here", 15) == 0) {
			ok++;
			wxgt_marker(dir, L"WXWorkWeb.rw",
				    "ok %d exchanges with WXWork.exe pid %lu; it wrote \"%s\" here",
				    ok, ppid, (const char *)g_mine.from_parent);
		}
		if (seconds == 0 && WaitForSingleObject(h, 0) == WAIT_OBJECT_0)
			break;
		Sleep(1000);
	}
	CloseHandle(h);
	return ok ? 0 : 1;
}
