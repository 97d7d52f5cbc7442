"""kfp's `kfp.dsl.types` package path, for files that import artifact classes from there."""
