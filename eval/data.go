package eval

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DataEnv names the folder of evaluation sets when it is not ../shared/eval
// beside the repository.
const DataEnv = "STORYBOT_EVAL_DATA"

// DataDir is the folder holding the evaluation sets the project did not
// write and does not commit: $STORYBOT_EVAL_DATA, else shared/eval beside
// the repository that holds the working directory (found by its go.mod), else
// ../shared/eval.
func DataDir(getenv func(string) string) string {
	if d := getenv(DataEnv); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return filepath.Join("..", "shared", "eval")
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "eval")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Join("..", "shared", "eval")
		}
		dir = parent
	}
}

// ErrNoData is wrapped by Locate when a set is in neither place.
var ErrNoData = errors.New("evaluation set not found")

// Locate resolves name: as given when that file exists, else under
// DataDir. The error names both places and how to point elsewhere.
func Locate(name string, getenv func(string) string) (string, error) {
	if _, err := os.Stat(name); err == nil || filepath.IsAbs(name) {
		return name, err
	}
	p := filepath.Join(DataDir(getenv), name)
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s: %w: not at %s nor in %s (set %s to the folder that holds the shared sets)", name, ErrNoData, name, DataDir(getenv), DataEnv)
		}
		return "", err
	}
	return p, nil
}
