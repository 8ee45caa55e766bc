/*
 * Words for users: the one-line message for each failed step, in GNU cp's
 * wording where cp has one, the size parser for --window and --buffer,
 * and the defaults.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <wchar.h>
#include <wctype.h>

#include "core.h"

static mode_t the_umask;
static pthread_once_t umask_once = PTHREAD_ONCE_INIT;

/*
 * /proc/self/status says the umask without changing it; umask(2) can
 * only be read by setting it, which another thread could see, so it is
 * the fallback (Linux before 4.7, no /proc), read once.
 */
static void
read_umask(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *end;
		unsigned long m;

		if (strncmp(line, "Umask:", 6) != 0)
			continue;
		m = strtoul(line + 6, &end, 8);
		if (end != line + 6 && (*end == '\n' || *end == '\0')) {
			the_umask = (mode_t)m & 0777;
			fclose(f);
			return;
		}
	}
	if (f != NULL)
		fclose(f);
	the_umask = umask(022);
	umask(the_umask);
}

mode_t
process_umask(void)
{
	pthread_once(&umask_once, read_umask);
	return the_umask;
}

void
mapcp_opts_init(struct mapcp_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->engine = "auto";
	opts->window = MAPCP_DEFAULT_WINDOW;
	opts->backup_suffix = "~";
	opts->buffer = MAPCP_DEFAULT_BUFFER;
	opts->queue_depth = MAPCP_DEFAULT_QUEUE_DEPTH;
	opts->umask = process_umask();
}

int
report_checked(struct mapcp_report *r, int ret)
{
	if (ret >= 0 || r->step != MAPCP_STEP_NONE)
		return ret;
#ifdef MAPCP_CHECK_STEPS /* the test build: a failure must name its step */
	fprintf(stderr, "mapcp: internal error: a failure (%s) with no step\n",
		strerror(-ret));
	abort();
#endif
	return report_fail(r, MAPCP_STEP_UNKNOWN, -ret);
}

/*
 * Names are quoted as GNU cp quotes them (gnulib's shell-escape-always
 * style), so that every message stays on one line and a name can be
 * pasted back into a shell: 'a b', "it's", 'a'$'\n''b', 'x'$'\377'.
 * Whether a character prints as itself is the locale's (LC_CTYPE) call,
 * as in cp.
 */

/* Bytes written so far, and the room for them. */
struct quoted {
	char *buf;
	size_t size, len;
};

static void
put(struct quoted *q, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, q->len++)
		if (q->len + 1 < q->size)
			q->buf[q->len] = s[i];
}

/*
 * Does the character at s (n bytes left) print as itself? *len is its
 * length: 1 for an invalid byte, escaped alone; the rest of s for an
 * incomplete sequence at the end, escaped whole.
 */
static bool
printable_at(const char *s, size_t n, size_t *len)
{
	unsigned char c = (unsigned char)*s;
	mbstate_t state;
	wchar_t w;
	size_t k;

	*len = 1;
	if (c < 0x80)
		return c >= 0x20 && c < 0x7f;
	if (MB_CUR_MAX == 1)
		return isprint(c) != 0;
	memset(&state, 0, sizeof(state));
	k = mbrtowc(&w, s, n, &state);
	if (k == (size_t)-1 || k == 0)
		return false;
	if (k == (size_t)-2) {
		*len = n;
		return false;
	}
	*len = k;
	return iswprint((wint_t)w) != 0;
}

/* May the character c, at i of n bytes, stand as itself in "..."? */
static bool
double_quote_safe(unsigned char c, size_t i, size_t n, bool printable)
{
	if (c >= 0x80)
		return printable;
	if (c == '#' || c == '~')
		return i == 0;
	if (c == '{' || c == '}')
		return n == 1;
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr(" %+,-./:@]_'", c) != NULL;
}

/* The letter of a C escape for c, or 0. */
static char
escape_letter(unsigned char c)
{
	static const char from[] = "\a\b\f\n\r\t\v", to[] = "abfnrtv";
	const char *p = c ? strchr(from, c) : NULL;

	return p ? to[p - from] : 0;
}

