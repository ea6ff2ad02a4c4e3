"""Reading a boot's KTAP output and deciding whether the boot passed.

Everything here is a pure function of the captured lines, the process's exit status and
the way the machine reports that status, so it is unit-tested on canned transcripts
(test_ktap.py) without QEMU.

The shape the kernel prints (KTAP v1, as Linux's KUnit prints it):

    KTAP version 1                      document header
    1..2                                plan: two suites
        KTAP version 1                  a suite: header,
        # Subtest: harness              its name,
        1..3                            its plan: three cases,
        # running: expect_eq_passes     (our kernel names each case before running it)
        ok 1 expect_eq_passes           a case result
        # some_case: EXPECTATION FAILED at tests/kernel/x.c:10
        not ok 2 some_case              diagnostics ('# ...') belong to the next result
        ok 3 skipped_case # SKIP no FEAT_TLBIRANGE
    ok 1 harness                        the suite's own result, named like its Subtest
    ...
    lazymmu: exit 1                     not KTAP: the kernel's verdict, its last line

Indentation is cosmetic: structure comes only from headers, plans and results, so the
parser strips every line. Lines that are not KTAP (boot banners, exception reports) are
tolerated anywhere; a crash report printed during a case is kept to explain that case.
"""

import re
from dataclasses import dataclass, field
from typing import List, Optional

# ----------------------------------------------------------------------------- lines

HEADER, PLAN, RESULT, SUBTEST, RUNNING, DIAG, EXIT, OTHER = (
    "header", "plan", "result", "subtest", "running", "diag", "exit", "other")

_HEADER_RE = re.compile(r"K?TAP version \d+$")
_PLAN_RE = re.compile(r"1\.\.(\d+)\s*(?:#.*)?$")
_RESULT_RE = re.compile(r"(ok|not ok) (\d+)\b(.*)$")
_SUBTEST_RE = re.compile(r"#\s*Subtest:\s*(.*?)\s*$")
_RUNNING_RE = re.compile(r"#\s*running:\s*(.*?)\s*$")
_EXIT_RE = re.compile(r"lazymmu: exit (-?\d+)$")


@dataclass
class Line:
    kind: str
    text: str  # the line without '\r' and surrounding blanks
    number: int = 0  # PLAN: the count; RESULT: the test number; EXIT: the code
    ok: bool = False  # RESULT
    name: str = ""  # RESULT, SUBTEST, RUNNING
    directive: str = ""  # RESULT: what follows '#', e.g. "SKIP no FEAT_TLBIRANGE"


def classify(raw: str) -> Line:
    """Says what one line of output is. Anything unrecognised is OTHER (tolerated)."""
    text = raw.replace("\r", "").strip()
    if _HEADER_RE.match(text):
        return Line(HEADER, text)
    m = _PLAN_RE.match(text)
    if m:
        return Line(PLAN, text, number=int(m.group(1)))
    m = _RESULT_RE.match(text)
    if m:
        # "ok 3 name # SKIP why": the name never contains '#', the directive follows it.
        rest, _, directive = m.group(3).partition("#")
        name = rest.strip()
        if name.startswith("- "):  # TAP allows "ok 1 - name"
            name = name[2:].strip()
        return Line(RESULT, text, number=int(m.group(2)), ok=m.group(1) == "ok",
                    name=name, directive=directive.strip())
    m = _SUBTEST_RE.match(text)
    if m:
        return Line(SUBTEST, text, name=m.group(1))
    m = _RUNNING_RE.match(text)
    if m:
        return Line(RUNNING, text, name=m.group(1))
    if text.startswith("#"):
        return Line(DIAG, text)
    m = _EXIT_RE.match(text)
    if m:
        return Line(EXIT, text, number=int(m.group(1)))
    return Line(OTHER, text)


def is_skip(directive: str) -> bool:
    return directive.upper().startswith("SKIP")


# ----------------------------------------------------------------------------- parser

