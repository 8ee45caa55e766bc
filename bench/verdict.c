/*
 * What the tables mean, in words: warnings where the numbers cannot be
 * trusted (a busy machine, too few runs, ratios whose rounds disagree,
 * cold copies that time loading programs), then a verdict per size and
 * cache state: who won, by how much, and which of the measured counters
 * (page faults, major faults, CPU time) says why.
 *
 * A win is settled by a sign test on the rounds: commands run in turns, so
 * each round compares them under the same conditions, and a command whose
 * lead is less than TIE would lead by TIE in a round with probability at
 * most 1/2.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

/* A win is settled when chance gives as many won rounds this rarely. */
#define SETTLED_P 0.05
/*
 * Fewer rounds can never settle anything at SETTLED_P: 4 of 4 happens by
 * chance once in 16.
 */
#define ENOUGH_RUNS 5
/* A lead smaller than this factor is no win; rounds all within it, a tie. */
#define TIE 1.10
/*
 * A counter explains a difference when the slower command's is this much
 * larger, and by more than the counter's noise.
 */
#define COUNTER_FACTOR 1.5
#define CPU_FACTOR     1.25
#define MIN_FAULTS     50
#define MIN_MAJOR      3
#define MIN_MS         0.5
/*
 * The kernel splits CPU time into user and system by timer ticks: below
 * this (ms) a part is mostly tick noise, and the sum, which is exact, is
 * compared instead.
 */
#define SPLIT_MS 20

/* "cold 64 MiB", "warm tree": a group in words. */
static void
group_label(const struct results *r, const struct cell *c, char *buf, size_t n)
{
	char group[32];

	format_group(r, c, group, sizeof(group));
	snprintf(buf, n, "%s %s", cache_name(c->cache), group);
}

/*
 * The chance of k or more heads in n tosses of a fair coin. Each term in
 * logarithms, so that a thousand runs neither overflow C(n, i) nor
 * underflow 2^-n.
 */
static double
sign_p(size_t k, size_t n)
{
	double p = 0, top = lgamma((double)n + 1);

	for (size_t i = k; i <= n; i++)
		p += exp(top - lgamma((double)i + 1) -
			 lgamma((double)(n - i) + 1) - (double)n * log(2));
	return p;
}

/* Did one side win too many rounds to be chance? */
static bool
settled(const struct paired *p)
{
	return p->n > 0 && (sign_p(p->below, p->n) < SETTLED_P ||
			    sign_p(p->n - p->below, p->n) < SETTLED_P);
}

/* Were all rounds within TIE of each other? */
static bool
tight_tie(const struct paired *p)
{
	return p->n > 0 && p->min >= 1 / TIE && p->max <= TIE;
}

/*
 * How a's rounds went against b's: in how many of the n compared a was
 * ahead by TIE or more, in how many behind by as much. Below TIE a
 * difference, however regular, is not one to choose a copier by, and on a
 * noisy machine it is settled one time and not the next.
 */
struct lead {
	size_t ahead, behind, n;
};

static struct lead
lead_of(const struct cell *a, const struct cell *b)
{
	struct lead l = { 0, 0, 0 };

	for (int i = 0; i < a->nruns && i < b->nruns; i++) {
		double ra = a->runs[i].m.wall, rb = b->runs[i].m.wall;

		if (!a->runs[i].ok || !b->runs[i].ok || !(rb > 0))
			continue;
		l.n++;
		l.ahead += ra / rb < 1 / TIE;
		l.behind += ra / rb > TIE;
	}
	return l;
}

/* Was a ahead (or behind) by TIE in more rounds than chance would give? */
static bool
leads(struct lead l)
{
	return l.n > 0 && sign_p(l.ahead, l.n) < SETTLED_P;
}

static bool
trails(struct lead l)
{
	return l.n > 0 && sign_p(l.behind, l.n) < SETTLED_P;
}

/* Warn of text, under a heading that comes with the first warning. */
static void
warn(int *warned, const char *text)
{
	char line[2048 + 8];

	if ((*warned)++ == 0)
		printf("\nwarnings:\n");
	snprintf(line, sizeof(line), "  - %s", text);
	print_wrapped(line, "    ");
}

/* Ratios neither settled nor a tight tie: they mean little. */
static bool
unsettled(const struct cell *c)
{
	return !c->cmd->baseline && !isnan(c->ratio) && !settled(&c->vs) &&
	       !tight_tie(&c->vs);
}

