package main

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// readmeExample is one `$ go run . ask "…"` block of the README: the
// question and the lines the README shows for it.
type readmeExample struct {
	question string
	lines    []string
}

var readmeAsk = regexp.MustCompile(`^\$ go run \. ask ("(?:[^"\\]|\\.)*")`)

// readmeExamples reads the ask examples from the README's code blocks. An
// example's lines run to the next blank line, prompt or fence.
func readmeExamples(t *testing.T) []readmeExample {
	t.Helper()
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []readmeExample
	var cur *readmeExample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := readmeAsk.FindStringSubmatch(line); m != nil {
			q, err := strconv.Unquote(m[1])
			if err != nil {
				t.Fatalf("README: %q: %v", line, err)
			}
			out = append(out, readmeExample{question: q})
			cur = &out[len(out)-1]
			continue
		}
		if cur == nil {
			continue
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "$ ") || strings.HasPrefix(line, "```") {
			cur = nil
			continue
		}
		cur.lines = append(cur.lines, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// shownAs is the pattern a README line stands for: the line itself, where
// an ellipsis before a quote's closing mark stands for the rest of the
// sentence, which the README leaves out.
func shownAs(line string) *regexp.Regexp {
	parts := strings.Split(line, " …”")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, ` .*”`) + "$")
}

// TestReadmeExamples runs every ask example of the README on the built-in
// story: each line it shows is printed, in order, and it shows every quote
// the answer gives (a line it leaves out of an example, like the sources,
// it leaves out whole).
func TestReadmeExamples(t *testing.T) {
	examples := readmeExamples(t)
	if len(examples) < 10 {
		t.Fatalf("found %d ask examples in README.md; the kinds need at least 10", len(examples))
	}
	for _, ex := range examples {
		stdout, _, err := runCLI(t, "ask", ex.question)
		if err != nil {
			t.Errorf("ask %q: %v", ex.question, err)
			continue
		}
		got := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
		quotes := 0
		for _, l := range got {
			if strings.HasPrefix(l, "“") {
				quotes++
			}
		}
		shown, next := 0, 0
		for _, want := range ex.lines {
			if strings.HasPrefix(want, "“") {
				shown++
			}
			re := shownAs(want)
			for next < len(got) && !re.MatchString(got[next]) {
				next++
			}
			if next == len(got) {
				t.Errorf("README example %q shows %q, which ask does not print:\n%s", ex.question, want, stdout)
				break
			}
			next++
		}
		if shown != quotes {
			t.Errorf("README example %q shows %d quotes; ask prints %d:\n%s", ex.question, shown, quotes, stdout)
		}
	}
}
