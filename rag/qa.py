"""``QA``: the one place that wires settings, embedder, store, index and answerers.

The CLI, the web app, the evaluation harness and the benchmarks all open a ``QA``.
Opening is cheap: models load on first use, the keyword index on the first question.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.answer_facts import (
    answer_from_facts,
    answer_list,
    answer_members,
    answer_specs,
    fact_leads,
    label,
    list_mode,
    member_lines,
    relevant_facts,
    sides,
    uncited_targets,
)
from rag.answer_offline import OfflineAnswer, Reason, answer_offline
from rag.config import Settings, settings_from_env
from rag.embeddings import NamedEmbeddings, make_embeddings
from rag.errors import LLMError, NotFoundError, RagError
from rag.fetch import is_url
from rag.ingest import Ingestor, path_key
from rag.keyword import ChunkIndex
from rag.lang import is_chinese
from rag.question import Analysis, analyse, other_script_names, resolved_text
from rag.render import other_language_lead, quoted
from rag.retrieve import Searcher, SearchIndex, SearchResult
from rag.store import Store
from rag.textnorm import tokenize
from rag.types import Answer, Document, Final, IngestReport, StreamEvent, TextDelta

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from rag.factstore import FactStore
    from rag.knowledge import Entity, Fact
    from rag.retriever import HybridRetriever

MAX_QUESTION_CHARS = 2000
LIST_DEPTH = 30  # passages whose documents a list answer may draw its facts from (15 -> 30:
# dev +1, held-out +1 list right; 45 gives the same)
# refusals for want of the asked figure, date or person among the passages found
ASKED_ABSENT = (Reason.ATTRIBUTE_ABSENT, Reason.PERIOD_ABSENT, Reason.NOBODY_NAMED)
REBUILD_BATCH = 32  # documents per facts transaction when the fact table is rebuilt from Chroma


def empty_answer(question: str, cleaned: str) -> Answer | None:
    """The answer to a question that is empty or only punctuation once ``cleaned``
    (``clean_question``), asking for one; None for a real question."""
    if cleaned and any(ch.isalnum() for ch in cleaned):
        return None
    msg = (
        "请输入一个问题。"
        if is_chinese(cleaned)
        else "Please ask a question (it was empty or only punctuation)."
    )
    return Answer(question=question, text=msg, abstained=True, notes=["empty question"])


def offline_result(
    question: str,
    off: OfflineAnswer,
    passages: list[Any],
    *,
    timings: dict[str, float],
    notes: list[str],
    resolved: str,
    cleaned: str,
) -> Answer:
    """The offline answer ``off`` as the ``Answer`` that ``QA`` gives: ``notes`` before its
    own, ``resolved_question`` set only where resolving changed the ``cleaned`` question."""
    return Answer(
        question=question,
        text=off.text,
        abstained=off.abstained,
        citations=off.citations,
        passages=passages,
        timings=timings,
        answerer="offline",
        notes=notes + off.notes,
        resolved_question=resolved if resolved != cleaned else None,
    )


def clean_question(question: str) -> str:
    """Drop control characters and cap the length of a question."""
    q = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in str(question or ""))
    q = " ".join(q.split())
    return q[:MAX_QUESTION_CHARS]


class QA:
    """Question answering over a chip-news store.

    Example:
        >>> qa = QA.open(".rag")                      # doctest: +SKIP
        >>> qa.ingest(["corpus/"]).summary()          # doctest: +SKIP
        >>> qa.ask("What memory does the X100 have?").text  # doctest: +SKIP
    """

    def __init__(
        self,
        settings: Settings,
        embeddings: NamedEmbeddings | Embeddings | None = None,
        llm: Any = None,
        client: Any = None,
    ) -> None:
        self._owner_lease: Any = None
        via_owner = False
        if client is None:  # one owner per store: a live owner's server, else embedded
            from rag.owner import attach

            via_owner = not settings.chroma_url
            settings, self._owner_lease = attach(settings)
            via_owner = via_owner and bool(settings.chroma_url)
        self.settings = settings
        if embeddings is not None and not isinstance(embeddings, NamedEmbeddings):
            from rag.lc_embeddings import as_named

            embeddings = as_named(embeddings)  # any LangChain Embeddings
        self.embeddings = embeddings or make_embeddings(settings.embeddings)
        self.store = Store(settings, self.embeddings.embedder_id, client=client)
        if via_owner and self._owner_lease is None:  # another process's server
            self.store.reattach = self._reattach
        self._llm = llm
        self._doc_cache: OrderedDict[str, Document] = OrderedDict()
        self._search_index = SearchIndex(self.store, on_rebuild=self._doc_cache.clear)
        self._write_lock = threading.Lock()
        self._searchers: dict[tuple[str, bool], Searcher] = {}
        self._known_words: tuple[int, set[str]] = (-1, set())
        self._pinyin_words: tuple[int, dict[str, list[str]]] = (-1, {})
        self._factstore: FactStore | None = None
        self._facts_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        data_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        embeddings: NamedEmbeddings | Embeddings | str | None = None,
        llm: Any = None,
        client: Any = None,
        serve: bool | str = False,
        embedder_id: str | None = None,
        **overrides: Any,
    ) -> QA:
        """Open (or create) the store in ``data_dir``; other settings from ``RAG_*`` and overrides.

        Args:
            data_dir: store folder (default ``RAG_DATA_DIR`` or ``./.rag``).
            settings: full settings; otherwise read from the environment.
            embeddings: an embedder instance (any LangChain ``Embeddings``: ``OpenAIEmbeddings``,
                ``HuggingFaceEmbeddings``, ``DeterministicFakeEmbedding`` ...), or a spec
                string such as ``"minilm"``.
            llm: a LangChain chat model to use instead of the configured endpoint.
            client: a chromadb client to use instead of building one.
            serve: become the store's owner (``rag.owner.serve``): serve it through a Chroma
                server this process starts, so other processes can read and write it while
                this one runs. Long-running processes (``rag chat``) do this. ``"auto"``:
                only if nobody uses the store directly now (``rag ingest`` does this).
            embedder_id: the id the store records for ``embeddings`` (default: its class and
                model name, e.g. ``OpenAIEmbeddings:text-embedding-3-small``).
            **overrides: any ``Settings`` field, e.g. ``retrieval="dense"``.
        """
        if isinstance(embeddings, str):
            overrides["embeddings"] = embeddings
            embeddings = None
        elif embeddings is not None and (
            embedder_id or not isinstance(embeddings, NamedEmbeddings)
        ):
            from rag.lc_embeddings import as_named

            embeddings = as_named(embeddings, embedder_id)
        if settings is None:
            settings = settings_from_env(data_dir=data_dir, **overrides)
        elif data_dir is not None or overrides:
            settings = settings.with_(
                **({"data_dir": Path(data_dir)} if data_dir else {}), **overrides
            )
        lease = None
        if serve and client is None:
            from rag.owner import serve as become_owner

            settings, lease = (
                become_owner(settings, wait=0, fallback=True)
                if serve == "auto"
                else become_owner(settings)
            )
        qa = cls(settings, embeddings=embeddings, llm=llm, client=client)
        qa._owner_lease = qa._owner_lease or lease
        qa.store.docs  # connect now so a wrong embedder or a dead server fails here  # noqa: B018
        return qa

    def _reattach(self) -> Settings:
        """The owner went away: attach again (a new owner, or the store embedded)."""
        from rag.owner import attach

        settings, self._owner_lease = attach(self.settings.with_(chroma_url=None))
        self.settings = settings
        return settings

    @property
    def llm(self) -> Any:
        """The chat model for generative answers: the injected one, or one built from settings."""
        if self._llm is None:
            from rag.answer_llm import make_llm

            self._llm = make_llm(self.settings)
        return self._llm

    @llm.setter
    def llm(self, model: Any) -> None:
        """Answer with this chat model from now on (None: build one from settings on use)."""
        self._llm = model

    @property
    def has_llm(self) -> bool:
        """Whether generative answers are possible: an LLM is configured or was injected."""
        return bool(self.settings.llm_configured or self._llm is not None)

    # -- corpus -----------------------------------------------------------------------------
    def ingest(
        self,
        paths: Sequence[str | Path] | str | Path,
        *,
        prune: bool = False,
        progress: Any = False,
        on_chunks: Any = None,
    ) -> IngestReport:
        """Ingest files and folders incrementally; returns a report per file.

        ``progress=True`` shows a bar of chunks embedded; ``on_chunks(done, known)`` is
        called after every embedded batch.
        """
        if isinstance(paths, (str, Path)):
            paths = [paths]
        with self._write_lock:
            report = Ingestor(self.settings, self.store, self.embeddings, self.factstore()).ingest(
                [p if is_url(str(p)) else Path(p) for p in paths],
                prune=prune,
                progress=progress,
                on_chunks=on_chunks,
            )
        self._invalidate()
        return report

    def ingest_bytes(self, name: str, data: bytes, on_chunks: Any = None) -> IngestReport:
        """Ingest one uploaded file; ``on_chunks(done, total)`` after every embedded batch."""
        with self._write_lock:
            report = Ingestor(
                self.settings, self.store, self.embeddings, self.factstore()
            ).ingest_bytes(name, data, on_chunks=on_chunks)
        self._invalidate()
        return report

    def documents(self) -> list[Document]:
        """Every stored document, newest first."""
        return self.store.documents()

    def document(self, doc_id: str) -> Document:
        """One stored document by id; raises NotFoundError."""
        if doc_id in self._doc_cache:
            self._doc_cache.move_to_end(doc_id)
            return self._doc_cache[doc_id]
        doc = self.store.document(doc_id)
        self._doc_cache[doc_id] = doc
        if len(self._doc_cache) > 256:
            self._doc_cache.popitem(last=False)
        return doc

    def remove(self, doc_id_or_path: str) -> list[str]:
        """Delete a document by id, or every document read from a path; returns removed ids."""
        metas = self.store.doc_meta()
        if doc_id_or_path in metas:
            targets = [doc_id_or_path]
        else:
            import json

            try:
                key = path_key(doc_id_or_path)
            except (OSError, RuntimeError):  # a symlink loop cannot be resolved
                key = doc_id_or_path
            targets = [
                d
                for d, m in metas.items()
                if key in json.loads(m.get("paths") or "[]")
                or doc_id_or_path in json.loads(m.get("paths") or "[]")
            ]
        if not targets:
            raise NotFoundError(
                f"no document with id or path {doc_id_or_path!r}: 'rag docs' lists them"
            )
        with self._write_lock:
            for d in targets:
                self.store.delete_document(d)
                self.factstore().delete_document(d)
        self._invalidate()
        return targets

    def reset(self) -> None:
        """Delete everything in the store."""
        with self._write_lock:
            self.store.reset()
            self.factstore().clear()
        self._invalidate()

    def _invalidate(self) -> None:
        self._search_index.drop()
        self._doc_cache.clear()

    # -- knowledge --------------------------------------------------------------------------
    def factstore(self) -> FactStore:
        """The entities and facts of the stored documents (``<data_dir>/facts.sqlite3``).

        Brought in line with Chroma on first use: rebuilt when the file is new or was made
        by other extraction rules (its fingerprint), documents missing from it extracted,
        documents Chroma no longer holds dropped.
        """
        if self._factstore is not None:
            return self._factstore
        with self._facts_lock:
            if self._factstore is None:
                from rag.facts import EXTRACTOR_VERSION
                from rag.factstore import FactStore, data_fingerprint
                from rag.ingest import write_knowledge

                fs = FactStore(Path(self.settings.data_dir) / "facts.sqlite3")
                fp = data_fingerprint(EXTRACTOR_VERSION)
                if fs.fingerprint() != fp:
                    fs.clear()
                have = fs.doc_ids()
                stored = set(self.store.doc_meta())
                for doc_id in have - stored:
                    fs.delete_document(doc_id)
                missing = sorted(stored - have)
                step = REBUILD_BATCH
                for i in range(0, len(missing), step):  # a transaction each, as ingest writes
                    docs = []
                    for doc_id in missing[i : i + step]:
                        try:
                            docs.append(self.store.document(doc_id))
                        except Exception:  # one document's failure never blocks the rest
                            continue
                    write_knowledge(fs, docs)
                fs.set_fingerprint(fp)
                self._factstore = fs
            return self._factstore

    def facts(
        self,
        entity: str | None = None,
        attribute: str | None = None,
        vendors: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[Fact]:
        """Facts learned from the stored articles, filtered (see ``FactStore.facts``)."""
        return self.factstore().facts(
            entity=entity, attribute=attribute, vendors=vendors, since=since, until=until
        )

    def entities(self) -> list[Entity]:
        """Entities learned from the stored articles, merged over documents."""
        return self.factstore().entities()

    # -- retrieval --------------------------------------------------------------------------
    def index(self) -> ChunkIndex:
        """The chunk table and keyword index, rebuilt when the store changed."""
        return self._search_index.current()

    def searcher(self, **overrides: Any) -> Searcher:
        """The searcher for a retrieval mode and glossary setting (one per combination)."""
        key = (
            overrides.get("mode", self.settings.retrieval),
            overrides.get("glossary", self.settings.glossary),
        )
        if key not in self._searchers:
            self._searchers[key] = Searcher(
                self._search_index, self.embeddings, mode=key[0], glossary=key[1]
            )
        return self._searchers[key]

    def known_words(self) -> set[str]:
        """Every Latin-script word of the corpus, lower-cased (to spot names it never mentions)."""
        idx = self.index()
        if self._known_words[0] != idx.generation:
            import re

            words = {w.lower() for t in idx.texts for w in re.findall(r"[A-Za-z][A-Za-z\-]+", t)}
            words |= {
                w.lower()
                for d in idx.docs.values()
                for w in re.findall(r"[A-Za-z][A-Za-z\-]+", d.title)
            }
            self._known_words = (idx.generation, words)
        return self._known_words[1]

    def pinyin_words(self) -> dict[str, list[str]]:
        """The corpus's Chinese words by their toneless pinyin ("xinghehu": 星河湖), so a
        question may spell a Chinese name the articles never romanise."""
        idx = self.index()
        if self._pinyin_words[0] != idx.generation:
            from pypinyin import lazy_pinyin

            from rag.lang import HAN_CHAR

            found: dict[str, list[str]] = {}
            for tok in idx.vocab:
                if 2 <= len(tok) <= 8 and all(HAN_CHAR.match(ch) for ch in tok):
                    found.setdefault("".join(lazy_pinyin(tok)).lower(), []).append(tok)
            self._pinyin_words = (idx.generation, found)
        return self._pinyin_words[1]

    def spelled(self, question: str) -> dict[str, list[str]]:
        """Latin words of the question the corpus never writes that are the pinyin of a
        Chinese word it does write ("Xinghehu" -> 星河湖), with those words."""
        import re

        known = self.known_words()
        words = {w for w in re.findall(r"[A-Za-z]{4,}", question) if w.lower() not in known}
        table = self.pinyin_words() if words else {}
        return {w: table[w.lower()][:2] for w in words if w.lower() in table}

    def expansions(self, analysis: Analysis) -> list[str]:
        """Keywords retrieval adds to a question: its entities' learned names in the other
        script, and the Chinese words its pinyin spells."""
        spelled = [h for hs in self.spelled(analysis.question).values() for h in hs]
        out = other_script_names(analysis)
        return [
            *out,
            *[h for h in dict.fromkeys(spelled) if h not in out and h not in analysis.question],
        ]

    def search(
        self,
        query: str,
        k: int | None = None,
        *,
        vendors: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        expand: Sequence[str] = (),
        only: set[str] | None = None,
        **overrides: Any,
    ) -> SearchResult:
        """Retrieve the ``k`` best passages for a query (no answer); ``expand`` adds keyword
        terms such as the other-language names of the question's entities; ``only`` limits
        the search to these documents."""
        return self.searcher(**overrides).search(
            query,
            k or self.settings.k,
            vendors=vendors,
            since=since,
            until=until,
            expand=expand,
            only=only,
        )

    def as_retriever(self, **kwargs: Any) -> HybridRetriever:
        """The hybrid search as a LangChain ``BaseRetriever``."""
        from rag.retriever import HybridRetriever

        return HybridRetriever(qa=self, **kwargs)

    # -- answering --------------------------------------------------------------------------
    def fact_table(self) -> Any:
        """The learned entities and facts (what the question analyser matches names against),
        or None where they cannot be opened."""
        try:
            return self.factstore()
        except RagError:
            return None

    def docs_for(self, passages: list[Any]) -> dict[str, Document]:
        """The documents of ``passages`` by id. One that another process removed after the
        search found it is left out; ``live_passages`` drops its passages."""
        out: dict[str, Document] = {}
        for p in passages:
            if p.doc_id not in out:
                try:
                    out[p.doc_id] = self.document(p.doc_id)
                except NotFoundError:
                    continue
        return out

    @staticmethod
    def live_passages(passages: list[Any], docs: dict[str, Document]) -> list[Any]:
        """The passages whose documents ``docs_for`` still found."""
        return [p for p in passages if p.doc_id in docs]

    def answerer_name(self, answerer: str | None = None) -> str:
        choice = answerer or self.settings.answerer
        if choice == "auto":
            return "llm" if self.has_llm else "offline"
        return choice

    def ask(
        self,
        question: str,
        history: list[Any] | None = None,
        *,
        k: int | None = None,
        vendors: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        answerer: str | None = None,
        **overrides: Any,
    ) -> Answer:
        """Answer a question with citations, or abstain."""
        answer: Answer | None = None
        for event in self.stream(
            question,
            history,
            k=k,
            vendors=vendors,
            since=since,
            until=until,
            answerer=answerer,
            **overrides,
        ):
            match event:
                case Final(answer=done):
                    answer = done
        assert answer is not None
        return answer

    def stream(
        self,
        question: str,
        history: list[Any] | None = None,
        *,
        k: int | None = None,
        vendors: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        answerer: str | None = None,
        **overrides: Any,
    ) -> Iterator[StreamEvent]:
        """Stream an answer: ``TextDelta`` events as the text is produced, then one ``Final``.

        The deltas joined are the text to show while the answer is written (an LLM failure
        note, then the offline answer, when the LLM fails); ``Final.answer`` is the finished
        ``Answer`` with its citations, the same ``ask`` returns. Take it with ``match``::

            for event in qa.stream(question):
                match event:
                    case TextDelta(text):
                        print(text, end="")
                    case Final(answer):
                        show_sources(answer.citations)
        """
        t0 = time.perf_counter()
        q = clean_question(question)
        empty = empty_answer(str(question), q)
        if empty is not None:
            yield TextDelta(empty.text)
            yield Final(empty)
            return
        use = self.answerer_name(answerer)
        t = time.perf_counter()
        facts = self.fact_table()
        analysis = analyse(q, history, facts)
        resolved = self.resolve_question(q, history, use, analysis)
        timings: dict[str, float] = {"followup": time.perf_counter() - t}
        t = time.perf_counter()
        result = self.search(
            resolved,
            k,
            vendors=vendors,
            since=since,
            until=until,
            expand=self.expansions(analysis),
            **overrides,
        )
        timings.update({f"retrieve_{k_}": v for k_, v in result.timings.items()})
        timings["embed"] = result.timings.get("embed", 0.0)
        timings["retrieve"] = time.perf_counter() - t
        docs = self.docs_for(result.passages)
        result.passages = self.live_passages(result.passages, docs)
        t = time.perf_counter()
        notes: list[str] = []
        if use == "llm":
            try:
                events = self.stream_llm(q, resolved, result.passages, docs, analysis, facts)
                yield from _timed(events, timings, t, t0)
                return
            except LLMError as e:
                notes.append(f"LLM failed, offline answer given: {e}")
                yield TextDelta(f"[{e}]\n")
        filters = {"vendors": vendors, "since": since, "until": until}
        off = self.compose_offline(analysis, facts, resolved, result.passages, docs, filters)
        timings["answer"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - t0
        yield TextDelta(off.text)
        yield Final(
            offline_result(
                str(question),
                off,
                result.passages,
                timings=timings,
                notes=notes,
                resolved=resolved,
                cleaned=q,
            )
        )

    def resolve_question(
        self, q: str, history: list[Any] | None, use: str, analysis: Analysis
    ) -> str:
        """The question with what a follow-up refers to spelled out: from ``analysis``
        (``rag.question.analyse`` of ``q`` and ``history``), condensed by the LLM instead
        when ``use`` is ``"llm"`` and there is history (the analysis' form if it fails)."""
        resolved = resolved_text(analysis)
        if use == "llm" and history:
            try:
                from rag.answer_llm import condense_question

                resolved = condense_question(self.llm, q, history) or resolved
            except LLMError:
                pass
        return resolved

    def stream_llm(
        self,
        q: str,
        resolved: str,
        passages: list[Any],
        docs: dict[str, Document],
        analysis: Analysis | None = None,
        facts: Any = None,
    ) -> Iterator[StreamEvent]:
        """The LLM's answer to ``q`` (sent as ``resolved``) from ``passages``: ``TextDelta``
        events, then one ``Final`` (``rag.answer_llm.stream_llm_answer``). With ``analysis``
        and ``facts`` (the fact table), the question's facts go along as numbered sources.

        Raises:
            LLMError: the endpoint failed; the caller gives the offline answer.
        """
        from rag.answer_llm import model_label, stream_llm_answer

        # facts of the documents retrieval let through (filters hold for facts too)
        known = (
            [f for f in relevant_facts(analysis, facts, passages) if f.doc_id in docs]
            if analysis is not None and passages
            else []
        )
        yield from stream_llm_answer(
            self.llm,
            q,
            resolved,
            passages,
            docs,
            timeout=self.settings.llm_timeout,
            label=model_label(self.llm, self.settings.llm_model),
            facts=known,
            document=self.document,
            known_words=self.known_words,
        )

    def _doc_loader(self, docs: dict[str, Document]) -> Any:
        """The documents an answer already holds first: another process may remove one while
        this answer is written (its index refresh drops the cache)."""
        return lambda doc_id: docs[doc_id] if doc_id in docs else self.document(doc_id)

    def _with_also_reported(
        self, off: OfflineAnswer, lang: str, docs: dict[str, Document]
    ) -> OfflineAnswer:
        """A story other outlets carried too says so under the answer."""
        from rag.dedup import also_reported

        lines = []
        for c in off.citations:
            if c.doc_id not in docs:
                continue
            line = also_reported(docs[c.doc_id], lang)
            if line and line not in lines:
                lines.append(f"[{c.n}] {line}")
        if not lines:
            return off
        return OfflineAnswer(off.text + "\n" + "\n".join(lines), off.citations, False, off.notes)

    def _answer_sentences(
        self,
        analysis: Analysis,
        facts: Any,
        resolved: str,
        passages: list[Any],
        docs: dict[str, Document],
    ) -> OfflineAnswer:
        """The sentence answer (``rag.answer_offline``) over these passages."""
        return answer_offline(
            resolved,
            passages,
            docs,
            known_words=self.known_words() | {w.lower() for w in self.spelled(analysis.question)},
            lang=analysis.lang,
            analysis=analysis
            if resolved == analysis.question and not analysis.followup
            else analyse(resolved, None, facts),
            facts=facts,
        )

    def _docs_naming(self, analysis: Analysis, every_kind: bool = False) -> set[str]:
        """The documents a chunk of which holds a name of a product or model the question
        names (every keyword token of one of its names); ``every_kind``: of any entity."""
        index = self.index()
        out: set[str] = set()
        for e in analysis.entities:
            if e.entity_id and e.kind not in ("product", "model") and not every_kind:
                continue
            for name in dict.fromkeys([e.text, *e.aliases]):
                out |= index.docs_with(tokenize(name))
        return out

    def _with_side(
        self,
        analysis: Analysis,
        facts: Any,
        resolved: str,
        passages: list[Any],
        filters: dict[str, Any],
    ) -> tuple[list[Any], dict[str, Document], OfflineAnswer] | None:
        """Two or more things named, and no passage naming one of them ("A vs B valuation", B's
        story drowned by A's): the passages found, and the best ones of the documents naming
        it, answer together; None when that answers no better."""
        from rag.evidence import alias_in
        from rag.textnorm import normalize

        found = normalize("\n".join(p.text for p in passages))
        lacking: set[str] = set()
        for e in analysis.entities:
            if any(alias_in(x, found) for x in [e.text, *e.aliases]):
                continue
            lacking |= self._docs_naming(replace(analysis, entities=[e]), every_kind=True)
        if not lacking:
            return None
        extra = self.search(resolved, len(passages) or None, only=lacking, **filters).passages
        if not extra:
            return None
        keep = max(1, len(passages) - len(extra[:2]))
        merged = [*passages[:keep], *extra[:2]]
        docs = self.docs_for(merged)
        off = self._answer_sentences(analysis, facts, resolved, merged, docs)
        return None if off.abstained else (merged, docs, off)

    def _answer_within(
        self,
        only: set[str],
        analysis: Analysis,
        facts: Any,
        resolved: str,
        k: int,
        filters: dict[str, Any],
    ) -> tuple[list[Any], dict[str, Document], OfflineAnswer] | None:
        """The passages, documents and sentence answer of a search of these documents alone
        (``k`` passages, or the default); None when it finds no passage."""
        again = self.search(resolved, k or None, only=only, **filters)
        if not again.passages:
            return None
        more = self.docs_for(again.passages)
        return (
            again.passages,
            more,
            self._answer_sentences(analysis, facts, resolved, again.passages, more),
        )

    def compose_offline(
        self,
        analysis: Analysis,
        facts: Any,
        resolved: str,
        passages: list[Any],
        docs: dict[str, Document],
        filters: dict[str, Any],
    ) -> OfflineAnswer:
        """Sentences answer; facts lead them in the asker's language where a fact agrees
        with a quote, and a list question is answered from every document's facts."""
        off = self._answer_sentences(analysis, facts, resolved, passages, docs)
        if off.reason is Reason.ENTITY_ABSENT:
            # a name the passages lack may still be in the corpus, drowned by the question's
            # common words: search the documents that name it before saying none does
            naming = self._docs_naming(analysis)
            if naming and not naming & {p.doc_id for p in passages}:
                redo = self._answer_within(
                    naming, analysis, facts, resolved, len(passages), filters
                )
                if redo is not None:
                    passages, docs, off = redo
            elif len(analysis.entities) > 1:
                side = self._with_side(analysis, facts, resolved, passages, filters)
                if side is not None:
                    passages, docs, off = side
        elif off.reason in ASKED_ABSENT:
            # what was asked may be in a document naming the entity that other documents'
            # common words pushed out of the top k (an English question, a Chinese report)
            naming = self._docs_naming(analysis, every_kind=True)
            if off.reason is not Reason.PERIOD_ABSENT:
                naming -= {p.doc_id for p in passages}
            # (the asked period's figure may sit in another chunk of a document retrieved)
            redo = (
                self._answer_within(naming, analysis, facts, resolved, len(passages), filters)
                if naming
                else None
            )
            if redo is not None and not redo[2].abstained:
                passages, docs, off = redo
        whole = self._whole_answer(analysis, facts, resolved, passages, docs, filters, off)
        if whole is not None:
            return whole
        retrieved = {p.doc_id for p in passages}
        if off.reason is Reason.ATTRIBUTE_ABSENT:
            # no sentence was read as stating it, but a fact of a retrieved document does
            return self._from_facts(analysis, facts, passages, docs, retrieved) or off
        if off.abstained:
            return off
        if "latest" in analysis.intents:
            # the newest dated figure, and what it replaced, may be in any document
            within = retrieved if any(filters.values()) else None
            newest = self._from_facts(analysis, facts, passages, docs, within)
            if newest is not None:
                return newest
        # a compared side no quote gives the asked figure for may have it in another document
        if (
            analysis.intent == "compare"
            and len(sides(analysis)) > 1
            and uncited_targets(analysis, facts, off.citations)
        ):
            both = self._from_facts(analysis, facts, passages, docs, None)
            if both is not None:
                return both
        off = self._with_also_reported(off, analysis.lang, docs)
        lead = fact_leads(analysis, facts, off.citations)
        if lead is None:
            return off
        sep = "" if analysis.lang == "zh" else "\n"
        text = off.text.removeprefix(other_language_lead(analysis.lang))
        return OfflineAnswer(lead + sep + text, off.citations, False, [*off.notes, "fact lead"])

    def _whole_answer(
        self,
        analysis: Analysis,
        facts: Any,
        resolved: str,
        passages: list[Any],
        docs: dict[str, Document],
        filters: dict[str, Any],
        off: OfflineAnswer,
    ) -> OfflineAnswer | None:
        """An answer of its own kind in place of the sentences: a list from every document's
        facts, a product's spec sheet, or the products of a named line; None otherwise."""
        searched = off.reason not in (Reason.ENTITY_ABSENT, Reason.UNDISCLOSED)
        if searched and list_mode(analysis):
            # a list draws on every document the question is about, not only the top k
            wide = self._list_passages(analysis, resolved, filters)
            scope = {p.doc_id for p in wide}
            if not any(filters.values()):
                # the chips using a named memory, a named line's models: every document
                # naming the product or model, however far down the ranking it stands
                scope |= self._docs_naming(analysis)
            try:
                listed = answer_list(
                    analysis, facts, wide, self._doc_loader(docs), allowed_docs=scope
                )
            except NotFoundError:  # a document removed meanwhile by another process
                listed = None
            if listed is not None:
                return OfflineAnswer(listed.text, listed.citations, False, listed.notes)
        if analysis.attributes:
            return None
        if not off.abstained:
            # "织女一号的参数": every figure the facts hold for the product
            try:
                specs = answer_specs(analysis, facts, passages, self._doc_loader(docs))
            except NotFoundError:  # a document removed meanwhile by another process
                specs = None
            if specs is not None:
                return _with_quotes(specs, analysis.lang)
        # "织女系列有哪几代产品": the products whose names open with the named line's
        return self._members(analysis, facts, resolved, filters, docs) if searched else None

    def _members(
        self,
        analysis: Analysis,
        facts: Any,
        resolved: str,
        filters: dict[str, Any],
        docs: dict[str, Document],
    ) -> OfflineAnswer | None:
        """The products of the line a list question asking no attribute names."""
        if facts is None or not member_lines(analysis):
            return None  # asked of no line: no wide search on the way to the sentences
        wide = self.search(resolved, LIST_DEPTH, **filters).passages
        try:
            got = answer_members(analysis, facts, wide, self._doc_loader(docs))
        except NotFoundError:  # a document removed meanwhile by another process
            return None
        if got is None:
            return None
        return OfflineAnswer(got.text, got.citations, False, got.notes)

    def _list_passages(
        self, analysis: Analysis, resolved: str, filters: dict[str, Any]
    ) -> list[Any]:
        """The passages a list draws on: the question's, then those found with the asked
        attributes' names in the other language added ("listed" finds 上市 reports)."""
        wide = list(self.search(resolved, LIST_DEPTH, **filters).passages)
        other = "en" if analysis.lang == "zh" else "zh"
        names = " ".join(label(x, other) for x in analysis.attributes[:2])
        if names:
            seen = {(p.doc_id, p.chunk_id) for p in wide}
            more = self.search(f"{resolved} {names}", LIST_DEPTH, **filters).passages
            wide += [p for p in more if (p.doc_id, p.chunk_id) not in seen]
        return wide

    def _from_facts(
        self,
        analysis: Analysis,
        facts: Any,
        passages: list[Any],
        docs: dict[str, Document],
        scope: set[str] | None,
    ) -> OfflineAnswer | None:
        """The answer composed from the fact table (documents in ``scope``, or any), then the
        sentences its figures come from; None when facts do not answer every entity asked."""
        if facts is None:
            return None
        try:
            got = answer_from_facts(
                analysis, facts, passages, self._doc_loader(docs), allowed_docs=scope
            )
        except NotFoundError:  # a document removed meanwhile by another process
            return None
        if got is None or got.missing:
            return None
        return _with_quotes(got, analysis.lang)

    def as_runnable(self) -> Any:
        """The whole pipeline as a LangChain chain: ``QAInput -> Answer`` (see ``rag.chain``)."""
        from rag.chain import build_chain

        return build_chain(self)


def _with_quotes(got: Any, lang: str) -> OfflineAnswer:
    """A fact-composed answer, then the sentences its figures come from."""
    zh = lang == "zh"
    quotes = ("" if zh else " ").join(quoted(c.quote, c.n, zh=zh) for c in got.citations)
    text = f"{got.text}\n{quotes}" if quotes else got.text
    return OfflineAnswer(text, got.citations, False, got.notes)


def _timed(
    events: Iterator[StreamEvent], timings: dict[str, float], t: float, t0: float
) -> Iterator[StreamEvent]:
    """The LLM answer's events, its ``Final`` answer given the ask's timings (retrieval and
    the rest, from ``t0``; the answer's own, from ``t``)."""
    final: Answer | None = None
    for event in events:
        match event:
            case TextDelta():
                yield event
            case Final(answer=done):
                final = done
    assert final is not None
    final.timings.update(timings)
    final.timings["answer"] = time.perf_counter() - t
    final.timings["total"] = time.perf_counter() - t0
    yield Final(final)


__all__ = ["QA", "RagError"]
