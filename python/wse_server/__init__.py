"""WSE: a real-time WebSocket engine with a C++20 core, steered from Python.

Everything native lives in the private extension ``wse_server._wse_accel``;
this package re-exports it under our own names and under the seed's
``Rust*`` / ``rust_*`` aliases, so code written against either runs unchanged.
"""

from wse_server._wse_accel import *  # noqa: F403
from wse_server._wse_accel import __all__ as _native_all

__version__ = "0.1.0"

__all__ = [*_native_all, "__version__"]  # noqa: PLE0604
