"""Compilers from the IR to cluster workflow engines; ``conveyor.compiler.argo`` targets Argo Workflows.

``Compiler`` is kfp's entry point (``from conveyor import compiler; compiler.Compiler().compile(...)``).
"""

from conveyor.compiler.package import Compiler

__all__ = ["Compiler"]
