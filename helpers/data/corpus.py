"""A real-photo corpus that can be had offline: photographs and photographic textures shipped in
Debian packages, for training and, above all, for measuring blind mode on photos no network of
this project was trained on (notebook 09; ``benchmarks/blind_heldout.py``).

Which files are photographs is decided by looking, once, and written down in
``data/corpus/photos.csv`` (package, path in the package, a source name, and a group: sources that
must stay on the same side of a train/test split). :func:`build_corpus` then, for each listed file:

* reads it from the package's ``.deb`` (an ``ar`` archive holding ``data.tar.*``; nothing is
  installed; :func:`fetch_debs` gets the packages with ``apt-get download``),
* records the package's version, and the copyright and licence that the package's machine-readable
  ``copyright`` file gives for it (the last ``Files:`` stanza that matches, as that format says), and
  for a Plasma wallpaper the authors and licence of its ``metadata.json``,
* writes it, unchanged, to ``<cache>/corpus/images/<source>.<ext>`` with its sha256 in
  ``<cache>/corpus/manifest.csv``.

The images are never committed: their licences (GPL-2+, CC-BY-SA) travel with the packages.

    python -m helpers.data.corpus            # fetch the packages and build the corpus in the cache folder
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import json
import posixpath
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from helpers.data.photos import DATA_DIR
from helpers.plumbing.files import csv_bytes, move_into, write_atomic

PHOTO_LIST = DATA_DIR / "corpus" / "photos.csv"
MANIFEST_FIELDS = ["source", "file", "group", "kind", "package", "version", "member", "width", "height", "sha256",
                   "author", "copyright", "license", "license_from"]


class CorpusError(RuntimeError):
    """A package or a listed file is missing or unreadable."""


def read_photo_list(path=PHOTO_LIST) -> list[dict]:
    """The rows of ``data/corpus/photos.csv`` (lines starting with ``#`` are comments)."""
    with open(path, newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def ar_members(deb) -> dict:
    """name -> bytes of every member of an ``ar`` archive (a ``.deb``)."""
    data = Path(deb).read_bytes()
    if not data.startswith(b"!<arch>\n"):
        raise CorpusError(f"{deb} is not a .deb (ar) archive")
    members, pos = {}, 8
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        members[name] = data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size % 2)  # members are aligned to two bytes
    return members


def _tar(members: dict, prefix: str) -> tarfile.TarFile:
    name = next((n for n in members if n.startswith(prefix)), None)
    if name is None:
        raise CorpusError(f"no {prefix}* in the package")
    if name.endswith(".zst"):
        raise CorpusError(f"{name} is zstd-compressed, which Python's tarfile cannot read; extract it with dpkg-deb -x")
    return tarfile.open(fileobj=io.BytesIO(members[name]))


def package_version(members: dict) -> tuple[str, str]:
    """``(Package, Version)`` from the control file of a ``.deb`` (its :func:`ar_members`)."""
    with _tar(members, "control.tar") as t:
        member = next(m for m in t.getmembers() if m.name.lstrip("./") == "control")
        fields = dict(line.split(": ", 1) for line in t.extractfile(member).read().decode().splitlines()
                      if ": " in line and not line.startswith(" "))
    return fields["Package"], fields["Version"]


def read_from_deb(members: dict, paths, deb_name: str = "the package") -> dict:
    """path -> bytes of each of ``paths`` (paths inside the package, e.g. ``usr/share/...``) from a
    ``.deb``'s :func:`ar_members`."""
    wanted, found = {p.lstrip("./") for p in paths}, {}
    with _tar(members, "data.tar") as t:
        by_name = {m.name.lstrip("./"): m for m in t.getmembers()}
        for name in wanted:
            m, hops = by_name.get(name), 0
            while m is not None and m.issym() and hops < 8:  # packages link one size of a wallpaper to another
                target = posixpath.normpath(posixpath.join(posixpath.dirname(m.name.lstrip("./")), m.linkname))
                m, hops = by_name.get(target.lstrip("/")), hops + 1
            if m is not None and m.isfile():
                found[name] = t.extractfile(m).read()
    missing = wanted - set(found)
    if missing:
        raise CorpusError(f"{deb_name} has no {sorted(missing)[0]}")
    return found


def _stanzas(copyright_text: str) -> list[dict]:
    stanzas = []
    for block in copyright_text.split("\n\n"):
        fields, key = {}, None
        for line in block.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if "Files" in fields:
            stanzas.append(fields)
    return stanzas


def _matches(member: str, pattern: str) -> bool:
    """Whether a ``Files:`` pattern (relative to the source tree) names an installed file: its
    file-name part must match, and a pattern like ``dir/*`` needs ``dir`` in the installed path."""
    if pattern == "*":
        return True
    folder, name = posixpath.split(pattern)
    if not fnmatch.fnmatch(posixpath.basename(member), name):
        return False
    return name != "*" or posixpath.basename(folder) in member.split("/")


def licence_for(copyright_text: str, member: str) -> dict:
    """Copyright and licence of ``member`` from a machine-readable Debian ``copyright`` file: the last
    ``Files:`` stanza with a matching pattern wins."""
    hit = None
    for stanza in _stanzas(copyright_text):
        for pattern in stanza["Files"].split():
            if _matches(member, pattern):
                hit = (stanza, pattern)
    if hit is None:
        return {"copyright": "", "license": "", "license_from": "no matching Files: stanza"}
    stanza, pattern = hit
    return {"copyright": " ".join(stanza.get("Copyright", "").split()),
            "license": stanza.get("License", "").splitlines()[0].strip(),
            "license_from": f"debian/copyright, Files: {pattern}"}


def plasma_metadata(metadata: bytes) -> dict:
    """Authors and licence a Plasma wallpaper's ``metadata.json`` declares."""
    plugin = json.loads(metadata).get("KPlugin", {})
    return {"author": ", ".join(a.get("Name", "") for a in plugin.get("Authors", [])), "license": plugin.get("License", "")}


def fetch_debs(packages, debs_dir) -> dict:
    """``apt-get download`` each package into ``debs_dir`` unless a ``.deb`` of it is there already.
    Returns package -> path."""
    debs_dir = Path(debs_dir)
    debs_dir.mkdir(parents=True, exist_ok=True)
    out = {}
    for package in packages:
        have = sorted(debs_dir.glob(f"{package}_*.deb"))
        if not have:
            if shutil.which("apt-get") is None:
                raise CorpusError(f"apt-get not found: download {package}'s .deb into {debs_dir} by hand")
            with tempfile.TemporaryDirectory(dir=debs_dir) as tmp:  # an interrupted download leaves no .deb behind
                done = subprocess.run(["apt-get", "download", package], cwd=tmp, capture_output=True, text=True)
                got = sorted(Path(tmp).glob(f"{package}_*.deb"))
                if done.returncode or not got:
                    raise CorpusError(f"apt-get download {package} failed: "
                                      f"{(done.stderr.strip() or 'no .deb').splitlines()[-1]}")
                have = [move_into(got[-1], debs_dir)]
        out[package] = have[-1]
    return out


def build_corpus(debs: dict, out_dir, photo_list=PHOTO_LIST) -> list[dict]:
    """Extract every listed file from ``debs`` (package -> ``.deb``) into ``out_dir/images`` and
    write ``out_dir/manifest.csv``. Returns the manifest rows. Files are written only if new or
    different (a second run changes nothing)."""
    from PIL import Image

    out_dir = Path(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    rows = read_photo_list(photo_list)
    manifest = []
    for package in sorted({r["package"] for r in rows}):
        if package not in debs:
            raise CorpusError(f"no .deb for {package}")
        members = ar_members(debs[package])  # read once: the Plasma wallpapers' .deb is 94 MB
        _, version = package_version(members)
        mine = [r for r in rows if r["package"] == package]
        extra = {f"usr/share/doc/{package}/copyright"}
        extra |= {posixpath.join(r["member"].split("/contents/")[0], "metadata.json") for r in mine if "/contents/" in r["member"]}
        files = read_from_deb(members, [r["member"] for r in mine] + sorted(extra), Path(debs[package]).name)
        copyright_text = files[f"usr/share/doc/{package}/copyright"].decode()
        for r in mine:
            data = files[r["member"]]
            info = licence_for(copyright_text, r["member"])
            info["author"] = ""
            if "/contents/" in r["member"]:
                meta = plasma_metadata(files[posixpath.join(r["member"].split("/contents/")[0], "metadata.json")])
                info["author"] = meta["author"]
                if meta["license"]:
                    info["license"] = f"{meta['license']} (metadata.json; package: {info['license']})"
            name = f"{r['source']}{Path(r['member']).suffix.lower()}"
            target = out_dir / "images" / name
            if not target.is_file() or target.read_bytes() != data:
                write_atomic(target, data)
            with Image.open(io.BytesIO(data)) as im:
                width, height = im.size
            manifest.append({"source": r["source"], "file": f"images/{name}", "group": r["group"], "kind": r["kind"],
                             "package": package, "version": version, "member": r["member"], "width": width,
                             "height": height, "sha256": hashlib.sha256(data).hexdigest(), **info})
    manifest.sort(key=lambda m: m["source"])
    write_atomic(out_dir / "manifest.csv", csv_bytes(manifest, MANIFEST_FIELDS))
    return manifest


SPLIT_SALT = "inn-stego corpus split"


def is_held_out(group: str) -> bool:
    """Whether a source group is on the held-out side of the corpus's one train/test split: about
    half the groups, chosen by a hash of the group's name (not by looking at the photos), so every
    member of a group lands on the same side and the split never changes."""
    return hashlib.sha256((SPLIT_SALT + group).encode()).digest()[0] % 2 == 0


def split_corpus(rows) -> tuple[list[dict], list[dict]]:
    """Manifest (or photo list) rows -> ``(train, held_out)`` by :func:`is_held_out` of their group."""
    rows = list(rows)
    return [r for r in rows if not is_held_out(r["group"])], [r for r in rows if is_held_out(r["group"])]


def read_manifest(folder=None) -> list[dict]:
    """The rows of ``<folder>/manifest.csv`` (default: the cache's corpus); a clear error if the
    corpus has not been built."""
    folder = Path(folder) if folder is not None else corpus_dir()
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        raise CorpusError(f"no corpus manifest at {manifest}: run  python -m helpers.data.corpus  first")
    with open(manifest, newline="") as f:
        return list(csv.DictReader(f))


def scaled_down(image, short_side: int):
    """``image`` (PIL) scaled (LANCZOS) so that its short side is ``short_side``; never enlarged. A
    128 x 128 crop of a 2560 x 1600 wallpaper scaled to 512 holds a piece of a scene, not a few flat
    pixels."""
    from PIL import Image

    scale = short_side / min(image.size)
    if scale >= 1:
        return image
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)


def training_images(folder=None, short_sides=(256, 512)) -> list[Path]:
    """PNG files for training made from the corpus's *training* sources only (:func:`split_corpus`):
    each photo scaled to every short side in ``short_sides`` (not enlarged), written once to
    ``<folder>/train/``. Random crops of them give patches at several scales."""
    from PIL import Image

    folder = Path(folder) if folder is not None else corpus_dir()
    train, _ = split_corpus(read_manifest(folder))
    out_dir = folder / "train"
    out_dir.mkdir(exist_ok=True)
    out = []
    for r in train:
        with Image.open(folder / r["file"]) as im:
            im = im.convert("RGB")
            for side in sorted({min(s, min(im.size)) for s in short_sides}):
                target = out_dir / f"{r['source']}-{side}.png"
                if not target.is_file():
                    write_atomic(target, lambda f: scaled_down(im, side).save(f, format="PNG"))
                out.append(target)
    return out


def corpus_dir() -> Path:
    """``<cache>/corpus`` (see :func:`helpers.settings.cache_dir`)."""
    from helpers.settings import cache_dir

    return cache_dir() / "corpus"


def main() -> int:
    packages = sorted({r["package"] for r in read_photo_list()})
    out = corpus_dir()
    debs = fetch_debs(packages, out / "debs")
    manifest = build_corpus(debs, out)
    print(f"{len(manifest)} images from {len(packages)} packages in {out / 'images'}; manifest {out / 'manifest.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
