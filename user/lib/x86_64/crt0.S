/* x86-64 user program entry: _start calls main() and hands its return value to exit(). */
#include <lazymmu/syscall.h>

/*
 * The kernel enters here in ring 3 with rsp = USER_STACK_TOP (16-byte aligned) and every
 * other register zero. The SysV ABI wants rsp 16-byte aligned at a "call" (so a function
 * sees rsp + 8 aligned on entry, its return address having been pushed): true here already;
 * the "and" only guards against a loader that one day pushes arguments on the stack.
 */
	.section .text.start, "ax"
	.globl _start
	.type _start, @function
_start:
	xorl	%ebp, %ebp		/* the outermost frame: a backtrace stops at rbp = 0 */
	andq	$-16, %rsp
	call	main
	/* exit(main()): exit() takes an int, which the C wrapper sign-extends to 64 bits. */
	movslq	%eax, %rdi
	movl	$SYS_exit, %eax
	syscall
	/* exit never returns; if it did, an invalid opcode kills the process loudly. */
	ud2
	.size _start, . - _start

	/* No executable stack (the linker would otherwise warn, and assume one). */
	.section .note.GNU-stack, "", @progbits
