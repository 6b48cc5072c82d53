"""The files an evidence sheet names, in a folder or a .zip: found by their path inside it (a zip
made of a folder may hold that folder: its name may be left out), never outside it, photos or scans
a browser shows, whole and not larger than a phone's photo or a scanned form need be (checked as every
evidence file is: engine.adapters.evidence_store.check_scan).

A zip's members are copied out one by one into a private temporary folder, counting the bytes as
they come (a member's declared size is not trusted), and only those a row names."""
from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from engine.domain.errors import BadInput, JingzhunError, Msg
from engine.domain.scans import SCAN_HEAD, refuse_non_scan, refuse_too_big

MEMBERS_MAX = 100_000                # members of one zip
TOTAL_MAX = 4 * 1024 ** 3            # bytes copied out of one zip


class SheetFiles:
    """`find(name)`: the file a row names, or the reason it cannot be used. Use as a context manager."""

    def __init__(self, where: str | None):
        self.folder = Path(where).resolve() if where and Path(where).is_dir() else None
        self.zip = _open_zip(where) if where and self.folder is None else None
        self.members = _members(self.zip) if self.zip else {}
        self.tmp: Path | None = None
        self.taken: dict[str, Path] = {}
        self.copied = 0                      # bytes copied out of the zip so far
        self.used: dict[str, Path] = {}      # the files rows named and found, by their path inside
        self.listed: list[str] | None = None     # the folder's files, read when one named is missing

    def __enter__(self) -> "SheetFiles":
        return self

    def __exit__(self, *_exc) -> None:
        if self.zip is not None:
            self.zip.close()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def find(self, name: str) -> Path:
        """The file `name` (a path inside the folder or zip), or a BadInput saying why not."""
        relative = _relative(name)
        found = self._member(name, relative) if self.zip is not None else self._in_folder(name, relative)
        self.used[relative] = found
        return found

    def digest(self) -> str | None:
        """The SHA-256 of the files the rows named, by their path and content (None: no file was named):
        what an import attaches from the folder or zip, whatever else it holds."""
        if not self.used:
            return None
        from engine.adapters.evidence_store import sha256_file
        lines = sorted(f"{name}\t{sha256_file(path)}" for name, path in self.used.items())
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    def _in_folder(self, name: str, relative: str) -> Path:
        if self.folder is None:
            raise BadInput("sheets.no_files", file=name)
        path = (self.folder / relative).resolve()
        if not path.is_relative_to(self.folder):      # the path climbs no "..": a link led it out
            raise BadInput("sheets.link_outside", file=name)
        if not path.exists():
            path = _any_case(path)       # typed on Windows, where C1.JPG and c1.jpg are one file
        if not path.is_file():
            raise self._missing(name, relative)
        from engine.adapters.evidence_store import check_scan
        check_scan(path, name)
        return path

    def _member(self, name: str, relative: str) -> Path:
        info = self.members.get(relative)
        if info is None:                 # typed on Windows, where case does not tell names apart
            alike = [i for n, i in self.members.items() if n.lower() == relative.lower()]
            info = alike[0] if len({id(i) for i in alike}) == 1 else None
        if info is None:
            raise self._missing(name, relative)
        if relative not in self.taken:
            refuse_too_big(name, info.file_size)
            refuse_non_scan(name, self._head(info, name))
            copied = self._copy(info, name)
            from engine.adapters.evidence_store import check_scan
            check_scan(copied, name)
            self.taken[relative] = copied
        return self.taken[relative]

    def _missing(self, name: str, relative: str) -> BadInput:
        """A named file the folder or zip lacks, with the names it holds that are most like it (a typo,
        another extension), or how many files it holds when none is: the clerk can tell what to fix."""
        names = self._names()
        near = near_names(relative, names)
        if near:
            return BadInput("sheets.no_file_near", file=name, near=[Msg("msg.sheets.near_name", {"name": n}) for n in near])
        return BadInput("sheets.no_file_count", file=name, count=len(names))

    def _names(self) -> list[str]:
        """The files the folder or zip holds, by their path inside it (a folder's read once, at most
        MEMBERS_MAX of them)."""
        if self.zip is not None:            # a member listed with its folder and without: by its full path
            full: dict[int, str] = {}
            for name, info in self.members.items():
                if len(name) > len(full.get(id(info), "")):
                    full[id(info)] = name
            return sorted(full.values())
        if self.listed is None:
            self.listed = []
            for path in self.folder.rglob("*"):
                if len(self.listed) >= MEMBERS_MAX:
                    break
                if path.is_file():
                    self.listed.append(path.relative_to(self.folder).as_posix())
        return self.listed

    def _head(self, info: zipfile.ZipInfo, name: str) -> bytes:
        """A member's first bytes, read before it is copied out (a file that is no scan never is)."""
        try:
            with self.zip.open(info) as source:
                return source.read(SCAN_HEAD)
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError):
            raise BadInput("sheets.member_unreadable", file=name) from None

    def _copy(self, info: zipfile.ZipInfo, name: str) -> Path:
        """The member copied out under a private folder, at most SCAN_MAX bytes whatever it declares."""
        if self.tmp is None:
            self.tmp = Path(tempfile.mkdtemp(prefix="jingzhun-sheet-"))
        target = self.tmp / str(len(self.taken)) / PurePosixPath(_relative(_name(info))).name
        target.parent.mkdir(mode=0o700)
        try:
            with self.zip.open(info) as source, open(target, "wb") as out:
                while chunk := source.read(1 << 20):
                    refuse_too_big(name, out.tell() + len(chunk))
                    self.copied += len(chunk)
                    if self.copied > TOTAL_MAX:
                        raise BadInput("sheets.zip_too_big", gb=TOTAL_MAX // (1024 ** 3))
                    out.write(chunk)
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError):
            raise BadInput("sheets.member_unreadable", file=name) from None
        return target


