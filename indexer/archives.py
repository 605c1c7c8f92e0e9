"""The files inside folders (recursively) and .zip/.tar archives, read safely, each with a refusal sentence when it cannot be."""
from __future__ import annotations

import os
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from indexer.sources import (
    MAX_BYTES,
    REFUSED_SUFFIXES,
    SUPPORTED_SUFFIXES,
    common_share,
)

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
# Archives inside archives are refused, not opened: one level deep bounds the work a
# hostile upload can cause, and real report bundles are flat.
NESTED_ARCHIVE_SUFFIXES = ARCHIVE_SUFFIXES + (".gz", ".bz2", ".xz", ".rar", ".7z")
MEMBER_SEPARATOR = "!/"  # "bundle.zip!/gd/report.txt": the member gd/report.txt of bundle.zip


@dataclass(frozen=True)
class ArchiveLimits:
    """How much one archive may hold; beyond these it is refused as a probable zip bomb."""

    max_file_bytes: int = MAX_BYTES  # one member, declared or actually inflated
    max_total_bytes: int = 2 * 1024**3  # all members together
    max_entries: int = 10_000
    max_ratio: int = 200  # inflated / compressed; text compresses 3-10 times
    ratio_floor: int = 1024 * 1024  # members smaller than this may compress as well as they like


@dataclass(frozen=True)
class InputFile:
    """One file seen: its key (stable across runs), how to show it, and its bytes or why it was refused.

    `container` marks a refusal of a whole folder or archive whose files could not all be
    listed; files imported from it earlier must not be taken as removed.
    """

    key: str
    display: str
    member: str  # the path inside the folder or archive given, for doc ids
    data: bytes | None = None
    refusal: str = ""
    container: bool = False


Wanted = Callable[[str], bool]


def _everything(_key: str) -> bool:
    return True


def is_archive(name: str) -> bool:
    """True if `name` ends like an archive this module opens."""
    return name.lower().endswith(ARCHIVE_SUFFIXES)


DEFAULT_LIMITS = ArchiveLimits()


def iter_inputs(path: Path, wanted: Wanted = _everything, limits: ArchiveLimits = DEFAULT_LIMITS) -> Iterator[InputFile]:
    """Yield every file under `path` (a folder, an archive or one file) in a stable order.

    The bytes of a file are read only when `wanted(key)` is true (else `data` is None).
    """
    given = str(path)
    try:
        absolute = Path(os.path.abspath(path))
        info = os.stat(absolute)  # a path given by name is followed even if it is a link
    except OSError as error:
        yield InputFile(Path(os.path.abspath(path)).as_posix(), given, "", refusal=f"does not exist or cannot be opened ({error.strerror or error}); "
                        "nothing imported from it earlier was removed.", container=True)
        return
    key = absolute.as_posix()
    if stat.S_ISDIR(info.st_mode):
        yield from _iter_folder(absolute, given, wanted, limits)
    else:
        yield from _iter_file(absolute, key, given, absolute.name, Path(os.path.realpath(absolute)).parent,
                              wanted, limits)


def _iter_folder(root: Path, given: str, wanted: Wanted, limits: ArchiveLimits) -> Iterator[InputFile]:
    errors: list[OSError] = []
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=errors.append, followlinks=False):
        dirnames.sort()
        for name in list(dirnames):
            if os.path.islink(os.path.join(dirpath, name)):
                dirnames.remove(name)
                found.append(Path(dirpath) / name)  # reported below as a link that is not followed
        found.extend(Path(dirpath) / name for name in filenames)
    for error in errors:
        where = Path(error.filename or root)
        yield InputFile(where.as_posix(), _shown(given, where.relative_to(root).as_posix() if where != root else ""),
                        "", refusal=f"could not be listed ({error.strerror or error}); nothing imported from it "
                        "earlier was removed.", container=True)
    for path in sorted(found, key=lambda p: p.relative_to(root).as_posix()):
        relative = path.relative_to(root).as_posix()
        yield from _iter_file(path, path.as_posix(), _shown(given, relative), relative, root, wanted, limits)


def _shown(given: str, relative: str) -> str:
    return f"{given.rstrip('/')}/{relative}" if relative else given


