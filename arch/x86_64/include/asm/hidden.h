/* Forced into every x86-64 C file (Makefile): every symbol is defined in the image itself. */
#pragma once

/*
 * -fpie code takes the address of a symbol it might have to share with a shared library
 * (any extern function, under GCC's rules) through the GOT, and the static link then
 * rewrites that load into an absolute 32-bit immediate - which can't hold a high-half
 * address. Hidden visibility says "defined in this image", so the compiler writes a plain
 * rip-relative lea instead and nothing needs the GOT. Linux builds its x86 decompressor the
 * same way, for the same reason.
 */
#pragma GCC visibility push(hidden)
