"""Errors raised by the routing package; ``api`` maps them to exit codes and HTTP statuses."""


class RoutingError(Exception):
    """Base class of every error the routing package raises on purpose."""


class InvalidInputError(RoutingError, ValueError):
    """A domain value breaks one of its rules (negative amount, empty window, unknown segment)."""


class InfeasibleTeamError(InvalidInputError):
    """A team cannot be sent out as described (fewer than two officers, empty shift)."""


class SolverError(RoutingError):
    """The planner could not produce a plan at all."""
