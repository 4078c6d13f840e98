"""The benchmark (see README.rst); run it with ``python benchmarks/run.py``."""
