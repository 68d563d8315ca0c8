"""QR codes and barcodes: the two-decoder reader, the camera pipeline, the evaluation tool."""

from devices.qr.reader import BadImageError, DecodedCode, QrReader, ReadResult

__all__ = ["BadImageError", "DecodedCode", "QrReader", "ReadResult"]
