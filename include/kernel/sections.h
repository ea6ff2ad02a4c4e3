/* Symbols the linker scripts define around the kernel image, for mm_init() and the tests. */
#pragma once

/*
 * Every boundary is page aligned, so each part can be mapped with its own permissions:
 *
 *   _kernel_start
 *     text     [_text_start,   _text_end)    read-only, executable
 *     rodata   [_rodata_start, _rodata_end)  read-only, never executable
 *              (includes __ex_table and the kunit_suites table)
 *     data     [_data_start,   _data_end)    read-write, never executable (data + bss)
 *   _kernel_end
 *
 * Inside data, the boot stack sits on top of a guard page that is never mapped, so that an
 * overflow faults instead of silently corrupting what lies below:
 *   [__stack_guard, __stack_guard + 4K)  guard (unmapped)
 *   [__stack_guard + 4K, __stack_top)    the boot stack
 */
extern char _kernel_start[], _kernel_end[];
extern char _text_start[], _text_end[];
extern char _rodata_start[], _rodata_end[];
extern char _data_start[], _data_end[];
extern char __stack_guard[], __stack_top[];
