// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the IOASID core (drivers/iommu/ioasid.c): the capacity,
 * allocation in a range, set quotas, references and parking, the checks of
 * the owning set, private data, set-private IDs, iteration, freeing a set,
 * the misc cgroup charge of each ID, a custom allocator, and allocations
 * racing on every CPU.
 *
 * IDs are system-wide, so the tests allocate at the top of the ID space,
 * away from the kernel's own users, and give back everything they take.
 * They run built in, at boot, before user space: the charges they count
 * are the root cgroup's, which nothing else moves then.
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/ioasid.h>
#include <linux/kthread.h>
#include <linux/misc_cgroup.h>
#include <linux/sched.h>

/* The first ID of the block the tests use: 64 IDs below the capacity */
static ioasid_t top(void)
{
	return ioasid_capacity() - 64;
}

static unsigned long charged(void)
{
#if IS_ENABLED(CONFIG_CGROUP_MISC)
	return misc_cg_res_total_usage(MISC_CG_RES_IOASID);
#else
	return 0;
#endif
}

static struct ioasid_set *new_set(struct kunit *test, ioasid_t quota)
{
	struct ioasid_set *set = ioasid_set_alloc(test, quota, 0);

	KUNIT_ASSERT_FALSE(test, IS_ERR(set));
	return set;
}

static ioasid_t alloc_ok(struct kunit *test, struct ioasid_set *set,
			 ioasid_t min, ioasid_t max)
{
	ioasid_t id = INVALID_IOASID;

	KUNIT_ASSERT_EQ(test, ioasid_alloc_id(set, min, max, NULL, &id), 0);
	KUNIT_EXPECT_GE(test, id, min);
	KUNIT_EXPECT_LE(test, id, max);
	return id;
}

static void ioasid_test_capacity(struct kunit *test)
{
	struct ioasid_set *set = new_set(test, 0);
	ioasid_t cap = ioasid_capacity(), id;

	KUNIT_EXPECT_GT(test, cap, 64U);
	KUNIT_EXPECT_LE(test, cap, IOASID_DEFAULT_CAPACITY);
	KUNIT_EXPECT_EQ(test, ioasid_set_quota(set), cap);
	KUNIT_EXPECT_EQ(test, ioasid_install_capacity(0), -EINVAL);

	/* With an ID out, no other capacity is taken */
	id = alloc_ok(test, set, top(), cap - 1);
	KUNIT_EXPECT_EQ(test, ioasid_install_capacity(cap - 1), -EBUSY);
	KUNIT_EXPECT_EQ(test, ioasid_capacity(), cap);

	/* Nothing at or beyond the capacity, and a range is cut to it */
	KUNIT_EXPECT_EQ(test, ioasid_alloc_id(set, cap, cap + 10, NULL, &id),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, id), 0);
	id = alloc_ok(test, set, cap - 1, cap + 100);
	KUNIT_EXPECT_EQ(test, id, cap - 1);
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, cap - 1, ~0U, NULL),
			INVALID_IOASID);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, id), 0);
	ioasid_set_free(set);
}

static void ioasid_test_range(struct kunit *test)
{
	struct ioasid_set *set = new_set(test, 0);
	ioasid_t a, b, id, lo = top() + 2;

	KUNIT_EXPECT_EQ(test, ioasid_alloc_id(set, lo + 1, lo, NULL, &id),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, ioasid_alloc_id(NULL, lo, lo, NULL, &id),
			-EINVAL);
	a = alloc_ok(test, set, lo, lo + 1);
	b = alloc_ok(test, set, lo, lo + 1);
	KUNIT_EXPECT_NE(test, a, b);
	KUNIT_EXPECT_EQ(test, ioasid_alloc_id(set, lo, lo + 1, NULL, &id),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, ioasid_set_count(set), 2U);

	/* A freed ID is the next one of its range */
	KUNIT_EXPECT_EQ(test, ioasid_free(set, a), 0);
	KUNIT_EXPECT_EQ(test, alloc_ok(test, set, lo, lo + 1), a);
	ioasid_set_free(set);
	KUNIT_EXPECT_TRUE(test, IS_ERR(ioasid_find(NULL, a, NULL)));
	KUNIT_EXPECT_TRUE(test, IS_ERR(ioasid_find(NULL, b, NULL)));
}

