"""Measure how often lib/tokenize.ts agrees with spaCy's English tokenizer.

Reads the `Text` column of every gzip CSV in the data directory and tokenizes each text
with spacy.blank("en") here and with lib/tokenize.ts through dump-ts.ts. It reports the
share of texts whose token lists are identical, both after the letter-or-number filter that
tokenizeWords applies (the figure that matters) and before it. Disagreements are grouped
by token shape (letters become x/X, digits d), so the report shows no comment text. The
corpus is abusive, so the differing tokens themselves are printed only with --show-diffs.

--fuzz N compares N random synthetic strings built from affix, URL and exception
fragments instead of the corpus.

Usage, from the repository root, with spaCy 3.8 installed in the interpreter:
    python bench/tokenizer-agreement/compare.py [--show-diffs] [--fuzz N]
Exits with status 1 when the filtered agreement is below --min-agreement.
"""

import argparse
import collections
import csv
import difflib
import gzip
import hashlib
import json
import random
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import spacy

REPO_ROOT = Path(__file__).resolve().parents[2]
DUMP_SCRIPT = Path(__file__).resolve().with_name("dump-ts.ts")

# Fragments for --fuzz: affix characters, exception pieces, URL parts, emoji and other scripts.
FUZZ_FRAGMENTS = (
    list("aZé中Жz09.,:;!?'\"’‘“”()[]{}-–—~/<>=+*^@#$%&_|\\…°²")
    + ["😀", "👍🏽", "\u00a0", "\n", " ", " ", " ", "\u0301", "\u200d", "\ufe0f", "\u200b", "\u3000"]
    + "don't can't Im dont y'all 's n't :D :) <3 e.g. Ph.D. a.m. U.S.".split()
    + "http:// https:// www. .com .org/ user@ example 10km 5m US$ 3.5 1,000".split()
    + "... -- C++ °C. lol WOW Hello x 192.168.0.1 8.8.8.8 :8080 ?q=1 #tag".split()
    + "мир Ж. مرحبا नमस्ते 。 ！ Ａ ｂ é km² м % ² £ ₹ ٣ 𝟙 🇺🇸 ‐ ― « » „ ‚ ´ ` ¡ ¿".split()
)


