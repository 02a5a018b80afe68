// Package store keeps storybot's state in the data directory: the embedding
// cache, so a restart does not re-embed unchanged text, and the last good
// snapshot's stories, so a knowledge folder that is broken at start does not
// leave the bot with nothing to answer from.
//
// Every file is written crash-safely (temp file in the same directory,
// fsync, rename, fsync of the directory): a reader sees the old file or the
// new one, never half of one. Every file carries a sha256 of its payload, so
// a file damaged some other way (a full disk, a bad copy) is detected and
// rebuilt rather than trusted. chromem-go's ExportToFile is not used: it
// overwrites in place, which is exactly what a crash must not meet.
package store

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrCorrupt marks a file that exists but cannot be trusted: truncated,
// damaged, or not a storybot file. The caller logs it and rebuilds.
var ErrCorrupt = errors.New("corrupt")

// File names in the data directory.
const (
	CacheFile   = "embeddings.cache"
	StoriesFile = "stories.snapshot"
)

// tempMarker is in the name of every file being written; Open removes those
// a crashed writer left behind.
const tempMarker = ".tmp-"

// Dir is an opened data directory.
type Dir struct {
	path string
	// mu guards cache, what the Dir knows of the cache file (cachelog.go).
	mu    sync.Mutex
	cache *cacheLog
}

// staleTemp is how old a temp file must be before Open deletes it: older
// than any write takes, so a second process sharing the directory (storybot
// index while the bot runs) does not lose the file it is writing.
const staleTemp = 10 * time.Minute

// Open makes dir if needed and removes temp files left by a writer that was
// killed mid-write (they were never renamed, so nothing points at them) once
// they are older than staleTemp.
func Open(dir string) (*Dir, error) {
	if dir == "" {
		return nil, errors.New("open data directory: no path given")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open data directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open data directory: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.Contains(e.Name(), tempMarker) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("open data directory: remove leftover %s: %w", e.Name(), err)
			}
		}
	}
	return &Dir{path: dir}, nil
}

// Path is the directory's path.
func (d *Dir) Path() string { return d.path }

// The file layout: a fixed header, then the payload.
//
//	magic   [8]byte  names the kind of file
//	version uint32   of the payload format
//	length  uint64   of the payload in bytes
//	sum     [32]byte sha256 of the payload
//
// The length catches truncation before anything is parsed; the sum catches
// everything else.
const headerSize = 8 + 4 + 8 + sha256.Size

type header struct {
	magic   [8]byte
	version uint32
	length  uint64
	sum     [sha256.Size]byte
}

func (h header) bytes() []byte {
	b := make([]byte, 0, headerSize)
	b = append(b, h.magic[:]...)
	b = binary.LittleEndian.AppendUint32(b, h.version)
	b = binary.LittleEndian.AppendUint64(b, h.length)
	return append(b, h.sum[:]...)
}

// testHookWritten, if set, is told how many payload bytes have gone to the
// temp file; the crash test uses it to kill the writer mid-write.
var testHookWritten func(n int64)

// countingWriter hashes and counts what passes through.
type countingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	if testHookWritten != nil {
		testHookWritten(c.n)
	}
	return n, err
}

