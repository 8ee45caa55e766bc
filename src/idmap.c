/*
 * A hash table keyed by (device, inode), for what a tree copy must look
 * up once per entry in constant time: hard links already copied, the
 * directories made, the source directories on the walk's path. Open
 * addressing with linear probing, at most three quarters full, and
 * deletion by moving later entries back (no tombstones).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "tree.h"

struct idmap_slot {
	dev_t dev;
	ino_t ino;
	void *val; /* NULL: empty */
};

static size_t
slot_of(const struct idmap *m, dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15u ^
		     (uint64_t)dev * 0xC2B2AE3D27D4EB4Fu;

	h ^= h >> 29;
	return (size_t)h & (m->cap - 1);
}

/* The slot holding (dev, ino), or the empty one where it would go. */
static struct idmap_slot *
find(const struct idmap *m, dev_t dev, ino_t ino)
{
	size_t i = slot_of(m, dev, ino);

	while (m->slots[i].val != NULL &&
	       (m->slots[i].dev != dev || m->slots[i].ino != ino))
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

void *
idmap_get(const struct idmap *m, dev_t dev, ino_t ino)
{
	return m->cap ? find(m, dev, ino)->val : NULL;
}

static int
grow(struct idmap *m)
{
	struct idmap old = *m;

	m->cap = old.cap ? 2 * old.cap : 64;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (m->slots == NULL) {
		*m = old;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].val != NULL)
			*find(m, old.slots[i].dev, old.slots[i].ino) =
				old.slots[i];
	free(old.slots);
	return 0;
}

int
idmap_put(struct idmap *m, dev_t dev, ino_t ino, void *val)
{
	struct idmap_slot *s;

	if (4 * (m->n + 1) > 3 * m->cap && grow(m) < 0)
		return -ENOMEM;
	s = find(m, dev, ino);
	if (s->val == NULL)
		m->n++;
	*s = (struct idmap_slot){ dev, ino, val };
	return 0;
}

void *
idmap_del(struct idmap *m, dev_t dev, ino_t ino)
{
	struct idmap_slot *s = m->cap ? find(m, dev, ino) : NULL;
	size_t hole, i;
	void *val;

	if (s == NULL || s->val == NULL)
		return NULL;
	val = s->val;
	s->val = NULL;
	m->n--;
	/* Move back each later entry of the run that may now be unreachable. */
	hole = (size_t)(s - m->slots);
	for (i = (hole + 1) & (m->cap - 1); m->slots[i].val != NULL;
	     i = (i + 1) & (m->cap - 1)) {
		size_t home = slot_of(m, m->slots[i].dev, m->slots[i].ino);

		/* Stays if its home lies cyclically in (hole, i]. */
		if (hole <= i ? (home > hole && home <= i)
			      : (home > hole || home <= i))
			continue;
		m->slots[hole] = m->slots[i];
		m->slots[i].val = NULL;
		hole = i;
	}
	return val;
}

void
idmap_free(struct idmap *m, void (*free_val)(void *))
{
	for (size_t i = 0; free_val != NULL && i < m->cap; i++)
		if (m->slots[i].val != NULL)
			free_val(m->slots[i].val);
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}
