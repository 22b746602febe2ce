#!/usr/bin/env python3
"""test_quickstart.py - the README's quick start stays quick: `make run` builds
the gatehouse binary alone (no test, fuzz or bench target, no npm), installs
only the Debian packages building and serving need, seeds the demo and serves
on LISTEN; the README says how to pick another port.

It reads what make would run (`make -n`) rather than running it, so it neither
builds nor serves; the seeding and serving commands it names are run by the
other end-to-end tests."""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# what only the suite needs: never part of `make run`
SUITE_ONLY_PACKAGES = {"clang", "libclang-rt-14-dev", "postgresql", "slapd", "ldap-utils",
                       "nodejs", "npm", "python3"}


def make_dry_run(target, *assignments):
    r = subprocess.run(["make", "-n", target] + list(assignments), cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    eq(r.returncode, 0, "make -n %s exit status (%s)" % (target, r.stderr[-500:]))
    return [line.strip() for line in r.stdout.splitlines() if line.strip()]


def run_builds_the_binary_alone(t):
    lines = make_dry_run("run", "BUILD=build-quickstart-check", "LISTEN=127.0.0.1:9191",
                         "DEMO_DB=quickstart-check.db")
    builds = [line for line in lines if re.search(r"\bcmake\s+--build\b", line)]
    eq(len(builds), 1, "one cmake --build in make run: %r" % builds)
    expect(re.search(r"--target\s+gatehouse\b", builds[0]),
           "make run builds the gatehouse target alone: %r" % builds[0])
    for line in lines:
        expect("npm" not in line, "make run runs no npm: %r" % line)
        expect(not re.search(r"\b(test|fuzz|bench)_\w+", line),
               "make run names no test, fuzz or bench target: %r" % line)
        expect(not re.search(r"--build\s+\S+\s*(-j\s*\d+)?\s*$", line),
               "make run builds no 'all' target: %r" % line)
    deps = [line for line in lines if "install-deps.sh" in line]
    eq(len(deps), 1, "make run installs dependencies once: %r" % deps)
    expect(deps[0].split()[-1] == "--run", "with --run: %r" % deps[0])
    expect(any(re.search(r"gatehouse\s+--db\s+quickstart-check\.db\s+demo$", line)
               for line in lines), "make run seeds the demo: %r" % lines)
    expect(lines[-1].endswith("serve --listen 127.0.0.1:9191"),
           "make run serves on LISTEN last: %r" % lines[-1])


def make_test_builds_everything(t):
    lines = make_dry_run("test", "BUILD=build-quickstart-check")
    builds = [line for line in lines if re.search(r"\bcmake\s+--build\s+build-quickstart-check\b",
                                                  line)]
    expect(builds and all("--target" not in line for line in builds),
           "make test builds every target: %r" % builds)
    deps = [line for line in lines if "install-deps.sh" in line]
    expect(deps and all(not line.endswith("--run") for line in deps),
           "make test installs everything the suite needs: %r" % deps)


def run_packages_are_few(t):
    def listed(*args):
        r = subprocess.run([os.path.join(ROOT, "scripts", "install-deps.sh"), "--list"]
                           + list(args), capture_output=True, text=True, timeout=30)
        eq(r.returncode, 0, "install-deps.sh --list %s (%s)" % (" ".join(args), r.stderr))
        return set(r.stdout.split())
    run, full = listed("--run"), listed()
    expect(run and run < full, "--run needs a strict subset: %r vs %r" % (run, full))
    eq(run & SUITE_ONLY_PACKAGES, set(), "packages only the suite needs, in --run")
    expect(SUITE_ONLY_PACKAGES <= full, "the suite's packages: missing %r"
           % (SUITE_ONLY_PACKAGES - full))
    r = subprocess.run([os.path.join(ROOT, "scripts", "install-deps.sh"), "--bogus"],
                       capture_output=True, text=True, timeout=30)
    eq(r.returncode, 2, "an unknown option is a usage error")


def readme_shows_listen(t):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    expect(re.search(r"make run LISTEN=\S+", text), "the README shows make run LISTEN=...")


def body(t, binary):
    del binary   # nothing here runs the server
    t.case("make run builds the gatehouse binary alone", run_builds_the_binary_alone, t)
    t.case("make test builds everything", make_test_builds_everything, t)
    t.case("install-deps --run installs only what serving needs", run_packages_are_few, t)
    t.case("the README shows make run LISTEN=", readme_shows_listen, t)


if __name__ == "__main__":
    ghtest.main(body)