static void ioasid_test_quota(struct kunit *test)
{
	struct ioasid_set *set = new_set(test, 2);
	ioasid_t a, b, id;

	KUNIT_EXPECT_EQ(test, ioasid_set_quota(set), 2U);
	a = alloc_ok(test, set, top(), top() + 15);
	b = alloc_ok(test, set, top(), top() + 15);
	KUNIT_EXPECT_EQ(test, ioasid_alloc_id(set, top(), top() + 15, NULL,
					      &id), -EDQUOT);

	/* A parked ID still counts... */
	KUNIT_EXPECT_EQ(test, ioasid_get(set, a), 0);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, a), 0);
	KUNIT_EXPECT_EQ(test, ioasid_set_count(set), 2U);
	KUNIT_EXPECT_EQ(test, ioasid_alloc_id(set, top(), top() + 15, NULL,
					      &id), -EDQUOT);
	/* ...until its last user lets go */
	KUNIT_EXPECT_TRUE(test, ioasid_put(set, a));
	KUNIT_EXPECT_EQ(test, ioasid_set_count(set), 1U);
	id = alloc_ok(test, set, top(), top() + 15);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, b), 0);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, id), 0);
	KUNIT_EXPECT_EQ(test, ioasid_set_count(set), 0U);
	ioasid_set_free(set);
}

static void ioasid_test_parking(struct kunit *test)
{
	struct ioasid_set *set = new_set(test, 0);
	ioasid_t id, again, lo = top() + 8;
	int cookie;

	KUNIT_ASSERT_EQ(test, ioasid_alloc_id(set, lo, lo, &cookie, &id), 0);
	KUNIT_EXPECT_EQ(test, id, lo);
	KUNIT_EXPECT_EQ(test, ioasid_get(set, id), 0);
	KUNIT_EXPECT_EQ(test, ioasid_get(NULL, id), 0);
	KUNIT_EXPECT_FALSE(test, ioasid_put(NULL, id));

	KUNIT_EXPECT_EQ(test, ioasid_free(set, id), 0);
	/* Parked: no new reference, no second free, not allocatable */
	KUNIT_EXPECT_EQ(test, ioasid_get(set, id), -EBUSY);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, id), -ENOENT);
	KUNIT_EXPECT_EQ(test, ioasid_alloc_id(set, lo, lo, NULL, &again),
			-ENOSPC);
	/* Its users still find what they attached */
	KUNIT_EXPECT_PTR_EQ(test, ioasid_find(set, id, NULL), (void *)&cookie);

	/* The last put gives it back */
	KUNIT_EXPECT_TRUE(test, ioasid_put(set, id));
	KUNIT_EXPECT_PTR_EQ(test, ioasid_find(set, id, NULL), ERR_PTR(-ENOENT));
	KUNIT_EXPECT_EQ(test, ioasid_get(set, id), -ENOENT);
	KUNIT_EXPECT_FALSE(test, ioasid_put(set, id));
	KUNIT_EXPECT_EQ(test, alloc_ok(test, set, lo, lo), lo);

	/* Freed with no other user: given back at once */
	KUNIT_EXPECT_EQ(test, ioasid_free(set, lo), 0);
	KUNIT_EXPECT_EQ(test, ioasid_set_count(set), 0U);
	KUNIT_EXPECT_EQ(test, alloc_ok(test, set, lo, lo), lo);
	ioasid_set_free(set);
}

