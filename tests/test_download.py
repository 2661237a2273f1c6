"""Downloads and the COCO subset against a local HTTP server (no internet): the real code path."""

import hashlib
import io
import json
import socket
import tarfile
import threading
import warnings
import zipfile
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from helpers.data.photos import ImageFolder, list_samples
from helpers.data.subsets import VOC2012, Source, choose_subset, fetch_from_manifest, prepare_subset
from helpers.data.download import DownloadError, download


class Handler(BaseHTTPRequestHandler):
    """Serves server.files; honours Range (unless server.ignore_range: then 200 and the whole file, as
    some servers do); drops the connection half-way through paths in server.cut_once."""

    def do_GET(self):
        self.server.requests.append((self.path, self.headers.get("Range")))
        data = self.server.files.get(self.path)
        if data is None:
            self.send_error(404, "Not Found")
            return
        ranged = self.headers.get("Range") and not self.server.ignore_range
        start = int(self.headers["Range"].split("=")[1].split("-")[0]) if ranged else 0
        body = data[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if self.path in self.server.cut_once:
            self.server.cut_once.discard(self.path)
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.files, httpd.cut_once, httpd.requests, httpd.ignore_range = {}, set(), [], False
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def md5(data):
    return hashlib.md5(data).hexdigest()


def test_interrupted_download_resumes_then_is_cached(server, tmp_path):
    data = bytes(range(256)) * 5000
    server.files["/big.bin"] = data
    server.cut_once.add("/big.bin")
    dest = tmp_path / "big.bin"
    with pytest.raises(DownloadError, match="stopped at 640,000 of 1,280,000 bytes; the bytes are kept in .*big.bin.part: run the same call again to resume"):
        download(server.url + "/big.bin", dest, size=len(data), md5=md5(data), progress=False)
    kept = (tmp_path / "big.bin.part").stat().st_size
    assert 0 < kept < len(data)
    download(server.url + "/big.bin", dest, size=len(data), md5=md5(data), progress=False)
    assert dest.read_bytes() == data and not (tmp_path / "big.bin.part").exists()
    assert server.requests[-1] == ("/big.bin", f"bytes={kept}-")  # resumed, not restarted
    n = len(server.requests)
    download(server.url + "/big.bin", dest, size=len(data), md5=md5(data), progress=False)
    assert len(server.requests) == n  # cached: no request at all


@pytest.mark.parametrize("size_known", [True, False])
def test_a_server_that_ignores_range_still_gives_the_right_file(server, tmp_path, size_known):
    """Asked to resume, the server answers 200 with the whole file: the kept bytes must be dropped,
    not prepended to a second copy."""
    data = bytes(range(251)) * 4000
    server.files["/r.bin"] = data
    server.cut_once.add("/r.bin")
    server.ignore_range = True
    kw = dict(size=len(data), md5=md5(data)) if size_known else dict(sha256=hashlib.sha256(data).hexdigest())
    with pytest.raises(DownloadError, match="kept in"):
        download(server.url + "/r.bin", tmp_path / "r.bin", progress=False, **kw)
    kept = (tmp_path / "r.bin.part").stat().st_size
    assert 0 < kept < len(data)
    assert download(server.url + "/r.bin", tmp_path / "r.bin", progress=False, **kw).read_bytes() == data
    assert server.requests[-1] == ("/r.bin", f"bytes={kept}-")  # it did ask to resume
    assert not (tmp_path / "r.bin.part").exists()


def test_cut_without_known_size_is_caught_by_content_length(server, tmp_path):
    server.files["/s.bin"] = b"x" * 100_000
    server.cut_once.add("/s.bin")
    with pytest.raises(DownloadError, match="stopped at 50,000 of 100,000 bytes"):
        download(server.url + "/s.bin", tmp_path / "s.bin", progress=False)
    assert download(server.url + "/s.bin", tmp_path / "s.bin", progress=False).read_bytes() == b"x" * 100_000


def test_damaged_cached_copy_is_set_aside_and_fetched_again(server, tmp_path):
    data = b"the right content" * 100
    server.files["/c.bin"] = data
    dest = tmp_path / "c.bin"
    dest.write_bytes(b"x" * len(data))  # same size, wrong bytes (e.g. a bad hand download)
    with pytest.warns(UserWarning, match="did not match its checksum"):
        download(server.url + "/c.bin", dest, md5=md5(data), progress=False)
    assert dest.read_bytes() == data
    assert (tmp_path / "c.bin.bad").read_bytes() == b"x" * len(data)  # nothing the user had is lost


def test_checksum_mismatch_deletes_and_explains(server, tmp_path):
    server.files["/f.bin"] = b"corrupted content"
    with pytest.raises(DownloadError, match="checksum mismatch .* download it by hand"):
        download(server.url + "/f.bin", tmp_path / "f.bin", md5=md5(b"expected content"), progress=False)
    assert list(tmp_path.iterdir()) == []


def test_network_and_http_errors_are_clear(server, tmp_path):
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="could not download .*Check the network connection"):
        download(f"http://127.0.0.1:{port}/x.zip", tmp_path / "x.zip", progress=False, timeout=5)
    with pytest.raises(DownloadError, match="answered 404"):
        download(server.url + "/missing.zip", tmp_path / "m.zip", progress=False)


