"""Explicit registries: the laws and the bug-zoo entries, each filled by a listed set of modules.

A registry names the modules that fill it. Reading it imports exactly those modules; an entry registered
from a module that is not listed is refused, and ``tests/test_registries.py`` imports every module of the
package to show that no module registers entries the registry would never load.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries of one ``kind`` by key, registered by the ``modules`` listed here and loaded on first read."""

    def __init__(self, kind: str, modules: tuple[str, ...]) -> None:
        self.kind, self.modules = kind, modules
        self._entries: dict[str, T] = {}
        self._loaded = False

    def register(self, key: str, entry: T, module: str) -> None:
        """Add ``entry`` under ``key``; ``module`` is where it is defined and must be one of the listed modules."""
        if module not in self.modules:
            raise ValueError(
                f"module: {module} registers the {self.kind} {key!r} but is not listed in the {self.kind} registry's "
                f"modules {self.modules}"
            )
        if key in self._entries:
            raise ValueError(f"key: {self.kind} {key!r} is registered twice")
        self._entries[key] = entry

    def all(self) -> dict[str, T]:
        """Every entry, by key (importing the listed modules the first time)."""
        if not self._loaded:
            for module in self.modules:
                importlib.import_module(module)
            self._loaded = True
        return self._entries

    def __getitem__(self, key: str) -> T:
        return self.all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.all())

    def __len__(self) -> int:
        return len(self.all())

    def values(self):
        return self.all().values()

    def items(self):
        return self.all().items()