@dataclass
class Test:
    """One node of the KTAP tree: the document, a suite, or a case (a leaf)."""
    name: str = ""
    number: int = 0  # position in the parent's plan
    leaf: bool = True  # a bare result line, with no header/plan/children of its own
    plan: Optional[int] = None
    children: List["Test"] = field(default_factory=list)
    ok: Optional[bool] = None  # None: its result line never came
    directive: str = ""
    diagnostics: List[str] = field(default_factory=list)  # '# ...' lines before the result
    running: Optional[str] = None  # '# running: X' seen, and X has no result yet
    last_seen: Optional[str] = None  # latest case that started or reported in here
    output_tail: List[str] = field(default_factory=list)  # lines after the last result
    errors: List[str] = field(default_factory=list)  # what is wrong with its structure


@dataclass
class Document:
    found: bool  # a KTAP header was seen at all
    root: Test  # the document itself: its children are the suites
    errors: List[str]  # every structural problem, in order
    exit_code: Optional[int]  # from the last "lazymmu: exit N" line


MAX_DEPTH = 8  # suites > cases is depth 2; anything much deeper is garbage


class _Parser:
    """Recursive descent over classified lines: a test is [header] [# Subtest] plan,
    then children, then its own result line (the document has no result line)."""

    def __init__(self, lines: List[str]):
        self.lines = [classify(raw) for raw in lines]
        self.i = 0

    def peek(self) -> Optional[Line]:
        return self.lines[self.i] if self.i < len(self.lines) else None

    def parse(self) -> Document:
        exit_codes = [ln.number for ln in self.lines if ln.kind == EXIT]
        exit_code = exit_codes[-1] if exit_codes else None
        root = Test(leaf=False)
        # Boot banners come first: the document starts at the first header.
        while self.peek() and self.peek().kind != HEADER:
            self.i += 1
        if not self.peek():
            return Document(False, root, ["no KTAP output (no 'KTAP version 1' line)"],
                            exit_code)
        self.i += 1
        while self.peek() and self.peek().kind in (DIAG, OTHER, EXIT):
            self.i += 1
        if self.peek() and self.peek().kind == PLAN:
            root.plan = self.peek().number
            self.i += 1
        else:
            root.errors.append("the top-level plan ('1..N' after the first header) is missing")
        self.parse_children(root, depth=0)
        return Document(True, root, collect_errors(root), exit_code)

    def parse_subtest(self, number: int, depth: int) -> Test:
        """A suite (or deeper group): header and '# Subtest:' in either order, then plan."""
        test = Test(number=number, leaf=False)
        seen_header = seen_name = False
        while self.peek():
            ln = self.peek()
            if ln.kind == HEADER and not seen_header:
                seen_header = True
            elif ln.kind == SUBTEST and not seen_name:
                seen_name = True
                test.name = ln.name
            elif ln.kind in (DIAG, RUNNING, OTHER, EXIT):
                pass
            elif ln.kind == PLAN:
                test.plan = ln.number
                self.i += 1
                break
            else:
                break
            self.i += 1
        label = test.name or f"#{number}"
        if not seen_name:
            test.errors.append(f"subtest {label} has no '# Subtest: NAME' line")
        if test.plan is None:
            test.errors.append(f"subtest {label} has no plan ('1..N')")
        if depth > MAX_DEPTH:
            test.errors.append(f"subtest {label} is nested more than {MAX_DEPTH} deep")
            self.i = len(self.lines)
            return test
        self.parse_children(test, depth)
        return test

    def closes(self, ln: Line, parent: Test) -> bool:
        """Is this result line the parent's own result, rather than its next child's?"""
        if parent.name and ln.name == parent.name and ln.number == parent.number:
            return True  # exactly the closing line we expect
        if ln.number == len(parent.children) + 1:
            return False  # the next child in sequence (maybe one more than planned)
        # Out of sequence: if the plan is complete, it is a garbled closing line,
        # otherwise a child that skipped a number. Either way an error is reported.
        return parent.plan is not None and len(parent.children) >= parent.plan

    def parse_children(self, parent: Test, depth: int) -> None:
        pending: List[Line] = []  # diagnostics and noise since the last result
        is_root = depth == 0
        while self.peek():
            ln = self.peek()
            complete = parent.plan is not None and len(parent.children) >= parent.plan
            if ln.kind in (DIAG, OTHER, EXIT):
                if ln.text:
                    pending.append(ln)
                self.i += 1
            elif ln.kind == RUNNING:
                # A case starts: what it prints from here on explains it.
                parent.running = parent.last_seen = ln.name
                pending = []
                self.i += 1
            elif ln.kind == PLAN:
                parent.errors.append(f"unexpected plan '{ln.text}' in {describe(parent)}")
                self.i += 1
            elif ln.kind in (HEADER, SUBTEST):
                if complete and not is_root:
                    # The next suite starts, but this one never printed its result.
                    break
                if complete:
                    parent.errors.append(
                        f"more tests than the top-level plan's {parent.plan}")
                child = self.parse_subtest(len(parent.children) + 1, depth + 1)
                parent.children.append(child)
                parent.last_seen = child.name
                pending = []
            else:  # RESULT
                if not is_root and self.closes(ln, parent):
                    self.i += 1
                    close(parent, ln, pending)
                    return
                self.i += 1
                parent.children.append(leaf_from(ln, parent, pending))
                parent.running = None
                parent.last_seen = ln.name
                pending = []
        # The input ended (or the next suite began) before this test's result line.
        parent.output_tail = [p.text for p in pending]
        if not is_root and self.peek():
            parent.errors.append(f"{describe(parent)} has no result line "
                                 f"('ok {parent.number} {parent.name}')")


