// Command argo_expr evaluates template text the way the Argo v4.0.5 controller does, with Argo's own code.
//
// stdin: {"text": "...", "scope": {"tasks.x.status": "Failed", ...}, "expression": false}
// text is a DAG task argument (resolved like resolveDependencyReferences: ReplaceStrict on tasks.*)
// or, with "expression": true, a DAG output's valueFrom.expression (resolved like wfScope.resolveParameter).
// stdout: {"value": "..."} or {"error": "...", "missing": true|false} (missing: the controller requeues).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/expr-lang/expr"

	"github.com/argoproj/argo-workflows/v4/util/expr/env"
	"github.com/argoproj/argo-workflows/v4/util/logging"
	"github.com/argoproj/argo-workflows/v4/util/template"
)

func main() {
	ctx := logging.WithLogger(context.Background(), logging.NewSlogLogger(logging.Error, logging.Text))
	var in struct {
		Text       string            `json:"text"`
		Scope      map[string]string `json:"scope"`
		Expression bool              `json:"expression"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	res := map[string]any{}
	if in.Expression {
		scope := map[string]any{}
		for k, v := range in.Scope {
			scope[k] = v
		}
		funcs := env.GetFuncMap(scope)
		program, err := expr.Compile(in.Text, expr.Env(funcs))
		if err == nil {
			var out any
			out, err = expr.Run(program, funcs)
			res["value"] = fmt.Sprint(out)
		}
		if err != nil {
			res = map[string]any{"error": err.Error(), "missing": false}
		}
	} else {
		doc, _ := json.Marshal(in.Text)
		out, err := template.ReplaceStrict(ctx, string(doc), in.Scope, []string{"tasks", "steps"})
		if err != nil {
			res["error"], res["missing"] = err.Error(), template.IsMissingVariableErr(err)
		} else {
			var s string
			_ = json.Unmarshal([]byte(out), &s)
			res["value"] = s
		}
	}
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
}
