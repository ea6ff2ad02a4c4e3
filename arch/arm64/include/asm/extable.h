/* The assembler's way to add an exception-table entry (struct exception_table_entry). */
#pragma once

#ifdef __ASSEMBLY__
/*
 * If the instruction at insn faults, the trap handler resumes at fixup instead of
 * reporting the fault: two absolute addresses, 8-byte aligned, in the "__ex_table"
 * section that the linker script brackets with __start___ex_table/__stop___ex_table.
 */
/* Assembler, not C: clang-format must leave it alone. */
/* clang-format off */
.macro ex_table insn, fixup
	.pushsection __ex_table, "a"
	.balign 8
	.quad \insn, \fixup
	.popsection
.endm
/* clang-format on */
#endif
