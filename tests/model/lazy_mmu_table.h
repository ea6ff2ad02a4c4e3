/*
 * The lazy MMU transition table (design section 3), once, for the C tests and the spin model.
 *
 * One row per (call, outcome). A row says when it applies, the counts after the call, the
 * one arch hook the call makes, and whether the call is a misuse (warned about once and
 * refused). The rows of a call are disjoint and together cover every state: exactly one
 * row applies to any (enable, pause, interrupt) and call.
 *
 * Three consumers, each checked against this table, so that none of them can drift:
 *  - tests/host/lazy_mmu_test.c (lazy_mmu_host_table_*): the real mm/lazy_mmu.c, driven
 *    into every corner state (counts 0, 1, 2, 3, 254 and 255, in and out of interrupt
 *    context), must do what the one applicable row says; the C reference model of
 *    tests/kernel/lazy_mmu_cases.h (lm_model_call) must name the same row; and the rows must
 *    be disjoint and complete over all 256 x 256 x 2 states.
 *  - tests/model/lazy_mmu.pml: every helper call the model makes, in every interleaving
 *    spin explores, asserts that its outcome is the applicable row (LMT_CHECK), and the
 *    model's table check (-DCHECK_TABLE) walks every state of the model's bounded counts.
 * The file is plain C preprocessor text, which spin also runs over the model: write rows
 * in the subset of expressions C and Promela share (== != < > && || ! + - and parentheses).
 *
 * The includer defines the names a row uses before expanding the table:
 *   LMT_E, LMT_P   the task's enable_count and pause_count before the call
 *   LMT_IRQ        non-zero in interrupt context
 *   LMT_MAX        the highest count (255 in C; the model uses a small bound)
 * and a ROW(call, outcome, when, enable_after, pause_after, hook, misuse) macro. The tokens
 * are those of tests/kernel/lazy_mmu_cases.h: LM_##call is an enum lm_op,
 * LM_ROW_##call##_##outcome an enum lm_row, LM_##hook an enum lm_hook.
 */
#pragma once

/* clang-format off */
#define LAZY_MMU_TABLE(ROW)                                                                  \
	/* enable(): enable_count++; 0 -> 1 enters the arch mode */                          \
	ROW(ENABLE,  IRQ,     (LMT_IRQ),                                                     \
	    LMT_E,     LMT_P,     NO_HOOK, 0)                                                \
	ROW(ENABLE,  PAUSED,  (!(LMT_IRQ) && LMT_P > 0),                                     \
	    LMT_E,     LMT_P,     NO_HOOK, 0)                                                \
	ROW(ENABLE,  REFUSED, (!(LMT_IRQ) && LMT_P == 0 && LMT_E == LMT_MAX),                \
	    LMT_E,     LMT_P,     NO_HOOK, 1)                                                \
	ROW(ENABLE,  ENTER,   (!(LMT_IRQ) && LMT_P == 0 && LMT_E == 0),                      \
	    LMT_E + 1, LMT_P,     ENTER,   0)                                                \
	ROW(ENABLE,  NESTED,  (!(LMT_IRQ) && LMT_P == 0 && LMT_E > 0 && LMT_E < LMT_MAX),    \
	    LMT_E + 1, LMT_P,     NO_HOOK, 0)                                                \
	/* disable(): --enable_count; reaching 0 leaves, otherwise flushes */                \
	ROW(DISABLE, IRQ,     (LMT_IRQ),                                                     \
	    LMT_E,     LMT_P,     NO_HOOK, 0)                                                \
	ROW(DISABLE, PAUSED,  (!(LMT_IRQ) && LMT_P > 0),                                     \
	    LMT_E,     LMT_P,     NO_HOOK, 0)                                                \
	ROW(DISABLE, REFUSED, (!(LMT_IRQ) && LMT_P == 0 && LMT_E == 0),                      \
	    LMT_E,     LMT_P,     NO_HOOK, 1)                                                \
	ROW(DISABLE, LEAVE,   (!(LMT_IRQ) && LMT_P == 0 && LMT_E == 1),                      \
	    LMT_E - 1, LMT_P,     LEAVE,   0)                                                \
	ROW(DISABLE, FLUSH,   (!(LMT_IRQ) && LMT_P == 0 && LMT_E > 1),                       \
	    LMT_E - 1, LMT_P,     FLUSH,   0)                                                \
	/* pause(): pause_count++; 0 -> 1 while enabled leaves (enable/disable now no-ops) */ \
	ROW(PAUSE,   IRQ,     (LMT_IRQ),                                                     \
	    LMT_E,     LMT_P,     NO_HOOK, 0)                                                \
	ROW(PAUSE,   REFUSED, (!(LMT_IRQ) && LMT_P == LMT_MAX),                              \
	    LMT_E,     LMT_P,     NO_HOOK, 1)                                                \
	ROW(PAUSE,   LEAVE,   (!(LMT_IRQ) && LMT_P == 0 && LMT_E > 0),                       \
	    LMT_E,     LMT_P + 1, LEAVE,   0)                                                \
	ROW(PAUSE,   NESTED,  (!(LMT_IRQ) && LMT_P < LMT_MAX && (LMT_P > 0 || LMT_E == 0)),  \
	    LMT_E,     LMT_P + 1, NO_HOOK, 0)                                                \
	/* resume(): --pause_count; reaching 0 while enabled re-enters */                    \
	ROW(RESUME,  IRQ,     (LMT_IRQ),                                                     \
	    LMT_E,     LMT_P,     NO_HOOK, 0)                                                \
	ROW(RESUME,  REFUSED, (!(LMT_IRQ) && LMT_P == 0),                                    \
	    LMT_E,     LMT_P,     NO_HOOK, 1)                                                \
	ROW(RESUME,  ENTER,   (!(LMT_IRQ) && LMT_P == 1 && LMT_E > 0),                       \
	    LMT_E,     LMT_P - 1, ENTER,   0)                                                \
	ROW(RESUME,  NESTED,  (!(LMT_IRQ) && LMT_P > 0 && (LMT_P > 1 || LMT_E == 0)),        \
	    LMT_E,     LMT_P - 1, NO_HOOK, 0)
/* clang-format on */

/* The number of rows: every one must be exercised by each consumer's exhaustive walk. */
#define LAZY_MMU_TABLE_ROWS 18

/* is_lazy_mmu_mode_active() for the same state. */
#define LMT_ACTIVE (!(LMT_IRQ) && LMT_E > 0 && LMT_P == 0)
