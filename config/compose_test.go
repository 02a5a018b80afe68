package config

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestComposeFileUsesKnownSettings keeps deploy/compose.yaml in step with
// the settings: every STORYBOT_ variable it sets must be one storybot reads.
func TestComposeFileUsesKnownSettings(t *testing.T) {
	data, err := os.ReadFile("../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Storybot struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"x-storybot"`
		Services map[string]struct {
			Image string `yaml:"image"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	known := EnvNames()
	env := doc.Storybot.Environment
	for name := range env {
		if !strings.HasPrefix(name, EnvPrefix) || name == SaltEnv {
			continue
		}
		if _, ok := known[name]; !ok {
			t.Errorf("deploy/compose.yaml sets %s, which storybot does not read", name)
		}
	}
	for _, name := range []string{"STORYBOT_STORAGE_POSTGRES_URL", "STORYBOT_HTTP_INTERACTIONS_ADDR", SaltEnv, "DISCORD_TOKEN"} {
		if env[name] == "" {
			t.Errorf("deploy/compose.yaml does not set %s", name)
		}
	}
	if strings.Contains(env["STORYBOT_STORAGE_POSTGRES_URL"], ":${") {
		t.Error("the password belongs in PGPASSWORD, not in the URL")
	}
	for _, s := range []string{"postgres", "storybot-1", "storybot-2", "proxy"} {
		if _, ok := doc.Services[s]; !ok {
			t.Errorf("no service %s", s)
		}
	}
}
