/*
 * Shared by the fuzz targets (tests/fuzz/fuzz_*.c): the libFuzzer entry
 * point every target defines, and CHECK(), which reports a broken property
 * with the input's context and aborts, so that libFuzzer saves the input
 * and the replay program (replay.c) fails on it.
 */
#ifndef MAPCP_FUZZ_H
#define MAPCP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Not assert(): it must hold in every build, NDEBUG or not. To fd 2, not
 * stderr, which a target may have pointed elsewhere for a while.
 */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			dprintf(2, "%s:%d: property broken: %s\n", __FILE__,   \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/*
 * The input as a NUL-terminated string of its own allocation (so that
 * AddressSanitizer sees a read past its end), or NULL if out of memory.
 */
static inline char *
fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s != NULL) {
		for (size_t i = 0; i < size; i++)
			s[i] = (char)data[i];
		s[size] = '\0';
	}
	return s;
}

#endif
