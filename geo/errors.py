"""Errors raised by the geo package; ``api`` maps them to exit codes and HTTP statuses."""


class GeoError(Exception):
    """Base class of every error the geo package raises on purpose."""


class NetworkLoadError(GeoError):
    """An OSM extract could not be read or holds no usable road network."""


class UnroutableError(GeoError):
    """A point cannot be placed on, or reached through, the road network.

    Attributes
    ----------
    indices
        Positions (in the caller's list of locations) of the stops concerned.
    codes
        Per index, why: ``off_network``, ``outside_region``, ``unreachable_island`` or ``unreachable_pair``.
    """

    def __init__(self, message: str, indices: tuple[int, ...] = (), codes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.indices = indices
        self.codes = codes


class UnreachablePairError(UnroutableError):
    """Some stops are placed on the network but cannot reach each other (islands, one-way traps).

    Attributes
    ----------
    pairs
        ``(from, to)`` index pairs without a route.
    """

    def __init__(self, message: str, pairs: tuple[tuple[int, int], ...]) -> None:
        involved = tuple(sorted({i for pair in pairs for i in pair}))
        super().__init__(message, involved, ("unreachable_pair",) * len(involved))
        self.pairs = pairs


class GeocodeError(GeoError):
    """An address index could not be built or queried."""
