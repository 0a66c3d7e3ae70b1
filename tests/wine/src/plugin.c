/* plugin.dll: what a bot framework injects. Its DllMain writes the marker plugin.txt,
 * "plugin loaded in EXE pid P", into $WXGT_MARKER_DIR of the process it is loaded into (or,
 * without it, next to the DLL): the marker's presence proves the plugin's code ran. */
#include "wxgt_win.h"

BOOL WINAPI DllMain(HINSTANCE self, DWORD reason, LPVOID reserved)
{
	wchar_t here[MAX_PATH];
	char exe[MAX_PATH * 3];

	(void)reserved;
	if (reason != DLL_PROCESS_ATTACH)
		return TRUE;
	if (wxgt_module_dir(self, here, MAX_PATH) < 0)
		here[0] = 0;
	wxgt_marker(wxgt_marker_dir(0, NULL, here[0] ? here : NULL), L"plugin.txt",
		    "plugin loaded in %s pid %lu", wxgt_module_path(NULL, exe, sizeof(exe)),
		    GetCurrentProcessId());
	return TRUE;
}
