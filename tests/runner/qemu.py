"""The test configurations, their command lines, and booting one with a timeout.

A configuration is one way of running the tests: the host binary, or a QEMU machine (TCG
only: KVM here is slow and never shows a stale translation) with one kernel image.
"""

import os
import selectors
import shlex
import signal
import subprocess
import termios
import threading
import time
from dataclasses import dataclass
from typing import BinaryIO, Callable, List, Mapping, Optional

from ktap import ISA_DEBUG_EXIT, PROCESS, SEMIHOSTING


@dataclass(frozen=True)
class Config:
    name: str
    arch: str  # "host", "model", "x86_64" or "arm64": selects the build directory
    style: str  # how the exit code reaches us (ktap.ISA_DEBUG_EXIT, ...)
    image: str  # the artifact, relative to the arch's build directory
    cpu: str = ""  # QEMU -cpu
    takes_cmdline: bool = True  # False: the image has its own (the GRUB ISO)

    def build_dir(self, selftest: bool = False) -> str:
        """build/<arch>, or build/<arch>-selftest for the runner's self-test kernels."""
        return f"build/{self.arch}" + ("-selftest" if selftest else "")

    def artifact(self, selftest: bool = False) -> str:
        if self.arch == "model":  # a script in the tree: nothing to build
            return self.image
        return f"{self.build_dir(selftest)}/{self.image}"

    def make_hint(self, selftest: bool = False) -> str:
        """The command that builds the artifact."""
        if self.arch == "host":
            return f"make {self.artifact()}"
        if self.arch == "model":
            return "git checkout tests/model/check"
        return f"make ARCH={self.arch}" + (" SELFTEST=1" if selftest else "")


# In the order they run by default.
CONFIGS = [
    Config("host", "host", PROCESS, "unit_tests"),
    # The spin model (tests/model): each variant of the state machine is one test.
    Config("model", "model", PROCESS, "tests/model/check"),
    Config("x86_64-grub", "x86_64", ISA_DEBUG_EXIT, "lazymmu.iso", "max", takes_cmdline=False),
    Config("x86_64-pvh", "x86_64", ISA_DEBUG_EXIT, "kernel.elf", "max"),
    Config("arm64-max", "arm64", SEMIHOSTING, "Image", "max"),
    Config("arm64-a72", "arm64", SEMIHOSTING, "Image", "cortex-a72"),
]
BY_NAME = {c.name: c for c in CONFIGS}

# What every machine shares: one CPU, no devices but the ones named, the serial port on
# our stdout, and a CPU reset (triple fault) ends QEMU instead of rebooting forever.
COMMON = ["-m", "256M", "-smp", "1", "-no-reboot", "-nodefaults", "-display", "none",
          "-monitor", "none", "-serial", "stdio"]


# With the console (tests/run --console) the serial port is an interactive terminal: the
# multiplexer gives a person Ctrl-A x to end QEMU, because signal=off sends Ctrl-C to the
# guest as a byte (the console cancels its line with it) instead of killing QEMU.
CONSOLE_SERIAL = ["-chardev", "stdio,id=con0,mux=on,signal=off", "-serial", "chardev:con0"]


def command(config: Config, cmdline: str, env: Mapping[str, str] = os.environ,
            selftest: bool = False, console: bool = False) -> List[str]:
    """The argv that runs a configuration. cmdline: the kernel command line ('' = none);
    console: the serial port as an interactive terminal (CONSOLE_SERIAL)."""
    image = config.artifact(selftest)
    if config.arch == "host":
        # The host binary takes the same words as the kernel command line, as arguments.
        return [image] + cmdline.split()
    if config.arch == "model":  # the same words, and KTAP out
        return [image, "--ktap"] + cmdline.split()
    common = COMMON
    if console:
        i = common.index("-serial")
        common = common[:i] + CONSOLE_SERIAL + common[i + 2:]
    if config.arch == "x86_64":
        argv = shlex.split(env.get("QEMU_X86", "qemu-system-x86_64"))
        argv += ["-machine", "q35", "-cpu", config.cpu] + common
        argv += ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    else:
        argv = shlex.split(env.get("QEMU_ARM64", "qemu-system-aarch64"))
        argv += ["-machine", "virt,gic-version=2", "-cpu", config.cpu] + common
        argv += ["-semihosting"]
    if config.image.endswith(".iso"):
        argv += ["-cdrom", image, "-boot", "d"]
    else:
        argv += ["-kernel", image]
        if cmdline:
            argv += ["-append", cmdline]
    if uses_kvm(argv):
        raise ValueError(f"{config.name}: refusing to use KVM ({shlex.join(argv)}): "
                         "the tests need TCG")
    return argv


def uses_kvm(argv: List[str]) -> bool:
    """-enable-kvm, -accel kvm, -machine ...,accel=kvm: never, whatever the environment."""
    for i, word in enumerate(argv):
        if word in ("-enable-kvm", "--enable-kvm") or "accel=kvm" in word:
            return True
        if word in ("-accel", "--accel") and argv[i + 1:i + 2] and \
                argv[i + 1].startswith("kvm"):
            return True
    return False


# ----------------------------------------------------------------------------- booting

@dataclass
class Boot:
    lines: List[str]  # the output, split into lines ('\r' stripped)
    rc: Optional[int]  # exit status (negative: killed by that signal)
    timed_out: bool
    seconds: float


# Every process group we started and haven't reaped, so Ctrl-C can stop them: they run
# in their own session, so the terminal's SIGINT doesn't reach them.
_running = set()
_stopping = False  # set by kill_all(): no new boot may start
_lock = threading.Lock()


