"""The `conveyor` command: parse arguments, call the layers below, render. No logic lives here."""
