"""Typed ID-card errors: what went wrong with the reader, worded for the clerk.

Raised at the boundary (serial port, reader protocol, camera OCR); the UI shows them through the
one error function and never looks at the message text.
"""

from __future__ import annotations

from desk_app.errors import DeviceError, Text


class IdCardError(DeviceError):
    """Base of every ID-card reading problem."""

    title_text = Text("身份证读取失败", "ID card not read")
    default_text = Text("身份证读取失败, 请重新放置证件。", "The ID card was not read. Please place it again.")


class ReaderNotConnected(IdCardError):
    """No reader at that port, or the port went away (USB-serial cable pulled)."""

    title_text = Text("读卡器未连接", "Card reader not connected")
    default_text = Text(
        "身份证阅读器未连接或已断开, 请检查连接线; 插好后会自动恢复。",
        "The ID card reader is not connected. Please check its cable; it comes back by itself.",
    )


class NoCard(IdCardError):
    """The reader answers but no card lies on it (or it was lifted during the read)."""

    title_text = Text("未检测到身份证", "No ID card")
    default_text = Text("请将身份证平放在阅读器上。", "Please lay the ID card flat on the reader.")


class FrameChecksumError(IdCardError):
    """A frame from the reader failed its XOR check or was malformed (noise on the line)."""

    default_text = Text(
        "读卡器数据校验失败, 请重新放置证件。",
        "The reader's data failed its check. Please place the card again.",
    )


class ReaderTimeout(IdCardError):
    """The reader did not answer (completely) in time."""

    title_text = Text("读卡器无响应", "Card reader does not respond")
    default_text = Text(
        "身份证阅读器无响应, 请检查连接线或重新插拔。",
        "The ID card reader does not respond. Please check or re-plug its cable.",
    )


class ReaderProtocolError(IdCardError):
    """The reader answered with a status this program does not expect (e.g. SAM fault)."""

    def __init__(self, status: int, detail: str = ""):
        self.status = status
        super().__init__(
            Text(
                f"身份证阅读器报告错误 (状态 0x{status:02X}), 请重新放置证件。",
                f"The ID card reader reported an error (status 0x{status:02X}). Please place the "
                "card again.",
            ),
            detail=detail or f"sw3=0x{status:02X}",
        )


class PrintedNumberInvalid(IdCardError):
    """The camera read the printed number consistently, and its check digit does not hold.

    Reported as such (a misprint or a forged card), never "corrected" into another number."""

    title_text = Text("证件号码校验失败", "ID number fails its check")
    default_text = Text(
        "证件上印的身份号码校验位不正确, 请人工核验证件。",
        "The number printed on this card fails its check digit. Please check the card by hand.",
    )


class CardNotRead(IdCardError):
    """The camera saw no card, or could not read its number well enough in the time given."""

    title_text = Text("未能识别身份证", "ID card not recognised")
    default_text = Text(
        "未能识别身份证号码, 请将证件人像面朝上平放在镜头下, 或手工输入。",
        "The ID number could not be read. Lay the card photo side up under the camera, or type it.",
    )
