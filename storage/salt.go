package storage

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MinSaltLen is the shortest salt accepted, in bytes: shorter ones can be
// guessed, and Discord IDs are few enough to try them all.
const MinSaltLen = 16

// Hasher turns user IDs into UserHashes with the deployment's salt: the same
// user gets the same hash on every replica of a deployment, and nobody
// without the salt can tell who it is.
type Hasher struct {
	salt []byte
}

// NewHasher makes a Hasher. The salt is a secret: from the environment or a
// file, never logged.
func NewHasher(salt []byte) (Hasher, error) {
	if len(salt) < MinSaltLen {
		return Hasher{}, fmt.Errorf("the salt has %d bytes; it needs at least %d", len(salt), MinSaltLen)
	}
	return Hasher{salt: append([]byte(nil), salt...)}, nil
}

// User is the hash of a Discord user ID: HMAC-SHA256 with the salt, cut to
// 128 bits (hex).
func (h Hasher) User(id string) UserHash {
	if len(h.salt) == 0 {
		panic("storage: Hasher used without a salt; make it with NewHasher")
	}
	m := hmac.New(sha256.New, h.salt)
	m.Write([]byte("user:"))
	m.Write([]byte(id))
	return UserHash(hex.EncodeToString(m.Sum(nil)[:16]))
}

// SaltFile is the salt's name in the data directory, when the deployment
// sets none and SQLite is used.
const SaltFile = "storage.salt"

// DataDirSalt reads the salt kept in dir, making one (32 random bytes, mode
// 0600) the first time. It suits one process with SQLite in the same
// directory; replicas sharing PostgreSQL must share a salt set by the
// deployment instead.
func DataDirSalt(dir string) ([]byte, error) {
	path := filepath.Join(dir, SaltFile)
	data, err := os.ReadFile(path)
	if err == nil {
		salt := []byte(strings.TrimSpace(string(data)))
		if len(salt) < MinSaltLen {
			return nil, fmt.Errorf("salt %s: %d bytes, want at least %d; delete it to make a new one (user hashes will change)", path, len(salt), MinSaltLen)
		}
		return salt, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("salt %s: %w", path, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("salt %s: %w", path, err)
	}
	salt := []byte(hex.EncodeToString(raw))
	// O_EXCL: if another process made one meanwhile, use that one.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return DataDirSalt(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("salt %s: %w", path, err)
	}
	if _, err := f.Write(append(salt, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("salt %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("salt %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("salt %s: %w", path, err)
	}
	return salt, nil
}
