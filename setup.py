"""Builds the optional compiled fast path `uwlr._speedups` (see uwlr/_speedups.pyx); everything else is in
pyproject.toml. Without a C compiler the build skips it and `uwlr` runs as pure Python."""

from setuptools import Extension, setup

try:
    import lxml
    from Cython.Build import cythonize
except ImportError:  # building without the build requirements (not through pip): pure Python
    ext_modules = []
else:
    ext_modules = cythonize(
        [Extension("uwlr._speedups", ["uwlr/_speedups.pyx"], include_dirs=lxml.get_include(), optional=True)],
        compiler_directives={"language_level": 3},
    )

setup(ext_modules=ext_modules)
