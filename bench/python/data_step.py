"""Reference data step: read the five comment CSVs with pandas, deduplicate, tokenize with spaCy.

Reads the `Text` and `oh_label` columns of every gzip CSV, concatenates them into one frame of
{text, label, source}, drops rows with a missing or whitespace-only text, drops duplicate texts
(the first occurrence wins), and tokenizes each remaining text with spaCy's English tokenizer
(spacy.blank("en"), no model needed), keeping tokens that contain at least one letter or digit.

Usage: python data_step.py --dir DIR
Prints one result line (see common.py) with the time in seconds and the row counts. The time
starts after the imports and after spacy.blank("en"), as the TypeScript side's tokenizer tables
are built when its module loads.
"""

import argparse
import time
from pathlib import Path

import pandas as pd
import spacy

from common import emit_result

# The five bundled files and their source names, as in infra/datasets.ts.
FILES = {
    "kaggle": "kaggle_parsed_dataset.csv.gz",
    "twitter": "twitter_parsed_dataset.csv.gz",
    "twitter_racism": "twitter_racism_parsed_dataset.csv.gz",
    "twitter_sexism": "twitter_sexism_parsed_dataset.csv.gz",
    "youtube": "youtube_parsed_dataset.csv.gz",
}


def keep_token(text: str) -> bool:
    return any(character.isalnum() for character in text)


def run(directory: Path, nlp) -> dict:
    frames = []
    for source, file in FILES.items():
        frame = pd.read_csv(directory / file, compression="gzip", usecols=["Text", "oh_label"])
        frames.append(pd.DataFrame({"text": frame["Text"], "label": frame["oh_label"], "source": source}))
    data = pd.concat(frames, ignore_index=True)
    rows_read = len(data)
    data = data.dropna(subset=["text"])
    data = data[data["text"].astype(str).str.strip() != ""]
    non_empty = len(data)
    data = data.drop_duplicates(subset="text")

    tokenize_start = time.perf_counter()
    token_count = 0
    vocabulary = set()
    token_lists = []
    for doc in nlp.pipe(data["text"].astype(str), batch_size=1000):
        tokens = [token.text for token in doc if keep_token(token.text)]
        token_lists.append(tokens)
        token_count += len(tokens)
        vocabulary.update(tokens)
    tokenize_seconds = time.perf_counter() - tokenize_start
    data = data.assign(tokens=token_lists)
    return {
        "rowsRead": rows_read,
        "empty": rows_read - non_empty,
        "duplicates": non_empty - len(data),
        "kept": len(data),
        "tokens": token_count,
        "vocabulary": len(vocabulary),
        "tokenizeSeconds": tokenize_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True, help="folder with the five gzip CSV files")
    args = parser.parse_args()
    nlp = spacy.blank("en")
    start = time.perf_counter()
    counts = run(args.dir, nlp)
    emit_result({"seconds": time.perf_counter() - start, "counts": counts})


if __name__ == "__main__":
    main()
