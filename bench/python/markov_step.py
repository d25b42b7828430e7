"""Reference Markov chain baseline: a dict-of-dicts bigram table and numpy sampling.

Fits bigram counts over lowercased words, table[word][next_word], and the list of training text
lengths. Each generated sentence draws its length from the training lengths, its first word
uniformly from the vocabulary, and each next word with probability proportional to the bigram
counts of the current word. A word without successors is followed by a uniformly drawn word, as
in eval/markov.ts.

Usage: python markov_step.py --tokens FILE [--sentences 1000]
FILE has one text a line, tokens separated by single spaces. Reading it is not timed; fitting and
generating are. Prints one result line (see common.py).
"""

import argparse
import time
from collections import defaultdict

import numpy as np

from common import emit_result


def fit(texts):
    table = defaultdict(lambda: defaultdict(int))
    lengths = []
    vocabulary = set()
    for tokens in texts:
        words = [token.lower() for token in tokens]
        vocabulary.update(words)
        lengths.append(len(words))
        for current, following in zip(words, words[1:]):
            table[current][following] += 1
    return table, sorted(vocabulary), lengths


def generate(table, vocabulary, lengths, count, rng):
    length_array = np.asarray(lengths)
    sentences = []
    for _ in range(count):
        length = rng.choice(length_array)
        word = vocabulary[rng.integers(len(vocabulary))]
        sentence = [word]
        while len(sentence) < length:
            successors = table.get(word)
            if not successors:
                word = vocabulary[rng.integers(len(vocabulary))]
            else:
                words = list(successors.keys())
                counts = np.fromiter(successors.values(), dtype=np.float64, count=len(words))
                word = words[rng.choice(len(words), p=counts / counts.sum())]
            sentence.append(word)
        sentences.append(sentence)
    return sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--sentences", type=int, default=1000)
    args = parser.parse_args()
    with open(args.tokens, encoding="utf-8") as file:
        texts = [line.rstrip("\n").split(" ") for line in file if line.strip()]

    start = time.perf_counter()
    table, vocabulary, lengths = fit(texts)
    fitted = time.perf_counter()
    sentences = generate(table, vocabulary, lengths, args.sentences, np.random.default_rng(99))
    end = time.perf_counter()
    emit_result(
        {
            "seconds": end - start,
            "fitSeconds": fitted - start,
            "generateSeconds": end - fitted,
            "counts": {
                "texts": len(lengths),
                "vocabulary": len(vocabulary),
                "distinctBigrams": sum(len(successors) for successors in table.values()),
                "generatedTokens": sum(len(sentence) for sentence in sentences),
            },
        }
    )


if __name__ == "__main__":
    main()
