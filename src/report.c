/*
 * Words for users: the one-line message for each failed step, in GNU cp's
 * wording where cp has one, the size parser for --window and --buffer,
 * and the defaults.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

mode_t process_umask = (mode_t)-1;

void
mapcp_opts_init(struct mapcp_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->engine = "auto";
	opts->window = MAPCP_DEFAULT_WINDOW;
	opts->buffer = MAPCP_DEFAULT_BUFFER;
	opts->queue_depth = MAPCP_DEFAULT_QUEUE_DEPTH;
	opts->umask = umask(022);
	umask(opts->umask);
	process_umask = opts->umask;
}

/*
 * Most messages are "BEFORE 'PATH'AFTER", then ": strerror" if with_err;
 * the few with two paths or sizes are written out in mapcp_report_error().
 */
static const struct {
	const char *before;
	bool dst; /* the path is DEST's, else SOURCE's */
	const char *after;
	bool with_err;
} words[] = {
	[MAPCP_STEP_STAT_SRC] = { "cannot stat ", false, "", true },
	[MAPCP_STEP_OPEN_SRC] = { "cannot open ", false, " for reading", true },
	[MAPCP_STEP_IS_DIR] = { "-r not specified; omitting directory ", false,
				"", false },
	[MAPCP_STEP_STAT_DST] = { "cannot stat ", true, "", true },
	[MAPCP_STEP_DANGLING] = { "not writing through dangling symlink ", true,
				  "", false },
	[MAPCP_STEP_DST_IS_DIR] = { "cannot overwrite directory ", true,
				    " with non-directory", false },
	[MAPCP_STEP_CREATE] = { "cannot create regular file ", true, "", true },
	[MAPCP_STEP_READ] = { "error reading ", false, "", true },
	[MAPCP_STEP_WRITE] = { "error writing ", true, "", true },
	[MAPCP_STEP_MAP_SRC] = { "cannot map ", false, "", true },
	[MAPCP_STEP_MAP_DST] = { "cannot map ", true, "", true },
	[MAPCP_STEP_ENGINE] = { "no engine can copy ", false, "", false },
	[MAPCP_STEP_META] = { "cannot set permissions of ", true, "", true },
	[MAPCP_STEP_SYNC] = { "error syncing ", true, "", true },
	[MAPCP_STEP_COMMIT] = { "cannot put the copy in place as ", true, "",
				true },
	[MAPCP_STEP_CLOSE] = { "error closing ", true, "", true },
	[MAPCP_STEP_MKDIR] = { "cannot create directory ", true, "", true },
	[MAPCP_STEP_SYMLINK] = { "cannot create symbolic link ", true, "",
				 true },
	[MAPCP_STEP_SPECIAL] = { "cannot create special file ", true, "",
				 true },
	[MAPCP_STEP_READLINK] = { "cannot read symbolic link ", false, "",
				  true },
};