/* The group's ratios that mean little, in one warning. */
static void
warn_spread(const struct results *r, int first, int end, int *warned)
{
	const struct cell *widest = NULL;
	char text[2048], label[64], list[1024] = "";
	size_t len = 0;
	int n = 0, ratios = 0;

	for (int i = first; i < end; i++) {
		const struct cell *c = &r->cells[i];

		ratios += !c->cmd->baseline && !isnan(c->ratio);
		if (!unsettled(c))
			continue;
		if (len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s%s %.2fx (%.2f to %.2f)",
						n ? ", " : "", c->cmd->name,
						c->ratio, c->vs.min, c->vs.max);
		n++;
		if (widest == NULL ||
		    c->vs.max / c->vs.min > widest->vs.max / widest->vs.min)
			widest = c;
	}
	if (n == 0)
		return;
	/* Three are named; more are counted. */
	if (n > 3)
		snprintf(list, sizeof(list),
			 "%d of its %d commands (the widest: %s, %.2f to %.2f)",
			 n, ratios, widest->cmd->name, widest->vs.min,
			 widest->vs.max);
	group_label(r, &r->cells[first], label, sizeof(label));
	snprintf(text, sizeof(text),
		 "%s: the run-by-run ratios of %s spread too wide (up to "
		 "%.2fx, max/min) for the median to mean anything: faster in "
		 "some rounds, slower in others; rerun with more runs or on a "
		 "quieter machine",
		 label, list, widest->vs.max / widest->vs.min);
	warn(warned, text);
}

/*
 * A cold run drops every cache, the programs' own pages too: a command
 * that reads more from disk than its data (rusage's blocks in) spends the
 * run loading itself. True of a group when most of its commands do; *read
 * is then their median MB read.
 */
static bool
loading(const struct results *r, int first, int end, double *read_mb)
{
	double read[end - first > 0 ? end - first : 1], data;
	size_t n = 0, loads = 0;

	*read_mb = 0;
	if (r->cells[first].cache != CACHE_COLD ||
	    r->workload == WORKLOAD_RANDOM_READ)
		return false;
	data = (double)r->cells[first].size / 1e6;
	for (int i = first; i < end; i++) {
		const struct cell *c = &r->cells[i];

		if (c->wall.n == 0)
			continue;
		read[n++] = c->read_mb;
		loads += c->read_mb - data > data;
	}
	if (n > 0)
		*read_mb = stats_median(read, n);
	return n > 0 && 2 * loads > n;
}

static void
warn_loading(const struct results *r, int first, int end, int *warned)
{
	char text[512], label[64], size[32];
	double read;

	if (!loading(r, first, end, &read))
		return;
	group_label(r, &r->cells[first], label, sizeof(label));
	format_size(r->cells[first].size, size, sizeof(size));
	snprintf(text, sizeof(text),
		 "%s mostly times program loading: the commands read %.1f MB "
		 "from disk (median) for %s of data, their programs and "
		 "libraries having been dropped with the cache; its ratios "
		 "compare start-up, not copying",
		 label, read, size);
	warn(warned, text);
}

void
print_warnings(const struct results *r)
{
	char text[512];
	int warned = 0;

	if (r->load >= 0 && r->load > (double)r->machine.cpus) {
		snprintf(text, sizeof(text),
			 "the machine was busy: the load average reached %.2f "
			 "on %ld CPUs during the runs, so other work took "
			 "turns with the copies; rerun when it is quieter",
			 r->load, r->machine.cpus);
		warn(&warned, text);
	}
	if (r->runs < ENOUGH_RUNS) {
		snprintf(text, sizeof(text),
			 "only %d run%s per command: with fewer than %d rounds "
			 "no win can be told from chance, and one slow run "
			 "moves a median; use --runs=%d or more",
			 r->runs, r->runs == 1 ? "" : "s", ENOUGH_RUNS,
			 ENOUGH_RUNS);
		warn(&warned, text);
	}
	for (int first = 0, i = 1; first < r->ncells; i++) {
		if (i < r->ncells && !group_starts(r, i))
			continue;
		warn_loading(r, first, i, &warned);
		/* Too few runs settle nothing: said once, above. */
		if (r->runs >= ENOUGH_RUNS)
			warn_spread(r, first, i, &warned);
		first = i;
	}
}

/* One counter of a run, for the verdict's reasons. */
struct counter {
	const char *what; /* "page faults", "of system time" */
	double slow, fast;
	double factor, least; /* how much larger, and by how much at least */
	bool ms;              /* a time in ms, else a count */
};

/* "1,234 page faults", "6.3 ms of system time", or without the what */
static void
quantity(const struct counter *k, double v, bool with_what, char *buf, size_t n)
{
	char count[32];

	if (k->ms)
		snprintf(count, sizeof(count), "%.1f ms", v);
	else
		format_count(v, count, sizeof(count));
	snprintf(buf, n, "%s%s%s", count, with_what ? " " : "",
		 with_what ? k->what : "");
}

