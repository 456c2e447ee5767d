"""Build hook: the rule engine's hot modules compiled with mypyc, where a C compiler exists.

The modules are plain, strictly typed Python; mypyc turns them into C extensions that run
the same code ~1.2x faster (the classification benchmark, docs/rules.md). Each extension is
optional: without mypyc or a compiler the build goes on and the Python modules run.
``CONVOYWATCH_PURE_PYTHON=1`` skips the compilation.
"""

from __future__ import annotations

import os

from setuptools import setup

COMPILED = [
    "bot/rules/text.py",
    "bot/rules/matcher.py",
    "bot/rules/engine.py",
    "bot/rules/prefilter.py",
    "bot/rules/accel.py",
]


def _extensions() -> list[object]:
    if os.environ.get("CONVOYWATCH_PURE_PYTHON") == "1":
        return []
    try:
        from mypyc.build import mypycify  # noqa: PLC0415 - only where the build has it
    except ImportError:  # no mypyc in the build environment: pure Python
        return []
    try:
        # the build environment may lack the dependencies' packages and stubs: imports as Any
        extensions = mypycify(["--ignore-missing-imports", *COMPILED], opt_level="3")
    except (Exception, SystemExit) as error:  # mypyc refused: build the Python package
        print(f"setup.py: not compiling the rule engine ({error!r}); it runs as Python")
        return []
    for extension in extensions:
        extension.optional = True  # no compiler: the build goes on, the Python modules run
    return list(extensions)


setup(ext_modules=_extensions())
