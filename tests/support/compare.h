/* Byte comparison of two files that reads only their data; see compare.c. */
#ifndef MAPCP_TEST_COMPARE_H
#define MAPCP_TEST_COMPARE_H

#include <stdbool.h>

/* Are the files at a and b the same size and byte for byte identical? */
bool files_equal(const char *a, const char *b);

#endif