/* The counter that differs the most, other than skip; -1 if none does. */
static int
telling(const struct counter *k, int nk, int skip)
{
	double best = 0;
	int pick = -1;

	for (int i = 0; i < nk; i++) {
		double f = k[i].slow / (k[i].fast > 0 ? k[i].fast : 1);

		if (i == skip || !(k[i].slow >= k[i].factor * k[i].fast) ||
		    k[i].slow - k[i].fast < k[i].least || f <= best)
			continue;
		best = f;
		pick = i;
	}
	return pick;
}

/*
 * Why slow was slower than fast, from the counters the table shows: the
 * (at most two) that differ the most, by COUNTER_FACTOR or CPU_FACTOR and
 * more than their noise. "" when none does.
 */
static void
reason(const struct cell *slow, const struct cell *fast, char *buf, size_t n)
{
	bool user = 1e3 * slow->user >= SPLIT_MS;
	bool sys = 1e3 * slow->sys >= SPLIT_MS;
	struct counter k[] = {
		{ "page faults", slow->faults, fast->faults, COUNTER_FACTOR,
		  MIN_FAULTS, false },
		{ "major faults", slow->majflt, fast->majflt, COUNTER_FACTOR,
		  MIN_MAJOR, false },
		{ "of CPU time", 1e3 * (slow->user + slow->sys),
		  1e3 * (fast->user + fast->sys),
		  user || sys ? INFINITY : CPU_FACTOR, MIN_MS, true },
		{ "of system time", 1e3 * slow->sys, 1e3 * fast->sys,
		  sys ? CPU_FACTOR : INFINITY, MIN_MS, true },
		{ "of user time", 1e3 * slow->user, 1e3 * fast->user,
		  user ? CPU_FACTOR : INFINITY, MIN_MS, true },
	};
	int nk = (int)(sizeof(k) / sizeof(k[0]));
	int one = telling(k, nk, -1), two = telling(k, nk, one);
	char s[2][64], f[2][64];

	buf[0] = '\0';
	if (one < 0)
		return;
	quantity(&k[one], k[one].slow, true, s[0], sizeof(s[0]));
	quantity(&k[one], k[one].fast, false, f[0], sizeof(f[0]));
	if (two < 0) {
		snprintf(buf, n, "%s took %s to %s's %s", slow->cmd->name, s[0],
			 fast->cmd->name, f[0]);
		return;
	}
	quantity(&k[two], k[two].slow, true, s[1], sizeof(s[1]));
	quantity(&k[two], k[two].fast, false, f[1], sizeof(f[1]));
	snprintf(buf, n, "%s took %s to %s's %s, and %s to %s", slow->cmd->name,
		 s[0], fast->cmd->name, f[0], s[1], f[1]);
}

/* Append ": REASON", or tail when no counter tells them apart. */
static void
add_reason(char *buf, size_t n, const struct cell *slow,
	   const struct cell *fast, const char *tail)
{
	char why[512];
	size_t len = strlen(buf);

	reason(slow, fast, why, sizeof(why));
	if (len < n)
		snprintf(buf + len, n - len, "%s%s", why[0] ? ": " : "",
			 why[0] ? why : tail);
}

static const struct cell *
find(const struct results *r, int first, int end, const char *name)
{
	for (int i = first; i < end; i++)
		if (strcmp(r->cells[i].cmd->name, name) == 0 &&
		    r->cells[i].wall.n > 0)
			return &r->cells[i];
	return NULL;
}

/*
 * The command, other than the baseline b, with the lowest ratio: among
 * those that led b if any did, as a win by chance does not beat a real one.
 */
static const struct cell *
fastest(const struct results *r, int first, int end, const struct cell *b)
{
	const struct cell *best = NULL;

	for (int pass = 0; pass < 2 && best == NULL; pass++)
		for (int i = first; i < end; i++) {
			const struct cell *c = &r->cells[i];

			if (c->cmd->baseline || isnan(c->ratio) ||
			    (pass == 0 && !leads(lead_of(c, b))))
				continue;
			if (best == NULL || c->ratio < best->ratio)
				best = c;
		}
	return best;
}

/* How many commands other than the baseline have a ratio in the group. */
static int
others(const struct results *r, int first, int end)
{
	int n = 0;

	for (int i = first; i < end; i++)
		n += !r->cells[i].cmd->baseline && !isnan(r->cells[i].ratio);
	return n;
}

