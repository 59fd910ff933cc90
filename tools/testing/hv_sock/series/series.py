#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The patch series for netdev, from the pristine tree and this repository.

  series.py generate   commits on branch "series" of the base repository
                       and git format-patch into the output directory
  series.py check      git am onto the pristine tree, the result compared
                       with the tree make check builds, checkpatch --strict
                       and get_maintainer.pl on every patch
  series.py maintainers FILE
                       write the tree's MAINTAINERS (the pristine one with
                       our entry) to FILE: make tree uses it
  series.py excludes   the "local" paths, as rsync exclude patterns

The base repository (BASE, made by base.sh) holds the pristine tree in
commit "pristine"; its work tree is where check runs git am. See manifest
for how files are assigned to patches.
"""
import argparse
import concurrent.futures
import fnmatch
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OVERLAY = ['drivers', 'include', 'net', 'Documentation', 'tools']


def die(msg):
    sys.exit('series: ' + msg)


def git(repo, *args, inp=None, env=None, binary=False):
    e = dict(os.environ)
    if env:
        e.update(env)
    r = subprocess.run(['git', '-C', repo] + list(args), input=inp,
                       capture_output=True, env=e)
    if r.returncode:
        die('git %s: %s' % (' '.join(args[:3]), r.stderr.decode()))
    return r.stdout if binary else r.stdout.decode()


class Patch:
    def __init__(self, slug, series):
        self.slug = slug
        self.series = series
        self.subject = None
        self.claims = []        # (pattern, optional)
        self.deltas = []
        self.expect = []


class Series:
    """Patches posted together, under one cover letter."""

    def __init__(self, slug):
        self.slug = slug
        self.subject = None
        self.cover = None


def parse_manifest(path, with_series=False):
    patches, local, cur, series = [], [], None, []
    for n, raw in enumerate(open(path), 1):
        line = raw.rstrip('\n')
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        key, _, val = line.strip().partition('\t' if '\t' in line.strip()
                                             else ' ')
        val = val.strip()
        if not line[0].isspace():
            if key == 'series':
                cur = Series(val)
                series.append(cur)
            elif key == 'patch':
                if not series:
                    die('%s:%d: a patch before the first series' % (path, n))
                cur = Patch(val, series[-1])
                patches.append(cur)
            elif key == 'local':
                local.append(val)
            else:
                die('%s:%d: unknown "%s"' % (path, n, key))
            continue
        if cur is None:
            die('%s:%d: "%s" outside a patch' % (path, n, key))
        if key == 'subject':
            cur.subject = val
        elif key == 'cover' and isinstance(cur, Series):
            cur.cover = val
        elif isinstance(cur, Series):
            die('%s:%d: "%s" in a series block' % (path, n, key))
        elif key in ('file', 'file?'):
            cur.claims.append((val, key == 'file?'))
        elif key == 'delta':
            cur.deltas.append(val)
        elif key == 'expect':
            cur.expect.append(val)
        else:
            die('%s:%d: unknown "%s"' % (path, n, key))
    for p in patches:
        if not p.subject:
            die('patch %s has no subject' % p.slug)
        if not os.path.exists(os.path.join(HERE, 'msg', p.slug)):
            die('patch %s has no msg/%s' % (p.slug, p.slug))
    for x in series:
        if not x.subject or not x.cover or \
                not os.path.exists(os.path.join(HERE, x.cover)):
            die('series %s needs a subject and an existing cover file'
                % x.slug)
    return (patches, local, series) if with_series else (patches, local)


def matches(pattern, path):
    if pattern.endswith('/'):
        return path.startswith(pattern)
    if any(c in pattern for c in '*?['):
        return fnmatch.fnmatchcase(path, pattern)
    return path == pattern or path.startswith(pattern + '/')


class Project:
    """The files of the change: their pristine and final contents."""

    def __init__(self, top, base):
        self.top, self.base = top, base
        self.patches, self.local, self.series = parse_manifest(
            os.path.join(HERE, 'manifest'), with_series=True)
        kpatch = os.path.join(top, 'Kconfig.patch')
        kfiles = re.findall(r'^\+\+\+ [^/\s]*/(\S+)', open(kpatch).read(),
                            re.M)
        out = git(top, 'ls-files', '-co', '--exclude-standard', '--', *OVERLAY)
        overlay = [f for f in out.split('\n') if f and
                   os.path.isfile(os.path.join(top, f)) and
                   not any(matches(p, f) for p in self.local)]
        self.files = sorted(set(kfiles) | set(overlay))
        # Pristine modes and contents of the files the kernel has.
        self.pmode, self.pristine = {}, {}
        for ln in git(base, 'ls-tree', '-r', 'pristine', '--',
                      *(self.files + ['MAINTAINERS'])).splitlines():
            meta, path = ln.split('\t', 1)
            self.pmode[path] = meta.split()[0]
            self.pristine[path] = git(base, 'cat-file', 'blob',
                                      meta.split()[2], binary=True)
        self.final, self.mode = {}, {}
        with tempfile.TemporaryDirectory() as tmp:
            for f in kfiles:
                if f in self.pristine:
                    os.makedirs(os.path.dirname(os.path.join(tmp, f)),
                                exist_ok=True)
                    open(os.path.join(tmp, f), 'wb').write(self.pristine[f])
            r = subprocess.run(['patch', '-p1', '-s', '--fuzz=0',
                                '--no-backup-if-mismatch', '-i', kpatch],
                               cwd=tmp, capture_output=True)
            if r.returncode:
                die('Kconfig.patch does not apply to the pristine tree:\n' +
                    r.stdout.decode() + r.stderr.decode())
            for f in kfiles:
                self.final[f] = open(os.path.join(tmp, f), 'rb').read()
        for f in overlay:
            self.final[f] = open(os.path.join(top, f), 'rb').read()
        for f in self.files:
            if f in self.pmode:
                self.mode[f] = self.pmode[f]
            else:
                x = os.access(os.path.join(top, f), os.X_OK)
                self.mode[f] = '100755' if x else '100644'
        self.tree = None
        self.assign()

    def assign(self):
        """Each file to exactly one patch; fail loudly otherwise."""
        self.owner, errors = {}, []
        used = set()
        def specific(c):
            kind = 1 if c.endswith('/') else 2 if any(
                x in c for x in '*?[') else 3
            return (kind, len(c))
        for f in self.files:
            who = [(specific(c), i) for i, p in enumerate(self.patches)
                   for c, _ in p.claims if matches(c, f)]
            best = {i for s, i in who if s == max(who)[0]} if who else set()
            if not who:
                errors.append('%s: no patch claims it' % f)
            elif len(best) > 1:
                errors.append('%s: claimed by %s' % (f, ', '.join(
                    self.patches[i].slug for i in sorted(best))))
            else:
                self.owner[f] = best.pop()
        for i, p in enumerate(self.patches):
            for c, optional in p.claims:
                if not optional and not any(matches(c, f) and
                                            self.owner.get(f) == i
                                            for f in self.files):
                    errors.append('patch %s: "%s" matches no file' %
                                  (p.slug, c))
        if errors:
            die('the manifest does not assign every file exactly once '
                '(tools/testing/hv_sock/series/manifest):\n  ' +
                '\n  '.join(errors))
        self.present = [any(self.owner[f] == i for f in self.files) or
                        bool(self.patches[i].deltas)
                        for i in range(len(self.patches))]

    def states(self):
        """Content of every project file after each patch (None: absent)."""
        n = len(self.patches)
        cur = dict(self.final)
        after = [None] * n
        for k in range(n - 1, -1, -1):
            after[k] = {f: (cur[f] if self.owner[f] <= k
                            else self.pristine.get(f))
                        for f in self.files}
            for d in self.patches[k].deltas:
                if not self.present[k]:
                    continue
                cur = self.reverse_delta(k, d, cur)
        return after

    def reverse_delta(self, k, name, cur):
        path = os.path.join(HERE, 'delta', name)
        text = open(path).read()
        dfiles = re.findall(r'^\+\+\+ [^/\s]*/(\S+)', text, re.M)
        cur = dict(cur)
        with tempfile.TemporaryDirectory() as tmp:
            for f in dfiles:
                if f not in self.owner or self.owner[f] >= k:
                    die('delta/%s: %s is not a file an earlier patch claims'
                        % (name, f))
                os.makedirs(os.path.dirname(os.path.join(tmp, f)),
                            exist_ok=True)
                open(os.path.join(tmp, f), 'wb').write(cur[f])
            # A hunk with no context could reverse at another copy of its
            # lines: every hunk needs context, which must match exactly
            # (--fuzz=0). -f: never ask on a terminal.
            # It may move (an edit above it), but only where its context
            # and lines occur once.
            for fname, body in re.findall(
                    r'^\+\+\+ [^/\s]*/(\S+).*\n((?:(?!--- ).*\n)*)',
                    text, re.M):
                for hunk in re.split(r'^@@.*\n', body, flags=re.M)[1:]:
                    lines = [ln for ln in hunk.splitlines()
                             if ln[:1] in (' ', '+')]
                    if not any(ln[:1] == ' ' for ln in lines):
                        die('delta/%s: a hunk without context; make it with '
                            'diff -U3' % name)
                    side = ''.join(ln[1:] + '\n' for ln in lines).encode()
                    if cur[fname].count(side) != 1:
                        die('delta/%s: a hunk of %s is not found exactly once '
                            'in it; refresh the delta' % (name, fname))
            r = subprocess.run(['patch', '-R', '-p1', '-f', '--fuzz=0',
                                '--no-backup-if-mismatch', '-r', '-',
                                '-i', path], cwd=tmp, capture_output=True,
                               stdin=subprocess.DEVNULL)
            report = r.stdout.decode() + r.stderr.decode()
            if r.returncode:
                die('delta/%s no longer reverses exactly on the files as '
                    'they are: refresh it (diff -U3 before/after)\n%s' %
                    (name, report))
            for f in dfiles:
                cur[f] = open(os.path.join(tmp, f), 'rb').read()
        return cur


# ---------------------------------------------------------------- MAINTAINERS

def render_entry(top, identity, present):
    """Our entry with the F: lines that match a present file, or None."""
    lines = open(os.path.join(top, 'MAINTAINERS')).read().splitlines()
    title, fields = lines[0], [ln for ln in lines[1:] if ln.strip()]
    fpat = sorted(ln for ln in fields if ln.startswith('F:\t') and
                  any(matches(ln[3:], f) for f in present))
    if not fpat:
        return None
    other = [ln for ln in fields if not ln.startswith(('F:', 'M:'))]
    order = 'MRLSWQBCPTFXNK'
    body = ['M:\t' + identity] + other
    body.sort(key=lambda ln: order.index(ln[0]))     # stable: L: keep order
    return '\n'.join([title] + body + fpat) + '\n'


def entry_files(text, title):
    """The F: patterns of the MAINTAINERS entry TITLE."""
    m = re.search(r'^%s\n((?:[A-Z]:\t.*\n)+)' % re.escape(title), text, re.M)
    if not m:
        die('MAINTAINERS has no entry "%s"' % title)
    return [ln[3:] for ln in m.group(1).splitlines() if ln.startswith('F:\t')]


def insert_entry(pristine, entry):
    """The pristine MAINTAINERS with entry at its sorted place: between two
    entries that sort around it, the pair sharing the longest prefix with
    it (the file is sorted but for a few local slips)."""
    lines = pristine.split('\n')
    title = entry.split('\n', 1)[0].upper()
    head = re.compile(r'^[A-Z]:\t')
    heads = [i for i in range(1, len(lines) - 1)
             if lines[i] and not lines[i - 1] and head.match(lines[i + 1])
             and not lines[i][0].isspace()]

    def common(a):
        return len(os.path.commonprefix([a.upper(), title]))
    best, where = -1, None
    for a, b in zip(heads, heads[1:]):
        if lines[a].upper() <= title < lines[b].upper():
            score = max(common(lines[a]), common(lines[b]))
            if score > best:
                best, where = score, b
    if where is None:
        die('no place for the entry in MAINTAINERS')
    return '\n'.join(lines[:where]) + '\n' + entry + '\n' + \
        '\n'.join(lines[where:])


def maintainers_at(proj, identity, state):
    ours = [f for f in proj.files if state[f] is not None and
            f not in proj.pristine]
    entry = render_entry(proj.top, identity, ours)
    pristine = proj.pristine['MAINTAINERS'].decode()
    return (pristine if entry is None else
            insert_entry(pristine, entry)).encode()


# ---------------------------------------------------------------- checks

def build_files_consistent(proj, k, state):
    """Every object, directory and Kconfig file a build file of ours names
    exists after patch k: a patch that adds a line naming a file of a later
    patch needs a delta."""
    if proj.tree is None:
        proj.tree = set(git(proj.base, 'ls-tree', '-r', '--name-only',
                            'pristine').split('\n'))
    exists = {f for f, c in state.items() if c is not None}

    def present(path):
        return path in exists or path in proj.tree

    def present_dir(path):
        p = path.rstrip('/') + '/'
        return any(f.startswith(p) for f in exists) or \
            any(f.startswith(p) for f in proj.tree)
    errors = []
    for f in sorted(exists):
        if state[f] == proj.pristine.get(f):
            continue
        text = re.sub(r'\\\n', ' ', state[f].decode(errors='replace'))
        d = os.path.dirname(f)
        if os.path.basename(f) in ('Makefile', 'Kbuild') and \
                f.startswith(('net/', 'drivers/')):
            for ln in text.splitlines():
                m = re.match(r'\s*[\w$()-]+\s*[:+]?=\s*(.*)', ln)
                for w in (m.group(1).split() if m else []):
                    if w.endswith('.o'):
                        stem = os.path.join(d, w[:-2])
                        name = os.path.basename(w[:-2])
                        composite = re.search(r'^%s-(y|objs|\$\(CONFIG_\w+\))'
                                              r'\s*[:+]?=' % re.escape(name),
                                              text, re.M)
                        if not composite and not present(stem + '.c') and \
                                not present(stem + '.S'):
                            errors.append('%s names %s' % (f, w))
                    elif w.endswith('/') and not present_dir(
                            os.path.join(d, w)):
                        errors.append('%s names %s' % (f, w))
        if os.path.basename(f) == 'Kconfig':
            for src in re.findall(r'^\s*source "([^"]+)"', text, re.M):
                if not present(src):
                    errors.append('%s sources %s' % (f, src))
    if errors:
        die('after patch %d (%s) the build files name what is not there '
            'yet; a delta is missing (see manifest):\n  %s' %
            (k + 1, proj.patches[k].slug, '\n  '.join(errors)))


# ---------------------------------------------------------------- generate

def check_columns(p):
    """75 columns for the subject and the message, as checkpatch asks of
    the body (and does not check in every case); tags and URLs, which
    cannot be wrapped, are exempt."""
    lines = [p.subject] + open(os.path.join(HERE, 'msg', p.slug)).read() \
        .splitlines()
    long = [ln for ln in lines if len(ln.expandtabs()) > 75 and
            not re.match(r'^(Fixes|Link|Closes|Reported-by|Cc):', ln) and
            '://' not in ln]
    if long:
        die('patch %s: over 75 columns:\n  %s' % (p.slug, '\n  '.join(long)))


def ident(identity):
    m = re.match(r'^\s*(.+?)\s*<([^>]+)>\s*$', identity)
    if not m:
        die('SERIES_IDENTITY "%s" is not "Name <email>"' % identity)
    return m.group(1), m.group(2)


def read_figures():
    blocks, key = {}, None
    for ln in open(os.path.join(HERE, 'figures')).read().splitlines():
        m = re.match(r'^\[(\w+)\]\s*$', ln)
        if m:
            key = m.group(1)
            blocks[key] = []
        elif key and not ln.startswith('#'):
            blocks[key].append(ln)
        elif ln.strip() and not ln.startswith('#'):
            die('figures: text before the first [block]')
    return {k: '\n'.join(v).strip('\n') for k, v in blocks.items()}


def cover_letter(figs, numbers, cover):
    """The text: @name@ is the [name] block of figures, @patch:SLUG@ the
    number of patch SLUG in its series."""
    text = open(os.path.join(HERE, cover)).read()
    text = '\n'.join(ln for ln in text.splitlines()
                     if not ln.startswith('#')).strip('\n') + '\n'

    def sub(m):
        if m.group(1) not in figs:
            die('cover-letter.txt: no [%s] in figures' % m.group(1))
        return figs[m.group(1)]

    def num(m):
        if m.group(1) not in numbers:
            die('cover letter: no patch %s in the series' % m.group(1))
        return str(numbers[m.group(1)])
    text = re.sub(r'@(\w+)@', sub, text)
    return re.sub(r'@patch:([\w-]+)@', num, text)


def generate(args):
    proj = Project(args.top, args.base)
    name, email = ident(args.identity)
    after = proj.states()
    kept = [k for k in range(len(proj.patches)) if proj.present[k]]
    stream = []
    prev = {f: proj.pristine.get(f) for f in proj.files}
    prev_m = proj.pristine['MAINTAINERS']
    date = int(args.date)
    parent = git(args.base, 'rev-parse', 'pristine^{commit}').strip()
    for n, k in enumerate(kept, 1):
        p, state = proj.patches[k], after[k]
        check_columns(p)
        build_files_consistent(proj, k, state)
        mtext = maintainers_at(proj, args.identity, state)
        changed = [f for f in proj.files if state[f] != prev[f]]
        if mtext != prev_m:
            changed.append('MAINTAINERS')
        if not changed:
            die('patch %s changes nothing' % p.slug)
        body = open(os.path.join(HERE, 'msg', p.slug)).read().strip('\n')
        msg = '%s\n\n%s\n\nSigned-off-by: %s\n' % (p.subject, body,
                                                   args.identity)
        when = '%d +0000' % (date + 60 * n)
        stream.append(b'commit refs/heads/series\nmark :%d\n' % n)
        stream.append(('author %s <%s> %s\ncommitter %s <%s> %s\n' %
                       (name, email, when, name, email, when)).encode())
        stream.append(b'data %d\n%s\n' % (len(msg.encode()), msg.encode()))
        stream.append(('from %s\n' % parent if n == 1 else
                       'from :%d\n' % (n - 1)).encode())
        for f in changed:
            c = mtext if f == 'MAINTAINERS' else state[f]
            mode = proj.pmode.get(f, '100644') if f == 'MAINTAINERS' \
                else proj.mode[f]
            if c is None:
                stream.append(b'D %s\n' % f.encode())
                continue
            stream.append(b'M %s inline %s\ndata %d\n' %
                          (mode.encode(), f.encode(), len(c)))
            stream.append(c + b'\n')
        prev, prev_m = state, mtext
    stream.append(b'done\n')
    git(args.base, 'fast-import', '--quiet', '--force', '--done',
        inp=b''.join(stream))
    # The last state must be exactly the final contents.
    for f in proj.files:
        if prev[f] != proj.final[f]:
            die('internal: %s differs after the last patch' % f)

    out = args.out
    os.makedirs(out, exist_ok=True)
    for d, _, files in os.walk(out):
        for f in files:
            if f.endswith('.patch'):
                os.unlink(os.path.join(d, f))
    env = {'GIT_COMMITTER_NAME': name, 'GIT_COMMITTER_EMAIL': email,
           'GIT_AUTHOR_NAME': name, 'GIT_AUTHOR_EMAIL': email,
           'GIT_COMMITTER_DATE': '%d +0000' % date,
           'GIT_AUTHOR_DATE': '%d +0000' % date}
    commits = git(args.base, 'rev-list', '--reverse',
                  'pristine..series').split()
    figs = read_figures()
    # Each series: its patches, numbered from 1, under its cover letter.
    numbers, groups = {}, []
    for x in proj.series:
        ks = [n for n, k in enumerate(kept) if proj.patches[k].series is x]
        if not ks:
            continue
        if ks != list(range(ks[0], ks[-1] + 1)):
            die('series %s: its patches are not consecutive' % x.slug)
        for i, n in enumerate(ks, 1):
            numbers[proj.patches[kept[n]].slug] = i
        groups.append((x, ks))
    sizes = []
    for g, (x, ks) in enumerate(groups, 1):
        sub = os.path.join(out, '%d-%s' % (g, x.slug))
        os.makedirs(sub, exist_ok=True)
        start = 'pristine' if ks[0] == 0 else commits[ks[0] - 1]
        git(args.base, '-c', 'core.abbrev=12', '-c', 'diff.renames=false',
            'format-patch', '-q', '--cover-letter', '--no-signature',
            '--subject-prefix=' + args.prefix, '-o', sub,
            '%s..%s' % (start, commits[ks[-1]]), env=env)
        cover = os.path.join(sub, '0000-cover-letter.patch')
        text = open(cover).read()
        blurb = cover_letter(figs, numbers, x.cover)
        text = text.replace('*** SUBJECT HERE ***', x.subject)
        text = text.replace('*** BLURB HERE ***', blurb.rstrip('\n'))
        open(cover, 'w').write(text)
        for f in sorted(os.listdir(sub)):
            if f.endswith('.patch'):
                data = open(os.path.join(sub, f), 'rb').read()
                sizes.append('%-72s %6d lines %8d bytes' %
                             (os.path.join(os.path.basename(sub), f)[:72],
                              data.count(b'\n'), len(data)))
    open(os.path.join(out, 'sizes.txt'), 'w').write('\n'.join(sizes) + '\n')
    print('\n'.join(sizes))
    skipped = [p.slug for k, p in enumerate(proj.patches)
               if not proj.present[k]]
    if skipped:
        print('series: left out, none of their files exist yet: ' +
              ', '.join(skipped))


# ---------------------------------------------------------------- check

def check(args):
    proj = Project(args.top, args.base)
    name, email = ident(args.identity)
    base, ksrc, out = args.base, args.ksrc, args.out
    def order(path):
        d = os.path.basename(os.path.dirname(path))
        return (int(d.split('-')[0]) if d[:1].isdigit() else 0, path)
    patches = sorted((os.path.join(d, f) for d, _, files in os.walk(out)
                      for f in files
                      if f.endswith('.patch') and not f.startswith('0000')),
                     key=order)
    errors = []
    t0 = time.time()
    # git am onto the pristine tree.
    git(base, 'checkout', '-q', '-f', '--detach', 'pristine')
    git(base, 'clean', '-q', '-f', '-d')
    env = {'GIT_COMMITTER_NAME': name, 'GIT_COMMITTER_EMAIL': email}
    r = subprocess.run(['git', '-C', base, 'am', '-q',
                        '--committer-date-is-author-date'] + patches,
                       capture_output=True, env=dict(os.environ, **env))
    if r.returncode:
        subprocess.run(['git', '-C', base, 'am', '--abort'],
                       capture_output=True)
        die('git am fails:\n' + r.stdout.decode() + r.stderr.decode())
    if git(base, 'rev-parse', 'HEAD^{tree}') != \
            git(base, 'rev-parse', 'series^{tree}'):
        errors.append('git am gives another tree than the series branch')
    print('series-check: git am of %d patches: ok (%ds)' %
          (len(patches), time.time() - t0))
    # The result against the tree make check builds.
    touched = set(git(base, 'diff', '--name-only', 'pristine', 'HEAD')
                  .split())
    for f in sorted(set(proj.files) | touched | {'MAINTAINERS'}):
        a, b = os.path.join(base, f), os.path.join(ksrc, f)
        ca = open(a, 'rb').read() if os.path.exists(a) else None
        cb = open(b, 'rb').read() if os.path.exists(b) else None
        if ca != cb:
            errors.append('%s: %s' % (f, 'not in the tree make check builds'
                                      if cb is None else 'not in the series'
                                      if ca is None else 'differs from the '
                                      'tree make check builds'))
    untouched = [f for f in proj.files if f not in touched]
    if untouched:
        errors.append('the series does not change: ' + ' '.join(untouched))
    print('series-check: the result is the tree make check builds '
          '(%d files): %s (%ds)' % (len(touched), 'FAILED' if errors else
                                    'ok', time.time() - t0))
    # checkpatch and get_maintainer on every patch, as many at once as
    # there are CPUs.
    by_subject = {p.subject: p for p in proj.patches}
    # checkpatch's SPDX check runs scripts/spdxcheck.py with the python3 of
    # the PATH; it needs python3-ply and python3-git, the system's.
    cp_env = dict(os.environ, PATH='/usr/bin:' + os.environ['PATH'])

    # A patch checkpatch passed before, byte for byte but for its commit
    # id and date, passes again: after an edit only the patches it
    # changed are checked.
    cache = os.path.join(out, '.checkpatch-ok')
    os.makedirs(cache, exist_ok=True)

    # FILE_PATH_CHANGES asks "does MAINTAINERS need updating?" of every
    # patch that adds a file and leaves MAINTAINERS alone, as most of
    # ours must: the family's directory entries come with their first
    # file. Answer it here instead: every file the series adds must be
    # in our entry, or in Hyper-V's (drivers/hv/), not merely in a broad
    # entry such as THE REST's "F: *".
    fpat = [ln[3:] for ln in open(os.path.join(args.top, 'MAINTAINERS'))
            .read().splitlines() if ln.startswith('F:\t')]
    fpat += entry_files(proj.pristine['MAINTAINERS'].decode(),
                        'Hyper-V/Azure CORE AND DRIVERS')
    for f in proj.files:
        if f not in proj.pristine and not any(matches(p, f) for p in fpat):
            errors.append('%s: no F: line of MAINTAINERS covers it' % f)

    def key(path):
        text = re.sub(rb'\A.*\n', b'', open(path, 'rb').read())
        text = re.sub(rb'^Date: .*\n', b'', text, flags=re.M)
        return os.path.join(cache, hashlib.sha256(text).hexdigest())

    def one(path):
        if os.path.exists(key(path)):
            cp = subprocess.CompletedProcess([], 0, b'', b'')
        else:
            cp = subprocess.run(['perl', 'scripts/checkpatch.pl', '--strict',
                                 '--terse', '--show-types', '--no-summary',
                                 '--ignore', 'FILE_PATH_CHANGES',
                                 path], cwd=base, capture_output=True,
                                env=cp_env)
            if not cp.returncode and not (cp.stdout + cp.stderr).strip():
                open(key(path), 'w').close()
        gm = subprocess.run(['perl', 'scripts/get_maintainer.pl',
                             '--no-git', '--no-git-fallback',
                             '--no-rolestats', path],
                            cwd=base, capture_output=True)
        return path, cp, gm.stdout.decode()
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
        results = list(pool.map(one, patches))
    for path, r, names in results:
        rep = (r.stdout + r.stderr).decode().strip()
        if rep or r.returncode:
            errors.append('checkpatch %s:\n%s' % (os.path.basename(path),
                                                  rep))
        subj = re.search(r'^Subject: \[[^\]]*\] (.*(?:\n .*)*)',
                         open(path).read(), re.M).group(1)
        p = by_subject.get(re.sub(r'\n ', ' ', subj))
        if p is None:
            errors.append('%s: no manifest patch has its subject' % path)
            continue
        for e in p.expect:
            if e not in names:
                errors.append('get_maintainer.pl %s: no %s in\n%s' %
                              (os.path.basename(path), e, names))
        if args.verbose:
            print('%s: %s' % (os.path.basename(path),
                              ', '.join(ln for ln in names.splitlines()
                                        if '@' in ln and
                                        ('lists' in ln or 'vger' in ln))))
    print('series-check: checkpatch --strict and get_maintainer.pl on %d '
          'patches: %s (%ds)' % (len(patches), 'FAILED' if errors else 'ok',
                                 time.time() - t0))
    if errors:
        die('\n'.join(errors))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('cmd', choices=['generate', 'check', 'maintainers',
                                    'excludes'])
    ap.add_argument('file', nargs='?')
    ap.add_argument('--top', default=os.path.abspath(os.path.join(
        HERE, '../../../..')))
    ap.add_argument('--base')
    ap.add_argument('--ksrc')
    ap.add_argument('--out')
    ap.add_argument('--identity')
    ap.add_argument('--date', default='0')
    ap.add_argument('--prefix', default='PATCH net-next')
    ap.add_argument('--pristine-maintainers')
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args()
    if args.cmd == 'excludes':
        for p in parse_manifest(os.path.join(HERE, 'manifest'))[1]:
            print('/' + p)
    elif args.cmd == 'maintainers':
        # The tree make check builds: every file of ours is present.
        _, local = parse_manifest(os.path.join(HERE, 'manifest'))
        out = git(args.top, 'ls-files', '-co', '--exclude-standard', '--',
                  *OVERLAY)
        files = [f for f in out.split('\n') if f and
                 not any(matches(p, f) for p in local)]
        entry = render_entry(args.top, args.identity, files)
        text = open(args.pristine_maintainers).read()
        open(args.file, 'w').write(insert_entry(text, entry))
    elif args.cmd == 'generate':
        generate(args)
    else:
        check(args)


if __name__ == '__main__':
    main()
