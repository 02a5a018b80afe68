package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"storybot/retrieval"
)

// Watch timing: a poll every two seconds costs a directory walk; waiting
// for a second of quiet lets an editor or `git pull` finish writing every
// file before the reload reads them.
const (
	watchEvery = 2 * time.Second
	watchQuiet = time.Second
)

// folderWatch notices changes to the knowledge folder by polling. Polling
// needs no extra dependency and works on network and container file systems
// where inotify does not.
type folderWatch struct {
	dir  string
	last string // fingerprint of the folder as last seen
}

// watchFolder fingerprints dir now. Take it before loading the folder, so a
// change made while the index builds is not missed (at worst it reloads
// once for nothing).
func watchFolder(dir string) *folderWatch {
	return &folderWatch{dir: dir, last: folderFingerprint(dir)}
}

// run polls every interval and, once the folder has changed and then stayed
// unchanged for quiet, runs reload: the same safe reload as /reload, so a
// half-copied or broken folder changes nothing. It returns when ctx ends.
func (w *folderWatch) run(ctx context.Context, every, quiet time.Duration, reload func(context.Context) (retrieval.ReloadReport, error), log *slog.Logger) {
	var changedAt time.Time // zero: nothing pending
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if fp := folderFingerprint(w.dir); fp != w.last {
				w.last, changedAt = fp, now
				continue
			}
			if changedAt.IsZero() || now.Sub(changedAt) < quiet {
				continue
			}
			changedAt = time.Time{}
			// The reload logs its own result.
			if _, err := reload(ctx); err != nil {
				log.Debug("the knowledge folder changed but cannot be loaded", "dir", w.dir, "err", err)
			}
		}
	}
}

// folderFingerprint sums the name, size, mode and modification time of
// every file the loader would look at (hidden ones are skipped, as the
// loader skips them; a folder's own time is left out, since writing an
// editor's hidden swap file changes it). An unreadable folder has a
// fingerprint too, so its coming back counts as a change.
func folderFingerprint(dir string) string {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(h, "error %s %v\n", p, err)
			return nil
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			fmt.Fprintf(h, "dir %s\n", p)
			return nil
		}
		info, err := d.Info()
		if err != nil {
			fmt.Fprintf(h, "error %s %v\n", p, err)
			return nil
		}
		fmt.Fprintf(h, "%s %d %v %d\n", p, info.Size(), info.Mode(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		fmt.Fprintf(h, "error %v\n", err)
	}
	return string(h.Sum(nil))
}