static void ioasid_test_ownership(struct kunit *test)
{
	struct ioasid_set *a = new_set(test, 0), *b = new_set(test, 0);
	ioasid_t id = alloc_ok(test, a, top(), top() + 15);

	KUNIT_EXPECT_EQ(test, ioasid_get(b, id), -EACCES);
	KUNIT_EXPECT_FALSE(test, ioasid_put(b, id));
	KUNIT_EXPECT_EQ(test, ioasid_free(b, id), -EACCES);
	KUNIT_EXPECT_PTR_EQ(test, ioasid_find(b, id, NULL), ERR_PTR(-EACCES));
	KUNIT_EXPECT_EQ(test, ioasid_attach_data(b, id, &id), -EACCES);
	KUNIT_EXPECT_EQ(test, ioasid_detach_data(b, id), -EACCES);
	KUNIT_EXPECT_PTR_EQ(test, ioasid_set_token(a), (void *)test);
	/* Still allocated in its own set */
	KUNIT_EXPECT_EQ(test, ioasid_set_count(a), 1U);
	KUNIT_EXPECT_EQ(test, ioasid_set_count(b), 0U);
	KUNIT_EXPECT_EQ(test, ioasid_free(a, id), 0);
	ioasid_set_free(a);
	ioasid_set_free(b);
}

static bool getter_refuses(void *data)
{
	return false;
}

static void ioasid_test_private_data(struct kunit *test)
{
	struct ioasid_set *set = new_set(test, 0);
	ioasid_t id = alloc_ok(test, set, top(), top() + 15);
	int one, two;

	KUNIT_EXPECT_NULL(test, ioasid_find(set, id, NULL));
	KUNIT_EXPECT_EQ(test, ioasid_attach_data(NULL, id, &one), -EINVAL);
	KUNIT_EXPECT_EQ(test, ioasid_attach_data(set, id, &one), 0);
	KUNIT_EXPECT_EQ(test, ioasid_attach_data(set, id, &two), -EBUSY);
	KUNIT_EXPECT_PTR_EQ(test, ioasid_find(set, id, NULL), (void *)&one);
	KUNIT_EXPECT_NULL(test, ioasid_find(set, id, getter_refuses));
	KUNIT_EXPECT_EQ(test, ioasid_detach_data(set, id), 0);
	KUNIT_EXPECT_NULL(test, ioasid_find(set, id, NULL));
	KUNIT_EXPECT_EQ(test, ioasid_attach_data(set, id, &two), 0);
	KUNIT_EXPECT_PTR_EQ(test, ioasid_find(NULL, id, NULL), (void *)&two);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, id), 0);
	KUNIT_EXPECT_EQ(test, ioasid_attach_data(set, id, &one), -ENOENT);
	KUNIT_EXPECT_EQ(test, ioasid_detach_data(set, id), -ENOENT);
	ioasid_set_free(set);
}

static void ioasid_test_spid(struct kunit *test)
{
	struct ioasid_set *s = new_set(test, 0), *t = new_set(test, 0);
	ioasid_t a = alloc_ok(test, s, top(), top() + 15);
	ioasid_t b = alloc_ok(test, s, top(), top() + 15);
	ioasid_t c = alloc_ok(test, t, top(), top() + 15);

	KUNIT_EXPECT_EQ(test, ioasid_attach_spid(s, a, INVALID_IOASID), -EINVAL);
	KUNIT_EXPECT_EQ(test, ioasid_attach_spid(s, a, 101), 0);
	KUNIT_EXPECT_EQ(test, ioasid_attach_spid(s, a, 102), -EBUSY);
	KUNIT_EXPECT_EQ(test, ioasid_attach_spid(s, b, 101), -EEXIST);
	KUNIT_EXPECT_EQ(test, ioasid_attach_spid(s, c, 101), -EACCES);
	/* Set-private: another set may use the same number */
	KUNIT_EXPECT_EQ(test, ioasid_attach_spid(t, c, 101), 0);

	KUNIT_EXPECT_EQ(test, ioasid_find_by_spid(s, 101, false), a);
	KUNIT_EXPECT_EQ(test, ioasid_find_by_spid(t, 101, false), c);
	KUNIT_EXPECT_EQ(test, ioasid_find_by_spid(s, 102, false),
			INVALID_IOASID);

	/* With a reference: a free parks it, and parked it has no SPID */
	KUNIT_EXPECT_EQ(test, ioasid_find_by_spid(s, 101, true), a);
	KUNIT_EXPECT_EQ(test, ioasid_free(s, a), 0);
	KUNIT_EXPECT_EQ(test, ioasid_find_by_spid(s, 101, true),
			INVALID_IOASID);
	KUNIT_EXPECT_EQ(test, ioasid_detach_spid(s, a), -ENOENT);
	KUNIT_EXPECT_EQ(test, ioasid_attach_spid(s, b, 101), 0);
	KUNIT_EXPECT_TRUE(test, ioasid_put(s, a));

	KUNIT_EXPECT_EQ(test, ioasid_detach_spid(s, b), 0);
	KUNIT_EXPECT_EQ(test, ioasid_detach_spid(s, b), -ENOENT);
	KUNIT_EXPECT_EQ(test, ioasid_find_by_spid(s, 101, false),
			INVALID_IOASID);
	KUNIT_EXPECT_EQ(test, ioasid_free(s, b), 0);
	ioasid_set_free(s);
	/* A set's free takes its SPIDs with its IDs */
	ioasid_set_free(t);
	KUNIT_EXPECT_TRUE(test, IS_ERR(ioasid_find(NULL, c, NULL)));
}

