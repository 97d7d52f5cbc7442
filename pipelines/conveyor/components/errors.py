"""The one error a malformed component spec raises (a PipelineDefinitionError: permanent, exit 3)."""

from conveyor.ir.errors import PipelineDefinitionError


class ComponentSpecError(PipelineDefinitionError):
    """A YAML component spec is malformed; the message names the key."""
