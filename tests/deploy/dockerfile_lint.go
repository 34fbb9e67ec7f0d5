// dockerfile_lint parses a Dockerfile with BuildKit's own Dockerfile frontend
// and runs its build checks: what `docker build --check` reports, offline.
// Base images are not pulled: a stub resolver answers with an empty config.
//
//	dockerfile_lint FILE           exit 0: clean; 1: a check failed or it does not parse
//	dockerfile_lint --context DIR  lists the files of DIR that a build would send,
//	                               after DIR/.dockerignore (Docker's own matcher)
//
// scripts/install-deploy-tools builds it inside the Compose wrapper module,
// which already pins the BuildKit version that Compose uses.
package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	digest "github.com/opencontainers/go-digest"
)

type offlineResolver struct{}

func (offlineResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	cfg := `{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}}`
	return ref, digest.FromString(ref), []byte(cfg), nil
}

// listContext prints the files under dir that .dockerignore does not exclude.
func listContext(dir string) error {
	var patterns []string
	if f, err := os.Open(filepath.Join(dir, ".dockerignore")); err == nil {
		patterns, err = ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return err
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		excluded, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		if excluded {
			if d.IsDir() && !pm.Exclusions() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			fmt.Println(filepath.ToSlash(rel))
		}
		return nil
	})
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "--context" {
		if err := listContext(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerfile_lint FILE | --context DIR")
		os.Exit(2)
	}
	name := os.Args[1]
	dt, err := os.ReadFile(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	src := llb.Scratch()
	smap := llb.NewSourceMap(&src, name, "Dockerfile", dt)
	if smap.Definition, err = src.Marshal(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	opt := dockerfile2llb.ConvertOpt{SourceMap: smap, MetaResolver: offlineResolver{}}
	res, err := dockerfile2llb.DockerfileLint(ctx, dt, opt)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	failed := false
	if res.Error != nil {
		fmt.Printf("%s: does not build: %s\n", name, res.Error.Message)
		failed = true
	}
	for _, w := range res.Warnings {
		line := 0
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		fmt.Printf("%s:%d %s: %s\n", name, line, w.RuleName, w.Detail)
		failed = true
	}
	if failed {
		os.Exit(1)
	}
	fmt.Printf("%s: BuildKit checks passed\n", name)
}
