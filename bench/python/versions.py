"""Print the versions of the reference side's interpreter and libraries as one JSON object."""

import json
import platform

import numpy
import pandas
import spacy
import torch

try:
    import gensim

    GENSIM_VERSION = gensim.__version__
except ImportError:
    # Only the word2vec reference needs gensim, which bench/setup.sh installs.
    GENSIM_VERSION = "not installed"

print(
    json.dumps(
        {
            "python": platform.python_version(),
            "numpy": numpy.__version__,
            "pandas": pandas.__version__,
            "spacy": spacy.__version__,
            "torch": torch.__version__,
            "gensim": GENSIM_VERSION,
            "torchThreads": torch.get_num_threads(),
        }
    )
)
