"""Small helpers around llama-cpp-python."""

from __future__ import annotations

import ctypes

_QUIET = None


def quiet() -> None:
    """Silence llama.cpp's own logging (quantization and context set-up print hundreds of lines)."""
    global _QUIET
    import llama_cpp

    if _QUIET is None:
        _QUIET = llama_cpp.llama_log_callback(lambda level, text, user_data: None)
        llama_cpp.llama_log_set(_QUIET, ctypes.c_void_p(0))
