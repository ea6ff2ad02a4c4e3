/* arm64 user program entry: _start calls main() and hands its return value to exit(). */
#include <lazymmu/syscall.h>

/*
 * The kernel enters here at EL0 with sp = USER_STACK_TOP (16-byte aligned, as AAPCS64 and
 * the hardware's SP alignment check demand for every sp-based access) and every other
 * register zero.
 */
	.section .text.start, "ax"
	.globl _start
	.type _start, %function
_start:
	/* The outermost frame: a frame-record walk stops at fp = 0, lr = 0. */
	mov	x29, #0
	mov	x30, #0
	bl	main
	/* exit(main()): exit() takes an int, which the C wrapper sign-extends to 64 bits. */
	sxtw	x0, w0
	mov	x8, #SYS_exit
	svc	#0
	/* exit never returns; if it did, a permanently undefined instruction kills the process. */
	udf	#0
	.size _start, . - _start

	/* No executable stack (the linker would otherwise warn, and assume one). */
	.section .note.GNU-stack, "", %progbits
