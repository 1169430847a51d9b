"""The vendored front-end assets: the committed files match the manifest, and a fetch trusts only the pinned integrity.

The fetch runs against a fake ``npm`` (a script that "packs" a tarball made here), so no test reaches a registry.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import stat
import sys
import tarfile
from pathlib import Path

import pytest

from hub.web import vendor
from hub.web.vendor import VendorError, check, fetch, load_manifest, main

STATIC = Path(vendor.__file__).parent / "static"


def test_the_committed_assets_match_the_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    assert check() == []
    assert main([]) == 0
    assert "files match" in capsys.readouterr().out


def test_the_manifest_pins_the_chosen_versions_with_their_licences() -> None:
    packages = {p.name: p for p in load_manifest().packages}
    assert packages["bpmn-js"].version == "18.31.1"
    assert packages["@bpmn-io/form-js"].version == "1.23.0"
    for package in packages.values():
        assert package.integrity.startswith("sha512-")
        assert "LICENSE" in {f.path for f in package.files}
        assert all(len(f.sha256) == 64 for f in package.files)


def test_the_bpmn_io_watermark_is_never_hidden() -> None:
    # The bpmn.io licence: the watermark rendered with each diagram must stay fully visible.
    for sheet in ("diagram.css", "console.css"):
        path = STATIC / sheet
        if path.exists():
            rules = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)  # comments may name it
            assert "bjs-powered-by" not in rules, sheet


def test_a_changed_vendored_file_fails_the_check_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "vendor"
    shutil.copytree(vendor.VENDOR, copy)
    target = copy / "bpmn-js" / "bpmn-navigated-viewer.production.min.js"
    target.write_bytes(target.read_bytes() + b"\n/* injected */")
    (copy / "form-js" / "LICENSE").unlink()

    problems = check(copy)

    assert len(problems) == 2
    assert "bpmn-navigated-viewer.production.min.js" in problems[0] and "was changed" in problems[0]
    assert "LICENSE: missing" in problems[1] and "make vendor" in problems[1]
    assert main(["--check", "--vendor", str(copy)]) == 1
    assert "was changed" in capsys.readouterr().err


# --- fetching, against a fake npm -------------------------------------------------------------------------------

FILES = {"package/LICENSE": b"the licence\n", "package/dist/viewer.js": b"window.Viewer = 1;\n"}


def _tarball(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _fake_npm(tmp_path: Path, tarball: bytes) -> Path:
    """An ``npm`` whose ``pack`` drops ``tarball`` into --pack-destination and prints what npm prints."""
    source = tmp_path / "served.tgz"
    source.write_bytes(tarball)
    script = tmp_path / "npm"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, shutil, sys\n"
        "args = sys.argv[1:]\n"
        "assert args[0] == 'pack' and args[1] == 'fake-pkg@1.0.0', args\n"
        "dest = args[args.index('--pack-destination') + 1]\n"
        f"shutil.copy({str(source)!r}, dest + '/fake-pkg-1.0.0.tgz')\n"
        "print(json.dumps([{'filename': 'fake-pkg-1.0.0.tgz'}]))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _vendor_dir(tmp_path: Path, integrity: str, sha256: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "vendor"
    folder.mkdir()
    files = [
        {"source": "package/LICENSE", "path": "LICENSE"},
        {"source": "package/dist/viewer.js", "path": "js/viewer.js"},
    ]
    for f in files:
        f["sha256"] = (sha256 or {}).get(f["source"]) or hashlib.sha256(FILES[f["source"]]).hexdigest()
    manifest = {
        "format": 1,
        "packages": [
            {
                "name": "fake-pkg",
                "version": "1.0.0",
                "integrity": integrity,
                "directory": "fake",
                "license": "MIT",
                "files": files,
            }
        ],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_a_tarball_whose_integrity_differs_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    not_even_a_tarball = b"this is not gzip: opening it would fail differently"
    npm = _fake_npm(tmp_path, not_even_a_tarball)
    folder = _vendor_dir(tmp_path, _integrity(_tarball(FILES)))

    with pytest.raises(
        VendorError, match=r"fake-pkg@1\.0\.0: the tarball's integrity sha512-.* differs from the pinned"
    ):
        fetch(folder, npm=str(npm))

    assert not (folder / "fake").exists()


def test_a_tarball_matching_its_integrity_is_written_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tarball = _tarball({**FILES, "package/../../escape.js": b"never written", "package/README.md": b"not listed"})
    npm = _fake_npm(tmp_path, tarball)
    folder = _vendor_dir(tmp_path, _integrity(tarball))

    assert main(["--fetch", "--npm", str(npm), "--vendor", str(folder)]) == 0

    assert (folder / "fake" / "LICENSE").read_bytes() == FILES["package/LICENSE"]
    assert (folder / "fake" / "js" / "viewer.js").read_bytes() == FILES["package/dist/viewer.js"]
    assert sorted(p.name for p in (folder / "fake").rglob("*") if p.is_file()) == ["LICENSE", "viewer.js"]
    assert not (tmp_path / "escape.js").exists()
    assert "fake-pkg@1.0.0: sha512-" in capsys.readouterr().out


def test_a_file_differing_from_its_pinned_hash_is_refused_unless_updating(tmp_path: Path) -> None:
    tarball = _tarball(FILES)
    npm = _fake_npm(tmp_path, tarball)
    folder = _vendor_dir(tmp_path, _integrity(tarball), sha256={"package/dist/viewer.js": "0" * 64})

    with pytest.raises(VendorError, match=r"package/dist/viewer\.js has sha256 .* the manifest pins 0000"):
        fetch(folder, npm=str(npm))
    assert not (folder / "fake").exists()

    fetch(folder, npm=str(npm), update=True)
    assert check(folder) == []
    pinned = {f.source: f.sha256 for f in load_manifest(folder / "manifest.json").packages[0].files}
    assert pinned["package/dist/viewer.js"] == hashlib.sha256(FILES["package/dist/viewer.js"]).hexdigest()


def test_a_missing_npm_says_what_to_install(tmp_path: Path) -> None:
    folder = _vendor_dir(tmp_path, _integrity(b""))
    with pytest.raises(VendorError, match=r"install Node\.js"):
        fetch(folder, npm=str(tmp_path / "no-npm-here"))


def test_a_manifest_path_leaving_the_vendor_folder_is_refused(tmp_path: Path) -> None:
    folder = _vendor_dir(tmp_path, _integrity(b""))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["packages"][0]["files"][0]["path"] = "../../outside.js"
    (folder / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(VendorError, match="must be a relative path inside the vendor folder"):
        load_manifest(folder / "manifest.json")
