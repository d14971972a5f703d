#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Prove that our uAPI headers are binary-identical to upstream Linux's.

A VMM built against upstream's headers must run unmodified on our kernel, so
every struct, enumerator, constant and ioctl number that one of our uAPI
headers defines must have upstream's layout and value.  Comparing the text
would not do (our comments and wording differ on purpose), so this parses
our header, writes a C probe that prints each struct's size and alignment,
each member's offset and size, each constant's value and each ioctl number,
builds it with the host gcc against our header and against upstream's, runs
both and compares.  A name upstream lacks is an error too.  The probes are
built for x86-64, and again for i386 (gcc -m32) when gcc can build and run
such a program (gcc-multilib), so that 32-bit user space's layouts, where a
__u64 is aligned to 4 bytes, are proven too.

usage: abi_check.py [--base BASE_TREE] [--later FILE] CACHE_DIR HEADER...
A HEADER is a file of a kernel tree: either under include/uapi/ (its
upstream counterpart is the same include/uapi/ name), or any other header
with the same relative path upstream, such as the test-only
drivers/iommu/iommufd/iommufd_test.h.  Upstream's copies, and upstream's
include/uapi/ for what a header includes, come from Debian's
linux-source-6.12 tarball, extracted into CACHE_DIR/upstream-6.12/ once per
package version.

A header that the base tree (BASE_TREE, the pristine linux-source-6.1) has
too, such as linux/vfio.h, is one the series edits: only the names the
series adds, and the whole of each struct it adds a member to, are
compared, since what 6.1 had is 6.1's ABI, which upstream has changed here
and there since.

A name 6.12 lacks is an error unless the series implements it ahead of
6.12, from later upstream work: then FILE (harness/abi-later.txt) records
what the probe must print for it, key and value as the probe prints them,
taken from that work's uAPI, and the name is compared with that instead.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

PKG = 'linux-source-6.12'
TARBALL = f'/usr/src/{PKG}.tar.xz'
# Both sides are headers of a kernel tree, not headers_install's output, so
# they may still carry the kernel-only annotation __user (vfio.h does, in
# 6.1 and in 6.12).  Defining it empty is what headers_install does; nothing
# else is needed.
# Warnings are silenced: only whether a probe compiles matters.
CC = ['gcc', '-std=gnu11', '-w', '-D__user=']
# The user-space ABIs the probes are built for: the name and gcc's flags.
# The x86 <asm/*.h> serve both; Debian's gcc-multilib links them into
# /usr/include for -m32, but conflicts with the arm64 cross compiler (make
# build-arm64), so they are looked for last in their multiarch directory.
X86_64, I386 = ('x86-64', []), ('i386', ['-m32', '-idirafter',
                                        '/usr/include/x86_64-linux-gnu'])

# The probe prints "key<TAB>value" lines.  N: an integer of either sign,
# exactly; H: an ioctl number in hex; S: a string.
PRELUDE = r'''#include <stddef.h>
#include <stdio.h>
#include %s
#define N(k, x) printf("%%s\t%%s%%llu\n", k, (x) < 0 ? "-" : "", \
	(x) < 0 ? 0ULL - (unsigned long long)(x) : (unsigned long long)(x))
#define H(k, x) printf("%%s\t0x%%llx\n", k, (unsigned long long)(x))
#define S(k, x) printf("%%s\t\"%%s\"\n", k, x)
int main(void)
{
'''

DEFINE = re.compile(r'#\s*define\s+(\w+)(\()?(.*)', re.S)
IOCTL = re.compile(r'\b_IO(?:R|W|WR)?\s*\(')
# A uAPI header's path in its tree; what follows include/uapi/ is its name.
UAPI = re.compile(r'(?:arch/[^/]+/)?include/uapi/(.+)')
AGGREGATE = re.compile(r'\b(struct|union|enum)\s+(\w+)?\s*\{')
PAIRS = {'{': '}', '(': ')', '[': ']'}


