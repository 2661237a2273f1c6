"""The paper's data, reproducibly: a COCO-2017 subset (and optionally Pascal VOC 2012).

Taught in notebook 04. The paper trains on "1000 random images of COCO-2017" and evaluates on
COCO-2017 test and Pascal VOC 2012, all centre-cropped to 128 x 128. We make "random"
reproducible:

* the **fixed list** is the sorted list of ``.jpg`` files under a prefix of an archive whose size
  and md5 are known (COCO's ``val2017.zip``: 5,000 images), so it cannot change;
* a numpy generator seeded with ``seed`` permutes it; the first ``n_train`` names are the
  training set, the next ``n_eval`` the held-out evaluation set (disjoint by construction);
* the chosen names, with the sha256 of each extracted file, are written to a **manifest**
  (``data/manifests/<source>_subset.json``). A later run checks its choice against an existing
  manifest, and :func:`fetch_from_manifest` can fetch the same images one by one (COCO's per-image
  ``coco_url``) and verify each against the manifest.

COCO and VOC images carry their own licences (COCO: the Flickr licence of each image; VOC: the
Flickr terms): they are downloaded to a cache, never committed.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.data.photos import DATA_DIR, SAMPLES_DIR, SHIPPED_HELD_OUT, bundled_training_set, list_samples, split_by_source
from helpers.data.download import DownloadError, download
from helpers.plumbing.files import write_atomic


@dataclass(frozen=True)
class Source:
    """An archive of images with its known size and md5."""

    name: str
    url: str
    size: int
    md5: str
    prefix: str        # folder of the images inside the archive
    image_url: str = ""  # per-image address, ``{name}`` replaced by the file name (optional)
    n_train: int = 1000  # the subset every notebook asks for: training images ...
    n_eval: int = 1000   # ... and held-out evaluation images (one manifest per source, so one size)


COCO_VAL2017 = Source("coco-val2017", "http://images.cocodataset.org/zips/val2017.zip", 815_585_330,
                      "442b8da7639aecaf257c1dceb8ba8c80", "val2017/",
                      "http://images.cocodataset.org/val2017/{name}")
# The paper evaluates on VOC and never trains on it: no training images.
VOC2012 = Source("voc2012", "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar",
                 1_999_639_040, "6cd6e144f989b92b3379bac3b3de84fd", "VOCdevkit/VOC2012/JPEGImages/", n_train=0)
MANIFEST_DIR = DATA_DIR / "manifests"


def choose_subset(names, n_train: int, n_eval: int, seed: int = 2022):
    """Sort ``names``, permute them with ``numpy.random.default_rng(seed)``; return
    ``(train, eval)``: the first ``n_train`` and the next ``n_eval`` names, disjoint."""
    names = sorted(set(names))
    if n_train + n_eval > len(names):
        raise ValueError(f"asked for {n_train} + {n_eval} images but the list has only {len(names)}")
    order = np.random.default_rng(seed).permutation(len(names))
    chosen = [names[i] for i in order[:n_train + n_eval]]
    return chosen[:n_train], chosen[n_train:]


def _members(archive: Path, prefix: str) -> dict:
    """File name -> member of every .jpg directly under ``prefix`` in a zip or tar archive."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            infos = z.infolist()
        return {Path(i.filename).name: i.filename for i in infos
                if i.filename.startswith(prefix) and i.filename.lower().endswith(".jpg") and "/" not in i.filename[len(prefix):]}
    with tarfile.open(archive) as t:
        return {Path(m.name).name: m.name for m in t.getmembers()
                if m.isfile() and m.name.startswith(prefix) and m.name.lower().endswith(".jpg")
                and "/" not in m.name[len(prefix):]}


def _extract(archive: Path, members: dict, names, out_dir: Path) -> list:
    """Copy the chosen members to ``out_dir/<file name>`` (names come from our list, never from
    the archive's paths, so nothing can be written outside ``out_dir``). Returns sha256s."""
    out_dir.mkdir(parents=True, exist_ok=True)
    hashes = []
    is_zip = zipfile.is_zipfile(archive)
    opener = zipfile.ZipFile(archive) if is_zip else tarfile.open(archive)
    with opener as arc:
        for name in names:
            data = arc.read(members[name]) if is_zip else arc.extractfile(members[name]).read()
            target = out_dir / name
            if not target.is_file() or target.read_bytes() != data:
                write_atomic(target, data)
            hashes.append(hashlib.sha256(data).hexdigest())
    return hashes


