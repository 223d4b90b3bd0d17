from __future__ import annotations

import types

import ogmem

PUBLIC_MODULES = {"errors"}


def test_all_lists_exactly_the_public_names_sorted() -> None:
    public = {
        name
        for name, value in vars(ogmem).items()
        if not name.startswith("_")
        and name != "annotations"  # from __future__
        and (not isinstance(value, types.ModuleType) or name in PUBLIC_MODULES)
    }
    assert ogmem.__all__ == sorted(public)
