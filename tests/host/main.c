/* Host unit-test entry: runs the registered suites and prints KTAP on stdout. */
#include <stdlib.h>
#include <string.h>

#include <mock_arch.h>
#include <kunit/test.h>

/*
 * As in the kernel: a case must leave no lazy MMU section open and no fake interrupt
 * context behind, or the next case starts from a state it didn't ask for.
 */
static void host_post_case(struct kunit *test)
{
	const struct lazy_mmu_state *s = &current->lazy_mmu_state;

	if (s->enable_count || s->pause_count || this_cpu()->irq_depth || !mock_irqs_on)
		kunit_fail(test, false, __FILE__, __LINE__,
			   "case left enable=%u pause=%u irq_depth=%u irqs %s", s->enable_count,
			   s->pause_count, this_cpu()->irq_depth, mock_irqs_on ? "on" : "off");
	mock_task.lazy_mmu_state = (struct lazy_mmu_state){ 0 };
	mock_arch_init();
}

/*
 * The arguments are the kernel's command-line words (the runner passes the same ones):
 * kunit.filter_glob=<glob> selects suites, lazy_mmu.seed=<n> replays a random run (as
 * LAZYMMU_SEED=<n> does). A bare word is taken as the glob.
 */
int main(int argc, char **argv)
{
	const char *glob = NULL;

	for (int i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');

		if (!strncmp(argv[i], "kunit.filter_glob=", 18))
			glob = argv[i] + 18;
		else if (!strncmp(argv[i], "lazy_mmu.seed=", 14))
			setenv("LAZYMMU_SEED", argv[i] + 14, 1);
		else if (!eq)
			glob = argv[i];
	}
	mock_arch_init();
	kunit_post_case = host_post_case;
	return kunit_run_all(glob) ? 1 : 0;
}