def leaf_from(ln: Line, parent: Test, pending: List[Line]) -> Test:
    leaf = Test(name=ln.name, number=ln.number, ok=ln.ok, directive=ln.directive,
                diagnostics=[p.text for p in pending if p.kind == DIAG])
    expected = len(parent.children) + 1
    if ln.number != expected:
        parent.errors.append(f"result '{ln.text}' in {describe(parent)} "
                             f"should be number {expected}")
    if parent.plan is not None and expected > parent.plan:
        parent.errors.append(f"{describe(parent)} reports more than its planned "
                             f"{parent.plan} tests ('{ln.text}')")
    return leaf


def close(parent: Test, ln: Line, pending: List[Line]) -> None:
    """Applies a test's own result line and checks it against what came before."""
    parent.ok = ln.ok
    parent.directive = ln.directive
    parent.diagnostics += [p.text for p in pending if p.kind == DIAG]
    if ln.name != parent.name or ln.number != parent.number:
        parent.errors.append(f"result '{ln.text}' should be "
                             f"'{'ok' if ln.ok else 'not ok'} {parent.number} {parent.name}'")
    if parent.plan is not None and len(parent.children) != parent.plan:
        parent.errors.append(f"{describe(parent)} planned {parent.plan} tests "
                             f"but reported {len(parent.children)}")


def describe(test: Test) -> str:
    return f"suite '{test.name}'" if test.name else "the top level"


def collect_errors(test: Test) -> List[str]:
    errors = list(test.errors)
    for child in test.children:
        errors += collect_errors(child)
    return errors


def parse(lines: List[str]) -> Document:
    """Parses a whole boot's output (a list of lines, '\\r' allowed) into a tree."""
    return _Parser(lines).parse()


# ----------------------------------------------------------------------------- verdict

PASS, FAIL, SKIP = "pass", "fail", "skip"

# How a machine reports the kernel's exit code to the host.
ISA_DEBUG_EXIT = "isa-debug-exit"  # x86-64: QEMU exits with (code << 1) | 1
SEMIHOSTING = "semihosting"  # arm64: SYS_EXIT_EXTENDED, QEMU exits with code
PROCESS = "process"  # the host binary: exit status 0 = all passed

EXIT_MEANING = {0: "all suites passed", 1: "some test failed",
                2: "panic or unexpected exception"}


@dataclass
class Case:
    """A leaf test: one counted test."""
    suite: str
    name: str  # "" for a top-level test without cases
    status: str  # PASS, FAIL or SKIP
    why: str = ""  # for failures: "not ok", "TIMEOUT", ...; for skips: the reason
    diagnostics: List[str] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.suite}.{self.name}" if self.name else self.suite


