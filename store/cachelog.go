package store

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"storybot/retrieval"
)

// The cache file grows by appends. A save rewrites it whole (crash-safely,
// as every file here) only when it must; otherwise it appends one record
// after what is there: the segments the file does not hold yet and the keys
// of every segment the saved cache holds. A reload that changed one story
// so writes that story's vectors and a list of keys, not the archive.
//
// After the checksummed payload the header describes, version 3 allows
// such records, each
//
//	length uint32    of the record's data, little-endian
//	sum    [32]byte  sha256 of the data
//	data:  uvarint segment count, the segments (as in the payload), then
//	       uvarint key count and the 32-byte keys of the cache as saved
//
// The cache a file holds is the payload's, or that of its last good record:
// a record cut short or damaged (a crash mid-append, a full disk) ends the
// file there, and the cache before it is the one loaded. The next save
// rewrites such a file, as it does one whose dead segments (changed or
// removed stories) outweigh its live ones.

// recordHeaderSize is a record's length and sum.
const recordHeaderSize = 4 + sha256.Size

// maxRecord bounds one record; an archive's whole cache stays far below.
const maxRecord = 1 << 31

// cacheLog is what a Dir knows of the cache file it last read or wrote, so
// that the next save may append to it.
type cacheLog struct {
	name string
	info os.FileInfo // the file as left: another writer's change shows
	size int64
	// seg is the encoded size of each segment in the file, live or not;
	// live is the cache the file holds now.
	seg  map[[sha256.Size]byte]int64
	live map[[sha256.Size]byte]bool
	// texts: the payload holds per-text vectors, which appends do not
	// carry, so the file is rewritten instead.
	texts bool
}

// liveBytes is what the live segments take in the file.
func (l *cacheLog) liveBytes() int64 {
	var n int64
	for k := range l.live {
		n += l.seg[k]
	}
	return n
}

// appendSave appends c to the file l describes and reports whether it
// did; false (with a nil error) means the file must be rewritten instead.
func (d *Dir) appendSave(l *cacheLog, segs []retrieval.SegmentVectors, texts int) (bool, error) {
	if l == nil || texts > 0 || l.texts {
		return false, nil
	}
	path := filepath.Join(d.path, l.name)
	info, err := os.Stat(path)
	if err != nil || !os.SameFile(info, l.info) || info.Size() != l.size || !info.ModTime().Equal(l.info.ModTime()) {
		return false, nil // gone, or written by someone else since
	}
	var fresh []retrieval.SegmentVectors
	var data []byte
	live := make(map[[sha256.Size]byte]bool, len(segs))
	sizes := map[[sha256.Size]byte]int64{}
	var liveBytes int64
	for _, s := range segs {
		live[s.Key] = true
		if n, ok := l.seg[s.Key]; ok {
			liveBytes += n
			continue
		}
		fresh = append(fresh, s)
	}
	data = binary.AppendUvarint(data, uint64(len(fresh)))
	for _, s := range fresh {
		before := len(data)
		data = appendSegment(data, s)
		sizes[s.Key] = int64(len(data) - before)
		liveBytes += sizes[s.Key]
	}
	data = binary.AppendUvarint(data, uint64(len(segs)))
	for _, s := range segs {
		data = append(data, s.Key[:]...)
	}
	if len(data) >= maxRecord {
		return false, nil
	}
	// Rewrite once more than half the file would be dead segments and
	// superseded key lists.
	if dead := l.size + int64(recordHeaderSize+len(data)) - headerSize - liveBytes; dead > liveBytes {
		return false, nil
	}
	rec := make([]byte, recordHeaderSize, recordHeaderSize+len(data))
	binary.LittleEndian.PutUint32(rec, uint32(len(data)))
	sum := sha256.Sum256(data)
	copy(rec[4:], sum[:])
	rec = append(rec, data...)
	if err := appendFile(path, rec); err != nil {
		return true, fmt.Errorf("save %s: %w", path, err)
	}
	info, err = os.Stat(path)
	if err != nil {
		return true, fmt.Errorf("save %s: %w", path, err)
	}
	for k, n := range sizes {
		l.seg[k] = n
	}
	l.info, l.size, l.live = info, info.Size(), live
	return true, nil
}

