"""Build the desk's ID-card reader from ``DevicesSection`` (used by the composition root)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desk_app.settings import DevicesSection
from devices.idcard.serial_reader import SamSerialReader
from devices.idcard.wlt import load_wlt_decoder

if TYPE_CHECKING:  # the simulator needs POSIX ptys (tty/termios): imported only for "sim"
    from devices.idcard.simulator import SimulatedSamReader


@dataclass
class ReaderSetup:
    """The reader to poll, and the simulator behind it when ``id_reader_port = "sim"`` (the
    demo puts cards on it with ``simulator.insert_card``; the owner stops it at shutdown)."""

    reader: SamSerialReader
    simulator: SimulatedSamReader | None = None

    def close(self) -> None:
        self.reader.close()
        if self.simulator is not None:
            self.simulator.stop()


def make_reader(devices: DevicesSection) -> ReaderSetup | None:
    """None when no reader is configured (ID cards then come by camera or by hand)."""
    port = devices.id_reader_port.strip()
    if not port:
        return None
    decoder = load_wlt_decoder(devices.wlt_decoder_library)
    if port == "sim" and sys.platform != "win32":
        from devices.idcard.simulator import SimulatedSamReader

        sim = SimulatedSamReader().start()
        return ReaderSetup(SamSerialReader(sim.port, portrait_decoder=decoder), sim)
    return ReaderSetup(SamSerialReader(port, portrait_decoder=decoder))