def die(msg):
    print(f'abi: {msg}', file=sys.stderr)
    sys.exit(2)


def closing(s, i):
    """Index of the bracket that closes the one at s[i]."""
    depth = 0
    for j in range(i, len(s)):
        depth += (s[j] == s[i]) - (s[j] == PAIRS[s[i]])
        if depth == 0:
            return j
    raise ValueError(f'unbalanced {s[i]!r} in {s[i:i + 60]!r}')


def split_top(s, sep):
    """Split s at each sep that is outside any brackets."""
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(s):
        depth += (ch in '{([') - (ch in '})]')
        if ch == sep and depth == 0:
            parts.append(s[start:k])
            start = k + 1
    parts.append(s[start:])
    return [p.strip() for p in parts if p.strip()]


def drop_attributes(s):
    while (m := re.search(r'\b__attribute__\s*\(', s)):
        s = s[:m.start()] + s[closing(s, m.end() - 1) + 1:]
    return s


def declarator(d):
    """(name, number of array dimensions, kind) of one member declarator."""
    if ':' in d:        # uAPI avoids them: their layout is the compiler's
        die(f'bitfield {d!r}: offsetof and sizeof do not apply, not supported')
    dims = re.findall(r'\[([^\]]*)\]', d)
    kind = 'flex' if any(not x.strip() for x in dims) else 'plain'
    return re.findall(r'\w+', re.sub(r'\[[^\]]*\]', '', d))[-1], len(dims), kind


def members(body, prefix=''):
    """[(member designator, kind)] of a struct or union body, nested ones
    included; members of an anonymous union are reached as the outer's."""
    out = []
    for decl in split_top(body, ';'):
        decl = drop_attributes(decl)
        if (m := re.fullmatch(r'__DECLARE_FLEX_ARRAY\(.*,\s*(\w+)\s*\)', decl)):
            out.append((prefix + m.group(1), 'flex'))
            continue
        if '{' not in decl:
            out += [(prefix + n, k) for n, _, k in map(declarator,
                                                       split_top(decl, ','))]
            continue
        i, j = decl.index('{'), closing(decl, decl.index('{'))
        inner, tail = decl[i + 1:j], decl[j + 1:]
        if not tail.strip():
            out += members(inner, prefix)
        for name, dims, kind in map(declarator, split_top(tail, ',')):
            out.append((prefix + name, kind))
            out += members(inner, prefix + name + '[0]' * dims + '.')
    return out


def num(cat, sym, key):
    return cat, sym, key, f'N("{key}", {key})'


def parse(path):
    """Probe items [(category, symbol, key, C statement)] for a header.
    The category is what the summary counts an item as: struct, member,
    const, ioctl; int? for a define taken to be an integer constant until
    it fails to compile as one; empty for a further fact of a struct or
    member (its alignment or size)."""
    text = open(path).read()
    # Comments go (keeping their newlines), strings stay; then continuation
    # lines are joined, and preprocessor lines are set apart from the C.
    text = re.sub(r'"(?:\\.|[^"\\])*"|/\*.*?\*/|//[^\n]*',
                  lambda m: m.group(0) if m.group(0)[0] == '"' else
                  ' ' + '\n' * m.group(0).count('\n'), text, flags=re.S)
    lines = text.replace('\\\n', ' ').split('\n')
    code = '\n'.join(ln for ln in lines if not ln.lstrip().startswith('#'))
    items, pos = [], 0
    while (m := AGGREGATE.search(code, pos)):
        i = m.end() - 1
        pos = closing(code, i) + 1
        body = code[i + 1:pos - 1]
        if m.group(1) == 'enum':
            for e in split_top(body, ','):
                name = re.match(r'\w+', e).group(0)
                items.append(num('const', name, name))
            continue
        if not m.group(2):
            continue
        t = f'{m.group(1)} {m.group(2)}'
        items += [num('struct', t, f'sizeof({t})'), num('', t, f'_Alignof({t})')]
        for mem, kind in members(body):
            sym = f'{t}.{mem}'
            items.append(num('member', sym, f'offsetof({t}, {mem})'))
            if kind != 'flex':
                items.append(num('', sym, f'sizeof((({t} *)0)->{mem})'))
    for ln in lines:
        m = DEFINE.match(ln.strip())
        if not m or m.group(2) or not m.group(3).strip():
            continue            # not a define, function-like, or a guard
        name, body = m.group(1), m.group(3).strip()
        if body.startswith('"'):
            items.append(('const', name, name, f'S("{name}", {name})'))
        elif IOCTL.search(body):
            items.append(('ioctl', name, name, f'H("{name}", {name})'))
        else:
            items.append(num('int?', name, name))
    return items


