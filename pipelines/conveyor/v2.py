"""`kfp.v2` alias: `from conveyor.v2 import dsl, compiler` works as `from kfp.v2 import dsl, compiler`."""

from conveyor import compiler, dsl

__all__ = ["compiler", "dsl"]
