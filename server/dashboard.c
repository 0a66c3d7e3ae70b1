/* Embeds server/dashboard.html (mk/server.mk makes this object depend on it). */
#include "server/dashboard.h"

__asm__(".section .rodata\n"
	".balign 16\n"
	"wxg_dashboard_start:\n"
	".incbin \"server/dashboard.html\"\n"
	"wxg_dashboard_end:\n"
	".byte 0\n"
	".previous\n");

extern const char wxg_dashboard_start[] __asm__("wxg_dashboard_start");
extern const char wxg_dashboard_end[] __asm__("wxg_dashboard_end");

const char *dashboard_html(void)
{
	return wxg_dashboard_start;
}

size_t dashboard_html_len(void)
{
	return (size_t)(wxg_dashboard_end - wxg_dashboard_start);
}
