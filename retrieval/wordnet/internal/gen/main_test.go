package main

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestTableMatchesSource regenerates the table from the installed WordNet
// with the flags of the package's go:generate line and requires the bytes
// to be the committed ones, made by another process: the table is what the
// source and the code say, and regenerating it is byte-identical.
func TestTableMatchesSource(t *testing.T) {
	const dir = "/usr/share/wordnet"
	if _, err := os.Stat(dir + "/data.noun"); err != nil {
		t.Skipf("WordNet 3.0 is not installed (%v): apt-get install wordnet-base", err)
	}
	src, err := os.ReadFile("../../wordnet.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^//go:generate go run \./internal/gen -in (\S+) -out (\S+) -senses (\d+) -hypersenses (\d+)$`).FindSubmatch(src)
	if m == nil {
		t.Fatal("wordnet.go: no go:generate line of the expected form")
	}
	if string(m[1]) != dir {
		t.Fatalf("go:generate reads %s, the test %s", m[1], dir)
	}
	senses, _ := strconv.Atoi(string(m[3]))
	hyper, _ := strconv.Atoi(string(m[4]))
	committed, err := os.ReadFile("../../" + string(m[2]))
	if err != nil {
		t.Fatal(err)
	}
	got, st, err := Build(dir, senses, hyper)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, committed) {
		t.Fatalf("regenerated table (%d bytes) differs from the committed %s (%d bytes): run go generate in retrieval/wordnet", len(got), m[2], len(committed))
	}
	t.Logf("%d bytes gzipped, %d raw, %d words", len(got), st.raw, st.words)
}
