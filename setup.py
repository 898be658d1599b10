"""The one native part: the RTP relay core, optional.

Everything else is in pyproject.toml.  ``optional=True`` keeps ``pip install`` working on a
machine without a C compiler or Python headers: the build warns, and Salvesti relays in
Python (``media_core: auto`` falls back; ``media_core: native`` is then a start-up error).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "salvesti.integrations.sip._rtpcore",
            ["src/salvesti/integrations/sip/_rtpcore.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
            optional=True,
        )
    ]
)
