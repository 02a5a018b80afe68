package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
var version = "dev"

// revision is the VCS revision when the build has none of its own (a Docker
// build without .git): -ldflags "-X main.revision=$(git rev-parse HEAD)".
var revision = ""

type buildInfo struct {
	Version, Go, Revision, Time string
	Modified                    bool
}

func readBuildInfo() buildInfo {
	bi := buildInfo{Version: version, Go: runtime.Version(), Revision: revision}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return bi
	}
	// Without -X main.version, the module version the go command stamped
	// (a pseudo-version from the VCS, or a tag) is the next best name.
	if bi.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		bi.Version = "dev " + info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			bi.Revision = s.Value
		case "vcs.time":
			bi.Time = s.Value
		case "vcs.modified":
			bi.Modified = s.Value == "true"
		}
	}
	return bi
}

func runVersion(_ context.Context, args []string, stdout, _ io.Writer, _ func(string) string) error {
	if len(args) > 0 {
		return usageError("version takes no arguments, got %q", args[0])
	}
	bi := readBuildInfo()
	fmt.Fprintf(stdout, "storybot %s\n%s\n", bi.Version, bi.Go)
	switch {
	case bi.Revision == "":
		fmt.Fprintln(stdout, "revision unknown (built without version control information)")
	default:
		line := "revision " + bi.Revision
		if bi.Time != "" {
			line += " (" + bi.Time + ")"
		}
		if bi.Modified {
			line += " with uncommitted changes"
		}
		fmt.Fprintln(stdout, line)
	}
	return nil
}
