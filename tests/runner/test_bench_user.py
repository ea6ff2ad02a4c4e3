"""Unit tests of tests/bench's user rows (issue 13): parsing synthetic 'bench: user' lines
(a complete grid, a missing line, a duplicate, the end count) and the tables made from them.
No kernel, no QEMU: the lines are made here."""

import importlib.machinery
import importlib.util
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS_DIR = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import qemu  # noqa: E402  (found through the sys.path line above)


def load_bench():
    loader = importlib.machinery.SourceFileLoader("bench", os.path.join(TESTS_DIR, "bench"))
    spec = importlib.util.spec_from_loader("bench", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


bench = load_bench()
CONFIG = qemu.BY_NAME["x86_64-pvh"]
KERNEL_SIZES = [1, 8, 512]


def kernel_lines():
    """What kernel/bench.c prints before the user rows (a small but complete grid)."""
    lines = ["bench: begin", "x86_64: QEMU TCG CPU",
             "bench: cycles_hz=2300000000 flush_ceiling=33 range_tlbi=0 runs=31 warmup=1 "
             "cpus=1 frames=0x1000000",
             "bench: hotpath name=lazy_mmu_nested enable=10 disable=13 pair=23 "
             "enable_irq_points=10 disable_irq_points=13"]
    counts = " ".join(f"{name}=0" for name in bench.COUNT_NAMES)
    for n in KERNEL_SIZES:
        for op in bench.OPS:
            for mode in bench.MODES:
                lines.append(f"bench: op={op} n={n} mode={mode} cycles_per_page=200.0 "
                             f"ns_per_page=87.0 min_ns_per_page=80.0 max_ns_per_page=90.0 "
                             f"samples=30 {counts}")
    return lines


def user_line(op, n, mode, ns=None, ipis=0):
    """One 'bench: user' line: eager flushes page by page, batched once in one batch."""
    if ns is None:
        ns = 1000 * n if mode == "eager" else 2000 + 100 * n
    page, full, batches = (n, 0, 0) if mode == "eager" else (0, 1, 1)
    return (f"bench: user op={op} n={n} mode={mode} ns_per_call={ns} min_ns={ns - 10} "
            f"max_ns={ns + 10} samples=10 pte_writes={n} tlbi_page={page} tlbi_range=0 "
            f"tlbi_all={full} barriers=0 batches={batches} ipis_sent={ipis} "
            f"shootdowns={ipis // 3}")


def user_lines():
    return [user_line(op, n, mode) for op in bench.USER_OPS for n in bench.USER_SIZES
            for mode in bench.USER_MODES]


def boot(user, end=None):
    """The serial output of one bench boot; end defaults to the number of lines printed."""
    lines = kernel_lines() + user
    if end is None:
        end = sum(1 for line in lines if line.startswith(("bench: op=", "bench: user ")))
    return ["lazymmu: booting"] + lines + [f"bench: end lines={end}", "lazymmu: exit 0"]


class ParseUserTest(unittest.TestCase):
    def assertFails(self, lines, *words):
        with self.assertRaises(bench.BenchError) as cm:
            bench.parse(CONFIG, lines)
        for word in words:
            self.assertIn(word, str(cm.exception))

    def test_complete_grid_parses(self):
        run = bench.parse(CONFIG, boot(user_lines()))
        self.assertEqual(len(run.user), 3 * 4 * 2)
        self.assertEqual(len(run.results), len(bench.OPS) * len(KERNEL_SIZES) * 3)
        u = run.get_user("fork", 4096, "batched")
        self.assertEqual((u.ns, u.ns_min, u.ns_max, u.samples), (411600, 411590, 411610, 10))
        self.assertEqual((u.counts["tlbi_all"], u.counts["batches"]), (1, 1))
        self.assertEqual(run.get_user("munmap", 16, "eager").counts["tlbi_page"], 16)

    def test_missing_user_line_fails(self):
        lines = user_lines()
        lines.remove(user_line("munmap", 512, "batched"))
        self.assertFails(boot(lines), "incomplete grid of user rows", "munmap/512/batched")

    def test_missing_user_line_that_the_kernel_counted_fails(self):
        lines = user_lines()
        lines.remove(user_line("fork", 1, "eager"))
        self.assertFails(boot(lines, end=len(bench.OPS) * len(KERNEL_SIZES) * 3 + 24),
                         "printed", "23 user lines")

    def test_no_user_lines_fails(self):
        self.assertFails(boot([]), "no 'bench: user' lines")

    def test_duplicated_user_line_fails(self):
        lines = user_lines() + [user_line("mprotect", 16, "eager")]
        self.assertFails(boot(lines), "measured twice", "user op=mprotect n=16 mode=eager")

    def test_unexpected_user_line_fails(self):
        self.assertFails(boot(user_lines() + [user_line("mremap", 16, "eager")]),
                         "unexpected user line", "op=mremap")
        self.assertFails(boot(user_lines() + [user_line("fork", 32, "eager")]),
                         "unexpected user line", "n=32")
        self.assertFails(boot(user_lines() + [user_line("fork", 16, "floor")]),
                         "unexpected user line", "mode=floor")

    def test_a_call_that_invalidates_nothing_fails(self):
        lines = user_lines()
        i = lines.index(user_line("mprotect", 16, "eager"))
        lines[i] = lines[i].replace("tlbi_page=16", "tlbi_page=0")
        self.assertFails(boot(lines), "user op=mprotect n=16 mode=eager invalidated nothing")

    def test_modes_that_write_different_entries_fail(self):
        lines = user_lines()
        i = lines.index(user_line("fork", 1, "eager"))
        lines[i] = lines[i].replace("pte_writes=1 ", "pte_writes=8738 ")
        self.assertFails(boot(lines), "user op=fork n=1: eager wrote 8738 entries, batched 1")

    def test_malformed_user_line_fails(self):
        lines = user_lines()
        lines[0] = lines[0].replace(" ipis_sent=0", "")
        self.assertFails(boot(lines), "malformed user line", "ipis_sent")

    def test_end_counts_both_kinds(self):
        self.assertFails(boot(user_lines(), end=len(bench.OPS) * len(KERNEL_SIZES) * 3),
                         "printed 27 lines", "27 results and 24 user lines")


class UserDocTest(unittest.TestCase):
    CTX = {"date": "2026-01-01", "host": "a host", "qemu_version": "7.2", "command": "make bench"}

    def test_section_has_the_user_table_and_sentences(self):
        run = bench.parse(CONFIG, boot(user_lines()))
        text = "\n".join(bench.section(run, self.CTX))
        self.assertIn("### User address spaces", text)
        # fork 4096: eager 4096000 ns, batched 411600 ns: 4.10 ms vs 412 µs, 10×.
        self.assertIn("| fork | 4096 | 4096 | 4096 | 412 | 10× | 0 | 4096/0/0 | 0 | 1 | "
                      "0/0/1 | 0 |", text)
        self.assertIn("- fork of 4096 pages: eager 4.10 ms per call with 4096 per-page "
                      "invalidations; batched 412 µs with 1 full flush in 1 batch: "
                      "eager/batched **10×**.", text)
        self.assertIn("- 1 page: eager/batched is 0.5× (mprotect), 0.5× (munmap), 0.5× (fork); "
                      "the invalidations differ: mprotect eager 1 per-page invalidation, "
                      "batched 1 full flush;", text)

    def test_smp_document_has_ipis(self):
        lines = [user_line(op, n, mode, ipis=3 * n if mode == "eager" else 3)
                 for op in bench.USER_OPS for n in bench.USER_SIZES for mode in bench.USER_MODES]
        run = bench.parse(CONFIG, boot(lines))
        text = bench.smp_document([run], self.CTX)
        self.assertIn("| munmap | 16 | 16.0 | 16/0/0 | 48 (16) | 3.60 | 0/0/1 | 3 (1) | 4.4× |",
                      text)
        self.assertIn("- mprotect of 4096 pages: eager sends 12288 IPIs in 4096 shootdowns",
                      text)

    def test_smp_document_without_ipis_says_so(self):
        run = bench.parse(CONFIG, boot(user_lines()))
        text = bench.smp_document([run], self.CTX)
        self.assertIn("- No user call sent an IPI, in either mode", text)
        self.assertIn("- munmap of 4096 pages:", text)


if __name__ == "__main__":
    unittest.main()
