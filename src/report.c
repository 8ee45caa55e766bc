/*
 * Words for users: the one-line message for each failed step, in GNU cp's
 * wording where cp has one, the size parser for --window and --buffer,
 * and the defaults.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

void
mapcp_opts_init(struct mapcp_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->engine = "auto";
	opts->window = MAPCP_DEFAULT_WINDOW;
	opts->buffer = MAPCP_DEFAULT_BUFFER;
	opts->umask = umask(022);
	umask(opts->umask);
}

char *
mapcp_report_error(const struct mapcp_report *r, char *buf, size_t size)
{
	const char *s = r->src, *d = r->dst, *e = strerror(r->err);

	switch (r->step) {
	case MAPCP_STEP_STAT_SRC:
		snprintf(buf, size, "cannot stat '%s': %s", s, e);
		break;
	case MAPCP_STEP_OPEN_SRC:
		snprintf(buf, size, "cannot open '%s' for reading: %s", s, e);
		break;
	case MAPCP_STEP_IS_DIR:
		snprintf(buf, size, "-r not specified; omitting directory '%s'",
			 s);
		break;
	case MAPCP_STEP_SAME_FILE:
		snprintf(buf, size, "'%s' and '%s' are the same file", s, d);
		break;
	case MAPCP_STEP_STAT_DST:
		snprintf(buf, size, "cannot stat '%s': %s", d, e);
		break;
	case MAPCP_STEP_DANGLING:
		snprintf(buf, size, "not writing through dangling symlink '%s'",
			 d);
		break;
	case MAPCP_STEP_DST_IS_DIR:
		snprintf(buf, size,
			 "cannot overwrite directory '%s' with non-directory",
			 d);
		break;
	case MAPCP_STEP_CREATE:
		snprintf(buf, size, "cannot create regular file '%s': %s", d,
			 e);
		break;
	case MAPCP_STEP_READ:
		snprintf(buf, size, "error reading '%s': %s", s, e);
		break;
	case MAPCP_STEP_WRITE:
		snprintf(buf, size, "error writing '%s': %s", d, e);
		break;
	case MAPCP_STEP_MAP_SRC:
		snprintf(buf, size, "cannot map '%s': %s", s, e);
		break;
	case MAPCP_STEP_MAP_DST:
		snprintf(buf, size, "cannot map '%s': %s", d, e);
		break;
	case MAPCP_STEP_COPY:
		snprintf(buf, size, "error copying '%s' to '%s': %s", s, d, e);
		break;
	case MAPCP_STEP_CHANGED:
		if (r->size_now < 0)
			snprintf(buf, size, "'%s' changed size during the copy",
				 s);
		else
			snprintf(buf, size,
				 "'%s' changed size during the copy "
				 "(%jd bytes when opened, %jd now)",
				 s, (intmax_t)r->size, (intmax_t)r->size_now);
		break;
	case MAPCP_STEP_ENGINE:
		snprintf(buf, size, "no engine can copy '%s'", s);
		break;
	case MAPCP_STEP_META:
		snprintf(buf, size, "cannot set permissions of '%s': %s", d, e);
		break;
	case MAPCP_STEP_SYNC:
		snprintf(buf, size, "error syncing '%s': %s", d, e);
		break;
	case MAPCP_STEP_COMMIT:
		snprintf(buf, size, "cannot put the copy in place as '%s': %s",
			 d, e);
		break;
	case MAPCP_STEP_CLOSE:
		snprintf(buf, size, "error closing '%s': %s", d, e);
		break;
	case MAPCP_STEP_NONE:
	default:
		snprintf(buf, size, "cannot copy '%s' to '%s': %s", s, d, e);
		break;
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