def prepare_subset(source: Source = COCO_VAL2017, cache_dir=None, out_dir=None,
                   n_train: int | None = None, n_eval: int | None = None, seed: int = 2022, manifest_path=None,
                   url: str | None = None, progress: bool = True) -> dict:
    """Download ``source`` (cached, resumable, checksummed: :func:`helpers.data.download.download`),
    choose the subset (:func:`choose_subset`), extract it to ``out_dir/train`` and
    ``out_dir/eval``, and write or check the manifest. ``n_train`` and ``n_eval`` default to the
    source's own (``source.n_train``, ``source.n_eval``), so every notebook asks for the same subset
    of a source and agrees with its manifest. ``cache_dir`` defaults to
    :func:`helpers.settings.cache_dir`. ``url`` overrides the archive's address (a mirror, or the
    tests' local server). Returns the manifest (a dict)."""
    from helpers.settings import cache_dir as default_cache

    n_train = source.n_train if n_train is None else n_train
    n_eval = source.n_eval if n_eval is None else n_eval
    cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache()
    out_dir = Path(out_dir) if out_dir is not None else cache_dir / source.name
    manifest_path = Path(manifest_path) if manifest_path is not None else MANIFEST_DIR / f"{source.name}_subset.json"
    archive = download(url or source.url, cache_dir / Path(source.url).name, size=source.size, md5=source.md5,
                       progress=progress)
    members = _members(archive, source.prefix)
    if not members:
        raise DownloadError(f"{archive} holds no .jpg files under {source.prefix}; delete it and download again")
    train, evaluation = choose_subset(members, n_train, n_eval, seed)
    manifest = {
        "source": source.name, "archive": Path(source.url).name, "archive_md5": source.md5,
        "fixed_list": f"sorted names of the {len(members)} .jpg files under {source.prefix} in the archive",
        "n_listed": len(members), "seed": seed, "rule": "numpy.random.default_rng(seed).permutation; "
        "first n_train -> train, next n_eval -> eval",
        "train": [dict(file=n, sha256=h) for n, h in zip(train, _extract(archive, members, train, out_dir / "train"))],
        "eval": [dict(file=n, sha256=h) for n, h in zip(evaluation, _extract(archive, members, evaluation, out_dir / "eval"))],
    }
    if manifest_path.is_file():
        old = json.loads(manifest_path.read_text())
        if (old.get("seed"), old.get("archive_md5"), old.get("train"), old.get("eval")) != \
                (seed, source.md5, manifest["train"], manifest["eval"]):
            raise ValueError(f"the subset chosen now differs from the manifest {manifest_path} (another seed or size, "
                             "or different files); pass another manifest_path to keep both")
    else:
        manifest_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(manifest_path, (json.dumps(manifest, indent=1) + "\n").encode())
    manifest["paths"] = {"train": str(out_dir / "train"), "eval": str(out_dir / "eval"), "manifest": str(manifest_path)}
    return manifest


def fetch_from_manifest(manifest_path, out_dir, image_url: str, split: str = "train", progress: bool = True) -> int:
    """Fetch the images a manifest lists one by one from ``image_url`` (``{name}`` is replaced by
    each file name, e.g. COCO's ``http://images.cocodataset.org/val2017/{name}``), each checked
    against the manifest's sha256. Files that fail are skipped and reported in one warning.
    Returns the number of images now present and verified."""
    from tqdm.auto import tqdm

    manifest = json.loads(Path(manifest_path).read_text())
    out_dir = Path(out_dir)
    failed = {}
    for entry in tqdm(manifest[split], desc=f"{manifest['source']} {split}", disable=not progress):
        try:
            download(image_url.format(name=entry["file"]), out_dir / entry["file"], sha256=entry["sha256"],
                     progress=False, timeout=30)
        except DownloadError as e:
            failed[entry["file"]] = str(e)
    if failed:
        first = next(iter(failed.items()))
        warnings.warn(f"{len(failed)} of {len(manifest[split])} images could not be fetched or failed their checksum "
                      f"(first: {first[0]}: {first[1]}); run again to retry", stacklevel=2)
    return len(manifest[split]) - len(failed)


def stand_in_archive(folder, files=None) -> Source:
    """A small look-alike of COCO's ``val2017.zip`` made of bundled photos (``files``, default all
    of them, as JPEG like COCO's, named in COCO's layout ``val2017/000000xxxxxx.jpg``), for running
    :func:`prepare_subset` offline (notebooks 04 and 05 in fast mode). Returns its :class:`Source`
    with a ``file://`` address."""
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / "val2017.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, path in enumerate(list_samples(size=None) if files is None else files):
            jpg = io.BytesIO()
            Image.open(path).convert("RGB").save(jpg, "JPEG", quality=95)
            # a fixed timestamp keeps the archive (and its md5) identical from run to run
            z.writestr(zipfile.ZipInfo(f"val2017/{k * 7919 + 139:012d}.jpg", date_time=(2017, 1, 1, 0, 0, 0)),
                       jpg.getvalue())
    data = buf.getvalue()
    if not archive.is_file() or archive.read_bytes() != data:
        write_atomic(archive, data)
    return Source("bundled-stand-in", archive.as_uri(), len(data), hashlib.md5(data).hexdigest(), "val2017/")


