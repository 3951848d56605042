"""Naming a target: ``package.module:attribute`` or ``package.module.attribute`` (nested attributes allowed)."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from lineage.laws.contracts import CONTRACTS
from lineage.oracle.conventions import Convention, get_convention
from lineage.oracle.numerics import Numerics


class TargetError(ValueError):
    """A target could not be imported or does not fit its contract's convention."""


@dataclass(frozen=True)
class Target:
    contract: str
    function: Callable
    label: str  # how the report and the repro name it, e.g. "mypkg.adv:compute_gae"
    convention: Convention
    numerics: Numerics

    def as_contract(self) -> Callable:
        """The target wrapped into the signature of its contract (what a law calls)."""
        return self.convention.adapt(self.contract, self.function, self.numerics)


def make_target(contract: str, function, *, convention: str = "canonical", framework=None, dtype=None) -> Target:
    """A target from a callable or a ``module:attribute`` string, checked against its convention."""
    if contract not in CONTRACTS:
        raise TargetError(f"contract: unknown contract {contract!r}; choose one of {sorted(CONTRACTS)}")
    conv = get_convention(convention)
    if contract not in conv.signatures:
        raise TargetError(
            f"convention: {conv.name} has no form of the {contract} contract; it covers {sorted(conv.signatures)}"
        )
    label = function if isinstance(function, str) else describe(function)
    resolved = resolve(function) if isinstance(function, str) else function
    if not callable(resolved):
        raise TargetError(f"target: {label} is not callable (got {type(resolved).__name__})")
    numerics = conv.numerics
    if not conv.fixed_numerics:
        default_framework = CONTRACTS[contract].framework if conv.name == "canonical" else None
        numerics = Numerics(framework or default_framework or conv.numerics.framework, dtype or conv.numerics.dtype)
    return Target(contract, resolved, label, conv, numerics)


def resolve(spec: str):
    """Import ``module:attr`` or ``module.attr``; a clear TargetError instead of an ImportError traceback."""
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        module_name, _, attribute = spec.rpartition(".")
    if not module_name or not attribute:
        raise TargetError(f"target: {spec!r} is not of the form package.module:function")
    try:
        obj = importlib.import_module(module_name)
    except Exception as exc:
        raise TargetError(
            f"target: cannot import {module_name!r} ({type(exc).__name__}: {exc}); install the package into the "
            "environment the laws run in (nox: --install PATH_OR_REQUIREMENT)"
        ) from None
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f"target: {module_name!r} has no attribute {attribute!r}") from None
    return obj


def describe(function) -> str:
    """``module:qualname`` (a partial shows its fixed keyword arguments, a callable instance its class; never a
    memory address)."""
    if isinstance(function, functools.partial):
        fixed = ", ".join(f"{name}={value!r}" for name, value in function.keywords.items())
        return f"{describe(function.func)}({fixed})"
    if not callable(function) or hasattr(function, "__qualname__"):
        module = getattr(function, "__module__", None) or "?"
        return f"{module}:{getattr(function, '__qualname__', type(function).__name__)}"
    kind = type(function)
    return f"{kind.__module__}:{kind.__qualname__} instance"


def parse_target_option(option: str) -> tuple[str, str]:
    """``contract=spec`` → (contract, spec)."""
    contract, sep, spec = option.partition("=")
    if not sep or not contract or not spec:
        raise TargetError(f"--target: expected CONTRACT=package.module:function, got {option!r}")
    return contract.strip(), spec.strip()
