package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"storybot/knowledge"
)

var storiesMagic = [8]byte{'S', 'B', 'S', 'T', 'O', 'R', 'Y', '1'}

// storiesVersion 1: a JSON array of storyRecord.
const storiesVersion = 1

// storyRecord is the stored form of a knowledge.Story, spelled out so that
// renaming a Go field cannot silently change the file format.
type storyRecord struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Publisher   string `json:"publisher,omitempty"`
	Year        int    `json:"year,omitempty"`
	URL         string `json:"url,omitempty"`
	Body        string `json:"body"`
	Attribution string `json:"attribution,omitempty"`
	Path        string `json:"path"`
	Hash        string `json:"hash"`
}

// SaveStories stores the stories of the snapshot now serving, as the last
// good one.
func (d *Dir) SaveStories(stories []*knowledge.Story) error {
	if len(stories) == 0 {
		return errors.New("save stories: no stories")
	}
	recs := make([]storyRecord, len(stories))
	for i, s := range stories {
		recs[i] = storyRecord{s.ID, s.Title, s.Publisher, s.Year, s.URL, s.Body, s.Attribution, s.Path, s.Hash}
	}
	return d.writeFile(StoriesFile, storiesMagic, storiesVersion, func(w io.Writer) error {
		return json.NewEncoder(w).Encode(recs)
	})
}

// LoadStories reads the last good snapshot's stories. A missing file is an
// error wrapping fs.ErrNotExist; a damaged one wraps ErrCorrupt.
func (d *Dir) LoadStories() ([]*knowledge.Story, error) {
	var recs []storyRecord
	err := d.readFile(StoriesFile, storiesMagic, storiesVersion, func(r *payloadReader) error {
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, &recs); err != nil {
			return err
		}
		seen := map[string]bool{}
		for i, rec := range recs {
			switch {
			case rec.ID == "" || rec.Body == "":
				return fmt.Errorf("story %d has no id or no text", i)
			case seen[rec.ID]:
				return fmt.Errorf("story id %q appears twice", rec.ID)
			}
			seen[rec.ID] = true
		}
		if len(recs) == 0 {
			return errors.New("no stories")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	stories := make([]*knowledge.Story, len(recs))
	for i, r := range recs {
		stories[i] = &knowledge.Story{ID: r.ID, Title: r.Title, Publisher: r.Publisher, Year: r.Year, URL: r.URL,
			Body: r.Body, Attribution: r.Attribution, Path: r.Path, Hash: r.Hash}
	}
	return stories, nil
}
