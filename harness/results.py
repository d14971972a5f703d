#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Collect the results of a test-machine boot and print one verdict.

Reads the kernel console (KUnit's KTAP, parsed with the kernel's own
tools/testing/kunit parser, and any kernel problem report) and the results
channel (the kselftest runner's TAP).  Prints a line per test case, a line
per kernel report, and last 'N passed, N failed' (', N skipped' when any
were skipped).  Exits non-zero on any failure, report, time-out, or a
machine that did not come up or finish.

Mode 'upstream' (upstream's iommufd selftests, which the guest's init
frames as the kselftest runner frames a collection) counts that TAP and
not KUnit's: the built-in suites belong to mode 'check'.

Mode 'bench' counts no tests: it prints the benchmarks' output and counts,
for each benchmark program, one pass if it ran to its end ('bench: done')
and the machine finished, else one failure; kernel reports fail it as in
every mode.
"""
import argparse
import contextlib
import io
import re
import sys

# Reports that fail a run wherever they appear in the kernel log.  A DMAR
# fault is not among them: the tests provoke and check those on purpose.
KERNEL_REPORTS = re.compile(
    r'WARNING:|BUG:|Oops|KASAN|UBSAN:|general protection fault|'
    r'Kernel panic|INFO: possible |INFO: task .* blocked|'
    r'detected stalls on CPU|unreferenced object 0x|'
    r'kmemleak: \d+ new suspected')

# make run's demos: each ends with "harness: demo NAME exit=N".
DEMO_EXIT = re.compile(r'^harness: demo (\S+) exit=(\d+)')
# The demos the guest says it runs ("harness: demos NAME...")
DEMO_LIST = re.compile(r'^harness: demos (.*)')
DEMOS = {'type1': 'edu DMA through a VFIO type1 container (group path)',
         'cdev': 'edu DMA through /dev/vfio/devices/vfioX on iommufd, '
                 'a program built with upstream 6.12 headers only',
         'pasid': 'PASIDs from /dev/ioasid in a cgroup limited to three'}

# The benchmark's last line when it ran to its end.
BENCH_DONE = 'bench: done'
BENCH_EXIT = re.compile(r'^harness: bench (\S+) exit=(\d+)')

TOP = re.compile(r'^(not ok|ok) (\d+) selftests: (\S+): (\S+)(.*)$')
# A case's result; 6.1's kselftest harness leaves the name out of a skip
# ("ok 3 # SKIP why"), so the case is then named by its "RUN" line.
CASE = re.compile(r'^# (not ok|ok) (\d+)(?: (.*?))?(?:\s*#\s*(SKIP|TODO)\b(.*))?$')
RUN = re.compile(r'^# #\s+RUN\s+(\S+) \.\.\.')


class Tally:
    def __init__(self, xfail=None, machine=''):
        self.passed = self.failed = self.skipped = 0
        # name -> why it is expected to fail (see --xfail)
        self.xfail = xfail or {}
        # printed before each name when the run has several machines
        self.machine = f'{machine}/' if machine else ''

    def add(self, status, name, why=''):
        expected = self.xfail.get(name)
        if expected is not None and status == 'fail':
            status, why = 'xfail', expected
        elif expected is not None and status == 'pass':
            status, why = 'xpass', f'listed as expected to fail ({expected}): update the list'
        if status == 'pass':
            self.passed += 1
        elif status in ('skip', 'xfail'):
            self.skipped += 1
        else:
            self.failed += 1
        print(f'{status.upper():4} {self.machine}{name}'
              f'{" (" + why.strip() + ")" if why.strip() else ""}')


def kselftest_results(lines, tally):
    """Count the innermost results of each kselftest program."""
    cases = []
    seen = 0
    last_run = ''
    for line in lines:
        line = line.rstrip('\r\n')
        m = RUN.match(line)
        if m:
            last_run = m.group(1)
            continue
        m = CASE.match(line)
        if m:
            cases.append((m, m.group(3) or last_run))
            continue
        m = TOP.match(line)
        if not m:
            continue
        seen += 1
        prog = f'{m.group(3)}:{m.group(4)}'
        ok, rest = m.group(1) == 'ok', m.group(5)
        inner_failed = False
        for c, name in cases:
            status = 'pass'
            if c.group(4) == 'SKIP':
                status = 'skip'
            elif c.group(1) != 'ok':
                status = 'fail'
                inner_failed = True
            tally.add(status, f'{prog}:{name}', c.group(5) or '')
        if not cases:
            status = 'skip' if ok and 'SKIP' in rest else ('pass' if ok else 'fail')
            tally.add(status, prog, rest.lstrip(' #'))
        elif not ok and not inner_failed:
            # The program died, timed out or failed outside its cases.
            tally.add('fail', prog, rest.lstrip(' #'))
        cases = []
    return seen


def kunit_results(console, tool, tally):
    """Count the KUnit test cases in the console log, if any ran."""
    if not tool or not any('KTAP version' in l or 'TAP version' in l
                           for l in console):
        return 0
    sys.path.insert(0, tool)
    # The parser prints as it goes, to the stdout it saw when imported.
    with contextlib.redirect_stdout(io.StringIO()):
        import kunit_parser  # pylint: disable=import-outside-toplevel
        root = kunit_parser.parse_run_tests(console)
    count = 0

    def walk(test, path):
        nonlocal count
        name = f'{path}.{test.name}' if path else test.name
        if test.subtests:
            for sub in test.subtests:
                walk(sub, name)
            return
        count += 1
        st = kunit_parser.TestStatus
        status = {st.SUCCESS: 'pass', st.SKIPPED: 'skip'}.get(test.status, 'fail')
        tally.add(status, f'kunit:{name}')

    for suite in root.subtests:
        walk(suite, '')
    # "1..0" (every suite filtered out) is no error; anything else is.
    if root.counts.errors and root.subtests:
        tally.add('fail', 'kunit: KTAP output', f'{root.counts.errors} parse errors')
    return count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mode', choices=('run', 'check', 'upstream', 'bench'), required=True)
    ap.add_argument('--qemu-rc', type=int, default=0)
    ap.add_argument('--console', required=True)
    ap.add_argument('--results', required=True)
    ap.add_argument('--kunit-tool')
    ap.add_argument('--test')
    ap.add_argument('--machine', default='',
                    help='the machine\'s name, put before each result')
    ap.add_argument('--xfail', help='file of cases expected to fail: '
                    '"NAME  why" per line, NAME as printed without the '
                    'first "MODE:" part')
    args = ap.parse_args()

    with open(args.console, errors='replace') as f:
        console = f.readlines()
    with open(args.results, errors='replace') as f:
        results = f.readlines()
    xfail = {}
    if args.xfail:
        with open(args.xfail) as f:
            for line in f:
                if line.strip() and not line.startswith('#'):
                    name, _, why = line.strip().partition(' ')
                    xfail[f'{args.mode}:{name}'] = why.strip()
    tally = Tally(xfail, args.machine)

    if args.mode == 'check':
        progs = kselftest_results(results, tally)
        cases = kunit_results(console, args.kunit_tool, tally)
        if args.test and not progs and not cases:
            tally.add('fail', args.test, 'no kselftest program or KUnit suite of that name')
    elif args.mode == 'upstream':
        if not kselftest_results(results, tally):
            tally.add('fail', 'upstream', 'no upstream selftest program ran')
    elif args.mode == 'bench':
        # Figures, not tests: shown as they are, and one verdict on
        # whether the benchmark and the machine ran to their ends.
        for line in results:
            print(line.rstrip('\r\n'))
        print()
    else:
        demos = {m.group(1): int(m.group(2))
                 for m in map(DEMO_EXIT.match, results) if m}
        listed = [m.group(1).split() for m in map(DEMO_LIST.match, results)
                  if m]
        for name in (listed[-1] if listed else DEMOS):
            what = DEMOS.get(name, name)
            rc = demos.get(name)
            tally.add('pass' if rc == 0 else 'fail', f'demo: {what}',
                      'did not run' if rc is None else
                      '' if rc == 0 else f'exit {rc}')

    text = ''.join(results)
    machine = []
    if 'harness: begin' not in text:
        machine.append('the guest never started its init')
    elif 'harness: end' not in text:
        machine.append('the guest did not finish (crash or time-out)')
    if args.qemu_rc == 124:
        machine.append('time-out: QEMU was killed')
    elif args.qemu_rc:
        machine.append(f'QEMU exited with {args.qemu_rc}')

    if args.mode == 'bench':
        # One verdict per benchmark program: its output, up to the line
        # with its exit status, must hold "bench: done".
        done, ran = False, False
        for line in results:
            if line.rstrip('\r\n') == BENCH_DONE:
                done = True
            m = BENCH_EXIT.match(line)
            if not m:
                continue
            ran = True
            why = [] if done else [f'it did not reach "{BENCH_DONE}", '
                                   f'exit {m.group(2)}']
            tally.add('fail' if why + machine else 'pass',
                      f'bench: {m.group(1)}', '; '.join(why + machine))
            done = False
        if not ran:
            tally.add('fail', 'bench', '; '.join(
                ['no benchmark ran to its exit'] + machine))
    else:
        for why in machine:
            tally.add('fail', 'machine', why)

    for path, lines in ((args.console, console), (args.results, results)):
        for n, line in enumerate(lines, 1):
            if KERNEL_REPORTS.search(line):
                tally.add('fail', f'kernel report at {path}:{n}', line.strip())

    tail = f'{tally.passed} passed, {tally.failed} failed'
    if tally.skipped:
        tail += f', {tally.skipped} skipped'
    print(tail)
    return 1 if tally.failed else 0


if __name__ == '__main__':
    sys.exit(main())
