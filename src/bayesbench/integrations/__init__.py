"""Where users already work: the harnesses' logs (lm-eval ``--log_samples``, Inspect) read into comparisons
and rankings, and bayesbench's paired early stopping inside Inspect AI (extra ``[inspect]``).
See docs/integrations.md.
"""

from ._inspect import PairedEarlyStopping, anytime_interval
from ._logs import common_scores, load_logs

__all__ = ["PairedEarlyStopping", "anytime_interval", "common_scores", "load_logs"]