size_t
mapcp_quote(char *buf, size_t size, const char *name)
{
	struct quoted q = { buf, size, 0 };
	size_t n = name ? strlen(name) : 0, len;
	bool apostrophe = false, double_ok = true, escaping = false;

	name = name ? name : "";
	for (size_t i = 0; i < n; i += len) {
		bool printable = printable_at(name + i, n - i, &len);

		apostrophe |= name[i] == '\'';
		double_ok &=
			printable && double_quote_safe((unsigned char)name[i],
						       i, n, printable);
	}
	if (apostrophe && double_ok) { /* "it's": nothing else to escape */
		put(&q, "\"", 1);
		put(&q, name, n);
		put(&q, "\"", 1);
	} else {
		put(&q, "'", 1);
		for (size_t i = 0; i < n; i += len) {
			unsigned char c = (unsigned char)name[i];
			bool printable = printable_at(name + i, n - i, &len);
			char letter = escape_letter(c), esc[5];

			if (!printable) {
				if (!escaping)
					put(&q, "'$'", 3);
				escaping = true;
				if (letter != 0) /* a control character */
					put(&q, (char[]){ '\\', letter }, 2);
				for (size_t k = 0; k < len && letter == 0;
				     k++) {
					snprintf(esc, sizeof(esc), "\\%03o",
						 (unsigned char)name[i + k]);
					put(&q, esc, 4);
				}
				continue;
			}
			if (c == '\'') {
				put(&q, "'\\''", 4);
			} else {
				if (escaping)
					put(&q, "''", 2);
				put(&q, name + i, len);
			}
			escaping = false;
		}
		put(&q, "'", 1);
	}
	if (size > 0)
		buf[q.len < size ? q.len : size - 1] = '\0';
	return q.len;
}

/* name quoted, malloc'd; NULL without memory. */
static char *
quote_alloc(const char *name)
{
	size_t n = mapcp_quote(NULL, 0, name) + 1;
	char *p = malloc(n);

	if (p != NULL)
		mapcp_quote(p, n, name);
	return p;
}

/*
 * Messages are "BEFORE 'PATH'MIDDLE['PATH2'AFTER]", then ": strerror" if
 * with_err; the few that say more than that (sizes, a note, which way a
 * change went) are written out in mapcp_report_error().
 */
