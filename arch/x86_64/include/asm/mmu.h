/* x86-64 per-address-space MMU state. */
#pragma once

#include <lib/types.h>

/* A user address space's PCID state (none yet: plain CR3 loads). */
typedef struct {
	u64 pcid;
} mm_context_t;
