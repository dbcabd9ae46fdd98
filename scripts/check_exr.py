"""Checks a Moonfarm EXR with the reference OpenEXR library: channels, size, sane pixels.

Usage: check_exr.py FILE WIDTH HEIGHT. Prints one 'exr-check: N passed, N failed' line and
exits non-zero on any failure.
"""
import sys

import numpy as np
import OpenEXR

path, width, height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
checks = []
with OpenEXR.File(path, separate_channels=True) as f:
    channels = f.channels()
    names = sorted(channels)
    checks.append(("channels R G B A weight", names == ["A", "B", "G", "R", "weight"], names))
    shapes = {n: channels[n].pixels.shape for n in names}
    checks.append((f"resolution {width}x{height}", all(s == (height, width) for s in shapes.values()), shapes))
    rgb = np.stack([channels[c].pixels for c in "RGB"]).astype(np.float64)
    checks.append(("finite, not black", bool(np.isfinite(rgb).all() and rgb.mean() > 0.01), float(rgb.mean())))
    weight = channels["weight"].pixels
    checks.append(("64 samples per pixel", bool((weight == 64).all()), float(weight.min())))
failed = 0
for name, ok, seen in checks:
    print(f"exr-check {'ok  ' if ok else 'FAIL'} {name} ({seen})")
    failed += not ok
print(f"exr-check: {len(checks) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
