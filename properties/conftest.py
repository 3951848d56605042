"""Fixtures shared by the properties."""

import pytest
import torch


@pytest.fixture(scope="module")
def single_threaded_torch():
    """Torch on one thread for a module whose tensors are tiny (solves, scores): thread hand-off would dominate.
    A module opts in with ``pytestmark = pytest.mark.usefixtures("single_threaded_torch")``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