@pytest.fixture
def coco_like(server):
    """A val2017.zip in COCO's layout made from bundled photos, plus per-image files."""
    buf = io.BytesIO()
    images = {}
    with zipfile.ZipFile(buf, "w") as z:
        for k, path in enumerate(list_samples()[:12]):
            jpg = io.BytesIO()
            Image.open(path).save(jpg, "JPEG", quality=90)
            name = f"{k * 37 + 139:012d}.jpg"
            images[name] = jpg.getvalue()
            z.writestr(f"val2017/{name}", images[name])
        z.writestr("val2017/README.txt", "not an image")
        z.writestr("annotations/x.jpg", b"outside the prefix")
    data = buf.getvalue()
    server.files["/zips/val2017.zip"] = data
    for name, content in images.items():
        server.files[f"/val2017/{name}"] = content
    source = Source("coco-test", server.url + "/zips/val2017.zip", len(data), md5(data), "val2017/",
                    server.url + "/val2017/{name}")
    return source, images


def test_prepare_subset_end_to_end(server, coco_like, tmp_path):
    source, images = coco_like
    server.cut_once.add("/zips/val2017.zip")
    kwargs = dict(cache_dir=tmp_path / "cache", n_train=6, n_eval=3, seed=7,
                  manifest_path=tmp_path / "manifest.json", progress=False)
    with pytest.raises(DownloadError):  # the transfer is cut half-way
        prepare_subset(source, **kwargs)
    manifest = prepare_subset(source, **kwargs)  # resumes and completes
    train = [e["file"] for e in manifest["train"]]
    evaluation = [e["file"] for e in manifest["eval"]]
    assert len(train) == 6 and len(evaluation) == 3 and not set(train) & set(evaluation)
    assert (train, evaluation) == choose_subset(images, 6, 3, seed=7)
    assert manifest["n_listed"] == 12  # README.txt and files outside val2017/ are not images of the list
    for e in manifest["train"]:
        assert hashlib.sha256((tmp_path / "cache" / "coco-test" / "train" / e["file"]).read_bytes()).hexdigest() == e["sha256"]
    assert json.loads((tmp_path / "manifest.json").read_text())["train"] == manifest["train"]
    assert len(ImageFolder(manifest["paths"]["train"], size=128)) == 6
    n = len(server.requests)
    assert prepare_subset(source, **kwargs)["train"] == manifest["train"]  # cached, and the manifest agrees
    assert len(server.requests) == n
    with pytest.raises(ValueError, match="differs from the manifest"):
        prepare_subset(source, **{**kwargs, "seed": 8})


def test_fetch_from_manifest_checks_every_image(server, coco_like, tmp_path):
    source, images = coco_like
    manifest = prepare_subset(source, cache_dir=tmp_path / "cache", n_train=5, n_eval=2, seed=1,
                              manifest_path=tmp_path / "m.json", progress=False)
    bad = manifest["train"][0]["file"]
    server.files[f"/val2017/{bad}"] = b"corrupted"
    with pytest.warns(UserWarning, match="1 of 5 images could not be fetched or failed their checksum"):
        ok = fetch_from_manifest(tmp_path / "m.json", tmp_path / "one_by_one", source.image_url, progress=False)
    assert ok == 4 and not (tmp_path / "one_by_one" / bad).exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        server.files[f"/val2017/{bad}"] = images[bad]
        assert fetch_from_manifest(tmp_path / "m.json", tmp_path / "one_by_one", source.image_url, progress=False) == 5


def test_choose_subset_is_seeded_and_disjoint():
    names = [f"{k:012d}.jpg" for k in range(100)]
    a = choose_subset(reversed(names), 30, 20, seed=3)
    assert a == choose_subset(names, 30, 20, seed=3)  # the list is sorted first: order does not matter
    assert a != choose_subset(names, 30, 20, seed=4)
    assert not set(a[0]) & set(a[1])
    with pytest.raises(ValueError, match="only 100"):
        choose_subset(names, 90, 20)


