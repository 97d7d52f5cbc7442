"""Compilers from the IR to cluster workflow engines; ``conveyor.compiler.argo`` targets Argo Workflows."""
