/* Path strings (no file system access). */
#pragma once

/* The last component of path: what follows its last '/', or path itself when it has none or
 * ends in '/' ("a/b" -> "b", "b" -> "b", "/" -> "/", "a/" -> "a/"). Points into path. */
const char *path_basename(const char *path);
