"""sentence-transformers models on MTEB STS data. Needs ``bayesbench[mteb]``."""

from ..models._mteb import STModel, mteb_sts_dataset, st_model, sts_rows_to_problems

__all__ = ["STModel", "mteb_sts_dataset", "st_model", "sts_rows_to_problems"]