@dataclass
class Suite:
    number: int
    name: str
    status: str  # "ok", "FAIL", "SKIP" or "TIMEOUT"
    cases: List[Case]


@dataclass
class Verdict:
    passed: bool
    suites: List[Suite]
    problems: List[str]  # boot-level reasons for failing, beyond failed cases
    timeout_message: Optional[str] = None  # "TIMEOUT after 120s in suite ..."
    closing_lines: List[str] = field(default_factory=list)  # KTAP appended after a kill
    exit_code: Optional[int] = None

    @property
    def cases(self) -> List[Case]:
        return [c for s in self.suites for c in s.cases]

    def count(self, status: str) -> int:
        return sum(1 for c in self.cases if c.status == status)

    @property
    def boot_failure(self) -> bool:
        """The boot failed, but no case can be blamed: counted as one failure itself."""
        return not self.passed and self.count(FAIL) == 0


def judge(lines: List[str], rc: Optional[int], style: str,
          timeout: Optional[float] = None) -> Verdict:
    """The verdict on one boot.

    lines:   everything the machine printed (serial console, or the host binary's stdout)
    rc:      the process's exit status (ignored when timeout is set: we killed it)
    style:   ISA_DEBUG_EXIT, SEMIHOSTING or PROCESS
    timeout: the limit in seconds, if the boot hit it and was killed
    """
    doc = parse(lines)
    problems: List[str] = []
    suites: List[Suite] = []
    # The suite the output stopped in: the last one, if its result line never came.
    last = doc.root.children[-1] if doc.root.children else None
    in_progress = last if last and not last.leaf and last.ok is None else None
    for top in doc.root.children:
        suites.append(summarise(top, timed_out=timeout is not None and top is in_progress))

    if doc.found or timeout is None:  # (a timeout before any KTAP says it already)
        problems += doc.errors
    for top, suite in zip(doc.root.children, suites):
        problems += suite_problems(top, suite)
    if in_progress and in_progress.running is None and timeout is None:
        problems.append(f"the output ended inside suite '{in_progress.name}', "
                        f"before its result line")
    plan = doc.root.plan
    if plan is not None and len(doc.root.children) < plan:
        started = len(doc.root.children)
        problems.append(f"{plan - started} of {plan} planned suites never ran" if started
                        else f"none of the {plan} planned suites ran")

    verdict = Verdict(passed=False, suites=suites, problems=problems,
                      exit_code=doc.exit_code)
    if timeout is not None:
        verdict.timeout_message, verdict.closing_lines = timeout_report(doc, in_progress,
                                                                        timeout)
        problems.insert(0, verdict.timeout_message)
    else:
        problems += exit_status_problems(doc.exit_code, rc, style)

    # The exit status and the KTAP must tell the same story.
    ktap_says_pass = verdict.count(FAIL) == 0 and all(s.status != "FAIL" for s in suites)
    status_says_pass = doc.exit_code == 0 if doc.exit_code is not None else (
        style == PROCESS and rc == 0)
    if timeout is None and doc.found:
        if status_says_pass and not ktap_says_pass:
            problems.append("the exit status says success, but the KTAP reports failures")
        if doc.exit_code is not None and doc.exit_code == 1 and ktap_says_pass:
            problems.append("the kernel exited 1 (some test failed), "
                            "but every result in the KTAP passed")
        if style == PROCESS and doc.exit_code is None and rc == 1 and ktap_says_pass:
            problems.append("the host tests exited 1 (some test failed), "
                            "but every result in the KTAP passed")

    verdict.passed = not problems and ktap_says_pass
    return verdict


