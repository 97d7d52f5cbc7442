"""Task images: `conveyor image build` (see build.py)."""
