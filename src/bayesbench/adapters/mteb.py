"""sentence-transformers models on MTEB STS data. ``st_model`` needs
``bayesbench[sentence-transformers]``; MTEB task names in ``mteb_sts_dataset`` need ``bayesbench[mteb]``."""

from ..models._mteb import STModel, mteb_sts_dataset, st_model, sts_rows_to_problems

__all__ = ["STModel", "mteb_sts_dataset", "st_model", "sts_rows_to_problems"]
