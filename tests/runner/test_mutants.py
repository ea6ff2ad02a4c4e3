"""Unit tests of tests/mutants: the list format, staleness, and one mutant end to end on a
tiny scratch repository (no kernel, no QEMU: the 'suite' is a fake tests/run)."""

import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_mutants():
    loader = importlib.machinery.SourceFileLoader("mutants", os.path.join(TESTS_DIR, "mutants"))
    spec = importlib.util.spec_from_loader("mutants", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


mutants = load_mutants()


class ParseTest(unittest.TestCase):
    def test_three_lines_and_escapes(self):
        (m,) = mutants.parse(textwrap.dedent("""\
            # a comment
            mutant: drop | mm/x.c | host:mm_host x86_64-pvh:lazy*
            -\\tfoo();\\n\\tbar(a\\\\b);
            +\\tbar(a\\\\b);
            """))
        self.assertEqual((m.name, m.path), ("drop", "mm/x.c"))
        self.assertEqual(m.runs, [("host", "mm_host"), ("x86_64-pvh", "lazy*")])
        self.assertEqual(m.original, "\tfoo();\n\tbar(a\\b);")
        self.assertEqual(m.replacement, "\tbar(a\\b);")
        self.assertIsNone(m.invisible)

    def test_invisible_and_empty_replacement(self):
        (m,) = mutants.parse("mutant: b | a.c | arm64-max:x\n-dsb(ish);\n+\n"
                             "invisible: no emulator shows it\n")
        self.assertEqual((m.replacement, m.invisible), ("", "no emulator shows it"))

    def test_malformed_lists_are_refused_with_the_line(self):
        bad = {
            "mutant: a | b.c\n-x\n+y\n": ":1:",
            "mutant: a | b.c | kvm:x\n-x\n+y\n": "kvm:x",
            "mutant: a | b.c | host\n-x\n+y\n": "CONFIG:GLOB",
            "-x\n": "before the first",
            "mutant: a | b.c | host:x\n-x\n": "different '+' replacement",
            "mutant: a | b.c | host:x\n-x\n+x\n": "different '+' replacement",
            "mutant: a | b.c | host:x\n-x\n+y\nmutant: a | b.c | host:x\n-x\n+y\n": "second",
            "mutant: a | b.c | host:x\nx\n": ":2:",
        }
        for text, message in bad.items():
            with self.assertRaises(ValueError, msg=text) as e:
                mutants.parse(text, "list")
            self.assertIn(message, str(e.exception))

    def test_the_real_list_parses_and_applies_to_this_tree(self):
        root = os.path.dirname(TESTS_DIR)
        with open(os.path.join(TESTS_DIR, "mutants.txt")) as f:
            listed = mutants.parse(f.read())
        self.assertGreaterEqual(len(listed), 20)
        stale = [f"{m.name}: {mutants.stale(m, root)}" for m in listed if mutants.stale(m, root)]
        self.assertEqual(stale, [], "tests/mutants.txt must follow the code")
        for m in listed:
            if m.invisible:
                self.assertGreater(len(m.invisible), 20, f"{m.name}: say why")


class StaleTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp()
        with open(os.path.join(self.root, "a.c"), "w") as f:
            f.write("x = 1;\ny = 1;\n")

    def tearDown(self):
        shutil.rmtree(self.root)

    def test_once_twice_never_missing(self):
        def m(snippet, path="a.c"):
            return mutants.Mutant("m", path, [("host", "x")], snippet, "z")
        self.assertIsNone(mutants.stale(m("x = 1;"), self.root))
        self.assertIn("2 times", mutants.stale(m("= 1;"), self.root))
        self.assertIn("0 times", mutants.stale(m("w = 1;"), self.root))
        self.assertIn("does not exist", mutants.stale(m("x", "b.c"), self.root))


if __name__ == "__main__":
    unittest.main()
