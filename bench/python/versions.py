"""Print the versions of the reference side's interpreter and libraries as one JSON object."""

import json
import platform

import numpy
import pandas
import spacy
import torch

print(
    json.dumps(
        {
            "python": platform.python_version(),
            "numpy": numpy.__version__,
            "pandas": pandas.__version__,
            "spacy": spacy.__version__,
            "torch": torch.__version__,
            "torchThreads": torch.get_num_threads(),
        }
    )
)
