/*
 * sparsecmp A B: exit 0 if the files are byte-identical, 1 if not, like
 * cmp -s, but in milliseconds for sparse files of any size. For the CLI
 * tests.
 */
#include <stdio.h>

#include "compare.h"

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fputs("usage: sparsecmp FILE1 FILE2\n", stderr);
		return 2;
	}
	if (files_equal(argv[1], argv[2]))
		return 0;
	fprintf(stderr, "sparsecmp: '%s' and '%s' differ\n", argv[1], argv[2]);
	return 1;
}