/* Who won the group, by how much, and why; into buf. */
static void
winner(const struct results *r, int first, int end, const char *base, char *buf,
       size_t n)
{
	const struct cell *b = baseline_of(r, &r->cells[first]);
	const struct cell *w = b ? fastest(r, first, end, b) : NULL;
	struct lead l;
	char t[2][32];

	if (w == NULL) {
		snprintf(buf, n, "no ratio to %s: %s", base,
			 b == NULL ? "it did not run"
				   : "nothing else verified");
		return;
	}
	l = lead_of(w, b);
	format_time(w->wall.median, t[0], sizeof(t[0]));
	format_time(b->wall.median, t[1], sizeof(t[1]));
	if (leads(l)) {
		snprintf(buf, n,
			 "%s won, %.2fx %s (%s to %s; %.0f%% ahead in %zu of "
			 "%zu rounds)",
			 w->cmd->name, w->ratio, base, t[0], t[1],
			 100 * (TIE - 1), l.ahead, l.n);
		add_reason(buf, n, b, w, "");
	} else if (trails(l)) {
		snprintf(buf, n,
			 "%s won%s%s%s was %.2fx %s (%.0f%% behind in %zu of "
			 "%zu rounds)",
			 base,
			 others(r, first, end) == 1
				 ? ": "
				 : "; the fastest of the others, ",
			 w->cmd->name, others(r, first, end) == 1 ? "" : ",",
			 w->ratio, base, 100 * (TIE - 1), l.behind, l.n);
		add_reason(buf, n, w, b, "");
	} else {
		/* "the fastest" of one is just its name */
		const char *which = others(r, first, end) == 1 ? ""
				    : w->ratio < 1             ? "the fastest, "
						   : "the fastest other, ";

		snprintf(buf, n,
			 "nothing beat %s by %.0f%% in enough rounds: %s%s%s "
			 "was %.2fx %s (%.0f%% ahead in %zu, behind in %zu of "
			 "%zu%s)",
			 base, 100 * (TIE - 1), which, w->cmd->name,
			 which[0] ? "," : "", w->ratio, base, 100 * (TIE - 1),
			 l.ahead, l.behind, l.n,
			 l.ahead == l.n ? ", too few to rule out chance" : "");
	}
}

/* The exercise's question: the mmap engine against read/write. */
static void
mmap_or_rw(const struct results *r, int first, int end, const char *base,
	   char *buf, size_t n)
{
	const struct cell *m = find(r, first, end, "mmap");
	const struct cell *rw = find(r, first, end, "rw");
	size_t len;
	struct lead l;

	buf[0] = '\0';
	if (m == NULL)
		m = find(r, first, end, "mmap_cp");
	if (m == NULL || rw == NULL || isnan(m->ratio) || isnan(rw->ratio))
		return;
	l = lead_of(m, rw);
	len = (size_t)snprintf(buf, n, "%s %.2fx %s, rw %.2fx", m->cmd->name,
			       m->ratio, base, rw->ratio);
	if (len >= n)
		return;
	if (leads(l) || trails(l)) {
		const struct cell *fast = leads(l) ? m : rw;

		snprintf(buf + len, n - len,
			 " (%s %.0f%% ahead in %zu of %zu rounds)",
			 fast->cmd->name, 100 * (TIE - 1),
			 leads(l) ? l.ahead : l.behind, l.n);
		add_reason(buf, n, fast == m ? rw : m, fast,
			   ": no counter here tells them apart");
	} else {
		snprintf(buf + len, n - len,
			 ": neither %.0f%% ahead in enough rounds (%s in %zu, "
			 "rw in %zu of %zu)",
			 100 * (TIE - 1), m->cmd->name, l.ahead, l.behind, l.n);
	}
}

static void
verdict_group(const struct results *r, int first, int end)
{
	const char *base = r->workload == WORKLOAD_RANDOM_READ ? "pread" : "cp";
	char label[96], one[1024], two[1024], line[2300];
	double read;

	group_label(r, &r->cells[first], label, sizeof(label));
	if (loading(r, first, end, &read))
		snprintf(label + strlen(label), sizeof(label) - strlen(label),
			 " (mostly program loading)");
	winner(r, first, end, base, one, sizeof(one));
	if (r->workload == WORKLOAD_RANDOM_READ)
		two[0] = '\0';
	else
		mmap_or_rw(r, first, end, base, two, sizeof(two));
	snprintf(line, sizeof(line), "  %s: %s.%s%s%s", label, one,
		 two[0] ? " " : "", two, two[0] ? "." : "");
	print_wrapped(line, "    ");
}

void
print_verdict(const struct results *r)
{
	char head[256];

	snprintf(
		head, sizeof(head),
		"verdict (median ratios to %s; a win is a lead of %.0f%% or "
		"more in more rounds than chance would give %.0f times in 100, "
		"a sign test):",
		r->workload == WORKLOAD_RANDOM_READ ? "pread" : "cp",
		100 * (TIE - 1), 100 * SETTLED_P);
	printf("\n");
	print_wrapped(head, "  ");
	for (int first = 0, i = 1; first < r->ncells; i++) {
		if (i < r->ncells && !group_starts(r, i))
			continue;
		verdict_group(r, first, i);
		first = i;
	}
}
