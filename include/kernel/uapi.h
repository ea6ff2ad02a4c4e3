/*
 * The user ABI's numbers and constants, seen from the kernel: the very header user programs
 * include (user/include/lazymmu/syscall.h), without its wrappers.
 */
#pragma once

#ifndef __KERNEL__
#define __KERNEL__
#endif
#include <lazymmu/syscall.h>
