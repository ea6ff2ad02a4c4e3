/* The in-kernel benchmark (kernel/bench.c), run instead of the tests by the cmdline word "bench". */
#pragma once

/*
 * Times map, protect and unmap of 1..4096 pages under the eager, batched and floor
 * backends, and prints one "bench: op=... n=... mode=..." line per measurement (the format
 * tests/bench parses). Returns 0, or a negative errno after printing a "bench: ERROR" line:
 * a failed run never prints numbers for the measurement that failed.
 * With "bench.flush" also on the command line it runs the flush-strategy sweep instead
 * ("bench: flush n=... mode=pages|full ..." lines; tests/platform -> docs/platform.md).
 */
int bench_run(void);