def has_letter_or_number(token: str) -> bool:
    """Mirror tokenizeWords' filter: a Unicode letter (L*) or number (N*) anywhere in the token."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in token)


def shape(token: str) -> str:
    """Abstract a token to its shape, keeping punctuation, so patterns can be shown without text."""
    out = []
    for ch in token:
        if ch.isalpha():
            code = "X" if ch.isupper() else "x"
        elif ch.isdigit():
            code = "d"
        else:
            code = ch
        if len(out) >= 3 and out[-1] == out[-2] == out[-3] == code:
            continue
        out.append(code)
    return "".join(out)


def read_corpus(data_dir: Path) -> tuple[list[Path], list[tuple[str, int, str]]]:
    files = sorted(data_dir.glob("*.csv.gz"))
    if not files:
        sys.exit(f"compare.py: no *.csv.gz files found in {data_dir}")
    texts = []
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            for row, record in enumerate(csv.DictReader(handle)):
                if record.get("Text") is None:
                    sys.exit(f"compare.py: {path} row {row} is missing the Text column")
                texts.append((path.name, row, record["Text"]))
    return files, texts


def fuzz_texts(count: int, seed: int) -> list[tuple[str, int, str]]:
    rng = random.Random(seed)
    texts = []
    for row in range(count):
        pieces = rng.randint(1, 12)
        texts.append(("fuzz", row, "".join(rng.choice(FUZZ_FRAGMENTS) for _ in range(pieces))))
    return texts


def run_ts(args_for_dump: list[str]) -> tuple[list[dict], dict]:
    with tempfile.TemporaryDirectory(prefix="tokenizer-agreement-") as tmp:
        out = Path(tmp) / "ts.jsonl"
        command = ["npx", "tsx", str(DUMP_SCRIPT), "--out", str(out), *args_for_dump]
        result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"compare.py: dump-ts.ts failed with status {result.returncode}:\n{result.stderr}")
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line]
    timing = json.loads(result.stderr.strip().splitlines()[-1])
    return rows, timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir", type=Path, default=REPO_ROOT / "data" / "cyberbully", help="folder of *.csv.gz"
    )
    parser.add_argument("--fuzz", type=int, default=0, metavar="N", help="compare N random strings instead")
    parser.add_argument("--seed", type=int, default=1, help="random seed for --fuzz")
    parser.add_argument(
        "--show-diffs", action="store_true", help="print the differing tokens, which are corpus text"
    )
    parser.add_argument(
        "--max-diffs", type=int, default=50, help="differing texts to print with --show-diffs"
    )
    parser.add_argument("--top", type=int, default=15, help="disagreement patterns to list")
    parser.add_argument(
        "--all-tokens",
        action="store_true",
        help="group and show disagreements on all non-space tokens instead of the filtered ones",
    )
    parser.add_argument(
        "--min-agreement",
        type=float,
        default=99.5,
        help="filtered agreement in percent below which to exit 1",
    )
    args = parser.parse_args()

    if args.fuzz > 0:
        texts = fuzz_texts(args.fuzz, args.seed)
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as handle:
            for _, _, text in texts:
                handle.write(json.dumps({"text": text}) + "\n")
        ts_rows, ts_timing = run_ts(["--texts", handle.name])
        Path(handle.name).unlink()
        print(f"fuzz: {len(texts)} random strings, seed {args.seed}")
    else:
        files, texts = read_corpus(args.data_dir)
        ts_rows, ts_timing = run_ts([str(path) for path in files])
        print(f"corpus: {len(texts)} texts from {len(files)} files in {args.data_dir}")

    if len(ts_rows) != len(texts):
        sys.exit(
            f"compare.py: dump-ts.ts returned {len(ts_rows)} rows for {len(texts)} texts; CSV parsing differs"
        )

    nlp = spacy.blank("en")
    started = time.perf_counter()
    spacy_tokens = [[t.text for t in nlp.tokenizer(text) if not t.is_space] for _, _, text in texts]
    spacy_seconds = time.perf_counter() - started

    for (source, row, text), ts_row in zip(texts, ts_rows):
        if ts_row["sha1"] != hashlib.sha1(text.encode("utf-8")).hexdigest():
            sys.exit(f"compare.py: {source} row {row} reads differently in Python's csv and in csv-parse")

    same_words = same_tokens = 0
    patterns: collections.Counter = collections.Counter()
    differing_texts = 0
    for (source, row, _), ts_row, expected in zip(texts, ts_rows, spacy_tokens):
        same_tokens += expected == ts_row["tokens"]
        expected_words = [token for token in expected if has_letter_or_number(token)]
        same_words += expected_words == ts_row["words"]
        if args.all_tokens:
            expected_words, actual_words = expected, ts_row["tokens"]
        else:
            actual_words = ts_row["words"]
        if expected_words == actual_words:
            continue
        matcher = difflib.SequenceMatcher(a=expected_words, b=actual_words, autojunk=False)
        for op, a0, a1, b0, b1 in matcher.get_opcodes():
            if op != "equal":
                key = (tuple(map(shape, expected_words[a0:a1])), tuple(map(shape, actual_words[b0:b1])))
                patterns[key] += 1
                if args.show_diffs and differing_texts < args.max_diffs:
                    print(f"  {source}:{row}: spaCy {expected_words[a0:a1]} ts {actual_words[b0:b1]}")
        differing_texts += 1

    total = len(texts)
    word_share = 100.0 * same_words / total if total else 0.0
    token_share = 100.0 * same_tokens / total if total else 0.0
    print(f"filtered tokens identical (tokenizeWords): {same_words}/{total} = {word_share:.3f}%")
    print(f"all non-space tokens identical (tokenize): {same_tokens}/{total} = {token_share:.3f}%")
    print(f"spaCy tokenizer: {total / spacy_seconds:,.0f} texts/s (one pass)")
    print(
        f"lib/tokenize.ts tokenizeWords: {ts_timing['commentsPerSecond']:,} texts/s, "
        f"{ts_timing['millionUnitsPerSecond']} million UTF-16 code units/s (best of 3 passes after a warm-up)"
    )
    if patterns:
        total_patterns = sum(patterns.values())
        print(
            f"top disagreement patterns by token shape (spaCy -> lib/tokenize.ts), {total_patterns} in all:"
        )
        for (expected_shape, actual_shape), count in patterns.most_common(args.top):
            print(f"  {count:6d}  {list(expected_shape)} -> {list(actual_shape)}")
    if word_share < args.min_agreement:
        print(f"filtered agreement {word_share:.3f}% is below --min-agreement {args.min_agreement}%")
        sys.exit(1)


if __name__ == "__main__":
    main()
