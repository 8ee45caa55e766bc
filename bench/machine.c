/*
 * The machine a benchmark ran on, for labelling results honestly: CPU
 * (/proc/cpuinfo), memory (sysinfo), kernel (uname), the filesystem of the
 * data directory (statfs), the date, and anything known to skew timings
 * here: virtio-balloon free page reporting.
 */
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static const char *
fs_name(long type)
{
	static const struct {
		long magic;
		const char *name;
	} names[] = {
		{ 0xEF53, "ext4" },         { 0x58465342, "xfs" },
		{ 0x9123683E, "btrfs" },    { 0x01021994, "tmpfs" },
		{ 0x6969, "nfs" },          { 0x794c7630, "overlayfs" },
		{ 0x2FC12FC1, "zfs" },      { 0xF2F52010, "f2fs" },
		{ 0xCA451A4E, "bcachefs" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].magic == type)
			return names[i].name;
	return "unknown";
}

static void
cpu_model(char *buf, size_t size)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256];

	snprintf(buf, size, "unknown CPU");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
			snprintf(buf, size, "%s", colon + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	if (f != NULL)
		fclose(f);
}

/* The host takes back freed 2 MiB blocks: first touches fault in the host. */
static void
page_reporting(char *buf, size_t size)
{
	FILE *f = fopen(
		"/sys/module/page_reporting/parameters/page_reporting_order",
		"re");
	int order = -1;

	if (f == NULL)
		return;
	if (fscanf(f, "%d", &order) != 1) /* NOLINT(cert-err34-c) */
		order = -1;
	fclose(f);
	if (order >= 0 && order <= 10 &&
	    access("/sys/bus/virtio/drivers/virtio_balloon", F_OK) == 0)
		snprintf(buf, size,
			 "virtio-balloon free page reporting is on (order %d): "
			 "runs may vary several-fold; see README.md",
			 order);
}

void
describe_machine(struct machine *m, const char *dir)
{
	struct sysinfo si;
	struct utsname u;
	struct statfs sf;
	time_t t = time(NULL);

	memset(m, 0, sizeof(*m));
	cpu_model(m->cpu, sizeof(m->cpu));
	m->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (sysinfo(&si) == 0)
		m->mem_gib = (double)si.totalram * si.mem_unit / (1 << 30);
	if (uname(&u) == 0)
		snprintf(m->kernel, sizeof(m->kernel), "%s %s", u.sysname,
			 u.release);
	snprintf(m->fs, sizeof(m->fs), "%s",
		 statfs(dir, &sf) == 0 ? fs_name((long)sf.f_type) : "unknown");
	strftime(m->date, sizeof(m->date), "%Y-%m-%d %H:%M UTC", gmtime(&t));
	page_reporting(m->note, sizeof(m->note));
}
