#!/usr/bin/env python3
"""Writes compile_commands.json (for clangd and editors) from the real build commands.

It asks make what it would run to rebuild everything (`make -n -B`, which runs nothing) for
x86_64, arm64 and the host unit tests, and keeps every compiler call with `-c`: the same
flags, include paths and defines the build uses, so an editor sees what the compiler sees.

A file built for several targets (kernel/, mm/, lib/ for both arches; mm/ and lib/ again
for the host tests) gets one entry per target, x86_64 first: clangd uses the first, so
generic code is read with x86_64's flags and arch/arm64/ with arm64's.

    make compile_commands.json          (runs this from the repository root)
"""

import json
import os
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = [["ARCH=x86_64", "all"], ["ARCH=arm64", "all"], ["build/host/unit_tests"]]


def compiles(make_args):
    """Each compiler call `make -n -B make_args` prints, as (argv, source, output)."""
    out = subprocess.run(["make", "--no-print-directory", "-n", "-B"] + make_args, cwd=ROOT,
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    for line in out.splitlines():
        try:
            argv = shlex.split(line)
        except ValueError:
            continue
        if not argv or not argv[0].endswith(("gcc", "cc", "clang")) or "-c" not in argv:
            continue
        source = argv[argv.index("-c") + 1]
        output = argv[argv.index("-o") + 1] if "-o" in argv else None
        yield argv, source, output


def main() -> int:
    entries = []
    for make_args in TARGETS:
        found = 0
        for argv, source, output in compiles(make_args):
            entry = {"directory": ROOT, "arguments": argv, "file": source}
            if output:
                entry["output"] = output
            entries.append(entry)
            found += 1
        if not found:
            sys.exit(f"compile_commands: 'make -n -B {' '.join(make_args)}' printed no "
                     "compiler call")
    json.dump(entries, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