def test_voc_subset_is_the_same_for_notebooks_04_and_07(server, tmp_path):
    """VOC is evaluation only (the paper never trains on it): its subset is 0 training images and
    n_eval evaluation images, asked for the same way by notebook 04 and notebook 07. Notebook 07 used
    to ask for 1000 training images too, which differs from notebook 04's manifest and raised."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for k, path in enumerate(list_samples()[:8]):
            jpg = io.BytesIO()
            Image.open(path).save(jpg, "JPEG", quality=90)
            info = tarfile.TarInfo(f"{VOC2012.prefix}2008_{k:06d}.jpg")
            info.size = len(jpg.getvalue())
            t.addfile(info, io.BytesIO(jpg.getvalue()))
    data = buf.getvalue()
    server.files["/voc.tar"] = data
    voc_like = replace(VOC2012, url=server.url + "/voc.tar", size=len(data), md5=md5(data), n_eval=5)
    kwargs = dict(cache_dir=tmp_path / "cache", manifest_path=tmp_path / "voc.json", progress=False)
    first = prepare_subset(voc_like, **kwargs)    # notebook 04
    second = prepare_subset(voc_like, **kwargs)   # notebook 07: the same call, checked against the manifest
    assert first["train"] == second["train"] == [] and len(second["eval"]) == 5 and first["eval"] == second["eval"]
    with pytest.raises(ValueError, match="differs from the manifest"):  # what notebook 07 used to ask for
        prepare_subset(voc_like, n_train=1, **kwargs)
    # and the notebooks ask for each source's own subset: no size of their own for a real source
    for nb in ("07_comparison.ipynb", "08_steganalysis.ipynb"):
        cells = json.loads((Path(__file__).resolve().parent.parent / "notebooks" / nb).read_text())["cells"]
        calls = [line for c in cells for line in "".join(c["source"]).splitlines() if "prepare_subset(" in line
                 and not line.lstrip().startswith(("from", "#", "`"))]
        assert calls and all("n_train" not in line and "n_eval" not in line for line in calls), calls


# --- notebook 05's DATA setting: the COCO subset fetched by notebook 05 itself --------------------------

@pytest.fixture
def coco_is(coco_like, monkeypatch, tmp_path):
    """helpers.data.subsets.COCO_VAL2017 pointed at the local server's COCO-shaped zip (6 + 3 images),
    with its manifest in a temporary folder."""
    import helpers.data.subsets as subsets

    source = replace(coco_like[0], name="coco-val2017", n_train=6, n_eval=3)
    monkeypatch.setattr(subsets, "COCO_VAL2017", source)
    monkeypatch.setattr(subsets, "MANIFEST_DIR", tmp_path / "manifests")
    return source


def test_data_coco_in_full_mode_fetches_the_subset_itself_and_says_so(server, coco_is, tmp_path):
    from helpers.data.subsets import training_data

    data = training_data("coco", fast=False, cache=tmp_path / "cache", progress=False)
    assert len(list(data.train.iterdir())) == 6 and len(ImageFolder(data.eval_dir, size=128, files=data.eval_files)) == 3
    assert data.banner.startswith("training data: 6 images of COCO-2017 (coco-val2017, seed 2022")
    assert coco_is.url in data.banner and "3 more held out" in data.banner and data.label == "held-out COCO images"
    assert [p for p, _ in server.requests] == ["/zips/val2017.zip"]  # downloaded once ...
    assert training_data("coco", cache=tmp_path / "cache", progress=False).train == data.train
    assert len(server.requests) == 1  # ... and cached


def test_data_coco_that_cannot_be_fetched_stops_with_one_line_and_never_falls_back(server, coco_is, tmp_path):
    from helpers.data.subsets import training_data

    server.files.clear()  # the server answers 404: like a runtime without internet
    with pytest.raises(DownloadError) as err:
        training_data("coco", fast=False, cache=tmp_path / "cache", progress=False)
    message = str(err.value)
    assert "\n" not in message and message.startswith("the COCO-2017 subset could not be fetched: ")
    assert "DATA = 'bundled'" in message and "404 Not Found" in message
    assert not (tmp_path / "cache" / "bundled-train").exists()
    with pytest.raises(ValueError, match="DATA must be one of 'coco', 'bundled', not 'imagenet': set it in the settings cell"):
        training_data("imagenet")


def test_data_in_fast_mode_and_bundled_hold_the_evaluation_sources_out(tmp_path):
    from helpers.data.photos import SHIPPED_HELD_OUT, split_by_source
    from helpers.data.subsets import training_data

    held = {f.name for f in split_by_source(list_samples(), SHIPPED_HELD_OUT)[1]}
    fast = training_data("coco", fast=True, cache=tmp_path, progress=False)  # the stand-in, through prepare_subset
    assert fast.banner.startswith("training data (fast mode): ") and "stand-in for COCO" in fast.banner
    n_train_photos = len(split_by_source(list_samples(size=None), SHIPPED_HELD_OUT)[0])
    assert len(list(fast.train.iterdir())) == n_train_photos and set(fast.eval_files) == held
    bundled = training_data("bundled", cache=tmp_path)
    assert "the bundled photos" in bundled.banner and "COCO" not in bundled.banner.split(";")[0]
    sources = {p.resolve().name.split("_")[0] for p in bundled.train.iterdir()}
    assert not sources & set(SHIPPED_HELD_OUT) and set(bundled.eval_files) == held
