package storage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHasherNeverKeepsTheID(t *testing.T) {
	const id = "123456789012345678"
	a, err := NewHasher([]byte("a deployment salt, 32 bytes long"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewHasher([]byte("another deployment's salt, long!"))
	if a.User(id) != a.User(id) {
		t.Error("one user, two hashes")
	}
	if a.User(id) == b.User(id) {
		t.Error("two deployments give a user the same hash")
	}
	if a.User(id) == a.User("123456789012345679") {
		t.Error("two users share a hash")
	}
	if h := string(a.User(id)); strings.Contains(h, id) || len(h) != 32 {
		t.Errorf("hash %q", h)
	}
	if _, err := NewHasher([]byte("short")); err == nil || strings.Contains(err.Error(), "short") {
		t.Errorf("a 5-byte salt: %v (must be refused without being shown)", err)
	}
}

func TestDataDirSaltIsMadeOnceAndPrivate(t *testing.T) {
	dir := t.TempDir()
	first, err := DataDirSalt(dir)
	if err != nil {
		t.Fatal(err)
	}
	second, err := DataDirSalt(dir)
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != string(second) || len(first) < MinSaltLen {
		t.Errorf("salt changed or short: %d then %d bytes", len(first), len(second))
	}
	info, err := os.Stat(filepath.Join(dir, SaltFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("salt file mode %v, want 0600", info.Mode().Perm())
	}
	if err := os.WriteFile(filepath.Join(dir, SaltFile), []byte("tiny\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := DataDirSalt(dir); err == nil || strings.Contains(err.Error(), "tiny") {
		t.Errorf("a short salt file: %v", err)
	}
}
