/* The ELF machine number of this arch's programs (System V gABI e_machine): the loader checks it. */
#pragma once

#define ELF_MACHINE 183 /* EM_AARCH64 */
