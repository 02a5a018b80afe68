package main

import (
	"errors"
	"strings"
	"testing"
)

func TestConfigCheck(t *testing.T) {
	if out, _, err := runEnv(t, nil, "config", "check", "config.example.yaml"); err != nil || out != "ok: config.example.yaml is valid\n" {
		t.Errorf("example: %q, %v", out, err)
	}
	bad := writeFile(t, "limits:\n  concurrency: 0\n  burst: 3\n")
	out, _, err := runEnv(t, nil, "config", "check", bad)
	if err == nil || out != "" || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), `line 3: unknown key "burst" in limits`) {
		t.Errorf("bad file: %q, %v", out, err)
	}
	bad = writeFile(t, "limits:\n  concurrency: 0\n")
	if _, _, err := runEnv(t, nil, "config", "check", bad); err == nil || !strings.Contains(err.Error(), "line 2: limits.concurrency: 0 is not allowed") {
		t.Errorf("bad value: %v", err)
	}
	// The environment is applied, as serve would apply it.
	if _, _, err := runEnv(t, map[string]string{"STORYBOT_LOG_LEVEL": "loud"}, "config", "check", "config.example.yaml"); err == nil || !strings.Contains(err.Error(), "STORYBOT_LOG_LEVEL") {
		t.Errorf("bad env: %v", err)
	}
	for _, args := range [][]string{{"config"}, {"config", "check"}, {"config", "check", "a", "b"}, {"config", "lint", "x"}} {
		if _, _, err := runEnv(t, nil, args...); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	if out, _, err := runEnv(t, nil, "config", "--help"); err != nil || !strings.Contains(out, "storybot config check FILE") {
		t.Errorf("--help: %q %v", out, err)
	}
}
