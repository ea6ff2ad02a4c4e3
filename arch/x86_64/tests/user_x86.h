/* Helpers of the x86-64 ring 3 tests: a small address space with user code, data and stack. */
#pragma once

#include <asm/user_session.h>
#include <kunit/test.h>
#include <mm/mm.h>

/* Where a user_env maps its pages: one each, in the user half. */
#define UX_CODE	 0x400000UL /* PAGE_USER_RX: the snippet */
#define UX_DATA	 0x600000UL /* PAGE_USER_RW, zeroed */
#define UX_STACK 0x800000UL /* PAGE_USER_RW: the stack is its top */

/*
 * A user snippet: position-independent code between name and name_end, kept in .rodata
 * (the kernel never runs it) and copied into a user page.
 */
#define USER_SNIPPET(name, code)                \
	extern const char name[], name##_end[]; \
	__asm__(".pushsection .rodata\n" #name ":\n" code #name "_end:\n.popsection\n")

/* user_x86.c: spins until rdi TSC cycles have passed, then syscalls (shared by the suites). */
extern const char ux_spin[], ux_spin_end[];

struct user_env {
	struct mm_struct mm;
	phys_addr_t code, data, stack;
};

/* An mm of its own with the snippet [start, end) at UX_CODE; NULL (and a report) on failure. */
struct user_env *user_env_new(struct kunit *test, const char *start, const char *end);
/*
 * Loads e's mm on this CPU, runs the session in it, loads back this CPU's active_mm; the
 * ending vector. Preemption is off throughout: no other task may run on e's tables.
 */
unsigned long user_env_run(struct user_env *e, struct x86_user_session *s);
/* Unmaps, frees every frame (the tables' too) and the mm. */
void user_env_free(struct user_env *e);
/* Loads e's mm (interrupts and preemption masked by the caller), and active_mm back. */
void user_env_load(struct user_env *e);
void user_env_unload(struct user_env *e);