enum who { NONE, SRC, DST };
static const struct {
	const char *before;
	enum who first; /* whose path comes first */
	const char *middle;
	enum who second; /* and second, if any */
	const char *after;
	bool with_err;
} words[] = {
	[MAPCP_STEP_STAT_SRC] = { "cannot stat ", SRC, "", NONE, "", true },
	[MAPCP_STEP_OPEN_SRC] = { "cannot open ", SRC, " for reading", NONE, "",
				  true },
	[MAPCP_STEP_IS_DIR] = { "-r not specified; omitting directory ", SRC,
				"", NONE, "", false },
	[MAPCP_STEP_STAT_DST] = { "cannot stat ", DST, "", NONE, "", true },
	[MAPCP_STEP_DANGLING] = { "not writing through dangling symlink ", DST,
				  "", NONE, "", false },
	[MAPCP_STEP_DST_IS_DIR] = { "cannot overwrite directory ", DST,
				    " with non-directory", NONE, "", false },
	[MAPCP_STEP_CREATE] = { "cannot create regular file ", DST, "", NONE,
				"", true },
	[MAPCP_STEP_READ] = { "error reading ", SRC, "", NONE, "", true },
	[MAPCP_STEP_WRITE] = { "error writing ", DST, "", NONE, "", true },
	[MAPCP_STEP_MAP_SRC] = { "cannot map ", SRC, "", NONE, "", true },
	[MAPCP_STEP_MAP_DST] = { "cannot map ", DST, "", NONE, "", true },
	[MAPCP_STEP_ENGINE] = { "no engine can copy ", SRC, "", NONE, "",
				false },
	[MAPCP_STEP_META] = { "cannot set permissions of ", DST, "", NONE, "",
			      true },
	[MAPCP_STEP_SYNC] = { "error syncing ", DST, "", NONE, "", true },
	[MAPCP_STEP_COMMIT] = { "cannot put the copy in place as ", DST, "",
				NONE, "", true },
	[MAPCP_STEP_CLOSE] = { "error closing ", DST, "", NONE, "", true },
	[MAPCP_STEP_MKDIR] = { "cannot create directory ", DST, "", NONE, "",
			       true },
	[MAPCP_STEP_SYMLINK] = { "cannot create symbolic link ", DST, "", NONE,
				 "", true },
	[MAPCP_STEP_SPECIAL] = { "cannot create special file ", DST, "", NONE,
				 "", true },
	[MAPCP_STEP_FIFO] = { "cannot create fifo ", DST, "", NONE, "", true },
	[MAPCP_STEP_READLINK] = { "cannot read symbolic link ", SRC, "", NONE,
				  "", true },
	[MAPCP_STEP_CYCLE] = { "cannot copy cyclic symbolic link ", SRC, "",
			       NONE, "", false },
	[MAPCP_STEP_REOPEN] = { "cannot return to directory ", DST, "", NONE,
				"", true },
	[MAPCP_STEP_BACKUP] = { "cannot backup ", DST, "", NONE, "", true },
	[MAPCP_STEP_NOT_REPLACING] = { "not replacing ", DST, "", NONE, "",
				       false },
	[MAPCP_STEP_REPLACED] = { "skipping ", SRC,
				  ", as it was replaced while being copied",
				  NONE, "", false },
	[MAPCP_STEP_VERIFY] = { "cannot read back ", DST, " to verify it", NONE,
				"", true },
	[MAPCP_STEP_SAME_FILE] = { "", SRC, " and ", DST, " are the same file",
				   false },
	[MAPCP_STEP_COPY] = { "error copying ", SRC, " to ", DST, "", true },
	[MAPCP_STEP_CLONE] = { "failed to clone ", DST, " from ", SRC, "",
			       true },
	[MAPCP_STEP_BACKUP_IS_SRC] = { "backing up ", DST,
				       " might destroy source;  ", SRC,
				       " not copied", false },
	[MAPCP_STEP_INTO_SELF] = { "cannot copy a directory, ", SRC,
				   ", into itself, ", DST, "", false },
	[MAPCP_STEP_NOT_DIR] = { "cannot overwrite non-directory ", DST,
				 " with directory ", SRC, "", false },
	[MAPCP_STEP_LINK] = { "cannot create hard link ", DST, " to ", SRC, "",
			      true },
	[MAPCP_STEP_SYMLINK_TO] = { "cannot create symbolic link ", DST, " to ",
				    SRC, "", true },
	[MAPCP_STEP_THROUGH_NEW_LINK] = { "will not copy ", SRC,
					  " through just-created symlink ", DST,
					  "", false },
	[MAPCP_STEP_OVER_NEW] = { "will not overwrite just-created ", DST,
				  " with ", SRC, "", false },
	[MAPCP_STEP_UNKNOWN] = { "cannot copy ", SRC, " to ", DST, "", true },
};

/* SOURCE changed during the copy: how, as far as the report knows. */
static void
changed_message(const struct mapcp_report *r, const char *s, char *buf,
		size_t size)
{
	if (r->size_now == r->size)
		snprintf(buf, size,
			 "%s changed during the copy (written to while "
			 "being read)",
			 s);
	else if (r->size_now >= 0)
		snprintf(buf, size,
			 "%s changed size during the copy "
			 "(%jd bytes when opened, %jd now)",
			 s, (intmax_t)r->size, (intmax_t)r->size_now);
	else
		snprintf(buf, size, "%s changed size during the copy", s);
}

