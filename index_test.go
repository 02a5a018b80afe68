package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"storybot/store"
)

func runEnv(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut, func(k string) string { return env[k] })
	return out.String(), errOut.String(), err
}

var indexLine = regexp.MustCompile(`^indexed (.+): (\d+) stories, (\d+) chunks; (\d+) chunks embedded, (\d+) from the cache; ([\d.]+) seconds\nstored in (.+)\n$`)

func TestIndexCommandTwice(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"STORYBOT_DATA_DIR": data, "STORYBOT_KNOWLEDGE_DIR": writeStories(t, 3)}

	out, errOut, err := runEnv(t, env, "index")
	if err != nil {
		t.Fatalf("index: %v\n%s", err, errOut)
	}
	m := indexLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("index printed %q", out)
	}
	if m[2] != "3" || m[4] != m[3] || m[5] != "0" || m[7] != data {
		t.Errorf("first index: %q", out)
	}
	// Not a terminal: plain progress lines, no carriage returns.
	if !strings.Contains(errOut, "indexing stories: 3/3 (100%)") || strings.Contains(errOut, "\r") {
		t.Errorf("progress output %q", errOut)
	}
	for _, name := range []string{store.CacheFile, store.StoriesFile} {
		if _, err := os.Stat(filepath.Join(data, name)); err != nil {
			t.Errorf("index did not store %s: %v", name, err)
		}
	}

	out, _, err = runEnv(t, env, "index")
	if err != nil {
		t.Fatal(err)
	}
	m = indexLine.FindStringSubmatch(out)
	if m == nil || m[4] != "0" || m[5] != m[3] {
		t.Errorf("second index embedded again: %q", out)
	}
	t.Logf("second index: %s", strings.TrimSpace(out))
}

func TestIndexCommandErrors(t *testing.T) {
	_, _, err := runEnv(t, nil, "index")
	if err == nil || !strings.Contains(err.Error(), "data_dir") || !strings.Contains(err.Error(), "STORYBOT_DATA_DIR") {
		t.Errorf("without a data dir: %v", err)
	}
	_, _, err = runEnv(t, map[string]string{"STORYBOT_LIMITS_CONCURRENCY": "x"}, "index")
	if err == nil || !strings.Contains(err.Error(), "STORYBOT_LIMITS_CONCURRENCY") {
		t.Errorf("bad env: %v", err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "story.txt"), []byte("\x00"), 0o600)
	_, _, err = runEnv(t, map[string]string{"STORYBOT_DATA_DIR": t.TempDir(), "STORYBOT_KNOWLEDGE_DIR": bad}, "index")
	if err == nil || !strings.Contains(err.Error(), "story.txt") {
		t.Errorf("broken folder: %v", err)
	}
	if _, _, err = runEnv(t, nil, "index", "extra"); err == nil || !strings.Contains(err.Error(), "no arguments") {
		t.Errorf("extra argument: %v", err)
	}
	if _, _, err = runEnv(t, nil, "index", "--config", filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing config: %v", err)
	}
	if _, errOut, err := runEnv(t, nil, "index", "--help"); err != nil || !strings.Contains(errOut, "Usage: storybot index") {
		t.Errorf("--help: %v %q", err, errOut)
	}
}

func TestIndexWithConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("data_dir: "+filepath.Join(dir, "state")+"\nembedder: {kind: none}\n"), 0o600)
	out, _, err := runEnv(t, nil, "index", "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	// No embedder: nothing embedded, nothing cached, the stories stored.
	if m := indexLine.FindStringSubmatch(out); m == nil || m[1] != "the built-in story" || m[4] != "0" || m[5] != "0" {
		t.Errorf("got %q", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", store.StoriesFile)); err != nil {
		t.Error(err)
	}
}