def kill_group(proc: subprocess.Popen) -> None:
    """Stops QEMU and anything it started: SIGTERM, then SIGKILL if it lingers."""
    for sig, grace in ((signal.SIGTERM, 3), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def kill_all() -> None:
    """Stops every boot in progress (Ctrl-C), and any that was about to start."""
    global _stopping
    with _lock:
        _stopping = True
        procs = list(_running)
    for proc in procs:
        kill_group(proc)


# What the kernel's console prints when it waits for a line (kernel/console.c).
CONSOLE_PROMPT = b"lazymmu> "
CTRL_D = b"\x04"  # the console's end of input


def forward_input(src: BinaryIO, proc: subprocess.Popen, prompted: threading.Event) -> None:
    """Copies src to QEMU's stdin once the console has printed its first prompt, then
    sends Ctrl-D for the end of src.

    Why the host does this: QEMU's stdio chardev never tells the guest that its input
    ended (it just stops reading), so end of input must become a byte the console knows.
    A last line without its newline is finished first, so it runs before the Ctrl-D.
    Why wait for the prompt: bytes that reach the UART before the kernel has set it up are
    dropped by the set-up (it resets the FIFOs), so a script typed ahead would lose its
    first character."""
    while not prompted.wait(0.2):
        if proc.poll() is not None:
            return
    last = b"\n"
    try:
        while True:
            chunk = os.read(src.fileno(), 4096)
            if not chunk:
                break
            proc.stdin.write(chunk)
            proc.stdin.flush()
            last = chunk[-1:]
        proc.stdin.write((b"" if last in (b"\n", b"\r") else b"\n") + CTRL_D)
        proc.stdin.flush()
    except (BrokenPipeError, ValueError, OSError):
        pass  # QEMU has exited (or closed its input): nothing more to send


def boot(argv: List[str], timeout: float, log_path: str,
         echo: Optional[Callable[[str], None]] = None,
         console_input: Optional[BinaryIO] = None,
         raw_echo: Optional[Callable[[bytes], None]] = None) -> Boot:
    """Runs argv with stdout+stderr captured and written raw to log_path (after a header
    line naming the command), calling echo(line) for each line as it arrives. After
    `timeout` seconds the whole process group is killed and timed_out is set.

    For the console (tests/run --console): raw_echo(chunk) gets the output as it comes,
    prompts and echoed keys included, instead of echo(line); console_input is what the
    user types. A terminal is handed to QEMU as its stdin (QEMU puts it in raw mode itself
    and restores it at exit); anything else is forwarded by forward_input()."""
    lines: List[str] = []
    partial = b""
    start = time.monotonic()
    timed_out = False
    tty = console_input is not None and os.isatty(console_input.fileno())
    if console_input is None:
        # stdin is /dev/null: with -serial stdio, QEMU would otherwise grab the terminal.
        stdin = subprocess.DEVNULL
    else:
        stdin = console_input if tty else subprocess.PIPE
    prompted = threading.Event()
    seen = b""
    # QEMU restores the terminal when it exits, but not if it has to be killed: we do.
    saved_tty = termios.tcgetattr(console_input.fileno()) if tty else None
    with open(log_path, "wb") as log:
        log.write(f"# command: {shlex.join(argv)}\n".encode())
        log.flush()
        with _lock:
            if _stopping:
                raise KeyboardInterrupt
            # Its own session: a timeout kills QEMU and all it started.
            proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            _running.add(proc)
        if console_input is not None and not tty:
            threading.Thread(target=forward_input, args=(console_input, proc, prompted),
                             daemon=True).start()
        try:
            with selectors.DefaultSelector() as sel:
                sel.register(proc.stdout, selectors.EVENT_READ)
                while True:
                    left = start + timeout - time.monotonic()
                    if left <= 0:
                        timed_out = True
                        break
                    if not sel.select(left):
                        continue
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    if not chunk:
                        break  # EOF: the process closed its output (it is exiting)
                    log.write(chunk)
                    log.flush()
                    if raw_echo:
                        raw_echo(chunk)
                    if not prompted.is_set():
                        seen = (seen + chunk)[-len(CONSOLE_PROMPT) * 2:]
                        if CONSOLE_PROMPT in seen:
                            prompted.set()
                    *complete, partial = (partial + chunk).split(b"\n")
                    for raw in complete:
                        line = raw.decode("utf-8", "replace").rstrip("\r")
                        lines.append(line)
                        if echo and not raw_echo:
                            echo(line)
            if timed_out:
                kill_group(proc)
            else:
                try:
                    proc.wait(max(start + timeout - time.monotonic(), 1))
                except subprocess.TimeoutExpired:
                    timed_out = True  # closed its output but never exited
                    kill_group(proc)
        finally:
            if proc.poll() is None:  # an exception (Ctrl-C) got us here
                kill_group(proc)
            proc.stdout.close()
            if proc.stdin:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
            if saved_tty is not None:
                termios.tcsetattr(console_input.fileno(), termios.TCSADRAIN, saved_tty)
            with _lock:
                _running.discard(proc)
        if partial:
            line = partial.decode("utf-8", "replace").rstrip("\r")
            lines.append(line)
            if echo and not raw_echo:
                echo(line)
            log.write(b"\n")
    return Boot(lines, proc.returncode, timed_out, time.monotonic() - start)


def finish_log(log_path: str, result: Boot, closing_lines: List[str],
               timeout: float) -> None:
    """Appends what the runner knows at the end: the KTAP it closed, and the status."""
    with open(log_path, "a") as log:
        for line in closing_lines:
            log.write(line + "\n")
        if result.timed_out:
            log.write(f"# TIMEOUT after {timeout:g}s: killed ({result.seconds:.1f}s)\n")
        else:
            log.write(f"# exit status: {result.rc} ({result.seconds:.1f}s)\n")
