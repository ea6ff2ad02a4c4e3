/* The ELF machine number of this arch's programs (System V gABI e_machine): the loader checks it. */
#pragma once

#define ELF_MACHINE 62 /* EM_X86_64 */
