"""Checks scripts/compile_commands.py (make compile_commands.json): every source file the
kernels and the host tests compile has an entry with the flags its build really uses."""

import glob
import json
import os
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class CompileCommandsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        out = subprocess.run([sys.executable, "scripts/compile_commands.py"], cwd=ROOT,
                             check=True, stdout=subprocess.PIPE, text=True).stdout
        cls.entries = json.loads(out)
        cls.by_file = {}
        for e in cls.entries:
            cls.by_file.setdefault(e["file"], []).append(e)

    def sources(self, *patterns):
        return sorted(f for p in patterns for f in glob.glob(p, root_dir=ROOT))

    def test_every_source_has_an_entry(self):
        for f in self.sources("arch/*/*.c", "arch/*/*.S", "kernel/*.c", "mm/*.c", "lib/*.c",
                              "boot/*.c", "tests/kernel/*.c", "tests/host/*.c"):
            self.assertIn(f, self.by_file, f)

    def test_each_arch_keeps_its_own_compiler_and_headers(self):
        for arch, cc in (("x86_64", "gcc"), ("arm64", "aarch64-linux-gnu-gcc")):
            for f in self.sources(f"arch/{arch}/*.c", f"arch/{arch}/*.S"):
                first = self.by_file[f][0]["arguments"]
                self.assertEqual(first[0], cc, f)
                self.assertIn(f"-Iarch/{arch}/include", first, f)

    def test_generic_code_is_listed_for_both_arches_x86_64_first(self):
        compilers = [e["arguments"][0] for e in self.by_file["kernel/main.c"]]
        self.assertEqual(compilers, ["gcc", "aarch64-linux-gnu-gcc"])
        self.assertIn("-Werror", self.by_file["kernel/main.c"][0]["arguments"])

    def test_entries_name_the_repository_and_an_object(self):
        for e in self.entries:
            self.assertEqual(e["directory"], ROOT)
            self.assertTrue(e["output"].startswith("build/"), e)


if __name__ == "__main__":
    unittest.main()
