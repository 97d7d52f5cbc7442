"""Ready-made components: ``from conveyor.prebuilt import notify``."""

from conveyor.prebuilt.notify import notify

__all__ = ["notify"]