def _iter_file(path: Path, key: str, display: str, member: str, root: Path, wanted: Wanted,
               limits: ArchiveLimits) -> Iterator[InputFile]:
    if refusal := _refused_name(member):
        yield InputFile(key, display, member, refusal=refusal)
        return
    if os.path.islink(path):
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(os.path.realpath(root)):
            yield InputFile(key, display, member, refusal="is a symbolic link that points outside the folder "
                            "given, so it was not followed; import its target directly.")
            return
        if target.is_dir():
            yield InputFile(key, display, member, refusal="is a symbolic link to a folder, which is not followed.")
            return
    try:
        info = os.stat(path)
    except OSError as error:
        yield InputFile(key, display, member, refusal=f"could not be opened ({error.strerror or error}).")
        return
    if not stat.S_ISREG(info.st_mode):
        yield InputFile(key, display, member, refusal="is not a regular file (a device, socket or pipe), "
                        "so it was not read.")
        return
    if is_archive(path.name):
        yield from _iter_archive(path, key, display, wanted, limits)
        return
    if refusal := _refused_kind(member):
        yield InputFile(key, display, member, refusal=refusal)
        return
    if info.st_size > limits.max_file_bytes:
        yield InputFile(key, display, member, refusal=_too_big(info.st_size, limits))
        return
    if not wanted(key):
        yield InputFile(key, display, member)
        return
    try:
        with open(path, "rb") as handle:
            data = handle.read(limits.max_file_bytes + 1)
    except OSError as error:
        yield InputFile(key, display, member, refusal=f"could not be read ({error.strerror or error}).")
        return
    if len(data) > limits.max_file_bytes:
        yield InputFile(key, display, member, refusal=_too_big(len(data), limits))
        return
    yield InputFile(key, display, member, data=data)


def _too_big(size: int, limits: ArchiveLimits) -> str:
    return (f"is {size / 1048576:.1f} MB, larger than the {limits.max_file_bytes / 1048576:g} MB "
            "limit for one report.")


def _refused_name(member: str) -> str:
    """Why a file is not even looked at: hidden files, macOS metadata, READMEs."""
    parts = member.split("/")
    if any(part.startswith(".") for part in parts) or "__MACOSX" in parts:
        return "is a hidden file or macOS metadata, not a report."
    stem = parts[-1].split(".", 1)[0].lower()
    if stem == "readme":
        return "is a README, not a report."
    return ""


def _refused_kind(member: str) -> str:
    """Why a file of this kind is not read, or '' if it is a kind of report we read (or refuse with a reason)."""
    lowered = member.lower()
    if lowered.endswith(SUPPORTED_SUFFIXES + REFUSED_SUFFIXES):
        return ""
    kinds = ", ".join(SUPPORTED_SUFFIXES)
    suffix = Path(lowered).suffix
    if not suffix:
        return f"has no file extension, so its kind is unknown; reports must be one of {kinds}."
    return f"is a {suffix} file, which is not a kind of report that can be read ({kinds})."


# ---------------------------------------------------------------- archives members


def _member_problem(name: str) -> str:
    """Why a member name is unsafe or not a report, or ''."""
    if "\x00" in name:
        return "has a NUL character in its name inside the archive, so it was not read."
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "has an absolute path inside the archive, which is refused as unsafe."
    if ".." in name.split("/"):
        return "has '..' in its path inside the archive (it would climb out of it), which is refused as unsafe."
    if refusal := _refused_name(name):
        return refusal
    if name.lower().endswith(NESTED_ARCHIVE_SUFFIXES):
        return ("is an archive inside an archive; nested archives are not opened, so unpack it "
                "and import the inner archive directly.")
    return _refused_kind(name)


def _clean_member_name(name: str) -> str:
    name = name.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return name


def _iter_archive(path: Path, key: str, display: str, wanted: Wanted, limits: ArchiveLimits) -> Iterator[InputFile]:
    if path.name.lower().endswith(".zip"):
        yield from _iter_zip(path, key, display, wanted, limits)
    else:
        yield from _iter_tar(path, key, display, wanted, limits)


def _archive_refusal(key: str, display: str, reason: str) -> InputFile:
    return InputFile(key, display, "", refusal=reason, container=True)


def _member(key: str, display: str, name: str, **fields) -> InputFile:
    return InputFile(key + MEMBER_SEPARATOR + name, display + MEMBER_SEPARATOR + name, name, **fields)


def _zip_member_name(info: zipfile.ZipInfo) -> str:
    """The member's name; names written without the UTF-8 flag are tried as GBK before CP437."""
    name = info.filename
    if info.flag_bits & 0x800:
        return name
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    if raw.isascii():
        return name
    for codec in ("utf-8", "gb18030"):  # Windows' Chinese zip tools write GBK, some tools UTF-8 without the flag
        try:
            decoded = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        if common_share(decoded) >= 0.6:
            return decoded
    return name


