"""Where things live: the project root, its `.kenning/` folder, the user's data dir, settings.

A project is the nearest folder upwards holding `.kenning/`, else the nearest git work tree, else
the folder itself, so every command works in any directory. Personal memories and user settings
live in one user dir, `KENNING_HOME` when set (tests rely on it), else the platform data dir.
Settings are plain TOML: `$KENNING_HOME/config.toml` for the user, `.kenning/config.toml` for the
project; the project file wins.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kenning.errors import ConfigError

KENNING_DIR = ".kenning"
INDEX_FILE = "kenning.sqlite3"


def user_home() -> Path:
    """The user's kenning dir: `KENNING_HOME`, else the platform's data dir."""
    env = os.environ.get("KENNING_HOME")
    if env:
        return Path(env).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "kenning"
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "kenning"
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "kenning"


def find_project_root(start: Path) -> Path:
    """The nearest ancestor of `start` holding `.kenning/`, else a git work tree, else `start`."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    git_root: Path | None = None
    for folder in (start, *start.parents):
        if (folder / KENNING_DIR).is_dir() and folder != Path.home():
            return folder
        if git_root is None and (folder / ".git").exists():
            git_root = folder
    return git_root or start


@dataclass(frozen=True)
class Project:
    """The paths of one project; creating the object touches nothing on disk."""

    root: Path

    @classmethod
    def discover(cls, start: Path | str = ".") -> Project:
        """The project containing `start` (see `find_project_root`)."""
        path = Path(start).expanduser()
        if not path.exists():
            raise ConfigError(f"{path} does not exist; pass an existing folder with -C")
        return cls(find_project_root(path))

    @property
    def kenning_dir(self) -> Path:
        return self.root / KENNING_DIR

    @property
    def memories_dir(self) -> Path:
        return self.kenning_dir / "memories"

    @property
    def index_dir(self) -> Path:
        return self.kenning_dir / "index"

    @property
    def index_path(self) -> Path:
        return self.index_dir / INDEX_FILE

    @property
    def config_path(self) -> Path:
        return self.kenning_dir / "config.toml"

    @property
    def personal_memories_dir(self) -> Path:
        return user_home() / "memories"

    def init(self) -> bool:
        """Create `.kenning/` with its memories folder and a .gitignore for the index.

        Returns True when something was created.
        """
        created = not self.kenning_dir.exists()
        self.memories_dir.mkdir(parents=True, exist_ok=True)
        ignore = self.kenning_dir / ".gitignore"
        if not ignore.exists():
            ignore.write_text(
                "# the index is derived from the files; rebuild it any time\nindex/\n"
            )
            created = True
        if not self.config_path.exists():
            self.config_path.write_text(DEFAULT_PROJECT_CONFIG)
            created = True
        return created


DEFAULT_PROJECT_CONFIG = """\
# kenning project settings. Every key is optional.
[brief]
# budget = 2000            # default token budget of a packet

[index]
# max_file_kb = 512        # larger files are skipped (and counted)
# exclude = ["vendor/**"]  # extra ignore globs, on top of .gitignore and .kenningignore
"""


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ConfigError(f"{path}: cannot read settings ({exc}); fix or delete the file") from exc


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(project: Project | None = None) -> dict[str, Any]:
    """User settings overlaid by the project's; a missing file is an empty table."""
    settings = _read_toml(user_home() / "config.toml")
    if project is not None:
        settings = _merge(settings, _read_toml(project.config_path))
    return settings


def setting(settings: dict[str, Any], dotted: str, default: Any = None) -> Any:
    """Look up `a.b.c` in nested tables."""
    node: Any = settings
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def set_user_setting(dotted: str, value: str | int | float | bool) -> Path:
    """Write one `section.key = value` into the user's config.toml, keeping the rest."""
    if "." not in dotted:
        raise ConfigError(f"setting {dotted!r} needs a section, like model.path")
    path = user_home() / "config.toml"
    settings = _read_toml(path)
    node = settings
    *sections, key = dotted.split(".")
    for part in sections:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{part} in {dotted} is a value, not a section")
    node[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(path, dump_toml(settings))
    return path


def dump_toml(table: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer for nested tables of scalars and lists (all config needs)."""
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in table.items() if isinstance(v, dict)}
    lines = []
    if prefix and scalars:
        lines.append(f"[{prefix}]")
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in scalars.items()]
    text = "\n".join(lines) + ("\n" if lines else "")
    for key, sub in tables.items():
        name = f"{prefix}.{_toml_key(key)}" if prefix else _toml_key(key)
        body = dump_toml(sub, name)
        text += ("\n" if text else "") + body
    return text


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
