/*
 * Fuzz window_at() (src/window.c), which cuts a data extent into the
 * mappings of the mmap engines: any window that is a page multiple (the
 * library's contract; --window rounds up to one), any file size, any
 * position in the file. Checked: the mapping starts on a page, at most a
 * page before pos; it copies at least one byte, never past end; it maps
 * at most the window (memory stays bounded); a window of 2 MiB or more
 * ends on a 2 MiB boundary or at end, and loses less than 2 MiB to it;
 * a smaller one is cut only by end; windows one after the other tile the
 * extent. Input: three 64-bit numbers (window, end, pos), each shifted
 * right by a byte's count so small values come as often as large ones.
 */
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "core.h"
#include "window.h"

#define FOLIO ((uint64_t)2 << 20)

static uint64_t
number(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v >> (p[8] % 64);
}

/* One window from pos towards end; the position after it. */
static int64_t
check_window(const struct mapcp_job *job, int64_t pos, int64_t end)
{
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t size = job->opts->window;
	uint64_t left = (uint64_t)(end - pos), base_left, stop;
	struct window w;

	memset(&w, 0xa5, sizeof(w));
	window_at(job, pos, end, &w);
	CHECK(w.base >= 0 && (uint64_t)w.base % pg == 0);
	CHECK(w.base <= pos && (uint64_t)(pos - w.base) < pg);
	CHECK(w.delta == (size_t)(pos - w.base));
	CHECK(w.len > w.delta && w.n == w.len - w.delta); /* no wrap */
	CHECK(w.n >= 1 && w.n <= left);
	CHECK(w.len <= size);
	base_left = (uint64_t)(end - w.base);
	stop = (uint64_t)w.base + w.len;
	if (size < FOLIO) {
		CHECK(w.len == (size < base_left ? size : base_left));
	} else {
		CHECK(stop == (uint64_t)end || stop % FOLIO == 0);
		CHECK(w.len + FOLIO > (size < base_left ? size : base_left));
	}
	return pos + (int64_t)w.n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE), win;
	struct mapcp_opts opts;
	struct mapcp_report report = { 0 };
	struct mapcp_job job = { .opts = &opts, .report = &report };
	int64_t end, pos;

	if (size < 27)
		return 0;
	memset(&opts, 0, sizeof(opts));
	win = number(data) / pg * pg;
	opts.window = (size_t)(win ? win : pg);
	end = (int64_t)(number(data + 9) & INT64_MAX);
	end = end ? end : 1;
	pos = (int64_t)(number(data + 18) % (uint64_t)end);

	/*
	 * Windows one after the other reach end, if not too many: after the
	 * first, each maps at least half the window (2 MiB multiples).
	 */
	if ((uint64_t)(end - pos) / opts.window < 64) {
		uint64_t most = 2 * (uint64_t)(end - pos) / opts.window + 2;

		for (uint64_t i = 0; pos < end; i++) {
			CHECK(i < most);
			pos = check_window(&job, pos, end);
		}
		CHECK(pos == end);
	} else {
		check_window(&job, pos, end);
	}
	return 0;
}
