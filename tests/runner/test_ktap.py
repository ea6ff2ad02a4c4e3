"""Self-tests of the KTAP parser and the verdict rules, on canned transcripts.

Run: python3 -m unittest discover -s tests/runner -v
"""

import textwrap
import unittest

import ktap
from ktap import FAIL, ISA_DEBUG_EXIT, PASS, PROCESS, SEMIHOSTING, SKIP


def lines(text: str, crlf: bool = True):
    """A transcript as the serial port delivers it: '\\r\\n' line ends by default."""
    body = textwrap.dedent(text).strip("\n").split("\n")
    return [line + "\r" for line in body] if crlf else body


BANNER = """\
    lazymmu: booted via pvh, cmdline ""
    x86_64: QEMU TCG CPU
"""

# The design's example: a passing case, a failing one with a diagnostic, a skip.
HARNESS = """\
    KTAP version 1
        # Subtest: harness
        1..3
        # running: expect_eq_passes
        ok 1 expect_eq_passes
        # running: some_case
        # some_case: EXPECTATION FAILED at tests/kernel/x.c:10
        # Expected x == 1, but
        not ok 2 some_case
        # running: skipped_case
        ok 3 skipped_case # SKIP no FEAT_TLBIRANGE
    not ok 1 harness
"""

TIMER_OK = """\
        KTAP version 1
        # Subtest: timer
        1..2
        # running: fires
        ok 1 fires
        # running: stops
        ok 2 stops
    ok 2 timer
"""

PASSING = BANNER + """\
    KTAP version 1
    1..2
        KTAP version 1
        # Subtest: harness
        1..2
        # running: expect_eq_passes
        ok 1 expect_eq_passes
        # running: skipped_case
        ok 2 skipped_case # skip no FEAT_TLBIRANGE
    ok 1 harness
""" + TIMER_OK + """\
    lazymmu: exit 0
"""

FAILING = BANNER + """\
    KTAP version 1
    1..2
""" + HARNESS + TIMER_OK + """\
    lazymmu: exit 1
"""

# The kernel hangs in timer.stops: the output just stops.
HANGING = BANNER + """\
    KTAP version 1
    1..3
        KTAP version 1
        # Subtest: harness
        1..1
        ok 1 expect_eq_passes
    ok 1 harness
        KTAP version 1
        # Subtest: timer
        1..3
        # running: fires
        ok 1 fires
        # running: stops
"""

# A page fault in tlb.flush_range: the exception report, then the panic exit.
CRASHING = BANNER + """\
    KTAP version 1
    1..2
        KTAP version 1
        # Subtest: tlb
        1..3
        # running: flush_page
        ok 1 flush_page
        # running: flush_range
    x86_64: page fault (#PF) at rip 0xffffffff80012345, cr2 0xdead000, error 0x2
    x86_64: rax 0000000000000000 rbx 0000000000000001
    PANIC: unexpected exception
    PANIC: while running test tlb.flush_range
    lazymmu: exit 2
"""


def judge(text, rc, style=ISA_DEBUG_EXIT, timeout=None, crlf=True):
    return ktap.judge(lines(text, crlf), rc, style, timeout)


def statuses(verdict):
    return {c.full_name: c.status for c in verdict.cases}


class ClassifyTest(unittest.TestCase):
    def test_kinds(self):
        c = ktap.classify
        self.assertEqual(c("KTAP version 1\r").kind, ktap.HEADER)
        self.assertEqual(c("  1..14").number, 14)
        self.assertEqual(c("    # Subtest: lazy_mmu").name, "lazy_mmu")
        self.assertEqual(c("    # running: fires").name, "fires")
        self.assertEqual(c("    # some diagnostic").kind, ktap.DIAG)
        self.assertEqual(c("lazymmu: exit 2\r").number, 2)
        self.assertEqual(c("lazymmu: booted via pvh").kind, ktap.OTHER)
        self.assertEqual(c("okay 1 not a result").kind, ktap.OTHER)

    def test_result_fields(self):
        r = ktap.classify("    ok 3 skipped_case # SKIP no FEAT_TLBIRANGE\r")
        self.assertEqual((r.kind, r.ok, r.number, r.name, r.directive),
                         (ktap.RESULT, True, 3, "skipped_case", "SKIP no FEAT_TLBIRANGE"))
        r = ktap.classify("not ok 12 - dashed name")
        self.assertEqual((r.ok, r.number, r.name, r.directive), (False, 12, "dashed name", ""))