DATA_CHOICES = ("coco", "bundled")


@dataclass(frozen=True)
class TrainingData:
    """What notebook 05 trains and evaluates on (:func:`training_data`)."""

    name: str                 # the data set in a few words (for an export's notes)
    train: Path               # folder of training images
    eval_dir: Path            # folder of the held-out evaluation images ...
    eval_files: tuple | None  # ... these names in it (None: every image there)
    label: str                # what the evaluation images are, for printed results
    banner: str               # data set, image count and where they came from


def training_data(data: str = "coco", fast: bool = False, cache=None, progress: bool = True) -> TrainingData:
    """Notebook 05's ``DATA`` setting, made sure of before training, with a banner to print.

    ``"coco"``: the 1000-image COCO-2017 subset of notebook 04 through the same
    :func:`prepare_subset` (downloaded on first use, checksummed, cached in ``cache``), evaluated on
    its 1000 held-out images; an unreachable COCO raises :class:`DownloadError` saying what to do,
    never a silent fallback. In fast mode the same code runs offline on a stand-in archive of the
    bundled photos of every source but the held-out ones (:func:`stand_in_archive`). ``"bundled"``:
    the bundled photos of every source but the held-out ones, linked 1000 times (how the shipped
    ``paper.pt`` was trained). Both bundled variants evaluate on crops of the held-out photos."""
    from helpers.settings import cache_dir as default_cache

    if data not in DATA_CHOICES:
        raise ValueError(f"DATA must be one of {', '.join(map(repr, DATA_CHOICES))}, not {data!r}: set it in the "
                         "settings cell")
    cache = Path(cache).expanduser() if cache is not None else default_cache()
    held_names = tuple(f.name for f in split_by_source(list_samples(), SHIPPED_HELD_OUT)[1])
    held_label = f"crops of the held-out photos {' and '.join(SHIPPED_HELD_OUT)} (never trained on)"
    if data == "bundled":
        train = bundled_training_set(cache / "bundled-train")
        n_photos = len({p.resolve() for p in train.iterdir()})
        return TrainingData(f"the bundled photos ({n_photos} photos)", train, SAMPLES_DIR, held_names, held_label,
                            f"training data: the bundled photos ({n_photos} photos of every source but "
                            f"{' and '.join(SHIPPED_HELD_OUT)}, linked into {len(list(train.iterdir()))} files as the shipped "
                            f"paper.pt was trained), from {SAMPLES_DIR}; not the paper's COCO (DATA = 'coco')")
    if fast:
        photos = split_by_source(list_samples(size=None), SHIPPED_HELD_OUT)[0]
        folder = cache / "stand-in-05"
        source = stand_in_archive(folder, photos)
        m = prepare_subset(source, cache_dir=folder / "cache", n_train=len(photos), n_eval=0,
                           manifest_path=folder / "manifest.json", progress=progress)
        return TrainingData(f"a stand-in for COCO of {len(m['train'])} bundled photos", Path(m["paths"]["train"]),
                            SAMPLES_DIR, held_names, held_label,
                            f"training data (fast mode): {len(m['train'])} bundled photos packed as a stand-in for COCO's "
                            f"val2017.zip and fetched from {source.url} by the code that fetches COCO in full mode "
                            "(prepare_subset); full mode trains on the 1000 COCO images")
    source = COCO_VAL2017
    try:
        m = prepare_subset(source, cache_dir=cache, progress=progress)
    except DownloadError as e:
        raise DownloadError(f"the COCO-2017 subset could not be fetched: {str(e).split('; ')[0]}: connect to the internet "
                            "and run the cell again, or set DATA = 'bundled' to train on the bundled photos") from None
    return TrainingData(f"{len(m['train'])} COCO-2017 images ({source.name})", Path(m["paths"]["train"]),
                        Path(m["paths"]["eval"]), None, "held-out COCO images",
                        f"training data: {len(m['train'])} images of COCO-2017 ({source.name}, seed {m['seed']}; "
                        f"manifest {m['paths']['manifest']}) from {source.url}, in {m['paths']['train']}; "
                        f"{len(m['eval'])} more held out for evaluation")
