/*
 * Fuzz mapcp_is_temp_name(), which decides what --clean-temps may remove:
 * a name it wrongly accepts is a user's file deleted. Checked against the
 * contract in mapcp.h, written out here: ".NAME.mapcp-XXXXXX", NAME not
 * empty, each X one of [A-Za-z0-9]; so no name without the leading dot or
 * shorter than 15 bytes ever passes. The input is the name (up to a NUL);
 * the same name with each X changed to a byte outside the set, one at a
 * time, must then fail.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "mapcp.h"

#define TAG    ".mapcp-"
#define RANDOM 6

static bool
alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9');
}

static bool
ref_is_temp(const char *name)
{
	size_t len = strlen(name), tag = strlen(TAG);

	if (len < 1 + 1 + tag + RANDOM || name[0] != '.')
		return false;
	if (memcmp(name + len - RANDOM - tag, TAG, tag) != 0)
		return false;
	for (size_t i = len - RANDOM; i < len; i++)
		if (!alnum(name[i]))
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_string(data, size);
	bool is;
	size_t len;

	if (name == NULL)
		return 0;
	is = mapcp_is_temp_name(name);
	len = strlen(name);
	CHECK(is == ref_is_temp(name));
	if (is) {
		CHECK(name[0] == '.' && len >= 15);
		/* One X that is not [A-Za-z0-9] and the name is no temporary.
		 */
		for (size_t i = len - RANDOM; i < len; i++) {
			char keep = name[i];

			name[i] = '-';
			CHECK(!mapcp_is_temp_name(name));
			name[i] = keep;
		}
	}
	free(name);
	return 0;
}
