/* What CPUID says about this CPU, read once at boot. */
#pragma once

#include <lib/types.h>

struct x86_cpu_info {
	char vendor[13];
	char brand[49];
	unsigned int family, model, stepping;
	bool pge;     /* global pages (CR4.PGE) */
	bool pcid;    /* process-context identifiers (CR4.PCIDE) */
	bool invpcid; /* the INVPCID instruction */
	bool nx;      /* no-execute (EFER.NXE) */
	bool gbpages; /* 1 GiB pages */
	bool x2apic;
	bool tsc_invariant;
};

extern struct x86_cpu_info x86_cpu;

void x86_cpu_detect(void);
