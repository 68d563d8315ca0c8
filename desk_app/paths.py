"""Where the desk keeps its files: resolved once, by platformdirs or by ``--data-dir``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "desk-app"
APP_AUTHOR = "realname-desk"


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path  # settings.toml (the desk's own settings)
    data_dir: Path  # the database, keys, face images of flagged cases
    log_dir: Path
    cache_dir: Path
    site_config: Path  # site.toml: read-only defaults provisioned by hospital IT

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def database_file(self) -> Path:
        return self.data_dir / "desk.sqlite3"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "keys" / "master.key"

    @property
    def backup_dir(self) -> Path:
        return self.data_dir / "backups"

    def ensure(self) -> AppPaths:
        for d in (self.config_dir, self.data_dir, self.log_dir, self.cache_dir):
            d.mkdir(parents=True, exist_ok=True)
            # Sensitive personal information lives below data_dir: owner only.
            if os.name == "posix":
                os.chmod(d, 0o700)
        return self

    @classmethod
    def resolve(cls, data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
        """Every path below ``data_dir`` when given (tests, the demo, portable installs);
        otherwise the platform's usual places."""
        override = data_dir or os.environ.get("DESK_APP_DATA_DIR")
        if override:
            root = Path(override).expanduser().resolve()
            return cls(
                config_dir=root / "config",
                data_dir=root / "data",
                log_dir=root / "logs",
                cache_dir=root / "cache",
                site_config=root / "config" / "site.toml",
            )
        dirs = platformdirs.PlatformDirs(APP_NAME, APP_AUTHOR)
        return cls(
            config_dir=Path(dirs.user_config_dir),
            data_dir=Path(dirs.user_data_dir),
            log_dir=Path(dirs.user_log_dir),
            cache_dir=Path(dirs.user_cache_dir),
            site_config=Path(dirs.site_config_dir) / "site.toml",
        )
