"""Submit compiled workflows to Argo, watch them, and mirror their state into the metadata store."""
