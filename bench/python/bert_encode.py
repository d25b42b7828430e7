"""Reference BERT encoding: the bert strategy's word vectors from a PyTorch forward pass.

Each text is tokenized into WordPiece tokens word by word, framed by [CLS] and [SEP], and cut to
the pieces of the words that fit in max_position_embeddings. Texts are sorted by piece count and
run through the encoder in float32, --batch texts at a time, padded with an attention mask. A
word's vector is the sum of the last four hidden states over its pieces, scaled to unit length,
which has the direction of the mean over its pieces. The vectors fill a [texts, --seq-len,
hidden] array, zero past each text's end.

Usage: python bert_encode.py --texts FILE [--model DIR] [--seq-len 40] [--batch 32] [--passes 3]
                             [--threads N]
FILE is a JSON array of token lists. Reading the model and the texts is not timed. One untimed
warm-up pass over all texts is followed by --passes timed ones, each tokenizing and encoding every
text. --threads sets torch's intra-op threads, otherwise torch's default is kept. Prints one result
line (see common.py) with each pass's time in seconds.
"""

import argparse
import json
import time
from pathlib import Path

import torch

from bert_model import (
    CLASSIFIER_TOKEN,
    PADDING_TOKEN,
    SEPARATOR_TOKEN,
    UNKNOWN_TOKEN,
    basic_tokens,
    hidden_states,
    load_config,
    load_vocabulary,
    load_weights,
    word_pieces,
)
from common import emit_result

SUMMED_LAYERS = 4


class Encoder:
    def __init__(self, folder: Path, batch_size: int):
        self.config = load_config(folder)
        self.vocabulary, self.lowercase = load_vocabulary(folder)
        self.weights = load_weights(folder, torch.float32)
        self.batch_size = batch_size
        self.hidden = self.config["hidden_size"]
        self.unknown_id = self.vocabulary[UNKNOWN_TOKEN]
        self.classifier_id = self.vocabulary[CLASSIFIER_TOKEN]
        self.separator_id = self.vocabulary[SEPARATOR_TOKEN]
        self.padding_id = self.vocabulary.get(PADDING_TOKEN, 0)
        # [CLS] and [SEP] take two of the model's positions.
        self.piece_budget = self.config["max_position_embeddings"] - 2

    def pieces_of(self, words: list) -> tuple:
        """Return a text's input ids and each kept word's index at every piece position.

        A word that yields no piece gets one [UNK], and a word is kept only when all its pieces fit
        in the piece budget, as embeddings/bert.ts does.
        """
        ids = [self.classifier_id]
        # -1 marks [CLS], [SEP] and padding, which belong to no word.
        piece_words = [-1]
        for index, word in enumerate(words):
            pieces = []
            for token in basic_tokens(word, self.lowercase):
                pieces.extend(word_pieces(token, self.vocabulary))
            if not pieces:
                pieces = [UNKNOWN_TOKEN]
            if len(ids) - 1 + len(pieces) > self.piece_budget:
                break
            ids.extend(self.vocabulary.get(piece, self.unknown_id) for piece in pieces)
            piece_words.extend([index] * len(pieces))
        ids.append(self.separator_id)
        piece_words.append(-1)
        return ids, piece_words

    def encode(self, texts: list, seq_len: int) -> torch.Tensor:
        """Return the word vectors of every text as [texts, seq_len, hidden], zero past each text's end."""
        output = torch.zeros(len(texts), seq_len, self.hidden)
        tokenized = [self.pieces_of(words) for words in texts]
        # A text without words needs no forward pass and keeps its zero rows.
        order = sorted(
            (index for index, (ids, _) in enumerate(tokenized) if len(ids) > 2),
            key=lambda index: len(tokenized[index][0]),
        )
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            length = max(len(tokenized[index][0]) for index in batch)
            ids = torch.full((len(batch), length), self.padding_id, dtype=torch.int64)
            real = torch.zeros(len(batch), length, dtype=torch.bool)
            # Each position's output slot is its word's index. [CLS], [SEP], padding and words past
            # seq_len go to slot seq_len, which is dropped after pooling.
            slots = torch.full((len(batch), length), seq_len, dtype=torch.int64)
            for row, index in enumerate(batch):
                text_ids, piece_words = tokenized[index]
                ids[row, : len(text_ids)] = torch.tensor(text_ids)
                real[row, : len(text_ids)] = True
                slots[row, : len(piece_words)] = torch.tensor(
                    [word if 0 <= word < seq_len else seq_len for word in piece_words]
                )
            states = hidden_states(ids, real, self.weights, self.config)
            summed = torch.stack(states[-SUMMED_LAYERS:]).sum(dim=0)
            pooled = torch.zeros(len(batch), seq_len + 1, self.hidden)
            pooled.scatter_add_(1, slots.unsqueeze(-1).expand(-1, -1, self.hidden), summed)
            # normalize leaves the zero sums of slots without a word at zero.
            output[torch.tensor(batch)] = torch.nn.functional.normalize(pooled[:, :seq_len], dim=-1)
        return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", required=True)
    parser.add_argument("--model", default=".stack/models/all-MiniLM-L6-v2")
    parser.add_argument("--seq-len", type=int, default=40)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    encoder = Encoder(Path(args.model), args.batch)

    pass_seconds = []
    with torch.inference_mode():
        vectors = encoder.encode(texts, args.seq_len)
        for _ in range(args.passes):
            start = time.perf_counter()
            vectors = encoder.encode(texts, args.seq_len)
            pass_seconds.append(time.perf_counter() - start)
    pieces = sum(len(encoder.pieces_of(words)[0]) for words in texts)
    emit_result(
        {
            "passSeconds": pass_seconds,
            "threads": torch.get_num_threads(),
            "counts": {
                "texts": len(texts),
                "words": sum(min(len(words), args.seq_len) for words in texts),
                "pieces": pieces,
                "nonZeroVectors": int((vectors.norm(dim=-1) > 0).sum()),
            },
        }
    )


if __name__ == "__main__":
    main()
