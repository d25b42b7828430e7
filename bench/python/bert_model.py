"""BERT model reading, tokenizing and the encoder's forward pass in torch, for the reference scripts.

Reads a Hugging Face BERT folder (config.json, vocab.txt, model.safetensors and optionally
tokenizer_config.json) without the transformers or safetensors packages: the safetensors file is
parsed with numpy. The tokenizer is BERT's basic tokenization followed by greedy
longest-match-first WordPiece. The forward pass is the post-LayerNorm encoder of Hugging Face's
BertModel without dropout, as embeddings/bert/model.ts runs it.
"""

import json
import struct
import unicodedata
from pathlib import Path

import numpy
import torch

DTYPES = {"F32": numpy.float32, "F16": numpy.float16, "F64": numpy.float64, "I64": numpy.int64}
UNKNOWN_TOKEN = "[UNK]"
CLASSIFIER_TOKEN = "[CLS]"
SEPARATOR_TOKEN = "[SEP]"
PADDING_TOKEN = "[PAD]"
MAX_CHARS_PER_WORD = 100
# Added to the attention scores of padding positions, so that softmax gives them weight 0.
MASKED_SCORE = -1e9


def read_safetensors(path: Path, dtype=numpy.float64) -> dict:
    """Return the tensors of a safetensors file as numpy arrays of `dtype`, by name."""
    data = path.read_bytes()
    (header_length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_length])
    # A memoryview slices the file's bytes without copying them.
    body = memoryview(data)[8 + header_length :]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        if entry["dtype"] == "BF16":
            raw = numpy.frombuffer(body[begin:end], numpy.uint16)
            values = (raw.astype(numpy.uint32) << 16).view(numpy.float32)
        else:
            values = numpy.frombuffer(body[begin:end], DTYPES[entry["dtype"]])
        tensors[name] = values.astype(dtype).reshape(entry["shape"])
    return tensors


def load_config(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text())


def load_vocabulary(folder: Path) -> tuple:
    """Return the vocabulary as {token: id} and whether the tokenizer lowercases (default true)."""
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
    return vocabulary, lowercase


def load_weights(folder: Path, dtype=torch.float64) -> dict:
    """Return the encoder's tensors by name, without the "bert." prefix that some checkpoints add."""
    numpy_dtype = numpy.float32 if dtype == torch.float32 else numpy.float64
    return {
        name.removeprefix("bert."): torch.from_numpy(values)
        for name, values in read_safetensors(folder / "model.safetensors", numpy_dtype).items()
    }


def is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def is_ideograph(code: int) -> bool:
    """Test whether a code point is in one of the CJK Unified Ideograph blocks that BERT's tokenizer lists."""
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def clean_text(text: str) -> str:
    """Drop NUL, U+FFFD and control characters, map whitespace to spaces and space out CJK ideographs."""
    output = []
    for char in text:
        code = ord(char)
        if code == 0 or code == 0xFFFD:
            continue
        if char in "\t\n\r" or unicodedata.category(char) == "Zs":
            output.append(" ")
        elif unicodedata.category(char).startswith("C"):
            continue
        elif is_ideograph(code):
            output.append(f" {char} ")
        else:
            output.append(char)
    return "".join(output)


def basic_tokens(text: str, lowercase: bool) -> list:
    """Split text the way BERT's basic tokenizer does."""
    tokens = []
    for chunk in clean_text(text).split(" "):
        if not chunk:
            continue
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

    Return [UNK] alone when the token is over MAX_CHARS_PER_WORD characters or a remainder has no match.
    """
    if len(token) > MAX_CHARS_PER_WORD:
        return [UNKNOWN_TOKEN]
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
            return [UNKNOWN_TOKEN]
        pieces.append(match)
        start = end
    return pieces


def layer_norm(x, prefix, weights, eps):
    return torch.nn.functional.layer_norm(
        x, x.shape[-1:], weights[prefix + ".weight"], weights[prefix + ".bias"], eps
    )


def linear(x, prefix, weights):
    return x @ weights[prefix + ".weight"].T + weights[prefix + ".bias"]


def hidden_states(ids, mask, weights: dict, config: dict) -> list:
    """Run the encoder on `ids` ([batch, length] int64) with an optional boolean `mask` of real tokens.

    Return the embedding output followed by every layer's output, each [batch, length, hidden].
    Outputs at padding positions are meaningless.
    """
    eps = config["layer_norm_eps"]
    heads = config["num_attention_heads"]
    batch, length = ids.shape
    x = (
        weights["embeddings.word_embeddings.weight"][ids]
        + weights["embeddings.position_embeddings.weight"][:length]
        + weights["embeddings.token_type_embeddings.weight"][0]
    )
    x = layer_norm(x, "embeddings.LayerNorm", weights, eps)
    states = [x]
    head_size = x.shape[-1] // heads
    score_bias = None
    if mask is not None:
        score_bias = (~mask).to(x.dtype).mul(MASKED_SCORE).reshape(batch, 1, 1, length)
    for layer in range(config["num_hidden_layers"]):
        at = f"encoder.layer.{layer}."

        def split(projection):
            return projection.reshape(batch, length, heads, head_size).transpose(1, 2)

        query = split(linear(x, at + "attention.self.query", weights))
        key = split(linear(x, at + "attention.self.key", weights))
        value = split(linear(x, at + "attention.self.value", weights))
        scores = query @ key.transpose(2, 3) / head_size**0.5
        if score_bias is not None:
            scores = scores + score_bias
        context = (torch.softmax(scores, dim=-1) @ value).transpose(1, 2).reshape(batch, length, -1)
        attended = linear(context, at + "attention.output.dense", weights)
        attention = layer_norm(attended + x, at + "attention.output.LayerNorm", weights, eps)
        # torch's default gelu is the exact form with erf.
        intermediate = torch.nn.functional.gelu(linear(attention, at + "intermediate.dense", weights))
        output = linear(intermediate, at + "output.dense", weights)
        x = layer_norm(output + attention, at + "output.LayerNorm", weights, eps)
        states.append(x)
    return states
