/* inject.exe: the classic bot-framework injection (WeChatFerry, wxhelper, ComWeChatRobot):
 *
 *   inject.exe TARGET DLL      TARGET: a pid or an exe name (WXWork.exe); DLL: a Windows path
 *
 * OpenProcess, VirtualAllocEx, WriteProcessMemory of the DLL's path, then
 * CreateRemoteThread(LoadLibraryW) in the target. Prints each step; exits 0 when LoadLibraryW
 * returned a module in the target, else the number of the step that failed (2..7). */
#include "wxgt_win.h"

#include <tlhelp32.h>

static DWORD find_pid(const wchar_t *target)
{
	PROCESSENTRY32W pe = { .dwSize = sizeof(pe) };
	wchar_t *end;
	DWORD pid = (DWORD)wcstoul(target, &end, 10), self = GetCurrentProcessId();
	HANDLE snap;

	if (*target && !*end)
		return pid;
	pid = 0;
	snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
	if (snap == INVALID_HANDLE_VALUE)
		return 0;
	for (BOOL more = Process32FirstW(snap, &pe); more && !pid; more = Process32NextW(snap, &pe))
		if (_wcsicmp(pe.szExeFile, target) == 0 && pe.th32ProcessID != self)
			pid = pe.th32ProcessID;
	CloseHandle(snap);
	return pid;
}

int wmain(int argc, wchar_t **argv)
{
	wchar_t dll[MAX_PATH];
	DWORD pid, len, code = 0;
	FARPROC load;
	HANDLE proc, thread;
	void *remote;
	SIZE_T n = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: inject.exe TARGET DLL\n");
		return 1;
	}
	len = GetFullPathNameW(argv[2], MAX_PATH, dll, NULL);
	pid = find_pid(argv[1]);
	if (!pid || !len || len >= MAX_PATH) {
		fprintf(stderr, "inject: no process %ls or bad path\n", argv[1]);
		return 2;
	}
	printf("inject: target pid %lu, dll %ls\n", pid, dll);
	proc = OpenProcess(PROCESS_CREATE_THREAD | PROCESS_QUERY_INFORMATION |
				   PROCESS_VM_OPERATION | PROCESS_VM_WRITE | PROCESS_VM_READ,
			   FALSE, pid);
	if (!proc)
		return fprintf(stderr, "inject: OpenProcess: %lu\n", GetLastError()), 3;
	remote = VirtualAllocEx(proc, NULL, sizeof(dll), MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
	if (!remote)
		return fprintf(stderr, "inject: VirtualAllocEx: %lu\n", GetLastError()), 4;
	if (!WriteProcessMemory(proc, remote, dll, (len + 1) * sizeof(wchar_t), &n))
		return fprintf(stderr, "inject: WriteProcessMemory: %lu\n", GetLastError()), 5;
	printf("inject: wrote %zu bytes at %p\n", (size_t)n, remote);
	/* kernel32 is mapped at the same address in every process of the session. */
	load = GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "LoadLibraryW");
	thread = CreateRemoteThread(proc, NULL, 0, (LPTHREAD_START_ROUTINE)(void (*)(void))load,
				    remote, 0, NULL);
	if (!thread)
		return fprintf(stderr, "inject: CreateRemoteThread: %lu\n", GetLastError()), 6;
	WaitForSingleObject(thread, 10000);
	GetExitCodeThread(thread, &code);
	printf("inject: LoadLibraryW returned 0x%lx in pid %lu\n", code, pid);
	CloseHandle(thread);
	CloseHandle(proc);
	return code ? 0 : 7;
}
