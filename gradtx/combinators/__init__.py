"""Combinators: transformations built from other transformations."""

from gradtx.combinators._flatten import FlatState as FlatState
from gradtx.combinators._flatten import Flattened as Flattened
from gradtx.combinators._flatten import flatten as flatten
from gradtx.combinators._masking import MaskedNode as MaskedNode
from gradtx.combinators._masking import MaskedState as MaskedState
from gradtx.combinators._masking import masked as masked

__all__ = ["FlatState", "Flattened", "MaskedNode", "MaskedState", "flatten", "masked"]
