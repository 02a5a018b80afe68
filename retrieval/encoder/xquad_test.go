package encoder

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// xquadFile is the shared eval set the reference's texts come from. It is
// read from ../shared/eval beside the repository or from
// $STORYBOT_EVAL_DATA, never committed here.
const xquadFile = "xquad-en/xquad-questions-full-articles.json"

// xquadPlace locates a reference text in the XQuAD set: a question by its
// id, or a span of a paragraph by byte offsets.
type xquadPlace struct {
	QuestionID string `json:"question_id,omitempty"`
	Article    int    `json:"article"`
	Paragraph  int    `json:"paragraph"`
	Start      int    `json:"start"`
	End        int    `json:"end"`
}

type xquadSet struct {
	questions  map[string]string
	paragraphs [][]string
}

func openXQuAD() (*xquadSet, error) {
	dir := os.Getenv("STORYBOT_EVAL_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "eval")
	}
	path := filepath.Join(dir, xquadFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s (set STORYBOT_EVAL_DATA to the folder holding %s): %w", path, xquadFile, err)
	}
	var doc struct {
		Data []struct {
			Paragraphs []struct {
				Context string `json:"context"`
				QAs     []struct {
					ID       string `json:"id"`
					Question string `json:"question"`
				} `json:"qas"`
			} `json:"paragraphs"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	set := &xquadSet{questions: map[string]string{}}
	for _, a := range doc.Data {
		var ps []string
		for _, p := range a.Paragraphs {
			ps = append(ps, p.Context)
			for _, q := range p.QAs {
				set.questions[q.ID] = q.Question
			}
		}
		set.paragraphs = append(set.paragraphs, ps)
	}
	return set, nil
}

// text returns the text at place, checked against its recorded checksum so
// a changed eval file cannot silently change what the test compares.
func (s *xquadSet) text(place xquadPlace, sum string) (string, error) {
	var text string
	switch {
	case place.QuestionID != "":
		q, ok := s.questions[place.QuestionID]
		if !ok {
			return "", fmt.Errorf("question %s is not in %s", place.QuestionID, xquadFile)
		}
		text = q
	case place.Article < len(s.paragraphs) && place.Paragraph < len(s.paragraphs[place.Article]):
		p := s.paragraphs[place.Article][place.Paragraph]
		if place.Start < 0 || place.End > len(p) || place.Start > place.End {
			return "", fmt.Errorf("span %d–%d is outside paragraph %d of article %d", place.Start, place.End, place.Paragraph, place.Article)
		}
		text = p[place.Start:place.End]
	default:
		return "", fmt.Errorf("article %d, paragraph %d is not in %s", place.Article, place.Paragraph, xquadFile)
	}
	got := sha256.Sum256([]byte(text))
	if hex.EncodeToString(got[:]) != sum {
		return "", fmt.Errorf("%q does not match its checksum: %s has changed", text, xquadFile)
	}
	return text, nil
}
