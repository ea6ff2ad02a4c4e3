"""How tests/run --console feeds the console (no kernel needed): the serial options, and the
input forwarding that turns the end of a non-terminal input into Ctrl-D, after the prompt."""

import ast
import os
import sys
import tempfile
import unittest

import qemu

# Stands in for QEMU: records what arrived on stdin before it printed the prompt and after,
# until the console's end-of-input byte, then exits.
FAKE = """\
import os, select, sys, time
time.sleep(0.3)
early = b""
while select.select([0], [], [], 0)[0]:
    chunk = os.read(0, 4096)
    if not chunk:
        break
    early += chunk
sys.stdout.write("boot\\nlazymmu> ")
sys.stdout.flush()
late = b""
while not late.endswith(b"\\x04"):
    chunk = os.read(0, 4096)
    if not chunk:
        break
    late += chunk
open(os.environ["FAKE_OUT"], "wb").write(repr((early, late)).encode())
"""


class ConsoleInputTest(unittest.TestCase):
    def feed(self, data: bytes):
        with tempfile.TemporaryDirectory() as tmp:
            fake, out, log = (os.path.join(tmp, n) for n in ("fake.py", "out", "log"))
            with open(fake, "w") as f:
                f.write(FAKE)
            rfd, wfd = os.pipe()
            os.write(wfd, data)
            os.close(wfd)
            os.environ["FAKE_OUT"] = out
            try:
                with os.fdopen(rfd, "rb") as src:
                    boot = qemu.boot([sys.executable, fake], 20, log, console_input=src,
                                     raw_echo=lambda chunk: None)
            finally:
                del os.environ["FAKE_OUT"]
            self.assertFalse(boot.timed_out)
            with open(out) as f:
                return ast.literal_eval(f.read())  # the repr of two bytes objects

    def test_end_of_input_becomes_ctrl_d(self):
        self.assertEqual(self.feed(b""), (b"", b"\x04"))

    def test_a_last_line_without_newline_is_finished_first(self):
        self.assertEqual(self.feed(b"demo\nexit"), (b"", b"demo\nexit\n\x04"))
        self.assertEqual(self.feed(b"demo\r\n"), (b"", b"demo\r\n\x04"))

    def test_nothing_is_sent_before_the_prompt(self):
        early, late = self.feed(b"help\n")
        self.assertEqual(early, b"")
        self.assertEqual(late, b"help\n\x04")

    def test_console_serial_is_the_multiplexed_terminal(self):
        argv = qemu.command(qemu.BY_NAME["arm64-max"], "console", {}, console=True)
        self.assertNotIn("stdio", argv[argv.index("-serial") + 1])
        self.assertIn("-chardev", argv)
        self.assertEqual(argv[argv.index("-chardev") + 1], "stdio,id=con0,mux=on,signal=off")
        self.assertEqual(argv[-2:], ["-append", "console"])


if __name__ == "__main__":
    unittest.main()
