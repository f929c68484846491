"""School provisioning: exports, imports, letters, help-desk resets, the audit trail's reader."""

from __future__ import annotations

from collections.abc import Callable

# What the long steps of an import call as they go: (phase, done, total). The CLI prints it.
ProgressCallback = Callable[[str, int, int], None]
