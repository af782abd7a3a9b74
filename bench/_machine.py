"""Machine facts recorded with every benchmark (shared by the bench scripts)."""
from __future__ import annotations

import os
import platform

import numpy as np


def machine_info(modules=()):
    """nproc, CPU model, Python/numpy/platform, fastconvexrelu and the given modules' versions."""
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        nproc = os.cpu_count()
    info = dict(nproc=nproc, cpu=cpu, python=platform.python_version(), numpy=np.__version__,
                platform=platform.platform())
    for mod in ("fastconvexrelu", *modules):
        try:
            info[mod] = getattr(__import__(mod), "__version__", "?")
        except Exception as e:  # pragma: no cover
            info[mod] = "not installed" if isinstance(e, ImportError) else f"import failed: {e}"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if var in os.environ:
            info[var] = os.environ[var]
    try:
        info["load average"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover
        pass
    return info
