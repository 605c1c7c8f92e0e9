"""`python -m indexer import`: folders and archives, duplicates, re-runs, resume, hostile input, the CSV report."""
import csv
import io
import json
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from indexer.archives import ArchiveLimits, iter_inputs
from indexer.near_duplicates import (
    NEAR_DUPLICATE_JACCARD,
    DuplicateFinder,
    Fingerprint,
    fingerprint,
    similarity,
)
from indexer.store import read_current
from tests.conftest import CORPUS, DOC_CUIYUAN, DOC_HAIZHU, DOC_TANZHOU, DOC_YUEHAI

SOURCES = Path(__file__).parent / "data" / "sources"
SMALL = (SOURCES / "utf8.txt").read_text(encoding="utf-8")


def run_import(capsys, index: Path, *args: str, model: str | None = "fake-hashing") -> tuple[int, str, str]:
    from indexer.__main__ import main

    argv = ["--index", str(index)] + (["--model", model] if model else []) + ["import", *map(str, args)]
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def read_rows(path: Path) -> dict[str, dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["path"]: row for row in csv.DictReader(handle)}


def copy_report(doc_id: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(CORPUS / f"{doc_id}.txt", target)
    return target


def one_sentence_changed(text: str) -> str:
    start = text.index("。", len(text) // 2) + 1
    end = text.index("。", start) + 1
    return text[:start] + "街道还组织开展了专项法律咨询活动。" + text[end:]


# ---------------------------------------------------------------- near_duplicates (pure)


def test_one_changed_sentence_is_a_near_duplicate_and_other_reports_are_not():
    text = (CORPUS / f"{DOC_YUEHAI}.txt").read_text(encoding="utf-8")
    original = fingerprint(text)
    assert similarity(original, fingerprint(one_sentence_changed(text))) >= NEAR_DUPLICATE_JACCARD
    for other in (DOC_CUIYUAN, DOC_TANZHOU, DOC_HAIZHU):
        assert similarity(original, fingerprint((CORPUS / f"{other}.txt").read_text(encoding="utf-8"))) < 0.2


def test_layout_white_space_and_traditional_forms_do_not_change_the_exact_hash():
    big5 = (SOURCES / "big5.txt").read_bytes().decode("big5")
    spaced = SMALL.replace("，", "， \n").replace("\n", "\r\n\u3000\u3000")
    assert fingerprint(SMALL).text_sha256 == fingerprint(spaced).text_sha256 == fingerprint(big5).text_sha256
    assert fingerprint(SMALL).text_sha256 != fingerprint(SMALL.replace("天水郡", "天水")).text_sha256


def test_the_finder_prefers_exact_matches_and_forgets_removed_reports():
    text = (CORPUS / f"{DOC_YUEHAI}.txt").read_text(encoding="utf-8")
    finder = DuplicateFinder()
    finder.add("a", fingerprint(text))
    finder.add("b", fingerprint(one_sentence_changed(text)))
    exact = finder.find(fingerprint(text + "\n\n"))
    assert (exact.doc_id, exact.exact, exact.similarity) == ("a", True, 1.0)
    assert finder.find(fingerprint((CORPUS / f"{DOC_HAIZHU}.txt").read_text(encoding="utf-8"))) is None
    finder.remove("a")
    near = finder.find(fingerprint(text))
    assert near.doc_id == "b" and not near.exact and NEAR_DUPLICATE_JACCARD <= near.similarity < 1.0


def test_a_fingerprint_survives_the_journal_round_trip():
    print_ = fingerprint(SMALL)
    again = Fingerprint.from_dict(json.loads(json.dumps(print_.to_dict())))
    assert again.text_sha256 == print_.text_sha256 and (again.minhash == print_.minhash).all()
    with pytest.raises(ValueError, match="128 values"):
        Fingerprint.from_dict({"text_sha256": "x", "minhash": "00" * 8})


# ---------------------------------------------------------------- archives (pure, small limits)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _refusals(path: Path, limits: ArchiveLimits) -> dict[str, str]:
    return {item.member or item.display: item.refusal for item in iter_inputs(path, limits=limits)}


def test_zip_limits_on_entries_and_inflated_size_refuse_the_archive_with_a_sentence(tmp_path):
    archive = _zip(tmp_path / "many.zip", {f"{i}.txt": SMALL.encode() for i in range(5)})
    (item,) = iter_inputs(archive, limits=ArchiveLimits(max_entries=3))
    assert item.container and "5 entries, more than the 3 allowed" in item.refusal
    (item,) = iter_inputs(archive, limits=ArchiveLimits(max_total_bytes=2000))
    assert item.container and "would unpack to" in item.refusal and "zip bomb" in item.refusal
    refusals = _refusals(archive, ArchiveLimits(max_file_bytes=1000))
    assert all("larger than the" in reason for reason in refusals.values()) and len(refusals) == 5


def test_a_tar_bomb_is_refused_before_it_is_inflated(tmp_path):
    path = tmp_path / "bomb.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        first = tarfile.TarInfo("a.txt")
        first.size = len(SMALL.encode())
        archive.addfile(first, io.BytesIO(SMALL.encode()))
        huge = tarfile.TarInfo("huge.txt")
        huge.size = 3_000_000
        archive.addfile(huge, io.BytesIO(b"\0" * huge.size))
    items = list(iter_inputs(path, limits=ArchiveLimits(max_total_bytes=1_000_000)))
    assert items[0].member == "a.txt" and items[0].data == SMALL.encode()
    assert items[-1].container and "more than the 1 MB allowed" in items[-1].refusal


def test_unwanted_files_are_listed_without_being_read(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(SMALL, encoding="utf-8")
    archive = _zip(tmp_path / "in" / "b.zip", {"b.txt": SMALL.encode()})
    items = list(iter_inputs(tmp_path / "in", wanted=lambda key: key.endswith("b.txt")))
    assert [(i.member, i.data is not None) for i in items] == [("a.txt", False), ("b.txt", True)]
    assert items[1].key == archive.as_posix() + "!/b.txt"


# ---------------------------------------------------------------- the command with the real embedder


def _docx(path: Path, text: str) -> Path:
    import docx

    document = docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    document.save(path)
    return path


@pytest.mark.slow
def test_import_with_the_real_embedder_reads_folders_and_archives_and_merges_copies(tmp_path, capsys, monkeypatch, embedder):
    import indexer.__main__ as cli

    monkeypatch.setattr(cli, "_embedder", lambda _name: embedder)
    folder = tmp_path / "reports"
    (folder / "a").mkdir(parents=True)
    (folder / "later" / "b").mkdir(parents=True)  # files are read in sorted order: a/ first
    shutil.copy(SOURCES / "utf8.txt", folder / "a" / "tianshuijun.txt")
    shutil.copy(SOURCES / "big5.txt", folder / "later" / "b" / "reposted-big5.txt")  # same report, Traditional
    _docx(folder / "later" / "b" / "resaved.docx", SMALL.replace("。", "。\n"))  # reformatted
    (folder / "near.txt").write_text(SMALL.replace("依法行政水平不断提高", "依法行政能力不断提高"), encoding="utf-8")
    _zip(tmp_path / "bundle.zip", {"gd/report.html": (SOURCES / "report.html").read_bytes()})
    with tarfile.open(tmp_path / "more.tar.gz", "w:gz") as archive:
        archive.add(SOURCES / "report.md", arcname="x/report.md")
    index = tmp_path / "index"

    status, out, _ = run_import(capsys, index, folder, tmp_path / "bundle.zip", tmp_path / "more.tar.gz", model=None)
    assert status == 0 and "3 indexed, 2 duplicate, 1 near-duplicate" in out
    rows = read_rows(index / "import-report.csv")
    shown = {path.replace(str(tmp_path) + "/", ""): row for path, row in rows.items()}
    assert {p: (r["outcome"], r["doc_id"], r["duplicate_of"]) for p, r in shown.items()} == {
        "reports/a/tianshuijun.txt": ("indexed", "tianshuijun", ""),
        "reports/later/b/reposted-big5.txt": ("duplicate", "", "tianshuijun"),
        "reports/later/b/resaved.docx": ("duplicate", "", "tianshuijun"),
        "reports/near.txt": ("near-duplicate", "", "tianshuijun"),
        "bundle.zip!/gd/report.html": ("indexed", "report", ""),
        "more.tar.gz!/x/report.md": ("indexed", shown["more.tar.gz!/x/report.md"]["doc_id"], ""),
    }
    assert shown["more.tar.gz!/x/report.md"]["doc_id"].startswith("report_")  # "report" was taken
    assert NEAR_DUPLICATE_JACCARD <= float(shown["reports/near.txt"]["similarity"]) < 1.0
    data = read_current(index)
    assert set(data.reports) == {"tianshuijun", "report", shown["more.tar.gz!/x/report.md"]["doc_id"]}
    assert data.manifest["model"]["name"] == embedder.name
    assert data.reports["tianshuijun"]["meta"]["issuer"] == "天水郡街道"


# ---------------------------------------------------------------- re-runs (fake embedder)


@pytest.fixture()
def three_reports(tmp_path) -> Path:
    folder = tmp_path / "in"
    copy_report(DOC_YUEHAI, folder / "yuehai.txt")
    copy_report(DOC_CUIYUAN, folder / "sub" / "cuiyuan.txt")
    copy_report(DOC_TANZHOU, folder / "sub" / "deeper" / "tanzhou.txt")
    return folder


def test_a_rerun_skips_unchanged_files_reindexes_changed_ones_and_removes_gone_ones(tmp_path, capsys, three_reports):
    index = tmp_path / "index"
    assert run_import(capsys, index, three_reports)[0] == 0
    assert set(read_current(index).reports) == {"yuehai", "cuiyuan", "tanzhou"}

    status, out, _ = run_import(capsys, index, three_reports)
    assert status == 0 and "3 unchanged" in out and "0 chunks embedded" in out
    generation = read_current(index).path

    changed = three_reports / "sub" / "cuiyuan.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n五、附记\n本报告另附街道法治建设大事记一份，供各方查阅。\n",
                       encoding="utf-8")
    (three_reports / "yuehai.txt").unlink()
    status, out, _ = run_import(capsys, index, three_reports, "--json")
    result = json.loads(out)
    assert result["counts"] == {"re-indexed": 1, "unchanged": 1, "removed": 1}
    assert 0 < result["embedded"] < result["reused"]
    rows = read_rows(index / "import-report.csv")
    assert rows[f"{three_reports}/sub/cuiyuan.txt"]["outcome"] == "re-indexed"
    assert rows[f"{three_reports}/yuehai.txt"]["outcome"] == "removed"
    assert rows[f"{three_reports}/yuehai.txt"]["doc_id"] == "yuehai"
    data = read_current(index)
    assert data.path != generation and set(data.reports) == {"cuiyuan", "tanzhou"}
    assert "大事记" in data.reports["cuiyuan"]["original"]


def test_a_copy_is_indexed_once_its_original_leaves(tmp_path, capsys):
    folder = tmp_path / "in"
    copy_report(DOC_HAIZHU, folder / "a.txt")
    copy_report(DOC_HAIZHU, folder / "b.txt")
    index = tmp_path / "index"
    run_import(capsys, index, folder)
    assert read_rows(index / "import-report.csv")[f"{folder}/b.txt"]["duplicate_of"] == "a"
    (folder / "a.txt").unlink()
    status, out, _ = run_import(capsys, index, folder)
    assert status == 0 and "1 indexed" in out and "1 removed" in out
    assert set(read_current(index).reports) == {"b"}


def test_reports_outside_the_paths_given_are_kept(tmp_path, capsys, three_reports):
    index = tmp_path / "index"
    other = copy_report(DOC_HAIZHU, tmp_path / "elsewhere" / "haizhu.txt")
    run_import(capsys, index, three_reports)
    run_import(capsys, index, other)
    status, out, _ = run_import(capsys, index, three_reports)
    assert status == 0 and "3 unchanged" in out and "removed" not in out
    assert set(read_current(index).reports) == {"yuehai", "cuiyuan", "tanzhou", "haizhu"}


def test_doc_ids_are_unique_and_stable_for_files_with_the_same_name(tmp_path, capsys):
    folder = tmp_path / "in"
    copy_report(DOC_YUEHAI, folder / "x" / "报告.txt")
    copy_report(DOC_HAIZHU, folder / "y" / "报告.txt")
    index = tmp_path / "index"
    run_import(capsys, index, folder)
    first = {p: r["doc_id"] for p, r in read_rows(index / "import-report.csv").items()}
    assert first[f"{folder}/x/报告.txt"] == "报告" and first[f"{folder}/y/报告.txt"].startswith("报告_")
    (folder / "x" / "报告.txt").write_text("更新后的报告。\n" + (CORPUS / f"{DOC_TANZHOU}.txt").read_text(encoding="utf-8"),
                                          encoding="utf-8")
    run_import(capsys, index, folder)
    again = {p: r["doc_id"] for p, r in read_rows(index / "import-report.csv").items()}
    assert again == first and len(read_current(index).reports) == 2


def test_an_existing_index_is_checked_for_copies_too(tmp_path, capsys):
    from indexer.build import build_index
    from indexer.embed import HashingEmbedder

    index = tmp_path / "index"
    build_index(CORPUS, index, HashingEmbedder())
    folder = tmp_path / "in"
    copy_report(DOC_CUIYUAN, folder / "cuiyuan-copy.txt")
    status, out, _ = run_import(capsys, index, folder)
    row = read_rows(index / "import-report.csv")[f"{folder}/cuiyuan-copy.txt"]
    assert status == 0 and (row["outcome"], row["duplicate_of"]) == ("duplicate", DOC_CUIYUAN)
    assert len(read_current(index).reports) == 5


# ---------------------------------------------------------------- resume after a crash


def test_a_crashed_run_resumes_without_embedding_again_what_was_committed(tmp_path, capsys, monkeypatch, three_reports):
    from indexer import importing

    real = importing.add_sources
    calls = []

    def crash_on_second_batch(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            raise RuntimeError("simulated crash")
        return real(*args, **kwargs)

    monkeypatch.setattr(importing, "add_sources", crash_on_second_batch)
    index = tmp_path / "index"
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_import(capsys, index, three_reports, "--batch", "1")
    assert set(read_current(index).reports) == {"cuiyuan"}  # the first batch (files in sorted order)
    capsys.readouterr()

    monkeypatch.setattr(importing, "add_sources", real)
    status, out, _ = run_import(capsys, index, three_reports, "--batch", "1", "--json")
    result = json.loads(out)
    assert status == 0 and result["counts"] == {"indexed": 2, "unchanged": 1}
    committed = sum(1 for c in read_current(index).chunks if c.doc_id == "cuiyuan")
    assert result["embedded"] == len(read_current(index).chunks) - committed > 0  # cuiyuan's not again
    assert set(read_current(index).reports) == {"yuehai", "cuiyuan", "tanzhou"}  # ids as if never interrupted


def test_ctrl_c_is_a_sentence_and_the_next_run_completes(tmp_path, capsys, monkeypatch, three_reports):
    from indexer import importing

    real = importing.add_sources
    calls = []

    def interrupt_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(importing, "add_sources", interrupt_second)
    index = tmp_path / "index"
    status, _, err = run_import(capsys, index, three_reports, "--batch", "2")
    assert status == 130 and "run the same command again to resume" in err
    assert len(read_current(index).reports) == 2
    monkeypatch.setattr(importing, "add_sources", real)
    status, out, _ = run_import(capsys, index, three_reports)
    assert status == 0 and "1 indexed, 2 unchanged" in out


def test_a_damaged_journal_is_an_error_sentence(tmp_path, capsys, three_reports):
    index = tmp_path / "index"
    index.mkdir()
    (index / "import-state.json").write_text("{not json", encoding="utf-8")
    status, _, err = run_import(capsys, index, three_reports)
    assert status == 1 and "import journal" in err and "delete it" in err


# ---------------------------------------------------------------- hostile input


def _patch_zip_flags(path: Path, bit: int) -> None:
    """Set a general-purpose flag bit on every member, in the local and the central headers."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at != -1:
            data[at + offset] |= bit
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def _hostile_inputs(tmp_path: Path) -> list[Path]:
    good = (CORPUS / f"{DOC_HAIZHU}.txt").read_bytes()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_bytes(good)
    (folder / "empty.txt").write_bytes(b"")
    shutil.copy(SOURCES / "png_renamed.txt", folder / "image.txt")
    shutil.copy(SOURCES / "invalid_bytes.txt", folder / "garbled.txt")
    (folder / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    (folder / "sheet.xlsx").write_bytes(b"PK\x03\x04 not really")
    os.mkfifo(folder / "pipe.txt")  # reading it would hang
    outside = tmp_path / "outside.txt"
    outside.write_bytes(good)
    os.symlink(outside, folder / "link.txt")

    _zip(folder / "hostile.zip", {
        "ok/tianshuijun.txt": SMALL.encode(),
        "../escape.txt": SMALL.encode(),
        "/etc/absolute.txt": SMALL.encode(),
        "inner.zip": _zip(tmp_path / "inner.zip", {"x.txt": SMALL.encode()}).read_bytes(),
        "zip-as-text.txt": (tmp_path / "inner.zip").read_bytes(),
        "bomb.txt": b"\0" * (5 * 1024 * 1024),
        "binary.txt": bytes(range(256)) * 8,
    })
    # A member name in GBK and one in CP437, written without the UTF-8 flag as old Windows tools do.
    names = _zip(folder / "names.zip", {"XXXX.txt": (CORPUS / f"{DOC_CUIYUAN}.txt").read_bytes(),
                                        "cafX.md": (SOURCES / "report.html").read_bytes()})
    names.write_bytes(names.read_bytes().replace(b"XXXX.txt", "报告.txt".encode("gbk")).replace(b"cafX.md", b"caf\x82.md"))
    _patch_zip_flags(_zip(folder / "locked.zip", {"secret.txt": SMALL.encode()}), 0x1)
    truncated = _zip(tmp_path / "whole.zip", {"a.txt": SMALL.encode()}).read_bytes()
    (folder / "truncated.zip").write_bytes(truncated[: len(truncated) // 2])
    (folder / "garbage.tar.gz").write_bytes(b"\x1f\x8b\x08\x00 this is not gzip at all")

    with tarfile.open(folder / "links.tar.gz", "w:gz") as archive:
        for name, kind, link in (("sym.txt", tarfile.SYMTYPE, "/etc/passwd"), ("hard.txt", tarfile.LNKTYPE, "ok.txt"),
                                 ("tty.txt", tarfile.CHRTYPE, "")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, link
            archive.addfile(info)
    full = io.BytesIO()
    with tarfile.open(fileobj=full, mode="w:gz") as archive:
        for name in ("first.md", "second.txt"):
            data = (SOURCES / "report.md").read_bytes() if name == "first.md" else os.urandom(200_000)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    (folder / "cut.tgz").write_bytes(full.getvalue()[: len(full.getvalue()) - 20_000])
    return [folder]


HOSTILE = {
    "empty.txt": "is empty",
    "image.txt": "PNG image",
    "garbled.txt": "could not be decoded",
    "old.doc": "old-style Word (.doc)",
    "sheet.xlsx": "is a .xlsx file",
    "pipe.txt": "not a regular file",
    "link.txt": "symbolic link that points outside",
    "hostile.zip!/../escape.txt": "'..' in its path",
    "hostile.zip!//etc/absolute.txt": "absolute path",
    "hostile.zip!/inner.zip": "archive inside an archive",
    "hostile.zip!/zip-as-text.txt": "zip archive, not a Word document",
    "hostile.zip!/bomb.txt": "zip bomb",
    "hostile.zip!/binary.txt": "binary",
    "locked.zip!/secret.txt": "encrypted",
    "truncated.zip": "damaged or truncated zip",
    "garbage.tar.gz": "damaged, truncated or unsupported tar",
    "links.tar.gz!/sym.txt": "symbolic link inside the archive",
    "links.tar.gz!/hard.txt": "hard link",
    "links.tar.gz!/tty.txt": "device",
    "cut.tgz": "damaged or truncated",
}


@pytest.fixture()
def hostile_run(tmp_path, capsys):
    paths = _hostile_inputs(tmp_path)
    index = tmp_path / "index"
    status, out, _ = run_import(capsys, index, *paths)
    rows = read_rows(index / "import-report.csv")
    return status, out, {path.removeprefix(f"{paths[0]}/"): row for path, row in rows.items()}, index


def test_hostile_input_never_aborts_the_run(hostile_run):
    status, out, rows, index = hostile_run
    assert status == 0 and "error" not in out
    indexed = {path: row["doc_id"] for path, row in rows.items() if row["outcome"] == "indexed"}
    assert indexed == {"good.txt": "good", "hostile.zip!/ok/tianshuijun.txt": "tianshuijun",
                       "names.zip!/报告.txt": "报告", "names.zip!/café.md": "café", "cut.tgz!/first.md": "first"}
    assert set(read_current(index).reports) == set(indexed.values())


@pytest.mark.parametrize("path, fragment", sorted(HOSTILE.items()))
def test_each_hostile_file_is_skipped_with_a_sentence(hostile_run, path, fragment):
    _, _, rows, _ = hostile_run
    row = rows[path]
    assert row["outcome"] == "skipped" and fragment in row["reason"] and row["reason"].endswith(".")


def test_the_csv_report_opens_in_excel_and_has_a_row_per_file(hostile_run):
    _, _, rows, index = hostile_run
    raw = (index / "import-report.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfpath,outcome,doc_id,duplicate_of,similarity,reason\r\n")
    assert set(HOSTILE) <= set(rows) and len(rows) == len(HOSTILE) + 5


def test_a_changed_file_that_became_unreadable_keeps_its_indexed_version(tmp_path, capsys):
    folder = tmp_path / "in"
    copy_report(DOC_HAIZHU, folder / "haizhu.txt")
    index = tmp_path / "index"
    run_import(capsys, index, folder, "--report", tmp_path / "first.csv")
    (folder / "haizhu.txt").write_bytes(b"")
    status, _, _ = run_import(capsys, index, folder, "--report", tmp_path / "second.csv")
    row = read_rows(tmp_path / "second.csv")[f"{folder}/haizhu.txt"]
    assert status == 0 and row["outcome"] == "skipped" and "kept as haizhu" in row["reason"]
    assert set(read_current(index).reports) == {"haizhu"} and (tmp_path / "first.csv").exists()


def test_a_path_that_does_not_exist_removes_nothing(tmp_path, capsys, three_reports):
    index = tmp_path / "index"
    run_import(capsys, index, three_reports)
    shutil.move(three_reports, tmp_path / "moved")
    status, out, _ = run_import(capsys, index, three_reports, "--json")
    result = json.loads(out)
    assert status == 0 and result["counts"] == {"skipped": 1} and "does not exist" in result["rows"][0]["reason"]
    assert len(read_current(index).reports) == 3