def build(tmp, include, items, flags, exe=None):
    """Compile a probe of items; return (ok, gcc's first error)."""
    src = os.path.join(tmp, 'probe.c')
    with open(src, 'w') as f:
        f.write(PRELUDE % include + ''.join(f'\t{it[3]};\n' for it in items)
                + '\treturn 0;\n}\n')
    r = subprocess.run(CC + flags + ['-I', tmp, src] +
                       (['-o', exe] if exe else ['-fsyntax-only']),
                       capture_output=True, text=True)
    errs = [ln.split('error: ', 1)[1] for ln in r.stderr.splitlines()
            if 'error: ' in ln]
    return r.returncode == 0, (errs or [r.stderr.strip()])[0]


def broken(tmp, include, items, flags):
    """[(item, error)] of the items that do not compile, found by halving,
    so that one missing name costs a few compilations, not one per item."""
    ok, err = build(tmp, include, items, flags)
    if ok or len(items) == 1:
        return [] if ok else [(items[0], err)]
    half = len(items) // 2
    return (broken(tmp, include, items[:half], flags) +
            broken(tmp, include, items[half:], flags))


def run(tmp, include, items, flags):
    """({key: value} that the probe prints, [(item, error)] left out)."""
    ok, err = build(tmp, include, [], flags)
    if not ok:
        die(f'{include} does not compile on its own: {err}')
    bad = broken(tmp, include, items, flags)
    left = [it for it in items if it not in [b for b, _ in bad]]
    ok, err = build(tmp, include, left, flags, os.path.join(tmp, 'probe'))
    if not ok:
        die(f'the probe of {include} does not compile: {err}')
    out = subprocess.run([os.path.join(tmp, 'probe')], capture_output=True,
                         text=True, check=True).stdout
    return dict(ln.split('\t', 1) for ln in out.splitlines()), bad


def upstream(cache, rels):
    """Extract upstream's files or directories rels (tree-relative paths),
    all again when the package version moves.  .version holds the version;
    .extracted each path extracted whole, so that a directory counts only
    once all of it is there."""
    ver = subprocess.run(['dpkg-query', '-W', '-f=${Version}', PKG],
                         capture_output=True, text=True).stdout.strip()
    if not ver:
        die(f'{PKG} is not installed (make setup installs it)')
    root = os.path.join(cache, 'upstream-6.12')
    tree, stamp = os.path.join(root, PKG), os.path.join(root, '.version')
    listed = os.path.join(root, '.extracted')
    if not os.path.isfile(stamp) or open(stamp).read().strip() != ver:
        shutil.rmtree(root, ignore_errors=True)
    done = open(listed).read().split() if os.path.isfile(listed) else []
    need = [r for r in rels if not os.path.exists(os.path.join(tree, r))
            or not any(r == d or r.startswith(d + '/') for d in done)]
    # A file of a directory that is extracted anyway is not named again.
    need = [r for r in need if not any(r.startswith(d + '/') for d in need)]
    if need:
        print(f'abi: extracting {" ".join(need)} of {PKG} {ver}', file=sys.stderr)
        os.makedirs(root, exist_ok=True)
        r = subprocess.run(['tar', '-C', root, '-xJf', TARBALL] +
                           [f'{PKG}/{r}' for r in need],
                           capture_output=True, text=True)
        if r.returncode:
            die(f'cannot extract from {TARBALL}: {r.stderr.strip()}')
        with open(stamp, 'w') as f:
            f.write(ver + '\n')
        with open(listed, 'w') as f:
            f.write(''.join(f'{r}\n' for r in sorted(set(done + need))))
    return tree, ver


