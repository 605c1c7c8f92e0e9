"""Multi-turn follow-up accuracy: dialogues replayed through /api/ask, each turn's answer fed back.

    .venv/bin/python bench/dialogue_eval.py        # dev and val turn accuracy, failures listed

A turn is right when its resolved_question holds every `resolved_must_contain` string and no
`resolved_must_not_contain` one, and (when the case gives them) the places the answer set
aside (`exclude`) and the issuers of its groups (`issuers`) are exactly the expected ones.
A turn that picks a place by its position in the last answer (「第一个…」) gives `pick` (1 for the
first): the place that answer actually listed there must be in the resolved question and be
the one answered, whatever order the which-answer lists its places in.
The history sent is [{question, answer}] only, as a plain client sends it.
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DIALOGUES = Path(__file__).resolve().parent / "data" / "dialogues.jsonl"
RunTurn = Callable[[str, list[dict]], dict]


def load_dialogues(path: Path = DIALOGUES) -> list[dict]:
    """The dialogues of a JSON-lines file, one per line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def picked(turn: dict, previous: dict | None) -> list[str]:
    """The place a `pick` turn refers to: the one the last answer listed at that position."""
    if "pick" not in turn:
        return []
    groups = (previous or {}).get("groups", [])
    n = int(turn["pick"])
    return [groups[n - 1]["issuer"]] if len(groups) >= n else [f"(the last answer listed no place {n})"]


def turn_problems(turn: dict, body: dict, exclude: tuple[str, ...] | None, previous: dict | None = None) -> list[str]:
    """Why one answered turn is wrong; empty when it is right."""
    pick = picked(turn, previous)
    if pick:
        turn = {**turn, "resolved_must_contain": [*turn.get("resolved_must_contain", []), *pick], "issuers": pick}
    resolved = body.get("resolved_question", "")
    problems = [f"missing {s!r}" for s in turn.get("resolved_must_contain", []) if s not in resolved]
    problems += [f"unwanted {s!r}" for s in turn.get("resolved_must_not_contain", []) if s in resolved]
    if "exclude" in turn and exclude is not None and set(exclude) != set(turn["exclude"]):
        problems.append(f"exclude {sorted(exclude)} != {sorted(turn['exclude'])}")
    if "issuers" in turn:
        issuers = {g["issuer"] for g in body.get("groups", [])}
        if issuers != set(turn["issuers"]):
            problems.append(f"issuers {sorted(issuers)} != {sorted(turn['issuers'])}")
    return problems


def score_dialogues(run_turn: RunTurn, dialogues: list[dict],
                    exclude_of: Callable[[str, list[dict]], tuple[str, ...]] | None = None) -> dict:
    """Turn accuracy per split; `run_turn(question, history)` returns the /api/ask JSON dict.

    `exclude_of(question, history)`, when given, tells which places the turn set aside (the API
    does not return them); without it an `exclude` expectation is judged by the issuers only.
    """
    splits: dict[str, dict] = {}
    failures = []
    for dialogue in dialogues:
        split = splits.setdefault(dialogue.get("split", "dev"), {"turns": 0, "right": 0})
        history: list[dict] = []
        previous: dict | None = None
        for n, turn in enumerate(dialogue["turns"]):
            body = run_turn(turn["q"], list(history))
            exclude = exclude_of(turn["q"], list(history)) if exclude_of else None
            problems = turn_problems(turn, body, exclude, previous)
            previous = body
            if exclude is None and "exclude" in turn:
                # Without the resolution, an excluded place must at least be absent from the answer.
                issuers = {g["issuer"] for g in body.get("groups", [])}
                problems += [f"excluded {p!r} answered" for p in turn["exclude"] if p in issuers]
            split["turns"] += 1
            split["right"] += not problems
            if problems:
                failures.append({"id": dialogue["id"], "turn": n + 1, "q": turn["q"],
                                 "resolved": body.get("resolved_question", ""), "problems": problems})
            history.append({"question": turn["q"], "answer": body.get("answer", "")})
    for split in splits.values():
        split["accuracy"] = round(split["right"] / split["turns"], 3) if split["turns"] else 0.0
    return {"splits": splits, "failures": failures}


def main() -> int:
    from indexer.build import build_index
    from indexer.embed import load_embedder
    from service import create_app
    from service.answer.conversation import resolve

    embedder = load_embedder(None, ROOT / ".cache" / "models")
    with tempfile.TemporaryDirectory() as tmp:
        index, corpus = Path(tmp) / "index", Path(tmp) / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)  # the app may write to its corpus folder; corpus/ stays as received
        build_index(corpus, index, embedder)
        app = create_app({"TESTING": True, "INDEX_DIR": str(index), "CORPUS_DIR": str(corpus),
                          "EMBEDDER": embedder})
        client = app.test_client()

        def run_turn(question: str, history: list[dict]) -> dict:
            return client.post("/api/ask", json={"question": question, "history": history}).get_json()

        def exclude_of(question: str, history: list[dict]) -> tuple[str, ...]:
            with app.app_context():
                from service.api import holder

                searcher, _ = holder().pair()
                known = [meta["issuer"] for meta in searcher.metas().values() if meta["issuer"]]
            return resolve(question, history, known).exclude

        result = score_dialogues(run_turn, load_dialogues(), exclude_of)
    for name, split in sorted(result["splits"].items()):
        print(f"{name}: {split['right']}/{split['turns']} turns right ({split['accuracy']:.1%})")
    for failure in result["failures"]:
        print(f"  FAIL {failure['id']} turn {failure['turn']} {failure['q']} -> {failure['resolved']}: "
              f"{'; '.join(failure['problems'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