// appendFile appends rec in one write and syncs it.
func appendFile(path string, rec []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if testHookAppend != nil {
		rec = testHookAppend(rec)
	}
	if _, err := f.Write(rec); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync: %w", err)
	}
	return f.Close()
}

// testHookAppend, if set, replaces what an append writes: the torn-append
// tests cut it short.
var testHookAppend func(rec []byte) []byte

// appendSegment encodes one segment as the payload and records hold it.
func appendSegment(buf []byte, s retrieval.SegmentVectors) []byte {
	buf = append(buf, s.Key[:]...)
	for _, b := range []retrieval.QuantisedRows{s.Chunk, s.Sentence, s.Encoder} {
		buf = binary.AppendUvarint(buf, uint64(len(b.Scale)))
		buf = binary.AppendUvarint(buf, uint64(b.Dims))
		for _, f := range b.Scale {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(f))
		}
		for _, v := range b.Values {
			buf = append(buf, byte(v))
		}
	}
	return buf
}

// errTorn ends the records at a record that is cut short or damaged.
var errTorn = errors.New("torn record")

// readRecords reads the records after the payload from r (size bytes
// left in the file), starting from the payload's segments: it returns the
// segments of the last good record's cache and how many bytes of records
// were good. A record whose sum matches but whose data does not parse was
// written wrong, and is an error.
func readRecords(r io.Reader, size int64, segs []retrieval.SegmentVectors, l *cacheLog) ([]retrieval.SegmentVectors, int64, error) {
	all := make(map[[sha256.Size]byte]retrieval.SegmentVectors, len(segs))
	for _, s := range segs {
		all[s.Key] = s
	}
	var good int64
	live := segs
	for good < size {
		data, err := readRecord(r, size-good)
		if errors.Is(err, errTorn) {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		p := &payloadReader{r: bufio.NewReader(bytes.NewReader(data)), left: uint64(len(data))}
		fresh, err := readSegments(p)
		if err != nil {
			return nil, 0, fmt.Errorf("record at %d: %w", good, err)
		}
		n, err := p.count(sha256.Size)
		if err != nil {
			return nil, 0, fmt.Errorf("record at %d: %w", good, err)
		}
		keys := make([][sha256.Size]byte, n)
		for i := range keys {
			if err := p.full(keys[i][:]); err != nil {
				return nil, 0, fmt.Errorf("record at %d: %w", good, err)
			}
		}
		if p.left != 0 {
			return nil, 0, fmt.Errorf("record at %d: %d bytes left after the data", good, p.left)
		}
		// Sizes as appendSegment writes them.
		for _, s := range fresh {
			all[s.Key] = s
			l.seg[s.Key] = int64(len(appendSegment(nil, s)))
		}
		next := make([]retrieval.SegmentVectors, 0, len(keys))
		for _, k := range keys {
			s, ok := all[k]
			if !ok {
				return nil, 0, fmt.Errorf("record at %d: names a segment the file does not hold", good)
			}
			next = append(next, s)
		}
		live = next
		good += int64(recordHeaderSize + len(data))
	}
	l.live = make(map[[sha256.Size]byte]bool, len(live))
	for _, s := range live {
		l.live[s.Key] = true
	}
	return live, good, nil
}

// readRecord reads one record's data, errTorn if it is cut short or its
// sum is wrong.
func readRecord(r io.Reader, left int64) ([]byte, error) {
	var h [recordHeaderSize]byte
	if left < recordHeaderSize {
		return nil, errTorn
	}
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, errTorn
	}
	n := int64(binary.LittleEndian.Uint32(h[:]))
	if n > left-recordHeaderSize {
		return nil, errTorn
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, errTorn
	}
	if sum := sha256.Sum256(data); !bytes.Equal(sum[:], h[4:]) {
		return nil, errTorn
	}
	return data, nil
}

// segmentsByKey sorts segments, so the same cache gives the same bytes.
func segmentsByKey(segs []retrieval.SegmentVectors) {
	slices.SortFunc(segs, func(a, b retrieval.SegmentVectors) int { return bytes.Compare(a.Key[:], b.Key[:]) })
}