class PassTest(unittest.TestCase):
    def test_all_pass_x86(self):
        v = judge(PASSING, rc=1)
        self.assertTrue(v.passed, v.problems)
        self.assertEqual(v.problems, [])
        self.assertEqual(statuses(v), {"harness.expect_eq_passes": PASS,
                                       "harness.skipped_case": SKIP,
                                       "timer.fires": PASS, "timer.stops": PASS})
        self.assertEqual([(s.number, s.name, s.status) for s in v.suites],
                         [(1, "harness", "ok"), (2, "timer", "ok")])
        self.assertFalse(v.boot_failure)

    def test_all_pass_arm64_and_lf_line_ends(self):
        v = judge(PASSING, rc=0, style=SEMIHOSTING, crlf=False)
        self.assertTrue(v.passed, v.problems)

    def test_indentation_is_cosmetic(self):
        flat = "\n".join(line.strip() for line in PASSING.splitlines())
        v = judge(flat, rc=1)
        self.assertTrue(v.passed, v.problems)
        self.assertEqual(len(v.cases), 4)

    def test_junk_between_lines_is_tolerated(self):
        noisy = PASSING.replace("        ok 1 fires\n",
                                "    x86_64: timer tick\n        ok 1 fires\n    junk\n")
        self.assertTrue(judge(noisy, rc=1).passed)

    def test_subtest_line_before_header(self):
        swapped = PASSING.replace("        KTAP version 1\n        # Subtest: timer\n",
                                  "        # Subtest: timer\n        KTAP version 1\n")
        self.assertNotEqual(swapped, PASSING)
        self.assertTrue(judge(swapped, rc=1).passed)

    def test_empty_filter_passes_with_no_cases(self):
        v = judge("KTAP version 1\n1..0\nlazymmu: exit 0\n", rc=1)
        self.assertTrue(v.passed, v.problems)
        self.assertEqual(v.cases, [])


class FailTest(unittest.TestCase):
    def test_failed_case_with_diagnostics(self):
        v = judge(FAILING, rc=3)
        self.assertFalse(v.passed)
        self.assertEqual(statuses(v)["harness.some_case"], FAIL)
        case = next(c for c in v.cases if c.status == FAIL)
        self.assertEqual(case.why, "not ok")
        self.assertEqual(case.diagnostics,
                         ["# some_case: EXPECTATION FAILED at tests/kernel/x.c:10",
                          "# Expected x == 1, but"])
        self.assertEqual(v.suites[0].status, "FAIL")
        # Consistent failure: the only problem is the exit code's meaning.
        self.assertEqual(v.problems, ["the kernel exited with code 1 (some test failed)"])
        self.assertFalse(v.boot_failure)
        self.assertEqual((v.count(PASS), v.count(FAIL), v.count(SKIP)), (3, 1, 1))

    def test_skip_directive_either_case(self):
        v = judge(FAILING.replace("# SKIP", "# skip"), rc=3)
        self.assertEqual(statuses(v)["harness.skipped_case"], SKIP)
        self.assertEqual(next(c for c in v.cases if c.status == SKIP).why, "no FEAT_TLBIRANGE")

    def test_all_skipped_suite(self):
        text = """\
            KTAP version 1
            1..1
            KTAP version 1
            # Subtest: range
            1..1
            ok 1 tlbi_range # SKIP no FEAT_TLBIRANGE
            ok 1 range # SKIP all cases skipped
            lazymmu: exit 0
        """
        v = judge(text, rc=0, style=SEMIHOSTING)
        self.assertTrue(v.passed, v.problems)
        self.assertEqual(v.suites[0].status, "SKIP")


