"""Where the desk keeps its bearer token for the platform.

The OS keyring first (Windows Credential Manager on the front-desk PCs). A machine without a
usable keyring backend (a headless Linux box, a locked-down service account) falls back to a
file under the data folder that only the desk's user can read (0600, written atomically). The
token is never logged and never written to the settings.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import keyring
import keyring.errors
from keyring.backends import fail

from desk_app.errors import ConfigError, Text
from desk_app.settings import atomic_write_bytes

log = logging.getLogger(__name__)

SERVICE = "desk-app-platform"


class TokenStore:
    """Get, set and forget one desk's bearer token (keyring, else a protected file)."""

    def __init__(self, data_dir: Path, account: str, *, use_keyring: bool = True):
        self.account = account
        self.file = Path(data_dir) / "keys" / f"platform-token-{account}"
        self._keyring = use_keyring and not isinstance(keyring.get_keyring(), fail.Keyring)

    @property
    def backend(self) -> str:
        return "keyring" if self._keyring else "file"

    def get(self) -> str | None:
        if self._keyring:
            try:
                token = keyring.get_password(SERVICE, self.account)
            except keyring.errors.KeyringError as exc:
                log.warning("keyring unusable (%s); using the token file", type(exc).__name__)
                self._keyring = False
            else:
                if token:
                    return token
        return self._read_file()

    def set(self, token: str) -> None:
        if not token or any(c.isspace() for c in token):
            raise ValueError("a bearer token is one non-empty word")
        if self._keyring:
            try:
                keyring.set_password(SERVICE, self.account, token)
            except keyring.errors.KeyringError as exc:
                log.warning("keyring refused the token (%s); using the token file",
                            type(exc).__name__)
                self._keyring = False
            else:
                self.file.unlink(missing_ok=True)  # one place only
                return
        self.file.parent.mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(self.file.parent, 0o700)
        atomic_write_bytes(self.file, token.encode("ascii"), mode=0o600)

    def clear(self) -> None:
        if self._keyring:
            try:
                keyring.delete_password(SERVICE, self.account)
            except keyring.errors.PasswordDeleteError:
                pass  # nothing stored there: nothing to forget
            except keyring.errors.KeyringError as exc:
                log.warning("keyring unusable (%s)", type(exc).__name__)
        self.file.unlink(missing_ok=True)

    def _read_file(self) -> str | None:
        try:
            st = self.file.stat()
        except FileNotFoundError:
            return None
        if os.name == "posix" and st.st_mode & 0o077:
            # Someone loosened the permissions: the token may have leaked; an admin re-enrolls.
            raise ConfigError(
                Text(
                    f"平台令牌文件 {self.file} 的权限过宽, 已拒绝使用。请信息科重新登记本窗口。",
                    f"The platform token file {self.file} is readable by others and was not "
                    "used. Please ask hospital IT to enroll this desk again.",
                ),
                detail="token file mode",
            )
        token = self.file.read_text("ascii").strip()
        return token or None
