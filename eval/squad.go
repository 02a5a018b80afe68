// Package eval measures answer quality on public question-answering sets in
// SQuAD format, following the protocol in the project's README: each article
// is one story, chunked by the project's own chunker, and asked its own
// questions.
package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Dataset is a SQuAD v1.1 or v2.0 file.
type Dataset struct {
	Version string    `json:"version"`
	Data    []Article `json:"data"`
}

// Article is one titled document made of paragraphs.
type Article struct {
	Title      string      `json:"title"`
	Paragraphs []Paragraph `json:"paragraphs"`
}

// Paragraph is a context and the questions asked about it.
type Paragraph struct {
	Context string     `json:"context"`
	QAs     []Question `json:"qas"`
}

// Question has one or more gold answers, each a span of the context, or
// (SQuAD v2.0) is impossible: written to look answerable from the paragraph
// while it does not answer it. PlausibleAnswers are the spans that look
// like an answer; they are not one.
type Question struct {
	ID               string   `json:"id"`
	Question         string   `json:"question"`
	Answers          []Answer `json:"answers"`
	IsImpossible     bool     `json:"is_impossible"`
	PlausibleAnswers []Answer `json:"plausible_answers,omitempty"`
}

// Answer is a gold answer span.
type Answer struct {
	Text  string `json:"text"`
	Start *int   `json:"answer_start"`
}

// Read decodes and checks a dataset. Errors name the article and the field,
// so a broken file can be fixed without a debugger.
func Read(r io.Reader) (*Dataset, error) {
	var d Dataset
	dec := json.NewDecoder(r)
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if err := d.validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

func (d *Dataset) validate() error {
	if len(d.Data) == 0 {
		return errors.New(`field "data": no articles`)
	}
	for ai, a := range d.Data {
		name := a.Title
		if name == "" {
			return fmt.Errorf("article %d: field \"title\" is missing or empty", ai)
		}
		if len(a.Paragraphs) == 0 {
			return fmt.Errorf("article %q: field \"paragraphs\" is missing or empty", name)
		}
		for pi, p := range a.Paragraphs {
			if strings.TrimSpace(p.Context) == "" {
				return fmt.Errorf("article %q, paragraph %d: field \"context\" is missing or empty", name, pi)
			}
			for qi, q := range p.QAs {
				where := fmt.Sprintf("article %q, paragraph %d, question %d", name, pi, qi)
				if q.ID == "" {
					return fmt.Errorf("%s: field \"id\" is missing or empty", where)
				}
				if strings.TrimSpace(q.Question) == "" {
					return fmt.Errorf("%s (%s): field \"question\" is missing or empty", where, q.ID)
				}
				if len(q.Answers) == 0 && !q.IsImpossible {
					return fmt.Errorf("%s (%s): field \"answers\" is missing or empty", where, q.ID)
				}
				if len(q.Answers) > 0 && q.IsImpossible {
					return fmt.Errorf("%s (%s): an impossible question has \"answers\" (they belong in \"plausible_answers\")", where, q.ID)
				}
				for _, ans := range q.Answers {
					if ans.Text == "" {
						return fmt.Errorf("%s (%s): field \"answers[].text\" is empty", where, q.ID)
					}
					if ans.Start == nil {
						return fmt.Errorf("%s (%s): field \"answers[].answer_start\" is missing", where, q.ID)
					}
				}
			}
		}
	}
	return nil
}

// Questions counts the dataset's questions.
func (d *Dataset) Questions() int {
	n := 0
	for _, a := range d.Data {
		for _, p := range a.Paragraphs {
			n += len(p.QAs)
		}
	}
	return n
}