static void record(ioasid_t id, void *arg)
{
	unsigned long *seen = arg;

	if (id >= top() && id < top() + 64)
		__set_bit(id - top(), seen);
	else
		__set_bit(64, seen);
}

static void ioasid_test_for_each(struct kunit *test)
{
	struct ioasid_set *s = new_set(test, 0), *t = new_set(test, 0);
	DECLARE_BITMAP(seen, 65) = { 0 };
	DECLARE_BITMAP(want, 65) = { 0 };
	ioasid_t id;
	int i;

	for (i = 0; i < 6; i++) {
		id = alloc_ok(test, s, top(), top() + 63);
		__set_bit(id - top(), want);
	}
	alloc_ok(test, t, top(), top() + 63);
	/* A freed ID is not visited, a parked one neither */
	id = alloc_ok(test, s, top(), top() + 63);
	KUNIT_EXPECT_EQ(test, ioasid_free(s, id), 0);
	id = alloc_ok(test, s, top(), top() + 63);
	KUNIT_EXPECT_EQ(test, ioasid_get(s, id), 0);
	KUNIT_EXPECT_EQ(test, ioasid_free(s, id), 0);

	ioasid_set_for_each(s, record, seen);
	KUNIT_EXPECT_TRUE(test, bitmap_equal(seen, want, 65));
	KUNIT_EXPECT_TRUE(test, ioasid_put(s, id));
	ioasid_set_free(s);
	ioasid_set_free(t);
}

static void ioasid_test_set_free(struct kunit *test)
{
	struct ioasid_set *set = new_set(test, 0);
	ioasid_t kept, gone, id;
	unsigned long before = charged();

	kept = alloc_ok(test, set, top(), top() + 15);
	gone = alloc_ok(test, set, top(), top() + 15);
	KUNIT_EXPECT_EQ(test, ioasid_get(set, kept), 0);
	ioasid_set_free(set);

	/* The unreferenced ID is given back, the other is parked */
	KUNIT_EXPECT_TRUE(test, IS_ERR(ioasid_find(NULL, gone, NULL)));
	KUNIT_EXPECT_EQ(test, ioasid_get(NULL, kept), -EBUSY);
	/* The set, kept by its ID, allocates no more */
	KUNIT_EXPECT_EQ(test, ioasid_alloc_id(set, top(), top() + 15, NULL,
					      &id), -EINVAL);
	if (IS_ENABLED(CONFIG_CGROUP_MISC))
		KUNIT_EXPECT_EQ(test, charged(), before + 1);
	KUNIT_EXPECT_TRUE(test, ioasid_put(set, kept));
	KUNIT_EXPECT_EQ(test, charged(), before);
}

