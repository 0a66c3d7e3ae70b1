/* WeChat.exe: a WeChat-like program for the content-recognition tests. Its version resource
 * (wechat.rc) says what Tencent's WeChat says (CompanyName Tencent, ProductName Weixin,
 * OriginalFilename WeChat.exe); the tests run it renamed to notepad.exe. It writes the marker
 * WeChat.txt, "WeChat-like ran as EXE pid P", then sleeps --seconds N (default 0).
 *
 *   WeChat.exe [--marker DIR] [--seconds N] */
#include "wxgt_win.h"

int wmain(int argc, wchar_t **argv)
{
	const wchar_t *dir = wxgt_marker_dir(argc, argv, NULL);
	char exe[MAX_PATH * 3];

	if (wxgt_marker(dir, L"WeChat.txt", "WeChat-like ran as %s pid %lu",
			wxgt_module_path(NULL, exe, sizeof(exe)), GetCurrentProcessId()) < 0)
		fprintf(stderr, "WeChat.exe: no marker written (--marker DIR)\n");
	Sleep(1000u * (unsigned)wxgt_arg_int(argc, argv, L"--seconds", 0));
	return 0;
}
