/* One semihosting call (hlt #0xf000) that returns -ENOSYS instead of crashing without -semihosting. */
#include <asm/extable.h>
#include <lib/errno.h>

	.text
/* long arm64_semihosting_call(unsigned long op, const void *param) */
	.globl arm64_semihosting_call
	.type arm64_semihosting_call, %function
arm64_semihosting_call:
1:	hlt	#0xf000
	ret
2:	mov	x0, #-ENOSYS
	ret
	ex_table 1b, 2b
	.size arm64_semihosting_call, . - arm64_semihosting_call
