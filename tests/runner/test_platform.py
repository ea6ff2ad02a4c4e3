"""make platform (tests/platform, the kernel's "bench bench.flush" sweep): the kernel's lines
carry the counts each strategy must issue, and the crossover is computed as documented.

Boots x86_64-pvh and arm64-a72 once each (about a second). Like test_console, it is run by
`tests/run --all`, counted per case, and left out of `unittest discover`.
"""

import importlib.machinery
import importlib.util
import os
import unittest

RUNNER_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(RUNNER_DIR))


def load_tests(loader, tests, pattern):
    """Only when asked by name (tests/run --all), not by `unittest discover`."""
    return unittest.TestSuite() if pattern is not None else tests


def load_platform():
    path = os.path.join(ROOT, "tests", "platform")
    loader = importlib.machinery.SourceFileLoader("platform_tool", path)
    spec = importlib.util.spec_from_loader("platform_tool", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class PlatformTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tool = load_platform()
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            cls.grids = {name: cls.tool.measure(name) for name in ("x86_64-pvh", "arm64-a72")}
        finally:
            os.chdir(cwd)

    def test_every_size_and_strategy_is_measured(self):
        for name, grid in self.grids.items():
            self.assertEqual(sorted(grid), [1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 128, 512], name)
            for n, modes in grid.items():
                self.assertEqual(modes["full"][2], 40)  # samples: 20 rounds, 2 directions

    def test_counts_are_the_strategy_s(self):
        # No range TLBI on either: "pages" is exactly N page invalidations, "full" one flush.
        for name, grid in self.grids.items():
            for n, modes in grid.items():
                self.assertEqual(modes["pages"][3:], (n, 0, 0), (name, n))
                self.assertEqual(modes["full"][3:], (0, 0, 1), (name, n))

    def test_crossover_is_the_first_size_from_which_full_never_loses(self):
        def cell(pages, full):
            return {"pages": (pages, pages), "full": (full, full)}
        grid = {1: cell(1, 5), 8: cell(6, 5), 16: cell(4, 5), 32: cell(9, 5), 64: cell(20, 5)}
        self.assertEqual(self.tool.crossover(grid, 0), 32)  # 8 wins, 16 loses again
        self.assertIsNone(self.tool.crossover({1: cell(1, 5)}, 0))


if __name__ == "__main__":
    unittest.main()
