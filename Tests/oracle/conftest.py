import pytest

from oracle import yidai_bin


def pytest_sessionstart(session):
    if not yidai_bin().exists():
        raise pytest.UsageError(
            f"yidai binary not found at {yidai_bin()}: build it first (swift build --product yidai) or set YIDAI_BIN"
        )