def _any_case(path: Path) -> Path:
    """The one file of `path`'s folder whose name differs from it in case alone, else `path`."""
    try:
        alike = [f for f in path.parent.iterdir() if f.name.lower() == path.name.lower()]
    except OSError:
        return path
    return alike[0] if len(alike) == 1 else path


def _open_zip(where: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(where)
    except (zipfile.BadZipFile, OSError):
        raise BadInput("sheets.bad_zip", file=where) from None


def _members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The zip's files by their safe path; those of a zip made of one folder also without it."""
    infos = archive.infolist()
    if len(infos) > MEMBERS_MAX:
        raise BadInput("sheets.zip_too_many", file=archive.filename, most=MEMBERS_MAX)
    found = {}
    for info in infos:
        try:
            found[_relative(_name(info))] = info
        except JingzhunError:
            continue                           # an absolute or climbing path: never used
    found = {name: info for name, info in found.items() if not info.is_dir()}
    if any(info.flag_bits & 0x1 for info in found.values()):     # its files could not be read: said once
        raise BadInput("sheets.zip_encrypted", file=archive.filename)
    tops = {name.split("/", 1)[0] for name in found}
    if len(tops) == 1 and all("/" in name for name in found):
        found.update({name.split("/", 1)[1]: info for name, info in list(found.items())})
    return found


def _name(info: zipfile.ZipInfo) -> str:
    """A member's name: a zip made on a Chinese Windows stores it in GBK without saying so, one made
    with Linux's or macOS's `zip` in UTF-8 without saying so either (strict UTF-8 is tried first:
    Chinese GBK bytes are almost never valid UTF-8, while UTF-8 bytes read as GBK become other words)."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


NEAR_SHOWN = 3      # the names most like a missing one, said with it


def near_names(wanted: str, names: list[str]) -> list[str]:
    """The names (paths inside the folder or zip) most like `wanted`: by their file name, then whole."""
    import difflib
    base = PurePosixPath(wanted).name
    by_base: dict[str, list[str]] = {}
    for name in names:
        by_base.setdefault(PurePosixPath(name).name, []).append(name)
    close = difflib.get_close_matches(base, list(by_base), n=NEAR_SHOWN, cutoff=0.5)
    return [path for b in close for path in sorted(by_base[b])][:NEAR_SHOWN]


def _relative(name: str) -> str:
    """A path inside the folder or zip as typed (\\ or /), refused when it could lead outside."""
    parts = [p for p in name.strip().replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts or name.strip().startswith(("/", "\\")) or ":" in parts[0]:
        raise BadInput("sheets.bad_file_name", file=name)
    return "/".join(parts)
