"""Link the bundled photos (all but the held-out sources, at least 128 x 128) repeatedly into a
folder of N files, so that one epoch over it is as long as one over the 1000-image COCO subset
(:func:`helpers.data.photos.bundled_training_set`; notebook 05 makes the same folder).

    python benchmarks/link_training_set.py /tmp/train1000 --held-out coffee,rocket --n 1000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.data.photos import SHIPPED_HELD_OUT, bundled_training_set  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dest")
    p.add_argument("--held-out", default=",".join(SHIPPED_HELD_OUT))
    p.add_argument("--n", type=int, default=1000)
    a = p.parse_args(argv)
    dest = bundled_training_set(a.dest, a.held_out.split(","), a.n)
    print(f"{len({f.name.split('_', 1)[1] for f in dest.iterdir()})} training photos, linked into {a.n} files in {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
