"""The teaching console, driven as a person would: each architecture is booted through
`tests/run --console` (what `make run` does) on a pseudo-terminal, keys are typed (a typo,
backspace, Ctrl-U, Ctrl-C, the up arrow, help), and each demo's output is checked for the
trace lines and counter values its code must produce. Also checked: `exit`, Ctrl-D and the
end of a non-terminal input (`make run </dev/null`) each end QEMU with status 0 within a
few seconds, and `make debug` still stops at kmain under gdb and then reaches the prompt.

Needs both kernels built (make ARCH=x86_64; make ARCH=arm64). `tests/run --all` (make test)
runs this module as its own step and counts every case; `unittest discover` leaves it out
(see load_tests) so the runner's quick unit tests stay quick.
Run alone: python3 -m unittest -v test_console   (from tests/runner)
"""

import os
import re
import select
import shutil
import socket
import subprocess
import sys
import time
import unittest

RUNNER_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(RUNNER_DIR))
RUN = os.path.join(ROOT, "tests", "run")
PROMPT = b"lazymmu> "
EXIT_SECONDS = 5.0  # from the last key to QEMU's exit: "within a few seconds"
BOOT_SECONDS = 60.0  # to the first prompt (a short suite; TCG on a busy machine)
COMMAND_SECONDS = 30.0  # for one command's output
# The suite before the prompt: one short suite, so the console is reached quickly.
FILTER = "printf"

UP = b"\x1b[A"
DOWN = b"\x1b[B"
DEL = b"\x7f"
CTRL_C, CTRL_D, CTRL_U = b"\x03", b"\x04", b"\x15"


def load_tests(loader, tests, pattern):
    """Boots QEMU eight times: only when asked by name (tests/run --all, or -m unittest
    test_console), not by `unittest discover`, whose pattern argument is set."""
    if pattern is not None:
        return unittest.TestSuite()
    return tests


def render(raw: bytes) -> str:
    """What a terminal shows: CR LF as newlines, a backspace moving back over the line."""
    out, line = [], []
    for ch in raw.decode("utf-8", "replace").replace("\r\n", "\n"):
        if ch == "\b":
            if line:
                line.pop()
        elif ch == "\n":
            out.append("".join(line).rstrip())
            line = []
        elif ch != "\r":
            line.append(ch)
    out.append("".join(line).rstrip())
    return "\n".join(out)


class Session:
    """tests/run --console on a pseudo-terminal: the keyboard and the screen of a person."""

    def __init__(self, config: str):
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, RUN, "--config", config, "--console", "--filter", FILTER],
            stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, start_new_session=True)
        os.close(slave)
        self.buf = b""
        self.wait_for_prompts(1, BOOT_SECONDS)

    def read_some(self, seconds: float) -> bool:
        r, _, _ = select.select([self.master], [], [], seconds)
        if not r:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: every writer of the pty has exited
            return False
        self.buf += chunk
        return bool(chunk)

    def wait_for_prompts(self, count: int, seconds: float) -> None:
        end = time.monotonic() + seconds
        while self.buf.count(PROMPT) < count:
            if time.monotonic() > end or not self.read_some(0.2):
                raise AssertionError(f"no prompt #{count} within {seconds:g}s; output ends:\n"
                                     + render(self.buf[-1500:]))

    def type(self, keys: bytes) -> str:
        """Types keys (ending with Enter or Ctrl-C) and returns what the screen shows from
        the current prompt to the next one."""
        start = self.buf.rfind(PROMPT)
        prompts = self.buf.count(PROMPT)
        os.write(self.master, keys)
        self.wait_for_prompts(prompts + 1, COMMAND_SECONDS)
        return render(self.buf[start:self.buf.rfind(PROMPT)])

    def finish(self, keys: bytes) -> float:
        """Types the keys that should end the session; returns the seconds QEMU took."""
        t0 = time.monotonic()
        os.write(self.master, keys)
        while self.read_some(0.2) and time.monotonic() - t0 < 60:
            if self.proc.poll() is not None:
                break
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.close()
            raise
        while self.read_some(0.1):
            pass
        return time.monotonic() - t0

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        os.close(self.master)


def ints(text: str, key: str):
    """Every value of key=N in text, in order."""
    return [int(v) for v in re.findall(rf"\b{key}=(\d+)", text)]