char *
mapcp_report_error(const struct mapcp_report *r, char *buf, size_t size)
{
	char *qs = quote_alloc(r->src), *qd = quote_alloc(r->dst);
	const char *s = qs ? qs : "'?'", *d = qd ? qd : "'?'";
	const char *e = strerror(r->err);
	unsigned int step = (unsigned int)r->step;

	if (r->step == MAPCP_STEP_VERIFY && r->err == EIO)
		snprintf(buf, size,
			 "%s read back differs from %s (xxh3-128): the "
			 "copy was discarded",
			 d, s);
	else if (r->step == MAPCP_STEP_NOT_ATOMIC)
		snprintf(buf, size,
			 "cannot replace %s atomically: %s (--atomic)", d,
			 r->inplace_why ? r->inplace_why : e);
	else if (r->step == MAPCP_STEP_RELATIVE_LINK)
		/* cp's quotef: the name bare if the shell would take it so */
		snprintf(buf, size,
			 "%s: can make relative symbolic links only in "
			 "current directory",
			 r->dst[strspn(r->dst, "abcdefghijklmnopqrstuvwxyz"
					       "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					       "0123456789._/+-,=@%^")] == '\0'
				 ? r->dst
				 : d);
	else if (r->step == MAPCP_STEP_MOVED)
		snprintf(buf, size,
			 r->what != NULL && strcmp(r->what, "directory") == 0
				 ? "%s was moved or replaced during the copy: "
				   "nothing more is copied into it"
				 : "%s was replaced by something else during "
				   "the copy: left as it is",
			 d);
	else if (r->step == MAPCP_STEP_PRESERVE)
		snprintf(buf, size, "cannot preserve %s of %s: %s",
			 r->note ? r->note : "attributes", d, e);
	else if (r->step == MAPCP_STEP_CHANGED)
		changed_message(r, s, buf, size);
	else {
		if (step >= sizeof(words) / sizeof(words[0]) ||
		    words[step].before == NULL)
			step = MAPCP_STEP_UNKNOWN;
		snprintf(buf, size, "%s%s%s%s%s%s%s", words[step].before,
			 words[step].first == DST ? d : s, words[step].middle,
			 words[step].second == NONE  ? ""
			 : words[step].second == DST ? d
						     : s,
			 words[step].after, words[step].with_err ? ": " : "",
			 words[step].with_err ? e : "");
	}
	if (r->note != NULL && r->step != MAPCP_STEP_PRESERVE) {
		size_t n = strlen(buf);

		snprintf(buf + n, size - n, " (%s)", r->note);
	}
	free(qs);
	free(qd);
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
		uint64_t digit = (uint64_t)(*p - '0');

		/* Not (UINT64_MAX - 9) / 10: 18446744073709551615 fits. */
		if (value > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		value = value * 10 + digit;
	}
	scale = suffix_scale(p);
	if (scale == 0 || value == 0)
		return -EINVAL;
	if (value > SIZE_MAX / scale)
		return -ERANGE;
	*out = (size_t)(value * scale);
	return 0;
}

/* --preserve's names, in cp's order. */
static const struct {
	const char *name;
	unsigned int bits;
} attrs[] = {
	{ "mode", MAPCP_PRESERVE_MODE },
	{ "timestamps", MAPCP_PRESERVE_TIMESTAMPS },
	{ "ownership", MAPCP_PRESERVE_OWNERSHIP },
	{ "links", MAPCP_PRESERVE_LINKS },
	{ "context", MAPCP_PRESERVE_CONTEXT },
	{ "xattr", MAPCP_PRESERVE_XATTR },
	{ "all", MAPCP_PRESERVE_ALL },
};

const char *
mapcp_preserve_name(unsigned int i)
{
	return i < sizeof(attrs) / sizeof(attrs[0]) ? attrs[i].name : NULL;
}

int
mapcp_parse_preserve(const char *list, unsigned int *out)
{
	unsigned int bits = 0;
	const char *p = list;

	do {
		size_t len = strcspn(p, ",");
		size_t i;

		/* cp's argmatch: a name or any unambiguous abbreviation of it
		 * (no two names here share a first letter) */
		for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
			if (len > 0 && len <= strlen(attrs[i].name) &&
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
