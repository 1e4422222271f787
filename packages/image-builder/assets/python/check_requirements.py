"""Checks a python_function model's pip requirements against the Python running this script.

Run at image build time (never at container start) by `mlmodel build-docker`:

  check_requirements.py --requirements FILE [--skip NAME]... --mode MODE [--unsatisfied OUT]

For each requirement: is its distribution installed, does the installed version satisfy the
specifier, and do its top-level modules import. MODE says what a shortfall means:

  local       the base image's Python is used as it is: a missing or broken requirement fails
              (exit 3); a version that differs is a warning.
  virtualenv  writes the requirements to install (missing, broken or a differing version) to OUT,
              one per line, and exits 0; the build then installs them into a virtualenv.
  verify      after the environment is made: anything missing or broken fails (exit 3).

Only the standard library is needed; `packaging` is used for specifiers and markers when it
can be imported, else exact pins (==) and simple comparisons are checked by hand.
"""
import argparse
import importlib
import importlib.metadata as metadata
import importlib.util
import re
import sys

REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*?)\s*(?:;\s*(.*))?$")


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def load_packaging():
    for mod in ("packaging", "pip._vendor.packaging"):
        try:
            specifiers = importlib.import_module(mod + ".specifiers")
            markers = importlib.import_module(mod + ".markers")
            return specifiers, markers
        except ImportError:
            continue
    return None, None


SPECIFIERS, MARKERS = load_packaging()


def release(version):
    """The numeric release segment of a version: '1.24.2rc1' -> (1, 24, 2)."""
    m = re.match(r"^\s*v?(\d+(?:\.\d+)*)", version)
    return tuple(int(x) for x in m.group(1).split(".")) if m else ()


def padded(a, b):
    n = max(len(a), len(b))
    return a + (0,) * (n - len(a)), b + (0,) * (n - len(b))


def satisfies(installed, spec):
    """Whether an installed version satisfies a specifier such as '==1.2.1' or '>=1,<2'."""
    spec = spec.strip()
    if not spec:
        return True
    if SPECIFIERS is not None:
        try:
            return SPECIFIERS.SpecifierSet(spec).contains(installed, prereleases=True)
        except Exception:  # an unusual version or specifier: fall back to the checks below
            pass
    for clause in spec.split(","):
        m = re.match(r"^\s*(===|==|!=|~=|>=|<=|>|<)\s*(\S+)\s*$", clause)
        if not m:
            return True  # not understood: let the import check decide
        op, want = m.groups()
        if op in ("==", "===") and want.endswith(".*"):
            prefix = release(want[:-2])
            if release(installed)[: len(prefix)] != prefix:
                return False
            continue
        if op == "===":
            if installed != want:
                return False
            continue
        a, b = padded(release(installed), release(want))
        ok = {
            "==": a == b,
            "!=": a != b,
            ">=": a >= b,
            "<=": a <= b,
            ">": a > b,
            "<": a < b,
            "~=": a >= b and a[: max(1, len(release(want)) - 1)] == b[: max(1, len(release(want)) - 1)],
        }[op]
        if not ok:
            return False
    return True


def marker_applies(marker):
    if not marker or MARKERS is None:
        return True
    try:
        return MARKERS.Marker(marker).evaluate()
    except Exception:
        return True


def top_level_modules(dist, name):
    """Importable top-level modules of a distribution (public ones; private ones are skipped)."""
    text = None
    try:
        text = dist.read_text("top_level.txt")
    except Exception:
        text = None
    mods = []
    if text:
        mods = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        for f in dist.files or []:
            parts = f.parts
            if not parts or parts[0].endswith((".dist-info", ".egg-info", ".data")) or parts[0] in ("..", "bin", "__pycache__"):
                continue
            top = parts[0]
            if len(parts) == 1:
                if not top.endswith(".py"):
                    continue
                top = top[:-3]
            if top not in mods:
                mods.append(top)
    if not mods:
        guess = normalize(name).replace("-", "_")
        if importlib.util.find_spec(guess) is not None:
            mods = [guess]
    return [m.replace("/", ".") for m in mods if m and not m.startswith("_") and re.match(r"^[A-Za-z0-9_.]+$", m)]


def check(line, skip):
    """(status, detail) for one requirement line."""
    m = REQUIREMENT.match(line)
    if not m:
        return "unchecked", "not a plain requirement (a URL, a path or an option): pip installs it in virtualenv mode"
    name, _extras, spec, marker = m.groups()
    if normalize(name) in skip:
        return "skipped", "not needed: the model loads without it"
    if not marker_applies(marker):
        return "skipped", "its environment marker does not apply here"
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return "missing", "not installed"
    if not satisfies(dist.version, spec):
        return "differs", "installed %s" % dist.version
    for mod in top_level_modules(dist, name):
        try:
            importlib.import_module(mod)
        except Exception as e:  # a broken install: a missing shared library, a wrong ABI
            return "broken", "%s %s installed, but import %s fails: %s: %s" % (name, dist.version, mod, type(e).__name__, str(e).splitlines()[0] if str(e) else "")
    return "ok", dist.version


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requirements", required=True)
    ap.add_argument("--skip", action="append", default=[])
    ap.add_argument("--mode", choices=("local", "virtualenv", "verify"), required=True)
    ap.add_argument("--unsatisfied")
    ap.add_argument("--python-version", help="the Python version the model was saved with")
    args = ap.parse_args()
    skip = {normalize(s) for s in args.skip}
    with open(args.requirements, encoding="utf-8") as f:
        lines = [l.strip() for l in f.read().splitlines() if l.strip() and not l.strip().startswith("#")]

    results = [(line,) + check(line, skip) for line in lines]
    width = max([len(r[0]) for r in results] + [1])
    print("mlmodel: the model's requirements in %s (Python %s):" % (sys.executable, sys.version.split()[0]))
    for line, status, detail in results:
        print("  %-8s %-*s  %s" % (status, width, line, detail))

    if args.python_version and release(args.python_version)[:2] != sys.version_info[:2]:
        print("mlmodel: warning: the model was saved with Python %s; this image has %s" % (args.python_version, sys.version.split()[0]))
    failing = [r for r in results if r[1] in ("missing", "broken")]
    differing = [r for r in results if r[1] == "differs"]
    if args.mode == "virtualenv":
        todo = [r[0] for r in results if r[1] in ("missing", "broken", "differs", "unchecked")]
        with open(args.unsatisfied, "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in todo))
        print("mlmodel: %s" % ("%d requirement(s) to install" % len(todo) if todo else "every requirement is already satisfied: nothing to install"))
        return 0
    for line, _status, detail in differing:
        print("mlmodel: warning: %s: %s (using it as it is)" % (line, detail))
    if failing:
        names = ", ".join("%s (%s)" % (r[0], r[1]) for r in failing)
        if args.mode == "local":
            hint = "use a --base-image whose Python has them, or --env-manager virtualenv to install them at build time"
        else:
            hint = "the environment made at build time still lacks them"
        print("mlmodel: error: the image's Python lacks %s: %s" % (names, hint), file=sys.stderr)
        return 3
    print("mlmodel: every requirement imports")
    return 0


if __name__ == "__main__":
    sys.exit(main())
