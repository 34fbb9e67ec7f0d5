// lincheck: checks that the strong reads and the writes of a kdfs chaos
// history are linearizable, per path, as a read/write/delete register, with
// Porcupine (github.com/anishathalye/porcupine).
//
// Input (file named by the first argument, or stdin): JSON
//
//	{"operations": [{"client": 0, "key": "/chaos/k1", "kind": "put|get|delete|publish",
//	  "value": "token", "found": true, "unknown": false,
//	  "call": <ns>, "return": <ns>}, ...]}
//
// "value" is what a put wrote or a get read ("" = the path was absent); a
// delete's "found" tells whether it removed something, a publish's (a rename
// of a temporary file onto the path, refused if the path exists) whether the
// rename happened. Operations whose
// outcome is unknown (timeouts) must be given a return time after every other
// operation (they may take effect at any point after their call, or never).
//
// Output on stdout: {"verdict": "yes|no|unknown", "keys": {key: {...}}};
// with -viz DIR an HTML visualisation of every non-linearizable path.
// Exit status 0 whatever the verdict; 2 on bad input.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"
)

type input struct {
	Kind  string
	Value string
}

type output struct {
	Value   string
	Found   bool
	Unknown bool
}

type record struct {
	Client  int    `json:"client"`
	Key     string `json:"key"`
	Kind    string `json:"kind"`
	Value   string `json:"value"`
	Found   bool   `json:"found"`
	Unknown bool   `json:"unknown"`
	Call    int64  `json:"call"`
	Return  int64  `json:"return"`
}

type keyResult struct {
	Result string `json:"result"`
	Ops    int    `json:"ops"`
	Viz    string `json:"viz,omitempty"`
}

// registerModel: the state is the path's content token, "" when absent.
var registerModel = porcupine.Model{
	Init: func() interface{} { return "" },
	Step: func(state, in, out interface{}) (bool, interface{}) {
		s, i, o := state.(string), in.(input), out.(output)
		switch i.Kind {
		case "put":
			return true, i.Value
		case "delete":
			if o.Unknown {
				return true, ""
			}
			return o.Found == (s != ""), ""
		case "publish": // rename onto the path: succeeds only if it is absent
			if o.Unknown {
				if s == "" {
					return true, i.Value
				}
				return true, s
			}
			if o.Found {
				return s == "", i.Value
			}
			return s != "", s
		default: // get
			return o.Value == s, s
		}
	},
	DescribeOperation: func(in, out interface{}) string {
		i, o := in.(input), out.(output)
		switch i.Kind {
		case "put":
			return fmt.Sprintf("put(%s)", i.Value)
		case "delete":
			if o.Unknown {
				return "delete() -> ?"
			}
			return fmt.Sprintf("delete() -> found=%v", o.Found)
		case "publish":
			if o.Unknown {
				return fmt.Sprintf("publish(%s) -> ?", i.Value)
			}
			return fmt.Sprintf("publish(%s) -> renamed=%v", i.Value, o.Found)
		default:
			return fmt.Sprintf("get() -> %q", o.Value)
		}
	},
	DescribeState: func(state interface{}) string { return fmt.Sprintf("%q", state.(string)) },
}

func main() {
	viz := flag.String("viz", "", "directory for HTML visualisations of failing paths")
	timeout := flag.Duration("timeout", 60*time.Second, "search time limit per path")
	flag.Parse()
	var r io.Reader = os.Stdin
	if flag.NArg() > 0 {
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		defer f.Close()
		r = f
	}
	var doc struct {
		Operations []record `json:"operations"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		fmt.Fprintln(os.Stderr, "bad input:", err)
		os.Exit(2)
	}
	byKey := map[string][]porcupine.Operation{}
	for _, rec := range doc.Operations {
		byKey[rec.Key] = append(byKey[rec.Key], porcupine.Operation{
			ClientId: rec.Client,
			Input:    input{rec.Kind, rec.Value},
			Call:     rec.Call,
			Output:   output{rec.Value, rec.Found, rec.Unknown},
			Return:   rec.Return,
		})
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	verdict := "yes"
	results := map[string]keyResult{}
	unsafe := regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	for _, k := range keys {
		res, info := porcupine.CheckOperationsVerbose(registerModel, byKey[k], *timeout)
		kr := keyResult{Result: string(res), Ops: len(byKey[k])}
		switch res {
		case porcupine.Illegal:
			verdict = "no"
			if *viz != "" {
				_ = os.MkdirAll(*viz, 0o755)
				kr.Viz = filepath.Join(*viz, unsafe.ReplaceAllString(k, "_")+".html")
				if err := porcupine.VisualizePath(registerModel, info, kr.Viz); err != nil {
					kr.Viz = ""
				}
			}
		case porcupine.Unknown:
			if verdict == "yes" {
				verdict = "unknown"
			}
		}
		results[k] = kr
	}
	out, _ := json.MarshalIndent(map[string]interface{}{"verdict": verdict, "keys": results}, "", "  ")
	fmt.Println(string(out))
}
