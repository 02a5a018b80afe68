package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"storybot/knowledge"
	"storybot/retrieval"
)

// NaturalSet is the project's own set of questions typed the way people type
// in Discord, each about one story: the built-in one ("default") or a file
// of the Wikinews folder.
type NaturalSet struct {
	About     string            `json:"about"`
	Questions []NaturalQuestion `json:"questions"`
}

// NaturalQuestion is one question of a NaturalSet. Answers are substrings of
// a story sentence that a correct first citation must contain; empty when
// the story does not answer it.
type NaturalQuestion struct {
	ID         string   `json:"id"`
	Story      string   `json:"story"`
	Q          string   `json:"q"`
	Kind       string   `json:"kind"`
	Answerable bool     `json:"answerable"`
	Answers    []string `json:"answers"`
	Split      string   `json:"split"`
}

// DefaultStory names the built-in story in a NaturalSet.
const DefaultStory = "default"

// Kinds a NaturalSet may label.
var naturalKinds = map[string]bool{"overview": true, "stance": true, "role": true, "yesno": true,
	"reason": true, "meta": true, "factoid": true, "unanswerable": true, "offtopic": true}

// ReadNatural decodes and checks a natural-question set.
func ReadNatural(r io.Reader) (*NaturalSet, error) {
	var s NaturalSet
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if len(s.Questions) == 0 {
		return nil, errors.New(`field "questions": no questions`)
	}
	ids := map[string]bool{}
	for i, q := range s.Questions {
		where := fmt.Sprintf("question %d (%s)", i, q.ID)
		switch {
		case q.ID == "":
			return nil, fmt.Errorf("question %d: field \"id\" is missing or empty", i)
		case ids[q.ID]:
			return nil, fmt.Errorf("%s: id used twice", where)
		case q.Story == "":
			return nil, fmt.Errorf("%s: field \"story\" is missing or empty", where)
		case strings.TrimSpace(q.Q) == "":
			return nil, fmt.Errorf("%s: field \"q\" is missing or empty", where)
		case !naturalKinds[q.Kind]:
			return nil, fmt.Errorf("%s: kind %q is not one of overview, stance, role, yesno, reason, meta, factoid, unanswerable, offtopic", where, q.Kind)
		case q.Split != "fit" && q.Split != "test":
			return nil, fmt.Errorf("%s: split %q is not fit or test", where, q.Split)
		case q.Answerable && len(q.Answers) == 0:
			return nil, fmt.Errorf("%s: answerable but no \"answers\"", where)
		case !q.Answerable && len(q.Answers) > 0:
			return nil, fmt.Errorf("%s: not answerable but has \"answers\"", where)
		case q.Answerable == (q.Kind == "unanswerable" || q.Kind == "offtopic"):
			return nil, fmt.Errorf("%s: kind %q with answerable %v", where, q.Kind, q.Answerable)
		}
		ids[q.ID] = true
	}
	return &s, nil
}

// Run modes of a natural set.
const (
	// ModeStory asks each question of a knowledge base holding only its
	// story.
	ModeStory = "story"
	// ModeFolder asks every question of one knowledge base holding the
	// whole Wikinews folder and the built-in story.
	ModeFolder = "folder"
	// ModeAfter asks the whole folder each question as a follow-up on its
	// own story (retrieval.Index.AskAfter): the asker's last answer quoted
	// it, as in a conversation about that story.
	ModeAfter = "after"
	// ModeSwitch asks the whole folder each question as a follow-up on
	// another story (the one the set's nearest earlier question about a
	// different story is about): the asker changes the subject.
	ModeSwitch = "switch"
)

// NaturalReport holds a natural set's figures for each mode and split.
type NaturalReport struct {
	Stories int `json:"stories"`
	// Parts are keyed "story/test", "story/fit", "folder/test", "folder/fit",
	// and likewise for "after" and "switch".
	Parts map[string]*NaturalPart `json:"parts"`
}

// NaturalPart is one mode and split of a NaturalReport.
type NaturalPart struct {
	Outcomes
	ByKind       map[string]Outcomes `json:"by_kind"`
	MedianMillis float64             `json:"median_ms"`
	P99Millis    float64             `json:"p99_ms"`
}

// PartNames lists a NaturalReport's parts in the order to show them.
func (r *NaturalReport) PartNames() []string {
	var names []string
	for k := range r.Parts {
		names = append(names, k)
	}
	order := map[string]int{"story/test": 0, "story/fit": 1, "folder/test": 2, "folder/fit": 3, "after/test": 4, "after/fit": 5, "switch/test": 6, "switch/fit": 7}
	sort.Slice(names, func(i, j int) bool { return order[names[i]] < order[names[j]] })
	return names
}

