"""The gateway contract suite lives in a helper module: let pytest explain its failed asserts."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("payments.testing.contracts.gateway")
