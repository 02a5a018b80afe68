// Package knowledge holds the stories storybot answers from and loads them from
// files: the story embedded in the binary, or a folder of .txt and .md files.
//
// A story is plain text with optional YAML front matter. Loading checks
// everything a moderator can get wrong (encoding, size, front matter) and names
// the file in every error, so that a broken folder never half-loads.
package knowledge

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
)

// Story is one news story: its text and what a citation needs to name it.
type Story struct {
	// ID is stable across reloads: the front matter's id, or the file's path
	// inside the folder without its extension.
	ID        string
	Title     string
	Publisher string
	Year      int
	URL       string

	// Body is the answerable text. Offsets into it are what citations point at.
	Body string
	// Attribution is the trailing copyright line, kept apart from Body so it
	// is never quoted as an answer.
	Attribution string

	// Path is where the story came from, for error messages and /sources.
	Path string
	// Hash is the sha256 of the file's bytes; a reload compares it to tell
	// changed stories from unchanged ones.
	Hash string
}

// Citation names the story the way a reader expects: title and publisher.
func (s *Story) Citation() string {
	switch {
	case s.Publisher != "" && s.Year != 0:
		return s.Title + " (" + s.Publisher + ", " + strconv.Itoa(s.Year) + ")"
	case s.Publisher != "":
		return s.Title + " (" + s.Publisher + ")"
	default:
		return s.Title
	}
}

func hashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// attributionLine matches a closing copyright notice such as
// "© 2025 Latin Times. All rights reserved." A line opening with "(c)" is
// one only when it also reads like one ("(c) 2025 …", "Copyright", "All
// rights reserved"): "(c) The official scorer …" is the third item of a
// list, and content.
var (
	attributionLine = regexp.MustCompile(`(?i)^\s*(©|copyright\b)`)
	parenCLine      = regexp.MustCompile(`(?i)^\s*\(c\)\s*((1[6-9]|20)[0-9]{2}\b|.*\b(copyright|all rights reserved)\b)`)
)

// splitAttribution moves a trailing copyright line out of the body. Only the
// last non-blank line is considered: a "©" in the middle of a story is content.
func splitAttribution(body string) (text, attribution string) {
	trimmed := strings.TrimRight(body, " \t\r\n")
	i := strings.LastIndexByte(trimmed, '\n')
	last := trimmed[i+1:]
	if !attributionLine.MatchString(last) && !parenCLine.MatchString(last) {
		return body, ""
	}
	return trimmed[:i+1], strings.TrimSpace(last)
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slug turns a file path into an ID: lower case, runs of other characters
// become one dash. "World/Cartel Strikes.md" → "world-cartel-strikes".
func slug(s string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
}
