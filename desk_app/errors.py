"""Typed errors worded for people.

Every error the application can show carries a *kind* (what sort of trouble it is, so the UI can
pick an icon and decide whether to offer "retry"), a title and a message that a registration clerk
understands, in Simplified Chinese and in English. Library errors are converted to one of these at
the boundary where they happen (storage, devices, sync); the UI shows every one of them through a
single function, and never recognises an error by its message text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Text(NamedTuple):
    """A sentence in the two languages of the UI."""

    zh: str
    en: str

    def __call__(self, lang: str = "zh_CN") -> str:
        return self.en if lang.lower().startswith("en") else self.zh

    def format(self, **kwargs: object) -> Text:  # type: ignore[override]
        return Text(self.zh.format(**kwargs), self.en.format(**kwargs))


class ErrorKind(StrEnum):
    USER_INPUT = "user_input"  # what the clerk or patient presented is wrong: fix and retry
    DEVICE = "device"  # camera, reader, scanner: check the cable, retry
    NETWORK = "network"  # the central platform cannot be reached: work goes on offline
    AUTH = "auth"  # not allowed, not logged in, token revoked: needs someone with rights
    DATA = "data"  # a stored file or record is damaged or missing
    CONFIG = "config"  # settings are invalid or incomplete: needs hospital IT
    INTERNAL = "internal"  # a bug: logged with its traceback


class DeskError(Exception):
    """Base of every error the application shows to a person."""

    kind: ErrorKind = ErrorKind.INTERNAL
    title_text: Text = Text("操作失败", "Operation failed")
    default_text: Text = Text("发生了意外错误, 请联系信息科。", "Something went wrong. Please call hospital IT.")

    def __init__(self, text: Text | None = None, *, title: Text | None = None, detail: str = ""):
        self.text = text or self.default_text
        if title is not None:
            self.title_text = title
        # `detail` is for engineers (the log), never shown to the clerk and never holding PII.
        self.detail = detail
        super().__init__(self.text.en + (f" ({detail})" if detail else ""))

    def title(self, lang: str = "zh_CN") -> str:
        return self.title_text(lang)

    def message(self, lang: str = "zh_CN") -> str:
        return self.text(lang)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        """Pickled whole (texts, detail, a subclass's own fields), so an error raised in a
        child process (the face processes) reaches the desk as itself: Exception's default
        would call ``__init__`` with the message string as ``text``."""
        return _rebuild, (type(self), self.args, self.__dict__)


def _rebuild(cls: type[DeskError], args: tuple[object, ...], state: dict[str, object]) -> DeskError:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class UserInputError(DeskError):
    kind = ErrorKind.USER_INPUT
    title_text = Text("输入有误", "Invalid input")
    default_text = Text("输入的内容无法识别, 请重新输入。", "The input was not understood. Please try again.")


class DeviceError(DeskError):
    kind = ErrorKind.DEVICE
    title_text = Text("设备故障", "Device problem")
    default_text = Text("设备无响应, 请检查连接线。", "The device does not respond. Please check its cable.")


class NetworkError(DeskError):
    kind = ErrorKind.NETWORK
    title_text = Text("网络中断", "Network problem")
    default_text = Text(
        "无法连接中心平台, 已转入离线模式, 恢复后自动上传。",
        "The central platform cannot be reached. Working offline; records upload when it is back.",
    )


class AuthError(DeskError):
    kind = ErrorKind.AUTH
    title_text = Text("没有权限", "Not allowed")
    default_text = Text("当前账号无权执行此操作。", "Your account is not allowed to do this.")


class PhotosNotHere(DeskError):
    """Another window's alert photos cannot be shown at this desk. ``reason``: ``gone`` (the
    platform no longer keeps them), ``offline`` (it cannot be reached) or ``elsewhere`` (the
    site keeps photos on the desk that raised the alert). The security screen says so in the
    photo boxes, without a dialog."""

    kind = ErrorKind.DATA
    title_text = Text("照片", "Photos")

    def __init__(self, reason: str, text: Text):
        super().__init__(text, detail=reason)
        self.reason = reason

    @classmethod
    def gone(cls) -> PhotosNotHere:
        return cls("gone", Text("照片已不再保存", "Photos no longer kept"))

    @classmethod
    def offline(cls) -> PhotosNotHere:
        return cls("offline", Text("离线: 照片在发出告警的窗口",
                                   "Offline: photos at the window that raised it"))

    @classmethod
    def elsewhere(cls) -> PhotosNotHere:
        return cls("elsewhere", Text("照片只在发出告警的窗口",
                                     "Photos only at the window that raised the alert"))


class DataError(DeskError):
    kind = ErrorKind.DATA
    title_text = Text("数据损坏", "Damaged data")
    default_text = Text("本地数据文件已损坏, 请联系信息科。", "A local data file is damaged. Please call hospital IT.")


class ConfigError(DeskError):
    kind = ErrorKind.CONFIG
    title_text = Text("配置错误", "Configuration problem")
    default_text = Text("设置无效, 请联系信息科。", "The settings are not valid. Please call hospital IT.")


class SettingsCorrupt(ConfigError):
    """The settings file could not be read; it was moved aside and defaults are in use."""

    title_text = Text("设置文件已损坏", "Settings file damaged")

    def __init__(self, backup_path: str, detail: str = ""):
        self.backup_path = backup_path
        super().__init__(
            Text(
                f"设置文件无法读取, 已备份为 {backup_path}, 当前使用默认设置。请联系信息科核对。",
                f"The settings file could not be read. It was kept as {backup_path} and the "
                "defaults are in use. Please ask hospital IT to check it.",
            ),
            detail=detail,
        )


class InternalError(DeskError):
    kind = ErrorKind.INTERNAL


def as_desk_error(exc: BaseException) -> DeskError:
    """The error to show for any exception: itself if typed, else a generic internal error."""
    if isinstance(exc, DeskError):
        return exc
    return InternalError(detail=f"{type(exc).__name__}")
