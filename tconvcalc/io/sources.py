"""Every input of ``check`` in one place: a config (TOML, JSON, YAML), an ONNX model, or what ``print(model)``
prints, recognised from the content whatever the file's suffix, and turned into the one config structure that
:func:`tconvcalc.core.network.parse_config` takes. Downstream (the check, its formats, ``--sizes``) is shared.

Files are read safely: never unpickled or evaluated, and at most :data:`TEXT_LIMIT` bytes of text or
:data:`MODEL_LIMIT` bytes of ONNX model.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from tconvcalc.core.budget import MAX_READ_BYTES
from tconvcalc.core.errors import UsageError

TEXT_LIMIT = 16 << 20  # a config or a printout
MODEL_LIMIT = MAX_READ_BYTES  # an ONNX model with its weights inline (256 MiB, as any file tconvcalc reads)
FORMATS = ("toml", "json", "yaml", "onnx", "printout")


@dataclass
class Source:
    """A file read for ``check``: its format, the config it amounts to, its text (for ``--fix`` and the lines of
    TOML layers), notes for the user, each layer's line where the format has one, and the layers whose outputs
    are the model's outputs."""

    path: str
    format: str
    config: dict[str, Any]
    text: str = ""
    notes: list[str] = field(default_factory=list)
    lines: list[int] | None = None
    outputs: list[str] = field(default_factory=list)

    def line_of(self, index: int) -> int | None:
        """The file's line of layer ``index`` (1-based), where the format has lines."""
        if self.lines is not None:
            return self.lines[index] if 0 <= index < len(self.lines) else None
        if self.format == "toml":
            from tconvcalc.io.configfile import line_of_key

            return line_of_key(self.text, index, "name")
        return None

    @property
    def is_model(self) -> bool:
        return self.format in ("onnx", "printout")


def read_bytes(path: str) -> bytes:
    """The file's bytes (``-``: stdin), read in chunks and refused beyond :data:`MODEL_LIMIT` before more is
    read (an endless ``/dev/zero`` included)."""
    from tconvcalc.io.bounded import read_capped, read_file

    if path == "-":
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:
            return sys.stdin.read(MODEL_LIMIT + 1).encode("utf-8")
        return read_capped(stream, "- (stdin)", MODEL_LIMIT, "a model or config")
    return read_file(path, path, MODEL_LIMIT, "a model or config")


def detect(data: bytes, path: str) -> str:
    """The format of a file, from its content: an ONNX model is binary protobuf (a ModelProto starts with its
    ir_version, the byte 0x08), a printout starts with ``Name(``; the rest is a config, whose suffix decides
    between YAML and JSON (JSON also when it starts with ``{``), TOML otherwise."""
    from tconvcalc.io import printout

    if data[:1] == b"\x08" or b"\x00" in data[:4096]:
        return "onnx"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        if path.lower().endswith(".onnx"):
            return "onnx"
        raise UsageError(f"{path}: not UTF-8 text, and not an ONNX model") from None
    if printout.looks_like(text):
        return "printout"
    lower = path.lower()
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if lower.endswith(".json") or text.lstrip().startswith("{"):
        return "json"
    return "toml"


def load(path: str, input_shape: tuple[int, ...] | None = None) -> Source:
    """Read ``path`` as whatever it holds. ``input_shape`` (``--input``) is the input for a printout (required
    there), overrides an ONNX model's dynamic dimensions, and replaces a config's ``input``."""
    data = read_bytes(path)
    kind = detect(data, path)
    if kind == "onnx":
        from tconvcalc.io import onnxmodel

        converted = onnxmodel.convert(data, path, input_shape)
        return Source(path, "onnx", converted.config, "", converted.notes, None, converted.outputs)
    if len(data) > TEXT_LIMIT:
        raise UsageError(f"{path}: {len(data):,} bytes of text; configs and printouts are read up to {TEXT_LIMIT:,}")
    text = data.decode("utf-8")
    if kind == "printout":
        from tconvcalc.io import printout

        try:
            made = printout.convert(text, input_shape, path)
        except UsageError as exc:
            message = str(exc)
            raise UsageError(message if message.startswith(path) else f"{path}: {message}") from None
        last = made.config["layer"][-1]["name"]
        return Source(path, "printout", made.config, text, made.notes, made.lines, [last])
    from tconvcalc.io import configfile

    config, text = configfile.load(path, text, kind)
    if input_shape is not None:
        config = {**config, "input": list(input_shape)}
    return Source(path, kind, config, text)