static void ioasid_test_charge(struct kunit *test)
{
	unsigned long before = charged();
	struct ioasid_set *set, *one;
	ioasid_t a, b, id;

	if (!IS_ENABLED(CONFIG_CGROUP_MISC))
		kunit_skip(test, "no misc cgroup controller");

	set = new_set(test, 0);
	one = new_set(test, 1);
	a = alloc_ok(test, set, top(), top() + 15);
	b = alloc_ok(test, set, top(), top() + 15);
	KUNIT_EXPECT_EQ(test, charged(), before + 2);
	/* Refused allocations charge nothing, not even for a while */
	KUNIT_EXPECT_EQ(test, ioasid_alloc_id(set, top() + 40, top() + 39, NULL,
					      &id), -EINVAL);
	id = alloc_ok(test, one, top() + 20, top() + 20);
	KUNIT_EXPECT_EQ(test, ioasid_alloc_id(one, top() + 21, top() + 21, NULL,
					      &a), -EDQUOT);
	KUNIT_EXPECT_EQ(test, ioasid_alloc_id(set, top() + 20, top() + 20, NULL,
					      &a), -ENOSPC);
	KUNIT_EXPECT_EQ(test, charged(), before + 3);
	ioasid_set_free(one);
	KUNIT_EXPECT_EQ(test, charged(), before + 2);
	a = top();
	/* A parked ID stays charged until it is given back */
	KUNIT_EXPECT_EQ(test, ioasid_get(set, a), 0);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, a), 0);
	KUNIT_EXPECT_EQ(test, charged(), before + 2);
	KUNIT_EXPECT_TRUE(test, ioasid_put(set, a));
	KUNIT_EXPECT_EQ(test, charged(), before + 1);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, b), 0);
	KUNIT_EXPECT_EQ(test, charged(), before);
	ioasid_set_free(set);
}

struct fake_allocator {
	struct ioasid_allocator_ops ops;
	unsigned long used;
	unsigned int allocs, frees;
};

/*
 * Numbers from the 64 at top(), whatever range is asked for, as a
 * paravirtual allocator whose host decides may do
 */
static ioasid_t fake_alloc(ioasid_t min, ioasid_t max, void *pdata)
{
	struct fake_allocator *fa = pdata;
	ioasid_t id;

	fa->allocs++;
	for (id = top(); id < top() + BITS_PER_LONG; id++)
		if (!__test_and_set_bit(id - top(), &fa->used))
			return id;
	return INVALID_IOASID;
}

static void fake_free(ioasid_t id, void *pdata)
{
	struct fake_allocator *fa = pdata;

	fa->frees++;
	if (id >= top() && id < top() + BITS_PER_LONG)
		__clear_bit(id - top(), &fa->used);
}

/* A KUnit resource that unregisters the allocator when the test ends */
static int fake_registered(struct kunit_resource *res, void *ops)
{
	res->data = ops;
	return 0;
}

static void fake_unregister(struct kunit_resource *res)
{
	ioasid_unregister_allocator(res->data);
}

