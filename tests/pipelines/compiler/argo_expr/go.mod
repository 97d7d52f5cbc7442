module conveyor.test/argoexpr

go 1.24

require (
	github.com/argoproj/argo-workflows/v4 v4.0.5
	github.com/expr-lang/expr v1.17.7
)
