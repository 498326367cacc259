"""Build hook for the one compiled module, ``vrrpscope.sources._walk`` (everything else is in pyproject.toml).

The extension is optional: without a C compiler the install still succeeds and the readers use
their pure-Python loops (same results, several times slower; ``vrrpscope decode --version``-style
diagnostics: ``python -c "import vrrpscope.sources.accel as a; print(a.AVAILABLE)"``).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "vrrpscope.sources._walk",
            ["vrrpscope/sources/_walk.c"],
            extra_compile_args=["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        )
    ]
)