class ConsoleChecks:
    """The checks, run for each architecture (the subclasses below). One boot serves every
    command check; a failure in one leaves the others' verdicts intact."""
    CONFIG = ""
    ARCH_QEMU_STATUS = 0  # QEMU's exit status when the kernel exits with 0

    @classmethod
    def setUpClass(cls):
        cls.out = {}
        artifact = {"x86_64-pvh": "build/x86_64/kernel.elf",
                    "arm64-max": "build/arm64/Image"}[cls.CONFIG]
        if not os.path.exists(os.path.join(ROOT, artifact)):
            raise AssertionError(f"{artifact} is missing: build it first (make test does)")
        s = Session(cls.CONFIG)
        cls.session = s
        try:
            # The way a person types: a typo fixed with backspace, a line erased with
            # Ctrl-U, a line abandoned with Ctrl-C, a command recalled with the up arrow.
            cls.out["help"] = s.type(b"hepl" + DEL + DEL + b"lp\r")
            cls.out["typo"] = s.type(b"dmeo nested\r")
            cls.out["ctrl_u"] = s.type(b"stats reset" + CTRL_U + b"demo\r")
            cls.out["ctrl_c"] = s.type(b"demo nested" + CTRL_C)
            for name in ("nested", "paused", "stale", "irq", "ceiling", "switch", "smp",
                         "fork", "nosuch"):
                cls.out["demo " + name] = s.type(b"demo " + name.encode() + b"\r")
            cls.out["up"] = s.type(UP + UP + b"\r")  # the line before 'demo nosuch'
            cls.out["down"] = s.type(UP + UP + DOWN + b"\r")  # back to the newest
            cls.out["down_restores"] = s.type(b"dem" + UP + DOWN + b"o\r")  # the typed line
            for cmd in ("stats reset", "stats", "map 8", "protect 8", "protect 8",
                        "unmap 8", "unmap 8", "map 0", "backend eager", "map 4",
                        "trace on", "protect 4", "trace off", "backend batched", "unmap 4",
                        "ps", "run hello", "trace sideways"):
                cls.out.setdefault(cmd, [])
                cls.out[cmd].append(s.type(cmd.encode() + b"\r"))
            cls.exit_seconds = s.finish(b"exit\r")
            cls.exit_rc = s.proc.returncode
            cls.screen = render(s.buf)
        finally:
            s.close()

    def one(self, cmd: str) -> str:
        return self.out[cmd][0]

    # --- the line editor -----------------------------------------------------------------

    def test_help_after_backspace(self):
        text = self.out["help"]
        self.assertIn("lazymmu> help\n", text)  # "hepl", two backspaces, "lp"
        for cmd in ("help", "demo", "trace", "stats", "backend", "map", "protect", "unmap",
                    "ps", "run", "exit"):
            self.assertRegex(text, rf"\n  {cmd} ")

    def test_typo_gets_one_line_of_help(self):
        lines = self.out["typo"].splitlines()
        self.assertEqual(lines[1:], ["unknown command 'dmeo': try help, demo, demo nested, "
                                     "stats, exit"])

    def test_ctrl_u_erases_the_line(self):
        text = self.out["ctrl_u"]
        self.assertTrue(text.startswith("lazymmu> demo\n"), text[:200])
        self.assertIn("demos (demo NAME runs one):", text)
        self.assertNotIn("counters are 0 again", text)

    def test_ctrl_c_cancels_the_line(self):
        self.assertEqual(self.out["ctrl_c"].strip(), "lazymmu> demo nested^C")

    def test_up_arrow_recalls_history(self):
        text = self.out["up"]
        self.assertTrue(text.startswith("lazymmu> demo fork\n"), text[:200])
        self.assertIn("run forktrace: pid", text)

    def test_down_arrow_walks_back(self):
        self.assertTrue(self.out["down"].startswith("lazymmu> demo fork\n"),
                        self.out["down"][:200])
        text = self.out["down_restores"]
        self.assertTrue(text.startswith("lazymmu> demo\n"), text[:200])
        self.assertIn("demos (demo NAME runs one):", text)

    # --- the demos -----------------------------------------------------------------------

    def test_demo_nested_follows_the_worked_sequence(self):
        text = self.out["demo nested"]
        calls = re.findall(r"lazy_mmu: +(\w+)\(\) +-> (arch_\w+|\(none\)) +enable=(\d) "
                           r"pause=(\d)", text)
        self.assertEqual(calls, [("enable", "arch_enter", "1", "0"),
                                 ("enable", "(none)", "2", "0"),
                                 ("pause", "arch_leave", "2", "1"),
                                 ("resume", "arch_enter", "2", "0"),
                                 ("disable", "arch_flush", "1", "0"),
                                 ("disable", "arch_leave", "0", "0")])
        # One counter line per step: 6 calls + 5 updates. Queued pages follow the batch.
        self.assertEqual(ints(text, "queued"), [0, 1, 1, 2, 0, 0, 0, 1, 0, 1, 0])
        self.assertEqual(ints(text, "pte_writes"), [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
        self.assertEqual(ints(text, "batches"), [0, 0, 0, 0, 1, 2, 2, 2, 3, 3, 4])
        self.assertEqual(ints(text, "arch_flush")[-1], 1)
        self.assertEqual(ints(text, "arch_enter")[-1], 2)
        self.assertEqual(ints(text, "arch_leave")[-1], 2)
        self.assertIn("each of pages 0..4 faults (all five are read-only now)", text)
        self.assertIn("\nNotice: ", text)

    def test_demo_paused(self):
        text = self.out["demo paused"]
        self.assertEqual(len(re.findall(r"while paused; read -> a FAULT", text)), 4)
        self.assertEqual(ints(text, "queued"), [0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0])
        self.assertEqual(ints(text, "batches"), [0, 1, 2, 3, 4, 4, 4, 4, 4, 4, 5, 5])
        self.assertIn("page 4 reads a FAULT (nothing mapped), page 7 reads a FAULT", text)

    def test_demo_stale_catches_the_missing_flush(self):
        text = self.out["demo stale"]
        bug, real = text.split("The real path")
        self.assertIn("STALE: the TLB still holds the old entry", bug)
        self.assertIn("pte_writes=0 tlbi_page=0 tlbi_range=0 tlbi_all=0", bug)
        self.assertIn("WRITE_ONCE(*ptep, empty)", bug)
        self.assertRegex(real, r"lazy_mmu: enable\(\) +-> arch_enter")
        self.assertEqual(sum(ints(real, "tlbi_page") + ints(real, "tlbi_range")), 1)
        self.assertIn("after disable() (its flush: the counters above); read -> a FAULT", real)

    def test_demo_irq_updates_at_once(self):
        text = self.out["demo irq"]
        self.assertIn("in_interrupt()=1 is_lazy_mmu_mode_active()=0", text)
        self.assertEqual(len(re.findall(r"\(no-op: interrupt\)", text)), 2)
        self.assertIn("right after its update -> a FAULT", text)
        self.assertIn("still active=1, its batch holds 1 page", text)
        handler = text.split("cost:")[1].splitlines()[1]
        self.assertEqual(sum(ints(handler, "tlbi_page") + ints(handler, "tlbi_range")), 1)
        self.assertEqual(ints(handler, "batches"), [1])

    def test_demo_switch_leaves_and_reenters(self):
        text = self.out["demo switch"]
        self.assertRegex(text, r"\[A\]     switch_out +-> arch_leave +enable=2 pause=0")
        self.assertRegex(text, r"\[A\]     switch_in +-> arch_enter +enable=2 pause=0")
        self.assertIn("now its batch holds 0, its counts are still enable=2 pause=0", text)
        self.assertIn("reading A's cleared page -> a FAULT", text)
        self.assertRegex(text, r"switch_leave=1 switch_enter=1 \(counted apart from the "
                               r"helpers' arch_enter=2 arch_leave=2\)")
        self.assertLess(text.index("switch_out"), text.index("switch_in"))

    def test_demo_ceiling(self):
        rows = re.findall(r"N=(\d+) +batched: tlbi_page=(\d+) +tlbi_range=(\d+) "
                          r"tlbi_all=(\d+) batches=(\d+) +eager: tlbi_page=(\d+) +"
                          r"tlbi_all=(\d+) batches=(\d+)", self.out["demo ceiling"])
        self.assertEqual([int(r[0]) for r in rows], [1, 8, 32, 33, 34, 64])
        for row in rows:
            n, page, rng, full, batches, e_page, e_full, e_batches = map(int, row)
            with self.subTest(n=n):
                self.assertEqual(batches, 1)
                self.assertEqual((e_page, e_full, e_batches), (n, 0, n))
                if n > 33:
                    self.assertEqual((page, rng, full), (0, 0, 1))
                else:
                    self.check_below_ceiling(n, page, rng, full)

    def check_below_ceiling(self, n, page, rng, full):
        self.assertEqual((page, rng, full), (n, 0, 0))

    def test_demo_smp_needs_a_second_cpu(self):
        self.assertIn("smp: only one CPU is online", self.out["demo smp"])

    def test_demo_smp_across_four_cpus(self):
        """The same kernel with 4 CPUs: every CPU faults on the write after the batched
        protect; x86 counts one IPI per other CPU per shootdown, arm64 none."""
        s = Session(self.CONFIG + "-smp4")
        try:
            text = s.type(b"demo smp\r")
            s.finish(b"exit\r")
        finally:
            s.close()
        self.assertEqual(len(re.findall(r"cpu\d: write through page 0 -> a FAULT", text)), 4,
                         text)
        self.assertNotIn("WRITTEN", text)
        batched, eager = ints(text, "ipis_sent")
        self.assertEqual((batched, eager), self.SMP4_IPIS, text)

    def test_unknown_demo_says_so(self):
        self.assertIn("no demo 'nosuch'", self.out["demo nosuch"])

    def test_demo_fork_shows_one_flush_per_section(self):
        """forktrace (user/bin): fork is one copy_pte_range section with one flush for
        every write-protected entry; each exit one zap_pte_range section, one flush."""
        text = self.out["demo fork"]
        self.assertRegex(text, r"run forktrace: pid \d+ exited with status 0")
        fork = re.findall(r"user: copy_pte_range +mm\d+ fork -> mm\d+: (\d+) entries; "
                          r"flush: batches=(\d+)", text)
        self.assertEqual(len(fork), 1, text)
        self.assertGreaterEqual(int(fork[0][0]), 300)  # the 300 touched pages, and more
        self.assertEqual(fork[0][1], "1")
        zaps = re.findall(r"user: zap_pte_range +mm\d+ unmap: (\d+) entries; "
                          r"flush: batches=(\d+)", text)
        self.assertEqual(len(zaps), 2, text)  # the child's exit, then the parent's
        self.assertEqual([b for _, b in zaps], ["1", "1"])
        self.assertIn("copy-on-write, a new frame", text)  # the child's write
        self.assertRegex(text, r"faults: demand_zero=\d+ cow_copies=[1-9]")

    # --- the other commands --------------------------------------------------------------

    def test_stats_reset(self):
        self.assertIn("counters are 0 again", self.one("stats reset"))
        text = self.one("stats")
        for key in ("pte_writes", "tlbi_page", "tlbi_range", "tlbi_all", "barriers",
                    "batches", "arch_enter", "arch_leave", "arch_flush", "ipis_sent"):
            self.assertEqual(ints(text, key), [0], key)

    def test_map_protect_unmap(self):
        mapped = self.one("map 8")
        self.assertIn("= 0 (ok), backend batched", mapped)
        self.assertGreaterEqual(ints(mapped, "pte_writes")[0], 8)
        self.assertEqual(ints(mapped, "tlbi_page") + ints(mapped, "tlbi_all"), [0, 0])
        first, second = self.out["protect 8"]
        self.assertIn("read-only) = 0", first)
        self.assertIn("read-write) = 0", second)
        for text in (first, second):
            self.assertEqual(ints(text, "pte_writes"), [8])
            self.assertEqual(ints(text, "batches"), [1])
            self.check_protect_8(text)
        unmapped, again = self.out["unmap 8"]
        self.assertIn("= 0 (ok)", unmapped)
        self.assertIn("= -2 (ENOENT: not mapped)", again)
        self.assertIn("usage: map N, with N from 1 to 512", self.one("map 0"))

    def check_protect_8(self, text):
        self.assertEqual(ints(text, "tlbi_page"), [8])

    def test_backend_and_trace(self):
        self.assertIn("backend: eager", self.one("backend eager"))
        text = self.one("protect 4")
        self.assertIn("backend eager", text)
        self.assertEqual(ints(text, "batches"), [4])  # eager: one per page
        self.assertRegex(text, r"lazy_mmu: enable\(\) +-> arch_enter")  # trace on
        self.assertNotIn("lazy_mmu:", self.one("unmap 4"))  # trace off again
        self.assertIn("backend batched", self.one("unmap 4"))
        self.assertIn("usage: trace on|off", self.one("trace sideways"))

    def test_ps_and_run(self):
        self.assertRegex(self.one("ps"), r"\n  0 +0 +boot +- +0 +0  0\n")
        self.assertRegex(self.one("ps"), r"\n  0 +0 +idle +- +0 +0  0\n")
        text = self.one("run hello")
        self.assertIn("hello from user space: pid", text)
        self.assertRegex(text, r"run hello: pid \d+ exited with status 0")

    def test_exit_powers_off_with_status_0(self):
        self.assertLess(self.exit_seconds, EXIT_SECONDS)
        self.assertEqual(self.exit_rc, 0)  # tests/run: the suite passed, exit 0
        self.assertIn("lazymmu> exit\nlazymmu: exit 0\n", self.screen)
        with open(os.path.join(ROOT, f"build/logs/{self.CONFIG}-console.log")) as log:
            self.assertIn(f"# exit status: {self.ARCH_QEMU_STATUS} ", log.read())

    def test_nothing_the_console_prints_looks_like_ktap(self):
        import ktap  # tests/runner: the runner's own parser decides
        console = self.screen[self.screen.index("console: the suite is done"):]
        console = console[:console.index("lazymmu: exit 0")]
        for line in console.splitlines():
            self.assertEqual(ktap.classify(line).kind, ktap.OTHER, line)

    def test_ctrl_d_powers_off(self):
        s = Session(self.CONFIG)
        try:
            seconds = s.finish(b"dem" + CTRL_D + CTRL_U + CTRL_D)  # inside a line: ignored
            self.assertEqual(s.proc.returncode, 0)
            self.assertLess(seconds, EXIT_SECONDS)
            # Ctrl-U erased "dem"; had the first Ctrl-D ended the console, "dem^D" would show.
            self.assertIn("lazymmu> ^D\nlazymmu: exit 0", render(s.buf))
        finally:
            s.close()

    def test_end_of_input_powers_off(self):
        """`make run </dev/null`: the runner turns the end of its input into Ctrl-D."""
        proc = subprocess.Popen([sys.executable, RUN, "--config", self.CONFIG, "--console",
                                 "--filter", FILTER], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
        out, prompt_at = b"", None
        try:
            while True:
                chunk = proc.stdout.read1(65536)
                if not chunk:
                    break
                out += chunk
                if prompt_at is None and PROMPT in out:
                    prompt_at = time.monotonic()
            proc.wait(60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        self.assertIsNotNone(prompt_at, out.decode(errors="replace")[-1000:])
        self.assertLess(time.monotonic() - prompt_at, EXIT_SECONDS)
        self.assertEqual(proc.returncode, 0)
        self.assertIn("lazymmu> ^D\nlazymmu: exit 0", render(out))


    def test_make_debug_stops_at_kmain_then_reaches_the_prompt(self):
        """make debug: gdb stops at kmain; after it lets go, the suite runs to the prompt."""
        arch = self.CONFIG.split("-")[0]
        gdb = shutil.which("gdb-multiarch") or shutil.which("gdb")
        self.assertIsNotNone(gdb, "no gdb: make setup installs gdb-multiarch")
        with socket.socket() as sock:  # a free port: other boots may hold 1234
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        master, slave = os.openpty()
        proc = subprocess.Popen(["make", "-s", "debug", f"ARCH={arch}"], stdin=slave,
                                stdout=slave, stderr=slave, cwd=ROOT, start_new_session=True,
                                env=dict(os.environ, GDB_PORT=str(port)))
        os.close(slave)
        s = Session.__new__(Session)  # the reading half of a Session, on make debug's pty
        s.master, s.proc, s.buf = master, proc, b""
        try:
            end = time.monotonic() + BOOT_SECONDS
            while b"QEMU halted" not in s.buf and time.monotonic() < end:
                s.read_some(0.2)
            self.assertIn(b"QEMU halted", s.buf)
            g = subprocess.run([gdb, "-batch", "-nx", "-x", f"build/{arch}/gdbinit",
                                "-ex", "continue", "-ex", "info symbol $pc", "-ex", "detach"],
                               cwd=ROOT, capture_output=True, text=True, timeout=60)
            self.assertIn("kmain in section .text", g.stdout, g.stdout + g.stderr)
            s.wait_for_prompts(1, BOOT_SECONDS)
            s.finish(b"exit\r")
            self.assertIn("lazymmu: exit 0", render(s.buf))
        finally:
            s.close()


class ConsoleX86(ConsoleChecks, unittest.TestCase):
    CONFIG = "x86_64-pvh"
    ARCH_QEMU_STATUS = 1  # isa-debug-exit: (0 << 1) | 1
    SMP4_IPIS = (3, 12)  # batched: one shootdown to 3 CPUs; eager: 4 pages x 3


class ConsoleArm64(ConsoleChecks, unittest.TestCase):
    CONFIG = "arm64-max"
    ARCH_QEMU_STATUS = 0  # semihosting SYS_EXIT_EXTENDED with 0
    SMP4_IPIS = (0, 0)  # broadcast TLBIs

    def check_below_ceiling(self, n, page, rng, full):
        # -cpu max has FEAT_TLBIRANGE: one page is a page TLBI, more are a few range TLBIs.
        self.assertEqual(full, 0)
        if n == 1:
            self.assertEqual((page, rng), (1, 0))
        else:
            self.assertGreaterEqual(rng, 1)
            self.assertLessEqual(page + rng, 5)

    def check_protect_8(self, text):
        self.assertEqual(ints(text, "tlbi_range"), [1])
        self.assertEqual(ints(text, "tlbi_page"), [0])


if __name__ == "__main__":
    unittest.main()
