"""The corpus builder on a small local .deb made here (no network, no apt): what it reads, what it
records about each file's licence, and its errors."""

import csv
import hashlib
import io
import json
import os
import tarfile

import pytest
from PIL import Image

from helpers.data.corpus import (CorpusError, ar_members, build_corpus, fetch_debs, is_held_out, licence_for, read_manifest,
                            read_photo_list, split_corpus, training_images)

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: fixture

Files: *
Copyright: 2020 Everyone
License: GPL-2+

Files: photos/special_*
Copyright: 2021, A. Photographer
License: CC-BY-SA-4.0
 Long licence text that is not part of the licence's name.

Files: debian/*
Copyright: 2022 The Packager
License: GPL-2+
"""


def _tar(files: dict, compression: str = "xz", links: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=f"w:{compression}") as t:
        for name, data in files.items():
            info = tarfile.TarInfo("./" + name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo("./" + name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            t.addfile(info)
    return buf.getvalue()


def _ar(members: dict) -> bytes:
    out = b"!<arch>\n"
    for name, data in members.items():
        out += f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n".encode() + data
        out += b"\n" if len(data) % 2 else b""
    return out


def _png(colour, size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def fixture_deb(tmp_path):
    photo, wall = _png((200, 10, 10)), _png((10, 200, 10), (64, 48))
    meta = json.dumps({"KPlugin": {"Authors": [{"Name": "Jo Doe"}], "License": "CC-BY-4.0"}}).encode()
    data = _tar({"usr/share/photos/special_one.png": photo, "usr/share/photos/other.png": _png((0, 0, 255)),
                 "usr/share/wallpapers/W/metadata.json": meta, "usr/share/wallpapers/W/contents/images/64x48.png": wall,
                 "usr/share/doc/fixture-photos/copyright": COPYRIGHT.encode()},
                links={"usr/share/wallpapers/W/contents/images/big.png": "64x48.png"})
    control = _tar({"control": b"Package: fixture-photos\nVersion: 1.2-3\nArchitecture: all\n"}, "gz")
    debs = tmp_path / "debs"
    debs.mkdir()
    (debs / "fixture-photos_1.2-3_all.deb").write_bytes(_ar({"debian-binary": b"2.0\n", "control.tar.gz": control,
                                                           "data.tar.xz": data}))
    listing = tmp_path / "photos.csv"
    listing.write_text("# a comment line\nsource,package,member,kind,group,note\n"
                       "one,fixture-photos,usr/share/photos/special_one.png,photograph,g1,red\n"
                       "wall,fixture-photos,usr/share/wallpapers/W/contents/images/big.png,photograph,g8,a link\n")
    return tmp_path, debs, listing, {"one": photo, "wall": wall}


def test_builds_the_corpus_with_checksums_and_licences(fixture_deb):
    tmp_path, debs, listing, originals = fixture_deb
    found = fetch_debs(["fixture-photos"], debs)  # already there: apt-get is not called
    assert found["fixture-photos"].name == "fixture-photos_1.2-3_all.deb"
    manifest = build_corpus(found, tmp_path / "corpus", listing)
    rows = {r["source"]: r for r in manifest}
    assert set(rows) == {"one", "wall"}
    for source, data in originals.items():
        path = tmp_path / "corpus" / rows[source]["file"]
        assert path.read_bytes() == data and rows[source]["sha256"] == hashlib.sha256(data).hexdigest()
    assert rows["one"]["license"] == "CC-BY-SA-4.0" and rows["one"]["copyright"] == "2021, A. Photographer"
    assert rows["one"]["license_from"] == "debian/copyright, Files: photos/special_*"
    assert rows["wall"]["author"] == "Jo Doe" and rows["wall"]["license"].startswith("CC-BY-4.0")
    assert (rows["wall"]["width"], rows["wall"]["height"], rows["one"]["version"]) == (64, 48, "1.2-3")
    with open(tmp_path / "corpus" / "manifest.csv") as f:
        assert [r["sha256"] for r in csv.DictReader(f)] == [m["sha256"] for m in manifest]
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "corpus" / "images").iterdir()}
    assert build_corpus(found, tmp_path / "corpus", listing) == manifest  # again: nothing changes
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "corpus" / "images").iterdir()} == before


def test_the_last_matching_stanza_gives_the_licence():
    assert licence_for(COPYRIGHT, "usr/share/photos/special_one.jpg")["license"] == "CC-BY-SA-4.0"  # first line only
    assert licence_for(COPYRIGHT, "usr/share/photos/other.jpg")["license"] == "GPL-2+"
    assert licence_for(COPYRIGHT, "usr/share/debian-like/x.jpg")["copyright"] == "2020 Everyone"  # not debian/*


def test_clear_errors(fixture_deb, tmp_path):
    _, debs, listing, _ = fixture_deb
    bad = tmp_path / "bad.csv"
    bad.write_text(listing.read_text() + "gone,fixture-photos,usr/share/photos/missing.png,photograph,g3,x\n")
    with pytest.raises(CorpusError, match="has no usr/share/photos/missing.png"):
        build_corpus({"fixture-photos": next(debs.iterdir())}, tmp_path / "c2", bad)
    with pytest.raises(CorpusError, match="no .deb for fixture-photos"):
        build_corpus({}, tmp_path / "c3", listing)
    not_deb = tmp_path / "x.deb"
    not_deb.write_bytes(b"PK\x03\x04")
    with pytest.raises(CorpusError, match="not a .deb"):
        ar_members(not_deb)


def test_the_committed_list():
    rows = read_photo_list()
    assert len(rows) >= 20 and len({r["source"] for r in rows}) == len(rows)
    assert {r["kind"] for r in rows} <= {"photograph", "texture"}
    assert not any(r["package"] in ("ukui-wallpapers",) for r in rows)  # looked at: renders only


def test_the_split_keeps_groups_together_and_trains_only_on_its_training_half(fixture_deb, tmp_path):
    rows = read_photo_list()
    train, held = split_corpus(rows)
    assert {r["group"] for r in train}.isdisjoint({r["group"] for r in held})  # no group on both sides
    assert len(train) + len(held) == len(rows) and 0.3 < len(held) / len(rows) < 0.7
    grass = [r for r in rows if r["group"] == "etr-grass"]
    assert len(grass) == 3 and len({is_held_out(r["group"]) for r in grass}) == 1
    # training copies come from the training side only, at each short side, never enlarged
    _, debs, listing, _ = fixture_deb
    manifest = build_corpus(fetch_debs(["fixture-photos"], debs), tmp_path / "corpus", listing)
    sides = {m["group"]: is_held_out(m["group"]) for m in manifest}
    assert sorted(sides.values()) == [False, True]  # the fixture has one photo on each side
    files = training_images(tmp_path / "corpus", short_sides=(20, 512))
    trained = {f.name.rsplit("-", 1)[0] for f in files}
    assert trained == {m["source"] for m in manifest if not sides[m["group"]]}
    for f in files:
        with Image.open(f) as im:
            assert min(im.size) in (20, 30)  # the fixture's photos are 40 x 30: 512 means "as it is"
    with pytest.raises(CorpusError, match="python -m helpers.data.corpus"):
        read_manifest(tmp_path / "nothing")


def test_a_failed_download_leaves_no_deb_behind(tmp_path, monkeypatch):
    """``apt-get download`` runs in a temporary folder: a finished .deb is moved into place whole, a
    download that fails half-way leaves nothing that a later run would take for the package."""
    bin_dir, debs = tmp_path / "bin", tmp_path / "debs"
    bin_dir.mkdir()
    fake = bin_dir / "apt-get"
    fake.write_text('#!/bin/sh\nprintf "half a deb" > "$2_1.0_all.deb"\n'
                    '[ "$2" = "good" ] && exit 0\necho "E: connection lost" >&2\nexit 100\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    with pytest.raises(CorpusError, match="apt-get download bad failed: E: connection lost"):
        fetch_debs(["bad"], debs)
    assert list(debs.iterdir()) == []
    assert fetch_debs(["good"], debs) == {"good": debs / "good_1.0_all.deb"}
    assert [p.name for p in debs.iterdir()] == ["good_1.0_all.deb"]
