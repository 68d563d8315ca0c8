"""ID cards: by desktop reader (SAM serial protocol) and by camera (card finding + OCR).

Public API: :class:`~devices.idcard.types.IdCardRead`, the ``IdCardReader`` Protocol,
:class:`~devices.idcard.serial_reader.SamSerialReader`, the pty
:class:`~devices.idcard.simulator.SimulatedSamReader`, the poll loop
:class:`~devices.idcard.poller.ReaderPoller`, the WLT plug-in
:func:`~devices.idcard.wlt.load_wlt_decoder`, the camera side
:class:`~devices.idcard.camera_reader.CameraCardReader` / ``NumberVoter`` /
``CameraIdCardSource``, and synthetic cards in :mod:`devices.idcard.synthetic` (the scenes
showing them in :mod:`devices.idcard.scenes`). Modules are imported on use (OCR and Pillow are not needed to read a chip).
"""
