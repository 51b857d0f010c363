"""Combinators: transformations built from other transformations."""

from gradtx.combinators._masking import MaskedNode as MaskedNode
from gradtx.combinators._masking import MaskedState as MaskedState
from gradtx.combinators._masking import masked as masked

__all__ = ["MaskedNode", "MaskedState", "masked"]