static void ioasid_test_custom_allocator(struct kunit *test)
{
	struct fake_allocator *fa = kunit_kzalloc(test, sizeof(*fa),
						  GFP_KERNEL);
	struct fake_allocator other = {
		.ops = { .alloc = fake_alloc, .free = NULL },
	};
	struct ioasid_set *set = new_set(test, 0);
	ioasid_t held, id, id2;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, fa);
	fa->ops.alloc = fake_alloc;
	fa->ops.free = fake_free;
	fa->ops.pdata = fa;
	/* Not while IDs are out */
	held = alloc_ok(test, set, top(), top() + 15);
	ret = ioasid_register_allocator(&fa->ops);
	/* -EBUSY: another allocator is in use already */
	KUNIT_EXPECT_TRUE(test, ret == -EAGAIN || ret == -EBUSY);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, held), 0);

	ret = ioasid_register_allocator(&fa->ops);
	if (ret == -EAGAIN || ret == -EBUSY) {
		ioasid_set_free(set);
		kunit_skip(test, "IDs are out, or an allocator is in use: %d",
			   ret);
	}
	KUNIT_ASSERT_EQ(test, ret, 0);
	/* Unregistered however the test ends */
	if (!kunit_alloc_resource(test, fake_registered, fake_unregister,
				  GFP_KERNEL, &fa->ops)) {
		ioasid_unregister_allocator(&fa->ops);
		KUNIT_FAIL(test, "no memory for a KUnit resource");
		return;
	}
	KUNIT_EXPECT_EQ(test, ioasid_register_allocator(&fa->ops), -EEXIST);
	KUNIT_EXPECT_EQ(test, ioasid_register_allocator(&other.ops), -EBUSY);

	KUNIT_EXPECT_EQ(test, ioasid_alloc_id(set, top(), top() + 15, NULL,
					      &id), 0);
	KUNIT_EXPECT_EQ(test, id, top());
	KUNIT_EXPECT_EQ(test, fa->allocs, 1U);
	KUNIT_EXPECT_EQ(test, ioasid_alloc_id(set, top(), top() + 15, NULL,
					      &id2), 0);
	KUNIT_EXPECT_EQ(test, id2, top() + 1);
	/* A number out of the range asked for is given back and refused */
	KUNIT_EXPECT_EQ(test, ioasid_alloc_id(set, 1, 2, NULL, &held), -ENOSPC);
	KUNIT_EXPECT_EQ(test, fa->allocs, 3U);
	KUNIT_EXPECT_EQ(test, fa->frees, 1U);
	KUNIT_EXPECT_EQ(test, ioasid_get(set, id), 0);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, id), 0);
	/* Parked: the allocator keeps its number */
	KUNIT_EXPECT_EQ(test, fa->frees, 1U);
	KUNIT_EXPECT_TRUE(test, ioasid_put(set, id));
	KUNIT_EXPECT_EQ(test, fa->frees, 2U);
	ioasid_set_free(set);
	KUNIT_EXPECT_EQ(test, fa->frees, 3U);
	KUNIT_EXPECT_EQ(test, fa->used, 0UL);
}

#define RACERS		4
#define RACE_ROUNDS	3000
/* Fewer IDs than racers: the quota and the range refuse all the time */
#define RACE_QUOTA	2
#define RACE_IDS	3

struct race {
	struct ioasid_set *set;
	struct completion go;
	atomic_t running;
	struct completion done;
	DECLARE_BITMAP(owned, RACE_IDS);
	spinlock_t lock;	/* guards @owned */
	atomic_t errors;
	atomic_t allocated;
	atomic_t refused;
};

static int racer(void *arg)
{
	struct race *r = arg;
	ioasid_t id;
	int i, ret;

	wait_for_completion(&r->go);
	for (i = 0; i < RACE_ROUNDS; i++) {
		ret = ioasid_alloc_id(r->set, top(), top() + RACE_IDS - 1, NULL,
				      &id);
		if (ret) {
			if (ret == -EDQUOT || ret == -ENOSPC)
				atomic_inc(&r->refused);
			else
				atomic_inc(&r->errors);
			continue;
		}
		atomic_inc(&r->allocated);
		spin_lock(&r->lock);
		/* No ID is handed out twice at once */
		if (id < top() || id >= top() + RACE_IDS ||
		    __test_and_set_bit(id - top(), r->owned))
			atomic_inc(&r->errors);
		spin_unlock(&r->lock);
		if ((i & 1) && ioasid_get(r->set, id))
			atomic_inc(&r->errors);
		spin_lock(&r->lock);
		__clear_bit(id - top(), r->owned);
		spin_unlock(&r->lock);
		if (ioasid_free(r->set, id))
			atomic_inc(&r->errors);
		/* The free parked it; this gives it back */
		if ((i & 1) && !ioasid_put(r->set, id))
			atomic_inc(&r->errors);
		if (!(i % 64))
			cond_resched();
	}
	if (atomic_dec_and_test(&r->running))
		complete(&r->done);
	return 0;
}

