package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	out, _, err := runEnv(t, nil, "version")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "storybot dev") || lines[1] != runtime.Version() || !strings.HasPrefix(lines[2], "revision ") {
		t.Errorf("version printed %q", out)
	}
	old := revision
	revision = "0123abcd"
	defer func() { revision = old }()
	// A test binary has no VCS stamp, so the -X revision shows.
	if out, _, _ := runEnv(t, nil, "version"); !strings.Contains(out, "revision 0123abcd") {
		t.Errorf("version with -X main.revision printed %q", out)
	}
	if _, _, err := runEnv(t, nil, "version", "extra"); err == nil {
		t.Error("version accepted an argument")
	}
}
