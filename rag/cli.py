"""The ``rag`` command: ingest, list, ask, chat, eval, bench.

Every ``RagError`` is printed as one line on stderr (exit 1); usage errors exit 2.
Heavy modules are imported inside the command that needs them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rag.errors import RagError


def _qa(args: argparse.Namespace) -> Any:
    from rag.qa import QA

    return QA.open(args.data_dir)


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
        qa = _qa(args)
        report = qa.ingest([Path(p) for p in args.paths], prune=args.prune, progress=not args.quiet)
    for f in report.failures:
        print(f"failed: {f.path}: {f.message}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.summary())
    return 0


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
    qa = _qa(args)
    for target in args.targets:
        for doc_id in qa.remove(target):
            print(f"removed {doc_id}")
    return 0


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

    return QA(settings_from_env(data_dir=args.data_dir))


def cmd_ask(args: argparse.Namespace) -> int:
    qa = _qa(args)
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
    from rag.types import Answer

    final = None
    for piece in qa.stream(args.question, **kwargs):
        if isinstance(piece, Answer):
            final = piece
        else:
            print(piece, end="", flush=True)
    print()
    if final is not None:
        for c in final.citations:
            where = c.url or c.source
            print(f"  [{c.n}] {c.title} ({c.date or 'undated'}) {where}\n      “{c.quote}”")
        for note in final.notes:
            if note.startswith("LLM failed"):
                print(f"note: {note}", file=sys.stderr)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from rag.web import launch

    launch(data_dir=args.data_dir, host=args.host, port=args.port, corpus=args.corpus)
    return 0


def cmd_eval(args: argparse.Namespace, rest: list[str]) -> int:
    from evals.harness import main as eval_main

    return int(eval_main(rest) or 0)


def cmd_bench(args: argparse.Namespace, rest: list[str]) -> int:
    # benchmarks/ is not an installed package: it lives beside rag/ in the checkout, which
    # is not on sys.path when the ``rag`` console script runs from another folder.
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "benchmarks" / "bench.py").is_file() and str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    try:
        from benchmarks.bench import main as bench_main
    except ImportError as e:
        raise RagError(f"the benchmark needs the repository checkout (benchmarks/): {e}") from e
    return int(bench_main(rest) or 0)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rag",
        description="Question answering over chip-industry news with verified citations.",
    )
    p.add_argument(
        "--data-dir", default=None, help="store folder (default $RAG_DATA_DIR or ./.rag)"
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("ingest", help="add files or folders to the store")
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

    s = sub.add_parser("ask", help="answer a question with citations")
    s.add_argument("question")
    s.add_argument("--json", action="store_true")
    s.add_argument("--k", type=int, default=None, help="passages to use (default 5)")
    s.add_argument(
        "--vendor", action="append", help="only documents about this vendor (repeatable)"
    )
    s.add_argument("--since", help="only documents dated on or after YYYY[-MM[-DD]]")
    s.add_argument("--until", help="only documents dated on or before YYYY[-MM[-DD]]")
    s.add_argument("--answerer", choices=["auto", "offline", "llm"], default=None)
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser(
        "chat", help="start the web chat (ingests corpus/ first if the store is empty)"
    )
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=7860)
    s.add_argument("--corpus", default="corpus", help="folder ingested when the store is empty")
    s.set_defaults(func=cmd_chat)

    s = sub.add_parser(
        "eval", help="run the evaluation harness (options: rag eval --help)", add_help=False
    )
    s.set_defaults(func=cmd_eval, passthrough=True)
    s = sub.add_parser(
        "bench", help="run the benchmark (options: rag bench --help)", add_help=False
    )
    s.set_defaults(func=cmd_bench, passthrough=True)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "passthrough", False):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        if getattr(args, "passthrough", False):
            return int(args.func(args, rest))
        return int(args.func(args))
    except RagError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
