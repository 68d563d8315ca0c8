"""Typed storage errors (all :class:`~desk_app.errors.DataError`: a stored file or record is the
trouble). Library errors (SQLAlchemy, sqlite3, Alembic, cryptography) are converted to these at
the storage boundary, so nothing above storage ever sees a driver exception."""

from __future__ import annotations

from desk_app.errors import DataError, Text


class StorageError(DataError):
    default_text = Text("本地数据库读写失败, 请联系信息科。",
                        "The local database could not be read or written. Please call hospital IT.")


class KeyMissingError(StorageError):
    """The database exists but its encryption key is gone (keyring entry and key file)."""

    title_text = Text("数据密钥丢失", "Data key missing")
    default_text = Text(
        "本地数据库存在, 但其加密密钥已找不到 (系统密钥环和密钥文件都没有)。为免覆盖数据, 程序不会生成新密钥。"
        "请联系信息科从备份恢复密钥。",
        "The local database exists but its encryption key cannot be found (neither in the system "
        "keyring nor in the key file). A new key is NOT made, so no data is overwritten. Please "
        "ask hospital IT to restore the key from its backup.",
    )


class KeyMismatchError(StorageError):
    """A key was found, but it is not the key this database was written with."""

    title_text = Text("数据密钥不匹配", "Wrong data key")
    default_text = Text(
        "找到的加密密钥与本地数据库不匹配。请联系信息科恢复正确的密钥。",
        "The encryption key found does not belong to the local database. Please ask hospital IT "
        "to restore the right key.",
    )


class KeyFileError(StorageError):
    """The key file exists but cannot be read or has the wrong size/permissions."""

    title_text = Text("密钥文件损坏", "Key file damaged")
    default_text = Text("密钥文件无法读取或已损坏, 请联系信息科。",
                        "The key file cannot be read or is damaged. Please call hospital IT.")


class DecryptionError(StorageError):
    """An encrypted field failed authentication: edited on disk, or moved between rows."""

    default_text = Text("本地数据库中的加密记录已被篡改或损坏, 请联系信息科。",
                        "An encrypted record in the local database was altered or is damaged. "
                        "Please call hospital IT.")


class DatabaseTooNewError(StorageError):
    title_text = Text("数据库版本过新", "Database from a newer version")
    default_text = Text("本地数据库由更新版本的程序创建, 请升级本程序。",
                        "The local database was made by a newer version of this program. "
                        "Please update the program.")


class MigrationError(StorageError):
    title_text = Text("数据库升级失败", "Database upgrade failed")
    default_text = Text("本地数据库升级失败, 原文件已备份, 请联系信息科。",
                        "The local database could not be upgraded. The original file was backed "
                        "up. Please call hospital IT.")


class NotFoundError(StorageError):
    title_text = Text("记录不存在", "Record not found")
    default_text = Text("要找的记录不存在。", "The record was not found.")


class DuplicateError(StorageError):
    title_text = Text("记录已存在", "Record exists")
    default_text = Text("该记录已存在。", "The record already exists.")


class DatabaseRecovered(StorageError):
    """Not a failure of the call: the database was found damaged at start and recovered. Shown
    once so that the clerk tells hospital IT; the desk goes on."""

    title_text = Text("本地数据库已恢复", "Local database recovered")