// RunNatural asks a natural set in both modes. storiesDir is the Wikinews
// folder the set's story files are read from.
func RunNatural(ctx context.Context, set *NaturalSet, storiesDir string, opts Options) (*NaturalReport, error) {
	folder, err := knowledge.LoadDir(storiesDir)
	if err != nil {
		return nil, fmt.Errorf("stories: %w", err)
	}
	byFile := map[string]*knowledge.Story{}
	for _, s := range folder {
		byFile[filepath.ToSlash(s.Path)] = s
	}
	builtIn := knowledge.Default()
	storyOf := func(name string) ([]*knowledge.Story, error) {
		if name == DefaultStory {
			return builtIn, nil
		}
		s, ok := byFile[name]
		if !ok {
			return nil, fmt.Errorf("story %q is not in %s", name, storiesDir)
		}
		return []*knowledge.Story{s}, nil
	}
	// One snapshot per story, and one of everything.
	var names []string
	for _, q := range set.Questions {
		if _, err := storyOf(q.Story); err != nil {
			return nil, fmt.Errorf("question %s: %w", q.ID, err)
		}
		if !contains(names, q.Story) {
			names = append(names, q.Story)
		}
	}
	indexes := map[string]*retrieval.Index{}
	for i, name := range names {
		stories, _ := storyOf(name)
		ix, err := retrieval.Build(ctx, stories, opts.Retrieval)
		if err != nil {
			return nil, fmt.Errorf("story %s: %w", name, err)
		}
		indexes[name] = ix
		if opts.Indexing != nil {
			opts.Indexing(i+1, len(names)+1)
		}
	}
	all, err := retrieval.Build(ctx, append(append([]*knowledge.Story{}, builtIn...), folder...), opts.Retrieval)
	if err != nil {
		return nil, fmt.Errorf("whole folder: %w", err)
	}
	if opts.Indexing != nil {
		opts.Indexing(len(names)+1, len(names)+1)
	}

	rep := &NaturalReport{Stories: len(all.Stories()), Parts: map[string]*NaturalPart{}}
	parts := map[string][]Result{}
	modes := []string{ModeStory, ModeFolder, ModeAfter, ModeSwitch}
	done, total := 0, len(modes)*len(set.Questions)
	for _, mode := range modes {
		for i, q := range set.Questions {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var ans *retrieval.Answer
			var err error
			switch mode {
			case ModeStory:
				ans, err = indexes[q.Story].Ask(ctx, q.Q)
			case ModeFolder:
				ans, err = all.Ask(ctx, q.Q)
			case ModeAfter:
				ans, err = all.AskAfter(ctx, q.Q, storyID(q.Story, byFile, builtIn))
			case ModeSwitch:
				ans, err = all.AskAfter(ctx, q.Q, storyID(otherStory(set.Questions, i), byFile, builtIn))
			}
			if err != nil && !errors.Is(err, retrieval.ErrEmptyQuestion) {
				return nil, fmt.Errorf("question %s: %w", q.ID, err)
			}
			if ans == nil { // a question of nothing askable is declined
				ans = &retrieval.Answer{Outcome: retrieval.OutcomeNone}
			}
			r := newResult(ans, q.Answers)
			r.ID, r.Article, r.Mode, r.Split, r.Question, r.Kind = q.ID, q.Story, mode, q.Split, q.Q, q.Kind
			r.Answerable, r.OffTopic = q.Answerable, q.Kind == "offtopic"
			if mode != ModeStory && len(ans.Citations) > 0 && !fromStory(ans.Citations[0], q.Story, byFile, builtIn) {
				r.HoldsGold = false // the right words from the wrong story
			}
			if opts.Record != nil {
				opts.Record(r)
			}
			key := mode + "/" + q.Split
			parts[key] = append(parts[key], r)
			done++
			if opts.Progress != nil {
				opts.Progress(done, total)
			}
		}
	}
	for k, rs := range parts {
		p := &NaturalPart{Outcomes: summarize(rs), ByKind: byKind(rs)}
		p.MedianMillis, p.P99Millis = medianAndP99(rs)
		rep.Parts[k] = p
	}
	return rep, nil
}

// storyID is the ID of the set's story name.
func storyID(name string, byFile map[string]*knowledge.Story, builtIn []*knowledge.Story) string {
	if name == DefaultStory {
		return builtIn[0].ID
	}
	if s := byFile[name]; s != nil {
		return s.ID
	}
	return ""
}

// otherStory is the story of the nearest question before qs[i] (or, for
// the first, after it) that is about a different story.
func otherStory(qs []NaturalQuestion, i int) string {
	for j := i - 1; j >= 0; j-- {
		if qs[j].Story != qs[i].Story {
			return qs[j].Story
		}
	}
	for j := i + 1; j < len(qs); j++ {
		if qs[j].Story != qs[i].Story {
			return qs[j].Story
		}
	}
	return ""
}

func fromStory(c retrieval.Citation, name string, byFile map[string]*knowledge.Story, builtIn []*knowledge.Story) bool {
	if name == DefaultStory {
		for _, s := range builtIn {
			if s.ID == c.StoryID {
				return true
			}
		}
		return false
	}
	return byFile[name] != nil && byFile[name].ID == c.StoryID
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
