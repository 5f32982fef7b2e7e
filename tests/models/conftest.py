"""The model tests use the shared servers of tests/_servers.py (fixtures registered in tests/conftest.py)."""

from tests._servers import LLAMA_ALIAS, smollm2_path  # noqa: F401 -- imported by the model tests
from tests._shared import require_or_skip  # noqa: F401 -- imported by the model tests