def _iter_zip(path: Path, key: str, display: str, wanted: Wanted, limits: ArchiveLimits) -> Iterator[InputFile]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        yield _archive_refusal(key, display, f"is a damaged or truncated zip archive, so none of its files "
                               f"could be read ({type(error).__name__}).")
        return
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            yield _archive_refusal(key, display, f"is a zip archive with {len(infos)} entries, more than the "
                                   f"{limits.max_entries} allowed, so it was not opened (it may be a zip bomb).")
            return
        declared = sum(info.file_size for info in infos)
        if declared > limits.max_total_bytes:
            yield _archive_refusal(key, display, f"would unpack to {declared / 1048576:.0f} MB, more than the "
                                   f"{limits.max_total_bytes / 1048576:.0f} MB allowed for one archive, so it was "
                                   "not opened (it may be a zip bomb).")
            return
        seen: set[str] = set()
        inflated = 0
        for info in infos:
            if info.is_dir():
                continue
            name = _clean_member_name(_zip_member_name(info))
            problem = _member_problem(name) or _zip_problem(info, name, seen, limits)
            seen.add(name)
            if problem:
                yield _member(key, display, name, refusal=problem)
                continue
            if not wanted(key + MEMBER_SEPARATOR + name):
                yield _member(key, display, name)
                continue
            try:
                with archive.open(info) as handle:
                    data = handle.read(limits.max_file_bytes + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
                yield _member(key, display, name, refusal=f"is damaged inside the archive and could not be "
                              f"unpacked ({type(error).__name__}: {error}).")
                continue
            except NotImplementedError as error:
                yield _member(key, display, name, refusal=f"is packed with a compression method that cannot be "
                              f"read here ({error}); re-pack the archive with ordinary zip compression.")
                continue
            inflated += len(data)
            if len(data) > limits.max_file_bytes:
                yield _member(key, display, name, refusal=_too_big(len(data), limits))
                continue
            if inflated > limits.max_total_bytes:
                yield _archive_refusal(key, display, "unpacks to more than the "
                                       f"{limits.max_total_bytes / 1048576:.0f} MB allowed for one archive; "
                                       "the rest of it was not read (it may be a zip bomb).")
                return
            yield _member(key, display, name, data=data)


def _zip_problem(info: zipfile.ZipInfo, name: str, seen: set[str], limits: ArchiveLimits) -> str:
    if name in seen:
        return "appears twice in the archive; only its first copy was read."
    if info.flag_bits & 0x1:
        return "is encrypted (password-protected) inside the archive; re-pack it without a password."
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link inside the archive, which is not followed."
    if info.file_size > limits.max_file_bytes:
        return _too_big(info.file_size, limits)
    if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        return (f"would inflate {info.file_size / max(info.compress_size, 1):.0f} times (to "
                f"{info.file_size / 1048576:.0f} MB), far more than any text compresses, so it was not "
                "unpacked (it may be a zip bomb).")
    return ""


def _tar_member_name(info: tarfile.TarInfo) -> str:
    name = info.name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes were kept as surrogates: try GBK
        raw = name.encode("utf-8", "surrogateescape")
        try:
            name = raw.decode("gb18030")
        except UnicodeDecodeError:
            name = raw.decode("utf-8", "replace")
    return name


def _tar_problem(info: tarfile.TarInfo, limits: ArchiveLimits) -> str:
    if info.issym():
        return "is a symbolic link inside the archive, which is not followed."
    if info.islnk():
        return "is a hard link inside the archive, which is not followed."
    if not info.isreg():
        return "is a device, pipe or other special file inside the archive, not a report."
    if info.size > limits.max_file_bytes:
        return _too_big(info.size, limits)
    return ""


def _iter_tar(path: Path, key: str, display: str, wanted: Wanted, limits: ArchiveLimits) -> Iterator[InputFile]:
    damaged = (tarfile.TarError, EOFError, zlib.error, OSError, ValueError)
    try:
        archive = tarfile.open(path, "r:*")
    except damaged as error:
        yield _archive_refusal(key, display, f"is a damaged, truncated or unsupported tar archive, so none of "
                               f"its files could be read ({type(error).__name__}).")
        return
    seen: set[str] = set()
    entries = 0
    with archive:
        while True:
            try:
                info = archive.next()
            except damaged as error:
                yield _archive_refusal(key, display, f"is damaged or truncated after {entries} entries "
                                       f"({type(error).__name__}); the files before the damage were read.")
                return
            if info is None:
                return
            entries += 1
            if entries > limits.max_entries:
                yield _archive_refusal(key, display, f"has more than {limits.max_entries} entries; the rest of "
                                       "it was not read (it may be an archive bomb).")
                return
            # Members are stored one after another: reading on past this point means inflating it all.
            if info.offset_data + info.size > limits.max_total_bytes:
                yield _archive_refusal(key, display, "unpacks to more than the "
                                       f"{limits.max_total_bytes / 1048576:.0f} MB allowed for one archive; "
                                       "the rest of it was not read (it may be an archive bomb).")
                return
            if info.isdir():
                continue
            name = _clean_member_name(_tar_member_name(info))
            problem = _member_problem(name) or _tar_problem(info, limits)
            if not problem and name in seen:
                problem = "appears twice in the archive; only its first copy was read."
            seen.add(name)
            if problem:
                yield _member(key, display, name, refusal=problem)
                continue
            if not wanted(key + MEMBER_SEPARATOR + name):
                yield _member(key, display, name)
                continue
            try:
                handle = archive.extractfile(info)
                data = handle.read(limits.max_file_bytes + 1) if handle is not None else b""
            except damaged as error:
                yield _archive_refusal(key, display, f"is damaged or truncated inside {name} "
                                       f"({type(error).__name__}); the files before the damage were read.")
                return
            yield _member(key, display, name, data=data)
