"""Self-tests of the QEMU command lines, of booting with a timeout, and of tests/run as a
whole, with a fake QEMU that replays a canned transcript (no kernel needed).

Run: python3 -m unittest discover -s tests/runner -v
"""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

import qemu
import test_ktap

RUNNER_DIR = os.path.dirname(os.path.abspath(__file__))
TESTS_DIR = os.path.dirname(RUNNER_DIR)

# Stands in for qemu-system-*: records its arguments, prints a transcript, exits with a
# status, or hangs when asked to.
FAKE_QEMU = """\
import os, sys, time
with open(os.environ["FAKE_ARGV"], "w") as f:
    f.write("\\n".join(sys.argv[1:]))
sys.stdout.write(open(os.environ["FAKE_SERIAL"]).read())
sys.stdout.flush()
if os.environ.get("FAKE_HANG"):
    time.sleep(60)
sys.exit(int(os.environ.get("FAKE_RC", "0")))
"""


class CommandTest(unittest.TestCase):
    ENV = {}  # no QEMU_X86/QEMU_ARM64 overrides

    def test_arm64_a72_exact(self):
        argv = qemu.command(qemu.BY_NAME["arm64-a72"], "", self.ENV)
        self.assertEqual(" ".join(argv),
                         "qemu-system-aarch64 -machine virt,gic-version=2 -cpu cortex-a72 "
                         "-m 256M -smp 1 -no-reboot -nodefaults -display none -monitor none "
                         "-serial stdio -semihosting -kernel build/arm64/Image")

    def test_x86_grub_exact_and_never_appends(self):
        argv = qemu.command(qemu.BY_NAME["x86_64-grub"], "kunit.filter_glob=x", self.ENV)
        self.assertEqual(" ".join(argv),
                         "qemu-system-x86_64 -machine q35 -cpu max -m 256M -smp 1 -no-reboot "
                         "-nodefaults -display none -monitor none -serial stdio "
                         "-device isa-debug-exit,iobase=0xf4,iosize=0x04 "
                         "-cdrom build/x86_64/lazymmu.iso -boot d")

    def test_smp_configs_run_multithreaded_tcg(self):
        for name in ("x86_64-pvh-smp4", "arm64-max-smp4"):
            argv = qemu.command(qemu.BY_NAME[name], "", self.ENV)
            joined = " ".join(argv)
            self.assertIn("-smp 4 ", joined)
            self.assertIn("-accel tcg,thread=multi", joined)
            self.assertFalse(qemu.uses_kvm(argv))
        # One CPU: no -accel at all (QEMU's default TCG), as before.
        self.assertNotIn("-accel", qemu.command(qemu.BY_NAME["x86_64-pvh"], "", self.ENV))

    def test_pvh_appends_cmdline(self):
        argv = qemu.command(qemu.BY_NAME["x86_64-pvh"], "kunit.filter_glob=tlb* x=1", self.ENV)
        self.assertEqual(argv[-4:], ["-kernel", "build/x86_64/kernel.elf",
                                     "-append", "kunit.filter_glob=tlb* x=1"])
        self.assertNotIn("-append", qemu.command(qemu.BY_NAME["x86_64-pvh"], "", self.ENV))

    def test_selftest_build_and_env_override(self):
        argv = qemu.command(qemu.BY_NAME["arm64-max"], "", {"QEMU_ARM64": "/opt/q/aa64 -d int"},
                            selftest=True)
        self.assertEqual(argv[:3], ["/opt/q/aa64", "-d", "int"])
        self.assertEqual(argv[-1], "build/arm64-selftest/Image")

    def test_host_gets_cmdline_words_as_arguments(self):
        self.assertEqual(qemu.command(qemu.BY_NAME["host"], "kunit.filter_glob=a*", self.ENV),
                         ["build/host/unit_tests", "kunit.filter_glob=a*"])

    def test_model_is_the_check_script_in_ktap_mode(self):
        model = qemu.BY_NAME["model"]
        self.assertEqual(qemu.command(model, "kunit.filter_glob=lazy*", self.ENV),
                         ["tests/model/check", "--ktap", "kunit.filter_glob=lazy*"])
        self.assertEqual(model.artifact(), "tests/model/check")

    def test_never_kvm(self):
        for env in ({"QEMU_X86": "qemu-system-x86_64 -enable-kvm"},
                    {"QEMU_X86": "qemu-system-x86_64 -accel kvm"},
                    {"QEMU_X86": "qemu-system-x86_64 -machine accel=kvm"}):
            with self.assertRaises(ValueError):
                qemu.command(qemu.BY_NAME["x86_64-pvh"], "", env)
        for config in qemu.CONFIGS:
            self.assertFalse(qemu.uses_kvm(qemu.command(config, "", self.ENV)))


class BootTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.log = os.path.join(self.tmp, "boot.log")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_exit_status_and_log(self):
        seen = []
        b = qemu.boot(["sh", "-c", "printf 'a\\r\\nb\\nno newline'; exit 3"], 10, self.log,
                      seen.append)
        self.assertEqual((b.lines, b.rc, b.timed_out), (["a", "b", "no newline"], 3, False))
        self.assertEqual(seen, b.lines)
        qemu.finish_log(self.log, b, [], 10)
        with open(self.log, newline="") as f:  # keep the '\r' as the port sent it
            text = f.read()
        self.assertTrue(text.startswith("# command: sh -c "))
        self.assertIn("a\r\nb\nno newline\n", text)
        self.assertIn("# exit status: 3", text)

    def test_timeout_kills_the_process_group(self):
        # The shell starts a grandchild: killing only the shell would leave it running.
        start = time.monotonic()
        b = qemu.boot(["sh", "-c", "sleep 60 & echo $!; wait"], 1, self.log)
        self.assertTrue(b.timed_out)
        self.assertLess(time.monotonic() - start, 10)
        grandchild = int(b.lines[0])
        time.sleep(0.2)
        try:
            with open(f"/proc/{grandchild}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            self.assertEqual(state, "Z", "the grandchild survived the timeout")
        except FileNotFoundError:
            pass  # gone: killed and reaped


class CliTest(unittest.TestCase):
    """tests/run end to end, in a scratch copy of the repository."""

    def setUp(self):
        self.root = tempfile.mkdtemp()
        os.makedirs(os.path.join(self.root, "tests"))
        shutil.copy(os.path.join(TESTS_DIR, "run"), os.path.join(self.root, "tests"))
        shutil.copytree(RUNNER_DIR, os.path.join(self.root, "tests", "runner"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        for image in ("build/x86_64/kernel.elf", "build/x86_64-selftest/kernel.elf"):
            os.makedirs(os.path.join(self.root, os.path.dirname(image)), exist_ok=True)
            open(os.path.join(self.root, image), "w").close()
        fake = os.path.join(self.root, "fake_qemu.py")
        with open(fake, "w") as f:
            f.write(FAKE_QEMU)
        self.env = dict(os.environ, QEMU_X86=f"{sys.executable} {fake}",
                        FAKE_ARGV=os.path.join(self.root, "argv"),
                        FAKE_SERIAL=os.path.join(self.root, "serial"))
        self.env.pop("LAZYMMU_CMDLINE", None)
        self.env.pop("LAZYMMU_TIMEOUT", None)

    def tearDown(self):
        shutil.rmtree(self.root)

    def run_cli(self, serial, rc, *args, hang=False):
        with open(self.env["FAKE_SERIAL"], "w") as f:
            f.write(textwrap.dedent(serial).replace("\n", "\r\n"))
        env = dict(self.env, FAKE_RC=str(rc), FAKE_HANG="1" if hang else "")
        proc = subprocess.run([sys.executable, os.path.join(self.root, "tests", "run")] +
                              list(args), env=env, cwd="/", stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=60)
        return proc.returncode, proc.stdout

    def read(self, path):
        with open(os.path.join(self.root, path)) as f:
            return f.read()

    def test_pass(self):
        rc, out = self.run_cli(test_ktap.PASSING, 1, "--config", "x86_64-pvh",
                               "--filter", "harness")
        self.assertEqual(out.splitlines()[-1], "3 passed, 0 failed, 1 skipped", out)
        self.assertEqual(rc, 0, out)
        self.assertIn("  x86_64-pvh  ok     harness (1 passed, 1 skipped)", out)
        self.assertIn("-append\nkunit.filter_glob=harness", self.read("argv"))
        log = self.read("build/logs/x86_64-pvh.log")
        self.assertTrue(log.startswith("# command: "), log)
        self.assertIn("# exit status: 1", log)

    def test_fail_lists_case_with_diagnostics(self):
        rc, out = self.run_cli(test_ktap.FAILING, 3, "--config", "x86_64-pvh")
        self.assertEqual(rc, 1)
        self.assertIn("  x86_64-pvh  FAIL   harness (1 passed, 1 failed, 1 skipped)\n"
                      "      some_case: not ok\n"
                      "        # some_case: EXPECTATION FAILED at tests/kernel/x.c:10\n", out)
        self.assertEqual(out.splitlines()[-1], "3 passed, 1 failed, 1 skipped")

    def test_boot_failure_counts_once(self):
        rc, out = self.run_cli("lazymmu: booted\n", 0, "--config", "x86_64-pvh")
        self.assertEqual(rc, 1)
        self.assertIn("triple fault", out)
        self.assertEqual(out.splitlines()[-1], "0 passed, 1 failed")

    def test_timeout(self):
        rc, out = self.run_cli(test_ktap.HANGING, 0, "--config", "x86_64-pvh",
                               "--timeout", "1", hang=True)
        self.assertEqual(rc, 1)
        self.assertIn("x86_64-pvh: TIMEOUT after 1s in suite 'timer', last test seen: 'stops'",
                      out)
        self.assertIn("      stops: TIMEOUT", out)
        self.assertEqual(out.splitlines()[-1], "2 passed, 2 failed")
        log = self.read("build/logs/x86_64-pvh.log")
        self.assertIn("    not ok 2 stops # TIMEOUT\nnot ok 2 timer # TIMEOUT\n# TIMEOUT", log)

    def test_expect_fail_inverts(self):
        args = ["--config", "x86_64-pvh", "--filter", "harness", "--expect-fail"]
        rc, out = self.run_cli(test_ktap.FAILING, 3, *args, "harness.some_case:assert")
        self.assertEqual((rc, out.splitlines()[-1]), (0, "1 passed, 0 failed"), out)
        self.assertIn("build/x86_64-selftest/kernel.elf", self.read("argv"))
        self.assertIn("(assert)", out)
        rc, out = self.run_cli(test_ktap.FAILING, 3, *args, "timer.fires:assert")
        self.assertEqual((rc, out.splitlines()[-1]), (1, "0 passed, 1 failed"), out)
        rc, out = self.run_cli(test_ktap.PASSING, 1, *args, "harness.some_case:assert")
        self.assertEqual((rc, out.splitlines()[-1]), (1, "0 passed, 1 failed"), out)

    def expect(self, serial, rc, target, hang=False):
        """One --expect-fail run: (exit status, last line, output)."""
        extra = ["--timeout", "1"] if hang else []
        code, out = self.run_cli(serial, rc, "--config", "x86_64-pvh", *extra,
                                 "--expect-fail", target, hang=hang)
        return code, out.splitlines()[-1], out

    def test_expect_fail_checks_the_kind_of_an_assertion(self):
        code, last, out = self.expect(test_ktap.FAILING, 3, "harness.some_case:assert")
        self.assertEqual((code, last), (0, "1 passed, 0 failed"), out)
        for wrong in ("crash", "timeout"):
            code, last, out = self.expect(test_ktap.FAILING, 3, f"harness.some_case:{wrong}")
            self.assertEqual((code, last), (1, "0 passed, 1 failed"), out)
            self.assertIn(f"harness.some_case failed, but as assert, not as {wrong}", out)

    def test_expect_fail_checks_the_kind_of_a_crash(self):
        # isa-debug-exit: exit 2 -> QEMU status 5.
        code, last, out = self.expect(test_ktap.CRASHING, 5, "tlb.flush_range:crash")
        self.assertEqual((code, last), (0, "1 passed, 0 failed"), out)
        code, last, out = self.expect(test_ktap.CRASHING, 5, "tlb.flush_range:assert")
        self.assertEqual((code, last), (1, "0 passed, 1 failed"), out)
        self.assertIn("failed, but as crash, not as assert", out)
        # The same stop with exit 1 is no crash: something else ended the output.
        stopped = test_ktap.CRASHING.replace("lazymmu: exit 2", "lazymmu: exit 1")
        code, last, out = self.expect(stopped, 3, "tlb.flush_range:crash")
        self.assertEqual((code, last), (1, "0 passed, 1 failed"), out)
        self.assertIn("the kernel exited 1 (a crash exits 2)", out)

    def test_expect_fail_checks_the_kind_of_a_timeout(self):
        code, last, out = self.expect(test_ktap.HANGING, 0, "timer.stops:timeout", hang=True)
        self.assertEqual((code, last), (0, "1 passed, 0 failed"), out)
        code, last, out = self.expect(test_ktap.HANGING, 0, "timer.stops:crash", hang=True)
        self.assertEqual((code, last), (1, "0 passed, 1 failed"), out)
        self.assertIn("failed, but as timeout, not as crash", out)

    def test_expect_fail_assert_needs_a_failed_check(self):
        # 'not ok' with no EXPECTATION/ASSERTION FAILED diagnostic is not an assertion.
        bare = test_ktap.FAILING.replace("        # some_case: EXPECTATION FAILED at "
                                         "tests/kernel/x.c:10\n", "")
        self.assertNotEqual(bare, test_ktap.FAILING)
        code, last, out = self.expect(bare, 3, "harness.some_case:assert")
        self.assertEqual((code, last), (1, "0 passed, 1 failed"), out)
        self.assertIn("without a failed check's diagnostic", out)

    def test_expect_fail_needs_a_kind(self):
        for bad in ("harness.some_case", "harness.some_case:boom", ":assert"):
            code, out = self.run_cli(test_ktap.FAILING, 3, "--config", "x86_64-pvh",
                                     "--expect-fail", bad)
            self.assertEqual(code, 2, out)
            self.assertIn("--expect-fail wants SUITE.CASE:KIND", out)

    def test_missing_artifact_fails_with_make_hint(self):
        rc, out = self.run_cli(test_ktap.PASSING, 0, "--config", "arm64-max")
        self.assertEqual(rc, 1)
        self.assertIn("build/arm64/Image is missing: run 'make ARCH=arm64' first", out)
        self.assertEqual(out.splitlines()[-1], "0 passed, 1 failed")

    def test_grub_skipped_with_filter(self):
        rc, out = self.run_cli(test_ktap.PASSING, 1, "--config", "x86_64-grub",
                               "--filter", "x")
        self.assertEqual(rc, 1)
        self.assertIn("x86_64-grub: skipped", out)
        self.assertEqual(out.splitlines()[-1], "0 passed, 0 failed")


if __name__ == "__main__":
    unittest.main()