char *
mapcp_report_error(const struct mapcp_report *r, char *buf, size_t size)
{
	const char *s = r->src, *d = r->dst, *e = strerror(r->err);
	unsigned int step = (unsigned int)r->step;

	if (r->step == MAPCP_STEP_SAME_FILE)
		snprintf(buf, size, "'%s' and '%s' are the same file", s, d);
	else if (r->step == MAPCP_STEP_COPY)
		snprintf(buf, size, "error copying '%s' to '%s': %s", s, d, e);
	else if (r->step == MAPCP_STEP_CLONE)
		snprintf(buf, size, "failed to clone '%s' from '%s': %s", d, s,
			 e);
	else if (r->step == MAPCP_STEP_VERIFY && r->err == EIO)
		snprintf(buf, size,
			 "'%s' read back differs from '%s' (xxh3-128): the "
			 "copy was discarded",
			 d, s);
	else if (r->step == MAPCP_STEP_VERIFY)
		snprintf(buf, size, "cannot read back '%s' to verify it: %s", d,
			 e);
	else if (r->step == MAPCP_STEP_INTO_SELF)
		snprintf(buf, size,
			 "cannot copy a directory, '%s', into itself, '%s'", s,
			 d);
	else if (r->step == MAPCP_STEP_NOT_DIR)
		snprintf(buf, size,
			 "cannot overwrite non-directory '%s' with directory "
			 "'%s'",
			 d, s);
	else if (r->step == MAPCP_STEP_LINK)
		snprintf(buf, size, "cannot create hard link '%s' to '%s': %s",
			 d, s, e);
	else if (r->step == MAPCP_STEP_PRESERVE)
		snprintf(buf, size, "cannot preserve %s of '%s': %s",
			 r->note ? r->note : "attributes", d, e);
	else if (r->step == MAPCP_STEP_CHANGED && r->size_now >= 0)
		snprintf(buf, size,
			 "'%s' changed size during the copy "
			 "(%jd bytes when opened, %jd now)",
			 s, (intmax_t)r->size, (intmax_t)r->size_now);
	else if (r->step == MAPCP_STEP_CHANGED)
		snprintf(buf, size, "'%s' changed size during the copy", s);
	else if (step < sizeof(words) / sizeof(words[0]) &&
		 words[step].before != NULL)
		snprintf(buf, size, "%s'%s'%s%s%s", words[step].before,
			 words[step].dst ? d : s, words[step].after,
			 words[step].with_err ? ": " : "",
			 words[step].with_err ? e : "");
	else
		snprintf(buf, size, "cannot copy '%s' to '%s': %s", s, d, e);
	if (r->note != NULL && r->step != MAPCP_STEP_PRESERVE) {
		size_t n = strlen(buf);

		snprintf(buf + n, size - n, " (%s)", r->note);
	}
	return buf;
}

/* The multiplier a suffix stands for, or 0 if it is not one. */
static uint64_t
suffix_scale(const char *s)
{
	static const char units[] = "KMGTP";
	const char *u = *s ? strchr(units, *s == 'k' ? 'K' : *s) : NULL;
	uint64_t scale = 1, base;

	if (*s == '\0')
		return 1;
	if (u == NULL)
		return 0;
	if (strcmp(s + 1, "") == 0 || strcmp(s + 1, "iB") == 0)
		base = 1024;
	else if (strcmp(s + 1, "B") == 0)
		base = 1000;
	else
		return 0;
	for (const char *p = units; p <= u; p++)
		scale *= base;
	return scale;
}

int
mapcp_parse_size(const char *s, size_t *out)
{
	uint64_t value = 0, scale;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (value > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		value = value * 10 + (uint64_t)(*p - '0');
	}
	scale = suffix_scale(p);
	if (scale == 0 || value == 0)
		return -EINVAL;
	if (value > SIZE_MAX / scale)
		return -ERANGE;
	*out = (size_t)(value * scale);
	return 0;
}

int
mapcp_parse_preserve(const char *list, unsigned int *out)
{
	static const struct {
		const char *name;
		unsigned int bits;
	} attrs[] = {
		{ "mode", MAPCP_PRESERVE_MODE },
		{ "ownership", MAPCP_PRESERVE_OWNERSHIP },
		{ "timestamps", MAPCP_PRESERVE_TIMESTAMPS },
		{ "links", MAPCP_PRESERVE_LINKS },
		{ "xattr", MAPCP_PRESERVE_XATTR },
		{ "all", MAPCP_PRESERVE_ALL },
	};
	unsigned int bits = 0;
	const char *p = list;

	do {
		size_t len = strcspn(p, ",");
		size_t i;

		for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
			if (strlen(attrs[i].name) == len &&
			    strncmp(p, attrs[i].name, len) == 0)
				break;
		if (i == sizeof(attrs) / sizeof(attrs[0]))
			return -EINVAL;
		bits |= attrs[i].bits;
		p += len;
	} while (*p++ == ',');
	*out = bits;
	return 0;
}
