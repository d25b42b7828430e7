"""Reference word2vec training: gensim's Word2Vec with the settings of the product's defaults.

CBOW (sg=0) with negative sampling, 12 values per vector, window 5, 10 epochs, 5 noise words,
min_count 1, and gensim's defaults otherwise: learning rate 0.025 falling to 0.0001, subsampling
threshold 1e-3, the mean of the context vectors. Tokens are lowercased first, as the product's fit
does.

Usage: python word2vec_step.py --tokens FILE [--workers 1]
FILE has one text a line, tokens separated by single spaces. Reading it is not timed; lowercasing,
building the vocabulary and training are. --workers sets gensim's training threads. Prints one
result line (see common.py).
"""

import argparse
import time

from gensim.models import Word2Vec

from common import emit_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with open(args.tokens, encoding="utf-8") as file:
        texts = [line.rstrip("\n").split(" ") for line in file if line.strip()]

    start = time.perf_counter()
    sentences = [[token.lower() for token in tokens] for tokens in texts]
    model = Word2Vec(
        sentences,
        vector_size=12,
        window=5,
        epochs=10,
        sg=0,
        negative=5,
        min_count=1,
        workers=args.workers,
    )
    seconds = time.perf_counter() - start
    emit_result(
        {
            "seconds": seconds,
            "workers": args.workers,
            "counts": {
                "texts": len(texts),
                "tokens": sum(len(tokens) for tokens in texts),
                "vocabulary": len(model.wv),
                "dimension": model.vector_size,
            },
        }
    )


if __name__ == "__main__":
    main()
