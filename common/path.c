/* Path strings (common/path.h). */
#include "common/path.h"

#include <string.h>

const char *path_basename(const char *path)
{
	const char *b = strrchr(path, '/');

	return b && b[1] ? b + 1 : path;
}
