"""The helper library behind the lessons.

Importing it inside a Jupyter kernel puts the kernel hook of ``session.py`` in place (quiet
TensorFlow logs, one-line answers to a NameError or an interrupted ``fit``), for kernels of
an environment where ``python -m lessons_lib.session install`` was not run.
"""

from . import session as _session

_session.install()
