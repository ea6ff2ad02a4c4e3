/* The periodic timer tick (kernel/timer.c over the arch timer). */
#pragma once

#include <lib/types.h>

#define TIMER_HZ 100

/*
 * The tick rate: TIMER_HZ, unless a test raised it for a while with timer_set_hz() (the
 * scheduler's stress test does, to preempt more often). msleep() follows the current rate.
 */
unsigned int timer_hz(void);
/* 1..10000 Hz; anything else is refused with a warning. */
void timer_set_hz(unsigned int hz);

/* Ticks since the timer started. */
u64 timer_ticks(void);

/* Called by the arch timer interrupt handler, between irq_enter() and irq_exit(). */
void timer_tick(void);

/* Runs fn(arg) once, from the next timer interrupt (so in interrupt context). */
void timer_call_once(void (*fn)(void *), void *arg);

/* Waits (interrupts enabled, CPU halted between ticks) until n more ticks have passed. */
void timer_wait_ticks(u64 n);