static void ioasid_test_race(struct kunit *test)
{
	struct race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	unsigned long before = charged();
	struct task_struct *t;
	int i, started = 0;

	KUNIT_ASSERT_NOT_NULL(test, r);
	r->set = new_set(test, RACE_QUOTA);
	init_completion(&r->go);
	init_completion(&r->done);
	spin_lock_init(&r->lock);
	atomic_set(&r->running, RACERS);
	for (i = 0; i < RACERS; i++) {
		t = kthread_run(racer, r, "ioasid-racer/%d", i);
		if (IS_ERR(t))
			break;
		started++;
	}
	/* Those that did not start are done already */
	for (i = started; i < RACERS; i++)
		if (atomic_dec_and_test(&r->running))
			complete(&r->done);
	complete_all(&r->go);
	wait_for_completion(&r->done);

	KUNIT_EXPECT_EQ(test, started, RACERS);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->errors), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&r->allocated), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->allocated) +
			atomic_read(&r->refused), started * RACE_ROUNDS);
	KUNIT_EXPECT_EQ(test, ioasid_set_count(r->set), 0U);
	KUNIT_EXPECT_EQ(test, charged(), before);
	ioasid_set_free(r->set);
}

/* Freeing a set of more IDs than one batch, and an ID parked among them */
static void ioasid_test_free_big_set(struct kunit *test)
{
	ioasid_t cap = ioasid_capacity(), lo, kept = INVALID_IOASID, id;
	unsigned long before = charged();
	struct ioasid_set *set;
	int i;

	if (cap < 4096)
		kunit_skip(test, "%u PASIDs, the test needs 4096", cap);
	lo = cap - 2048;
	set = new_set(test, 0);
	for (i = 0; i < 1000; i++) {
		id = alloc_ok(test, set, lo, lo + 1023);
		if (i == 600) {
			kept = id;
			KUNIT_EXPECT_EQ(test, ioasid_get(set, kept), 0);
		}
	}
	KUNIT_EXPECT_EQ(test, ioasid_set_count(set), 1000U);
	ioasid_set_free(set);
	/* All given back but the referenced one, which is parked */
	KUNIT_EXPECT_EQ(test, ioasid_get(NULL, kept), -EBUSY);
	id = kept == lo ? lo + 1 : lo;
	KUNIT_EXPECT_TRUE(test, IS_ERR(ioasid_find(NULL, id, NULL)));
	if (IS_ENABLED(CONFIG_CGROUP_MISC))
		KUNIT_EXPECT_EQ(test, charged(), before + 1);
	KUNIT_EXPECT_TRUE(test, ioasid_put(NULL, kept));
	KUNIT_EXPECT_EQ(test, charged(), before);
}

static struct kunit_case ioasid_test_cases[] = {
	KUNIT_CASE(ioasid_test_capacity),
	KUNIT_CASE(ioasid_test_range),
	KUNIT_CASE(ioasid_test_quota),
	KUNIT_CASE(ioasid_test_parking),
	KUNIT_CASE(ioasid_test_ownership),
	KUNIT_CASE(ioasid_test_private_data),
	KUNIT_CASE(ioasid_test_spid),
	KUNIT_CASE(ioasid_test_for_each),
	KUNIT_CASE(ioasid_test_set_free),
	KUNIT_CASE(ioasid_test_charge),
	KUNIT_CASE(ioasid_test_custom_allocator),
	KUNIT_CASE(ioasid_test_race),
	KUNIT_CASE(ioasid_test_free_big_set),
	{}
};

/*
 * The tests allocate from the 64 IDs below the capacity, away from the
 * kernel's users.  An IOMMU with fewer PASIDs than that (QEMU's VT-d has
 * 1-bit PASIDs: two) leaves no room.
 */
static int ioasid_test_init(struct kunit *test)
{
	if (ioasid_capacity() < 128)
		kunit_skip(test, "the IOMMU has %u PASIDs, the tests need 128",
			   ioasid_capacity());
	return 0;
}

static struct kunit_suite ioasid_test_suite = {
	.name = "ioasid",
	.init = ioasid_test_init,
	.test_cases = ioasid_test_cases,
};

kunit_test_suite(ioasid_test_suite);

MODULE_DESCRIPTION("KUnit tests of the IOASID core");
MODULE_LICENSE("GPL");
