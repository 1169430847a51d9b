"""The console's vendored front-end assets (bpmn-js, form-js): checked offline, fetched again from npm on demand.

``static/vendor/manifest.json`` pins each package by name, version and npm
integrity (``sha512-...``, the hash the registry publishes for the tarball)
and lists the few files the browser needs, each with its path in the tarball
and its sha256. The committed copies are what ``make run`` serves, so running
the console needs no Node.

``python -m hub.web.vendor --check`` (the default, offline) hashes the
committed files against the manifest. ``--fetch`` (``make vendor``) asks the
npm client (``npm pack``, so the registry is whatever npm is configured for)
for each tarball, checks the tarball's sha512 against the pinned integrity
*before* reading anything out of it, then rewrites the listed files; a file
whose hash differs from the manifest is refused. ``--fetch --update`` records
new file hashes instead, for a version bump (set ``version`` and ``integrity``
from ``npm view PKG@VER dist.integrity`` first).

Only the listed members are read from a tarball, by name, into memory: no
archive is extracted to disk, so a crafted path cannot escape the folder.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["MANIFEST", "VENDOR", "Manifest", "VendorError", "check", "fetch", "load_manifest", "main"]

VENDOR = Path(__file__).parent / "static" / "vendor"
MANIFEST = VENDOR / "manifest.json"


class VendorError(Exception):
    """A vendored file or tarball does not match its pin; the message says which and what to do."""


@dataclass(frozen=True, slots=True)
class VendoredFile:
    source: str  # member path inside the npm tarball (package/dist/...)
    path: str  # path under the package's folder in static/vendor
    sha256: str


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    version: str
    integrity: str
    directory: str
    license: str
    files: tuple[VendoredFile, ...]

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class Manifest:
    packages: tuple[Package, ...]


def _safe_relative(value: str, where: str) -> str:
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts or "\\" in value:
        raise VendorError(f"{where}: '{value}' must be a relative path inside the vendor folder")
    return value


def load_manifest(path: Path = MANIFEST) -> Manifest:
    raw = json.loads(path.read_text(encoding="utf-8"))
    packages = []
    for entry in raw["packages"]:
        where = f"{path.name}: package {entry.get('name')!r}"
        if not str(entry["integrity"]).startswith("sha512-"):
            raise VendorError(f"{where}: integrity must be an npm sha512 integrity (sha512-...)")
        files = tuple(
            VendoredFile(source=f["source"], path=_safe_relative(f["path"], where), sha256=f.get("sha256", ""))
            for f in entry["files"]
        )
        packages.append(
            Package(
                name=entry["name"],
                version=entry["version"],
                integrity=entry["integrity"],
                directory=_safe_relative(entry["directory"], where),
                license=entry.get("license", ""),
                files=files,
            )
        )
    return Manifest(tuple(packages))


def _dump_manifest(manifest: Manifest, path: Path) -> None:
    body = {
        "format": 1,
        "note": "written by python -m hub.web.vendor; pins npm tarballs by integrity and each shipped file by sha256",
        "packages": [
            {
                "name": p.name,
                "version": p.version,
                "integrity": p.integrity,
                "directory": p.directory,
                "license": p.license,
                "files": [{"source": f.source, "path": f.path, "sha256": f.sha256} for f in p.files],
            }
            for p in manifest.packages
        ],
    }
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


def check(vendor: Path = VENDOR, manifest: Manifest | None = None) -> list[str]:
    """Problems with the committed files (missing or changed), one line each; empty when all match."""
    pinned = manifest or load_manifest(vendor / "manifest.json")
    problems = []
    for package in pinned.packages:
        for file in package.files:
            target = vendor / package.directory / file.path
            if not target.is_file():
                problems.append(f"{target}: missing ({package.spec}, {file.source}); run `make vendor`")
                continue
            digest = hashlib.sha256(target.read_bytes()).hexdigest()
            if digest != file.sha256:
                problems.append(
                    f"{target}: sha256 {digest} differs from the manifest's {file.sha256} ({package.spec}); "
                    "the file was changed: run `make vendor` to restore it"
                )
    return problems


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def _pack(npm: str, spec: str, workdir: Path) -> bytes:
    """The tarball of ``spec`` as the npm client fetches it (``npm pack``, into ``workdir``)."""
    try:
        done = subprocess.run(
            [npm, "pack", spec, "--json", "--pack-destination", str(workdir)],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except FileNotFoundError:
        raise VendorError(f"`{npm}` was not found: install Node.js (npm) to fetch the vendored assets") from None
    if done.returncode != 0:
        raise VendorError(f"`npm pack {spec}` failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    try:
        filename = json.loads(done.stdout)[0]["filename"]
    except (ValueError, LookupError, TypeError):
        raise VendorError(f"`npm pack {spec} --json` printed no tarball name: {done.stdout[-500:]!r}") from None
    tarball = workdir / PurePosixPath(filename).name
    if not tarball.is_file():
        raise VendorError(f"`npm pack {spec}` named {filename!r}, which is not in {workdir}")
    return tarball.read_bytes()


def _members(package: Package, tarball: bytes) -> dict[str, bytes]:
    wanted = {f.source for f in package.files}
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member in archive.getmembers():
            if member.name in wanted and member.isfile():
                extracted = archive.extractfile(member)
                assert extracted is not None  # a regular file always has content
                found[member.name] = extracted.read()
    missing = sorted(wanted - found.keys())
    if missing:
        raise VendorError(f"{package.spec}: the tarball lacks {', '.join(missing)}; fix the manifest's file list")
    return found


def fetch(vendor: Path = VENDOR, *, npm: str = "npm", update: bool = False) -> Manifest:
    """Fetch every pinned tarball, verify it, and rewrite the vendored files (see the module docstring)."""
    manifest_path = vendor / "manifest.json"
    manifest = load_manifest(manifest_path)
    fetched: list[tuple[Package, dict[str, bytes]]] = []
    updated: list[Package] = []
    with tempfile.TemporaryDirectory(prefix="agenthub-vendor-") as tmp:
        for package in manifest.packages:
            workdir = Path(tmp) / package.directory
            workdir.mkdir(parents=True)
            tarball = _pack(npm, package.spec, workdir)
            actual = _integrity(tarball)
            if actual != package.integrity:  # before a single byte of the archive is read
                raise VendorError(
                    f"{package.spec}: the tarball's integrity {actual} differs from the pinned {package.integrity}; "
                    "refusing it (a changed or tampered package, or a wrong pin)"
                )
            members = _members(package, tarball)
            files = []
            for file in package.files:
                digest = hashlib.sha256(members[file.source]).hexdigest()
                if not update and digest != file.sha256:
                    raise VendorError(
                        f"{package.spec}: {file.source} has sha256 {digest}, the manifest pins {file.sha256}; "
                        "run with --update after a deliberate version change"
                    )
                files.append(VendoredFile(file.source, file.path, digest))
            fetched.append((package, members))
            updated.append(
                Package(
                    package.name, package.version, package.integrity, package.directory, package.license, tuple(files)
                )
            )
    # Everything verified: only now is anything under static/vendor written.
    for package, members in fetched:
        for file in package.files:
            target = vendor / package.directory / file.path
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            partial.write_bytes(members[file.source])
            os.replace(partial, target)
    manifest = Manifest(tuple(updated))
    if update:
        _dump_manifest(manifest, manifest_path)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hub.web.vendor", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="verify the committed files (default; offline)")
    mode.add_argument("--fetch", action="store_true", help="fetch the pinned tarballs with npm and rewrite the files")
    parser.add_argument("--update", action="store_true", help="with --fetch: record the files' new sha256 values")
    parser.add_argument("--npm", default="npm", help="the npm executable (default: npm on PATH)")
    parser.add_argument("--vendor", type=Path, default=VENDOR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.update and not args.fetch:
        parser.error("--update goes with --fetch")
    try:
        if args.fetch:
            manifest = fetch(args.vendor, npm=args.npm, update=args.update)
            for package in manifest.packages:
                print(f"{package.spec}: {package.integrity} verified, {len(package.files)} files written")
        problems = check(args.vendor)
    except VendorError as exc:
        print(f"vendor: {exc}", file=sys.stderr)
        return 1
    if problems:
        print("\n".join(f"vendor: {line}" for line in problems), file=sys.stderr)
        return 1
    print(f"vendor: {sum(len(p.files) for p in load_manifest(args.vendor / 'manifest.json').packages)} files match")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
