"""Perturbed functions: differentiable Monte Carlo smoothing of any function.

optax's ``optax.perturbations``, under the same names and arguments, with
explicit PRNG keys and the same noise draws as optax's for the same key.
"""

from gradtx.perturbations._perturbed import Gumbel as Gumbel
from gradtx.perturbations._perturbed import Normal as Normal
from gradtx.perturbations._perturbed import make_perturbed_fun as make_perturbed_fun

__all__ = ["Gumbel", "Normal", "make_perturbed_fun"]
