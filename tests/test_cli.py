"""The ``rag`` command as a user runs it: ingest, docs, doc, ask (JSON and filters), remove,
prune, and errors as one ``error:`` line with exit code 1 and no traceback."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.loaders import content_id

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "corpus" / "articles"
PICK = {
    "b05_intel_gaudi3.md": ("Intel", "2024-04-09"),
    "a09_cambricon_2024_annual.md": ("Cambricon", "2025-04-19"),
    "a11_cambricon_q3_2025.md": ("Cambricon", "2025-10-18"),
    "b03_amd_mi325x_launch.md": ("AMD", "2024-10-10"),
    "b15_skhynix_hbm3e_12h.md": ("SK hynix", "2024-09-26"),
}
CITATION_FIELDS = {"n", "doc_id", "title", "source", "date", "quote", "start", "end"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("cli")
    folder = root / "in"
    folder.mkdir()
    for name in PICK:
        shutil.copy(ARTICLES / name, folder / name)
    env = {**os.environ, "RAG_EMBEDDINGS": "fake", "RAG_DATA_DIR": str(root / "store")}
    first = rag(env, "ingest", str(folder))
    return {"root": root, "folder": folder, "env": env, "first": first}


def rag(env: dict, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [sys.executable, "-m", "rag", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    assert out.returncode == code, (args, out.returncode, out.stdout[-2000:], out.stderr[-2000:])
    assert "Traceback" not in out.stderr
    return out


def doc_id(name: str) -> str:
    return content_id((ARTICLES / name).read_bytes())


def test_ingest_prints_the_summary_line(workspace) -> None:
    line = workspace["first"].stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"5 added, 0 updated, 0 unchanged, 0 failed in \d+\.\ds", line), line
    again = rag(workspace["env"], "ingest", "--quiet", str(workspace["folder"]))
    assert again.stdout.strip().startswith("0 added, 0 updated, 5 unchanged, 0 failed")


def test_ingest_json_and_failures_on_stderr(workspace, tmp_path: Path) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 binary")
    good = tmp_path / "note.txt"
    good.write_text("2025年9月18日，华为公布昇腾路线图。", encoding="utf-8")
    env = {**workspace["env"], "RAG_DATA_DIR": str(tmp_path / "store")}
    out = rag(env, "ingest", "--json", str(bad), str(good), code=1)  # one file failed
    report = json.loads(out.stdout)
    assert {Path(f["path"]).name: f["status"] for f in report["files"]} == {
        "broken.pdf": "failed",
        "note.txt": "added",
    }
    assert report["summary"].startswith("1 added, 0 updated, 0 unchanged, 1 failed")
    assert f"failed: {bad}: not a readable PDF" in out.stderr


def test_docs_lists_every_document(workspace) -> None:
    out = rag(workspace["env"], "docs").stdout
    for name in PICK:
        assert doc_id(name) in out
    assert out.strip().endswith("5 documents")
    listed = json.loads(rag(workspace["env"], "docs", "--json").stdout)
    assert {d["doc_id"] for d in listed} == {doc_id(n) for n in PICK}
    assert all("text" not in d for d in listed)
    assert [d["date"] for d in listed] == sorted((d["date"] for d in listed), reverse=True)


def test_doc_json_has_the_document(workspace) -> None:
    name = "b05_intel_gaudi3.md"
    d = json.loads(rag(workspace["env"], "doc", doc_id(name), "--json").stdout)
    for field in ("doc_id", "title", "source", "date", "lang", "vendors", "text"):
        assert field in d
    assert d["doc_id"] == doc_id(name)
    assert d["title"] == "Intel unveils Gaudi 3 with 128GB of HBM2e and 3.7TB/s"
    assert (d["date"], d["lang"]) == ("2024-04-09", "en")
    assert "Intel" in d["vendors"]
    assert "128GB of HBM2e" in d["text"] and not d["text"].startswith("---")
    plain = rag(workspace["env"], "doc", doc_id(name)).stdout
    assert plain.startswith(d["title"]) and d["text"] in plain


def test_ask_json_fields(workspace) -> None:
    out = rag(workspace["env"], "ask", "Intel Gaudi 3 HBM2e memory capacity", "--json").stdout
    ans = json.loads(out)
    assert {"text", "abstained", "citations", "passages", "timings"} <= set(ans)
    assert ans["abstained"] is False and ans["text"]
    assert ans["citations"]
    docs = {}
    for i, c in enumerate(ans["citations"], 1):
        assert set(c) >= CITATION_FIELDS
        assert c["n"] == i
        if c["doc_id"] not in docs:
            docs[c["doc_id"]] = json.loads(
                rag(workspace["env"], "doc", c["doc_id"], "--json").stdout
            )
        assert docs[c["doc_id"]]["text"][c["start"] : c["end"]] == c["quote"]
        assert f"[{c['n']}]" in ans["text"]
    assert any(c["doc_id"] == doc_id("b05_intel_gaudi3.md") for c in ans["citations"])
    assert ans["passages"] and {"doc_id", "text", "start", "end", "score"} <= set(
        ans["passages"][0]
    )
    assert ans["timings"]["total"] > 0


def test_ask_plain_prints_answer_and_sources(workspace) -> None:
    out = rag(workspace["env"], "ask", "Intel Gaudi 3 HBM2e memory capacity").stdout
    assert "[1]" in out and "Intel unveils Gaudi 3" in out


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["--vendor", "Cambricon"], {"a09_cambricon_2024_annual.md", "a11_cambricon_q3_2025.md"}),
        (["--vendor", "寒武纪"], {"a09_cambricon_2024_annual.md", "a11_cambricon_q3_2025.md"}),
        (["--since", "2025-01-01"], {"a09_cambricon_2024_annual.md", "a11_cambricon_q3_2025.md"}),
        (["--until", "2024-06-30"], {"b05_intel_gaudi3.md"}),
        (
            ["--since", "2024-09", "--until", "2024-12-31"],
            {"b03_amd_mi325x_launch.md", "b15_skhynix_hbm3e_12h.md"},
        ),
        (
            ["--vendor", "AMD", "--vendor", "Intel"],
            {"b03_amd_mi325x_launch.md", "b05_intel_gaudi3.md"},
        ),
    ],
)
def test_ask_filters_restrict_the_passages(workspace, args: list[str], allowed: set[str]) -> None:
    out = rag(
        workspace["env"], "ask", "HBM memory capacity and revenue", "--json", "--k", "10", *args
    ).stdout
    ans = json.loads(out)
    got = {p["doc_id"] for p in ans["passages"]}
    assert got and got <= {doc_id(n) for n in allowed}
    assert {c["doc_id"] for c in ans["citations"]} <= got


def test_ask_filter_that_excludes_everything_abstains(workspace) -> None:
    ans = json.loads(
        rag(workspace["env"], "ask", "Gaudi 3 memory", "--json", "--since", "2030-01-01").stdout
    )
    assert ans["abstained"] is True and ans["citations"] == [] and ans["passages"] == []


def test_unknown_doc_id_is_one_error_line(workspace) -> None:
    out = rag(workspace["env"], "doc", "ffffffffffffffff", code=1)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "ffffffffffffffff" in lines[0]
    assert out.stdout == ""


def test_usage_errors_exit_2(workspace) -> None:
    assert rag(workspace["env"], "doc", code=2).stderr.startswith("usage:")
    assert "--yes" in rag(workspace["env"], "reset", code=2).stderr


def test_remove_by_id_and_path_and_prune(workspace, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(workspace["folder"], folder)
    env = {**workspace["env"], "RAG_DATA_DIR": str(tmp_path / "store")}
    rag(env, "ingest", "--quiet", str(folder))
    gaudi, amd, hynix = (
        doc_id("b05_intel_gaudi3.md"),
        doc_id("b03_amd_mi325x_launch.md"),
        doc_id("b15_skhynix_hbm3e_12h.md"),
    )
    assert rag(env, "remove", gaudi).stdout.strip() == f"removed {gaudi}"
    assert (
        rag(env, "remove", str(folder / "b03_amd_mi325x_launch.md")).stdout.strip()
        == f"removed {amd}"
    )
    err = rag(env, "remove", gaudi, code=1).stderr.strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1
    (folder / "b15_skhynix_hbm3e_12h.md").unlink()
    out = rag(env, "ingest", "--prune", "--quiet", str(folder)).stdout
    assert "1 removed" in out
    ids = {d["doc_id"] for d in json.loads(rag(env, "docs", "--json").stdout)}
    assert ids == {doc_id(n) for n in PICK} - {
        hynix
    }  # removed ones came back; the deleted file did not


def test_wrong_embedder_is_one_error_line(workspace) -> None:
    env = {**workspace["env"], "RAG_EMBEDDINGS": "fake:32"}
    err = rag(env, "docs", code=1).stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error:") and "re-index" in err


# -- the CLI as scripts use it (issue 14, item 7) ----------------------------------------------
def test_ingest_exit_codes_tell_scripts_what_happened(workspace, tmp_path: Path) -> None:
    env = {**workspace["env"], "RAG_DATA_DIR": str(tmp_path / "store")}
    out = rag(env, "ingest", "--quiet", str(tmp_path / "no-such-folder"), code=1)
    assert "no such file or folder" in out.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    out = rag(env, "ingest", "--quiet", str(empty), code=1)
    assert out.stderr.strip() == "error: no .txt, .md or .html file under the paths given"
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.txt").write_bytes(b"")
    (bad / "b.txt").write_bytes(b"\x00\x01\x02binary")
    out = rag(env, "ingest", "--quiet", str(bad), code=1)  # every file failed
    assert out.stderr.count("failed:") == 2
    (bad / "good.md").write_text((ARTICLES / "b05_intel_gaudi3.md").read_text("utf-8"), "utf-8")
    out = rag(env, "ingest", "--quiet", "--json", str(bad), code=1)  # some failed
    report = json.loads(out.stdout)
    assert {f["status"] for f in report["files"]} == {"failed", "added"}
    rag(env, "ingest", "--quiet", str(bad / "good.md"))  # all good (unchanged): exit 0


def test_docs_json_is_a_list_and_a_closed_pipe_ends_quietly(workspace) -> None:
    docs = json.loads(rag(workspace["env"], "docs", "--json").stdout)
    assert {d["doc_id"] for d in docs} == {doc_id(n) for n in PICK}
    assert all("text" not in d for d in docs)
    for args in (["docs"], ["docs", "--json"], ["doc", doc_id("b05_intel_gaudi3.md")]):
        proc = subprocess.Popen(
            [sys.executable, "-m", "rag", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=workspace["env"],
            cwd=ROOT,
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the first line is written
        err = proc.stderr.read().decode()
        assert proc.wait(120) == 0, err
        assert err == "", err
    shell = subprocess.run(
        f"{sys.executable} -m rag docs | head -1",
        shell=True,
        capture_output=True,
        text=True,
        env=workspace["env"],
        cwd=ROOT,
        timeout=120,
    )
    assert shell.stderr == "" and len(shell.stdout.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--since", "yesterday"], "is not a date"),
        (["--until", "2025-13-01"], "is not a date"),
        (["--k", "-3"], "out of range"),
        (["--k", "0"], "out of range"),
        (["--k", "three"], "not a whole number"),
        (["--vendor", "Nonexistium"], "unknown vendor 'Nonexistium'"),
    ],
)
def test_ask_refuses_bad_filters_with_exit_2(workspace, args: list[str], says: str) -> None:
    out = rag(workspace["env"], "ask", "Gaudi 3 memory", *args, code=2)
    assert says in out.stderr and out.stdout == ""
    assert len([line for line in out.stderr.splitlines() if line.startswith("error:")]) == 1 or (
        out.stderr.startswith("usage:")
    )


def test_ask_accepts_a_vendor_alias_and_a_month(workspace) -> None:
    ans = json.loads(
        rag(
            workspace["env"],
            "ask",
            "Gaudi 3 memory",
            "--json",
            "--vendor",
            "intel",
            "--since",
            "2024-04",
        ).stdout
    )
    assert {c["doc_id"] for c in ans["citations"]} <= {doc_id("b05_intel_gaudi3.md")}


def test_remove_goes_on_after_a_missing_target_and_exits_1(workspace, tmp_path: Path) -> None:
    env = {**workspace["env"], "RAG_DATA_DIR": str(tmp_path / "store")}
    rag(env, "ingest", "--quiet", str(workspace["folder"]))
    gaudi = doc_id("b05_intel_gaudi3.md")
    out = rag(env, "remove", "ffffffffffffffff", gaudi, code=1)
    assert out.stdout.strip() == f"removed {gaudi}"
    assert out.stderr.strip().startswith("error: no document with id or path")


@pytest.mark.slow
def test_eval_without_matplotlib_skips_charts_with_one_line_and_writes_the_report(
    tmp_path: Path,
) -> None:
    # the README's run install (`.[web]`) has no matplotlib: hide it from this process
    code = (
        "import sys; sys.modules['matplotlib'] = None; from rag.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "eval",
            "--config",
            "keyword",
            "--limit",
            "3",
            "--quiet",
            "--data-dir",
            str(tmp_path / "eval"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stderr
    skipped = [line for line in out.stderr.splitlines() if "charts skipped" in line]
    assert len(skipped) == 1
    assert (tmp_path / "out" / "report.md").is_file()
    assert not list((tmp_path / "out").glob("*.png"))


def test_bench_without_its_extra_is_one_line_naming_the_install(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['psutil'] = None; sys.modules['matplotlib'] = None; "
        "from rag.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "bench", "--small", "--out", str(tmp_path / "b")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
        env={**os.environ, "RAG_DATA_DIR": str(tmp_path / "store")},
    )
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 1 and len(lines) == 1, out.stderr[-2000:]
    assert lines[0] == "error: rag bench needs psutil, which this install lacks: " + (
        "pip install 'chipnews-rag[eval]'"
    )
