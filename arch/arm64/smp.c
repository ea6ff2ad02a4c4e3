/* arm64 SMP: CPUs from the device tree started by PSCI CPU_ON, their set-up, SGI cross-calls. */
#include <asm/barrier.h>
#include <asm/boot.h>
#include <asm/cacheflush.h>
#include <asm/gic.h>
#include <asm/irqflags.h>
#include <asm/processor.h>
#include <asm/psci.h>
#include <asm/smp.h>
#include <asm/sysreg.h>
#include <asm/traps.h>
#include <kernel/cpu.h>
#include <kernel/printk.h>
#include <kernel/smp.h>
#include <lib/errno.h>
#include <mm/mm.h>

/* MPIDR_EL1's affinity fields Aff3 [39:32], Aff2..Aff0 [23:0]: what /cpus reg holds. */
#define MPIDR_HWID_MASK 0xff00ffffffULL

/* One per CPU, written by the boot CPU before CPU_ON, read by head.S with the MMU off. */
static struct arm64_boot_block boot_blocks[NR_CPUS];

_Static_assert(__builtin_offsetof(struct arm64_boot_block, ttbr1) == BOOT_BLOCK_TTBR1, "head.S");
_Static_assert(__builtin_offsetof(struct arm64_boot_block, stack_top) == BOOT_BLOCK_STACK,
	       "head.S");
_Static_assert(__builtin_offsetof(struct arm64_boot_block, cpu) == BOOT_BLOCK_CPU, "head.S");

u64 arch_cpu_hwid(void)
{
	return read_sysreg(mpidr_el1) & MPIDR_HWID_MASK;
}

static const char *psci_error(long ret)
{
	switch (ret) {
	case PSCI_RET_INVALID_PARAMS:
		return "invalid parameters";
	case PSCI_RET_ALREADY_ON:
		return "already on";
	case PSCI_RET_ON_PENDING:
		return "already being turned on";
	case PSCI_RET_INTERNAL_FAILURE:
		return "internal failure";
	case PSCI_RET_INVALID_ADDRESS:
		return "invalid entry address";
	}
	return "unknown error";
}

int arch_boot_secondary(unsigned int cpu, u64 hwid, unsigned long stack_top)
{
	struct arm64_boot_block *b = &boot_blocks[cpu];
	unsigned long entry = (unsigned long)(uintptr_t)arm64_secondary_entry;
	long ret;

	if (psci_conduit == PSCI_CONDUIT_NONE) {
		printk("arm64: no /psci node in the device tree: cannot start CPU %u\n", cpu);
		return -ENOSYS;
	}
	b->ttbr1 = init_mm.pgd;
	b->stack_top = stack_top;
	b->cpu = (u64)(uintptr_t)&cpus[cpu];
	/*
	 * The new CPU reads the block with its MMU (and so its caches) off, straight from
	 * memory: push our cached copy there first, and wait until it has arrived.
	 */
	dc_civac((unsigned long)(uintptr_t)b);
	dsb(sy);

	if (psci_conduit == PSCI_CONDUIT_SMC)
		ret = psci_call3_smc(PSCI_0_2_FN64_CPU_ON, hwid, virt_to_phys((void *)entry),
				     virt_to_phys(b));
	else
		ret = psci_call3_hvc(PSCI_0_2_FN64_CPU_ON, hwid, virt_to_phys((void *)entry),
				     virt_to_phys(b));
	if (ret != PSCI_RET_SUCCESS) {
		printk("arm64: PSCI CPU_ON for MPIDR %#llx: %s (%ld)\n", (unsigned long long)hwid,
		       psci_error(ret), ret);
		return -EIO;
	}
	return 0;
}

/* head.S's secondary path ends here: MMU on with the kernel's tables, in the high half, on
 * our own stack, nothing in TTBR0. */
__noreturn void arm64_secondary_start(void)
{
	arm64_gic_cpu_init();
	arm64_timer_start();
	secondary_start();
}

void arch_send_call_ipi(unsigned int cpu)
{
	arm64_gic_send_sgi(cpu, GIC_SGI_CALL);
}

__noreturn void arch_cpu_park(void)
{
	arch_local_irq_disable();
	for (;;)
		wfi();
}
