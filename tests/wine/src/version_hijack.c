/* version.dll: a proxy-DLL hijack (multi-open and message-hook tools ship one). Planted next
 * to WXWork.exe with a DllOverrides entry (version=native,builtin), it is loaded instead of
 * Wine's version.dll; its DllMain writes the marker hijack.txt, "version.dll hijack loaded in
 * EXE pid P", into $WXGT_MARKER_DIR (or next to the DLL). The three functions WXWork.exe imports
 * (version_hijack.def) forward to the system's version.dll, so the client keeps working. */
#include "wxgt_win.h"

static HMODULE self_module;

static FARPROC real(const char *name)
{
	static HMODULE sys;
	wchar_t path[MAX_PATH];
	UINT n;

	if (!sys) {
		n = GetSystemDirectoryW(path, MAX_PATH - 16);
		if (n == 0 || n >= MAX_PATH - 16)
			return NULL;
		wcscat(path, L"\\version.dll");
		sys = LoadLibraryW(path);
		if (sys == self_module)
			sys = NULL; /* never call ourselves */
	}
	return sys ? GetProcAddress(sys, name) : NULL;
}

DWORD WINAPI hijack_GetFileVersionInfoSizeW(LPCWSTR file, LPDWORD handle);
BOOL WINAPI hijack_GetFileVersionInfoW(LPCWSTR file, DWORD handle, DWORD len, LPVOID data);
BOOL WINAPI hijack_VerQueryValueW(LPCVOID block, LPCWSTR sub, LPVOID *buf, PUINT len);

DWORD WINAPI hijack_GetFileVersionInfoSizeW(LPCWSTR file, LPDWORD handle)
{
	DWORD(WINAPI * f)(LPCWSTR, LPDWORD);

	f = (DWORD(WINAPI *)(LPCWSTR, LPDWORD))(void (*)(void))real("GetFileVersionInfoSizeW");
	return f ? f(file, handle) : 0;
}

BOOL WINAPI hijack_GetFileVersionInfoW(LPCWSTR file, DWORD handle, DWORD len, LPVOID data)
{
	BOOL(WINAPI * f)(LPCWSTR, DWORD, DWORD, LPVOID);

	f = (BOOL(WINAPI *)(LPCWSTR, DWORD, DWORD, LPVOID))(void (*)(void))real(
		"GetFileVersionInfoW");
	return f ? f(file, handle, len, data) : FALSE;
}

BOOL WINAPI hijack_VerQueryValueW(LPCVOID block, LPCWSTR sub, LPVOID *buf, PUINT len)
{
	BOOL(WINAPI * f)(LPCVOID, LPCWSTR, LPVOID *, PUINT);

	f = (BOOL(WINAPI *)(LPCVOID, LPCWSTR, LPVOID *, PUINT))(void (*)(void))real(
		"VerQueryValueW");
	return f ? f(block, sub, buf, len) : FALSE;
}

BOOL WINAPI DllMain(HINSTANCE self, DWORD reason, LPVOID reserved)
{
	wchar_t here[MAX_PATH];
	char exe[MAX_PATH * 3];

	(void)reserved;
	if (reason != DLL_PROCESS_ATTACH)
		return TRUE;
	self_module = self;
	if (wxgt_module_dir(self, here, MAX_PATH) < 0)
		here[0] = 0;
	wxgt_marker(wxgt_marker_dir(0, NULL, here[0] ? here : NULL), L"hijack.txt",
		    "version.dll hijack loaded in %s pid %lu",
		    wxgt_module_path(NULL, exe, sizeof(exe)), GetCurrentProcessId());
	return TRUE;
}
