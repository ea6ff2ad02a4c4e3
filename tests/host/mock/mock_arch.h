/* The host mock's own controls (mock_arch.c): the one CPU, its task, and a clean reset. */
#pragma once

#include <kernel/task.h>
#include <kernel/irq.h>

/* The task that `current` names on the host. */
extern struct task mock_task;

/* Puts the mock CPU in its boot state: task current, interrupts enabled, depth 0. */
void mock_arch_init(void);
