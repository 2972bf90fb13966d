"""The built-in functions; importing this package registers them all in :data:`..functions.REGISTRY`."""
from . import arithmetic, collection, conversion, dates, logical, runtime, strings, xml  # noqa: F401