def summarise(top: Test, timed_out: bool) -> Suite:
    """Flattens one top-level test into counted cases, blaming unreported ones."""
    if top.leaf:  # a top-level result with no cases of its own: one test by itself
        return Suite(top.number, top.name, status_word(top), [leaf_case(top.name, "", top)])
    cases: List[Case] = []
    flatten(top, top.name, "", cases)
    # Planned cases that never reported: the one that was running when the output
    # stopped gets the blame (and the crash report that followed), the rest never ran.
    unreported = (top.plan or 0) - len(top.children)
    if top.ok is None and top.running is not None:
        why = "TIMEOUT" if timed_out else "no result: the output stopped during this case"
        cases.append(Case(top.name, top.running, FAIL, why, top.output_tail[-40:]))
        unreported -= 1
    for k in range(max(unreported, 0)):
        number = top.plan - unreported + k + 1
        cases.append(Case(top.name, f"#{number}", FAIL, "planned but never reported"))
    if timed_out:
        status = "TIMEOUT"
    elif top.ok is None or not top.ok or any(c.status == FAIL for c in cases):
        status = "FAIL"
    elif (cases and all(c.status == SKIP for c in cases)) or \
            (not cases and is_skip(top.directive)):
        status = "SKIP"
    else:
        status = "ok"
    return Suite(top.number, top.name, status, cases)


def suite_problems(top: Test, suite: Suite) -> List[str]:
    """A suite's own result line must agree with its cases."""
    failed = any(c.status == FAIL for c in suite.cases)
    if top.ok is True and failed and not is_skip(top.directive):
        return [f"suite '{top.name}' says ok, but some of its cases failed"]
    if top.ok is False and not failed and not top.leaf:
        return [f"suite '{top.name}' says not ok, but none of its cases failed"]
    return []


def flatten(test: Test, suite: str, prefix: str, out: List[Case]) -> None:
    for child in test.children:
        name = f"{prefix}{child.name}"
        if child.leaf:
            out.append(leaf_case(suite, name, child))
        else:  # a group inside a suite: its leaves are named group.case
            flatten(child, suite, name + ".", out)


def leaf_case(suite: str, name: str, test: Test) -> Case:
    if is_skip(test.directive):
        return Case(suite, name, SKIP, test.directive[4:].strip(), test.diagnostics)
    if test.ok:
        return Case(suite, name, PASS)
    why = "not ok" + (f" # {test.directive}" if test.directive else "")
    return Case(suite, name, FAIL, why, test.diagnostics)


def status_word(test: Test) -> str:
    if is_skip(test.directive):
        return "SKIP"
    return "ok" if test.ok else "FAIL"


def timeout_report(doc: Document, suite: Optional[Test], timeout: float):
    """The message for a killed boot, and the KTAP lines that close what was open."""
    after = f"TIMEOUT after {timeout:g}s"
    if not doc.found:
        return f"{after} before any KTAP output", []
    if suite is None:
        done = doc.root.children
        if doc.exit_code is not None:
            return (f"{after} after 'lazymmu: exit {doc.exit_code}': "
                    f"the machine did not stop", [])
        if doc.root.plan is not None and len(done) >= doc.root.plan:
            return f"{after} after the last suite: the kernel never exited", []
        if done:
            return f"{after} between suites, after suite '{done[-1].name}'", []
        return f"{after} before the first suite", []
    last = suite.last_seen
    message = (f"{after} in suite '{suite.name}', last test seen: "
               + (f"'{last}'" if last else "none (no case started)"))
    closing = []
    if suite.running is not None:
        closing.append(f"    not ok {len(suite.children) + 1} {suite.running} # TIMEOUT")
    closing.append(f"not ok {suite.number} {suite.name} # TIMEOUT")
    return message, closing


