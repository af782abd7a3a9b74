"""Choose the compiled core before anything imports it.

The extension is built twice from the same C++ sources: ``_core`` for the baseline x86-64 (or
other) instruction set and, on x86-64, ``_core_avx2`` with AVX2 + FMA, about twice as fast on
the dense kernels.  :func:`select_core` registers ``_core_avx2`` under the name
``fastconvexrelu._core`` when numpy reports both CPU features, so every ``from . import _core``
gets it.  Set ``FASTCONVEXRELU_SIMD=baseline`` to force the baseline build.
``fastconvexrelu._core.__simd__`` says which one is in use.
"""

from __future__ import annotations

import importlib
import os
import sys


def _cpu_has_avx2_fma() -> bool:
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # numpy < 2
        try:
            from numpy.core._multiarray_umath import __cpu_features__
        except ImportError:  # pragma: no cover
            return False
    return bool(__cpu_features__.get("AVX2")) and bool(__cpu_features__.get("FMA3"))


def select_core(package: str) -> str:
    """Register the fastest importable core as ``package + "._core"``; return its ``__simd__``."""
    name = package + "._core"
    if name not in sys.modules:
        want = os.environ.get("FASTCONVEXRELU_SIMD", "auto").strip().lower()
        if want not in ("auto", "baseline", "avx2"):
            raise ValueError(f"FASTCONVEXRELU_SIMD must be 'auto', 'baseline' or 'avx2', got {want!r}")
        if want != "baseline" and _cpu_has_avx2_fma():
            try:
                sys.modules[name] = importlib.import_module(package + "._core_avx2")
            except ImportError:
                if want == "avx2":
                    raise
        elif want == "avx2":
            raise ImportError("FASTCONVEXRELU_SIMD=avx2, but numpy reports no AVX2 + FMA on this CPU")
    return str(importlib.import_module(name).__simd__)
