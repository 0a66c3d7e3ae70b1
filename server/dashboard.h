/* The dashboard: one self-contained HTML page (inline CSS and JS, no external assets),
 * server/dashboard.html embedded into the binary at build time (.incbin in dashboard.c). */
#pragma once
#include <stddef.h>

const char *dashboard_html(void);
size_t dashboard_html_len(void);