def compare(base, path, ours, theirs, release, abis, old=None, later=None):
    """Print the differences, or the summary; return whether identical.
    ours and theirs are (include directory, #include operand) of a side;
    old, the base tree's version of the header, if it has one: then only
    what is not in it is compared."""
    items, errors, skip = parse(path), {}, set()
    if old:
        # New names, and every member of a struct the series changed (a
        # member added, such as a union arm): such a struct must have
        # upstream's layout as a whole.
        had = {it[1] for it in parse(old)}
        changed = {it[1].split('.')[0] for it in items
                   if '.' in it[1] and it[1] not in had}
        items = [it for it in items
                 if it[1].split('.')[0] in changed or
                 (it[1] not in had and it[1].split('.')[0] not in had)]

    def error(abi, msg):
        # A difference found for several ABIs is printed once, naming them.
        errors.setdefault(msg, []).append(abi)

    for abi, flags in abis:
        got, bad = run(*ours, items, flags)
        for (cat, sym, _, _), err in bad:
            skip.add(sym)       # a define that is no integer constant
            if cat != 'int?':
                error(abi, f'{sym}: does not compile against our own header '
                      f'(a parser bug?): {err}')
        left = [it for it in items if it[1] not in skip]
        want, bad = run(*theirs, left, flags)
        missing = {}
        for (_, sym, _, _), err in bad:
            missing.setdefault(sym, err)
        ahead = set()
        for sym in missing:
            # Later upstream work: compared with what abi-later.txt says.
            keys = [it[2] for it in left if it[1] == sym]
            if later and keys and all(k in later for k in keys):
                ahead.add(sym)
                for k in keys:
                    if got[k] != later[k]:
                        error(abi, f'{sym}: {k} is {got[k]} here, '
                              f'{later[k]} in the later upstream work')
        n_ahead = len(ahead)
        for sym, err in missing.items():
            if sym in ahead:
                continue
            # Only the outermost missing name: a struct's members, or a
            # member's own members, would only repeat it.
            parts = sym.replace('[0]', '').split('.')
            if not any('.'.join(parts[:k]) in missing
                       for k in range(1, len(parts))):
                error(abi, f'{sym}: not in upstream: {err}')
        for _, sym, key, _ in left:
            if sym not in missing and got[key] != want[key]:
                error(abi, f'{sym}: {key} is {got[key]} here, '
                      f'{want[key]} upstream')
    names = ', '.join(abi for abi, _ in abis)
    for msg, where in errors.items():
        print(f'abi: {base}: {", ".join(where)}: {msg}')
    if errors:
        print(f'abi: {base}: {len(errors)} differences from {release}')
        return False
    items = [it for it in items if it[1] not in skip]
    n = {c: len({it[1] for it in items if it[0] == c})
         for c in ('struct', 'member', 'const', 'int?', 'ioctl')}
    print(f'abi: {base}: {n["struct"]} structs, {n["member"]} members, '
          f'{n["const"] + n["int?"]} constants, {n["ioctl"]} ioctls '
          f'{"added by the series " if old else ""}'
          f'identical to {release} ({names})')
    if n_ahead:
        print(f'abi: {base}: of them {n_ahead} names of later upstream work, '
              f'compared with harness/abi-later.txt')
    if skip:
        print(f'abi: {base}: not integer constants, not compared: '
              + ' '.join(sorted(skip)))
    return True