def exit_status_problems(code: Optional[int], rc: Optional[int], style: str) -> List[str]:
    """Checks the exit line against the process's status, for each way of exiting."""
    problems = []
    if rc is not None and rc < 0:
        problems.append(f"the process was killed by signal {-rc}")
    elif style == ISA_DEBUG_EXIT:
        if code is None and rc == 0:
            problems.append("QEMU exited with status 0 before the kernel's exit: a triple "
                            "fault resets the CPU, and -no-reboot turns a reset into a "
                            "clean exit")
        elif code is None:
            problems.append(f"QEMU exited with status {rc} but the kernel never printed "
                            f"'lazymmu: exit N'" + (" (status 1 is also how QEMU reports "
                                                     "its own errors: see the log)"
                                                     if rc == 1 else ""))
        elif rc != ((code << 1) | 1) & 0xFF:
            problems.append(f"exit status disagreement: the kernel printed 'lazymmu: exit "
                            f"{code}', so isa-debug-exit should make QEMU exit with "
                            f"{((code << 1) | 1) & 0xFF}, but it exited with {rc}")
    elif style == SEMIHOSTING:
        if code is None:
            problems.append(f"QEMU exited with status {rc} but the kernel never printed "
                            f"'lazymmu: exit N'" + (" (PSCI SYSTEM_OFF or a halt also "
                                                     "exit 0)" if rc == 0 else ""))
        elif rc != code & 0xFF:
            problems.append(f"exit status disagreement: the kernel printed 'lazymmu: exit "
                            f"{code}', so semihosting should make QEMU exit with "
                            f"{code & 0xFF}, but it exited with {rc}")
    elif style == PROCESS:
        if code is not None and rc != code & 0xFF:
            problems.append(f"exit status disagreement: the output says 'lazymmu: exit "
                            f"{code}' but the process exited with {rc}")
        elif code is None and rc not in (0, 1):
            problems.append(f"the host tests exited with status {rc} (expected 0 or 1)")
    if code is not None and code != 0:
        problems.append(f"the kernel exited with code {code} "
                        f"({EXIT_MEANING.get(code, 'an error')})")
    return problems


# ----------------------------------------------------------------------------- expect-fail

def blames(verdict: Verdict, target: str) -> Optional[Case]:
    """The failed case named target ('suite.case', or just 'suite'), if the report has it."""
    for case in verdict.cases:
        if case.status == FAIL and target in (case.full_name, case.suite):
            return case
    return None


# How a case can fail, for --expect-fail SUITE.CASE:KIND.
ASSERT_KIND, CRASH_KIND, TIMEOUT_KIND = "assert", "crash", "timeout"
FAIL_KINDS = (ASSERT_KIND, CRASH_KIND, TIMEOUT_KIND)
_CHECK_FAILED = re.compile(r"\b(EXPECTATION|ASSERTION) FAILED at \S+:\d+")


def failure_kind(verdict: Verdict, case: Case) -> str:
    """How case failed: one of FAIL_KINDS, or a description of something else.

    assert   the kernel reported 'not ok' after a failed check's diagnostic
             ('... EXPECTATION FAILED at FILE:LINE' or ASSERTION), and exited 1
    crash    the output stopped during the case and the kernel exited 2 (an exception
             report or a panic; the runner shows it under the case)
    timeout  the runner killed the boot while the case was running
    """
    if case.why == "TIMEOUT":
        return TIMEOUT_KIND if verdict.timeout_message else "a TIMEOUT the runner did not see"
    if case.why.startswith("no result"):
        if verdict.exit_code == 2:
            return CRASH_KIND
        return (f"the output stopped during it, but the kernel exited "
                f"{verdict.exit_code if verdict.exit_code is not None else 'without a code'}"
                f" (a crash exits 2)")
    if case.why.startswith("not ok"):
        if not any(_CHECK_FAILED.search(d) for d in case.diagnostics):
            return "'not ok' without a failed check's diagnostic"
        if verdict.exit_code != 1:
            return f"'not ok', but the kernel exited {verdict.exit_code} (an assertion exits 1)"
        return ASSERT_KIND
    return case.why or "an unknown failure"


def expect_failure(verdict: Verdict, target: str, kind: Optional[str] = None):
    """For runner self-tests: (True, why) if the boot failed and blamed target, and, when
    kind is given, the case failed in that way (FAIL_KINDS); (False, why) otherwise."""
    if verdict.passed:
        return False, f"the run passed, but {target} should have failed"
    case = blames(verdict, target)
    if case:
        how = failure_kind(verdict, case)
        if kind is not None and how != kind:
            return False, (f"{case.full_name} failed, but as {how}, not as {kind} "
                           f"({case.why})")
        return True, f"{case.full_name} reported: {case.why} ({how})"
    failed = [c.full_name for c in verdict.cases if c.status == FAIL]
    found = ", ".join(failed) if failed else "; ".join(verdict.problems) or "nothing"
    return False, f"the run failed, but the report does not blame {target} (it blames: {found})"
