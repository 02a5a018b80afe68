package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStorageDefaultsAndOverrides(t *testing.T) {
	c, err := Load("", env())
	if err != nil {
		t.Fatal(err)
	}
	if !c.Storage.LogQuestions || c.Storage.RetentionDays != 90 || c.Storage.PostgresURL != "" {
		t.Errorf("storage defaults %+v", c.Storage)
	}
	c, err = Load(writeConfig(t, "storage:\n  log_questions: false\n  retention_days: 30\n"), env(
		"STORYBOT_STORAGE_POSTGRES_URL", "postgres://storybot@db:5432/storybot",
		"STORYBOT_STORAGE_RETENTION_DAYS", "7",
	))
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage.LogQuestions || c.Storage.RetentionDays != 7 || c.Storage.PostgresURL != "postgres://storybot@db:5432/storybot" {
		t.Errorf("storage from file and env %+v", c.Storage)
	}
}

func TestBadStorageSettingsNameTheKeyNotThePassword(t *testing.T) {
	for _, tc := range []struct {
		file    string
		env     []string
		want    []string
		secrets []string
	}{
		{file: "storage:\n  retention_days: 0\n", want: []string{"line 2: storage.retention_days: 0 is not allowed", "from 1 to 3650"}},
		{env: []string{"STORYBOT_STORAGE_RETENTION_DAYS", "99999"}, want: []string{"STORYBOT_STORAGE_RETENTION_DAYS (storage.retention_days)"}},
		{env: []string{"STORYBOT_STORAGE_LOG_QUESTIONS", "maybe"}, want: []string{"STORYBOT_STORAGE_LOG_QUESTIONS", "true or false"}},
		{file: "storage:\n  postgres_url: mysql://root:hunter2secret@db/x\n", want: []string{"line 2: storage.postgres_url", "REDACTED", "postgres://"}, secrets: []string{"hunter2secret"}},
		{file: "storage:\n  postgres_url: \"postgres://u:hunter2secret@db:5432/x%zz\"\n", want: []string{"storage.postgres_url", "does not parse"}, secrets: []string{"hunter2secret"}},
		{env: []string{"STORYBOT_STORAGE_POSTGRES_URL", "just-a-host"}, want: []string{"STORYBOT_STORAGE_POSTGRES_URL (storage.postgres_url)", "key=value"}},
	} {
		path := ""
		if tc.file != "" {
			path = writeConfig(t, tc.file)
		}
		_, err := Load(path, env(tc.env...))
		wantErr(t, err, tc.want...)
		for _, s := range tc.secrets {
			if err != nil && strings.Contains(err.Error(), s) {
				t.Errorf("error shows the password: %v", err)
			}
		}
	}
}

func TestRedactPostgresURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@db:5432/x":                      "postgres://u:REDACTED@db:5432/x",
		"postgres://u@db/x":                              "postgres://u@db/x",
		"host=db password=pw dbname=x":                   "host=db password=REDACTED dbname=x",
		"host=db password='p w' dbname=x":                "host=db password=REDACTED dbname=x",
		"postgres://u:p%zz@db/x":                         "postgres://REDACTED@db/x",
		"postgresql://storybot:s3cret@10.0.0.1/storybot": "postgresql://storybot:REDACTED@10.0.0.1/storybot",
	} {
		if got := RedactPostgresURL(in); got != want {
			t.Errorf("RedactPostgresURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStorageSalt(t *testing.T) {
	const salt = "0123456789abcdef0123456789abcdef"
	c := Default()
	if s, err := c.StorageSalt(env(SaltEnv, salt)); err != nil || string(s) != salt {
		t.Errorf("from env: %q %v", s, err)
	}
	if s, err := c.StorageSalt(env()); err != nil || s != nil {
		t.Errorf("unset without PostgreSQL: %q %v, want none (SQLite keeps its own)", s, err)
	}
	_, err := c.StorageSalt(env(SaltEnv, "short-secret"))
	wantErr(t, err, SaltEnv, "at least 16")
	if err != nil && strings.Contains(err.Error(), "short-secret") {
		t.Errorf("error shows the salt: %v", err)
	}

	c.Storage.PostgresURL = "postgres://db/x"
	_, err = c.StorageSalt(env())
	wantErr(t, err, "storage.postgres_url", SaltEnv, "storage.salt_file")

	path := filepath.Join(t.TempDir(), "salt")
	if err := os.WriteFile(path, []byte(salt+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.Storage.SaltFile = path
	if s, err := c.StorageSalt(env()); err != nil || string(s) != salt {
		t.Errorf("from file: %q %v", s, err)
	}
	if err := os.WriteFile(path, []byte("tiny-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = c.StorageSalt(env())
	wantErr(t, err, "storage.salt_file", "at least 16")
	if err != nil && strings.Contains(err.Error(), "tiny-secret") {
		t.Errorf("error shows the salt: %v", err)
	}
	c.Storage.SaltFile = filepath.Join(t.TempDir(), "missing")
	_, err = c.StorageSalt(env())
	wantErr(t, err, "storage.salt_file", "missing")
}