def tree_of(path):
    """(root of the kernel tree that holds the header path, its path in
    that tree), which is also the path of its upstream counterpart."""
    path = os.path.abspath(path)
    if not path.endswith('.h') or not os.path.isfile(path):
        die(f'{path}: not a header file')
    if (m := re.fullmatch(r'(.*)/(include/uapi/.+)', path)):
        root, rel = m.groups()
        if (a := re.fullmatch(r'(.*)/(arch/[^/]+)', root)):
            root, rel = a.group(1), f'{a.group(2)}/{rel}'
        return root, rel
    # Any other header: the tree is the nearest directory above it that
    # has an include/uapi/.
    root = os.path.dirname(path)
    while not os.path.isdir(os.path.join(root, 'include', 'uapi')):
        if root == os.path.dirname(root):
            die(f'{path}: in no kernel tree (no include/uapi/ above it)')
        root = os.path.dirname(root)
    return root, os.path.relpath(path, root)


def lay_out(d, root, rel):
    """Make d the probe's include directory for the header rel of the tree
    at root: the header itself when it is a uAPI header, and each uAPI
    header of that tree that it includes, so that each side sees its own
    (<linux/iommufd.h> for iommufd_test.h); the rest comes from the
    system's /usr/include.  Return the #include operand of the header: a
    uAPI header by its name, <linux/x.h>; any other by its path, as the
    selftests include iommufd_test.h."""
    path = os.path.join(root, rel)
    if re.search(r'["\\\n]', path):
        die(f'{path}: a path a C string cannot hold as it is')
    incs = re.findall(r'^\s*#\s*include\s*<([^>]+)>', open(path).read(), re.M)
    uapi = [(i, os.path.join(root, 'include/uapi', i)) for i in incs]
    if (m := UAPI.fullmatch(rel)):
        uapi.append((m.group(1), path))
    for inc, src in uapi:
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(d, inc)), exist_ok=True)
            shutil.copy(src, os.path.join(d, inc))
    return f'<{m.group(1)}>' if m else f'"{path}"'


def i386():
    """Whether gcc can build and run a 32-bit program (gcc-12-multilib)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, 't.c'), os.path.join(tmp, 't')
        with open(src, 'w') as f:
            f.write('#include <stdio.h>\nint main(void) { return 0; }\n')
        try:
            return (subprocess.run(CC + I386[1] + [src, '-o', exe],
                                   capture_output=True).returncode == 0 and
                    subprocess.run([exe], capture_output=True).returncode == 0)
        except OSError:
            return False


def main():
    args, base_tree, later = sys.argv[1:], None, None
    if args[:1] == ['--base'] and len(args) > 1:
        base_tree, args = args[1], args[2:]
    if args[:1] == ['--later'] and len(args) > 1:
        with open(args[1]) as f:
            later = dict(ln.rstrip('\n').split('\t', 1) for ln in f
                         if ln.strip() and not ln.startswith('#'))
        args = args[2:]
    if len(args) < 2:
        die('usage: abi_check.py [--base BASE_TREE] [--later FILE] '
            'CACHE_DIR HEADER...')
    headers = [tree_of(h) for h in args[1:]]  # (our root, rel)
    # The headers, and upstream's include/uapi/ for what they include.
    tree, ver = upstream(args[0], ['include/uapi'] +
                         [rel for _, rel in headers])
    abis = [X86_64]
    if i386():
        abis.append(I386)
    else:
        print('abi: gcc -m32 cannot build and run a program (gcc-12-multilib '
              'is missing?): i386 layouts not checked', file=sys.stderr)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for k, (root, rel) in enumerate(headers):
            if not os.path.isfile(os.path.join(tree, rel)):
                die(f'{rel}: not in {PKG} {ver}')
            # Each side gets its own include directory, first on the
            # include path: ours from our tree, upstream's from 6.12's.
            sides = []
            for name, r in (('ours', root), ('upstream', tree)):
                d = os.path.join(tmp, str(k), name)
                os.makedirs(d)
                sides.append((d, lay_out(d, r, rel)))
            old = base_tree and os.path.join(base_tree, rel)
            ok &= compare(os.path.basename(rel), os.path.join(root, rel),
                          *sides, f'{PKG} {ver}', abis,
                          old if old and os.path.isfile(old) else None,
                          later)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
