/* The x86-64 ring 3 tests' address spaces (user_x86.h): built by hand, no process needed. */
#include <asm/irqflags.h>
#include <asm/pgtable.h>
#include <kernel/arch.h>
#include <kernel/cpu.h>
#include <kernel/preempt.h>
#include <lib/string.h>
#include <mm/user.h>

#include "user_x86.h"

/* Ids for the tests' mms, far above what mm_alloc() hands out. */
static u64 next_test_mm_id = 1ULL << 62;

struct user_env *user_env_new(struct kunit *test, const char *start, const char *end)
{
	phys_addr_t pa = alloc_frame();
	struct user_env *e;
	size_t len = (size_t)(end - start);

	KUNIT_EXPECT_LE(test, len, PAGE_SIZE);
	if (!pa || len > PAGE_SIZE)
		return NULL;
	_Static_assert(sizeof(*e) <= PAGE_SIZE, "a user_env fits a frame");
	e = phys_to_virt(pa); /* zeroed */
	spin_lock_init(&e->mm.page_table_lock);
	e->mm.name = "user_x86";
	e->mm.id = __atomic_fetch_add(&next_test_mm_id, 1, __ATOMIC_RELAXED);
	e->mm.pgd = alloc_frame();
	e->code = alloc_frame();
	e->data = alloc_frame();
	e->stack = alloc_frame();
	if (!e->mm.pgd || !e->code || !e->data || !e->stack || arch_pgd_init(&e->mm) ||
	    init_new_context(&e->mm))
		goto fail;
	memcpy(phys_to_virt(e->code), start, len);
	if (map_pages(&e->mm, UX_CODE, e->code, 1, PAGE_USER_RX) ||
	    map_pages(&e->mm, UX_DATA, e->data, 1, PAGE_USER_RW) ||
	    map_pages(&e->mm, UX_STACK, e->stack, 1, PAGE_USER_RW))
		goto fail;
	return e;
fail:
	kunit_fail(test, false, __FILE__, __LINE__, "user_env_new: out of frames");
	user_env_free(e);
	return NULL;
}

void user_env_load(struct user_env *e)
{
	arch_switch_mm(&e->mm);
}

/*
 * This CPU leaves e's mm for the one the scheduler believes loaded (cpu->active_mm: it
 * skips the load when a task's mm is that one), and leaves e's cpumask - the scheduler's
 * part of a switch, done by hand.
 */
void user_env_unload(struct user_env *e)
{
	arch_switch_mm(this_cpu()->active_mm);
	__atomic_fetch_and(&e->mm.cpumask, ~(1UL << this_cpu()->id), __ATOMIC_RELAXED);
}

unsigned long user_env_run(struct user_env *e, struct x86_user_session *s)
{
	unsigned long flags, vector;

	preempt_disable();
	flags = arch_local_irq_save();
	user_env_load(e);
	arch_local_irq_restore(flags);
	vector = x86_user_session_run(s);
	flags = arch_local_irq_save();
	user_env_unload(e);
	arch_local_irq_restore(flags);
	preempt_enable();
	return vector;
}

void user_env_free(struct user_env *e)
{
	static const unsigned long va[] = { UX_CODE, UX_DATA, UX_STACK };
	phys_addr_t *frames[] = { &e->code, &e->data, &e->stack };

	for (unsigned int i = 0; i < ARRAY_SIZE(va); i++) {
		phys_addr_t pa;
		pgprot_t prot;

		if (e->mm.pgd && query_page(&e->mm, va[i], &pa, &prot) == 0)
			unmap_pages(&e->mm, va[i], 1);
		if (*frames[i])
			free_frame(*frames[i]);
	}
	if (e->mm.pgd) {
		destroy_context(&e->mm);
		free_frame(e->mm.pgd);
	}
	free_frame(virt_to_phys(e));
}