class HangTest(unittest.TestCase):
    def test_timeout_names_suite_and_case(self):
        v = judge(HANGING, rc=-15, timeout=120)
        self.assertFalse(v.passed)
        self.assertEqual(v.timeout_message,
                         "TIMEOUT after 120s in suite 'timer', last test seen: 'stops'")
        self.assertEqual(v.problems[0], v.timeout_message)
        self.assertEqual(v.closing_lines, ["    not ok 2 stops # TIMEOUT",
                                           "not ok 2 timer # TIMEOUT"])
        self.assertEqual(v.suites[1].status, "TIMEOUT")
        self.assertEqual(statuses(v), {"harness.expect_eq_passes": PASS, "timer.fires": PASS,
                                       "timer.stops": FAIL, "timer.#3": FAIL})
        stops = [c for c in v.cases if c.name == "stops"][0]
        self.assertEqual(stops.why, "TIMEOUT")
        self.assertIn("1 of 3 planned suites never ran", v.problems)

    def test_timeout_without_running_lines_uses_last_result(self):
        text = "\n".join(line for line in HANGING.splitlines() if "# running" not in line)
        v = judge(text, rc=None, timeout=30)
        self.assertEqual(v.timeout_message,
                         "TIMEOUT after 30s in suite 'timer', last test seen: 'fires'")
        self.assertEqual(v.closing_lines, ["not ok 2 timer # TIMEOUT"])
        # Nobody knows the hanging case's name: the unreported cases fail by number.
        self.assertEqual(statuses(v)["timer.#2"], FAIL)
        self.assertEqual(statuses(v)["timer.#3"], FAIL)

    def test_timeout_before_any_ktap(self):
        v = judge(BANNER, rc=None, timeout=120)
        self.assertEqual(v.timeout_message, "TIMEOUT after 120s before any KTAP output")
        self.assertTrue(v.boot_failure)

    def test_timeout_after_last_suite(self):
        text = PASSING.replace("    lazymmu: exit 0\n", "")
        v = judge(text, rc=None, timeout=5)
        self.assertEqual(v.timeout_message,
                         "TIMEOUT after 5s after the last suite: the kernel never exited")
        self.assertTrue(v.boot_failure)

    def test_truncated_without_timeout_blames_running_case(self):
        v = judge(HANGING, rc=0, style=SEMIHOSTING)
        self.assertFalse(v.passed)
        stops = [c for c in v.cases if c.name == "stops"][0]
        self.assertEqual((stops.status, stops.why),
                         (FAIL, "no result: the output stopped during this case"))
        self.assertTrue(any("never printed 'lazymmu: exit N'" in p for p in v.problems))


class CrashTest(unittest.TestCase):
    def test_crash_mid_case(self):
        v = judge(CRASHING, rc=5)
        self.assertFalse(v.passed)
        self.assertEqual(statuses(v), {"tlb.flush_page": PASS, "tlb.flush_range": FAIL,
                                       "tlb.#3": FAIL})
        crash = [c for c in v.cases if c.name == "flush_range"][0]
        # The crash report explains the blamed case.
        self.assertIn("PANIC: while running test tlb.flush_range", crash.diagnostics)
        self.assertIn("x86_64: page fault (#PF) at rip 0xffffffff80012345, cr2 0xdead000, "
                      "error 0x2", crash.diagnostics)
        self.assertIn("the kernel exited with code 2 (panic or unexpected exception)",
                      v.problems)
        self.assertIn("1 of 2 planned suites never ran", v.problems)
        self.assertTrue(ktap.expect_failure(v, "tlb.flush_range")[0])

    def test_triple_fault_rc0(self):
        # No exit line and QEMU status 0: -no-reboot turned a CPU reset into an exit.
        text = CRASHING.split("    x86_64: page fault")[0]
        v = judge(text, rc=0)
        self.assertFalse(v.passed)
        self.assertTrue(any("triple fault" in p for p in v.problems), v.problems)
        self.assertEqual(statuses(v)["tlb.flush_range"], FAIL)

    def test_psci_off_rc0_without_exit_line(self):
        v = judge(PASSING.replace("    lazymmu: exit 0\n", ""), rc=0, style=SEMIHOSTING)
        self.assertFalse(v.passed)
        self.assertTrue(v.boot_failure)
        self.assertTrue(any("PSCI" in p for p in v.problems), v.problems)

    def test_no_ktap_at_all(self):
        v = judge(BANNER + "    PANIC: no memory\n    lazymmu: exit 2\n", rc=5)
        self.assertFalse(v.passed)
        self.assertTrue(v.boot_failure)
        self.assertIn("no KTAP output (no 'KTAP version 1' line)", v.problems)


