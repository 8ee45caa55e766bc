/*
 * Run a fuzz target without libFuzzer: feed each file named on the command
 * line, or each file in a directory named there, to LLVMFuzzerTestOneInput
 * once, so the targets build with any compiler and their corpora (seeds
 * and every crash found, tests/fuzz/corpus/NAME/) run as regression tests.
 * A broken property aborts, as under libFuzzer; otherwise prints how many
 * inputs ran and exits 0. Exit 2 for a file it cannot read.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Feed the file at path to the target. 0, or -1 if it cannot be read. */
static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t size = 0, cap = 0, got;

	if (f == NULL)
		goto fail;
	do {
		if (size == cap) {
			uint8_t *more = realloc(data, cap = cap * 2 + 4096);

			if (more == NULL)
				goto fail;
			data = more;
		}
		got = fread(data + size, 1, cap - size, f);
		size += got;
	} while (got > 0);
	if (ferror(f))
		goto fail;
	fclose(f);
	/* An exact-size copy, so that a read past the end is caught. */
	{
		uint8_t *exact = malloc(size ? size : 1);

		if (exact == NULL) {
			free(data);
			return -1;
		}
		memcpy(exact, data, size);
		free(data);
		LLVMFuzzerTestOneInput(exact, size);
		free(exact);
	}
	return 0;
fail:
	fprintf(stderr, "replay: cannot read '%s': %s\n", path,
		strerror(errno));
	if (f != NULL)
		fclose(f);
	free(data);
	return -1;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feed every file in dir, in name order; *count how many. */
static int
replay_dir(const char *dir, int *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, path[PATH_MAX];
	size_t n = 0;
	int ret = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char **more;

		if (e->d_name[0] == '.')
			continue;
		more = realloc(names, (n + 1) * sizeof(*names));
		if (more == NULL || (more[n] = strdup(e->d_name)) == NULL) {
			names = more ? more : names;
			ret = -1;
			break;
		}
		names = more;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (ret == 0 && replay_file(path) < 0)
			ret = -1;
		else if (ret == 0)
			(*count)++;
		free(names[i]);
	}
	free(names);
	return ret;
}

int
main(int argc, char **argv)
{
	int count = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		int ret;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			ret = replay_dir(argv[i], &count);
		} else {
			ret = replay_file(argv[i]);
			count += ret == 0;
		}
		if (ret < 0)
			return 2;
	}
	printf("replayed %d input%s\n", count, count == 1 ? "" : "s");
	return 0;
}
