"""The ``rag`` command: ingest, list, ask, chat, doctor, eval, bench.

Exit codes, for scripts: 0 all good; 1 some files failed, nothing matched, or a
``RagError`` (printed as one ``error:`` line on stderr); 2 usage errors (bad ``--since``,
``--k``, an unknown vendor). A closed pipe (``rag docs | head -1``) ends quietly.
Heavy modules are imported inside the command that needs them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from rag.errors import ConfigError, RagError

_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
MAX_K = 100


class UsageError(RagError):
    """A command-line argument is wrong (exit code 2)."""


def date_arg(value: str) -> str:
    """``--since``/``--until``: YYYY, YYYY-MM or YYYY-MM-DD."""
    v = value.strip()
    if not _DATE.match(v):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD"
        )
    return v


def k_arg(value: str) -> int:
    """``--k``: a whole number of passages from 1 to ``MAX_K``."""
    try:
        k = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 1 <= k <= MAX_K:
        raise argparse.ArgumentTypeError(f"{k} is out of range: use 1 to {MAX_K}")
    return k


def check_vendors(qa: Any, vendors: list[str] | None) -> None:
    """Refuse a ``--vendor`` that is neither a glossary vendor nor in any stored document."""
    if not vendors:
        return
    from rag.glossary import canonical_vendor

    stored = {v.lower() for d in qa.store.documents(with_text=False) for v in d.vendors}
    for v in vendors:
        if canonical_vendor(v) is None and v.strip().lower() not in stored:
            known = ", ".join(sorted(stored)[:12])
            raise UsageError(f"unknown vendor {v!r}: stored documents name {known or 'none'}")


def _qa(args: argparse.Namespace, serve: bool | str = False) -> Any:
    from rag.qa import QA

    return QA.open(args.data_dir, serve=serve)


def _ingest_ray(args: argparse.Namespace) -> Any:
    from rag.config import settings_from_env
    from rag.ray_ingest import ingest_ray

    settings = settings_from_env(data_dir=args.data_dir)
    return ingest_ray(
        args.ray,
        [Path(p) for p in args.paths],
        settings,
        workers=args.ray_workers,
        prune=args.prune,
        progress=not args.quiet,
    )


def cmd_ingest(args: argparse.Namespace) -> int:
    if getattr(args, "ray", None):
        report = _ingest_ray(args)
    else:
        # an ingest can run for minutes: it owns the store meanwhile (unless a chat already
        # does, or other commands use it directly), so a `rag ask` in another terminal goes
        # through its server instead of opening the files under a writer (rag.owner)
        qa = _qa(args, serve="auto")
        report = qa.ingest(list(args.paths), prune=args.prune, progress=not args.quiet)
    for f in report.failures:
        print(f"failed: {f.path}: {f.message}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.summary())
    if not report.files:
        print("error: no .txt, .md or .html file under the paths given", file=sys.stderr)
        return 1
    return 1 if report.failures else 0


def cmd_docs(args: argparse.Namespace) -> int:
    qa = _qa(args)
    docs = qa.store.documents(with_text=False)
    if args.json:
        print(json.dumps([d.to_dict(with_text=False) for d in docs], ensure_ascii=False, indent=2))
        return 0
    if not docs:
        print("the store is empty: run 'rag ingest corpus/'")
        return 0
    for d in docs:
        vendors = ",".join(d.vendors[:4])
        print(
            f"{d.doc_id}  {d.date or '----------':10}  {d.lang:2}  {d.n_chunks:3} chunks  {d.title[:60]}  [{vendors}]"
        )
    print(f"{len(docs)} documents")
    return 0


def cmd_doc(args: argparse.Namespace) -> int:
    qa = _qa(args)
    d = qa.document(args.doc_id)
    if args.json:
        print(json.dumps(d.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(
            f"{d.title}\n{d.date or ''}  {d.lang}  {', '.join(d.vendors)}\n{d.url or d.source}\n\n{d.text}"
        )
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from rag.errors import NotFoundError

    qa = _qa(args)
    missing = 0
    for target in args.targets:
        try:
            removed = qa.remove(target)
        except NotFoundError as e:  # the other targets are still removed
            print(f"error: {e}", file=sys.stderr)
            missing += 1
            continue
        for doc_id in removed:
            print(f"removed {doc_id}")
    return 1 if missing else 0


def cmd_reset(args: argparse.Namespace) -> int:
    if not args.yes:
        print("this deletes every document in the store: run 'rag reset --yes'", file=sys.stderr)
        return 2
    _qa_no_check(args).reset()
    print("store emptied")
    return 0


def _qa_no_check(args: argparse.Namespace) -> Any:
    """A QA that does not connect (and so does not check the embedder) before resetting."""
    from rag.config import settings_from_env
    from rag.qa import QA

    return QA(settings_from_env(data_dir=args.data_dir))  # attaches to a live owner too


def cmd_ask(args: argparse.Namespace) -> int:
    qa = _qa(args)
    check_vendors(qa, args.vendor)
    kwargs: dict[str, Any] = {
        "k": args.k,
        "vendors": args.vendor or None,
        "since": args.since,
        "until": args.until,
        "answerer": args.answerer,
    }
    if args.json:
        ans = qa.ask(args.question, **kwargs)
        print(json.dumps(ans.to_dict(), ensure_ascii=False, indent=2))
        return 0
    from rag.types import Answer, Final, TextDelta

    final: Answer | None = None
    for event in qa.stream(args.question, **kwargs):
        match event:
            case TextDelta(text):
                print(text, end="", flush=True)
            case Final(answer):
                final = answer
    print()
    if final is not None:
        for c in final.citations:
            where = c.url or c.source
            page = f", p. {c.page}" if c.page else ""
            print(f"  [{c.n}] {c.title} ({c.date or 'undated'}{page}) {where}\n      “{c.quote}”")
            also = _also_line(qa, c.doc_id, final.question)
            if also:
                print(f"      ({also})")
        for note in final.notes:
            if note.startswith("LLM failed"):
                print(f"note: {note}", file=sys.stderr)
    return 0


def _also_line(qa: Any, doc_id: str, question: str) -> str:
    """ "also reported by ..." for a cited story that other outlets ran too."""
    from rag.dedup import also_reported
    from rag.lang import is_chinese

    try:
        doc = qa.document(doc_id)
    except RagError:
        return ""
    return also_reported(doc, "zh" if is_chinese(question) else "en")


def cmd_feed(args: argparse.Namespace) -> int:
    from rag.config import settings_from_env
    from rag.feeds import FeedList, parse_every, pull

    feeds = FeedList(settings_from_env(data_dir=args.data_dir).data_dir)
    if args.feed_command == "add":
        for url in args.urls:
            feeds.add(url)
            print(f"following {url}")
        return 0
    if args.feed_command == "remove":
        for url in args.urls:
            feeds.remove(url)
            print(f"no longer following {url} (its articles stay in the store)")
        return 0
    if args.feed_command == "list":
        if args.json:
            print(json.dumps([f.__dict__ for f in feeds], ensure_ascii=False, indent=2))
        for f in [] if args.json else feeds:
            when = "never pulled" if f.last_pulled is None else f"{f.items} items"
            err = f"  last error: {f.last_error}" if f.last_error else ""
            print(f"{f.url}  {f.title or '(untitled)'}  {when}{err}")
        return 0
    every = parse_every(args.every) if args.every else None
    import time

    while True:
        report = pull(feeds, lambda: _qa(args))
        for line in report.lines:
            print(line, file=sys.stderr if line.startswith(("feed ", "item ")) else sys.stdout)
        print(report.summary(), flush=True)
        if every is None:
            return 0
        time.sleep(every)


def cmd_chat(args: argparse.Namespace) -> int:
    from rag.web import launch

    launch(data_dir=args.data_dir, host=args.host, port=args.port, corpus=args.corpus)
    return 0


def cmd_eval(args: argparse.Namespace, rest: list[str]) -> int:
    if "--llm-faults" in rest:
        from evals.llm_faults import main as llm_faults_main

        return int(llm_faults_main(rest) or 0)
    from evals.harness import main as eval_main

    try:
        return int(eval_main(rest) or 0)
    except ModuleNotFoundError as e:
        raise _needs_extra("rag eval", e) from e


def cmd_doctor(args: argparse.Namespace) -> int:
    from rag.doctor import run_doctor

    return run_doctor(timeout=args.timeout)


def cmd_bench(args: argparse.Namespace, rest: list[str]) -> int:
    # benchmarks/ is not an installed package: it lives beside rag/ in the checkout, which
    # is not on sys.path when the ``rag`` console script runs from another folder.
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "benchmarks" / "bench.py").is_file() and str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    try:
        from benchmarks.bench import main as bench_main
    except ImportError as e:
        if isinstance(e, ModuleNotFoundError) and not (e.name or "").startswith("benchmarks"):
            raise _needs_extra("rag bench", e) from e
        raise RagError(f"the benchmark needs the repository checkout (benchmarks/): {e}") from e
    try:
        return int(bench_main(rest) or 0)
    except ModuleNotFoundError as e:  # psutil, matplotlib, the LangChain baseline: the eval extra
        raise _needs_extra("rag bench", e) from e


def _needs_extra(command: str, e: ModuleNotFoundError) -> RagError:
    if isinstance(e, RagError):
        return e
    return RagError(
        f"{command} needs {e.name or 'a module'}, which this install lacks: "
        "pip install 'chipnews-rag[eval]'"
    )


def cmd_facts(args: argparse.Namespace) -> int:
    """``rag facts [ENTITY] [--attribute A] [--vendor V] [--since] [--until] [--csv|--json]``."""
    import re

    from rag.facts import attributes
    from rag.factstore import facts_csv

    vocab = attributes()
    if args.attribute and args.attribute not in vocab:
        raise ConfigError(f"unknown attribute {args.attribute!r}: one of {', '.join(vocab)}")
    for flag in ("since", "until"):
        value = getattr(args, flag)
        if value and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
            raise ConfigError(f"--{flag} takes YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}")
    facts = _qa(args).facts(
        entity=args.entity,
        attribute=args.attribute,
        vendors=args.vendor or None,
        since=args.since,
        until=args.until,
    )
    if args.json:
        print(json.dumps([f.to_dict() for f in facts], ensure_ascii=False, indent=2))
    elif args.csv:
        sys.stdout.write(facts_csv(facts))
    elif not facts:
        print("no facts match: 'rag facts' lists them all", file=sys.stderr)
    else:
        for f in facts:
            extra = " ".join(x for x in (f.precision, f.qualifier, f.period) if x)
            print(f"{f.entity:18} {vocab[f.attribute].en:22} {f.value:16} {extra:28} {f.doc_id}")
        print(f"{len(facts)} facts")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rag",
        description="Question answering over chip-industry news with verified citations.",
    )
    p.add_argument(
        "--data-dir", default=None, help="store folder (default $RAG_DATA_DIR or ./.rag)"
    )
    sub = p.add_subparsers(dest="command", required=True)

    _add_store_commands(sub)
    _add_answer_commands(sub)
    _add_tool_commands(sub)
    return p


def _add_store_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """ingest, docs, doc, remove, reset: what the store holds."""
    s = sub.add_parser("ingest", help="add files, folders or URLs to the store")
    s.add_argument("paths", nargs="+")
    s.add_argument(
        "--prune",
        action="store_true",
        help="delete stored documents whose files under PATHS are gone",
    )
    s.add_argument("--json", action="store_true")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument(
        "--ray",
        metavar="ADDRESS",
        default=None,
        help="run load/clean/chunk/embed on this Ray cluster, writing into RAG_CHROMA_URL",
    )
    s.add_argument(
        "--ray-workers", type=int, default=None, help="embedding workers (default: cluster CPUs)"
    )
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("docs", help="list stored documents")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_docs)

    s = sub.add_parser("doc", help="show one document")
    s.add_argument("doc_id")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_doc)

    s = sub.add_parser("remove", help="delete documents by id or by file path")
    s.add_argument("targets", nargs="+", metavar="DOC_ID|PATH")
    s.set_defaults(func=cmd_remove)

    s = sub.add_parser("reset", help="delete everything in the store")
    s.add_argument("--yes", action="store_true")
    s.set_defaults(func=cmd_reset)


def _add_answer_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """ask, chat, facts: answers and the spec sheet."""
    s = sub.add_parser("ask", help="answer a question with citations")
    s.add_argument("question")
    s.add_argument("--json", action="store_true")
    s.add_argument("--k", type=k_arg, default=None, help=f"passages to use, 1-{MAX_K} (default 5)")
    s.add_argument(
        "--vendor", action="append", help="only documents about this vendor (repeatable)"
    )
    s.add_argument("--since", type=date_arg, help="only documents dated on or after YYYY[-MM[-DD]]")
    s.add_argument(
        "--until", type=date_arg, help="only documents dated on or before YYYY[-MM[-DD]]"
    )
    s.add_argument("--answerer", choices=["auto", "offline", "llm"], default=None)
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser(
        "chat", help="start the web chat (ingests corpus/ first if the store is empty)"
    )
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=7860)
    s.add_argument("--corpus", default="corpus", help="folder ingested when the store is empty")
    s.set_defaults(func=cmd_chat)

    s = sub.add_parser("facts", help="the spec sheet: facts learned from the articles")
    s.add_argument("entity", nargs="?", help="an entity by any of its names (or its vendor)")
    s.add_argument("--attribute", help="one attribute id (memory_capacity, price ...)")
    s.add_argument("--vendor", action="append", help="only this vendor's entities (repeatable)")
    s.add_argument("--since", help="periods on or after YYYY[-MM[-DD]]")
    s.add_argument("--until", help="periods on or before YYYY[-MM[-DD]]")
    fmt = s.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true")
    fmt.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_facts)


def _add_tool_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """feed, doctor, eval, bench."""
    s = sub.add_parser("feed", help="follow RSS/Atom feeds: add, list, remove, pull")
    feed_sub = s.add_subparsers(dest="feed_command", required=True)
    f = feed_sub.add_parser("add", help="follow a feed")
    f.add_argument("urls", nargs="+", metavar="URL")
    f = feed_sub.add_parser("remove", help="stop following a feed")
    f.add_argument("urls", nargs="+", metavar="URL")
    f = feed_sub.add_parser("list", help="the followed feeds")
    f.add_argument("--json", action="store_true")
    f = feed_sub.add_parser("pull", help="ingest the new items of every feed")
    f.add_argument("--every", help="keep pulling at this interval (30m, 2h); Ctrl-C stops")
    s.set_defaults(func=cmd_feed)

    s = sub.add_parser(
        "doctor", help="check the LLM endpoint: reachable, model, streaming, answer language"
    )
    s.add_argument("--timeout", type=float, default=None, help="seconds per check")
    s.set_defaults(func=cmd_doctor)

    s = sub.add_parser(
        "eval",
        help="run the evaluation harness (options: rag eval --help; "
        "rag eval --llm-faults measures the citation verifier)",
        add_help=False,
    )
    s.set_defaults(func=cmd_eval, passthrough=True)
    s = sub.add_parser(
        "bench", help="run the benchmark (options: rag bench --help)", add_help=False
    )
    s.set_defaults(func=cmd_bench, passthrough=True)


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # the program itself, not a caller passing its own arguments
        from rag.gcpolicy import program_policy

        program_policy()  # a cold `rag ask` 1.34 -> 1.02 s median here (rag.gcpolicy)
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "passthrough", False):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        if getattr(args, "passthrough", False):
            return int(args.func(args, rest))
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
        return code
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except RagError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _closed_pipe()


def _closed_pipe() -> int:
    """The reader went away (``rag docs | head -1``): end quietly, as ``cat`` would.

    stdout is pointed at /dev/null so that flushing it at exit raises nothing more.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout already gone
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
