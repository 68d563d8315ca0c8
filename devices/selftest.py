""""Test" buttons of the settings screen: open a device as configured and say what happened.

Each check opens the device, reads once, and closes it again; failures are the devices' own typed
errors (unplugged, busy, no permission, no reader on that port), shown to the person as words.
"""

from __future__ import annotations

from desk_app.errors import Text
from desk_app.settings import DevicesSection


def test_device(key: str, value: str, devices: DevicesSection | None = None) -> Text:
    devices = devices or DevicesSection()
    value = (value or "").strip()
    if key in ("patient_camera", "counter_camera"):
        if not value:
            return Text("未设置: 由患者摄像头兼做台面摄像头。",
                        "Not set: the patient camera also looks at the counter.")
        from devices.camera.factory import make_source

        source = make_source(value, width=devices.camera_width, height=devices.camera_height)
        source.open()
        try:
            frame = source.read()
        finally:
            source.close()
        h, w = frame.shape[:2]
        return Text(f"摄像头正常, 画面 {w}x{h}。", f"The camera works ({w}x{h}).")
    if key == "id_reader_port":
        if not value:
            return Text("未设置读卡器: 身份证由摄像头识读或手工录入。",
                        "No reader set: ID cards are read by camera or typed.")
        from devices.idcard.factory import make_reader

        setup = make_reader(devices.model_copy(update={"id_reader_port": value}))
        assert setup is not None
        try:
            setup.reader.open()
            present = setup.reader.card_present()
        finally:
            setup.close()
        return Text("读卡器正常" + (", 已放卡。" if present else ", 未放卡。"),
                    "The reader works" + ("; a card is on it." if present else "; no card on it."))
    raise ValueError(f"no test for {key!r}")
