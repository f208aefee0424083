"""Errors raised by the geo package; ``api`` maps them to exit codes and HTTP statuses."""


class GeoError(Exception):
    """Base class of every error the geo package raises on purpose."""


class NetworkLoadError(GeoError):
    """An OSM extract could not be read or holds no usable road network."""


class UnroutableError(GeoError):
    """A point cannot be placed on, or reached through, the road network."""


class GeocodeError(GeoError):
    """An address index could not be built or queried."""
