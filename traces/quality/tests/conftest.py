"""Fixtures of the capture tests (random Llama model, tinylm-code-8l lookup), re-exported for pytest."""
from traces.capture.tests.conftest import random_model, tinylm  # noqa: F401 (pytest fixtures)
