"""kfp's module path ``kfp.compiler.compiler`` (``from kfp.compiler import compiler``)."""

from conveyor.compiler.package import Compiler

__all__ = ["Compiler"]
