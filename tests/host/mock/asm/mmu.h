/* Mock per-address-space MMU state: the host tests have no ASIDs. */
#pragma once

#include <lib/types.h>

typedef struct {
	u64 asid;
} mm_context_t;
