#!/usr/bin/env python3
"""Render spec/protocol.json into C++, Python and TypeScript constants.

    python scripts/gen_spec.py          # (re)write the rendered files
    python scripts/gen_spec.py --check  # exit 1 if any rendered file is stale

The JSON file is the single source of the wire vocabulary; the rendered files
are checked in so that builds need no generator, and `make lint` runs --check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "protocol.json"
HEADER = "Generated from spec/protocol.json by scripts/gen_spec.py. Do not edit."


def ident(name: str) -> str:
    return "".join(part.capitalize() for part in name.lower().split("_"))


def render_cpp(spec: dict[str, Any]) -> str:
    out = [
        f"// {HEADER}",
        "#pragma once",
        "#include <array>",
        "#include <cstdint>",
        "#include <string_view>",
        "",
        "namespace wse::spec {",
        "",
        f"inline constexpr int kProtocolVersion = {spec['protocol_version']};",
        f'inline constexpr std::string_view kServerVersion = "{spec["server_version"]}";',
        "",
        "// Category prefixes of JSON text messages.",
    ]
    for key, value in spec["text_prefixes"].items():
        out.append(f'inline constexpr std::string_view kPrefix{ident(key)} = "{value}";')
    out.append("")
    out.append("// Two-byte markers that open binary frames.")
    for key, value in spec["binary_markers"].items():
        out.append(f'inline constexpr std::string_view kMarker{ident(key)} = "{value}";')
    out.append("")
    out.append("// Message types whose envelopes carry the WSE prefix.")
    types = spec["system_message_types"]
    out.append(f"inline constexpr std::array<std::string_view, {len(types)}> kSystemMessageTypes = {{")
    out.extend(f'    "{t}",' for t in types)
    out.append("};")
    markers = spec["snapshot_type_markers"]
    out.append(f'inline constexpr std::string_view kSnapshotContains = "{markers["contains"]}";')
    out.append(f'inline constexpr std::string_view kSnapshotStartsWith = "{markers["starts_with"]}";')
    out.append("")
    out.append("// Message type names.")
    for name in spec["message_types"]:
        out.append(f'inline constexpr std::string_view kType_{name} = "{name}";')
    out.append("")
    out.append("// WebSocket close codes: the closed vocabulary (see docs/PROTOCOL.md).")
    out.append("enum class CloseCode : uint16_t {")
    out.extend(f"  {c['name']} = {c['code']},  // {c['meaning']}" for c in spec["close_codes"])
    out.append("};")
    out.append("")
    out.append("struct CloseCodeInfo {")
    out.append("  uint16_t code;")
    out.append("  std::string_view name;")
    out.append("  bool reconnect;  // whether a client should reconnect after it")
    out.append("};")
    codes = spec["close_codes"]
    out.append(f"inline constexpr std::array<CloseCodeInfo, {len(codes)}> kCloseCodes = {{{{")
    for c in codes:
        reconnect = "true" if c["reconnect"] else "false"
        out.append(f'    {{{c["code"]}, "{c["name"]}", {reconnect}}},')
    out.append("}};")
    out.append("")
    out.append("// Error codes carried in error messages (p.code).")
    for e in spec["error_codes"]:
        out.append(f'inline constexpr std::string_view kError{ident(e["code"])} = "{e["code"]}";')
    out.append("")
    out.append("// Priority levels.")
    for name, value in spec["priorities"].items():
        out.append(f"inline constexpr int kPriority{ident(name)} = {value};")
    out.append("")
    out.append("// Defaults (each is documented where it is configured).")
    for name, value in spec["defaults"].items():
        if isinstance(value, str):
            out.append(f'inline constexpr std::string_view kDefault{ident(name)} = "{value}";')
        else:
            out.append(f"inline constexpr int64_t kDefault{ident(name)} = {value};")
    out.append("")
    out.append("}  // namespace wse::spec")
    return "\n".join(out) + "\n"


def render_py(spec: dict[str, Any]) -> str:
    out = [
        f'"""{HEADER}"""',
        "",
        "from __future__ import annotations",
        "",
        "from enum import IntEnum",
        "from typing import Final",
        "",
        f"PROTOCOL_VERSION: Final = {spec['protocol_version']}",
        f'SERVER_VERSION: Final = "{spec["server_version"]}"',
        "",
        "# Category prefixes of JSON text messages.",
    ]
    for key, value in spec["text_prefixes"].items():
        out.append(f'PREFIX_{key.upper()}: Final = "{value}"')
    out.append("")
    out.append("# Two-byte markers that open binary frames.")
    for key, value in spec["binary_markers"].items():
        out.append(f'MARKER_{key.upper()}: Final = b"{value}"')
    out.append("")
    types = ", ".join(f'"{t}"' for t in spec["system_message_types"])
    out.append(f"SYSTEM_MESSAGE_TYPES: Final = frozenset({{{types}}})")
    markers = spec["snapshot_type_markers"]
    out.append(f'SNAPSHOT_CONTAINS: Final = "{markers["contains"]}"')
    out.append(f'SNAPSHOT_STARTS_WITH: Final = "{markers["starts_with"]}"')
    all_types = ", ".join(f'"{t}"' for t in spec["message_types"])
    out.append(f"MESSAGE_TYPES: Final = frozenset({{{all_types}}})")
    cats = ", ".join(f'"{t}": "{info["category"]}"' for t, info in spec["message_types"].items())
    out.append(f"MESSAGE_CATEGORIES: Final[dict[str, str]] = {{{cats}}}")
    out.append("")
    out.append("")
    out.append("class CloseCode(IntEnum):")
    out.append('    """WebSocket close codes used by WSE (docs/PROTOCOL.md)."""')
    out.append("")
    out.extend(f"    {c['name']} = {c['code']}  # {c['meaning']}" for c in spec["close_codes"])
    out.append("")
    out.append("")
    reconnect = ", ".join(f"CloseCode.{c['name']}" for c in spec["close_codes"] if c["reconnect"])
    out.append(f"RECONNECT_CLOSE_CODES: Final = frozenset({{{reconnect}}})")
    out.append("")
    out.append("# Error codes carried in error messages (p.code), with recoverability.")
    for e in spec["error_codes"]:
        out.append(f'ERROR_{e["code"]}: Final = "{e["code"]}"')
    recoverable = ", ".join(f'"{e["code"]}": {e["recoverable"]}' for e in spec["error_codes"])
    out.append(f"ERROR_RECOVERABLE: Final[dict[str, bool]] = {{{recoverable}}}")
    out.append("")
    out.append("# Priority levels.")
    for name, value in spec["priorities"].items():
        out.append(f"PRIORITY_{name}: Final = {value}")
    out.append("")
    out.append("# Defaults (each is documented where it is configured).")
    for name, value in spec["defaults"].items():
        rendered = f'"{value}"' if isinstance(value, str) else str(value)
        out.append(f"DEFAULT_{name.upper()}: Final = {rendered}")
    return "\n".join(out) + "\n"


def targets(spec: dict[str, Any]) -> dict[Path, str]:
    py = render_py(spec)
    result = {
        ROOT / "core/include/wse/protocol/spec.hpp": render_cpp(spec),
        ROOT / "python/wse_server/_spec.py": py,
    }
    client_pkg = ROOT / "clients/python/wse_client"
    if client_pkg.is_dir():
        result[client_pkg / "_spec.py"] = py
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a rendered file is stale")
    args = parser.parse_args()
    spec = json.loads(SPEC.read_text())
    stale = []
    for path, text in targets(spec).items():
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(path.relative_to(ROOT))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        names = ", ".join(str(p) for p in stale)
        print(f"stale rendered spec files: {names} (run: python scripts/gen_spec.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