// writeFile replaces name with a file holding magic, version and what
// payload writes, so that a crash at any point leaves the old file whole.
func (d *Dir) writeFile(name string, magic [8]byte, version uint32, payload func(w io.Writer) error) (err error) {
	final := filepath.Join(d.path, name)
	f, err := os.CreateTemp(d.path, name+tempMarker+"*")
	if err != nil {
		return fmt.Errorf("save %s: %w", final, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	// Room for the header, filled in once the payload's sum is known.
	if _, err := f.Write(make([]byte, headerSize)); err != nil {
		return fmt.Errorf("save %s: %w", final, err)
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	cw := &countingWriter{w: bw, h: sha256.New()}
	if err := payload(cw); err != nil {
		return fmt.Errorf("save %s: %w", final, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("save %s: %w", final, err)
	}
	h := header{magic: magic, version: version, length: uint64(cw.n)}
	cw.h.Sum(h.sum[:0])
	if _, err := f.WriteAt(h.bytes(), 0); err != nil {
		return fmt.Errorf("save %s: %w", final, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("save %s: sync: %w", final, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save %s: %w", final, err)
	}
	if err := os.Rename(f.Name(), final); err != nil {
		return fmt.Errorf("save %s: %w", final, err)
	}
	// The rename is durable only once the directory is synced.
	if err := syncDir(d.path); err != nil {
		return fmt.Errorf("save %s: sync directory: %w", final, err)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// readFile opens name, checks its header against magic and version, and
// hands parse a reader over exactly the payload. The payload's sum is
// checked after parse returns; parse's result must be discarded on error.
// A missing file is an error wrapping fs.ErrNotExist.
func (d *Dir) readFile(name string, magic [8]byte, version uint32, parse func(r *payloadReader) error) error {
	return d.readFileOf(name, magic, []uint32{version}, func(r *payloadReader, _ uint32) error { return parse(r) })
}

// readFileOf is readFile for a file whose payload may be in any of
// versions (the newest first, for the error message); parse is told which.
func (d *Dir) readFileOf(name string, magic [8]byte, versions []uint32, parse func(r *payloadReader, version uint32) error) error {
	return d.readFileTail(name, magic, versions, parse, nil)
}

// readFileTail is readFileOf for a file that may go on after its payload
// (the cache's appended records): tail, if not nil, is handed the file
// after the payload and its size, once the payload checked out, and says
// whether its version allows one. Without it, the file must end with the
// payload.
func (d *Dir) readFileTail(name string, magic [8]byte, versions []uint32, parse func(r *payloadReader, version uint32) error,
	tail func(version uint32) func(f io.Reader, size int64) error) error {
	path := filepath.Join(d.path, name)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	defer f.Close()
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("load %s: %w: %s", path, ErrCorrupt, fmt.Sprintf(format, args...))
	}
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	var hb [headerSize]byte
	if _, err := io.ReadFull(f, hb[:]); err != nil {
		return corrupt("shorter than its %d-byte header (%d bytes)", headerSize, info.Size())
	}
	var h header
	copy(h.magic[:], hb[:8])
	h.version = binary.LittleEndian.Uint32(hb[8:])
	h.length = binary.LittleEndian.Uint64(hb[12:])
	copy(h.sum[:], hb[20:])
	switch {
	case h.magic != magic:
		return corrupt("not a storybot %s file", strings.TrimSpace(string(magic[:])))
	case !slices.Contains(versions, h.version):
		return corrupt("format version %d, this storybot reads version %d", h.version, versions[0])
	}
	var rest func(f io.Reader, size int64) error
	if tail != nil {
		rest = tail(h.version)
	}
	switch have := uint64(info.Size() - headerSize); {
	case rest == nil && have != h.length:
		return corrupt("truncated or extended: the header promises %d bytes of data, the file has %d", h.length, have)
	case rest != nil && have < h.length:
		return corrupt("truncated: the header promises %d bytes of data, the file has %d", h.length, have)
	}
	hasher := sha256.New()
	r := &payloadReader{r: bufio.NewReaderSize(io.TeeReader(io.LimitReader(f, int64(h.length)), hasher), 1<<16), left: h.length}
	parseErr := parse(r, h.version)
	if parseErr == nil && r.left != 0 {
		parseErr = fmt.Errorf("%d bytes left after the data", r.left)
	}
	// Read what parse did not, so the sum covers the whole payload.
	if _, err := io.Copy(io.Discard, r.r); err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	if got := hasher.Sum(nil); string(got) != string(h.sum[:]) {
		return corrupt("checksum mismatch: the data was damaged after it was written")
	}
	if parseErr != nil {
		// The sum matched, so this file was written like this: a bug, or
		// a future format with the same version. Either way, not trusted.
		return corrupt("%v", parseErr)
	}
	if rest != nil {
		if err := rest(bufio.NewReaderSize(f, 1<<16), info.Size()-headerSize-int64(h.length)); err != nil {
			return corrupt("%v", err)
		}
	}
	return nil
}

// payloadReader reads the payload with bounds: a length read from the file
// is never trusted beyond the bytes that remain.
type payloadReader struct {
	r    *bufio.Reader
	left uint64
}

var errShort = errors.New("data ends early")

func (p *payloadReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.left -= uint64(n)
	return n, err
}

func (p *payloadReader) full(b []byte) error {
	if uint64(len(b)) > p.left {
		return errShort
	}
	_, err := io.ReadFull(p, b)
	if err != nil {
		return errShort
	}
	return nil
}

func (p *payloadReader) uvarint() (uint64, error) {
	v, err := binary.ReadUvarint(byteReader{p})
	if err != nil {
		return 0, errShort
	}
	return v, nil
}

// count reads a count of items each at least minSize bytes long, refusing
// one the remaining bytes cannot hold (so a damaged count cannot make us
// allocate gigabytes).
func (p *payloadReader) count(minSize uint64) (int, error) {
	n, err := p.uvarint()
	if err != nil {
		return 0, err
	}
	if minSize > 0 && n > p.left/minSize {
		return 0, fmt.Errorf("a count of %d does not fit in the %d bytes left", n, p.left)
	}
	return int(n), nil
}

func (p *payloadReader) string() (string, error) {
	n, err := p.count(1)
	if err != nil {
		return "", err
	}
	b := make([]byte, n)
	if err := p.full(b); err != nil {
		return "", err
	}
	return string(b), nil
}

type byteReader struct{ p *payloadReader }

func (b byteReader) ReadByte() (byte, error) {
	if b.p.left == 0 {
		return 0, io.EOF
	}
	c, err := b.p.r.ReadByte()
	if err == nil {
		b.p.left--
	}
	return c, err
}
