"""Public home of the posteriors: one model's mean score with its uncertainty.

``Posterior`` is the base class for custom metrics; ``BetaPosterior`` (binary / [0, 1] scores),
``NormalPosterior`` (Normal-Inverse-Gamma), ``DirichletPosterior`` (categorical / ordinal grades) and
``GammaPosterior`` (latency, cost) are conjugate. A factory such as ``lambda: NormalPosterior(mu_0=0.30)``
can be passed wherever a ``posterior_factory`` is accepted.
"""

from .stats._posteriors import BetaPosterior, DirichletPosterior, GammaPosterior, NormalPosterior, Posterior

__all__ = ["Posterior", "BetaPosterior", "NormalPosterior", "DirichletPosterior", "GammaPosterior"]
