#!/bin/sh
# api_check.sh - checks that liblethe's API surface is exactly what the
# public headers declare: every function declared in include/lethe/*.h must
# carry LT_API, and the dynamic symbols the shared library defines
# (nm -D --defined-only) must be exactly those functions - nothing internal
# leaks (the library is built with -fvisibility=hidden), nothing declared
# is missing. Exit 0 when they agree, 1 listing every difference, 77 (ctest
# skip) when nm or python3 is missing.
#
# Usage: sh tests/api_check.sh LIBLETHE.so [repository root]   (ctest runs it)

lib=${1:?usage: api_check.sh liblethe.so [root]}
root=${2:-$(dirname "$0")/..}
command -v nm >/dev/null 2>&1 || { echo "api_check: no nm, skipped"; exit 77; }
command -v python3 >/dev/null 2>&1 ||
    { echo "api_check: no python3, skipped"; exit 77; }
[ -f "$lib" ] || { echo "api_check: $lib: no such library"; exit 1; }

exec python3 - "$root/include/lethe" "$lib" <<'EOF'
import glob, os, re, subprocess, sys

hdr_dir, lib = sys.argv[1], sys.argv[2]


def code_only(s):
    """The header text with comments, strings' insides, preprocessor lines
    and the extern "C" braces blanked out (line numbers kept)."""
    out, i, n = list(s), 0, len(s)
    while i < n:
        if s.startswith('/*', i):
            j = s.index('*/', i) + 2
        elif s.startswith('//', i):
            j = s.find('\n', i)
            j = n if j < 0 else j
        elif s[i] == '"':
            j = i + 1
            while s[j] != '"':
                j += 2 if s[j] == '\\' else 1
            j += 1
        else:
            i += 1
            continue
        for k in range(i, j):
            if out[k] != '\n':
                out[k] = ' '
        i = j
    t = ''.join(out)
    blank = lambda m: re.sub(r'[^\n]', ' ', m.group(0))
    t = re.sub(r'#\s*ifdef\s+__cplusplus.*?#\s*endif', blank, t, flags=re.S)
    t = re.sub(r'^[ \t]*#(?:[^\n]*\\\n)*[^\n]*', blank, t, flags=re.M)
    return t


def declarations(path):
    """(line, name, has LT_API) of each top-level function declaration."""
    t = code_only(open(path).read())
    depth, start = 0, None
    for i, ch in enumerate(t):
        if depth == 0 and start is None and not ch.isspace():
            start = i
        if ch == '{':
            depth += 1
        elif ch == '}':
            depth -= 1
        elif ch == ';' and depth == 0:
            stmt = t[start:i].strip()
            start = None
            if re.match(r'(typedef|struct|enum|union)\b', stmt) and not \
               re.match(r'(struct|enum|union)\s+\w+[\s*]+\w+\s*\(', stmt):
                continue
            m = re.search(r'\b([A-Za-z_]\w*)\s*\(', stmt)
            if not m or '(' in stmt[:m.start()] or '=' in stmt[:m.start()]:
                continue  # not a function (a variable, a function pointer)
            line = t.count('\n', 0, t.index(stmt)) + 1
            yield line, m.group(1), 'LT_API' in stmt[:m.start()].split()


bad = False
declared = {}
for h in sorted(glob.glob(os.path.join(hdr_dir, '*.h'))):
    for line, name, api in declarations(h):
        declared[name] = '%s:%d' % (os.path.relpath(h), line)
        if not api:
            print('api_check: %s:%d: %s is declared without LT_API'
                  % (os.path.relpath(h), line, name))
            bad = True

nm = subprocess.run(['nm', '-D', '--defined-only', lib], capture_output=True,
                    text=True)
if nm.returncode != 0:
    print('api_check: nm -D %s failed: %s' % (lib, nm.stderr.strip()))
    sys.exit(1)
exported = set(f[2] for f in (l.split() for l in nm.stdout.splitlines())
               if len(f) >= 3)
for name in sorted(exported - set(declared)):
    print('api_check: %s exports %s, which no public header declares '
          '(make it static, or declare it with LT_API)' % (lib, name))
    bad = True
for name in sorted(set(declared) - exported):
    print('api_check: %s (%s) is declared but %s does not export it'
          % (name, declared[name], lib))
    bad = True
if bad:
    sys.exit(1)
print('api_check: %d functions declared, %d exported, the same set'
      % (len(declared), len(exported)))
EOF
