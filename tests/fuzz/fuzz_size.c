/*
 * Fuzz mapcp_parse_size() (--window, --buffer, mapcp-bench --sizes) against
 * a reference parser written from its contract in mapcp.h with 128-bit
 * arithmetic: digits, then nothing, K M G T P (k too) alone or with "iB"
 * (powers of 1024), or with "B" (powers of 1000). Checks that the answer
 * and the value agree with the reference, that nothing wraps, that a
 * rejected string leaves *out alone, and that values print and parse back.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "mapcp.h"

typedef unsigned __int128 u128;

/*
 * The scale of a suffix, or 0 if it is not one: spelled out, suffix by
 * suffix, rather than computed as the parser does, so that the two can
 * disagree.
 */
static u128
ref_scale(const char *s)
{
	static const struct {
		const char *suffix;
		unsigned long long scale;
	} table[] = {
		{ "", 1ULL },
		{ "K", 1024ULL },
		{ "k", 1024ULL },
		{ "KiB", 1024ULL },
		{ "kiB", 1024ULL },
		{ "KB", 1000ULL },
		{ "kB", 1000ULL },
		{ "M", 1048576ULL },
		{ "MiB", 1048576ULL },
		{ "MB", 1000000ULL },
		{ "G", 1073741824ULL },
		{ "GiB", 1073741824ULL },
		{ "GB", 1000000000ULL },
		{ "T", 1099511627776ULL },
		{ "TiB", 1099511627776ULL },
		{ "TB", 1000000000000ULL },
		{ "P", 1125899906842624ULL },
		{ "PiB", 1125899906842624ULL },
		{ "PB", 1000000000000000ULL },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(s, table[i].suffix) == 0)
			return table[i].scale;
	return 0;
}

/*
 * The reference: 0 with *out, -EINVAL, or -ERANGE; *both set when the
 * string is malformed and its digits overflow too, where either error
 * is right.
 */
static int
ref_parse(const char *s, size_t *out, bool *both)
{
	u128 value = 0, scale;
	bool big = false;
	const char *p = s;

	*both = false;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		value = value * 10 + (u128)(*p - '0');
		if (value > SIZE_MAX) {
			big = true;
			value = (u128)SIZE_MAX + 1; /* stays too big */
		}
	}
	scale = ref_scale(p);
	if (scale == 0) {
		*both = big;
		return -EINVAL;
	}
	if (value == 0)
		return -EINVAL;
	if (big || value * scale > SIZE_MAX)
		return -ERANGE;
	*out = (size_t)(value * scale);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), again[64];
	size_t got = 0x5a5a5a5a, want = 0, back = 0;
	bool both;
	int ret, ref;

	if (s == NULL)
		return 0;
	ret = mapcp_parse_size(s, &got);
	ref = ref_parse(s, &want, &both);
	CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE);
	if (both)
		CHECK(ret == -EINVAL || ret == -ERANGE);
	else
		CHECK(ret == ref);
	if (ret < 0) {
		CHECK(got == 0x5a5a5a5a); /* a rejected string sets nothing */
	} else {
		CHECK(got == want);
		CHECK(got >= 1);
		/* A value, printed as plain digits, parses back to itself. */
		snprintf(again, sizeof(again), "%zu", got);
		CHECK(mapcp_parse_size(again, &back) == 0 && back == got);
	}
	free(s);
	return 0;
}