class PlanTest(unittest.TestCase):
    def test_suite_reports_fewer_cases_than_planned(self):
        text = PASSING.replace("        1..2\n        # running: fires", "        1..3\n"
                               "        # running: fires")
        v = judge(text, rc=1)
        self.assertFalse(v.passed)
        self.assertIn("suite 'timer' planned 3 tests but reported 2", v.problems)
        self.assertEqual(statuses(v)["timer.#3"], FAIL)
        self.assertEqual(v.cases[-1].why, "planned but never reported")

    def test_fewer_suites_than_planned(self):
        v = judge(PASSING.replace("    1..2\n", "    1..3\n", 1), rc=1)
        self.assertFalse(v.passed)
        self.assertTrue(v.boot_failure)
        self.assertIn("1 of 3 planned suites never ran", v.problems)

    def test_more_cases_than_planned(self):
        text = PASSING.replace("        ok 2 stops\n", "        ok 2 stops\n        ok 3 extra\n")
        v = judge(text, rc=1)
        self.assertFalse(v.passed)
        self.assertTrue(any("more than its planned 2" in p for p in v.problems), v.problems)

    def test_suite_result_must_name_the_suite(self):
        v = judge(PASSING.replace("    ok 2 timer\n", "    ok 2 timers\n"), rc=1)
        self.assertFalse(v.passed)
        self.assertIn("result 'ok 2 timers' should be 'ok 2 timer'", v.problems)

    def test_out_of_sequence_case_number(self):
        v = judge(PASSING.replace("ok 2 stops", "ok 3 stops"), rc=1)
        self.assertFalse(v.passed)
        self.assertTrue(any("should be number 2" in p for p in v.problems), v.problems)

    def test_missing_suite_result_before_next_suite(self):
        v = judge(PASSING.replace("    ok 1 harness\n", ""), rc=1)
        self.assertFalse(v.passed)
        self.assertIn("suite 'harness' has no result line ('ok 1 harness')", v.problems)
        self.assertEqual(v.suites[1].name, "timer")  # the next suite still parses

    def test_missing_top_level_plan(self):
        v = judge(PASSING.replace("    1..2\n", "", 1), rc=1)
        self.assertFalse(v.passed)
        self.assertTrue(any("top-level plan" in p for p in v.problems), v.problems)


