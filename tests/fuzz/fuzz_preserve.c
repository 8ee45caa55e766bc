/*
 * Fuzz mapcp_parse_preserve() (--preserve=LIST, --no-preserve=LIST): the
 * answer and the bits must be those of a reference that splits the list
 * on every comma (an empty item is an error; a name's abbreviation is
 * the name, as in cp), a rejected list must leave
 * *out alone, and the list doubled ("L,L") must give the same bits.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "mapcp.h"

static const struct {
	const char *name;
	unsigned int bits;
} attrs[] = {
	{ "mode", MAPCP_PRESERVE_MODE },
	{ "ownership", MAPCP_PRESERVE_OWNERSHIP },
	{ "timestamps", MAPCP_PRESERVE_TIMESTAMPS },
	{ "links", MAPCP_PRESERVE_LINKS },
	{ "context", MAPCP_PRESERVE_CONTEXT },
	{ "xattr", MAPCP_PRESERVE_XATTR },
	{ "all", MAPCP_PRESERVE_ALL },
};

/* The bits of one item [p, p + len), or -1. */
static int
ref_item(const char *p, size_t len)
{
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (len > 0 && len <= strlen(attrs[i].name) &&
		    memcmp(attrs[i].name, p, len) == 0) /* abbreviations too */
			return (int)attrs[i].bits;
	return -1;
}

static int
ref_parse(const char *list, unsigned int *out)
{
	unsigned int bits = 0;

	for (const char *p = list;; p++) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		int b = ref_item(p, len);

		if (b < 0)
			return -EINVAL;
		bits |= (unsigned int)b;
		if (comma == NULL)
			break;
		p = comma;
	}
	*out = bits;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *twice;
	unsigned int got = 0xdead, want = 0, again = 0;
	int ret, ref;

	if (s == NULL)
		return 0;
	ret = mapcp_parse_preserve(s, &got);
	ref = ref_parse(s, &want);
	CHECK(ret == ref);
	if (ret < 0) {
		CHECK(got == 0xdead);
	} else {
		CHECK(got == want);
		CHECK((got & ~(unsigned int)MAPCP_PRESERVE_ALL) == 0);
		CHECK(got != 0); /* every accepted list names something */
	}
	twice = malloc(2 * strlen(s) + 2);
	if (twice != NULL) {
		sprintf(twice, "%s,%s", s, s); /* NOLINT: sized above */
		CHECK(mapcp_parse_preserve(twice, &again) == ret);
		if (ret == 0)
			CHECK(again == got);
		free(twice);
	}
	free(s);
	return 0;
}
