"""Sans-IO analysis math: voice activity, talk metrics, notice matching, redaction, phrases.

Pure functions on numpy arrays and plain data (no files, sockets or event loop), so that the
worker processes, the benchmark and the tests run exactly the same code.
"""