class ExitStatusTest(unittest.TestCase):
    def test_rc_success_but_ktap_failure(self):
        v = judge(FAILING.replace("lazymmu: exit 1", "lazymmu: exit 0"), rc=1)
        self.assertFalse(v.passed)
        self.assertIn("the exit status says success, but the KTAP reports failures",
                      v.problems)

    def test_exit_line_disagrees_with_rc(self):
        v = judge(PASSING, rc=3)
        self.assertFalse(v.passed)
        self.assertTrue(v.boot_failure)
        self.assertTrue(any("disagreement" in p and "should make QEMU exit with 1" in p
                            for p in v.problems), v.problems)

    def test_exit_1_but_everything_passed(self):
        v = judge(PASSING.replace("lazymmu: exit 0", "lazymmu: exit 1"), rc=3)
        self.assertFalse(v.passed)
        self.assertTrue(v.boot_failure)
        self.assertIn("the kernel exited 1 (some test failed), but every result in the "
                      "KTAP passed", v.problems)

    def test_missing_exit_line_with_qemu_error_status(self):
        v = judge(PASSING.replace("    lazymmu: exit 0\n", ""), rc=1)
        self.assertFalse(v.passed)
        self.assertTrue(any("QEMU reports its own errors" in p for p in v.problems))

    def test_suite_ok_but_case_failed(self):
        v = judge(FAILING.replace("not ok 1 harness", "ok 1 harness"), rc=3)
        self.assertIn("suite 'harness' says ok, but some of its cases failed", v.problems)

    def test_suite_not_ok_but_no_case_failed(self):
        v = judge(PASSING.replace("ok 2 timer", "not ok 2 timer"), rc=1)
        self.assertFalse(v.passed)
        self.assertTrue(v.boot_failure)

    def test_arm64_semihosting_codes(self):
        self.assertTrue(judge(PASSING, rc=0, style=SEMIHOSTING).passed)
        v = judge(FAILING, rc=1, style=SEMIHOSTING)
        self.assertEqual(v.problems, ["the kernel exited with code 1 (some test failed)"])
        v = judge(PASSING, rc=1, style=SEMIHOSTING)
        self.assertTrue(any("disagreement" in p for p in v.problems))


class HostTest(unittest.TestCase):
    KTAP = PASSING.split("    lazymmu: exit")[0]

    def test_host_pass_without_exit_line(self):
        self.assertTrue(judge(self.KTAP, rc=0, style=PROCESS).passed)

    def test_host_fail_consistent(self):
        v = judge(FAILING.split("    lazymmu: exit")[0], rc=1, style=PROCESS)
        self.assertFalse(v.passed)
        self.assertEqual(v.problems, [])
        self.assertFalse(v.boot_failure)

    def test_host_rc0_with_failures(self):
        v = judge(FAILING.split("    lazymmu: exit")[0], rc=0, style=PROCESS)
        self.assertIn("the exit status says success, but the KTAP reports failures",
                      v.problems)

    def test_host_rc1_all_passed(self):
        v = judge(self.KTAP, rc=1, style=PROCESS)
        self.assertFalse(v.passed)
        self.assertTrue(v.boot_failure)

    def test_host_killed_by_signal(self):
        v = judge(HANGING, rc=-11, style=PROCESS)
        self.assertIn("the process was killed by signal 11", v.problems)


class ExpectFailTest(unittest.TestCase):
    def test_named_failure(self):
        ok, why = ktap.expect_failure(judge(FAILING, rc=3), "harness.some_case")
        self.assertTrue(ok, why)
        self.assertEqual(why, "harness.some_case reported: not ok (assert)")

    def test_timed_out_case(self):
        ok, why = ktap.expect_failure(judge(HANGING, rc=None, timeout=10), "timer.stops")
        self.assertTrue(ok, why)
        self.assertIn("TIMEOUT", why)

    def test_passing_run_is_not_expected(self):
        ok, why = ktap.expect_failure(judge(PASSING, rc=1), "harness.some_case")
        self.assertFalse(ok)
        self.assertIn("the run passed", why)

    def test_failure_elsewhere_is_not_expected(self):
        ok, why = ktap.expect_failure(judge(FAILING, rc=3), "timer.fires")
        self.assertFalse(ok)
        self.assertIn("harness.some_case", why)

    def test_boot_failure_does_not_blame_a_case(self):
        ok, _ = ktap.expect_failure(judge(BANNER, rc=0), "harness.some_case")
        self.assertFalse(ok)


if __name__ == "__main__":
    unittest.main()
