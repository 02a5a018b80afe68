package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// SaltEnv holds the salt user IDs are hashed with. It is a secret, so it is
// read only from the environment or from storage.salt_file, never from the
// config file itself.
const SaltEnv = EnvPrefix + "STORAGE_SALT"

// Salt bounds: shorter salts can be guessed (Discord IDs are few enough to
// try them all); a larger file is the wrong file.
const (
	minSaltLen  = 16
	maxSaltFile = 4096
)

// StorageSalt is the salt for hashing user IDs: STORYBOT_STORAGE_SALT if
// set, else the contents of storage.salt_file (trimmed), else nil, and the
// caller keeps one in the data directory (one process on SQLite). With
// storage.postgres_url set, replicas must agree on it, so nil is an error.
// No error holds the salt.
func (c *Config) StorageSalt(getenv func(string) string) ([]byte, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if s := strings.TrimSpace(getenv(SaltEnv)); s != "" {
		if len(s) < minSaltLen {
			return nil, fmt.Errorf("%s has %d characters; use at least %d random ones (e.g. openssl rand -hex 32)", SaltEnv, len(s), minSaltLen)
		}
		return []byte(s), nil
	}
	path := c.Storage.SaltFile
	if path == "" {
		if c.Storage.PostgresURL != "" {
			return nil, errors.New("storage.postgres_url is set, so every replica must hash user IDs with the same salt: set " + SaltEnv +
				" or point storage.salt_file (" + EnvPrefix + "STORAGE_SALT_FILE) at a file holding at least 16 random characters")
		}
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.where("storage.salt_file"), err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSaltFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", c.where("storage.salt_file"), path, err)
	}
	if len(data) > maxSaltFile {
		return nil, fmt.Errorf("%s: %s is larger than %d bytes; it should hold only the salt", c.where("storage.salt_file"), path, maxSaltFile)
	}
	s := strings.TrimSpace(string(data))
	if len(s) < minSaltLen {
		return nil, fmt.Errorf("%s: %s holds %d characters; use at least %d random ones (e.g. openssl rand -hex 32)", c.where("storage.salt_file"), path, len(s), minSaltLen)
	}
	return []byte(s), nil
}
