"""Builds the Cython core.

Environment switches:
  W2V_DEBUG=1    bounds and wraparound checks on, -O0 -g (the debug build CI also runs).
  W2V_NATIVE=0   do not tune for this CPU (-march=native is on by default, because
                 `pip install .` compiles on the machine that will train).
"""
import os
import platform

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("W2V_DEBUG", "0") not in ("", "0")
NATIVE = os.environ.get("W2V_NATIVE", "1") not in ("", "0")

compile_args = []
if os.name != "nt":
    if DEBUG:
        compile_args += ["-O0", "-g"]
    else:
        # The reassociation flags let GCC vectorise the float dot products; no
        # -ffinite-math-only, so the NaN checks stay meaningful.
        compile_args += ["-O3", "-fno-math-errno", "-fno-trapping-math",
                         "-fassociative-math", "-fno-signed-zeros"]
        if NATIVE and platform.machine().lower() in ("x86_64", "amd64", "aarch64", "arm64"):
            compile_args.append("-march=native" if platform.machine().lower() in ("x86_64", "amd64") else "-mcpu=native")

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
}

extensions = [
    Extension(
        name,
        [name.replace(".", "/") + ".pyx"],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
                       ("W2V_DEBUG_CHECKS", "1" if DEBUG else "0")],
        extra_compile_args=compile_args,
    )
    for name in ("w2v.core.train", "w2v.data._scan", "w2v.data._phrases", "w2v._similarity",
                 "w2v._subwords")
]

setup(ext_modules=cythonize(extensions, compiler_directives=directives))
