"""Native core of WSE (private; import from wse_server instead)."""

__all__: list[str] = []
